//! Time for decisions: a point on a tracker's own clock, with arithmetic that cannot overflow.
//!
//! The sans-IO state machines never read a clock: they are given a [`Time`] (how long after their
//! driver started) and answer with [`Time`]s. Every operation saturates, so a duration from the
//! network (`Retry-After: 18446744073709551615`) can push a deadline to "never", not panic. This is
//! the only module that converts to and from tokio's `Instant`; `tests/time_arithmetic.rs` fails if
//! raw `Instant` arithmetic appears anywhere else in `src/`.

use std::ops::{Add, Sub};
use std::time::Duration;

use tokio::time::Instant;

/// A point in time, as the duration since the driver's epoch. Saturating: `Time::NEVER` is the end.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Time(Duration);

/// "Never" is about a century away: far beyond any deadline, and still representable as an Instant.
const NEVER_AFTER: Duration = Duration::from_secs(100 * 365 * 86_400);

impl Time {
    /// The driver's epoch.
    pub const ZERO: Time = Time(Duration::ZERO);
    /// Later than every real deadline.
    pub const NEVER: Time = Time(NEVER_AFTER);

    /// The time `d` after the epoch (capped at `NEVER`).
    pub fn from_duration(d: Duration) -> Time {
        Time(d.min(NEVER_AFTER))
    }

    /// The time `ms` milliseconds after the epoch.
    pub fn from_millis(ms: u64) -> Time {
        Time::from_duration(Duration::from_millis(ms))
    }

    /// How long after the epoch this is.
    pub fn since_epoch(self) -> Duration {
        self.0
    }

    /// How long from `earlier` to `self` (zero if `earlier` is later).
    pub fn since(self, earlier: Time) -> Duration {
        self.0.saturating_sub(earlier.0)
    }
}

impl Add<Duration> for Time {
    type Output = Time;
    /// Saturates at [`Time::NEVER`].
    fn add(self, d: Duration) -> Time {
        Time::from_duration(self.0.saturating_add(d))
    }
}

impl Sub<Duration> for Time {
    type Output = Time;
    /// Saturates at [`Time::ZERO`].
    fn sub(self, d: Duration) -> Time {
        Time(self.0.saturating_sub(d))
    }
}

/// `d * n`, saturating at `Duration::MAX`.
pub fn scale(d: Duration, n: u32) -> Duration {
    d.checked_mul(n).unwrap_or(Duration::MAX)
}

/// A real clock's epoch, converting between [`Time`] and tokio's `Instant` (paused in tests).
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    epoch: Instant,
}

impl Clock {
    /// A clock whose epoch is now.
    pub fn start() -> Clock {
        Clock {
            epoch: Instant::now(),
        }
    }

    /// Now on this clock.
    pub fn now(&self) -> Time {
        Time::from_duration(self.epoch.elapsed())
    }

    /// The `Instant` of `t`, for timers (`NEVER` maps to a far but valid instant).
    pub fn instant(&self, t: Time) -> Instant {
        after(self.epoch, t.since_epoch())
    }
}

/// `base + d`, or a far future instant when that does not fit.
pub fn after(base: Instant, d: Duration) -> Instant {
    base.checked_add(d.min(NEVER_AFTER))
        .or_else(|| base.checked_add(Duration::from_secs(86_400 * 365)))
        .unwrap_or(base)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_saturates_instead_of_panicking() {
        let _watchdog = crate::test_watchdog::arm();
        let t = Time::from_millis(5);
        assert_eq!(t + Duration::MAX, Time::NEVER);
        assert_eq!(Time::NEVER + Duration::from_secs(1), Time::NEVER);
        assert_eq!(t - Duration::from_secs(1), Time::ZERO);
        assert_eq!(
            Time::from_millis(5000) - Duration::from_secs(2),
            Time::from_millis(3000)
        );
        // "Never" is beyond any real deadline: decades away.
        assert!(Time::NEVER.since_epoch() >= Duration::from_secs(50 * 365 * 86_400));
        assert_eq!(t.since(Time::from_millis(9)), Duration::ZERO);
        assert_eq!(Time::from_millis(9).since(t), Duration::from_millis(4));
        assert_eq!(scale(Duration::MAX, 2), Duration::MAX);
        assert_eq!(scale(Duration::from_secs(3), 4), Duration::from_secs(12));
    }

    #[tokio::test(start_paused = true)]
    async fn clock_maps_never_to_a_valid_instant() {
        let _watchdog = crate::test_watchdog::arm();
        let clock = Clock::start();
        let far = clock.instant(Time::NEVER);
        assert!(far > Instant::now() + Duration::from_secs(86_400));
        let _ = after(Instant::now(), Duration::MAX); // must not panic
        tokio::time::advance(Duration::from_millis(1500)).await;
        assert_eq!(clock.now(), Time::from_millis(1500));
    }
}
