//! Process measurements: a counting allocator, resident memory, CPU time, context switches of the
//! library's threads, open sockets, and percentiles.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Counts live heap bytes, so memory per tracked order can be read without the allocator's
/// caching (RSS keeps freed pages; the live heap does not).
pub struct CountingAlloc;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

/// Live allocations by size class: class `i` holds sizes `16 * (i - 1) + 1 ..= 16 * i`; the last
/// class holds everything larger.
const CLASSES: usize = 1025;
static BY_SIZE: [AtomicIsize; CLASSES] = [const { AtomicIsize::new(0) }; CLASSES];

fn class(size: usize) -> usize {
    size.div_ceil(16).min(CLASSES - 1)
}

fn grew(n: usize) {
    let now = LIVE.fetch_add(n, Ordering::Relaxed) + n;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

fn shrank(n: usize) {
    LIVE.fetch_sub(n, Ordering::Relaxed);
}

fn allocated(size: usize) {
    grew(size);
    BY_SIZE[class(size)].fetch_add(1, Ordering::Relaxed);
}

fn freed(size: usize) {
    shrank(size);
    BY_SIZE[class(size)].fetch_sub(1, Ordering::Relaxed);
}

/// Live allocation counts by size class (see [`size_profile`]).
pub fn size_classes() -> Vec<isize> {
    BY_SIZE.iter().map(|c| c.load(Ordering::Relaxed)).collect()
}

/// The size classes that grew between two [`size_classes`] snapshots, per `per` units (e.g. per
/// tracked order), largest share of bytes first: `(class upper bound in bytes, count per unit)`.
pub fn size_profile(before: &[isize], after: &[isize], per: f64) -> Vec<(usize, f64)> {
    let mut grown: Vec<(usize, f64)> = before
        .iter()
        .zip(after)
        .enumerate()
        .map(|(i, (b, a))| (i * 16, (a - b) as f64 / per))
        .filter(|(_, n)| *n >= 0.05)
        .collect();
    grown.sort_by(|x, y| (y.0 as f64 * y.1).total_cmp(&(x.0 as f64 * x.1)));
    grown
}

/// "3 × ≤1344 B, 1 × ≤48 B" for the first `top` classes of a profile.
pub fn fmt_profile(profile: &[(usize, f64)], top: usize) -> String {
    profile
        .iter()
        .take(top)
        .map(|(size, n)| {
            if *size >= (CLASSES - 1) * 16 {
                format!("{n:.2} × >16 KiB")
            } else {
                format!("{n:.2} × {}–{size} B", size.saturating_sub(15))
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

// SAFETY: every call is forwarded to the system allocator unchanged; only counters are added.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            allocated(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc_zeroed(layout);
        if !p.is_null() {
            allocated(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        freed(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = System.realloc(ptr, layout, new_size);
        if !p.is_null() {
            freed(layout.size());
            allocated(new_size);
        }
        p
    }
}

/// Live heap bytes now.
pub fn heap_live() -> usize {
    LIVE.load(Ordering::Relaxed)
}

/// Highest live heap since the last `reset_peaks`.
pub fn heap_peak() -> usize {
    PEAK.load(Ordering::Relaxed)
}

/// Restarts the heap and RSS high-water marks from the current values.
pub fn reset_peaks() {
    PEAK.store(heap_live(), Ordering::Relaxed);
    // Resets VmHWM (Linux >= 4.0); harmless if refused.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// A field of /proc/self/status in bytes (the file gives kB).
fn status_kb(field: &str) -> usize {
    let text = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<usize>()
                .ok()
        })
        .unwrap_or(0)
        * 1024
}

/// Resident set size in bytes.
pub fn rss() -> usize {
    status_kb("VmRSS:")
}

/// Peak resident set size in bytes (since `reset_peaks`).
pub fn rss_peak() -> usize {
    status_kb("VmHWM:")
}

/// Returns freed heap memory to the kernel, so RSS shows what is still in use.
pub fn trim_heap() {
    // SAFETY: malloc_trim only releases free memory of glibc's arenas.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// User + system CPU time of the whole process.
pub fn cpu_time() -> Duration {
    // SAFETY: getrusage writes into the zeroed struct we own.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// The process's threads whose name starts with `prefix`: (count, context switches = wakeups).
pub fn thread_switches(prefix: &str) -> (usize, u64) {
    let mut threads = 0;
    let mut switches = 0;
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return (0, 0);
    };
    for task in tasks.flatten() {
        let path = task.path();
        let comm = std::fs::read_to_string(path.join("comm")).unwrap_or_default();
        if !comm.trim().starts_with(prefix) {
            continue;
        }
        threads += 1;
        let status = std::fs::read_to_string(path.join("status")).unwrap_or_default();
        for line in status.lines() {
            if let Some(v) = line
                .strip_prefix("voluntary_ctxt_switches:")
                .or_else(|| line.strip_prefix("nonvoluntary_ctxt_switches:"))
            {
                switches += v.trim().parse::<u64>().unwrap_or(0);
            }
        }
    }
    (threads, switches)
}

/// CPU time of the process's threads whose name starts with `prefix`: the scheduler's
/// `se.sum_exec_runtime` (/proc/self/task/*/sched, nanosecond precision) where the kernel has
/// it, else utime + stime from /proc/self/task/*/stat (clock ticks).
pub fn thread_cpu(prefix: &str) -> Duration {
    // SAFETY: sysconf has no preconditions.
    let ticks_per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    let mut total = Duration::ZERO;
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return total;
    };
    for task in tasks.flatten() {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if !comm.trim().starts_with(prefix) {
            continue;
        }
        let sched = std::fs::read_to_string(task.path().join("sched")).unwrap_or_default();
        let precise = sched.lines().find_map(|l| {
            let ms = l.strip_prefix("se.sum_exec_runtime")?;
            ms.trim_start_matches([' ', ':']).trim().parse::<f64>().ok()
        });
        if let Some(ms) = precise {
            total += Duration::from_secs_f64(ms / 1e3);
            continue;
        }
        let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
        // "tid (comm) state ...": after the comm, utime and stime are the 12th and 13th fields.
        let Some(close) = stat.rfind(')') else {
            continue;
        };
        let fields: Vec<&str> = stat[close + 1..].split_whitespace().collect();
        let ticks: u64 = [11, 12]
            .iter()
            .filter_map(|&i| fields.get(i).and_then(|v| v.parse::<u64>().ok()))
            .sum();
        total += Duration::from_secs_f64(ticks as f64 / ticks_per_second);
    }
    total
}

/// How many threads the process has.
pub fn thread_count() -> usize {
    std::fs::read_dir("/proc/self/task")
        .map(|d| d.count())
        .unwrap_or(0)
}

/// How many sockets the process has open.
pub fn open_sockets() -> usize {
    let Ok(fds) = std::fs::read_dir("/proc/self/fd") else {
        return 0;
    };
    fds.flatten()
        .filter(|fd| {
            std::fs::read_link(fd.path())
                .map(|target| target.to_string_lossy().starts_with("socket:"))
                .unwrap_or(false)
        })
        .count()
}

/// Nanoseconds since the first call in this process (a monotonic clock shared by every thread).
pub fn now_ns() -> u64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    EPOCH.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

/// Summary of a sample of durations in nanoseconds.
#[derive(Clone, Copy, Debug)]
pub struct Summary {
    pub count: usize,
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub max: u64,
}

/// p50/p90/p99/max of `samples` (sorted in place).
pub fn summarize(samples: &mut [u64]) -> Summary {
    samples.sort_unstable();
    let at = |p: usize| {
        if samples.is_empty() {
            0
        } else {
            samples[(samples.len() * p / 100).min(samples.len() - 1)]
        }
    };
    Summary {
        count: samples.len(),
        p50: at(50),
        p90: at(90),
        p99: at(99),
        max: samples.last().copied().unwrap_or(0),
    }
}

/// "12.3 µs" style.
pub fn fmt_ns(ns: u64) -> String {
    if ns < 10_000 {
        format!("{:.2} µs", ns as f64 / 1e3)
    } else if ns < 10_000_000 {
        format!("{:.1} µs", ns as f64 / 1e3)
    } else {
        format!("{:.1} ms", ns as f64 / 1e6)
    }
}

/// "1.23 ms" style.
pub fn fmt_ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1e3;
    if ms < 10.0 {
        format!("{ms:.2} ms")
    } else {
        format!("{ms:.0} ms")
    }
}

/// "3.1 KiB" style.
pub fn fmt_bytes(bytes: f64) -> String {
    if bytes.abs() < 1024.0 * 10.0 {
        format!("{:.2} KiB", bytes / 1024.0)
    } else if bytes.abs() < 1024.0 * 1024.0 * 10.0 {
        format!("{:.1} KiB", bytes / 1024.0)
    } else {
        format!("{:.1} MiB", bytes / 1024.0 / 1024.0)
    }
}

/// Waits until `done` holds, checking every `every`; false on timeout.
pub fn wait_for(limit: Duration, every: Duration, mut done: impl FnMut() -> bool) -> bool {
    let until = Instant::now() + limit;
    loop {
        if done() {
            return true;
        }
        if Instant::now() >= until {
            return false;
        }
        std::thread::sleep(every);
    }
}
