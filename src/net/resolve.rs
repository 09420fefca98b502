//! Name resolution off the runtime's workers, bounded in time, with a test-only override.

use std::fmt;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

/// The signature of a resolver override: a host name to the addresses it should resolve to, or
/// `None` to resolve it normally.
pub type ResolveFn = dyn Fn(&str) -> Option<Vec<IpAddr>> + Send + Sync;

/// A test-only hook that answers chosen host names with chosen addresses (for example an
/// unreachable IPv6 address first and a working IPv4 one second, to exercise Happy Eyeballs).
/// Compared by identity.
#[doc(hidden)]
#[derive(Clone)]
pub struct ResolveHook(pub Arc<ResolveFn>);

impl fmt::Debug for ResolveHook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ResolveHook")
    }
}

impl PartialEq for ResolveHook {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for ResolveHook {}

/// Resolves host names with the system resolver on tokio's blocking pool (never on a worker),
/// giving up after `limit`. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Resolver {
    hook: Option<ResolveHook>,
    limit: Duration,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl Resolver {
    /// A resolver bounded by `limit`, answering from `hook` first when one is given.
    pub fn new(hook: Option<ResolveHook>, limit: Duration) -> Resolver {
        Resolver { hook, limit }
    }

    /// Every address of `host` (a name, an IP literal, or a bracketed IPv6 literal) with `port`,
    /// in the resolver's order.
    pub async fn lookup(&self, host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
        let bare = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        if let Ok(ip) = bare.parse::<IpAddr>() {
            return Ok(vec![SocketAddr::new(ip, port)]);
        }
        if let Some(ips) = self.hook.as_ref().and_then(|h| (h.0)(bare)) {
            return Ok(ips
                .into_iter()
                .map(|ip| SocketAddr::new(ip, port))
                .collect());
        }
        // tokio runs getaddrinfo on its blocking pool; a resolver that hangs costs a blocking
        // thread until it returns, never a worker, and the caller is released at `limit`.
        let lookup = tokio::net::lookup_host((bare.to_owned(), port));
        let addrs: Vec<SocketAddr> = match tokio::time::timeout(self.limit, lookup).await {
            Ok(result) => result?.collect(),
            Err(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("resolving {bare} took longer than {:?}", self.limit),
                ))
            }
        };
        if addrs.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("{bare} has no address"),
            ));
        }
        Ok(addrs)
    }
}

impl reqwest::dns::Resolve for Resolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let this = self.clone();
        Box::pin(async move {
            let addrs = this.lookup(name.as_str(), 0).await?;
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

impl tower_service::Service<hyper_util::client::legacy::connect::dns::Name> for Resolver {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = io::Error;
    type Future = BoxFuture<io::Result<Self::Response>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: hyper_util::client::legacy::connect::dns::Name) -> Self::Future {
        let this = self.clone();
        Box::pin(async move { Ok(this.lookup(name.as_str(), 0).await?.into_iter()) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn literals_and_hook() {
        let _watchdog = crate::test_watchdog::arm();
        let hook = ResolveHook(Arc::new(|host: &str| {
            (host == "dual.test")
                .then(|| vec!["::1".parse().unwrap(), "127.0.0.1".parse().unwrap()])
        }));
        let r = Resolver::new(Some(hook), Duration::from_secs(5));
        assert_eq!(
            r.lookup("[::1]", 443).await.unwrap(),
            vec!["[::1]:443".parse::<SocketAddr>().unwrap()]
        );
        assert_eq!(
            r.lookup("127.0.0.1", 80).await.unwrap(),
            vec!["127.0.0.1:80".parse::<SocketAddr>().unwrap()]
        );
        let dual = r.lookup("dual.test", 8080).await.unwrap();
        assert_eq!(dual.len(), 2);
        assert!(dual[0].is_ipv6() && dual[1].is_ipv4());
        assert!(dual.iter().all(|a| a.port() == 8080));
    }
}
