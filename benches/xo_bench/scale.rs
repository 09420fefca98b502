//! Scale: N concurrently tracked orders (Centrifugo: one shared connection; legacy: one socket per
//! order; polling: HTTP only). Reports resident memory per tracked order, CPU time per minute
//! once settled, and for polling the request rate, the per-order interval and the connection
//! pool's reuse (the simulator's HTTP API sits behind a proxy that counts TCP connections).
//!
//! Memory: RSS (VmRSS) and the live heap (a counting global allocator) after one tracker has
//! started the runtime and its connection, and again once all N trackers have settled (socket
//! connected or polling, and the first status received); per order = difference / (N - 1). The
//! simulator runs in another process, so none of its memory is counted.

use std::time::{Duration, Instant};

use crate::host::{self, Host, Setup, TRANSPORT_CENTRIFUGO, TRANSPORT_LEGACY, TRANSPORT_POLLING};
use crate::measure::{
    cpu_time, fmt_bytes, fmt_ms, fmt_profile, heap_live, heap_peak, open_sockets, reset_peaks, rss,
    rss_peak, size_classes, size_profile, thread_count, trim_heap, wait_for,
};
use crate::sim_proc::{http_requests, stat, SimOptions, SimProc};
use crate::{note, row, Mode, Verdict};

#[derive(Clone, Copy)]
struct Snapshot {
    rss: usize,
    heap: usize,
}

impl Snapshot {
    fn take() -> Snapshot {
        Snapshot {
            rss: rss(),
            heap: heap_live(),
        }
    }
}

/// `batch`: start the trackers `batch` at a time, each batch after the previous one settled
/// (isolates the cost of the start-up burst of HTTP requests); only memory is reported then.
pub fn run(mode: Mode, transport: i32, batch: Option<i64>) -> Result<(), String> {
    let quick = mode.quick();
    let (bench, n, goal_bytes): (&str, i64, Option<usize>) = match transport {
        TRANSPORT_CENTRIFUGO if batch.is_some() => (
            "scale-centrifugo-batched",
            if quick { 500 } else { 10_000 },
            Some(4 * 1024),
        ),
        TRANSPORT_CENTRIFUGO => (
            "scale-centrifugo",
            if quick { 500 } else { 10_000 },
            Some(4 * 1024),
        ),
        TRANSPORT_LEGACY => (
            "scale-legacy",
            if quick { 100 } else { 1_000 },
            Some(64 * 1024),
        ),
        _ => ("scale-polling", if quick { 100 } else { 1_000 }, None),
    };
    let polling = transport == TRANSPORT_POLLING;
    let window = if quick {
        Duration::from_secs(2)
    } else {
        Duration::from_secs(60)
    };
    let poll_interval = if quick {
        Duration::from_millis(500)
    } else {
        Duration::from_secs(3)
    };
    let mut sim = SimProc::start(&SimOptions {
        orders: n,
        ping_secs: 25,
        proxy: polling,
    })?;
    let mut setup = Setup::new(&sim.addr);
    setup.transport = transport;
    if let Some(proxy) = &sim.proxy {
        setup.api_url = format!("http://{proxy}/api");
    }
    if polling {
        setup.poll_interval_ms = poll_interval.as_millis() as u32;
    }
    host::configure(&setup)?;
    let host = Host::leak(false);
    let settled = |count: u64| {
        let linked = if polling {
            Host::get(&host.polling)
        } else {
            Host::get(&host.connected)
        };
        linked >= count && host.statuses() >= count
    };

    // One tracker: the runtime, the HTTP client and (Centrifugo) the shared connection exist.
    host.track(1)?;
    if !wait_for(Duration::from_secs(20), Duration::from_millis(2), || {
        settled(1)
    }) {
        return Err("the first tracker did not settle".into());
    }
    std::thread::sleep(Duration::from_millis(300));
    let base = Snapshot::take();
    let classes_base = size_classes();
    let threads = thread_count();
    reset_peaks();

    let limit = Duration::from_secs(if quick { 30 } else { 300 });
    let started = Instant::now();
    let mut track_calls = Duration::ZERO;
    let mut next = 2;
    while next <= n {
        let last = batch.map_or(n, |b| (next + b - 1).min(n));
        let calls = Instant::now();
        for id in next..=last {
            host.track(id)?;
        }
        track_calls += calls.elapsed();
        if batch.is_some() && !wait_for(limit, Duration::from_millis(1), || settled(last as u64)) {
            return Err(format!("batch up to {last} did not settle"));
        }
        next = last + 1;
    }
    if !wait_for(limit, Duration::from_millis(5), || settled(n as u64)) {
        return Err(format!(
            "not settled after {limit:?}: {} linked, {} statuses, {} polling, {} finals of {n}",
            Host::get(&host.connected),
            host.statuses(),
            Host::get(&host.polling),
            Host::get(&host.finals)
        ));
    }
    let settle = started.elapsed();
    let (peak_rss, peak_heap) = (rss_peak(), heap_peak());
    std::thread::sleep(Duration::from_millis(if quick { 300 } else { 2_000 }));
    let after = Snapshot::take();
    let profile = size_profile(&classes_base, &size_classes(), (n - 1) as f64);
    trim_heap();
    let trimmed_rss = rss();
    let others = (n - 1) as f64;
    let per_rss = (after.rss as f64 - base.rss as f64) / others;
    let per_heap = (after.heap as f64 - base.heap as f64) / others;
    let per_trimmed = (trimmed_rss as f64 - base.rss as f64) / others;

    let stats_start = sim.stats()?;
    let requests_start = http_requests(&stats_start);
    let gets_per_order = requests_start.values().sum::<u64>() as f64 / n as f64;
    if batch.is_some() {
        host::shutdown()?;
        let b = batch.unwrap_or(1);
        row(
            bench,
            &format!("{n} orders started {b} at a time: resident memory per order (RSS delta / N)"),
            &fmt_bytes(per_rss),
            &goal_bytes.map_or(String::new(), |g| format!("≤ {}", fmt_bytes(g as f64))),
            goal_bytes.map_or(Verdict::Info, |g| Verdict::of(per_rss <= g as f64)),
        );
        row(
            bench,
            "live heap per order / RSS per order after malloc_trim",
            &format!("{} / {}", fmt_bytes(per_heap), fmt_bytes(per_trimmed)),
            "",
            Verdict::Info,
        );
        note(
            bench,
            &format!(
                "peaks while starting: RSS {}, heap {}; settled RSS {}, heap {}; start {}; \
                 GETs per order {gets_per_order:.2}",
                fmt_bytes(peak_rss as f64),
                fmt_bytes(peak_heap as f64),
                fmt_bytes(after.rss as f64),
                fmt_bytes(after.heap as f64),
                fmt_ms(settle)
            ),
        );
        return Ok(());
    }
    let proxy_start = stat(&stats_start, "proxy_accepted");
    let sockets = open_sockets();
    let cpu_start = cpu_time();
    let window_start = Instant::now();
    std::thread::sleep(window);
    let cpu = cpu_time().saturating_sub(cpu_start);
    let measured = window_start.elapsed();
    let stats_end = sim.stats()?;
    let requests_end = http_requests(&stats_end);

    // Every order becomes `done` at once: the pushes (or the next polls) end every tracker, each
    // with a GET for the order contents when the status came by push.
    let finish_start = Instant::now();
    sim.set_status_range(1, n, "done")?;
    let finish_limit = Duration::from_secs(if quick { 30 } else { 300 });
    let finished = wait_for(finish_limit, Duration::from_millis(2), || {
        Host::get(&host.finals) >= n as u64
    });
    let finish = finish_start.elapsed();
    let done = Host::get(&host.done);

    let shutdown_start = Instant::now();
    host::shutdown()?;
    let shutdown = shutdown_start.elapsed();

    let kind = match transport {
        TRANSPORT_CENTRIFUGO => "one shared Centrifugo connection",
        TRANSPORT_LEGACY => "one legacy socket per order",
        _ => "polling only",
    };
    let goal = goal_bytes.map_or(String::new(), |g| format!("≤ {}", fmt_bytes(g as f64)));
    row(
        bench,
        &format!("{n} orders, {kind}: resident memory per order (RSS delta / N)"),
        &fmt_bytes(per_rss),
        &goal,
        goal_bytes.map_or(Verdict::Info, |g| Verdict::of(per_rss <= g as f64)),
    );
    row(
        bench,
        "live heap per order (counting allocator) / RSS per order after malloc_trim",
        &format!("{} / {}", fmt_bytes(per_heap), fmt_bytes(per_trimmed)),
        "",
        Verdict::Info,
    );
    let cpu_per_minute = cpu.as_secs_f64() * 60.0 / measured.as_secs_f64();
    row(
        bench,
        &format!(
            "CPU time per minute, settled (measured over {:.0} s)",
            measured.as_secs_f64()
        ),
        &format!(
            "{:.0} ms/min ({:.2} % of a core)",
            cpu_per_minute * 1e3,
            cpu_per_minute / 60.0 * 100.0
        ),
        "",
        Verdict::Info,
    );
    row(
        bench,
        "start N trackers: xo_track_order calls / until all settled; HTTP GETs per order so far",
        &format!(
            "{} / {}; {gets_per_order:.2}",
            fmt_ms(track_calls),
            fmt_ms(settle)
        ),
        "",
        Verdict::Info,
    );
    row(
        bench,
        "all N orders become done at once: until the N-th FINAL event (outcomes done)",
        &if finished {
            format!("{} ({done} done)", fmt_ms(finish))
        } else {
            format!("not finished after {finish_limit:?} ({done} done)")
        },
        "",
        Verdict::Info,
    );
    note(
        bench,
        &format!(
            "base after 1 tracker: RSS {}, heap {}, {threads} threads; settled: RSS {}, heap {}; \
             peaks while starting: RSS {}, heap {}; {sockets} sockets open in the library's \
             process; GETs so far {}; xo_shutdown {}",
            fmt_bytes(base.rss as f64),
            fmt_bytes(base.heap as f64),
            fmt_bytes(after.rss as f64),
            fmt_bytes(after.heap as f64),
            fmt_bytes(peak_rss as f64),
            fmt_bytes(peak_heap as f64),
            requests_start.values().sum::<u64>(),
            fmt_ms(shutdown),
        ),
    );
    note(
        bench,
        &format!(
            "live allocations added per tracked order, by size: {}",
            fmt_profile(&profile, 10)
        ),
    );
    if let Ok(sizes) = crate::sizes::tracker_sizes() {
        note(
            bench,
            &format!(
                "size_of: tracker future (tracker::track) {} B; wrapped as Engine::spawn does \
                 (async move {{ work.await; .. }}) {} B; wrapped with FutureExt::map {} B; \
                 PushEvent {} B (a tokio mpsc block holds 32 of them)",
                sizes.tracker, sizes.spawned, sizes.mapped, sizes.push_event
            ),
        );
    }
    if polling {
        polling_rows(
            bench,
            n,
            poll_interval,
            measured,
            &requests_start,
            &requests_end,
            stat(&stats_end, "proxy_accepted").saturating_sub(proxy_start),
            stat(&stats_end, "proxy_max_live"),
        );
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn polling_rows(
    bench: &str,
    n: i64,
    interval: Duration,
    measured: Duration,
    start: &std::collections::HashMap<i64, u64>,
    end: &std::collections::HashMap<i64, u64>,
    new_connections: u64,
    max_live: u64,
) {
    let counts: Vec<u64> = (1..=n)
        .map(|id| {
            end.get(&id)
                .copied()
                .unwrap_or(0)
                .saturating_sub(start.get(&id).copied().unwrap_or(0))
        })
        .collect();
    let total: u64 = counts.iter().sum();
    let secs = measured.as_secs_f64();
    let expected_per_order = secs / interval.as_secs_f64();
    let mean = total as f64 / n as f64;
    let min = counts.iter().min().copied().unwrap_or(0);
    let max = counts.iter().max().copied().unwrap_or(0);
    let rate = total as f64 / secs;
    let ideal = n as f64 / interval.as_secs_f64();
    row(
        bench,
        &format!("requests per second ({n} orders every {:?})", interval),
        &format!("{rate:.1} req/s (ideal {ideal:.1})"),
        "",
        Verdict::Info,
    );
    let mean_interval = secs / mean.max(f64::MIN_POSITIVE);
    let drift = (mean_interval / interval.as_secs_f64() - 1.0) * 100.0;
    let on_grid = min as f64 >= expected_per_order.floor() - 1.0
        && max as f64 <= expected_per_order.ceil() + 1.0
        && drift.abs() < 1.0;
    row(
        bench,
        "mean interval per order; requests per order in the window (min–max, expected)",
        &format!(
            "{:.3} s ({drift:+.2} %); {min}–{max}, expected {expected_per_order:.1}",
            mean_interval
        ),
        "the configured interval, no drift, no overlap",
        Verdict::of(on_grid),
    );
    let per_thousand = new_connections as f64 * 1000.0 / total.max(1) as f64;
    row(
        bench,
        "new TCP connections during the window (per 1,000 requests); most open at once",
        &format!("{new_connections} ({per_thousand:.1}); {max_live}"),
        "pool reused",
        Verdict::of(per_thousand < 10.0),
    );
}
