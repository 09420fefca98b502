//! Push transports: how status updates reach a tracker without polling.
//!
//! Both sockets run the same connection loop ([`socket_loop`]): connect with a timeout, run the
//! protocol's handshake, read frames (answering pings, checking liveness), re-open the socket on the
//! re-establish schedule, and reconnect with backoff after a failure. What differs per protocol is
//! the handshake and the frame decoder ([`Protocol`]) and who receives the events ([`Fanout`]).

pub mod centrifugo;
pub mod legacy_socket;
pub mod reconnect;
pub mod ws;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use std::collections::VecDeque;
use std::sync::Mutex;

use tokio::sync::Notify;
use tokio::time::{sleep_until, timeout};
use tokio_tungstenite::tungstenite::Message;

use crate::backoff::{random_seed, Backoff};
use crate::config::Timing;
use crate::events::{ErrorInfo, ErrorKind, Status};
use crate::fault::fault_point;
use crate::log::log_at;
use crate::sync::lock;
use crate::time::{Clock, Time};
use reconnect::Reconnect;
use ws::WsStream;

/// What a push transport tells a tracker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PushEvent {
    /// The socket is connected and subscribed. `fresh`: a new connection was just established
    /// (pushes may have been missed meanwhile); not fresh: the subscriber joined a connection that
    /// was already up, so it has missed nothing since it subscribed.
    Connected { fresh: bool },
    /// A status for this tracker's order.
    Status(Status),
    /// The socket failed; it is being re-established with backoff.
    Lost(ErrorInfo),
    /// The server refused these credentials; the socket will not be retried with them.
    Rejected(ErrorInfo),
    /// The server says the token expired (Centrifugo error 109): the tracker asks the host for a
    /// new token and polls meanwhile; the socket is retried with the new token.
    TokenExpired(ErrorInfo),
}

/// Where a transport leaves events for one subscriber: a small queue and a wake-up. (A tokio
/// channel would allocate a block of 32 slots per tracker up front.)
#[derive(Default)]
pub struct Inbox {
    queue: Mutex<VecDeque<PushEvent>>,
    ready: Notify,
}

impl Inbox {
    /// Leaves an event and wakes the subscriber.
    pub fn send(&self, event: PushEvent) {
        lock(&self.queue).push_back(event);
        self.ready.notify_one();
    }
}

/// A tracker's subscription to a push transport; dropping it unsubscribes.
pub struct PushStream {
    inbox: Arc<Inbox>,
    _guard: Box<dyn Send + Sync>,
}

impl PushStream {
    /// A subscription reading `inbox`, ended by dropping `guard`.
    pub fn new(inbox: Arc<Inbox>, guard: Box<dyn Send + Sync>) -> PushStream {
        PushStream {
            inbox,
            _guard: guard,
        }
    }

    /// The next event; pending until there is one (forever once the transport is gone: a tracker
    /// then relies on polling).
    pub async fn recv(&mut self) -> PushEvent {
        loop {
            if let Some(event) = self
                .inbox
                .queue
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .pop_front()
            {
                return event;
            }
            // A send since the check left a permit: this returns at once then.
            self.inbox.ready.notified().await;
        }
    }
}

/// One decoded message from the server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Inbound {
    /// A status for an order.
    Status { order_id: i64, status: Status },
    /// A server ping (`{}` in Centrifugo's JSON protocol).
    ServerPing,
    /// The server asks us to disconnect.
    Disconnect { code: u16, reason: String },
    /// A successful reply to the connect command.
    ConnectReply { id: u64, ping_secs: u64, pong: bool },
    /// An error reply to a command.
    ErrorReply {
        id: u64,
        code: u32,
        message: String,
        temporary: bool,
    },
    /// A line that is not valid JSON or not a known message.
    Malformed(String),
    /// A valid message this client has no use for.
    Ignored,
}

/// How to tell whether an open connection is still alive.
#[derive(Clone, Copy, Debug)]
pub struct Liveness {
    /// The connection is dead after this long without any frame (Centrifugo: ping + 10 s).
    pub silence_limit: Option<Duration>,
    /// Whether server pings must be answered with `{}`.
    pub answer_pings: bool,
}

/// How a connection ended.
#[derive(Debug)]
pub enum SessionEnd {
    /// Time to re-open it on the re-establish schedule.
    Reestablish,
    /// It failed; reconnect with backoff.
    Lost(ErrorInfo),
    /// The server refused the credentials; do not reconnect with them.
    Rejected(ErrorInfo),
    /// The server says the token expired: wait for a new one (HTTP polling goes on meanwhile).
    TokenExpired(ErrorInfo),
}

/// The parts of a socket protocol that differ between Centrifugo and the legacy socket.
pub trait Protocol: Send + Sync + 'static {
    /// The URL to open.
    fn url(&self) -> String;
    /// Runs after the WebSocket opens; returns the liveness rule and any messages that arrived with
    /// the handshake's reply.
    fn handshake(
        &self,
        ws: &mut WsStream,
    ) -> impl Future<Output = Result<(Liveness, Vec<Inbound>), SessionEnd>> + Send;
    /// Decodes one text frame (which may hold several messages) into `out`.
    fn decode(&self, text: &str, out: &mut Vec<Inbound>);

    /// Server-provided text (close and disconnect reasons, error messages) made safe to log and
    /// report: bounded, and (for a protocol that carries credentials) without them.
    fn redact(&self, text: &str) -> String {
        crate::limits::quote(text, None)
    }
}

/// Who receives a connection's events.
pub trait Fanout: Send + Sync + 'static {
    /// A connection state change, for every subscriber.
    fn broadcast(&self, event: PushEvent);
    /// A status for one order's subscribers.
    fn route(&self, order_id: i64, status: Status);
}

/// Settings shared by every socket of a library instance.
pub struct SocketSettings {
    /// TLS, proxies and dialing for `wss://` and `ws://`.
    pub net: Arc<crate::net::Network>,
    /// Timers: request timeout (connect), re-establish, backoff.
    pub timing: Timing,
    /// Wakes every socket waiting out a reconnect delay (the host said the network is back).
    pub wake: tokio::sync::Notify,
}

/// Whether a close code allows reconnecting with the same credentials (Centrifugo's rule).
pub fn close_code_allows_reconnect(code: u16) -> bool {
    !(3500..5000).contains(&code) || (4000..4500).contains(&code)
}

fn ended_by_code(code: u16, reason: &str) -> SessionEnd {
    let message = format!("socket closed by server with code {code} ({reason})");
    if close_code_allows_reconnect(code) {
        SessionEnd::Lost(ErrorInfo::new(ErrorKind::Network, message))
    } else {
        SessionEnd::Rejected(ErrorInfo::new(ErrorKind::SocketRejected, message))
    }
}

/// Connects, reads and reconnects until the server rejects the credentials (or the task is
/// aborted), under supervision: if the loop panics, every subscriber is told the socket is lost
/// (so trackers poll at once) and the loop restarts after a backoff delay.
pub async fn socket_loop<P: Protocol, F: Fanout>(
    protocol: P,
    fanout: F,
    settings: Arc<SocketSettings>,
) {
    let timing = settings.timing;
    let clock = Clock::start();
    let mut reconnect = Reconnect::new(
        Backoff {
            min: timing.backoff_min,
            max: timing.backoff_max,
        },
        random_seed(),
    );
    loop {
        let run = connection_loop(&protocol, &fanout, &settings, &clock, &mut reconnect);
        match crate::supervise::catch("socket", run).await {
            Ok(()) => return,
            Err(panic) => {
                let info = ErrorInfo::new(
                    ErrorKind::Internal,
                    format!("the socket task failed ({panic}); polling while it restarts"),
                );
                log_at!(Error, "{}", info.message);
                fanout.broadcast(PushEvent::Lost(info));
                let delay = reconnect.failed(clock.now());
                wait_to_reconnect(&settings, &clock, &reconnect, delay).await;
            }
        }
    }
}

async fn connection_loop<P: Protocol, F: Fanout>(
    protocol: &P,
    fanout: &F,
    settings: &SocketSettings,
    clock: &Clock,
    reconnect: &mut Reconnect,
) {
    let timing = settings.timing;
    let mut reported_down = false;
    loop {
        reconnect.attempt(clock.now());
        let end = match connect(protocol, settings).await {
            Ok((mut ws, liveness, early)) => {
                fault_point!("socket.connected");
                reconnect.connected(clock.now());
                reported_down = false;
                fanout.broadcast(PushEvent::Connected { fresh: true });
                log_at!(Info, "socket connected: {}", protocol.url());
                run_session(
                    protocol,
                    fanout,
                    &mut ws,
                    liveness,
                    early,
                    timing.socket_reestablish,
                )
                .await
            }
            Err(end) => end,
        };
        match end {
            SessionEnd::Reestablish => {
                log_at!(
                    Info,
                    "re-establishing socket after {:?}",
                    timing.socket_reestablish
                );
                continue;
            }
            SessionEnd::Rejected(info) => {
                log_at!(
                    Warn,
                    "socket rejected, not retrying with these credentials: {}",
                    info.message
                );
                fanout.broadcast(PushEvent::Rejected(info));
                return;
            }
            SessionEnd::TokenExpired(info) => {
                log_at!(
                    Warn,
                    "socket token expired, waiting for a new token: {}",
                    info.message
                );
                fanout.broadcast(PushEvent::TokenExpired(info));
                return;
            }
            SessionEnd::Lost(info) => {
                log_at!(Warn, "socket lost: {}", info.message);
                if !reported_down {
                    reported_down = true;
                    fanout.broadcast(PushEvent::Lost(info));
                }
            }
        }
        let delay = reconnect.failed(clock.now());
        log_at!(Debug, "socket reconnect in {delay:?}");
        wait_to_reconnect(settings, clock, reconnect, delay).await;
        fault_point!("socket.reconnect");
    }
}

/// Sleeps `delay`, or less if the host says the network changed (never closer to the last
/// attempt than the backoff floor).
async fn wait_to_reconnect(
    settings: &SocketSettings,
    clock: &Clock,
    reconnect: &Reconnect,
    delay: Duration,
) {
    let until = clock.now() + delay;
    tokio::select! {
        _ = sleep_until(clock.instant(until)) => {}
        _ = settings.wake.notified() => {
            let earliest = reconnect.earliest_after_wake(clock.now()).min(until);
            sleep_until(clock.instant(earliest)).await;
        }
    }
}

async fn connect<P: Protocol>(
    protocol: &P,
    settings: &SocketSettings,
) -> Result<(WsStream, Liveness, Vec<Inbound>), SessionEnd> {
    let limit = settings.timing.request_timeout;
    let mut ws = ws::open(&protocol.url(), &settings.net, limit)
        .await
        .map_err(SessionEnd::Lost)?;
    match timeout(limit, protocol.handshake(&mut ws)).await {
        Ok(Ok((liveness, early))) => Ok((ws, liveness, early)),
        Ok(Err(end)) => Err(end),
        Err(_) => Err(SessionEnd::Lost(ErrorInfo::new(
            ErrorKind::Timeout,
            format!("socket handshake took longer than {limit:?}"),
        ))),
    }
}

async fn run_session<P: Protocol, F: Fanout>(
    protocol: &P,
    fanout: &F,
    ws: &mut WsStream,
    liveness: Liveness,
    early: Vec<Inbound>,
    reestablish_after: Duration,
) -> SessionEnd {
    let clock = Clock::start();
    let reestablish_at = clock.instant(Time::ZERO + reestablish_after);
    let silence_deadline = |now: Time| {
        clock.instant(
            liveness
                .silence_limit
                .map_or(Time::NEVER, |limit| now + limit),
        )
    };
    let mut dead_at = silence_deadline(clock.now());
    let mut inbound = early;
    loop {
        for message in inbound.drain(..) {
            if let Some(end) = handle_inbound(protocol, message, fanout, ws, liveness).await {
                close_quietly(ws).await;
                return end;
            }
        }
        tokio::select! {
            frame = ws.next() => {
                fault_point!("socket.frame");
                dead_at = silence_deadline(clock.now());
                match frame {
                    Some(Ok(Message::Text(text))) => protocol.decode(text.as_str(), &mut inbound),
                    // JSON in a binary frame is still JSON; other binary data only proves liveness.
                    Some(Ok(Message::Binary(bytes))) => {
                        if let Ok(text) = std::str::from_utf8(&bytes) {
                            protocol.decode(text, &mut inbound);
                        }
                    }
                    Some(Ok(Message::Close(frame))) => {
                        let (code, reason) = frame.map_or((1005, String::new()), |f| (u16::from(f.code), f.reason.to_string()));
                        return ended_by_code(code, &protocol.redact(&reason));
                    }
                    Some(Ok(_)) => {} // WebSocket-level pings and pongs only prove liveness
                    Some(Err(e)) => return SessionEnd::Lost(ws::error_info("socket read failed", &e)),
                    None => return SessionEnd::Lost(ErrorInfo::new(ErrorKind::Network, "socket closed without a close frame")),
                }
            }
            _ = sleep_until(dead_at) => {
                let limit = liveness.silence_limit.unwrap_or_default();
                close_quietly(ws).await;
                return SessionEnd::Lost(ErrorInfo::new(ErrorKind::Timeout, format!("no frame from the server for {limit:?}")));
            }
            _ = sleep_until(reestablish_at) => {
                close_quietly(ws).await;
                return SessionEnd::Reestablish;
            }
        }
    }
}

async fn handle_inbound<P: Protocol, F: Fanout>(
    protocol: &P,
    message: Inbound,
    fanout: &F,
    ws: &mut WsStream,
    liveness: Liveness,
) -> Option<SessionEnd> {
    match message {
        Inbound::Status { order_id, status } => fanout.route(order_id, status),
        Inbound::ServerPing if liveness.answer_pings => {
            if let Err(e) = ws.send(Message::text("{}")).await {
                return Some(SessionEnd::Lost(ws::error_info(
                    "could not answer the server ping",
                    &e,
                )));
            }
        }
        Inbound::Disconnect { code, reason } => {
            return Some(ended_by_code(code, &protocol.redact(&reason)))
        }
        Inbound::Malformed(why) => log_at!(Warn, "ignoring a malformed socket message: {why}"),
        _ => {}
    }
    None
}

/// Sends a close frame and waits briefly for the server's, then gives up.
async fn close_quietly(ws: &mut WsStream) {
    let _ = timeout(Duration::from_secs(1), async {
        let _ = ws.close(None).await;
        while let Some(Ok(_)) = ws.next().await {}
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::close_code_allows_reconnect;

    #[test]
    fn close_codes_follow_centrifugo() {
        let _watchdog = crate::test_watchdog::arm();
        for code in [1000, 1006, 3000, 3012, 3499, 4000, 4499, 5000] {
            assert!(close_code_allows_reconnect(code), "{code}");
        }
        for code in [3500, 3501, 3503, 3999, 4500, 4999] {
            assert!(!close_code_allows_reconnect(code), "{code}");
        }
    }
}
