//! Mutexes that keep working after a panic elsewhere: a host callback that panicked while the
//! library held a lock must not make every later call fail too (what the lock guards is always
//! left consistent between statements).

use std::sync::{Mutex, MutexGuard};

/// Locks `m`, ignoring poisoning.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
