//! Opening a WebSocket with bounded buffers, frame sizes and time: the stream comes from
//! [`crate::net`] (resolve once, Happy Eyeballs, proxy tunnel), then TLS and the upgrade.

use std::time::Duration;

use tokio::time::timeout;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};

use crate::events::{ErrorInfo, ErrorKind};
use crate::net::{NetStream, Network};

/// A client WebSocket over TCP (directly or through a proxy), with or without TLS.
pub type WsStream = WebSocketStream<MaybeTlsStream<NetStream>>;

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

/// Opens `url` (TCP or a proxy tunnel, TLS for `wss://`, WebSocket upgrade) within `limit`.
pub async fn open(url: &str, net: &Network, limit: Duration) -> Result<WsStream, ErrorInfo> {
    let attempt = async {
        let parsed = url::Url::parse(url).map_err(|e| {
            ErrorInfo::new(ErrorKind::Network, format!("socket URL is invalid: {e}"))
        })?;
        let secure = parsed.scheme() == "wss";
        let host = match parsed.host() {
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
            Some(host) => host.to_string(),
            None => {
                return Err(ErrorInfo::new(
                    ErrorKind::Network,
                    "socket URL has no host".to_owned(),
                ))
            }
        };
        let port = parsed.port_or_known_default().unwrap_or(443);
        let stream = net.connect(&host, port, secure).await.map_err(|m| {
            ErrorInfo::new(ErrorKind::Network, format!("socket connect failed: {m}"))
        })?;
        let connector = Connector::Rustls(net.tls().clone());
        tokio_tungstenite::client_async_tls_with_config(
            url,
            stream,
            Some(socket_config()),
            Some(connector),
        )
        .await
        .map(|(ws, _response)| ws)
        .map_err(|e| error_info("socket connect failed", &e))
    };
    match timeout(limit, attempt).await {
        Ok(result) => result,
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
