//! The engine's journal calls: resume a user's orders after a restart, and acknowledge a grant.

use super::delivery::Purchases;
use super::user::user_key;
use super::Acked;
use crate::dispatch::Listener;
use crate::engine::{Engine, Error};
use crate::events::{Event, EventKind, Origin, Outcome, Status};
use crate::restore::ListenerFactory;
use crate::secret::Token;

impl Engine {
    /// Resumes the orders of the token's user from the journal: every unfinished one is tracked
    /// again with this token (a new handle each), every done-but-unacknowledged one gets its final
    /// `Done` again at once (no network needed), both with `Origin::Redelivered` (or `Restored`
    /// for purchases restored from Xsolla). Orders already served by a live handle of this process
    /// are skipped. `listener` makes the listener of each new handle. Returns how many orders it
    /// resumed or redelivered (0 without a journal).
    ///
    /// With restore enabled, also starts reading the user's purchases from Xsolla's Events API
    /// (in the background: those arrive later, on handles of their own, `Origin::Restored`).
    pub fn resume_pending(&self, token: Token, listener: ListenerFactory) -> Result<usize, Error> {
        let Some(purchases) = &self.shared().purchases else {
            return Ok(0);
        };
        let user = user_key(token.expose());
        if let Some(restorer) = &purchases.restorer {
            restorer.start(self, user.clone(), token.clone(), listener.clone());
        }
        let mut count = 0;
        for (order, entry) in purchases.journal.pending_for(&user) {
            if self.is_served(purchases, order) {
                continue;
            }
            match entry.done {
                None => {
                    match self.track_as(order, token.clone(), listener(), Origin::Redelivered) {
                        Ok(_) => count += 1,
                        Err(Error::AlreadyAcknowledged(_)) => {}
                        Err(e) => return Err(e),
                    }
                }
                Some(done) => {
                    let origin = if done.event_id.is_some() {
                        Origin::Restored
                    } else {
                        Origin::Redelivered
                    };
                    self.redeliver(purchases, order, done.contents, origin, listener())?;
                    count += 1;
                }
            }
        }
        Ok(count)
    }

    /// Delivers a journaled `Done` again on a new handle (from a runtime thread, like any event).
    pub(crate) fn redeliver(
        &self,
        purchases: &Purchases,
        order: i64,
        contents: Option<String>,
        origin: Origin,
        listener: Listener,
    ) -> Result<u64, Error> {
        let handle = self.register(purchases.wrap(origin, listener))?;
        purchases.set_live(order, handle);
        let event = Event {
            handle,
            order_id: order,
            kind: EventKind::Final,
            status: Some(Status::Done),
            outcome: Outcome::Done,
            transport: None,
            error: None,
            contents,
            origin,
        };
        self.spawn(
            handle,
            order,
            EventKind::Final,
            std::future::ready(Some(event)),
            None,
        );
        Ok(handle)
    }

    fn is_served(&self, purchases: &Purchases, order: i64) -> bool {
        purchases
            .live_handle(order)
            .is_some_and(|h| self.shared().dispatcher.is_registered(h))
    }

    /// The host granted the order's items: it is never delivered again, by any path. Durable
    /// before it returns; idempotent. Acknowledging an unfinished order stops its tracker (as
    /// `cancel` does) and forgets it. Without a journal it does nothing and succeeds (nothing is
    /// ever redelivered then). Errors: `UnknownOrder`, or `JournalUnavailable` when the
    /// acknowledgement could only be kept in memory.
    pub fn acknowledge(&self, order: i64) -> Result<(), Error> {
        if order <= 0 {
            return Err(Error::InvalidArgument(format!(
                "order_id must be positive, got {order}"
            )));
        }
        let Some(purchases) = &self.shared().purchases else {
            return Ok(());
        };
        let entry = purchases.journal.entry(order);
        let unfinished = entry.as_ref().is_some_and(|e| e.done.is_none());
        match purchases.journal.acknowledge(order) {
            Acked::Unknown => return Err(Error::UnknownOrder(order)),
            Acked::Recorded { event_id } => {
                if let (Some(event_id), Some(restorer), Some(entry)) =
                    (event_id, &purchases.restorer, &entry)
                {
                    restorer.acknowledged(self, &entry.user, event_id);
                }
            }
        }
        if unfinished {
            if let Some(handle) = purchases.live_handle(order) {
                let _ = self.cancel(handle); // already finished is fine
            }
        }
        match purchases.journal.problem() {
            Some(problem) => Err(Error::JournalUnavailable(problem)),
            None => Ok(()),
        }
    }

    /// Whether the journal writes to disk: `Err(JournalUnavailable)` says why not (also when no
    /// journal is configured).
    pub fn journal_status(&self) -> Result<(), Error> {
        match &self.shared().purchases {
            None => Err(Error::JournalUnavailable(
                "no journal_dir is configured".to_owned(),
            )),
            Some(p) => match p.journal.problem() {
                Some(problem) => Err(Error::JournalUnavailable(problem)),
                None => Ok(()),
            },
        }
    }
}
