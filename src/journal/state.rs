//! The journal's state, rebuilt by replaying records: which orders are unfinished, which are done
//! but not acknowledged, and which were acknowledged (so they are never delivered again).

use std::collections::{BTreeMap, HashSet, VecDeque};

use super::record::Op;

/// How many acknowledged order ids are remembered (oldest forgotten first). Far more than a
/// player makes; an order acknowledged longer ago than that is also long past any redelivery.
pub(crate) const MAX_ACKED: usize = 10_000;

/// A done order's final event, as it will be redelivered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DoneRecord {
    /// The normalised contents JSON, when known.
    pub contents: Option<String>,
    /// The Events API event id, for a restored order.
    pub event_id: Option<i64>,
}

/// One order the journal remembers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The user scope.
    pub user: String,
    /// `Some` once the order is done (waiting for acknowledgement); `None` while unfinished.
    pub done: Option<DoneRecord>,
}

/// The replayed state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct State {
    /// Unfinished and done-but-unacknowledged orders.
    pub entries: BTreeMap<i64, Entry>,
    acked: HashSet<i64>,
    acked_order: VecDeque<i64>,
}

impl State {
    /// Applies one change; returns whether it changed anything.
    pub fn apply(&mut self, op: &Op) -> bool {
        match op {
            Op::Track { order, user } => {
                if self.acked.contains(order) {
                    return false;
                }
                match self.entries.get_mut(order) {
                    Some(e) if e.done.is_none() && e.user != *user => {
                        e.user.clone_from(user);
                        true
                    }
                    Some(_) => false,
                    None => {
                        self.entries.insert(
                            *order,
                            Entry {
                                user: user.clone(),
                                done: None,
                            },
                        );
                        true
                    }
                }
            }
            Op::Done {
                order,
                user,
                contents,
                event_id,
            } => {
                if self.acked.contains(order) {
                    return false;
                }
                let entry = self.entries.entry(*order).or_insert_with(|| Entry {
                    user: user.clone(),
                    done: None,
                });
                let event_id = event_id.or(entry.done.as_ref().and_then(|d| d.event_id));
                let contents = contents
                    .clone()
                    .or_else(|| entry.done.as_ref().and_then(|d| d.contents.clone()));
                let done = Some(DoneRecord { contents, event_id });
                if entry.done == done {
                    return false;
                }
                entry.done = done;
                true
            }
            Op::Ack { order } => {
                self.entries.remove(order);
                if !self.acked.insert(*order) {
                    return false;
                }
                self.acked_order.push_back(*order);
                while self.acked_order.len() > MAX_ACKED {
                    if let Some(old) = self.acked_order.pop_front() {
                        self.acked.remove(&old);
                    }
                }
                true
            }
            Op::Forget { order } => match self.entries.get(order) {
                Some(e) if e.done.is_none() => {
                    self.entries.remove(order);
                    true
                }
                _ => false,
            },
        }
    }

    /// Whether the order was acknowledged.
    pub fn is_acked(&self, order: i64) -> bool {
        self.acked.contains(&order)
    }

    /// The records that rebuild this state (what compaction writes).
    pub fn snapshot(&self) -> Vec<Op> {
        let mut ops: Vec<Op> = self
            .acked_order
            .iter()
            .map(|&order| Op::Ack { order })
            .collect();
        for (&order, entry) in &self.entries {
            ops.push(match &entry.done {
                None => Op::Track {
                    order,
                    user: entry.user.clone(),
                },
                Some(done) => Op::Done {
                    order,
                    user: entry.user.clone(),
                    contents: done.contents.clone(),
                    event_id: done.event_id,
                },
            });
        }
        ops
    }
}
