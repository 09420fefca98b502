//! A wall-clock watchdog for tests: a test that runs too long FAILS, naming itself, instead of
//! hanging the suite.
//!
//! Every test starts with `let _watchdog = watchdog::arm();` (120 s) or, when it declares a longer
//! (or shorter) bound, `watchdog::arm_for(Duration::from_secs(n))`. The guard disarms when it is
//! dropped, at the end of the test (or when it panics). A paused tokio clock cannot stop a busy
//! loop: this watchdog runs on its own OS thread and reads the real (monotonic) clock, so it fires
//! even when the test's runtime never yields to its timers.
//!
//! A hung test cannot be stopped from inside the process, so when a deadline passes the watchdog
//! writes `test <name> FAILED: ...` to stderr (straight to the file descriptor: libtest's output
//! capture does not swallow it) and ends the test binary with exit status 101, the status of a
//! failed libtest run: `cargo test` then reports the binary as failed. The name is the test
//! thread's name, which libtest sets to the test's path.
//!
//! Shared by every test crate of the workspace: `tests/common` (integration tests), the library's
//! and the simulator's unit tests (`#[cfg(test)] #[path = ...] mod test_watchdog;`), and
//! `sim/tests/common`. Proved by `watchdog_turns_a_hang_into_a_named_failure` in
//! `tests/lifecycle.rs`.
#![allow(dead_code)] // each crate uses a subset

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The bound of a test that does not declare its own.
pub const DEFAULT_LIMIT: Duration = Duration::from_secs(120);

/// The exit status of the test binary when a watchdog fires (libtest's own for a failed run).
pub const EXIT_STATUS: i32 = 101;

/// An armed watchdog: dropping it (at the end of the test) disarms it.
#[must_use = "the watchdog is disarmed as soon as the guard is dropped"]
pub struct Guard {
    id: u64,
}

/// Arms a watchdog of [`DEFAULT_LIMIT`] for the calling test.
pub fn arm() -> Guard {
    arm_for(DEFAULT_LIMIT)
}

/// Arms a watchdog of `limit` for the calling test (named after the current thread).
pub fn arm_for(limit: Duration) -> Guard {
    let name = std::thread::current()
        .name()
        .unwrap_or("<unnamed test thread>")
        .to_string();
    let watch = watchdog();
    let mut state = lock(watch);
    state.next_id += 1;
    let id = state.next_id;
    state.armed.insert(
        id,
        Armed {
            name,
            limit,
            deadline: Instant::now() + limit,
        },
    );
    watch.changed.notify_all();
    Guard { id }
}

impl Drop for Guard {
    fn drop(&mut self) {
        let watch = watchdog();
        lock(watch).armed.remove(&self.id);
        watch.changed.notify_all();
    }
}

struct Armed {
    name: String,
    limit: Duration,
    deadline: Instant,
}

#[derive(Default)]
struct State {
    next_id: u64,
    armed: HashMap<u64, Armed>,
}

struct Watch {
    state: Mutex<State>,
    changed: Condvar,
}

/// The process's watchdog; its thread starts with the first armed test.
fn watchdog() -> &'static Watch {
    static WATCH: OnceLock<Watch> = OnceLock::new();
    static STARTED: OnceLock<()> = OnceLock::new();
    let watch = WATCH.get_or_init(|| Watch {
        state: Mutex::new(State::default()),
        changed: Condvar::new(),
    });
    STARTED.get_or_init(|| {
        std::thread::Builder::new()
            .name("test-watchdog".into())
            .spawn(move || run(watch))
            .expect("cannot start the test watchdog thread");
    });
    watch
}

/// A panicking test may poison the lock: the state stays consistent (one insert or remove).
fn lock(watch: &Watch) -> std::sync::MutexGuard<'_, State> {
    watch.state.lock().unwrap_or_else(|e| e.into_inner())
}

fn run(watch: &'static Watch) -> ! {
    let mut state = lock(watch);
    loop {
        let now = Instant::now();
        let expired = state.armed.values().find(|a| a.deadline <= now);
        if let Some(a) = expired {
            let message = format!(
                "\ntest {} FAILED: still running after its {} s wall-clock watchdog \
                 (tests/common/watchdog.rs); ending the test binary with status {EXIT_STATUS}\n",
                a.name,
                a.limit.as_secs_f64(),
            );
            let mut stderr = std::io::stderr();
            let _ = stderr.write_all(message.as_bytes());
            let _ = stderr.flush();
            std::process::exit(EXIT_STATUS);
        }
        let next = state.armed.values().map(|a| a.deadline).min();
        state = match next {
            Some(deadline) => {
                watch
                    .changed
                    .wait_timeout(state, deadline.saturating_duration_since(now))
                    .unwrap_or_else(|e| e.into_inner())
                    .0
            }
            None => watch.changed.wait(state).unwrap_or_else(|e| e.into_inner()),
        };
    }
}
