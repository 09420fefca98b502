//! The C ABI: every `extern "C"` function of the library, and nothing else of C anywhere.
//!
//! Each function catches panics, checks its arguments, records a message for `xo_last_error` on
//! failure, and converts between C and the plain-Rust core ([`crate::runtime`], [`crate::Engine`]).

mod android;
mod contents;
mod guard;
pub mod journal;
pub mod types;

use std::ffi::{c_char, c_void, CString};
use std::sync::Arc;
use std::time::Duration;

use contents::ContentsStorage;
use guard::{boundary, fail, fail_with, read_str};
pub use types::*;

use crate::config::{Config, Delivery, Transport};
use crate::events::{ErrorKind, Event, EventKind, Origin, Outcome, Status, TransportState};
use crate::log::{self, Level};
use crate::secret::Token;
use crate::{runtime, Engine};

/// Longest `ca_bundle_pem` accepted.
const MAX_CA_PEM_BYTES: usize = crate::tls::MAX_CA_BUNDLE_BYTES;
/// Longest `ca_bundle_file` path accepted.
const MAX_PATH_BYTES: usize = 4096;
/// Longest URL accepted in `xo_config`.
const MAX_URL_BYTES: usize = 2048;

/// The library version, e.g. "0.1.0" (static string).
#[no_mangle]
pub extern "C" fn xo_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// The C ABI version the library implements (compare with `XO_ABI_VERSION` from this header).
#[no_mangle]
pub extern "C" fn xo_abi_version() -> u32 {
    XO_ABI_VERSION
}

/// The calling thread's last error message ("" if none); valid until that thread's next failing
/// call. Every function that returns an error code sets it.
#[no_mangle]
pub extern "C" fn xo_last_error() -> *const c_char {
    guard::last_error_ptr()
}

/// A static description of a result code ("unknown result code" for other values).
#[no_mangle]
pub extern "C" fn xo_result_string(code: i32) -> *const c_char {
    let text: &'static str = match code {
        0 => "ok\0",
        -1 => "a required pointer argument was NULL\0",
        -2 => "invalid argument\0",
        -3 => "a string argument is not valid UTF-8\0",
        -4 => "the library is not configured\0",
        -5 => "unknown handle\0",
        -6 => "busy: trackers are running\0",
        -7 => "not allowed inside a callback\0",
        -8 => "internal error (panic caught)\0",
        -9 => "internal error\0",
        -20 => "network error\0",
        -21 => "timed out\0",
        -22 => "unexpected HTTP answer\0",
        -23 => "unauthorized: the token was refused\0",
        -24 => "order not found\0",
        -25 => "protocol error\0",
        -26 => "rate limited\0",
        -27 => "socket rejected the credentials\0",
        -40 => "unknown order: not in the journal\0",
        -41 => "the order was already acknowledged\0",
        -42 => "the journal is unavailable: purchases are kept in memory only\0",
        _ => "unknown result code\0",
    };
    text.as_ptr().cast()
}

/// Configures the library for the trackers started from now on. Call it once before tracking,
/// and again after `xo_shutdown`. Returns `XO_RESULT_BUSY` while trackers are running or their
/// events wait for `xo_dispatch`, and `XO_RESULT_IN_CALLBACK` inside a callback; on any error
/// nothing changes.
///
/// # Safety
/// `config` must be NULL or point to `config->struct_size` readable bytes; its strings must be
/// NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn xo_configure(config: *const xo_config) -> xo_result {
    boundary("xo_configure", xo_result::Panic, || {
        let config = match read_config(config) {
            Ok(c) => c,
            Err(code) => return code,
        };
        match runtime::configure(config) {
            Ok(()) => xo_result::Ok,
            Err(e) => fail_with(&e),
        }
    })
}

/// Starts tracking an order. `token` is copied before the call returns. `callback` receives every
/// event of the returned handle, in order, ending with exactly one `XO_EVENT_KIND_FINAL` (unless
/// the tracker is cancelled first). Returns a handle (> 0) or a negative `xo_result`.
/// With a journal (`xo_config.journal_dir`) the order is recorded (fsynced) before this returns,
/// and its `DONE` is delivered again after every restart until `xo_acknowledge`; an acknowledged
/// order is refused with `XO_RESULT_ALREADY_ACKNOWLEDGED`.
///
/// # Safety
/// `token` must be NULL or NUL-terminated; `callback` must stay callable, and `userdata` valid
/// for it, until the final event or until `xo_cancel`/`xo_shutdown` returns.
#[no_mangle]
pub unsafe extern "C" fn xo_track_order(
    order_id: i64,
    token: *const c_char,
    callback: xo_event_callback,
    userdata: *mut c_void,
) -> i64 {
    boundary("xo_track_order", xo_result::Panic as i64, || {
        start(order_id, token, callback, userdata, Engine::track)
    })
}

/// Asks once, asynchronously, for an order's status and contents. The callback gets exactly one
/// `XO_EVENT_KIND_CHECK_RESULT`. Returns a handle (> 0, cancellable) or a negative `xo_result`.
///
/// # Safety
/// As for `xo_track_order`.
#[no_mangle]
pub unsafe extern "C" fn xo_check_order(
    order_id: i64,
    token: *const c_char,
    callback: xo_event_callback,
    userdata: *mut c_void,
) -> i64 {
    boundary("xo_check_order", xo_result::Panic as i64, || {
        start(order_id, token, callback, userdata, Engine::check)
    })
}

/// Stops a tracker or check. After it returns, that handle's callback is never called again,
/// from any thread (if called from inside that callback, the current call simply finishes).
/// Blocks while another thread is inside a callback. `XO_RESULT_UNKNOWN_HANDLE` if the handle
/// already delivered its final event.
#[no_mangle]
pub extern "C" fn xo_cancel(handle: i64) -> xo_result {
    boundary("xo_cancel", xo_result::Panic, || {
        with_engine(handle, |engine, h| engine.cancel(h))
    })
}

/// Replaces a live tracker's token (after `XO_EVENT_KIND_TOKEN_EXPIRED`, or ahead of expiry); the
/// tracker continues with it, reconnecting its socket if needed.
///
/// # Safety
/// `token` must be NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn xo_update_token(handle: i64, token: *const c_char) -> xo_result {
    boundary("xo_update_token", xo_result::Panic, || {
        let token = match read_token(token) {
            Ok(t) => t,
            Err(code) => return code,
        };
        with_engine(handle, |engine, h| engine.update_token(h, token))
    })
}

/// Queued delivery: runs up to `max_events` pending callbacks on the calling thread and returns
/// how many ran (0 in direct delivery), or a negative `xo_result` (`XO_RESULT_IN_CALLBACK` when
/// called from inside a callback). Call it every frame from the game's main thread.
#[no_mangle]
pub extern "C" fn xo_dispatch(max_events: u32) -> i32 {
    boundary("xo_dispatch", xo_result::Panic as i32, || {
        let Some(engine) = running_engine() else {
            return 0;
        };
        match engine.dispatch(max_events as usize) {
            Ok(n) => n.min(i32::MAX as usize) as i32,
            Err(e) => fail_with(&e) as i32,
        }
    })
}

/// Cancels every tracker, stops the library's threads (waiting at most 2 s) and clears the
/// configuration, the app state (back to active) and the log callback. Idempotent. No event
/// callback runs once it returns, so the host may unload the code it points to. Not
/// allowed from inside a callback (`XO_RESULT_IN_CALLBACK`). Call `xo_configure` again to track
/// again.
#[no_mangle]
pub extern "C" fn xo_shutdown() -> xo_result {
    boundary(
        "xo_shutdown",
        xo_result::Panic,
        || match runtime::shutdown() {
            Ok(()) => xo_result::Ok,
            Err(e) => fail_with(&e),
        },
    )
}

/// Mobile lifecycle. `active = 0` when the app goes to the background: sockets close, polling
/// stops and deadlines freeze, but every tracker is kept. `active != 0` when it returns: every
/// tracked order is requested at once, then sockets reconnect. Call it from the engine's
/// pause/resume hooks (Unity `OnApplicationPause`, Unreal application delegates).
#[no_mangle]
pub extern "C" fn xo_set_app_active(active: i32) -> xo_result {
    boundary("xo_set_app_active", xo_result::Panic, || {
        runtime::set_app_active(active != 0);
        xo_result::Ok
    })
}

/// Connectivity came back (the platform reported a network change): every tracker requests its
/// order now and sockets reconnect without waiting out their backoff.
#[no_mangle]
pub extern "C" fn xo_network_changed() -> xo_result {
    boundary("xo_network_changed", xo_result::Panic, || {
        runtime::network_changed();
        xo_result::Ok
    })
}

/// Installs a log callback receiving lines up to `max_level` (an `xo_log_level`), or removes it
/// when `callback` is NULL. Lines never contain tokens. The callback may run on any thread.
///
/// # Safety
/// `callback` must stay callable, and `userdata` valid, until it is replaced or removed.
#[no_mangle]
pub unsafe extern "C" fn xo_set_log_callback(
    callback: xo_log_callback,
    userdata: *mut c_void,
    max_level: i32,
) -> xo_result {
    boundary("xo_set_log_callback", xo_result::Panic, || {
        let level = match max_level {
            1 => Level::Error,
            2 => Level::Warn,
            3 => Level::Info,
            4 => Level::Debug,
            other => {
                return fail(
                    xo_result::InvalidArgument,
                    &format!("max_level must be 1..=4, got {other}"),
                )
            }
        };
        let sink = callback.map(|cb| {
            let userdata = UserData(userdata);
            Arc::new(move |level: Level, line: &str| {
                let text = CString::new(line.replace('\0', " ")).unwrap_or_default();
                // SAFETY: the host promised the callback and userdata stay valid while installed.
                unsafe { cb(userdata.get(), level as i32, text.as_ptr()) }
            }) as log::LogSink
        });
        log::set_sink(sink, level);
        xo_result::Ok
    })
}

/// A host pointer passed back untouched; the host decides which threads may use it.
#[derive(Clone, Copy)]
struct UserData(*mut c_void);
// SAFETY: the library never dereferences it; it only hands it back to the host's callback, which
// the header documents as running on a library thread (direct) or the dispatching thread (queued).
unsafe impl Send for UserData {}
unsafe impl Sync for UserData {}

impl UserData {
    fn get(self) -> *mut c_void {
        self.0
    }
}

/// The non-NULL event callback.
type EventFn = unsafe extern "C" fn(*mut c_void, *const xo_event);

type Start = fn(&Engine, i64, Token, crate::dispatch::Listener) -> Result<u64, crate::Error>;

unsafe fn start(
    order_id: i64,
    token: *const c_char,
    callback: xo_event_callback,
    userdata: *mut c_void,
    how: Start,
) -> i64 {
    let Some(callback) = callback else {
        return fail(xo_result::NullArgument, "callback is NULL") as i64;
    };
    if order_id <= 0 {
        return fail(
            xo_result::InvalidArgument,
            &format!("order_id must be positive, got {order_id}"),
        ) as i64;
    }
    let token = match read_token(token) {
        Ok(t) => t,
        Err(code) => return code as i64,
    };
    let userdata = UserData(userdata);
    let listener = Box::new(move |event: &Event| call_host(callback, userdata, event));
    match runtime::start_with(|engine| how(engine, order_id, token, listener)) {
        Ok(handle) => handle as i64,
        Err(e) => fail_with(&e) as i64,
    }
}

unsafe fn read_token(token: *const c_char) -> Result<Token, xo_result> {
    let text = read_str("token", token, XO_MAX_TOKEN_BYTES)?;
    Token::new(text).map_err(|why| fail(xo_result::InvalidArgument, why))
}

/// The engine that owns existing handles, if any (never starts one).
fn running_engine() -> Option<Engine> {
    runtime::engine_for_handles()
}

fn with_engine(
    handle: i64,
    call: impl FnOnce(&Engine, u64) -> Result<(), crate::Error>,
) -> xo_result {
    if handle <= 0 {
        return fail(
            xo_result::UnknownHandle,
            &format!("unknown handle {handle}: handles are positive"),
        );
    }
    let Some(engine) = running_engine() else {
        return fail(
            xo_result::UnknownHandle,
            &format!("unknown handle {handle}: the library is not running"),
        );
    };
    match call(&engine, handle as u64) {
        Ok(()) => xo_result::Ok,
        Err(e) => fail_with(&e),
    }
}

/// Converts an event to C and calls the host, keeping the strings and typed contents alive for
/// the call (direct delivery, or inside `xo_dispatch` when queued) and freeing them after it.
fn call_host(callback: EventFn, userdata: UserData, event: &Event) {
    let status_raw = c_string(event.status.as_ref().map_or("", Status::as_str));
    let message = c_string(event.error.as_ref().map_or("", |e| e.message.as_str()));
    let contents = event.contents.as_deref().map(c_string);
    let typed = ContentsStorage::from_json(event.contents.as_deref());
    let c_event = xo_event {
        struct_size: std::mem::size_of::<xo_event>() as u32,
        kind: match event.kind {
            EventKind::StatusChanged => xo_event_kind::StatusChanged,
            EventKind::TransportChanged => xo_event_kind::TransportChanged,
            EventKind::TokenExpired => xo_event_kind::TokenExpired,
            EventKind::Final => xo_event_kind::Final,
            EventKind::CheckResult => xo_event_kind::CheckResult,
        },
        handle: event.handle as i64,
        order_id: event.order_id,
        status: event.status.as_ref().map_or(xo_status::None, c_status),
        outcome: c_outcome(event.outcome),
        transport_state: match event.transport {
            None => xo_transport_state::None,
            Some(TransportState::SocketConnected) => xo_transport_state::SocketConnected,
            Some(TransportState::Polling) => xo_transport_state::Polling,
            Some(TransportState::SocketRestored) => xo_transport_state::SocketRestored,
            Some(TransportState::SocketReestablished) => xo_transport_state::SocketReestablished,
        },
        error_code: event
            .error
            .as_ref()
            .map_or(xo_result::Ok, |e| c_error(e.kind)),
        http_status: event.error.as_ref().map_or(0, |e| i32::from(e.http_status)),
        status_raw: status_raw.as_ptr(),
        message: message.as_ptr(),
        contents_json: contents.as_ref().map_or(std::ptr::null(), |c| c.as_ptr()),
        contents: typed.as_ref().map_or(std::ptr::null(), |t| t.as_ptr()),
        origin: match event.origin {
            Origin::Live => xo_origin::Live,
            Origin::Redelivered => xo_origin::Redelivered,
            Origin::Restored => xo_origin::Restored,
        } as i32,
    };
    // SAFETY: the host promised `callback`/`userdata` stay valid until the final event or cancel;
    // the dispatcher never calls after either.
    unsafe { callback(userdata.get(), &c_event) }
}

fn c_string(text: &str) -> CString {
    CString::new(text.replace('\0', " ")).unwrap_or_default()
}

fn c_status(status: &Status) -> xo_status {
    match status {
        Status::New => xo_status::New,
        Status::Paid => xo_status::Paid,
        Status::Done => xo_status::Done,
        Status::Canceled => xo_status::Canceled,
        Status::Expired => xo_status::Expired,
        Status::Other(_) => xo_status::Other,
    }
}

fn c_outcome(outcome: Outcome) -> xo_outcome {
    match outcome {
        Outcome::None => xo_outcome::None,
        Outcome::Done => xo_outcome::Done,
        Outcome::Canceled => xo_outcome::Canceled,
        Outcome::Expired => xo_outcome::Expired,
        Outcome::TimedOut => xo_outcome::TimedOut,
        Outcome::NotFound => xo_outcome::NotFound,
        Outcome::Unauthorized => xo_outcome::Unauthorized,
        Outcome::Failed => xo_outcome::Failed,
    }
}

fn c_error(kind: ErrorKind) -> xo_result {
    match kind {
        ErrorKind::Network => xo_result::Network,
        ErrorKind::Timeout => xo_result::Timeout,
        ErrorKind::Http => xo_result::Http,
        ErrorKind::Unauthorized => xo_result::Unauthorized,
        ErrorKind::NotFound => xo_result::NotFound,
        ErrorKind::Protocol => xo_result::Protocol,
        ErrorKind::RateLimited => xo_result::RateLimited,
        ErrorKind::SocketRejected => xo_result::SocketRejected,
        ErrorKind::Panic => xo_result::Panic,
        ErrorKind::Internal => xo_result::Internal,
    }
}

/// Reads a versioned `xo_config` into a `Config`, applying defaults to zero fields.
unsafe fn read_config(ptr: *const xo_config) -> Result<Config, xo_result> {
    if ptr.is_null() {
        return Err(fail(xo_result::NullArgument, "config is NULL"));
    }
    let declared = std::ptr::read_unaligned(ptr.cast::<u32>()) as usize;
    let minimum = std::mem::offset_of!(xo_config, project_id) + std::mem::size_of::<i64>();
    if declared < minimum {
        return Err(fail(
            xo_result::InvalidArgument,
            &format!("config->struct_size is {declared}; set it to sizeof(xo_config) (at least {minimum})"),
        ));
    }
    // SAFETY: zero is a valid value for every field (integers and NULL pointers).
    let mut raw: xo_config = std::mem::zeroed();
    let known = declared.min(std::mem::size_of::<xo_config>());
    std::ptr::copy_nonoverlapping(
        ptr.cast::<u8>(),
        (&mut raw as *mut xo_config).cast::<u8>(),
        known,
    );

    let mut config = Config::new(raw.project_id);
    config.transport = match raw.transport {
        0 => Transport::Centrifugo,
        1 => Transport::LegacySocket,
        2 => Transport::PollingOnly,
        other => {
            return Err(fail(
                xo_result::InvalidArgument,
                &format!("config->transport {other} is not an xo_transport"),
            ))
        }
    };
    config.delivery = match raw.delivery {
        0 => Delivery::Direct,
        1 => Delivery::Queued,
        other => {
            return Err(fail(
                xo_result::InvalidArgument,
                &format!("config->delivery {other} is not an xo_delivery"),
            ))
        }
    };
    for (name, ptr, slot) in [
        (
            "config->centrifugo_url",
            raw.centrifugo_url,
            &mut config.centrifugo_url,
        ),
        (
            "config->legacy_socket_url",
            raw.legacy_socket_url,
            &mut config.legacy_socket_url,
        ),
        (
            "config->api_base_url",
            raw.api_base_url,
            &mut config.api_base_url,
        ),
    ] {
        if !ptr.is_null() {
            *slot = read_str(name, ptr, MAX_URL_BYTES)?.to_owned();
        }
    }
    let t = &mut config.timing;
    for (ms, slot) in [
        (raw.poll_interval_ms, &mut t.poll_interval),
        (raw.socket_reestablish_ms, &mut t.socket_reestablish),
        (raw.polling_deadline_ms, &mut t.polling_deadline),
        (raw.overall_deadline_ms, &mut t.overall_deadline),
        (raw.token_wait_ms, &mut t.token_wait),
        (raw.request_timeout_ms, &mut t.request_timeout),
        (raw.backoff_min_ms, &mut t.backoff_min),
        (raw.backoff_max_ms, &mut t.backoff_max),
    ] {
        if ms != 0 {
            *slot = Duration::from_millis(u64::from(ms));
        }
    }
    if raw.worker_threads != 0 {
        config.worker_threads = raw.worker_threads as usize;
    }
    config.allow_insecure_loopback = raw.allow_insecure_loopback != 0;
    if !raw.proxy_url.is_null() {
        config.proxy_url =
            Some(read_str("config->proxy_url", raw.proxy_url, MAX_URL_BYTES)?.to_owned());
    }
    if !raw.ca_bundle_pem.is_null() {
        let pem = read_str("config->ca_bundle_pem", raw.ca_bundle_pem, MAX_CA_PEM_BYTES)?;
        config.ca_bundle_pem = Some(pem.to_owned());
    }
    if !raw.ca_bundle_file.is_null() {
        let path = read_str("config->ca_bundle_file", raw.ca_bundle_file, MAX_PATH_BYTES)?;
        config.ca_bundle_file = Some(path.to_owned());
    }
    journal::read_config(&raw, &mut config)?;
    config
        .validate()
        .map_err(|why| fail(xo_result::InvalidArgument, &why))?;
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::c_string;

    #[test]
    fn header_constants_match_the_core() {
        let _watchdog = crate::test_watchdog::arm();
        assert_eq!(super::XO_MAX_TOKEN_BYTES, crate::secret::MAX_TOKEN_BYTES);
        assert_eq!(super::XO_ABI_VERSION, 1);
        assert_eq!(super::XO_MAX_ITEMS as usize, crate::contents::MAX_ITEMS);
        assert_eq!(
            super::XO_MAX_TEXT_BYTES as usize,
            crate::contents::MAX_TEXT_BYTES
        );
    }

    /// Texts reach C NUL-free and whole (a NUL would cut them short there).
    #[test]
    fn c_strings_keep_the_text_without_nuls() {
        let _watchdog = crate::test_watchdog::arm();
        assert_eq!(c_string("socket lost").to_str().unwrap(), "socket lost");
        assert_eq!(c_string("a\0b").to_str().unwrap(), "a b");
    }
}
