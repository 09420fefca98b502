//! Push-to-callback latency: the simulator pushes a status, and we time until the host callback
//! runs (direct and queued delivery), next to a bare tokio-tungstenite client that reads the same
//! pushes from the same simulator (the floor: socket + WebSocket decoding, nothing else).
//!
//! The simulator runs in this process on its own one-thread runtime, so a push is one function
//! call (`Sim::set_status`) stamped just before it. One push at a time: the next push starts
//! after the previous one arrived and a short gap (so threads are parked, as in a game, rather
//! than spinning hot). Rounds interleave the three clients so that drift of the machine affects
//! them alike, and only one client is connected at a time.

use std::ffi::{c_char, c_void, CStr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;
use xo_sim::{OrderSpec, Sim, SimConfig};

use crate::host::{self, Host, Setup, DELIVERY_DIRECT, DELIVERY_QUEUED, TOKEN};
use crate::measure::{fmt_ns, now_ns, summarize, thread_cpu, wait_for};
use crate::{note, row, Mode, Verdict};

const ORDER: i64 = 1;
const BENCH: &str = "latency";
/// Pause between pushes.
const GAP: Duration = Duration::from_micros(300);
/// A push that has not arrived after this long fails the benchmark.
const PUSH_LIMIT: Duration = Duration::from_secs(5);

/// Alternates two non-final statuses, so every push is a status change for the tracker.
struct Statuses(bool);

impl Statuses {
    fn next(&mut self) -> &'static str {
        self.0 = !self.0;
        if self.0 {
            "paid"
        } else {
            "processing"
        }
    }
}

pub fn run(mode: Mode) -> Result<(), String> {
    let (rounds, per_round, warmup) = if mode.quick() {
        (1, 300, 30)
    } else {
        (20, 500, 50)
    };
    // Short rounds, so that a burst of other work on the machine hits every client alike.
    let (busy_rounds, busy_per_round) = if mode.quick() { (1, 150) } else { (10, 500) };
    let sim_runtime = runtime("sim")?;
    let sim = Arc::new(
        sim_runtime
            .block_on(Sim::start(SimConfig::default()))
            .map_err(|e| format!("simulator: {e}"))?,
    );
    sim.add_order(OrderSpec::new(ORDER));
    let client_runtime = runtime("baseline")?;
    let mut statuses = Statuses(false);
    let mut baseline = Vec::new();
    let mut direct = Vec::new();
    let mut queued = Vec::new();
    // With the log probe: when the event is ready (just before it is queued for delivery).
    let mut direct_probed = Vec::new();
    let mut queued_probed = Vec::new();
    for _ in 0..rounds {
        baseline.extend(baseline_phase(
            &sim,
            &client_runtime,
            &mut statuses,
            per_round,
            warmup,
        )?);
        for (delivery, probe, out) in [
            (DELIVERY_DIRECT, false, &mut direct),
            (DELIVERY_QUEUED, false, &mut queued),
            (DELIVERY_DIRECT, true, &mut direct_probed),
            (DELIVERY_QUEUED, true, &mut queued_probed),
        ] {
            out.extend(library_phase(
                &sim,
                delivery,
                probe,
                false,
                &mut statuses,
                per_round,
                warmup,
            )?);
        }
    }
    // CPU time of the thread that reads the socket (and, in direct mode, runs the callback).
    let baseline_cpu = Duration::from_nanos(BASELINE_CPU.load(Ordering::SeqCst));
    let direct_cpu = Duration::from_nanos(DIRECT_CPU.load(Ordering::SeqCst));
    let pushes = (rounds * (per_round + warmup)) as f64;
    let dispatch_ns = DISPATCH_NS.load(Ordering::SeqCst);
    let dispatched = DISPATCHED.load(Ordering::SeqCst);

    // The busy host: every core runs a CPU-bound thread at normal priority during the pushes.
    let burners = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut busy_baseline = Vec::new();
    let mut busy_direct = Vec::new();
    let mut busy_queued = Vec::new();
    let mut busy_direct_probed = Vec::new();
    let mut busy_queued_probed = Vec::new();
    for _ in 0..busy_rounds {
        let load = Load::start(burners);
        busy_baseline.extend(baseline_phase(
            &sim,
            &client_runtime,
            &mut statuses,
            busy_per_round,
            warmup,
        )?);
        for (delivery, probe, out) in [
            (DELIVERY_DIRECT, false, &mut busy_direct),
            (DELIVERY_QUEUED, false, &mut busy_queued),
            (DELIVERY_DIRECT, true, &mut busy_direct_probed),
            (DELIVERY_QUEUED, true, &mut busy_queued_probed),
        ] {
            out.extend(library_phase(
                &sim,
                delivery,
                probe,
                true,
                &mut statuses,
                busy_per_round,
                warmup,
            )?);
        }
        drop(load);
    }

    let base = summarize(&mut baseline);
    let direct = summarize(&mut totals(&direct));
    let queued = summarize(&mut totals(&queued));
    let ratio = |p50: u64| p50 as f64 / base.p50.max(1) as f64;
    row(
        BENCH,
        &format!(
            "baseline: bare tokio-tungstenite client, p50 / p99 ({} pushes)",
            base.count
        ),
        &format!("{} / {}", fmt_ns(base.p50), fmt_ns(base.p99)),
        "",
        Verdict::Info,
    );
    for (name, s) in [("direct", direct), ("queued", queued)] {
        row(
            BENCH,
            &format!(
                "{name} delivery: push → callback, p50 / p99 ({} pushes)",
                s.count
            ),
            &format!("{} / {}", fmt_ns(s.p50), fmt_ns(s.p99)),
            "",
            Verdict::Info,
        );
        row(
            BENCH,
            &format!("{name} delivery: p50 ratio to baseline (p99 ratio)"),
            &format!(
                "{:.2}× ({:.2}×)",
                ratio(s.p50),
                s.p99 as f64 / base.p99.max(1) as f64
            ),
            "p50 ≤ 1.2×",
            Verdict::of(ratio(s.p50) <= 1.2),
        );
    }
    row(
        BENCH,
        "direct delivery: library overhead over the baseline at p50",
        &fmt_ns(direct.p50.saturating_sub(base.p50)),
        "",
        Verdict::Info,
    );
    // The split, from the probed phases: push → event ready (the library) and ready → callback
    // (direct: the hop to the callback thread; queued: until the host's next xo_dispatch).
    let q_ready = summarize(&mut readies(&queued_probed));
    let q_host = summarize(&mut hops(&queued_probed));
    let d_ready = summarize(&mut readies(&direct_probed));
    let d_hop = summarize(&mut hops(&direct_probed));
    let (r50, r99) = (
        q_ready.p50 as f64 / base.p50.max(1) as f64,
        q_ready.p99 as f64 / base.p99.max(1) as f64,
    );
    row(
        BENCH,
        &format!(
            "queued delivery, the library's part: push → event ready for xo_dispatch, p50 / p99 ({} pushes)",
            q_ready.count
        ),
        &format!("{} / {}", fmt_ns(q_ready.p50), fmt_ns(q_ready.p99)),
        "",
        Verdict::Info,
    );
    row(
        BENCH,
        "queued delivery, the library's part: ratio to baseline, p50 / p99",
        &format!("{r50:.2}× / {r99:.2}×"),
        "≤ 1.1× at p50 and p99",
        Verdict::of(r50 <= 1.1 && r99 <= 1.1),
    );
    row(
        BENCH,
        "queued delivery, the host's part: event ready → callback in xo_dispatch (host polling in a yield loop), p50 / p99",
        &format!("{} / {}", fmt_ns(q_host.p50), fmt_ns(q_host.p99)),
        "",
        Verdict::Info,
    );
    row(
        BENCH,
        "xo_dispatch on the host thread per delivered event (incl. the host's callback)",
        &fmt_ns(dispatch_ns / dispatched.max(1)),
        "",
        Verdict::Info,
    );
    row(
        BENCH,
        "direct delivery: push → event ready, p50 / p99; the hop to xo-callbacks (ready → callback), p50 / p99",
        &format!(
            "{} / {}; {} / {}",
            fmt_ns(d_ready.p50),
            fmt_ns(d_ready.p99),
            fmt_ns(d_hop.p50),
            fmt_ns(d_hop.p99)
        ),
        "",
        Verdict::Info,
    );
    row(
        BENCH,
        "CPU time per push of the thread that reads the socket: baseline / library (direct)",
        &format!(
            "{} / {}",
            fmt_ns((baseline_cpu.as_nanos() as f64 / pushes) as u64),
            fmt_ns((direct_cpu.as_nanos() as f64 / pushes) as u64)
        ),
        "",
        Verdict::Info,
    );
    row(
        BENCH,
        "xo_dispatch with nothing pending (the per-frame cost in queued mode)",
        &format!("{} ns per call", EMPTY_DISPATCH_NS.load(Ordering::SeqCst)),
        "",
        Verdict::Info,
    );
    // Every log line the machine makes is redacted against the tracker's tokens, sink or not
    // (the status line is made on every push). The benchmark's token is 20 bytes; a real
    // Xsolla JWT is 1–2 KiB.
    for len in [20usize, 1_500] {
        let token = xo_tracker::Token::new("j".repeat(len - 4) + "wt!!").map_err(str::to_owned)?;
        let line = format!("order {ORDER}: status processing");
        let calls = 2_000u32;
        let started = std::time::Instant::now();
        for _ in 0..calls {
            std::hint::black_box(token.redact(std::hint::black_box(&line)));
        }
        let per = started.elapsed().as_nanos() as u64 / u64::from(calls);
        row(
            BENCH,
            &format!("redacting one log line against a {len}-byte token (done for every status push, with or without a log sink)"),
            &fmt_ns(per),
            "",
            Verdict::Info,
        );
    }
    let busy_base = summarize(&mut busy_baseline);
    row(
        BENCH,
        &format!(
            "busy host ({burners} CPU-bound threads at normal priority): baseline p50 / p99 / max ({} pushes)",
            busy_base.count
        ),
        &format!(
            "{} / {} / {}",
            fmt_ns(busy_base.p50),
            fmt_ns(busy_base.p99),
            fmt_ns(busy_base.max)
        ),
        "",
        Verdict::Info,
    );
    for (name, samples) in [("direct", &busy_direct), ("queued", &busy_queued)] {
        let s = summarize(&mut totals(samples));
        let r99 = s.p99 as f64 / busy_base.p99.max(1) as f64;
        row(
            BENCH,
            &format!("busy host: {name} delivery p50 / p99 / max; p99 ratio to baseline"),
            &format!(
                "{} / {} / {}; {r99:.2}×",
                fmt_ns(s.p50),
                fmt_ns(s.p99),
                fmt_ns(s.max)
            ),
            "p99 ≤ 1.5×",
            Verdict::of(r99 <= 1.5),
        );
    }
    let b_ready = summarize(&mut readies(&busy_direct_probed));
    let b_hop = summarize(&mut hops(&busy_direct_probed));
    row(
        BENCH,
        "busy host: direct push → event ready, p50 / p99; hop to xo-callbacks, p50 / p99",
        &format!(
            "{} / {}; {} / {}",
            fmt_ns(b_ready.p50),
            fmt_ns(b_ready.p99),
            fmt_ns(b_hop.p50),
            fmt_ns(b_hop.p99)
        ),
        "",
        Verdict::Info,
    );
    let bq_ready = summarize(&mut readies(&busy_queued_probed));
    let bq_host = summarize(&mut hops(&busy_queued_probed));
    let bq99 = bq_ready.p99 as f64 / busy_base.p99.max(1) as f64;
    row(
        BENCH,
        "busy host: queued, the library's part (push → ready) p50 / p99 / max, p99 ratio to baseline; the host's part (ready → callback; the host polls every 100 µs) p50 / p99",
        &format!(
            "{} / {} / {}, {bq99:.2}×; {} / {}",
            fmt_ns(bq_ready.p50),
            fmt_ns(bq_ready.p99),
            fmt_ns(bq_ready.max),
            fmt_ns(bq_host.p50),
            fmt_ns(bq_host.p99)
        ),
        "library's part: p99 ≤ 1.5×",
        Verdict::of(bq99 <= 1.5),
    );
    note(
        BENCH,
        &format!(
            "max: baseline {}, direct {}, queued {}; p90: {} / {} / {}",
            fmt_ns(base.max),
            fmt_ns(direct.max),
            fmt_ns(queued.max),
            fmt_ns(base.p90),
            fmt_ns(direct.p90),
            fmt_ns(queued.p90)
        ),
    );
    let sim_done = sim.clone();
    sim_runtime.block_on(async move { sim_done.shutdown().await });
    Ok(())
}

/// One push: (push → callback, push → event ready or 0 without the probe).
type Sample = (u64, u64);

fn totals(samples: &[Sample]) -> Vec<u64> {
    samples.iter().map(|s| s.0).collect()
}

fn readies(samples: &[Sample]) -> Vec<u64> {
    samples.iter().filter(|s| s.1 > 0).map(|s| s.1).collect()
}

fn hops(samples: &[Sample]) -> Vec<u64> {
    samples
        .iter()
        .filter(|s| s.1 > 0)
        .map(|s| s.0.saturating_sub(s.1))
        .collect()
}

/// CPU-bound threads at normal priority on every core, until dropped (a busy game).
struct Load {
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Load {
    fn start(n: usize) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let threads = (0..n)
            .map(|k| {
                let stop = stop.clone();
                std::thread::Builder::new()
                    .name(format!("burn-{k}"))
                    .spawn(move || {
                        let mut x = k as u64 | 1;
                        while !stop.load(Ordering::Relaxed) {
                            for _ in 0..10_000 {
                                x ^= x << 13;
                                x ^= x >> 7;
                                x ^= x << 17;
                            }
                            std::hint::black_box(x);
                        }
                    })
                    .expect("a burner thread")
            })
            .collect();
        Load { stop, threads }
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

fn runtime(name: &str) -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name(name)
        .enable_all()
        .build()
        .map_err(|e| format!("runtime: {e}"))
}

/// Waits until the simulator has no open socket (the previous client is gone).
fn wait_no_sockets(sim: &Sim) -> Result<(), String> {
    if wait_for(Duration::from_secs(10), Duration::from_millis(5), || {
        let s = sim.stats();
        s.centrifugo_live == 0
    }) {
        Ok(())
    } else {
        Err("the previous client's socket did not close".into())
    }
}

/// Pushes `warmup + count` statuses and returns the samples of the last `count`: `arrived`
/// waits for the push and returns its arrival time; with the probe on, the time the event was
/// ready comes from [`READY_NS`].
fn measure(
    sim: &Sim,
    host: &Host,
    statuses: &mut Statuses,
    count: usize,
    warmup: usize,
    mut arrived: impl FnMut(u64) -> Result<u64, String>,
) -> Result<Vec<Sample>, String> {
    let mut samples = Vec::with_capacity(count);
    for i in 0..warmup + count {
        let status = statuses.next();
        let seen = host.statuses();
        READY_NS.store(0, Ordering::SeqCst);
        let sent = now_ns();
        sim.set_status(ORDER, status);
        let at = arrived(seen)?;
        let ready = READY_NS.load(Ordering::SeqCst);
        if i >= warmup {
            let ready = ready.saturating_sub(sent);
            samples.push((at.saturating_sub(sent), ready));
        }
        std::thread::sleep(GAP);
    }
    Ok(samples)
}

/// When the library's worker logged the status it is about to hand over (`now_ns()`; 0: not yet).
static READY_NS: AtomicU64 = AtomicU64::new(0);

/// The probe: a log callback at Info level. The machine logs "order N: status S" right before
/// the event is queued for delivery, on the thread that read the push.
unsafe extern "C" fn on_log(_userdata: *mut c_void, _level: i32, line: *const c_char) {
    let at = now_ns();
    // SAFETY: the library passes a valid NUL-terminated line for the duration of the call.
    let line = unsafe { CStr::from_ptr(line) }.to_bytes();
    if line.windows(9).any(|w| w == b": status ") {
        READY_NS.store(at, Ordering::SeqCst);
    }
}

/// The floor: a bare tokio-tungstenite client on a one-worker runtime (like the library's) that
/// sends the connect command, answers pings, and stamps each pushed frame as it is read.
fn baseline_phase(
    sim: &Arc<Sim>,
    runtime: &tokio::runtime::Runtime,
    statuses: &mut Statuses,
    count: usize,
    warmup: usize,
) -> Result<Vec<u64>, String> {
    wait_no_sockets(sim)?;
    let host = Arc::new(Host::new(true));
    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<(), String>>();
    let url = sim.centrifugo_url();
    let reader = host.clone();
    let task = runtime.spawn(async move {
        let (mut ws, _) = match tokio_tungstenite::connect_async(url.as_str()).await {
            Ok(ok) => ok,
            Err(e) => {
                let _ = ready_tx.send(Err(format!("baseline connect: {e}")));
                return;
            }
        };
        let connect = format!(
            r#"{{"connect":{{"data":{{"auth":"{TOKEN}","project_id":{}}}}},"id":1}}"#,
            host::PROJECT
        );
        if let Err(e) = ws.send(Message::text(connect)).await {
            let _ = ready_tx.send(Err(format!("baseline send: {e}")));
            return;
        }
        let mut ready = Some(ready_tx);
        while let Some(Ok(message)) = ws.next().await {
            let Message::Text(text) = message else {
                continue;
            };
            let text = text.as_str();
            if text.contains("\"push\"") {
                reader.record_status();
            } else if text == "{}" {
                let _ = ws.send(Message::text("{}")).await;
            } else if text.contains("\"connect\"") {
                if let Some(tx) = ready.take() {
                    let _ = tx.send(Ok(()));
                }
            }
        }
    });
    ready_rx
        .recv_timeout(Duration::from_secs(10))
        .map_err(|_| "the baseline client did not connect".to_owned())??;
    let cpu = thread_cpu("baseline");
    let result = measure(sim, &host, statuses, count, warmup, |seen| {
        if host.wait_status_beyond(seen, PUSH_LIMIT) {
            Ok(host.last_status_ns.load(Ordering::SeqCst))
        } else {
            Err("baseline: a push did not arrive".into())
        }
    });
    let used = thread_cpu("baseline").saturating_sub(cpu);
    BASELINE_CPU.fetch_add(used.as_nanos() as u64, Ordering::SeqCst);
    task.abort();
    result.map(|samples| totals(&samples))
}

/// The library through the C ABI, one tracker on one order; `probe` installs the log probe.
/// `busy`: the load threads play the game's CPU use, and a queued host sleeps 100 µs between
/// `xo_dispatch` calls instead of yielding (a yield loop would be one more CPU hog, and
/// `sched_yield` hands the core to a load thread for a whole time slice).
#[allow(clippy::too_many_arguments)]
fn library_phase(
    sim: &Arc<Sim>,
    delivery: i32,
    probe: bool,
    busy: bool,
    statuses: &mut Statuses,
    count: usize,
    warmup: usize,
) -> Result<Vec<Sample>, String> {
    wait_no_sockets(sim)?;
    let addr = sim.addr().to_string();
    let mut setup = Setup::new(&addr);
    setup.delivery = delivery;
    host::configure(&setup)?;
    let queued = delivery == DELIVERY_QUEUED;
    if probe {
        // SAFETY: `on_log` is a plain function and ignores its userdata.
        let set =
            unsafe { xo_tracker::ffi::xo_set_log_callback(Some(on_log), std::ptr::null_mut(), 3) };
        if set != xo_tracker::ffi::xo_result::Ok {
            return Err(format!("xo_set_log_callback: {set:?}"));
        }
    }
    // Direct delivery wakes the waiting host thread; queued delivery's host polls.
    let host = Host::leak(!queued);
    host.track(ORDER)?;
    let settled = wait_for(Duration::from_secs(10), Duration::from_millis(1), || {
        if queued {
            host::dispatch(64);
        }
        Host::get(&host.connected) >= 1 && host.statuses() >= 1
    });
    if !settled {
        return Err("the tracker did not connect".into());
    }
    // Let the GET that follows the connect finish.
    let _ = wait_for(Duration::from_millis(200), Duration::from_millis(1), || {
        if queued {
            host::dispatch(64);
        }
        false
    });
    let cpu = thread_cpu("xo-worker");
    let result = measure(sim, host, statuses, count, warmup, |seen| {
        if queued {
            // A game calls xo_dispatch once per frame; here the host thread polls it in a loop
            // (yielding between calls) to measure the library's part of the delay.
            let until = std::time::Instant::now() + PUSH_LIMIT;
            while host.statuses() <= seen {
                let before = now_ns();
                let delivered = host::dispatch(64);
                if delivered > 0 {
                    DISPATCH_NS.fetch_add(now_ns() - before, Ordering::SeqCst);
                    DISPATCHED.fetch_add(delivered as u64, Ordering::SeqCst);
                }
                if std::time::Instant::now() > until {
                    return Err("queued: a push did not arrive".into());
                }
                if busy {
                    std::thread::sleep(Duration::from_micros(100));
                } else {
                    std::thread::yield_now();
                }
            }
            Ok(host.last_status_ns.load(Ordering::SeqCst))
        } else if host.wait_status_beyond(seen, PUSH_LIMIT) {
            Ok(host.last_status_ns.load(Ordering::SeqCst))
        } else {
            Err("direct: a push did not arrive".into())
        }
    });
    if !queued && !probe {
        let used = thread_cpu("xo-worker").saturating_sub(cpu);
        DIRECT_CPU.fetch_add(used.as_nanos() as u64, Ordering::SeqCst);
    }
    if queued && !probe {
        // What a game pays every frame when nothing is pending.
        let calls = 100_000u32;
        let started = std::time::Instant::now();
        for _ in 0..calls {
            host::dispatch(64);
        }
        let per_call = started.elapsed().as_nanos() as u64 / u64::from(calls);
        EMPTY_DISPATCH_NS.fetch_min(per_call, Ordering::SeqCst);
    }
    host::shutdown()?;
    result
}

/// CPU time of the baseline client's thread during its pushes (ns).
static BASELINE_CPU: AtomicU64 = AtomicU64::new(0);

/// CPU time of the library's worker thread during the direct-delivery pushes (ns).
static DIRECT_CPU: AtomicU64 = AtomicU64::new(0);

/// The cheapest `xo_dispatch` with nothing pending seen in any round (ns per call).
static EMPTY_DISPATCH_NS: AtomicU64 = AtomicU64::new(u64::MAX);

/// Time spent in `xo_dispatch` calls that delivered events, and how many they delivered.
static DISPATCH_NS: AtomicU64 = AtomicU64::new(0);
static DISPATCHED: AtomicU64 = AtomicU64::new(0);
