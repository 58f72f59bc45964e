//! Rate limits for the API: a token bucket (GCRA, the `governor` crate) per
//! client IP, or per API key when a request names a known key in
//! `X-API-Key`. Over the limit is a 429 problem with `Retry-After`; every
//! limited answer carries `RateLimit-Limit` and `RateLimit-Remaining`.
//! Loopback clients are not limited unless asked (local tools, tests).

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, web};
use governor::NotUntil;
use governor::clock::QuantaInstant;
use governor::clock::{Clock, DefaultClock};
use governor::middleware::{StateInformationMiddleware, StateSnapshot};
use governor::state::keyed::DefaultKeyedStateStore;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};

use super::client_ip;
use super::errors::{Problem, problem_response};
use super::pages::PageError;
use actix_web::ResponseError;

type ByIp =
    RateLimiter<IpAddr, DefaultKeyedStateStore<IpAddr>, DefaultClock, StateInformationMiddleware>;
type ForKey = RateLimiter<NotKeyed, InMemoryState, DefaultClock, StateInformationMiddleware>;

/// Header partners send their key in.
pub const API_KEY_HEADER: &str = "x-api-key";

/// How often (in requests) idle client buckets are forgotten.
const PRUNE_EVERY: u64 = 10_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimitSettings {
    /// Requests per minute per client IP; 0 turns limiting off.
    pub per_ip_per_minute: u32,
    /// Requests per minute of each API key.
    pub keys: HashMap<String, u32>,
    /// Limit loopback clients too (off by default).
    pub limit_loopback: bool,
}

impl Default for RateLimitSettings {
    fn default() -> Self {
        RateLimitSettings {
            per_ip_per_minute: 600,
            keys: HashMap::new(),
            limit_loopback: false,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeysFileError {
    #[error("cannot read the API keys file {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{path} line {line}: expected `KEY REQUESTS_PER_MINUTE` with a key of 16–128 characters and a limit of at least 1"
    )]
    Line { path: String, line: usize },
}

impl RateLimitSettings {
    /// Reads `KEY REQUESTS_PER_MINUTE` lines; blank lines and `#` comments
    /// are skipped.
    pub fn read_keys(path: &Path) -> Result<HashMap<String, u32>, KeysFileError> {
        let text = std::fs::read_to_string(path).map_err(|source| KeysFileError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let mut keys = HashMap::new();
        for (index, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut parts = line.split_whitespace();
            let parsed = match (parts.next(), parts.next(), parts.next()) {
                (Some(key), Some(limit), None) if (16..=128).contains(&key.len()) => limit
                    .parse::<u32>()
                    .ok()
                    .filter(|n| *n > 0)
                    .map(|n| (key, n)),
                _ => None,
            };
            let (key, limit) = parsed.ok_or_else(|| KeysFileError::Line {
                path: path.display().to_string(),
                line: index + 1,
            })?;
            keys.insert(key.to_string(), limit);
        }
        Ok(keys)
    }
}

/// The limiters, shared by all workers.
pub struct RateLimits {
    settings: RateLimitSettings,
    by_ip: Option<ByIp>,
    by_key: HashMap<String, ForKey>,
    requests: AtomicU64,
}

fn per_minute(limit: u32) -> Option<Quota> {
    NonZeroU32::new(limit).map(Quota::per_minute)
}

impl RateLimits {
    pub fn new(settings: RateLimitSettings) -> RateLimits {
        let by_ip = per_minute(settings.per_ip_per_minute)
            .map(|quota| RateLimiter::keyed(quota).with_middleware::<StateInformationMiddleware>());
        let by_key = settings
            .keys
            .iter()
            .filter_map(|(key, limit)| {
                let quota = per_minute(*limit)?;
                let limiter =
                    RateLimiter::direct(quota).with_middleware::<StateInformationMiddleware>();
                Some((key.clone(), limiter))
            })
            .collect();
        RateLimits {
            settings,
            by_ip,
            by_key,
            requests: AtomicU64::new(0),
        }
    }

    /// Takes a token for this request: `Ok((limit, remaining))` (no limit
    /// applies: `None`), or `Err` with the limit and the seconds to wait.
    fn admit(&self, key: Option<&str>, client: Option<IpAddr>) -> Admission {
        if let Some(key) = key {
            let Some(limiter) = self.by_key.get(key) else {
                return Admission::UnknownKey;
            };
            let limit = self.settings.keys.get(key).copied().unwrap_or(0);
            return Admission::of(limiter.check(), limit);
        }
        let (Some(limiter), Some(client)) = (&self.by_ip, client) else {
            return Admission::Allowed(None);
        };
        if client.is_loopback() && !self.settings.limit_loopback {
            return Admission::Allowed(None);
        }
        if self.requests.fetch_add(1, Ordering::Relaxed) % PRUNE_EVERY == PRUNE_EVERY - 1 {
            limiter.retain_recent();
        }
        Admission::of(limiter.check_key(&client), self.settings.per_ip_per_minute)
    }
}

enum Admission {
    Allowed(Option<(u32, u32)>),
    Denied { limit: u32, wait_seconds: u64 },
    UnknownKey,
}

impl Admission {
    /// A bucket's answer, for a bucket of `limit` requests per minute.
    fn of(checked: Result<StateSnapshot, NotUntil<QuantaInstant>>, limit: u32) -> Admission {
        match checked {
            Ok(state) => Admission::Allowed(Some((limit, state.remaining_burst_capacity()))),
            Err(denied) => Admission::Denied {
                limit,
                // Rounded up: a client that waits this long gets a token.
                wait_seconds: denied
                    .wait_time_from(DefaultClock::default().now())
                    .as_secs()
                    + 1,
            },
        }
    }
}

fn set_header(response: &mut HttpResponse<impl MessageBody>, name: &'static str, value: String) {
    if let Ok(value) = HeaderValue::from_str(&value) {
        response
            .headers_mut()
            .insert(HeaderName::from_static(name), value);
    }
}

/// The middleware (`actix_web::middleware::from_fn`) on the API scope.
pub async fn limit(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(limits) = request.app_data::<web::Data<RateLimits>>().cloned() else {
        return Ok(next.call(request).await?.map_into_boxed_body());
    };
    let key = request
        .headers()
        .get(API_KEY_HEADER)
        .and_then(|value| value.to_str().ok())
        .map(str::to_string);
    let client = client_ip::of(request.request());
    match limits.admit(key.as_deref(), client) {
        Admission::Allowed(state) => {
            let mut response = next.call(request).await?;
            if let Some((limit, remaining)) = state {
                let headers = response.headers_mut();
                for (name, value) in [
                    ("ratelimit-limit", limit),
                    ("ratelimit-remaining", remaining),
                ] {
                    if let Ok(value) = HeaderValue::from_str(&value.to_string()) {
                        headers.insert(HeaderName::from_static(name), value);
                    }
                }
            }
            Ok(response.map_into_boxed_body())
        }
        Admission::Denied {
            limit,
            wait_seconds,
        } => {
            // The API and the partner facades (`/fhir`, `/hsds`) answer
            // machines: a problem document (FHIR's scope rewrites it as an
            // OperationOutcome).
            let path = request.path();
            let on_a_page = !["/api/", "/fhir/", "/hsds/"]
                .iter()
                .any(|prefix| path.starts_with(prefix))
                && path != "/hsds";
            let mut response = if on_a_page {
                // A visitor of the pages gets a page, in the site's layout.
                PageError::rate_limited(wait_seconds)
                    .within(&super::pages::page_context(request.request()))
                    .error_response()
            } else {
                problem_response(&Problem {
                    kind: "/problems/rate-limited",
                    title: "Too many requests",
                    status: 429,
                    detail: format!(
                        "this client may make {limit} requests per minute; try again in {wait_seconds} s, or ask for an API key"
                    ),
                    invalid_params: Vec::new(),
                    suggestions: Vec::new(),
                })
            };
            set_header(&mut response, "retry-after", wait_seconds.to_string());
            set_header(&mut response, "ratelimit-limit", limit.to_string());
            set_header(&mut response, "ratelimit-remaining", "0".into());
            set_header(&mut response, "ratelimit-reset", wait_seconds.to_string());
            Ok(request.into_response(response))
        }
        Admission::UnknownKey => {
            let response = problem_response(&Problem {
                kind: "/problems/unknown-api-key",
                title: "Unknown API key",
                status: 401,
                detail: "the X-API-Key header names no known key; leave it out to use the per-client limit".into(),
                invalid_params: Vec::new(),
                suggestions: Vec::new(),
            });
            Ok(request.into_response(response))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_gets_its_burst_then_waits() {
        let limits = RateLimits::new(RateLimitSettings {
            per_ip_per_minute: 3,
            limit_loopback: true,
            ..RateLimitSettings::default()
        });
        let client = Some(IpAddr::from([127, 0, 0, 1]));
        for remaining in [2, 1, 0] {
            assert!(matches!(
                limits.admit(None, client),
                Admission::Allowed(Some((3, r))) if r == remaining
            ));
        }
        assert!(matches!(
            limits.admit(None, client),
            Admission::Denied { limit: 3, wait_seconds } if (1..=21).contains(&wait_seconds)
        ));
        // Another client has its own bucket.
        assert!(matches!(
            limits.admit(None, Some(IpAddr::from([10, 0, 0, 2]))),
            Admission::Allowed(Some(_))
        ));
    }

    #[test]
    fn loopback_is_free_unless_asked_and_keys_have_their_own_limit() {
        let key = "partner-key-0123456789";
        let limits = RateLimits::new(RateLimitSettings {
            per_ip_per_minute: 1,
            keys: HashMap::from([(key.to_string(), 2)]),
            limit_loopback: false,
        });
        let loopback = Some(IpAddr::from([127, 0, 0, 1]));
        for _ in 0..5 {
            assert!(matches!(
                limits.admit(None, loopback),
                Admission::Allowed(None)
            ));
        }
        assert!(matches!(
            limits.admit(Some(key), loopback),
            Admission::Allowed(Some((2, 1)))
        ));
        assert!(matches!(
            limits.admit(Some(key), loopback),
            Admission::Allowed(Some((2, 0)))
        ));
        assert!(matches!(
            limits.admit(Some(key), loopback),
            Admission::Denied { .. }
        ));
        assert!(matches!(
            limits.admit(Some("nope"), loopback),
            Admission::UnknownKey
        ));
    }

    #[test]
    fn keys_files_are_parsed_strictly() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("keys");
        std::fs::write(
            &path,
            "# partners\nabcdefghijklmnop 120\n\nqrstuvwxyz0123456789 6000\n",
        )
        .expect("write keys");
        let keys = RateLimitSettings::read_keys(&path).expect("valid file");
        assert_eq!(keys.get("abcdefghijklmnop"), Some(&120));
        assert_eq!(keys.len(), 2);
        for bad in [
            "short 10\n",
            "abcdefghijklmnop\n",
            "abcdefghijklmnop 0\n",
            "abcdefghijklmnop 1 2\n",
        ] {
            std::fs::write(&path, bad).expect("write keys");
            assert!(RateLimitSettings::read_keys(&path).is_err(), "{bad:?}");
        }
    }
}
