//! The admin pages for people who don't use curl: sign in with the admin
//! token, see the served generation and the import log, upload a CSV, roll
//! back, sign out. Every POST except sign-in must carry the session's CSRF
//! token (403 otherwise). Pages come from `pages::admin` (askama, escaped)
//! and are sent with a CSP that allows no inline script or style.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};

use super::api::{current_status, roll_back};
use super::session::{SESSION_SECONDS, Session, cookie_header, new_nonce, session_mac};
use super::upload::{FormFields, import_upload};
use super::{AdminSettings, check_token};
use crate::clock::unix_now;
use crate::index::{ImportOptions, ServedIndex};
use crate::pages::RenderError;
use crate::pages::admin::{
    ADMIN_CSS, render_admin, render_import_result, render_login, render_message,
};
use crate::routes::errors::ApiError;

const CSP: &str = "default-src 'self'; form-action 'self'; frame-ancestors 'none'";

/// The configured token, or the 404 that hides `/admin` without one.
pub(super) fn configured<'s>(
    request: &HttpRequest,
    settings: &'s AdminSettings,
) -> Result<&'s str, ApiError> {
    settings
        .token
        .as_deref()
        .ok_or_else(|| ApiError::NotFound(format!("no route {}", request.path())))
}

pub(super) fn form_value(body: &[u8], name: &str) -> Option<String> {
    form_urlencoded::parse(body)
        .find(|(n, _)| n == name)
        .map(|(_, value)| value.into_owned())
}

fn field<'f>(fields: &'f FormFields, name: &str) -> Option<&'f str> {
    fields
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, value)| value.as_str())
}

/// A checkbox is sent (as `on`) only when ticked.
fn ticked(value: Option<&str>) -> bool {
    value.is_some_and(|v| matches!(v.trim(), "on" | "true" | "1" | "yes"))
}

/// An HTML page with the headers every admin page carries: the CSP, and
/// no caching (pages hold CSRF tokens and change with every import).
pub(super) fn html(
    status: StatusCode,
    page: Result<String, RenderError>,
) -> Result<HttpResponse, ApiError> {
    let body =
        page.map_err(|e| ApiError::Internal(format!("cannot render the admin page: {e}")))?;
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CONTENT_SECURITY_POLICY, CSP))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .body(body))
}

pub(super) fn login_page(
    status: StatusCode,
    message: Option<&str>,
) -> Result<HttpResponse, ApiError> {
    html(status, render_login(message))
}

fn back_to_admin() -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/admin"))
        .finish()
}

/// Errors as a page a person can read, with the API's status code. The 404
/// of an unconfigured token stays the API's problem document, so `/admin`
/// looks the same as the JSON routes when it is off.
pub(super) fn respond(result: Result<HttpResponse, ApiError>) -> HttpResponse {
    let error = match result {
        Ok(response) => return response,
        Err(error) => error,
    };
    if matches!(error, ApiError::NotFound(_)) {
        return error.error_response();
    }
    if let ApiError::Internal(cause) = &error {
        tracing::error!(%cause, "internal error");
    }
    let status = error.status_code();
    let page = render_message(
        status.canonical_reason().unwrap_or("Error"),
        &error.to_string(),
    );
    let mut response =
        html(status, page).unwrap_or_else(|render_error| render_error.error_response());
    if let Some(retry_after) = error.retry_after() {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, retry_after);
    }
    response
}

/// `GET /admin`: the sign-in form, or the page itself for a session.
pub async fn page(
    request: HttpRequest,
    state: web::Data<ServedIndex>,
    settings: web::Data<AdminSettings>,
    store: web::Data<crate::reports::ReportStore>,
) -> HttpResponse {
    respond(
        async {
            let token = configured(&request, &settings)?;
            let Some(session) = Session::of(&request, token) else {
                return login_page(StatusCode::OK, None);
            };
            // Without a loaded index the page still offers an upload.
            let status = match current_status(&state).await {
                Ok(status) => Some(status),
                Err(ApiError::NotReady) => None,
                Err(error) => return Err(error),
            };
            let overview = super::reports::overview(&state, &store).await;
            html(
                StatusCode::OK,
                render_admin(&session.csrf, status, overview.reports, overview.freshness),
            )
        }
        .await,
    )
}

/// `POST /admin/login`, form field `token`.
pub async fn login(
    request: HttpRequest,
    body: web::Bytes,
    settings: web::Data<AdminSettings>,
) -> HttpResponse {
    respond((|| {
        let token = configured(&request, &settings)?;
        let presented = form_value(&body, "token").unwrap_or_default();
        match check_token(&request, &settings, token, presented.trim()) {
            Ok(()) => {}
            Err(ApiError::Unauthorized) => {
                return login_page(
                    StatusCode::UNAUTHORIZED,
                    Some("That is not the admin token. Try again."),
                );
            }
            Err(other) => return Err(other),
        }
        let nonce = new_nonce()?;
        let expires = (unix_now() + SESSION_SECONDS).to_string();
        let value = format!("{nonce}.{expires}.{}", session_mac(token, &nonce, &expires));
        back_to_admin_with_cookie(&request, &value, SESSION_SECONDS)
    })())
}

/// The redirect to `/admin` that sets (or, with max-age 0, clears) the
/// session cookie.
fn back_to_admin_with_cookie(
    request: &HttpRequest,
    value: &str,
    max_age: u64,
) -> Result<HttpResponse, ApiError> {
    let mut response = back_to_admin();
    response.headers_mut().insert(
        header::SET_COOKIE,
        header::HeaderValue::from_str(&cookie_header(request, value, max_age))
            .map_err(|e| ApiError::Internal(format!("bad cookie header: {e}")))?,
    );
    Ok(response)
}

/// A url-encoded form sent with a session and its CSRF token (field
/// `csrf`); 404 without a configured token, 403 otherwise.
pub(super) fn signed_in_form(
    request: &HttpRequest,
    settings: &AdminSettings,
    body: &[u8],
) -> Result<(), ApiError> {
    let token = configured(request, settings)?;
    Session::required(request, token)?.check_csrf(form_value(body, "csrf").as_deref())
}

/// `POST /admin/logout`, form field `csrf`: forgets the cookie. The session
/// value itself stays valid until it expires or the token changes
/// (sessions are stateless); the browser just no longer has it.
pub async fn logout(
    request: HttpRequest,
    body: web::Bytes,
    settings: web::Data<AdminSettings>,
) -> HttpResponse {
    respond(
        signed_in_form(&request, &settings, &body)
            .and_then(|()| back_to_admin_with_cookie(&request, "", 0)),
    )
}

/// `POST /admin/rollback-form`, form field `csrf`.
pub async fn rollback_form(
    request: HttpRequest,
    body: web::Bytes,
    state: web::Data<ServedIndex>,
    settings: web::Data<AdminSettings>,
) -> HttpResponse {
    respond(
        async {
            signed_in_form(&request, &settings, &body)?;
            roll_back(&state).await?;
            Ok(back_to_admin())
        }
        .await,
    )
}

/// `POST /admin/upload`: a multipart form with `file`, `csrf` and the
/// checkboxes `skip_invalid` and `allow_shrink`; imported exactly as
/// `POST /admin/reindex` does. 200 when published, 422 when rejected.
pub async fn upload(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<ServedIndex>,
    settings: web::Data<AdminSettings>,
) -> HttpResponse {
    respond(
        async {
            let token = configured(&request, &settings)?;
            // Before the lock and the body: a stranger gets 403 at once.
            let session = Session::required(&request, token)?;
            let outcome = import_upload(&request, payload, &state, &settings, |fields| {
                session.check_csrf(field(fields, "csrf"))?;
                Ok(ImportOptions {
                    skip_invalid: ticked(field(fields, "skip_invalid")),
                    allow_shrink: ticked(field(fields, "allow_shrink")),
                    source: None,
                })
            })
            .await?;
            let status = if outcome.generation.is_some() {
                StatusCode::OK
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            html(status, render_import_result(outcome))
        }
        .await,
    )
}

/// `GET /admin/admin.css`: its URL carries a hash of the content, so it
/// may be cached for a year.
pub async fn stylesheet(request: HttpRequest, settings: web::Data<AdminSettings>) -> HttpResponse {
    respond(
        configured(&request, &settings)
            .map(|_| crate::routes::pages::asset("text/css; charset=utf-8", ADMIN_CSS)),
    )
}
