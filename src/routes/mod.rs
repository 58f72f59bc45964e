//! HTTP routes: the only code that knows actix-web. Handlers parse, call the
//! library off the event loop, and map errors once (see [`errors`]).

mod api;
pub mod errors;
mod health;

use actix_web::web;

pub fn configure(config: &mut web::ServiceConfig) {
    config
        .service(
            web::scope("/api/v1")
                .route("/search", web::get().to(api::search))
                .route("/providers/{id}", web::get().to(api::provider))
                .route("/places", web::get().to(api::places))
                .default_service(web::to(errors::api_not_found)),
        )
        .route("/healthz", web::get().to(health::healthz))
        .route("/readyz", web::get().to(health::readyz))
        .default_service(web::to(errors::not_found));
}
