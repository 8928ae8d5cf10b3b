//! The client's address: the socket's peer, or, when the peer is a trusted
//! proxy, the right-most `X-Forwarded-For` address that is not one.
//!
//! Walking from the right matters: each proxy appends the address it got
//! the request from, so only the entries added by trusted proxies are
//! facts; anything further left was written by the client and may be
//! forged. `X-Forwarded-For` from a peer that is not trusted is ignored.

use std::net::IpAddr;

use axum::http::HeaderMap;

use domain::config::TrustedProxies;

/// The client's address as computed once per request by the HTTP layer
/// (`http::rate_limit`), kept in the request's extensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

/// The client's address, given the socket's peer and the request's headers.
pub fn client_ip(proxies: &TrustedProxies, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
    proxies.client_ip(
        peer,
        headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok()),
    )
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
    fn walks_forwarded_for_from_the_right() {
        let t: TrustedProxies = "10.0.0.0/8,127.0.0.1".parse().expect("valid");
        let peer = ip("127.0.0.1");
        assert_eq!(
            client_ip(&t, peer, &xff(&["6.6.6.6, 1.2.3.4, 10.0.0.2"])),
            ip("1.2.3.4"),
            "the forged left-most entry is not believed"
        );
        assert_eq!(
            client_ip(&t, peer, &xff(&["6.6.6.6", "1.2.3.4:999"])),
            ip("1.2.3.4"),
            "several headers form one list"
        );
        assert_eq!(client_ip(&t, peer, &xff(&[])), peer, "no header: the peer");
        assert_eq!(
            client_ip(&t, peer, &xff(&["10.0.0.3, 10.0.0.2"])),
            ip("10.0.0.3"),
            "all trusted: the left-most"
        );
        assert_eq!(
            client_ip(&t, peer, &xff(&["1.2.3.4, junk, 10.0.0.2"])),
            ip("10.0.0.2"),
            "nothing left of garbage is believed"
        );
        assert_eq!(
            client_ip(&t, ip("8.8.8.8"), &xff(&["1.2.3.4"])),
            ip("8.8.8.8"),
            "an untrusted peer's header is ignored"
        );
        assert_eq!(
            client_ip(&TrustedProxies::default(), peer, &xff(&["1.2.3.4"])),
            peer,
            "no trusted proxies: the peer"
        );
    }
}
