//! One rustls client configuration (ring provider) shared by HTTP and sockets. Certificates are
//! checked by the operating system's verifier where there is one (Windows, macOS, iOS, Android
//! after `xo_android_init`, the system store on Linux), with Mozilla's bundled roots as the
//! fallback, plus any extra CA certificates from the configuration.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;

use crate::config::Config;

/// Longest CA bundle read from a file.
pub(crate) const MAX_CA_BUNDLE_BYTES: usize = 4 * 1024 * 1024;

/// Set once the Android host handed the library its JVM and context (`xo_android_init`).
static PLATFORM_READY: AtomicBool = AtomicBool::new(cfg!(not(target_os = "android")));

/// Records that the platform verifier can be used (Android: after its JNI initialisation).
pub fn set_platform_ready() {
    PLATFORM_READY.store(true, Ordering::Release);
}

/// Which certificates are trusted, for the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TrustSource {
    /// The operating system's verifier (and trust store).
    Platform,
    /// Mozilla's roots compiled into the library; `reason` says why not the platform's.
    Bundled {
        /// Why the platform verifier is not used.
        reason: String,
    },
}

/// The TLS configuration and what it trusts.
pub struct Trust {
    /// The shared client configuration.
    pub config: Arc<rustls::ClientConfig>,
    /// Where the roots come from.
    pub source: TrustSource,
    /// How many extra CA certificates the configuration added.
    pub extra_certificates: usize,
}

impl Trust {
    /// One line for the log.
    pub fn describe(&self) -> String {
        let base = match &self.source {
            TrustSource::Platform => "TLS trust: operating system verifier".to_owned(),
            TrustSource::Bundled { reason } => {
                format!("TLS trust: bundled Mozilla roots ({reason})")
            }
        };
        match self.extra_certificates {
            0 => base,
            n => format!("{base} + {n} extra CA certificate(s) from the configuration"),
        }
    }
}

/// The extra CA certificates of `config` (`ca_bundle_pem` text and the `ca_bundle_file`
/// contents). An unreadable file, bad PEM, or a bundle without any certificate is an error.
pub fn extra_roots(config: &Config) -> Result<Vec<CertificateDer<'static>>, String> {
    let mut roots = Vec::new();
    if let Some(pem) = &config.ca_bundle_pem {
        roots.extend(parse_bundle("ca_bundle_pem", pem.as_bytes())?);
    }
    if let Some(path) = &config.ca_bundle_file {
        let bytes =
            read_bounded(path).map_err(|e| format!("ca_bundle_file {path} cannot be read: {e}"))?;
        roots.extend(parse_bundle(&format!("ca_bundle_file {path}"), &bytes)?);
    }
    Ok(roots)
}

fn read_bounded(path: &str) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(MAX_CA_BUNDLE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() > MAX_CA_BUNDLE_BYTES {
        return Err(std::io::Error::other(format!(
            "larger than {MAX_CA_BUNDLE_BYTES} bytes"
        )));
    }
    Ok(bytes)
}

fn parse_bundle(what: &str, pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, String> {
    let mut certs = Vec::new();
    for (i, cert) in CertificateDer::pem_slice_iter(pem).enumerate() {
        let cert = cert.map_err(|e| format!("{what}: PEM block {} is malformed: {e}", i + 1))?;
        let mut probe = rustls::RootCertStore::empty();
        probe
            .add(cert.clone())
            .map_err(|e| format!("{what}: certificate {} is not a usable CA: {e}", i + 1))?;
        certs.push(cert);
    }
    if certs.is_empty() {
        return Err(format!(
            "{what} contains no PEM certificate (-----BEGIN CERTIFICATE-----)"
        ));
    }
    Ok(certs)
}

/// Builds the TLS client configuration: TLS 1.2 and 1.3, ring, no ALPN (HTTP/1.1 and WebSocket
/// both need none), verified by the platform where possible, else by the bundled roots.
pub fn client_config(extra: Vec<CertificateDer<'static>>) -> Result<Trust, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let extra_certificates = extra.len();
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| format!("TLS setup failed: {e}"))?;
    let (config, source) = match platform_verifier(provider, &extra) {
        Ok(verifier) => (
            builder
                .dangerous()
                .with_custom_certificate_verifier(verifier)
                .with_no_client_auth(),
            TrustSource::Platform,
        ),
        Err(reason) => {
            let mut roots = rustls::RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            };
            for cert in extra {
                roots
                    .add(cert)
                    .map_err(|e| format!("an extra CA certificate is not usable: {e}"))?;
            }
            (
                builder.with_root_certificates(roots).with_no_client_auth(),
                TrustSource::Bundled { reason },
            )
        }
    };
    Ok(Trust {
        config: Arc::new(config),
        source,
        extra_certificates,
    })
}

type Verifier = Arc<dyn rustls::client::danger::ServerCertVerifier>;

/// Windows, macOS, iOS: the operating system's verifier, with the extra roots.
#[cfg(any(windows, target_vendor = "apple"))]
fn platform_verifier(
    provider: Arc<rustls::crypto::CryptoProvider>,
    extra: &[CertificateDer<'static>],
) -> Result<Verifier, String> {
    debug_assert!(PLATFORM_READY.load(Ordering::Acquire));
    rustls_platform_verifier::Verifier::new_with_extra_roots(extra.iter().cloned(), provider)
        .map(|v| Arc::new(v) as Verifier)
        .map_err(|e| format!("the operating system verifier is unavailable: {e}"))
}

/// Linux and other Unix systems: the system CA store (`/etc/ssl/certs` and friends, `SSL_CERT_FILE`,
/// `SSL_CERT_DIR`) plus the extra roots, verified by webpki, as rustls-platform-verifier does
/// there; an empty store falls back to the bundled roots.
#[cfg(all(unix, not(target_os = "android"), not(target_vendor = "apple")))]
fn platform_verifier(
    provider: Arc<rustls::crypto::CryptoProvider>,
    extra: &[CertificateDer<'static>],
) -> Result<Verifier, String> {
    let found = rustls_native_certs::load_native_certs();
    let mut roots = rustls::RootCertStore::empty();
    let (added, _unusable) = roots.add_parsable_certificates(found.certs);
    if added == 0 {
        return Err(format!(
            "no system CA certificates found ({} load errors)",
            found.errors.len()
        ));
    }
    for cert in extra {
        roots
            .add(cert.clone())
            .map_err(|e| format!("an extra CA certificate is not usable: {e}"))?;
    }
    rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
        .build()
        .map(|v| v as Verifier)
        .map_err(|e| format!("the system CA store is unusable: {e}"))
}

/// Any other target: the bundled roots.
#[cfg(not(any(windows, unix)))]
fn platform_verifier(
    _provider: Arc<rustls::crypto::CryptoProvider>,
    _extra: &[CertificateDer<'static>],
) -> Result<Verifier, String> {
    Err("this platform has no supported trust store".to_owned())
}

/// Android: its verifier once `xo_android_init` ran, without extra roots (it takes none).
#[cfg(target_os = "android")]
fn platform_verifier(
    provider: Arc<rustls::crypto::CryptoProvider>,
    extra: &[CertificateDer<'static>],
) -> Result<Verifier, String> {
    if !PLATFORM_READY.load(Ordering::Acquire) {
        return Err("xo_android_init was not called before xo_configure".to_owned());
    }
    if !extra.is_empty() {
        // The Android verifier cannot take extra roots: an extra CA means the bundled roots.
        return Err(
            "an extra CA bundle is configured, which Android's verifier cannot add".to_owned(),
        );
    }
    rustls_platform_verifier::Verifier::new(provider)
        .map(|v| Arc::new(v) as Verifier)
        .map_err(|e| format!("the Android verifier is unavailable: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_bad_bundles() {
        let _watchdog = crate::test_watchdog::arm();
        let mut c = Config::new(1);
        c.ca_bundle_pem = Some("not pem".into());
        assert!(extra_roots(&c).unwrap_err().contains("no PEM certificate"));
        c.ca_bundle_pem =
            Some("-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n".into());
        assert!(extra_roots(&c).is_err());
        c.ca_bundle_pem = None;
        c.ca_bundle_file = Some("/nonexistent/xo/ca.pem".into());
        assert!(extra_roots(&c).unwrap_err().contains("cannot be read"));
        assert!(extra_roots(&Config::new(1)).unwrap().is_empty());
    }

    #[test]
    fn builds_a_configuration() {
        let _watchdog = crate::test_watchdog::arm();
        let trust = client_config(Vec::new()).unwrap();
        assert!(trust.describe().starts_with("TLS trust: "));
        assert!(trust.config.alpn_protocols.is_empty());
    }
}
