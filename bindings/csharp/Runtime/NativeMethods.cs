// P/Invoke declarations of include/xo_tracker.h, one for one.
//
// Hand-written and checked against the header by the test suite (Tests~/Mono/HeaderCheck.cs):
// every function, callback typedef, enum constant, struct field (name, type, offset), and #define
// of the header must have its counterpart here and vice versa, so the two cannot drift. When the
// header changes, `bindings/csharp/test.sh` fails with the exact difference.
//
// Conventions (what the check enforces):
// - Every entry point: [DllImport(LibraryName, EntryPoint = "<C name>", CallingConvention.Cdecl,
//   ExactSpelling = true)], method name = C name.
// - `const char *` arguments are NUL-terminated UTF-8 byte arrays (see Utf8.ToNative); the
//   marshaller pins them for the call. Returned `const char *` are IntPtr, read with Utf8.FromNative.
//   (No LPUTF8Str: not every Unity scripting backend honours it.)
// - C enums are int32_t: enum-typed struct fields use the matching C# enum (`: int`).
// - Callback typedefs are Cdecl delegates taking IntPtr for pointers.
using System;
using System.Runtime.InteropServices;

namespace Xo.Tracker
{
    internal static partial class NativeMethods
    {
#if (UNITY_IOS || UNITY_TVOS) && !UNITY_EDITOR
        // iOS links the static library into the player: symbols are resolved in the executable.
        internal const string LibraryName = "__Internal";
#else
        // libxo_tracker.so / libxo_tracker.dylib / xo_tracker.dll. Deliberately different from the
        // managed assembly (Xo.Tracker.dll): Mono probes the managed folder first and would pick
        // a same-named managed DLL on case-insensitive file systems.
        internal const string LibraryName = "xo_tracker";
#endif

        /// <summary>XO_ABI_VERSION of the header these declarations match.</summary>
        internal const uint XO_ABI_VERSION = 1;

        /// <summary>XO_MAX_TOKEN_BYTES: the longest token accepted, in bytes.</summary>
        internal const int XO_MAX_TOKEN_BYTES = 16384;

        /// <summary>XO_MAX_ITEMS: at most this many entries in xo_contents.items.</summary>
        internal const int XO_MAX_ITEMS = 1000;

        /// <summary>XO_MAX_TEXT_BYTES: the longest text in xo_contents, in bytes.</summary>
        internal const int XO_MAX_TEXT_BYTES = 256;

        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        [NativeType("xo_event_callback")]
        internal delegate void xo_event_callback(IntPtr userdata, IntPtr evt);

        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        [NativeType("xo_log_callback")]
        internal delegate void xo_log_callback(IntPtr userdata, int level, IntPtr message);

#if !(UNITY_WEBGL && !UNITY_EDITOR) // WebGL: NativeMethods.WebGL.cs, no native code at all
        [DllImport(LibraryName, EntryPoint = "xo_version", CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr xo_version();

        [DllImport(LibraryName, EntryPoint = "xo_abi_version", CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint xo_abi_version();

        [DllImport(LibraryName, EntryPoint = "xo_last_error", CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr xo_last_error();

        [DllImport(LibraryName, EntryPoint = "xo_result_string", CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr xo_result_string(int code);

        [DllImport(LibraryName, EntryPoint = "xo_configure", CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern XoResult xo_configure([In] ref xo_config config);

        [DllImport(LibraryName, EntryPoint = "xo_track_order", CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern long xo_track_order(long order_id, byte[] token, xo_event_callback callback, IntPtr userdata);

        [DllImport(LibraryName, EntryPoint = "xo_check_order", CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern long xo_check_order(long order_id, byte[] token, xo_event_callback callback, IntPtr userdata);

        [DllImport(LibraryName, EntryPoint = "xo_cancel", CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern XoResult xo_cancel(long handle);

        [DllImport(LibraryName, EntryPoint = "xo_update_token", CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern XoResult xo_update_token(long handle, byte[] token);

        [DllImport(LibraryName, EntryPoint = "xo_dispatch", CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int xo_dispatch(uint max_events);

        [DllImport(LibraryName, EntryPoint = "xo_shutdown", CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern XoResult xo_shutdown();

        [DllImport(LibraryName, EntryPoint = "xo_set_log_callback", CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern XoResult xo_set_log_callback(xo_log_callback callback, IntPtr userdata, int max_level);

        [DllImport(LibraryName, EntryPoint = "xo_set_app_active", CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern XoResult xo_set_app_active(int active);

        [DllImport(LibraryName, EntryPoint = "xo_network_changed", CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern XoResult xo_network_changed();

        [DllImport(LibraryName, EntryPoint = "xo_android_init", CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern XoResult xo_android_init(IntPtr java_vm, IntPtr context);

        [DllImport(LibraryName, EntryPoint = "xo_resume_pending", CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int xo_resume_pending(byte[] token, xo_event_callback callback, IntPtr userdata);

        [DllImport(LibraryName, EntryPoint = "xo_acknowledge", CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern XoResult xo_acknowledge(long order_id);

        [DllImport(LibraryName, EntryPoint = "xo_journal_status", CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern XoResult xo_journal_status();
#endif

        /// <summary>struct xo_config. Zero fields take the library's defaults.</summary>
        [StructLayout(LayoutKind.Sequential)]
        [NativeType("xo_config")]
        internal struct xo_config
        {
            public uint struct_size;
            public int transport;
            public long project_id;
            public IntPtr centrifugo_url;
            public IntPtr legacy_socket_url;
            public IntPtr api_base_url;
            public int delivery;
            public uint poll_interval_ms;
            public uint socket_reestablish_ms;
            public uint polling_deadline_ms;
            public uint overall_deadline_ms;
            public uint token_wait_ms;
            public uint request_timeout_ms;
            public uint backoff_min_ms;
            public uint backoff_max_ms;
            public uint worker_threads;
            public uint allow_insecure_loopback;
            public IntPtr proxy_url;
            public IntPtr ca_bundle_pem;
            public IntPtr ca_bundle_file;
            public IntPtr journal_dir;
            public uint restore_from_xsolla;
            public IntPtr events_api_url;
            public uint restore_interval_ms;
        }

        /// <summary>struct xo_event. Valid only during the callback.</summary>
        [StructLayout(LayoutKind.Sequential)]
        [NativeType("xo_event")]
        internal struct xo_event
        {
            public uint struct_size;
            public EventKind kind;
            public long handle;
            public long order_id;
            public OrderStatus status;
            public Outcome outcome;
            public TransportState transport_state;
            public XoResult error_code;
            public int http_status;
            public IntPtr status_raw;
            public IntPtr message;
            public IntPtr contents_json;
            public IntPtr contents; // const xo_contents *: set exactly when contents_json is
            public int origin;
        }

        /// <summary>struct xo_price. Strings are never NULL.</summary>
        [StructLayout(LayoutKind.Sequential)]
        [NativeType("xo_price")]
        internal struct xo_price
        {
            public IntPtr amount;
            public IntPtr amount_without_discount;
            public IntPtr currency;
        }

        /// <summary>struct xo_item.</summary>
        [StructLayout(LayoutKind.Sequential)]
        [NativeType("xo_item")]
        internal struct xo_item
        {
            public IntPtr sku;
            public long quantity;
            public int is_free;
            public IntPtr price; // const xo_price *, NULL when none
            public IntPtr virtual_price; // const xo_price *, NULL when none
        }

        /// <summary>struct xo_contents. Valid only during the callback.</summary>
        [StructLayout(LayoutKind.Sequential)]
        [NativeType("xo_contents")]
        internal struct xo_contents
        {
            public uint struct_size;
            public int is_free;
            public IntPtr price;
            public IntPtr virtual_price;
            public IntPtr items; // item_count xo_item entries
            public uint item_count;
        }
    }

    /// <summary>Names the C type a C# declaration mirrors (read by the header check).</summary>
    [AttributeUsage(AttributeTargets.Struct | AttributeTargets.Delegate | AttributeTargets.Enum, Inherited = false)]
    internal sealed class NativeTypeAttribute : Attribute
    {
        public NativeTypeAttribute(string name, string constantPrefix = null)
        {
            Name = name;
            ConstantPrefix = constantPrefix;
        }

        /// <summary>The C type name, e.g. "xo_status".</summary>
        public string Name { get; private set; }

        /// <summary>For enums: the prefix of the C constants, e.g. "XO_STATUS_".</summary>
        public string ConstantPrefix { get; private set; }
    }
}
