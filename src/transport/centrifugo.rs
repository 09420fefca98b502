//! Xsolla's Centrifugo endpoint: one connection per token, shared by every order tracked with it.
//!
//! Codec: the connect command, and a decoder for frames that may hold several `\n`-separated
//! messages (replies, `{}` pings, publications, disconnect pushes). Hub: the shared connection and
//! its subscribers, routed by `order_id`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::task::AbortHandle;
use tokio_tungstenite::tungstenite::Message;

use super::ws::{self, WsStream};
use super::{
    socket_loop, Fanout, Inbound, Inbox, Liveness, Protocol, PushEvent, PushStream, SessionEnd,
    SocketSettings,
};
use crate::events::{ErrorInfo, ErrorKind, Status};
use crate::limits;
use crate::secret::Token;
use crate::sync::lock;

/// The id of our connect command (the only command we send).
const CONNECT_ID: u64 = 1;
/// Centrifugo clients give the server this much slack beyond its ping interval.
const PING_SLACK: Duration = Duration::from_secs(10);
/// Centrifugo's error code for an expired token.
pub(crate) const TOKEN_EXPIRED: u32 = 109;

/// The connect command, exactly as Xsolla's SDKs send it.
pub fn connect_command(token: &Token, project_id: i64) -> String {
    json!({"connect": {"data": {"auth": token.expose(), "project_id": project_id}}, "id": CONNECT_ID}).to_string()
}

/// Decodes a text frame: one JSON message per line, blank lines skipped.
pub fn decode_frame(text: &str, out: &mut Vec<Inbound>) {
    for line in text.split('\n') {
        let line = line.trim();
        if !line.is_empty() {
            out.push(decode_message(line));
        }
    }
}

fn decode_message(line: &str) -> Inbound {
    let value: Value = match serde_json::from_str(line) {
        Ok(v) => v,
        Err(e) => return Inbound::Malformed(format!("not JSON ({e})")),
    };
    let Some(obj) = value.as_object() else {
        return Inbound::Malformed("not a JSON object".into());
    };
    if obj.is_empty() {
        return Inbound::ServerPing;
    }
    if let Some(push) = obj.get("push") {
        return decode_push(push);
    }
    let id = obj.get("id").and_then(Value::as_u64).unwrap_or(0);
    if let Some(error) = obj.get("error") {
        return Inbound::ErrorReply {
            id,
            code: limits::saturating_u32(error.get("code").and_then(Value::as_u64).unwrap_or(0)),
            message: limits::cut(
                error.get("message").and_then(Value::as_str).unwrap_or(""),
                limits::MAX_SCANNED_CHARS,
            ),
            temporary: error
                .get("temporary")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        };
    }
    if let Some(connect) = obj.get("connect") {
        return Inbound::ConnectReply {
            id,
            ping_secs: connect.get("ping").and_then(Value::as_u64).unwrap_or(0),
            pong: connect
                .get("pong")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        };
    }
    Inbound::Ignored
}

fn decode_push(push: &Value) -> Inbound {
    if let Some(disconnect) = push.get("disconnect") {
        let code =
            limits::saturating_u16(disconnect.get("code").and_then(Value::as_u64).unwrap_or(0));
        let reason = limits::cut(
            disconnect
                .get("reason")
                .and_then(Value::as_str)
                .unwrap_or(""),
            limits::MAX_SCANNED_CHARS,
        );
        return Inbound::Disconnect { code, reason };
    }
    let Some(data) = push.get("pub").and_then(|p| p.get("data")) else {
        return Inbound::Ignored;
    };
    let order_id = match data.get("order_id") {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.parse().ok(),
        _ => None,
    };
    match (order_id, data.get("status").and_then(Value::as_str)) {
        (Some(order_id), Some(status)) => Inbound::Status {
            order_id,
            status: Status::parse(status),
        },
        _ => Inbound::Malformed("publication without order_id and status".into()),
    }
}

struct CentrifugoProtocol {
    url: String,
    token: Token,
    project_id: i64,
}

impl Protocol for CentrifugoProtocol {
    fn url(&self) -> String {
        self.url.clone()
    }

    async fn handshake(&self, ws: &mut WsStream) -> Result<(Liveness, Vec<Inbound>), SessionEnd> {
        let command = connect_command(&self.token, self.project_id);
        ws.send(Message::text(command)).await.map_err(|e| {
            SessionEnd::Lost(ws::error_info("could not send the connect command", &e))
        })?;
        let mut inbound = Vec::new();
        loop {
            let text = match ws.next().await {
                Some(Ok(Message::Text(text))) => text.as_str().to_owned(),
                Some(Ok(Message::Close(frame))) => {
                    let (code, reason) = frame.map_or((1005, String::new()), |f| {
                        (u16::from(f.code), f.reason.to_string())
                    });
                    return Err(super::ended_by_code(code, &self.redact(&reason)));
                }
                // JSON in a binary frame is still JSON (some servers send it that way).
                Some(Ok(Message::Binary(bytes))) => match std::str::from_utf8(&bytes) {
                    Ok(text) => text.to_owned(),
                    Err(_) => continue,
                },
                Some(Ok(_)) => continue,
                Some(Err(e)) => {
                    return Err(SessionEnd::Lost(ws::error_info(
                        "socket failed during connect",
                        &e,
                    )))
                }
                None => {
                    return Err(SessionEnd::Lost(ErrorInfo::new(
                        ErrorKind::Network,
                        "socket closed during connect",
                    )))
                }
            };
            decode_frame(&text, &mut inbound);
            let reply = inbound.iter().position(|m| {
                matches!(m, Inbound::ConnectReply { id, .. } | Inbound::ErrorReply { id, .. } if *id == CONNECT_ID)
            });
            let Some(at) = reply else { continue };
            let rest = inbound.split_off(at + 1);
            match inbound.pop() {
                Some(Inbound::ConnectReply {
                    ping_secs, pong, ..
                }) => {
                    let silence_limit = limits::ping_interval(ping_secs)
                        .map(|ping| ping.saturating_add(PING_SLACK));
                    return Ok((
                        Liveness {
                            silence_limit,
                            answer_pings: pong,
                        },
                        rest,
                    ));
                }
                Some(Inbound::ErrorReply {
                    code,
                    message,
                    temporary,
                    ..
                }) => {
                    let text = format!(
                        "connect refused with error {code} ({})",
                        self.redact(&message)
                    );
                    return Err(connect_error_end(code, temporary, text));
                }
                _ => unreachable!("position() found a reply"),
            }
        }
    }

    fn decode(&self, text: &str, out: &mut Vec<Inbound>) {
        decode_frame(text, out)
    }

    fn redact(&self, text: &str) -> String {
        limits::quote(text, Some(&self.token))
    }
}

/// What a connect error reply means (Centrifugo's rules): codes below 100 and `temporary` errors
/// are retried with backoff; 109 asks for a new token (HTTP polling goes on meanwhile); any other
/// code refuses these credentials.
pub fn connect_error_end(code: u32, temporary: bool, text: String) -> SessionEnd {
    if code == TOKEN_EXPIRED {
        SessionEnd::TokenExpired(ErrorInfo::new(ErrorKind::Unauthorized, text))
    } else if temporary || code < 100 {
        SessionEnd::Lost(ErrorInfo::new(ErrorKind::Network, text))
    } else {
        SessionEnd::Rejected(ErrorInfo::new(ErrorKind::SocketRejected, text))
    }
}

type HubMap = Mutex<HashMap<Token, Weak<Hub>>>;

/// The shared Centrifugo connections of one library instance, one per token.
pub struct CentrifugoHubs {
    hubs: Arc<HubMap>,
    url: String,
    project_id: i64,
    settings: Arc<SocketSettings>,
}

struct Hub {
    token: Token,
    state: Mutex<HubState>,
    task: Mutex<Option<AbortHandle>>,
}

#[derive(Default)]
struct HubState {
    next_id: u64,
    subscribers: HashMap<i64, Vec<(u64, Arc<Inbox>)>>,
    /// The last connection event, replayed to late subscribers.
    last: Option<PushEvent>,
}

impl CentrifugoHubs {
    /// Hubs for a project; nothing connects until the first subscription.
    pub fn new(url: String, project_id: i64, settings: Arc<SocketSettings>) -> CentrifugoHubs {
        CentrifugoHubs {
            hubs: Arc::default(),
            url,
            project_id,
            settings,
        }
    }

    /// Subscribes to `order_id`'s statuses on the connection for `token`, opening it if needed.
    /// Must be called inside the library's runtime.
    pub fn subscribe(&self, token: &Token, order_id: i64) -> PushStream {
        let mut hubs = lock(&self.hubs);
        let hub = match hubs.get(token).and_then(Weak::upgrade) {
            Some(hub) => hub,
            None => {
                let hub = Arc::new(Hub {
                    token: token.clone(),
                    state: Mutex::default(),
                    task: Mutex::new(None),
                });
                let protocol = CentrifugoProtocol {
                    url: self.url.clone(),
                    token: token.clone(),
                    project_id: self.project_id,
                };
                let task = tokio::spawn(socket_loop(
                    protocol,
                    HubFanout(hub.clone()),
                    self.settings.clone(),
                ));
                *lock(&hub.task) = Some(task.abort_handle());
                hubs.insert(token.clone(), Arc::downgrade(&hub));
                hub
            }
        };
        let inbox = Arc::new(Inbox::default());
        let id = {
            let mut state = lock(&hub.state);
            state.next_id += 1;
            let id = state.next_id;
            match &state.last {
                // Subscribed to a live connection: every push from now on reaches it.
                Some(PushEvent::Connected { .. }) => {
                    inbox.send(PushEvent::Connected { fresh: false })
                }
                Some(last) => inbox.send(last.clone()),
                None => {}
            }
            state
                .subscribers
                .entry(order_id)
                .or_default()
                .push((id, inbox.clone()));
            id
        };
        let guard = HubSubscription {
            hub,
            hubs: Arc::downgrade(&self.hubs),
            order_id,
            id,
        };
        PushStream::new(inbox, Box::new(guard))
    }

    /// How many shared connections exist now (for tests and diagnostics).
    pub fn connection_count(&self) -> usize {
        lock(&self.hubs)
            .values()
            .filter(|w| w.strong_count() > 0)
            .count()
    }
}

struct HubFanout(Arc<Hub>);

impl Fanout for HubFanout {
    fn broadcast(&self, event: PushEvent) {
        let mut state = lock(&self.0.state);
        for (_, inbox) in state.subscribers.values().flatten() {
            inbox.send(event.clone());
        }
        state.last = Some(event);
    }

    fn route(&self, order_id: i64, status: Status) {
        let state = lock(&self.0.state);
        for (_, inbox) in state.subscribers.get(&order_id).into_iter().flatten() {
            inbox.send(PushEvent::Status(status.clone()));
        }
    }
}

struct HubSubscription {
    hub: Arc<Hub>,
    hubs: Weak<HubMap>,
    order_id: i64,
    id: u64,
}

impl Drop for HubSubscription {
    fn drop(&mut self) {
        let Some(hubs) = self.hubs.upgrade() else {
            return;
        };
        let mut hubs = lock(&hubs);
        let mut state = lock(&self.hub.state);
        if let Some(list) = state.subscribers.get_mut(&self.order_id) {
            list.retain(|(id, _)| *id != self.id);
            if list.is_empty() {
                state.subscribers.remove(&self.order_id);
            }
        }
        if state.subscribers.is_empty() {
            if let Some(task) = lock(&self.hub.task).take() {
                task.abort();
            }
            if hubs
                .get(&self.hub.token)
                .is_some_and(|w| std::ptr::eq(w.as_ptr(), Arc::as_ptr(&self.hub)))
            {
                hubs.remove(&self.hub.token);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Centrifugo's connect error codes: below 100 (and any `temporary` one) retry, 109 asks for
    /// a token, 100 and above refuse these credentials.
    #[test]
    fn connect_errors_split_at_code_100() {
        let _watchdog = crate::test_watchdog::arm();
        let end = |code, temporary| connect_error_end(code, temporary, format!("code {code}"));
        for code in [0, 1, 2, 99] {
            assert!(matches!(end(code, false), SessionEnd::Lost(_)), "{code}");
        }
        for code in [100, 101, 103, 3500, u32::MAX] {
            assert!(
                matches!(end(code, false), SessionEnd::Rejected(_)),
                "{code}"
            );
            assert!(
                matches!(end(code, true), SessionEnd::Lost(_)),
                "{code} temporary"
            );
        }
        assert!(matches!(end(109, false), SessionEnd::TokenExpired(_)));
        assert!(matches!(end(109, true), SessionEnd::TokenExpired(_)));
    }

    fn decode(text: &str) -> Vec<Inbound> {
        let mut out = Vec::new();
        decode_frame(text, &mut out);
        out
    }

    #[test]
    fn connect_command_matches_xsolla_sdks() {
        let _watchdog = crate::test_watchdog::arm();
        let token = Token::new("jwt").unwrap();
        let v: Value = serde_json::from_str(&connect_command(&token, 42)).unwrap();
        assert_eq!(
            v,
            json!({"connect":{"data":{"auth":"jwt","project_id":42}},"id":1})
        );
    }

    #[test]
    fn decodes_every_message_of_a_batched_frame() {
        let _watchdog = crate::test_watchdog::arm();
        let frame = "{\"id\":1,\"connect\":{\"client\":\"c\",\"version\":\"v\",\"ping\":25,\"pong\":true}}\n{}\n\
            {\"push\":{\"channel\":\"x\",\"pub\":{\"data\":{\"order_id\":7,\"status\":\"paid\"},\"offset\":3}}}\n";
        assert_eq!(
            decode(frame),
            vec![
                Inbound::ConnectReply {
                    id: 1,
                    ping_secs: 25,
                    pong: true
                },
                Inbound::ServerPing,
                Inbound::Status {
                    order_id: 7,
                    status: Status::Paid
                },
            ]
        );
    }

    #[test]
    fn decodes_errors_disconnects_and_garbage() {
        let _watchdog = crate::test_watchdog::arm();
        assert_eq!(
            decode(r#"{"id":1,"error":{"code":109,"message":"token expired","temporary":false}}"#),
            vec![Inbound::ErrorReply {
                id: 1,
                code: 109,
                message: "token expired".into(),
                temporary: false
            }]
        );
        assert_eq!(
            decode(r#"{"push":{"disconnect":{"code":3500,"reason":"invalid token"}}}"#),
            vec![Inbound::Disconnect {
                code: 3500,
                reason: "invalid token".into()
            }]
        );
        assert!(matches!(decode("{oops")[..], [Inbound::Malformed(_)]));
        assert!(matches!(decode("[1]")[..], [Inbound::Malformed(_)]));
        assert_eq!(
            decode(r#"{"push":{"pub":{"data":{"order_id":"9","status":"weird","extra":1}}}}"#),
            vec![Inbound::Status {
                order_id: 9,
                status: Status::Other("weird".into())
            }]
        );
        assert_eq!(decode(r#"{"push":{"join":{}}}"#), vec![Inbound::Ignored]);
        assert!(decode("\n\n").is_empty());
    }
}
