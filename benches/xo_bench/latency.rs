//! Push-to-callback latency: the simulator pushes a status, and we time until the host callback
//! runs (direct and queued delivery), next to a bare tokio-tungstenite client that reads the same
//! pushes from the same simulator (the floor: socket + WebSocket decoding, nothing else).
//!
//! The simulator runs in this process on its own one-thread runtime, so a push is one function
//! call (`Sim::set_status`) stamped just before it. One push at a time: the next push starts
//! after the previous one arrived and a short gap (so threads are parked, as in a game, rather
//! than spinning hot). Rounds interleave the three clients so that drift of the machine affects
//! them alike, and only one client is connected at a time.

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
        (10, 1_000, 100)
    };
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
    for _ in 0..rounds {
        baseline.extend(baseline_phase(
            &sim,
            &client_runtime,
            &mut statuses,
            per_round,
            warmup,
        )?);
        direct.extend(library_phase(
            &sim,
            DELIVERY_DIRECT,
            &mut statuses,
            per_round,
            warmup,
        )?);
        queued.extend(library_phase(
            &sim,
            DELIVERY_QUEUED,
            &mut statuses,
            per_round,
            warmup,
        )?);
    }
    // CPU time of the thread that reads the socket (and, in direct mode, runs the callback).
    let baseline_cpu = Duration::from_nanos(BASELINE_CPU.load(std::sync::atomic::Ordering::SeqCst));
    let direct_cpu = Duration::from_nanos(DIRECT_CPU.load(std::sync::atomic::Ordering::SeqCst));
    let pushes = (rounds * (per_round + warmup)) as f64;
    let base = summarize(&mut baseline);
    let direct = summarize(&mut direct);
    let queued = summarize(&mut queued);
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
        &format!(
            "{} ns per call",
            EMPTY_DISPATCH_NS.load(std::sync::atomic::Ordering::SeqCst)
        ),
        "",
        Verdict::Info,
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

/// Pushes `warmup + count` statuses and returns the latencies of the last `count`; `arrived`
/// waits for the push and returns its arrival time.
fn measure(
    sim: &Sim,
    host: &Host,
    statuses: &mut Statuses,
    count: usize,
    warmup: usize,
    mut arrived: impl FnMut(u64) -> Result<u64, String>,
) -> Result<Vec<u64>, String> {
    let mut samples = Vec::with_capacity(count);
    for i in 0..warmup + count {
        let status = statuses.next();
        let seen = host.statuses();
        let sent = now_ns();
        sim.set_status(ORDER, status);
        let at = arrived(seen)?;
        if i >= warmup {
            samples.push(at.saturating_sub(sent));
        }
        std::thread::sleep(GAP);
    }
    Ok(samples)
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
            Ok(host
                .last_status_ns
                .load(std::sync::atomic::Ordering::SeqCst))
        } else {
            Err("baseline: a push did not arrive".into())
        }
    });
    let used = thread_cpu("baseline").saturating_sub(cpu);
    BASELINE_CPU.fetch_add(used.as_nanos() as u64, std::sync::atomic::Ordering::SeqCst);
    task.abort();
    result
}

/// The library through the C ABI, one tracker on one order.
fn library_phase(
    sim: &Arc<Sim>,
    delivery: i32,
    statuses: &mut Statuses,
    count: usize,
    warmup: usize,
) -> Result<Vec<u64>, String> {
    wait_no_sockets(sim)?;
    let addr = sim.addr().to_string();
    let mut setup = Setup::new(&addr);
    setup.delivery = delivery;
    host::configure(&setup)?;
    let host = Host::leak(true);
    host.track(ORDER)?;
    let queued = delivery == DELIVERY_QUEUED;
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
                host::dispatch(64);
                if std::time::Instant::now() > until {
                    return Err("queued: a push did not arrive".into());
                }
                std::thread::yield_now();
            }
            Ok(host
                .last_status_ns
                .load(std::sync::atomic::Ordering::SeqCst))
        } else if host.wait_status_beyond(seen, PUSH_LIMIT) {
            Ok(host
                .last_status_ns
                .load(std::sync::atomic::Ordering::SeqCst))
        } else {
            Err("direct: a push did not arrive".into())
        }
    });
    if !queued {
        let used = thread_cpu("xo-worker").saturating_sub(cpu);
        DIRECT_CPU.fetch_add(used.as_nanos() as u64, std::sync::atomic::Ordering::SeqCst);
    }
    if queued {
        // What a game pays every frame when nothing is pending.
        let calls = 100_000u32;
        let started = std::time::Instant::now();
        for _ in 0..calls {
            host::dispatch(64);
        }
        let per_call = started.elapsed().as_nanos() as u64 / u64::from(calls);
        EMPTY_DISPATCH_NS.fetch_min(per_call, std::sync::atomic::Ordering::SeqCst);
    }
    host::shutdown()?;
    result
}

/// CPU time of the baseline client's thread during its pushes (ns).
static BASELINE_CPU: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// CPU time of the library's worker thread during the direct-delivery pushes (ns).
static DIRECT_CPU: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// The cheapest `xo_dispatch` with nothing pending seen in any round (ns per call).
static EMPTY_DISPATCH_NS: std::sync::atomic::AtomicU64 =
    std::sync::atomic::AtomicU64::new(u64::MAX);
