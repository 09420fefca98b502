//! The machine's rules that keep a fleet from acting in lock-step (issue 15), checked on the pure
//! `Machine` in virtual time: the first poll after a socket loss is spread over one interval,
//! a `Retry-After` wait is spread beyond (never before) what the server asked, and a GET off the
//! polling grid moves the grid so that GETs stay at least an interval apart.

#[path = "common/watchdog.rs"]
mod watchdog;

use std::time::Duration;

use xo_tracker::api::{ApiError, OrderSnapshot};
use xo_tracker::config::Timing;
use xo_tracker::events::{ErrorInfo, ErrorKind, Status};
use xo_tracker::time::Time;
use xo_tracker::tracker::machine::{Action, Input, Machine, Settings};
use xo_tracker::transport::PushEvent;
use xo_tracker::Token;

const RTT: Duration = Duration::from_millis(50);

/// A tracker and the times of its status GETs; every GET is answered after `RTT` by `answer`.
struct Run {
    machine: Machine,
    now: Time,
    in_flight: Option<Time>,
    gets: Vec<Time>,
}

impl Run {
    fn new(seed: u64) -> Run {
        let settings = Settings {
            timing: Timing::default(),
            push: true,
            push_uses_token: true,
            jitter_seed: seed,
        };
        let token = Token::new("fleet-rules-token-0123456789").unwrap();
        let mut run = Run {
            machine: Machine::new(Time::ZERO, 1, 1, token, settings),
            now: Time::ZERO,
            in_flight: None,
            gets: Vec::new(),
        };
        run.drain();
        run
    }

    fn drain(&mut self) {
        while let Some(action) = self.machine.poll_action() {
            match action {
                Action::StartFetch => {
                    self.gets.push(self.now);
                    self.in_flight = Some(self.now + RTT);
                }
                Action::AbortFetch => self.in_flight = None,
                _ => {}
            }
        }
    }

    fn input(&mut self, input: Input) {
        self.machine.handle(self.now, input);
        self.drain();
    }

    /// Runs until `until`, answering every GET with `answer(start time)`.
    fn run_until(
        &mut self,
        until: Time,
        answer: &mut dyn FnMut(Time) -> Result<OrderSnapshot, ApiError>,
    ) {
        loop {
            let timer = self.machine.poll_timeout();
            let next = match (self.in_flight, timer) {
                (Some(f), Some(t)) => f.min(t),
                (Some(f), None) => f,
                (None, Some(t)) => t,
                (None, None) => return,
            };
            if next > until {
                self.now = until;
                return;
            }
            self.now = next.max(self.now);
            if self.in_flight == Some(next) {
                self.in_flight = None;
                let started = *self.gets.last().unwrap();
                self.machine
                    .handle(self.now, Input::Fetched(answer(started)));
            } else {
                self.machine.handle_timeout(self.now);
            }
            self.drain();
        }
    }
}

fn paid(_: Time) -> Result<OrderSnapshot, ApiError> {
    Ok(OrderSnapshot {
        status: Status::Paid,
        contents: None,
    })
}

fn secs(s: u64) -> Time {
    Time::from_millis(s * 1000)
}

fn gaps(gets: &[Time]) -> Vec<Duration> {
    gets.windows(2).map(|w| w[1].since(w[0])).collect()
}

/// A connected tracker loses its socket at 60 s: its first poll comes within one interval, the
/// next ones every interval; over many trackers the first polls spread across the interval.
#[test]
fn the_first_poll_after_a_socket_loss_is_spread_over_one_interval() {
    let _watchdog = watchdog::arm();
    let interval = Timing::default().poll_interval;
    let mut offsets = Vec::new();
    for seed in 0..300 {
        let mut run = Run::new(seed * 7 + 1);
        run.run_until(Time::from_millis(10), &mut paid);
        run.input(Input::Push(PushEvent::Connected { fresh: true }));
        run.run_until(secs(60), &mut paid);
        let before = run.gets.len();
        let info = ErrorInfo::new(ErrorKind::Network, "lost");
        run.input(Input::Push(PushEvent::Lost(info)));
        run.run_until(secs(90), &mut paid);
        let polls = &run.gets[before..];
        let first = polls[0].since(secs(60));
        assert!(
            first < interval,
            "seed {seed}: first poll {first:?} after the loss"
        );
        for gap in gaps(polls) {
            assert_eq!(gap, interval, "seed {seed}: {polls:?}");
        }
        offsets.push(first);
    }
    let early = offsets.iter().filter(|d| **d < interval / 3).count();
    let late = offsets.iter().filter(|d| **d > interval * 2 / 3).count();
    assert!(early > 50 && late > 50, "{early} early, {late} late of 300");
}

/// A polling tracker told "429, Retry-After: W" asks again no sooner than W and no later than
/// W + min(W, interval); right after, the next poll is a full interval later.
#[test]
fn retry_after_is_honoured_spread_and_the_next_poll_spaced() {
    let _watchdog = watchdog::arm();
    let interval = Timing::default().poll_interval;
    let wait = Duration::from_secs(7);
    let mut retries = Vec::new();
    for seed in 0..300 {
        let mut run = Run::new(seed * 13 + 5);
        let info = ErrorInfo::new(ErrorKind::Network, "refused");
        run.run_until(Time::from_millis(10), &mut paid);
        run.input(Input::Push(PushEvent::Lost(info)));
        run.run_until(secs(20), &mut paid);
        let mut told_at = None;
        let mut answer = |started: Time| {
            if told_at.is_none() {
                told_at = Some(started + RTT);
                let mut info = ErrorInfo::new(ErrorKind::RateLimited, "HTTP 429");
                info.http_status = 429;
                Err(ApiError::Transient {
                    info,
                    retry_after: Some(wait),
                })
            } else {
                paid(started)
            }
        };
        let before = run.gets.len();
        run.run_until(secs(60), &mut answer);
        let told = told_at.expect("a 429 was sent");
        let after: Vec<Time> = run.gets[before..]
            .iter()
            .copied()
            .filter(|t| *t >= told)
            .collect();
        let retry = after[0].since(told);
        assert!(retry >= wait, "seed {seed}: asked again after {retry:?}");
        assert!(retry < wait + interval.min(wait), "seed {seed}: {retry:?}");
        for gap in gaps(&after) {
            assert!(
                gap >= interval,
                "seed {seed}: GETs {gap:?} apart: {after:?}"
            );
        }
        retries.push(retry);
    }
    let spread = retries
        .iter()
        .max()
        .unwrap()
        .saturating_sub(*retries.iter().min().unwrap());
    assert!(spread > interval / 2, "retries spread over only {spread:?}");
}
