//! The access log: one span per request (tracing-actix-web's root span),
//! written when the response is done. Its client address is the one the
//! per-client limits use ([`client_ip::of`]): the TCP peer, or the
//! forwarded client behind a `--trusted-proxy`. tracing-actix-web's default
//! span believes `Forwarded` / `X-Forwarded-For` from anyone, which would
//! let a client write any address into the log.
//!
//! Requests to the partner facades (`/fhir`, `/hsds`) and report
//! submissions log neither the client address nor the query string.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::{Error, HttpMessage};
use tracing::Span;
use tracing::field::Empty;
use tracing_actix_web::{DefaultRootSpanBuilder, RequestId, RootSpanBuilder};

use super::client_ip;

/// The root span of every request.
pub struct AccessLog;

/// Paths whose visitors' addresses and queries stay out of the log.
fn is_private(path: &str) -> bool {
    path.starts_with("/fhir")
        || path.starts_with("/hsds")
        || (path.starts_with("/api/v1/providers/") && path.ends_with("/reports"))
        || path.ends_with("/report")
}

impl RootSpanBuilder for AccessLog {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let private = is_private(request.path());
        let client = if private {
            "-".to_string()
        } else {
            client_ip::of(request.request()).map_or_else(|| "-".to_string(), |ip| ip.to_string())
        };
        let target = if private {
            request.path()
        } else {
            request
                .uri()
                .path_and_query()
                .map_or(request.path(), |p| p.as_str())
        };
        let route = request.match_pattern().unwrap_or_else(|| "default".into());
        let request_id = request
            .extensions()
            .get::<RequestId>()
            .map(ToString::to_string)
            .unwrap_or_default();
        tracing::info_span!(
            "HTTP request",
            http.method = %request.method(),
            http.route = %route,
            http.client_ip = %client,
            http.target = %target,
            http.status_code = Empty,
            otel.status_code = Empty,
            request_id = %request_id,
            exception.message = Empty,
            exception.details = Empty,
        )
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn facades_and_reports_are_private() {
        for path in [
            "/fhir/Location",
            "/hsds/services",
            "/api/v1/providers/p-1/reports",
            "/providers/p-1/report",
        ] {
            assert!(super::is_private(path), "{path}");
        }
        for path in ["/", "/api/v1/search", "/api/v1/providers/p-1"] {
            assert!(!super::is_private(path), "{path}");
        }
    }
}
