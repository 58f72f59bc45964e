//! `/metrics` and the request id: what an operator scrapes and correlates.

use crate::helpers::{denver_csv, spawn_app};

/// The value of one series in Prometheus text, if present.
fn value(metrics: &str, series: &str) -> Option<f64> {
    metrics.lines().find_map(|line| {
        let rest = line.strip_prefix(series)?.strip_prefix(' ')?;
        rest.trim().parse().ok()
    })
}

#[test]
fn metrics_count_requests_by_route_pattern_and_show_the_served_generation() {
    let app = spawn_app(&denver_csv("met", 30));
    let mut ids = Vec::new();
    for _ in 0..3 {
        let reply = app.get("/api/v1/search?near=80202");
        assert_eq!(reply.status, 200, "{}", reply.body);
        ids.push(
            reply
                .header("x-request-id")
                .expect("x-request-id")
                .to_string(),
        );
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 3, "every request gets its own id: {ids:?}");
    assert_eq!(app.get("/api/v1/search?sort=nope").status, 400);
    assert_eq!(app.get("/api/v1/providers/met-1").status, 200);
    assert_eq!(app.get("/api/v1/nope").status, 404);
    let missing = app.get("/no/such/page");
    assert_eq!(missing.status, 404);
    assert!(
        missing.header("x-request-id").is_some(),
        "404s carry an id too"
    );

    // Not a CORS resource: a browser on another origin cannot read it.
    let reply = app.request("GET", "/metrics", &[("Origin", "https://example.com")]);
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.content_type, "text/plain; version=0.0.4");
    assert!(reply.header("access-control-allow-origin").is_none());
    assert!(reply.header("x-request-id").is_some());
    let metrics = reply.body;

    // Other tests share the process-wide counters: at least ours are there.
    let count = |series: &str| {
        value(&metrics, series).unwrap_or_else(|| panic!("no {series} in:\n{metrics}"))
    };
    assert!(
        count(r#"ketadir_http_requests_total{method="GET",route="/api/v1/search",status="200"}"#)
            >= 3.0
    );
    assert!(
        count(r#"ketadir_http_requests_total{method="GET",route="/api/v1/search",status="400"}"#)
            >= 1.0
    );
    assert!(
        count(
            r#"ketadir_http_requests_total{method="GET",route="/api/v1/providers/{id}",status="200"}"#
        ) >= 1.0
    );
    assert!(
        count(r#"ketadir_http_requests_total{method="GET",route="unmatched",status="404"}"#) >= 2.0
    );
    assert!(!metrics.contains("met-1"), "raw paths are never labels");
    assert!(
        !metrics.contains("/no/such/page"),
        "raw paths are never labels"
    );
    assert!(count(r#"ketadir_http_request_duration_seconds_count{route="/api/v1/search"}"#) >= 4.0);
    assert!(metrics.contains(
        r#"ketadir_http_request_duration_seconds_bucket{route="/api/v1/search",le="0.0005"}"#
    ));
    assert!(metrics.contains(r#"ketadir_imports_total{outcome="published"}"#));

    let ready = app.get_json("/readyz");
    assert_eq!(count("ketadir_documents"), 30.0);
    assert_eq!(ready["documents"], 30);
    let generation = ready["generation"].as_u64().expect("generation");
    assert_eq!(count("ketadir_generation"), generation as f64);
}
