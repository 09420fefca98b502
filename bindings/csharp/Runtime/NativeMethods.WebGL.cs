// WebGL players have no native threads or sockets, so there is no xo_tracker library to import:
// on WebGL the P/Invoke declarations are replaced by these, which never reach native code and
// fail with PlatformNotSupportedException. The rest of the binding compiles unchanged, so a game
// that references the package still builds for WebGL (check XoTracker.IsSupported).
#if UNITY_WEBGL && !UNITY_EDITOR
using System;

namespace Xo.Tracker
{
    internal static partial class NativeMethods
    {
        internal const string NotSupportedMessage = "xo-tracker is not supported on WebGL (no native threads or " +
            "sockets in the browser): track the order on your game server (Xsolla's payment webhook) and ask it " +
            "from the page; check XoTracker.IsSupported";

        private static PlatformNotSupportedException Unsupported()
        {
            return new PlatformNotSupportedException(NotSupportedMessage);
        }

        internal static IntPtr xo_version() { throw Unsupported(); }

        internal static uint xo_abi_version() { throw Unsupported(); }

        internal static IntPtr xo_last_error() { throw Unsupported(); }

        internal static IntPtr xo_result_string(int code) { throw Unsupported(); }

        internal static XoResult xo_configure(ref xo_config config) { throw Unsupported(); }

        internal static long xo_track_order(long order_id, byte[] token, xo_event_callback callback, IntPtr userdata) { throw Unsupported(); }

        internal static long xo_check_order(long order_id, byte[] token, xo_event_callback callback, IntPtr userdata) { throw Unsupported(); }

        internal static XoResult xo_cancel(long handle) { throw Unsupported(); }

        internal static XoResult xo_update_token(long handle, byte[] token) { throw Unsupported(); }

        internal static int xo_dispatch(uint max_events) { throw Unsupported(); }

        internal static XoResult xo_shutdown() { throw Unsupported(); }

        internal static XoResult xo_set_log_callback(xo_log_callback callback, IntPtr userdata, int max_level) { throw Unsupported(); }

        internal static XoResult xo_set_app_active(int active) { throw Unsupported(); }

        internal static XoResult xo_network_changed() { throw Unsupported(); }

        internal static XoResult xo_android_init(IntPtr java_vm, IntPtr context) { throw Unsupported(); }

        internal static int xo_resume_pending(byte[] token, xo_event_callback callback, IntPtr userdata) { throw Unsupported(); }

        internal static XoResult xo_acknowledge(long order_id) { throw Unsupported(); }

        internal static XoResult xo_journal_status() { throw Unsupported(); }
    }
}
#endif
