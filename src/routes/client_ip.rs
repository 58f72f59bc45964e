//! Which client a request comes from, for the per-client limits (API rate
//! limit, admin token guesses).
//!
//! Without trusted proxies it is the TCP peer. When the peer is one of the
//! configured proxies (`--trusted-proxy`, e.g. the nginx in front of the
//! replicas), the client is the right-most `X-Forwarded-For` address that
//! is not itself a trusted proxy: entries to its left were written by the
//! client and can be anything, so they are never believed.

use std::net::IpAddr;

use actix_web::http::header::HeaderMap;
use actix_web::{HttpRequest, web};

/// The proxies whose `X-Forwarded-For` is believed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(pub Vec<IpAddr>);

impl TrustedProxies {
    fn trusts(&self, address: IpAddr) -> bool {
        self.0.contains(&address)
    }

    /// The client's address: the peer, or what trusted proxies forwarded.
    pub fn client(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> Option<IpAddr> {
        let peer = peer?;
        if !self.trusts(peer) {
            return Some(peer);
        }
        let forwarded: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .collect();
        for entry in forwarded.iter().rev() {
            match entry.parse::<IpAddr>() {
                Ok(address) if self.trusts(address) => continue,
                Ok(address) => return Some(address),
                // Garbage where an address should be: stop believing the
                // header and count the proxy itself.
                Err(_) => return Some(peer),
            }
        }
        Some(peer)
    }
}

/// The client of a request: the peer, unless it is one of the app's
/// trusted proxies.
pub fn of(request: &HttpRequest) -> Option<IpAddr> {
    let peer = request.peer_addr().map(|address| address.ip());
    match request.app_data::<web::Data<TrustedProxies>>() {
        Some(proxies) => proxies.client(peer, request.headers()),
        None => peer,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};

    fn headers(forwarded: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for value in forwarded {
            map.append(
                HeaderName::from_static("x-forwarded-for"),
                HeaderValue::from_str(value).expect("header"),
            );
        }
        map
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("address")
    }

    #[test]
    fn only_trusted_proxies_are_believed() {
        let proxies = TrustedProxies(vec![ip("10.0.0.1"), ip("10.0.0.2")]);
        let via =
            |peer: &str, forwarded: &[&str]| proxies.client(Some(ip(peer)), &headers(forwarded));
        // A direct client cannot pretend to be someone else.
        assert_eq!(
            via("198.51.100.7", &["203.0.113.9"]),
            Some(ip("198.51.100.7"))
        );
        // Through a proxy: the address it saw.
        assert_eq!(via("10.0.0.1", &["203.0.113.9"]), Some(ip("203.0.113.9")));
        // The client's own entries (left) are skipped for the proxy's (right).
        assert_eq!(
            via("10.0.0.1", &["1.2.3.4, 203.0.113.9"]),
            Some(ip("203.0.113.9"))
        );
        // Two proxies in a chain, across repeated headers.
        assert_eq!(
            via("10.0.0.1", &["203.0.113.9", "10.0.0.2"]),
            Some(ip("203.0.113.9"))
        );
        // No header, or garbage: the proxy itself.
        assert_eq!(via("10.0.0.1", &[]), Some(ip("10.0.0.1")));
        assert_eq!(
            via("10.0.0.1", &["1.2.3.4, nonsense"]),
            Some(ip("10.0.0.1"))
        );
        assert_eq!(proxies.client(None, &headers(&[])), None);
    }
}
