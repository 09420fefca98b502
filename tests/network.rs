//! The library on the networks players have, with real parts on loopback: TLS with a test CA
//! (rustls server in the simulator's front, certificates from rcgen), real proxy servers
//! (tinyproxy for HTTP CONNECT, microsocks for SOCKS5), Happy Eyeballs against a black-holed
//! IPv6 address, and bad network settings through the C ABI.
// The proxy and Happy Eyeballs tests are Linux-only; their helpers and imports are unused elsewhere.
#![cfg_attr(not(target_os = "linux"), allow(unused_imports, dead_code))]

mod net_support;

use std::ffi::{CStr, CString};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use net_support::*;
use xo_sim::OrderSpec;
use xo_tracker::ffi::{xo_config, xo_configure, xo_last_error, xo_result, xo_shutdown};
use xo_tracker::net::{Network, ResolveHook};
use xo_tracker::{Config, Engine, EventKind, Outcome, TransportState};

fn engine(config: Config) -> Engine {
    Engine::new(config, tokio::runtime::Handle::current()).expect("engine")
}

// ---------------------------------------------------------------- TLS

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wss_and_https_work_with_the_configured_ca_as_text_and_as_a_file() {
    let _watchdog = watchdog::arm();
    capture_log();
    let ca = TestCa::new("xo test CA");
    let site = Site::start(Some(ca.server(&["localhost", "127.0.0.1"], false))).await;

    let mut config = site.config();
    config.ca_bundle_pem = Some(ca.pem.clone());
    let e = engine(config);
    tracks_over_the_socket(&site, &e, 11).await;
    let result = checks_over_http(&site, &e, 12).await;
    assert_eq!(result.outcome, Outcome::Done, "{result:?}");

    let path = std::env::temp_dir().join(format!("xo-test-ca-{}.pem", std::process::id()));
    std::fs::write(&path, &ca.pem).unwrap();
    let mut config = site.config_as("localhost");
    config.ca_bundle_file = Some(path.to_string_lossy().into_owned());
    let e = engine(config);
    let result = checks_over_http(&site, &e, 13).await;
    std::fs::remove_file(&path).unwrap();
    assert_eq!(result.outcome, Outcome::Done, "{result:?}");
    tracks_over_the_socket(&site, &e, 14).await;
    assert!(
        captured_log()
            .iter()
            .any(|l| l.starts_with("TLS trust: ") && l.contains("1 extra CA certificate")),
        "the trust source is logged"
    );
}

/// A server the library must refuse: the socket falls back to polling with the reason, polling
/// fails with it too, and tracking ends (timed out) without a crash.
async fn refuses(identity: xo_sim::TlsIdentity, trusted: &TestCa, expect: &str) {
    let site = Site::start(Some(identity)).await;
    let mut config = site.config();
    config.ca_bundle_pem = Some(trusted.pem.clone());
    config.timing.polling_deadline = Duration::from_millis(800);
    let e = engine(config);
    site.sim.add_order(OrderSpec::new(21).status("done"));
    let events = track(&e, 21).until_last(Duration::from_secs(20)).await;
    assert_eq!(
        transports(&events),
        [TransportState::Polling],
        "{events:#?}"
    );
    let polling = events
        .iter()
        .find(|e| e.kind == EventKind::TransportChanged)
        .unwrap();
    let why = &polling.error.as_ref().expect("the reason").message;
    assert!(names_the_reason(why, expect), "{why}");
    assert_eq!(last(&events).outcome, Outcome::TimedOut, "{events:#?}");
    println!("socket refused as expected: {why}");
    let result = checks_over_http(&site, &e, 22).await;
    let info = result.error.expect("the check failed");
    assert!(names_the_reason(&info.message, expect), "{}", info.message);
}

/// The message says the certificate was refused, and (on Linux, where webpki checks it) why.
/// The Windows and macOS verifiers word their reasons differently.
fn names_the_reason(message: &str, expect: &str) -> bool {
    message.contains("invalid peer certificate")
        && (!cfg!(target_os = "linux") || message.contains(expect))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_ca_is_refused() {
    let _watchdog = watchdog::arm();
    let trusted = TestCa::new("trusted CA");
    let other = TestCa::new("someone else's CA");
    refuses(
        other.server(&["127.0.0.1"], false),
        &trusted,
        "UnknownIssuer",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_host_name_is_refused() {
    let _watchdog = watchdog::arm();
    let ca = TestCa::new("xo test CA");
    refuses(
        ca.server(&["store.example"], false),
        &ca,
        "not valid for name",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_certificate_is_refused() {
    let _watchdog = watchdog::arm();
    let ca = TestCa::new("xo test CA");
    refuses(ca.server(&["127.0.0.1"], true), &ca, "expired").await;
}

// ---------------------------------------------------------------- proxies

#[cfg(target_os = "linux")]
/// Tracks over the socket and checks over HTTP through `proxy_url`, and checks that every
/// connection reached the simulator from the proxy's address.
async fn works_through(proxy_url: &str, tls: bool) {
    works_through_trusting(proxy_url, tls, &TestCa::new("xo test CA")).await;
}

#[cfg(target_os = "linux")]
async fn works_through_trusting(proxy_url: &str, tls: bool, ca: &TestCa) {
    capture_log();
    let site = Site::start(tls.then(|| ca.server(&["127.0.0.1"], false))).await;
    let mut config = site.config();
    config.proxy_url = Some(proxy_url.to_owned());
    // Trusted for the server's certificate (tls) and for an https:// proxy's.
    config.ca_bundle_pem = Some(ca.pem.clone());
    let e = engine(config);
    tracks_over_the_socket(&site, &e, 31).await;
    let result = checks_over_http(&site, &e, 32).await;
    assert_eq!(result.outcome, Outcome::Done, "{result:?}");
    all_through_proxy(&site.front);
}

// Linux: the proxies come from apt and bind 127.0.0.2 (macOS has no such loopback address).
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_connect_proxy_carries_socket_and_polling() {
    let _watchdog = watchdog::arm();
    if !require("tinyproxy") {
        return;
    }
    let proxy = tinyproxy(None, false).await;
    works_through(&format!("http://127.0.0.1:{}", proxy.port), false).await;
    works_through(&format!("http://127.0.0.1:{}", proxy.port), true).await;
}

// Linux: the proxies come from apt and bind 127.0.0.2 (macOS has no such loopback address).
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_proxy_carries_socket_and_polling() {
    let _watchdog = watchdog::arm();
    if !require("tinyproxy") {
        return;
    }
    // An https:// proxy: TLS to the proxy (a TLS front before tinyproxy), CONNECT inside it,
    // then TLS to the server inside the tunnel; one CA signs both certificates.
    let proxy = tinyproxy(None, false).await;
    let ca = TestCa::new("xo test CA");
    let tls_proxy = xo_sim::Front::start(
        SocketAddr::from((Ipv4Addr::LOCALHOST, proxy.port)),
        Some(ca.server(&["127.0.0.1"], false)),
    )
    .await
    .unwrap();
    let url = format!("https://127.0.0.1:{}", tls_proxy.addr().port());
    works_through_trusting(&url, true, &ca).await;
    works_through_trusting(&url, false, &ca).await;
    assert!(tls_proxy.peers().len() >= 4, "{:?}", tls_proxy.peers());
}

#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_proxy_with_credentials_works_and_never_shows_them() {
    let _watchdog = watchdog::arm();
    if !require("tinyproxy") {
        return;
    }
    const SECRET: &str = "pr0xy-S3cret-pw";
    let proxy = tinyproxy(Some(("gamer", SECRET)), false).await;
    works_through(
        &format!("http://gamer:{SECRET}@127.0.0.1:{}", proxy.port),
        true,
    )
    .await;

    // A wrong password: the socket and polling fail, and the messages do not show it either.
    let site = Site::start(None).await;
    let mut config = site.config();
    config.proxy_url = Some(format!(
        "http://gamer:wr0ng-{SECRET}@127.0.0.1:{}",
        proxy.port
    ));
    config.timing.polling_deadline = Duration::from_millis(600);
    let e = engine(config);
    site.sim.add_order(OrderSpec::new(33).status("new"));
    let events = track(&e, 33).until_last(Duration::from_secs(20)).await;
    assert_eq!(
        transports(&events),
        [TransportState::Polling],
        "{events:#?}"
    );
    assert_ne!(last(&events).outcome, Outcome::Done);
    let why = messages(&events).join(" | ");
    // tinyproxy answers a bad password with 401 (a 407 would read "proxy authorization required").
    assert!(
        why.contains("through proxy") && why.contains("CONNECT failed"),
        "{why}"
    );
    println!("wrong proxy password: {why}");
    let mut texts = messages(&events);
    texts.extend(captured_log());
    assert!(!texts.is_empty());
    for text in &texts {
        assert!(!text.contains(SECRET), "credentials leaked: {text}");
    }
}

// Linux: the proxies come from apt and bind 127.0.0.2 (macOS has no such loopback address).
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socks5_proxies_carry_socket_and_polling() {
    let _watchdog = watchdog::arm();
    if !require("microsocks") {
        return;
    }
    let open = microsocks(None).await;
    works_through(&format!("socks5://127.0.0.1:{}", open.port), false).await;
    works_through(&format!("socks5h://127.0.0.1:{}", open.port), true).await;
    const SECRET: &str = "s0cks-S3cret-pw";
    let authed = microsocks(Some(("gamer", SECRET))).await;
    works_through(
        &format!("socks5h://gamer:{SECRET}@127.0.0.1:{}", authed.port),
        false,
    )
    .await;
    for line in captured_log() {
        assert!(!line.contains(SECRET), "credentials leaked: {line}");
    }
}

// Linux: the proxies come from apt and bind 127.0.0.2 (macOS has no such loopback address).
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proxy_that_refuses_connect_leaves_polling_working() {
    let _watchdog = watchdog::arm();
    if !require("tinyproxy") {
        return;
    }
    // CONNECT only to port 443: the socket's tunnel is refused, plain HTTP is forwarded.
    let proxy = tinyproxy(None, true).await;
    let site = Site::start(None).await;
    let mut config = site.config();
    config.proxy_url = Some(format!("http://127.0.0.1:{}", proxy.port));
    let e = engine(config);
    site.sim.add_order(
        OrderSpec::new(41)
            .status("new")
            .then_after(Duration::from_millis(500), "done"),
    );
    let events = track(&e, 41).until_last(Duration::from_secs(20)).await;
    assert_eq!(
        transports(&events),
        [TransportState::Polling],
        "{events:#?}"
    );
    let why = messages(&events).join(" | ");
    assert!(why.contains("proxy") && why.contains("CONNECT"), "{why}");
    println!("socket through a CONNECT-refusing proxy: {why}");
    assert_eq!(last(&events).outcome, Outcome::Done, "{events:#?}");
    all_through_proxy(&site.front);
}

// ---------------------------------------------------------------- Happy Eyeballs

#[cfg(target_os = "linux")]
/// A listener on `[::1]:port` whose accept queue is full and never drained: Linux drops further
/// SYNs, so a connect there hangs like one to a black-holed address (nothing leaves the host).
async fn black_hole_v6(port: u16) -> (tokio::net::TcpListener, Vec<tokio::net::TcpStream>) {
    let socket = tokio::net::TcpSocket::new_v6().unwrap();
    socket
        .bind(SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), port))
        .unwrap();
    let listener = socket.listen(0).unwrap();
    let target = SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), port);
    let mut held = Vec::new();
    for _ in 0..16 {
        let attempt = tokio::time::timeout(
            Duration::from_millis(200),
            tokio::net::TcpStream::connect(target),
        )
        .await;
        match attempt {
            Ok(Ok(stream)) => held.push(stream),
            Ok(Err(e)) => panic!("cannot fill the IPv6 listener: {e}"),
            Err(_) => return (listener, held), // this SYN was dropped: the hole is ready
        }
    }
    panic!("the IPv6 listener never stopped accepting");
}

// Linux: a full accept queue drops SYNs there (other systems may answer with a reset).
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_ipv6_address_costs_the_happy_eyeballs_delay_not_the_timeout() {
    let _watchdog = watchdog::arm();
    let site = Site::start(None).await;
    let port = site.front.addr().port();
    let (_hole, _held) = black_hole_v6(port).await;
    // "localhost" resolves to the dead IPv6 address first, the working IPv4 one second.
    let hook = ResolveHook(Arc::new(|host: &str| {
        (host == "localhost").then(|| {
            vec![
                IpAddr::V6(Ipv6Addr::LOCALHOST),
                IpAddr::V4(Ipv4Addr::LOCALHOST),
            ]
        })
    }));
    let mut config = site.config_as("localhost");
    config.timing.request_timeout = Duration::from_secs(10);
    config.resolve_hook = Some(hook);

    let net = Network::new(&config).unwrap();
    let started = Instant::now();
    let stream = net.connect("localhost", port, false).await;
    let elapsed = started.elapsed();
    println!("socket dial with a dead IPv6 first: connected in {elapsed:?} (timeout 10 s)");
    assert!(stream.is_ok(), "{:?}", stream.err());
    assert!(
        elapsed >= Duration::from_millis(200) && elapsed < Duration::from_secs(2),
        "{elapsed:?}"
    );

    let e = engine(config);
    let started = Instant::now();
    let result = checks_over_http(&site, &e, 51).await;
    let http_elapsed = started.elapsed();
    println!("HTTP check with a dead IPv6 first: answered in {http_elapsed:?} (timeout 10 s)");
    assert_eq!(result.outcome, Outcome::Done, "{result:?}");
    assert!(http_elapsed < Duration::from_secs(3), "{http_elapsed:?}");

    let started = Instant::now();
    let events = tracks_over_the_socket(&site, &e, 52).await;
    println!(
        "tracking with a dead IPv6 first: done in {:?} (the order turns done after 300 ms)",
        started.elapsed()
    );
    assert_eq!(transports(&events), [TransportState::SocketConnected]);
    assert!(site.front.peers().iter().all(|p| p.is_ipv4()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ipv6_literals_are_dialed() {
    let _watchdog = watchdog::arm();
    let v6 = tokio::net::TcpListener::bind((Ipv6Addr::LOCALHOST, 0))
        .await
        .unwrap();
    let port = v6.local_addr().unwrap().port();
    let mut config = Config::new(PROJECT);
    config.allow_insecure_loopback = true;
    let net = Network::new(&config).unwrap();
    for host in ["::1", "[::1]"] {
        net.connect(host, port, false).await.unwrap();
        let (_, peer) = v6.accept().await.unwrap();
        assert!(peer.is_ipv6());
    }
    config.api_base_url = format!("http://[::1]:{port}/api");
    config.centrifugo_url = format!("ws://[::1]:{port}/connection/websocket");
    config.validate().unwrap();
}

// ---------------------------------------------------------------- bad input through the C ABI

fn configure_with(adjust: impl FnOnce(&mut xo_config)) -> (xo_result, String) {
    let api = CString::new("http://127.0.0.1:9/api").unwrap();
    let mut c: xo_config = unsafe { std::mem::zeroed() };
    c.struct_size = std::mem::size_of::<xo_config>() as u32;
    c.project_id = PROJECT;
    c.api_base_url = api.as_ptr();
    c.allow_insecure_loopback = 1;
    adjust(&mut c);
    let code = unsafe { xo_configure(&c) };
    let message = unsafe { CStr::from_ptr(xo_last_error()) }
        .to_string_lossy()
        .into_owned();
    if code == xo_result::Ok {
        assert_eq!(xo_shutdown(), xo_result::Ok);
    }
    (code, message)
}

#[test]
fn bad_network_settings_are_invalid_arguments() {
    let _watchdog = watchdog::arm();
    let secret = "Hunter2-proxy-pw";
    let bad_proxies = [
        format!("htp://u:{secret}@127.0.0.1:3128"),
        format!("socks4://u:{secret}@127.0.0.1:1080"),
        format!("http://u:{secret}@127.0.0.1:3128/path?x=1"),
        format!("u:{secret}@proxy:3128"),
        format!("http://u:{secret}@/"),
        "not a url".to_owned(),
        String::new(),
    ];
    for bad in &bad_proxies {
        let text = CString::new(bad.as_str()).unwrap();
        let (code, message) = configure_with(|c| c.proxy_url = text.as_ptr());
        assert_eq!(code, xo_result::InvalidArgument, "{bad}: {message}");
        assert!(message.contains("proxy_url"), "{message}");
        assert!(!message.contains(secret), "credentials leaked: {message}");
    }
    let missing = CString::new("/nonexistent/xo-tracker/ca.pem").unwrap();
    let (code, message) = configure_with(|c| c.ca_bundle_file = missing.as_ptr());
    assert_eq!(code, xo_result::InvalidArgument);
    assert!(
        message.contains("ca_bundle_file") && message.contains("cannot be read"),
        "{message}"
    );
    let dir = CString::new(std::env::temp_dir().to_string_lossy().into_owned()).unwrap();
    let (code, message) = configure_with(|c| c.ca_bundle_file = dir.as_ptr());
    assert_eq!(code, xo_result::InvalidArgument, "a directory: {message}");
    for pem in [
        "garbage",
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        "-----BEGIN CERTIFICATE-----\nnot base64 !!!\n-----END CERTIFICATE-----\n",
    ] {
        let text = CString::new(pem).unwrap();
        let (code, message) = configure_with(|c| c.ca_bundle_pem = text.as_ptr());
        assert_eq!(code, xo_result::InvalidArgument, "{pem}: {message}");
        assert!(message.contains("ca_bundle_pem"), "{message}");
    }
    // Good values pass.
    let ca = TestCa::new("xo test CA");
    let pem = CString::new(ca.pem).unwrap();
    let proxy = CString::new(format!("socks5h://u:{secret}@127.0.0.1:1080")).unwrap();
    let (code, message) = configure_with(|c| {
        c.ca_bundle_pem = pem.as_ptr();
        c.proxy_url = proxy.as_ptr();
    });
    assert_eq!(code, xo_result::Ok, "{message}");
}
