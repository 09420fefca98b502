//! Capped exponential backoff with full jitter (the centrifuge-js formula).

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::time::Duration;

/// Reconnect delays: `min + random(0 ..= min(max - min, min * 2^attempt))`.
#[derive(Clone, Copy, Debug)]
pub struct Backoff {
    /// Delay floor.
    pub min: Duration,
    /// Delay ceiling.
    pub max: Duration,
}

impl Backoff {
    /// The delay before retry number `attempt` (0-based).
    pub fn delay(&self, attempt: u32) -> Duration {
        let min = self.min.as_millis() as u64;
        let max = self.max.as_millis().max(self.min.as_millis()) as u64;
        let span = min.saturating_mul(1u64 << attempt.min(31)).min(max - min);
        Duration::from_millis(min + random_below(span + 1))
    }
}

/// A uniformly distributed number in `0..bound` (bound > 0), from the OS-seeded hasher keys.
fn random_below(bound: u64) -> u64 {
    RandomState::new().hash_one(0u8) % bound
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_stay_within_bounds_and_grow() {
        let _watchdog = crate::test_watchdog::arm();
        let b = Backoff {
            min: Duration::from_millis(500),
            max: Duration::from_secs(20),
        };
        for attempt in 0..40 {
            let d = b.delay(attempt);
            assert!(d >= b.min && d <= b.max, "attempt {attempt}: {d:?}");
        }
        assert!(b.delay(0) <= Duration::from_millis(1000));
        let late: Vec<_> = (0..50).map(|_| b.delay(10)).collect();
        assert!(
            late.iter().any(|d| *d > Duration::from_secs(2)),
            "jitter spreads up to the cap"
        );
    }
}
