//! Runs a [`Machine`] against a [`World`] in virtual time and checks the oracles after every step.
//!
//! The executor plays the driver (`src/tracker/driver.rs`) and the world at once: it carries out
//! the machine's actions (a GET is answered by the world through the real `api::classify_for`; a
//! push subscription joins a simulated socket whose reconnects follow the real
//! `transport::reconnect::Reconnect` policy, as `transport::socket_loop` does), feeds back the
//! results at their virtual times, and fires the machine's timers when they are due. Timers win
//! ties with inputs, as any order would be legitimate in the real driver.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::time::Duration;

use xo_tracker::api::{classify_for, ApiError, OrderSnapshot};
use xo_tracker::backoff::Backoff;
use xo_tracker::limits::{parse_retry_after, MAX_RETRY_AFTER};
use xo_tracker::time::Time;
use xo_tracker::tracker::machine::{Action, Input, Machine, Settings};
use xo_tracker::transport::reconnect::{Reconnect, WAKE_FLOOR};
use xo_tracker::transport::PushEvent;
use xo_tracker::{ErrorInfo, ErrorKind, Event, EventKind, Outcome, Status, Token, TransportState};

use super::world::{Answer, Body, Host, Item, PushFault, PushKind, SocketMode, World};

/// Machine calls after which a run is cut short (its end-of-run oracles then do not apply).
pub const MAX_STEPS: u64 = 3_000;
/// How many tokens the machine remembers for redaction (`REMEMBERED_TOKENS` in machine.rs).
const REMEMBERED: usize = 4;

/// How a run ended, when every oracle held.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum End {
    /// The final event's outcome.
    Final(String),
    /// The host cancelled: no final event.
    Cancelled,
    /// The app stayed paused until the end of the world.
    PausedForever,
    /// Cut short by [`MAX_STEPS`] or the world's horizon, before any deadline.
    Truncated,
}

/// What a passing run reached (for the coverage statistics).
pub struct Report {
    pub end: End,
    /// Names of the interesting situations this run met.
    pub hits: Vec<&'static str>,
    pub steps: u64,
    /// With backoff of 500 ms ..= 20 s or more and a re-establish period of a minute or more: the
    /// most socket connects in a minute that the machine's own subscriptions did not cause.
    pub connects_per_minute: Option<u64>,
}

/// A broken invariant.
#[derive(Clone, Debug)]
pub struct Violation {
    pub invariant: &'static str,
    pub detail: String,
    pub at: Time,
}

#[derive(Clone, Debug)]
enum SessionEnd {
    Reestablish,
    Lost(ErrorInfo),
    Rejected(ErrorInfo),
    TokenExpired(ErrorInfo),
}

#[derive(Clone, Debug)]
enum Ev {
    Host(Host),
    Status(String),
    StalePush,
    StrayPush,
    SocketEnd {
        expired: bool,
        message: String,
    },
    TokenExpires,
    FetchDone {
        id: u64,
        result: Result<OrderSnapshot, ApiError>,
    },
    AttemptDone {
        hub: usize,
        gen: u64,
        end: Option<SessionEnd>,
    },
    SessionEnd {
        hub: usize,
        gen: u64,
        end: SessionEnd,
    },
    WaitOver {
        hub: usize,
        gen: u64,
    },
    Frame {
        hub: usize,
        gen: u64,
        status: Status,
    },
    Deliver {
        sub: u64,
        event: PushEvent,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Attempting,
    Up,
    Waiting(Time),
    Ended,
}

/// One simulated socket connection loop (a Centrifugo hub for one token, or a legacy socket).
struct Hub {
    token: usize,
    reconnect: Reconnect,
    gen: u64,
    phase: Phase,
    /// The drop-after rule of the connect that made the current session.
    drop_after: Option<u64>,
    reported_down: bool,
    last: Option<PushEvent>,
    sub: Option<u64>,
    alive: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    Ok,
    NotOk,
    Aborted,
    Pending,
}

struct Fetch {
    id: u64,
    start: Time,
    contents: bool,
    /// Token updates before it started (it carries the token current then).
    token_updates: u64,
}

/// The executor and the oracles' memory.
pub struct Sim<'w> {
    w: &'w World,
    now: Time,
    machine: Machine,
    queue: BTreeMap<(Time, u64), Ev>,
    seq: u64,
    steps: u64,
    trace: Option<Vec<String>>,
    hits: HashSet<&'static str>,
    // driver state
    token: usize,
    issued: Vec<Option<Time>>,
    given: usize,
    fetch: Option<Fetch>,
    next_fetch: u64,
    hubs: Vec<Hub>,
    sub: Option<(usize, u64)>,
    next_sub: u64,
    // world state
    expiries: Vec<Time>,
    status_now: String,
    // oracle memory
    finals: u32,
    outcome: Option<Event>,
    cancelled: bool,
    paused_since: Option<Time>,
    paused_total: Duration,
    first_final_status: Option<Status>,
    /// When it was observed, and the time paused before then.
    final_observed: Option<(Time, Duration)>,
    done_seen: bool,
    delivered_contents: HashSet<String>,
    last_status_get: Option<(Time, Class)>,
    host_call_at: Option<Time>,
    not_before: Option<Time>,
    not_found_streak: Option<Time>,
    /// When the last 401 to a status GET arrived, and how many token updates preceded its GET.
    last_401: Option<(Time, u64)>,
    token_updates: u64,
    last_fetch_fatal: bool,
    polling: bool,
    polling_since: Option<Time>,
    polling_total: Duration,
    attempts: BTreeMap<usize, Vec<Time>>,
    opens: BTreeMap<usize, Vec<Time>>,
    inputs: u64,
    spurious_wakes: u64,
    /// Every 8-byte window of every token, with the tokens (as bits) it belongs to.
    secrets: HashMap<u64, u64, BuildHasherDefault<Fx>>,
    /// A fresh connection reached the running machine then, and no status GET started since.
    reconnected_at: Option<Time>,
    /// Every byte that occurs in some token.
    secret_bytes: [bool; 256],
}

/// A fast hasher for the 8-byte windows (the default SipHash dominates a debug build's run time).
#[derive(Default)]
struct Fx(u64);

impl Hasher for Fx {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u64(u64::from(*b));
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

fn window(w: &[u8]) -> u64 {
    u64::from_le_bytes(w.try_into().expect("8 bytes"))
}

fn at_ms(ms: u64) -> Time {
    Time::from_millis(ms)
}

fn ms_of(t: Time) -> f64 {
    t.since_epoch().as_secs_f64() * 1000.0
}

fn transient(kind: ErrorKind, message: &str) -> ApiError {
    ApiError::Transient {
        info: ErrorInfo::new(kind, message),
        retry_after: None,
    }
}

impl<'w> Sim<'w> {
    /// A run of `world`; `trace` keeps a log of every input and action.
    pub fn new(w: &'w World, trace: bool) -> Sim<'w> {
        let settings = Settings {
            timing: w.timing,
            push: w.push != PushKind::None,
            push_uses_token: w.push == PushKind::Centrifugo,
            jitter_seed: w.seed,
        };
        let token = Token::new(w.tokens[0].clone()).expect("generated tokens are valid");
        let machine = Machine::new(Time::ZERO, 1, w.order_id, token, settings);
        let mut secrets: HashMap<u64, u64, BuildHasherDefault<Fx>> = HashMap::default();
        for (i, t) in w.tokens.iter().enumerate() {
            for piece in t.as_bytes().windows(8) {
                *secrets.entry(window(piece)).or_default() |= 1 << i;
            }
        }
        let mut sim = Sim {
            w,
            now: Time::ZERO,
            machine,
            queue: BTreeMap::new(),
            seq: 0,
            steps: 0,
            trace: trace.then(Vec::new),
            hits: HashSet::new(),
            token: 0,
            issued: vec![None; w.tokens.len()],
            given: 1,
            fetch: None,
            next_fetch: 0,
            hubs: Vec::new(),
            sub: None,
            next_sub: 0,
            expiries: Vec::new(),
            status_now: "new".to_owned(),
            finals: 0,
            outcome: None,
            cancelled: false,
            paused_since: None,
            paused_total: Duration::ZERO,
            first_final_status: None,
            final_observed: None,
            done_seen: false,
            delivered_contents: HashSet::new(),
            last_status_get: None,
            host_call_at: None,
            not_before: None,
            not_found_streak: None,
            last_401: None,
            token_updates: 0,
            last_fetch_fatal: false,
            polling: false,
            polling_since: None,
            polling_total: Duration::ZERO,
            attempts: BTreeMap::new(),
            opens: BTreeMap::new(),
            inputs: 0,
            spurious_wakes: 0,
            secrets,
            secret_bytes: [false; 256],
            reconnected_at: None,
        };
        for b in w.tokens.iter().flat_map(|t| t.bytes()) {
            sim.secret_bytes[usize::from(b)] = true;
        }
        for item in &w.items {
            let ev = match item {
                Item::Status { at, raw } => Some((*at, Ev::Status(raw.clone()))),
                Item::StalePush { at } => Some((*at, Ev::StalePush)),
                Item::StrayPush { at } => Some((*at, Ev::StrayPush)),
                Item::SocketEnd {
                    at,
                    expired,
                    message,
                } => Some((
                    *at,
                    Ev::SocketEnd {
                        expired: *expired,
                        message: message.clone(),
                    },
                )),
                Item::TokenExpires { at } => Some((*at, Ev::TokenExpires)),
                Item::Host { at, action } => Some((*at, Ev::Host(*action))),
                _ => None,
            };
            if let Some((at, ev)) = ev {
                sim.schedule(at_ms(at), ev);
            }
        }
        if w.shared_hub && w.push == PushKind::Centrifugo {
            // Another tracker's connection for this token is already up.
            let hub = sim.new_hub(0);
            sim.hubs[hub].phase = Phase::Up;
            sim.hubs[hub].last = Some(PushEvent::Connected { fresh: true });
            sim.hubs[hub].reconnect.connected(Time::ZERO);
            sim.schedule_session_end(hub, None);
            sim.hit("shared hub");
        }
        sim
    }

    fn hit(&mut self, what: &'static str) {
        self.hits.insert(what);
    }

    fn note(&mut self, line: impl FnOnce() -> String) {
        let now = self.now;
        if let Some(trace) = &mut self.trace {
            trace.push(format!("{:>12.3} ms  {}", ms_of(now), line()));
        }
    }

    /// The trace so far (when tracing).
    pub fn trace(&self) -> &[String] {
        self.trace.as_deref().unwrap_or(&[])
    }

    fn schedule(&mut self, at: Time, ev: Ev) {
        self.seq += 1;
        self.queue.insert((at.max(self.now), self.seq), ev);
    }

    fn fail(&self, invariant: &'static str, detail: String) -> Violation {
        Violation {
            invariant,
            detail,
            at: self.now,
        }
    }

    fn deadline(&self) -> Time {
        let paused = self.paused_total
            + self
                .paused_since
                .map_or(Duration::ZERO, |p| self.now.since(p));
        Time::ZERO + self.w.timing.overall_deadline + paused
    }

    // ------------------------------------------------------------------------------------------
    // The main loop.

    /// Runs the world to its end; `Err` names the first broken invariant.
    pub fn run(&mut self) -> Result<Report, Violation> {
        self.drain(false)?;
        loop {
            if self.machine.is_finished() {
                break;
            }
            if self.steps >= MAX_STEPS {
                return self.finish_run(End::Truncated);
            }
            let timer = self.machine.poll_timeout();
            let next_event = self.queue.keys().next().map(|k| k.0);
            let horizon = Time::from_millis(self.w.horizon);
            if timer.is_none_or(|t| t > horizon) && next_event.is_none_or(|t| t > horizon) {
                break;
            }
            let timer_first = match (timer, next_event) {
                (Some(t), Some(e)) => t <= e,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (None, None) => break,
            };
            self.steps += 1;
            self.check_reconnect_get()?;
            if timer_first {
                let t = timer.expect("checked");
                if t == Time::NEVER {
                    break;
                }
                if t < self.now {
                    self.hit("timer in the past");
                }
                self.now = self.now.max(t);
                self.note(|| "timeout".to_owned());
                self.machine.handle_timeout(self.now);
                let acted = self.drain(false)?;
                if !acted {
                    if self.machine.poll_timeout().is_some_and(|t| t <= self.now) {
                        return Err(self.fail(
                            "no busy loop",
                            "a timer fired, did nothing, and is due again at once".into(),
                        ));
                    }
                    self.spurious_wakes += 1;
                    if self.spurious_wakes > self.inputs + 3 {
                        return Err(self.fail(
                            "no busy loop",
                            format!("{} timer wake-ups did nothing", self.spurious_wakes),
                        ));
                    }
                }
            } else {
                let (key, ev) = self.queue.pop_first().expect("checked");
                self.now = key.0;
                self.event(ev)?;
            }
        }
        let end = if self.cancelled {
            End::Cancelled
        } else if self.paused_since.is_some() && self.finals == 0 {
            End::PausedForever
        } else if let Some(e) = &self.outcome {
            End::Final(format!("{:?}", e.outcome))
        } else {
            End::Truncated
        };
        self.finish_run(end)
    }

    fn finish_run(&mut self, end: End) -> Result<Report, Violation> {
        match &end {
            End::Final(_) => {
                if self.finals != 1 {
                    return Err(self.fail("exactly one final", format!("{} finals", self.finals)));
                }
            }
            End::Cancelled | End::PausedForever => {}
            End::Truncated => {
                if self.now > self.deadline() {
                    return Err(self.fail(
                        "final no later than the deadline",
                        format!(
                            "still running at {:.3} ms, past the deadline",
                            ms_of(self.now)
                        ),
                    ));
                }
                if self.finals == 0
                    && self.queue.is_empty()
                    && self.machine.poll_timeout().is_none()
                    && self.w.timing.overall_deadline < Duration::from_secs(1 << 40)
                {
                    return Err(self.fail(
                        "exactly one final",
                        "nothing left to happen and no final event".into(),
                    ));
                }
            }
        }
        let connects_per_minute = self.check_connects()?;
        let timing = self.w.timing;
        let default_backoff = timing.backoff_min >= Duration::from_millis(500)
            && timing.backoff_max >= Duration::from_secs(20)
            && timing.socket_reestablish >= Duration::from_secs(60);
        Ok(Report {
            end,
            hits: self.hits.iter().copied().collect(),
            steps: self.steps,
            connects_per_minute: default_backoff.then_some(connects_per_minute),
        })
    }

    /// Feeds an input to the machine, then drains its actions.
    fn input(&mut self, input: Input) -> Result<(), Violation> {
        self.inputs += 1;
        self.note(|| format!("-> {}", describe_input(&input)));
        self.machine.handle(self.now, input);
        self.drain(true).map(|_| ())
    }

    /// Carries out every action; returns whether there was any.
    fn drain(&mut self, _after_input: bool) -> Result<bool, Violation> {
        let mut any = false;
        while let Some(action) = self.machine.poll_action() {
            any = true;
            self.note(|| format!("<- {}", describe_action(&action)));
            if self.finals > 0 {
                return Err(self.fail("no action after the final", format!("{action:?}")));
            }
            match action {
                Action::StartFetch => self.start_fetch()?,
                Action::AbortFetch => {
                    if let Some(f) = self.fetch.take() {
                        if !f.contents {
                            self.last_status_get =
                                self.last_status_get.map(|(t, _)| (t, Class::Aborted));
                        }
                        self.hit("fetch aborted");
                    }
                }
                Action::OpenPush => self.open_push(),
                Action::ClosePush => self.close_push(),
                Action::Emit(event) => self.emitted(event, false)?,
                Action::Finish(event) => self.emitted(event, true)?,
                Action::Log(_, line) => self.check_secret("log line", &line)?,
            }
        }
        Ok(any)
    }

    // ------------------------------------------------------------------------------------------
    // World events.

    fn event(&mut self, ev: Ev) -> Result<(), Violation> {
        match ev {
            Ev::Host(action) => self.host(action),
            Ev::Status(raw) => {
                self.status_now = raw.clone();
                self.note(|| format!("server status is now {raw:?}"));
                self.publish(Status::parse(&raw));
                Ok(())
            }
            Ev::StalePush => {
                self.publish(Status::New);
                self.hit("stale push");
                Ok(())
            }
            Ev::StrayPush => {
                // The hub routes by order id: a push for another order never reaches this tracker.
                self.hit("push for another order");
                Ok(())
            }
            Ev::SocketEnd { expired, message } => {
                for hub in 0..self.hubs.len() {
                    if self.hubs[hub].alive && self.hubs[hub].phase == Phase::Up {
                        let end = if expired && self.w.push == PushKind::Centrifugo {
                            self.hit("socket token expired (109)");
                            SessionEnd::TokenExpired(ErrorInfo::new(
                                ErrorKind::Unauthorized,
                                format!("token expired: {message}"),
                            ))
                        } else {
                            self.hit("socket rejected");
                            SessionEnd::Rejected(ErrorInfo::new(
                                ErrorKind::SocketRejected,
                                format!("socket closed by server with code 3500 ({message})"),
                            ))
                        };
                        self.hubs[hub].gen += 1;
                        self.session_end(hub, end);
                    }
                }
                Ok(())
            }
            Ev::TokenExpires => {
                self.expiries.push(self.now);
                self.hit("token expiry");
                if self.w.push == PushKind::Centrifugo {
                    for hub in 0..self.hubs.len() {
                        let h = &self.hubs[hub];
                        if h.alive && h.phase == Phase::Up && !self.token_valid(h.token, self.now) {
                            self.hubs[hub].gen += 1;
                            let info =
                                ErrorInfo::new(ErrorKind::Unauthorized, "token expired (109)");
                            self.session_end(hub, SessionEnd::TokenExpired(info));
                        }
                    }
                }
                Ok(())
            }
            Ev::FetchDone { id, result } => {
                let Some(fetch) = self.fetch.take_if(|f| f.id == id) else {
                    return Ok(()); // aborted
                };
                self.fetched(fetch, result)
            }
            Ev::AttemptDone { hub, gen, end } => {
                if self.hubs[hub].gen != gen || !self.hubs[hub].alive {
                    return Ok(());
                }
                match end {
                    None => {
                        let h = &mut self.hubs[hub];
                        h.reconnect.connected(self.now);
                        h.reported_down = false;
                        h.phase = Phase::Up;
                        let drop_after = h.drop_after;
                        self.broadcast(hub, PushEvent::Connected { fresh: true });
                        self.schedule_session_end(hub, drop_after);
                    }
                    Some(end) => self.session_end(hub, end),
                }
                Ok(())
            }
            Ev::SessionEnd { hub, gen, end } => {
                if self.hubs[hub].gen == gen && self.hubs[hub].alive {
                    self.hubs[hub].gen += 1;
                    self.session_end(hub, end);
                }
                Ok(())
            }
            Ev::WaitOver { hub, gen } => {
                if self.hubs[hub].gen == gen && self.hubs[hub].alive {
                    self.attempt(hub);
                }
                Ok(())
            }
            Ev::Frame { hub, gen, status } => {
                let h = &self.hubs[hub];
                if h.gen == gen && h.alive && h.phase == Phase::Up {
                    if let Some(sub) = h.sub {
                        self.deliver(sub, PushEvent::Status(status));
                    }
                }
                Ok(())
            }
            Ev::Deliver { sub, event } => {
                if self.sub.map(|s| s.1) != Some(sub) {
                    return Ok(()); // unsubscribed meanwhile
                }
                self.pushed(event)
            }
        }
    }

    fn host(&mut self, action: Host) -> Result<(), Violation> {
        if self.machine.is_finished() {
            return Ok(());
        }
        match action {
            Host::Cancel => {
                self.hit("host cancel");
                self.cancelled = true;
                self.input(Input::Cancel)
            }
            Host::Pause => {
                self.reconnected_at = None; // resuming requests the order anyway
                if self.paused_since.is_none() {
                    self.paused_since = Some(self.now);
                    if let Some(since) = self.polling_since.take() {
                        self.polling_total += self.now.since(since);
                    }
                    self.hit("pause");
                }
                self.input(Input::AppActive(false))
            }
            Host::Resume => {
                if let Some(p) = self.paused_since.take() {
                    let paused = self.now.since(p);
                    self.paused_total += paused;
                    self.not_before = self.not_before.map(|t| t + paused);
                    self.host_call_at = Some(self.now);
                    if self.polling {
                        self.polling_since = Some(self.now);
                    }
                }
                self.input(Input::AppActive(true))
            }
            Host::NetworkChanged => {
                self.hit("network changed");
                if self.paused_since.is_none() {
                    self.host_call_at = Some(self.now);
                }
                // The engine wakes every socket waiting to reconnect.
                for hub in 0..self.hubs.len() {
                    if let Phase::Waiting(until) = self.hubs[hub].phase {
                        if self.hubs[hub].alive {
                            let earliest = self.hubs[hub]
                                .reconnect
                                .earliest_after_wake(self.now)
                                .min(until);
                            self.hubs[hub].gen += 1;
                            self.hubs[hub].phase = Phase::Waiting(earliest);
                            let gen = self.hubs[hub].gen;
                            self.schedule(earliest, Ev::WaitOver { hub, gen });
                        }
                    }
                }
                self.input(Input::NetworkChanged)
            }
            Host::NewToken | Host::SameToken => {
                if action == Host::NewToken && self.given < self.w.tokens.len() {
                    self.token = self.given;
                    self.issued[self.token] = Some(self.now);
                    self.given += 1;
                    self.hit("new token");
                } else {
                    self.hit("same token again");
                }
                self.host_call_at = Some(self.now);
                self.token_updates += 1;
                let token = Token::new(self.w.tokens[self.token].clone()).expect("valid");
                self.input(Input::TokenUpdated(token))
            }
        }
    }

    fn token_valid(&self, token: usize, at: Time) -> bool {
        let issued = self.issued[token];
        !self
            .expiries
            .iter()
            .any(|&e| e <= at && issued.is_none_or(|i| i < e))
    }

    // ------------------------------------------------------------------------------------------
    // HTTP.

    fn start_fetch(&mut self) -> Result<(), Violation> {
        if self.fetch.is_some() {
            return Err(self.fail("no StartFetch while one is in flight", String::new()));
        }
        let now = self.now;
        let timing = self.w.timing;
        let contents = self.done_seen;
        if let Some(nb) = self.not_before.take() {
            if now < nb {
                return Err(self.fail(
                    "Retry-After delays every GET",
                    format!(
                        "GET at {:.3} ms, the server asked for none before {:.3} ms",
                        ms_of(now),
                        ms_of(nb)
                    ),
                ));
            }
        }
        if !contents {
            if let Some((prev, class)) = self.last_status_get {
                let host_since = self.host_call_at.is_some_and(|h| h >= prev);
                if now.since(prev) < timing.poll_interval && class == Class::Ok && !host_since {
                    return Err(self.fail(
                        "at most one status GET per poll interval",
                        format!(
                            "GET at {:.3} ms, {:.3} ms after a successful one (interval {:?}), no retry or host call",
                            ms_of(now),
                            ms_of(now) - ms_of(prev),
                            timing.poll_interval
                        ),
                    ));
                }
                if now.since(prev) < timing.poll_interval {
                    self.hit("GET sooner than the interval (allowed)");
                }
            }
            self.last_status_get = Some((now, Class::Pending));
            self.reconnected_at = None;
        } else {
            self.hit("contents GET");
        }
        self.next_fetch += 1;
        let id = self.next_fetch;
        self.fetch = Some(Fetch {
            id,
            start: now,
            contents,
            token_updates: self.token_updates,
        });
        let start_ms = u64::try_from(now.since_epoch().as_millis()).unwrap_or(u64::MAX);
        let covers = |from: u64, until: u64| from <= start_ms && start_ms < until;
        let (latency, hang) = self
            .w
            .items
            .iter()
            .find_map(|i| match i {
                Item::Latency {
                    from,
                    until,
                    ms,
                    hang,
                } if covers(*from, *until) => Some((*ms, *hang)),
                _ => None,
            })
            .unwrap_or((self.w.base_latency, false));
        let forced = self.w.items.iter().find_map(|i| match i {
            Item::Http {
                from,
                until,
                answer,
            } if covers(*from, *until) => Some(answer.clone()),
            _ => None,
        });
        let token = Token::new(self.w.tokens[self.token].clone()).expect("valid");
        let result = match forced {
            Some(Answer::Network) => {
                self.hit("network error");
                Err(transient(
                    ErrorKind::Network,
                    "order request failed: error sending request: connection refused",
                ))
            }
            Some(Answer::Http {
                code,
                body,
                retry_after,
            }) => {
                let bytes = self.body(&body);
                match code {
                    429 => self.hit("429"),
                    401 => self.hit("401"),
                    500..=599 => self.hit("5xx"),
                    403 | 422 | 400 | 418 => self.hit("fatal 4xx"),
                    _ => {}
                }
                if matches!(body, Body::Echo { .. }) {
                    self.hit("error echoes a token");
                }
                if let Some(r) = &retry_after {
                    if r.len() > 4 && r.bytes().all(|b| b.is_ascii_digit()) {
                        self.hit("huge Retry-After");
                    }
                }
                let retry = retry_after.as_deref().and_then(parse_retry_after);
                classify_for(self.w.order_id, code, &bytes, retry, Some(&token))
            }
            None => {
                let (code, bytes) = if !self.token_valid(self.token, now) {
                    self.hit("401 (expired token)");
                    (401, br#"{"statusCode":401,"errorCode":1501,"errorMessage":"[0401-1501]: Token expired"}"#.to_vec())
                } else if self.w.known_after.is_none_or(|k| start_ms < k) {
                    self.hit("404 (lag)");
                    (404, br#"{"statusCode":404,"errorCode":9001,"errorMessage":"[0401-9001]: Order not found"}"#.to_vec())
                } else {
                    (
                        200,
                        self.order_body(&self.status_now.clone(), true, self.w.order_id),
                    )
                };
                classify_for(self.w.order_id, code, &bytes, None, Some(&token))
            }
        };
        if hang {
            self.hit("GET hangs");
            return Ok(());
        }
        let (at, result) =
            if latency >= u64::try_from(timing.request_timeout.as_millis()).unwrap_or(u64::MAX) {
                self.hit("GET times out");
                (
                    now + timing.request_timeout,
                    Err(transient(
                        ErrorKind::Timeout,
                        "order request failed: operation timed out",
                    )),
                )
            } else {
                (now + Duration::from_millis(latency), result)
            };
        self.schedule(at, Ev::FetchDone { id, result });
        Ok(())
    }

    fn order_body(&self, status: &str, with_content: bool, order_id: i64) -> Vec<u8> {
        let status = serde_json::to_string(status).expect("a string");
        if with_content {
            format!(
                r#"{{"order_id":{order_id},"status":{status},"content":{}}}"#,
                self.w.content
            )
            .into_bytes()
        } else {
            format!(r#"{{"order_id":{order_id},"status":{status}}}"#).into_bytes()
        }
    }

    fn body(&mut self, body: &Body) -> Vec<u8> {
        let error = |text: &str| {
            serde_json::json!({"statusCode": 0, "errorCode": 0, "errorMessage": text})
                .to_string()
                .into_bytes()
        };
        match body {
            Body::Empty => Vec::new(),
            Body::XsollaError(text) => error(text),
            Body::Echo { token, start, len } => {
                // The server can only echo a token it was sent.
                let t = &self.w.tokens[(*token).min(self.given - 1)];
                let start = (*start).min(t.len().saturating_sub(8));
                let piece = &t[start..(start + len).min(t.len())];
                error(&format!("invalid token {piece}"))
            }
            Body::Status(raw) => {
                if raw == "new" {
                    self.hit("stale new answer");
                }
                self.order_body(raw, true, self.w.order_id)
            }
            Body::NoContents => {
                self.hit("200 without contents");
                self.order_body(&self.status_now.clone(), false, self.w.order_id)
            }
            Body::WrongOrder => {
                self.order_body(&self.status_now.clone(), true, self.w.order_id + 1)
            }
            Body::Raw(bytes) => {
                self.hit("malformed 200");
                bytes.clone()
            }
        }
    }

    fn fetched(
        &mut self,
        fetch: Fetch,
        result: Result<OrderSnapshot, ApiError>,
    ) -> Result<(), Violation> {
        let now = self.now;
        self.last_fetch_fatal = matches!(result, Err(ApiError::Fatal(_)));
        if !fetch.contents {
            let class = if result.is_ok() {
                Class::Ok
            } else {
                Class::NotOk
            };
            if self.last_status_get.is_some_and(|(t, _)| t == fetch.start) {
                self.last_status_get = Some((fetch.start, class));
            }
        }
        match &result {
            Ok(snapshot) => {
                self.not_found_streak = None;
                if let Some(c) = &snapshot.contents {
                    self.delivered_contents.insert(c.clone());
                }
                let status = snapshot.status.clone();
                self.observed(status, snapshot.contents.is_none());
            }
            Err(ApiError::Transient { retry_after, .. }) => {
                self.not_before = retry_after.map(|r| now + r.min(MAX_RETRY_AFTER));
            }
            Err(ApiError::NotFound(_)) => {
                if !fetch.contents && self.not_found_streak.is_none() {
                    self.not_found_streak = Some(now);
                }
            }
            Err(ApiError::Unauthorized(_)) => {
                if !fetch.contents {
                    self.last_401 = Some((now, fetch.token_updates));
                    self.reconnected_at = None; // waiting for a token: no GET until it comes
                }
            }
            Err(ApiError::Fatal(_)) => {}
        }
        if !matches!(result, Err(ApiError::Transient { .. })) {
            self.not_before = None;
        }
        self.input(Input::Fetched(result))
    }

    // ------------------------------------------------------------------------------------------
    // The socket.

    fn new_hub(&mut self, token: usize) -> usize {
        let timing = self.w.timing;
        let seed = self.w.seed ^ (self.hubs.len() as u64).wrapping_mul(0x9E37_79B9);
        self.hubs.push(Hub {
            token,
            reconnect: Reconnect::new(
                Backoff {
                    min: timing.backoff_min,
                    max: timing.backoff_max,
                },
                seed,
            ),
            gen: 0,
            phase: Phase::Attempting,
            drop_after: None,
            reported_down: false,
            last: None,
            sub: None,
            alive: true,
        });
        self.hubs.len() - 1
    }

    fn open_push(&mut self) {
        self.close_push();
        let key = if self.w.push == PushKind::Centrifugo {
            self.token
        } else {
            usize::MAX
        };
        self.opens.entry(key).or_default().push(self.now);
        self.next_sub += 1;
        let sub = self.next_sub;
        let existing = (self.w.push == PushKind::Centrifugo)
            .then(|| {
                self.hubs
                    .iter()
                    .position(|h| h.alive && h.token == self.token)
            })
            .flatten();
        let hub = match existing {
            Some(hub) => {
                self.hubs[hub].sub = Some(sub);
                self.sub = Some((hub, sub));
                match self.hubs[hub].last.clone() {
                    Some(PushEvent::Connected { .. }) => {
                        self.hit("joined a live connection");
                        self.deliver(sub, PushEvent::Connected { fresh: false })
                    }
                    Some(last) => self.deliver(sub, last),
                    None => {}
                }
                return;
            }
            None => self.new_hub(if self.w.push == PushKind::Centrifugo {
                self.token
            } else {
                usize::MAX
            }),
        };
        self.hubs[hub].sub = Some(sub);
        self.sub = Some((hub, sub));
        self.attempt(hub);
    }

    fn close_push(&mut self) {
        if let Some((hub, _)) = self.sub.take() {
            let h = &mut self.hubs[hub];
            h.sub = None;
            if !(self.w.shared_hub && self.w.push == PushKind::Centrifugo) {
                h.alive = false; // the last subscriber left: the task is aborted
                h.phase = Phase::Ended;
            }
        }
    }

    fn attempt(&mut self, hub: usize) {
        let now = self.now;
        let timing = self.w.timing;
        let key = if self.w.push == PushKind::Centrifugo {
            self.hubs[hub].token
        } else {
            usize::MAX
        };
        self.attempts.entry(key).or_default().push(now);
        let start_ms = u64::try_from(now.since_epoch().as_millis()).unwrap_or(u64::MAX);
        let mode = self.w.items.iter().find_map(|i| match i {
            Item::Socket { from, until, mode } if *from <= start_ms && start_ms < *until => {
                Some(mode.clone())
            }
            _ => None,
        });
        let token_ok =
            self.w.push != PushKind::Centrifugo || self.token_valid(self.hubs[hub].token, now);
        let h = &mut self.hubs[hub];
        h.reconnect.attempt(now);
        h.phase = Phase::Attempting;
        h.gen += 1;
        h.drop_after = None;
        let gen = h.gen;
        let (at, end) = match mode {
            Some(SocketMode::Refuse) => {
                self.hits.insert("socket refused");
                (
                    now + Duration::from_millis(1),
                    Some(SessionEnd::Lost(ErrorInfo::new(
                        ErrorKind::Network,
                        "connection refused",
                    ))),
                )
            }
            Some(SocketMode::SlowHandshake(ms))
                if Duration::from_millis(ms) >= timing.request_timeout =>
            {
                self.hits.insert("socket handshake timeout");
                (
                    now + timing.request_timeout,
                    Some(SessionEnd::Lost(ErrorInfo::new(
                        ErrorKind::Timeout,
                        "socket handshake took too long",
                    ))),
                )
            }
            Some(SocketMode::SlowHandshake(ms)) => (now + Duration::from_millis(ms), None),
            Some(SocketMode::DropAfter(ms)) => {
                self.hits.insert("socket drops connections");
                h.drop_after = Some(ms);
                (now + Duration::from_millis(1), None)
            }
            None => (now + Duration::from_millis(1), None),
        };
        let end = match end {
            None if !token_ok => {
                self.hits.insert("socket connect with expired token");
                Some(SessionEnd::TokenExpired(ErrorInfo::new(
                    ErrorKind::Unauthorized,
                    "connect error 109: token expired",
                )))
            }
            end => end,
        };
        self.schedule(at, Ev::AttemptDone { hub, gen, end });
    }

    fn schedule_session_end(&mut self, hub: usize, drop_after: Option<u64>) {
        let timing = self.w.timing;
        let reestablish = self.now + timing.socket_reestablish;
        let gen = self.hubs[hub].gen;
        match drop_after.map(|ms| self.now + Duration::from_millis(ms)) {
            Some(drop) if drop < reestablish => {
                let info = ErrorInfo::new(
                    ErrorKind::Network,
                    "socket closed by server with code 1006 (abnormal)",
                );
                self.schedule(
                    drop,
                    Ev::SessionEnd {
                        hub,
                        gen,
                        end: SessionEnd::Lost(info),
                    },
                );
            }
            _ => {
                if reestablish < Time::NEVER {
                    self.schedule(
                        reestablish,
                        Ev::SessionEnd {
                            hub,
                            gen,
                            end: SessionEnd::Reestablish,
                        },
                    );
                }
            }
        }
    }

    fn session_end(&mut self, hub: usize, end: SessionEnd) {
        let now = self.now;
        match end {
            SessionEnd::Reestablish => {
                self.hit("socket re-established");
                self.attempt(hub);
            }
            SessionEnd::Lost(info) => {
                if !self.hubs[hub].reported_down {
                    self.hubs[hub].reported_down = true;
                    self.broadcast(hub, PushEvent::Lost(info));
                }
                let delay = self.hubs[hub].reconnect.failed(now);
                let until = now + delay;
                let h = &mut self.hubs[hub];
                h.gen += 1;
                h.phase = Phase::Waiting(until);
                let gen = h.gen;
                self.schedule(until, Ev::WaitOver { hub, gen });
            }
            SessionEnd::Rejected(info) => {
                self.hubs[hub].phase = Phase::Ended;
                self.broadcast(hub, PushEvent::Rejected(info));
            }
            SessionEnd::TokenExpired(info) => {
                self.hubs[hub].phase = Phase::Ended;
                self.broadcast(hub, PushEvent::TokenExpired(info));
            }
        }
    }

    fn broadcast(&mut self, hub: usize, event: PushEvent) {
        self.hubs[hub].last = Some(event.clone());
        if let Some(sub) = self.hubs[hub].sub {
            self.deliver(sub, event);
        }
    }

    fn deliver(&mut self, sub: u64, event: PushEvent) {
        self.schedule(self.now, Ev::Deliver { sub, event });
    }

    /// The server publishes a status: every live connection carries it (with the push faults).
    fn publish(&mut self, status: Status) {
        let now_ms = u64::try_from(self.now.since_epoch().as_millis()).unwrap_or(u64::MAX);
        let fault = self.w.items.iter().find_map(|i| match i {
            Item::Push { from, until, fault } if *from <= now_ms && now_ms < *until => {
                Some(fault.clone())
            }
            _ => None,
        });
        for hub in 0..self.hubs.len() {
            let h = &self.hubs[hub];
            if !h.alive || h.phase != Phase::Up {
                continue;
            }
            let gen = h.gen;
            let base = Duration::from_millis(self.w.push_latency);
            let frame = |status: &Status| Ev::Frame {
                hub,
                gen,
                status: status.clone(),
            };
            match &fault {
                Some(PushFault::Drop) => self.hit("push dropped"),
                Some(PushFault::Duplicate) => {
                    self.hit("push duplicated");
                    self.schedule(self.now + base, frame(&status));
                    self.schedule(self.now + base + base, frame(&status));
                }
                Some(PushFault::Delay(ms)) => {
                    self.hit("push delayed");
                    self.schedule(self.now + Duration::from_millis(*ms), frame(&status));
                }
                None => self.schedule(self.now + base, frame(&status)),
            }
        }
    }

    fn pushed(&mut self, event: PushEvent) -> Result<(), Violation> {
        let running = !self.machine.is_finished() && self.paused_since.is_none() && !self.done_seen;
        if event == (PushEvent::Connected { fresh: true }) && running {
            self.reconnected_at.get_or_insert(self.now);
        }
        if let PushEvent::Status(status) = &event {
            if self.paused_since.is_none() {
                self.observed(status.clone(), true);
            }
            self.hit("push delivered");
        }
        self.input(Input::Push(event))
    }

    /// The machine is told `status` now (by a GET or a push).
    fn observed(&mut self, status: Status, without_contents: bool) {
        if self.machine.is_finished() || self.first_final_status.is_some() {
            return;
        }
        if status.final_outcome().is_some() {
            self.first_final_status = Some(status.clone());
            self.final_observed = Some((self.now, self.paused_total));
            if status == Status::Done && without_contents {
                self.done_seen = true;
            }
        }
    }

    // ------------------------------------------------------------------------------------------
    // Oracles on what the machine says.

    fn check_secret(&self, what: &str, text: &str) -> Result<(), Violation> {
        // The machine redacts the current token and the ones before it, up to
        // `REMEMBERED_TOKENS` (4, private in machine.rs) in all: memory per tracker stays bounded.
        // A token five updates old is not redacted (see docs/simulation.md).
        let given =
            ((1u64 << self.given) - 1) & !((1u64 << self.given.saturating_sub(REMEMBERED)) - 1);
        let bytes = text.as_bytes();
        let mut run = 0;
        for (i, b) in bytes.iter().enumerate() {
            // Only windows made of token bytes can be token pieces.
            run = if self.secret_bytes[usize::from(*b)] {
                run + 1
            } else {
                0
            };
            if run < 8 {
                continue;
            }
            if let Some(tokens) = self.secrets.get(&window(&bytes[i + 1 - 8..=i])) {
                if tokens & given != 0 {
                    return Err(self.fail(
                        "no token piece of 8+ characters in any event or log",
                        format!(
                            "{what} holds a piece of token(s) {:b}: {text:?}",
                            tokens & given
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    fn emitted(&mut self, event: Event, last: bool) -> Result<(), Violation> {
        if self.cancelled {
            return Err(self.fail("no event after the host's cancel", format!("{event:?}")));
        }
        if let Some(error) = &event.error {
            self.check_secret("error message", &error.message)?;
        }
        if let Some(Status::Other(raw)) = &event.status {
            self.check_secret("status_raw", raw)?;
        }
        if let Some(contents) = &event.contents {
            self.check_secret("contents", contents)?;
        }
        if event.kind == EventKind::TransportChanged {
            let polling = event.transport == Some(TransportState::Polling);
            if polling && !self.polling && self.paused_since.is_none() {
                self.polling_since = Some(self.now);
            }
            if !polling {
                if let Some(since) = self.polling_since.take() {
                    self.polling_total += self.now.since(since);
                }
            }
            self.polling = polling;
        }
        if event.kind == EventKind::TokenExpired {
            self.hit("TokenExpired event");
        }
        if !last {
            if event.kind == EventKind::Final {
                return Err(self.fail("exactly one final", "Emit carried a Final".into()));
            }
            return Ok(());
        }
        self.finals += 1;
        if self.finals > 1 {
            return Err(self.fail("exactly one final", format!("second final {event:?}")));
        }
        if event.kind != EventKind::Final {
            return Err(self.fail(
                "exactly one final",
                format!("Finish carried {:?}", event.kind),
            ));
        }
        self.check_final(&event)?;
        self.outcome = Some(event);
        Ok(())
    }

    fn check_final(&mut self, event: &Event) -> Result<(), Violation> {
        let now = self.now;
        let timing = self.w.timing;
        if now > self.deadline() {
            return Err(self.fail(
                "final no later than the overall deadline",
                format!(
                    "final at {:.3} ms, deadline {:.3} ms",
                    ms_of(now),
                    ms_of(self.deadline())
                ),
            ));
        }
        if let Some((seen, paused_before)) = self.final_observed {
            // Only a pushed done waits (for its contents), at most one request timeout.
            let paused = self.paused_total - paused_before;
            let allowed = timing.request_timeout + paused;
            if now.since(seen) > allowed {
                return Err(self.fail(
                    "a final status is reported within a request timeout",
                    format!(
                        "observed at {:.3} ms, final at {:.3} ms",
                        ms_of(seen),
                        ms_of(now)
                    ),
                ));
            }
        }
        let expected = self
            .first_final_status
            .as_ref()
            .and_then(Status::final_outcome);
        match (expected, event.outcome) {
            (Some(e), o) if e != o => {
                return Err(self.fail(
                    "a final status the tracker observed decides the outcome",
                    format!(
                        "observed {:?}, final {o:?} ({:?})",
                        self.first_final_status, event.error
                    ),
                ));
            }
            (None, o @ (Outcome::Done | Outcome::Canceled | Outcome::Expired)) => {
                return Err(self.fail(
                    "DONE/CANCELED/EXPIRED only if the server said so",
                    format!("final {o:?} but no such status reached the tracker"),
                ));
            }
            _ => {}
        }
        match event.outcome {
            Outcome::Done => {
                self.hit(if event.contents.is_some() {
                    "DONE with contents"
                } else {
                    "DONE without contents"
                });
                if let Some(c) = &event.contents {
                    if !self.delivered_contents.contains(c) {
                        return Err(self.fail("contents come from the server", format!("{c:?}")));
                    }
                }
            }
            Outcome::NotFound => {
                let Some(first) = self.not_found_streak else {
                    return Err(self.fail(
                        "NOT_FOUND only after a confirmed 404",
                        "no 404 streak".into(),
                    ));
                };
                if now.since(first) < timing.not_found_confirm {
                    return Err(self.fail(
                        "never NOT_FOUND within the confirmation window after the first 404",
                        format!(
                            "first 404 at {:.3} ms, NOT_FOUND at {:.3} ms",
                            ms_of(first),
                            ms_of(now)
                        ),
                    ));
                }
            }
            Outcome::Unauthorized => {
                let Some((refused, updates)) = self.last_401 else {
                    return Err(self.fail("UNAUTHORIZED only after a 401", "no 401".into()));
                };
                // The refused GET must have carried the current token: a 401 to an older one
                // says nothing about the token the host gave since.
                if updates != self.token_updates || now.since(refused) < timing.token_wait {
                    return Err(self.fail(
                        "UNAUTHORIZED only after the token wait without a new token",
                        format!(
                            "401 at {:.3} ms, final at {:.3} ms",
                            ms_of(refused),
                            ms_of(now)
                        ),
                    ));
                }
            }
            Outcome::Failed => {
                if !self.last_fetch_fatal {
                    return Err(self.fail(
                        "FAILED only on a fatal answer",
                        format!("{:?}", event.error),
                    ));
                }
            }
            Outcome::TimedOut => {
                let polled = self.polling_total
                    + self.polling_since.map_or(Duration::ZERO, |s| now.since(s));
                if now < self.deadline() && polled < timing.polling_deadline {
                    return Err(self.fail(
                        "TIMED_OUT only at a deadline",
                        format!("at {:.3} ms after {polled:?} of polling", ms_of(now)),
                    ));
                }
            }
            Outcome::Canceled | Outcome::Expired | Outcome::None => {}
        }
        Ok(())
    }

    /// At most a bounded number of socket connects per minute per token, whatever the server does.
    /// Rule 2: after a (re)connect, the order is requested once more (pushes during the gap are
    /// not replayed). Generous bound: a poll interval, a hung GET, the longest Retry-After, the
    /// not-found confirmation and a backoff.
    fn check_reconnect_get(&self) -> Result<(), Violation> {
        let Some(at) = self.reconnected_at else {
            return Ok(());
        };
        if self.machine.is_finished() || self.done_seen || self.paused_since.is_some() {
            return Ok(());
        }
        let t = self.w.timing;
        let slack = t.poll_interval
            + t.request_timeout
            + Duration::from_secs(1)
            + MAX_RETRY_AFTER
            + t.not_found_confirm
            + t.backoff_max;
        if self.now > at + slack {
            return Err(self.fail(
                "a status GET follows every socket (re)connect",
                format!("connected at {:.3} ms, no GET since", ms_of(at)),
            ));
        }
        Ok(())
    }

    /// Returns the most connects in a minute not caused by the machine opening a subscription.
    fn check_connects(&self) -> Result<u64, Violation> {
        let timing = self.w.timing;
        let minute = Duration::from_secs(60);
        let floor = timing
            .backoff_min
            .min(WAKE_FLOOR)
            .max(Duration::from_nanos(1));
        let per =
            |d: Duration| (minute.as_nanos() / d.max(Duration::from_nanos(1)).as_nanos()) as u64;
        let base = per(floor) + per(timing.socket_reestablish) + 3;
        let mut worst = 0;
        for (key, attempts) in &self.attempts {
            let opens = self.opens.get(key).map_or(&[][..], Vec::as_slice);
            let mut lo = 0;
            for hi in 0..attempts.len() {
                while attempts[hi].since(attempts[lo]) >= minute {
                    lo += 1;
                }
                let in_window = (hi - lo + 1) as u64;
                let from = attempts[lo];
                let opened = opens
                    .iter()
                    .filter(|&&o| o >= from && o <= attempts[hi])
                    .count() as u64;
                worst = worst.max(in_window.saturating_sub(opened));
                if in_window > base + opened {
                    return Err(self.fail(
                        "bounded socket connects per minute per token",
                        format!("{in_window} connects within a minute (bound {base} + {opened} host-caused)"),
                    ));
                }
            }
        }
        Ok(worst)
    }
}

fn describe_input(input: &Input) -> String {
    match input {
        Input::Fetched(Ok(s)) => format!(
            "Fetched(Ok {:?}, contents: {})",
            s.status,
            s.contents.is_some()
        ),
        Input::Fetched(Err(e)) => format!("Fetched(Err {e:?})"),
        Input::TokenUpdated(_) => "TokenUpdated".to_owned(),
        other => format!("{other:?}"),
    }
}

fn describe_action(action: &Action) -> String {
    match action {
        Action::Emit(e) | Action::Finish(e) => format!(
            "{} {:?} status={:?} outcome={:?} transport={:?} error={:?}",
            if matches!(action, Action::Finish(_)) {
                "Finish"
            } else {
                "Emit"
            },
            e.kind,
            e.status,
            e.outcome,
            e.transport,
            e.error.as_ref().map(|e| &e.message)
        ),
        other => format!("{other:?}"),
    }
}
