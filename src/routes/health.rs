//! Liveness and readiness probes.

use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::index::ServedIndex;

pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

pub async fn readyz(state: web::Data<ServedIndex>) -> HttpResponse {
    match state.generation() {
        Some(generation) => HttpResponse::Ok().json(json!({
            "status": "ready",
            "generation": generation.number(),
            "documents": generation.meta.documents,
        })),
        None => HttpResponse::ServiceUnavailable().json(json!({"status": "no index loaded"})),
    }
}
