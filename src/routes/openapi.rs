//! `GET /api/v1/openapi.json`: the OpenAPI 3.1 document of the partner API.
//!
//! The document is written by hand in `static/openapi.json` rather than
//! generated from the handlers: the handlers parse raw query strings (so
//! every bad value becomes a named 400), which derive-based generators
//! cannot describe. It is compiled into the binary, so a server always
//! serves the description of its own API, and `tests/http/openapi.rs` keeps
//! it true by validating every route's answers against it.

use actix_web::HttpResponse;
use actix_web::http::header::ContentType;

/// The document, as written (its `info.version` follows the crate's).
const DOCUMENT: &str = include_str!("../../static/openapi.json");

pub async fn document() -> HttpResponse {
    HttpResponse::Ok()
        .content_type(ContentType::json())
        .body(DOCUMENT)
}
