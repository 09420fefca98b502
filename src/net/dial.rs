//! Opening a TCP stream to a server: direct with Happy Eyeballs, through an HTTP CONNECT tunnel,
//! or through SOCKS5. Uses hyper-util's connectors, the ones reqwest uses for HTTP.

use std::future::poll_fn;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper_util::client::legacy::connect::proxy::{SocksV5, Tunnel};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tower_service::Service;

use super::proxy::{bracket, redact};
use super::resolve::Resolver;

/// The delay before the next address family is tried (RFC 8305's connection attempt delay).
pub const HAPPY_EYEBALLS_DELAY: Duration = Duration::from_millis(250);

/// A byte stream to the server (TCP, or TLS to an `https://` proxy with the tunnel inside).
pub trait Io: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Io for T {}

/// A connected stream, ready for TLS or the WebSocket handshake.
pub type NetStream = Box<dyn Io>;

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type BoxFuture<T> = Pin<Box<dyn std::future::Future<Output = T> + Send>>;

/// What `connect` needs: how to resolve, how to reach the proxy, how long to try.
#[derive(Clone)]
pub struct Dialer {
    /// Name resolution.
    pub resolver: Resolver,
    /// TLS for an `https://` proxy.
    pub tls: Arc<rustls::ClientConfig>,
    /// Limit for one TCP connect (split across addresses as hyper-util does).
    pub connect_timeout: Duration,
}

impl Dialer {
    fn tcp(&self) -> HttpConnector<Resolver> {
        let mut http = HttpConnector::new_with_resolver(self.resolver.clone());
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(self.connect_timeout));
        http.set_happy_eyeballs_timeout(Some(HAPPY_EYEBALLS_DELAY));
        http
    }

    /// Connects to `host:port` directly: resolves once, then races the address families.
    pub async fn direct(&self, host: &str, port: u16) -> Result<NetStream, String> {
        let uri = authority_uri("http", host, port)?;
        let mut tcp = self.tcp();
        let stream = call(&mut tcp, uri)
            .await
            .map_err(|e| format!("cannot connect to {}:{port}: {}", bracket(host), chain(&*e)))?;
        Ok(Box::new(stream.into_inner()))
    }

    /// Connects to `host:port` through `proxy` (its URI, without credentials; `basic` or `raw`
    /// carry them). `secure` says TLS runs inside (only used to pick the default port).
    pub async fn via_proxy(
        &self,
        proxy: &hyper_util::client::proxy::matcher::Intercept,
        host: &str,
        port: u16,
    ) -> Result<NetStream, String> {
        let proxy_uri = proxy.uri().clone();
        let shown = redact(&proxy_uri.to_string());
        let fail = |what: &str, e: &(dyn std::error::Error + 'static)| {
            format!(
                "cannot reach {}:{port} through proxy {shown}: {what}: {}",
                bracket(host),
                chain(e)
            )
        };
        match proxy_uri.scheme_str() {
            Some("http") | Some("https") => {
                let leg = ProxyLeg {
                    tcp: self.tcp(),
                    tls: self.tls.clone(),
                };
                let mut tunnel = Tunnel::new(proxy_uri.clone(), leg);
                if let Some(auth) = proxy.basic_auth() {
                    tunnel = tunnel.with_auth(auth.clone());
                }
                let dst = authority_uri("https", host, port)?;
                let stream = call(&mut tunnel, dst).await.map_err(|e| {
                    let text = fail("CONNECT failed", &*e);
                    if text.ends_with("unsuccessful") {
                        format!("{text} (the proxy answered CONNECT with an error status)")
                    } else {
                        text
                    }
                })?;
                Ok(stream.into_inner())
            }
            Some(scheme @ ("socks5" | "socks5h")) => {
                // socks5: resolve here (off the worker, bounded); socks5h: the proxy resolves.
                let target = if scheme == "socks5" {
                    let addrs = self
                        .resolver
                        .lookup(host, port)
                        .await
                        .map_err(|e| fail("cannot resolve for the SOCKS proxy", &e))?;
                    bracket(&addrs[0].ip().to_string())
                } else {
                    bracket(host)
                };
                let mut socks = SocksV5::new(proxy_uri.clone(), self.tcp()).local_dns(false);
                if let Some((user, pass)) = proxy.raw_auth() {
                    socks = socks.with_auth(user.to_owned(), pass.to_owned());
                }
                let dst = authority_uri("http", &target, port)?;
                let stream = call(&mut socks, dst)
                    .await
                    .map_err(|e| fail("SOCKS5 failed", &*e))?;
                Ok(Box::new(stream.into_inner()))
            }
            other => Err(format!(
                "proxy {shown} has an unsupported scheme {}",
                other.unwrap_or("(none)")
            )),
        }
    }
}

/// Polls a connector ready, then calls it.
async fn call<S>(service: &mut S, uri: http::Uri) -> Result<S::Response, BoxError>
where
    S: Service<http::Uri>,
    S::Error: Into<BoxError>,
{
    poll_fn(|cx| service.poll_ready(cx))
        .await
        .map_err(Into::into)?;
    service.call(uri).await.map_err(Into::into)
}

fn authority_uri(scheme: &str, host: &str, port: u16) -> Result<http::Uri, String> {
    format!("{scheme}://{}:{port}/", bracket(host))
        .parse()
        .map_err(|e| format!("cannot build a URI for {host}:{port}: {e}"))
}

/// `e: source: source...`, for messages (no part of it holds a credential: proxy URIs given to
/// the connectors carry none).
pub fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let next = s.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = s.source();
    }
    text
}

/// The first leg of an HTTP CONNECT tunnel: TCP to the proxy, plus TLS for an `https://` proxy.
#[derive(Clone)]
struct ProxyLeg {
    tcp: HttpConnector<Resolver>,
    tls: Arc<rustls::ClientConfig>,
}

impl Service<http::Uri> for ProxyLeg {
    type Response = TokioIo<NetStream>;
    type Error = BoxError;
    type Future = BoxFuture<Result<Self::Response, BoxError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.tcp.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, proxy: http::Uri) -> Self::Future {
        let connecting = self.tcp.call(proxy.clone());
        let tls = self.tls.clone();
        Box::pin(async move {
            let tcp = connecting.await?.into_inner();
            if proxy.scheme_str() != Some("https") {
                return Ok(TokioIo::new(Box::new(tcp) as NetStream));
            }
            let host = proxy.host().unwrap_or_default();
            let bare = host.trim_start_matches('[').trim_end_matches(']');
            let name = rustls::pki_types::ServerName::try_from(bare.to_owned())?;
            let stream = tokio_rustls::TlsConnector::from(tls)
                .connect(name, tcp)
                .await?;
            Ok(TokioIo::new(Box::new(stream) as NetStream))
        })
    }
}
