//! Library errors mapped to HTTP, once: [`ApiError`] as
//! `application/problem+json` (RFC 9457). The patient pages show the same
//! errors in the site's layout through `routes::pages::error::PageError`.
//! An unexpected error shows an opaque message and logs its cause.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use serde::Serialize;

use crate::geo::places::PlaceError;
use crate::pages::RenderError;
use crate::search::{InvalidParam, SearchError};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("invalid parameters")]
    InvalidParams(Vec<InvalidParam>),
    #[error("{0}")]
    UnknownPlace(PlaceError),
    #[error("{0}")]
    NotFound(String),
    #[error("no index is loaded yet; try again shortly")]
    NotReady,
    #[error("missing or wrong credentials: send Authorization: Bearer <admin token>")]
    Unauthorized,
    /// A signed-in form without its CSRF token, or without a session.
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Conflict(String),
    /// Too many wrong admin tokens from this client; retry after N seconds.
    #[error("too many wrong admin tokens from your address; try again in {0} seconds")]
    TooManyAttempts(u64),
    #[error("the upload is larger than the limit of {0} bytes")]
    PayloadTooLarge(u64),
    #[error(
        "content type {0:?} is not accepted: send text/csv or multipart/form-data with a field named file"
    )]
    UnsupportedMediaType(String),
    /// A `Content-Encoding` the upload paths do not decode.
    #[error("{0}")]
    UnsupportedEncoding(String),
    /// A request body that stalled or took too long.
    #[error("{0}")]
    RequestTimeout(String),
    #[error("{0}")]
    BadRequest(String),
    /// A method the route does not answer (the detail names them).
    #[error("{0}")]
    MethodNotAllowed(String),
    #[error("internal error")]
    Internal(String),
}

impl From<SearchError> for ApiError {
    fn from(error: SearchError) -> Self {
        match error {
            SearchError::InvalidParams(params) => ApiError::InvalidParams(params),
            // Coordinates out of range are a bad value, not an unknown place.
            SearchError::UnknownPlace(PlaceError::OutOfRange(reason)) => {
                ApiError::InvalidParams(vec![InvalidParam {
                    name: "near".into(),
                    reason,
                }])
            }
            SearchError::UnknownPlace(place) => ApiError::UnknownPlace(place),
            SearchError::Index(error) => ApiError::Internal(error.to_string()),
        }
    }
}

impl From<RenderError> for ApiError {
    fn from(error: RenderError) -> Self {
        ApiError::Internal(error.to_string())
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(error: actix_web::error::BlockingError) -> Self {
        ApiError::Internal(error.to_string())
    }
}

/// The problem document of RFC 9457.
#[derive(Debug, Serialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub title: &'static str,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub invalid_params: Vec<InvalidParam>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub suggestions: Vec<String>,
}

pub fn problem_response(problem: &Problem) -> HttpResponse {
    let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    HttpResponse::build(status)
        .content_type("application/problem+json")
        .json(problem)
}

impl ApiError {
    fn problem(&self) -> Problem {
        let simple = |kind, title, status: StatusCode, detail: String| Problem {
            kind,
            title,
            status: status.as_u16(),
            detail,
            invalid_params: Vec::new(),
            suggestions: Vec::new(),
        };
        match self {
            ApiError::InvalidParams(params) => Problem {
                invalid_params: params.clone(),
                ..simple(
                    "/problems/invalid-parameters",
                    "Invalid parameters",
                    StatusCode::BAD_REQUEST,
                    params
                        .iter()
                        .map(|p| format!("{}: {}", p.name, p.reason))
                        .collect::<Vec<_>>()
                        .join("; "),
                )
            },
            ApiError::UnknownPlace(error) => {
                let suggestions = match error {
                    PlaceError::NotFound { suggestions, .. } => suggestions.clone(),
                    PlaceError::OutOfRange(_) => Vec::new(),
                };
                Problem {
                    invalid_params: vec![InvalidParam {
                        name: "near".into(),
                        reason: error.to_string(),
                    }],
                    suggestions,
                    ..simple(
                        "/problems/unknown-place",
                        "Unknown place",
                        StatusCode::BAD_REQUEST,
                        error.to_string(),
                    )
                }
            }
            ApiError::NotFound(detail) => simple(
                "/problems/not-found",
                "Not found",
                StatusCode::NOT_FOUND,
                detail.clone(),
            ),
            ApiError::NotReady => simple(
                "/problems/not-ready",
                "Not ready",
                StatusCode::SERVICE_UNAVAILABLE,
                self.to_string(),
            ),
            ApiError::Unauthorized => simple(
                "/problems/unauthorized",
                "Unauthorized",
                StatusCode::UNAUTHORIZED,
                self.to_string(),
            ),
            ApiError::Forbidden(detail) => simple(
                "/problems/forbidden",
                "Forbidden",
                StatusCode::FORBIDDEN,
                detail.clone(),
            ),
            ApiError::Conflict(detail) => simple(
                "/problems/conflict",
                "Conflict",
                StatusCode::CONFLICT,
                detail.clone(),
            ),
            ApiError::TooManyAttempts(_) => simple(
                "/problems/too-many-attempts",
                "Too many attempts",
                StatusCode::TOO_MANY_REQUESTS,
                self.to_string(),
            ),
            ApiError::PayloadTooLarge(_) => simple(
                "/problems/payload-too-large",
                "Payload too large",
                StatusCode::PAYLOAD_TOO_LARGE,
                self.to_string(),
            ),
            ApiError::UnsupportedMediaType(_) => simple(
                "/problems/unsupported-media-type",
                "Unsupported media type",
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                self.to_string(),
            ),
            ApiError::UnsupportedEncoding(detail) => simple(
                "/problems/unsupported-media-type",
                "Unsupported media type",
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                detail.clone(),
            ),
            ApiError::RequestTimeout(detail) => simple(
                "/problems/request-timeout",
                "Request timeout",
                StatusCode::REQUEST_TIMEOUT,
                detail.clone(),
            ),
            ApiError::MethodNotAllowed(detail) => simple(
                "/problems/method-not-allowed",
                "Method not allowed",
                StatusCode::METHOD_NOT_ALLOWED,
                detail.clone(),
            ),
            ApiError::BadRequest(detail) => simple(
                "/problems/bad-request",
                "Bad request",
                StatusCode::BAD_REQUEST,
                detail.clone(),
            ),
            ApiError::Internal(_) => simple(
                "/problems/internal",
                "Internal error",
                StatusCode::INTERNAL_SERVER_ERROR,
                "something went wrong on our side; the error has been logged".into(),
            ),
        }
    }
}

impl ApiError {
    /// The `Retry-After` value of an error that has one.
    pub fn retry_after(&self) -> Option<actix_web::http::header::HeaderValue> {
        match self {
            ApiError::TooManyAttempts(seconds) => Some((*seconds).into()),
            _ => None,
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.problem().status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        if let ApiError::Internal(cause) = self {
            tracing::error!(%cause, "internal error");
        }
        let mut response = problem_response(&self.problem());
        if let Some(retry_after) = self.retry_after() {
            response
                .headers_mut()
                .insert(actix_web::http::header::RETRY_AFTER, retry_after);
        }
        if matches!(self, ApiError::Unauthorized) {
            response.headers_mut().insert(
                actix_web::http::header::WWW_AUTHENTICATE,
                actix_web::http::header::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}

pub async fn api_not_found(request: HttpRequest) -> HttpResponse {
    ApiError::NotFound(format!(
        "no API route {} {}; see /api/v1/openapi.json",
        request.method(),
        request.path()
    ))
    .error_response()
}

pub async fn method_not_allowed(request: HttpRequest) -> HttpResponse {
    let mut response = ApiError::MethodNotAllowed(format!(
        "{} is not allowed on {}; the API answers GET",
        request.method(),
        request.path()
    ))
    .error_response();
    response.headers_mut().insert(
        actix_web::http::header::ALLOW,
        actix_web::http::header::HeaderValue::from_static("GET"),
    );
    response
}

pub async fn not_found() -> HttpResponse {
    HttpResponse::NotFound()
        .content_type("text/plain; charset=utf-8")
        .body("Not found.\n")
}
