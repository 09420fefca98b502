//! One rustls client configuration (ring provider, bundled Mozilla roots) shared by HTTP and sockets.

use std::sync::Arc;

/// Builds the TLS client configuration: TLS 1.2 and 1.3, ring, webpki roots, no ALPN (HTTP/1.1 and
/// WebSocket both need none).
pub fn client_config() -> Arc<rustls::ClientConfig> {
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .expect("ring supports TLS 1.2 and 1.3")
        .with_root_certificates(roots)
        .with_no_client_auth();
    Arc::new(config)
}
