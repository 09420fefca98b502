//! A game-like host of the C ABI: configures the library and counts the events it receives.
//!
//! Everything goes through `xo_tracker::ffi` (the `extern "C"` functions a game calls), so the
//! measurements include the C event conversion and the library's own runtime.

use std::ffi::{c_void, CStr, CString};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use xo_tracker::ffi::{
    self, xo_config, xo_event, xo_event_kind, xo_outcome, xo_result, xo_transport_state,
};

use crate::measure::now_ns;

pub const PROJECT: i64 = 1001;
pub const TOKEN: &str = "bench-jwt-0123456789";

pub const TRANSPORT_CENTRIFUGO: i32 = 0;
pub const TRANSPORT_LEGACY: i32 = 1;
pub const TRANSPORT_POLLING: i32 = 2;
pub const DELIVERY_DIRECT: i32 = 0;
pub const DELIVERY_QUEUED: i32 = 1;

/// What to configure.
#[derive(Clone, Debug)]
pub struct Setup {
    pub transport: i32,
    pub delivery: i32,
    pub poll_interval_ms: u32,
    pub worker_threads: u32,
    pub centrifugo_url: String,
    pub legacy_url: String,
    pub api_url: String,
}

impl Setup {
    /// Defaults of the C ABI (Centrifugo, direct, 1 worker, 3 s polling) against `addr`.
    pub fn new(addr: &str) -> Setup {
        Setup {
            transport: TRANSPORT_CENTRIFUGO,
            delivery: DELIVERY_DIRECT,
            poll_interval_ms: 0,
            worker_threads: 0,
            centrifugo_url: format!("ws://{addr}/connection/websocket"),
            legacy_url: format!("ws://{addr}/sub/order/status"),
            api_url: format!("http://{addr}/api"),
        }
    }
}

/// The calling thread's `xo_last_error`.
pub fn last_error() -> String {
    // SAFETY: the library returns a valid NUL-terminated string.
    unsafe { CStr::from_ptr(ffi::xo_last_error()) }
        .to_string_lossy()
        .into_owned()
}

/// Calls `f` with an `xo_config` for `setup` (its strings live during the call).
pub fn with_config<R>(setup: &Setup, f: impl FnOnce(&xo_config) -> R) -> Result<R, String> {
    let centrifugo = CString::new(setup.centrifugo_url.as_str()).map_err(|e| e.to_string())?;
    let legacy = CString::new(setup.legacy_url.as_str()).map_err(|e| e.to_string())?;
    let api = CString::new(setup.api_url.as_str()).map_err(|e| e.to_string())?;
    // SAFETY: zero is valid for every field of xo_config (integers and NULL pointers).
    let mut config: xo_config = unsafe { std::mem::zeroed() };
    config.struct_size = std::mem::size_of::<xo_config>() as u32;
    config.project_id = PROJECT;
    config.transport = setup.transport;
    config.delivery = setup.delivery;
    config.centrifugo_url = centrifugo.as_ptr();
    config.legacy_socket_url = legacy.as_ptr();
    config.api_base_url = api.as_ptr();
    config.poll_interval_ms = setup.poll_interval_ms;
    config.worker_threads = setup.worker_threads;
    config.allow_insecure_loopback = 1;
    Ok(f(&config))
}

/// `xo_configure` with `setup`.
pub fn configure(setup: &Setup) -> Result<(), String> {
    // SAFETY: the struct and its strings outlive the call (the library copies them).
    match with_config(setup, |config| unsafe { ffi::xo_configure(config) })? {
        xo_result::Ok => Ok(()),
        other => Err(format!("xo_configure: {other:?}: {}", last_error())),
    }
}

/// `xo_shutdown`.
pub fn shutdown() -> Result<(), String> {
    match ffi::xo_shutdown() {
        xo_result::Ok => Ok(()),
        other => Err(format!("xo_shutdown: {other:?}: {}", last_error())),
    }
}

/// `xo_dispatch(max)`.
pub fn dispatch(max: u32) -> i32 {
    ffi::xo_dispatch(max)
}

/// Counts every event of the trackers that share it.
#[derive(Default)]
pub struct Host {
    pub status: AtomicU64,
    pub connected: AtomicU64,
    pub polling: AtomicU64,
    pub finals: AtomicU64,
    pub done: AtomicU64,
    pub other: AtomicU64,
    /// `now_ns()` of the last status event.
    pub last_status_ns: AtomicU64,
    /// Wakes a waiting thread on each status event (off unless `notify` is set).
    pub notify: bool,
    lock: Mutex<()>,
    wake: Condvar,
}

impl Host {
    /// A host; `notify` wakes `wait_status_beyond` on each status.
    pub fn new(notify: bool) -> Host {
        Host {
            notify,
            ..Host::default()
        }
    }

    /// A host that lives for the rest of the process (trackers may call it until shutdown).
    pub fn leak(notify: bool) -> &'static Host {
        Box::leak(Box::new(Host::new(notify)))
    }

    /// Records the arrival of a status (from the library's callback or the baseline client).
    pub fn record_status(&self) {
        self.last_status_ns.store(now_ns(), Ordering::SeqCst);
        self.status.fetch_add(1, Ordering::SeqCst);
        if self.notify {
            let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
            self.wake.notify_one();
        }
    }

    pub fn statuses(&self) -> u64 {
        self.status.load(Ordering::SeqCst)
    }

    /// Blocks until more than `seen` statuses arrived; false on timeout.
    pub fn wait_status_beyond(&self, seen: u64, limit: Duration) -> bool {
        let mut guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        let deadline = std::time::Instant::now() + limit;
        while self.statuses() <= seen {
            let now = std::time::Instant::now();
            if now >= deadline {
                return false;
            }
            guard = self
                .wake
                .wait_timeout(guard, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        true
    }

    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::SeqCst)
    }

    /// `xo_track_order(order_id, TOKEN, on_event, self)`.
    pub fn track(&'static self, order_id: i64) -> Result<i64, String> {
        let token = CString::new(TOKEN).expect("no NUL");
        let userdata = self as *const Host as *mut c_void;
        // SAFETY: the token is NUL-terminated; `self` lives forever and `on_event` is thread-safe.
        let handle =
            unsafe { ffi::xo_track_order(order_id, token.as_ptr(), Some(on_event), userdata) };
        if handle > 0 {
            Ok(handle)
        } else {
            Err(format!("xo_track_order: {handle}: {}", last_error()))
        }
    }
}

/// The event callback every tracker of the benchmarks uses; `userdata` must be a `&'static Host`.
///
/// # Safety
/// `userdata` is a leaked `Host` and `event` is valid for the call.
pub unsafe extern "C" fn on_event(userdata: *mut c_void, event: *const xo_event) {
    // SAFETY: userdata is a leaked `Host`; the event is valid during the call.
    let (host, event) = unsafe { (&*(userdata as *const Host), &*event) };
    match event.kind {
        xo_event_kind::StatusChanged => host.record_status(),
        xo_event_kind::TransportChanged => match event.transport_state {
            xo_transport_state::Polling => {
                host.polling.fetch_add(1, Ordering::SeqCst);
            }
            _ => {
                host.connected.fetch_add(1, Ordering::SeqCst);
            }
        },
        xo_event_kind::Final => {
            if event.outcome == xo_outcome::Done {
                host.done.fetch_add(1, Ordering::SeqCst);
            }
            host.finals.fetch_add(1, Ordering::SeqCst);
        }
        _ => {
            host.other.fetch_add(1, Ordering::SeqCst);
        }
    }
}
