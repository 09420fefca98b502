//! Reaching Xsolla from the networks players have: name resolution off the runtime's workers,
//! Happy Eyeballs dialing, HTTP CONNECT and SOCKS5 proxies, and the TLS trust in force. One
//! [`Network`] per library instance serves the HTTP client and every socket.

pub mod dial;
pub mod proxy;
pub mod resolve;

use std::sync::Arc;

use crate::config::Config;
use crate::log::log_at;
use crate::tls::{self, Trust};

pub use dial::{Dialer, NetStream};
pub use proxy::ProxyRules;
pub use resolve::{ResolveHook, Resolver};

/// TLS, proxy rules and resolver of one library instance.
pub struct Network {
    trust: Trust,
    proxies: ProxyRules,
    dialer: Dialer,
}

impl Network {
    /// Builds it from a validated configuration and logs which trust source and proxy are active.
    pub fn new(config: &Config) -> Result<Network, String> {
        let trust = tls::client_config(tls::extra_roots(config)?)?;
        let proxies = ProxyRules::new(config.proxy_url.as_deref(), config.allow_insecure_loopback);
        let limit = config.timing.request_timeout;
        let dialer = Dialer {
            resolver: Resolver::new(config.resolve_hook.clone(), limit),
            tls: trust.config.clone(),
            connect_timeout: limit,
        };
        log_at!(Info, "{}", trust.describe());
        if let tls::TrustSource::Bundled { reason } = &trust.source {
            log_at!(
                Warn,
                "TLS: not using the operating system verifier: {reason}"
            );
        }
        log_at!(Info, "network: {}", proxies.describe());
        Ok(Network {
            trust,
            proxies,
            dialer,
        })
    }

    /// The shared TLS client configuration.
    pub fn tls(&self) -> &Arc<rustls::ClientConfig> {
        &self.trust.config
    }

    /// What the TLS configuration trusts.
    pub fn trust(&self) -> &Trust {
        &self.trust
    }

    /// The proxy rules.
    pub fn proxies(&self) -> &ProxyRules {
        &self.proxies
    }

    /// The resolver (also used by the HTTP client).
    pub fn resolver(&self) -> &Resolver {
        &self.dialer.resolver
    }

    /// Opens a stream to `host:port` for a connection that runs TLS inside when `secure`,
    /// through the proxy the rules choose, or directly.
    pub async fn connect(&self, host: &str, port: u16, secure: bool) -> Result<NetStream, String> {
        match self.proxies.intercept(host, port, secure) {
            Some(proxy) => {
                log_at!(
                    Debug,
                    "connecting to {}:{port} through proxy {}",
                    proxy::bracket(host),
                    proxy::redact(&proxy.uri().to_string())
                );
                self.dialer.via_proxy(&proxy, host, port).await
            }
            None => self.dialer.direct(host, port).await,
        }
    }
}
