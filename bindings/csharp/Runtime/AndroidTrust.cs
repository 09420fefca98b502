using System;
#if UNITY_ANDROID && !UNITY_EDITOR
using UnityEngine;
#endif

namespace Xo.Tracker
{
    /// <summary>
    /// Android: hands the native library the JVM and the application context (xo_android_init),
    /// so TLS checks certificates with Android's verifier (the device's trust store, user CAs).
    /// The app must also bundle rustls-platform-verifier's Android component (see README).
    /// A no-op on every other platform and in the Editor.
    /// </summary>
    internal static class AndroidTrust
    {
        private static bool s_done;

        /// <summary>Domain reload disabled: the next play session initialises again (harmless).</summary>
        internal static void ResetStatics()
        {
            s_done = false;
        }

        /// <summary>Runs once, before the first Configure; a failure leaves TLS on the bundled roots, with a warning.</summary>
        internal static void Init()
        {
            if (s_done)
                return;
            s_done = true;
#if UNITY_ANDROID && !UNITY_EDITOR
            try
            {
                // Unity opened the library with dlopen, which skips JNI_OnLoad: loading it from Java
                // (the same file, already loaded) runs it, and the library records the JavaVM.
                using (var system = new AndroidJavaClass("java.lang.System"))
                    system.CallStatic("loadLibrary", "xo_tracker");
                using (var player = new AndroidJavaClass("com.unity3d.player.UnityPlayer"))
                using (var activity = player.GetStatic<AndroidJavaObject>("currentActivity"))
                using (var context = activity.Call<AndroidJavaObject>("getApplicationContext"))
                {
                    var result = NativeMethods.xo_android_init(IntPtr.Zero, context.GetRawObject());
                    if (result != XoResult.Ok)
                        Debug.LogWarning("xo-tracker: " + Utf8.FromNative(NativeMethods.xo_last_error()));
                }
            }
            catch (Exception e)
            {
                Debug.LogWarning("xo-tracker: Android TLS setup failed, TLS uses the bundled roots: " + e.Message);
            }
#endif
        }
    }
}
