//! When a socket reconnects: a pure policy, so its bounds can be checked for any server behaviour.
//!
//! Capped exponential backoff with full jitter (drawn from the upper half of the window once the
//! cap is reached), where a connection only "proves" itself — and resets the backoff — after it
//! stayed up for [`STABLE_AFTER`]. A server that accepts and then
//! drops every connection at once therefore sees the same growing delays as one that refuses
//! them, instead of a reconnect storm; and no two connect attempts are closer than the backoff
//! floor, even when the host keeps saying the network changed.

use std::time::Duration;

use crate::backoff::Backoff;
use crate::time::Time;

/// A connection that lasted at least this long resets the backoff.
pub const STABLE_AFTER: Duration = Duration::from_secs(30);
/// After the host says the network changed, the next attempt starts at once, but never closer
/// than this to the previous one (a host that keeps calling cannot make a storm either).
pub const WAKE_FLOOR: Duration = Duration::from_millis(500);

/// The reconnect state of one socket.
#[derive(Clone, Debug)]
pub struct Reconnect {
    backoff: Backoff,
    failures: u32,
    connected_at: Option<Time>,
    last_attempt: Option<Time>,
    jitter: u64,
}

impl Reconnect {
    /// A policy with these delays and jitter seed.
    pub fn new(backoff: Backoff, seed: u64) -> Reconnect {
        Reconnect {
            backoff,
            failures: 0,
            connected_at: None,
            last_attempt: None,
            jitter: seed | 1,
        }
    }

    /// A connect attempt starts at `now`.
    pub fn attempt(&mut self, now: Time) {
        self.last_attempt = Some(now);
    }

    /// The connection attempted last is up (handshake done) at `now`.
    pub fn connected(&mut self, now: Time) {
        self.connected_at = Some(now);
    }

    /// The connection failed or ended at `now` (not a scheduled re-establish): how long to wait
    /// before the next attempt.
    pub fn failed(&mut self, now: Time) -> Duration {
        if let Some(up_since) = self.connected_at.take() {
            if now.since(up_since) >= STABLE_AFTER {
                self.failures = 0;
            }
        }
        let random = self.next_random();
        let delay = if self.capped() {
            // At the ceiling (a long outage), draw from its upper half: a fleet that kept
            // retrying at full jitter over [min, max] connects at 1 / mean delay ≈ 10 % of
            // itself in the first second after the endpoint recovers; from [max/2, max] it is
            // ≈ 7 %, and a down endpoint sees a third fewer attempts.
            let half = Backoff {
                min: (self.backoff.max / 2).max(self.backoff.min),
                max: self.backoff.max,
            };
            half.delay_with(u32::MAX, random)
        } else {
            self.backoff.delay_with(self.failures, random)
        };
        self.failures = self.failures.saturating_add(1);
        delay
    }

    /// Whether the exponential part has reached the backoff's ceiling.
    fn capped(&self) -> bool {
        let min = self.backoff.min.as_millis();
        let span = self.backoff.max.as_millis().saturating_sub(min);
        min.saturating_mul(1u128 << self.failures.min(31)) >= span && span > 0
    }

    /// The host said the network changed while waiting: the earliest time the next attempt may
    /// start instead of the end of the delay ([`WAKE_FLOOR`] after the last attempt).
    pub fn earliest_after_wake(&self, now: Time) -> Time {
        self.last_attempt
            .map_or(now, |last| (last + WAKE_FLOOR).max(now))
    }

    fn next_random(&mut self) -> u64 {
        crate::backoff::xorshift(&mut self.jitter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Reconnect {
        Reconnect::new(
            Backoff {
                min: Duration::from_millis(500),
                max: Duration::from_secs(20),
            },
            7,
        )
    }

    /// A server that closes every connection 0.2 s after it opens: connects per minute stay few.
    #[test]
    fn instant_drops_back_off_like_failures() {
        let _watchdog = crate::test_watchdog::arm();
        let mut worst = 0;
        for seed in 0..200 {
            let mut p = Reconnect::new(policy().backoff, seed);
            let mut now = Time::ZERO;
            let mut connects = 0;
            while now < Time::from_millis(60_000) {
                p.attempt(now);
                connects += 1;
                p.connected(now);
                now = now + Duration::from_millis(200);
                now = now + p.failed(now);
            }
            worst = worst.max(connects);
        }
        // Without the stability rule this is one connect every ~0.9 s: over 60.
        assert!(worst <= 16, "{worst} connects in a minute");
    }

    /// Once capped, delays come from the upper half of the window, still within [min, max].
    #[test]
    fn capped_delays_stay_in_the_upper_half_of_the_window() {
        let _watchdog = crate::test_watchdog::arm();
        let mut p = policy();
        let delays: Vec<Duration> = (0..200).map(|_| p.failed(Time::ZERO)).collect();
        assert!(delays[0] <= Duration::from_millis(1000), "{:?}", delays[0]);
        for d in &delays[10..] {
            assert!(
                *d >= Duration::from_secs(10) && *d <= Duration::from_secs(20),
                "{d:?}"
            );
        }
        assert!(delays[10..].iter().any(|d| *d > Duration::from_secs(19)));
        assert!(delays[10..].iter().any(|d| *d < Duration::from_secs(11)));
    }

    #[test]
    fn a_stable_connection_resets_the_backoff() {
        let _watchdog = crate::test_watchdog::arm();
        let mut p = policy();
        for _ in 0..10 {
            p.failed(Time::ZERO);
        }
        p.connected(Time::ZERO);
        let delay = p.failed(Time::ZERO + STABLE_AFTER);
        assert!(delay <= Duration::from_millis(1000), "{delay:?}");
    }

    #[test]
    fn a_wake_never_brings_attempts_closer_than_the_floor() {
        let _watchdog = crate::test_watchdog::arm();
        let mut p = policy();
        p.attempt(Time::from_millis(1000));
        assert_eq!(
            p.earliest_after_wake(Time::from_millis(1100)),
            Time::from_millis(1000) + WAKE_FLOOR
        );
        assert_eq!(
            p.earliest_after_wake(Time::from_millis(9000)),
            Time::from_millis(9000)
        );
    }

    #[test]
    fn jitter_is_spread_not_degenerate() {
        let _watchdog = crate::test_watchdog::arm();
        let mut p = policy();
        let draws: std::collections::HashSet<u64> = (0..64).map(|_| p.next_random()).collect();
        assert!(draws.len() >= 60, "only {} distinct draws", draws.len());
        let ones = draws.iter().map(|d| d.count_ones()).sum::<u32>() as f64 / draws.len() as f64;
        assert!((20.0..44.0).contains(&ones), "bits set per draw: {ones}");
    }
}
