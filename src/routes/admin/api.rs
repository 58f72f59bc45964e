//! The admin JSON routes: `POST /admin/reindex`, `GET /admin/status`,
//! `POST /admin/rollback`, each behind the bearer token.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;

use super::upload::import_upload;
use super::{AdminSettings, authorize};
use crate::index::{ImportOptions, IndexError, IndexStatus, ServedIndex};
use crate::routes::errors::ApiError;
use crate::search::parse_flag;

fn flag(request: &HttpRequest, name: &str) -> Result<bool, ApiError> {
    let value = form_urlencoded::parse(request.query_string().as_bytes())
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.trim().to_string());
    match value.as_deref() {
        None | Some("") => Ok(false),
        Some(value) => parse_flag(value).ok_or_else(|| {
            ApiError::InvalidParams(vec![crate::search::InvalidParam {
                name: name.into(),
                reason: "must be true or false".into(),
            }])
        }),
    }
}

#[derive(Serialize)]
struct ReindexAnswer {
    generation: Option<u64>,
    documents: u64,
    seconds: f64,
    rejection: Option<String>,
    report: crate::ingest::Report,
}

/// `POST /admin/reindex[?skip_invalid=true][&allow_shrink=true]`, body the
/// CSV (`text/csv`) or a multipart form with the CSV in field `file`.
pub async fn reindex(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<ServedIndex>,
    settings: web::Data<AdminSettings>,
) -> Result<HttpResponse, ApiError> {
    authorize(&request, &settings)?;
    // Parsed before the lock is taken: a bad flag is a 400, not a 409.
    let options = ImportOptions {
        skip_invalid: flag(&request, "skip_invalid")?,
        allow_shrink: flag(&request, "allow_shrink")?,
        source: None,
    };
    let outcome = import_upload(&request, payload, &state, &settings, |_| Ok(options)).await?;
    let answer = ReindexAnswer {
        generation: outcome.generation,
        documents: outcome.documents,
        seconds: outcome.seconds,
        rejection: outcome.rejection.as_ref().map(|r| r.to_string()),
        report: outcome.report,
    };
    Ok(if answer.generation.is_some() {
        HttpResponse::Ok().json(answer)
    } else {
        HttpResponse::UnprocessableEntity().json(answer)
    })
}

/// The served generation and the import log, for the API and the page.
pub(super) async fn current_status(
    state: &web::Data<ServedIndex>,
) -> Result<IndexStatus, ApiError> {
    let state = state.clone();
    web::block(move || state.status())
        .await?
        .ok_or(ApiError::NotReady)
}

/// What `GET /admin/status` answers: the index's status, the report
/// queue (`reports`: open reports and the oldest one's age) and the
/// listings' freshness (`freshness`).
#[derive(Serialize)]
struct StatusAnswer {
    #[serde(flatten)]
    index: IndexStatus,
    #[serde(flatten)]
    overview: super::reports::Overview,
}

/// `GET /admin/status`.
pub async fn status(
    request: HttpRequest,
    state: web::Data<ServedIndex>,
    settings: web::Data<AdminSettings>,
    store: web::Data<crate::reports::ReportStore>,
) -> Result<HttpResponse, ApiError> {
    authorize(&request, &settings)?;
    let index = current_status(&state).await?;
    let overview = super::reports::overview(&state, &store).await;
    Ok(HttpResponse::Ok().json(StatusAnswer { index, overview }))
}

/// Serves the previous generation again and returns its number; 409 when
/// an import runs or there is nothing older.
pub(super) async fn roll_back(state: &web::Data<ServedIndex>) -> Result<u64, ApiError> {
    let state = state.clone();
    match web::block(move || state.roll_back()).await? {
        Ok(generation) => Ok(generation),
        Err(
            error @ (IndexError::ImportInProgress
            | IndexError::NothingToRollBackTo
            | IndexError::BrokenRollbackTarget { .. }
            | IndexError::OldFormat { .. }
            | IndexError::NewerFormat { .. }),
        ) => Err(ApiError::Conflict(error.to_string())),
        Err(error) => Err(ApiError::Internal(error.to_string())),
    }
}

/// `POST /admin/rollback`: serve the previous generation again.
pub async fn rollback(
    request: HttpRequest,
    state: web::Data<ServedIndex>,
    settings: web::Data<AdminSettings>,
) -> Result<HttpResponse, ApiError> {
    authorize(&request, &settings)?;
    let generation = roll_back(&state).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "generation": generation })))
}
