using System;
using System.Runtime.InteropServices;

namespace Xo.Tracker
{
    /// <summary>Reads versioned C structs (uint32_t struct_size first) written by the library.</summary>
    internal static class NativeStruct
    {
        /// <summary>
        /// Copies a struct whose first field is its size as the library built it. A smaller (older)
        /// struct is read as far as it goes and the rest stays zero; a larger one is read up to
        /// the fields this binding knows.
        /// </summary>
        internal static T Read<T>(IntPtr ptr) where T : struct
        {
            var ours = Marshal.SizeOf(typeof(T));
            var theirs = Marshal.ReadInt32(ptr);
            if (theirs >= ours)
                return (T)Marshal.PtrToStructure(ptr, typeof(T));
            var bytes = new byte[ours];
            Marshal.Copy(ptr, bytes, 0, Math.Max(theirs, 4));
            var handle = GCHandle.Alloc(bytes, GCHandleType.Pinned);
            try
            {
                return (T)Marshal.PtrToStructure(handle.AddrOfPinnedObject(), typeof(T));
            }
            finally
            {
                handle.Free();
            }
        }
    }
}
