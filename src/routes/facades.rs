//! The `/fhir` and `/hsds` scopes: the partner facades (docs/fhir.md,
//! docs/hsds.md), read-only and public like `/api/v1`. Each scope has the
//! API's middleware: the per-client rate limit, CORS for any origin (GET
//! only: the facades take no reports) and `nosniff`. FHIR errors, the
//! limit's 429 included, leave as `OperationOutcome`s ([`fhir::outcomes`]).

use actix_cors::Cors;
use actix_web::http::header;
use actix_web::middleware::{DefaultHeaders, from_fn};
use actix_web::{Route, web};

use super::{errors, fhir, hsds, rate_limit};

fn cors() -> Cors {
    Cors::default()
        .allow_any_origin()
        .send_wildcard()
        .allowed_methods(["GET"])
        .allow_any_header()
        .expose_headers([
            "ETag",
            "Retry-After",
            "RateLimit-Limit",
            "RateLimit-Remaining",
            "RateLimit-Reset",
            "X-Request-Id",
        ])
        .max_age(86_400)
}

fn nosniff() -> DefaultHeaders {
    DefaultHeaders::new().add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
}

/// A GET-only FHIR route; other methods get a 405 `OperationOutcome`.
fn fhir_get(path: &str, handler: Route) -> actix_web::Resource {
    web::resource(path)
        .route(handler)
        .default_service(web::to(fhir::method_not_allowed))
}

/// A GET-only HSDS route; other methods get the API's 405 problem.
fn hsds_get(path: &str, handler: Route) -> actix_web::Resource {
    web::resource(path)
        .route(handler)
        .default_service(web::to(errors::method_not_allowed))
}

pub fn configure(config: &mut web::ServiceConfig) {
    config
        .service(
            web::scope("/fhir")
                // The last `wrap` runs first: the limit's 429 becomes an
                // OperationOutcome, and gets the CORS headers.
                .wrap(from_fn(rate_limit::limit))
                .wrap(from_fn(fhir::outcomes))
                .wrap(cors())
                .wrap(nosniff())
                .service(fhir_get("/metadata", web::get().to(fhir::metadata)))
                .service(fhir_get("/{type}", web::get().to(fhir::search)))
                .service(fhir_get("/{type}/{id}", web::get().to(fhir::read)))
                .default_service(web::to(fhir::not_found)),
        )
        .service(
            web::scope("/hsds")
                .wrap(from_fn(rate_limit::limit))
                .wrap(cors())
                .wrap(nosniff())
                .service(hsds_get("", web::get().to(hsds::root)))
                .service(hsds_get("/", web::get().to(hsds::root)))
                .service(hsds_get("/services", web::get().to(hsds::services)))
                .service(hsds_get("/services/{id}", web::get().to(hsds::service)))
                .service(hsds_get(
                    "/organizations",
                    web::get().to(hsds::organizations),
                ))
                .service(hsds_get(
                    "/organizations/{id}",
                    web::get().to(hsds::organization),
                ))
                .service(hsds_get(
                    "/service_at_locations",
                    web::get().to(hsds::service_at_locations),
                ))
                .service(hsds_get(
                    "/service_at_locations/{id}",
                    web::get().to(hsds::service_at_location),
                ))
                .service(hsds_get("/taxonomies", web::get().to(hsds::taxonomies)))
                .service(hsds_get("/taxonomies/{id}", web::get().to(hsds::taxonomy)))
                .service(hsds_get(
                    "/taxonomy_terms",
                    web::get().to(hsds::taxonomy_terms),
                ))
                .service(hsds_get(
                    "/taxonomy_terms/{id}",
                    web::get().to(hsds::taxonomy_term),
                ))
                .default_service(web::to(hsds::not_found)),
        );
}
