//! HTTP caching for the API: an `ETag` derived from what the answer depends
//! on (the served generation and the normalised query), `If-None-Match` →
//! 304, and `Cache-Control: public, max-age=N`.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;

/// Caching settings shared by the API handlers.
#[derive(Debug, Clone, Copy)]
pub struct CachePolicy {
    /// `max-age` of `Cache-Control` on successful API answers, in seconds.
    pub max_age_seconds: u32,
}

impl Default for CachePolicy {
    fn default() -> Self {
        CachePolicy {
            max_age_seconds: 60,
        }
    }
}

/// FNV-1a: a stable hash, so every replica computes the same tag.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The query with blank values dropped and pairs sorted, so equivalent
/// URLs share a tag (`a=1&b=2` and `b=2&a=1&c=`).
fn normalised_query(query: &str) -> String {
    let mut pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .filter(|(_, value)| !value.trim().is_empty())
        .map(|(name, value)| (name.into_owned(), value.trim().to_string()))
        .collect();
    pairs.sort();
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// The tag of an answer that depends on `version` (a generation number, or
/// the program's version for data compiled in) and on the request.
pub fn etag(version: &str, request: &HttpRequest) -> String {
    let key = format!(
        "{}?{}",
        request.path(),
        normalised_query(request.query_string())
    );
    format!("\"{version}-{:016x}\"", fnv1a(key.as_bytes()))
}

/// True when the client's `If-None-Match` already names `tag`.
fn client_has(request: &HttpRequest, tag: &str) -> bool {
    request
        .headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|candidate| candidate.trim().trim_start_matches("W/"))
        .any(|candidate| candidate == tag || candidate == "*")
}

pub fn with_cache_headers(
    mut response: HttpResponse,
    tag: &str,
    policy: &CachePolicy,
) -> HttpResponse {
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(tag) {
        headers.insert(header::ETAG, value);
    }
    if let Ok(value) = HeaderValue::from_str(&format!("public, max-age={}", policy.max_age_seconds))
    {
        headers.insert(header::CACHE_CONTROL, value);
    }
    response
}

/// 304 when the client holds `tag`, else `None` (compute the answer).
pub fn not_modified(
    request: &HttpRequest,
    tag: &str,
    policy: &CachePolicy,
) -> Option<HttpResponse> {
    client_has(request, tag)
        .then(|| with_cache_headers(HttpResponse::NotModified().finish(), tag, policy))
}

/// A 200 JSON answer carrying the tag and the cache headers.
pub fn json<T: Serialize>(value: &T, tag: &str, policy: &CachePolicy) -> HttpResponse {
    with_cache_headers(HttpResponse::Ok().json(value), tag, policy)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn equivalent_queries_share_a_tag_and_generations_do_not() {
        let a = TestRequest::get()
            .uri("/api/v1/search?near=80202&radius=25")
            .to_http_request();
        let b = TestRequest::get()
            .uri("/api/v1/search?radius=25&q=&near=80202")
            .to_http_request();
        let c = TestRequest::get()
            .uri("/api/v1/search?near=80203&radius=25")
            .to_http_request();
        assert_eq!(etag("g1", &a), etag("g1", &b));
        assert_ne!(etag("g1", &a), etag("g1", &c));
        assert_ne!(etag("g1", &a), etag("g2", &a));
    }

    #[test]
    fn if_none_match_accepts_lists_weak_tags_and_star() {
        let tag = "\"g1-00000000000000ff\"";
        for header in [tag.to_string(), format!("\"x\", W/{tag}"), "*".to_string()] {
            let request = TestRequest::get()
                .insert_header((header::IF_NONE_MATCH, header.as_str()))
                .to_http_request();
            assert!(client_has(&request, tag), "{header}");
        }
        let request = TestRequest::get()
            .insert_header((header::IF_NONE_MATCH, "\"other\""))
            .to_http_request();
        assert!(!client_has(&request, tag));
    }
}
