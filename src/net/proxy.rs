//! Which proxy, if any, carries a connection: an explicit URL, or the environment and system
//! settings (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`, `NO_PROXY`, lower-case forms; the Windows
//! and macOS proxy settings). The rules are hyper-util's `Matcher`, the same ones reqwest applies
//! to HTTP, so the socket and polling always agree.

use hyper_util::client::proxy::matcher::{Intercept, Matcher};

/// Proxy schemes accepted in `Config::proxy_url`.
pub const PROXY_SCHEMES: [&str; 4] = ["http", "https", "socks5", "socks5h"];

/// Where proxy decisions come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProxySource {
    /// `Config::proxy_url`, for every connection.
    Explicit(String),
    /// Environment variables, then the operating system's settings.
    System,
    /// No proxy (loopback test mode without an explicit proxy).
    None,
}

/// The proxy rules of one library instance.
pub struct ProxyRules {
    matcher: Matcher,
    source: ProxySource,
}

impl ProxyRules {
    /// Rules for `explicit` (already validated) or, without one, the environment and system
    /// settings; `loopback_tests` (allow_insecure_loopback) ignores the environment and system so a
    /// developer's proxy variables do not capture simulator traffic.
    pub fn new(explicit: Option<&str>, loopback_tests: bool) -> ProxyRules {
        match explicit {
            Some(url) => ProxyRules {
                matcher: Matcher::builder().all(url.to_owned()).build(),
                source: ProxySource::Explicit(url.to_owned()),
            },
            None if loopback_tests => ProxyRules {
                matcher: Matcher::builder().build(),
                source: ProxySource::None,
            },
            None => ProxyRules {
                matcher: Matcher::from_system(),
                source: ProxySource::System,
            },
        }
    }

    /// Where the rules come from.
    pub fn source(&self) -> &ProxySource {
        &self.source
    }

    /// The proxy for a connection to `host:port` (`secure`: TLS inside, like `wss://`), if any.
    pub fn intercept(&self, host: &str, port: u16, secure: bool) -> Option<Intercept> {
        let scheme = if secure { "https" } else { "http" };
        let uri: http::Uri = format!("{scheme}://{}:{port}/", bracket(host))
            .parse()
            .ok()?;
        self.matcher.intercept(&uri)
    }

    /// One line for the log, without credentials.
    pub fn describe(&self) -> String {
        match &self.source {
            ProxySource::Explicit(url) => format!("proxy {}", redact(url)),
            ProxySource::System => {
                "proxy from HTTPS_PROXY/HTTP_PROXY/ALL_PROXY/NO_PROXY or the system settings"
                    .to_owned()
            }
            ProxySource::None => "no proxy (loopback test mode)".to_owned(),
        }
    }
}

/// `host` as it goes in a URI authority: IPv6 literals in brackets.
pub fn bracket(host: &str) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_owned()
    }
}

/// `url` with any `user:password@` replaced by `***@`. Works on malformed text too, so a bad
/// URL can be quoted in an error message.
pub fn redact(url: &str) -> String {
    let (scheme, rest) = match url.find("://") {
        Some(i) => (&url[..i + 3], &url[i + 3..]),
        None => ("", url),
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}***{}", &rest[at..]),
        None => url.to_owned(),
    }
}

/// Checks an explicit proxy URL; the error never contains its credentials.
pub fn validate(url: &str) -> Result<(), String> {
    let shown = redact(url);
    let parsed = url::Url::parse(url).map_err(|e| {
        format!("proxy_url is not a valid URL ({e}): {shown}; expected scheme://[user:password@]host:port")
    })?;
    let scheme = parsed.scheme();
    if !PROXY_SCHEMES.contains(&scheme) {
        return Err(format!(
            "proxy_url scheme {scheme}:// is not supported (use http://, https://, socks5:// or socks5h://): {shown}"
        ));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(format!("proxy_url has no host: {shown}"));
    }
    if !matches!(parsed.path(), "" | "/") || parsed.query().is_some() || parsed.fragment().is_some()
    {
        return Err(format!(
            "proxy_url must be scheme://[user:password@]host:port only, without a path or query: {shown}"
        ));
    }
    if parsed.password().is_some() && parsed.username().is_empty() {
        return Err(format!(
            "proxy_url has a password but no user name: {shown}"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_credentials() {
        let _watchdog = crate::test_watchdog::arm();
        assert_eq!(
            redact("http://user:s3cret@proxy:3128"),
            "http://***@proxy:3128"
        );
        assert_eq!(
            redact("socks5h://u:p@ss@[::1]:1080/x"),
            "socks5h://***@[::1]:1080/x"
        );
        assert_eq!(redact("http://proxy:3128"), "http://proxy:3128");
        assert_eq!(redact("garbage s3cret@x"), "***@x");
    }

    #[test]
    fn validates_urls_without_leaking() {
        let _watchdog = crate::test_watchdog::arm();
        for good in [
            "http://127.0.0.1:3128",
            "https://proxy.example:443",
            "socks5://u:p@127.0.0.1:1080",
            "socks5h://[::1]:1080/",
        ] {
            validate(good).unwrap();
        }
        for bad in [
            "ftp://u:s3cret@proxy:21",
            "socks4://u:s3cret@proxy:1080",
            "http://u:s3cret@proxy:3128/path",
            "not a url:s3cret@host",
            "http://:s3cret@proxy:3128",
            "http://u:s3cret@:3128",
        ] {
            let e = validate(bad).unwrap_err();
            assert!(!e.contains("s3cret"), "{e}");
        }
    }

    #[test]
    fn explicit_rules_apply_to_loopback_and_carry_auth() {
        let _watchdog = crate::test_watchdog::arm();
        let rules = ProxyRules::new(Some("socks5h://user:pw@127.0.0.1:1080"), true);
        let i = rules.intercept("127.0.0.1", 8080, false).unwrap();
        assert_eq!(i.uri().scheme_str(), Some("socks5h"));
        assert_eq!(i.raw_auth(), Some(("user", "pw")));
        assert!(!rules.describe().contains("pw"));
        let i = ProxyRules::new(Some("http://u:p@127.0.0.1:3128"), false)
            .intercept("::1", 443, true)
            .unwrap();
        assert!(i.basic_auth().is_some());
        assert!(ProxyRules::new(None, true)
            .intercept("example.com", 443, true)
            .is_none());
    }
}
