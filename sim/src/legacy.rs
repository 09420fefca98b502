//! The legacy per-order socket: `/sub/order/status?order_id=..&project_id=..`, no auth, one
//! `{"order_id":..,"status":".."}` message per status change of that order.

use std::sync::Arc;

use serde_json::Value;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::{self, Message};

use crate::http::{plain_error, Request, Response};
use crate::state::{ConnCommand, LegacyConn, Shared};
use crate::ws::{self, End, Endpoint, Registration};

/// Close code when the simulator shuts down ("going away").
const CLOSE_SHUTDOWN: u16 = 1001;

/// The message of a status change: `{"order_id":<id>,"status":"<status>"}`.
pub(crate) fn status_message(order_id: i64, status: &str) -> String {
    format!(
        r#"{{"order_id":{order_id},"status":{}}}"#,
        Value::String(status.to_owned())
    )
}

/// Checks a request for the legacy path: the order id if it can be upgraded, else the answer
/// (400 without a WebSocket upgrade or without integer `order_id`/`project_id`, 404 for another
/// project). The order does not need to exist.
pub(crate) fn check_request(shared: &Shared, request: &Request) -> Result<i64, Response> {
    if !request.is_websocket_upgrade() {
        return Err(plain_error(400));
    }
    let int = |name| {
        request
            .query_param(name)
            .and_then(|v| v.parse::<i64>().ok())
    };
    let (Some(order_id), Some(project_id)) = (int("order_id"), int("project_id")) else {
        return Err(plain_error(400));
    };
    if project_id != shared.config.project_id {
        return Err(plain_error(404));
    }
    Ok(order_id)
}

/// Serves one legacy upgrade request, then the socket, until it ends.
pub(crate) async fn serve(shared: Arc<Shared>, upgrade: crate::http::Upgrade, order_id: i64) {
    let explicit = shared.lock().faults.take_legacy_refuse();
    let (index, chaos) = match &shared.chaos {
        Some(c) => c.upgrade(Endpoint::Legacy),
        None => (0, None),
    };
    if chaos.is_some() && !explicit {
        shared.stats_mut(|s| s.chaos_faults += 1);
    }
    if explicit || chaos.is_some() {
        shared.stats_mut(|s| s.legacy_handshakes_failed += 1);
        ws::refuse(upgrade.stream).await;
        return;
    }
    let Some(mut socket) = ws::accept(&shared, upgrade).await else {
        return;
    };
    let (tx, mut commands) = mpsc::unbounded_channel();
    let id = {
        let mut state = shared.lock();
        let id = state.conn_id();
        state.legacy.insert(id, LegacyConn { tx, order_id });
        id
    };
    shared.stats_mut(|s| {
        s.legacy_connects += 1;
        s.legacy_live += 1;
    });
    let _registration = Registration {
        shared: Arc::clone(&shared),
        id,
        endpoint: Endpoint::Legacy,
    };
    ws::spawn_plan(&shared, Endpoint::Legacy, id, index);
    // Chaos mode: the order's current status at once (a duplicate a correct client must absorb).
    let replay = shared.chaos.as_ref().and_then(|chaos| {
        let state = shared.lock();
        let order = state.orders.get(&order_id).filter(|o| o.push)?;
        let status = chaos.push_status(order_id, state.channel_offset, &order.status);
        Some(status_message(order_id, &status))
    });
    if let Some(message) = replay {
        if !ws::send_text(&mut socket, message).await {
            return;
        }
        shared.stats_mut(|s| s.chaos_faults += 1);
    }
    let end = loop {
        let command = tokio::select! {
            biased;
            message = futures_util::StreamExt::next(&mut socket) => match message {
                Some(Err(tungstenite::Error::Capacity(_))) => break ws::too_big(),
                None | Some(Err(_)) => break End::Gone,
                Some(Ok(Message::Close(_))) => break End::PeerClosed,
                // The client has nothing to say on this socket; ignore whatever it sends.
                Some(Ok(_)) => continue,
            },
            command = commands.recv() => command,
            () = shared.lifecycle.stopped() => {
                break End::Close(CLOSE_SHUTDOWN, "shutdown".to_owned())
            }
        };
        match command {
            None => break End::Gone,
            Some(ConnCommand::Push(message)) => {
                if shared.lock().faults.legacy_silent {
                    continue;
                }
                if !ws::send_text(&mut socket, message).await {
                    break End::Gone;
                }
                shared.stats_mut(|s| s.legacy_pushes_sent += 1);
            }
            Some(ConnCommand::Raw(text)) => {
                if !ws::send_text(&mut socket, text).await {
                    break End::Gone;
                }
            }
            Some(ConnCommand::Binary(bytes)) => {
                if !ws::send_binary(&mut socket, bytes).await {
                    break End::Gone;
                }
            }
            Some(ConnCommand::Close(code, reason)) => break End::Close(code, reason),
            Some(ConnCommand::Reset) => break End::Reset,
        }
    };
    ws::finish(socket, end).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_message_shape() {
        let _watchdog = crate::test_watchdog::arm();
        assert_eq!(
            status_message(42, "paid"),
            r#"{"order_id":42,"status":"paid"}"#
        );
        assert_eq!(
            status_message(-1, "a\"b"),
            r#"{"order_id":-1,"status":"a\"b"}"#
        );
    }
}
