//! Shared parts of the network tests: certificates (rcgen), the simulator behind a front door,
//! real proxy servers (tinyproxy, microsocks) on loopback, an event recorder on real time, and a
//! log capture.
#![allow(dead_code)]

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, Once};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use xo_sim::{Front, OrderSpec, Sim, SimConfig, TlsIdentity};
use xo_tracker::{Config, Engine, Event, EventKind, Outcome, Token, TransportState};

#[path = "../common/mod.rs"]
mod common;
pub use common::{transports, watchdog, PROJECT, TOKEN};

/// Where the test proxies bind their outgoing connections: a front that sees this address knows
/// the connection came through the proxy.
pub const PROXY_EGRESS: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));

/// A test CA and the certificates it signs.
pub struct TestCa {
    pub pem: String,
    issuer: rcgen::Issuer<'static, rcgen::KeyPair>,
}

impl TestCa {
    pub fn new(name: &str) -> TestCa {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        params.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::CrlSign,
        ];
        let cert = params.self_signed(&key).unwrap();
        TestCa {
            pem: cert.pem(),
            issuer: rcgen::Issuer::new(params, key),
        }
    }

    /// A server certificate for `names` (DNS names or IP literals), expired if asked.
    pub fn server(&self, names: &[&str], expired: bool) -> TlsIdentity {
        let key = rcgen::KeyPair::generate().unwrap();
        let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        let mut params = rcgen::CertificateParams::new(names).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "xo test server");
        params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
        // A short validity: Apple's verifier refuses server certificates valid for > 825 days.
        let (from, to) = if expired { (-60, -30) } else { (-1, 30) };
        let ((y0, m0, d0), (y1, m1, d1)) = (days_from_now(from), days_from_now(to));
        params.not_before = rcgen::date_time_ymd(y0, m0, d0);
        params.not_after = rcgen::date_time_ymd(y1, m1, d1);
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        TlsIdentity {
            cert_chain_der: vec![cert.der().to_vec()],
            key_der: key.serialize_der(),
        }
    }
}

/// Midnight UTC `days` days from today (civil-from-days, H. Hinnant's algorithm).
fn days_from_now(days: i64) -> (i32, u8, u8) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let z = now / 86_400 + days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
    (year, month, day)
}

/// The simulator behind a front door (TLS or plain), with URLs pointing at the front.
pub struct Site {
    pub sim: Sim,
    pub front: Front,
    pub secure: bool,
}

impl Site {
    pub async fn start(tls: Option<TlsIdentity>) -> Site {
        let sim = Sim::start(SimConfig::default()).await.unwrap();
        let secure = tls.is_some();
        let front = Front::start(sim.addr(), tls).await.unwrap();
        Site { sim, front, secure }
    }

    fn rewrite(&self, url: String, host: &str) -> String {
        let plain = format!("{}", self.sim.addr());
        let with = format!("{host}:{}", self.front.addr().port());
        let url = url.replacen(&plain, &with, 1);
        if self.secure {
            url.replacen("ws://", "wss://", 1)
                .replacen("http://", "https://", 1)
        } else {
            url
        }
    }

    /// A configuration for the front, reached as `host` (an IP literal or a name).
    pub fn config_as(&self, host: &str) -> Config {
        let mut config = Config::new(PROJECT);
        config.centrifugo_url = self.rewrite(self.sim.centrifugo_url(), host);
        config.legacy_socket_url = self.rewrite(self.sim.legacy_socket_url(), host);
        config.api_base_url = self.rewrite(self.sim.api_base_url(), host);
        config.allow_insecure_loopback = !self.secure;
        let t = &mut config.timing;
        t.poll_interval = Duration::from_millis(100);
        t.request_timeout = Duration::from_secs(5);
        t.backoff_min = Duration::from_millis(50);
        t.backoff_max = Duration::from_millis(200);
        t.not_found_confirm = Duration::from_millis(50);
        config
    }

    pub fn config(&self) -> Config {
        self.config_as("127.0.0.1")
    }
}

/// Events of one handle, on real time.
pub struct Recorder {
    rx: mpsc::UnboundedReceiver<Event>,
}

pub fn recorder() -> (xo_tracker::dispatch::Listener, Recorder) {
    let (tx, rx) = mpsc::unbounded_channel();
    let listener = Box::new(move |e: &Event| {
        let _ = tx.send(e.clone());
    });
    (listener, Recorder { rx })
}

impl Recorder {
    /// Every event up to and including the last one, within `limit`.
    pub async fn until_last(&mut self, limit: Duration) -> Vec<Event> {
        let mut events = Vec::new();
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let event = tokio::time::timeout_at(deadline, self.rx.recv())
                .await
                .unwrap_or_else(|_| panic!("no final event within {limit:?}: {events:#?}"))
                .expect("the listener lives until the final event");
            let last = event.is_last();
            events.push(event);
            if last {
                return events;
            }
        }
    }

    /// Events until one matches `pred` (inclusive), within `limit`.
    pub async fn until(&mut self, limit: Duration, pred: impl Fn(&Event) -> bool) -> Vec<Event> {
        let mut events = Vec::new();
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let event = tokio::time::timeout_at(deadline, self.rx.recv())
                .await
                .unwrap_or_else(|_| panic!("no matching event within {limit:?}: {events:#?}"))
                .unwrap_or_else(|| panic!("the tracker ended early: {events:#?}"));
            let hit = pred(&event);
            events.push(event);
            if hit {
                return events;
            }
        }
    }
}

pub fn track(engine: &Engine, order_id: i64) -> Recorder {
    let (listener, rec) = recorder();
    engine
        .track(order_id, Token::new(TOKEN).unwrap(), listener)
        .expect("track");
    rec
}

pub fn check(engine: &Engine, order_id: i64) -> Recorder {
    let (listener, rec) = recorder();
    engine
        .check(order_id, Token::new(TOKEN).unwrap(), listener)
        .expect("check");
    rec
}

pub fn last(events: &[Event]) -> &Event {
    events.last().expect("at least one event")
}

/// Every message text of `events` (error messages).
pub fn messages(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| e.error.as_ref().map(|i| i.message.clone()))
        .collect()
}

/// Tracks an order that is pushed to `done` and checks the socket carried it.
pub async fn tracks_over_the_socket(site: &Site, engine: &Engine, order_id: i64) -> Vec<Event> {
    site.sim.add_order(
        OrderSpec::new(order_id)
            .status("new")
            .then_after(Duration::from_millis(300), "done"),
    );
    let mut rec = track(engine, order_id);
    let events = rec.until_last(Duration::from_secs(20)).await;
    assert_eq!(
        transports(&events).first(),
        Some(&TransportState::SocketConnected),
        "{events:#?}"
    );
    assert_eq!(last(&events).outcome, Outcome::Done, "{events:#?}");
    events
}

/// Checks an order over HTTP.
pub async fn checks_over_http(site: &Site, engine: &Engine, order_id: i64) -> Event {
    site.sim.add_order(OrderSpec::new(order_id).status("done"));
    let mut rec = check(engine, order_id);
    let events = rec.until_last(Duration::from_secs(20)).await;
    let result = last(&events).clone();
    assert_eq!(result.kind, EventKind::CheckResult);
    result
}

/// Every log line of this test process (the sink is process-wide).
pub fn captured_log() -> Vec<String> {
    LOG.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

static LOG: Mutex<Vec<String>> = Mutex::new(Vec::new());

pub fn capture_log() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        xo_tracker::log::set_sink(
            Some(Arc::new(|_level, line: &str| {
                LOG.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(line.to_owned());
            })),
            xo_tracker::log::Level::Debug,
        );
    });
}

/// Whether a missing proxy binary is a failure (CI) or a loud skip (a developer machine).
pub fn require(binary: &str) -> bool {
    let found = std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|d| d.join(binary).is_file()))
        .unwrap_or(false);
    if found {
        return true;
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{binary} is required in CI (scripts/test.sh installs it with apt)");
    }
    eprintln!("\n!!!!! SKIPPED: {binary} is not installed (scripts/test.sh installs it) !!!!!\n");
    false
}

/// A proxy server process on a loopback port; killed and cleaned up on drop.
pub struct ProxyServer {
    child: Child,
    pub port: u16,
    dir: Option<PathBuf>,
}

impl Drop for ProxyServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits (bounded) until the proxy accepts connections: it is another process.
async fn wait_listening(port: u16, child: &mut Child) {
    let started = Instant::now();
    loop {
        if tokio::net::TcpStream::connect((Ipv4Addr::LOCALHOST, port))
            .await
            .is_ok()
        {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the proxy exited early: {status}");
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the proxy did not listen on {port} within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// tinyproxy (HTTP proxy with CONNECT) on loopback; outgoing connections from 127.0.0.2.
/// `auth`: Basic credentials required; `connect_only_443`: CONNECT to other ports is refused.
pub async fn tinyproxy(auth: Option<(&str, &str)>, connect_only_443: bool) -> ProxyServer {
    let port = free_port();
    let dir = std::env::temp_dir().join(format!("xo-tinyproxy-{}-{port}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut conf = format!(
        "Port {port}\nListen 127.0.0.1\nBind 127.0.0.2\nTimeout 30\nMaxClients 50\n\
         Allow 127.0.0.1\nLogLevel Warning\nDisableViaHeader Yes\n"
    );
    if let Some((user, pass)) = auth {
        conf.push_str(&format!("BasicAuth {user} {pass}\n"));
    }
    if connect_only_443 {
        conf.push_str("ConnectPort 443\n");
    }
    let path = dir.join("tinyproxy.conf");
    std::fs::write(&path, conf).unwrap();
    let mut child = Command::new("tinyproxy")
        .arg("-d")
        .arg("-c")
        .arg(&path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("tinyproxy starts");
    wait_listening(port, &mut child).await;
    ProxyServer {
        child,
        port,
        dir: Some(dir),
    }
}

/// microsocks (SOCKS5) on loopback; outgoing connections from 127.0.0.2.
pub async fn microsocks(auth: Option<(&str, &str)>) -> ProxyServer {
    let port = free_port();
    let mut cmd = Command::new("microsocks");
    cmd.args([
        "-i",
        "127.0.0.1",
        "-p",
        &port.to_string(),
        "-b",
        "127.0.0.2",
    ]);
    if let Some((user, pass)) = auth {
        cmd.args(["-u", user, "-P", pass]);
    }
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("microsocks starts");
    wait_listening(port, &mut child).await;
    ProxyServer {
        child,
        port,
        dir: None,
    }
}

/// Asserts every connection the front saw came through the proxy.
pub fn all_through_proxy(front: &Front) {
    let peers = front.peers();
    assert!(!peers.is_empty(), "the front saw no connection");
    assert!(
        peers.iter().all(|p| *p == PROXY_EGRESS),
        "connections bypassed the proxy: {peers:?}"
    );
}

/// The address a front listens on, as a socket address on loopback.
pub fn front_addr(site: &Site) -> SocketAddr {
    site.front.addr()
}
