//! The client's address, decided once per request and stored as the `ClientAddr` extension: the TCP
//! peer, or — only when the peer is one of `CLAVEX_TRUSTED_PROXIES` — the right-most
//! `X-Forwarded-For` address that is not itself a trusted proxy. Audit events, sign-in throttling
//! and the request id all read it from here, so they cannot disagree; nothing else reads
//! `ConnectInfo`.
//!
//! Forwarded host and proto (`X-Forwarded-Host`, `X-Forwarded-Proto`) are never read anywhere:
//! issuers and links come only from `CLAVEX_PUBLIC_URL`. RFC 7239 `Forwarded` is not read either: a
//! proxy that appends to one header usually passes the other through untouched, and believing a
//! header that only the client wrote would let it choose its own address.

use std::net::{IpAddr, SocketAddr};

use axum::{
    extract::{ConnectInfo, Request, State},
    http::HeaderMap,
    middleware::Next,
    response::Response,
};
use clavex_config::TrustedProxies;

use crate::AppState;

/// Most `X-Forwarded-For` entries looked at, from the right: more hops than any real chain of
/// proxies, and a bound on the work a crafted header can cause.
const MAX_HOPS: usize = 32;

/// Who sent the request, as far as the trusted proxies let us tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr {
    pub ip: IpAddr,
    /// Whether the request's own bookkeeping headers (`X-Request-Id`) may be believed: no trusted
    /// proxies are configured (every peer may set them, as before the setting existed), or the peer
    /// is one of them.
    pub headers_trusted: bool,
}

/// Middleware: computes the `ClientAddr` of every request served with connect info.
pub async fn layer(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    if let Some(ConnectInfo(peer)) = req.extensions().get::<ConnectInfo<SocketAddr>>().copied() {
        let client = resolve(peer.ip(), req.headers(), &state.trusted_proxies);
        req.extensions_mut().insert(client);
    }
    next.run(req).await
}

/// The client behind `peer`. Each proxy appends the address it received the request from, so the
/// list is read from the right, over our own proxies, to the first address we did not put there.
pub fn resolve(peer: IpAddr, headers: &HeaderMap, trusted: &TrustedProxies) -> ClientAddr {
    let peer = peer.to_canonical();
    if trusted.is_empty() || !trusted.contains(peer) {
        return ClientAddr {
            ip: peer,
            headers_trusted: trusted.is_empty(),
        };
    }
    let entries: Vec<Option<&str>> = headers
        .get_all("x-forwarded-for")
        .iter()
        // Split on the bytes, so that a client's non-ASCII junk spoils only its own entry,
        // never the addresses our proxies appended to its right.
        .flat_map(|value| {
            value
                .as_bytes()
                .split(|b| *b == b',')
                .map(|e| std::str::from_utf8(e).ok())
        })
        .collect();
    let mut client = peer;
    for entry in entries.into_iter().rev().take(MAX_HOPS) {
        // An entry that is no address ends the walk at the last hop we could read.
        let Some(ip) = entry.and_then(parse_hop) else {
            break;
        };
        client = ip;
        if !trusted.contains(ip) {
            break;
        }
    }
    ClientAddr {
        ip: client,
        headers_trusted: true,
    }
}

/// One `X-Forwarded-For` entry: an address, possibly bracketed (IPv6) or with a port, as some
/// proxies write them.
fn parse_hop(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    let ip = entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .or_else(|| {
            entry
                .strip_prefix('[')?
                .strip_suffix(']')?
                .parse::<IpAddr>()
                .ok()
        })?;
    Some(ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn xff(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn client(peer: &str, trusted: &str, values: &[&str]) -> (String, bool) {
        let trusted = TrustedProxies::parse(trusted).unwrap();
        let c = resolve(ip(peer), &xff(values), &trusted);
        (c.ip.to_string(), c.headers_trusted)
    }

    #[test]
    fn nobody_trusted_means_the_peer() {
        assert_eq!(
            client("127.0.0.1", "", &["203.0.113.9"]),
            ("127.0.0.1".into(), true)
        );
    }

    #[test]
    fn an_untrusted_peer_is_the_client_and_its_headers_are_not_believed() {
        assert_eq!(
            client("198.51.100.1", "10.0.0.0/8", &["203.0.113.9"]),
            ("198.51.100.1".into(), false)
        );
    }

    #[test]
    fn the_right_most_untrusted_hop_is_the_client() {
        let trusted = "10.0.0.0/8, 127.0.0.1";
        // The client forged the first entry; our proxies appended the rest.
        assert_eq!(
            client(
                "127.0.0.1",
                trusted,
                &["1.1.1.1, 203.0.113.9", "10.0.0.2, 10.0.0.3"]
            ),
            ("203.0.113.9".into(), true)
        );
        assert_eq!(
            client("10.1.1.1", trusted, &["2001:db8::5"]),
            ("2001:db8::5".into(), true)
        );
        // Ports and brackets as some proxies write them.
        for entry in ["203.0.113.9:5555", "[2001:db8::5]:443", "[2001:db8::5]"] {
            let (addr, _) = client("127.0.0.1", trusted, &[entry]);
            assert!(entry.contains(&addr), "{entry}: {addr}");
        }
        // Only trusted hops: the left-most of them.
        assert_eq!(
            client("127.0.0.1", trusted, &["10.0.0.9, 10.0.0.8"]),
            ("10.0.0.9".into(), true)
        );
        // No header: the proxy itself.
        assert_eq!(
            client("127.0.0.1", trusted, &[]),
            ("127.0.0.1".into(), true)
        );
    }

    /// nginx's `$proxy_add_x_forwarded_for` appends to whatever the client sent: bytes that are
    /// not text in the client's part must not hide the address the proxy appended.
    #[test]
    fn a_clients_non_ascii_junk_spoils_only_its_own_entry() {
        let mut h = HeaderMap::new();
        h.append(
            "x-forwarded-for",
            HeaderValue::from_bytes(b"\xff\xfe, 203.0.113.9").unwrap(),
        );
        let trusted = TrustedProxies::parse("127.0.0.1").unwrap();
        let c = resolve(ip("127.0.0.1"), &h, &trusted);
        assert_eq!(c.ip.to_string(), "203.0.113.9");
    }

    #[test]
    fn garbage_stops_the_walk_at_the_last_readable_hop() {
        let trusted = "10.0.0.0/8, 127.0.0.1";
        assert_eq!(
            client("127.0.0.1", trusted, &["203.0.113.9, unknown, 10.0.0.2"]),
            ("10.0.0.2".into(), true)
        );
        assert_eq!(
            client("127.0.0.1", trusted, &["203.0.113.9, "]),
            ("127.0.0.1".into(), true)
        );
    }

    #[test]
    fn mapped_ipv4_peers_count_as_ipv4() {
        assert_eq!(
            client("::ffff:127.0.0.1", "127.0.0.1", &["203.0.113.9"]),
            ("203.0.113.9".into(), true)
        );
        assert_eq!(
            client("::ffff:192.0.2.1", "", &[]),
            ("192.0.2.1".into(), true)
        );
    }
}
