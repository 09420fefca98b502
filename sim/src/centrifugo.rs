//! The Centrifugo JSON-protocol endpoint: connect command, pings, pushes, errors and closes.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};
use tokio::sync::mpsc;
use tokio::time::{Instant, Interval, MissedTickBehavior};
use tokio_tungstenite::tungstenite::{self, Message};

use crate::faults::{ConnectRejection, HandshakeFault};
use crate::http::Upgrade;
use crate::state::{CentrifugoConn, ConnCommand, Shared};
use crate::stats::MAX_RECORDED_FRAMES;
use crate::ws::{self, End, Endpoint, Registration, Ws};

/// A connection that sends no connect command within this time is closed (3502 "stale").
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Most pushes buffered for a not-yet-connected client in batch mode.
const MAX_PENDING_PUSHES: usize = 1024;

/// Close code and reason sent when a connect command is rejected.
const CLOSE_REJECTED: u16 = 3500;
/// Close code for a malformed or unexpected command.
const CLOSE_BAD_REQUEST: u16 = 3501;
/// Close code for a client that never sent its connect command.
const CLOSE_STALE: u16 = 3502;
/// Close code when the simulator shuts down.
const CLOSE_SHUTDOWN: u16 = 3001;
/// Close code when a token used by the connection is expired by the test.
pub(crate) const CLOSE_TOKEN_EXPIRED: u16 = 3500;

/// A JSON string literal for `s`.
fn json_string(s: &str) -> String {
    Value::String(s.to_owned()).to_string()
}

/// The push of a status change:
/// `{"push":{"channel":"orders:<project>","pub":{"data":{"order_id":..,"status":".."},"offset":..}}}`.
pub(crate) fn push_message(project_id: i64, order_id: i64, status: &str, offset: u64) -> String {
    format!(
        r#"{{"push":{{"channel":"orders:{project_id}","pub":{{"data":{{"order_id":{order_id},"status":{}}},"offset":{offset}}}}}}}"#,
        json_string(status)
    )
}

/// The successful connect reply. `ping` and `pong` are left out when pings are disabled.
///
/// `subs` lists the connection's server-side subscription to the project's channel (the channel
/// of [`push_message`]), as Centrifugo does: its official clients (centrifuge-js,
/// centrifuge-python) only deliver publications of a channel listed there.
fn connect_reply(id: &Value, client: &str, ping_secs: u32, project_id: i64) -> String {
    let ping = if ping_secs > 0 {
        format!(r#","ping":{ping_secs},"pong":true"#)
    } else {
        String::new()
    };
    format!(
        r#"{{"id":{id},"connect":{{"client":{},"version":"xo-sim","subs":{{"orders:{project_id}":{{}}}}{ping}}}}}"#,
        json_string(client)
    )
}

/// An error reply `{"id":..,"error":{"code":..,"message":"..","temporary":..}}`.
fn error_reply(id: &Value, code: u32, message: &str, temporary: bool) -> String {
    format!(
        r#"{{"id":{id},"error":{{"code":{code},"message":{},"temporary":{temporary}}}}}"#,
        json_string(message)
    )
}

/// Serves one Centrifugo upgrade request, then the connection, until it ends.
pub(crate) async fn serve(shared: Arc<Shared>, upgrade: Upgrade) {
    let explicit = shared.lock().faults.take_centrifugo_handshake();
    let (index, chaos) = match &shared.chaos {
        Some(c) => c.upgrade(Endpoint::Centrifugo),
        None => (0, None),
    };
    if chaos.is_some() && explicit.is_none() {
        shared.stats_mut(|s| s.chaos_faults += 1);
    }
    if let Some(fault) = explicit.or(chaos) {
        shared.stats_mut(|s| s.centrifugo_handshakes_failed += 1);
        match fault {
            HandshakeFault::Refuse => ws::refuse(upgrade.stream).await,
            HandshakeFault::Garbage => ws::garbage(upgrade.stream).await,
        }
        return;
    }
    let Some(socket) = ws::accept(&shared, upgrade).await else {
        return;
    };
    let (tx, rx) = mpsc::unbounded_channel();
    let id = {
        let mut state = shared.lock();
        let id = state.conn_id();
        state
            .centrifugo
            .insert(id, CentrifugoConn { tx, token: None });
        id
    };
    shared.stats_mut(|s| {
        s.centrifugo_connects += 1;
        s.centrifugo_live += 1;
    });
    let _registration = Registration {
        shared: Arc::clone(&shared),
        id,
        endpoint: Endpoint::Centrifugo,
    };
    ws::spawn_plan(&shared, Endpoint::Centrifugo, id, index);
    let mut conn = Connection {
        shared: &shared,
        id,
        socket,
        commands: rx,
        connected: false,
        pending: Vec::new(),
        ping: None,
        pushes: 0,
    };
    let end = conn.run().await;
    ws::finish(conn.socket, end).await;
}

/// What woke the connection task.
enum Event {
    Incoming(Option<Result<Message, tungstenite::Error>>),
    Command(Option<ConnCommand>),
    Stop,
    ConnectTimeout,
    Ping,
}

/// One live Centrifugo connection.
struct Connection<'a> {
    shared: &'a Shared,
    id: u64,
    socket: Ws,
    commands: mpsc::UnboundedReceiver<ConnCommand>,
    /// Whether a connect command was accepted.
    connected: bool,
    /// Pushes received before the connect command (delivered with the reply in batch mode).
    pending: Vec<String>,
    ping: Option<Interval>,
    /// Pushes sent so far (chaos mode draws which go in binary frames).
    pushes: u64,
}

/// Waits for the next tick of an optional interval (forever if there is none).
async fn tick(ping: &mut Option<Interval>) {
    match ping {
        Some(interval) => {
            interval.tick().await;
        }
        None => std::future::pending().await,
    }
}

impl Connection<'_> {
    /// Runs the connection until it has to end.
    async fn run(&mut self) -> End {
        let connect_deadline = tokio::time::sleep(CONNECT_TIMEOUT);
        tokio::pin!(connect_deadline);
        loop {
            // Biased: data that has already arrived wins over a timer firing at the same instant.
            let event = tokio::select! {
                biased;
                message = futures_util::StreamExt::next(&mut self.socket) => Event::Incoming(message),
                command = self.commands.recv() => Event::Command(command),
                () = self.shared.lifecycle.stopped() => Event::Stop,
                () = &mut connect_deadline, if !self.connected => Event::ConnectTimeout,
                () = tick(&mut self.ping) => Event::Ping,
            };
            let outcome = match event {
                Event::Incoming(message) => self.on_incoming(message).await,
                Event::Command(Some(command)) => self.on_command(command).await,
                // The registry entry (holding the sender) outlives this task, so this is unreachable
                // in practice; end quietly if it happens.
                Event::Command(None) => Err(End::Gone),
                Event::Stop => Err(End::Close(CLOSE_SHUTDOWN, "shutdown".to_owned())),
                Event::ConnectTimeout => Err(End::Close(CLOSE_STALE, "stale".to_owned())),
                Event::Ping => self.on_ping().await,
            };
            if let Err(end) = outcome {
                return end;
            }
        }
    }

    fn silent(&self) -> bool {
        self.shared.lock().faults.centrifugo_silent
    }

    fn batch(&self) -> bool {
        self.shared.lock().faults.centrifugo_batch
    }

    async fn send(&mut self, text: String) -> Result<(), End> {
        if ws::send_text(&mut self.socket, text).await {
            Ok(())
        } else {
            Err(End::Gone)
        }
    }

    async fn on_incoming(
        &mut self,
        message: Option<Result<Message, tungstenite::Error>>,
    ) -> Result<(), End> {
        match message {
            Some(Err(tungstenite::Error::Capacity(_))) => Err(ws::too_big()),
            None | Some(Err(_)) => Err(End::Gone),
            Some(Ok(Message::Text(text))) => self.on_text(text.as_str()).await,
            Some(Ok(Message::Binary(bytes))) => match std::str::from_utf8(&bytes) {
                Ok(text) => {
                    let text = text.to_owned();
                    self.on_text(&text).await
                }
                Err(_) => Err(bad_request()),
            },
            Some(Ok(Message::Close(_))) => Err(End::PeerClosed),
            Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => Ok(()),
        }
    }

    /// Handles one frame: one or more JSON commands separated by `\n`.
    async fn on_text(&mut self, text: &str) -> Result<(), End> {
        self.shared.stats_mut(|s| {
            if s.centrifugo_frames_received.len() < MAX_RECORDED_FRAMES {
                s.centrifugo_frames_received.push(text.to_owned());
            }
        });
        for line in text.split('\n').map(str::trim).filter(|l| !l.is_empty()) {
            let Ok(Value::Object(command)) = serde_json::from_str::<Value>(line) else {
                return Err(bad_request());
            };
            self.on_command_json(command).await?;
        }
        Ok(())
    }

    async fn on_command_json(&mut self, command: Map<String, Value>) -> Result<(), End> {
        if command.is_empty() {
            self.shared.stats_mut(|s| s.pongs_received += 1);
            return Ok(());
        }
        if command.contains_key("connect") {
            if self.connected {
                return Err(bad_request());
            }
            return self.on_connect(Value::Object(command)).await;
        }
        if !self.connected {
            return Err(bad_request());
        }
        // Other commands: answer a ping command, refuse anything else with "method not found".
        let Some(id) = command.get("id").filter(|id| is_command_id(id)) else {
            return Ok(());
        };
        if self.silent() {
            return Ok(());
        }
        let reply = if command.contains_key("ping") {
            format!(r#"{{"id":{id},"ping":{{}}}}"#)
        } else {
            error_reply(id, 104, "method not found", false)
        };
        self.send(reply).await
    }

    async fn on_connect(&mut self, command: Value) -> Result<(), End> {
        self.shared
            .stats_mut(|s| s.centrifugo_connect_commands.push(command.clone()));
        let Some(id) = command.get("id").filter(|id| is_command_id(id)) else {
            return Err(bad_request());
        };
        let data = command.get("connect").and_then(|c| c.get("data"));
        let token = data
            .and_then(|d| d.get("auth"))
            .and_then(Value::as_str)
            .unwrap_or_default();
        let project_id = data
            .and_then(|d| d.get("project_id"))
            .and_then(Value::as_i64);
        let (rejection, silent, batch) = {
            let mut state = self.shared.lock();
            let chaos = match &self.shared.chaos {
                Some(c) if !token.is_empty() => c.connect(token),
                _ => None,
            };
            let rejection = if let Some(r) = state.faults.take_connect_rejection() {
                Some(r)
            } else if let Some(r) = chaos {
                self.shared.stats_mut(|s| s.chaos_faults += 1);
                Some(r)
            } else if token.is_empty() {
                Some(server_error(101, "unauthorized"))
            } else if project_id != Some(self.shared.config.project_id) {
                Some(server_error(103, "permission denied"))
            } else if state.expired_tokens.contains(token) {
                Some(server_error(109, "token expired"))
            } else {
                // Record the token under the same lock as the expiry check, so that a
                // concurrent `expire_token` either rejects this connect or closes the connection.
                if let Some(conn) = state.centrifugo.get_mut(&self.id) {
                    conn.token = Some(token.to_owned());
                }
                None
            };
            (
                rejection,
                state.faults.centrifugo_silent,
                state.faults.centrifugo_batch,
            )
        };
        if let Some(r) = rejection {
            if !silent {
                self.send(error_reply(id, r.code, &r.message, r.temporary))
                    .await?;
            }
            return Err(End::Close(CLOSE_REJECTED, r.message));
        }
        self.connected = true;
        self.shared
            .stats_mut(|s| s.centrifugo_connects_accepted += 1);
        let ping_secs = self.shared.config.ping_interval_secs;
        if ping_secs > 0 {
            let period = Duration::from_secs(u64::from(ping_secs));
            let mut interval = tokio::time::interval_at(Instant::now() + period, period);
            interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
            self.ping = Some(interval);
        }
        let pending = std::mem::take(&mut self.pending);
        if silent {
            return Ok(());
        }
        let client = format!("00000000-0000-4000-8000-{:012x}", self.id);
        let mut frame = connect_reply(id, &client, ping_secs, self.shared.config.project_id);
        let mut batched = 0;
        if batch {
            for push in pending {
                frame.push('\n');
                frame.push_str(&push);
                batched += 1;
            }
        }
        self.send(frame).await?;
        if batched > 0 {
            self.shared.stats_mut(|s| s.pushes_sent += batched);
        }
        if let Some(replay) = self.chaos_replay() {
            self.send(replay).await?;
            self.shared.stats_mut(|s| s.chaos_faults += 1);
        }
        Ok(())
    }

    /// Chaos mode: the current status of every pushed order again, in one `\n`-batched frame,
    /// right after the connect reply (duplicates a correct client must absorb; they also make
    /// up for pushes lost while the connection was down).
    fn chaos_replay(&self) -> Option<String> {
        let chaos = self.shared.chaos.as_ref()?;
        let state = self.shared.lock();
        let offset = state.channel_offset;
        let mut orders: Vec<_> = state.orders.iter().filter(|(_, o)| o.push).collect();
        orders.sort_by_key(|(id, _)| **id);
        let pushes: Vec<String> = orders
            .into_iter()
            .map(|(id, o)| {
                let status = chaos.push_status(*id, offset, &o.status);
                push_message(self.shared.config.project_id, *id, &status, offset)
            })
            .collect();
        (!pushes.is_empty()).then(|| pushes.join("\n"))
    }

    async fn on_command(&mut self, command: ConnCommand) -> Result<(), End> {
        match command {
            ConnCommand::Push(push) => {
                if !self.connected {
                    if self.batch() && self.pending.len() < MAX_PENDING_PUSHES {
                        self.pending.push(push);
                    }
                    return Ok(());
                }
                if self.silent() {
                    return Ok(());
                }
                if self.batch() {
                    self.send(format!("{{}}\n{push}")).await?;
                    self.shared.stats_mut(|s| {
                        s.pings_sent += 1;
                        s.pushes_sent += 1;
                    });
                } else {
                    let n = self.pushes;
                    let binary =
                        (self.shared.chaos.as_ref()).is_some_and(|c| c.push_binary(self.id, n));
                    if binary {
                        if !ws::send_binary(&mut self.socket, push).await {
                            return Err(End::Gone);
                        }
                        self.shared.stats_mut(|s| s.chaos_faults += 1);
                    } else {
                        self.send(push).await?;
                    }
                    self.shared.stats_mut(|s| s.pushes_sent += 1);
                }
                self.pushes += 1;
                Ok(())
            }
            ConnCommand::Raw(text) => self.send(text).await,
            ConnCommand::Binary(bytes) => {
                if ws::send_binary(&mut self.socket, bytes).await {
                    Ok(())
                } else {
                    Err(End::Gone)
                }
            }
            ConnCommand::Close(code, reason) => Err(End::Close(code, reason)),
            ConnCommand::Reset => Err(End::Reset),
        }
    }

    async fn on_ping(&mut self) -> Result<(), End> {
        if self.silent() {
            return Ok(());
        }
        self.send("{}".to_owned()).await?;
        self.shared.stats_mut(|s| s.pings_sent += 1);
        Ok(())
    }
}

/// A positive integer command id.
fn is_command_id(id: &Value) -> bool {
    id.as_u64().is_some_and(|n| n > 0)
}

fn server_error(code: u32, message: &str) -> ConnectRejection {
    ConnectRejection {
        code,
        message: message.to_owned(),
        temporary: false,
    }
}

fn bad_request() -> End {
    End::Close(CLOSE_BAD_REQUEST, "bad request".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(text: &str) -> Value {
        serde_json::from_str(text).expect("valid JSON")
    }

    #[test]
    fn messages_are_valid_json_with_escaped_strings() {
        let _watchdog = crate::test_watchdog::arm();
        assert_eq!(
            parse(&push_message(7, 42, "pa\"id", 3)),
            json!({"push":{"channel":"orders:7","pub":{"data":{"order_id":42,"status":"pa\"id"},"offset":3}}})
        );
        assert_eq!(
            parse(&connect_reply(&json!(5), "c", 25, 7)),
            json!({"id":5,"connect":{"client":"c","version":"xo-sim","subs":{"orders:7":{}},"ping":25,"pong":true}})
        );
        assert_eq!(
            parse(&connect_reply(&json!(5), "c", 0, 7)),
            json!({"id":5,"connect":{"client":"c","version":"xo-sim","subs":{"orders:7":{}}}})
        );
        assert_eq!(
            parse(&error_reply(&json!(1), 109, "token \"expired\"", false)),
            json!({"id":1,"error":{"code":109,"message":"token \"expired\"","temporary":false}})
        );
    }
}
