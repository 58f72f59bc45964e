//! Admin over HTTP (see docs/admin.md): re-import from CSV, status,
//! rollback — as JSON for scripts ([`api`]) and as pages for people
//! ([`page`], signed in with a [`session`] cookie). Both front ends upload
//! through [`upload::import_upload`] and read and roll back through
//! [`ServedIndex`](crate::index::ServedIndex), so they keep the same rules.
//!
//! Every route needs the admin token (a bearer header, or the session made
//! from it); with no token configured the whole `/admin` tree answers 404,
//! as if it did not exist.

pub mod api;
pub mod page;
mod session;
mod upload;

use std::sync::Arc;

use actix_web::HttpRequest;
use actix_web::http::header;

use super::client_ip;
use super::errors::ApiError;
use super::sign_in_limit::FailedSignIns;

/// Who may administer, and how big an upload may be.
#[derive(Debug, Clone)]
pub struct AdminSettings {
    /// The bearer token; `None` hides `/admin` entirely.
    pub token: Option<String>,
    pub max_upload_bytes: u64,
    /// Wrong tokens counted per client (shared by the JSON routes and the
    /// sign-in form).
    pub failed_sign_ins: Arc<FailedSignIns>,
}

impl Default for AdminSettings {
    fn default() -> Self {
        AdminSettings {
            token: None,
            max_upload_bytes: 50 * 1024 * 1024,
            failed_sign_ins: Arc::default(),
        }
    }
}

/// Compares a presented token with the configured one, unless the client
/// has used up its wrong tokens (then 429 without comparing); counts a
/// wrong one.
pub(crate) fn check_token(
    request: &HttpRequest,
    settings: &AdminSettings,
    token: &str,
    presented: &str,
) -> Result<(), ApiError> {
    let client = client_ip::of(request);
    settings
        .failed_sign_ins
        .check(client)
        .map_err(ApiError::TooManyAttempts)?;
    if constant_time_equal(presented.as_bytes(), token.as_bytes()) {
        Ok(())
    } else {
        settings.failed_sign_ins.record_failure(client);
        Err(ApiError::Unauthorized)
    }
}

/// Compares in time that depends only on the lengths, so the token cannot
/// be guessed byte by byte from response times.
pub(crate) fn constant_time_equal(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

/// 404 without a configured token, 401 without the right one.
pub(crate) fn authorize(request: &HttpRequest, settings: &AdminSettings) -> Result<(), ApiError> {
    let Some(token) = &settings.token else {
        return Err(ApiError::NotFound(format!("no route {}", request.path())));
    };
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim);
    match presented {
        Some(presented) => check_token(request, settings, token, presented),
        None => Err(ApiError::Unauthorized),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_whole() {
        assert!(constant_time_equal(b"secret-token", b"secret-token"));
        assert!(!constant_time_equal(b"secret-token", b"secret-tokeN"));
        assert!(!constant_time_equal(b"secret", b"secret-token"));
        assert!(!constant_time_equal(b"", b"x"));
    }
}
