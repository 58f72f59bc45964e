//! Listing reports over HTTP (docs/api.md, "Reporting a wrong listing"; README.md), thin: read the body (at most
//! 16 KiB, within 10 s), check that the provider is listed, validate with
//! `reports::Submission`, store with `reports::ReportStore`.
//!
//! - `POST /api/v1/providers/{id}/reports` (JSON) → 202 `{"id", "status"}`;
//!   400 naming the field, 404, 413, 415, 429 with `Retry-After`.
//! - `GET /providers/{id}/report` (the form on a page of its own; with
//!   `?sent=1` the thank-you page) and `POST /providers/{id}/report` (the
//!   profile's form: a same-site, url-encoded form that works without
//!   JavaScript; 303 to the thank-you page).
//!
//! The form carries a honeypot (`website_url`, hidden from people): a
//! filled one gets the thank-you page and nothing is stored. The access
//! log keeps no client address or query string for these paths
//! (`access_log::is_private`), and neither do these handlers' own lines.

use std::time::Duration;

use actix_web::http::{StatusCode, header};
use actix_web::web::{Bytes, BytesMut};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use futures_util::StreamExt;

use super::client_ip;
use super::errors::{ApiError, Problem, problem_response};
use super::pages::{Page, PageError, accepts_gzip, html, page_context};
use crate::index::ServedIndex;
use crate::pages::reports::{ReportFormView, render_report_form, render_report_thanks};
use crate::pages::{Lang, Text};
use crate::reports::sweep::now;
use crate::reports::{REPORTS_PER_HOUR, ReportStore, Status, Submission, Submitted};
use crate::search::{self, InvalidParam};

/// Largest report body (JSON or form), in bytes.
pub const MAX_BODY_BYTES: usize = 16 * 1024;
/// A body must have arrived this long after the handler starts reading it.
const BODY_DEADLINE: Duration = Duration::from_secs(10);
/// The form's hidden field that only robots fill in.
pub const HONEYPOT_FIELD: &str = "website_url";

/// The request's media type, lower-case, without parameters.
pub(crate) fn media_type(request: &HttpRequest) -> String {
    request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// A 415 with our own words (the upload's variant names CSV).
pub(crate) fn unsupported(detail: String) -> ApiError {
    ApiError::UnsupportedEncoding(detail)
}

/// Bodies are read as sent: a `Content-Encoding` other than `identity`
/// is a 415.
fn plain_encoding(request: &HttpRequest) -> Result<(), ApiError> {
    let encoded = request
        .headers()
        .get_all(header::CONTENT_ENCODING)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|v| !v.is_empty() && !v.eq_ignore_ascii_case("identity"));
    if encoded {
        return Err(unsupported(
            "a report body is read as sent: leave out Content-Encoding".into(),
        ));
    }
    Ok(())
}

/// The whole body, at most [`MAX_BODY_BYTES`] (413 past it, or at once
/// when `Content-Length` says so), within [`BODY_DEADLINE`] (408).
pub(crate) async fn read_body(
    request: &HttpRequest,
    mut payload: web::Payload,
) -> Result<Bytes, ApiError> {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let too_large = ApiError::PayloadTooLarge(MAX_BODY_BYTES as u64);
    if declared.is_some_and(|length| length > MAX_BODY_BYTES as u64) {
        return Err(too_large);
    }
    let read = async {
        let mut body = BytesMut::new();
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(|e| {
                ApiError::InvalidParams(vec![InvalidParam {
                    name: "body".into(),
                    reason: format!("the body broke off: {e}"),
                }])
            })?;
            if body.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(ApiError::PayloadTooLarge(MAX_BODY_BYTES as u64));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body.freeze())
    };
    actix_web::rt::time::timeout(BODY_DEADLINE, read)
        .await
        .map_err(|_| {
            ApiError::RequestTimeout(format!(
                "the body did not arrive within {} s; try again",
                BODY_DEADLINE.as_secs()
            ))
        })?
}

fn shown(id: &str) -> String {
    id.chars().take(100).collect()
}

/// 202 `{"id", "status"}`, not cached.
fn accepted(id: &str, status: Status) -> HttpResponse {
    HttpResponse::Accepted()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(serde_json::json!({ "id": id, "status": status }))
}

/// The report limit's 429: its own problem type, with `Retry-After`.
fn too_many_reports(wait_seconds: u64) -> HttpResponse {
    let mut response = problem_response(&Problem {
        kind: "/problems/too-many-reports",
        title: "Too many reports",
        status: 429,
        detail: format!(
            "this client sent {REPORTS_PER_HOUR} reports within the last hour, the most we accept; \
             try again in {wait_seconds} s"
        ),
        invalid_params: Vec::new(),
        suggestions: Vec::new(),
    });
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, wait_seconds.into());
    response
}

fn store_failed(error: crate::reports::StoreError) -> ApiError {
    ApiError::Internal(format!("report queue: {error}"))
}

/// `POST /api/v1/providers/{id}/reports`, body
/// `{"reasons": [...], "details": "..."}` as `application/json`.
pub async fn submit_json(
    request: HttpRequest,
    id: web::Path<String>,
    payload: web::Payload,
    state: web::Data<ServedIndex>,
    store: web::Data<ReportStore>,
) -> Result<HttpResponse, ApiError> {
    let media = media_type(&request);
    let json = media == "application/json"
        || (media.starts_with("application/") && media.ends_with("+json"));
    if !json {
        return Err(unsupported(format!(
            "content type {:?} is not accepted: send the report as application/json, \
             e.g. {{\"reasons\": [\"phone\"], \"details\": \"…\"}}",
            media.chars().take(100).collect::<String>()
        )));
    }
    plain_encoding(&request)?;
    let body = read_body(&request, payload).await?;
    let id = id.into_inner();
    let generation = state.generation().ok_or(ApiError::NotReady)?;
    // One term looked up in the id field's dictionary (a few µs, like a
    // place lookup): here, not on the blocking pool, which would cost two
    // thread switches per report.
    if !search::has_provider(&generation, &id)? {
        return Err(ApiError::NotFound(format!(
            "no provider has the id {:?}",
            shown(&id)
        )));
    }
    let submission = Submission::from_json(&body).map_err(ApiError::InvalidParams)?;
    let client = client_ip::of(&request);
    let outcome = store
        .submit(&id, client, &submission, now())
        .await
        .map_err(store_failed)?;
    Ok(match outcome {
        Submitted::Stored { id: report, .. } => {
            tracing::info!(report = %report, provider = %id, "report received");
            accepted(&report, Status::Open)
        }
        Submitted::Repeat { id, status } => accepted(&id, status),
        Submitted::Limited {
            retry_after_seconds,
        } => too_many_reports(retry_after_seconds),
    })
}

/// Other methods on the reports resource: 405 naming POST.
pub async fn method_not_allowed(request: HttpRequest) -> HttpResponse {
    let mut response = ApiError::MethodNotAllowed(format!(
        "{} is not allowed on {}; send a report with POST",
        request.method(),
        request.path()
    ))
    .error_response();
    response
        .headers_mut()
        .insert(header::ALLOW, header::HeaderValue::from_static("POST"));
    response
}

// ---------------------------------------------------------------------------
// The pages.

/// Report pages are about one visitor's action: never cached.
fn private(mut response: HttpResponse) -> HttpResponse {
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    response
}

/// The provider's name, or the 404 page.
async fn provider_name(state: &web::Data<ServedIndex>, id: &str) -> Result<String, PageError> {
    let generation = state.generation().ok_or(ApiError::NotReady)?;
    let lookup = id.to_string();
    let found = web::block(move || search::find_provider(&generation, &lookup))
        .await
        .map_err(ApiError::from)?
        .map_err(ApiError::from)?;
    found
        .map(|hit| hit.provider.name)
        .ok_or_else(|| PageError::unknown_provider(id))
}

fn thanks_href(id: &str, lang: Lang) -> String {
    lang.href(&format!("/providers/{id}/report?sent=1"))
}

/// The redirect after a sent form (Post/Redirect/Get: a reload does not
/// send it again), to the thank-you page in the form's language.
fn see_thanks(id: &str, lang: Lang) -> HttpResponse {
    private(
        HttpResponse::SeeOther()
            .insert_header((header::LOCATION, thanks_href(id, lang)))
            .finish(),
    )
}

/// `GET /providers/{id}/report`: the form on its own page; with `?sent=1`
/// the thank-you page.
pub async fn report_page(
    request: HttpRequest,
    id: web::Path<String>,
    state: web::Data<ServedIndex>,
) -> Result<HttpResponse, PageError> {
    let id = id.into_inner();
    let context = page_context(&request);
    let within = |error: PageError| error.within(&context);
    let name = provider_name(&state, &id).await.map_err(within)?;
    let sent = form_urlencoded::parse(request.query_string().as_bytes()).any(|(n, _)| n == "sent");
    let body = if sent {
        render_report_thanks(&context, &name, &id)
    } else {
        render_report_form(
            &context,
            &name,
            &id,
            &ReportFormView::empty(&id, context.lang),
        )
    }
    .map_err(|error| within(ApiError::from(error).into()))?;
    Ok(private(html(
        StatusCode::OK,
        Page::new(body, accepts_gzip(&request)),
    )))
}

/// A browser's own word that the form comes from another site.
fn cross_site(request: &HttpRequest) -> bool {
    request
        .headers()
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("cross-site"))
}

/// A refusal of the form as a page in the site's layout.
fn form_refused(error: ApiError) -> PageError {
    let message = match &error {
        ApiError::PayloadTooLarge(_) => "report.refused.too_long",
        ApiError::RequestTimeout(_) => "report.refused.incomplete",
        ApiError::Forbidden(_) => "report.refused.cross_site",
        _ => "report.refused.unreadable",
    };
    PageError::said(error, Text::new(message))
}

/// `POST /providers/{id}/report`: the profile's form
/// (`application/x-www-form-urlencoded`: `reason` repeated, `details`,
/// the honeypot `website_url`). 303 to the thank-you page; 400 with the
/// form refilled and what to fix; 429 with `Retry-After`.
pub async fn submit_form(
    request: HttpRequest,
    id: web::Path<String>,
    payload: web::Payload,
    state: web::Data<ServedIndex>,
    store: web::Data<ReportStore>,
) -> Result<HttpResponse, PageError> {
    let context = page_context(&request);
    submit_form_within(request, id, payload, state, store, &context)
        .await
        .map_err(|error| error.within(&context))
}

async fn submit_form_within(
    request: HttpRequest,
    id: web::Path<String>,
    payload: web::Payload,
    state: web::Data<ServedIndex>,
    store: web::Data<ReportStore>,
    context: &crate::pages::PageContext,
) -> Result<HttpResponse, PageError> {
    let lang = context.lang;
    if cross_site(&request) {
        return Err(form_refused(ApiError::Forbidden(
            "reports are sent from this site's own pages".into(),
        )));
    }
    if media_type(&request) != "application/x-www-form-urlencoded" {
        return Err(form_refused(unsupported(
            "send the form as application/x-www-form-urlencoded".into(),
        )));
    }
    plain_encoding(&request).map_err(form_refused)?;
    let body = read_body(&request, payload).await.map_err(form_refused)?;
    let id = id.into_inner();
    let name = provider_name(&state, &id).await?;
    let pairs: Vec<(String, String)> = form_urlencoded::parse(&body)
        .map(|(n, v)| (n.into_owned(), v.into_owned()))
        .collect();
    let field = |name: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    if field(HONEYPOT_FIELD).is_some_and(|v| !v.trim().is_empty()) {
        // Looks like success, so a robot learns nothing.
        tracing::info!(provider = %id, "report form with the honeypot filled: not stored");
        return Ok(see_thanks(&id, lang));
    }
    let reasons: Vec<String> = pairs
        .iter()
        .filter(|(n, _)| n == "reason")
        .map(|(_, v)| v.clone())
        .collect();
    let details = field("details");
    let gzip = accepts_gzip(&request);
    let submission = match Submission::new(reasons.iter().map(String::as_str), details, "reason") {
        Ok(submission) => submission,
        Err(problems) => {
            let view = ReportFormView::refilled(
                &id,
                &reasons,
                details.unwrap_or_default(),
                &problems,
                lang,
            );
            let page = render_report_form(context, &name, &id, &view).map_err(ApiError::from)?;
            return Ok(private(html(
                StatusCode::BAD_REQUEST,
                Page::new(page, gzip),
            )));
        }
    };
    let client = client_ip::of(&request);
    let outcome = store
        .submit(&id, client, &submission, now())
        .await
        .map_err(store_failed)?;
    match outcome {
        Submitted::Stored { id: report, .. } => {
            tracing::info!(report = %report, provider = %id, "report received (form)");
            Ok(see_thanks(&id, lang))
        }
        Submitted::Repeat { .. } => Ok(see_thanks(&id, lang)),
        Submitted::Limited {
            retry_after_seconds,
        } => {
            let minutes = retry_after_seconds.div_ceil(60);
            let mut response = PageError::said(
                ApiError::TooManyAttempts(retry_after_seconds),
                Text::new("report.refused.limited")
                    .with("count", REPORTS_PER_HOUR)
                    .with("minutes", lang.count("count.minutes", minutes)),
            )
            .within(context)
            .error_response();
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, retry_after_seconds.into());
            Ok(private(response))
        }
    }
}

/// Other methods on the form's address: a 405 page.
pub async fn page_method_not_allowed(request: HttpRequest) -> HttpResponse {
    let mut response = super::pages::method_not_allowed_page(request).await;
    response.headers_mut().insert(
        header::ALLOW,
        header::HeaderValue::from_static("GET, HEAD, POST"),
    );
    response
}
