//! Where the journal meets event delivery: what the engine records when an order is tracked, what
//! it records before a final event may be delivered, and what it forgets after delivery.
//!
//! - `track`: the order is recorded (fsynced) before `Engine::track` returns.
//! - a final `Done`: recorded (fsynced, with its contents) by the tracker before it is handed to
//!   the dispatcher, so a crash after the host saw it still redelivers it.
//! - after a final `Canceled`, `Expired` or `NotFound` reached the host: forgotten.
//! - `TimedOut`, `Unauthorized`, `Failed` (tracking gave up, the order is not final) and
//!   `xo_cancel` keep the order: the next `resume_pending` tracks it again.
//! - an acknowledged order's `Done` is never handed to the host, whatever path produced it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::user::user_key;
use super::Journal;
use crate::config::Config;
use crate::dispatch::Listener;
use crate::engine::Error;
use crate::events::{Event, EventKind, Origin, Outcome};
use crate::restore::Restorer;
use crate::secret::Token;
use crate::sync::lock;

/// The journal as the engine uses it, plus which orders this process is tracking now.
pub struct Purchases {
    /// The journal.
    pub journal: Arc<Journal>,
    /// Order id to the handle of the tracker (or redelivery) serving it in this process.
    live: Arc<Mutex<HashMap<i64, u64>>>,
    /// Restore from Xsolla's Events API, when enabled.
    pub restorer: Option<Arc<Restorer>>,
}

impl Purchases {
    /// Wraps an open journal.
    pub fn new(journal: Journal, restorer: Option<Restorer>) -> Purchases {
        Purchases {
            journal: Arc::new(journal),
            live: Arc::default(),
            restorer: restorer.map(Arc::new),
        }
    }

    /// Opens the journal of `config` (which has a `journal_dir`) and its restore client.
    pub fn open(config: &Config, net: &crate::net::Network) -> Result<Option<Purchases>, String> {
        let Some(dir) = &config.journal_dir else {
            return Ok(None);
        };
        let restorer = Restorer::new(config, net)?;
        Ok(Some(Purchases::new(Journal::open(dir), restorer)))
    }

    /// Stops the restore reads and closes the journal (releasing its directory).
    pub fn shutdown(&self) {
        if let Some(r) = &self.restorer {
            r.stop();
        }
        self.journal.close();
    }

    /// Records `order` as tracked for the token's user (durably) and wraps the listener; fails
    /// for an acknowledged order.
    pub fn prepare_track(
        &self,
        order: i64,
        token: &Token,
        origin: Origin,
        listener: Listener,
    ) -> Result<Listener, Error> {
        if !self.journal.track(order, &user_key(token.expose())) {
            return Err(Error::AlreadyAcknowledged(order));
        }
        Ok(self.wrap(origin, listener))
    }

    /// Wraps a host listener: stamps `origin` on its events, withholds the `Done` of an
    /// acknowledged order, and forgets the order after a final that needs no acknowledgement.
    pub fn wrap(&self, origin: Origin, mut listener: Listener) -> Listener {
        let journal = self.journal.clone();
        let live = self.live.clone();
        Box::new(move |event: &Event| {
            let last = event.kind == EventKind::Final;
            if last && event.outcome == Outcome::Done && journal.is_acked(event.order_id) {
                return;
            }
            if event.origin == origin {
                listener(event);
            } else {
                let mut stamped = event.clone();
                stamped.origin = origin;
                listener(&stamped);
            }
            if last
                && matches!(
                    event.outcome,
                    Outcome::Canceled | Outcome::Expired | Outcome::NotFound
                )
            {
                journal.forget(event.order_id);
            }
            if last {
                let mut live = lock(&live);
                if live.get(&event.order_id) == Some(&event.handle) {
                    live.remove(&event.order_id);
                }
            }
        })
    }

    /// Remembers that `handle` serves `order` in this process.
    pub fn set_live(&self, order: i64, handle: u64) {
        lock(&self.live).insert(order, handle);
    }

    /// The handle that served `order` last in this process, if any (it may have finished).
    pub fn live_handle(&self, order: i64) -> Option<u64> {
        lock(&self.live).get(&order).copied()
    }

    /// Called by a tracker with its final event before handing it over: a `Done` is recorded
    /// durably (with its contents) first.
    pub fn before_final(&self, event: &Event) {
        if event.kind == EventKind::Final && event.outcome == Outcome::Done {
            self.journal
                .done(event.order_id, "", event.contents.clone(), None);
        }
    }
}
