//! The patient pages over HTTP: `/`, `/providers/{id}`, `/how-we-rank`,
//! their assets under `/static`, and the HTML 404 for unknown paths.
//!
//! Handlers parse the query string into the same [`SearchRequest`] as the
//! API, run search and rendering off the event loop, and send every page
//! with the CSP and caching headers of [`html`]. Errors become pages in the
//! site's layout through [`PageError`]. Each handler reads the request's
//! [`PageContext`] first ([`page_context`]: `lang`, the sample flag, the
//! page's address) and renders its page, or its error, within it.

use std::io::Write;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use flate2::Compression;
use flate2::write::GzEncoder;

mod error;

pub use error::PageError;

use crate::clock::{format_utc, unix_now};
use crate::index::ServedIndex;
use crate::pages::i18n::LANG_PARAM;
use crate::pages::{self, Lang, PageContext, SearchForm};
use crate::routes::caching::{self, CachePolicy};
use crate::routes::errors::ApiError;
use crate::search::{self, SearchRequest};

/// No inline script or style, nothing from other origins, no framing.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; \
     frame-ancestors 'none'";

/// A rendered page, gzipped when the client accepts it: a results page
/// shrinks from ~40 KB to ~9 KB, which a phone notices. Compressed here, at
/// flate2's fastest level and on the blocking pool with the rendering;
/// actix's `Compress` middleware cost six times the throughput
/// (BENCHMARKS.md).
pub struct Page {
    bytes: Vec<u8>,
    gzipped: bool,
}

impl Page {
    pub fn new(html: String, gzip: bool) -> Page {
        if gzip {
            let mut encoder =
                GzEncoder::new(Vec::with_capacity(html.len() / 4), Compression::fast());
            if encoder.write_all(html.as_bytes()).is_ok()
                && let Ok(bytes) = encoder.finish()
            {
                return Page {
                    bytes,
                    gzipped: true,
                };
            }
        }
        Page {
            bytes: html.into_bytes(),
            gzipped: false,
        }
    }
}

/// True when `Accept-Encoding` lists gzip (or `*`) without `q=0`.
pub fn accepts_gzip(request: &HttpRequest) -> bool {
    request
        .headers()
        .get_all(header::ACCEPT_ENCODING)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|item| {
            let mut parts = item.split(';').map(str::trim);
            let coding = parts.next().unwrap_or_default();
            let refused = parts.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            (coding.eq_ignore_ascii_case("gzip") || coding == "*") && !refused
        })
}

/// A page with the headers every patient page carries. Searches are
/// private: the referrer other sites see is at most our origin.
pub fn html(status: StatusCode, page: Page) -> HttpResponse {
    let mut response = HttpResponse::build(status);
    response
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CONTENT_SECURITY_POLICY, CSP))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "same-origin"))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .insert_header((header::VARY, "Accept-Encoding"));
    if page.gzipped {
        response.insert_header((header::CONTENT_ENCODING, "gzip"));
    }
    response.body(page.bytes)
}

/// A page that depends on the generation and the query: `ETag` + 304.
fn cached_html(page: Page, tag: &str, policy: &CachePolicy) -> HttpResponse {
    caching::with_cache_headers(html(StatusCode::OK, page), tag, policy)
}

/// The tag of a page: the generation, the program (templates and assets
/// are compiled in), the request and the encoding (a gzipped page is
/// another representation, so it has its own tag).
fn page_tag(generation: u64, extra: &str, request: &HttpRequest, gzip: bool) -> String {
    caching::etag(
        &format!(
            "p{generation}-{}{extra}{}",
            env!("CARGO_PKG_VERSION"),
            if gzip { "-gz" } else { "" }
        ),
        request,
    )
}

/// Longest page address the language switch repeats; a longer one (a
/// hand-made URL) switches to the bare path.
const MAX_SWITCH_CHARS: usize = 2000;

/// The request's page context: `lang` from the query string, whether the
/// served generation is the bundled sample, and the page's address
/// without `lang` for the language switch.
pub fn page_context(request: &HttpRequest) -> PageContext {
    let pairs = search::decode_query(request.query_string());
    let sample = request
        .app_data::<web::Data<ServedIndex>>()
        .and_then(|state| state.generation())
        .is_some_and(|generation| pages::built_from_sample(&generation.meta));
    PageContext {
        lang: Lang::from_pairs(&pairs),
        sample,
        here: address_without_lang(request.path(), &pairs),
    }
}

/// `path?query` without `lang`, written again from the decoded pairs, and
/// always a path of this site: leading slashes (and backslashes, which
/// browsers read as slashes) collapse to one, so `//evil.example` cannot
/// become a link to another host, and characters outside a URL path's
/// are percent-encoded.
fn address_without_lang(path: &str, pairs: &[(String, String)]) -> String {
    let mut address = String::from("/");
    for c in path.trim_start_matches(['/', '\\']).chars() {
        if c.is_ascii_alphanumeric() || "-._~!$&'()*+,;=:@/%".contains(c) {
            address.push(c);
        } else {
            let mut bytes = [0; 4];
            for byte in c.encode_utf8(&mut bytes).bytes() {
                address.push_str(&format!("%{byte:02X}"));
            }
        }
    }
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(
            pairs
                .iter()
                .filter(|(name, _)| name != LANG_PARAM)
                .map(|(n, v)| (n.as_str(), v.as_str())),
        )
        .finish();
    if !query.is_empty() {
        address.push('?');
        address.push_str(&query);
    }
    if address.len() > MAX_SWITCH_CHARS {
        address.truncate(address.find('?').unwrap_or(address.len()));
    }
    address
}

/// True when the URL asks for a search: a search parameter with a value.
/// (A submitted empty form sends `radius` and `sort`, and lists everyone.)
fn asks_for_search(pairs: &[(String, String)]) -> bool {
    pairs
        .iter()
        .any(|(name, value)| SearchRequest::is_parameter(name) && !value.trim().is_empty())
}

/// `GET /`: the search form, and the results when the URL holds a search.
pub async fn search_page(
    request: HttpRequest,
    state: web::Data<ServedIndex>,
    policy: web::Data<CachePolicy>,
) -> Result<HttpResponse, PageError> {
    let context = page_context(&request);
    search_page_within(&request, &state, &policy, &context)
        .await
        .map_err(|error| error.within(&context))
}

async fn search_page_within(
    request: &HttpRequest,
    state: &ServedIndex,
    policy: &CachePolicy,
    context: &PageContext,
) -> Result<HttpResponse, PageError> {
    let pairs = search::decode_query(request.query_string());
    // One generation for the whole request, as everywhere: the form's
    // insurers and the results come from the same one.
    let generation = state.generation();
    let mut form = SearchForm::from_pairs(&pairs);
    if let Some(generation) = &generation {
        form = form.with_insurers(generation);
    }
    let gzip = accepts_gzip(request);
    if !asks_for_search(&pairs) {
        let body = pages::render_home(context, &form).map_err(ApiError::from)?;
        return Ok(html(StatusCode::OK, Page::new(body, gzip)));
    }
    let mut search_request = SearchRequest::from_pairs(
        pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())),
    )
    .map_err(|invalid| PageError::search(ApiError::InvalidParams(invalid), &pairs, &form))?;
    // The filter panel is made of facet counts.
    search_request.facets = true;
    let generation =
        generation.ok_or_else(|| PageError::search(ApiError::NotReady, &pairs, &form))?;
    let tag = page_tag(generation.number(), "", request, gzip);
    if let Some(response) = caching::not_modified(request, &tag, policy) {
        return Ok(response);
    }
    let page_context = context.clone();
    let rendered = web::block(move || -> Result<Page, ApiError> {
        let lang = page_context.lang;
        let response = search::search_for_page(&generation, &search_request)?;
        let alternatives =
            pages::count_alternatives(&generation, &search_request, &response, lang)?;
        let towns = pages::count_towns_of_the_name(&generation, &search_request)?;
        let body = pages::render_results_page(
            &page_context,
            form,
            &search_request,
            &response,
            &alternatives,
            &towns,
        )?;
        Ok(Page::new(body, gzip))
    })
    .await
    .map_err(ApiError::from)?;
    match rendered {
        Ok(body) => Ok(cached_html(body, &tag, policy)),
        Err(error) => Err(PageError::search(
            error,
            &pairs,
            &SearchForm::from_pairs(&pairs),
        )),
    }
}

/// `GET /providers/{id}`: the profile.
pub async fn profile_page(
    request: HttpRequest,
    id: web::Path<String>,
    state: web::Data<ServedIndex>,
    policy: web::Data<CachePolicy>,
) -> Result<HttpResponse, PageError> {
    let context = page_context(&request);
    profile_page_within(&request, id.into_inner(), &state, &policy, &context)
        .await
        .map_err(|error| error.within(&context))
}

async fn profile_page_within(
    request: &HttpRequest,
    id: String,
    state: &ServedIndex,
    policy: &CachePolicy,
    context: &PageContext,
) -> Result<HttpResponse, PageError> {
    let generation = state.generation().ok_or(ApiError::NotReady)?;
    // The "verified more than a year ago" flag changes with the date.
    let today = format_utc(unix_now())[..10].to_string();
    let gzip = accepts_gzip(request);
    let tag = page_tag(generation.number(), &today, request, gzip);
    if let Some(response) = caching::not_modified(request, &tag, policy) {
        return Ok(response);
    }
    // "Back to results": the search the profile was opened from, carried
    // in `back`; it is parsed, so the link can only be a search of this site.
    let back = back_search(request.query_string());
    let lookup_id = id.clone();
    let page_context = context.clone();
    let rendered = web::block(move || -> Result<Option<Page>, ApiError> {
        match search::find_provider(&generation, &lookup_id)? {
            Some(hit) => Ok(Some(Page::new(
                pages::render_profile(&page_context, &hit, &today, back.as_ref())?,
                gzip,
            ))),
            None => Ok(None),
        }
    })
    .await
    .map_err(ApiError::from)??;
    match rendered {
        Some(body) => Ok(cached_html(body, &tag, policy)),
        None => Err(PageError::unknown_provider(&id)),
    }
}

/// The search a profile was opened from: its `back` parameter, when that
/// is a search this site accepts (anything else is ignored).
fn back_search(query: &str) -> Option<SearchRequest> {
    let back = search::decode_query(query)
        .into_iter()
        .find(|(name, _)| name == "back")
        .map(|(_, value)| value)?;
    if back.len() > 2000 {
        return None;
    }
    SearchRequest::from_query_string(&back)
        .ok()
        .filter(|request| *request != SearchRequest::default())
}

/// `GET /how-we-rank`: the adjusted rating in plain words.
pub async fn how_we_rank_page(
    request: HttpRequest,
    state: web::Data<ServedIndex>,
) -> Result<HttpResponse, PageError> {
    let context = page_context(&request);
    let generation = state
        .generation()
        .ok_or_else(|| PageError::from(ApiError::NotReady).within(&context))?;
    let meta = &generation.meta;
    let body = pages::render_how_we_rank(&context, meta.mean_rating, meta.rated_providers)
        .map_err(|error| PageError::from(ApiError::from(error)).within(&context))?;
    Ok(html(
        StatusCode::OK,
        Page::new(body, accepts_gzip(&request)),
    ))
}

/// An asset whose URL carries its content hash: cacheable for a year.
pub(super) fn asset(content_type: &'static str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(body)
}

pub async fn stylesheet() -> HttpResponse {
    asset("text/css; charset=utf-8", pages::CSS)
}

pub async fn script() -> HttpResponse {
    asset("text/javascript; charset=utf-8", pages::JS)
}

pub async fn favicon() -> HttpResponse {
    asset("image/svg+xml", include_str!("../../../static/favicon.svg"))
}

/// Another method than GET or HEAD on a page: a 405 page.
pub async fn method_not_allowed_page(request: HttpRequest) -> HttpResponse {
    use actix_web::ResponseError;
    let mut response = PageError::method_not_allowed(request.method().as_ref())
        .within(&page_context(&request))
        .error_response();
    response
        .headers_mut()
        .insert(header::ALLOW, header::HeaderValue::from_static("GET, HEAD"));
    response
}

/// Any other path: a 404 page in the site's layout.
pub async fn not_found_page(request: HttpRequest) -> HttpResponse {
    use actix_web::ResponseError;
    PageError::unknown_path(request.path())
        .within(&page_context(&request))
        .error_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_switch_address_stays_on_this_site_without_lang() {
        let pairs = |q: &str| search::decode_query(q);
        assert_eq!(address_without_lang("/", &pairs("lang=es")), "/");
        assert_eq!(
            address_without_lang("/", &pairs("q=knee+pain&lang=fr&near=80202")),
            "/?q=knee+pain&near=80202"
        );
        for hostile in ["//evil.example/x", "/\\evil.example", "///evil.example"] {
            let address = address_without_lang(hostile, &[]);
            assert!(
                address.starts_with('/') && !address.starts_with("//") && !address.contains('\\'),
                "{hostile} → {address}"
            );
        }
        assert_eq!(address_without_lang("/a\"<b>", &[]), "/a%22%3Cb%3E");
        let long = format!("q={}", "x".repeat(3000));
        assert_eq!(address_without_lang("/", &pairs(&long)), "/");
    }
}
