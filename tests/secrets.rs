//! Secrets: the token never appears in a log line, an event or an error message.
//!
//! The whole fault matrix (`tests/fault_matrix.rs`) already runs under a capturing debug-level
//! log sink and checks every line and event against every token it used. This file covers what
//! the matrix does not: a server that echoes the token back (in a connect error, a close reason,
//! a disconnect push), and the C ABI's own surfaces (the log callback, `xo_last_error` after
//! refused tokens) over a real run with faults.
//!
//! The log sink is process-global: every test takes `GLOBAL` first.

mod common;

use std::ffi::{c_char, c_void, CStr, CString};
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use common::{config_for, recorder};
use xo_sim::{OrderSpec, Sim, SimConfig};
use xo_tracker::ffi::*;
use xo_tracker::{Engine, Outcome, Token, Transport, TransportState};

static GLOBAL: Mutex<()> = Mutex::new(());
static LINES: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn global() -> MutexGuard<'static, ()> {
    GLOBAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn capture_rust_log() {
    LINES.lock().unwrap().clear();
    xo_tracker::log::set_sink(
        Some(Arc::new(|_, line: &str| {
            LINES.lock().unwrap().push(line.to_owned())
        })),
        xo_tracker::log::Level::Debug,
    );
}

fn assert_clean(token: &str, texts: impl IntoIterator<Item = String>) {
    let lines = LINES.lock().unwrap().clone();
    assert!(!lines.is_empty(), "the capture works");
    for line in lines.into_iter().chain(texts) {
        assert!(!line.contains(token), "the token leaks: {line}");
    }
}

/// A server that puts the token into its error texts: Centrifugo's connect error message, a
/// close reason and a disconnect push reason. The library copies server texts into events and
/// logs; it must redact the token from them.
#[tokio::test(start_paused = true)]
#[allow(clippy::await_holding_lock)] // the global lock is meant to cover the whole test
async fn a_token_echoed_by_the_server_is_redacted() {
    let _watchdog = common::watchdog::arm();
    let _g = global();
    capture_rust_log();
    let token = "echoed-secret-Qm4x7Yt2";
    let sim = Sim::start(SimConfig::default()).await.unwrap();
    let engine = Engine::new(
        config_for(&sim, Transport::Centrifugo),
        tokio::runtime::Handle::current(),
    )
    .unwrap();
    sim.add_order(OrderSpec::new(1).status("new"));
    let mut texts = Vec::new();

    // 1. A temporary connect error whose message holds the token.
    sim.faults()
        .centrifugo_reject_connect(1, 100, format!("bad auth {token}"), true);
    let (listener, mut rec) = recorder();
    let handle = engine
        .track(1, Token::new(token).unwrap(), listener)
        .unwrap();
    let events = rec
        .until(|e| e.transport == Some(TransportState::SocketRestored))
        .await;
    texts.extend(events.iter().map(|e| format!("{e:?}")));

    // 2. A clean close whose reason holds the token.
    sim.faults()
        .centrifugo_close_all(3000, format!("closing {token}"));
    let events = rec
        .until(|e| e.transport == Some(TransportState::SocketRestored))
        .await;
    texts.extend(events.iter().map(|e| format!("{e:?}")));

    // 3. A disconnect push whose reason holds the token (terminal: polling from then on).
    sim.faults().centrifugo_send_raw(format!(
        r#"{{"push":{{"disconnect":{{"code":3500,"reason":"invalid token {token}"}}}}}}"#
    ));
    let events = rec
        .until(|e| e.transport == Some(TransportState::Polling))
        .await;
    texts.extend(events.iter().map(|e| format!("{e:?}")));
    sim.set_status(1, "done");
    let events = rec.until_last().await;
    texts.extend(events.iter().map(|e| format!("{e:?}")));
    assert_eq!(events.last().unwrap().outcome, Outcome::Done);
    let _ = handle;
    xo_tracker::log::set_sink(None, xo_tracker::log::Level::Debug);
    assert_clean(token, texts);
}

/// The `Debug`/`Display` of every public value that holds or is built from a token.
#[test]
fn tokens_print_redacted() {
    let _watchdog = common::watchdog::arm();
    let token = Token::new("debug-secret-Hk3").unwrap();
    assert_eq!(format!("{token} {token:?}"), "<redacted> <redacted>");
    let errors = [
        xo_tracker::Error::InvalidArgument("x".into()),
        xo_tracker::Error::UnknownHandle(3),
    ];
    for e in errors {
        assert!(!format!("{e} {e:?}").contains("debug-secret"));
    }
}

// ---------------------------------------------------------------------------------------------
// The C ABI: log callback and last error over a real run with faults.

static C_LINES: Mutex<Vec<String>> = Mutex::new(Vec::new());

unsafe extern "C" fn on_log(_: *mut c_void, _level: i32, line: *const c_char) {
    let line = CStr::from_ptr(line).to_string_lossy().into_owned();
    C_LINES.lock().unwrap_or_else(|e| e.into_inner()).push(line);
}

static FINALS: AtomicU32 = AtomicU32::new(0);
static TOKEN_REQUESTS: AtomicU32 = AtomicU32::new(0);
static EVENT_TEXTS: Mutex<Vec<String>> = Mutex::new(Vec::new());

unsafe extern "C" fn on_event(_: *mut c_void, e: *const xo_event) {
    let e = &*e;
    let mut texts = EVENT_TEXTS.lock().unwrap();
    texts.push(CStr::from_ptr(e.message).to_string_lossy().into_owned());
    texts.push(CStr::from_ptr(e.status_raw).to_string_lossy().into_owned());
    if !e.contents_json.is_null() {
        texts.push(
            CStr::from_ptr(e.contents_json)
                .to_string_lossy()
                .into_owned(),
        );
    }
    if matches!(e.kind, xo_event_kind::TokenExpired) {
        TOKEN_REQUESTS.fetch_add(1, SeqCst);
    }
    if matches!(e.kind, xo_event_kind::Final | xo_event_kind::CheckResult) {
        FINALS.fetch_add(1, SeqCst);
    }
}

fn last_error() -> String {
    unsafe { CStr::from_ptr(xo_last_error()) }
        .to_string_lossy()
        .into_owned()
}

fn wait(what: &str, pred: impl Fn() -> bool) {
    let until = Instant::now() + Duration::from_secs(20);
    while !pred() {
        assert!(Instant::now() < until, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn the_c_log_callback_and_last_error_never_contain_the_token() {
    let _watchdog = common::watchdog::arm();
    let _g = global();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let sim = rt.block_on(Sim::start(SimConfig::default())).unwrap();
    let urls = [
        CString::new(sim.centrifugo_url()).unwrap(),
        CString::new(sim.legacy_socket_url()).unwrap(),
        CString::new(sim.api_base_url()).unwrap(),
    ];
    let secret = "c-abi-secret-Vb8nR2";
    let fresh = "c-abi-fresh-secret-Lp0";
    let token = CString::new(secret).unwrap();
    let fresh_token = CString::new(fresh).unwrap();
    C_LINES.lock().unwrap().clear();
    assert_eq!(
        unsafe { xo_set_log_callback(Some(on_log), std::ptr::null_mut(), 4) },
        xo_result::Ok
    );

    for (round, transport) in [0, 1, 2].into_iter().enumerate() {
        let config = xo_config {
            struct_size: std::mem::size_of::<xo_config>() as u32,
            transport,
            project_id: 1001,
            centrifugo_url: urls[0].as_ptr(),
            legacy_socket_url: urls[1].as_ptr(),
            api_base_url: urls[2].as_ptr(),
            delivery: 0,
            poll_interval_ms: 20,
            socket_reestablish_ms: 0,
            polling_deadline_ms: 0,
            overall_deadline_ms: 0,
            token_wait_ms: 0,
            request_timeout_ms: 500,
            backoff_min_ms: 10,
            backoff_max_ms: 50,
            worker_threads: 1,
            allow_insecure_loopback: 1,
            proxy_url: std::ptr::null(),
            ca_bundle_pem: std::ptr::null(),
            ca_bundle_file: std::ptr::null(),
            journal_dir: std::ptr::null(),
            restore_from_xsolla: 0,
            events_api_url: std::ptr::null(),
            restore_interval_ms: 0,
        };
        assert_eq!(unsafe { xo_configure(&config) }, xo_result::Ok);
        // (xo_shutdown removes the log callback: install it for every run.)
        assert_eq!(
            unsafe { xo_set_log_callback(Some(on_log), std::ptr::null_mut(), 4) },
            xo_result::Ok
        );
        let id = 9_000 + round as i64;
        // Faults on every path: refused sockets, server errors, a slow answer, an expired token.
        sim.faults().centrifugo_refuse(2);
        sim.faults().legacy_refuse(2);
        sim.add_order(OrderSpec::new(id).status("new"));
        sim.faults().http_error(id, 2, 503);
        sim.faults().http_delay(id, 1, Duration::from_secs(2));
        sim.expire_token(secret);
        let finals = FINALS.load(SeqCst);
        let requests = TOKEN_REQUESTS.load(SeqCst);
        let handle =
            unsafe { xo_track_order(id, token.as_ptr(), Some(on_event), std::ptr::null_mut()) };
        assert!(handle > 0, "{}", last_error());
        wait("the token request", || {
            TOKEN_REQUESTS.load(SeqCst) > requests
        });
        assert_eq!(
            unsafe { xo_update_token(handle, fresh_token.as_ptr()) },
            xo_result::Ok
        );
        sim.set_status(id, "done");
        wait("the final event", || FINALS.load(SeqCst) > finals);
        assert_eq!(xo_shutdown(), xo_result::Ok);
    }

    // Refused tokens: the error message describes the token, never repeats it.
    let config_ok = {
        let c = xo_config {
            struct_size: std::mem::size_of::<xo_config>() as u32,
            transport: 2,
            project_id: 1001,
            centrifugo_url: urls[0].as_ptr(),
            legacy_socket_url: urls[1].as_ptr(),
            api_base_url: urls[2].as_ptr(),
            delivery: 0,
            poll_interval_ms: 20,
            socket_reestablish_ms: 0,
            polling_deadline_ms: 0,
            overall_deadline_ms: 0,
            token_wait_ms: 0,
            request_timeout_ms: 0,
            backoff_min_ms: 0,
            backoff_max_ms: 0,
            worker_threads: 0,
            allow_insecure_loopback: 1,
            proxy_url: std::ptr::null(),
            ca_bundle_pem: std::ptr::null(),
            ca_bundle_file: std::ptr::null(),
            journal_dir: std::ptr::null(),
            restore_from_xsolla: 0,
            events_api_url: std::ptr::null(),
            restore_interval_ms: 0,
        };
        unsafe { xo_configure(&c) }
    };
    assert_eq!(config_ok, xo_result::Ok);
    let with_newline = CString::new(format!("{secret}\nmore")).unwrap();
    let too_long = CString::new(format!("{secret}{}", "x".repeat(XO_MAX_TOKEN_BYTES))).unwrap();
    let mut invalid_utf8 = secret.as_bytes().to_vec();
    invalid_utf8.extend_from_slice(b"\xff\0");
    let mut errors = Vec::new();
    for bad in [
        with_newline.as_ptr(),
        too_long.as_ptr(),
        invalid_utf8.as_ptr().cast(),
    ] {
        let h = unsafe { xo_track_order(1, bad, Some(on_event), std::ptr::null_mut()) };
        assert!(h < 0);
        errors.push(last_error());
        assert_ne!(unsafe { xo_update_token(1, bad) }, xo_result::Ok);
        errors.push(last_error());
        let h = unsafe { xo_check_order(1, bad, Some(on_event), std::ptr::null_mut()) };
        assert!(h < 0);
        errors.push(last_error());
    }
    assert_eq!(xo_shutdown(), xo_result::Ok);
    assert_eq!(
        unsafe { xo_set_log_callback(None, std::ptr::null_mut(), 4) },
        xo_result::Ok
    );
    rt.block_on(sim.shutdown());

    let lines = C_LINES.lock().unwrap().clone();
    let texts = EVENT_TEXTS.lock().unwrap().clone();
    assert!(
        lines.len() > 20,
        "the log callback saw the run: {} lines: {lines:#?}",
        lines.len()
    );
    assert!(errors.iter().all(|e| !e.is_empty()));
    for text in lines.iter().chain(&texts).chain(&errors) {
        assert!(!text.contains(secret), "the token leaks: {text}");
        assert!(!text.contains(fresh), "the new token leaks: {text}");
        assert!(!text.contains("c-abi-"), "part of a token leaks: {text}");
    }
}
