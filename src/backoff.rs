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
    /// The delay before retry number `attempt` (0-based), with OS-seeded jitter.
    pub fn delay(&self, attempt: u32) -> Duration {
        self.delay_with(attempt, RandomState::new().hash_one(0u8))
    }

    /// The delay before retry number `attempt` (0-based), with the jitter drawn from `random`
    /// (deterministic: the state machines pass their own seeded sequence).
    pub fn delay_with(&self, attempt: u32, random: u64) -> Duration {
        let min = u64::try_from(self.min.as_millis()).unwrap_or(u64::MAX);
        let max = u64::try_from(self.max.as_millis())
            .unwrap_or(u64::MAX)
            .max(min);
        let span = min.saturating_mul(1u64 << attempt.min(31)).min(max - min);
        let jitter = random % span.saturating_add(1).max(1);
        Duration::from_millis(min.saturating_add(jitter))
    }
}

/// The next number of a xorshift64 sequence (the state machines' deterministic jitter; `state`
/// must not be 0, which the machines ensure by seeding with `seed | 1`).
pub fn xorshift(state: &mut u64) -> u64 {
    let mut x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *state = x;
    x
}

/// A seed for a state machine's jitter, from the OS-seeded hasher keys.
pub fn random_seed() -> u64 {
    RandomState::new().hash_one(0u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_delays_are_deterministic_and_bounded() {
        let _watchdog = crate::test_watchdog::arm();
        let b = Backoff {
            min: Duration::from_millis(500),
            max: Duration::from_secs(20),
        };
        assert_eq!(b.delay_with(0, 0), Duration::from_millis(500));
        assert_eq!(b.delay_with(0, 500), Duration::from_millis(1000));
        assert_eq!(b.delay_with(0, 501), Duration::from_millis(500));
        assert_eq!(b.delay_with(3, 4000), Duration::from_millis(4500));
        assert_eq!(b.delay_with(40, u64::MAX), b.delay_with(40, u64::MAX));
        assert!(b.delay_with(40, u64::MAX) <= b.max);
        let huge = Backoff {
            min: Duration::MAX,
            max: Duration::MAX,
        };
        assert!(huge.delay_with(3, 7) >= Duration::from_millis(u64::MAX)); // saturates, no panic
    }

    #[test]
    fn seeds_differ_between_calls() {
        let _watchdog = crate::test_watchdog::arm();
        let seeds: std::collections::HashSet<u64> = (0..8).map(|_| random_seed()).collect();
        assert!(seeds.len() > 1, "every state machine would jitter alike");
    }

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
