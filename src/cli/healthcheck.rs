//! `clavex healthcheck`: asks a running server's `/readyz` and exits 0 only on `200`. For container
//! health checks: the runtime image has no shell and no curl, and the address comes from the same
//! settings the server was started with, so a changed `CLAVEX_LISTEN` needs no second edit.
//!
//! With built-in HTTPS (`CLAVEX_TLS_CERT`) it speaks HTTPS and trusts exactly one certificate: the
//! first one in that file, byte for byte (a pin, with the handshake signature still verified). So
//! a self-signed certificate works, a certificate for a public host name works over loopback, and
//! nothing else is accepted: no verification is ever skipped.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Args;
use clavex_config::Settings;
use rustls::{
    DigitallySignedStruct, SignatureScheme,
    client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier},
    crypto::CryptoProvider,
    pki_types::{CertificateDer, ServerName, UnixTime, pem::PemObject},
};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

#[derive(Debug, Args)]
pub struct HealthcheckArgs {
    /// URL to ask instead of http(s)://LISTEN/readyz, e.g. http://127.0.0.1:8080/readyz
    /// (LISTEN from CLAVEX_LISTEN or the TOML file; 0.0.0.0 and [::] become loopback). An
    /// https:// URL needs CLAVEX_TLS_CERT: its certificate is the only one trusted.
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
}

/// Docker's own default timeout is 30 s; answering well before lets the message reach its log.
const DEADLINE: Duration = Duration::from_secs(5);
/// A status line is short; anything longer is not the server we are looking for.
const MAX_STATUS_LINE: usize = 1024;

pub async fn run(args: HealthcheckArgs, settings: &Settings) -> anyhow::Result<()> {
    let target = match &args.url {
        Some(url) => parse_url(url).await?,
        None => {
            let addr = loopback(settings.listen);
            if addr.port() == 0 {
                bail!(
                    "CLAVEX_LISTEN has port 0 (any free port): pass --url with the bound address"
                );
            }
            Target {
                https: settings.tls.is_some(),
                host: addr.to_string(),
                addr,
                path: "/readyz".to_owned(),
            }
        }
    };
    let scheme = if target.https { "https" } else { "http" };
    let (host, addr, path) = (&target.host, target.addr, &target.path);
    let shown = format!("{scheme}://{host}{path}");
    let pinned = match (&settings.tls, target.https) {
        (Some(files), true) => Some(pinned_verifier(&files.cert)?),
        (None, true) => bail!(
            "--url {shown}: an https:// URL needs CLAVEX_TLS_CERT, the certificate the server \
             presents (it is the only one trusted); or use an http:// URL"
        ),
        (_, false) => None,
    };
    let status = tokio::time::timeout(DEADLINE, status_of(addr, host, path, pinned))
        .await
        .with_context(|| format!("{shown} did not answer within {DEADLINE:?}"))?
        .with_context(|| format!("cannot ask {shown}"))?;
    if status != "200" {
        bail!("{shown} answered {status}, not 200");
    }
    println!("{shown} answered 200");
    Ok(())
}

/// Where a server listening on `listen` can be reached from this machine.
fn loopback(listen: SocketAddr) -> SocketAddr {
    let ip = match listen.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, listen.port())
}

/// What to ask.
#[derive(Debug)]
struct Target {
    https: bool,
    /// As given, with its port if any: the `Host` header.
    host: String,
    addr: SocketAddr,
    path: String,
}

/// Splits `http(s)://HOST[:PORT][/PATH]` and resolves HOST.
async fn parse_url(url: &str) -> anyhow::Result<Target> {
    let (https, rest) = if let Some(rest) = url.strip_prefix("http://") {
        (false, rest)
    } else if let Some(rest) = url.strip_prefix("https://") {
        (true, rest)
    } else {
        bail!(
            "--url {url}: expected an http:// or https:// URL such as \
             http://127.0.0.1:8080/readyz"
        );
    };
    let (host, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    if host.is_empty() || host.contains('@') {
        bail!("--url {url}: expected a host, without user name or password");
    }
    let with_port = if host.ends_with(']') || !host.contains(':') {
        format!("{host}:{}", if https { 443 } else { 80 })
    } else {
        host.to_owned()
    };
    let addr = tokio::net::lookup_host(&with_port)
        .await
        .with_context(|| format!("--url {url}: cannot resolve {host}"))?
        .next()
        .with_context(|| format!("--url {url}: {host} has no address"))?;
    Ok(Target {
        https,
        host: host.to_owned(),
        addr,
        path: path.to_owned(),
    })
}

/// Sends `GET path` (over TLS when `pinned` is given) and returns the status code of the answer.
async fn status_of(
    addr: SocketAddr,
    host: &str,
    path: &str,
    pinned: Option<Arc<PinnedCertificate>>,
) -> anyhow::Result<String> {
    let stream = TcpStream::connect(addr).await?;
    let Some(pinned) = pinned else {
        return exchange(stream, host, path).await;
    };
    let provider = pinned.provider.clone();
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("no TLS version in common with the provider")?
        .dangerous()
        .with_custom_certificate_verifier(pinned)
        .with_no_client_auth();
    // The pin identifies the server; the name only decides whether SNI is sent (not for an IP).
    let name = ServerName::IpAddress(addr.ip().into());
    let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, stream)
        .await
        .context("TLS handshake")?;
    exchange(tls, host, path).await
}

async fn exchange(
    mut stream: impl AsyncRead + AsyncWrite + Unpin,
    host: &str,
    path: &str,
) -> anyhow::Result<String> {
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: clavex-healthcheck\r\n\
         Connection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await?;
    let mut head = Vec::new();
    let mut buf = [0u8; 256];
    while !head.windows(2).any(|w| w == b"\r\n") && head.len() < MAX_STATUS_LINE {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    let head = String::from_utf8_lossy(&head);
    let line = head.lines().next().unwrap_or_default();
    match line.split_whitespace().collect::<Vec<_>>()[..] {
        [version, code, ..] if version.starts_with("HTTP/") => Ok(code.to_owned()),
        _ => bail!("not an HTTP answer: {:?}", truncate(line)),
    }
}

fn truncate(line: &str) -> String {
    line.chars().take(80).collect()
}

/// Accepts exactly one server certificate. The handshake signature is still checked against it, so
/// only a server holding that certificate's key gets through.
#[derive(Debug)]
struct PinnedCertificate {
    certificate: CertificateDer<'static>,
    file: String,
    provider: Arc<CryptoProvider>,
}

fn pinned_verifier(cert_file: &Path) -> anyhow::Result<Arc<PinnedCertificate>> {
    let file = cert_file.display().to_string();
    let certificate = CertificateDer::pem_file_iter(cert_file)
        .with_context(|| format!("CLAVEX_TLS_CERT {file}: cannot read it"))?
        .next()
        .with_context(|| format!("CLAVEX_TLS_CERT {file}: no certificate in it"))?
        .with_context(|| format!("CLAVEX_TLS_CERT {file}: not valid PEM"))?;
    Ok(Arc::new(PinnedCertificate {
        certificate,
        file,
        provider: Arc::new(rustls::crypto::ring::default_provider()),
    }))
}

impl ServerCertVerifier for PinnedCertificate {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.certificate.as_ref() {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(format!(
                "the server's certificate is not the first one in CLAVEX_TLS_CERT {} (just \
                 replaced? the server takes new files within seconds)",
                self.file
            )))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unspecified_addresses_become_loopback() {
        let cases = [
            ("0.0.0.0:8080", "127.0.0.1:8080"),
            ("[::]:8080", "[::1]:8080"),
            ("10.1.2.3:9000", "10.1.2.3:9000"),
        ];
        for (listen, expected) in cases {
            assert_eq!(loopback(listen.parse().unwrap()).to_string(), expected);
        }
    }

    #[tokio::test]
    async fn urls() {
        let t = parse_url("http://127.0.0.1:9/readyz").await.unwrap();
        assert_eq!(
            (t.host.as_str(), t.path.as_str()),
            ("127.0.0.1:9", "/readyz")
        );
        assert_eq!(
            (t.addr.to_string().as_str(), t.https),
            ("127.0.0.1:9", false)
        );
        let t = parse_url("http://[::1]").await.unwrap();
        assert_eq!(
            (t.addr.to_string().as_str(), t.path.as_str()),
            ("[::1]:80", "/")
        );
        let t = parse_url("https://127.0.0.1/readyz").await.unwrap();
        assert_eq!(
            (t.addr.to_string().as_str(), t.https),
            ("127.0.0.1:443", true)
        );
        for bad in [
            "ftp://x/readyz",
            "127.0.0.1:8080",
            "http://u:p@x/",
            "http:///x",
        ] {
            assert!(parse_url(bad).await.is_err(), "{bad}");
        }
    }
}
