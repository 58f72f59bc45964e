//! The partner JSON API (SPEC §5).

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;

use super::errors::ApiError;
use crate::geo::places::{self, MAX_PREFIX_CHARS, MAX_SUGGESTION_LIMIT, PlaceSuggestion};
use crate::search::{self, InvalidParam, SearchRequest};
use crate::startup::AppState;

pub async fn search(
    request: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let search_request = SearchRequest::from_query_string(request.query_string())
        .map_err(ApiError::InvalidParams)?;
    let generation = state.generation().ok_or(ApiError::NotReady)?;
    let response = web::block(move || search::search(&generation, &search_request)).await??;
    Ok(HttpResponse::Ok().json(response))
}

pub async fn provider(
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let generation = state.generation().ok_or(ApiError::NotReady)?;
    let lookup_id = id.clone();
    let found = web::block(move || search::find_provider(&generation, &lookup_id)).await??;
    match found {
        Some(hit) => Ok(HttpResponse::Ok().json(hit)),
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
pub async fn places(request: HttpRequest) -> Result<HttpResponse, ApiError> {
    let (prefix, limit) =
        places_parameters(request.query_string()).map_err(ApiError::InvalidParams)?;
    let places = places::suggest(&prefix, limit);
    Ok(HttpResponse::Ok().json(PlacesResponse { places }))
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
            let parsed = limit
                .bytes()
                .all(|b| b.is_ascii_digit())
                .then(|| limit.parse::<usize>().ok())
                .flatten()
                .filter(|n| (1..=MAX_SUGGESTION_LIMIT).contains(n));
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
