//! One tracked order: the algorithm Xsolla documents, made robust.
//!
//! 1. GET the order at once (a push sent before the socket is up would be lost; free and
//!    virtual-currency orders may already be final), and open the push transport.
//! 2. After every socket (re)connect, GET once more (pushes during the gap are not replayed).
//! 3. When the socket fails or is rejected, poll every `poll_interval` (never overlapping) while the
//!    transport reconnects with backoff; stop polling when it is back.
//! 4. Transient HTTP failures are retried (backoff, or the next poll, honouring `Retry-After`);
//!    401 asks the host for a new token; 404 ends tracking after a confirming request.
//! 5. Each status change is reported once; a final status, a deadline or an unrecoverable error
//!    ends tracking with exactly one final event.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use tokio::sync::watch;
use tokio::time::{sleep, sleep_until, Instant};

use crate::api::{ApiError, OrderSnapshot};
use crate::backoff::Backoff;
use crate::config::Transport;
use crate::engine::{Lifecycle, Shared};
use crate::events::{
    ErrorInfo, ErrorKind, Event, EventKind, Origin, Outcome, Status, TransportState,
};
use crate::log::log_at;
use crate::secret::Token;
use crate::transport::{legacy_socket, PushEvent, PushStream};

type Fetch = Pin<Box<dyn Future<Output = Result<OrderSnapshot, ApiError>> + Send>>;

/// How many times the contents of a `done` order are requested before reporting it without them.
const CONTENTS_ATTEMPTS: u32 = 3;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Link {
    Connecting,
    Connected,
    Polling { since: Instant },
}

struct Tracker {
    shared: Arc<Shared>,
    handle: u64,
    order_id: i64,
    token: Token,
    link: Link,
    ever_connected: bool,
    last_status: Option<Status>,
    /// When the next GET starts (None: no GET wanted).
    fetch_due: Option<Instant>,
    /// A GET was wanted while one was in flight: start another when it completes.
    refetch: bool,
    /// No GET before this (the server's `Retry-After`), whatever asks for one.
    not_before: Option<Instant>,
    /// The push subscription is the one made at start, before the first GET began.
    subscribed_before_first_request: bool,
    poll_anchor: Instant,
    transient_failures: u32,
    not_found_strikes: u32,
    token_wait_until: Option<Instant>,
    deadline: Instant,
}

/// Tracks one order until its final event, which it emits before returning.
pub async fn track(
    shared: Arc<Shared>,
    handle: u64,
    order_id: i64,
    mut token_rx: watch::Receiver<Token>,
    mut lifecycle: watch::Receiver<Lifecycle>,
) {
    let token = token_rx.borrow_and_update().clone();
    let now = Instant::now();
    let mut tracker = Tracker {
        deadline: now + shared.config.timing.overall_deadline,
        shared,
        handle,
        order_id,
        token,
        link: Link::Connecting,
        ever_connected: false,
        last_status: None,
        fetch_due: Some(now),
        refetch: false,
        not_before: None,
        subscribed_before_first_request: true,
        poll_anchor: now,
        transient_failures: 0,
        not_found_strikes: 0,
        token_wait_until: None,
    };
    let last = tracker.run(&mut token_rx, &mut lifecycle).await;
    log_at!(
        Info,
        "order {order_id}: tracking ended with {:?}",
        last.outcome
    );
    if let Some(purchases) = &tracker.shared.purchases {
        purchases.before_final(&last); // journal hook: a done is durable before delivery
    }
    tracker.shared.dispatcher.emit(last);
}

impl Tracker {
    async fn run(
        &mut self,
        token_rx: &mut watch::Receiver<Token>,
        lifecycle: &mut watch::Receiver<Lifecycle>,
    ) -> Event {
        let timing = self.shared.config.timing;
        let mut push = self.open_push();
        if push.is_none() {
            self.enter_polling(None);
        }
        let mut fetch: Option<Fetch> = None;
        let mut token_updates_open = true;
        let mut lifecycle_open = true;
        let mut network_epoch = lifecycle.borrow().network_epoch;
        loop {
            let life = *lifecycle.borrow_and_update();
            if !life.active {
                // Background: close the socket, drop the request in flight, freeze the clocks.
                drop(push.take());
                drop(fetch.take());
                self.sleep_while_paused(lifecycle).await;
                self.subscribed_before_first_request = false;
                push = self.open_push();
                if push.is_some() {
                    self.link = Link::Connecting;
                }
                self.fetch_due = Some(Instant::now());
                continue;
            }
            if life.network_epoch != network_epoch {
                network_epoch = life.network_epoch;
                self.want_fetch(fetch.is_some());
            }
            let due = self.fetch_due.map(|d| d.max(self.not_before.unwrap_or(d)));
            if fetch.is_none()
                && self.token_wait_until.is_none()
                && due.is_some_and(|d| d <= Instant::now())
            {
                self.fetch_due = None;
                fetch = Some(self.start_fetch());
            }
            let fetch_timer = if fetch.is_none() && self.token_wait_until.is_none() {
                due
            } else {
                None
            };
            let polling_deadline = match self.link {
                Link::Polling { since } => Some(since + timing.polling_deadline),
                _ => None,
            };
            tokio::select! {
                result = poll_fetch(&mut fetch) => {
                    fetch = None;
                    if let Some(last) = self.on_fetch(result).await {
                        return last;
                    }
                }
                event = recv_push(&mut push) => {
                    if let Some(last) = self.on_push(event, fetch.is_some()).await {
                        return last;
                    }
                }
                changed = token_rx.changed(), if token_updates_open => {
                    if changed.is_err() {
                        token_updates_open = false;
                        continue;
                    }
                    self.token = token_rx.borrow_and_update().clone();
                    log_at!(Info, "order {}: token updated", self.order_id);
                    if self.token_wait_until.take().is_some() {
                        self.want_fetch(fetch.is_some());
                    }
                    if self.shared.config.transport == Transport::Centrifugo {
                        self.subscribed_before_first_request = false;
                        push = self.open_push();
                    }
                }
                changed = lifecycle.changed(), if lifecycle_open => lifecycle_open = changed.is_ok(),
                _ = sleep_until_some(fetch_timer) => {}
                _ = sleep_until_some(polling_deadline) => {
                    let message = format!("no final status after {:?} of polling", timing.polling_deadline);
                    return self.last_event(Outcome::TimedOut, None, Some(ErrorInfo::new(ErrorKind::Timeout, message)));
                }
                _ = sleep_until_some(self.token_wait_until) => {
                    let message = format!("the token was refused and no new token came within {:?}", timing.token_wait);
                    return self.last_event(Outcome::Unauthorized, None, Some(ErrorInfo::new(ErrorKind::Unauthorized, message)));
                }
                _ = sleep_until(self.deadline) => {
                    let message = format!("no final status within the overall deadline of {:?}", timing.overall_deadline);
                    return self.last_event(Outcome::TimedOut, None, Some(ErrorInfo::new(ErrorKind::Timeout, message)));
                }
            }
        }
    }

    /// Waits for the app to become active again, then moves every deadline by the pause.
    async fn sleep_while_paused(&mut self, lifecycle: &mut watch::Receiver<Lifecycle>) {
        let paused_at = Instant::now();
        log_at!(Info, "order {}: paused with the app", self.order_id);
        while !lifecycle.borrow_and_update().active {
            if lifecycle.changed().await.is_err() {
                break;
            }
        }
        let paused = paused_at.elapsed();
        self.deadline += paused;
        self.poll_anchor += paused;
        if let Link::Polling { since } = &mut self.link {
            *since += paused;
        }
        if let Some(until) = &mut self.token_wait_until {
            *until += paused;
        }
        log_at!(Info, "order {}: resumed after {paused:?}", self.order_id);
    }

    fn open_push(&self) -> Option<PushStream> {
        let config = &self.shared.config;
        match config.transport {
            Transport::Centrifugo => Some(self.shared.hubs.subscribe(&self.token, self.order_id)),
            Transport::LegacySocket => Some(legacy_socket::subscribe(
                &config.legacy_socket_url,
                config.project_id,
                self.order_id,
                self.shared.sockets.clone(),
            )),
            Transport::PollingOnly => None,
        }
    }

    fn start_fetch(&self) -> Fetch {
        let api = self.shared.api.clone();
        let token = self.token.clone();
        let order_id = self.order_id;
        log_at!(Debug, "order {order_id}: GET");
        Box::pin(async move { api.get_order(order_id, &token).await })
    }

    /// Asks for a GET as soon as possible (after the one in flight, if any).
    fn want_fetch(&mut self, in_flight: bool) {
        if in_flight {
            self.refetch = true;
        } else {
            self.fetch_due = Some(Instant::now());
        }
    }

    /// The next polling tick after now, on the grid started when polling began (no drift).
    fn next_poll_tick(&self) -> Option<Instant> {
        let Link::Polling { .. } = self.link else {
            return None;
        };
        let interval = self.shared.config.timing.poll_interval;
        let elapsed = Instant::now().saturating_duration_since(self.poll_anchor);
        let ticks = (elapsed.as_nanos() / interval.as_nanos()) as u32 + 1;
        Some(self.poll_anchor + interval * ticks)
    }

    fn enter_polling(&mut self, reason: Option<ErrorInfo>) {
        let now = Instant::now();
        self.link = Link::Polling { since: now };
        self.poll_anchor = now;
        self.emit(EventKind::TransportChanged, |e| {
            e.transport = Some(TransportState::Polling);
            e.error = reason;
        });
    }

    async fn on_fetch(&mut self, result: Result<OrderSnapshot, ApiError>) -> Option<Event> {
        let timing = self.shared.config.timing;
        let now = Instant::now();
        match result {
            Ok(snapshot) => {
                self.transient_failures = 0;
                self.not_found_strikes = 0;
                if let Some(last) = self.observe(snapshot.status, snapshot.contents).await {
                    return Some(last);
                }
                self.fetch_due = self.next_poll_tick();
            }
            Err(ApiError::Transient { info, retry_after }) => {
                log_at!(
                    Warn,
                    "order {}: request failed, will retry: {}",
                    self.order_id,
                    info.message
                );
                let backoff = Backoff {
                    min: timing.backoff_min,
                    max: timing.backoff_max,
                };
                let retry = self
                    .next_poll_tick()
                    .unwrap_or_else(|| now + backoff.delay(self.transient_failures));
                self.transient_failures = self.transient_failures.saturating_add(1);
                self.not_before = retry_after.map(|wait| now + wait);
                self.fetch_due = Some(retry);
            }
            Err(ApiError::Unauthorized(info)) => {
                log_at!(
                    Warn,
                    "order {}: {}; waiting for a new token",
                    self.order_id,
                    info.message
                );
                self.token_wait_until = Some(now + timing.token_wait);
                self.fetch_due = Some(now);
                self.emit(EventKind::TokenExpired, |e| e.error = Some(info));
            }
            Err(ApiError::NotFound(info)) => {
                self.not_found_strikes += 1;
                if self.not_found_strikes >= 2 {
                    return Some(self.last_event(Outcome::NotFound, None, Some(info)));
                }
                self.fetch_due = Some(now + timing.not_found_confirm);
            }
            Err(ApiError::Fatal(info)) => {
                return Some(self.last_event(Outcome::Failed, None, Some(info)))
            }
        }
        if std::mem::take(&mut self.refetch) {
            self.fetch_due = Some(now);
        }
        None
    }

    async fn on_push(&mut self, event: PushEvent, fetch_in_flight: bool) -> Option<Event> {
        match event {
            PushEvent::Status(status) => return self.observe(status, None).await,
            PushEvent::Connected { fresh } => {
                let state = match self.link {
                    Link::Polling { .. } => TransportState::SocketRestored,
                    Link::Connecting if !self.ever_connected => TransportState::SocketConnected,
                    _ => TransportState::SocketReestablished,
                };
                self.link = Link::Connected;
                self.ever_connected = true;
                if self.transient_failures == 0 {
                    self.fetch_due = None; // polling stops; a pending retry stays scheduled
                }
                // A connection that was already up when this tracker's first subscription was made
                // has delivered every push since: its first request, which starts after
                // subscribing, closes the gap. Otherwise request once more.
                if fresh || !self.subscribed_before_first_request {
                    self.want_fetch(fetch_in_flight);
                }
                self.subscribed_before_first_request = false;
                self.emit(EventKind::TransportChanged, |e| e.transport = Some(state));
            }
            PushEvent::Lost(info) | PushEvent::Rejected(info) => {
                if !matches!(self.link, Link::Polling { .. }) {
                    self.enter_polling(Some(info));
                    self.want_fetch(fetch_in_flight);
                }
            }
        }
        None
    }

    /// Reports a status once; returns the last event if it is final.
    async fn observe(&mut self, status: Status, contents: Option<String>) -> Option<Event> {
        // `new` is where every order starts: after any other status it is a stale answer.
        let regression = status == Status::New && self.last_status.is_some();
        if self.last_status.as_ref() == Some(&status) || regression {
            return None;
        }
        log_at!(Info, "order {}: status {}", self.order_id, status.as_str());
        self.last_status = Some(status.clone());
        self.emit(EventKind::StatusChanged, |_| {});
        let outcome = status.final_outcome()?;
        let (contents, problem) = match (outcome, contents) {
            (Outcome::Done, None) => self.fetch_contents().await,
            (Outcome::Done, contents) => (contents, None),
            _ => (None, None), // contents describe a delivery: only `done` carries them
        };
        Some(self.last_event(outcome, contents, problem))
    }

    /// One GET for the contents of a `done` order reported by a push, with two retries.
    /// The whole attempt is bounded by one request timeout: the grant must not wait long for it.
    async fn fetch_contents(&self) -> (Option<String>, Option<ErrorInfo>) {
        let limit = self.shared.config.timing.request_timeout;
        let mut problem = None;
        let attempts = self.try_fetch_contents(&mut problem);
        match tokio::time::timeout(limit, attempts).await {
            Ok(found) => found,
            Err(_) => {
                let late = ErrorInfo::new(
                    ErrorKind::Timeout,
                    format!("the order contents did not arrive within {limit:?}"),
                );
                (None, problem.or(Some(late)))
            }
        }
    }

    async fn try_fetch_contents(
        &self,
        problem: &mut Option<ErrorInfo>,
    ) -> (Option<String>, Option<ErrorInfo>) {
        let timing = self.shared.config.timing;
        let backoff = Backoff {
            min: timing.backoff_min,
            max: timing.backoff_min * 4,
        };
        for attempt in 0..CONTENTS_ATTEMPTS {
            if attempt > 0 {
                sleep(backoff.delay(attempt - 1)).await;
            }
            match self.shared.api.get_order(self.order_id, &self.token).await {
                Ok(OrderSnapshot {
                    contents: Some(contents),
                    ..
                }) => return (Some(contents), None),
                Ok(_) => {
                    *problem = Some(ErrorInfo::new(
                        ErrorKind::Protocol,
                        "the order response had no contents",
                    ))
                }
                Err(e @ ApiError::Transient { .. }) => *problem = Some(e.info().clone()),
                Err(e) => return (None, Some(e.info().clone())),
            }
        }
        (None, problem.take())
    }

    fn emit(&self, kind: EventKind, fill: impl FnOnce(&mut Event)) {
        let mut event = self.event(kind);
        fill(&mut event);
        self.shared.dispatcher.emit(event);
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

    fn last_event(
        &self,
        outcome: Outcome,
        contents: Option<String>,
        error: Option<ErrorInfo>,
    ) -> Event {
        Event {
            outcome,
            contents,
            error,
            ..self.event(EventKind::Final)
        }
    }
}

/// Answers a one-shot check: one GET (transient failures retried twice), then one `CheckResult`.
pub async fn check(shared: Arc<Shared>, handle: u64, order_id: i64, token: Token) {
    let timing = shared.config.timing;
    let backoff = Backoff {
        min: timing.backoff_min,
        max: timing.backoff_max,
    };
    let mut attempt = 0;
    let result = loop {
        match shared.api.get_order(order_id, &token).await {
            Err(ApiError::Transient { info, retry_after }) if attempt < 2 => {
                log_at!(
                    Warn,
                    "order {order_id}: check failed, retrying: {}",
                    info.message
                );
                sleep(
                    backoff
                        .delay(attempt)
                        .max(retry_after.unwrap_or_default().min(timing.backoff_max)),
                )
                .await;
                attempt += 1;
            }
            other => break other,
        }
    };
    let mut event = Event {
        handle,
        order_id,
        kind: EventKind::CheckResult,
        status: None,
        outcome: Outcome::None,
        transport: None,
        error: None,
        contents: None,
        origin: Origin::Live,
    };
    match result {
        Ok(snapshot) => {
            event.outcome = snapshot.status.final_outcome().unwrap_or(Outcome::None);
            event.status = Some(snapshot.status);
            event.contents = snapshot.contents;
        }
        Err(e) => {
            event.outcome = match e {
                ApiError::NotFound(_) => Outcome::NotFound,
                ApiError::Unauthorized(_) => Outcome::Unauthorized,
                _ => Outcome::Failed,
            };
            event.error = Some(e.info().clone());
        }
    }
    shared.dispatcher.emit(event);
}

async fn poll_fetch(fetch: &mut Option<Fetch>) -> Result<OrderSnapshot, ApiError> {
    match fetch {
        Some(f) => f.await,
        None => std::future::pending().await,
    }
}

async fn recv_push(push: &mut Option<PushStream>) -> PushEvent {
    match push {
        Some(p) => p.recv().await,
        None => std::future::pending().await,
    }
}

async fn sleep_until_some(at: Option<Instant>) {
    match at {
        Some(at) => sleep_until(at).await,
        None => std::future::pending().await,
    }
}
