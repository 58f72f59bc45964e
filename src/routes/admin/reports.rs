//! The report queue for admins (docs/api.md, "Reporting a wrong listing"; README.md), behind the admin token:
//!
//! - `GET /admin/reports?status=open|resolved|all&format=json|csv`: the
//!   reports as JSON (`{"reports": [...]}`) or CSV (formula cells
//!   defused), for the bearer token or a signed-in session; without
//!   `format`, the page (open reports grouped by provider, each with its
//!   resolve form, and the latest resolutions).
//! - `POST /admin/reports/{id}/resolve`, JSON `{"resolution": "fixed" |
//!   "dismissed", "note": "…"}`, bearer token → 200 with the report; 404
//!   unknown, 409 already resolved.
//! - `POST /admin/reports/{id}/resolve-form`: the page's form (session and
//!   CSRF token), then back to the page.
//!
//! Also the report and freshness figures of `/admin/status` and the admin
//! page ([`overview`]).

use std::sync::{Mutex, PoisonError};

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;

use super::page::{configured, form_value, html, login_page, respond, signed_in_form};
use super::session::Session;
use super::{AdminSettings, authorize};
use crate::clock::today_number;
use crate::index::{GenerationIdentity, ServedIndex};
use crate::pages::reports::{group_reports, render_admin_reports};
use crate::reports::sweep::now;
use crate::reports::{
    QueueStats, ReportStore, Resolution, Resolved, StatusFilter, StoreError, clean_note, to_csv,
};
use crate::routes::errors::ApiError;
use crate::routes::reports::{media_type, read_body, unsupported};
use crate::search::{self, Freshness, InvalidParam};

/// Resolutions shown on the page.
const RECENTLY_RESOLVED: u32 = 20;

fn store_failed(error: StoreError) -> ApiError {
    ApiError::Internal(format!("report queue: {error}"))
}

fn invalid(name: &str, reason: impl Into<String>) -> ApiError {
    ApiError::InvalidParams(vec![InvalidParam {
        name: name.into(),
        reason: reason.into(),
    }])
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Csv,
}

/// `status` (default `open`) and `format` (absent: the page).
fn list_parameters(query: &str) -> Result<(StatusFilter, Option<Format>), ApiError> {
    let pairs = search::decode_query(query);
    let one = |name: &str| -> Result<Option<String>, ApiError> {
        let values: Vec<&str> = pairs
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
            .collect();
        match values.as_slice() {
            [] => Ok(None),
            [value] => Ok(Some(value.to_string())),
            _ => Err(invalid(name, "given more than once; give it once")),
        }
    };
    let status = match one("status")? {
        None => StatusFilter::Open,
        Some(value) => StatusFilter::parse(&value)
            .ok_or_else(|| invalid("status", "must be open, resolved or all"))?,
    };
    let format = match one("format")?.as_deref() {
        None => None,
        Some("json") => Some(Format::Json),
        Some("csv") => Some(Format::Csv),
        Some(_) => return Err(invalid("format", "must be json or csv")),
    };
    Ok((status, format))
}

/// The bearer token, or else a signed-in session (the page's download
/// links): 404 without a configured token, 401 otherwise.
fn authorize_export(request: &HttpRequest, settings: &AdminSettings) -> Result<(), ApiError> {
    let token = configured(request, settings)?;
    if request.headers().contains_key(header::AUTHORIZATION) {
        return authorize(request, settings);
    }
    match Session::of(request, token) {
        Some(_) => Ok(()),
        None => Err(ApiError::Unauthorized),
    }
}

/// `GET /admin/reports`.
pub async fn list(
    request: HttpRequest,
    state: web::Data<ServedIndex>,
    settings: web::Data<AdminSettings>,
    store: web::Data<ReportStore>,
) -> HttpResponse {
    let parameters = list_parameters(request.query_string());
    if let Ok((_, None)) = parameters {
        return respond(page(&request, &state, &settings, &store).await);
    }
    let answer = async {
        authorize_export(&request, &settings)?;
        let (status, format) = parameters?;
        let reports = store.list(status).await.map_err(store_failed)?;
        Ok(match format {
            Some(Format::Csv) => {
                let csv = to_csv(&reports)
                    .map_err(|e| ApiError::Internal(format!("cannot write the CSV: {e}")))?;
                HttpResponse::Ok()
                    .content_type("text/csv; charset=utf-8")
                    .insert_header((header::CACHE_CONTROL, "no-store"))
                    .insert_header((
                        header::CONTENT_DISPOSITION,
                        "attachment; filename=\"reports.csv\"",
                    ))
                    .body(csv)
            }
            _ => HttpResponse::Ok()
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .json(serde_json::json!({ "reports": reports })),
        })
    };
    answer
        .await
        .unwrap_or_else(|error: ApiError| actix_web::ResponseError::error_response(&error))
}

/// The page: the sign-in form without a session.
async fn page(
    request: &HttpRequest,
    state: &web::Data<ServedIndex>,
    settings: &AdminSettings,
    store: &ReportStore,
) -> Result<HttpResponse, ApiError> {
    let token = configured(request, settings)?;
    let Some(session) = Session::of(request, token) else {
        return login_page(StatusCode::OK, None);
    };
    let open = store.list(StatusFilter::Open).await.map_err(store_failed)?;
    let resolved = store
        .recently_resolved(RECENTLY_RESOLVED)
        .await
        .map_err(store_failed)?;
    // The providers' names, from the served generation.
    let mut ids: Vec<String> = open.iter().map(|r| r.provider_id.clone()).collect();
    ids.sort_unstable();
    ids.dedup();
    let names: Vec<(String, String)> = match state.generation() {
        Some(generation) => {
            web::block(move || {
                ids.into_iter()
                    .filter_map(|id| {
                        let hit = search::find_provider(&generation, &id).ok()??;
                        Some((id, hit.provider.name))
                    })
                    .collect()
            })
            .await?
        }
        None => Vec::new(),
    };
    let name = |id: &str| {
        names
            .iter()
            .find(|(n, _)| n == id)
            .map(|(_, name)| name.clone())
    };
    let now = now();
    let groups = group_reports(&open, now, name);
    html(
        StatusCode::OK,
        render_admin_reports(&session.csrf, groups, &resolved, now),
    )
}

/// What `POST /admin/reports/{id}/resolve` takes.
fn resolution_of(body: &[u8]) -> Result<(Resolution, Option<String>), ApiError> {
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|e| {
        invalid(
            "body",
            format!(
                "must be a JSON object such as {{\"resolution\": \"fixed\", \"note\": \"…\"}} ({e})"
            ),
        )
    })?;
    let mut problems = Vec::new();
    let resolution = match value.get("resolution").and_then(|v| v.as_str()) {
        Some(text) => Resolution::by_admin(text),
        None => None,
    };
    if resolution.is_none() {
        problems.push(InvalidParam {
            name: "resolution".into(),
            reason: "required: fixed or dismissed".into(),
        });
    }
    let note = match value.get("note") {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(text)) => match clean_note(text) {
            Ok(note) => note,
            Err(problem) => {
                problems.push(problem);
                None
            }
        },
        Some(_) => {
            problems.push(InvalidParam {
                name: "note".into(),
                reason: "must be text (a JSON string) or null".into(),
            });
            None
        }
    };
    match resolution {
        Some(resolution) if problems.is_empty() => Ok((resolution, note)),
        _ => Err(ApiError::InvalidParams(problems)),
    }
}

async fn resolve_report(
    store: &ReportStore,
    id: &str,
    resolution: Resolution,
    note: Option<&str>,
) -> Result<crate::reports::Report, ApiError> {
    match store
        .resolve(id, resolution, note, now())
        .await
        .map_err(store_failed)?
    {
        Resolved::Done(report) => {
            tracing::info!(report = %report.id, resolution = resolution.as_str(), "report resolved");
            Ok(report)
        }
        Resolved::AlreadyResolved(report) => Err(ApiError::Conflict(format!(
            "report {} was already resolved ({})",
            report.id,
            report.resolution.map_or("", |r| r.as_str())
        ))),
        Resolved::NotFound => Err(ApiError::NotFound(format!(
            "no report has the id {:?}",
            id.chars().take(40).collect::<String>()
        ))),
    }
}

/// `POST /admin/reports/{id}/resolve`.
pub async fn resolve(
    request: HttpRequest,
    id: web::Path<String>,
    payload: web::Payload,
    settings: web::Data<AdminSettings>,
    store: web::Data<ReportStore>,
) -> Result<HttpResponse, ApiError> {
    authorize(&request, &settings)?;
    if media_type(&request) != "application/json" {
        return Err(unsupported(
            "send {\"resolution\": \"fixed\" | \"dismissed\", \"note\": \"…\"} as application/json"
                .into(),
        ));
    }
    let body = read_body(&request, payload).await?;
    let (resolution, note) = resolution_of(&body)?;
    let report = resolve_report(&store, &id, resolution, note.as_deref()).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(report))
}

/// `POST /admin/reports/{id}/resolve-form`: fields `csrf`, `resolution`,
/// `note`; back to the page.
pub async fn resolve_form(
    request: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
    settings: web::Data<AdminSettings>,
    store: web::Data<ReportStore>,
) -> HttpResponse {
    respond(
        async {
            signed_in_form(&request, &settings, &body)?;
            let resolution = form_value(&body, "resolution")
                .and_then(|r| Resolution::by_admin(r.trim()))
                .ok_or_else(|| {
                    ApiError::BadRequest("choose a resolution: fixed or dismissed".into())
                })?;
            let note = clean_note(&form_value(&body, "note").unwrap_or_default())
                .map_err(|problem| ApiError::BadRequest(format!("note: {}", problem.reason)))?;
            match resolve_report(&store, &id, resolution, note.as_deref()).await {
                Ok(_) => {}
                // The page hides `/admin` behind 404 problems: an unknown
                // report is a plain error here.
                Err(ApiError::NotFound(detail)) => return Err(ApiError::BadRequest(detail)),
                Err(error) => return Err(error),
            }
            Ok(HttpResponse::SeeOther()
                .insert_header((header::LOCATION, "/admin/reports"))
                .finish())
        }
        .await,
    )
}

/// The report queue and the listings' freshness, for `/admin/status` and
/// the admin page. A database that does not answer leaves `reports` out
/// (logged) rather than hiding the index's status.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Overview {
    pub reports: Option<QueueStats>,
    pub freshness: Option<Freshness>,
}

pub(super) async fn overview(state: &web::Data<ServedIndex>, store: &ReportStore) -> Overview {
    let reports = match store.stats(now()).await {
        Ok(stats) => Some(stats),
        Err(error) => {
            tracing::error!(%error, database = store.description(), "cannot read the report queue");
            None
        }
    };
    let freshness = match state.generation() {
        Some(generation) => freshness_of(generation).await,
        None => None,
    };
    Overview { reports, freshness }
}

/// Freshness is counted once per generation and day, then remembered.
async fn freshness_of(generation: std::sync::Arc<crate::index::Generation>) -> Option<Freshness> {
    type Counted = (GenerationIdentity, u32, Freshness);
    static LAST: Mutex<Option<Counted>> = Mutex::new(None);
    let identity = generation.meta.identity();
    let today = today_number();
    if let Some((counted, day, freshness)) =
        LAST.lock().unwrap_or_else(PoisonError::into_inner).as_ref()
        && *counted == identity
        && *day == today
    {
        return Some(freshness.clone());
    }
    let freshness = web::block(move || search::freshness(&generation, today))
        .await
        .ok()?;
    *LAST.lock().unwrap_or_else(PoisonError::into_inner) =
        Some((identity, today, freshness.clone()));
    Some(freshness)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_parameters_are_checked() {
        assert_eq!(list_parameters("").ok(), Some((StatusFilter::Open, None)));
        assert_eq!(
            list_parameters("status=all&format=csv").ok(),
            Some((StatusFilter::All, Some(Format::Csv)))
        );
        for bad in ["status=closed", "format=xml", "format=json&format=csv"] {
            assert!(list_parameters(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn resolutions_name_their_bad_fields() {
        assert!(resolution_of(br#"{"resolution": "fixed"}"#).is_ok());
        let names = |body: &[u8]| match resolution_of(body) {
            Err(ApiError::InvalidParams(params)) => {
                params.into_iter().map(|p| p.name).collect::<Vec<_>>()
            }
            other => panic!("{other:?}"),
        };
        assert_eq!(
            names(br#"{"resolution": "listing_removed"}"#),
            ["resolution"]
        );
        assert_eq!(names(br#"{"resolution": "fixed", "note": 3}"#), ["note"]);
        let long = serde_json::json!({"resolution": "dismissed", "note": "n".repeat(501)});
        assert_eq!(names(long.to_string().as_bytes()), ["note"]);
        assert_eq!(names(b"nope"), ["body"]);
    }
}
