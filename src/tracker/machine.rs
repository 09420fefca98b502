//! The tracking algorithm as a sans-IO state machine: it never touches a socket, a clock or a task.
//!
//! The driver ([`super::driver`]) feeds it what happened — [`Machine::handle`] with an [`Input`]
//! (a GET's result, a push transport event, a host call) and [`Machine::handle_timeout`] when
//! [`Machine::poll_timeout`] is reached — and carries out what it asks for, drained with
//! [`Machine::poll_action`]: start or abort the GET, open or close the push subscription, emit an
//! event, write a log line. Time is always an argument ([`Time`], saturating), so a test or the
//! deterministic simulation (`tests/simulation.rs`) runs hours of tracking in microseconds.
//!
//! The rules (Xsolla's documented algorithm, made robust):
//! 1. GET the order at once, and open the push transport.
//! 2. After a socket (re)connect, GET once more (pushes during the gap are not replayed), unless
//!    the subscription was made before the first GET started.
//! 3. When the socket fails or is refused, poll every `poll_interval` until it is back; the first
//!    poll after a loss comes at a random point within one interval of it (a fleet that lost its
//!    sockets together must not poll in lock-step). Polling time adds up across socket drops:
//!    `polling_deadline` of polling in total ends tracking.
//! 4. Status GETs are spaced by at least `poll_interval`, whatever the socket does (also after a
//!    GET off the polling grid, which moves the grid); only explicit retries (backoff after a
//!    transient failure, the not-found confirmation, a host call) come sooner. `Retry-After`
//!    (capped by `limits::MAX_RETRY_AFTER`) delays every GET, contents requests included; the
//!    wait is spread by up to one interval beyond it (within the cap).
//! 5. 401 asks the host for a new token (`token_wait`) — unless the refused GET carried a token
//!    the host has replaced since: then the order is requested again at once with the new one.
//!    404 ends tracking only when the order is still unknown `not_found_confirm` after the first
//!    404 (API replication lag is not "not found").
//! 6. A pushed `done` is completed with the contents: up to [`CONTENTS_ATTEMPTS`] GETs, each
//!    bounded, all within one `request_timeout` (plus their backoff). Done is final: a deadline
//!    that falls in this wait ends it with `Done` without contents, never `TimedOut`.
//! 7. Exactly one final event, never after a cancel, never later than the overall deadline.

use std::collections::VecDeque;
use std::time::Duration;

use crate::api::{ApiError, OrderSnapshot};
use crate::backoff::Backoff;
use crate::config::Timing;
use crate::events::{
    ErrorInfo, ErrorKind, Event, EventKind, Origin, Outcome, Status, TransportState,
};
use crate::limits::MAX_RETRY_AFTER;
use crate::log::Level;
use crate::secret::Token;
use crate::time::{scale, Time};
use crate::transport::PushEvent;

/// How many times the contents of a pushed `done` are requested before it is reported without.
pub const CONTENTS_ATTEMPTS: u32 = 3;
/// A status GET still unanswered this long after its request timeout is abandoned by the machine
/// (the HTTP client's own timeout should have fired; this also covers waiting for a turn or DNS).
pub const FETCH_SLACK: Duration = Duration::from_secs(1);
/// At most this many tokens are remembered for redaction (the current one and earlier ones).
const REMEMBERED_TOKENS: usize = 4;

/// What the machine is configured with.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The timers.
    pub timing: Timing,
    /// Whether a push transport is configured (false: polling only).
    pub push: bool,
    /// Whether a new token needs a new push subscription (Centrifugo authenticates with it).
    pub push_uses_token: bool,
    /// Seed of the backoff jitter (deterministic for a given seed).
    pub jitter_seed: u64,
}

/// Something that happened, for [`Machine::handle`].
#[derive(Clone, Debug)]
pub enum Input {
    /// The GET started by the last [`Action::StartFetch`] finished.
    Fetched(Result<OrderSnapshot, ApiError>),
    /// The push transport said something.
    Push(PushEvent),
    /// The host gave a new token.
    TokenUpdated(Token),
    /// The app went to the background (`false`) or came back (`true`).
    AppActive(bool),
    /// The host says connectivity came back: request the order now.
    NetworkChanged,
    /// The host cancelled the tracker: stop without a final event.
    Cancel,
}

/// Something the driver must do, from [`Machine::poll_action`].
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Start a GET of the order (never while one is in flight) and feed back its result.
    StartFetch,
    /// Drop the GET in flight; its result must not be fed back.
    AbortFetch,
    /// Open the push subscription (replacing any previous one) and feed back its events.
    OpenPush,
    /// Close the push subscription.
    ClosePush,
    /// Deliver a (non-final) event to the host.
    Emit(Event),
    /// Deliver the final event. Nothing follows it.
    Finish(Event),
    /// Write a log line (already redacted).
    Log(Level, String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Link {
    /// Waiting for the push transport's first word.
    Connecting,
    /// Pushes are arriving: no polling.
    Connected,
    /// No socket (failed, refused, or not configured): polling.
    Polling,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Purpose {
    Status,
    Contents,
}

#[derive(Clone, Copy, Debug)]
struct InFlight {
    purpose: Purpose,
    deadline: Time,
    /// The host gave a new token while it was in flight: it carries an older one.
    old_token: bool,
}

#[derive(Clone, Debug)]
struct ContentsWait {
    attempts: u32,
    window_end: Time,
    retry_at: Option<Time>,
    problem: Option<ErrorInfo>,
}

/// One tracked order's decisions.
pub struct Machine {
    settings: Settings,
    handle: u64,
    order_id: i64,
    tokens: Vec<Token>,
    finished: bool,
    link: Link,
    ever_connected: bool,
    last_status: Option<Status>,
    fetch: Option<InFlight>,
    /// When the next status GET starts (None: none wanted).
    fetch_due: Option<Time>,
    /// A GET was wanted while one was in flight: start another when it completes.
    refetch: bool,
    /// No status GET before this (the server's `Retry-After`).
    not_before: Option<Time>,
    /// When the last status GET started.
    last_get: Option<Time>,
    /// The push subscription is the one made at start, before the first GET began.
    subscribed_before_first_request: bool,
    /// The polling grid: ticks at `poll_anchor + k * poll_interval`.
    poll_anchor: Time,
    /// Polling time before the current polling period.
    polling_spent: Duration,
    /// When the current polling period began (None: not polling, or paused).
    polling_since: Option<Time>,
    transient_failures: u32,
    not_found_since: Option<Time>,
    token_wait_until: Option<Time>,
    /// The host was asked for a new token and has not given one yet (ask once per token).
    token_asked: bool,
    deadline: Time,
    paused_at: Option<Time>,
    contents: Option<ContentsWait>,
    jitter: u64,
    actions: VecDeque<Action>,
}

impl Machine {
    /// A tracker for `order_id` started at `now`; its first actions are ready to poll.
    pub fn new(now: Time, handle: u64, order_id: i64, token: Token, settings: Settings) -> Machine {
        let timing = settings.timing;
        let jitter = settings.jitter_seed | 1;
        let mut machine = Machine {
            deadline: now + timing.overall_deadline,
            link: Link::Connecting,
            settings,
            handle,
            order_id,
            tokens: vec![token],
            finished: false,
            ever_connected: false,
            last_status: None,
            fetch: None,
            fetch_due: Some(now),
            refetch: false,
            not_before: None,
            last_get: None,
            subscribed_before_first_request: true,
            poll_anchor: now,
            polling_spent: Duration::ZERO,
            polling_since: None,
            transient_failures: 0,
            not_found_since: None,
            token_wait_until: None,
            token_asked: false,
            paused_at: None,
            contents: None,
            jitter,
            actions: VecDeque::new(),
        };
        if machine.settings.push {
            machine.actions.push_back(Action::OpenPush);
        } else {
            machine.enter_polling(now, None);
        }
        machine.pump(now);
        machine
    }

    /// The next thing to do, if any.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// Whether the final event was produced (or the tracker was cancelled).
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// The earliest time at which [`Machine::handle_timeout`] must be called (None: only inputs
    /// can move the machine on).
    pub fn poll_timeout(&self) -> Option<Time> {
        if self.finished || self.paused_at.is_some() {
            return None;
        }
        let mut next = Some(self.deadline);
        let mut consider = |t: Option<Time>| {
            if let Some(t) = t {
                next = Some(next.map_or(t, |n| n.min(t)));
            }
        };
        consider(self.token_wait_until);
        consider(self.polling_deadline());
        consider(self.fetch.map(|f| f.deadline));
        if let Some(wait) = &self.contents {
            consider(Some(wait.window_end));
            if self.fetch.is_none() {
                consider(wait.retry_at);
            }
        } else if self.fetch.is_none() && self.token_wait_until.is_none() {
            consider(self.status_get_due());
        }
        next
    }

    /// Feeds one input at `now`.
    pub fn handle(&mut self, now: Time, input: Input) {
        if self.finished {
            return;
        }
        match input {
            Input::Fetched(result) => self.on_fetched(now, result),
            Input::Push(event) => self.on_push(now, event),
            Input::TokenUpdated(token) => self.on_token(now, token),
            Input::AppActive(active) => self.on_app_active(now, active),
            Input::NetworkChanged => {
                if self.paused_at.is_none() {
                    self.want_get_now(now);
                }
            }
            Input::Cancel => {
                self.stop_io();
                self.finished = true;
            }
        }
        self.pump(now);
    }

    /// Fires every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Time) {
        if self.finished || self.paused_at.is_some() {
            return;
        }
        let timing = self.settings.timing;
        if let Some(wait) = &self.contents {
            // The order is done: a deadline now only ends the wait for its contents.
            let deadline = self
                .deadline
                .min(self.polling_deadline().unwrap_or(Time::NEVER));
            if now >= deadline.min(wait.window_end) {
                let late = timeout(format!(
                    "the order contents did not arrive within {:?}",
                    timing.request_timeout
                ));
                let problem = wait.problem.clone().or(Some(late));
                return self.finish(Outcome::Done, None, problem);
            }
        }
        if now >= self.deadline {
            let message = format!(
                "no final status within the overall deadline of {:?}",
                timing.overall_deadline
            );
            return self.finish(Outcome::TimedOut, None, Some(timeout(message)));
        }
        if self.token_wait_until.is_some_and(|t| now >= t) {
            let message = format!(
                "the token was refused and no new token came within {:?}",
                timing.token_wait
            );
            let info = ErrorInfo::new(ErrorKind::Unauthorized, message);
            return self.finish(Outcome::Unauthorized, None, Some(info));
        }
        if self.polling_deadline().is_some_and(|t| now >= t) {
            let message = format!(
                "no final status after {:?} of polling",
                timing.polling_deadline
            );
            return self.finish(Outcome::TimedOut, None, Some(timeout(message)));
        }
        if self.fetch.is_some_and(|f| now >= f.deadline) {
            self.actions.push_back(Action::AbortFetch);
            let info = timeout("the order request got no answer in time".to_owned());
            self.on_fetched(
                now,
                Err(ApiError::Transient {
                    info,
                    retry_after: None,
                }),
            );
        }
        self.pump(now);
    }

    /// Starts whatever GET is due and not blocked.
    fn pump(&mut self, now: Time) {
        if self.finished || self.paused_at.is_some() || self.fetch.is_some() {
            return;
        }
        let timing = self.settings.timing;
        if let Some(wait) = &mut self.contents {
            if wait.retry_at.is_some_and(|t| t <= now) {
                wait.retry_at = None;
                let per_attempt =
                    (timing.request_timeout / CONTENTS_ATTEMPTS).max(Duration::from_millis(1));
                self.start_fetch(Purpose::Contents, now + per_attempt);
            }
            return;
        }
        if self.token_wait_until.is_some() {
            return;
        }
        if self.status_get_due().is_some_and(|t| t <= now) {
            self.fetch_due = None;
            self.last_get = Some(now);
            self.start_fetch(
                Purpose::Status,
                now + timing.request_timeout.saturating_add(FETCH_SLACK),
            );
        }
    }

    fn start_fetch(&mut self, purpose: Purpose, deadline: Time) {
        self.fetch = Some(InFlight {
            purpose,
            deadline,
            old_token: false,
        });
        self.log(Level::Debug, format!("order {}: GET", self.order_id));
        self.actions.push_back(Action::StartFetch);
    }

    fn status_get_due(&self) -> Option<Time> {
        let due = self.fetch_due?;
        Some(self.not_before.map_or(due, |nb| due.max(nb)))
    }

    fn polling_deadline(&self) -> Option<Time> {
        let since = self.polling_since?;
        let left = self
            .settings
            .timing
            .polling_deadline
            .saturating_sub(self.polling_spent);
        Some(since + left)
    }

    /// A GET wanted by the socket's state (connect, loss): no sooner than one poll interval after
    /// the last one.
    fn want_get_spaced(&mut self, now: Time) {
        if self.fetch.is_some() {
            self.refetch = true;
            return;
        }
        let spaced = self.last_get.map_or(now, |last| {
            (last + self.settings.timing.poll_interval).max(now)
        });
        self.fetch_due = Some(self.fetch_due.map_or(spaced, |d| d.min(spaced)));
    }

    /// A GET asked for explicitly (a host call): now, or right after the one in flight.
    fn want_get_now(&mut self, now: Time) {
        if self.fetch.is_some() {
            self.refetch = true;
        } else {
            self.fetch_due = Some(now);
        }
    }

    /// The next polling tick after `now`, and no sooner than one poll interval after the last
    /// status GET. A GET off the grid (after a `Retry-After`, a reconnect, a host call) is
    /// followed by one a full interval after it, not by the grid's next tick, which can be much
    /// closer; the ticks after that are again on the grid or a full interval apart.
    fn next_poll_tick(&self, now: Time) -> Option<Time> {
        if self.link != Link::Polling {
            return None;
        }
        let interval = self
            .settings
            .timing
            .poll_interval
            .max(Duration::from_millis(1));
        let tick = if now < self.poll_anchor {
            self.poll_anchor
        } else {
            let elapsed = now.since(self.poll_anchor);
            let ticks = (elapsed.as_nanos() / interval.as_nanos()).saturating_add(1);
            let ticks = u32::try_from(ticks).unwrap_or(u32::MAX);
            self.poll_anchor + scale(interval, ticks)
        };
        let spaced = self
            .last_get
            .map(|last| last + self.settings.timing.poll_interval);
        Some(spaced.map_or(tick, |spaced| tick.max(spaced)))
    }

    fn enter_polling(&mut self, now: Time, reason: Option<ErrorInfo>) {
        self.link = Link::Polling;
        self.polling_since = Some(now);
        let interval = self.settings.timing.poll_interval;
        // A socket loss is an event a whole fleet can see at the same instant (the endpoint went
        // down, every token expired). The first poll after it is at a random point within one
        // interval of the loss (or an interval after the last GET, if that is later), so that
        // trackers that lost their sockets together do not poll in lock-step: N requests in the
        // same second of every interval.
        let earliest = match reason {
            Some(_) => now + self.random_below(interval),
            None => now,
        };
        let first = self
            .last_get
            .map_or(earliest, |last| (last + interval).max(earliest));
        self.poll_anchor = first;
        self.fetch_due = Some(self.fetch_due.map_or(first, |d| d.min(first)));
        self.emit(EventKind::TransportChanged, |e| {
            e.transport = Some(TransportState::Polling);
            e.error = reason;
        });
    }

    fn leave_polling(&mut self, now: Time) {
        if let Some(since) = self.polling_since.take() {
            self.polling_spent = self.polling_spent.saturating_add(now.since(since));
        }
    }

    fn on_fetched(&mut self, now: Time, result: Result<OrderSnapshot, ApiError>) {
        let Some(fetch) = self.fetch.take() else {
            return; // not asked for (aborted): ignore
        };
        if fetch.purpose == Purpose::Contents {
            return self.on_contents(now, result);
        }
        let timing = self.settings.timing;
        match result {
            Ok(snapshot) => {
                self.transient_failures = 0;
                self.not_found_since = None;
                self.observe(now, snapshot.status, snapshot.contents);
                if self.finished || self.contents.is_some() {
                    return;
                }
                self.fetch_due = self.next_poll_tick(now);
            }
            Err(ApiError::Transient { info, retry_after }) => {
                self.log(
                    Level::Warn,
                    format!(
                        "order {}: request failed, will retry: {}",
                        self.order_id, info.message
                    ),
                );
                let backoff = Backoff {
                    min: timing.backoff_min,
                    max: timing.backoff_max,
                };
                let random = self.next_random();
                let retry = self
                    .next_poll_tick(now)
                    .unwrap_or_else(|| now + backoff.delay_with(self.transient_failures, random));
                self.transient_failures = self.transient_failures.saturating_add(1);
                // Never sooner than the server asked, and spread by up to one poll interval (at
                // most the wait itself) after it: a server that tells everyone to come back when
                // its window resets would otherwise get the whole fleet in the same instant.
                // (The total stays within `MAX_RETRY_AFTER`.)
                self.not_before = match retry_after {
                    Some(wait) => {
                        let wait = wait.min(MAX_RETRY_AFTER);
                        let spread = self.random_below(wait.min(timing.poll_interval));
                        Some(now + wait.saturating_add(spread).min(MAX_RETRY_AFTER))
                    }
                    None => None,
                };
                self.fetch_due = Some(retry);
            }
            Err(ApiError::Unauthorized(_)) if fetch.old_token => {
                // It refused the token before the host's update: ask again with the new one.
                self.fetch_due = Some(now);
            }
            Err(ApiError::Unauthorized(info)) => {
                self.log(
                    Level::Warn,
                    format!(
                        "order {}: {}; waiting for a new token",
                        self.order_id, info.message
                    ),
                );
                self.token_wait_until = Some(now + timing.token_wait);
                self.fetch_due = Some(now);
                self.ask_for_token(info);
            }
            Err(ApiError::NotFound(info)) => {
                let since = *self.not_found_since.get_or_insert(now);
                let confirm_at = since + timing.not_found_confirm;
                if now >= confirm_at {
                    return self.finish(Outcome::NotFound, None, Some(info));
                }
                self.fetch_due = Some(confirm_at);
            }
            Err(ApiError::Fatal(info)) => return self.finish(Outcome::Failed, None, Some(info)),
        }
        if std::mem::take(&mut self.refetch) {
            self.want_get_spaced(now);
        }
    }

    fn on_contents(&mut self, now: Time, result: Result<OrderSnapshot, ApiError>) {
        let timing = self.settings.timing;
        let Some(wait) = &mut self.contents else {
            return;
        };
        let (problem, retry_after) = match result {
            Ok(OrderSnapshot {
                contents: Some(contents),
                ..
            }) => return self.finish(Outcome::Done, Some(contents), None),
            Ok(_) => (
                ErrorInfo::new(ErrorKind::Protocol, "the order response had no contents"),
                None,
            ),
            Err(ApiError::Transient { info, retry_after }) => (info, retry_after),
            Err(other) => {
                let info = other.info().clone();
                return self.finish(Outcome::Done, None, Some(info));
            }
        };
        wait.problem = Some(problem);
        wait.attempts = wait.attempts.saturating_add(1);
        if wait.attempts >= CONTENTS_ATTEMPTS {
            let problem = wait.problem.take();
            return self.finish(Outcome::Done, None, problem);
        }
        let backoff = Backoff {
            min: timing.backoff_min,
            max: scale(timing.backoff_min, 4),
        };
        let attempt = wait.attempts - 1;
        let random = self.next_random();
        let delay = backoff.delay_with(attempt, random);
        // Retry-After delays contents requests too (if that is past the window, the window
        // ends the wait: done without contents).
        let delay = retry_after.map_or(delay, |wait| delay.max(wait.min(MAX_RETRY_AFTER)));
        self.not_before = retry_after.map(|wait| now + wait.min(MAX_RETRY_AFTER));
        if let Some(wait) = &mut self.contents {
            wait.retry_at = Some(now + delay);
        }
    }

    fn on_push(&mut self, now: Time, event: PushEvent) {
        if self.paused_at.is_some() {
            return; // the subscription was closed; a late event says nothing about now
        }
        match event {
            PushEvent::Status(status) => self.observe(now, status, None),
            _ if self.contents.is_some() => {} // done already: only its contents matter
            PushEvent::Connected { fresh } => {
                let state = match self.link {
                    Link::Polling => TransportState::SocketRestored,
                    Link::Connecting if !self.ever_connected => TransportState::SocketConnected,
                    _ => TransportState::SocketReestablished,
                };
                self.leave_polling(now);
                self.link = Link::Connected;
                self.ever_connected = true;
                if self.transient_failures == 0 && self.not_found_since.is_none() {
                    self.fetch_due = None; // polling stops; a pending retry stays scheduled
                }
                // A connection that was already up when this tracker's first subscription was made
                // has delivered every push since: its first request, which starts after
                // subscribing, closes the gap. Otherwise request once more.
                if fresh || !self.subscribed_before_first_request {
                    self.want_get_spaced(now);
                }
                self.subscribed_before_first_request = false;
                self.emit(EventKind::TransportChanged, |e| e.transport = Some(state));
            }
            PushEvent::TokenExpired(info) => {
                self.log(
                    Level::Warn,
                    format!(
                        "order {}: the socket says the token expired; polling meanwhile",
                        self.order_id
                    ),
                );
                let reason = info.clone();
                self.ask_for_token(info);
                if self.link != Link::Polling {
                    self.enter_polling(now, Some(reason));
                }
            }
            PushEvent::Lost(info) | PushEvent::Rejected(info) => {
                if self.link != Link::Polling {
                    self.enter_polling(now, Some(info));
                }
            }
        }
    }

    /// Emits `TokenExpired`, once per token (HTTP and the socket may both refuse it).
    fn ask_for_token(&mut self, info: ErrorInfo) {
        if !std::mem::replace(&mut self.token_asked, true) {
            self.emit(EventKind::TokenExpired, |e| e.error = Some(info));
        }
    }

    fn on_token(&mut self, now: Time, token: Token) {
        self.token_asked = false;
        if let Some(fetch) = &mut self.fetch {
            fetch.old_token = true;
        }
        self.log(
            Level::Info,
            format!("order {}: token updated", self.order_id),
        );
        if !self.tokens.contains(&token) {
            if self.tokens.len() >= REMEMBERED_TOKENS {
                self.tokens.remove(0);
            }
            self.tokens.push(token);
        }
        if self.token_wait_until.take().is_some() {
            self.want_get_now(now);
        }
        if self.settings.push && self.settings.push_uses_token && self.paused_at.is_none() {
            self.subscribed_before_first_request = false;
            self.actions.push_back(Action::OpenPush);
        }
    }

    fn on_app_active(&mut self, now: Time, active: bool) {
        match (active, self.paused_at) {
            (false, None) => {
                self.log(
                    Level::Info,
                    format!("order {}: paused with the app", self.order_id),
                );
                self.paused_at = Some(now);
                if let Some(since) = self.polling_since.take() {
                    self.polling_spent = self.polling_spent.saturating_add(now.since(since));
                }
                self.stop_io();
            }
            (true, Some(paused_at)) => {
                let paused = now.since(paused_at);
                self.paused_at = None;
                self.deadline = self.deadline + paused;
                // Polling restarts at once (the GET below), and its grid with it.
                self.poll_anchor = now;
                self.token_wait_until = self.token_wait_until.map(|t| t + paused);
                self.not_found_since = self.not_found_since.map(|t| t + paused);
                self.not_before = self.not_before.map(|t| t + paused);
                if let Some(wait) = &mut self.contents {
                    wait.window_end = wait.window_end + paused;
                    wait.retry_at = Some(self.not_before.map_or(now, |nb| nb.max(now)));
                }
                if self.link == Link::Polling {
                    self.polling_since = Some(now);
                }
                self.log(
                    Level::Info,
                    format!("order {}: resumed after {paused:?}", self.order_id),
                );
                if self.settings.push && self.contents.is_none() {
                    self.subscribed_before_first_request = false;
                    self.actions.push_back(Action::OpenPush);
                    if self.link == Link::Connected {
                        self.link = Link::Connecting;
                    }
                }
                if self.contents.is_none() {
                    self.fetch_due = Some(now);
                }
            }
            _ => {}
        }
    }

    /// Reports a status once; ends tracking if it is final.
    fn observe(&mut self, now: Time, status: Status, contents: Option<String>) {
        // `new` is where every order starts: after any other status it is a stale answer.
        let regression = status == Status::New && self.last_status.is_some();
        if self.contents.is_some() || self.last_status.as_ref() == Some(&status) || regression {
            return;
        }
        self.log(
            Level::Info,
            format!("order {}: status {}", self.order_id, status.as_str()),
        );
        self.last_status = Some(status.clone());
        self.emit(EventKind::StatusChanged, |_| {});
        let Some(outcome) = status.final_outcome() else {
            return;
        };
        match (outcome, contents) {
            (Outcome::Done, None) => {
                // Pushed `done`: ask for the contents, bounded by one request timeout.
                if self.fetch.take().is_some() {
                    self.actions.push_back(Action::AbortFetch);
                }
                self.actions.push_back(Action::ClosePush);
                // Done is final: a pending token wait cannot end tracking any more.
                self.token_wait_until = None;
                self.contents = Some(ContentsWait {
                    attempts: 0,
                    window_end: now + self.settings.timing.request_timeout,
                    retry_at: Some(self.not_before.map_or(now, |nb| nb.max(now))),
                    problem: None,
                });
            }
            (Outcome::Done, contents) => self.finish(outcome, contents, None),
            // Contents describe a delivery: only `done` carries them.
            _ => self.finish(outcome, None, None),
        }
    }

    fn stop_io(&mut self) {
        if self.fetch.take().is_some() {
            self.actions.push_back(Action::AbortFetch);
        }
        self.refetch = false;
        self.actions.push_back(Action::ClosePush);
    }

    fn finish(&mut self, outcome: Outcome, contents: Option<String>, error: Option<ErrorInfo>) {
        self.stop_io();
        self.log(
            Level::Info,
            format!("order {}: tracking ended with {outcome:?}", self.order_id),
        );
        let mut event = self.event(EventKind::Final);
        event.outcome = outcome;
        event.contents = contents;
        event.error = error;
        let event = self.redacted(event);
        self.actions.push_back(Action::Finish(event));
        self.finished = true;
    }

    fn emit(&mut self, kind: EventKind, fill: impl FnOnce(&mut Event)) {
        let mut event = self.event(kind);
        fill(&mut event);
        let event = self.redacted(event);
        self.actions.push_back(Action::Emit(event));
    }

    fn event(&self, kind: EventKind) -> Event {
        Event {
            handle: self.handle,
            order_id: self.order_id,
            kind,
            status: self.last_status.clone(),
            outcome: Outcome::None,
            transport: None,
            error: None,
            contents: None,
            origin: Origin::Live,
        }
    }

    /// Every piece of server text in an event, with every remembered token's pieces redacted.
    fn redacted(&self, mut event: Event) -> Event {
        if let Some(Status::Other(raw)) = &mut event.status {
            *raw = self.redact(raw);
        }
        if let Some(error) = &mut event.error {
            error.message = self.redact(&error.message);
        }
        if let Some(contents) = &mut event.contents {
            *contents = self.redact(contents);
        }
        event
    }

    fn redact(&self, text: &str) -> String {
        self.tokens
            .iter()
            .fold(text.to_owned(), |text, token| token.redact(&text))
    }

    fn log(&mut self, level: Level, line: String) {
        let line = self.redact(&line);
        self.actions.push_back(Action::Log(level, line));
    }

    /// A deterministic random duration in `[0, below)` (whole milliseconds; zero if `below` is).
    fn random_below(&mut self, below: Duration) -> Duration {
        let ms = u64::try_from(below.as_millis()).unwrap_or(u64::MAX);
        if ms == 0 {
            return Duration::ZERO;
        }
        Duration::from_millis(self.next_random() % ms)
    }

    /// xorshift64: deterministic jitter for a given seed.
    fn next_random(&mut self) -> u64 {
        crate::backoff::xorshift(&mut self.jitter)
    }
}

fn timeout(message: String) -> ErrorInfo {
    ErrorInfo::new(ErrorKind::Timeout, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn machine(push: bool) -> Machine {
        let settings = Settings {
            timing: Timing::default(),
            push,
            push_uses_token: push,
            jitter_seed: 7,
        };
        let token = Token::new("tests-token-0123456789").unwrap();
        Machine::new(Time::ZERO, 1, 42, token, settings)
    }

    fn drain(m: &mut Machine) -> Vec<Action> {
        std::iter::from_fn(|| m.poll_action()).collect()
    }

    #[test]
    fn a_paused_machine_fires_no_timer_even_past_its_deadline() {
        let _watchdog = crate::test_watchdog::arm();
        let mut m = machine(false);
        drain(&mut m);
        m.handle(Time::from_millis(10), Input::AppActive(false));
        drain(&mut m);
        assert_eq!(m.poll_timeout(), None, "paused: no timer to wait for");
        m.handle_timeout(Time::NEVER);
        let actions = drain(&mut m);
        assert!(
            !actions
                .iter()
                .any(|a| matches!(a, Action::Finish(_) | Action::StartFetch)),
            "{actions:?}"
        );
        assert!(!m.is_finished());
    }

    #[test]
    fn a_finished_machine_ignores_timers_and_inputs() {
        let _watchdog = crate::test_watchdog::arm();
        let mut m = machine(false);
        drain(&mut m);
        m.handle(
            Time::ZERO + Timing::default().overall_deadline,
            Input::NetworkChanged,
        );
        m.handle_timeout(Time::ZERO + Timing::default().overall_deadline);
        let actions = drain(&mut m);
        assert_eq!(
            actions
                .iter()
                .filter(|a| matches!(a, Action::Finish(_)))
                .count(),
            1,
            "{actions:?}"
        );
        assert!(m.is_finished());
        m.handle_timeout(Time::NEVER);
        m.handle(Time::NEVER, Input::NetworkChanged);
        assert!(drain(&mut m).is_empty(), "nothing after the final");
        assert_eq!(m.poll_timeout(), None);
    }

    #[test]
    fn a_slow_answer_keeps_polling_on_the_grid() {
        let _watchdog = crate::test_watchdog::arm();
        let mut m = machine(false); // polling only: the grid starts with the first GET, at 0
        assert!(drain(&mut m).contains(&Action::StartFetch));
        let paid = OrderSnapshot {
            status: Status::Paid,
            contents: None,
        };
        // The first answer takes 4.5 s (longer than the 3 s interval): the next GET is on the
        // grid, at 6 s, neither at once nor 3 s after the answer.
        m.handle(Time::from_millis(4500), Input::Fetched(Ok(paid.clone())));
        drain(&mut m);
        assert_eq!(m.poll_timeout(), Some(Time::from_millis(6000)));
        m.handle_timeout(Time::from_millis(6000));
        assert!(drain(&mut m).contains(&Action::StartFetch));
        m.handle(Time::from_millis(6100), Input::Fetched(Ok(paid)));
        drain(&mut m);
        assert_eq!(m.poll_timeout(), Some(Time::from_millis(9000)));
    }

    fn answer(status: Status) -> Input {
        Input::Fetched(Ok(OrderSnapshot {
            status,
            contents: None,
        }))
    }

    fn failure(retry_after: Option<Duration>) -> Input {
        Input::Fetched(Err(ApiError::Transient {
            info: ErrorInfo::new(ErrorKind::Network, "connection reset"),
            retry_after,
        }))
    }

    fn lost() -> Input {
        Input::Push(PushEvent::Lost(ErrorInfo::new(
            ErrorKind::Network,
            "socket closed",
        )))
    }

    fn transports(actions: &[Action]) -> Vec<TransportState> {
        actions
            .iter()
            .filter_map(|a| match a {
                Action::Emit(e) if e.kind == EventKind::TransportChanged => e.transport,
                _ => None,
            })
            .collect()
    }

    fn at(ms: u64) -> Time {
        Time::from_millis(ms)
    }

    /// The delay before the first contents retry is the backoff's first step (0.5–1 s with the
    /// defaults), not a later one, for any jitter seed.
    #[test]
    fn the_first_contents_retry_waits_the_first_backoff_step() {
        let _watchdog = crate::test_watchdog::arm();
        let mut longest = Duration::ZERO;
        for seed in 0..64 {
            let mut m = machine(false);
            m.settings.jitter_seed = seed;
            m.jitter = seed | 1;
            drain(&mut m);
            m.handle(at(100), answer(Status::Done)); // done without contents: ask for them
            assert!(drain(&mut m).contains(&Action::StartFetch));
            m.handle(at(200), failure(None));
            drain(&mut m);
            let retry = m.poll_timeout().expect("a contents retry is scheduled");
            longest = longest.max(retry.since(at(200)));
            assert!(
                retry.since(at(200)) >= Timing::default().backoff_min,
                "seed {seed}"
            );
        }
        assert!(longest <= 2 * Timing::default().backoff_min, "{longest:?}");
    }

    /// A Retry-After on a contents request still holds after the app was paused meanwhile (the
    /// wait moves by the pause).
    #[test]
    fn a_contents_retry_after_outlives_a_pause() {
        let _watchdog = crate::test_watchdog::arm();
        let mut m = machine(false);
        drain(&mut m);
        m.handle(at(100), answer(Status::Done));
        drain(&mut m);
        m.handle(at(200), failure(Some(Duration::from_secs(5))));
        m.handle(at(1200), Input::AppActive(false));
        m.handle(at(2200), Input::AppActive(true));
        drain(&mut m);
        assert_eq!(
            m.poll_timeout(),
            Some(at(6200)),
            "5 s after the answer, plus the 1 s pause"
        );
        m.handle_timeout(at(6199));
        assert!(!drain(&mut m).contains(&Action::StartFetch));
    }

    /// Once `done` is known, socket news is not reported: only the contents matter.
    #[test]
    fn waiting_for_contents_reports_no_transport_changes() {
        let _watchdog = crate::test_watchdog::arm();
        let mut m = machine(true);
        drain(&mut m);
        m.handle(at(50), Input::Push(PushEvent::Connected { fresh: true }));
        assert_eq!(
            transports(&drain(&mut m)),
            [TransportState::SocketConnected]
        );
        m.handle(at(100), Input::Push(PushEvent::Status(Status::Done)));
        drain(&mut m);
        m.handle(at(150), lost());
        m.handle(at(160), Input::Push(PushEvent::Connected { fresh: true }));
        assert_eq!(transports(&drain(&mut m)), []);
    }

    /// After a pause: a connected socket comes back as re-established; a socket that had failed
    /// comes back as restored, and polling goes on until it does.
    #[test]
    fn resuming_reconnects_and_reports_what_the_socket_was() {
        let _watchdog = crate::test_watchdog::arm();
        let mut m = machine(true);
        drain(&mut m);
        m.handle(at(10), answer(Status::New));
        m.handle(at(50), Input::Push(PushEvent::Connected { fresh: true }));
        m.handle(at(1000), Input::AppActive(false));
        m.handle(at(2000), Input::AppActive(true));
        let resumed = drain(&mut m);
        assert!(resumed.contains(&Action::OpenPush), "{resumed:?}");
        m.handle(at(2010), answer(Status::New));
        m.handle(at(2100), Input::Push(PushEvent::Connected { fresh: true }));
        assert_eq!(
            transports(&drain(&mut m)),
            [TransportState::SocketReestablished]
        );

        m.handle(at(3000), lost());
        assert_eq!(transports(&drain(&mut m)), [TransportState::Polling]);
        m.handle(at(4000), Input::AppActive(false));
        m.handle(at(5000), Input::AppActive(true));
        assert!(drain(&mut m).contains(&Action::StartFetch));
        m.handle(at(5010), answer(Status::New));
        drain(&mut m);
        let next = m.poll_timeout().expect("still polling");
        assert!(next <= at(8010), "next GET {next:?}");
        m.handle_timeout(next);
        assert!(
            drain(&mut m).contains(&Action::StartFetch),
            "polling goes on"
        );
        m.handle(next, answer(Status::New));
        m.handle(next, Input::Push(PushEvent::Connected { fresh: true }));
        assert_eq!(transports(&drain(&mut m)), [TransportState::SocketRestored]);
    }

    /// Polling-only: resuming polls again and opens no socket.
    #[test]
    fn resuming_without_push_opens_no_socket() {
        let _watchdog = crate::test_watchdog::arm();
        let mut m = machine(false);
        drain(&mut m);
        m.handle(at(10), answer(Status::New));
        m.handle(at(1000), Input::AppActive(false));
        m.handle(at(2000), Input::AppActive(true));
        let actions = drain(&mut m);
        assert!(actions.contains(&Action::StartFetch), "{actions:?}");
        assert!(!actions.contains(&Action::OpenPush), "{actions:?}");
    }

    /// After a resume the polling grid starts at the resume's GET: a slow answer to it is
    /// followed by the grid's next tick from there.
    #[test]
    fn the_polling_grid_restarts_at_resume() {
        let _watchdog = crate::test_watchdog::arm();
        let mut m = machine(false);
        drain(&mut m);
        m.handle(at(10), answer(Status::New));
        m.handle(at(1000), Input::AppActive(false));
        m.handle(at(11_200), Input::AppActive(true));
        assert!(drain(&mut m).contains(&Action::StartFetch));
        m.handle(at(15_000), answer(Status::Paid)); // 3.8 s: past one interval
        drain(&mut m);
        assert_eq!(m.poll_timeout(), Some(at(17_200)));
    }

    /// The pause does not count towards the overall deadline.
    #[test]
    fn a_pause_moves_the_overall_deadline() {
        let _watchdog = crate::test_watchdog::arm();
        let mut m = machine(false);
        drain(&mut m);
        let deadline = Time::ZERO + Timing::default().overall_deadline;
        m.handle(at(10), answer(Status::New));
        m.handle(at(20), Input::AppActive(false));
        let resume = deadline + Duration::from_secs(60);
        m.handle(resume, Input::AppActive(true));
        m.handle_timeout(resume);
        let actions = drain(&mut m);
        assert!(
            !actions.iter().any(|a| matches!(a, Action::Finish(_))),
            "{actions:?}"
        );
        m.handle(resume, answer(Status::Done));
        m.handle(
            resume,
            Input::Fetched(Ok(OrderSnapshot {
                status: Status::Done,
                contents: Some("{}".into()),
            })),
        );
        assert!(drain(&mut m)
            .iter()
            .any(|a| matches!(a, Action::Finish(e) if e.outcome == Outcome::Done)));
    }

    /// A 404 seen before a pause is confirmed only after the confirmation window of running
    /// time: the pause does not count.
    #[test]
    fn a_pause_does_not_count_towards_the_not_found_window() {
        let _watchdog = crate::test_watchdog::arm();
        let mut m = machine(false);
        drain(&mut m);
        let not_found = || {
            Input::Fetched(Err(ApiError::NotFound(ErrorInfo::new(
                ErrorKind::NotFound,
                "HTTP 404",
            ))))
        };
        m.handle(at(100), not_found());
        m.handle(at(600), Input::AppActive(false));
        m.handle(at(60_000), Input::AppActive(true));
        assert!(drain(&mut m).contains(&Action::StartFetch));
        m.handle(at(60_010), not_found()); // 510 ms of running time since the first 404
        let actions = drain(&mut m);
        assert!(
            !actions.iter().any(|a| matches!(a, Action::Finish(_))),
            "{actions:?}"
        );
    }

    /// A socket that connects while a 404 waits for confirmation does not cancel the confirming
    /// GET.
    #[test]
    fn a_socket_connecting_keeps_the_not_found_confirmation() {
        let _watchdog = crate::test_watchdog::arm();
        let mut m = machine(true);
        drain(&mut m);
        m.handle(
            at(100),
            Input::Fetched(Err(ApiError::NotFound(ErrorInfo::new(
                ErrorKind::NotFound,
                "HTTP 404",
            )))),
        );
        m.handle(at(200), Input::Push(PushEvent::Connected { fresh: false }));
        drain(&mut m);
        assert_eq!(m.poll_timeout(), Some(at(1100)), "the confirming GET");
    }

    /// A 401 to a request sent with the token the host has just replaced says nothing about the
    /// new token: ask again at once, without asking the host for yet another token.
    #[test]
    fn a_401_to_the_replaced_token_asks_again_with_the_new_one() {
        let _watchdog = crate::test_watchdog::arm();
        let mut m = machine(false);
        drain(&mut m);
        m.handle(
            at(100),
            Input::TokenUpdated(Token::new("tests-token-new-9876543210").unwrap()),
        );
        drain(&mut m);
        m.handle(
            at(200),
            Input::Fetched(Err(ApiError::Unauthorized(ErrorInfo::new(
                ErrorKind::Unauthorized,
                "HTTP 401",
            )))),
        );
        let actions = drain(&mut m);
        assert!(actions.contains(&Action::StartFetch), "{actions:?}");
        assert!(
            !actions
                .iter()
                .any(|a| matches!(a, Action::Emit(e) if e.kind == EventKind::TokenExpired)),
            "{actions:?}"
        );
    }

    /// A host-asked GET just before the grid's first tick, answered on that tick, is followed by
    /// the next tick, a full interval later (the tick it landed on is spent).
    #[test]
    fn an_answer_on_the_first_tick_moves_on_to_the_next() {
        let _watchdog = crate::test_watchdog::arm();
        let mut m = machine(true);
        drain(&mut m);
        m.handle(at(10), answer(Status::New));
        m.handle(at(1000), lost());
        drain(&mut m);
        let first = m.poll_timeout().expect("the first polling GET");
        assert!(first >= at(3000), "{first:?}");
        m.handle(first - Duration::from_millis(100), Input::NetworkChanged);
        assert!(drain(&mut m).contains(&Action::StartFetch));
        m.handle(first, answer(Status::New));
        drain(&mut m);
        assert_eq!(m.poll_timeout(), Some(first + Duration::from_secs(3)));
    }

    /// A failed first GET's retry stays scheduled when the socket connects (its backoff is
    /// shorter than the poll interval the connect's own GET would wait).
    #[test]
    fn a_pending_retry_survives_the_socket_connecting() {
        let _watchdog = crate::test_watchdog::arm();
        let mut m = machine(true);
        drain(&mut m);
        m.handle(at(10), failure(None));
        m.handle(at(20), Input::Push(PushEvent::Connected { fresh: true }));
        drain(&mut m);
        let retry = m.poll_timeout().expect("the retry");
        assert!(
            retry <= at(10) + 2 * Timing::default().backoff_min,
            "the retry after {:?}, not a poll interval",
            retry.since(at(10))
        );
    }

    /// A pause does not use up the window for the contents of a pushed `done`.
    #[test]
    fn a_pause_does_not_use_up_the_contents_window() {
        let _watchdog = crate::test_watchdog::arm();
        let mut m = machine(false);
        drain(&mut m);
        m.handle(at(100), answer(Status::Done));
        drain(&mut m);
        m.handle(at(200), Input::AppActive(false));
        m.handle(at(60_200), Input::AppActive(true));
        m.handle_timeout(at(60_200));
        let actions = drain(&mut m);
        assert!(
            !actions.iter().any(|a| matches!(a, Action::Finish(_))),
            "{actions:?}"
        );
        assert!(
            actions.contains(&Action::StartFetch),
            "the contents GET again"
        );
    }

    #[test]
    fn cancel_stops_without_a_final_event() {
        let _watchdog = crate::test_watchdog::arm();
        let mut m = machine(true);
        drain(&mut m);
        m.handle(Time::from_millis(5), Input::Cancel);
        let actions = drain(&mut m);
        assert!(
            !actions.iter().any(|a| matches!(a, Action::Finish(_))),
            "{actions:?}"
        );
        assert!(actions.contains(&Action::ClosePush));
        assert!(m.is_finished());
    }
}
