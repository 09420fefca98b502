//! Delivers events to listeners with three promises: events of one handle arrive in order, each
//! handle gets exactly one last event, and once `remove` returns no listener call for that handle
//! starts or is still running (unless `remove` is called from inside that very call).
//!
//! Where listeners run:
//! - **Direct**: on the library's own callback thread (`xo-callbacks`), which does no I/O. A slow
//!   host callback delays only other callbacks, never socket reads, pings, timers or requests.
//! - **Queued**: on the thread that calls [`Dispatcher::dispatch`] (a game's main thread).
//!
//! Listener calls never overlap (one gate), so a host needs no locking of its own. `remove` waits
//! only for a running call of *its own* handle: cancelling one order never waits for another
//! order's slow callback. Log lines about a listener are written after the call has fully ended,
//! so a log sink may call back into the library.

use std::cell::Cell;
use std::collections::{HashMap, VecDeque};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

use crate::config::Delivery;
use crate::events::Event;
use crate::fault::fault_point;
use crate::log::log_at;
use crate::sync::lock;

/// A host's event handler.
pub type Listener = Box<dyn FnMut(&Event) + Send>;

thread_local! {
    static IN_LISTENER: Cell<bool> = const { Cell::new(false) };
}

/// Whether the current thread is inside a listener call.
pub fn in_listener() -> bool {
    IN_LISTENER.with(Cell::get)
}

/// Why a listener could not be registered.
#[derive(Debug, PartialEq, Eq)]
pub struct Closed;

/// Routes events to listeners, on the callback thread or through `dispatch`.
pub struct Dispatcher {
    inner: Arc<Inner>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

struct Inner {
    delivery: Delivery,
    /// Present = alive; `None` while its listener is being called.
    listeners: Mutex<Listeners>,
    queue: Mutex<VecDeque<Event>>,
    /// Wakes the callback thread (direct delivery).
    queued: Condvar,
    /// The callback thread waits on `queued` (set and read under the `queue` lock): only then
    /// does `emit` make the wake-up system call.
    sleeping: AtomicBool,
    /// False only when `queue` is empty (set under its lock), so `dispatch` can skip the lock.
    maybe_queued: AtomicBool,
    /// Held for the whole of each listener call: calls never overlap.
    gate: Mutex<()>,
    /// The handle whose listener is running, if any.
    running: Mutex<Option<u64>>,
    call_ended: Condvar,
    /// Threads waiting on `call_ended` (changed under the `running` lock): a listener call that
    /// ends with none skips the wake-up system call.
    waiting_for_call: AtomicUsize,
}

#[derive(Default)]
struct Listeners {
    closed: bool,
    by_handle: HashMap<u64, Option<Listener>>,
}

impl Dispatcher {
    /// A dispatcher for the given delivery mode (direct delivery starts the callback thread).
    pub fn new(delivery: Delivery) -> Dispatcher {
        crate::supervise::install_panic_hook();
        let inner = Arc::new(Inner {
            delivery,
            listeners: Mutex::default(),
            queue: Mutex::default(),
            queued: Condvar::new(),
            sleeping: AtomicBool::new(false),
            maybe_queued: AtomicBool::new(false),
            gate: Mutex::new(()),
            running: Mutex::new(None),
            call_ended: Condvar::new(),
            waiting_for_call: AtomicUsize::new(0),
        });
        let thread = match delivery {
            Delivery::Direct => {
                let inner = inner.clone();
                std::thread::Builder::new()
                    .name("xo-callbacks".into())
                    .spawn(move || inner.callback_thread())
                    .map_err(|e| log_at!(Error, "cannot start the callback thread: {e}"))
                    .ok()
            }
            Delivery::Queued | Delivery::Inline => None,
        };
        Dispatcher {
            inner,
            thread: Mutex::new(thread),
        }
    }

    /// Registers the listener of a new handle.
    pub fn register(&self, handle: u64, listener: Listener) -> Result<(), Closed> {
        let mut listeners = lock(&self.inner.listeners);
        if listeners.closed {
            return Err(Closed);
        }
        listeners.by_handle.insert(handle, Some(listener));
        Ok(())
    }

    /// Whether `handle` still has a listener (it has not had its last event delivered or been removed).
    pub fn is_registered(&self, handle: u64) -> bool {
        lock(&self.inner.listeners).by_handle.contains_key(&handle)
    }

    /// Hands an event over: to the callback thread (direct) or the queue for `dispatch` (queued).
    /// Never runs host code on the calling thread.
    pub fn emit(&self, event: Event) {
        if !self.is_registered(event.handle) {
            return;
        }
        if self.inner.delivery == Delivery::Inline {
            self.inner.deliver(event);
            return;
        }
        let mut queue = lock(&self.inner.queue);
        queue.push_back(event);
        self.inner.maybe_queued.store(true, Ordering::Release);
        let wake = self.inner.sleeping.load(Ordering::Relaxed);
        drop(queue);
        // Woken after the lock is released, so the callback thread does not wake only to block
        // on it; and only if it sleeps (a busy callback thread finds the event on its own).
        if wake {
            self.inner.queued.notify_one();
        }
    }

    /// Queued delivery: delivers up to `max` queued events on this thread; returns how many
    /// listener calls ran. With nothing queued it costs one atomic load (hosts call it every
    /// frame). With direct delivery it does nothing (the callback thread delivers).
    pub fn dispatch(&self, max: usize) -> usize {
        if self.inner.delivery != Delivery::Queued {
            return 0;
        }
        self.inner.dispatch(max)
    }

    /// How many handles are registered (alive, not yet given their last event).
    pub fn registered(&self) -> usize {
        lock(&self.inner.listeners).by_handle.len()
    }

    /// How many events wait for delivery.
    pub fn pending(&self) -> usize {
        lock(&self.inner.queue).len()
    }

    /// Stops a handle's events. Returns whether it was registered. See the module docs for the promise.
    pub fn remove(&self, handle: u64) -> bool {
        let removed = lock(&self.inner.listeners).by_handle.remove(&handle);
        lock(&self.inner.queue).retain(|e| e.handle != handle);
        if !in_listener() {
            self.inner
                .wait_while_running(|running| running == Some(handle));
        }
        removed.is_some() // the listener is dropped here, outside every lock
    }

    /// Removes every listener, refuses new ones, waits for a running call and stops the
    /// callback thread.
    pub fn close(&self) {
        let all = {
            let mut listeners = lock(&self.inner.listeners);
            listeners.closed = true;
            std::mem::take(&mut listeners.by_handle)
        };
        lock(&self.inner.queue).clear();
        self.inner.queued.notify_all();
        if !in_listener() {
            self.inner.wait_while_running(|running| running.is_some());
            if let Some(thread) = lock(&self.thread).take() {
                let _ = thread.join();
            }
        }
        drop(all);
    }

    /// Waits until nothing is queued or running (tests and benchmarks of direct delivery).
    pub fn wait_idle(&self) {
        loop {
            let idle = lock(&self.inner.queue).is_empty() && lock(&self.inner.running).is_none();
            if idle {
                return;
            }
            std::thread::sleep(std::time::Duration::from_micros(200));
        }
    }
}

impl Drop for Dispatcher {
    fn drop(&mut self) {
        lock(&self.inner.listeners).closed = true;
        self.inner.queued.notify_all();
    }
}

impl Inner {
    fn callback_thread(&self) {
        loop {
            {
                let mut queue = lock(&self.queue);
                while queue.is_empty() && !lock(&self.listeners).closed {
                    self.sleeping.store(true, Ordering::Relaxed);
                    queue = self.queued.wait(queue).unwrap_or_else(|e| e.into_inner());
                    self.sleeping.store(false, Ordering::Relaxed);
                }
            }
            if lock(&self.listeners).closed {
                return;
            }
            self.dispatch(usize::MAX);
        }
    }

    fn dispatch(&self, max: usize) -> usize {
        let mut delivered = 0;
        while delivered < max && self.maybe_queued.load(Ordering::Acquire) {
            let next = {
                let mut queue = lock(&self.queue);
                let next = queue.pop_front();
                if queue.is_empty() {
                    self.maybe_queued.store(false, Ordering::Release);
                }
                next
            };
            let Some(event) = next else { break };
            if self.deliver(event) {
                delivered += 1;
            }
        }
        delivered
    }

    fn wait_while_running(&self, busy: impl Fn(Option<u64>) -> bool) {
        let mut running = lock(&self.running);
        while busy(*running) {
            self.waiting_for_call.fetch_add(1, Ordering::Relaxed);
            running = self
                .call_ended
                .wait(running)
                .unwrap_or_else(|e| e.into_inner());
            self.waiting_for_call.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Calls the event's listener if its handle is alive; returns whether it did. A handle is
    /// unregistered before its last event is delivered: from then on it is unknown.
    fn deliver(&self, event: Event) -> bool {
        let handle = event.handle;
        let panicked = {
            let _gate = lock(&self.gate);
            let taken = {
                let mut listeners = lock(&self.listeners);
                let taken = if event.is_last() {
                    listeners.by_handle.remove(&handle).flatten()
                } else {
                    listeners.by_handle.get_mut(&handle).and_then(Option::take)
                };
                if taken.is_some() {
                    // Marked under the listeners lock: a `remove` that finds the listener gone
                    // then sees this call as running and waits for it.
                    *lock(&self.running) = Some(handle);
                }
                taken
            };
            let Some(mut listener) = taken else {
                return false;
            };
            IN_LISTENER.with(|f| f.set(true));
            let result = crate::supervise::quietly(|| {
                catch_unwind(AssertUnwindSafe(|| {
                    fault_point!("dispatch.deliver");
                    listener(&event)
                }))
            });
            IN_LISTENER.with(|f| f.set(false));
            if !event.is_last() {
                if let Some(slot) = lock(&self.listeners).by_handle.get_mut(&handle) {
                    *slot = Some(listener);
                } // else: removed meanwhile; dropped below, outside the locks
            }
            let waiters = {
                let mut running = lock(&self.running);
                *running = None;
                self.waiting_for_call.load(Ordering::Relaxed)
            };
            if waiters > 0 {
                self.call_ended.notify_all();
            }
            result.is_err()
        };
        if panicked {
            log_at!(Error, "an event listener panicked (handle {handle})");
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Barrier};
    use std::time::Duration;

    use super::*;
    use crate::events::{EventKind, Origin, Outcome};

    fn event(handle: u64, kind: EventKind) -> Event {
        Event {
            handle,
            order_id: 1,
            kind,
            status: None,
            outcome: Outcome::None,
            transport: None,
            error: None,
            contents: None,
            origin: Origin::Live,
        }
    }

    fn counting(count: &Arc<AtomicUsize>) -> Listener {
        let count = count.clone();
        Box::new(move |_| {
            count.fetch_add(1, Ordering::SeqCst);
        })
    }

    /// Dropping a dispatcher (an engine that is gone) ends its callback thread.
    #[test]
    fn dropping_the_dispatcher_ends_its_callback_thread() {
        let _watchdog = crate::test_watchdog::arm();
        let dispatcher = Dispatcher::new(Delivery::Direct);
        let thread = lock(&dispatcher.thread)
            .take()
            .expect("direct delivery has a callback thread");
        drop(dispatcher);
        thread.join().expect("the callback thread ended cleanly");
    }

    #[test]
    fn the_last_event_unregisters_and_later_events_are_dropped() {
        let _watchdog = crate::test_watchdog::arm();
        let d = Dispatcher::new(Delivery::Direct);
        let count = Arc::new(AtomicUsize::new(0));
        d.register(1, counting(&count)).unwrap();
        d.emit(event(1, EventKind::StatusChanged));
        d.emit(event(1, EventKind::Final));
        d.emit(event(1, EventKind::StatusChanged));
        d.wait_idle();
        assert_eq!(count.load(Ordering::SeqCst), 2);
        assert!(!d.is_registered(1));
        assert!(!d.remove(1));
    }

    #[test]
    fn queued_events_wait_for_dispatch_and_removed_ones_vanish() {
        let _watchdog = crate::test_watchdog::arm();
        let d = Dispatcher::new(Delivery::Queued);
        let count = Arc::new(AtomicUsize::new(0));
        d.register(1, counting(&count)).unwrap();
        d.register(2, counting(&count)).unwrap();
        for _ in 0..3 {
            d.emit(event(1, EventKind::StatusChanged));
            d.emit(event(2, EventKind::StatusChanged));
        }
        assert_eq!(count.load(Ordering::SeqCst), 0);
        assert!(d.remove(2));
        assert_eq!(d.pending(), 3);
        assert_eq!(d.dispatch(2), 2);
        assert_eq!(d.dispatch(10), 1);
        assert_eq!(count.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn remove_from_inside_the_listener_does_not_wait_for_itself() {
        let _watchdog = crate::test_watchdog::arm();
        let d = Arc::new(Dispatcher::new(Delivery::Direct));
        let inner = d.clone();
        let count = Arc::new(AtomicUsize::new(0));
        let seen = count.clone();
        d.register(
            7,
            Box::new(move |e| {
                seen.fetch_add(1, Ordering::SeqCst);
                assert!(in_listener());
                assert!(inner.remove(e.handle));
            }),
        )
        .unwrap();
        d.emit(event(7, EventKind::StatusChanged));
        d.emit(event(7, EventKind::StatusChanged));
        d.wait_idle();
        assert_eq!(count.load(Ordering::SeqCst), 1);
        assert!(!in_listener());
    }

    #[test]
    fn remove_from_another_thread_waits_for_a_running_listener() {
        let _watchdog = crate::test_watchdog::arm();
        let d = Arc::new(Dispatcher::new(Delivery::Direct));
        let entered = Arc::new(Barrier::new(2));
        let finished = Arc::new(AtomicUsize::new(0));
        let (e2, f2) = (entered.clone(), finished.clone());
        d.register(
            3,
            Box::new(move |_| {
                e2.wait();
                std::thread::sleep(Duration::from_millis(50));
                f2.store(1, Ordering::SeqCst);
            }),
        )
        .unwrap();
        let emitter = {
            let d = d.clone();
            std::thread::spawn(move || d.emit(event(3, EventKind::StatusChanged)))
        };
        entered.wait();
        assert!(d.remove(3));
        assert_eq!(
            finished.load(Ordering::SeqCst),
            1,
            "remove returned only after the call ended"
        );
        emitter.join().unwrap();
        d.emit(event(3, EventKind::StatusChanged));
        assert!(!d.is_registered(3));
    }

    #[test]
    fn a_panicking_listener_is_contained() {
        let _watchdog = crate::test_watchdog::arm();
        let d = Dispatcher::new(Delivery::Direct);
        d.register(5, Box::new(|_| panic!("host bug"))).unwrap();
        d.emit(event(5, EventKind::StatusChanged));
        d.wait_idle();
        assert!(d.is_registered(5), "still registered after the panic");
        assert!(!in_listener());
    }

    #[test]
    fn direct_listeners_run_on_the_callback_thread_not_the_emitter() {
        let _watchdog = crate::test_watchdog::arm();
        let d = Dispatcher::new(Delivery::Direct);
        let names = Arc::new(Mutex::new(Vec::new()));
        let seen = names.clone();
        d.register(
            8,
            Box::new(move |_| {
                let name = std::thread::current().name().map(str::to_owned);
                seen.lock().unwrap().push(name);
            }),
        )
        .unwrap();
        d.emit(event(8, EventKind::StatusChanged));
        d.emit(event(8, EventKind::Final));
        d.wait_idle();
        let names = names.lock().unwrap().clone();
        assert_eq!(names, vec![Some("xo-callbacks".to_owned()); 2]);
        assert_eq!(
            d.dispatch(10),
            0,
            "the host's dispatch delivers nothing in direct mode"
        );
        d.close();
    }

    #[test]
    fn cancelling_one_handle_does_not_wait_for_another_handles_slow_listener() {
        let _watchdog = crate::test_watchdog::arm();
        let d = Arc::new(Dispatcher::new(Delivery::Direct));
        let entered = Arc::new(Barrier::new(2));
        let release = Arc::new(Barrier::new(2));
        let (e2, r2) = (entered.clone(), release.clone());
        d.register(
            1,
            Box::new(move |_| {
                e2.wait();
                r2.wait(); // blocks until the main thread has cancelled handle 2
            }),
        )
        .unwrap();
        d.register(2, Box::new(|_| {})).unwrap();
        d.emit(event(1, EventKind::StatusChanged));
        entered.wait();
        // Handle 1's listener is running and blocked: removing handle 2 must not wait for it.
        assert!(d.remove(2));
        release.wait();
        d.wait_idle();
        d.close();
    }

    #[test]
    fn close_refuses_new_listeners() {
        let _watchdog = crate::test_watchdog::arm();
        let d = Dispatcher::new(Delivery::Queued);
        d.register(1, Box::new(|_| {})).unwrap();
        d.emit(event(1, EventKind::StatusChanged));
        d.close();
        assert_eq!(d.pending(), 0);
        assert_eq!(d.register(2, Box::new(|_| {})), Err(Closed));
    }
}
