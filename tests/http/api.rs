//! The JSON API against the bundled sample data: shapes, errors, hostile input.

use std::sync::OnceLock;

use super::helpers::{CSV_COLUMNS, TestApp, denver_csv, sample_csv, spawn_app};

/// One server on the sample data, shared by the read-only tests here.
fn app() -> &'static TestApp {
    static APP: OnceLock<TestApp> = OnceLock::new();
    APP.get_or_init(|| spawn_app(&sample_csv()))
}

/// A provider in JSON: every CSV column, plus what ingest adds.
fn provider_keys() -> impl Iterator<Item = &'static str> {
    CSV_COLUMNS.into_iter().chain(["location_approximate"])
}

#[test]
fn search_around_denver_answers_in_the_spec_shape() {
    let body = app().get_json("/api/v1/search?lat=39.74&lon=-104.99&radius=50");
    let total = body["total"].as_u64().expect("total");
    assert!(total > 5, "Denver has sample providers: {total}");
    assert_eq!(body["page"], 1);
    assert_eq!(body["per_page"], 20);
    assert_eq!(body["sort"], "rating");
    assert_eq!(body["location"]["radius_miles"], 50.0);
    assert_eq!(body["location"]["lat"], 39.74);
    assert!(body["generation"].as_u64().is_some());
    let results = body["results"].as_array().expect("results");
    assert_eq!(results.len() as u64, total.min(20));
    let mut previous = f64::INFINITY;
    for hit in results {
        for key in provider_keys() {
            assert!(hit.get(key).is_some(), "hit lacks {key}: {hit}");
        }
        let distance = hit["distance_miles"].as_f64().expect("distance");
        assert!(distance <= 50.0);
        let adjusted = hit["adjusted_rating"].as_f64().expect("adjusted");
        assert!(adjusted <= previous, "sorted by adjusted rating");
        previous = adjusted;
        assert_eq!(
            hit["url"],
            format!("/providers/{}", hit["id"].as_str().expect("id"))
        );
    }
    let facets = &body["facets"];
    assert_eq!(facets["treatments"].as_object().map(|o| o.len()), Some(5));
    assert_eq!(facets["conditions"].as_object().map(|o| o.len()), Some(12));
    assert!(
        facets["insurance"]
            .as_object()
            .is_some_and(|o| o.len() <= 20)
    );
    assert!(facets["telehealth"].as_u64().is_some_and(|n| n <= total));
    assert!(facets["accepting_new_patients"].as_u64().is_some());
}

#[test]
fn a_zip_code_is_a_place() {
    let body = app().get_json("/api/v1/search?near=80202&radius=50&sort=distance");
    assert!(
        body["location"]["label"]
            .as_str()
            .is_some_and(|l| l.contains("CO 80202")),
        "{}",
        body["location"]
    );
    assert!(body["total"].as_u64().is_some_and(|t| t > 0));
    let distances: Vec<f64> = body["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|hit| hit["distance_miles"].as_f64().expect("distance"))
        .collect();
    assert!(distances.windows(2).all(|w| w[0] <= w[1]), "{distances:?}");
}

#[test]
fn filters_narrow_and_pages_do_not_overlap() {
    let all = app().get_json("/api/v1/search?per_page=100");
    let filtered = app().get_json("/api/v1/search?treatment=esketamine_nasal&telehealth=true");
    let total = all["total"].as_u64().expect("total");
    let narrowed = filtered["total"].as_u64().expect("total");
    assert_eq!(total, 2000);
    assert!(narrowed > 0 && narrowed < total);
    assert!(all["facets"]["treatments"]["esketamine_nasal"].as_u64() >= Some(narrowed));
    let page1 = app().get_json("/api/v1/search?per_page=10&page=1");
    let page2 = app().get_json("/api/v1/search?per_page=10&page=2");
    let ids = |page: &serde_json::Value| -> Vec<String> {
        page["results"]
            .as_array()
            .expect("results")
            .iter()
            .map(|h| h["id"].as_str().expect("id").to_string())
            .collect()
    };
    let (first, second) = (ids(&page1), ids(&page2));
    assert_eq!(first.len(), 10);
    assert!(first.iter().all(|id| !second.contains(id)));
    let first_twenty: Vec<String> = ids(&all).into_iter().take(20).collect();
    assert_eq!([first, second].concat(), first_twenty);
}

#[test]
fn text_search_uses_synonyms_and_forgives_typos() {
    let spravato = app().get_json("/api/v1/search?q=spravato");
    let esketamine = app().get_json("/api/v1/search?treatment=esketamine_nasal");
    assert_eq!(spravato["total"], esketamine["total"]);
    let typo = app().get_json("/api/v1/search?q=fibromyalgai");
    let exact = app().get_json("/api/v1/search?q=fibromyalgia");
    assert!(exact["total"].as_u64().is_some_and(|t| t > 0));
    assert_eq!(typo["total"], exact["total"]);
    let nerve = app().get_json("/api/v1/search?q=nerve%20pain");
    let neuropathic = app().get_json("/api/v1/search?condition=neuropathic_pain");
    assert_eq!(nerve["total"], neuropathic["total"]);
}

#[test]
fn one_provider_by_id_and_unknown_ids() {
    let hit = app().get_json("/api/v1/providers/p-000001");
    assert_eq!(hit["id"], "p-000001");
    assert!(hit["adjusted_rating"].as_f64().is_some());
    for id in ["nope", "..%2F..%2Fetc", "%F0%9F%92%A9", &"x".repeat(5000)] {
        let reply = app().get(&format!("/api/v1/providers/{id}"));
        assert_eq!(reply.status, 404, "{id}");
        assert_eq!(reply.content_type, "application/problem+json");
        assert_eq!(reply.json()["status"], 404);
    }
}

#[test]
fn bad_parameters_are_400_problems_naming_each_parameter() {
    let reply = app().get("/api/v1/search?lat=91&lon=0&radius=0&sort=best&per_page=500");
    assert_eq!(reply.status, 400);
    assert_eq!(reply.content_type, "application/problem+json");
    let problem = reply.json();
    assert_eq!(problem["status"], 400);
    let names: Vec<&str> = problem["invalid_params"]
        .as_array()
        .expect("invalid_params")
        .iter()
        .map(|p| p["name"].as_str().expect("name"))
        .collect();
    for expected in ["lat", "radius", "sort", "per_page"] {
        assert!(names.contains(&expected), "{names:?} lacks {expected}");
    }
    assert!(
        problem["invalid_params"][0]["reason"]
            .as_str()
            .is_some_and(|r| !r.is_empty())
    );
}

#[test]
fn unknown_places_are_400_not_empty_results() {
    let reply = app().get("/api/v1/search?near=99999");
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert_eq!(reply.json()["invalid_params"][0]["name"], "near");
}

#[test]
fn hostile_query_strings_never_yield_a_server_error() {
    let long = "a".repeat(10_000);
    let queries = [
        "lat=NaN&lon=0".to_string(),
        "lat=inf&lon=-inf".into(),
        "lat=1e309&lon=1".into(),
        "page=99999999999999999999".into(),
        "page=-1".into(),
        "per_page=0".into(),
        "radius=5&radius=6&lat=1&lon=1".into(),
        format!("q={long}"),
        format!("near={long}"),
        format!("insurance={long}"),
        "q=%00%01%02%1b%7f".into(),
        "q=%FF%FE%FD".into(),
        "q=%zz%".into(),
        "q=%E2%82".into(),
        "q=%22(AND%20OR%20NOT)*%3F~%5E%3A%5B%5D%7B%7D%5C".into(),
        "q=%F0%9F%98%80%F0%9F%9A%91&near=%F0%9F%98%80".into(),
        "min_rating=5.0000000000000000001".into(),
        "max_price=4294967296".into(),
        "treatment=&condition=&state=".into(),
        "lat=0&lon=180&radius=500".into(),
        "lat=90&lon=0&radius=500&sort=distance".into(),
        "lat=-90&lon=-180&radius=1".into(),
        "sort=relevance&q=%20%20".into(),
        "q=---&sort=relevance".into(),
    ];
    for query in &queries {
        let reply = app().get(&format!("/api/v1/search?{query}"));
        assert!(
            reply.status == 200 || reply.status == 400,
            "{query}: {} {}",
            reply.status,
            reply.body
        );
        if reply.status == 400 {
            assert_eq!(reply.content_type, "application/problem+json", "{query}");
        }
    }
}

#[test]
fn unknown_api_routes_are_problem_json() {
    let reply = app().get("/api/v1/nothing-here");
    assert_eq!(reply.status, 404);
    assert_eq!(reply.content_type, "application/problem+json");
}

#[test]
fn health_and_readiness() {
    assert_eq!(app().get("/healthz").status, 200);
    let ready = app().get_json("/readyz");
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["documents"], 2000);
}

#[test]
fn fuzzy_words_match_near_misses_and_exact_words_rank_first() {
    // Names differ by one edit from "Whitlock"; an exact name ranks first
    // by relevance, whatever the rating order says.
    let csv = "id,name,city,state,latitude,longitude,rating,review_count\n\
               exact,Dr Whitlock,Denver,CO,39.74,-104.99,3.0,1\n\
               typo,Dr Whitlocc,Denver,CO,39.74,-104.99,5.0,500\n\
               swap,Dr Whitlcok,Boulder,CO,40.01,-105.27,4.0,50\n\
               other,Dr Smith,Denver,CO,39.74,-104.99,5.0,900\n";
    let app = spawn_app(csv);
    let ids = |query: &str| -> Vec<String> {
        let body = app.get_json(&format!("/api/v1/search?{query}"));
        body["results"]
            .as_array()
            .expect("results")
            .iter()
            .map(|hit| hit["id"].as_str().expect("id").to_string())
            .collect()
    };
    // Text alone (the bitset path), by rating: all three spellings.
    assert_eq!(ids("q=whitlock"), ["typo", "exact", "swap"]);
    // With a place (the per-document path): the two in Denver.
    assert_eq!(ids("q=whitlock&near=80202&radius=5"), ["typo", "exact"]);
    // Relevance: the exact word first.
    assert_eq!(ids("q=whitlock&sort=relevance")[0], "exact");
    assert_eq!(
        ids("q=whitlock&sort=relevance&near=80202&radius=5")[0],
        "exact"
    );
    // Four letters: exact only.
    assert!(ids("q=smth").is_empty());
    assert_eq!(ids("q=smith"), ["other"]);
}

/// Requests actix cannot parse (bytes that are no URI, a broken header
/// line, a head over the limit) never reach a route, yet get our answer: a
/// problem under `/api`, a page elsewhere, and a count in `/metrics`.
#[test]
fn unparseable_requests_get_a_problem_or_a_page_and_are_counted() {
    use std::io::{Read, Write};
    let app = spawn_app(&denver_csv("u", 3));
    // The registry is the process's: other tests may count too.
    let unparsed_400 = || {
        app.get("/metrics")
            .body
            .lines()
            .find_map(|line| {
                line.strip_prefix(
                    r#"ketadir_http_requests_total{method="other",route="unparsed",status="400"} "#,
                )
            })
            .and_then(|n| n.trim().parse::<u64>().ok())
            .unwrap_or(0)
    };
    let before = unparsed_400();
    let address = app.address.trim_start_matches("http://").to_string();
    let raw = |request: &[u8]| {
        let mut stream = std::net::TcpStream::connect(&address).expect("connect");
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .expect("timeout");
        stream.write_all(request).expect("send");
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
        String::from_utf8_lossy(&answer).into_owned()
    };
    let api = raw(b"GET /api/v1/search?q=\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(api.starts_with("HTTP/1.1 400 "), "{api}");
    assert!(
        api.contains("content-type: application/problem+json"),
        "{api}"
    );
    assert!(api.contains("\"status\":400"), "{api}");
    let header = raw(b"GET /api/v1/search HTTP/1.1\r\nHost: x\r\nBroken Header: y\r\n\r\n");
    assert!(header.contains("application/problem+json"), "{header}");
    let page = raw(b"GET /\xff HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(page.starts_with("HTTP/1.1 400 "), "{page}");
    assert!(
        page.contains("text/html") && page.contains("<main"),
        "{page}"
    );
    assert!(page.contains("content-security-policy:"), "{page}");
    let mut huge = b"GET /?q=".to_vec();
    huge.extend(std::iter::repeat_n(b'a', 140_000));
    huge.extend_from_slice(b" HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(raw(&huge).starts_with("HTTP/1.1 431 "));
    // A good request on a fresh connection is untouched, body and all.
    let fine = raw(b"GET /api/v1/vocabulary HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert!(fine.starts_with("HTTP/1.1 200 "), "{fine}");
    assert!(
        unparsed_400() >= before + 3,
        "three unparsed 400s are counted"
    );
}
