//! Linux: with no system CA certificates (SSL_CERT_FILE/SSL_CERT_DIR pointing at nothing), TLS
//! falls back to the bundled roots plus the extra bundle, logs why, and still connects. One test
//! in its own binary: it changes the process environment.
#![cfg(target_os = "linux")]

mod net_support;

use net_support::*;
use xo_tracker::tls::{self, TrustSource};
use xo_tracker::{Engine, Outcome};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_system_store_falls_back_to_the_bundled_roots() {
    let _watchdog = watchdog::arm();
    capture_log();
    let empty = std::env::temp_dir().join(format!("xo-empty-store-{}", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap();
    std::env::set_var("SSL_CERT_FILE", empty.join("none.pem"));
    std::env::set_var("SSL_CERT_DIR", &empty);

    let trust = tls::client_config(Vec::new()).unwrap();
    assert!(
        matches!(&trust.source, TrustSource::Bundled { reason } if reason.contains("no system CA")),
        "{}",
        trust.describe()
    );

    let ca = TestCa::new("xo test CA");
    let site = Site::start(Some(ca.server(&["127.0.0.1"], false))).await;
    let mut config = site.config();
    config.ca_bundle_pem = Some(ca.pem.clone());
    let e = Engine::new(config, tokio::runtime::Handle::current()).expect("engine");
    tracks_over_the_socket(&site, &e, 71).await;
    assert_eq!(checks_over_http(&site, &e, 72).await.outcome, Outcome::Done);
    let log = captured_log();
    assert!(
        log.iter()
            .any(|l| l.contains("bundled Mozilla roots") && l.contains("1 extra CA")),
        "{log:#?}"
    );
    assert!(log
        .iter()
        .any(|l| l.starts_with("TLS: not using the operating system verifier")));

    std::env::remove_var("SSL_CERT_FILE");
    std::env::remove_var("SSL_CERT_DIR");
    std::fs::remove_dir_all(&empty).unwrap();
    let trust = tls::client_config(Vec::new()).unwrap();
    if std::path::Path::new("/etc/ssl/certs/ca-certificates.crt").exists() {
        assert_eq!(trust.source, TrustSource::Platform, "{}", trust.describe());
    }
}
