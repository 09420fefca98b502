//! Raw clients for the simulator tests: an HTTP/1.1 client on a bare `TcpStream` and a
//! tokio-tungstenite WebSocket client. They deliberately share nothing with the simulator.

#![allow(dead_code)] // Each test binary uses a different subset.

/// The wall-clock test watchdog (test infrastructure, shared with the library's tests).
#[path = "../../../tests/common/watchdog.rs"]
pub mod watchdog;

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

/// A generous bound for something that should happen "now" (tokio time: under a paused clock
/// it costs nothing, it only turns a hang into a failure).
pub const SOON: Duration = Duration::from_secs(60);

pub type Ws = WebSocketStream<TcpStream>;

/// A parsed HTTP response.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("response body is JSON")
    }
}

/// A keep-alive HTTP/1.1 client over one TCP connection.
pub struct HttpClient {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl HttpClient {
    pub async fn connect(addr: std::net::SocketAddr) -> HttpClient {
        HttpClient {
            stream: TcpStream::connect(addr).await.expect("connect"),
            buf: Vec::new(),
        }
    }

    /// Writes raw bytes.
    pub async fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.expect("write");
    }

    /// Sends one request; `None` if the server closed the connection without a response.
    pub async fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Option<HttpResponse> {
        let mut head = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n");
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        if !body.is_empty() || method == "POST" {
            head.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        head.push_str("\r\n");
        head.push_str(body);
        if self.stream.write_all(head.as_bytes()).await.is_err() {
            return None;
        }
        self.read_response().await
    }

    /// `GET` with an optional bearer token.
    pub async fn get(&mut self, path: &str, token: Option<&str>) -> Option<HttpResponse> {
        match token {
            Some(t) => {
                let auth = format!("Bearer {t}");
                self.request("GET", path, &[("Authorization", &auth)], "")
                    .await
            }
            None => self.request("GET", path, &[], "").await,
        }
    }

    /// Reads one response (`None` on end of stream before a complete one).
    pub async fn read_response(&mut self) -> Option<HttpResponse> {
        let head_end = loop {
            if let Some(i) = find(&self.buf, b"\r\n\r\n") {
                break i + 4;
            }
            if !self.fill().await {
                return None;
            }
        };
        let head = String::from_utf8_lossy(&self.buf[..head_end]).into_owned();
        let mut lines = head.split("\r\n");
        let status_line = lines.next()?;
        let status = status_line.split(' ').nth(1)?.parse().ok()?;
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
            .collect();
        let len = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.parse::<usize>().ok())
            .unwrap_or(0);
        while self.buf.len() < head_end + len {
            if !self.fill().await {
                return None;
            }
        }
        let body = String::from_utf8_lossy(&self.buf[head_end..head_end + len]).into_owned();
        self.buf.drain(..head_end + len);
        Some(HttpResponse {
            status,
            headers,
            body,
        })
    }

    /// Whether the server has closed the connection (reads to end of stream).
    pub async fn is_closed(&mut self) -> bool {
        let mut chunk = [0u8; 64];
        matches!(self.stream.read(&mut chunk).await, Ok(0) | Err(_))
    }

    async fn fill(&mut self) -> bool {
        let mut chunk = [0u8; 4096];
        match self.stream.read(&mut chunk).await {
            Ok(0) | Err(_) => false,
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                true
            }
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The Get-order path for a project and an order.
pub fn order_path(project_id: i64, order_id: i64) -> String {
    format!("/api/v2/project/{project_id}/order/{order_id}")
}

/// Opens a WebSocket to `url` (a `ws://127.0.0.1:PORT/...` URL).
pub async fn ws_connect(url: &str) -> Result<Ws, tokio_tungstenite::tungstenite::Error> {
    let authority = url
        .strip_prefix("ws://")
        .and_then(|rest| rest.split('/').next())
        .expect("ws:// URL");
    let stream = TcpStream::connect(authority).await?;
    tokio_tungstenite::client_async(url, stream)
        .await
        .map(|(ws, _response)| ws)
}

/// Sends one text frame.
pub async fn send(ws: &mut Ws, text: &str) {
    ws.send(Message::text(text)).await.expect("send");
}

/// What the next frame was.
#[derive(Debug, PartialEq)]
pub enum Frame {
    Text(String),
    Close(Option<(u16, String)>),
    /// End of stream or an error (e.g. a reset), no close frame.
    Broken,
}

/// The next non-control frame, within [`SOON`].
pub async fn next_frame(ws: &mut Ws) -> Frame {
    next_frame_within(ws, SOON)
        .await
        .expect("a frame within the time limit")
}

/// The next non-control frame, or `None` if nothing arrives within `limit` (tokio time).
pub async fn next_frame_within(ws: &mut Ws, limit: Duration) -> Option<Frame> {
    tokio::time::timeout(limit, async {
        loop {
            return match ws.next().await {
                Some(Ok(Message::Text(t))) => Frame::Text(t.as_str().to_owned()),
                Some(Ok(Message::Close(frame))) => {
                    Frame::Close(frame.map(|CloseFrame { code, reason }| {
                        (u16::from(code), reason.as_str().to_owned())
                    }))
                }
                Some(Ok(
                    Message::Binary(_) | Message::Ping(_) | Message::Pong(_) | Message::Frame(_),
                )) => continue,
                Some(Err(_)) | None => Frame::Broken,
            };
        }
    })
    .await
    .ok()
}

/// The next frame, which must be text.
pub async fn next_text(ws: &mut Ws) -> String {
    match next_frame(ws).await {
        Frame::Text(t) => t,
        other => panic!("expected a text frame, got {other:?}"),
    }
}

/// The next frame, which must be one JSON message.
pub async fn next_json(ws: &mut Ws) -> Value {
    let text = next_text(ws).await;
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// The next frame, which must be a close frame; returns (code, reason).
pub async fn next_close(ws: &mut Ws) -> (u16, String) {
    match next_frame(ws).await {
        Frame::Close(Some(frame)) => frame,
        other => panic!("expected a close frame, got {other:?}"),
    }
}

/// The Centrifugo connect command.
pub fn connect_command(id: u64, token: &str, project_id: i64) -> String {
    format!(r#"{{"connect":{{"data":{{"auth":"{token}","project_id":{project_id}}}}},"id":{id}}}"#)
}

/// Opens a Centrifugo connection, sends the connect command and returns it with the reply.
pub async fn centrifugo_connect(url: &str, token: &str, project_id: i64) -> (Ws, Value) {
    let mut ws = ws_connect(url).await.expect("upgrade");
    send(&mut ws, &connect_command(1, token, project_id)).await;
    let reply = next_json(&mut ws).await;
    (ws, reply)
}
