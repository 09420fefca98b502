//! The journal's C functions: `xo_resume_pending`, `xo_acknowledge`, `xo_journal_status`, and
//! the journal fields of `xo_config`.

use std::ffi::{c_char, c_void};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::guard::{boundary, fail, fail_with, read_str};
use super::types::{xo_config, xo_event_callback, xo_result};
use super::{call_host, read_token, running_engine, UserData, MAX_URL_BYTES};
use crate::config::Config;
use crate::dispatch::Listener;
use crate::events::Event;
use crate::restore::ListenerFactory;
use crate::runtime;

/// Longest `journal_dir` accepted, in bytes.
const MAX_PATH_BYTES: usize = 4096;

/// Resumes the purchases of the token's user from the journal, typically once at start after
/// `xo_configure` (and after sign-in). Every unfinished order is tracked again with this token,
/// and every done-but-unacknowledged order gets its `XO_EVENT_KIND_FINAL` with `XO_OUTCOME_DONE`
/// and its contents again at once (no network needed); with `restore_from_xsolla`, purchases this
/// device never saw are also read from Xsolla and delivered once as `XO_ORIGIN_RESTORED`. Each
/// order gets its own handle (in its events); their events carry `XO_ORIGIN_REDELIVERED` (or
/// `XO_ORIGIN_RESTORED`). Orders already tracked by this process are skipped. Returns how many
/// orders it resumed or redelivered (>= 0; 0 without a journal), or a negative `xo_result`.
///
/// Orders are scoped to a user without storing the token: a JWT's `sub` claim (read without
/// verification; it only groups orders on this device), or one shared scope for opaque tokens.
///
/// # Safety
/// As for `xo_track_order`: `callback`/`userdata` must stay valid until each resumed handle's
/// final event or its cancellation.
#[no_mangle]
pub unsafe extern "C" fn xo_resume_pending(
    token: *const c_char,
    callback: xo_event_callback,
    userdata: *mut c_void,
) -> i32 {
    boundary("xo_resume_pending", xo_result::Panic as i32, || {
        let Some(callback) = callback else {
            return fail(xo_result::NullArgument, "callback is NULL") as i32;
        };
        let token = match read_token(token) {
            Ok(t) => t,
            Err(code) => return code as i32,
        };
        let userdata = UserData(userdata);
        let listener: ListenerFactory = Arc::new(move || {
            Box::new(move |event: &Event| call_host(callback, userdata, event)) as Listener
        });
        match runtime::start_with(|engine| engine.resume_pending(token, listener)) {
            Ok(n) => n.min(i32::MAX as usize) as i32,
            Err(e) => fail_with(&e) as i32,
        }
    })
}

/// Tells the library the game granted the items of a `DONE` order: it is never delivered again,
/// by any path (not after a restart, not by `xo_resume_pending`, not restored from Xsolla).
/// Durable before it returns; idempotent (acknowledging twice is `XO_RESULT_OK`). Call it AFTER
/// granting: a crash between the grant and this call redelivers the order, so make grants
/// idempotent on the order id (no library can close that window). Acknowledging an unfinished
/// order stops its tracker and forgets it. Returns `XO_RESULT_UNKNOWN_ORDER` for an order the
/// journal does not know, `XO_RESULT_JOURNAL_UNAVAILABLE` when it could only be kept in memory,
/// and `XO_RESULT_OK` without a journal (nothing is redelivered then). Allowed inside a callback.
#[no_mangle]
pub extern "C" fn xo_acknowledge(order_id: i64) -> xo_result {
    boundary("xo_acknowledge", xo_result::Panic, || {
        if order_id <= 0 {
            return fail(
                xo_result::InvalidArgument,
                &format!("order_id must be positive, got {order_id}"),
            );
        }
        let engine = match running_engine() {
            Some(engine) => engine,
            None => match runtime::start_with(|engine| Ok(engine.clone())) {
                Ok(engine) => engine,
                Err(e) => return fail_with(&e),
            },
        };
        match engine.acknowledge(order_id) {
            Ok(()) => xo_result::Ok,
            Err(e) => fail_with(&e),
        }
    })
}

/// Whether the journal writes to disk: `XO_RESULT_OK`, or `XO_RESULT_JOURNAL_UNAVAILABLE` with
/// the reason in `xo_last_error` (no `journal_dir`, directory unusable or locked by another
/// process, a write failed). Tracking works either way; only redelivery after a restart is lost.
/// Opens the journal if it is not open yet (after `xo_configure`).
#[no_mangle]
pub extern "C" fn xo_journal_status() -> xo_result {
    boundary(
        "xo_journal_status",
        xo_result::Panic,
        || match runtime::start_with(|engine| engine.journal_status()) {
            Ok(()) => xo_result::Ok,
            Err(e) => fail_with(&e),
        },
    )
}

/// Reads the journal fields of `xo_config` (zero/NULL: defaults).
///
/// # Safety
/// The strings of `raw` must be NULL or NUL-terminated.
pub(super) unsafe fn read_config(raw: &xo_config, config: &mut Config) -> Result<(), xo_result> {
    if !raw.journal_dir.is_null() {
        let dir = read_str("config->journal_dir", raw.journal_dir, MAX_PATH_BYTES)?;
        if !dir.is_empty() {
            config.journal_dir = Some(PathBuf::from(dir));
        }
    }
    config.restore.enabled = raw.restore_from_xsolla != 0;
    if !raw.events_api_url.is_null() {
        config.restore.events_api_url =
            read_str("config->events_api_url", raw.events_api_url, MAX_URL_BYTES)?.to_owned();
    }
    if raw.restore_interval_ms != 0 {
        config.restore.interval = Some(Duration::from_millis(u64::from(raw.restore_interval_ms)));
    }
    Ok(())
}
