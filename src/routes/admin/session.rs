//! Stateless admin sessions, so that every replica configured with the
//! same token accepts them: the cookie is `<nonce>.<expires>.<mac>` with a
//! random nonce, the Unix time it expires (8 hours on; checked here, not
//! only by the browser) and an HMAC-SHA-256 over both; the CSRF token of
//! the forms is an HMAC of the nonce. Neither MAC is keyed by the admin
//! token itself but by a key derived from it (HMAC of the token over a
//! fixed label, one label per use), so a session MAC and a CSRF token can
//! never stand in for each other. Changing the admin token therefore signs
//! everyone out. The cookie is `HttpOnly; SameSite=Strict` and limited to
//! `/admin`.
//!
//! The primitives are the audited crates': `hmac` (with `sha2`), the MAC
//! checked by `Mac::verify_slice` in constant time, CSRF tokens compared
//! with `subtle`, nonces from `getrandom`, hex by `base16ct` (no
//! secret-dependent branches or table lookups).

use actix_web::HttpRequest;
use actix_web::http::header;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use super::constant_time_equal;
use crate::clock::unix_now;
use crate::routes::errors::ApiError;

type HmacSha256 = Hmac<Sha256>;

const COOKIE: &str = "ketadir_admin";
/// How long a browser keeps the session cookie.
pub(super) const SESSION_SECONDS: u64 = 8 * 60 * 60;
/// Bytes of a nonce (32 hex digits in the cookie).
const NONCE_BYTES: usize = 16;
/// Labels of the keys derived from the admin token, one per use.
const SESSION_KEY_LABEL: &[u8] = b"ketadir admin session cookie MAC key v1";
const CSRF_KEY_LABEL: &[u8] = b"ketadir admin CSRF token key v1";

/// HMAC-SHA-256 keyed by `key` (any length is a valid HMAC key).
fn hmac(key: &[u8]) -> HmacSha256 {
    <HmacSha256 as KeyInit>::new_from_slice(key).expect("HMAC takes a key of any length")
}

/// The KDF step: a 256-bit key for one use, derived from the admin token
/// as `HMAC-SHA-256(token, label)`, so the raw token keys nothing.
fn derived_mac(token: &str, label: &[u8]) -> HmacSha256 {
    let mut kdf = hmac(token.as_bytes());
    kdf.update(label);
    hmac(&kdf.finalize().into_bytes())
}

/// The session MAC, before it is finalised: over `<nonce>.<expires>`,
/// exactly the cookie's text before the MAC (the nonce is fixed-length hex
/// and holds no `.`, so the message is unambiguous).
fn session_mac_state(token: &str, nonce: &str, expires: &str) -> HmacSha256 {
    let mut mac = derived_mac(token, SESSION_KEY_LABEL);
    mac.update(nonce.as_bytes());
    mac.update(b".");
    mac.update(expires.as_bytes());
    mac
}

/// The session MAC of a new cookie, as lower-case hex.
pub(super) fn session_mac(token: &str, nonce: &str, expires: &str) -> String {
    base16ct::lower::encode_string(
        &session_mac_state(token, nonce, expires)
            .finalize()
            .into_bytes(),
    )
}

/// True when `presented` (hex) is the session MAC of `nonce` and `expires`;
/// the comparison is the MAC crate's constant-time one.
fn session_mac_matches(token: &str, nonce: &str, expires: &str, presented: &str) -> bool {
    let mut tag = [0u8; 32];
    let Ok(tag) = base16ct::lower::decode(presented, &mut tag) else {
        return false;
    };
    session_mac_state(token, nonce, expires)
        .verify_slice(tag)
        .is_ok()
}

fn csrf_token(token: &str, nonce: &str) -> String {
    let mut mac = derived_mac(token, CSRF_KEY_LABEL);
    mac.update(nonce.as_bytes());
    base16ct::lower::encode_string(&mac.finalize().into_bytes())
}

/// 16 bytes from the operating system's CSPRNG (`getrandom`), as hex.
/// Once the system has booted this never blocks, so it stays on the event
/// loop.
pub(super) fn new_nonce() -> Result<String, ApiError> {
    let mut bytes = [0u8; NONCE_BYTES];
    getrandom::fill(&mut bytes)
        .map_err(|e| ApiError::Internal(format!("no randomness from the OS: {e}")))?;
    Ok(base16ct::lower::encode_string(&bytes))
}

/// The value of cookie `name`; actix-web's cookie feature is off, so the
/// `Cookie` headers are read by hand.
fn cookie<'r>(request: &'r HttpRequest, name: &str) -> Option<&'r str> {
    request
        .headers()
        .get_all(header::COOKIE)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value.trim())
}

/// A signed-in admin, known by the CSRF token of their session.
pub(super) struct Session {
    pub(super) csrf: String,
}

impl Session {
    /// The session of a valid cookie; a missing or forged one is `None`.
    pub(super) fn of(request: &HttpRequest, token: &str) -> Option<Session> {
        let value = cookie(request, COOKIE)?;
        let mut parts = value.splitn(3, '.');
        let (nonce, expires, mac) = (parts.next()?, parts.next()?, parts.next()?);
        let well_formed = nonce.len() == 2 * NONCE_BYTES
            && nonce
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        let current = expires.parse::<u64>().is_ok_and(|at| unix_now() < at);
        let signed = session_mac_matches(token, nonce, expires, mac);
        (well_formed && current && signed).then(|| Session {
            csrf: csrf_token(token, nonce),
        })
    }

    /// A form's POST needs a session: without one there is nothing to
    /// check its CSRF token against.
    pub(super) fn required(request: &HttpRequest, token: &str) -> Result<Session, ApiError> {
        Session::of(request, token).ok_or_else(|| {
            ApiError::Forbidden(
                "you are not signed in (or the session has ended); sign in again".into(),
            )
        })
    }

    pub(super) fn check_csrf(&self, presented: Option<&str>) -> Result<(), ApiError> {
        match presented {
            Some(presented) if constant_time_equal(presented.as_bytes(), self.csrf.as_bytes()) => {
                Ok(())
            }
            _ => Err(ApiError::Forbidden(
                "the form has no valid CSRF token; reload the admin page and try again".into(),
            )),
        }
    }
}

/// The cookie attributes; `Secure` only over TLS (as the proxy reports it),
/// or a browser on plain http would drop the cookie.
pub(super) fn cookie_header(request: &HttpRequest, value: &str, max_age: u64) -> String {
    let secure = if request.connection_info().scheme() == "https" {
        "; Secure"
    } else {
        ""
    };
    format!("{COOKIE}={value}; Max-Age={max_age}; Path=/admin; HttpOnly; SameSite=Strict{secure}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const NONCE: &str = "00112233445566778899aabbccddeeff";

    #[test]
    fn session_and_csrf_tokens_differ_and_depend_on_the_token() {
        assert_eq!(session_mac("t", NONCE, "1").len(), 64);
        assert_ne!(session_mac("t", NONCE, "1"), csrf_token("t", NONCE));
        assert_ne!(session_mac("t", NONCE, "1"), session_mac("u", NONCE, "1"));
        assert_ne!(session_mac("t", NONCE, "1"), session_mac("t", NONCE, "2"));
        assert_ne!(csrf_token("t", NONCE), csrf_token("u", NONCE));
    }

    /// The construction, spelled out with the `hmac` crate: HMAC-SHA-256
    /// keyed by HMAC-SHA-256(token, label), never by the raw token.
    #[test]
    fn the_mac_is_hmac_sha256_under_a_key_derived_from_the_token() {
        let key = {
            let mut kdf = hmac(b"t");
            kdf.update(SESSION_KEY_LABEL);
            kdf.finalize().into_bytes()
        };
        let mut mac = hmac(&key);
        mac.update(format!("{NONCE}.1").as_bytes());
        let expected = base16ct::lower::encode_string(&mac.finalize().into_bytes());
        assert_eq!(session_mac("t", NONCE, "1"), expected);
        let mut keyed_by_token = hmac(b"t");
        keyed_by_token.update(format!("{NONCE}.1").as_bytes());
        let raw = base16ct::lower::encode_string(&keyed_by_token.finalize().into_bytes());
        assert_ne!(
            session_mac("t", NONCE, "1"),
            raw,
            "the raw token keys nothing"
        );
    }

    #[test]
    fn only_the_exact_mac_of_the_exact_expiry_matches() {
        let mac = session_mac("t", NONCE, "9999999999");
        assert!(session_mac_matches("t", NONCE, "9999999999", &mac));
        assert!(!session_mac_matches("u", NONCE, "9999999999", &mac));
        assert!(!session_mac_matches("t", NONCE, "99999999990", &mac));
        assert!(!session_mac_matches("t", NONCE, "9999999999", &mac[..62]));
        assert!(!session_mac_matches(
            "t",
            NONCE,
            "9999999999",
            &format!("{mac}00")
        ));
        assert!(!session_mac_matches(
            "t",
            NONCE,
            "9999999999",
            &mac.to_uppercase()
        ));
        assert!(!session_mac_matches(
            "t",
            NONCE,
            "9999999999",
            &"z".repeat(64)
        ));
        assert!(!session_mac_matches("t", NONCE, "9999999999", ""));
    }

    #[test]
    fn nonces_are_random_hex() {
        let (Ok(a), Ok(b)) = (new_nonce(), new_nonce()) else {
            panic!("the OS has randomness");
        };
        assert_eq!(a.len(), 2 * NONCE_BYTES);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }
}
