//! The fleet's load on Xsolla: many trackers (one token each) driven through the library's sans-IO
//! [`Machine`] and socket [`Reconnect`] policy in virtual time — a discrete-event loop, no tokio,
//! no sockets. A scripted world answers every `StartFetch` and socket connect and counts what
//! reaches Xsolla per second, through four events: an outage of the socket endpoint (everyone
//! falls back to polling), its recovery (everyone reconnects), an HTTP API brown-out (5xx, then
//! 429 with a `Retry-After` that ends when the limiter's window resets) and a mass token expiry
//! (the host supplies a new token after a random delay).
//!
//! The world mirrors what the driver (`src/tracker/driver.rs`) and the socket loop
//! (`src/transport/mod.rs`) do with the machine's actions: a GET per `StartFetch` (answered after
//! a network round trip), a socket per `OpenPush` with its own `Reconnect` policy (attempt,
//! `failed` → delay, `connected`, the 5-minute re-establish), `Lost` once per outage, and
//! `TokenExpired` from the socket when the token expires.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fmt::Write as _;
use std::time::Duration;

use xo_tracker::api::{ApiError, OrderSnapshot};
use xo_tracker::backoff::Backoff;
use xo_tracker::config::Timing;
use xo_tracker::events::{ErrorInfo, ErrorKind, EventKind, Status, TransportState};
use xo_tracker::time::Time;
use xo_tracker::tracker::machine::{Action, Input, Machine, Settings};
use xo_tracker::transport::reconnect::Reconnect;
use xo_tracker::transport::PushEvent;
use xo_tracker::Token;

use crate::{note, row, Mode, Verdict};

const BENCH: &str = "fleet";
/// Trackers start uniformly over this window, then settle before the scenario's event.
const START_SPREAD: u64 = 30;
/// When the scenario's event happens (s).
const EVENT_AT: u64 = 60;
/// The socket outage lasts this long (s).
const OUTAGE: u64 = 300;
/// The brown-out: 5xx to half the requests for the first half, 429 for the second half (s).
const BROWNOUT: u64 = 60;
/// The host supplies a new token this long after being asked (uniform, ms).
const TOKEN_DELAY_MS: (u64, u64) = (1_000, 20_000);
/// A GET's round trip (uniform, ms) and a socket connect + handshake.
const RTT_MS: (u64, u64) = (40, 120);
const CONNECT_MS: u64 = 150;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Outage,
    Brownout,
    TokenExpiry,
}

/// What the socket endpoint and HTTP API do over time.
struct Script {
    kind: Kind,
    /// Seconds simulated.
    length: u64,
}

impl Script {
    fn socket_up(&self, now: Time) -> bool {
        match self.kind {
            Kind::Outage => !(secs(EVENT_AT)..secs(EVENT_AT + OUTAGE)).contains(&now),
            Kind::Brownout => true,
            Kind::TokenExpiry => true,
        }
    }

    /// Tokens of the first epoch are refused from this time on.
    fn tokens_expire_at(&self) -> Time {
        match self.kind {
            Kind::TokenExpiry => secs(EVENT_AT),
            _ => Time::NEVER,
        }
    }
}

fn secs(s: u64) -> Time {
    Time::from_millis(s * 1000)
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Ev {
    /// The machine's timer (valid if the generation matches).
    Timer(u32),
    /// The GET started with this generation is answered.
    Fetched(u32),
    /// The socket of this generation starts a connect attempt.
    Connect(u32),
    /// The connect attempt of this generation ends (handshake or refusal).
    Handshake(u32),
    /// The socket of this generation is re-established on schedule (5 min).
    Reestablish(u32),
    /// The host hands over a new token.
    HostToken,
    /// The socket endpoint goes down: every open socket is lost.
    EndpointDown,
    /// Every open socket is told its token expired.
    TokensExpire,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Sock {
    Idle,
    Connecting,
    Up,
    Waiting,
}

struct Node {
    machine: Machine,
    token_epoch: u32,
    timer_gen: u32,
    timer_at: Option<Time>,
    fetch_gen: u32,
    answer: Option<Result<OrderSnapshot, ApiError>>,
    sock_gen: u32,
    sock: Sock,
    sock_epoch: u32,
    reconnect: Reconnect,
    reported_down: bool,
    /// The earliest time the server said this client may ask again.
    told_not_before: Option<Time>,
    /// First time, at or after the world's `marks`, that the machine reported a live socket,
    /// polling, and a successful GET.
    connected_at: Option<Time>,
    polling_at: Option<Time>,
    ok_at: Option<Time>,
}

/// Per-second counts of what reaches Xsolla.
struct Counters {
    requests: Vec<u32>,
    connects: Vec<u32>,
    retry_after_violations: u64,
    retry_after_told: u64,
}

impl Counters {
    fn bump(v: &mut [u32], now: Time) {
        let s = (now.since_epoch().as_secs() as usize).min(v.len() - 1);
        v[s] += 1;
    }
}

struct World {
    script: Script,
    timing: Timing,
    nodes: Vec<Node>,
    heap: BinaryHeap<Reverse<(Time, u64, u32, Ev)>>,
    seq: u64,
    rng: u64,
    counters: Counters,
    /// Record connected / polling / ok only from these times on.
    marks: Marks,
}

#[derive(Clone, Copy)]
struct Marks {
    connected: Time,
    polling: Time,
    ok: Time,
}

fn first(slot: &mut Option<Time>, now: Time, mark: Time) {
    if slot.is_none() && now >= mark {
        *slot = Some(now);
    }
}

const GLOBAL: u32 = u32::MAX;

impl World {
    fn new(script: Script, n: usize, seed: u64, marks: Marks) -> World {
        let length = script.length as usize + 1;
        let mut world = World {
            script,
            timing: Timing::default(),
            nodes: Vec::with_capacity(n),
            heap: BinaryHeap::new(),
            seq: 0,
            rng: seed | 1,
            marks,
            counters: Counters {
                requests: vec![0; length],
                connects: vec![0; length],
                retry_after_violations: 0,
                retry_after_told: 0,
            },
        };
        match world.script.kind {
            Kind::Outage => world.at(secs(EVENT_AT), GLOBAL, Ev::EndpointDown),
            Kind::TokenExpiry => world.at(secs(EVENT_AT), GLOBAL, Ev::TokensExpire),
            Kind::Brownout => {}
        }
        let push = world.script.kind != Kind::Brownout;
        for i in 0..n {
            let start = Time::from_millis(world.random(0, START_SPREAD * 1000));
            let settings = Settings {
                timing: world.timing,
                push,
                push_uses_token: true,
                jitter_seed: mix(i as u64 * 2 + 1),
            };
            let machine = Machine::new(start, i as u64 + 1, i as i64 + 1, token(i, 0), settings);
            let reconnect = world.policy(i, 0);
            world.nodes.push(Node {
                machine,
                token_epoch: 0,
                timer_gen: 0,
                timer_at: None,
                fetch_gen: 0,
                answer: None,
                sock_gen: 0,
                sock: Sock::Idle,
                sock_epoch: 0,
                reconnect,
                reported_down: false,
                told_not_before: None,
                connected_at: None,
                polling_at: None,
                ok_at: None,
            });
            world.drain(i as u32, start);
        }
        world
    }

    fn policy(&self, i: usize, generation: u32) -> Reconnect {
        Reconnect::new(
            Backoff {
                min: self.timing.backoff_min,
                max: self.timing.backoff_max,
            },
            mix((i as u64) << 20 | u64::from(generation)),
        )
    }

    fn at(&mut self, t: Time, node: u32, ev: Ev) {
        self.seq += 1;
        self.heap.push(Reverse((t, self.seq, node, ev)));
    }

    fn random(&mut self, lo: u64, hi: u64) -> u64 {
        let mut x = self.rng;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.rng = x;
        lo + x % (hi - lo).max(1)
    }

    fn run(&mut self) {
        let end = secs(self.script.length);
        while let Some(Reverse((now, _, node, ev))) = self.heap.pop() {
            if now >= end {
                break;
            }
            self.step(now, node, ev);
        }
    }

    fn step(&mut self, now: Time, i: u32, ev: Ev) {
        match ev {
            Ev::EndpointDown => {
                for i in 0..self.nodes.len() as u32 {
                    if self.nodes[i as usize].sock == Sock::Up {
                        self.socket_failed(i, now);
                    }
                }
                return;
            }
            Ev::TokensExpire => {
                for i in 0..self.nodes.len() as u32 {
                    let n = &mut self.nodes[i as usize];
                    if n.sock == Sock::Up && n.sock_epoch == 0 {
                        n.sock_gen += 1;
                        n.sock = Sock::Idle;
                        let info = ErrorInfo::new(ErrorKind::Unauthorized, "token expired");
                        n.machine
                            .handle(now, Input::Push(PushEvent::TokenExpired(info)));
                        self.drain(i, now);
                    }
                }
                return;
            }
            _ => {}
        }
        let n = &mut self.nodes[i as usize];
        match ev {
            Ev::Timer(g) => {
                if g != n.timer_gen {
                    return;
                }
                n.timer_at = None;
                n.machine.handle_timeout(now);
            }
            Ev::Fetched(g) => {
                if g != n.fetch_gen {
                    return;
                }
                let Some(answer) = n.answer.take() else {
                    return;
                };
                if answer.is_ok() {
                    first(&mut n.ok_at, now, self.marks.ok);
                }
                n.machine.handle(now, Input::Fetched(answer));
            }
            Ev::Connect(g) => {
                if g != n.sock_gen {
                    return;
                }
                n.sock = Sock::Connecting;
                n.reconnect.attempt(now);
                Counters::bump(&mut self.counters.connects, now);
                self.at(now + Duration::from_millis(CONNECT_MS), i, Ev::Handshake(g));
                return;
            }
            Ev::Handshake(g) => {
                if g != n.sock_gen {
                    return;
                }
                if !self.script.socket_up(now) {
                    return self.socket_failed(i, now);
                }
                if n.sock_epoch == 0 && now >= self.script.tokens_expire_at() {
                    n.sock = Sock::Idle;
                    n.sock_gen += 1;
                    let info = ErrorInfo::new(ErrorKind::Unauthorized, "token expired");
                    n.machine
                        .handle(now, Input::Push(PushEvent::TokenExpired(info)));
                } else {
                    n.sock = Sock::Up;
                    n.reported_down = false;
                    n.reconnect.connected(now);
                    n.machine
                        .handle(now, Input::Push(PushEvent::Connected { fresh: true }));
                    let at = now + self.timing.socket_reestablish;
                    self.at(at, i, Ev::Reestablish(g));
                }
            }
            Ev::Reestablish(g) => {
                if g != n.sock_gen || n.sock != Sock::Up {
                    return;
                }
                n.sock_gen += 1;
                let g = n.sock_gen;
                self.at(now, i, Ev::Connect(g));
                return;
            }
            Ev::HostToken => {
                n.token_epoch += 1;
                let t = token(i as usize, n.token_epoch);
                n.machine.handle(now, Input::TokenUpdated(t));
            }
            Ev::EndpointDown | Ev::TokensExpire => unreachable!(),
        }
        self.drain(i, now);
    }

    /// The socket failed (refused, or dropped by the outage): `Lost` once, then retry after
    /// the policy's delay — as `connection_loop` does.
    fn socket_failed(&mut self, i: u32, now: Time) {
        let n = &mut self.nodes[i as usize];
        n.sock = Sock::Waiting;
        n.sock_gen += 1;
        let g = n.sock_gen;
        let report = !std::mem::replace(&mut n.reported_down, true);
        let delay = n.reconnect.failed(now);
        self.at(now + delay, i, Ev::Connect(g));
        if report {
            let info = ErrorInfo::new(ErrorKind::Network, "socket lost");
            self.nodes[i as usize]
                .machine
                .handle(now, Input::Push(PushEvent::Lost(info)));
            self.drain(i, now);
        }
    }

    /// Carries out the machine's actions and re-arms its timer.
    fn drain(&mut self, i: u32, now: Time) {
        while let Some(action) = self.nodes[i as usize].machine.poll_action() {
            match action {
                Action::StartFetch => {
                    let answer = self.answer(i, now);
                    let rtt = self.random(RTT_MS.0, RTT_MS.1);
                    let n = &mut self.nodes[i as usize];
                    n.fetch_gen += 1;
                    n.answer = Some(answer);
                    let g = n.fetch_gen;
                    self.at(now + Duration::from_millis(rtt), i, Ev::Fetched(g));
                }
                Action::AbortFetch => {
                    let n = &mut self.nodes[i as usize];
                    n.fetch_gen += 1;
                    n.answer = None;
                }
                Action::OpenPush => {
                    let reconnect = self.policy(i as usize, self.nodes[i as usize].sock_gen + 1);
                    let n = &mut self.nodes[i as usize];
                    n.sock_gen += 1;
                    n.sock = Sock::Connecting;
                    n.sock_epoch = n.token_epoch;
                    n.reconnect = reconnect;
                    n.reported_down = false;
                    let g = n.sock_gen;
                    self.at(now, i, Ev::Connect(g));
                }
                Action::ClosePush => {
                    let n = &mut self.nodes[i as usize];
                    n.sock_gen += 1;
                    n.sock = Sock::Idle;
                }
                Action::Emit(event) => match event.kind {
                    EventKind::TransportChanged => {
                        let (n, marks) = (&mut self.nodes[i as usize], self.marks);
                        if event.transport == Some(TransportState::Polling) {
                            first(&mut n.polling_at, now, marks.polling);
                        } else {
                            first(&mut n.connected_at, now, marks.connected);
                        }
                    }
                    EventKind::TokenExpired => {
                        let delay = self.random(TOKEN_DELAY_MS.0, TOKEN_DELAY_MS.1);
                        self.at(now + Duration::from_millis(delay), i, Ev::HostToken);
                    }
                    _ => {}
                },
                Action::Finish(_) => {}
                Action::Log(..) => {}
            }
        }
        let n = &mut self.nodes[i as usize];
        let next = n.machine.poll_timeout();
        if next != n.timer_at {
            n.timer_gen += 1;
            n.timer_at = next;
            if let Some(t) = next {
                let g = n.timer_gen;
                self.at(t.max(now), i, Ev::Timer(g));
            }
        }
    }

    /// What Xsolla answers to a GET that reaches it at `now`.
    fn answer(&mut self, i: u32, now: Time) -> Result<OrderSnapshot, ApiError> {
        Counters::bump(&mut self.counters.requests, now);
        let n = &self.nodes[i as usize];
        if n.told_not_before.is_some_and(|t| now < t) {
            self.counters.retry_after_violations += 1;
        }
        if n.token_epoch == 0 && now >= self.script.tokens_expire_at() {
            return Err(ApiError::Unauthorized(ErrorInfo::new(
                ErrorKind::Unauthorized,
                "401",
            )));
        }
        if self.script.kind == Kind::Brownout {
            let (from, mid, to) = (
                secs(EVENT_AT),
                secs(EVENT_AT + BROWNOUT / 2),
                secs(EVENT_AT + BROWNOUT),
            );
            if (from..mid).contains(&now) && self.random(0, 2) == 0 {
                return Err(transient(503, None));
            }
            if (mid..to).contains(&now) {
                // A fixed-window limiter: "come back when the window resets" (whole seconds).
                let wait = Duration::from_secs(to.since(now).as_secs_f64().ceil() as u64);
                self.nodes[i as usize].told_not_before = Some(now + wait);
                self.counters.retry_after_told += 1;
                return Err(transient(429, Some(wait)));
            }
        }
        Ok(OrderSnapshot {
            status: Status::Paid,
            contents: None,
        })
    }
}

fn transient(status: u16, retry_after: Option<Duration>) -> ApiError {
    let mut info = ErrorInfo::new(ErrorKind::Http, format!("HTTP {status}"));
    info.http_status = status;
    ApiError::Transient { info, retry_after }
}

fn token(i: usize, epoch: u32) -> Token {
    Token::new(format!("fleet-token-{i:06}-{epoch}")).expect("a valid token")
}

/// splitmix64: well-spread seeds from small integers.
fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Mean, peak and peak/mean of per-second counts over `[from, to)` seconds.
fn rate(v: &[u32], from: u64, to: u64) -> (f64, u32, f64) {
    let slice = &v[from as usize..(to as usize).min(v.len())];
    let mean = slice.iter().map(|&c| f64::from(c)).sum::<f64>() / slice.len().max(1) as f64;
    let peak = slice.iter().copied().max().unwrap_or(0);
    (mean, peak, f64::from(peak) / mean.max(1e-9))
}

/// The latest of `f` over all nodes, in seconds after `since` (None if some node has none).
fn settled(nodes: &[Node], since: Time, f: impl Fn(&Node) -> Option<Time>) -> Option<f64> {
    let mut latest = since;
    for n in nodes {
        let t = f(n).filter(|&t| t >= since)?;
        latest = latest.max(t);
    }
    Some(latest.since(since).as_secs_f64())
}

fn fmt_settle(s: Option<f64>) -> String {
    s.map_or_else(|| "not within the run".to_owned(), |s| format!("{s:.1} s"))
}

/// One plotted run: title, per-second requests and connects, event markers (s, label).
struct Plot {
    title: String,
    requests: Vec<u32>,
    connects: Vec<u32>,
    marks: Vec<(u64, &'static str)>,
}

pub fn run(mode: Mode) -> Result<(), String> {
    // XO_BENCH_FLEET_N overrides the fleet size (to compare commits at an in-between size).
    let n = std::env::var("XO_BENCH_FLEET_N")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or(if mode.quick() { 1_000 } else { 100_000 });
    let started = std::time::Instant::now();
    let mut plots = Vec::new();
    let nf = n as f64;
    let ideal = nf / 3.0;

    // 1 + 2: the socket endpoint is down for 5 minutes, then comes back.
    let mut w = World::new(
        Script {
            kind: Kind::Outage,
            length: EVENT_AT + OUTAGE + 120,
        },
        n,
        11,
        Marks {
            connected: secs(EVENT_AT + OUTAGE),
            polling: secs(EVENT_AT),
            ok: Time::NEVER,
        },
    );
    w.run();
    let down = secs(EVENT_AT);
    let up = secs(EVENT_AT + OUTAGE);
    let (mean, peak, ratio) = rate(&w.counters.requests, EVENT_AT + 3, EVENT_AT + OUTAGE);
    let (_, first_peak, _) = rate(&w.counters.requests, EVENT_AT, EVENT_AT + 3);
    row(
        BENCH,
        &format!("{n} trackers, socket outage (5 min): status GETs per second, mean / peak (ideal N/3 s = {ideal:.0})"),
        &format!("{mean:.0} / {peak}"),
        "",
        Verdict::Info,
    );
    row(
        BENCH,
        "socket outage: GET rate peak/mean after the first interval (peak in the first interval)",
        &format!("{ratio:.2} ({first_peak})"),
        "≤ 1.5, mean = N/3 s",
        Verdict::of(ratio <= 1.5 && (mean / ideal - 1.0).abs() < 0.05),
    );
    let (cmean, cpeak, cratio) = rate(&w.counters.connects, EVENT_AT + 3, EVENT_AT + OUTAGE);
    row(
        BENCH,
        "socket outage: refused connect attempts per second, mean / peak (peak/mean)",
        &format!("{cmean:.0} / {cpeak} ({cratio:.2})"),
        "",
        Verdict::Info,
    );
    row(
        BENCH,
        "socket outage: all polling / first polling GET of every tracker after the drop",
        &format!(
            "{} / {}",
            fmt_settle(settled(&w.nodes, down, |n| n.polling_at)),
            fmt_settle(first_get_after(&w.counters.requests, down, n))
        ),
        "",
        Verdict::Info,
    );
    let (rmean, rpeak, _) = rate(
        &w.counters.connects,
        EVENT_AT + OUTAGE,
        EVENT_AT + OUTAGE + 60,
    );
    let share = f64::from(rpeak) / nf;
    row(
        BENCH,
        "recovery: connects per second in the first minute, mean / peak (peak share of the fleet)",
        &format!("{rmean:.0} / {rpeak} ({:.1} %)", share * 100.0),
        "no second > 10 % of the fleet",
        Verdict::of(share <= 0.10),
    );
    let (gmean, gpeak, gratio) = rate(
        &w.counters.requests,
        EVENT_AT + OUTAGE,
        EVENT_AT + OUTAGE + 60,
    );
    row(
        BENCH,
        "recovery: GETs per second in the first minute, mean / peak (peak/mean)",
        &format!("{gmean:.0} / {gpeak} ({gratio:.2})"),
        "",
        Verdict::Info,
    );
    row(
        BENCH,
        "recovery: until every tracker is connected again",
        &fmt_settle(settled(&w.nodes, up, |n| n.connected_at)),
        "",
        Verdict::Info,
    );
    plots.push(Plot {
        title: format!("socket outage and recovery ({n} trackers)"),
        requests: w.counters.requests.clone(),
        connects: w.counters.connects.clone(),
        marks: vec![(EVENT_AT, "socket down"), (EVENT_AT + OUTAGE, "socket up")],
    });
    drop(w);

    // 3: the HTTP API browns out under a polling fleet.
    let mut w = World::new(
        Script {
            kind: Kind::Brownout,
            length: EVENT_AT + BROWNOUT + 120,
        },
        n,
        12,
        Marks {
            connected: Time::NEVER,
            polling: Time::NEVER,
            ok: secs(EVENT_AT + BROWNOUT),
        },
    );
    w.run();
    let end = EVENT_AT + BROWNOUT;
    let (bmean, bpeak, bratio) = rate(&w.counters.requests, EVENT_AT, end);
    row(
        BENCH,
        "API brown-out (30 s of 50 % 503, then 30 s of 429 + Retry-After to the window's end): GETs per second, mean / peak (peak/mean)",
        &format!("{bmean:.0} / {bpeak} ({bratio:.2})"),
        "",
        Verdict::Info,
    );
    let violations = w.counters.retry_after_violations;
    row(
        BENCH,
        "API brown-out: GETs before the Retry-After the server gave (of 429s sent)",
        &format!("{violations} (of {})", w.counters.retry_after_told),
        "0: honoured fleet-wide",
        Verdict::of(violations == 0),
    );
    let (amean, apeak, aratio) = rate(&w.counters.requests, end, end + 60);
    row(
        BENCH,
        "after the brown-out: GETs per second in the next minute, mean / peak (peak/mean)",
        &format!("{amean:.0} / {apeak} ({aratio:.2})"),
        "peak/mean ≤ 1.5",
        Verdict::of(aratio <= 1.5),
    );
    row(
        BENCH,
        "after the brown-out: until every tracker had a successful GET",
        &fmt_settle(settled(&w.nodes, secs(end), |n| n.ok_at)),
        "",
        Verdict::Info,
    );
    plots.push(Plot {
        title: format!("API brown-out, polling fleet ({n} trackers)"),
        requests: w.counters.requests.clone(),
        connects: w.counters.connects.clone(),
        marks: vec![
            (EVENT_AT, "503s"),
            (EVENT_AT + BROWNOUT / 2, "429s"),
            (end, "healthy"),
        ],
    });
    drop(w);

    // 4: every token expires at once; hosts supply new ones after 1–20 s.
    let mut w = World::new(
        Script {
            kind: Kind::TokenExpiry,
            length: EVENT_AT + 120,
        },
        n,
        13,
        Marks {
            connected: secs(EVENT_AT),
            polling: Time::NEVER,
            ok: Time::NEVER,
        },
    );
    w.run();
    let (tmean, tpeak, tratio) = rate(&w.counters.requests, EVENT_AT, EVENT_AT + 30);
    let (kmean, kpeak, kratio) = rate(&w.counters.connects, EVENT_AT, EVENT_AT + 30);
    row(
        BENCH,
        "mass token expiry (host renews after 1–20 s): GETs / connects per second in the first 30 s, mean / peak (peak/mean)",
        &format!(
            "{tmean:.0} / {tpeak} ({tratio:.2}); {kmean:.0} / {kpeak} ({kratio:.2})"
        ),
        "",
        Verdict::Info,
    );
    row(
        BENCH,
        "mass token expiry: until every tracker is connected with its new token",
        &fmt_settle(settled(&w.nodes, secs(EVENT_AT), |n| n.connected_at)),
        "",
        Verdict::Info,
    );
    plots.push(Plot {
        title: format!("mass token expiry ({n} trackers)"),
        requests: w.counters.requests.clone(),
        connects: w.counters.connects.clone(),
        marks: vec![(EVENT_AT, "tokens expire")],
    });
    drop(w);

    let path = if mode.quick() {
        std::env::temp_dir().join("xo-bench-fleet.svg")
    } else {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/fleet-load.svg")
    };
    std::fs::write(&path, svg(&plots, n)).map_err(|e| format!("{}: {e}", path.display()))?;
    note(
        BENCH,
        &format!(
            "{n} trackers × 3 runs simulated in {:.1} s of wall time; plot: {}",
            started.elapsed().as_secs_f64(),
            path.display()
        ),
    );
    Ok(())
}

/// Seconds after `since` until the counted GETs reach one per tracker (an estimate of "every
/// tracker polled once": the first interval's GETs).
fn first_get_after(requests: &[u32], since: Time, n: usize) -> Option<f64> {
    let from = since.since_epoch().as_secs() as usize;
    let mut sum = 0usize;
    for (k, &c) in requests.iter().enumerate().skip(from) {
        sum += c as usize;
        if sum >= n {
            return Some((k + 1 - from) as f64);
        }
    }
    None
}

/// A small SVG: one panel per run, GETs/s and connects/s over time, events marked.
fn svg(plots: &[Plot], n: usize) -> String {
    let (w, h, pad) = (960.0, 240.0, 50.0);
    let total_h = h * plots.len() as f64 + 30.0;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{total_h}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(
        s,
        r#"<rect width="100%" height="100%" fill="white"/><text x="{pad}" y="18" font-size="14">Load on Xsolla per second, {n} simulated trackers (virtual time): status GETs (blue), socket connects (orange)</text>"#
    );
    for (k, p) in plots.iter().enumerate() {
        let top = 30.0 + h * k as f64;
        let (x0, x1, y0, y1) = (pad + 20.0, w - 20.0, top + h - 35.0, top + 25.0);
        let len = p.requests.len().max(2) as f64;
        let ymax = p
            .requests
            .iter()
            .chain(&p.connects)
            .copied()
            .max()
            .unwrap_or(1)
            .max(1) as f64;
        let x = |sec: f64| x0 + (x1 - x0) * sec / (len - 1.0);
        let y = |v: f64| y0 - (y0 - y1) * v / ymax;
        let _ = writeln!(
            s,
            r#"<text x="{x0}" y="{}" font-size="13">{}</text>"#,
            top + 15.0,
            p.title
        );
        let _ = writeln!(
            s,
            r#"<line x1="{x0}" y1="{y0}" x2="{x1}" y2="{y0}" stroke="black"/><line x1="{x0}" y1="{y0}" x2="{x0}" y2="{y1}" stroke="black"/>"#
        );
        for frac in [0.0, 0.5, 1.0] {
            let v = ymax * frac;
            let _ = writeln!(
                s,
                r##"<text x="{}" y="{}" text-anchor="end">{v:.0}</text><line x1="{x0}" y1="{yy}" x2="{x1}" y2="{yy}" stroke="#ddd"/>"##,
                x0 - 4.0,
                y(v) + 4.0,
                yy = y(v)
            );
        }
        let step = if len > 300.0 { 60 } else { 30 };
        for sec in (0..len as usize).step_by(step) {
            let _ = writeln!(
                s,
                r#"<text x="{}" y="{}" text-anchor="middle">{sec} s</text>"#,
                x(sec as f64),
                y0 + 15.0
            );
        }
        for &(sec, label) in &p.marks {
            let xx = x(sec as f64);
            let _ = writeln!(
                s,
                r##"<line x1="{xx}" y1="{y0}" x2="{xx}" y2="{y1}" stroke="#999" stroke-dasharray="4 3"/><text x="{}" y="{}" fill="#555">{label}</text>"##,
                xx + 3.0,
                y1 + 10.0
            );
        }
        for (series, colour) in [(&p.requests, "#1f77b4"), (&p.connects, "#ff7f0e")] {
            let mut points = String::new();
            // The last bin also holds everything at or after the end: leave it out.
            for (sec, &c) in series.iter().enumerate().take(series.len() - 1) {
                let _ = write!(points, "{:.1},{:.1} ", x(sec as f64), y(f64::from(c)));
            }
            let _ = writeln!(
                s,
                r##"<polyline fill="none" stroke="{colour}" stroke-width="1.2" points="{points}"/>"##
            );
        }
    }
    s.push_str("</svg>\n");
    s
}
