//! `GET /metrics` (Prometheus text) and [`observe`], the middleware that
//! counts and times every request and tags its response with the request id.
//!
//! The metrics themselves live in [`crate::metrics`]; this module only turns
//! HTTP requests into label values. `/metrics` sits outside `/api/v1`, so it
//! is neither rate limited nor reachable cross-origin.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, HttpResponse, web};
use tracing_actix_web::RequestId;

use crate::index::ServedIndex;
use crate::metrics::{self, Served};

/// The response header that carries the id of the request's log span.
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// The `route` label of requests no route matched (404s, scanners): one
/// series for all of them, however many paths are tried.
const UNMATCHED: &str = "unmatched";

/// Counts and times each request by route pattern, method and status, and
/// copies the request id that `TracingLogger` (wrapped outside this
/// middleware) gave the request into an `x-request-id` response header, so
/// an answer can be matched with its log line.
///
/// The duration ends when the response head is ready: a streamed export's
/// body is still being sent then.
pub async fn observe(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let method = method_label(request.method());
    let request_id = request.extensions().get::<RequestId>().copied();
    // Taken now for the error path, where the request is gone.
    let pattern = request.match_pattern();
    let result = next.call(request).await;
    let seconds = started.elapsed().as_secs_f64();
    match result {
        Ok(mut response) => {
            // After routing the pattern is the resource that answered.
            let pattern = response.request().match_pattern().or(pattern);
            let status = response.status().as_u16();
            metrics::record_request(route_label(pattern.as_deref()), method, status, seconds);
            if let Some(id) = request_id
                && let Ok(value) = HeaderValue::from_str(&id.to_string())
            {
                response.headers_mut().insert(REQUEST_ID_HEADER, value);
            }
            Ok(response)
        }
        Err(error) => {
            let status = error.as_response_error().status_code().as_u16();
            metrics::record_request(route_label(pattern.as_deref()), method, status, seconds);
            Err(error)
        }
    }
}

fn route_label(pattern: Option<&str>) -> &str {
    pattern.unwrap_or(UNMATCHED)
}

/// The standard methods by name, anything else as "other": a client can
/// send any token as a method, and each would be a new series.
fn method_label(method: &Method) -> &'static str {
    static KNOWN: [Method; 9] = [
        Method::GET,
        Method::HEAD,
        Method::POST,
        Method::PUT,
        Method::DELETE,
        Method::PATCH,
        Method::OPTIONS,
        Method::CONNECT,
        Method::TRACE,
    ];
    KNOWN
        .iter()
        .find(|known| *known == method)
        .map_or("other", |known| known.as_str())
}

/// `GET /metrics`: every `ketadir_*` metric, with the served generation's
/// gauges and the report queue's figures read now.
pub async fn scrape(
    state: web::Data<ServedIndex>,
    store: Option<web::Data<crate::reports::ReportStore>>,
) -> HttpResponse {
    let served = state.generation().map(|generation| Served {
        generation: generation.number(),
        documents: generation.meta.documents,
    });
    let reports = match &store {
        Some(store) => match store.stats(crate::reports::sweep::now()).await {
            Ok(stats) => Some(stats),
            Err(error) => {
                tracing::warn!(%error, "the report queue's metrics are left out of this scrape");
                None
            }
        },
        None => None,
    };
    match metrics::render_with_reports(served, reports.as_ref()) {
        Ok(text) => HttpResponse::Ok()
            .content_type(metrics::CONTENT_TYPE)
            .body(text),
        Err(error) => {
            tracing::error!(%error, "cannot render the metrics");
            HttpResponse::InternalServerError().finish()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_outside_the_standard_set_share_one_label() {
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(method_label(&Method::OPTIONS), "OPTIONS");
        let custom = Method::from_bytes(b"BREW").expect("a valid token");
        assert_eq!(method_label(&custom), "other");
    }
}
