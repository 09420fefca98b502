//! The legacy per-order socket: no handshake, each message is `{"order_id":..,"status":".."}`.

use std::sync::Arc;

use serde_json::Value;

use super::ws::WsStream;
use super::{
    socket_loop, Fanout, Inbound, Inbox, Liveness, Protocol, PushEvent, PushStream, SessionEnd,
    SocketSettings,
};
use crate::events::Status;

struct LegacyProtocol {
    url: String,
}

impl Protocol for LegacyProtocol {
    fn url(&self) -> String {
        self.url.clone()
    }

    async fn handshake(&self, _ws: &mut WsStream) -> Result<(Liveness, Vec<Inbound>), SessionEnd> {
        // No application-level pings: a dead socket is caught by the re-establish schedule.
        Ok((
            Liveness {
                silence_limit: None,
                answer_pings: false,
            },
            Vec::new(),
        ))
    }

    fn decode(&self, text: &str, out: &mut Vec<Inbound>) {
        for line in text.split('\n').map(str::trim).filter(|l| !l.is_empty()) {
            out.push(decode_message(line));
        }
    }
}

/// Decodes one legacy message.
pub fn decode_message(line: &str) -> Inbound {
    let value: Value = match serde_json::from_str(line) {
        Ok(v) => v,
        Err(e) => return Inbound::Malformed(format!("not JSON ({e})")),
    };
    let order_id = match value.get("order_id") {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.parse().ok(),
        _ => None,
    };
    match (order_id, value.get("status").and_then(Value::as_str)) {
        (Some(order_id), Some(status)) => Inbound::Status {
            order_id,
            status: Status::parse(status),
        },
        _ => Inbound::Malformed("message without order_id and status".into()),
    }
}

struct SingleOrder {
    order_id: i64,
    inbox: Arc<Inbox>,
}

impl Fanout for SingleOrder {
    fn broadcast(&self, event: PushEvent) {
        self.inbox.send(event);
    }

    fn route(&self, order_id: i64, status: Status) {
        if order_id == self.order_id {
            self.inbox.send(PushEvent::Status(status));
        }
    }
}

struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Opens the legacy socket for one order. Must be called inside the library's runtime.
pub fn subscribe(
    base_url: &str,
    project_id: i64,
    order_id: i64,
    settings: Arc<SocketSettings>,
) -> PushStream {
    let url = format!("{base_url}?order_id={order_id}&project_id={project_id}");
    let inbox = Arc::new(Inbox::default());
    let fanout = SingleOrder {
        order_id,
        inbox: inbox.clone(),
    };
    let task = tokio::spawn(socket_loop(LegacyProtocol { url }, fanout, settings));
    PushStream::new(inbox, Box::new(AbortOnDrop(task.abort_handle())))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The legacy socket carries no credentials: its server text is quoted as it is, bounded.
    #[test]
    fn server_text_is_quoted_bounded() {
        let _watchdog = crate::test_watchdog::arm();
        let protocol = LegacyProtocol {
            url: "ws://127.0.0.1:1/sub/order/status".into(),
        };
        assert_eq!(protocol.redact("going away"), "going away");
        let long = protocol.redact(&"x".repeat(5000));
        assert!(
            long.starts_with("xxx") && long.chars().count() <= 201,
            "{}",
            long.len()
        );
    }

    #[test]
    fn decodes_legacy_messages() {
        let _watchdog = crate::test_watchdog::arm();
        assert_eq!(
            decode_message(r#"{"order_id":5,"status":"done"}"#),
            Inbound::Status {
                order_id: 5,
                status: Status::Done
            }
        );
        assert!(matches!(
            decode_message(r#"{"status":"done"}"#),
            Inbound::Malformed(_)
        ));
        assert!(matches!(decode_message("nope"), Inbound::Malformed(_)));
    }
}
