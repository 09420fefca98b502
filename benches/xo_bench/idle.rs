//! Idle cost: 100 trackers waiting on one healthy Centrifugo connection (server pings every
//! 25 s, as the simulator's default). Over the window we count the CPU time of the process and
//! the context switches (wakeups) of the library's threads (`xo-worker`), next to the pings the
//! server sent. The simulator runs in another process.

use std::time::{Duration, Instant};

use crate::host::{self, Host, Setup};
use crate::measure::{cpu_time, thread_switches, wait_for};
use crate::sim_proc::{stat, SimOptions, SimProc};
use crate::{note, row, Mode, Verdict};

const BENCH: &str = "idle";
const TRACKERS: i64 = 100;

pub fn run(mode: Mode) -> Result<(), String> {
    let window = if mode.quick() {
        Duration::from_secs(1)
    } else {
        Duration::from_secs(60)
    };
    let mut sim = SimProc::start(&SimOptions {
        orders: TRACKERS,
        ping_secs: 25,
        proxy: false,
    })?;
    host::configure(&Setup::new(&sim.addr))?;
    let host = Host::leak(false);
    for id in 1..=TRACKERS {
        host.track(id)?;
    }
    let n = TRACKERS as u64;
    if !wait_for(Duration::from_secs(30), Duration::from_millis(5), || {
        Host::get(&host.connected) >= n && host.statuses() >= n
    }) {
        return Err("the trackers did not settle".into());
    }
    // Let the GETs that follow the connect finish.
    std::thread::sleep(Duration::from_millis(if mode.quick() {
        200
    } else {
        2_000
    }));
    let stats_start = sim.stats()?;
    let (threads, switches_start) = thread_switches("xo-worker");
    let cpu_start = cpu_time();
    let started = Instant::now();
    std::thread::sleep(window);
    let cpu = cpu_time().saturating_sub(cpu_start);
    let (_, switches_end) = thread_switches("xo-worker");
    let measured = started.elapsed().as_secs_f64();
    let stats_end = sim.stats()?;
    host::shutdown()?;

    let pings = stat(&stats_end, "pings_sent").saturating_sub(stat(&stats_start, "pings_sent"));
    let gets = sum_requests(&stats_end).saturating_sub(sum_requests(&stats_start));
    let wakeups = switches_end.saturating_sub(switches_start);
    let percent = cpu.as_secs_f64() / measured * 100.0;
    row(
        BENCH,
        &format!("{TRACKERS} trackers on a healthy socket: CPU over {measured:.0} s"),
        &format!(
            "{:.2} ms ({percent:.4} % of a core)",
            cpu.as_secs_f64() * 1e3
        ),
        "≈ 0 %",
        Verdict::of(percent < 0.1),
    );
    row(
        BENCH,
        "wakeups of the library's threads per minute (context switches); server pings in the window",
        &format!("{:.1}; {pings}", wakeups as f64 * 60.0 / measured),
        "network events and pings only",
        Verdict::Info,
    );
    note(
        BENCH,
        &format!(
            "{threads} library threads (xo-worker); {wakeups} context switches and {gets} HTTP \
             requests during the window"
        ),
    );
    Ok(())
}

fn sum_requests(stats: &serde_json::Value) -> u64 {
    crate::sim_proc::http_requests(stats).values().sum()
}
