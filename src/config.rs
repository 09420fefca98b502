//! Library configuration: project, transport, endpoints and timing.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::net::ResolveHook;

/// Which push channel carries status updates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// Xsolla's Centrifugo endpoint: one connection per token serves every tracked order (default).
    Centrifugo,
    /// The legacy per-order socket.
    LegacySocket,
    /// No socket: HTTP polling only.
    PollingOnly,
}

/// Where callbacks run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// On the library's callback thread, as soon as the event happens.
    Direct,
    /// Queued until the host calls `dispatch`, on the thread that calls it.
    Queued,
    /// On the runtime's thread that produced the event, at once (Rust hosts and tests on a paused
    /// tokio clock, whose auto-advance must see the delivery; not offered by the C ABI: a slow
    /// listener here stalls the runtime).
    Inline,
}

/// The timers of the tracking algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timing {
    /// Time between two status requests while polling (Xsolla: 3 s).
    pub poll_interval: Duration,
    /// A socket without a final status is re-opened after this long (Xsolla: 5 min).
    pub socket_reestablish: Duration,
    /// Polling without a final status ends as timed out after this long (Xsolla: 10 min).
    pub polling_deadline: Duration,
    /// No tracker lives longer than this.
    pub overall_deadline: Duration,
    /// How long to wait for a new token after the server refused the current one.
    pub token_wait: Duration,
    /// Limit for one HTTP request, and for a socket's connect and handshake.
    pub request_timeout: Duration,
    /// Smallest reconnect and retry delay.
    pub backoff_min: Duration,
    /// Largest reconnect and retry delay.
    pub backoff_max: Duration,
    /// Delay before the request that confirms a "not found".
    pub not_found_confirm: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            poll_interval: Duration::from_secs(3),
            socket_reestablish: Duration::from_secs(5 * 60),
            polling_deadline: Duration::from_secs(10 * 60),
            overall_deadline: Duration::from_secs(30 * 60),
            token_wait: Duration::from_secs(60),
            request_timeout: Duration::from_secs(10),
            backoff_min: Duration::from_millis(500),
            backoff_max: Duration::from_secs(20),
            not_found_confirm: Duration::from_secs(1),
        }
    }
}

/// Xsolla's production Centrifugo endpoint.
pub const DEFAULT_CENTRIFUGO_URL: &str = "wss://ws-store.xsolla.com/connection/websocket";
/// Xsolla's legacy per-order socket endpoint (query parameters are added per order).
pub const DEFAULT_LEGACY_SOCKET_URL: &str = "wss://store-ws.xsolla.com/sub/order/status";
/// Xsolla's store API base (`/v2/project/{project}/order/{order}` is appended).
pub const DEFAULT_API_BASE_URL: &str = "https://store.xsolla.com/api";

/// Xsolla's Events API base (`/events?project_id=..` is appended).
pub const DEFAULT_EVENTS_API_URL: &str = "https://getupdate.xsolla.com";

/// The shortest interval between two reads of the Events API (Xsolla SDK 3's minimum).
pub const MIN_RESTORE_INTERVAL: Duration = Duration::from_secs(3);

/// Restore of purchases this device never tracked, from Xsolla's Events API (opt-in; needs a
/// journal).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Restore {
    /// Off by default.
    pub enabled: bool,
    /// The Events API base URL.
    pub events_api_url: String,
    /// Read again this often while a resumed user is known (`None`: only at `resume_pending`);
    /// never below [`MIN_RESTORE_INTERVAL`].
    pub interval: Option<Duration>,
}

impl Default for Restore {
    fn default() -> Self {
        Restore {
            enabled: false,
            events_api_url: DEFAULT_EVENTS_API_URL.to_owned(),
            interval: None,
        }
    }
}

/// Everything the library needs to know before it tracks an order. Its `Debug` output hides
/// proxy credentials and CA bundle contents.
#[derive(Clone, PartialEq, Eq)]
pub struct Config {
    /// The Xsolla project (merchant project) id; required, positive.
    pub project_id: i64,
    /// The push channel.
    pub transport: Transport,
    /// Where callbacks run.
    pub delivery: Delivery,
    /// Centrifugo WebSocket URL.
    pub centrifugo_url: String,
    /// Legacy socket URL, without query.
    pub legacy_socket_url: String,
    /// Store API base URL.
    pub api_base_url: String,
    /// Timers.
    pub timing: Timing,
    /// Runtime worker threads (1 by default: a game can afford one).
    pub worker_threads: usize,
    /// Allow `ws://` and `http://` to loopback addresses (tests, the simulator). Never on in
    /// production. It also ignores the environment's and system's proxy settings (an explicit
    /// `proxy_url` still applies).
    pub allow_insecure_loopback: bool,
    /// A proxy for every HTTP request and socket: `http://`, `https://`, `socks5://` (names
    /// resolved here) or `socks5h://` (resolved by the proxy), optionally with
    /// `user:password@` (never logged). `None`: the environment (`HTTPS_PROXY`, `HTTP_PROXY`,
    /// `ALL_PROXY`, `NO_PROXY`, lower-case forms) and then the system settings (Windows, macOS).
    pub proxy_url: Option<String>,
    /// Extra trusted CA certificates as PEM text (for TLS-inspecting proxies and antivirus).
    pub ca_bundle_pem: Option<String>,
    /// A PEM file of extra trusted CA certificates, read by `validate` and at start.
    pub ca_bundle_file: Option<String>,
    /// Test-only: answers chosen host names with chosen addresses.
    #[doc(hidden)]
    pub resolve_hook: Option<ResolveHook>,
    /// Directory of the purchase journal (`None`: none, nothing survives the process).
    pub journal_dir: Option<PathBuf>,
    /// Restore from Xsolla's Events API.
    pub restore: Restore,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("project_id", &self.project_id)
            .field("transport", &self.transport)
            .field("delivery", &self.delivery)
            .field("centrifugo_url", &self.centrifugo_url)
            .field("legacy_socket_url", &self.legacy_socket_url)
            .field("api_base_url", &self.api_base_url)
            .field("timing", &self.timing)
            .field("worker_threads", &self.worker_threads)
            .field("allow_insecure_loopback", &self.allow_insecure_loopback)
            .field(
                "proxy_url",
                &self.proxy_url.as_deref().map(crate::net::proxy::redact),
            )
            .field(
                "ca_bundle_pem",
                &self
                    .ca_bundle_pem
                    .as_ref()
                    .map(|p| format!("<{} bytes>", p.len())),
            )
            .field("ca_bundle_file", &self.ca_bundle_file)
            .field("resolve_hook", &self.resolve_hook)
            .field("journal_dir", &self.journal_dir)
            .field("restore", &self.restore)
            .finish()
    }
}

impl Config {
    /// Production defaults for a project.
    pub fn new(project_id: i64) -> Config {
        Config {
            project_id,
            transport: Transport::Centrifugo,
            delivery: Delivery::Direct,
            centrifugo_url: DEFAULT_CENTRIFUGO_URL.to_owned(),
            legacy_socket_url: DEFAULT_LEGACY_SOCKET_URL.to_owned(),
            api_base_url: DEFAULT_API_BASE_URL.to_owned(),
            timing: Timing::default(),
            worker_threads: 1,
            allow_insecure_loopback: false,
            proxy_url: None,
            ca_bundle_pem: None,
            ca_bundle_file: None,
            resolve_hook: None,
            journal_dir: None,
            restore: Restore::default(),
        }
    }

    /// Checks the values; the error says which one is wrong and why.
    pub fn validate(&self) -> Result<(), String> {
        if self.project_id <= 0 {
            return Err(format!(
                "project_id must be positive, got {}",
                self.project_id
            ));
        }
        let insecure = self.allow_insecure_loopback;
        check_endpoint(
            "centrifugo_url",
            &self.centrifugo_url,
            "wss",
            "ws",
            insecure,
        )?;
        check_endpoint(
            "legacy_socket_url",
            &self.legacy_socket_url,
            "wss",
            "ws",
            insecure,
        )?;
        check_endpoint(
            "api_base_url",
            &self.api_base_url,
            "https",
            "http",
            insecure,
        )?;
        if self.restore.enabled {
            check_endpoint(
                "events_api_url",
                &self.restore.events_api_url,
                "https",
                "http",
                insecure,
            )?;
            if self.journal_dir.is_none() {
                return Err("restore_from_xsolla needs a journal_dir (restored purchases are delivered until acknowledged)".to_owned());
            }
        }
        if let Some(every) = self.restore.interval {
            if every < MIN_RESTORE_INTERVAL {
                return Err(format!(
                    "restore_interval must be at least {MIN_RESTORE_INTERVAL:?}, got {every:?}"
                ));
            }
        }
        let t = &self.timing;
        for (name, value) in [
            ("poll_interval", t.poll_interval),
            ("socket_reestablish", t.socket_reestablish),
            ("polling_deadline", t.polling_deadline),
            ("overall_deadline", t.overall_deadline),
            ("request_timeout", t.request_timeout),
            ("backoff_min", t.backoff_min),
        ] {
            if value.is_zero() {
                return Err(format!("{name} must be greater than zero"));
            }
        }
        if t.backoff_max < t.backoff_min {
            return Err("backoff_max must not be below backoff_min".to_owned());
        }
        if !(1..=16).contains(&self.worker_threads) {
            return Err(format!(
                "worker_threads must be 1..=16, got {}",
                self.worker_threads
            ));
        }
        if let Some(url) = &self.proxy_url {
            crate::net::proxy::validate(url)?;
        }
        crate::tls::extra_roots(self)?;
        Ok(())
    }
}

/// Endpoint safety: TLS only, unless plain text to a loopback address was explicitly allowed.
fn check_endpoint(
    name: &str,
    url: &str,
    secure: &str,
    plain: &str,
    allow_plain_loopback: bool,
) -> Result<(), String> {
    let parsed =
        reqwest::Url::parse(url).map_err(|e| format!("{name} is not a valid URL ({e}): {url}"))?;
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(format!("{name} must not have a query or fragment: {url}"));
    }
    let scheme = parsed.scheme();
    if scheme == secure {
        return Ok(());
    }
    if scheme == plain {
        let loopback = match parsed.host() {
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
            None => false,
        };
        if loopback && allow_plain_loopback {
            return Ok(());
        }
        return Err(format!(
            "{name} uses {plain}:// which is only allowed to a loopback address with allow_insecure_loopback: {url}"
        ));
    }
    Err(format!("{name} must use {secure}://, got {scheme}://"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_match_xsolla() {
        let _watchdog = crate::test_watchdog::arm();
        let c = Config::new(77);
        c.validate().unwrap();
        assert_eq!(c.timing.poll_interval, Duration::from_secs(3));
        assert_eq!(c.timing.socket_reestablish, Duration::from_secs(300));
        assert_eq!(c.timing.polling_deadline, Duration::from_secs(600));
    }

    #[test]
    fn endpoint_safety() {
        let _watchdog = crate::test_watchdog::arm();
        let mut c = Config::new(1);
        c.api_base_url = "http://127.0.0.1:9/api".into();
        assert!(c
            .validate()
            .unwrap_err()
            .contains("allow_insecure_loopback"));
        c.allow_insecure_loopback = true;
        c.validate().unwrap();
        c.api_base_url = "http://example.com/api".into();
        assert!(
            c.validate().is_err(),
            "plain text to a remote host is never allowed"
        );
        c.api_base_url = "ftp://127.0.0.1/".into();
        assert!(c.validate().is_err());
        c.api_base_url = "not a url".into();
        assert!(c.validate().is_err());
    }

    #[test]
    fn network_fields() {
        let _watchdog = crate::test_watchdog::arm();
        let mut c = Config::new(1);
        c.proxy_url = Some("gopher://u:hunter2@proxy:70".into());
        let e = c.validate().unwrap_err();
        assert!(e.contains("not supported") && !e.contains("hunter2"), "{e}");
        c.proxy_url = Some("socks5h://u:hunter2@127.0.0.1:1080".into());
        c.validate().unwrap();
        assert!(!format!("{c:?}").contains("hunter2"));
        c.ca_bundle_file = Some("/nonexistent/ca.pem".into());
        assert!(c.validate().unwrap_err().contains("ca_bundle_file"));
    }

    #[test]
    fn rejects_bad_values() {
        let _watchdog = crate::test_watchdog::arm();
        assert!(Config::new(0).validate().is_err());
        let mut c = Config::new(1);
        c.timing.poll_interval = Duration::ZERO;
        assert!(c.validate().is_err());
        let mut c = Config::new(1);
        c.worker_threads = 0;
        assert!(c.validate().is_err());
    }
}
