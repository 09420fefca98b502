//! Supervision: no task of the library can die silently. A panic inside a supervised future is
//! caught (and kept off the host's stderr: it goes to the library's log instead), and the caller
//! decides what replaces the lost work — a final `FAILED` event for a tracker, a restart for a
//! shared socket.

use std::cell::Cell;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Once;
use std::task::{Context, Poll};

use futures_util::FutureExt;

use crate::log::log_at;

thread_local! {
    /// Set while a supervised future or an exported function runs on this thread.
    static SUPERVISED: Cell<u32> = const { Cell::new(0) };
}

static HOOK: Once = Once::new();

/// Installs (once) a panic hook that sends panics raised inside supervised code to the library's
/// log instead of stderr; every other panic goes to the hook that was there before.
pub fn install_panic_hook() {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if SUPERVISED.with(Cell::get) > 0 {
                let location = info
                    .location()
                    .map(|l| format!(" at {}:{}", l.file(), l.line()))
                    .unwrap_or_default();
                log_at!(
                    Error,
                    "a library task panicked{location}: {}",
                    panic_text(info.payload())
                );
            } else {
                previous(info);
            }
        }));
    });
}

/// The text of a panic payload.
pub fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_owned()
    }
}

/// Runs `body` as supervised code (its panics stay off stderr); used by the exported functions.
pub fn quietly<T>(body: impl FnOnce() -> T) -> T {
    SUPERVISED.with(|s| s.set(s.get() + 1));
    struct Leave;
    impl Drop for Leave {
        fn drop(&mut self) {
            SUPERVISED.with(|s| s.set(s.get().saturating_sub(1)));
        }
    }
    let _leave = Leave;
    body()
}

pin_project_lite::pin_project! {
    /// A future whose every poll runs as supervised code (held inline: no allocation of its own).
    struct Quiet<F> {
        #[pin]
        work: F,
        label: &'static str,
    }
}

impl<F: Future> Future for Quiet<F> {
    type Output = F::Output;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        #[cfg(feature = "fault-injection")]
        let label: &'static str = this.label;
        #[cfg(not(feature = "fault-injection"))]
        let _ = this.label;
        let inner = this.work;
        quietly(|| {
            // Every poll resumes the task at one of its await points: a test can fail any of them.
            #[cfg(feature = "fault-injection")]
            crate::fault::hit_poll(label);
            inner.poll(cx)
        })
    }
}

/// Runs `work` (a task of kind `label`: "tracker", "check", "socket"); a panic inside it becomes
/// `Err(text)` (logged, never printed to stderr).
pub async fn catch<F: Future>(label: &'static str, work: F) -> Result<F::Output, String> {
    install_panic_hook();
    AssertUnwindSafe(Quiet { work, label })
        .catch_unwind()
        .await
        .map_err(|payload| panic_text(payload.as_ref()))
}
