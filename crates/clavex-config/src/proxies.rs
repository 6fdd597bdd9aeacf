//! `CLAVEX_TRUSTED_PROXIES`: the peers whose forwarding headers are believed. Only the parsed list and
//! the membership test live here; reading the headers is the web crate's business.

use std::fmt;
use std::net::IpAddr;

use crate::values::InvalidValue;

/// One address or network, e.g. `10.0.0.0/8` or `2001:db8::1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNetwork {
    addr: IpAddr,
    prefix: u8,
}

impl IpNetwork {
    /// Parses `ADDR` or `ADDR/PREFIX`; an address with bits set past the prefix is refused, since it
    /// usually means a typo (`10.0.0.1/8` for `10.0.0.0/8`).
    pub fn parse(text: &str) -> Result<IpNetwork, String> {
        let (addr_text, prefix_text) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let addr: IpAddr = addr_text
            .parse()
            .map_err(|_| format!("`{text}` is not an IP address or CIDR network"))?;
        let addr = addr.to_canonical();
        let max = max_prefix(addr);
        let prefix = match prefix_text {
            None => max,
            Some(p) => match p.parse::<u8>() {
                Ok(p) if p <= max => p,
                _ => return Err(format!("`{text}`: the prefix length must be 0 to {max}")),
            },
        };
        let net = IpNetwork { addr, prefix };
        if net.network() != addr {
            return Err(format!(
                "`{text}` has bits set past the /{prefix} prefix; did you mean `{}/{prefix}`?",
                net.network()
            ));
        }
        Ok(net)
    }

    /// Whether `ip` is in this network. IPv4-mapped IPv6 addresses (`::ffff:10.0.0.1`, as a
    /// dual-stack listener reports IPv4 peers) count as their IPv4 address.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                mask(u128::from(u32::from(net)), self.prefix, 32)
                    == mask(u128::from(u32::from(ip)), self.prefix, 32)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                mask(u128::from(net), self.prefix, 128) == mask(u128::from(ip), self.prefix, 128)
            }
            _ => false,
        }
    }

    fn network(&self) -> IpAddr {
        match self.addr {
            IpAddr::V4(a) => {
                let bits = mask(u128::from(u32::from(a)), self.prefix, 32);
                // At most 32 bits remain after masking a 32-bit value.
                IpAddr::V4(u32::try_from(bits).unwrap_or(0).into())
            }
            IpAddr::V6(a) => IpAddr::V6(mask(u128::from(a), self.prefix, 128).into()),
        }
    }
}

impl fmt::Display for IpNetwork {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.prefix == max_prefix(self.addr) {
            write!(f, "{}", self.addr)
        } else {
            write!(f, "{}/{}", self.addr, self.prefix)
        }
    }
}

fn max_prefix(addr: IpAddr) -> u8 {
    if addr.is_ipv4() { 32 } else { 128 }
}

/// The top `prefix` bits of the `width`-bit value `bits`.
fn mask(bits: u128, prefix: u8, width: u32) -> u128 {
    let host_bits = width - u32::from(prefix);
    if host_bits >= 128 {
        0
    } else {
        (bits >> host_bits) << host_bits
    }
}

/// The proxies whose `X-Forwarded-For` (and incoming `X-Request-Id`) are believed. Empty: nobody's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNetwork>);

impl TrustedProxies {
    /// A comma-separated list of addresses and CIDR networks; blanks around items are ignored.
    pub fn parse(text: &str) -> Result<TrustedProxies, InvalidValue> {
        let mut nets = Vec::new();
        for item in text.split(',').map(str::trim) {
            if item.is_empty() {
                continue;
            }
            nets.push(IpNetwork::parse(item).map_err(|e| {
                InvalidValue(format!(
                    "{e}; expected comma-separated IP addresses and CIDR networks, e.g. \
                     `127.0.0.1, 10.0.0.0/8, fd00::/8`"
                ))
            })?);
        }
        Ok(TrustedProxies(nets))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|n| n.contains(ip))
    }
}

impl fmt::Display for TrustedProxies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, net) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{net}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn networks_and_addresses() {
        let t = TrustedProxies::parse(" 127.0.0.1, 10.0.0.0/8 ,fd00::/8,,2001:db8::7").unwrap();
        assert_eq!(
            t.to_string(),
            "127.0.0.1, 10.0.0.0/8, fd00::/8, 2001:db8::7"
        );
        for (addr, trusted) in [
            ("127.0.0.1", true),
            ("127.0.0.2", false),
            ("10.255.1.2", true),
            ("11.0.0.1", false),
            ("::ffff:10.1.2.3", true),
            ("fd12::1", true),
            ("fe80::1", false),
            ("2001:db8::7", true),
            ("2001:db8::8", false),
        ] {
            assert_eq!(t.contains(ip(addr)), trusted, "{addr}");
        }
        let all = TrustedProxies::parse("0.0.0.0/0, ::/0").unwrap();
        assert!(all.contains(ip("203.0.113.9")) && all.contains(ip("2001:db8::1")));
        assert!(TrustedProxies::parse("").unwrap().is_empty());
        assert!(!TrustedProxies::default().contains(ip("127.0.0.1")));
    }

    #[test]
    fn mistakes_are_named() {
        for (bad, says) in [
            ("10.0.0.1/8", "did you mean `10.0.0.0/8`"),
            ("10.0.0.0/33", "0 to 32"),
            ("::/129", "0 to 128"),
            ("proxy.local", "`proxy.local` is not an IP address"),
            ("10.0.0.0/x", "prefix length"),
            ("127.0.0.1:80", "not an IP address"),
        ] {
            let e = TrustedProxies::parse(bad).unwrap_err().0;
            assert!(e.contains(says), "{bad}: {e}");
        }
    }
}
