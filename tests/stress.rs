//! Concurrency and lifecycle stress, and bad input, through the C ABI (the `extern "C"` functions
//! of `xo_tracker::ffi`, called from Rust) against the simulator on a runtime of the test's own.
//!
//! The library behind the C ABI is process-global: every test of this file takes `GLOBAL` first,
//! so they never overlap. Everything runs in real time with fast timers (20 ms polls, 10-50 ms
//! backoff); waits are bounded and a watchdog aborts the process (printing the seed) if the stress
//! deadlocks. Seeds: `XO_STRESS_SEED` (default fixed), rounds: `XO_STRESS_ROUNDS`.

#[path = "common/watchdog.rs"]
mod watchdog;

use std::ffi::{c_char, c_void, CStr, CString};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicI64, AtomicU32, AtomicU64, Ordering::SeqCst};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use xo_sim::{OrderSpec, Sim, SimConfig};
use xo_tracker::ffi::*;

static GLOBAL: Mutex<()> = Mutex::new(());

/// Takes the library for one test, from a clean slate (nothing left over from the previous test).
fn global() -> MutexGuard<'static, ()> {
    let guard = GLOBAL.lock().unwrap_or_else(|e| e.into_inner());
    assert_eq!(xo_shutdown(), xo_result::Ok);
    guard
}

const OK: i32 = xo_result::Ok as i32;

fn code(r: xo_result) -> i32 {
    r as i32
}

fn last_error() -> String {
    unsafe { CStr::from_ptr(xo_last_error()) }
        .to_string_lossy()
        .into_owned()
}

// ---------------------------------------------------------------------------------------------
// Random interleavings from proptest's seeded generator (the one PRNG of the test suite),
// reproducible from a printed seed.

/// A seeded generator with the few draws the stress needs.
struct Rng(proptest::test_runner::TestRng);

impl Rng {
    fn new(seed: u64) -> Rng {
        let mut bytes = [0u8; 32];
        bytes[..8].copy_from_slice(&seed.to_le_bytes());
        Rng(proptest::test_runner::TestRng::from_seed(
            proptest::test_runner::RngAlgorithm::ChaCha,
            &bytes,
        ))
    }

    fn next(&mut self) -> u64 {
        proptest::prelude::Rng::next_u64(&mut self.0)
    }

    /// A number in `0..n` (0 when `n` is 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    /// True with the given probability in percent.
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

// ---------------------------------------------------------------------------------------------
// The simulator on its own runtime, and C configurations pointing at it.

struct SimHost {
    rt: tokio::runtime::Runtime,
    sim: Sim,
    centrifugo: CString,
    legacy: CString,
    api: CString,
}

impl SimHost {
    fn start() -> SimHost {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let sim = rt.block_on(Sim::start(SimConfig::default())).unwrap();
        SimHost {
            centrifugo: CString::new(sim.centrifugo_url()).unwrap(),
            legacy: CString::new(sim.legacy_socket_url()).unwrap(),
            api: CString::new(sim.api_base_url()).unwrap(),
            rt,
            sim,
        }
    }

    /// A fast configuration: `transport` and `delivery` as C values.
    fn config(&self, transport: i32, delivery: i32) -> xo_config {
        xo_config {
            struct_size: std::mem::size_of::<xo_config>() as u32,
            transport,
            project_id: 1001,
            centrifugo_url: self.centrifugo.as_ptr(),
            legacy_socket_url: self.legacy.as_ptr(),
            api_base_url: self.api.as_ptr(),
            delivery,
            poll_interval_ms: 5,
            socket_reestablish_ms: 0,
            polling_deadline_ms: 0,
            overall_deadline_ms: 0,
            token_wait_ms: 0,
            request_timeout_ms: 2000,
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
        }
    }

    fn stop(self) {
        assert_eq!(code(xo_shutdown()), OK);
        self.rt.block_on(self.sim.shutdown());
        drop(self.rt);
    }
}

fn configure(config: &xo_config) -> i32 {
    code(unsafe { xo_configure(config) })
}

// ---------------------------------------------------------------------------------------------
// Probes: the userdata of one tracker or check, checking the delivery promises from the callback.

/// Incremented around every operation whose order matters for the promises.
static SEQ: AtomicU64 = AtomicU64::new(1);
/// The largest start sequence of an `xo_shutdown` that has returned.
static SHUTDOWN_DONE: AtomicU64 = AtomicU64::new(0);
static VIOLATIONS: Mutex<Vec<String>> = Mutex::new(Vec::new());
static OPS: Mutex<Vec<String>> = Mutex::new(Vec::new());
static BY_HANDLE: Mutex<Vec<(i64, String, i32)>> = Mutex::new(Vec::new());
/// The library's log lines during the stress (for diagnosing a failure).
static LOG: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn violation(text: String) {
    VIOLATIONS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(text);
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Inside {
    Nothing,
    /// Cancels its own handle on the first event.
    CancelSelf,
    /// Tries xo_shutdown, xo_dispatch (both refused) on the first event.
    Refused,
    /// Cancels another tracker on the first event.
    CancelOther,
    /// Starts another tracker from inside the callback.
    TrackMore,
}

struct Probe {
    label: String,
    inside: Inside,
    handle: AtomicI64,
    order: AtomicI64,
    /// Set once `xo_cancel` of this handle returned OK.
    cancelled: AtomicBool,
    /// SEQ when `xo_track_order` returned (u64::MAX before).
    tracked_at: AtomicU64,
    events: AtomicU32,
    finals: AtomicU32,
    /// Another probe to cancel (CancelOther).
    other: Mutex<Option<&'static Probe>>,
    /// Trackers started from inside the callback (TrackMore).
    spawned: Mutex<Vec<&'static Probe>>,
    token: CString,
    /// What other threads did to this handle (for diagnosing a failure).
    history: Mutex<Vec<String>>,
}

fn probe(label: String, inside: Inside, token: &str) -> &'static Probe {
    Box::leak(Box::new(Probe {
        label,
        inside,
        handle: AtomicI64::new(0),
        order: AtomicI64::new(0),
        cancelled: AtomicBool::new(false),
        tracked_at: AtomicU64::new(u64::MAX),
        events: AtomicU32::new(0),
        finals: AtomicU32::new(0),
        other: Mutex::new(None),
        spawned: Mutex::new(Vec::new()),
        token: CString::new(token).unwrap(),
        history: Mutex::new(Vec::new()),
    }))
}

impl Probe {
    fn userdata(&'static self) -> *mut c_void {
        self as *const Probe as *mut c_void
    }

    fn track(&'static self, order_id: i64) -> i64 {
        self.order.store(order_id, SeqCst);
        let h = unsafe {
            xo_track_order(
                order_id,
                self.token.as_ptr(),
                Some(on_event),
                self.userdata(),
            )
        };
        self.started(h)
    }

    fn check(&'static self, order_id: i64) -> i64 {
        self.order.store(order_id, SeqCst);
        let h = unsafe {
            xo_check_order(
                order_id,
                self.token.as_ptr(),
                Some(on_event),
                self.userdata(),
            )
        };
        self.started(h)
    }

    fn started(&self, h: i64) -> i64 {
        if h > 0 {
            self.handle.store(h, SeqCst);
            self.tracked_at.store(SEQ.fetch_add(1, SeqCst), SeqCst);
        }
        h
    }

    /// Cancels from a host thread; records that no callback may follow.
    fn cancel(&self) -> i32 {
        let h = self.handle.load(SeqCst);
        let r = code(xo_cancel(h));
        self.history
            .lock()
            .unwrap()
            .push(format!("xo_cancel({h}) = {r}"));
        if r == OK {
            self.cancelled.store(true, SeqCst);
        } else if r != code(xo_result::UnknownHandle) {
            violation(format!(
                "{}: xo_cancel({h}) returned {r}: {}",
                self.label,
                last_error()
            ));
        }
        r
    }

    fn done(&self) -> bool {
        self.finals.load(SeqCst) > 0 || self.cancelled.load(SeqCst)
    }
}

unsafe extern "C" fn on_event(userdata: *mut c_void, e: *const xo_event) {
    let p = &*(userdata as *const Probe);
    let e = &*e;
    BY_HANDLE.lock().unwrap_or_else(|e| e.into_inner()).push((
        e.handle,
        p.label.clone(),
        e.kind as i32,
    ));
    let n = p.events.fetch_add(1, SeqCst);
    if p.cancelled.load(SeqCst) {
        violation(format!(
            "{}: callback {:?} after xo_cancel returned",
            p.label, e.kind
        ));
    }
    let tracked_at = p.tracked_at.load(SeqCst);
    if tracked_at != u64::MAX && tracked_at < SHUTDOWN_DONE.load(SeqCst) {
        violation(format!(
            "{}: callback {:?} after xo_shutdown returned",
            p.label, e.kind
        ));
    }
    if p.finals.load(SeqCst) > 0 {
        violation(format!(
            "{}: callback {:?} after the final event",
            p.label, e.kind
        ));
    }
    let known = p.handle.load(SeqCst);
    if known != 0 && known != e.handle {
        violation(format!(
            "{}: event of handle {} for {known}",
            p.label, e.handle
        ));
    }
    if e.status_raw.is_null() || e.message.is_null() {
        violation(format!("{}: NULL string in an event", p.label));
    }
    if matches!(e.kind, xo_event_kind::Final | xo_event_kind::CheckResult) {
        p.finals.fetch_add(1, SeqCst);
    }
    if n == 0 {
        match p.inside {
            Inside::Nothing => {}
            Inside::CancelSelf => {
                let r = code(xo_cancel(e.handle));
                if r == OK {
                    p.cancelled.store(true, SeqCst);
                }
                // UNKNOWN_HANDLE: its final event (this one) or another thread's cancel came first.
                if r != OK && r != code(xo_result::UnknownHandle) {
                    violation(format!("{}: xo_cancel inside returned {r}", p.label));
                }
            }
            Inside::Refused => {
                let s = code(xo_shutdown());
                let d = xo_dispatch(10);
                let d_ok = d == code(xo_result::InCallback);
                if s != code(xo_result::InCallback) || !d_ok {
                    violation(format!(
                        "{}: xo_shutdown/xo_dispatch inside a callback returned {s}/{d}",
                        p.label
                    ));
                }
            }
            Inside::CancelOther => {
                if let Some(other) = *p.other.lock().unwrap() {
                    other.cancel();
                }
            }
            Inside::TrackMore => {
                let more = probe(format!("{}/more", p.label), Inside::Nothing, "stress-inner");
                if more.track(e.order_id) > 0 {
                    p.spawned.lock().unwrap().push(more);
                }
            }
        }
    }
}

fn take_violations() -> Vec<String> {
    std::mem::take(&mut *VIOLATIONS.lock().unwrap_or_else(|e| e.into_inner()))
}

/// Aborts the process (a deadlock) if `guard` is not dropped within `limit`.
struct Watchdog(Arc<AtomicBool>);

impl Watchdog {
    fn arm(what: String, limit: Duration) -> Watchdog {
        let done = Arc::new(AtomicBool::new(false));
        let flag = done.clone();
        std::thread::spawn(move || {
            let start = Instant::now();
            while !flag.load(SeqCst) {
                if start.elapsed() > limit {
                    eprintln!("WATCHDOG: {what} still running after {limit:?}: deadlock? aborting");
                    std::process::abort();
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        Watchdog(done)
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.0.store(true, SeqCst);
    }
}

// ---------------------------------------------------------------------------------------------
// The random interleavings.

const TRANSPORTS: [i32; 3] = [0, 1, 2];
/// The delivery mode of the configuration in force (0 direct, 1 queued).
static CURRENT_DELIVERY: AtomicI32 = AtomicI32::new(0);
const DELIVERIES: [i32; 2] = [0, 1];

struct Round<'a> {
    host: &'a SimHost,
    round: u64,
    seed: u64,
    orders: Vec<i64>,
    probes: Mutex<Vec<&'static Probe>>,
    shutdown_allowed: bool,
    shutdowns: AtomicU32,
    /// Successful `xo_configure` calls during the round that replaced a queued-delivery engine.
    queued_reconfigures: AtomicU32,
    /// Successful `xo_configure` calls during the round.
    reconfigures: AtomicU32,
}

impl Round<'_> {
    fn random_probe(&self, rng: &mut Rng) -> Option<&'static Probe> {
        let probes = self.probes.lock().unwrap();
        (!probes.is_empty()).then(|| probes[rng.below(probes.len())])
    }

    fn op(&self, thread: u64, rng: &mut Rng, step: u32) {
        let label = format!(
            "seed {} round {} thread {thread} step {step}",
            self.seed, self.round
        );
        let roll = rng.below(100);
        OPS.lock().unwrap().push(format!(
            "{:?} t{thread} s{step} roll {roll} start",
            Instant::now()
        ));
        self.op_inner(&label, roll, thread, rng);
        OPS.lock().unwrap().push(format!(
            "{:?} t{thread} s{step} roll {roll} end",
            Instant::now()
        ));
    }

    fn op_inner(&self, label: &str, roll: usize, thread: u64, rng: &mut Rng) {
        let _ = thread;
        match roll {
            0..=29 => {
                let inside = match rng.below(10) {
                    0 => Inside::CancelSelf,
                    1 => Inside::Refused,
                    2 => Inside::CancelOther,
                    3 => Inside::TrackMore,
                    _ => Inside::Nothing,
                };
                let token = format!("stress-token-{}", rng.below(3));
                let p = probe(format!("{label} track"), inside, &token);
                if inside == Inside::CancelOther {
                    *p.other.lock().unwrap() = self.random_probe(rng);
                }
                let order = self.orders[rng.below(self.orders.len())];
                let h = p.track(order);
                if h > 0 {
                    self.probes.lock().unwrap().push(p);
                } else if h != code(xo_result::NotConfigured) as i64 {
                    violation(format!(
                        "{label}: xo_track_order returned {h}: {}",
                        last_error()
                    ));
                }
            }
            30..=36 => {
                let p = probe(format!("{label} check"), Inside::Nothing, "stress-check");
                let order = self.orders[rng.below(self.orders.len())];
                let h = p.check(order);
                if h > 0 {
                    self.probes.lock().unwrap().push(p);
                } else if h != code(xo_result::NotConfigured) as i64 {
                    violation(format!("{label}: xo_check_order returned {h}"));
                }
            }
            37..=56 => {
                if let Some(p) = self.random_probe(rng) {
                    p.cancel();
                }
            }
            57..=64 => {
                if let Some(p) = self.random_probe(rng) {
                    let token = CString::new(format!("stress-fresh-{}", rng.below(5))).unwrap();
                    let r = code(unsafe { xo_update_token(p.handle.load(SeqCst), token.as_ptr()) });
                    p.history
                        .lock()
                        .unwrap()
                        .push(format!("xo_update_token = {r}"));
                    if r != OK && r != code(xo_result::UnknownHandle) {
                        violation(format!("{label}: xo_update_token returned {r}"));
                    }
                }
            }
            65..=79 => {
                let n = xo_dispatch(1 + rng.below(20) as u32);
                if n < 0 {
                    violation(format!(
                        "{label}: xo_dispatch from a host thread returned {n}"
                    ));
                }
            }
            80..=82 if self.shutdown_allowed => {
                let start = SEQ.fetch_add(1, SeqCst);
                let r = code(xo_shutdown());
                if r != OK {
                    violation(format!(
                        "{label}: xo_shutdown returned {r}: {}",
                        last_error()
                    ));
                }
                SHUTDOWN_DONE.fetch_max(start, SeqCst);
                self.shutdowns.fetch_add(1, SeqCst);
            }
            83..=86 => {
                let c = self
                    .host
                    .config(TRANSPORTS[rng.below(3)], DELIVERIES[rng.below(2)]);
                let was_queued = CURRENT_DELIVERY.load(SeqCst) == 1;
                let r = configure(&c);
                if r == OK {
                    CURRENT_DELIVERY.store(c.delivery, SeqCst);
                    self.reconfigures.fetch_add(1, SeqCst);
                    if was_queued {
                        self.queued_reconfigures.fetch_add(1, SeqCst);
                    }
                } else if r != code(xo_result::Busy) {
                    violation(format!(
                        "{label}: xo_configure returned {r}: {}",
                        last_error()
                    ));
                }
            }
            87..=90 => {
                let r = if rng.chance(50) {
                    code(xo_network_changed())
                } else {
                    code(xo_set_app_active(1))
                };
                if r != OK {
                    violation(format!("{label}: lifecycle call returned {r}"));
                }
            }
            _ => {
                if rng.chance(50) {
                    std::thread::yield_now();
                } else {
                    std::thread::sleep(Duration::from_micros(rng.below(2000) as u64));
                }
            }
        }
    }
}

/// Every probe of the round and the trackers they started from inside callbacks.
fn all_probes(round: &Round) -> Vec<&'static Probe> {
    let mut all = round.probes.lock().unwrap().clone();
    let mut i = 0;
    while i < all.len() {
        let more = all[i].spawned.lock().unwrap().clone();
        all.extend(more);
        i += 1;
    }
    all
}

fn stress_seed() -> u64 {
    std::env::var("XO_STRESS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5EED_2024)
}

fn stress_rounds(default: u64) -> u64 {
    std::env::var("XO_STRESS_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

#[test]
fn random_interleavings_of_every_entry_point_from_4_threads() {
    let _watchdog = watchdog::arm();
    let _g = global();
    let seed = stress_seed();
    let rounds = stress_rounds(1000);
    let _watchdog = Watchdog::arm(
        format!("the stress (seed {seed}, {rounds} rounds)"),
        Duration::from_secs(240),
    );
    take_violations();
    let host = SimHost::start();
    let mut rng = Rng::new(seed);
    let started = Instant::now();
    let (mut trackers, mut finals, mut cancels) = (0usize, 0usize, 0usize);
    let (mut t_ops, mut t_wait, mut t_restart) = (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    assert_eq!(configure(&host.config(0, 0)), OK);
    CURRENT_DELIVERY.store(0, SeqCst);
    unsafe extern "C" fn on_log(_: *mut c_void, _level: i32, line: *const c_char) {
        let line = CStr::from_ptr(line).to_string_lossy().into_owned();
        let mut log = LOG.lock().unwrap_or_else(|e| e.into_inner());
        if log.len() > 200_000 {
            log.drain(..100_000);
        }
        log.push(line);
    }
    assert_eq!(
        code(unsafe { xo_set_log_callback(Some(on_log), std::ptr::null_mut(), 4) }),
        OK
    );
    for round in 0..rounds {
        let round_seed = rng.next();
        let mut rr = Rng::new(round_seed);
        let orders: Vec<i64> = (0..4)
            .map(|k| 1_000_000 + (round as i64) * 10 + k)
            .collect();
        for &id in &orders {
            let delay = Duration::from_millis(rr.below(6) as u64);
            let spec = match rr.below(5) {
                0 => OrderSpec::new(id).status("done").push(false),
                1 => OrderSpec::new(id)
                    .status("new")
                    .then_after(delay, "canceled"),
                2 => OrderSpec::new(id)
                    .status("new")
                    .then_after(delay, "expired"),
                3 => OrderSpec::new(id)
                    .status("new")
                    .then_after(delay, "paid")
                    .then_after(delay, "done"),
                _ => OrderSpec::new(id).status("new").then_after(delay, "done"),
            };
            host.sim.add_order(spec);
        }
        let r = Round {
            host: &host,
            round,
            seed,
            orders,
            probes: Mutex::new(Vec::new()),
            shutdown_allowed: rr.chance(30),
            shutdowns: AtomicU32::new(0),
            queued_reconfigures: AtomicU32::new(0),
            reconfigures: AtomicU32::new(0),
        };
        OPS.lock().unwrap().clear();
        BY_HANDLE.lock().unwrap().clear();
        let t0 = Instant::now();
        std::thread::scope(|s| {
            for thread in 0..4u64 {
                let mut trng =
                    Rng::new(round_seed ^ (thread + 1).wrapping_mul(0xA076_1D64_78BD_642F));
                let r = &r;
                s.spawn(move || {
                    for step in 0..8 {
                        r.op(thread, &mut trng, step);
                    }
                });
            }
        });
        // Every tracker that was neither cancelled nor shut down gets exactly one final event.
        t_ops += t0.elapsed();
        let t1 = Instant::now();
        let had_shutdown = r.shutdowns.load(SeqCst) > 0;
        // Reconfigured rounds are checked too: a configure neither drops a queued final event
        // (`configure_does_not_drop_an_undispatched_final_event`) nor orphans a tracker started
        // while it runs (`configure_racing_track_never_orphans_a_tracker`).
        let wait_until = Instant::now() + Duration::from_secs(10);
        loop {
            let pending: Vec<_> = all_probes(&r).into_iter().filter(|p| !p.done()).collect();
            if had_shutdown || pending.is_empty() {
                break;
            }
            if Instant::now() > wait_until {
                let labels: Vec<_> = pending
                    .iter()
                    .map(|p| {
                        format!(
                            "{} (inside {:?}, handle {}, order {}, {} events; sim status {:?})",
                            p.label,
                            p.inside,
                            p.handle.load(SeqCst),
                            p.order.load(SeqCst),
                            p.events.load(SeqCst),
                            host.sim.order_status(p.order.load(SeqCst)),
                        )
                    })
                    .collect();
                let lines = LOG.lock().unwrap().clone();
                for p in &pending {
                    let order = p.order.load(SeqCst).to_string();
                    for l in lines.iter().filter(|l| l.contains(&order)) {
                        eprintln!("log: {l}");
                    }
                }
                eprintln!("violations: {:#?}", take_violations());
                eprintln!("ops: {:#?}", OPS.lock().unwrap());
                for l in lines
                    .iter()
                    .filter(|l| l.contains("panick") || l.contains("listener"))
                {
                    eprintln!("log!: {l}");
                }
                for p in &pending {
                    let h = p.handle.load(SeqCst);
                    eprintln!(
                        "{h}: history {:?}; xo_cancel now = {}",
                        p.history.lock().unwrap(),
                        code(xo_cancel(h))
                    );
                    let calls: Vec<_> = BY_HANDLE
                        .lock()
                        .unwrap()
                        .iter()
                        .filter(|c| c.0 == h || c.1 == p.label)
                        .cloned()
                        .collect();
                    eprintln!("calls for {h}: {calls:?}");
                }
                panic!(
                    "seed {seed} round {round}: no final event within 10 s for {labels:#?} \
                     (delivery {}, {} reconfigures, {} of a queued engine)",
                    CURRENT_DELIVERY.load(SeqCst),
                    r.reconfigures.load(SeqCst),
                    r.queued_reconfigures.load(SeqCst)
                );
            }
            assert!(xo_dispatch(1000) >= 0);
            std::thread::sleep(Duration::from_micros(300));
        }
        let probes = all_probes(&r);
        for p in &probes {
            let f = p.finals.load(SeqCst);
            assert!(
                f <= 1,
                "seed {seed} round {round}: {} got {f} final events",
                p.label
            );
            trackers += 1;
            finals += f as usize;
            cancels += usize::from(p.cancelled.load(SeqCst));
        }
        let v = take_violations();
        assert!(v.is_empty(), "seed {seed} round {round}: {v:#?}");
        // Most rounds keep the library running; some shut it down and configure it afresh.
        t_wait += t1.elapsed();
        let t2 = Instant::now();
        let restart = had_shutdown || rr.chance(15);
        if restart {
            let start = SEQ.fetch_add(1, SeqCst);
            assert_eq!(code(xo_shutdown()), OK);
            SHUTDOWN_DONE.fetch_max(start, SeqCst);
        }
        if restart || rr.chance(10) {
            let c = host.config(TRANSPORTS[rr.below(3)], DELIVERIES[rr.below(2)]);
            let r = configure(&c);
            assert!(r == OK || r == code(xo_result::Busy), "configure: {r}");
            if r == OK {
                CURRENT_DELIVERY.store(c.delivery, SeqCst);
            }
        }
        t_restart += t2.elapsed();
    }
    // Nothing more arrives after everything was shut down.
    let start = SEQ.fetch_add(1, SeqCst);
    assert_eq!(code(xo_shutdown()), OK);
    SHUTDOWN_DONE.fetch_max(start, SeqCst);
    std::thread::sleep(Duration::from_millis(100));
    let v = take_violations();
    assert!(v.is_empty(), "seed {seed}: {v:#?}");
    eprintln!(
        "stress: seed {seed}, {rounds} interleavings (4 threads x 8 operations), {trackers} trackers/checks, \
         {finals} final events, {cancels} cancelled, in {:?} (operations {t_ops:?}, waiting for \
         final events {t_wait:?}, restarts {t_restart:?})",
        started.elapsed()
    );
    host.stop();
}

// ---------------------------------------------------------------------------------------------
// Targeted lifecycle cases.

/// Waits (bounded, dispatching queued events) until `pred` holds.
fn wait_for(what: &str, mut pred: impl FnMut() -> bool) {
    let until = Instant::now() + Duration::from_secs(10);
    while !pred() {
        assert!(Instant::now() < until, "timed out waiting for {what}");
        xo_dispatch(100);
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Queued delivery: a tracker whose final event is queued but not yet dispatched is not finished
/// for the host. Configuring again is refused (BUSY) until that event is dispatched: it is never
/// thrown away.
#[test]
fn configure_does_not_drop_an_undispatched_final_event() {
    let _watchdog = watchdog::arm();
    let _g = global();
    let host = SimHost::start();
    host.sim.add_order(OrderSpec::new(2_000_001).status("done"));
    assert_eq!(configure(&host.config(2, 1)), OK);
    let p = probe("queued final".into(), Inside::Nothing, "tok");
    assert!(p.track(2_000_001) > 0);
    let c = host.config(2, 1);
    let mut attempts = 0;
    while p.finals.load(SeqCst) == 0 {
        assert_eq!(
            configure(&c),
            code(xo_result::Busy),
            "refused while the final event waits"
        );
        assert_eq!(
            p.finals.load(SeqCst),
            0,
            "configure delivered nothing by itself"
        );
        attempts += 1;
        assert!(attempts < 5000, "the tracker never finished");
        std::thread::sleep(Duration::from_millis(2));
        if attempts > 50 {
            xo_dispatch(100); // the host pumps: the final event is delivered, not dropped
        }
    }
    assert_eq!(p.finals.load(SeqCst), 1, "the final event was delivered");
    assert_eq!(configure(&c), OK, "nothing is pending any more");
    host.stop();
}

/// `xo_configure` says BUSY while trackers run. A configure racing with `xo_track_order` must
/// either be refused (BUSY) or happen before the track, which then runs on the new engine: the
/// track must neither fail (the library is configured the whole time) nor return a handle whose
/// tracker never delivers an event.
#[test]
fn configure_racing_track_never_orphans_a_tracker() {
    let _watchdog = watchdog::arm();
    let _g = global();
    let host = SimHost::start();
    host.sim.add_order(OrderSpec::new(2_000_010).status("done"));
    assert_eq!(configure(&host.config(2, 0)), OK);
    let stop = AtomicBool::new(false);
    let reconfigured = AtomicU32::new(0);
    let results: Mutex<Vec<(String, i64, u32)>> = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        let trackers: Vec<_> = (0..1)
            .map(|t| {
                let results = &results;
                s.spawn(move || {
                    for i in 0..1000 {
                        let p = probe(format!("race {t}/{i}"), Inside::Nothing, "tok");
                        let h = p.track(2_000_010);
                        // Wait (bounded) for its final event before the next one, so that the
                        // library is often idle and configure often succeeds.
                        let until = Instant::now() + Duration::from_millis(500);
                        while h > 0 && p.finals.load(SeqCst) == 0 && Instant::now() < until {
                            std::thread::yield_now();
                        }
                        results
                            .lock()
                            .unwrap()
                            .push((p.label.clone(), h, p.finals.load(SeqCst)));
                    }
                })
            })
            .collect();
        s.spawn(|| {
            let c = host.config(2, 0);
            while !stop.load(SeqCst) {
                if configure(&c) == OK {
                    reconfigured.fetch_add(1, SeqCst);
                }
                std::thread::yield_now();
            }
        });
        for t in trackers {
            t.join().unwrap();
        }
        stop.store(true, SeqCst);
    });
    let results = results.into_inner().unwrap();
    let refused: Vec<_> = results.iter().filter(|r| r.1 <= 0).collect();
    let orphans: Vec<_> = results.iter().filter(|r| r.1 > 0 && r.2 == 0).collect();
    eprintln!(
        "{} configures succeeded during {} tracks",
        reconfigured.load(SeqCst),
        results.len()
    );
    assert!(
        orphans.is_empty() && refused.is_empty(),
        "{} configures succeeded during {} tracks: {} tracks refused (first: {:?}), {} handles \
         never got an event (first: {:?})",
        reconfigured.load(SeqCst),
        results.len(),
        refused.len(),
        &refused[..refused.len().min(3)],
        orphans.len(),
        &orphans[..orphans.len().min(3)],
    );
    host.stop();
}

/// `xo_dispatch` is refused inside callbacks (XO_RESULT_IN_CALLBACK), also while another thread
/// is shutting the library down.
#[test]
fn dispatch_inside_a_callback_is_refused_during_shutdown() {
    let _watchdog = watchdog::arm();
    let _g = global();
    let host = SimHost::start();
    host.sim.add_order(OrderSpec::new(2_000_020).status("done"));
    assert_eq!(configure(&host.config(2, 0)), OK);
    static ENTERED: AtomicBool = AtomicBool::new(false);
    static DISPATCH: AtomicI64 = AtomicI64::new(1);
    unsafe extern "C" fn inside(_: *mut c_void, e: *const xo_event) {
        if !matches!((*e).kind, xo_event_kind::Final) {
            return;
        }
        ENTERED.store(true, SeqCst);
        // Wait (bounded) until the shutdown on the main thread has cleared the configuration.
        let token = CString::new("tok").unwrap();
        let until = Instant::now() + Duration::from_secs(5);
        while Instant::now() < until {
            let h = xo_check_order(1, token.as_ptr(), Some(inside), std::ptr::null_mut());
            if h == xo_result::NotConfigured as i64 {
                break;
            }
            if h > 0 {
                xo_cancel(h);
            }
            std::thread::yield_now();
        }
        DISPATCH.store(xo_dispatch(10) as i64, SeqCst);
    }
    let token = cstr("tok");
    let h = unsafe {
        xo_track_order(
            2_000_020,
            token.as_ptr(),
            Some(inside),
            std::ptr::null_mut(),
        )
    };
    assert!(h > 0);
    wait_for("the callback", || ENTERED.load(SeqCst));
    assert_eq!(code(xo_shutdown()), OK);
    assert_eq!(DISPATCH.load(SeqCst), xo_result::InCallback as i64);
    host.stop();
}

/// `xo_configure` from inside a (queued) callback: either refused with nothing changed, or
/// applied completely. It must not both fail and change the configuration.
#[test]
fn configure_inside_a_callback_is_all_or_nothing() {
    let _watchdog = watchdog::arm();
    let _g = global();
    let host = SimHost::start();
    host.sim.add_order(OrderSpec::new(2_000_002).status("done"));
    assert_eq!(configure(&host.config(2, 1)), OK);

    struct SendConfig(xo_config);
    // SAFETY: the pointers in it point to CStrings of `host`, alive for the whole test.
    unsafe impl Send for SendConfig {}
    static RESULT: AtomicI64 = AtomicI64::new(1);
    static CONFIG: Mutex<Option<SendConfig>> = Mutex::new(None);
    unsafe extern "C" fn reconfigure(_: *mut c_void, e: *const xo_event) {
        if matches!((*e).kind, xo_event_kind::Final) {
            let c = CONFIG.lock().unwrap().as_ref().unwrap().0;
            RESULT.store(xo_configure(&c) as i64, SeqCst);
        }
    }
    // A distinguishable configuration: polling only -> Centrifugo, queued -> direct.
    *CONFIG.lock().unwrap() = Some(SendConfig(host.config(0, 0)));
    let token = CString::new("tok").unwrap();
    let h = unsafe {
        xo_track_order(
            2_000_002,
            token.as_ptr(),
            Some(reconfigure),
            std::ptr::null_mut(),
        )
    };
    assert!(h > 0);
    wait_for("the final event", || RESULT.load(SeqCst) != 1);
    let r = RESULT.load(SeqCst) as i32;
    // Observe which configuration is in force: in queued delivery nothing runs without dispatch.
    host.sim.add_order(OrderSpec::new(2_000_003).status("done"));
    let p = probe("after".into(), Inside::Nothing, "tok");
    let h = p.track(2_000_003);
    assert!(h > 0, "{h}");
    std::thread::sleep(Duration::from_millis(300));
    let direct = p.events.load(SeqCst) > 0;
    if r == OK {
        assert!(
            direct,
            "configure said OK: the new (direct) configuration is in force"
        );
    } else {
        assert!(
            !direct,
            "configure failed with {r} yet the new configuration is in force"
        );
    }
    *CONFIG.lock().unwrap() = None;
    host.stop();
}

/// Shutdown and cancel from inside callbacks, in both delivery modes.
#[test]
fn cancel_and_shutdown_inside_callbacks_in_both_delivery_modes() {
    let _watchdog = watchdog::arm();
    let _g = global();
    take_violations();
    let host = SimHost::start();
    for (i, delivery) in DELIVERIES.into_iter().enumerate() {
        let base = 2_100_000 + (i as i64) * 10;
        host.sim.add_order(
            OrderSpec::new(base)
                .status("new")
                .then_after(Duration::from_millis(50), "done"),
        );
        host.sim.add_order(OrderSpec::new(base + 1).status("done"));
        assert_eq!(configure(&host.config(0, delivery)), OK);
        let cancel_self = probe(format!("cancel-self/{delivery}"), Inside::CancelSelf, "tok");
        let refused = probe(format!("refused/{delivery}"), Inside::Refused, "tok");
        assert!(cancel_self.track(base) > 0);
        assert!(refused.track(base + 1) > 0);
        wait_for("the first events", || {
            cancel_self.events.load(SeqCst) > 0 && refused.finals.load(SeqCst) > 0
        });
        std::thread::sleep(Duration::from_millis(200));
        xo_dispatch(100);
        assert_eq!(
            cancel_self.events.load(SeqCst),
            1,
            "nothing after the cancel inside"
        );
        assert!(cancel_self.cancelled.load(SeqCst));
        assert_eq!(refused.finals.load(SeqCst), 1);
        assert_eq!(code(xo_shutdown()), OK);
    }
    let v = take_violations();
    assert!(v.is_empty(), "{v:#?}");
    host.stop();
}

// ---------------------------------------------------------------------------------------------
// Bad input through every C entry point.

fn cstr(s: &str) -> CString {
    CString::new(s).unwrap()
}

/// Every call that needs a running library, before configuration or after shutdown.
fn assert_every_entry_point_refuses_politely(when: &str, stale_handle: i64) {
    let token = cstr("tok");
    let p = probe(when.to_owned(), Inside::Nothing, "tok");
    let nc = code(xo_result::NotConfigured) as i64;
    let unknown = code(xo_result::UnknownHandle);
    let h = unsafe { xo_track_order(5, token.as_ptr(), Some(on_event), p.userdata()) };
    assert_eq!(h, nc, "{when}: xo_track_order");
    assert!(
        last_error().contains("xo_configure"),
        "{when}: {}",
        last_error()
    );
    let h = unsafe { xo_check_order(5, token.as_ptr(), Some(on_event), p.userdata()) };
    assert_eq!(h, nc, "{when}: xo_check_order");
    for handle in [1, stale_handle, 0x7fff_ffff, i64::MAX] {
        assert_eq!(
            code(xo_cancel(handle)),
            unknown,
            "{when}: xo_cancel({handle})"
        );
        assert!(!last_error().is_empty());
        assert_eq!(
            code(unsafe { xo_update_token(handle, token.as_ptr()) }),
            unknown,
            "{when}: xo_update_token({handle})"
        );
    }
    assert_eq!(xo_dispatch(10), 0, "{when}: xo_dispatch");
    assert_eq!(xo_dispatch(u32::MAX), 0, "{when}: xo_dispatch(max)");
    assert_eq!(code(xo_set_app_active(1)), OK, "{when}: xo_set_app_active");
    assert_eq!(code(xo_network_changed()), OK, "{when}: xo_network_changed");
    assert_eq!(code(xo_shutdown()), OK, "{when}: xo_shutdown is idempotent");
    assert_eq!(
        code(unsafe { xo_set_log_callback(None, std::ptr::null_mut(), 4) }),
        OK,
        "{when}: xo_set_log_callback"
    );
    assert_eq!(p.events.load(SeqCst), 0);
}

#[test]
fn bad_input_at_every_entry_point_is_refused_and_the_live_tracker_is_unharmed() {
    let _watchdog = watchdog::arm();
    let _g = global();
    take_violations();
    let host = SimHost::start();
    assert_eq!(code(xo_shutdown()), OK);

    // Static entry points.
    assert_eq!(xo_abi_version(), XO_ABI_VERSION);
    assert!(!unsafe { CStr::from_ptr(xo_version()) }
        .to_bytes()
        .is_empty());
    for c in [
        0, -1, -2, -3, -4, -5, -6, -7, -8, -9, -20, -21, -22, -23, -24, -25, -26, -27,
    ] {
        let text = unsafe { CStr::from_ptr(xo_result_string(c)) }
            .to_str()
            .unwrap();
        assert_ne!(text, "unknown result code", "{c}");
    }
    for c in [1, -10, -28, i32::MIN, i32::MAX] {
        let text = unsafe { CStr::from_ptr(xo_result_string(c)) }
            .to_str()
            .unwrap();
        assert_eq!(text, "unknown result code", "{c}");
    }

    // Before any configuration.
    assert_every_entry_point_refuses_politely("before configure", 42);

    // Configuration errors, each with a message.
    let invalid = code(xo_result::InvalidArgument);
    assert_eq!(
        code(unsafe { xo_configure(std::ptr::null()) }),
        code(xo_result::NullArgument)
    );
    assert!(last_error().contains("NULL"));
    let good = host.config(0, 0);
    let bad_utf8: &[u8] = b"ws://127.0.0.1:1/\xff\xfe\0";
    let long_url = cstr(&format!("ws://127.0.0.1:1/{}", "a".repeat(2100)));
    let with_query = cstr("ws://127.0.0.1:1/x?a=b");
    let remote_plain = cstr("ws://example.com/connection/websocket");
    let ftp = cstr("ftp://127.0.0.1/");
    let not_url = cstr("not a url");
    type Edit = Box<dyn Fn(&mut xo_config)>;
    let cases: Vec<(&str, Edit, i32)> = vec![
        ("struct_size 0", Box::new(|c| c.struct_size = 0), invalid),
        ("struct_size 4", Box::new(|c| c.struct_size = 4), invalid),
        ("project 0", Box::new(|c| c.project_id = 0), invalid),
        ("project -1", Box::new(|c| c.project_id = -1), invalid),
        (
            "project min",
            Box::new(|c| c.project_id = i64::MIN),
            invalid,
        ),
        ("transport 3", Box::new(|c| c.transport = 3), invalid),
        ("transport -1", Box::new(|c| c.transport = -1), invalid),
        ("delivery 2", Box::new(|c| c.delivery = 2), invalid),
        ("delivery -1", Box::new(|c| c.delivery = i32::MIN), invalid),
        (
            "invalid UTF-8 URL",
            Box::new(move |c| c.centrifugo_url = bad_utf8.as_ptr().cast()),
            code(xo_result::InvalidUtf8),
        ),
        (
            "URL over 2048 bytes",
            Box::new({
                let p = long_url.as_ptr() as usize;
                move |c| c.api_base_url = p as *const c_char
            }),
            invalid,
        ),
        (
            "URL with a query",
            Box::new({
                let p = with_query.as_ptr() as usize;
                move |c| c.legacy_socket_url = p as *const c_char
            }),
            invalid,
        ),
        (
            "plain text to a remote host",
            Box::new({
                let p = remote_plain.as_ptr() as usize;
                move |c| c.centrifugo_url = p as *const c_char
            }),
            invalid,
        ),
        (
            "ftp URL",
            Box::new({
                let p = ftp.as_ptr() as usize;
                move |c| c.api_base_url = p as *const c_char
            }),
            invalid,
        ),
        (
            "not a URL",
            Box::new({
                let p = not_url.as_ptr() as usize;
                move |c| c.api_base_url = p as *const c_char
            }),
            invalid,
        ),
        (
            "plain text without the flag",
            Box::new(|c| c.allow_insecure_loopback = 0),
            invalid,
        ),
        (
            "backoff max < min",
            Box::new(|c| {
                c.backoff_min_ms = 100;
                c.backoff_max_ms = 50;
            }),
            invalid,
        ),
        (
            "17 worker threads",
            Box::new(|c| c.worker_threads = 17),
            invalid,
        ),
        (
            "u32::MAX worker threads",
            Box::new(|c| c.worker_threads = u32::MAX),
            invalid,
        ),
    ];
    for (what, edit, expected) in &cases {
        let mut c = good;
        edit(&mut c);
        assert_eq!(configure(&c), *expected, "{what}");
        assert!(!last_error().is_empty(), "{what}: a message");
        assert_eq!(
            code(xo_shutdown()),
            OK,
            "{what}: a refused configuration leaves nothing half-configured"
        );
    }
    // A larger struct_size (a newer header) is accepted: unknown fields are ignored.
    let mut bigger = good;
    bigger.struct_size = 4096;
    // SAFETY of the call: struct_size says 4096 but the library copies only the fields it knows.
    assert_eq!(configure(&bigger), OK);
    assert_eq!(code(xo_shutdown()), OK);

    // A live tracker of another order that must be unharmed by everything below.
    host.sim.add_order(
        OrderSpec::new(3_000_001)
            .status("new")
            .then_after(Duration::from_millis(600), "done"),
    );
    assert_eq!(configure(&good), OK);
    let live = probe("live".into(), Inside::Nothing, "live-token");
    let live_handle = live.track(3_000_001);
    assert!(live_handle > 0);
    wait_for("the live tracker's first event", || {
        live.events.load(SeqCst) > 0
    });

    let p = probe("bad".into(), Inside::Nothing, "tok");
    let track = |order: i64, token: *const c_char| unsafe {
        xo_track_order(order, token, Some(on_event), p.userdata())
    };
    let check = |order: i64, token: *const c_char| unsafe {
        xo_check_order(order, token, Some(on_event), p.userdata())
    };
    let token = cstr("tok");
    let empty = cstr("");
    let control = cstr("to\nk");
    let huge = cstr(&"a".repeat(1024 * 1024));
    let max_len = cstr(&"a".repeat(XO_MAX_TOKEN_BYTES));
    let too_long = cstr(&"a".repeat(XO_MAX_TOKEN_BYTES + 1));
    let bad_utf8 = c"\xc3\x28tok".as_ptr();
    let null = code(xo_result::NullArgument) as i64;
    let inv = invalid as i64;
    for start in [&track as &dyn Fn(i64, *const c_char) -> i64, &check] {
        assert_eq!(start(7, std::ptr::null()), null);
        assert_eq!(start(7, empty.as_ptr()), inv);
        assert_eq!(start(7, control.as_ptr()), inv);
        assert_eq!(start(7, huge.as_ptr()), inv);
        assert!(last_error().contains("longer than"), "{}", last_error());
        assert_eq!(start(7, too_long.as_ptr()), inv);
        assert_eq!(start(7, bad_utf8), code(xo_result::InvalidUtf8) as i64);
        for order in [0, -1, i64::MIN] {
            assert_eq!(start(order, token.as_ptr()), inv, "order {order}");
            assert!(last_error().contains("order_id"), "{}", last_error());
        }
    }
    assert_eq!(
        unsafe { xo_track_order(7, token.as_ptr(), None, std::ptr::null_mut()) },
        null
    );
    assert_eq!(
        unsafe { xo_check_order(7, token.as_ptr(), None, std::ptr::null_mut()) },
        null
    );
    assert_eq!(p.events.load(SeqCst), 0, "no callback for a refused call");

    // The largest order id and the longest token are valid: an unknown order ends as not found.
    let max = probe(
        "max order".into(),
        Inside::Nothing,
        &"a".repeat(XO_MAX_TOKEN_BYTES),
    );
    let max_handle = max.check(i64::MAX);
    assert!(max_handle > 0, "{}", last_error());
    let _ = max_len;

    // Handles that never existed or look like pointers.
    let unknown = code(xo_result::UnknownHandle);
    for handle in [
        0,
        -1,
        i64::MIN,
        0x7fff_ffff,
        i64::MAX,
        live_handle + 1_000_000,
    ] {
        assert_eq!(code(xo_cancel(handle)), unknown, "xo_cancel({handle})");
        assert!(last_error().contains("unknown handle"), "{}", last_error());
        assert_eq!(
            code(unsafe { xo_update_token(handle, token.as_ptr()) }),
            unknown,
            "xo_update_token({handle})"
        );
    }
    // Bad tokens for a live handle are refused and leave it alone.
    assert_eq!(
        code(unsafe { xo_update_token(live_handle, std::ptr::null()) }),
        code(xo_result::NullArgument)
    );
    for bad in [
        empty.as_ptr(),
        control.as_ptr(),
        huge.as_ptr(),
        too_long.as_ptr(),
    ] {
        assert_eq!(code(unsafe { xo_update_token(live_handle, bad) }), invalid);
    }
    assert_eq!(
        code(unsafe { xo_update_token(live_handle, bad_utf8) }),
        code(xo_result::InvalidUtf8)
    );
    // Log levels out of range.
    for level in [0, 5, -1, i32::MIN, i32::MAX] {
        assert_eq!(
            code(unsafe { xo_set_log_callback(None, std::ptr::null_mut(), level) }),
            invalid,
            "level {level}"
        );
    }
    // Reconfiguring while the live tracker runs.
    assert_eq!(configure(&good), code(xo_result::Busy));
    assert!(last_error().contains("busy"), "{}", last_error());
    // Dispatch in direct delivery delivers nothing.
    assert_eq!(xo_dispatch(0), 0);
    assert_eq!(xo_dispatch(u32::MAX), 0);
    // The last error is per thread.
    let before = last_error();
    std::thread::spawn(|| {
        assert_eq!(code(xo_cancel(-7)), code(xo_result::UnknownHandle));
        assert!(last_error().contains("-7"));
    })
    .join()
    .unwrap();
    assert_eq!(
        last_error(),
        before,
        "another thread's error does not replace this one"
    );

    // The live tracker finished normally, exactly once, with contents.
    wait_for("the live tracker's final event", || {
        live.finals.load(SeqCst) > 0
    });
    assert_eq!(live.finals.load(SeqCst), 1);
    wait_for("the max order's check", || max.finals.load(SeqCst) > 0);
    assert_eq!(max.finals.load(SeqCst), 1);

    // After shutdown, every entry point again; handles of the previous run stay unknown.
    assert_eq!(code(xo_shutdown()), OK);
    assert_every_entry_point_refuses_politely("after shutdown", live_handle);
    assert_eq!(configure(&good), OK);
    assert_eq!(
        code(xo_cancel(live_handle)),
        unknown,
        "a handle of the previous run is unknown to the new one"
    );
    assert_eq!(code(xo_shutdown()), OK);
    let v = take_violations();
    assert!(v.is_empty(), "{v:#?}");
    host.stop();
}
