//! The library's log: off unless the host installs a sink. Messages never contain tokens
//! (they are [`crate::Token`]s, which print as `<redacted>`).

use std::cell::Cell;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

/// How important a log line is; lower is more severe.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Something failed that the library could not recover from.
    Error = 1,
    /// Something failed and the library is recovering (fallback, retry).
    Warn = 2,
    /// Transport changes and final outcomes.
    Info = 3,
    /// Every request, frame and timer.
    Debug = 4,
}

/// A function that receives log lines.
pub type LogSink = Arc<dyn Fn(Level, &str) + Send + Sync>;

static SINK: RwLock<Option<(LogSink, Level)>> = RwLock::new(None);
/// Whether a sink is installed: with none (the usual case) logging costs one atomic load.
static HAS_SINK: AtomicBool = AtomicBool::new(false);
/// Held (shared) by every sink call, so that replacing the sink can wait for calls in flight.
static CALLS: RwLock<()> = RwLock::new(());

thread_local! {
    static IN_SINK: Cell<bool> = const { Cell::new(false) };
}

/// Installs (or with `None` removes) the process-wide log sink; lines above `max_level` are dropped.
/// Once it returns, the previous sink is not running on any other thread and never runs again.
pub fn set_sink(sink: Option<LogSink>, max_level: Level) {
    let old = {
        let mut slot = SINK.write().unwrap_or_else(|e| e.into_inner());
        HAS_SINK.store(sink.is_some(), Ordering::Release);
        std::mem::replace(&mut *slot, sink.map(|s| (s, max_level)))
    };
    if !IN_SINK.with(Cell::get) {
        drop(CALLS.write().unwrap_or_else(|e| e.into_inner()));
    }
    drop(old);
}

/// Formats and sends one line to the sink, if one is installed and wants this level. Lines logged
/// from inside the sink itself are dropped.
pub fn write(level: Level, args: fmt::Arguments<'_>) {
    if !HAS_SINK.load(Ordering::Acquire) || IN_SINK.with(Cell::get) {
        return;
    }
    let _call = CALLS.read().unwrap_or_else(|e| e.into_inner());
    let sink = {
        let slot = SINK.read().unwrap_or_else(|e| e.into_inner());
        match slot.as_ref() {
            Some((sink, max)) if level <= *max => sink.clone(),
            _ => return,
        }
    };
    let line = args.to_string();
    IN_SINK.with(|f| f.set(true));
    // A sink that panics must not take a tracker down with it.
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| sink(level, &line)));
    IN_SINK.with(|f| f.set(false));
}

macro_rules! log_at {
    ($level:ident, $($arg:tt)*) => {
        $crate::log::write($crate::log::Level::$level, format_args!($($arg)*))
    };
}
pub(crate) use log_at;

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::{Arc, Barrier, Mutex};
    use std::time::Duration;

    use super::*;

    /// The sink is process-wide: these tests take turns.
    static SERIAL: Mutex<()> = Mutex::new(());

    #[test]
    fn removing_the_sink_waits_for_a_call_in_flight() {
        let _watchdog = crate::test_watchdog::arm();
        let _turn = crate::sync::lock(&SERIAL);
        let entered = Arc::new(Barrier::new(2));
        let finished = Arc::new(AtomicBool::new(false));
        let (e, f) = (entered.clone(), finished.clone());
        set_sink(
            Some(Arc::new(move |_, _| {
                e.wait();
                std::thread::sleep(Duration::from_millis(50));
                f.store(true, Ordering::SeqCst);
            })),
            Level::Debug,
        );
        let writer = std::thread::spawn(|| log_at!(Info, "slow line"));
        entered.wait();
        set_sink(None, Level::Debug);
        assert!(
            finished.load(Ordering::SeqCst),
            "set_sink returned while the old sink still ran"
        );
        writer.join().unwrap();
    }

    #[test]
    fn levels_filter_and_nested_lines_are_dropped() {
        let _watchdog = crate::test_watchdog::arm();
        let _turn = crate::sync::lock(&SERIAL);
        let lines = Arc::new(AtomicUsize::new(0));
        let seen = lines.clone();
        set_sink(
            Some(Arc::new(move |_, line: &str| {
                // Other tests of this binary may log meanwhile: count only this test's lines.
                if line == "kept" || line == "from inside the sink" {
                    seen.fetch_add(1, Ordering::SeqCst);
                }
                log_at!(Error, "from inside the sink");
            })),
            Level::Warn,
        );
        log_at!(Error, "kept");
        log_at!(Warn, "kept");
        log_at!(Info, "dropped by level");
        set_sink(None, Level::Debug);
        log_at!(Error, "no sink");
        assert_eq!(lines.load(Ordering::SeqCst), 2);
    }
}
