//! The partner JSON API (docs/api.md).

use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use futures_core::Stream;
use serde::Serialize;
use tokio::sync::mpsc;

use super::caching::{self, CachePolicy};
use super::errors::ApiError;
use crate::geo::places::{self, MAX_PREFIX_CHARS, MAX_SUGGESTION_LIMIT, PlaceSuggestion};
use crate::index::ServedIndex;
use crate::provider::{self, Condition, ProviderType, Treatment};
use crate::search::{self, ExportRequest, InvalidParam, SearchRequest};

/// The tag of an answer computed from `generation`.
fn generation_tag(generation: u64, request: &HttpRequest) -> String {
    caching::etag(&format!("g{generation}"), request)
}

pub async fn search(
    request: HttpRequest,
    state: web::Data<ServedIndex>,
    policy: web::Data<CachePolicy>,
) -> Result<HttpResponse, ApiError> {
    let search_request = SearchRequest::from_query_string(request.query_string())
        .map_err(ApiError::InvalidParams)?;
    let generation = state.generation().ok_or(ApiError::NotReady)?;
    let tag = generation_tag(generation.number(), &request);
    if let Some(response) = caching::not_modified(&request, &tag, &policy) {
        return Ok(response);
    }
    let response = web::block(move || search::search(&generation, &search_request)).await??;
    Ok(caching::json(&response, &tag, &policy))
}

pub async fn provider(
    request: HttpRequest,
    id: web::Path<String>,
    state: web::Data<ServedIndex>,
    policy: web::Data<CachePolicy>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let generation = state.generation().ok_or(ApiError::NotReady)?;
    let tag = generation_tag(generation.number(), &request);
    if let Some(response) = caching::not_modified(&request, &tag, &policy) {
        return Ok(response);
    }
    let lookup_id = id.clone();
    let found = web::block(move || search::find_provider(&generation, &lookup_id)).await??;
    match found {
        Some(hit) => Ok(caching::json(&hit, &tag, &policy)),
        None => Err(ApiError::NotFound(format!(
            "no provider has the id {:?}",
            id.chars().take(100).collect::<String>()
        ))),
    }
}

/// Default number of place suggestions.
const DEFAULT_SUGGESTION_LIMIT: usize = 10;

#[derive(Serialize)]
struct PlacesResponse {
    places: Vec<PlaceSuggestion>,
}

/// `GET /api/v1/places?prefix=den&limit=10`: suggestions for the search
/// box. A lookup takes microseconds, so it runs here, not in `web::block`.
pub async fn places(
    request: HttpRequest,
    policy: web::Data<CachePolicy>,
) -> Result<HttpResponse, ApiError> {
    let (prefix, limit) =
        places_parameters(request.query_string()).map_err(ApiError::InvalidParams)?;
    // The gazetteer is compiled in: the tag follows the program's version.
    let tag = caching::etag(concat!("v", env!("CARGO_PKG_VERSION")), &request);
    if let Some(response) = caching::not_modified(&request, &tag, &policy) {
        return Ok(response);
    }
    let places = places::suggest(&prefix, limit);
    Ok(caching::json(&PlacesResponse { places }, &tag, &policy))
}

/// `prefix` (required, 1–100 characters) and `limit` (1–50, default 10);
/// other parameters are ignored, as in a search.
fn places_parameters(query: &str) -> Result<(String, usize), Vec<InvalidParam>> {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .map(|(name, value)| (name.into_owned(), value.trim().to_string()))
        .filter(|(_, value)| !value.is_empty())
        .collect();
    let values = |name: &str| -> Vec<&str> {
        pairs
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    };
    let mut invalid = Vec::new();
    let mut bad = |name: &str, reason: String| {
        invalid.push(InvalidParam {
            name: name.into(),
            reason,
        })
    };
    let prefix = match values("prefix").as_slice() {
        [] => {
            bad(
                "prefix",
                "required: the first letters of a city or the first digits of a ZIP code".into(),
            );
            None
        }
        [prefix] if prefix.chars().count() > MAX_PREFIX_CHARS => {
            bad("prefix", format!("at most {MAX_PREFIX_CHARS} characters"));
            None
        }
        [prefix] => Some(prefix.to_string()),
        _ => {
            bad("prefix", "given more than once; give it once".into());
            None
        }
    };
    let limit = match values("limit").as_slice() {
        [] => Some(DEFAULT_SUGGESTION_LIMIT),
        [limit] => {
            let parsed =
                crate::values::whole(limit, 1, MAX_SUGGESTION_LIMIT as u32).map(|n| n as usize);
            if parsed.is_none() {
                bad(
                    "limit",
                    format!("must be a whole number from 1 to {MAX_SUGGESTION_LIMIT}"),
                );
            }
            parsed
        }
        _ => {
            bad("limit", "given more than once; give it once".into());
            None
        }
    };
    match (prefix, limit) {
        (Some(prefix), Some(limit)) if invalid.is_empty() => Ok((prefix, limit)),
        _ => Err(invalid),
    }
}

/// `GET /api/v1/vocabulary`: treatments, conditions and provider types with their labels
/// and synonyms. Compiled in, so its tag follows the program's version.
pub async fn vocabulary(request: HttpRequest, policy: web::Data<CachePolicy>) -> HttpResponse {
    let tag = caching::etag(concat!("v", env!("CARGO_PKG_VERSION")), &request);
    if let Some(response) = caching::not_modified(&request, &tag, &policy) {
        return response;
    }
    caching::json(&Vocabulary::get(), &tag, &policy)
}

#[derive(Serialize)]
struct VocabularyEntry {
    slug: &'static str,
    label: &'static str,
    synonyms: &'static [&'static str],
}

#[derive(Serialize)]
struct Vocabulary {
    treatments: Vec<VocabularyEntry>,
    conditions: Vec<VocabularyEntry>,
    provider_types: Vec<VocabularyEntry>,
}

/// Every value of a vocabulary.
fn entries<V: provider::Vocabulary>() -> Vec<VocabularyEntry> {
    V::ALL
        .iter()
        .map(|value| VocabularyEntry {
            slug: value.slug(),
            label: value.label(),
            synonyms: value.synonyms(),
        })
        .collect()
}

impl Vocabulary {
    fn get() -> Vocabulary {
        Vocabulary {
            treatments: entries::<Treatment>(),
            conditions: entries::<Condition>(),
            provider_types: entries::<ProviderType>(),
        }
    }
}

/// `GET /api/v1/providers?format=ndjson[&updated_since=YYYY-MM-DD]`: every
/// provider of the served generation, one JSON object per line. A thread
/// runs [`search::export`] and hands its chunks through a bounded channel,
/// so memory stays constant and a slow client slows the reader.
pub async fn export(
    request: HttpRequest,
    state: web::Data<ServedIndex>,
) -> Result<HttpResponse, ApiError> {
    let export_request = ExportRequest::from_query_string(request.query_string())
        .map_err(ApiError::InvalidParams)?;
    let generation = state.generation().ok_or(ApiError::NotReady)?;
    let (sender, receiver) = mpsc::channel::<Result<Bytes, std::io::Error>>(8);
    let spawned = std::thread::Builder::new()
        .name("ndjson-export".into())
        .spawn(move || {
            let result = search::export(&generation, &export_request, |chunk| {
                sender.blocking_send(Ok(Bytes::from(chunk))).is_ok()
            });
            if let Err(error) = result {
                tracing::error!(%error, "export stopped");
                let _ = sender.blocking_send(Err(std::io::Error::other(error.to_string())));
            }
        });
    spawned.map_err(|e| ApiError::Internal(format!("cannot start the export: {e}")))?;
    Ok(HttpResponse::Ok()
        .content_type("application/x-ndjson")
        .streaming(ChannelStream(receiver)))
}

/// The receiving end of the export channel as a body stream.
pub(super) struct ChannelStream(pub(super) mpsc::Receiver<Result<Bytes, std::io::Error>>);

impl Stream for ChannelStream {
    type Item = Result<Bytes, std::io::Error>;

    fn poll_next(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.0.poll_recv(context)
    }
}
