//! Delivers events to listeners with three promises: events of one handle arrive in order, each
//! handle gets exactly one last event, and once `remove` returns no listener call for that handle
//! starts or is still running (unless `remove` is called from inside that very call).
//!
//! Every listener call holds one global gate, so `remove` from another thread waits for a running
//! call to finish; a call from inside a listener skips the wait (it is that call).

use std::cell::Cell;
use std::collections::{HashMap, VecDeque};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use crate::config::Delivery;
use crate::events::Event;
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

/// Routes events to listeners, directly or through a queue.
pub struct Dispatcher {
    delivery: Delivery,
    /// Present = alive; `None` while its listener is being called.
    listeners: Mutex<Listeners>,
    queue: Mutex<VecDeque<Event>>,
    /// False only when `queue` is empty (set under its lock), so `dispatch` can skip the lock.
    maybe_queued: AtomicBool,
    gate: Mutex<()>,
}

#[derive(Default)]
struct Listeners {
    closed: bool,
    by_handle: HashMap<u64, Option<Listener>>,
}

impl Dispatcher {
    /// A dispatcher for the given delivery mode.
    pub fn new(delivery: Delivery) -> Dispatcher {
        Dispatcher {
            delivery,
            listeners: Mutex::default(),
            queue: Mutex::default(),
            maybe_queued: AtomicBool::new(false),
            gate: Mutex::new(()),
        }
    }

    /// Registers the listener of a new handle.
    pub fn register(&self, handle: u64, listener: Listener) -> Result<(), Closed> {
        let mut listeners = lock(&self.listeners);
        if listeners.closed {
            return Err(Closed);
        }
        listeners.by_handle.insert(handle, Some(listener));
        Ok(())
    }

    /// Whether `handle` still has a listener (it has not had its last event delivered or been removed).
    pub fn is_registered(&self, handle: u64) -> bool {
        lock(&self.listeners).by_handle.contains_key(&handle)
    }

    /// Hands an event over: calls the listener now (direct) or queues it (queued).
    pub fn emit(&self, event: Event) {
        match self.delivery {
            Delivery::Direct => {
                self.deliver(event);
            }
            Delivery::Queued => {
                if self.is_registered(event.handle) {
                    let mut queue = lock(&self.queue);
                    queue.push_back(event);
                    self.maybe_queued.store(true, Ordering::Release);
                }
            }
        }
    }

    /// Delivers up to `max` queued events on this thread; returns how many listener calls ran.
    /// With nothing queued it costs one atomic load (hosts call it every frame).
    pub fn dispatch(&self, max: usize) -> usize {
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

    /// How many handles are registered (alive, not yet given their last event).
    pub fn registered(&self) -> usize {
        lock(&self.listeners).by_handle.len()
    }

    /// How many events wait for `dispatch`.
    pub fn pending(&self) -> usize {
        lock(&self.queue).len()
    }

    /// Stops a handle's events. Returns whether it was registered. See the module docs for the promise.
    pub fn remove(&self, handle: u64) -> bool {
        let removed = lock(&self.listeners).by_handle.remove(&handle);
        lock(&self.queue).retain(|e| e.handle != handle);
        self.wait_for_running_listener();
        removed.is_some() // the listener is dropped here, outside every lock
    }

    /// Removes every listener and refuses new ones.
    pub fn close(&self) {
        let all = {
            let mut listeners = lock(&self.listeners);
            listeners.closed = true;
            std::mem::take(&mut listeners.by_handle)
        };
        lock(&self.queue).clear();
        self.wait_for_running_listener();
        drop(all);
    }

    fn wait_for_running_listener(&self) {
        if !in_listener() {
            drop(lock(&self.gate));
        }
    }

    /// Calls the event's listener if its handle is alive; returns whether it did. A handle is
    /// unregistered before its last event is delivered: from then on it is unknown.
    fn deliver(&self, event: Event) -> bool {
        let _gate = lock(&self.gate);
        let taken = {
            let mut listeners = lock(&self.listeners);
            if event.is_last() {
                listeners.by_handle.remove(&event.handle).flatten()
            } else {
                listeners
                    .by_handle
                    .get_mut(&event.handle)
                    .and_then(Option::take)
            }
        };
        let Some(mut listener) = taken else {
            return false;
        };
        IN_LISTENER.with(|f| f.set(true));
        let result = catch_unwind(AssertUnwindSafe(|| listener(&event)));
        IN_LISTENER.with(|f| f.set(false));
        if result.is_err() {
            log_at!(
                Error,
                "an event listener panicked (handle {})",
                event.handle
            );
        }
        if !event.is_last() {
            if let Some(slot) = lock(&self.listeners).by_handle.get_mut(&event.handle) {
                *slot = Some(listener);
            } // else: removed from inside its own call
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

    #[test]
    fn the_last_event_unregisters_and_later_events_are_dropped() {
        let d = Dispatcher::new(Delivery::Direct);
        let count = Arc::new(AtomicUsize::new(0));
        d.register(1, counting(&count)).unwrap();
        d.emit(event(1, EventKind::StatusChanged));
        d.emit(event(1, EventKind::Final));
        d.emit(event(1, EventKind::StatusChanged));
        assert_eq!(count.load(Ordering::SeqCst), 2);
        assert!(!d.is_registered(1));
        assert!(!d.remove(1));
    }

    #[test]
    fn queued_events_wait_for_dispatch_and_removed_ones_vanish() {
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
        assert_eq!(count.load(Ordering::SeqCst), 1);
        assert!(!in_listener());
    }

    #[test]
    fn remove_from_another_thread_waits_for_a_running_listener() {
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
        let d = Dispatcher::new(Delivery::Direct);
        d.register(5, Box::new(|_| panic!("host bug"))).unwrap();
        d.emit(event(5, EventKind::StatusChanged));
        assert!(d.is_registered(5), "still registered after the panic");
        assert!(!in_listener());
    }

    #[test]
    fn close_refuses_new_listeners() {
        let d = Dispatcher::new(Delivery::Queued);
        d.register(1, Box::new(|_| {})).unwrap();
        d.emit(event(1, EventKind::StatusChanged));
        d.close();
        assert_eq!(d.pending(), 0);
        assert_eq!(d.register(2, Box::new(|_| {})), Err(Closed));
    }
}
