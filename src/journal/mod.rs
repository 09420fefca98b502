//! The purchase journal: remembers every tracked order on disk so that a `done` is delivered
//! again after a crash or restart until the game acknowledges it, and never after.
//!
//! Pure Rust, no C. Storage is an append-only log of checksummed records ([`record`]) in one
//! directory ([`storage::FsStorage`]), compacted by writing a snapshot to a temporary file,
//! fsyncing it, renaming it over the log and fsyncing the directory; the log is compacted at every
//! open (which also drops a torn or corrupted tail) and when it grows. What must survive a crash
//! is fsynced before the call that records it returns: a tracked order, a `done`, an
//! acknowledgement. A forget (a non-`done` final was delivered) is not: losing it only means that
//! final is delivered once more.
//!
//! When the directory cannot be used (missing and not creatable, read-only, full, locked by
//! another process, failing writes), the journal keeps working in memory only: tracking goes on,
//! nothing is redelivered after a restart, and [`Journal::problem`] says why (also logged once).

pub mod delivery;
pub mod record;
pub mod resume;
pub mod state;
pub mod storage;
pub mod user;

use std::path::Path;
use std::sync::Mutex;

use crate::log::log_at;
use crate::sync::lock;
use record::{Op, MAGIC};
pub use state::{DoneRecord, Entry, State};
pub use storage::{FsStorage, OpenError, Storage};

/// Compaction runs when the log has grown by this many bytes since the last snapshot, and to
/// more than four times that snapshot.
pub(crate) const COMPACT_AFTER_BYTES: usize = 64 * 1024;

/// Test hook: `XO_JOURNAL_TEST_COMPACT_BYTES=<n>` compacts after `n` bytes of growth instead, so
/// a kill test lands inside compactions that run in the middle of tracking.
const COMPACT_ENV: &str = "XO_JOURNAL_TEST_COMPACT_BYTES";

/// What an acknowledgement did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Acked {
    /// Recorded (durably, unless the journal is memory only), or already acknowledged before.
    /// Carries the Events API event id of a restored order, to be marked processed.
    Recorded {
        /// The Events API event id, for a restored order.
        event_id: Option<i64>,
    },
    /// The journal does not know this order (never tracked with a journal, or already forgotten).
    Unknown,
}

/// The journal. Thread-safe; every method is short (one append, maybe an fsync).
pub struct Journal {
    inner: Mutex<Inner>,
}

struct Inner {
    state: State,
    store: Option<Box<dyn Storage>>,
    problem: Option<String>,
    /// Log bytes written since the last snapshot, and that snapshot's size.
    grown: usize,
    snapshot_len: usize,
    /// `Some`: compact after this much growth, whatever the snapshot's size (tests).
    compact_after: Option<usize>,
}

impl Journal {
    /// Opens (creating if needed) the journal in `dir`. Never fails: when the directory cannot be
    /// used the journal is memory only and [`Journal::problem`] says why.
    pub fn open(dir: &Path) -> Journal {
        let compact_after = std::env::var(COMPACT_ENV)
            .ok()
            .and_then(|v| v.parse::<usize>().ok());
        match FsStorage::open(dir) {
            Ok(store) => match compact_after {
                Some(bytes) => Journal::with_storage_compacting_after(Box::new(store), bytes),
                None => Journal::with_storage(Box::new(store)),
            },
            Err(e) => Journal::memory_only(e.to_string()),
        }
    }

    /// A journal on any store (tests plug in failing ones). Recovers the last complete state and
    /// compacts the log.
    pub fn with_storage(store: Box<dyn Storage>) -> Journal {
        Journal::open_store(store, None)
    }

    /// `with_storage`, compacting whenever the log grew by `compact_after` bytes (tests: many
    /// compactions), instead of after 64 KiB and four times the last snapshot.
    pub fn with_storage_compacting_after(store: Box<dyn Storage>, compact_after: usize) -> Journal {
        Journal::open_store(store, Some(compact_after))
    }

    fn open_store(mut store: Box<dyn Storage>, compact_after: Option<usize>) -> Journal {
        let bytes = match store.load() {
            Ok(bytes) => bytes,
            Err(e) => return Journal::memory_only(format!("cannot read the journal: {e}")),
        };
        let decoded = record::decode(&bytes);
        if decoded.damaged {
            log_at!(
                Warn,
                "journal: ignored {} damaged bytes after the last complete record (a torn write or corruption)",
                bytes.len() - decoded.valid_len
            );
        }
        let mut state = State::default();
        for op in &decoded.ops {
            state.apply(op);
        }
        let mut inner = Inner {
            state,
            store: Some(store),
            problem: None,
            grown: 0,
            snapshot_len: 0,
            compact_after,
        };
        inner.compact();
        Journal {
            inner: Mutex::new(inner),
        }
    }

    /// A journal that keeps everything in memory, reporting `problem`.
    pub fn memory_only(problem: String) -> Journal {
        log_at!(
            Error,
            "journal unavailable, purchases are kept in memory only: {problem}"
        );
        Journal {
            inner: Mutex::new(Inner {
                state: State::default(),
                store: None,
                problem: Some(problem),
                grown: 0,
                snapshot_len: 0,
                compact_after: None,
            }),
        }
    }

    /// Why the journal is memory only (`None` while it writes to disk).
    pub fn problem(&self) -> Option<String> {
        lock(&self.inner).problem.clone()
    }

    /// Records that `order` is tracked for `user`, durably. Returns false (recording nothing) when
    /// the order was already acknowledged.
    pub fn track(&self, order: i64, user: &str) -> bool {
        let mut inner = lock(&self.inner);
        if inner.state.is_acked(order) {
            return false;
        }
        inner.record(
            Op::Track {
                order,
                user: user.to_owned(),
            },
            true,
        );
        true
    }

    /// Records that `order` is done, durably, before its final event may be delivered. Returns
    /// false when the order was already acknowledged (the event must not be delivered).
    pub fn done(
        &self,
        order: i64,
        user: &str,
        contents: Option<String>,
        event_id: Option<i64>,
    ) -> bool {
        let mut inner = lock(&self.inner);
        if inner.state.is_acked(order) {
            return false;
        }
        let user = inner
            .state
            .entries
            .get(&order)
            .map_or_else(|| user.to_owned(), |e| e.user.clone());
        inner.record(
            Op::Done {
                order,
                user,
                contents,
                event_id,
            },
            true,
        );
        true
    }

    /// The host granted the order: never deliver it again. Durable before it returns.
    /// Idempotent.
    pub fn acknowledge(&self, order: i64) -> Acked {
        let mut inner = lock(&self.inner);
        if inner.state.is_acked(order) {
            return Acked::Recorded { event_id: None };
        }
        let Some(entry) = inner.state.entries.get(&order) else {
            return Acked::Unknown;
        };
        let event_id = entry.done.as_ref().and_then(|d| d.event_id);
        inner.record(Op::Ack { order }, true);
        Acked::Recorded { event_id }
    }

    /// A final other than done was delivered: forget the order (not fsynced: if lost, the final
    /// is delivered once more after a restart).
    pub fn forget(&self, order: i64) {
        let mut inner = lock(&self.inner);
        if matches!(inner.state.entries.get(&order), Some(e) if e.done.is_none()) {
            inner.record(Op::Forget { order }, false);
        }
    }

    /// Whether the order was acknowledged.
    pub fn is_acked(&self, order: i64) -> bool {
        lock(&self.inner).state.is_acked(order)
    }

    /// The journal's entry for an order, if any.
    pub fn entry(&self, order: i64) -> Option<Entry> {
        lock(&self.inner).state.entries.get(&order).cloned()
    }

    /// Every unfinished or done-but-unacknowledged order of `user`, by order id.
    pub fn pending_for(&self, user: &str) -> Vec<(i64, Entry)> {
        lock(&self.inner)
            .state
            .entries
            .iter()
            .filter(|(_, e)| e.user == user)
            .map(|(&o, e)| (o, e.clone()))
            .collect()
    }

    /// A copy of the whole state (tests, benchmarks).
    pub fn state(&self) -> State {
        lock(&self.inner).state.clone()
    }

    /// Makes pending writes durable and releases the directory (its lock); the journal is memory
    /// only afterwards.
    pub fn close(&self) {
        let mut inner = lock(&self.inner);
        if let Some(mut store) = inner.store.take() {
            if let Err(e) = store.sync() {
                log_at!(Error, "journal: final sync failed: {e}");
            }
        }
        inner
            .problem
            .get_or_insert_with(|| "the journal was closed".to_owned());
    }
}

impl Inner {
    /// Applies `op` in memory and appends it (fsynced when `durable`). A write failure switches
    /// to memory only: the state in memory stays right; the disk keeps a prefix of it.
    fn record(&mut self, op: Op, durable: bool) {
        if !self.state.apply(&op) {
            return;
        }
        let Some(store) = self.store.as_mut() else {
            return;
        };
        let bytes = record::encode(&op);
        let written = store
            .append(&bytes)
            .and_then(|()| if durable { store.sync() } else { Ok(()) });
        match written {
            Ok(()) => {
                self.grown += bytes.len();
                let due = match self.compact_after {
                    Some(bytes) => self.grown > bytes,
                    None => self.grown > COMPACT_AFTER_BYTES && self.grown > 4 * self.snapshot_len,
                };
                if due {
                    self.compact();
                }
            }
            Err(e) => self.fail(format!("cannot write the journal: {e}")),
        }
    }

    /// Rewrites the log as a snapshot of the state (atomic replace).
    fn compact(&mut self) {
        let Some(store) = self.store.as_mut() else {
            return;
        };
        let mut bytes = MAGIC.to_vec();
        for op in self.state.snapshot() {
            bytes.extend(record::encode(&op));
        }
        match store.replace(&bytes) {
            Ok(()) => {
                self.snapshot_len = bytes.len();
                self.grown = 0;
            }
            Err(e) => self.fail(format!("cannot compact the journal: {e}")),
        }
    }

    fn fail(&mut self, problem: String) {
        log_at!(
            Error,
            "journal unavailable from now on, purchases are kept in memory only: {problem}"
        );
        self.store = None;
        self.problem = Some(problem);
    }
}
