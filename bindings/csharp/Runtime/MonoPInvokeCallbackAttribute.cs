// Unity (Mono and IL2CPP) defines AOT.MonoPInvokeCallbackAttribute in UnityEngine; IL2CPP needs it
// on every static method handed to native code as a function pointer. Outside Unity (plain Mono,
// .NET, the test suite) the attribute is defined here so the same sources build unchanged.
#if !UNITY_5_3_OR_NEWER
using System;

namespace AOT
{
    [AttributeUsage(AttributeTargets.Method)]
    internal sealed class MonoPInvokeCallbackAttribute : Attribute
    {
        public MonoPInvokeCallbackAttribute(Type type)
        {
            Type = type;
        }

        public Type Type { get; private set; }
    }
}
#endif
