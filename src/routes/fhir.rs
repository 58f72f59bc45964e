//! The FHIR facade over HTTP (docs/fhir.md): thin handlers around
//! [`crate::facades::fhir`]. Answers are `application/fhir+json`; every
//! error is an `OperationOutcome` with the status it stands for, including
//! the rate limit's 429 and an unknown key's 401, which [`outcomes`]
//! rewrites from the problem documents the shared middleware writes.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};

use super::caching::{self, CachePolicy};
use super::client_ip::TrustedProxies;
use crate::facades::fhir::{self, MEDIA_TYPE, Read, ResourceType};
use crate::index::ServedIndex;
use crate::search::{InvalidParam, SearchError};

/// An error of the FHIR facade, answered as an `OperationOutcome`.
#[derive(Debug, thiserror::Error)]
pub enum FhirError {
    #[error("invalid parameters")]
    InvalidParams(Vec<InvalidParam>),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    #[error("no index is loaded yet; try again shortly")]
    NotReady,
    #[error("internal error")]
    Internal(String),
}

impl From<SearchError> for FhirError {
    fn from(error: SearchError) -> Self {
        match error {
            SearchError::InvalidParams(params) => FhirError::InvalidParams(params),
            // The facade sends coordinates, never place names; an unknown
            // place would be a bad `near` all the same.
            SearchError::UnknownPlace(place) => FhirError::InvalidParams(vec![InvalidParam {
                name: "near".into(),
                reason: place.to_string(),
            }]),
            SearchError::Index(error) => FhirError::Internal(error.to_string()),
        }
    }
}

impl From<actix_web::error::BlockingError> for FhirError {
    fn from(error: actix_web::error::BlockingError) -> Self {
        FhirError::Internal(error.to_string())
    }
}

fn fhir_body(status: StatusCode, body: Vec<u8>) -> HttpResponse {
    HttpResponse::build(status)
        .content_type(MEDIA_TYPE)
        .body(body)
}

impl ResponseError for FhirError {
    fn status_code(&self) -> StatusCode {
        match self {
            FhirError::InvalidParams(_) => StatusCode::BAD_REQUEST,
            FhirError::NotFound(_) => StatusCode::NOT_FOUND,
            FhirError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            FhirError::NotReady => StatusCode::SERVICE_UNAVAILABLE,
            FhirError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let body = match self {
            FhirError::InvalidParams(params) => fhir::invalid_params_outcome(params),
            FhirError::NotFound(message) => fhir::outcome("not-found", [message.clone()]),
            FhirError::MethodNotAllowed(message) => {
                fhir::outcome("not-supported", [message.clone()])
            }
            FhirError::NotReady => fhir::outcome("transient", [self.to_string()]),
            FhirError::Internal(cause) => {
                tracing::error!(%cause, "internal error");
                fhir::outcome(
                    "exception",
                    ["something went wrong on our side; the error has been logged".to_string()],
                )
            }
        };
        let mut response = fhir_body(self.status_code(), body);
        if matches!(self, FhirError::MethodNotAllowed(_)) {
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("GET"));
        }
        response
    }
}

/// The FHIR base URL the client reached: `Host` as sent, and `https` when
/// a trusted proxy says so in `X-Forwarded-Proto` (this server speaks plain
/// HTTP; a forwarded header from anyone else is not believed).
fn base_url(request: &HttpRequest) -> String {
    let peer = request.peer_addr().map(|address| address.ip());
    let via_trusted_proxy = request
        .app_data::<web::Data<TrustedProxies>>()
        .zip(peer)
        .is_some_and(|(proxies, peer)| proxies.0.contains(&peer));
    let scheme = via_trusted_proxy
        .then(|| request.headers().get("x-forwarded-proto"))
        .flatten()
        .and_then(|value| value.to_str().ok())
        .filter(|proto| *proto == "https")
        .unwrap_or("http");
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .filter(|host| {
            (1..=255).contains(&host.len())
                && host
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        })
        .map_or_else(|| request.app_config().host().to_string(), str::to_string);
    format!("{scheme}://{host}/fhir")
}

/// The tag of an answer from `generation` whose links start with `base`.
fn tag(generation: u64, base: &str, request: &HttpRequest) -> String {
    caching::etag(
        &format!(
            "g{generation}-{:08x}",
            caching::fnv1a(base.as_bytes()) as u32
        ),
        request,
    )
}

fn ok(body: Vec<u8>, tag: &str, policy: &CachePolicy) -> HttpResponse {
    caching::with_cache_headers(fhir_body(StatusCode::OK, body), tag, policy)
}

fn resource_type(request: &HttpRequest) -> Result<ResourceType, FhirError> {
    let name = request.match_info().get("type").unwrap_or_default();
    ResourceType::parse(name).ok_or_else(|| {
        FhirError::NotFound(format!(
            "this server has no resource type {:?}; see /fhir/metadata",
            name.chars().take(64).collect::<String>()
        ))
    })
}

/// `GET /fhir/metadata`.
pub async fn metadata(request: HttpRequest, policy: web::Data<CachePolicy>) -> HttpResponse {
    let base = base_url(&request);
    let tag = caching::etag(
        &format!(
            "v{}-{:08x}",
            env!("CARGO_PKG_VERSION"),
            caching::fnv1a(base.as_bytes()) as u32
        ),
        &request,
    );
    if let Some(response) = caching::not_modified(&request, &tag, &policy) {
        return response;
    }
    ok(fhir::metadata(&base), &tag, &policy)
}

/// `GET /fhir/{type}?…`: a `searchset` Bundle.
pub async fn search(
    request: HttpRequest,
    state: web::Data<ServedIndex>,
    policy: web::Data<CachePolicy>,
) -> Result<HttpResponse, FhirError> {
    let kind = resource_type(&request)?;
    // `Prefer: handling=strict` turns unknown parameters into errors.
    let strict = request
        .headers()
        .get_all("prefer")
        .filter_map(|value| value.to_str().ok())
        .any(|value| value.to_ascii_lowercase().contains("handling=strict"));
    let query = fhir::parse_search(kind, request.query_string(), strict)
        .map_err(FhirError::InvalidParams)?;
    let generation = state.generation().ok_or(FhirError::NotReady)?;
    let base = base_url(&request);
    let tag = tag(generation.number(), &base, &request);
    if let Some(response) = caching::not_modified(&request, &tag, &policy) {
        return Ok(response);
    }
    let body = web::block(move || fhir::search(&generation, &query, &base)).await??;
    Ok(ok(body, &tag, &policy))
}

/// `GET /fhir/{type}/{id}`.
pub async fn read(
    request: HttpRequest,
    state: web::Data<ServedIndex>,
    policy: web::Data<CachePolicy>,
) -> Result<HttpResponse, FhirError> {
    let kind = resource_type(&request)?;
    let id = request
        .match_info()
        .get("id")
        .unwrap_or_default()
        .to_string();
    let generation = state.generation().ok_or(FhirError::NotReady)?;
    let base = base_url(&request);
    let tag = tag(generation.number(), &base, &request);
    if let Some(response) = caching::not_modified(&request, &tag, &policy) {
        return Ok(response);
    }
    let lookup = id.clone();
    let found = web::block(move || fhir::read(&generation, kind, &lookup)).await??;
    let shown: String = id.chars().take(100).collect();
    match found {
        Read::Found(body) => Ok(ok(body, &tag, &policy)),
        Read::Unknown => Err(FhirError::NotFound(format!(
            "no {} has the id {shown:?}",
            kind.name()
        ))),
        Read::NoPractitioner => Err(FhirError::NotFound(format!(
            "no Practitioner has the id {shown:?}: it is a clinic's listing, which is \
             an Organization, Location, PractitionerRole and HealthcareService of \
             that id, without a Practitioner"
        ))),
    }
}

/// Any path under `/fhir` that names nothing.
pub async fn not_found(request: HttpRequest) -> HttpResponse {
    FhirError::NotFound(format!(
        "no FHIR interaction {} {}; this server reads and searches Practitioner, \
         Organization, Location, PractitionerRole and HealthcareService (see /fhir/metadata)",
        request.method(),
        request.path().chars().take(200).collect::<String>()
    ))
    .error_response()
}

/// Any method but GET on a FHIR route.
pub async fn method_not_allowed(request: HttpRequest) -> HttpResponse {
    FhirError::MethodNotAllowed(format!(
        "{} is not allowed on {}; this server is read-only and answers GET",
        request.method(),
        request.path().chars().take(200).collect::<String>()
    ))
    .error_response()
}

/// The FHIR issue type of an HTTP status.
fn issue_code(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "invalid",
        401 | 403 => "security",
        404 => "not-found",
        405 => "not-supported",
        429 => "throttled",
        503 => "transient",
        _ => "exception",
    }
}

/// Middleware: an error answered as a problem document (by the shared
/// rate limit, say) leaves as an `OperationOutcome` with the same status
/// and headers.
pub async fn outcomes(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let response = next.call(request).await?.map_into_boxed_body();
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/problem+json"));
    if !is_problem {
        return Ok(response);
    }
    let (request, response) = response.into_parts();
    let status = response.status();
    let mut headers = response.headers().clone();
    let body = actix_web::body::to_bytes(response.into_body())
        .await
        .unwrap_or_default();
    let detail = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|problem| problem["detail"].as_str().map(str::to_string))
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_string());
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(MEDIA_TYPE));
    let mut outcome = HttpResponse::build(status).body(fhir::outcome(issue_code(status), [detail]));
    for (name, value) in headers.iter() {
        if name != header::CONTENT_LENGTH {
            outcome.headers_mut().append(name.clone(), value.clone());
        }
    }
    Ok(ServiceResponse::new(request, outcome))
}
