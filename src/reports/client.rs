//! Who sent a report, as little as the rate limit and repeat detection
//! need: a salted hash of the client's address (never the address).
//!
//! The address is the one the per-client limits use
//! (`routes::client_ip::of`: the peer, or the `--trusted-proxy`'s client).
//! An IPv6 client counts by its /64 network, which one subscriber usually
//! holds whole, so that hopping between its addresses is not a way round
//! the limit; an IPv4-mapped IPv6 address is the IPv4 address.
//!
//! The hash is HMAC-SHA-256 keyed by the installation's salt (32 random
//! bytes, stored in the database so that every replica computes the same
//! hash). It cannot be turned back into an address without the salt; with
//! the database *and* the salt, an IPv4 address could be found by trying
//! all 2³² of them, which is why hashes are also cleared after 24 hours.

use std::net::IpAddr;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// The text that is hashed for a client: its IPv4 address, its IPv6 /64,
/// or `unknown` when the server has no peer address.
pub fn client_key(client: Option<IpAddr>) -> String {
    match client {
        None => "unknown".into(),
        Some(IpAddr::V4(v4)) => format!("ipv4 {v4}"),
        Some(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => format!("ipv4 {v4}"),
            None => {
                let s = v6.segments();
                format!("ipv6 {:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

/// HMAC-SHA-256 of the client key under the salt, as 64 hex digits.
pub(super) fn client_hash(salt: &str, client: Option<IpAddr>) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(salt.as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(b"ketadir report client v1\n");
    mac.update(client_key(client).as_bytes());
    base16ct::lower::encode_string(&mac.finalize().into_bytes())
}

/// 32 random bytes from the OS, as hex: a new installation's salt.
pub(super) fn new_salt() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(base16ct::lower::encode_string(&bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> Option<IpAddr> {
        Some(text.parse().expect("address"))
    }

    #[test]
    fn clients_are_keyed_by_address_or_ipv6_network() {
        assert_eq!(client_key(ip("203.0.113.9")), "ipv4 203.0.113.9");
        assert_eq!(client_key(ip("::ffff:203.0.113.9")), "ipv4 203.0.113.9");
        assert_eq!(
            client_key(ip("2001:db8:aa:bb:1:2:3:4")),
            client_key(ip("2001:db8:aa:bb:ffff::1")),
            "one /64, one client"
        );
        assert_ne!(
            client_key(ip("2001:db8:aa:bb::1")),
            client_key(ip("2001:db8:aa:bc::1"))
        );
        assert_eq!(client_key(None), "unknown");
    }

    #[test]
    fn hashes_depend_on_the_salt_and_hide_the_address() {
        let a = client_hash("salt-a", ip("203.0.113.9"));
        assert_eq!(a.len(), 64);
        assert!(!a.contains("203"));
        assert_eq!(a, client_hash("salt-a", ip("203.0.113.9")));
        assert_ne!(a, client_hash("salt-b", ip("203.0.113.9")));
        assert_ne!(a, client_hash("salt-a", ip("203.0.113.10")));
        let (Ok(one), Ok(two)) = (new_salt(), new_salt()) else {
            panic!("the OS has randomness");
        };
        assert_eq!(one.len(), 64);
        assert_ne!(one, two);
    }
}
