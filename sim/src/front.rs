//! A front door for the simulator on its own loopback port: optionally terminates TLS (rustls),
//! then forwards the bytes to the simulator. It records where each client connected from, so a
//! test can tell a direct connection from one that came through a proxy bound to another
//! loopback address.

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};

use tokio::io::{copy_bidirectional, AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::TlsAcceptor;

/// A server certificate chain (leaf first, DER) and its PKCS#8 private key (DER).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsIdentity {
    /// Leaf first, then intermediates, each DER.
    pub cert_chain_der: Vec<Vec<u8>>,
    /// PKCS#8 DER.
    pub key_der: Vec<u8>,
}

/// A running front; dropping it stops accepting and closes its connections.
#[derive(Debug)]
pub struct Front {
    addr: SocketAddr,
    peers: Arc<Mutex<Vec<IpAddr>>>,
    task: JoinHandle<()>,
}

impl Front {
    /// Listens on `127.0.0.1:0` and forwards every connection to `backend` (a simulator's
    /// [`crate::Sim::addr`]), with TLS when `tls` is given.
    pub async fn start(backend: SocketAddr, tls: Option<TlsIdentity>) -> io::Result<Front> {
        let acceptor = match tls {
            Some(identity) => Some(acceptor(identity)?),
            None => None,
        };
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let peers = Arc::new(Mutex::new(Vec::new()));
        let task_peers = Arc::clone(&peers);
        let task = tokio::spawn(async move {
            let mut connections = JoinSet::new();
            loop {
                let (client, peer) = match listener.accept().await {
                    Ok(accepted) => accepted,
                    // Out of file descriptors and the like: back off instead of spinning.
                    Err(_) => {
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                        continue;
                    }
                };
                task_peers
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(peer.ip());
                let acceptor = acceptor.clone();
                connections.spawn(async move {
                    let _ = client.set_nodelay(true);
                    match acceptor {
                        Some(acceptor) => {
                            // A client that refuses our certificate ends the handshake here.
                            if let Ok(tls) = acceptor.accept(client).await {
                                forward(tls, backend).await;
                            }
                        }
                        None => forward(client, backend).await,
                    }
                });
                while connections.try_join_next().is_some() {}
            }
        });
        Ok(Front { addr, peers, task })
    }

    /// The listening address, `127.0.0.1:<port>`.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The address of every client connection so far, in order.
    pub fn peers(&self) -> Vec<IpAddr> {
        self.peers.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl Drop for Front {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn acceptor(identity: TlsIdentity) -> io::Result<TlsAcceptor> {
    let chain = identity
        .cert_chain_der
        .into_iter()
        .map(CertificateDer::from)
        .collect();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(identity.key_der));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|b| b.with_no_client_auth().with_single_cert(chain, key))
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

async fn forward<S: AsyncRead + AsyncWrite + Unpin>(mut client: S, backend: SocketAddr) {
    if let Ok(mut server) = TcpStream::connect(backend).await {
        let _ = server.set_nodelay(true);
        let _ = copy_bidirectional(&mut client, &mut server).await;
    }
}
