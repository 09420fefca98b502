//! The library's log: off unless the host installs a sink. Messages never contain tokens
//! (they are [`crate::Token`]s, which print as `<redacted>`).

use std::fmt;
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

/// Installs (or with `None` removes) the process-wide log sink; lines above `max_level` are dropped.
pub fn set_sink(sink: Option<LogSink>, max_level: Level) {
    let mut slot = SINK.write().unwrap_or_else(|e| e.into_inner());
    *slot = sink.map(|s| (s, max_level));
}

/// Formats and sends one line to the sink, if one is installed and wants this level.
pub fn write(level: Level, args: fmt::Arguments<'_>) {
    let sink = {
        let slot = SINK.read().unwrap_or_else(|e| e.into_inner());
        match slot.as_ref() {
            Some((sink, max)) if level <= *max => sink.clone(),
            _ => return,
        }
    };
    let line = args.to_string();
    // A sink that panics must not take a tracker down with it.
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| sink(level, &line)));
}

macro_rules! log_at {
    ($level:ident, $($arg:tt)*) => {
        $crate::log::write($crate::log::Level::$level, format_args!($($arg)*))
    };
}
pub(crate) use log_at;
