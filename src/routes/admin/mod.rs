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
pub mod reports;
mod session;
mod upload;

use std::sync::Arc;
use std::time::Duration;

use actix_web::HttpRequest;
use actix_web::http::header;

use super::client_ip;
use super::errors::ApiError;
use super::sign_in_limit::FailedSignIns;

/// An upload that sends nothing for this long is aborted.
pub const DEFAULT_UPLOAD_IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// An upload that is not complete after this long is aborted.
pub const DEFAULT_UPLOAD_TIMEOUT: Duration = Duration::from_secs(15 * 60);

/// Who may administer, and how big an upload may be.
#[derive(Debug, Clone)]
pub struct AdminSettings {
    /// The bearer token; `None` hides `/admin` entirely.
    pub token: Option<String>,
    pub max_upload_bytes: u64,
    /// An upload that sends nothing for this long is cut off (408).
    pub upload_idle_timeout: Duration,
    /// An upload must be complete within this time (408 otherwise).
    pub upload_timeout: Duration,
    /// Wrong tokens counted per client (shared by the JSON routes and the
    /// sign-in form).
    pub failed_sign_ins: Arc<FailedSignIns>,
}

impl Default for AdminSettings {
    fn default() -> Self {
        AdminSettings {
            token: None,
            max_upload_bytes: 50 * 1024 * 1024,
            upload_idle_timeout: DEFAULT_UPLOAD_IDLE_TIMEOUT,
            upload_timeout: DEFAULT_UPLOAD_TIMEOUT,
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
    // Compared as SHA-256 digests, so the time taken does not even depend
    // on the configured token's length.
    let digest = |text: &str| <sha2::Sha256 as sha2::Digest>::digest(text.as_bytes());
    if constant_time_equal(&digest(presented), &digest(token)) {
        Ok(())
    } else {
        settings.failed_sign_ins.record_failure(client);
        Err(ApiError::Unauthorized)
    }
}

/// Compares in time that depends only on the lengths (`subtle`), so a
/// secret cannot be guessed byte by byte from response times.
pub(crate) fn constant_time_equal(a: &[u8], b: &[u8]) -> bool {
    bool::from(subtle::ConstantTimeEq::ct_eq(a, b))
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
