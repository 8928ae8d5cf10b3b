//! The client's address: the socket's peer, or, when the peer is a trusted
//! proxy, the right-most `X-Forwarded-For` address that is not one.
//!
//! Walking from the right matters: each proxy appends the address it got
//! the request from, so only the entries added by trusted proxies are
//! facts; anything further left was written by the client and may be
//! forged. `X-Forwarded-For` from a peer that is not trusted is ignored.

use std::{
    net::{IpAddr, SocketAddr},
    str::FromStr,
};

use axum::http::HeaderMap;

/// The client's address as computed once per request by the HTTP layer
/// (`http::rate_limit`), kept in the request's extensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

/// `ROOST_TRUSTED_PROXIES`: addresses and CIDR blocks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<(IpAddr, u8)>);

impl FromStr for TrustedProxies {
    type Err = String;

    /// `10.0.0.0/8, 127.0.0.1, fd00::/8`
    fn from_str(list: &str) -> Result<Self, String> {
        let mut nets = Vec::new();
        for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (addr, len) = match item.split_once('/') {
                Some((a, l)) => (a, Some(l)),
                None => (item, None),
            };
            let addr: IpAddr = addr
                .parse()
                .map_err(|_| format!("{item:?} is not an IP address or CIDR block"))?;
            let addr = addr.to_canonical();
            let max = if addr.is_ipv4() { 32 } else { 128 };
            let len = match len {
                None => max,
                Some(l) => l
                    .parse::<u8>()
                    .ok()
                    .filter(|l| *l <= max)
                    .ok_or_else(|| format!("{item:?}: the prefix length must be 0..={max}"))?,
            };
            nets.push((addr, len));
        }
        Ok(Self(nets))
    }
}

fn masked(bits: u128, len: u8, width: u8) -> u128 {
    if len == 0 { 0 } else { bits >> (width - len) }
}

impl TrustedProxies {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|(net, len)| match (net, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                masked(u32::from(*n).into(), *len, 32) == masked(u32::from(a).into(), *len, 32)
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                masked(u128::from(*n), *len, 128) == masked(u128::from(a), *len, 128)
            }
            _ => false,
        })
    }

    /// The client's address, given the socket's peer and the headers.
    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let mut client = peer.to_canonical();
        if !self.contains(client) {
            return client;
        }
        // Every X-Forwarded-For header, in order, as one list.
        let hops: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect();
        for hop in hops.iter().rev() {
            let Some(addr) = parse_hop(hop) else {
                // Garbage: what lies left of it cannot be trusted either.
                break;
            };
            client = addr;
            if !self.contains(addr) {
                break;
            }
        }
        client
    }
}

/// `1.2.3.4`, `1.2.3.4:5678`, `::1` or `[::1]:80`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .map(|ip| ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    fn xff(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", v.parse().expect("header"));
        }
        h
    }

    #[test]
    fn parses_addresses_and_blocks() {
        let t: TrustedProxies = "10.0.0.0/8, 127.0.0.1,fd00::/8".parse().expect("valid");
        assert!(t.contains(ip("10.1.2.3")));
        assert!(t.contains(ip("127.0.0.1")));
        assert!(t.contains(ip("::ffff:127.0.0.1")), "IPv4-mapped");
        assert!(!t.contains(ip("127.0.0.2")));
        assert!(!t.contains(ip("11.0.0.1")));
        assert!(t.contains(ip("fd12::1")));
        assert!(!t.contains(ip("fe80::1")));
        assert!(
            "0.0.0.0/0"
                .parse::<TrustedProxies>()
                .expect("any")
                .contains(ip("8.8.8.8"))
        );
        assert!("10.0.0.0/33".parse::<TrustedProxies>().is_err());
        assert!("proxy.local".parse::<TrustedProxies>().is_err());
        assert!("".parse::<TrustedProxies>().expect("empty").is_empty());
    }

    #[test]
    fn walks_forwarded_for_from_the_right() {
        let t: TrustedProxies = "10.0.0.0/8,127.0.0.1".parse().expect("valid");
        let peer = ip("127.0.0.1");
        assert_eq!(
            t.client_ip(peer, &xff(&["6.6.6.6, 1.2.3.4, 10.0.0.2"])),
            ip("1.2.3.4"),
            "the forged left-most entry is not believed"
        );
        assert_eq!(
            t.client_ip(peer, &xff(&["6.6.6.6", "1.2.3.4:999"])),
            ip("1.2.3.4"),
            "several headers form one list"
        );
        assert_eq!(t.client_ip(peer, &xff(&[])), peer, "no header: the peer");
        assert_eq!(
            t.client_ip(peer, &xff(&["10.0.0.3, 10.0.0.2"])),
            ip("10.0.0.3"),
            "all trusted: the left-most"
        );
        assert_eq!(
            t.client_ip(peer, &xff(&["1.2.3.4, junk, 10.0.0.2"])),
            ip("10.0.0.2"),
            "nothing left of garbage is believed"
        );
        assert_eq!(
            t.client_ip(ip("8.8.8.8"), &xff(&["1.2.3.4"])),
            ip("8.8.8.8"),
            "an untrusted peer's header is ignored"
        );
        assert_eq!(
            TrustedProxies::default().client_ip(peer, &xff(&["1.2.3.4"])),
            peer,
            "no trusted proxies: the peer"
        );
    }
}
