//! WebSocket plumbing shared by the Centrifugo and legacy endpoints: the server side of the
//! handshake, the handshake faults, clean closes, resets, and the live-connection registry guard.

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::frame::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use crate::http::Upgrade;
use crate::state::Shared;

/// A server-side WebSocket over a plain loopback TCP stream.
pub(crate) type Ws = WebSocketStream<TcpStream>;

/// How long a clean close waits for the client's close frame before dropping the stream.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(1);

/// Bytes that are not HTTP (a TLS alert record followed by junk), for
/// `centrifugo_garbage_handshake`.
const GARBAGE: &[u8] =
    b"\x15\x03\x01\x00\x02\x02\x28\x00\xff\xfe garbage, not an HTTP response \x00\x01\r\n\r\n";

/// Completes the upgrade: writes the `101 Switching Protocols` response and wraps the stream,
/// keeping any bytes that were read past the request head. `None` if the client went away.
pub(crate) async fn accept(shared: &Shared, upgrade: Upgrade) -> Option<Ws> {
    let Upgrade {
        mut stream,
        leftover,
        request,
    } = upgrade;
    let key = request.header("sec-websocket-key")?.trim();
    let response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n\r\n",
        derive_accept_key(key.as_bytes())
    );
    stream.write_all(response.as_bytes()).await.ok()?;
    stream.flush().await.ok()?;
    Some(
        WebSocketStream::from_partially_read(stream, leftover, Role::Server, Some(config(shared)))
            .await,
    )
}

/// WebSocket limits: a small read buffer (frames are small JSON), and `max_frame_bytes` if set.
fn config(shared: &Shared) -> WebSocketConfig {
    let config = WebSocketConfig::default().read_buffer_size(8 * 1024);
    match shared.config.max_frame_bytes {
        Some(max) => config.max_frame_size(Some(max)).max_message_size(Some(max)),
        None => config,
    }
}

/// Answers an upgrade request with `503 Service Unavailable` and closes the connection.
pub(crate) async fn refuse(mut stream: TcpStream) {
    let body = r#"{"statusCode":503,"errorCode":0,"errorMessage":"Service Unavailable"}"#;
    let response = format!(
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// Answers an upgrade request with bytes that are not HTTP and closes the connection.
pub(crate) async fn garbage(mut stream: TcpStream) {
    let _ = stream.write_all(GARBAGE).await;
    let _ = stream.shutdown().await;
}

/// Sends one text frame. `false` if the connection is gone.
pub(crate) async fn send_text(ws: &mut Ws, text: String) -> bool {
    ws.send(Message::text(text)).await.is_ok()
}

/// Sends one binary frame. `false` if the connection is gone.
pub(crate) async fn send_binary(ws: &mut Ws, bytes: String) -> bool {
    ws.send(Message::binary(bytes.into_bytes())).await.is_ok()
}

/// Runs a chaos plan for connection `id` of `endpoint`: each step is sent to the connection at
/// its time (from the connection's start), until the connection or the simulator ends.
pub(crate) fn spawn_plan(shared: &Arc<Shared>, endpoint: Endpoint, id: u64, index: u64) {
    let Some(chaos) = &shared.chaos else { return };
    let plan = chaos.plan(endpoint, index);
    if plan.is_empty() {
        return;
    }
    let task_shared = Arc::clone(shared);
    shared.lifecycle.spawn(async move {
        let start = tokio::time::Instant::now();
        let steps = async {
            for (at, step) in plan {
                tokio::time::sleep_until(start + at).await;
                let state = task_shared.lock();
                let sent = match endpoint {
                    Endpoint::Centrifugo => state
                        .centrifugo
                        .get(&id)
                        .map(|c| c.tx.send(crate::chaos::command(step, c.token.as_deref()))),
                    Endpoint::Legacy => state
                        .legacy
                        .get(&id)
                        .map(|c| c.tx.send(crate::chaos::command(step, None))),
                };
                drop(state);
                if !matches!(sent, Some(Ok(()))) {
                    return;
                }
                task_shared.stats_mut(|s| s.chaos_faults += 1);
            }
        };
        tokio::select! {
            () = steps => {}
            () = task_shared.lifecycle.stopped() => {}
        }
    });
}

/// How a socket session ends.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum End {
    /// The server closes cleanly with this code and reason.
    Close(u16, String),
    /// The server resets the TCP connection (RST, no close frame).
    Reset,
    /// The client sent a close frame; the automatic reply still has to be flushed.
    PeerClosed,
    /// The connection failed or ended without a close frame.
    Gone,
}

/// Longest close reason a close frame can carry (125-byte control payload minus the code).
const MAX_CLOSE_REASON: usize = 123;

/// Cuts `s` to at most `max` bytes at a character boundary.
fn truncate(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut cut = max;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
    }
    s
}

/// The end of a connection whose client sent a frame or message over `max_frame_bytes`:
/// close 1009 "message too big".
pub(crate) fn too_big() -> End {
    End::Close(1009, "message too big".to_owned())
}

/// Ends a socket session as `end` says.
pub(crate) async fn finish(mut ws: Ws, end: End) {
    match end {
        End::Close(code, reason) => {
            let frame = CloseFrame {
                code: code.into(),
                reason: truncate(reason, MAX_CLOSE_REASON).into(),
            };
            let _ = tokio::time::timeout(CLOSE_TIMEOUT, async {
                if ws.close(Some(frame)).await.is_ok() {
                    // Read until the client's close frame completes the handshake.
                    while let Some(Ok(_)) = ws.next().await {}
                }
            })
            .await;
        }
        End::PeerClosed => {
            // Polling again flushes the close reply queued by tungstenite.
            let _ = tokio::time::timeout(CLOSE_TIMEOUT, async {
                while let Some(Ok(_)) = ws.next().await {}
            })
            .await;
        }
        End::Reset => {
            // SO_LINGER 0: dropping the socket sends RST instead of FIN.
            let _ = ws.get_ref().set_zero_linger();
        }
        End::Gone => {}
    }
}

/// Which registry a live connection is in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Endpoint {
    Centrifugo,
    Legacy,
}

/// Removes a connection from its registry and decrements its live gauge when dropped.
#[derive(Debug)]
pub(crate) struct Registration {
    pub shared: Arc<Shared>,
    pub id: u64,
    pub endpoint: Endpoint,
}

impl Drop for Registration {
    fn drop(&mut self) {
        {
            let mut state = self.shared.lock();
            match self.endpoint {
                Endpoint::Centrifugo => {
                    state.centrifugo.remove(&self.id);
                }
                Endpoint::Legacy => {
                    state.legacy.remove(&self.id);
                }
            }
        }
        self.shared.stats_mut(|s| match self.endpoint {
            Endpoint::Centrifugo => s.centrifugo_live = s.centrifugo_live.saturating_sub(1),
            Endpoint::Legacy => s.legacy_live = s.legacy_live.saturating_sub(1),
        });
    }
}
