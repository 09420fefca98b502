//! Xsolla's "Get order" HTTP request, for polling and one-shot checks.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::config::Config;
use crate::contents::normalize_contents;
use crate::events::{ErrorInfo, ErrorKind, Status};
use crate::limits;
use crate::net::proxy::redact;
use crate::net::Network;
use crate::secret::Token;

/// Largest response body read; anything longer is refused.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// What one successful request says about an order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderSnapshot {
    /// The order's status.
    pub status: Status,
    /// The order's `content` object as normalized JSON, if the body had one.
    pub contents: Option<String>,
}

/// Why a request failed, sorted by what the tracker should do about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ApiError {
    /// Retry later (connect error, timeout, 5xx, 429, unreadable body); `retry_after` from the server.
    Transient {
        info: ErrorInfo,
        retry_after: Option<Duration>,
    },
    /// 401: the token was refused.
    Unauthorized(ErrorInfo),
    /// 404: no such order.
    NotFound(ErrorInfo),
    /// Any other answer that retrying will not change (400, 403, 422...).
    Fatal(ErrorInfo),
}

impl ApiError {
    /// The error details.
    pub fn info(&self) -> &ErrorInfo {
        match self {
            ApiError::Transient { info, .. } => info,
            ApiError::Unauthorized(i) | ApiError::NotFound(i) | ApiError::Fatal(i) => i,
        }
    }
}

/// At most this many order requests are in flight at once: trackers started together would
/// otherwise open a connection each and throw most of them away (HTTP/1.1 has one request per
/// connection at a time). Sized to the idle pool, so every connection is reused.
pub(crate) const MAX_CONCURRENT_REQUESTS: usize = 8;

/// The longest a request waits for one of the [`MAX_CONCURRENT_REQUESTS`] turns before it goes
/// without one.
pub(crate) const TURN_WAIT: Duration = Duration::from_millis(100);

/// An HTTP client for one project's order endpoint. Cheap to clone.
#[derive(Clone)]
pub struct ApiClient {
    http: reqwest::Client,
    base: Arc<str>,
    project_id: i64,
    in_flight: Arc<tokio::sync::Semaphore>,
}

impl ApiClient {
    /// Builds the client: bounded timeouts, a small idle pool, no redirects, the shared TLS
    /// configuration and resolver, and the same proxy choice as the sockets (an explicit
    /// `proxy_url`; else the environment and system settings, which reqwest reads itself; none
    /// in loopback test mode).
    pub fn new(config: &Config, net: &Network) -> Result<ApiClient, String> {
        let http = http_client(config, net, MAX_CONCURRENT_REQUESTS)?;
        Ok(ApiClient {
            http,
            base: config.api_base_url.trim_end_matches('/').into(),
            project_id: config.project_id,
            in_flight: Arc::new(tokio::sync::Semaphore::new(MAX_CONCURRENT_REQUESTS)),
        })
    }

    /// `GET {base}/v2/project/{project}/order/{order}` with the token as bearer.
    pub async fn get_order(&self, order_id: i64, token: &Token) -> Result<OrderSnapshot, ApiError> {
        let url = format!(
            "{}/v2/project/{}/order/{}",
            self.base, self.project_id, order_id
        );
        // Wait briefly for a turn, then go anyway: stalled requests elsewhere must not delay a
        // healthy order by more than this (the limit exists to reuse connections, not to queue).
        let _turn = tokio::time::timeout(TURN_WAIT, self.in_flight.acquire())
            .await
            .ok()
            .and_then(Result::ok);
        let response = self
            .http
            .get(&url)
            .bearer_auth(token.expose())
            .header("Accept", "application/json")
            .send()
            .await
            .map_err(|e| transient(request_error_kind(&e), 0, describe_request_error(&e), None))?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(limits::parse_retry_after);
        let body = read_body(response).await?;
        // Error bodies come from the server: one that echoes the token must not leak it.
        classify_for(order_id, status, &body, retry_after, Some(token))
    }
}

/// The library's HTTP client settings, shared by every client it builds (Get order, Events API):
/// the network's trust and resolver, the proxy, bounded timeouts, no redirects.
pub(crate) fn http_client(
    config: &Config,
    net: &Network,
    idle_per_host: usize,
) -> Result<reqwest::Client, String> {
    let timeout = config.timing.request_timeout;
    let mut builder = reqwest::Client::builder()
        .tls_backend_preconfigured((**net.tls()).clone())
        .dns_resolver(Arc::new(net.resolver().clone()))
        .connect_timeout(timeout)
        .timeout(timeout)
        .pool_max_idle_per_host(idle_per_host)
        .pool_idle_timeout(Duration::from_secs(50))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("xo-tracker/", env!("CARGO_PKG_VERSION")));
    match &config.proxy_url {
        Some(url) => {
            // reqwest's errors quote the URL: say only that it was refused, never the text.
            let proxy = reqwest::Proxy::all(url.as_str())
                .map_err(|_| format!("proxy_url is not usable: {}", redact(url)))?;
            builder = builder.proxy(proxy);
        }
        None if config.allow_insecure_loopback => builder = builder.no_proxy(),
        None => {}
    }
    builder
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))
}

fn transient(
    kind: ErrorKind,
    http_status: u16,
    message: String,
    retry_after: Option<Duration>,
) -> ApiError {
    ApiError::Transient {
        info: ErrorInfo {
            kind,
            http_status,
            message,
        },
        retry_after,
    }
}

fn request_error_kind(e: &reqwest::Error) -> ErrorKind {
    if e.is_timeout() {
        ErrorKind::Timeout
    } else {
        ErrorKind::Network
    }
}

/// The error chain (with the URL, which holds no secret; never the headers, which hold the token).
fn describe_request_error(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    format!("order request failed: {text}")
}

/// Why a capped body read stopped.
pub(crate) enum BodyError {
    /// The body is longer than the cap (the rest is not read).
    TooLarge,
    /// Reading it failed.
    Read(reqwest::Error),
}

/// Reads a response body of at most `max` bytes, refusing a longer one as soon as it shows.
pub(crate) async fn read_capped(
    mut response: reqwest::Response,
    max: usize,
) -> Result<Vec<u8>, BodyError> {
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > max {
                    return Err(BodyError::TooLarge);
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(e) => return Err(BodyError::Read(e)),
        }
    }
}

async fn read_body(response: reqwest::Response) -> Result<Vec<u8>, ApiError> {
    let status = response.status().as_u16();
    read_capped(response, MAX_BODY_BYTES)
        .await
        .map_err(|e| match e {
            BodyError::TooLarge => transient(
                ErrorKind::Protocol,
                status,
                format!("order response body is larger than {MAX_BODY_BYTES} bytes"),
                None,
            ),
            BodyError::Read(e) => {
                transient(request_error_kind(&e), 0, describe_request_error(&e), None)
            }
        })
}

/// Turns an HTTP answer into a snapshot or a classified error.
pub fn classify(
    order_id: i64,
    status: u16,
    body: &[u8],
    retry_after: Option<Duration>,
) -> Result<OrderSnapshot, ApiError> {
    classify_for(order_id, status, body, retry_after, None)
}

/// [`classify`], with the token whose pieces are redacted from quoted server text.
pub fn classify_for(
    order_id: i64,
    status: u16,
    body: &[u8],
    retry_after: Option<Duration>,
    token: Option<&Token>,
) -> Result<OrderSnapshot, ApiError> {
    let retry_after = retry_after.map(|d| d.min(limits::MAX_RETRY_AFTER));
    let info = |kind, what: &str| ErrorInfo {
        kind,
        http_status: status,
        message: error_message(status, body, what, token),
    };
    match status {
        200 => {
            parse_order(order_id, body).map_err(|m| transient(ErrorKind::Protocol, 200, m, None))
        }
        401 => Err(ApiError::Unauthorized(info(
            ErrorKind::Unauthorized,
            "token refused",
        ))),
        404 => Err(ApiError::NotFound(info(
            ErrorKind::NotFound,
            "order not found",
        ))),
        429 => Err(ApiError::Transient {
            info: info(ErrorKind::RateLimited, "rate limited"),
            retry_after,
        }),
        408 | 500..=599 => Err(ApiError::Transient {
            info: info(ErrorKind::Http, "server error"),
            retry_after,
        }),
        _ => Err(ApiError::Fatal(info(ErrorKind::Http, "unexpected answer"))),
    }
}

/// `HTTP <status>: <errorMessage>` from Xsolla's error body (redacted, then cut), or a generic text.
fn error_message(status: u16, body: &[u8], what: &str, token: Option<&Token>) -> String {
    let detail = serde_json::from_slice::<Value>(body).ok().and_then(|v| {
        v.get("errorMessage")
            .and_then(Value::as_str)
            .map(|s| limits::quote(s, token))
    });
    match detail {
        Some(d) => format!("HTTP {status}: {d}"),
        None => format!("HTTP {status}: {what}"),
    }
}

/// Parses a 200 body: `{"order_id":..,"status":"..","content":{..}}`.
pub fn parse_order(order_id: i64, body: &[u8]) -> Result<OrderSnapshot, String> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| format!("order response is not JSON: {e}"))?;
    let status = value
        .get("status")
        .and_then(Value::as_str)
        .ok_or_else(|| "order response has no status".to_owned())?;
    if let Some(id) = value.get("order_id") {
        let same =
            id.as_i64() == Some(order_id) || id.as_str() == Some(order_id.to_string().as_str());
        if !same {
            return Err(format!("order response is for order {id}, not {order_id}"));
        }
    }
    let contents = value
        .get("content")
        .filter(|c| c.is_object())
        .map(normalize_contents);
    Ok(OrderSnapshot {
        status: Status::parse(status),
        contents,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_xsolla_success_body() {
        let _watchdog = crate::test_watchdog::arm();
        let body = br#"{"order_id":1,"status":"paid","content":{"price":{"amount":"30","amount_without_discount":"30","currency":"USD"},"virtual_price":null,"is_free":"false","items":[]}}"#;
        let snap = parse_order(1, body).unwrap();
        assert_eq!(snap.status, Status::Paid);
        let contents: Value = serde_json::from_str(snap.contents.as_deref().unwrap()).unwrap();
        assert_eq!(contents["is_free"], Value::Bool(false));
    }

    #[test]
    fn classifies_errors() {
        let _watchdog = crate::test_watchdog::arm();
        let not_found =
            br#"{"statusCode":404,"errorCode":9001,"errorMessage":"[0401-9001]: Order not found"}"#;
        match classify(1, 404, not_found, None) {
            Err(ApiError::NotFound(i)) => {
                assert_eq!(i.message, "HTTP 404: [0401-9001]: Order not found")
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            classify(1, 401, b"", None),
            Err(ApiError::Unauthorized(_))
        ));
        assert!(matches!(
            classify(1, 503, b"", None),
            Err(ApiError::Transient { .. })
        ));
        let limited = classify(1, 429, b"", Some(Duration::from_secs(7)));
        assert!(
            matches!(limited, Err(ApiError::Transient { retry_after: Some(d), .. }) if d.as_secs() == 7)
        );
        assert!(matches!(
            classify(1, 422, b"{}", None),
            Err(ApiError::Fatal(_))
        ));
        assert!(matches!(
            classify(1, 200, b"<html>", None),
            Err(ApiError::Transient { .. })
        ));
        assert!(matches!(
            classify(1, 200, br#"{"order_id":2,"status":"done"}"#, None),
            Err(ApiError::Transient { .. })
        ));
    }
}
