//! Shutdown signalling and task accounting.
//!
//! Every task the simulator spawns is counted, so that [`Lifecycle::wait_idle`] can tell when the
//! last connection has been closed after a stop was requested. Both signals are `watch` channels,
//! so waiting is event driven (no polling timers that would keep a paused clock busy).

use std::future::Future;
use std::sync::Arc;

use tokio::runtime::Handle;
use tokio::sync::watch;
use tokio::task::AbortHandle;

/// Stop flag plus a count of live simulator tasks.
#[derive(Debug)]
pub(crate) struct Lifecycle {
    /// The runtime the simulator was started on; tasks are spawned there even when a handle
    /// method is called from another thread.
    runtime: Handle,
    stop: watch::Sender<bool>,
    tasks: Arc<watch::Sender<usize>>,
}

/// Decrements the task count when the task ends (normally, by abort, or by panic).
struct TaskGuard(Arc<watch::Sender<usize>>);

impl Drop for TaskGuard {
    fn drop(&mut self) {
        self.0.send_modify(|n| *n = n.saturating_sub(1));
    }
}

impl Lifecycle {
    /// Must be called within a tokio runtime, which then runs every simulator task.
    pub(crate) fn new() -> Self {
        Lifecycle {
            runtime: Handle::current(),
            stop: watch::Sender::new(false),
            tasks: Arc::new(watch::Sender::new(0)),
        }
    }

    /// Asks every task to finish. Idempotent.
    pub(crate) fn request_stop(&self) {
        self.stop.send_replace(true);
    }

    /// Whether a stop has been requested.
    pub(crate) fn is_stopping(&self) -> bool {
        *self.stop.borrow()
    }

    /// Resolves once a stop has been requested (at once if it already was).
    pub(crate) async fn stopped(&self) {
        let mut rx = self.stop.subscribe();
        // The sender lives as long as `self`, so an error cannot happen while we are borrowed.
        let _ = rx.wait_for(|stop| *stop).await;
    }

    /// Spawns a counted task on the simulator's runtime.
    pub(crate) fn spawn<F>(&self, fut: F) -> AbortHandle
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.tasks.send_modify(|n| *n += 1);
        let guard = TaskGuard(Arc::clone(&self.tasks));
        self.runtime
            .spawn(async move {
                let _guard = guard;
                fut.await;
            })
            .abort_handle()
    }

    /// Resolves when no counted task is left.
    pub(crate) async fn wait_idle(&self) {
        let mut rx = self.tasks.subscribe();
        let _ = rx.wait_for(|n| *n == 0).await;
    }
}
