//! The `/fhir` and `/hsds` scopes: the partner facades (docs/fhir.md,
//! docs/hsds.md), read-only and public like `/api/v1`. Each scope has the
//! API's middleware: the per-client rate limit, CORS for any origin (GET
//! only: the facades take no reports) and `nosniff`. FHIR errors, the
//! limit's 429 included, leave as `OperationOutcome`s ([`fhir::outcomes`]).

use actix_web::middleware::from_fn;
use actix_web::{Route, web};

use super::{fhir, get_only, hsds, nosniff, public_cors, rate_limit};

/// A GET-only FHIR route; other methods get a 405 `OperationOutcome`.
fn fhir_get(path: &str, handler: Route) -> actix_web::Resource {
    web::resource(path)
        .route(handler)
        .default_service(web::to(fhir::method_not_allowed))
}

pub fn configure(config: &mut web::ServiceConfig) {
    config
        .service(
            web::scope("/fhir")
                // The last `wrap` runs first: the limit's 429 becomes an
                // OperationOutcome, and gets the CORS headers.
                .wrap(from_fn(rate_limit::limit))
                .wrap(from_fn(fhir::outcomes))
                .wrap(public_cors(&["GET"]))
                .wrap(nosniff())
                .service(fhir_get("/metadata", web::get().to(fhir::metadata)))
                .service(fhir_get("/{type}", web::get().to(fhir::search)))
                .service(fhir_get("/{type}/{id}", web::get().to(fhir::read)))
                .default_service(web::to(fhir::not_found)),
        )
        .service(
            web::scope("/hsds")
                .wrap(from_fn(rate_limit::limit))
                .wrap(public_cors(&["GET"]))
                .wrap(nosniff())
                .service(get_only("", web::get().to(hsds::root)))
                .service(get_only("/", web::get().to(hsds::root)))
                .service(get_only("/services", web::get().to(hsds::services)))
                .service(get_only("/services/{id}", web::get().to(hsds::service)))
                .service(get_only(
                    "/organizations",
                    web::get().to(hsds::organizations),
                ))
                .service(get_only(
                    "/organizations/{id}",
                    web::get().to(hsds::organization),
                ))
                .service(get_only(
                    "/service_at_locations",
                    web::get().to(hsds::service_at_locations),
                ))
                .service(get_only(
                    "/service_at_locations/{id}",
                    web::get().to(hsds::service_at_location),
                ))
                .service(get_only("/taxonomies", web::get().to(hsds::taxonomies)))
                .service(get_only("/taxonomies/{id}", web::get().to(hsds::taxonomy)))
                .service(get_only(
                    "/taxonomy_terms",
                    web::get().to(hsds::taxonomy_terms),
                ))
                .service(get_only(
                    "/taxonomy_terms/{id}",
                    web::get().to(hsds::taxonomy_term),
                ))
                .default_service(web::to(hsds::not_found)),
        );
}
