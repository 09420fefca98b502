//! The fault matrix: every transport (Centrifugo, legacy socket, polling only) against every fault
//! the simulator can inject, on a paused clock. Each case asserts the exact sequence of status
//! events, the exact sequence of transport events, the number of token requests, and exactly one
//! final event (last) with the right outcome and error. `docs/fault-matrix.md` is the table of
//! these cases; keep the two in step.
//!
//! Every case also takes part in the secrets check: each one tracks with its own unique token,
//! every log line of the library (debug level, process-wide sink) is captured, and each case ends by
//! asserting that no log line and no event text captured so far contains any token used by any case.
//!
//! Why the statuses and transports are compared as two lists rather than one interleaved list: at
//! the start the initial GET and the socket connect race over loopback, so "status new" and
//! "socket connected" may come in either order; every other ordering that matters is asserted
//! explicitly (the final event is last, a status is never repeated, etc.).

mod common;

use std::sync::{Arc, Mutex, Once};
use std::time::Duration;

use common::{config_for, recorder, Recorder};
use tokio::time::Instant;
use xo_sim::{OrderSpec, Sim, SimConfig};
use xo_tracker::{
    Config, Engine, ErrorKind, Event, EventKind, Outcome, Token, Transport, TransportState,
};

const S: fn(u64) -> Duration = Duration::from_secs;
const MS: fn(u64) -> Duration = Duration::from_millis;

use Transport::{Centrifugo as C, LegacySocket as L, PollingOnly as P};
use TransportState::{
    Polling as Poll, SocketConnected as Conn, SocketReestablished as Reest,
    SocketRestored as Restored,
};

// ---------------------------------------------------------------------------------------------
// Secrets: a process-wide log capture and the registry of every token the matrix used.

static LOG_LINES: Mutex<Vec<String>> = Mutex::new(Vec::new());
static TOKENS: Mutex<Vec<String>> = Mutex::new(Vec::new());
static SINK: Once = Once::new();

fn install_log_capture() {
    SINK.call_once(|| {
        xo_tracker::log::set_sink(
            Some(Arc::new(|_level, line: &str| {
                LOG_LINES
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(line.to_owned());
            })),
            xo_tracker::log::Level::Debug,
        );
    });
}

/// A token unique to one case (and registered for the secrets check).
fn secret(case: &str, t: Transport, n: u32) -> String {
    let token = format!("tok-{case}-{t:?}-{n}-Zq8vW3kP");
    TOKENS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(token.clone());
    token
}

/// No captured log line and no text of `events` contains any token used so far.
fn assert_no_secret_leaked(events: &[Event]) {
    let tokens = TOKENS.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let lines = LOG_LINES.lock().unwrap_or_else(|e| e.into_inner()).clone();
    assert!(!lines.is_empty(), "the log capture works");
    for token in &tokens {
        for line in &lines {
            assert!(
                !line.contains(token.as_str()),
                "a log line leaks a token: {line}"
            );
        }
        for e in events {
            let text = format!("{e:?}");
            assert!(
                !text.contains(token.as_str()),
                "an event leaks a token: {text}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The per-case harness.

struct Case {
    sim: Sim,
    engine: Engine,
    transport: Transport,
    token: String,
    name: &'static str,
}

impl Case {
    async fn start(name: &'static str, t: Transport) -> Case {
        Case::with(name, t, SimConfig::default(), |_, _| {}).await
    }

    async fn with(
        name: &'static str,
        t: Transport,
        sim_config: SimConfig,
        adjust: impl FnOnce(&Sim, &mut Config),
    ) -> Case {
        install_log_capture();
        let sim = Sim::start(sim_config).await.expect("simulator starts");
        let mut config = config_for(&sim, t);
        adjust(&sim, &mut config);
        let engine = Engine::new(config, tokio::runtime::Handle::current()).expect("engine");
        let token = secret(name, t, 0);
        Case {
            sim,
            engine,
            transport: t,
            token,
            name,
        }
    }

    fn track(&self, order_id: i64) -> (u64, Recorder) {
        let (listener, rec) = recorder();
        let handle = self
            .engine
            .track(order_id, Token::new(self.token.clone()).unwrap(), listener)
            .expect("track");
        (handle, rec)
    }

    fn fresh_token(&self, n: u32) -> String {
        secret(self.name, self.transport, n)
    }

    /// Injects the socket fault of this case's transport (no-op for polling only).
    fn socket(
        &self,
        centrifugo: impl FnOnce(&xo_sim::Faults),
        legacy: impl FnOnce(&xo_sim::Faults),
    ) {
        match self.transport {
            C => centrifugo(&self.sim.faults()),
            L => legacy(&self.sim.faults()),
            P => {}
        }
    }

    fn send_raw(&self, text: impl Into<String>) {
        match self.transport {
            C => self.sim.faults().centrifugo_send_raw(text),
            L => self.sim.faults().legacy_send_raw(text),
            P => unreachable!("no socket"),
        }
    }

    /// A status push in this transport's wire format.
    fn push(&self, order_id: i64, status: &str) -> String {
        match self.transport {
            C => format!(
                r#"{{"push":{{"channel":"orders:1001","pub":{{"data":{{"order_id":{order_id},"status":"{status}"}},"offset":99}}}}}}"#
            ),
            _ => format!(r#"{{"order_id":{order_id},"status":"{status}"}}"#),
        }
    }

    fn socket_connects(&self) -> u32 {
        let s = self.sim.stats();
        s.centrifugo_connects + s.legacy_connects
    }

    fn gets(&self, order_id: i64) -> u32 {
        self.sim.stats().http_requests_for(order_id)
    }

    /// The initial transport event of this transport when its socket works.
    fn up(&self) -> Vec<TransportState> {
        match self.transport {
            P => vec![Poll],
            _ => vec![Conn],
        }
    }
}

async fn until_transport(rec: &mut Recorder, state: TransportState) -> Vec<Event> {
    rec.until(|e| e.transport == Some(state)).await
}

async fn until_status(rec: &mut Recorder, status: &str) -> Vec<Event> {
    rec.until(|e| {
        e.kind == EventKind::StatusChanged
            && e.status.as_ref().is_some_and(|s| s.as_str() == status)
    })
    .await
}

/// What a whole event stream says, in a form that compares (and prints) well.
#[derive(Debug, PartialEq, Eq)]
struct Summary {
    statuses: Vec<String>,
    transports: Vec<TransportState>,
    token_requests: usize,
    outcome: Outcome,
    error: Option<ErrorKind>,
    http_status: u16,
    has_contents: bool,
}

fn summarize(events: &[Event]) -> Summary {
    let finals: Vec<&Event> = events.iter().filter(|e| e.is_last()).collect();
    assert_eq!(finals.len(), 1, "exactly one final event: {events:#?}");
    let last = events.last().unwrap();
    assert!(
        last.is_last(),
        "the final event is the last one: {events:#?}"
    );
    assert_eq!(last.kind, EventKind::Final);
    let statuses = common::statuses(events);
    for pair in statuses.windows(2) {
        assert_ne!(pair[0], pair[1], "a status is reported once: {statuses:?}");
    }
    // Every event carries the latest status.
    let mut latest: Option<String> = None;
    for e in events {
        if e.kind == EventKind::StatusChanged {
            latest = e.status.as_ref().map(|s| s.as_str().to_owned());
        }
        assert_eq!(
            e.status.as_ref().map(|s| s.as_str().to_owned()),
            latest,
            "event {e:?} carries the latest status"
        );
    }
    if let Some(outcome_status) = match last.outcome {
        Outcome::Done => Some("done"),
        Outcome::Canceled => Some("canceled"),
        Outcome::Expired => Some("expired"),
        _ => None,
    } {
        assert_eq!(
            statuses.last().map(String::as_str),
            Some(outcome_status),
            "a final status is reported as a status change first"
        );
    }
    assert_no_secret_leaked(events);
    Summary {
        statuses,
        transports: common::transports(events),
        token_requests: events
            .iter()
            .filter(|e| e.kind == EventKind::TokenExpired)
            .count(),
        outcome: last.outcome,
        error: last.error.as_ref().map(|e| e.kind),
        http_status: last.error.as_ref().map_or(0, |e| e.http_status),
        // Contents belong to `done` only; that other outcomes carry none is asserted by
        // `final_contents_only_on_done` (see there).
        has_contents: last.outcome == Outcome::Done && last.contents.is_some(),
    }
}

/// The expected summary of a successful `done`.
fn done(statuses: &[&str], transports: Vec<TransportState>) -> Summary {
    Summary {
        statuses: statuses.iter().map(|s| (*s).to_owned()).collect(),
        transports,
        token_requests: 0,
        outcome: Outcome::Done,
        error: None,
        http_status: 0,
        has_contents: true,
    }
}

fn ended(
    statuses: &[&str],
    transports: Vec<TransportState>,
    outcome: Outcome,
    error: Option<ErrorKind>,
) -> Summary {
    Summary {
        statuses: statuses.iter().map(|s| (*s).to_owned()).collect(),
        transports,
        token_requests: 0,
        outcome,
        error,
        http_status: 0,
        has_contents: false,
    }
}

fn transport_error(events: &[Event], state: TransportState) -> Option<(ErrorKind, u16)> {
    events
        .iter()
        .find(|e| e.transport == Some(state))
        .and_then(|e| e.error.as_ref())
        .map(|e| (e.kind, e.http_status))
}

/// Generates one `#[tokio::test(start_paused = true)]` per transport for a case function.
macro_rules! matrix {
    ($case:ident: $($(#[$attr:meta])* $t:ident),+) => {
        mod $case {
            $(
                $(#[$attr])*
                #[tokio::test(start_paused = true)]
                async fn $t() {
                    let _watchdog = crate::common::watchdog::arm();
                    super::$case(super::transport(stringify!($t))).await
                }
            )+
        }
    };
}

fn transport(name: &str) -> Transport {
    match name {
        "centrifugo" => C,
        "legacy" => L,
        "polling" => P,
        other => unreachable!("{other}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Socket faults.

matrix!(socket_refused: centrifugo, legacy, polling);
async fn socket_refused(t: Transport) {
    let case = Case::start("refused", t).await;
    case.sim.faults().centrifugo_refuse(1_000_000);
    case.sim.faults().legacy_refuse(1_000_000);
    case.sim
        .add_order(OrderSpec::new(101).status("new").then_after(S(31), "done"));
    let (_, mut rec) = case.track(101);
    let events = rec.until_last().await;
    assert_eq!(summarize(&events), done(&["new", "done"], vec![Poll]));
    match t {
        P => assert_eq!(transport_error(&events, Poll), None, "polling by choice"),
        _ => assert_eq!(
            transport_error(&events, Poll),
            Some((ErrorKind::Http, 503)),
            "the fallback says why"
        ),
    }
    assert_eq!(case.socket_connects(), 0);
    let gets = case.gets(101);
    assert!(
        (10..=14).contains(&gets),
        "3 s polling for 31 s: {gets} GETs"
    );
}

matrix!(tls_failure: centrifugo, legacy, polling);
/// A TLS handshake that fails: `wss://`/`https://` to the simulator's plain-text port.
async fn tls_failure(t: Transport) {
    let case = Case::with("tls", t, SimConfig::default(), |sim, c| {
        let port = sim.addr().port();
        c.centrifugo_url = format!("wss://127.0.0.1:{port}/connection/websocket");
        c.legacy_socket_url = format!("wss://127.0.0.1:{port}/sub/order/status");
        if c.transport == P {
            c.api_base_url = format!("https://127.0.0.1:{port}/api");
        }
    })
    .await;
    case.sim
        .add_order(OrderSpec::new(102).status("new").then_after(S(20), "done"));
    let started = Instant::now();
    let (_, mut rec) = case.track(102);
    let events = rec.until_last().await;
    match t {
        // The socket never comes up; polling over plain HTTP finishes the job.
        C | L => {
            assert_eq!(summarize(&events), done(&["new", "done"], vec![Poll]));
            let (kind, _) = transport_error(&events, Poll).expect("the fallback says why");
            assert!(
                matches!(kind, ErrorKind::Network | ErrorKind::Timeout),
                "{kind:?}"
            );
            assert_eq!(case.socket_connects(), 0);
        }
        // Every request fails: never stuck, the polling deadline ends it.
        P => {
            assert_eq!(
                summarize(&events),
                ended(&[], vec![Poll], Outcome::TimedOut, Some(ErrorKind::Timeout))
            );
            assert_eq!(rec.final_at.unwrap() - started, S(600));
            assert_eq!(
                case.gets(102),
                0,
                "no plain-text request reached the server"
            );
        }
    }
}

matrix!(handshake_garbage: centrifugo);
/// A handshake answered with garbage bytes (once), then a working socket.
async fn handshake_garbage(t: Transport) {
    let case = Case::start("garbage", t).await;
    case.sim.faults().centrifugo_garbage_handshake(1);
    case.sim
        .add_order(OrderSpec::new(103).status("new").then_after(S(30), "done"));
    let (_, mut rec) = case.track(103);
    let events = rec.until_last().await;
    assert_eq!(
        summarize(&events),
        done(&["new", "done"], vec![Poll, Restored])
    );
    assert_eq!(case.sim.stats().centrifugo_handshakes_failed, 1);
}

async fn mid_tracking_loss(
    name: &'static str,
    t: Transport,
    inject: impl Fn(&Case),
    expected_kind: ErrorKind,
) {
    let case = Case::start(name, t).await;
    case.sim.add_order(OrderSpec::new(104).status("new"));
    let (_, mut rec) = case.track(104);
    let mut events = until_transport(&mut rec, Conn).await;
    if common::statuses(&events).is_empty() {
        events.extend(until_status(&mut rec, "new").await);
    }
    inject(&case);
    events.extend(until_transport(&mut rec, Restored).await);
    assert_eq!(
        transport_error(&events, Poll).map(|e| e.0),
        Some(expected_kind)
    );
    // A status change while the socket is back is pushed.
    case.sim.set_status(104, "paid");
    events.extend(until_status(&mut rec, "paid").await);
    case.sim.set_status(104, "done");
    events.extend(rec.until_last().await);
    assert_eq!(
        summarize(&events),
        done(&["new", "paid", "done"], vec![Conn, Poll, Restored])
    );
    assert_eq!(case.socket_connects(), 2);
}

matrix!(closed_cleanly_mid_tracking: centrifugo, legacy);
async fn closed_cleanly_mid_tracking(t: Transport) {
    mid_tracking_loss(
        "clean-close",
        t,
        |case| {
            case.socket(
                |f| f.centrifugo_close_all(3000, "server restart"),
                |f| f.legacy_close_all(1000),
            )
        },
        ErrorKind::Network,
    )
    .await
}

matrix!(reset_mid_tracking: centrifugo, legacy);
async fn reset_mid_tracking(t: Transport) {
    mid_tracking_loss(
        "reset",
        t,
        |case| case.socket(|f| f.centrifugo_reset_all(), |f| f.legacy_reset_all()),
        ErrorKind::Network,
    )
    .await
}

matrix!(terminal_close_code: centrifugo, legacy);
/// A close code that forbids reconnecting with these credentials (3500-3999): polling only.
async fn terminal_close_code(t: Transport) {
    let case = Case::start("terminal-close", t).await;
    case.sim.add_order(OrderSpec::new(105).status("new"));
    let (_, mut rec) = case.track(105);
    let mut events = until_transport(&mut rec, Conn).await;
    case.socket(
        |f| f.centrifugo_close_all(3500, "invalid token"),
        |f| f.legacy_close_all(3503),
    );
    events.extend(until_transport(&mut rec, Poll).await);
    assert_eq!(
        transport_error(&events, Poll).map(|e| e.0),
        Some(ErrorKind::SocketRejected)
    );
    tokio::time::sleep(S(120)).await;
    case.sim.set_status(105, "done");
    events.extend(rec.until_last().await);
    assert_eq!(summarize(&events), done(&["new", "done"], vec![Conn, Poll]));
    assert_eq!(
        case.socket_connects(),
        1,
        "no reconnect with refused credentials"
    );
}

matrix!(disconnect_push: centrifugo);
/// A disconnect push with a terminal code, inside the protocol (Centrifugo only).
async fn disconnect_push(t: Transport) {
    let case = Case::start("disconnect-push", t).await;
    case.sim.add_order(OrderSpec::new(106).status("new"));
    let (_, mut rec) = case.track(106);
    let mut events = until_transport(&mut rec, Conn).await;
    case.send_raw(r#"{"push":{"disconnect":{"code":3503,"reason":"force disconnect"}}}"#);
    events.extend(until_transport(&mut rec, Poll).await);
    assert_eq!(
        transport_error(&events, Poll).map(|e| e.0),
        Some(ErrorKind::SocketRejected)
    );
    case.sim.set_status(106, "canceled");
    events.extend(rec.until_last().await);
    let mut expected = ended(
        &["new", "canceled"],
        vec![Conn, Poll],
        Outcome::Canceled,
        None,
    );
    expected.has_contents = false;
    assert_eq!(summarize(&events), expected);
    assert_eq!(case.socket_connects(), 1);
}

matrix!(socket_silent: centrifugo, legacy);
/// The server goes silent (no pings, no pushes) but keeps the socket open.
async fn socket_silent(t: Transport) {
    let case = Case::start("silent", t).await;
    case.sim.add_order(OrderSpec::new(107).status("new"));
    let (_, mut rec) = case.track(107);
    let mut events = until_transport(&mut rec, Conn).await;
    if common::statuses(&events).is_empty() {
        events.extend(until_status(&mut rec, "new").await);
    }
    // Let the GET after connecting finish, so only the socket could see what comes next.
    tokio::time::sleep(S(1)).await;
    let silent_since = Instant::now();
    case.socket(|f| f.centrifugo_silent(true), |f| f.legacy_silent(true));
    match t {
        C => {
            // Dead after the ping interval (25 s) + 10 s; polling takes over.
            events.extend(until_transport(&mut rec, Poll).await);
            let waited = silent_since.elapsed();
            assert!(waited > S(25) && waited <= S(35) + MS(100), "{waited:?}");
            assert_eq!(
                transport_error(&events, Poll).map(|e| e.0),
                Some(ErrorKind::Timeout)
            );
            // The pushes are lost, polling sees the change.
            case.sim.set_status(107, "done");
            events.extend(rec.until_last().await);
            assert!(rec.final_at.unwrap() - silent_since < S(35 + 4));
            assert_eq!(summarize(&events), done(&["new", "done"], vec![Conn, Poll]));
        }
        L => {
            // The legacy protocol has no pings: the 5-minute re-establish is its liveness check,
            // and the GET after reconnecting sees the change the silent socket swallowed. (The
            // change comes after the one GET that follows the first connect, 3 s in.)
            tokio::time::sleep(S(10)).await;
            case.sim.set_status(107, "done");
            events.extend(rec.until_last().await);
            let took = rec.final_at.unwrap() - silent_since;
            assert!(took <= S(300) + S(1), "{took:?}");
            assert_eq!(
                summarize(&events),
                done(&["new", "done"], vec![Conn, Reest])
            );
        }
        P => unreachable!(),
    }
}

matrix!(connect_rejected_unauthorized: centrifugo);
/// The Centrifugo connect command is refused (bad token, permission denied, token expired):
/// never retried with the same token; polling finishes the job.
async fn connect_rejected_unauthorized(t: Transport) {
    connect_rejected(t, "reject-101", 101, ErrorKind::SocketRejected).await
}

matrix!(connect_rejected_permission: centrifugo);
async fn connect_rejected_permission(t: Transport) {
    connect_rejected(t, "reject-103", 103, ErrorKind::SocketRejected).await
}

matrix!(connect_rejected_token_expired: centrifugo);
async fn connect_rejected_token_expired(t: Transport) {
    connect_rejected(t, "reject-109", 109, ErrorKind::Unauthorized).await
}

async fn connect_rejected(t: Transport, name: &'static str, code: u32, kind: ErrorKind) {
    // Error 109 says the token expired: the host is asked for a new one (once), and HTTP
    // polling, which still accepts the token, finishes the job meanwhile.
    let token_requests = usize::from(code == 109);
    let case = Case::start(name, t).await;
    case.sim
        .faults()
        .centrifugo_reject_connect(1, code, "refused", false);
    case.sim
        .add_order(OrderSpec::new(108).status("new").then_after(S(20), "done"));
    let (_, mut rec) = case.track(108);
    let events = rec.until_last().await;
    assert_eq!(
        summarize(&events),
        Summary {
            token_requests,
            ..done(&["new", "done"], vec![Poll])
        }
    );
    assert_eq!(transport_error(&events, Poll).map(|e| e.0), Some(kind));
    assert_eq!(case.socket_connects(), 1);
}

matrix!(connect_error_temporary: centrifugo);
/// A temporary connect error is retried with backoff.
async fn connect_error_temporary(t: Transport) {
    let case = Case::start("reject-temporary", t).await;
    case.sim
        .faults()
        .centrifugo_reject_connect(2, 100, "internal", true);
    case.sim
        .add_order(OrderSpec::new(109).status("new").then_after(S(60), "done"));
    let (_, mut rec) = case.track(109);
    let events = rec.until_last().await;
    assert_eq!(
        summarize(&events),
        done(&["new", "done"], vec![Poll, Restored])
    );
    assert_eq!(case.socket_connects(), 3);
}

// ---------------------------------------------------------------------------------------------
// Frames.

/// Starts tracking order `id` (status new) and waits until the socket is up and `new` was seen.
async fn connected(case: &Case, id: i64) -> (u64, Recorder, Vec<Event>) {
    case.sim.add_order(OrderSpec::new(id).status("new"));
    let (handle, mut rec) = case.track(id);
    let mut events = until_transport(&mut rec, Conn).await;
    if common::statuses(&events).is_empty() {
        events.extend(until_status(&mut rec, "new").await);
    }
    // Let the GET after connecting finish: what follows can only come over the socket.
    tokio::time::sleep(S(1)).await;
    (handle, rec, events)
}

matrix!(malformed_json: centrifugo, legacy);
async fn malformed_json(t: Transport) {
    let case = Case::start("malformed", t).await;
    let (_, mut rec, mut events) = connected(&case, 110).await;
    for garbage in [
        "{not json",
        "[1,2,3]",
        "\"just a string\"",
        "null",
        "{\"push\":{\"pub\":{\"data\":{\"order_id\":110}}}}",
        "{\"order_id\":110}",
        "{\"push\":{\"pub\":{\"data\":{\"order_id\":110,\"status\":7}}}}",
        "\u{feff}{}",
        &"[".repeat(10_000),
    ] {
        case.send_raw(garbage);
    }
    tokio::time::sleep(S(1)).await;
    case.send_raw(case.push(110, "done"));
    events.extend(rec.until_last().await);
    assert_eq!(
        summarize(&events),
        done(&["new", "done"], vec![Conn]),
        "garbage neither drops the socket nor changes the status"
    );
    assert_eq!(case.socket_connects(), 1);
}

matrix!(several_messages_in_one_frame: centrifugo, legacy);
async fn several_messages_in_one_frame(t: Transport) {
    let case = Case::start("batched", t).await;
    let (_, mut rec, mut events) = connected(&case, 111).await;
    let frame = match t {
        C => format!(
            "{}\r\n{{}}\n\n{}\n{}\n",
            case.push(999, "done"),
            case.push(111, "paid"),
            case.push(111, "paid")
        ),
        _ => format!(
            "{}\n{}\r\n\n{}",
            case.push(999, "done"),
            case.push(111, "paid"),
            case.push(111, "paid")
        ),
    };
    case.send_raw(frame);
    events.extend(until_status(&mut rec, "paid").await);
    case.send_raw(format!(
        "{}\n{}",
        case.push(111, "paid"),
        case.push(111, "done")
    ));
    events.extend(rec.until_last().await);
    assert_eq!(
        summarize(&events),
        done(&["new", "paid", "done"], vec![Conn]),
        "every message of a frame is read, repeats are reported once"
    );
}

matrix!(oversized_frame: centrifugo, legacy);
/// A push padded to exactly the 64 KiB frame limit is accepted; one byte more drops the socket
/// (never buffered), polling takes over and the socket comes back.
async fn oversized_frame(t: Transport) {
    const LIMIT: usize = 64 * 1024;
    let case = Case::start("oversized", t).await;
    let (_, mut rec, mut events) = connected(&case, 112).await;
    let paid = case.push(112, "paid");
    let at_limit = format!("{paid}{}", " ".repeat(LIMIT - paid.len()));
    assert_eq!(at_limit.len(), LIMIT);
    case.send_raw(at_limit);
    events.extend(until_status(&mut rec, "paid").await);
    assert_eq!(
        common::transports(&events),
        [Conn],
        "a frame at the limit is fine"
    );

    let over = format!("{}{}", case.push(112, "done"), " ".repeat(LIMIT));
    case.send_raw(over);
    events.extend(until_transport(&mut rec, Poll).await);
    assert_eq!(
        transport_error(&events, Poll).map(|e| e.0),
        Some(ErrorKind::Protocol)
    );
    assert_eq!(case.sim.order_status(112).as_deref(), Some("new"));
    events.extend(until_transport(&mut rec, Restored).await);
    case.sim.set_status(112, "done");
    events.extend(rec.until_last().await);
    assert_eq!(
        summarize(&events),
        done(&["new", "paid", "done"], vec![Conn, Poll, Restored]),
        "the oversized frame's status was never read"
    );
}

matrix!(push_for_another_order: centrifugo, legacy);
async fn push_for_another_order(t: Transport) {
    let case = Case::start("foreign", t).await;
    let (_, mut rec, mut events) = connected(&case, 113).await;
    for other in [114, -113, 0, i64::MAX] {
        case.send_raw(case.push(other, "done"));
    }
    case.send_raw(case.push(113, "paid"));
    events.extend(until_status(&mut rec, "paid").await);
    case.sim.set_status(113, "done");
    events.extend(rec.until_last().await);
    assert_eq!(
        summarize(&events),
        done(&["new", "paid", "done"], vec![Conn])
    );
}

matrix!(unknown_status: centrifugo, legacy, polling);
/// An unknown status is reported raw (`Other`) and tracking continues; over every transport.
async fn unknown_status(t: Transport) {
    let case = Case::start("unknown-status", t).await;
    case.sim.add_order(
        OrderSpec::new(115)
            .status("new")
            .then_after(S(10), "in_review")
            .then_after(S(10), "done"),
    );
    let (_, mut rec) = case.track(115);
    let events = rec.until_last().await;
    assert_eq!(
        summarize(&events),
        done(&["new", "in_review", "done"], case.up())
    );
    let other = events
        .iter()
        .find(|e| e.status.as_ref().is_some_and(|s| s.as_str() == "in_review"))
        .unwrap();
    assert_eq!(
        other.status,
        Some(xo_tracker::Status::Other("in_review".into()))
    );
}

matrix!(push_before_socket_up: centrifugo, legacy, polling);
/// The order became final before tracking started and its push was never delivered (or the
/// push came before the socket was up): only the initial GET sees it.
async fn push_before_socket_up(t: Transport) {
    let case = Case::start("early-push", t).await;
    case.sim
        .add_order(OrderSpec::new(116).status("done").push(false));
    let (_, mut rec) = case.track(116);
    let events = rec.until_last().await;
    let s = summarize(&events);
    assert_eq!(s.statuses, ["done"]);
    assert_eq!((s.outcome, s.has_contents), (Outcome::Done, true));
    if t == P {
        assert_eq!(s.transports, [Poll]);
    }
    assert!(s.transports.len() <= 1, "{:?}", s.transports);
}

matrix!(change_during_connect_gap: centrifugo, legacy);
/// A change during the connect gap (after the first GET, before the socket is up) is caught by
/// the GET after connecting.
async fn change_during_connect_gap(t: Transport) {
    let case = Case::start("gap", t).await;
    case.sim.add_order(
        OrderSpec::new(117)
            .status("new")
            .then_after(MS(1), "done")
            .push(false),
    );
    let (_, mut rec) = case.track(117);
    let events = rec.until_last().await;
    let s = summarize(&events);
    assert_eq!(s.outcome, Outcome::Done);
    assert!(s.has_contents);
    assert_eq!(s.statuses.last().map(String::as_str), Some("done"));
}

// ---------------------------------------------------------------------------------------------
// HTTP faults.

matrix!(http_5xx_burst_then_recovery: centrifugo, legacy, polling);
async fn http_5xx_burst_then_recovery(t: Transport) {
    let case = Case::start("5xx", t).await;
    case.sim
        .add_order(OrderSpec::new(120).status("new").then_after(S(40), "done"));
    for status in [500, 502, 503] {
        case.sim.faults().http_error(120, 2, status);
    }
    let (_, mut rec) = case.track(120);
    let events = rec.until_last().await;
    assert_eq!(summarize(&events), done(&["new", "done"], case.up()));
    assert!(case.gets(120) >= 7);
}

matrix!(http_5xx_on_contents_request: centrifugo, legacy);
/// The contents request after a pushed `done` fails transiently twice: retried, then granted.
async fn http_5xx_on_contents_request(t: Transport) {
    let case = Case::start("5xx-contents", t).await;
    let (_, mut rec, mut events) = connected(&case, 121).await;
    tokio::time::sleep(S(1)).await;
    let before = case.gets(121);
    case.sim.faults().http_error(121, 2, 503);
    case.sim.set_status(121, "done");
    events.extend(rec.until_last().await);
    assert_eq!(summarize(&events), done(&["new", "done"], vec![Conn]));
    assert_eq!(case.gets(121), before + 3);
}

matrix!(http_429_retry_after:
    centrifugo,
    legacy,
    polling);
async fn http_429_retry_after(t: Transport) {
    let case = Case::start("429", t).await;
    case.sim
        .add_order(OrderSpec::new(122).status("done").push(false));
    case.sim.faults().http_rate_limit(122, 1, 30);
    let started = Instant::now();
    let (_, mut rec) = case.track(122);
    let events = rec.until_last().await;
    let s = summarize(&events);
    assert_eq!(
        (s.statuses.clone(), s.outcome),
        (vec!["done".to_owned()], Outcome::Done)
    );
    assert!(
        rec.final_at.unwrap() - started >= S(30),
        "the retry waited for Retry-After"
    );
    assert_eq!(
        case.gets(122),
        2,
        "one 429, then one request after Retry-After"
    );
}

matrix!(http_slow_response_beyond_timeout: centrifugo, legacy, polling);
async fn http_slow_response_beyond_timeout(t: Transport) {
    let case = Case::start("slow", t).await;
    case.sim
        .add_order(OrderSpec::new(123).status("new").then_after(S(30), "done"));
    case.sim.faults().http_delay(123, 2, S(60));
    let (_, mut rec) = case.track(123);
    let events = rec.until_last().await;
    assert_eq!(summarize(&events), done(&["new", "done"], case.up()));
}

matrix!(http_connection_dropped: centrifugo, legacy, polling);
async fn http_connection_dropped(t: Transport) {
    let case = Case::start("drop", t).await;
    case.sim
        .add_order(OrderSpec::new(124).status("new").then_after(S(30), "done"));
    case.sim.faults().http_drop(124, 3);
    let (_, mut rec) = case.track(124);
    let events = rec.until_last().await;
    assert_eq!(summarize(&events), done(&["new", "done"], case.up()));
}

matrix!(http_oversized_body: centrifugo, legacy, polling);
/// A response body above the 256 KiB cap is refused, never buffered whole.
async fn http_oversized_body(t: Transport) {
    let case = Case::start("big-body", t).await;
    let big = serde_json::json!({
        "items": [],
        "is_free": false,
        "padding": "x".repeat(300 * 1024),
    });
    case.sim.add_order(
        OrderSpec::new(125)
            .status("new")
            .contents(big)
            .then_after(S(20), "done"),
    );
    let started = Instant::now();
    let (_, mut rec) = case.track(125);
    let events = rec.until_last().await;
    let s = summarize(&events);
    match t {
        // Every GET is refused: the status is only known from the push, and the order is
        // reported done without contents, with the reason.
        C | L => {
            assert_eq!(
                s,
                Summary {
                    has_contents: false,
                    error: Some(ErrorKind::Protocol),
                    http_status: 200,
                    ..done(&["done"], vec![Conn])
                }
            );
            let message = &events.last().unwrap().error.as_ref().unwrap().message;
            assert!(message.contains("larger than"), "{message}");
        }
        P => {
            assert_eq!(
                s,
                ended(&[], vec![Poll], Outcome::TimedOut, Some(ErrorKind::Timeout))
            );
            assert_eq!(rec.final_at.unwrap() - started, S(600));
        }
    }
}

matrix!(http_large_body_under_cap: polling);
/// A body just under the cap is read.
async fn http_large_body_under_cap(t: Transport) {
    let case = Case::start("large-body", t).await;
    let large = serde_json::json!({
        "items": [],
        "is_free": false,
        "padding": "x".repeat(200 * 1024),
    });
    case.sim
        .add_order(OrderSpec::new(126).status("done").contents(large));
    let (_, mut rec) = case.track(126);
    let events = rec.until_last().await;
    assert_eq!(summarize(&events), done(&["done"], vec![Poll]));
    assert!(events.last().unwrap().contents.as_ref().unwrap().len() > 200 * 1024);
}

matrix!(http_401_then_update_token: centrifugo, legacy, polling);
/// 401: the host is asked for a token, gives one, tracking continues with it.
async fn http_401_then_update_token(t: Transport) {
    let case = Case::start("401-update", t).await;
    case.sim
        .add_order(OrderSpec::new(127).status("new").then_after(S(40), "done"));
    case.sim.expire_token(case.token.clone());
    let (handle, mut rec) = case.track(127);
    let mut events = rec.until(|e| e.kind == EventKind::TokenExpired).await;
    let asked = events.last().unwrap().error.clone().unwrap();
    assert_eq!(
        (asked.kind, asked.http_status),
        (ErrorKind::Unauthorized, 401)
    );
    if t == C && common::transports(&events).is_empty() {
        // The socket refuses the expired token too (error 109): wait for that, so the update
        // below is what brings the socket back.
        events.extend(until_transport(&mut rec, Poll).await);
    }
    let fresh = case.fresh_token(1);
    case.engine
        .update_token(handle, Token::new(fresh.clone()).unwrap())
        .unwrap();
    events.extend(rec.until_last().await);
    let s = summarize(&events);
    let transports = match t {
        // The socket refused the expired token too (error 109), and came back with the new one.
        C => vec![Poll, Restored],
        L => vec![Conn],
        P => vec![Poll],
    };
    assert_eq!(
        s,
        Summary {
            token_requests: 1,
            ..done(&["new", "done"], transports)
        }
    );
    if t == C {
        let commands = case.sim.stats().centrifugo_connect_commands;
        assert_eq!(
            commands.last().unwrap()["connect"]["data"]["auth"],
            fresh.as_str()
        );
        assert_eq!(
            transport_error(&events, Poll).map(|e| e.0),
            Some(ErrorKind::Unauthorized)
        );
    }
}

matrix!(http_401_without_new_token: centrifugo, legacy, polling);
/// 401 and no new token: unauthorized once the token wait (60 s) is over.
async fn http_401_without_new_token(t: Transport) {
    let case = Case::start("401-none", t).await;
    case.sim.add_order(OrderSpec::new(128).status("new"));
    case.sim.expire_token(case.token.clone());
    let started = Instant::now();
    let (_, mut rec) = case.track(128);
    let events = rec.until_last().await;
    let transports = match t {
        C | P => vec![Poll],
        L => vec![Conn],
    };
    assert_eq!(
        summarize(&events),
        Summary {
            token_requests: 1,
            ..ended(
                &[],
                transports,
                Outcome::Unauthorized,
                Some(ErrorKind::Unauthorized)
            )
        }
    );
    let took = rec.final_at.unwrap() - started;
    assert!(took >= S(60) && took < S(61), "{took:?}");
}

matrix!(http_404_not_found: centrifugo, legacy, polling);
/// 404: confirmed by a second request, then not found.
async fn http_404_not_found(t: Transport) {
    let case = Case::start("404", t).await;
    let (_, mut rec) = case.track(129);
    let events = rec.until_last().await;
    let s = summarize(&events);
    assert_eq!(
        (s.statuses.len(), s.outcome, s.error, s.http_status),
        (0, Outcome::NotFound, Some(ErrorKind::NotFound), 404)
    );
    assert_eq!(case.gets(129), 2);
    let message = &events.last().unwrap().error.as_ref().unwrap().message;
    assert!(message.contains("Order not found"), "{message}");
}

matrix!(http_404_then_found: centrifugo, legacy, polling);
/// One 404 (the order is not visible yet), then the order: tracked normally.
async fn http_404_then_found(t: Transport) {
    let case = Case::start("404-found", t).await;
    case.sim
        .add_order(OrderSpec::new(130).status("new").then_after(S(15), "done"));
    case.sim.faults().http_error(130, 1, 404);
    let (_, mut rec) = case.track(130);
    let events = rec.until_last().await;
    assert_eq!(summarize(&events), done(&["new", "done"], case.up()));
}

matrix!(http_422_fails: centrifugo, legacy, polling);
/// 422 (or any other unexpected 4xx): fails at once.
async fn http_422_fails(t: Transport) {
    let case = Case::start("422", t).await;
    case.sim.add_order(OrderSpec::new(131).status("new"));
    case.sim.faults().http_error(131, 1, 422);
    let (_, mut rec) = case.track(131);
    let events = rec.until_last().await;
    let s = summarize(&events);
    assert_eq!(
        (s.outcome, s.error, s.http_status),
        (Outcome::Failed, Some(ErrorKind::Http), 422)
    );
}

// ---------------------------------------------------------------------------------------------
// Status paths and timers.

matrix!(new_paid_done: centrifugo, legacy, polling);
async fn new_paid_done(t: Transport) {
    let case = Case::start("paid-done", t).await;
    case.sim.add_order(
        OrderSpec::new(140)
            .status("new")
            .then_after(S(5), "paid")
            .then_after(S(5), "done"),
    );
    let (_, mut rec) = case.track(140);
    let events = rec.until_last().await;
    assert_eq!(
        summarize(&events),
        done(&["new", "paid", "done"], case.up())
    );
}

matrix!(new_canceled: centrifugo, legacy, polling);
async fn new_canceled(t: Transport) {
    let case = Case::start("canceled", t).await;
    case.sim.add_order(
        OrderSpec::new(141)
            .status("new")
            .then_after(S(5), "canceled"),
    );
    let (_, mut rec) = case.track(141);
    let events = rec.until_last().await;
    assert_eq!(
        summarize(&events),
        ended(&["new", "canceled"], case.up(), Outcome::Canceled, None)
    );
}

matrix!(new_expired: centrifugo, legacy, polling);
async fn new_expired(t: Transport) {
    let case = Case::start("expired", t).await;
    case.sim.add_order(
        OrderSpec::new(142)
            .status("new")
            .then_after(S(5), "expired"),
    );
    let (_, mut rec) = case.track(142);
    let events = rec.until_last().await;
    assert_eq!(
        summarize(&events),
        ended(&["new", "expired"], case.up(), Outcome::Expired, None)
    );
}

matrix!(paid_past_polling_deadline: centrifugo, legacy, polling);
/// `paid` for longer than the 10-minute polling deadline while polling: timed out at 10 min.
async fn paid_past_polling_deadline(t: Transport) {
    let case = Case::start("paid-forever", t).await;
    case.sim.faults().centrifugo_refuse(1_000_000);
    case.sim.faults().legacy_refuse(1_000_000);
    case.sim
        .add_order(OrderSpec::new(143).status("new").then_after(S(30), "paid"));
    let started = Instant::now();
    let (_, mut rec) = case.track(143);
    let events = rec.until_last().await;
    assert_eq!(
        summarize(&events),
        ended(
            &["new", "paid"],
            vec![Poll],
            Outcome::TimedOut,
            Some(ErrorKind::Timeout)
        )
    );
    assert_eq!(rec.final_at.unwrap() - started, S(600));
    let gets = case.gets(143);
    assert!((200..=202).contains(&gets), "{gets} GETs in 10 min at 3 s");
}

matrix!(socket_back_while_polling: centrifugo, legacy);
/// The socket comes back while polling: re-upgraded, polling stops, no duplicate statuses.
async fn socket_back_while_polling(t: Transport) {
    let case = Case::start("restored", t).await;
    case.sim.faults().centrifugo_refuse(2);
    case.sim.faults().legacy_refuse(2);
    case.sim.add_order(
        OrderSpec::new(144)
            .status("new")
            .then_after(S(120), "paid")
            .then_after(S(60), "done"),
    );
    let (_, mut rec) = case.track(144);
    let mut events = until_transport(&mut rec, Restored).await;
    let gets_when_restored = case.gets(144);
    events.extend(rec.until_last().await);
    assert_eq!(
        summarize(&events),
        done(&["new", "paid", "done"], vec![Poll, Restored])
    );
    // After the socket came back: the GET after connecting and the contents GET, no polling.
    let gets = case.gets(144);
    assert!(
        gets <= gets_when_restored + 2,
        "{gets_when_restored} then {gets}"
    );
}

matrix!(reestablish_every_5_minutes: centrifugo, legacy);
/// The socket is re-opened every 5 minutes without a final status.
async fn reestablish_every_5_minutes(t: Transport) {
    let case = Case::start("reestablish", t).await;
    case.sim.add_order(
        OrderSpec::new(145)
            .status("new")
            .then_after(S(11 * 60), "done"),
    );
    let (_, mut rec) = case.track(145);
    let events = rec.until_last().await;
    assert_eq!(
        summarize(&events),
        done(&["new", "done"], vec![Conn, Reest, Reest])
    );
    assert_eq!(case.socket_connects(), 3);
}

matrix!(overall_deadline: centrifugo, legacy, polling);
/// The overall deadline ends even a healthy socket (30 min by default); for polling only, a
/// deadline shorter than the polling deadline wins.
async fn overall_deadline(t: Transport) {
    let case = Case::with("overall", t, SimConfig::default(), |_, c| {
        if c.transport == P {
            c.timing.overall_deadline = S(8 * 60);
        }
    })
    .await;
    case.sim
        .add_order(OrderSpec::new(146).status("new").then_after(S(60), "paid"));
    let started = Instant::now();
    let (_, mut rec) = case.track(146);
    let events = rec.until_last().await;
    let (transports, deadline) = match t {
        P => (vec![Poll], S(8 * 60)),
        _ => (vec![Conn, Reest, Reest, Reest, Reest, Reest], S(30 * 60)),
    };
    assert_eq!(
        summarize(&events),
        ended(
            &["new", "paid"],
            transports,
            Outcome::TimedOut,
            Some(ErrorKind::Timeout)
        )
    );
    assert_eq!(rec.final_at.unwrap() - started, deadline);
    let message = &events.last().unwrap().error.as_ref().unwrap().message;
    assert!(message.contains("overall deadline"), "{message}");
}

/// The header and `Event::contents` promise contents on a `done` final event only ("NULL
/// otherwise"); a `canceled`/`expired` status learned from a GET must not carry them.
#[tokio::test(start_paused = true)]
async fn final_contents_only_on_done() {
    let _watchdog = common::watchdog::arm();
    for (id, status, outcome) in [
        (150, "canceled", Outcome::Canceled),
        (151, "expired", Outcome::Expired),
    ] {
        let case = Case::start("contents-only-done", P).await;
        case.sim
            .add_order(OrderSpec::new(id).status("new").then_after(S(5), status));
        let (_, mut rec) = case.track(id);
        let events = rec.until_last().await;
        let last = events.last().unwrap();
        assert_eq!(last.outcome, outcome);
        assert_eq!(last.contents, None, "{status}: no contents");
    }
}
