//! The admin page (SPEC §7) for people who don't use curl: sign in with the
//! admin token, see the served generation and the import log, upload a CSV,
//! roll back, sign out.
//!
//! Sessions are stateless so that every replica configured with the same
//! token accepts them: the cookie is `<nonce>.<expires>.<mac>` with a random
//! nonce, the Unix time it expires (8 hours on; checked here, not only by the
//! browser) and `mac = SHA-256("session\0" token "\0" nonce "\0" expires)`, and the CSRF token of the
//! forms is `SHA-256("csrf\0" token "\0" nonce)`. Changing the admin token
//! therefore signs everyone out. The cookie is `HttpOnly; SameSite=Strict`
//! and limited to `/admin`; every POST except sign-in must carry the CSRF
//! token (403 otherwise). Pages are rendered with askama, which escapes
//! HTML, and are sent with a CSP that allows no inline script or style.
//!
//! As with the JSON routes, no configured token means every route here
//! answers 404.

use std::io::Read;
use std::sync::LazyLock;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use askama::Template;
use sha2::{Digest, Sha256};

use super::admin::{self, AdminSettings, FormFields, Status, constant_time_equal};
use super::errors::ApiError;
use crate::clock::unix_now;
use crate::index::ImportOptions;
use crate::index::ServedIndex;
use crate::ingest::Report;
use crate::pages::content_hash;

const COOKIE: &str = "ketadir_admin";
/// How long a browser keeps the session cookie.
const SESSION_SECONDS: u64 = 8 * 60 * 60;
const CSP: &str = "default-src 'self'; form-action 'self'; frame-ancestors 'none'";
const CSS: &str = include_str!("../../static/admin.css");
/// The stylesheet's URL names its content, so it can be cached for a year
/// and a new build is still fetched at once.
static CSS_HREF: LazyLock<String> =
    LazyLock::new(|| format!("/admin/admin.css?v={}", content_hash(CSS)));

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn hex_sha256(parts: &[&[u8]]) -> String {
    let mut digest = Sha256::new();
    for part in parts {
        digest.update(part);
    }
    hex(&digest.finalize())
}

fn session_mac(token: &str, nonce: &str, expires: &str) -> String {
    hex_sha256(&[
        b"session\0",
        token.as_bytes(),
        b"\0",
        nonce.as_bytes(),
        b"\0",
        expires.as_bytes(),
    ])
}

fn csrf_token(token: &str, nonce: &str) -> String {
    hex_sha256(&[b"csrf\0", token.as_bytes(), b"\0", nonce.as_bytes()])
}

/// 16 bytes from the kernel's CSPRNG, as hex. Reading `/dev/urandom` never
/// blocks once the system has booted, so this stays on the event loop.
fn new_nonce() -> Result<String, ApiError> {
    let mut bytes = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut random| random.read_exact(&mut bytes))
        .map_err(|e| ApiError::Internal(format!("cannot read /dev/urandom: {e}")))?;
    Ok(hex(&bytes))
}

/// The configured token, or the 404 that hides `/admin` without one.
fn configured<'s>(request: &HttpRequest, settings: &'s AdminSettings) -> Result<&'s str, ApiError> {
    settings
        .token
        .as_deref()
        .ok_or_else(|| ApiError::NotFound(format!("no route {}", request.path())))
}

/// The value of cookie `name`; actix-web's cookie feature is off, so the
/// `Cookie` headers are read by hand.
fn cookie<'r>(request: &'r HttpRequest, name: &str) -> Option<&'r str> {
    request
        .headers()
        .get_all(header::COOKIE)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value.trim())
}

/// A signed-in admin, known by the CSRF token of their session.
struct Session {
    csrf: String,
}

impl Session {
    /// The session of a valid cookie; a missing or forged one is `None`.
    fn of(request: &HttpRequest, token: &str) -> Option<Session> {
        let value = cookie(request, COOKIE)?;
        let mut parts = value.splitn(3, '.');
        let (nonce, expires, mac) = (parts.next()?, parts.next()?, parts.next()?);
        let well_formed = nonce.len() == 32 && nonce.bytes().all(|b| b.is_ascii_hexdigit());
        let current = expires.parse::<u64>().is_ok_and(|at| unix_now() < at);
        let signed = constant_time_equal(
            mac.as_bytes(),
            session_mac(token, nonce, expires).as_bytes(),
        );
        (well_formed && current && signed).then(|| Session {
            csrf: csrf_token(token, nonce),
        })
    }

    /// A form's POST needs a session: without one there is nothing to
    /// check its CSRF token against.
    fn required(request: &HttpRequest, token: &str) -> Result<Session, ApiError> {
        Session::of(request, token).ok_or_else(|| {
            ApiError::Forbidden(
                "you are not signed in (or the session has ended); sign in again".into(),
            )
        })
    }

    fn check_csrf(&self, presented: Option<&str>) -> Result<(), ApiError> {
        match presented {
            Some(presented) if constant_time_equal(presented.as_bytes(), self.csrf.as_bytes()) => {
                Ok(())
            }
            _ => Err(ApiError::Forbidden(
                "the form has no valid CSRF token; reload the admin page and try again".into(),
            )),
        }
    }
}

/// The cookie attributes; `Secure` only over TLS (as the proxy reports it),
/// or a browser on plain http would drop the cookie.
fn cookie_header(request: &HttpRequest, value: &str, max_age: u64) -> String {
    let secure = if request.connection_info().scheme() == "https" {
        "; Secure"
    } else {
        ""
    };
    format!("{COOKIE}={value}; Max-Age={max_age}; Path=/admin; HttpOnly; SameSite=Strict{secure}")
}

fn form_value(body: &[u8], name: &str) -> Option<String> {
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

#[derive(Template)]
#[template(path = "admin_login.html")]
struct LoginPage<'a> {
    css: &'a str,
    message: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "admin.html")]
struct AdminPage<'a> {
    css: &'a str,
    csrf: &'a str,
    status: Option<Status>,
}

#[derive(Template)]
#[template(path = "admin_result.html")]
struct ResultPage<'a> {
    css: &'a str,
    generation: Option<u64>,
    documents: u64,
    seconds: f64,
    rejection: Option<String>,
    report: Report,
}

#[derive(Template)]
#[template(path = "admin_message.html")]
struct MessagePage<'a> {
    css: &'a str,
    title: &'a str,
    message: &'a str,
}

/// An HTML page with the headers every admin page carries: the CSP, and
/// no caching (pages hold CSRF tokens and change with every import).
fn html(status: StatusCode, template: &impl Template) -> Result<HttpResponse, ApiError> {
    let body = template
        .render()
        .map_err(|e| ApiError::Internal(format!("cannot render the admin page: {e}")))?;
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CONTENT_SECURITY_POLICY, CSP))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .body(body))
}

fn login_page(status: StatusCode, message: Option<&str>) -> Result<HttpResponse, ApiError> {
    html(
        status,
        &LoginPage {
            css: &CSS_HREF,
            message,
        },
    )
}

fn back_to_admin() -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/admin"))
        .finish()
}

/// Errors as a page a person can read, with the API's status code. The 404
/// of an unconfigured token stays the API's problem document, so `/admin`
/// looks the same as the JSON routes when it is off.
fn respond(result: Result<HttpResponse, ApiError>) -> HttpResponse {
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
    let page = MessagePage {
        css: &CSS_HREF,
        title: status.canonical_reason().unwrap_or("Error"),
        message: &error.to_string(),
    };
    let mut response =
        html(status, &page).unwrap_or_else(|render_error| render_error.error_response());
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
) -> HttpResponse {
    respond(
        async {
            let token = configured(&request, &settings)?;
            let Some(session) = Session::of(&request, token) else {
                return login_page(StatusCode::OK, None);
            };
            // Without a loaded index the page still offers an upload.
            let status = match admin::current_status(&state).await {
                Ok(status) => Some(status),
                Err(ApiError::NotReady) => None,
                Err(error) => return Err(error),
            };
            html(
                StatusCode::OK,
                &AdminPage {
                    css: &CSS_HREF,
                    csrf: &session.csrf,
                    status,
                },
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
        match admin::check_token(&request, &settings, token, presented.trim()) {
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
fn signed_in_form(
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
            admin::roll_back(&state).await?;
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
            let outcome = admin::import_upload(&request, payload, &state, &settings, |fields| {
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
            html(
                status,
                &ResultPage {
                    css: &CSS_HREF,
                    generation: outcome.generation,
                    documents: outcome.documents,
                    seconds: outcome.seconds,
                    rejection: outcome.rejection.as_ref().map(|r| r.to_string()),
                    report: outcome.report,
                },
            )
        }
        .await,
    )
}

/// `GET /admin/admin.css`: its URL carries a hash of the content, so it
/// may be cached for a year.
pub async fn stylesheet(request: HttpRequest, settings: web::Data<AdminSettings>) -> HttpResponse {
    respond(
        configured(&request, &settings)
            .map(|_| super::pages::asset("text/css; charset=utf-8", CSS)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_and_csrf_tokens_differ_and_depend_on_the_token() {
        let nonce = "00112233445566778899aabbccddeeff";
        assert_eq!(session_mac("t", nonce, "1").len(), 64);
        assert_ne!(session_mac("t", nonce, "1"), csrf_token("t", nonce));
        assert_ne!(session_mac("t", nonce, "1"), session_mac("u", nonce, "1"));
        assert_ne!(session_mac("t", nonce, "1"), session_mac("t", nonce, "2"));
    }

    #[test]
    fn nonces_are_random_hex() {
        let (Ok(a), Ok(b)) = (new_nonce(), new_nonce()) else {
            panic!("/dev/urandom is readable");
        };
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
    }
}
