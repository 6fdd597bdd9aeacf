//! `clavex healthcheck`: asks a running server's `/readyz` and exits 0 only on `200`. For container
//! health checks: the runtime image has no shell and no curl, and the address comes from the same
//! settings the server was started with, so a changed `CLAVEX_LISTEN` needs no second edit.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Args;
use clavex_config::Settings;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[derive(Debug, Args)]
pub struct HealthcheckArgs {
    /// Plain-HTTP URL to ask instead of http://LISTEN/readyz, e.g. http://127.0.0.1:8080/readyz
    /// (LISTEN from CLAVEX_LISTEN or the TOML file; 0.0.0.0 and [::] become loopback).
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
}

/// Docker's own default timeout is 30 s; answering well before lets the message reach its log.
const DEADLINE: Duration = Duration::from_secs(5);
/// A status line is short; anything longer is not the server we are looking for.
const MAX_STATUS_LINE: usize = 1024;

pub async fn run(args: HealthcheckArgs, settings: &Settings) -> anyhow::Result<()> {
    let (host, addr, path) = match &args.url {
        Some(url) => parse_url(url).await?,
        None => {
            let addr = loopback(settings.listen);
            if addr.port() == 0 {
                bail!(
                    "CLAVEX_LISTEN has port 0 (any free port): pass --url with the bound address"
                );
            }
            if settings.tls.is_some() {
                // This check speaks plain HTTP only: with built-in HTTPS, an open port is the most
                // it can tell.
                tokio::time::timeout(DEADLINE, TcpStream::connect(addr))
                    .await
                    .with_context(|| format!("no connection to {addr} within {DEADLINE:?}"))?
                    .with_context(|| format!("cannot connect to {addr}"))?;
                println!("{addr} accepts connections (HTTPS: /readyz not checked)");
                return Ok(());
            }
            (addr.to_string(), addr, "/readyz".to_owned())
        }
    };
    let shown = format!("http://{host}{path}");
    let status = tokio::time::timeout(DEADLINE, status_of(addr, &host, &path))
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

/// Splits `http://HOST[:PORT][/PATH]` and resolves HOST.
async fn parse_url(url: &str) -> anyhow::Result<(String, SocketAddr, String)> {
    let Some(rest) = url.strip_prefix("http://") else {
        bail!("--url {url}: expected a plain http:// URL such as http://127.0.0.1:8080/readyz");
    };
    let (host, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    if host.is_empty() || host.contains('@') {
        bail!("--url {url}: expected a host, without user name or password");
    }
    let with_port = if host.ends_with(']') || !host.contains(':') {
        format!("{host}:80")
    } else {
        host.to_owned()
    };
    let addr = tokio::net::lookup_host(&with_port)
        .await
        .with_context(|| format!("--url {url}: cannot resolve {host}"))?
        .next()
        .with_context(|| format!("--url {url}: {host} has no address"))?;
    Ok((host.to_owned(), addr, path.to_owned()))
}

/// Sends `GET path` and returns the status code of the answer.
async fn status_of(addr: SocketAddr, host: &str, path: &str) -> anyhow::Result<String> {
    let mut stream = TcpStream::connect(addr).await?;
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
        let (host, addr, path) = parse_url("http://127.0.0.1:9/readyz").await.unwrap();
        assert_eq!((host.as_str(), path.as_str()), ("127.0.0.1:9", "/readyz"));
        assert_eq!(addr.to_string(), "127.0.0.1:9");
        let (_, addr, path) = parse_url("http://[::1]").await.unwrap();
        assert_eq!(
            (addr.to_string().as_str(), path.as_str()),
            ("[::1]:80", "/")
        );
        for bad in [
            "https://x/readyz",
            "127.0.0.1:8080",
            "http://u:p@x/",
            "http:///x",
        ] {
            assert!(parse_url(bad).await.is_err(), "{bad}");
        }
    }
}
