//! Proxies from the environment (`HTTPS_PROXY`, `ALL_PROXY`, `NO_PROXY`), for the socket and
//! HTTP alike, with real proxy servers on loopback. One test in its own binary: it changes the
//! process environment. Linux only: the proxies come from apt and bind 127.0.0.2.
#![cfg(target_os = "linux")]

mod net_support;

use net_support::*;
use xo_tracker::{Engine, Outcome};

const VARIABLES: [&str; 8] = [
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
];

fn clear_proxy_env() {
    for name in VARIABLES {
        std::env::remove_var(name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn environment_proxies_apply_to_socket_and_http() {
    let _watchdog = watchdog::arm();
    if !require("tinyproxy") || !require("microsocks") {
        return;
    }
    let http_proxy = tinyproxy(None, false).await;
    let socks = microsocks(None).await;
    let ca = TestCa::new("xo test CA");
    // wss:// and https://: the environment is ignored only in loopback test mode (ws://, http://).
    let engine_for = |site: &Site| {
        let mut config = site.config();
        config.ca_bundle_pem = Some(ca.pem.clone());
        Engine::new(config, tokio::runtime::Handle::current()).expect("engine")
    };

    clear_proxy_env();
    std::env::set_var(
        "HTTPS_PROXY",
        format!("http://127.0.0.1:{}", http_proxy.port),
    );
    let site = Site::start(Some(ca.server(&["127.0.0.1"], false))).await;
    let e = engine_for(&site);
    tracks_over_the_socket(&site, &e, 61).await;
    assert_eq!(checks_over_http(&site, &e, 62).await.outcome, Outcome::Done);
    all_through_proxy(&site.front);

    clear_proxy_env();
    std::env::set_var("all_proxy", format!("socks5h://127.0.0.1:{}", socks.port));
    let site = Site::start(Some(ca.server(&["127.0.0.1"], false))).await;
    let e = engine_for(&site);
    tracks_over_the_socket(&site, &e, 63).await;
    assert_eq!(checks_over_http(&site, &e, 64).await.outcome, Outcome::Done);
    all_through_proxy(&site.front);

    // NO_PROXY exempts the host: both go direct.
    std::env::set_var(
        "HTTPS_PROXY",
        format!("http://127.0.0.1:{}", http_proxy.port),
    );
    std::env::set_var("NO_PROXY", "localhost,127.0.0.1");
    let site = Site::start(Some(ca.server(&["127.0.0.1"], false))).await;
    let e = engine_for(&site);
    tracks_over_the_socket(&site, &e, 65).await;
    assert_eq!(checks_over_http(&site, &e, 66).await.outcome, Outcome::Done);
    let peers = site.front.peers();
    assert!(
        !peers.is_empty() && peers.iter().all(|p| *p != PROXY_EGRESS),
        "NO_PROXY was ignored: {peers:?}"
    );

    // Loopback test mode (ws://, http:// to the simulator) ignores the environment: proxies that
    // refuse every connection change nothing.
    clear_proxy_env();
    for name in ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"] {
        std::env::set_var(name, "socks5://127.0.0.1:9");
    }
    let site = Site::start(None).await;
    let e = Engine::new(site.config(), tokio::runtime::Handle::current()).expect("engine");
    tracks_over_the_socket(&site, &e, 67).await;
    assert_eq!(checks_over_http(&site, &e, 68).await.outcome, Outcome::Done);
    clear_proxy_env();
}
