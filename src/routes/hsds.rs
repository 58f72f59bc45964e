//! The HSDS facade over HTTP (docs/hsds.md): thin handlers around
//! [`crate::facades::hsds`]. Answers are `application/json` (NDJSON for
//! `format=ndjson`); errors are the API's problem documents.

use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use tokio::sync::mpsc;

use super::api::ChannelStream;
use super::caching::{self, CachePolicy};
use super::errors::ApiError;
use crate::facades::hsds::{self, List, TermsQuery};
use crate::index::ServedIndex;
use crate::search::decode_query;

fn json(body: Vec<u8>, tag: &str, policy: &CachePolicy) -> HttpResponse {
    caching::with_cache_headers(
        HttpResponse::Ok()
            .content_type("application/json")
            .body(body),
        tag,
        policy,
    )
}

/// The tag of an answer computed from `generation`.
fn generation_tag(generation: u64, request: &HttpRequest) -> String {
    caching::etag(&format!("g{generation}"), request)
}

/// The tag of an answer from compiled-in data (the vocabulary).
fn version_tag(request: &HttpRequest) -> String {
    caching::etag(concat!("v", env!("CARGO_PKG_VERSION")), request)
}

/// `GET /hsds/`.
pub async fn root(request: HttpRequest, policy: web::Data<CachePolicy>) -> HttpResponse {
    let tag = version_tag(&request);
    if let Some(response) = caching::not_modified(&request, &tag, &policy) {
        return response;
    }
    json(hsds::root(), &tag, &policy)
}

async fn list(
    list: List,
    request: HttpRequest,
    state: web::Data<ServedIndex>,
    policy: web::Data<CachePolicy>,
) -> Result<HttpResponse, ApiError> {
    let query = hsds::parse_list(request.query_string()).map_err(ApiError::InvalidParams)?;
    let generation = state.generation().ok_or(ApiError::NotReady)?;
    if query.ndjson {
        // Every match, streamed from a thread through a bounded channel
        // (as the API's export): not cached, constant memory per page read.
        let (sender, receiver) = mpsc::channel::<Result<Bytes, std::io::Error>>(8);
        std::thread::Builder::new()
            .name("hsds-ndjson".into())
            .spawn(move || {
                let result = hsds::stream(&generation, list, &query, |chunk| {
                    sender.blocking_send(Ok(Bytes::from(chunk))).is_ok()
                });
                if let Err(error) = result {
                    tracing::error!(%error, "HSDS stream stopped");
                    let _ = sender.blocking_send(Err(std::io::Error::other(error.to_string())));
                }
            })
            .map_err(|e| ApiError::Internal(format!("cannot start the stream: {e}")))?;
        return Ok(HttpResponse::Ok()
            .content_type("application/x-ndjson")
            .streaming(ChannelStream(receiver)));
    }
    let tag = generation_tag(generation.number(), &request);
    if let Some(response) = caching::not_modified(&request, &tag, &policy) {
        return Ok(response);
    }
    let body = web::block(move || hsds::list(&generation, list, &query)).await??;
    Ok(json(body, &tag, &policy))
}

async fn read(
    list: List,
    request: HttpRequest,
    state: web::Data<ServedIndex>,
    policy: web::Data<CachePolicy>,
) -> Result<HttpResponse, ApiError> {
    let id = request
        .match_info()
        .get("id")
        .unwrap_or_default()
        .to_string();
    let generation = state.generation().ok_or(ApiError::NotReady)?;
    let tag = generation_tag(generation.number(), &request);
    if let Some(response) = caching::not_modified(&request, &tag, &policy) {
        return Ok(response);
    }
    let lookup = id.clone();
    match web::block(move || hsds::read(&generation, list, &lookup)).await?? {
        Some(body) => Ok(json(body, &tag, &policy)),
        None => Err(ApiError::NotFound(format!(
            "no record here has the id {:?}",
            id.chars().take(100).collect::<String>()
        ))),
    }
}

pub async fn services(
    request: HttpRequest,
    state: web::Data<ServedIndex>,
    policy: web::Data<CachePolicy>,
) -> Result<HttpResponse, ApiError> {
    list(List::Services, request, state, policy).await
}

pub async fn service(
    request: HttpRequest,
    state: web::Data<ServedIndex>,
    policy: web::Data<CachePolicy>,
) -> Result<HttpResponse, ApiError> {
    read(List::Services, request, state, policy).await
}

pub async fn organizations(
    request: HttpRequest,
    state: web::Data<ServedIndex>,
    policy: web::Data<CachePolicy>,
) -> Result<HttpResponse, ApiError> {
    list(List::Organizations, request, state, policy).await
}

pub async fn organization(
    request: HttpRequest,
    state: web::Data<ServedIndex>,
    policy: web::Data<CachePolicy>,
) -> Result<HttpResponse, ApiError> {
    read(List::Organizations, request, state, policy).await
}

pub async fn service_at_locations(
    request: HttpRequest,
    state: web::Data<ServedIndex>,
    policy: web::Data<CachePolicy>,
) -> Result<HttpResponse, ApiError> {
    list(List::ServiceAtLocations, request, state, policy).await
}

pub async fn service_at_location(
    request: HttpRequest,
    state: web::Data<ServedIndex>,
    policy: web::Data<CachePolicy>,
) -> Result<HttpResponse, ApiError> {
    read(List::ServiceAtLocations, request, state, policy).await
}

/// `format=ndjson` of the vocabulary lists: the page's items, one a line.
fn vocabulary_answer(
    page: Vec<u8>,
    ndjson: bool,
    tag: &str,
    policy: &CachePolicy,
) -> Result<HttpResponse, ApiError> {
    if !ndjson {
        return Ok(json(page, tag, policy));
    }
    let envelope: serde_json::Value = serde_json::from_slice(&page)
        .map_err(|e| ApiError::Internal(format!("vocabulary page: {e}")))?;
    let mut lines = Vec::new();
    for item in envelope["contents"].as_array().into_iter().flatten() {
        serde_json::to_writer(&mut lines, item)
            .map_err(|e| ApiError::Internal(format!("vocabulary line: {e}")))?;
        lines.push(b'\n');
    }
    Ok(caching::with_cache_headers(
        HttpResponse::Ok()
            .content_type("application/x-ndjson")
            .body(lines),
        tag,
        policy,
    ))
}

/// `format` of the vocabulary lists: `json` (default) or `ndjson`, where
/// every item comes at once (there are a few dozen).
fn vocabulary_format(query: &str) -> Result<bool, ApiError> {
    match decode_query(query)
        .iter()
        .find(|(name, value)| name == "format" && !value.trim().is_empty())
        .map(|(_, value)| value.trim())
    {
        None | Some("json") => Ok(false),
        Some("ndjson") => Ok(true),
        Some(_) => Err(ApiError::InvalidParams(vec![crate::search::InvalidParam {
            name: "format".into(),
            reason: "must be json or ndjson".into(),
        }])),
    }
}

pub async fn taxonomies(
    request: HttpRequest,
    policy: web::Data<CachePolicy>,
) -> Result<HttpResponse, ApiError> {
    let ndjson = vocabulary_format(request.query_string())?;
    let (page, per_page) = if ndjson {
        (1, hsds::MAX_PER_PAGE)
    } else {
        hsds::parse_page(request.query_string()).map_err(ApiError::InvalidParams)?
    };
    let tag = version_tag(&request);
    if let Some(response) = caching::not_modified(&request, &tag, &policy) {
        return Ok(response);
    }
    vocabulary_answer(hsds::taxonomies(page, per_page), ndjson, &tag, &policy)
}

pub async fn taxonomy(
    request: HttpRequest,
    policy: web::Data<CachePolicy>,
) -> Result<HttpResponse, ApiError> {
    let id = request.match_info().get("id").unwrap_or_default();
    let Some(body) = hsds::taxonomy(id) else {
        return Err(ApiError::NotFound(format!(
            "no taxonomy has the id {:?}; see /hsds/taxonomies",
            id.chars().take(100).collect::<String>()
        )));
    };
    let tag = version_tag(&request);
    if let Some(response) = caching::not_modified(&request, &tag, &policy) {
        return Ok(response);
    }
    Ok(json(body, &tag, &policy))
}

pub async fn taxonomy_terms(
    request: HttpRequest,
    policy: web::Data<CachePolicy>,
) -> Result<HttpResponse, ApiError> {
    let ndjson = vocabulary_format(request.query_string())?;
    let (page, per_page) = if ndjson {
        (1, hsds::MAX_PER_PAGE)
    } else {
        hsds::parse_page(request.query_string()).map_err(ApiError::InvalidParams)?
    };
    let pairs = decode_query(request.query_string());
    let value = |name: &str| {
        pairs
            .iter()
            .find(|(n, v)| n == name && !v.trim().is_empty())
            .map(|(_, v)| v.trim().to_string())
    };
    let query = TermsQuery {
        taxonomy: value("taxonomy_id"),
        search: value("search"),
        parent: value("parent_id"),
    };
    let tag = version_tag(&request);
    if let Some(response) = caching::not_modified(&request, &tag, &policy) {
        return Ok(response);
    }
    vocabulary_answer(
        hsds::taxonomy_terms(&query, page, per_page),
        ndjson,
        &tag,
        &policy,
    )
}

pub async fn taxonomy_term(
    request: HttpRequest,
    policy: web::Data<CachePolicy>,
) -> Result<HttpResponse, ApiError> {
    let id = request.match_info().get("id").unwrap_or_default();
    let Some(body) = hsds::taxonomy_term(id) else {
        return Err(ApiError::NotFound(format!(
            "no taxonomy term has the id {:?}; see /hsds/taxonomy_terms",
            id.chars().take(100).collect::<String>()
        )));
    };
    let tag = version_tag(&request);
    if let Some(response) = caching::not_modified(&request, &tag, &policy) {
        return Ok(response);
    }
    Ok(json(body, &tag, &policy))
}

/// Any path under `/hsds` that names nothing.
pub async fn not_found(request: HttpRequest) -> HttpResponse {
    actix_web::ResponseError::error_response(&ApiError::NotFound(format!(
        "no HSDS route {} {}; see docs/hsds.md",
        request.method(),
        request.path().chars().take(200).collect::<String>()
    )))
}
