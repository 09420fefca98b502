//! Chaos mode (`xo-sim --chaos SEED`, [`SimConfig::chaos_seed`](crate::SimConfig::chaos_seed)):
//! random faults per connection and per request, drawn from the seed, on top of the explicit
//! faults (an explicit fault always wins).
//!
//! Every draw is keyed by `(seed, what, index)`: the n-th Centrifugo upgrade, the n-th connect
//! command, the n-th request of order 42... always get the same faults for the same seed,
//! whatever the timing. Faults stop after the first [`CLEAN_AFTER_CONNECTIONS`] connections of
//! each endpoint and the first [`CLEAN_AFTER_REQUESTS`] requests of each order, and none of them
//! changes an order's status, so every order still reaches its scripted final status and a
//! correct client gets exactly one final. See the README for the list of faults.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use crate::faults::{ConnectRejection, HandshakeFault};
use crate::state::ConnCommand;
use crate::ws::Endpoint;

/// Connections of one endpoint after which no connection gets a fault.
pub const CLEAN_AFTER_CONNECTIONS: u64 = 8;
/// Requests of one order after which no request gets a fault.
pub const CLEAN_AFTER_REQUESTS: u64 = 10;
/// How long a stalled Get-order answer is held (tests set a shorter request timeout).
pub const STALL: Duration = Duration::from_millis(2500);

/// A deterministic generator (SplitMix64) for one keyed draw.
struct Draw(u64);

impl Draw {
    fn new(seed: u64, stream: u64, index: u64) -> Draw {
        let mut d = Draw(
            seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15)
                ^ index.wrapping_mul(0xD6E8_FEB8_6659_FD93),
        );
        d.next();
        d
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    fn millis(&mut self, from: u64, to: u64) -> Duration {
        Duration::from_millis(from + self.below(to - from))
    }
}

// Draw streams (what is being decided).
const HANDSHAKE: u64 = 1;
const CONNECT: u64 = 2;
const PLAN: u64 = 3;
const HTTP: u64 = 4;
const PUSH_CASE: u64 = 5;
const PUSH_BINARY: u64 = 6;
const BODY: u64 = 7;

/// `Retry-After` values of chaos 429s: sane, negative, fractional, words, padded, huge, a date.
const RETRY_AFTER: [&str; 9] = [
    "1",
    "0",
    "-5",
    "1.5",
    "soon",
    " 2 ",
    "99999999999999999999999",
    "18446744073709551615",
    "Wed, 21 Oct 2015 07:28:00 GMT",
];

/// What chaos does to one Get-order request.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum HttpChaos {
    /// An error status with Xsolla's body; `echo` puts the request's token in `errorMessage`.
    Error { status: u16, echo: bool },
    /// 404 for an order created a moment ago (Xsolla's replication lag); only a first request.
    NotFoundLag,
    /// 429 with this `Retry-After` value (hostile ones included: huge, negative, fractional, a date).
    RateLimit(&'static str),
    /// The normal answer, after this delay (slow; longer than [`STALL`] counts as stalled).
    Delay(Duration),
    /// No answer: the connection is closed.
    Drop,
}

/// A step of a connection's plan: after `Duration`, do this.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum PlanStep {
    /// Send this frame as text.
    Text(String),
    /// Send this frame as a binary frame.
    Binary(String),
    /// Close with this code; the reason echoes the connection's token when `echo`.
    Close(u16, bool),
    /// Reset the TCP connection.
    Reset,
}

/// The chaos state of one simulator.
#[derive(Debug)]
pub(crate) struct Chaos {
    seed: u64,
    centrifugo_connections: AtomicU64,
    legacy_connections: AtomicU64,
    connects: AtomicU64,
    requests: Mutex<HashMap<i64, u64>>,
}

impl Chaos {
    pub(crate) fn new(seed: u64) -> Chaos {
        Chaos {
            seed,
            centrifugo_connections: AtomicU64::new(0),
            legacy_connections: AtomicU64::new(0),
            connects: AtomicU64::new(0),
            requests: Mutex::default(),
        }
    }

    fn draw(&self, stream: u64, index: u64) -> Draw {
        Draw::new(self.seed, stream, index)
    }

    /// The next upgrade request of `endpoint`: its index (for [`Chaos::plan`]) and whether it
    /// is refused (503) or answered with garbage.
    pub(crate) fn upgrade(&self, endpoint: Endpoint) -> (u64, Option<HandshakeFault>) {
        let (counter, stream) = match endpoint {
            Endpoint::Centrifugo => (&self.centrifugo_connections, HANDSHAKE),
            Endpoint::Legacy => (&self.legacy_connections, HANDSHAKE + 100),
        };
        let index = counter.fetch_add(1, Ordering::Relaxed);
        if index >= CLEAN_AFTER_CONNECTIONS {
            return (index, None);
        }
        let mut d = self.draw(stream, index);
        let fault = match d.below(100) {
            0..=11 => Some(HandshakeFault::Refuse),
            12..=17 if endpoint == Endpoint::Centrifugo => Some(HandshakeFault::Garbage),
            _ => None,
        };
        (index, fault)
    }

    /// The next connect command: rejected (temporarily, with the token echoed) or not.
    pub(crate) fn connect(&self, token: &str) -> Option<ConnectRejection> {
        let index = self.connects.fetch_add(1, Ordering::Relaxed);
        if index >= CLEAN_AFTER_CONNECTIONS {
            return None;
        }
        let mut d = self.draw(CONNECT, index);
        if !d.chance(20) {
            return None;
        }
        let (code, text) = *d.pick(&[(2u32, "transport closed"), (3, "internal server error")]);
        Some(ConnectRejection {
            code,
            message: format!("{text} for credentials {}", echo(token, &mut d)),
            temporary: true,
        })
    }

    /// The plan of connection `index` of `endpoint`: hostile frames and, often, an early close
    /// or reset. Empty from [`CLEAN_AFTER_CONNECTIONS`] on.
    pub(crate) fn plan(&self, endpoint: Endpoint, index: u64) -> Vec<(Duration, PlanStep)> {
        if index >= CLEAN_AFTER_CONNECTIONS {
            return Vec::new();
        }
        let stream = match endpoint {
            Endpoint::Centrifugo => PLAN,
            Endpoint::Legacy => PLAN + 100,
        };
        let mut d = self.draw(stream, index);
        let mut steps = Vec::new();
        for _ in 0..d.below(4) {
            let frame = match endpoint {
                Endpoint::Centrifugo => d
                    .pick(&[
                        "{\"push\":{\"channel\":\"orders:0\",\"pub\":{\"data\":{\"order_id\":987654321987,\"status\":\"DONE\"}}}}",
                        "{not json",
                        "{}\n\n{}",
                        "[1,2,3]",
                        "{\"push\":{\"pub\":{\"data\":{\"order_id\":\"x\",\"status\":7}}}}",
                        "{\"id\":99,\"error\":{\"code\":1e999,\"message\":null}}",
                        "{\"push\":{\"channel\":\"orders:0\",\"join\":{\"info\":{}}}}",
                    ])
                    .to_string(),
                Endpoint::Legacy => d
                    .pick(&[
                        "{\"order_id\":987654321987,\"status\":\"done\"}",
                        "{not json",
                        "{\"order_id\":null,\"status\":\"done\"}",
                        "{\"order_id\":1,\"status\":[]}",
                    ])
                    .to_string(),
            };
            let step = if d.chance(50) {
                PlanStep::Binary(frame)
            } else {
                PlanStep::Text(frame)
            };
            steps.push((d.millis(10, 1500), step));
        }
        if d.chance(60) {
            let end = match d.below(3) {
                0 => PlanStep::Reset,
                _ => {
                    let code = match endpoint {
                        Endpoint::Centrifugo => *d.pick(&[3000u16, 3001, 3005, 1011, 1001]),
                        Endpoint::Legacy => *d.pick(&[1011u16, 1001, 1000]),
                    };
                    PlanStep::Close(code, d.chance(60))
                }
            };
            steps.push((d.millis(20, 2000), end));
        }
        steps.sort_by_key(|(at, _)| *at);
        steps
    }

    /// The index of the next Get-order request of `order_id`, and what chaos does to it.
    pub(crate) fn http(&self, order_id: i64) -> (u64, Option<HttpChaos>) {
        let index = {
            let mut requests = self.requests.lock().unwrap_or_else(|e| e.into_inner());
            let n = requests.entry(order_id).or_insert(0);
            *n += 1;
            *n - 1
        };
        (index, self.http_fault(order_id, index))
    }

    fn http_fault(&self, order_id: i64, index: u64) -> Option<HttpChaos> {
        if index >= CLEAN_AFTER_REQUESTS {
            return None;
        }
        let mut d = self.draw(HTTP ^ (order_id as u64).rotate_left(17), index);
        let fault = match d.below(100) {
            0..=9 if index == 0 => HttpChaos::NotFoundLag,
            10..=24 => HttpChaos::Error {
                status: *d.pick(&[500u16, 502, 503, 504, 408]),
                echo: d.chance(70),
            },
            25..=31 => {
                HttpChaos::RateLimit(RETRY_AFTER[d.below(RETRY_AFTER.len() as u64) as usize])
            }
            32..=41 => HttpChaos::Delay(d.millis(50, 600)),
            42..=45 => HttpChaos::Delay(STALL),
            46..=51 => HttpChaos::Drop,
            _ => return None,
        };
        Some(fault)
    }

    /// The status as sent in push number `offset` of `order_id`: often in another letter case.
    pub(crate) fn push_status(&self, order_id: i64, offset: u64, status: &str) -> String {
        let mut d = self.draw(PUSH_CASE ^ (order_id as u64).rotate_left(9), offset);
        odd_case(status, &mut d)
    }

    /// Whether the `n`-th push on connection `conn` goes in a binary frame.
    pub(crate) fn push_binary(&self, conn: u64, n: u64) -> bool {
        self.draw(PUSH_BINARY ^ conn.rotate_left(13), n).chance(30)
    }

    /// The status and extra fields of a 200 answer to request `n` of `order_id`.
    pub(crate) fn body(&self, order_id: i64, n: u64, status: &str) -> (String, &'static str) {
        let mut d = self.draw(BODY ^ (order_id as u64).rotate_left(5), n);
        let status = odd_case(status, &mut d);
        let extra = *d.pick(&[
            "",
            r#","chaos":{"note":"ignored field"}"#,
            r#","status_code":"ok","order_id_str":"x""#,
        ]);
        (status, extra)
    }

    /// A close reason, echoing `token` when asked.
    pub(crate) fn close_reason(token: Option<&str>, echo_token: bool) -> String {
        match token {
            Some(token) if echo_token => {
                let mut d = Draw::new(token.len() as u64, 0, 0);
                format!("closed: bad token {}", echo(token, &mut d))
            }
            _ => "chaos".to_owned(),
        }
    }
}

/// `status` in upper, title or random letter case (or unchanged).
fn odd_case(status: &str, d: &mut Draw) -> String {
    match d.below(4) {
        0 => status.to_ascii_uppercase(),
        1 => {
            let mut chars = status.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        }
        2 => status
            .chars()
            .map(|c| {
                if d.chance(50) {
                    c.to_ascii_uppercase()
                } else {
                    c
                }
            })
            .collect(),
        _ => status.to_owned(),
    }
}

/// The token whole, or a piece of it (at least 8 characters when it is that long).
fn echo(token: &str, d: &mut Draw) -> String {
    let chars: Vec<char> = token.chars().collect();
    if chars.len() <= 8 || d.chance(40) {
        return token.to_owned();
    }
    let len = 8 + d.below((chars.len() - 8) as u64) as usize;
    let start = d.below((chars.len() - len + 1) as u64) as usize;
    chars[start..start + len].iter().collect()
}

/// The command a plan step sends to its connection (`token`: the connection's, if known).
pub(crate) fn command(step: PlanStep, token: Option<&str>) -> ConnCommand {
    match step {
        PlanStep::Text(text) => ConnCommand::Raw(text),
        PlanStep::Binary(text) => ConnCommand::Binary(text),
        PlanStep::Close(code, echo_token) => {
            ConnCommand::Close(code, Chaos::close_reason(token, echo_token))
        }
        PlanStep::Reset => ConnCommand::Reset,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_depend_on_the_seed_only() {
        let (a, b) = (Chaos::new(7), Chaos::new(7));
        let seq = |c: &Chaos| {
            (0..20)
                .map(|_| format!("{:?}", c.http(42).1))
                .chain((0..10).map(|i| format!("{:?}", c.plan(Endpoint::Centrifugo, i))))
                .collect::<Vec<_>>()
        };
        assert_eq!(seq(&a), seq(&b));
        assert_ne!(seq(&Chaos::new(7)), seq(&Chaos::new(8)));
    }

    #[test]
    fn faults_stop_after_the_clean_limits() {
        let c = Chaos::new(1);
        let faults: Vec<_> = (0..CLEAN_AFTER_REQUESTS + 5).map(|_| c.http(5).1).collect();
        assert!(faults[..CLEAN_AFTER_REQUESTS as usize]
            .iter()
            .any(Option::is_some));
        assert!(faults[CLEAN_AFTER_REQUESTS as usize..]
            .iter()
            .all(Option::is_none));
        // A 404 only ever answers an order's first request (two would mean "no such order").
        for seed in 0..200 {
            let c = Chaos::new(seed);
            let faults: Vec<_> = (0..CLEAN_AFTER_REQUESTS).map(|_| c.http(9).1).collect();
            assert!(!faults[1..].contains(&Some(HttpChaos::NotFoundLag)));
        }
        assert!(c.plan(Endpoint::Legacy, CLEAN_AFTER_CONNECTIONS).is_empty());
    }

    #[test]
    fn odd_case_keeps_the_letters_and_echo_is_a_token_piece() {
        let mut d = Draw::new(3, 0, 0);
        for _ in 0..50 {
            assert!(odd_case("canceled", &mut d).eq_ignore_ascii_case("canceled"));
            let piece = echo("eyJhbGciOiJIUzI1NiJ9.payload.sig", &mut d);
            assert!(piece.len() >= 8 && "eyJhbGciOiJIUzI1NiJ9.payload.sig".contains(&piece));
        }
    }
}
