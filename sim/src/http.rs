//! A small HTTP/1.1 server: request heads and `Content-Length` bodies, keep-alive, routing to
//! the endpoints, and the hand-off of WebSocket upgrade requests to the socket endpoints.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::state::Shared;
use crate::{api, centrifugo, control, events_api, legacy};

/// Largest accepted request head (request line plus headers).
pub(crate) const MAX_HEAD_BYTES: usize = 16 * 1024;
/// Largest accepted request body.
pub(crate) const MAX_BODY_BYTES: usize = 1024 * 1024;
/// A connection that sends no complete request for this long is closed.
pub(crate) const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Most headers in one request.
const MAX_HEADERS: usize = 64;

/// Path of the Centrifugo endpoint.
pub(crate) const CENTRIFUGO_PATH: &str = "/connection/websocket";
/// Path of the legacy per-order socket endpoint.
pub(crate) const LEGACY_PATH: &str = "/sub/order/status";

/// A parsed request.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub method: String,
    pub path: String,
    /// The query string without the `?` (empty if none).
    pub query: String,
    pub keep_alive: bool,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    /// The first header with this name (case-insensitive).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The first query parameter with this name (no percent-decoding: ids only).
    pub(crate) fn query_param(&self, name: &str) -> Option<&str> {
        self.query
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v)
    }

    /// Whether this is a WebSocket upgrade request we can answer.
    pub(crate) fn is_websocket_upgrade(&self) -> bool {
        self.method == "GET"
            && self
                .header("upgrade")
                .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
            && self
                .header("sec-websocket-key")
                .is_some_and(|k| !k.trim().is_empty())
    }
}

/// A response to write.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Response {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// A JSON response.
    pub(crate) fn json(status: u16, body: impl Into<String>) -> Self {
        Response {
            status,
            headers: vec![("Content-Type", "application/json".to_owned())],
            body: body.into().into_bytes(),
        }
    }

    /// Adds a header.
    pub(crate) fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// The bytes on the wire.
    pub(crate) fn encode(&self, keep_alive: bool) -> Vec<u8> {
        let mut head = format!("HTTP/1.1 {} {}\r\n", self.status, reason(self.status));
        for (name, value) in &self.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str(&format!("Content-Length: {}\r\n", self.body.len()));
        head.push_str(if keep_alive {
            "Connection: keep-alive\r\n\r\n"
        } else {
            "Connection: close\r\n\r\n"
        });
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(&self.body);
        bytes
    }
}

/// The reason phrase of a status code.
pub(crate) fn reason(status: u16) -> &'static str {
    match status {
        101 => "Switching Protocols",
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        413 => "Payload Too Large",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Unknown",
    }
}

/// Why no request could be read.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// The peer closed the connection, or it failed.
    Closed,
    /// The request is unacceptable; answer this status, then close.
    Reject(u16),
}

impl From<io::Error> for ReadError {
    fn from(_: io::Error) -> Self {
        ReadError::Closed
    }
}

/// One server-side HTTP connection with its read buffer.
#[derive(Debug)]
pub(crate) struct HttpConn {
    stream: TcpStream,
    buf: Vec<u8>,
}

/// A WebSocket upgrade request handed to a socket endpoint, with the bytes already read past
/// the request head (normally none: a client waits for the 101).
#[derive(Debug)]
pub(crate) struct Upgrade {
    pub stream: TcpStream,
    pub leftover: Vec<u8>,
    pub request: Request,
}

/// Which socket endpoint an upgrade is for.
#[derive(Debug, Clone, Copy, PartialEq)]
enum SocketEndpoint {
    Centrifugo,
    Legacy { order_id: i64 },
}

impl HttpConn {
    fn new(stream: TcpStream) -> Self {
        HttpConn {
            stream,
            buf: Vec::new(),
        }
    }

    /// Reads one request (head and body). Bytes past it stay buffered for the next one.
    async fn read_request(&mut self) -> Result<Request, ReadError> {
        let (head_len, mut request, content_length) = loop {
            if let Some(parsed) = parse_head(&self.buf)? {
                break parsed;
            }
            if self.buf.len() >= MAX_HEAD_BYTES {
                return Err(ReadError::Reject(431));
            }
            self.fill().await?;
        };
        if content_length > MAX_BODY_BYTES {
            return Err(ReadError::Reject(413));
        }
        let expects_continue = request
            .header("expect")
            .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"));
        if expects_continue && self.buf.len() < head_len + content_length {
            self.stream
                .write_all(b"HTTP/1.1 100 Continue\r\n\r\n")
                .await?;
        }
        while self.buf.len() < head_len + content_length {
            self.fill().await?;
        }
        request.body = self.buf[head_len..head_len + content_length].to_vec();
        self.buf.drain(..head_len + content_length);
        Ok(request)
    }

    /// Reads more bytes into the buffer; end of stream is `Closed`.
    async fn fill(&mut self) -> Result<(), ReadError> {
        let mut chunk = [0u8; 4096];
        let n = self.stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(ReadError::Closed);
        }
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(())
    }

    async fn write_response(&mut self, response: &Response, keep_alive: bool) -> io::Result<()> {
        self.stream.write_all(&response.encode(keep_alive)).await?;
        self.stream.flush().await
    }

    fn into_upgrade(self, request: Request) -> Upgrade {
        Upgrade {
            stream: self.stream,
            leftover: self.buf,
            request,
        }
    }
}

/// Parses a complete request head at the start of `buf`: (head length, request without body,
/// content length). `Ok(None)` if more bytes are needed.
fn parse_head(buf: &[u8]) -> Result<Option<(usize, Request, usize)>, ReadError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Request::new(&mut headers);
    let head_len = match parsed.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => return Err(ReadError::Reject(431)),
        Err(_) => return Err(ReadError::Reject(400)),
    };
    let method = parsed.method.unwrap_or_default().to_owned();
    let target = parsed.path.unwrap_or_default();
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let minor_version = parsed.version.unwrap_or(1);
    let headers: Vec<(String, String)> = parsed
        .headers
        .iter()
        .map(|h| {
            (
                h.name.to_owned(),
                String::from_utf8_lossy(h.value).trim().to_owned(),
            )
        })
        .collect();
    let mut request = Request {
        method,
        path: path.to_owned(),
        query: query.to_owned(),
        keep_alive: false,
        headers,
        body: Vec::new(),
    };
    let connection_has = |token: &str| {
        request
            .header("connection")
            .is_some_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
    };
    request.keep_alive = if minor_version >= 1 {
        !connection_has("close")
    } else {
        connection_has("keep-alive")
    };
    if request.header("transfer-encoding").is_some() {
        return Err(ReadError::Reject(501));
    }
    let content_length = match request.header("content-length") {
        None => 0,
        Some(v) => v.parse::<usize>().map_err(|_| ReadError::Reject(400))?,
    };
    Ok(Some((head_len, request, content_length)))
}

/// Accepts connections until a stop is requested, then drops the listener.
pub(crate) async fn accept_loop(shared: Arc<Shared>, listener: TcpListener) {
    loop {
        let accepted = tokio::select! {
            biased;
            () = shared.lifecycle.stopped() => return,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, _peer)) => {
                let _ = stream.set_nodelay(true);
                let conn_shared = Arc::clone(&shared);
                shared
                    .lifecycle
                    .spawn(serve_connection(conn_shared, stream));
            }
            // Out of file descriptors and the like: back off a little instead of spinning.
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

/// Serves one TCP connection: HTTP requests until it closes, or a WebSocket session.
async fn serve_connection(shared: Arc<Shared>, stream: TcpStream) {
    let conn = HttpConn::new(stream);
    let upgrade = tokio::select! {
        biased;
        () = shared.lifecycle.stopped() => return,
        upgrade = serve_requests(&shared, conn) => upgrade,
    };
    // The socket endpoints watch the stop signal themselves, to close cleanly.
    if let Some((endpoint, upgrade)) = upgrade {
        match endpoint {
            SocketEndpoint::Centrifugo => centrifugo::serve(shared, upgrade).await,
            SocketEndpoint::Legacy { order_id } => legacy::serve(shared, upgrade, order_id).await,
        }
    }
}

/// Generic JSON error body for statuses without an Xsolla-specific one.
pub(crate) fn plain_error(status: u16) -> Response {
    Response::json(
        status,
        format!(
            r#"{{"statusCode":{status},"errorCode":0,"errorMessage":"{}"}}"#,
            reason(status)
        ),
    )
}

/// What to do with one request.
enum Action {
    Respond(Response),
    /// Answer, then ask the whole simulator to stop.
    RespondThenStop(Response),
    /// Close the connection without answering.
    Drop,
    Upgrade(SocketEndpoint),
}

/// Answers requests until the connection closes or is upgraded.
async fn serve_requests(
    shared: &Arc<Shared>,
    mut conn: HttpConn,
) -> Option<(SocketEndpoint, Upgrade)> {
    loop {
        let request = match tokio::time::timeout(IDLE_TIMEOUT, conn.read_request()).await {
            Err(_) | Ok(Err(ReadError::Closed)) => return None,
            Ok(Err(ReadError::Reject(status))) => {
                let _ = conn.write_response(&plain_error(status), false).await;
                return None;
            }
            Ok(Ok(request)) => request,
        };
        let keep_alive = request.keep_alive;
        match route(shared, &request).await {
            Action::Respond(response) => {
                if conn.write_response(&response, keep_alive).await.is_err() || !keep_alive {
                    return None;
                }
            }
            Action::RespondThenStop(response) => {
                let _ = conn.write_response(&response, false).await;
                shared.lifecycle.request_stop();
                return None;
            }
            Action::Drop => return None,
            Action::Upgrade(endpoint) => return Some((endpoint, conn.into_upgrade(request))),
        }
    }
}

/// Routes a request to its endpoint.
async fn route(shared: &Arc<Shared>, request: &Request) -> Action {
    let path = request.path.as_str();
    if path == CENTRIFUGO_PATH {
        return if request.is_websocket_upgrade() {
            Action::Upgrade(SocketEndpoint::Centrifugo)
        } else {
            Action::Respond(plain_error(400))
        };
    }
    if path == LEGACY_PATH {
        return match legacy::check_request(shared, request) {
            Ok(order_id) => Action::Upgrade(SocketEndpoint::Legacy { order_id }),
            Err(response) => Action::Respond(response),
        };
    }
    if let Some((project_id, order_id)) = api::parse_order_path(path) {
        return match api::get_order(shared, request, project_id, order_id).await {
            api::Outcome::Respond(response) => Action::Respond(response),
            api::Outcome::Drop => Action::Drop,
        };
    }
    if let Some(response) = events_api::route(shared, request).await {
        return Action::Respond(response);
    }
    if let Some(endpoint) = path.strip_prefix(control::PREFIX) {
        let (response, stop) = control::handle(shared, request, endpoint);
        return if stop {
            Action::RespondThenStop(response)
        } else {
            Action::Respond(response)
        };
    }
    Action::Respond(plain_error(404))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Option<(usize, Request, usize)>, ReadError> {
        parse_head(text.as_bytes())
    }

    #[test]
    fn parses_a_head_and_leaves_the_rest() {
        let _watchdog = crate::test_watchdog::arm();
        let text = "GET /a/b?x=1&y=2 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabcNEXT";
        let (len, req, body) = parse(text).expect("valid").expect("complete");
        assert_eq!(&text[len..], "abcNEXT");
        assert_eq!(body, 3);
        assert_eq!((req.method.as_str(), req.path.as_str()), ("GET", "/a/b"));
        assert_eq!(req.query_param("y"), Some("2"));
        assert_eq!(req.query_param("z"), None);
        assert_eq!(req.header("HOST"), Some("h"));
        assert!(req.keep_alive);
    }

    #[test]
    fn keep_alive_rules() {
        let _watchdog = crate::test_watchdog::arm();
        let close = parse("GET / HTTP/1.1\r\nConnection: Upgrade, close\r\n\r\n");
        assert!(!close.expect("valid").expect("complete").1.keep_alive);
        let old = parse("GET / HTTP/1.0\r\n\r\n");
        assert!(!old.expect("valid").expect("complete").1.keep_alive);
        let old_ka = parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        assert!(old_ka.expect("valid").expect("complete").1.keep_alive);
    }

    #[test]
    fn partial_and_rejected_heads() {
        let _watchdog = crate::test_watchdog::arm();
        assert!(matches!(parse("GET / HTTP/1.1\r\nHost:"), Ok(None)));
        assert!(matches!(
            parse("\x01\x02\r\n\r\n"),
            Err(ReadError::Reject(400))
        ));
        assert!(matches!(
            parse("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"),
            Err(ReadError::Reject(501))
        ));
        assert!(matches!(
            parse("POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n"),
            Err(ReadError::Reject(400))
        ));
        let many: String = (0..100).map(|i| format!("H{i}: v\r\n")).collect();
        assert!(matches!(
            parse(&format!("GET / HTTP/1.1\r\n{many}\r\n")),
            Err(ReadError::Reject(431))
        ));
    }

    #[test]
    fn responses_carry_length_and_connection() {
        let _watchdog = crate::test_watchdog::arm();
        let bytes = Response::json(429, "{}")
            .with_header("Retry-After", "3")
            .encode(true);
        let text = String::from_utf8(bytes).expect("utf-8");
        assert!(text.starts_with("HTTP/1.1 429 Too Many Requests\r\n"));
        assert!(text.contains("\r\nRetry-After: 3\r\n"));
        assert!(text.contains("\r\nContent-Length: 2\r\n"));
        assert!(text.ends_with("Connection: keep-alive\r\n\r\n{}"));
    }
}
