//! HTTP routes: the only code that knows actix-web. Handlers parse, call the
//! library off the event loop, and map errors once (see [`errors`]).

pub mod access_log;
pub mod admin;
mod api;
pub mod caching;
pub mod client_ip;
pub mod errors;
mod facades;
pub mod fhir;
pub mod front_door;
mod health;
pub mod hsds;
pub mod metrics;
mod openapi;
pub(crate) mod pages;
pub mod rate_limit;
pub mod reports;
pub mod sign_in_limit;

use actix_cors::Cors;
use actix_web::middleware::from_fn;
use actix_web::{FromRequest, Handler, Responder, Route, web};

/// CORS for the public data (`/api/v1`, `/fhir`, `/hsds`): any origin, the
/// given methods, and the headers a partner's script needs to read.
/// `/admin` is never covered.
fn public_cors(methods: &[&'static str]) -> Cors {
    Cors::default()
        .allow_any_origin()
        .send_wildcard()
        .allowed_methods(methods.iter().copied())
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

/// Partners' answers are never content-sniffed.
fn nosniff() -> actix_web::middleware::DefaultHeaders {
    actix_web::middleware::DefaultHeaders::new()
        .add((actix_web::http::header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
}

/// A GET-only API resource; other methods get a 405 problem.
fn get_only(path: &str, handler: Route) -> actix_web::Resource {
    web::resource(path)
        .route(handler)
        .default_service(web::to(errors::method_not_allowed))
}

/// A POST-only API resource (listing reports); other methods get a 405
/// problem naming POST.
fn post_only(path: &str, handler: Route) -> actix_web::Resource {
    web::resource(path)
        .route(handler)
        .default_service(web::to(reports::method_not_allowed))
}

/// A page answers GET and HEAD (actix sends no body for HEAD); other
/// methods get a 405 page. Pages count against the same per-client budget
/// as the API (one visitor, one budget), so scraping results pages does not
/// get round the API's limit; assets are not counted.
fn page<F, Args>(
    path: &str,
    handler: F,
) -> actix_web::Resource<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse<actix_web::body::BoxBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
>
where
    F: Handler<Args> + Clone,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    web::resource(path)
        .route(web::get().to(handler.clone()))
        .route(web::head().to(handler))
        .default_service(web::to(pages::method_not_allowed_page))
        .wrap(from_fn(rate_limit::limit))
}

pub fn configure(config: &mut web::ServiceConfig) {
    // The data is public: any origin may GET it, and partner sites may
    // POST listing reports (no credentials: `send_wildcard`). `/admin` is
    // not covered.
    let cors = public_cors(&["GET", "POST"]);
    // Listing reports: the API's one write (its own limit of 5 an hour).
    let report = web::post().to(reports::submit_json);
    config
        .service(
            web::scope("/api/v1")
                // The last `wrap` runs first: CORS headers go on 429s too.
                .wrap(from_fn(rate_limit::limit))
                .wrap(cors)
                // No content sniffing of API answers, errors and the export.
                .wrap(nosniff())
                .service(get_only("/search", web::get().to(api::search)))
                .service(get_only("/providers", web::get().to(api::export)))
                .service(get_only("/providers/{id}", web::get().to(api::provider)))
                .service(post_only("/providers/{id}/reports", report))
                .service(get_only("/places", web::get().to(api::places)))
                .service(get_only("/vocabulary", web::get().to(api::vocabulary)))
                .service(get_only("/openapi.json", web::get().to(openapi::document)))
                .default_service(web::to(errors::api_not_found)),
        )
        // The partner facades (FHIR R4 Plan-Net, HSDS 3.0): read-only
        // views of the same search, with the API's limit, CORS and nosniff.
        .configure(facades::configure)
        // No CORS and no rate limit: admins authenticate with a token (the
        // JSON routes) or a session cookie made from it (the page).
        .service(
            web::scope("/admin")
                .route("", web::get().to(admin::page::page))
                .route("/login", web::post().to(admin::page::login))
                .route("/upload", web::post().to(admin::page::upload))
                .route("/rollback-form", web::post().to(admin::page::rollback_form))
                .route("/logout", web::post().to(admin::page::logout))
                .route("/admin.css", web::get().to(admin::page::stylesheet))
                .route("/reindex", web::post().to(admin::api::reindex))
                .route("/status", web::get().to(admin::api::status))
                .route("/rollback", web::post().to(admin::api::rollback))
                .route("/reports", web::get().to(admin::reports::list))
                .route(
                    "/reports/{id}/resolve",
                    web::post().to(admin::reports::resolve),
                )
                .route(
                    "/reports/{id}/resolve-form",
                    web::post().to(admin::reports::resolve_form),
                )
                .default_service(web::to(errors::not_found)),
        )
        // The patient pages: public, cached by ETag like the API, no CORS.
        .service(page("/", pages::search_page))
        .service(page("/providers/{id}", pages::profile_page))
        // The report form: read like a page, sent as a same-site form; the
        // same per-client budget, and the report limit of its own.
        .service(
            web::resource("/providers/{id}/report")
                .route(web::get().to(reports::report_page))
                .route(web::head().to(reports::report_page))
                .route(web::post().to(reports::submit_form))
                .default_service(web::to(reports::page_method_not_allowed))
                .wrap(from_fn(rate_limit::limit)),
        )
        .service(page("/how-we-rank", pages::how_we_rank_page))
        .route("/static/site.css", web::get().to(pages::stylesheet))
        .route("/static/site.js", web::get().to(pages::script))
        .route("/static/favicon.svg", web::get().to(pages::favicon))
        .route("/healthz", web::get().to(health::healthz))
        .route("/readyz", web::get().to(health::readyz))
        .route("/metrics", web::get().to(metrics::scrape))
        .default_service(web::to(pages::not_found_page));
}
