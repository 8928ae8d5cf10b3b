//! What one client may ask of the server: rate limits, the proxies whose
//! word on a client's address is believed, live subscriptions.

use std::{
    net::{IpAddr, SocketAddr},
    str::FromStr,
    time::Duration,
};

use super::RawConfig;

/// Rate limits (docs/API.md, Rate limits); a rate or burst of 0 turns its limit off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitConfig {
    pub ip_per_second: u32,
    pub ip_burst: u32,
    pub user_per_second: u32,
    pub user_burst: u32,
    pub auth_per_minute: u32,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        let raw = RawConfig::default();
        Self {
            ip_per_second: raw.rate_limit_ip_per_second,
            ip_burst: raw.rate_limit_ip_burst,
            user_per_second: raw.rate_limit_user_per_second,
            user_burst: raw.rate_limit_user_burst,
            auth_per_minute: raw.rate_limit_auth_per_minute,
        }
    }
}

/// Live subscriptions over WebSocket.
#[derive(Debug, Clone, Copy)]
pub struct RealtimeConfig {
    pub ping_interval: Duration,
    pub idle_timeout: Duration,
    pub buffer: usize,
    pub max_subscriptions: usize,
    /// Open sockets per client IP and per user (0: no limit).
    pub max_sockets_per_ip: usize,
    pub max_sockets_per_user: usize,
}

impl Default for RealtimeConfig {
    fn default() -> Self {
        let raw = RawConfig::default();
        Self {
            ping_interval: raw.ws_ping_interval,
            idle_timeout: raw.ws_idle_timeout,
            buffer: raw.subscription_buffer,
            max_subscriptions: raw.ws_max_subscriptions,
            max_sockets_per_ip: raw.ws_max_sockets_per_ip,
            max_sockets_per_user: raw.ws_max_sockets_per_user,
        }
    }
}

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

    /// The client's address, given the socket's peer and the values of its
    /// `X-Forwarded-For` headers in order: when the peer is trusted, the
    /// right-most address that is not (walking from the right, as each
    /// proxy appends the address it got the request from; anything left of
    /// an untrusted or unreadable entry may be forged).
    pub fn client_ip<'a>(
        &self,
        peer: IpAddr,
        forwarded_for: impl IntoIterator<Item = &'a str>,
    ) -> IpAddr {
        let mut client = peer.to_canonical();
        if !self.contains(client) {
            return client;
        }
        // Every X-Forwarded-For header, in order, as one list.
        let hops: Vec<&str> = forwarded_for
            .into_iter()
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
}
