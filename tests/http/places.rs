//! Places over HTTP: `near` as a ZIP, a city or a state, unknown places
//! with suggestions, and the search box's `/api/v1/places`.

use std::sync::OnceLock;

use serde_json::Value;

use super::helpers::{TestApp, sample_csv, spawn_app};

/// One server on the sample data, shared by the read-only tests here.
fn app() -> &'static TestApp {
    static APP: OnceLock<TestApp> = OnceLock::new();
    APP.get_or_init(|| spawn_app(&sample_csv()))
}

fn results(body: &Value) -> &Vec<Value> {
    body["results"].as_array().expect("results")
}

/// A 400 problem: its JSON, after checking the status and content type.
fn problem(path: &str) -> Value {
    let reply = app().get(path);
    assert_eq!(reply.status, 400, "{path}: {}", reply.body);
    assert_eq!(reply.content_type, "application/problem+json", "{path}");
    reply.json()
}

fn invalid_names(problem: &Value) -> Vec<String> {
    problem["invalid_params"]
        .as_array()
        .expect("invalid_params")
        .iter()
        .map(|p| p["name"].as_str().expect("name").to_string())
        .collect()
}

#[test]
fn a_city_and_state_finds_its_providers() {
    let body = app().get_json("/api/v1/search?near=Denver,%20CO&radius=25&per_page=100");
    let location = &body["location"];
    assert_eq!(location["query"], "Denver, CO");
    assert_eq!(location["label"], "Denver, CO");
    assert_eq!(location["radius_miles"], 25.0);
    let lat = location["lat"].as_f64().expect("lat");
    let lon = location["lon"].as_f64().expect("lon");
    assert!(
        (lat - 39.74).abs() < 0.05 && (lon + 104.98).abs() < 0.05,
        "{location}"
    );
    let hits = results(&body);
    assert!(
        hits.iter()
            .any(|hit| hit["city"] == "Denver" && hit["state"] == "CO"),
        "the sample has providers in Denver: {body}"
    );
    assert!(
        hits.iter()
            .all(|hit| hit["distance_miles"].as_f64().is_some_and(|d| d <= 25.0))
    );
    // Other spellings find the same place and the same providers.
    for near in ["denver%20co", "DENVER,%20Colorado", "Denver"] {
        let other = app().get_json(&format!(
            "/api/v1/search?near={near}&radius=25&per_page=100"
        ));
        assert_eq!(other["location"]["label"], "Denver, CO", "{near}");
        assert_eq!(other["total"], body["total"], "{near}");
    }
}

#[test]
fn a_zip_code_is_labelled_with_its_town() {
    let body = app().get_json("/api/v1/search?near=80202-1234");
    assert_eq!(body["location"]["label"], "Denver, CO 80202");
    assert_eq!(body["location"]["radius_miles"], 25.0);
}

#[test]
fn a_state_alone_filters_by_state_without_a_point() {
    let body = app().get_json("/api/v1/search?near=Colorado&radius=10&per_page=100");
    let location = &body["location"];
    assert_eq!(location["label"], "Colorado (whole state)");
    assert_eq!(location["query"], "Colorado");
    assert!(location["lat"].is_null() && location["lon"].is_null());
    assert!(location["radius_miles"].is_null());
    let hits = results(&body);
    assert!(!hits.is_empty());
    assert!(hits.iter().all(|hit| hit["state"] == "CO"));
    assert!(hits.iter().all(|hit| hit["distance_miles"].is_null()));
    let by_code = app().get_json("/api/v1/search?state=CO");
    assert_eq!(body["total"], by_code["total"]);
    let both = app().get_json("/api/v1/search?near=co&state=co");
    assert_eq!(both["total"], by_code["total"]);

    let conflict = problem("/api/v1/search?near=Colorado&state=TX");
    assert_eq!(invalid_names(&conflict), ["near"]);
    let no_point = problem("/api/v1/search?near=Colorado&sort=distance");
    assert_eq!(invalid_names(&no_point), ["sort"]);
}

#[test]
fn unknown_places_are_400_with_suggestions() {
    let body = problem("/api/v1/search?near=Denvr,%20CO");
    assert_eq!(body["type"], "/problems/unknown-place");
    assert_eq!(body["suggestions"][0], "Denver, CO");
    assert!(body["suggestions"].as_array().is_some_and(|s| s.len() <= 3));
    let detail = body["detail"].as_str().expect("detail");
    assert!(
        detail.contains("Denvr, CO") && detail.contains("Denver, CO"),
        "{detail}"
    );
    assert_eq!(invalid_names(&body), ["near"]);

    let nothing_close = problem("/api/v1/search?near=Xqzwvy");
    assert!(nothing_close.get("suggestions").is_none_or(Value::is_null));
    assert!(
        nothing_close["detail"]
            .as_str()
            .is_some_and(|d| d.contains("Xqzwvy") && d.contains("ZIP")),
        "{nothing_close}"
    );
}

#[test]
fn coordinates_out_of_range_are_a_bad_parameter() {
    for near in ["91,0", "0,-181", "-90.01,10"] {
        let body = problem(&format!("/api/v1/search?near={near}"));
        assert_eq!(body["type"], "/problems/invalid-parameters", "{near}");
        assert_eq!(invalid_names(&body), ["near"], "{near}");
    }
    let body = app().get_json("/api/v1/search?near=39.7525,-104.9995");
    assert_eq!(body["location"]["label"], "39.7525, -104.9995");
}

#[test]
fn hostile_near_values_are_400_or_200_never_500() {
    let long = "a".repeat(10_000);
    let values = [
        "%00".to_string(),
        "%F0%9F%98%80".into(),
        "%E2%80%AE".into(),
        "%FF%FE".into(),
        ",,,".into(),
        "-".into(),
        long,
        "8".repeat(5000),
        "Denver%2C%20CO%2C%20USA".into(),
    ];
    for value in &values {
        let reply = app().get(&format!("/api/v1/search?near={value}"));
        assert!(
            reply.status == 200 || reply.status == 400,
            "{}: {} {}",
            &value[..value.len().min(40)],
            reply.status,
            reply.body
        );
        if reply.status == 400 {
            assert_eq!(reply.content_type, "application/problem+json");
        }
    }
}

#[test]
fn place_suggestions_for_the_search_box() {
    let reply = app().get("/api/v1/places?prefix=den");
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(reply.content_type.starts_with("application/json"));
    let body = reply.json();
    let places = body["places"].as_array().expect("places");
    assert_eq!(places.len(), 10);
    let denver = &places[0];
    assert_eq!(denver["label"], "Denver, CO");
    assert_eq!(denver["kind"], "city");
    assert!(denver["lat"].as_f64().is_some() && denver["lon"].as_f64().is_some());
    let populations: Vec<u64> = places
        .iter()
        .map(|p| p["population"].as_u64().unwrap_or(0))
        .collect();
    assert!(
        populations.windows(2).all(|w| w[0] >= w[1]),
        "{populations:?}"
    );

    let zips = app().get_json("/api/v1/places?prefix=8020&limit=3");
    let zips = zips["places"].as_array().expect("places");
    assert_eq!(zips.len(), 3);
    assert!(
        zips.iter()
            .all(|z| z["kind"] == "zip" && z["population"].is_null())
    );
    assert!(
        zips[0]["label"]
            .as_str()
            .is_some_and(|l| l.starts_with("8020") && l.ends_with("(Denver, CO)")),
        "{zips:?}"
    );

    let accents = app().get_json("/api/v1/places?prefix=ca%C3%B1on%20c&limit=50");
    assert!(
        accents["places"]
            .as_array()
            .is_some_and(|p| p.iter().any(|p| p["label"] == "Cañon City, CO"))
    );
    let st = app().get_json("/api/v1/places?prefix=st.%20lou&limit=1");
    assert_eq!(st["places"][0]["label"], "St. Louis, MO");
    let nothing = app().get_json("/api/v1/places?prefix=%F0%9F%98%80");
    assert_eq!(nothing["places"], serde_json::json!([]));
}

#[test]
fn place_suggestion_parameters_are_checked() {
    let long = "a".repeat(101);
    let cases = [
        ("", "prefix"),
        ("prefix=", "prefix"),
        ("limit=5", "prefix"),
        (&format!("prefix={long}"), "prefix"),
        ("prefix=den&prefix=bo", "prefix"),
        ("prefix=den&limit=0", "limit"),
        ("prefix=den&limit=51", "limit"),
        ("prefix=den&limit=abc", "limit"),
        ("prefix=den&limit=-1", "limit"),
        ("prefix=den&limit=99999999999999999999999", "limit"),
    ];
    for (query, name) in cases {
        let body = problem(&format!("/api/v1/places?{query}"));
        assert_eq!(body["type"], "/problems/invalid-parameters", "{query}");
        assert!(
            invalid_names(&body).contains(&name.to_string()),
            "{query}: {body}"
        );
    }
    let fifty = app().get_json("/api/v1/places?prefix=s&limit=50");
    assert_eq!(fifty["places"].as_array().map(Vec::len), Some(50));
}
