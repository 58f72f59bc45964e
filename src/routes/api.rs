//! The partner JSON API (SPEC §5).

use actix_web::{HttpRequest, HttpResponse, web};

use super::errors::ApiError;
use crate::search::{self, SearchRequest};
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
