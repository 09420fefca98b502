//! The C types of the ABI. Names follow C conventions (`xo_` prefix), as cbindgen copies them.
#![allow(non_camel_case_types)]

use std::ffi::{c_char, c_void};

/// The version of this C ABI. It changes only when an existing declaration changes incompatibly;
/// new functions and new fields at the end of versioned structs do not change it.
pub const XO_ABI_VERSION: u32 = 1;

/// The longest token accepted, in bytes (without the terminating NUL).
pub const XO_MAX_TOKEN_BYTES: usize = 16384;

/// At most this many items are given in `xo_contents.items`; further ones are dropped.
pub const XO_MAX_ITEMS: u32 = 1000;

/// The longest text in `xo_contents` (sku, amount, currency), in bytes; longer text is cut at a
/// UTF-8 character boundary.
pub const XO_MAX_TEXT_BYTES: u32 = 256;

/// Result codes. `XO_RESULT_OK` is 0; every error is negative. Functions that return a handle
/// return one of these negative codes instead of a handle on failure.
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum xo_result {
    /// Success.
    Ok = 0,
    /// A required pointer argument was NULL.
    NullArgument = -1,
    /// An argument is out of range or malformed (see `xo_last_error`).
    InvalidArgument = -2,
    /// A string argument is not valid UTF-8.
    InvalidUtf8 = -3,
    /// `xo_configure` has not been called (or `xo_shutdown` cleared the configuration).
    NotConfigured = -4,
    /// No tracker or check has this handle (never existed, already finished, or cancelled).
    UnknownHandle = -5,
    /// The call conflicts with running trackers (for example `xo_configure` while tracking).
    Busy = -6,
    /// The call is not allowed from inside an event or log callback.
    InCallback = -7,
    /// The library caught a panic; the library is still usable.
    Panic = -8,
    /// An unexpected internal failure.
    Internal = -9,
    /// Event error: the connection failed or broke.
    Network = -20,
    /// Event error: a request or handshake took too long, or a deadline passed.
    Timeout = -21,
    /// Event error: an unexpected HTTP answer (see `http_status`).
    Http = -22,
    /// Event error: the token was refused.
    Unauthorized = -23,
    /// Event error: the order does not exist.
    NotFound = -24,
    /// Event error: the server broke the protocol.
    Protocol = -25,
    /// Event error: the server asked us to slow down (HTTP 429).
    RateLimited = -26,
    /// Event error: the socket server refused the credentials; polling continues.
    SocketRejected = -27,
    /// `xo_acknowledge`: the journal does not know this order (never tracked with a journal, or
    /// its non-done final was delivered and it was forgotten).
    UnknownOrder = -40,
    /// `xo_track_order`: the order was acknowledged, so it is never tracked or delivered again.
    AlreadyAcknowledged = -41,
    /// The journal cannot write to disk (missing/read-only/full directory, locked by another
    /// process, failing writes, or no `journal_dir`): tracking works, in memory only
    /// (`xo_last_error` says why). From `xo_journal_status`, and from `xo_acknowledge` when the
    /// acknowledgement took effect in memory only.
    JournalUnavailable = -42,
}

/// Where an event comes from, in `xo_event.origin`.
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum xo_origin {
    /// An order tracked in this process with `xo_track_order` (or a check).
    Live = 0,
    /// From the journal: an order tracked or done earlier (in an earlier run, or earlier in this
    /// one) and not acknowledged yet, resumed or redelivered by `xo_resume_pending`.
    Redelivered = 1,
    /// A purchase this device never tracked, restored from Xsolla's Events API: show it as a
    /// "restored purchase".
    Restored = 2,
}

/// Push transport, for `xo_config.transport`.
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum xo_transport {
    /// Xsolla's Centrifugo endpoint, one connection per token shared by all its orders (default).
    Centrifugo = 0,
    /// The legacy per-order socket.
    LegacySocket = 1,
    /// No socket: HTTP polling only.
    PollingOnly = 2,
}

/// Where callbacks run, for `xo_config.delivery`.
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum xo_delivery {
    /// On a library thread as soon as the event happens. The callback must return quickly.
    Direct = 0,
    /// Queued until the host calls `xo_dispatch`, on the thread that calls it (a game's main thread).
    Queued = 1,
}

/// What an event is about.
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum xo_event_kind {
    /// The order's status changed (`status`, `status_raw`).
    StatusChanged = 1,
    /// The transport changed (`transport_state`; `error_code`/`message` say why, if it failed).
    TransportChanged = 2,
    /// The token was refused: call `xo_update_token` within the token wait, or tracking ends
    /// with `XO_OUTCOME_UNAUTHORIZED`.
    TokenExpired = 3,
    /// The last event of a tracker (`outcome`; `contents_json` when done).
    Final = 4,
    /// The answer to `xo_check_order`, and the last event of that request.
    CheckResult = 5,
}

/// An order status.
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum xo_status {
    /// No status known yet.
    None = 0,
    /// Created, not paid.
    New = 1,
    /// Paid, not yet delivered (not a success yet).
    Paid = 2,
    /// Delivered: the only success.
    Done = 3,
    /// Canceled or refunded.
    Canceled = 4,
    /// The unpaid order expired.
    Expired = 5,
    /// A status this library does not know: see `status_raw`. Tracking continues.
    Other = 6,
}

/// How tracking ended. A cancelled tracker gets no final event.
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum xo_outcome {
    /// Not a final event (or a check of an order that is not final yet).
    None = 0,
    /// Delivered: grant the items (and validate on your server with Xsolla's webhook).
    Done = 1,
    /// Canceled or refunded.
    Canceled = 2,
    /// The unpaid order expired.
    Expired = 3,
    /// No final status within the polling or overall deadline.
    TimedOut = 4,
    /// Xsolla does not know this order (confirmed by a second request).
    NotFound = 5,
    /// The token was refused and no new token came in time.
    Unauthorized = 6,
    /// Tracking failed for another reason (`error_code`, `message`).
    Failed = 7,
}

/// How status updates are reaching a tracker.
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum xo_transport_state {
    /// Not a transport event.
    None = 0,
    /// The push socket is connected.
    SocketConnected = 1,
    /// The socket is unavailable (or not configured): polling over HTTP.
    Polling = 2,
    /// The socket is back after polling; polling stopped.
    SocketRestored = 3,
    /// The socket was re-opened on its periodic schedule.
    SocketReestablished = 4,
}

/// Log levels; lower is more severe.
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum xo_log_level {
    /// Unrecoverable failures.
    Error = 1,
    /// Failures the library recovers from.
    Warn = 2,
    /// Transport changes and outcomes.
    Info = 3,
    /// Requests, frames and timers.
    Debug = 4,
}

/// Library configuration. Zero-initialise it, set `struct_size = sizeof(xo_config)` and
/// `project_id`; every other zero or NULL field takes its default. Strings are copied.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct xo_config {
    /// `sizeof(xo_config)` as the host compiled it: fields past it are treated as zero.
    pub struct_size: u32,
    /// An `xo_transport` value (default `XO_TRANSPORT_CENTRIFUGO`).
    pub transport: i32,
    /// The Xsolla project id (required, positive).
    pub project_id: i64,
    /// Centrifugo WebSocket URL; NULL: `wss://ws-store.xsolla.com/connection/websocket`.
    pub centrifugo_url: *const c_char,
    /// Legacy socket URL without query; NULL: `wss://store-ws.xsolla.com/sub/order/status`.
    pub legacy_socket_url: *const c_char,
    /// Store API base; NULL: `https://store.xsolla.com/api`.
    pub api_base_url: *const c_char,
    /// An `xo_delivery` value (default `XO_DELIVERY_DIRECT`).
    pub delivery: i32,
    /// Milliseconds between status requests while polling (default 3000).
    pub poll_interval_ms: u32,
    /// A socket is re-opened after this many milliseconds without a final status (default 300000).
    pub socket_reestablish_ms: u32,
    /// Polling without a final status ends as timed out after this long (default 600000).
    pub polling_deadline_ms: u32,
    /// No tracker lives longer than this (default 1800000).
    pub overall_deadline_ms: u32,
    /// How long to wait for `xo_update_token` after the token was refused (default 60000).
    pub token_wait_ms: u32,
    /// Limit for one HTTP request and for a socket's connect (default 10000).
    pub request_timeout_ms: u32,
    /// Smallest reconnect/retry delay (default 500).
    pub backoff_min_ms: u32,
    /// Largest reconnect/retry delay (default 20000).
    pub backoff_max_ms: u32,
    /// Runtime worker threads (default 1, at most 16).
    pub worker_threads: u32,
    /// Non-zero allows `ws://`/`http://` to loopback addresses (tests, the simulator). Never in
    /// production. It also ignores proxy environment variables and system settings (an explicit
    /// `proxy_url` still applies).
    pub allow_insecure_loopback: u32,
    /// A proxy for every HTTP request and socket: `http://`, `https://`, `socks5://` or
    /// `socks5h://` (the proxy resolves names), as `scheme://[user:password@]host:port`.
    /// Credentials never appear in logs or messages. NULL (default): `HTTPS_PROXY`, `HTTP_PROXY`,
    /// `ALL_PROXY`, `NO_PROXY` (and lower-case forms), then the Windows/macOS system settings.
    pub proxy_url: *const c_char,
    /// Extra trusted CA certificates as PEM text (a TLS-inspecting proxy's or antivirus's root),
    /// added to the operating system's trust store. NULL (default): none.
    pub ca_bundle_pem: *const c_char,
    /// Path to a PEM file of extra trusted CA certificates, read by `xo_configure` (an unreadable
    /// file or bad PEM is `XO_RESULT_INVALID_ARGUMENT`). NULL (default): none.
    pub ca_bundle_file: *const c_char,
    /// Directory of the purchase journal (created if missing), e.g. under the game's persistent
    /// data folder. NULL or "": no journal, nothing survives the process (the behaviour of
    /// earlier versions). With it, every tracked order is recorded before `xo_track_order`
    /// returns and its `DONE` is delivered again after every restart (`xo_resume_pending`) until
    /// `xo_acknowledge`. Tokens are never written to it.
    pub journal_dir: *const c_char,
    /// Non-zero: also restore purchases this device never tracked from Xsolla's Events API at
    /// `xo_resume_pending` (and every `restore_interval_ms`). Needs `journal_dir`. Default off.
    pub restore_from_xsolla: u32,
    /// Events API base; NULL: `https://getupdate.xsolla.com`.
    pub events_api_url: *const c_char,
    /// Read the Events API again this often after `xo_resume_pending` (0: only at
    /// `xo_resume_pending`; otherwise at least 3000).
    pub restore_interval_ms: u32,
}

/// One event. The struct and its strings are valid only during the callback: copy what you keep.
#[repr(C)]
pub struct xo_event {
    /// `sizeof(xo_event)` as this library built it; fields may be added at the end.
    pub struct_size: u32,
    /// What happened.
    pub kind: xo_event_kind,
    /// The tracker or check handle.
    pub handle: i64,
    /// The order.
    pub order_id: i64,
    /// The latest known status (`XO_STATUS_NONE` if none yet).
    pub status: xo_status,
    /// How it ended, on `XO_EVENT_KIND_FINAL` and `XO_EVENT_KIND_CHECK_RESULT`.
    pub outcome: xo_outcome,
    /// On `XO_EVENT_KIND_TRANSPORT_CHANGED`.
    pub transport_state: xo_transport_state,
    /// `XO_RESULT_OK`, or what failed.
    pub error_code: xo_result,
    /// The HTTP status that caused the error, or 0.
    pub http_status: i32,
    /// The status exactly as Xsolla sent it ("" if none). Never NULL.
    pub status_raw: *const c_char,
    /// A human-readable description of the error ("" if none). Never NULL. Never contains the token.
    pub message: *const c_char,
    /// On done (final or check): the order contents as JSON (`price`, `virtual_price`, `is_free`,
    /// `items`, normalised). NULL otherwise.
    pub contents_json: *const c_char,
    /// The same contents, typed; set exactly when `contents_json` is, NULL otherwise. Valid only
    /// during the callback. Check `struct_size` before reading it (libraries older than this field).
    pub contents: *const xo_contents,
    /// An `xo_origin`: `XO_ORIGIN_LIVE`, or `XO_ORIGIN_REDELIVERED`/`XO_ORIGIN_RESTORED` for
    /// orders from the journal or from Xsolla's Events API.
    pub origin: i32,
}

/// A price as normalised from the order: decimal amounts as strings. Fields are never NULL
/// ("" if absent).
#[repr(C)]
pub struct xo_price {
    /// The amount paid, e.g. "30".
    pub amount: *const c_char,
    /// The amount before discounts, e.g. "30".
    pub amount_without_discount: *const c_char,
    /// An ISO currency code such as "USD", or the virtual currency's sku.
    pub currency: *const c_char,
}

/// One purchased item.
#[repr(C)]
pub struct xo_item {
    /// The item's sku ("" if absent). Never NULL.
    pub sku: *const c_char,
    /// How many were bought (0 if absent or not an integer).
    pub quantity: i64,
    /// 1 if the item was free, else 0.
    pub is_free: i32,
    /// The real-money price; NULL when the item has none.
    pub price: *const xo_price,
    /// The virtual-currency price; NULL when the item has none.
    pub virtual_price: *const xo_price,
}

/// The order contents; valid only during the callback, like the event. At most `XO_MAX_ITEMS`
/// items and texts of at most `XO_MAX_TEXT_BYTES` bytes.
#[repr(C)]
pub struct xo_contents {
    /// `sizeof(xo_contents)` as the library built it; fields may be added at the end.
    pub struct_size: u32,
    /// 1 if the order was free, else 0.
    pub is_free: i32,
    /// The real-money price; NULL when absent or null.
    pub price: *const xo_price,
    /// The virtual-currency price; NULL when absent or null.
    pub virtual_price: *const xo_price,
    /// `item_count` entries; NULL when `item_count` is 0.
    pub items: *const xo_item,
    /// How many entries `items` has.
    pub item_count: u32,
}

/// Receives events. `userdata` is the pointer given to `xo_track_order`/`xo_check_order`.
pub type xo_event_callback =
    Option<unsafe extern "C" fn(userdata: *mut c_void, event: *const xo_event)>;

/// Receives log lines (an `xo_log_level` and a NUL-terminated message valid during the call).
pub type xo_log_callback =
    Option<unsafe extern "C" fn(userdata: *mut c_void, level: i32, message: *const c_char)>;
