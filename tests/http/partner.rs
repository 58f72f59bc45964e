//! What partner sites rely on: CORS, HTTP caching, method errors, the
//! vocabulary and the bulk export.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use ketadir::index::ImportOptions;
use ketadir::routes::client_ip::TrustedProxies;
use ketadir::routes::rate_limit::RateLimitSettings;
use ketadir::startup::HttpSettings;

use super::helpers::{
    TestApp, denver_csv, import, limited_to, sample_csv, spawn_app, spawn_app_with,
};

fn app() -> &'static TestApp {
    static APP: OnceLock<TestApp> = OnceLock::new();
    APP.get_or_init(|| spawn_app(&sample_csv()))
}

#[test]
fn any_origin_may_get_and_preflights_are_answered() {
    let reply = app().request(
        "GET",
        "/api/v1/search?near=80202",
        &[("Origin", "https://partner.example.org")],
    );
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("access-control-allow-origin"), Some("*"));

    let preflight = app().request(
        "OPTIONS",
        "/api/v1/search",
        &[
            ("Origin", "https://partner.example.org"),
            ("Access-Control-Request-Method", "GET"),
        ],
    );
    assert_eq!(preflight.status, 200, "{}", preflight.body);
    assert!(
        preflight
            .header("access-control-allow-methods")
            .is_some_and(|m| m.contains("GET"))
    );
    // Outside the API there is no CORS.
    let health = app().request(
        "GET",
        "/healthz",
        &[("Origin", "https://partner.example.org")],
    );
    assert_eq!(health.header("access-control-allow-origin"), None);
}

#[test]
fn answers_carry_an_etag_and_if_none_match_gets_304() {
    for path in [
        "/api/v1/search?near=80202&radius=50",
        "/api/v1/providers/p-000001",
        "/api/v1/vocabulary",
        "/api/v1/places?prefix=den",
    ] {
        let first = app().get(path);
        assert_eq!(first.status, 200, "{path}");
        assert_eq!(
            first.header("cache-control"),
            Some("public, max-age=60"),
            "{path}"
        );
        let tag = first.header("etag").expect("an ETag").to_string();
        let again = app().request("GET", path, &[("If-None-Match", &tag)]);
        assert_eq!(again.status, 304, "{path}");
        assert!(again.body.is_empty());
        assert_eq!(again.header("etag"), Some(tag.as_str()));
        let other = app().request("GET", path, &[("If-None-Match", "\"something-else\"")]);
        assert_eq!(other.status, 200, "{path}");
    }
    // The same query written differently shares the tag; another query does not.
    let a = app().get("/api/v1/search?near=80202&radius=50");
    let b = app().get("/api/v1/search?radius=50&near=80202&q=");
    let c = app().get("/api/v1/search?near=80202&radius=40");
    assert_eq!(a.header("etag"), b.header("etag"));
    assert_ne!(a.header("etag"), c.header("etag"));
}

#[test]
fn a_new_generation_changes_every_etag() {
    let app = spawn_app(&denver_csv("a", 20));
    let path = "/api/v1/search?near=80202";
    let before = app.get(path).header("etag").map(str::to_string);
    import(
        &app.index_dir(),
        &denver_csv("b", 20),
        &ImportOptions::default(),
    );
    app.wait_for_generation(2, std::time::Duration::from_secs(5));
    let after = app.get(path);
    assert_ne!(after.header("etag").map(str::to_string), before);
    let stale = app.request(
        "GET",
        path,
        &[("If-None-Match", before.as_deref().unwrap_or(""))],
    );
    assert_eq!(stale.status, 200);
}

#[test]
fn other_methods_are_405_problems() {
    for (method, path) in [
        ("POST", "/api/v1/search"),
        ("DELETE", "/api/v1/providers/p-000001"),
        ("PUT", "/api/v1/vocabulary"),
    ] {
        let reply = app().request(method, path, &[]);
        assert_eq!(reply.status, 405, "{method} {path}");
        assert_eq!(reply.content_type, "application/problem+json");
        assert_eq!(reply.header("allow"), Some("GET"));
        assert_eq!(reply.json()["status"], 405);
    }
}

#[test]
fn the_vocabulary_lists_labels_and_synonyms() {
    let body = app().get_json("/api/v1/vocabulary");
    let treatments = body["treatments"].as_array().expect("treatments");
    assert_eq!(treatments.len(), 5);
    let esketamine = treatments
        .iter()
        .find(|t| t["slug"] == "esketamine_nasal")
        .expect("esketamine_nasal");
    assert!(
        esketamine["label"]
            .as_str()
            .is_some_and(|l| l.contains("Spravato"))
    );
    assert!(
        esketamine["synonyms"]
            .as_array()
            .is_some_and(|s| s.iter().any(|v| v == "spravato"))
    );
    assert_eq!(body["conditions"].as_array().map(Vec::len), Some(12));
}

#[test]
fn the_export_streams_every_provider_as_ndjson() {
    let reply = app().get("/api/v1/providers?format=ndjson");
    assert_eq!(reply.status, 200);
    assert_eq!(reply.content_type, "application/x-ndjson");
    let lines: Vec<serde_json::Value> = reply
        .body
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON object per line"))
        .collect();
    assert_eq!(lines.len(), 2000);
    let ids: HashSet<&str> = lines.iter().filter_map(|p| p["id"].as_str()).collect();
    assert_eq!(ids.len(), 2000);
    // The same shape as /providers/{id}.
    let one = app().get_json("/api/v1/providers/p-000001");
    let exported = lines
        .iter()
        .find(|p| p["id"] == "p-000001")
        .expect("p-000001 is exported");
    assert_eq!(exported, &one);

    let recent = app().get("/api/v1/providers?format=ndjson&updated_since=2026-06-01");
    let recent: Vec<serde_json::Value> = recent
        .body
        .lines()
        .map(|line| serde_json::from_str(line).expect("JSON line"))
        .collect();
    assert!(
        !recent.is_empty() && recent.len() < 2000,
        "{}",
        recent.len()
    );
    assert!(recent.iter().all(|p| {
        p["last_verified"]
            .as_str()
            .is_some_and(|d| d >= "2026-06-01")
    }));
}

#[test]
fn the_export_rejects_bad_parameters() {
    for query in [
        "",
        "format=csv",
        "format=ndjson&updated_since=2026-13-01",
        "format=ndjson&updated_since=yesterday",
    ] {
        let reply = app().get(&format!("/api/v1/providers?{query}"));
        assert_eq!(reply.status, 400, "{query}");
        assert_eq!(reply.content_type, "application/problem+json");
    }
}

#[test]
fn over_the_limit_is_a_429_problem_with_retry_after() {
    let key = "partner-key-0123456789";
    let settings = HttpSettings {
        rate_limits: RateLimitSettings {
            per_ip_per_minute: 3,
            keys: HashMap::from([(key.to_string(), 5)]),
            limit_loopback: true,
        },
        ..HttpSettings::default()
    };
    let app = spawn_app_with(&denver_csv("r", 10), settings);
    for remaining in ["2", "1", "0"] {
        let reply = app.get("/api/v1/search?near=80202");
        assert_eq!(reply.status, 200);
        assert_eq!(reply.header("ratelimit-limit"), Some("3"));
        assert_eq!(reply.header("ratelimit-remaining"), Some(remaining));
    }
    let limited = app.request(
        "GET",
        "/api/v1/search?near=80202",
        &[("Origin", "https://partner.example.org")],
    );
    assert_eq!(limited.status, 429);
    assert_eq!(limited.content_type, "application/problem+json");
    assert_eq!(limited.json()["status"], 429);
    let retry: u64 = limited
        .header("retry-after")
        .and_then(|s| s.parse().ok())
        .expect("Retry-After in seconds");
    assert!((1..=21).contains(&retry), "{retry}");
    assert_eq!(limited.header("ratelimit-remaining"), Some("0"));
    assert_eq!(limited.header("access-control-allow-origin"), Some("*"));

    // A partner's key has its own, larger bucket.
    for _ in 0..5 {
        let reply = app.request("GET", "/api/v1/vocabulary", &[("X-API-Key", key)]);
        assert_eq!(reply.status, 200);
        assert_eq!(reply.header("ratelimit-limit"), Some("5"));
    }
    let over = app.request("GET", "/api/v1/vocabulary", &[("X-API-Key", key)]);
    assert_eq!(over.status, 429);
    let unknown = app.request("GET", "/api/v1/vocabulary", &[("X-API-Key", "not-a-key")]);
    assert_eq!(unknown.status, 401);
    assert_eq!(unknown.content_type, "application/problem+json");
    // Health checks are never limited.
    assert_eq!(app.get("/healthz").status, 200);
}

#[test]
fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_bucket() {
    let limited = |trusted: Vec<std::net::IpAddr>| {
        spawn_app_with(
            &denver_csv("x", 5),
            HttpSettings {
                rate_limits: RateLimitSettings {
                    per_ip_per_minute: 2,
                    keys: HashMap::new(),
                    limit_loopback: false,
                },
                trusted_proxies: TrustedProxies(trusted),
                ..HttpSettings::default()
            },
        )
    };
    let search = |app: &TestApp, forwarded: &str| {
        app.request(
            "GET",
            "/api/v1/search?near=80202",
            &[("X-Forwarded-For", forwarded)],
        )
        .status
    };
    // The test client is the proxy, on loopback (exempt itself).
    let app = limited(vec!["127.0.0.1".parse().expect("address")]);
    assert_eq!(search(&app, "203.0.113.5"), 200);
    // A client that writes its own header is still the address the proxy saw.
    assert_eq!(search(&app, "198.51.100.1, 203.0.113.5"), 200);
    assert_eq!(search(&app, "203.0.113.5"), 429);
    assert_eq!(search(&app, "203.0.113.6"), 200, "another client");

    // Without the setting the header is not believed: loopback stays exempt.
    let app = limited(Vec::new());
    for _ in 0..4 {
        assert_eq!(search(&app, "203.0.113.5"), 200);
    }
}

/// Results pages and profiles spend the same per-client budget as the API
/// (scraping `/?per_page=100` does not get round it); past it a visitor
/// gets a 429 page, not JSON; assets are never counted.
#[test]
fn pages_share_the_api_budget_and_answer_429_as_a_page() {
    let app = spawn_app_with(&denver_csv("r", 10), limited_to(3));
    assert_eq!(app.get("/?near=80202&per_page=100").status, 200);
    assert_eq!(app.get("/providers/r-1").status, 200);
    assert_eq!(app.get("/api/v1/search?near=80202").status, 200);
    let page = app.get("/?near=80202&per_page=100");
    assert_eq!(page.status, 429, "{}", page.body);
    assert!(
        page.content_type.starts_with("text/html"),
        "{}",
        page.content_type
    );
    assert!(page.body.contains("Too many requests"), "{}", page.body);
    assert!(page.header("retry-after").is_some());
    let api = app.get("/api/v1/search?near=80202");
    assert_eq!(api.status, 429);
    assert_eq!(api.content_type, "application/problem+json");
    for _ in 0..5 {
        let css = app.get("/static/site.css");
        assert_ne!(css.status, 429, "assets are not counted");
    }
}

/// API answers — results, errors and the export — forbid content sniffing.
#[test]
fn api_answers_send_nosniff() {
    let app = spawn_app(&denver_csv("n", 5));
    for path in [
        "/api/v1/search?near=80202",
        "/api/v1/search?radius=nope&near=80202",
        "/api/v1/providers?format=ndjson",
        "/api/v1/no-such-route",
    ] {
        let reply = app.get(path);
        assert_eq!(
            reply.header("x-content-type-options"),
            Some("nosniff"),
            "{path} ({})",
            reply.status
        );
    }
}
