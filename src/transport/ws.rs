//! Opening a WebSocket with bounded buffers, frame sizes and time.

use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};

use crate::events::{ErrorInfo, ErrorKind};

/// A client WebSocket over TCP, with or without TLS.
pub type WsStream = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// The largest frame or message accepted: status messages are tiny.
pub(crate) const MAX_MESSAGE_BYTES: usize = 64 * 1024;

/// Socket buffers for a connection that carries small JSON messages.
pub fn socket_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0)
        .max_write_buffer_size(MAX_MESSAGE_BYTES)
        .max_message_size(Some(MAX_MESSAGE_BYTES))
        .max_frame_size(Some(MAX_MESSAGE_BYTES))
}

/// Opens `url` (TCP, TLS for `wss://`, WebSocket upgrade) within `limit`.
pub async fn open(
    url: &str,
    tls: &Arc<rustls::ClientConfig>,
    limit: Duration,
) -> Result<WsStream, ErrorInfo> {
    let connector = Connector::Rustls(tls.clone());
    let attempt = tokio_tungstenite::connect_async_tls_with_config(
        url,
        Some(socket_config()),
        true,
        Some(connector),
    );
    match timeout(limit, attempt).await {
        Ok(Ok((ws, _response))) => Ok(ws),
        Ok(Err(e)) => Err(error_info("socket connect failed", &e)),
        Err(_) => Err(ErrorInfo::new(
            ErrorKind::Timeout,
            format!("socket connect took longer than {limit:?}"),
        )),
    }
}

/// Describes a WebSocket error (it never contains request headers).
pub fn error_info(context: &str, e: &tokio_tungstenite::tungstenite::Error) -> ErrorInfo {
    use tokio_tungstenite::tungstenite::Error;
    let http_status = match e {
        Error::Http(response) => response.status().as_u16(),
        _ => 0,
    };
    let kind = match e {
        Error::Capacity(_) | Error::Protocol(_) | Error::Utf8(_) => ErrorKind::Protocol,
        Error::Http(_) => ErrorKind::Http,
        _ => ErrorKind::Network,
    };
    ErrorInfo {
        kind,
        http_status,
        message: format!("{context}: {e}"),
    }
}
