//! Built-in HTTPS: the PEM certificate chain and key (`CLAVEX_TLS_CERT`, `CLAVEX_TLS_KEY`) loaded and
//! checked, a certificate resolver whose pair a watcher swaps when the files change, and a listener
//! that does TLS handshakes off the accept loop.
//!
//! rustls with the ring provider, the same rustls and provider that reqwest and sqlx already use.
//! TLS 1.2 and 1.3; ALPN offers only `http/1.1`, because the server speaks HTTP/1.1 (axum's
//! HTTP/2 would also have to be switched on for plain listeners, and brings a new dependency).
//!
//! Reloading polls the two files every 2 seconds and compares a hash of their contents: no
//! platform-specific watcher, no missed event when a file is replaced by a rename (certbot, Kubernetes
//! secret volumes swap symlinks), and the reading costs two small file reads. A pair that does not
//! load keeps the old one serving until the files change again.

use std::{
    io,
    net::SocketAddr,
    path::Path,
    sync::{Arc, RwLock},
    time::Duration,
};

use anyhow::Context;
use clavex_config::TlsFiles;
use rustls::{
    ServerConfig,
    crypto::CryptoProvider,
    pki_types::{
        CertificateDer, PrivateKeyDer,
        pem::{self, PemObject},
    },
    server::{ClientHello, ResolvesServerCert},
    sign::CertifiedKey,
};
use sha2::{Digest, Sha256};
use tokio::{
    net::{TcpListener, TcpStream},
    sync::mpsc,
};
use tokio_rustls::{TlsAcceptor, server::TlsStream};

/// How often the certificate and key files are looked at.
pub const RELOAD_POLL: Duration = Duration::from_secs(2);
/// A client that has not finished its handshake by then is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Finished handshakes waiting for the server to take them.
const READY_QUEUE: usize = 64;

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A certificate chain and key that belong together, ready to serve.
#[derive(Debug, Clone)]
pub struct LoadedPair {
    pub certified: Arc<CertifiedKey>,
    /// Certificates in the chain, the server's own first.
    pub chain_len: usize,
    /// The server certificate's "not after", e.g. `2026-03-01T12:00:00Z`, when it could be read.
    pub not_after: Option<String>,
}

/// The contents of both files, as read at one moment (`Err`: why a file could not be read).
#[derive(Debug, PartialEq, Eq)]
struct Contents {
    cert: Result<Vec<u8>, String>,
    key: Result<Vec<u8>, String>,
}

impl Contents {
    fn read(files: &TlsFiles) -> Contents {
        let read = |path: &Path| std::fs::read(path).map_err(|e| e.to_string());
        Contents {
            cert: read(&files.cert),
            key: read(&files.key),
        }
    }

    /// Identifies what was read, so that an unchanged pair is not parsed again.
    fn fingerprint(&self) -> [u8; 32] {
        let mut hash = Sha256::new();
        for part in [&self.cert, &self.key] {
            match part {
                Ok(bytes) => {
                    hash.update([1]);
                    hash.update(bytes.len().to_be_bytes());
                    hash.update(bytes);
                }
                Err(e) => {
                    hash.update([0]);
                    hash.update(e.len().to_be_bytes());
                    hash.update(e.as_bytes());
                }
            }
        }
        hash.finalize().into()
    }
}

/// Reads and checks the pair named by `files`: both files readable PEM, at least one certificate,
/// an unencrypted PKCS#8, RSA or SEC1 key that rustls can sign with, and that key the one of the
/// first certificate. Errors name the variable, the file and the problem.
pub fn load(files: &TlsFiles) -> anyhow::Result<LoadedPair> {
    load_contents(files, &Contents::read(files))
}

fn load_contents(files: &TlsFiles, contents: &Contents) -> anyhow::Result<LoadedPair> {
    let cert_file = format!("CLAVEX_TLS_CERT {}", files.cert.display());
    let key_file = format!("CLAVEX_TLS_KEY {}", files.key.display());
    let cert_bytes = contents
        .cert
        .as_ref()
        .map_err(|e| anyhow::anyhow!("{cert_file}: cannot read it: {e}"))?;
    let key_bytes = contents
        .key
        .as_ref()
        .map_err(|e| anyhow::anyhow!("{key_file}: cannot read it: {e}"))?;

    let chain = CertificateDer::pem_slice_iter(cert_bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| anyhow::anyhow!("{cert_file}: not valid PEM: {e}"))?;
    if chain.is_empty() {
        anyhow::bail!(
            "{cert_file}: no certificate in it (expected PEM blocks \
             `-----BEGIN CERTIFICATE-----`, the server's certificate first)"
        );
    }
    let key = match PrivateKeyDer::from_pem_slice(key_bytes) {
        Ok(key) => key,
        Err(pem::Error::NoItemsFound) if contains(key_bytes, b"ENCRYPTED PRIVATE KEY") => {
            anyhow::bail!(
                "{key_file}: the key is encrypted; Clavex needs it unencrypted (e.g. `openssl pkey \
                 -in encrypted.pem -out key.pem`), readable only by its user"
            )
        }
        Err(pem::Error::NoItemsFound) => anyhow::bail!(
            "{key_file}: no private key in it (expected `-----BEGIN PRIVATE KEY-----`, \
             `-----BEGIN RSA PRIVATE KEY-----` or `-----BEGIN EC PRIVATE KEY-----`)"
        ),
        Err(e) => anyhow::bail!("{key_file}: not valid PEM: {e}"),
    };
    let signing_key = provider().key_provider.load_private_key(key).map_err(|e| {
        anyhow::anyhow!(
            "{key_file}: not a usable private key ({e}); expected RSA (2048 bits or more), \
                 ECDSA P-256/P-384 or Ed25519"
        )
    })?;
    let chain_len = chain.len();
    let not_after = not_after(&chain[0]);
    let certified = CertifiedKey::new(chain, signing_key);
    match certified.keys_match() {
        // Unknown: the key type cannot tell its public key; the handshake will show.
        Ok(()) | Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::Unknown)) => {}
        Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch)) => {
            anyhow::bail!(
                "the private key in {key_file} does not belong to the first certificate in \
                 {cert_file} (a renewed certificate with the old key, or the files of two \
                 different pairs?)"
            )
        }
        Err(e) => anyhow::bail!("{cert_file}: the first certificate cannot be read: {e}"),
    }
    Ok(LoadedPair {
        certified: Arc::new(certified),
        chain_len,
        not_after,
    })
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Gives every new handshake the pair loaded last.
#[derive(Debug)]
pub struct CertResolver {
    current: RwLock<Arc<CertifiedKey>>,
}

impl CertResolver {
    fn new(pair: &LoadedPair) -> Self {
        CertResolver {
            current: RwLock::new(pair.certified.clone()),
        }
    }

    fn current(&self) -> Arc<CertifiedKey> {
        // A poisoned lock still holds a complete pair: writers only swap an Arc.
        self.current
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn replace(&self, pair: &LoadedPair) {
        *self
            .current
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = pair.certified.clone();
    }
}

impl ResolvesServerCert for CertResolver {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current())
    }
}

/// Built-in HTTPS ready to serve: the rustls configuration, and the watcher that keeps its pair
/// current.
pub struct Https {
    pub config: Arc<ServerConfig>,
    /// The pair loaded at start-up.
    pub loaded: LoadedPair,
    pub watcher: CertWatcher,
}

impl Https {
    /// Loads and checks the pair (see [`load`]) and builds the server configuration around it.
    pub fn load(files: &TlsFiles) -> anyhow::Result<Https> {
        let contents = Contents::read(files);
        let loaded = load_contents(files, &contents)?;
        let resolver = Arc::new(CertResolver::new(&loaded));
        let mut config = ServerConfig::builder_with_provider(provider())
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .context("the TLS provider supports neither TLS 1.2 nor 1.3")?
            .with_no_client_auth()
            .with_cert_resolver(resolver.clone());
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Https {
            config: Arc::new(config),
            watcher: CertWatcher {
                files: files.clone(),
                resolver,
                seen: contents.fingerprint(),
                last_failure: None,
            },
            loaded,
        })
    }
}

/// What became of a change to the files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReloadOutcome {
    /// The new pair serves new connections.
    Success,
    /// The new files did not load; the previous pair still serves.
    Failure,
}

impl ReloadOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            ReloadOutcome::Success => "success",
            ReloadOutcome::Failure => "failure",
        }
    }
}

/// Watches the certificate and key files and swaps the served pair when they change into a valid
/// one.
pub struct CertWatcher {
    files: TlsFiles,
    resolver: Arc<CertResolver>,
    /// Fingerprint of the contents looked at last, loaded or not.
    seen: [u8; 32],
    /// The message of the last failed reload, so that one problem is warned about once.
    last_failure: Option<String>,
}

impl CertWatcher {
    /// Polls every [`RELOAD_POLL`] until dropped, calling `on_reload` after each change it acted on.
    pub async fn run(mut self, on_reload: impl Fn(ReloadOutcome) + Send + 'static) {
        let mut tick = tokio::time::interval(RELOAD_POLL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            tick.tick().await;
            let files = self.files.clone();
            let Ok(contents) = tokio::task::spawn_blocking(move || Contents::read(&files)).await
            else {
                continue;
            };
            if let Some(outcome) = self.check(&contents) {
                on_reload(outcome);
            }
        }
    }

    /// Acts on freshly read contents; `None` when they are what was seen last.
    fn check(&mut self, contents: &Contents) -> Option<ReloadOutcome> {
        let fingerprint = contents.fingerprint();
        if fingerprint == self.seen {
            return None;
        }
        self.seen = fingerprint;
        match load_contents(&self.files, contents) {
            Ok(pair) => {
                self.resolver.replace(&pair);
                self.last_failure = None;
                tracing::info!(
                    cert = %self.files.cert.display(),
                    not_after = pair.not_after.as_deref().unwrap_or("unknown"),
                    "TLS certificate reloaded; new connections use it (valid until {})",
                    pair.not_after.as_deref().unwrap_or("an unknown date")
                );
                Some(ReloadOutcome::Success)
            }
            Err(e) => {
                let message = format!("{e:#}");
                if self.last_failure.as_deref() != Some(message.as_str()) {
                    tracing::warn!(
                        "the TLS files changed but do not load, so the previous certificate \
                         still serves (retried when they change again): {message}"
                    );
                    self.last_failure = Some(message);
                }
                Some(ReloadOutcome::Failure)
            }
        }
    }
}

/// A listener whose connections have finished their TLS handshake. Handshakes run in their own
/// tasks, so a slow or broken client holds up nobody; a failed one is logged at debug only (port
/// scanners and plain-HTTP clients cause them all day). Dropping the listener closes the port.
pub struct TlsListener {
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
    acceptor: tokio::task::JoinHandle<()>,
}

impl TlsListener {
    pub fn new(tcp: TcpListener, config: Arc<ServerConfig>) -> io::Result<TlsListener> {
        let local = tcp.local_addr()?;
        let (tx, ready) = mpsc::channel(READY_QUEUE);
        let acceptor = tokio::spawn(accept_loop(tcp, TlsAcceptor::from(config), tx));
        Ok(TlsListener {
            ready,
            local,
            acceptor,
        })
    }
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        self.acceptor.abort();
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(connection) => connection,
            // The accept loop never ends while the listener lives; wait for shutdown.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.local)
    }
}

async fn accept_loop(
    tcp: TcpListener,
    acceptor: TlsAcceptor,
    ready: mpsc::Sender<(TlsStream<TcpStream>, SocketAddr)>,
) {
    loop {
        let (stream, peer) = match tcp.accept().await {
            Ok(connection) => connection,
            Err(e) => {
                accept_error(e).await;
                continue;
            }
        };
        let (acceptor, ready) = (acceptor.clone(), ready.clone());
        tokio::spawn(async move {
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                Ok(Ok(tls)) => {
                    // Fails only while shutting down, when nobody takes connections any more.
                    let _ = ready.send((tls, peer)).await;
                }
                Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
            }
        });
    }
}

/// Like axum's own loop: a connection that died before it was accepted is nobody's problem; other
/// errors (out of file descriptors) are logged and retried after a pause instead of spinning.
async fn accept_error(e: io::Error) {
    use io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        e.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %e, "cannot accept a connection; retrying in a second");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// The "not after" of a DER certificate as `YYYY-MM-DDTHH:MM:SSZ`: the fifth element of the
/// TBSCertificate (after the optional version, serial, signature algorithm and issuer) is the
/// validity, whose second time is "not after". Only for the log; `None` if anything is unexpected.
fn not_after(cert: &[u8]) -> Option<String> {
    let (_, certificate, _) = der_element(cert)?;
    let (_, mut tbs, _) = der_element(certificate)?;
    let (tag, _, rest) = der_element(tbs)?;
    if tag == 0xa0 {
        tbs = rest; // [0] version
    }
    for _ in 0..3 {
        tbs = der_element(tbs)?.2; // serial, signature algorithm, issuer
    }
    let (_, validity, _) = der_element(tbs)?;
    let (_, _, rest) = der_element(validity)?; // not before
    let (tag, time, _) = der_element(rest)?;
    let time = std::str::from_utf8(time).ok()?;
    let full = match (tag, time.len()) {
        // UTCTime YYMMDDHHMMSSZ: years 50 to 99 are 19xx (RFC 5280).
        (0x17, 13) => {
            let yy: u32 = time.get(..2)?.parse().ok()?;
            format!("{}{time}", if yy >= 50 { "19" } else { "20" })
        }
        // GeneralizedTime YYYYMMDDHHMMSSZ.
        (0x18, 15) => time.to_owned(),
        _ => return None,
    };
    if !full.is_ascii() || !full.ends_with('Z') || !full[..14].bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(format!(
        "{}-{}-{}T{}:{}:{}Z",
        &full[..4],
        &full[4..6],
        &full[6..8],
        &full[8..10],
        &full[10..12],
        &full[12..14]
    ))
}

/// One DER element: its tag, its contents and what follows it.
fn der_element(data: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = data.split_first()?;
    let (&first, mut rest) = rest.split_first()?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 {
            return None;
        }
        let (bytes, after) = rest.split_at_checked(count)?;
        rest = after;
        bytes.iter().fold(0usize, |n, b| (n << 8) | usize::from(*b))
    };
    let (contents, after) = rest.split_at_checked(len)?;
    Some((tag, contents, after))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_not_after_of_both_time_forms() {
        // A minimal TBSCertificate-shaped structure: version, serial, algorithm, issuer, validity.
        fn cert(not_after: (u8, &str)) -> Vec<u8> {
            fn el(tag: u8, body: &[u8]) -> Vec<u8> {
                let mut v = vec![tag, u8::try_from(body.len()).unwrap()];
                v.extend_from_slice(body);
                v
            }
            let validity = [
                el(0x17, b"250101000000Z"),
                el(not_after.0, not_after.1.as_bytes()),
            ]
            .concat();
            let tbs = [
                el(0xa0, &el(0x02, &[2])),
                el(0x02, &[1]),
                el(0x30, &[]),
                el(0x30, &[]),
                el(0x30, &validity),
            ]
            .concat();
            el(0x30, &el(0x30, &tbs))
        }
        assert_eq!(
            not_after(&cert((0x17, "260301120000Z"))).as_deref(),
            Some("2026-03-01T12:00:00Z")
        );
        assert_eq!(
            not_after(&cert((0x17, "991231235959Z"))).as_deref(),
            Some("1999-12-31T23:59:59Z")
        );
        assert_eq!(
            not_after(&cert((0x18, "40960101000000Z"))).as_deref(),
            Some("4096-01-01T00:00:00Z")
        );
        assert_eq!(not_after(&cert((0x17, "2603011200Z"))), None);
        assert_eq!(not_after(b"\x30\x05"), None);
    }
}
