//! Stateless admin sessions, so that every replica configured with the
//! same token accepts them: the cookie is `<nonce>.<expires>.<mac>` with a
//! random nonce, the Unix time it expires (8 hours on; checked here, not
//! only by the browser) and a MAC over both keyed by the admin token; the
//! CSRF token of the forms is derived from the token and the nonce.
//! Changing the admin token therefore signs everyone out. The cookie is
//! `HttpOnly; SameSite=Strict` and limited to `/admin`.

use std::io::Read;

use actix_web::HttpRequest;
use actix_web::http::header;
use sha2::{Digest, Sha256};

use super::constant_time_equal;
use crate::clock::unix_now;
use crate::routes::errors::ApiError;

const COOKIE: &str = "ketadir_admin";
/// How long a browser keeps the session cookie.
pub(super) const SESSION_SECONDS: u64 = 8 * 60 * 60;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn hex_sha256(parts: &[&[u8]]) -> String {
    let mut digest = Sha256::new();
    for part in parts {
        digest.update(part);
    }
    hex(&digest.finalize())
}

pub(super) fn session_mac(token: &str, nonce: &str, expires: &str) -> String {
    hex_sha256(&[
        b"session\0",
        token.as_bytes(),
        b"\0",
        nonce.as_bytes(),
        b"\0",
        expires.as_bytes(),
    ])
}

fn csrf_token(token: &str, nonce: &str) -> String {
    hex_sha256(&[b"csrf\0", token.as_bytes(), b"\0", nonce.as_bytes()])
}

/// 16 bytes from the kernel's CSPRNG, as hex. Reading `/dev/urandom` never
/// blocks once the system has booted, so this stays on the event loop.
pub(super) fn new_nonce() -> Result<String, ApiError> {
    let mut bytes = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut random| random.read_exact(&mut bytes))
        .map_err(|e| ApiError::Internal(format!("cannot read /dev/urandom: {e}")))?;
    Ok(hex(&bytes))
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
        let well_formed = nonce.len() == 32 && nonce.bytes().all(|b| b.is_ascii_hexdigit());
        let current = expires.parse::<u64>().is_ok_and(|at| unix_now() < at);
        let signed = constant_time_equal(
            mac.as_bytes(),
            session_mac(token, nonce, expires).as_bytes(),
        );
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

    #[test]
    fn session_and_csrf_tokens_differ_and_depend_on_the_token() {
        let nonce = "00112233445566778899aabbccddeeff";
        assert_eq!(session_mac("t", nonce, "1").len(), 64);
        assert_ne!(session_mac("t", nonce, "1"), csrf_token("t", nonce));
        assert_ne!(session_mac("t", nonce, "1"), session_mac("u", nonce, "1"));
        assert_ne!(session_mac("t", nonce, "1"), session_mac("t", nonce, "2"));
    }

    #[test]
    fn nonces_are_random_hex() {
        let (Ok(a), Ok(b)) = (new_nonce(), new_nonce()) else {
            panic!("/dev/urandom is readable");
        };
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
    }
}
