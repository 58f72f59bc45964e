//! Who may treat whom over HTTP: `include_telehealth` (telehealth reach),
//! `provider_type`, and the three CSV columns behind them, on a small
//! directory around Bozeman, MT built to have one provider of each kind:
//! a clinic in town, telehealth providers licensed in Montana near and far,
//! telehealth providers not licensed there, a provider licensed there
//! without telehealth, and SPRAVATO sites in and out of reach.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde_json::Value;

use super::helpers::{TestApp, empty_state, search_links, spawn_app};

const CSV: &str = "\
id,name,city,state,zip,latitude,longitude,treatments,conditions,telehealth,provider_type,licensed_states,rems_certified
mt-clinic,Example Bozeman Infusions,Bozeman,MT,59715,45.6796,-111.0386,iv_infusion,depression,false,clinic,,
mt-video,Clinician Billings Video,Billings,MT,59101,45.7833,-108.5007,ketamine_assisted_psychotherapy,depression,true,therapist,,
co-licensed-mt,Clinician Denver Both,Denver,CO,80202,39.7392,-104.9903,oral_sublingual;iv_infusion,depression,true,nurse_practitioner,CO;mt,
co-only,Clinician Denver Only,Denver,CO,80202,39.7400,-104.9900,oral_sublingual,depression,true,physician,CO,
wa-no-video,Clinician Seattle Office,Seattle,WA,98101,47.6062,-122.3321,oral_sublingual,depression,false,physician,WA;MT,
pa-spravato,Example Pittsburgh Spravato,Pittsburgh,PA,15222,40.4406,-79.9959,esketamine_nasal,depression,true,clinic,PA;MT,true
mt-spravato,Example Missoula Spravato,Missoula,MT,59801,46.8721,-113.9940,esketamine_nasal,depression,false,clinic;physician,,
";

fn app() -> &'static TestApp {
    static APP: OnceLock<TestApp> = OnceLock::new();
    APP.get_or_init(|| spawn_app(CSV))
}

/// The ids of a search's results with their `reach`, in order.
fn reached(path: &str) -> (Value, Vec<(String, Value)>) {
    let body = app().get_json(path);
    let hits = body["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|hit| {
            let object = hit.as_object().expect("a hit is an object");
            assert!(object.contains_key("reach"), "reach is always present");
            (
                hit["id"].as_str().expect("id").to_string(),
                hit["reach"].clone(),
            )
        })
        .collect();
    (body, hits)
}

fn by_id(hits: &[(String, Value)]) -> BTreeMap<&str, &str> {
    hits.iter()
        .map(|(id, reach)| (id.as_str(), reach.as_str().unwrap_or("null")))
        .collect()
}

const BOZEMAN_50: &str = "/api/v1/search?near=Bozeman,%20MT&radius=50&include_telehealth=true";

#[test]
fn near_bozeman_lists_the_clinic_in_reach_and_telehealth_licensed_in_montana() {
    let (body, hits) = reached(BOZEMAN_50);
    let expected = BTreeMap::from([
        ("mt-clinic", "in_person"),
        ("mt-video", "telehealth"),
        ("co-licensed-mt", "telehealth"),
        // Without a treatment filter a reachable telehealth provider is
        // listed whatever it offers.
        ("pa-spravato", "telehealth"),
    ]);
    assert_eq!(by_id(&hits), expected, "{body}");
    assert_eq!(body["total"], 4);
    assert_eq!(
        body["facets"]["reach"],
        serde_json::json!({"in_person": 1, "telehealth": 3})
    );
    // Reached by video only, their clinic-visit treatments do not count.
    let treatments = &body["facets"]["treatments"];
    assert_eq!(treatments["iv_infusion"], 1, "only the clinic in Bozeman");
    assert_eq!(treatments["esketamine_nasal"], 0);
    assert_eq!(treatments["oral_sublingual"], 1);
    assert_eq!(treatments["ketamine_assisted_psychotherapy"], 1);
    // distance_miles stays the real distance.
    let far = body["results"]
        .as_array()
        .and_then(|r| r.iter().find(|h| h["id"] == "pa-spravato"))
        .expect("listed");
    assert!(far["distance_miles"].as_f64().is_some_and(|d| d > 1000.0));
}

#[test]
fn clinic_only_treatments_never_come_through_telehealth() {
    for (treatment, expected) in [
        ("esketamine_nasal", vec![]),
        ("iv_infusion", vec![("mt-clinic", "in_person")]),
        ("oral_sublingual", vec![("co-licensed-mt", "telehealth")]),
        (
            "ketamine_assisted_psychotherapy",
            vec![("mt-video", "telehealth")],
        ),
    ] {
        let (body, hits) = reached(&format!("{BOZEMAN_50}&treatment={treatment}"));
        assert_eq!(
            by_id(&hits),
            expected.into_iter().collect::<BTreeMap<_, _>>(),
            "{treatment}: {body}"
        );
    }
    // Both kinds at once: the clinic in person, the video provider for KAP.
    let (_, hits) = reached(&format!(
        "{BOZEMAN_50}&treatment=iv_infusion&treatment=ketamine_assisted_psychotherapy"
    ));
    assert_eq!(
        by_id(&hits),
        BTreeMap::from([("mt-clinic", "in_person"), ("mt-video", "telehealth")])
    );
}

#[test]
fn without_include_telehealth_reach_is_null_and_nothing_is_added() {
    let (body, hits) = reached("/api/v1/search?near=Bozeman,%20MT&radius=50");
    assert_eq!(by_id(&hits), BTreeMap::from([("mt-clinic", "null")]));
    assert!(body["facets"]["reach"].is_null());
    let (body, _) = reached("/api/v1/search?near=Bozeman,%20MT&radius=50&include_telehealth=false");
    assert_eq!(body["total"], 1);
}

#[test]
fn the_searchers_state_comes_from_a_zip_a_town_a_state_or_the_words() {
    let (_, by_town) = reached(BOZEMAN_50);
    for path in [
        "/api/v1/search?near=59715&radius=50&include_telehealth=true",
        "/api/v1/search?near=Bozeman,%20Montana&radius=50&include_telehealth=true",
        "/api/v1/search?q=depression%20in%20Bozeman,%20MT&radius=50&include_telehealth=true",
    ] {
        let (_, hits) = reached(path);
        assert_eq!(by_id(&hits), by_id(&by_town), "{path}");
    }
    // A whole state: every Montana provider in person, and the reachable
    // telehealth providers elsewhere.
    let (body, hits) = reached("/api/v1/search?near=Montana&include_telehealth=true");
    assert_eq!(
        by_id(&hits),
        BTreeMap::from([
            ("mt-clinic", "in_person"),
            ("mt-video", "in_person"),
            ("mt-spravato", "in_person"),
            ("co-licensed-mt", "telehealth"),
            ("pa-spravato", "telehealth"),
        ]),
        "{body}"
    );
    // `state=` filters both parts like any other filter.
    let (_, hits) = reached(&format!("{BOZEMAN_50}&state=CO"));
    assert_eq!(
        by_id(&hits),
        BTreeMap::from([("co-licensed-mt", "telehealth")])
    );
}

#[test]
fn every_sort_works_over_the_union() {
    let (_, nearest) = reached(&format!("{BOZEMAN_50}&sort=distance"));
    let order: Vec<&str> = nearest.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(
        order,
        ["mt-clinic", "mt-video", "co-licensed-mt", "pa-spravato"]
    );
    for sort in ["rating", "reviews", "price"] {
        let (body, hits) = reached(&format!("{BOZEMAN_50}&sort={sort}"));
        assert_eq!(hits.len(), 4, "{sort}: {body}");
    }
    let (body, hits) = reached(&format!("{BOZEMAN_50}&q=clinician&sort=relevance"));
    assert_eq!(
        by_id(&hits),
        BTreeMap::from([("mt-video", "telehealth"), ("co-licensed-mt", "telehealth")]),
        "{body}"
    );
}

#[test]
fn include_telehealth_needs_a_named_place() {
    for path in [
        "/api/v1/search?include_telehealth=true",
        "/api/v1/search?lat=45.68&lon=-111.04&include_telehealth=true",
        "/api/v1/search?near=45.68,-111.04&include_telehealth=true",
        "/api/v1/search?q=depression&include_telehealth=true",
        "/api/v1/search?include_telehealth=maybe&near=59715",
    ] {
        let reply = app().get(path);
        assert_eq!(reply.status, 400, "{path}: {}", reply.body);
        assert_eq!(reply.content_type, "application/problem+json");
        let problem = reply.json();
        let names: Vec<&str> = problem["invalid_params"]
            .as_array()
            .expect("invalid_params")
            .iter()
            .filter_map(|p| p["name"].as_str())
            .collect();
        assert_eq!(names, ["include_telehealth"], "{path}");
    }
    // A whole state cannot be sorted by distance, with or without reach.
    let reply = app().get("/api/v1/search?near=Montana&include_telehealth=true&sort=distance");
    assert_eq!(reply.status, 400);
}

#[test]
fn provider_type_filters_with_any_and_is_counted() {
    let body = app().get_json("/api/v1/search?provider_type=clinic");
    let mut ids: Vec<&str> = body["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter_map(|h| h["id"].as_str())
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, ["mt-clinic", "mt-spravato", "pa-spravato"]);
    let body = app().get_json("/api/v1/search?provider_type=therapist&provider_type=NP");
    assert_eq!(body["total"], 2, "therapist or nurse practitioner: {body}");
    let counts = &app().get_json("/api/v1/search")["facets"]["provider_type"];
    assert_eq!(counts["clinic"], 3);
    assert_eq!(counts["physician"], 3);
    assert_eq!(counts["physician_assistant"], 0);
    assert_eq!(counts.as_object().map(|o| o.len()), Some(7));
    let reply = app().get("/api/v1/search?provider_type=surgeon");
    assert_eq!(reply.status, 400);
    assert_eq!(reply.json()["invalid_params"][0]["name"], "provider_type");
}

#[test]
fn providers_carry_the_new_columns_everywhere() {
    let hit = app().get_json("/api/v1/providers/co-licensed-mt");
    assert_eq!(hit["licensed_states"], serde_json::json!(["CO", "MT"]));
    assert_eq!(
        hit["provider_type"],
        serde_json::json!(["nurse_practitioner"])
    );
    assert!(hit["rems_certified"].is_null());
    assert!(hit["reach"].is_null());
    let hit = app().get_json("/api/v1/providers/mt-video");
    assert_eq!(
        hit["licensed_states"],
        serde_json::json!([]),
        "blank: own state"
    );
    let hit = app().get_json("/api/v1/providers/pa-spravato");
    assert_eq!(hit["rems_certified"], true);

    let export = app().get("/api/v1/providers?format=ndjson");
    assert_eq!(export.status, 200);
    let lines: Vec<Value> = export
        .body
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect();
    assert_eq!(lines.len(), 7);
    for line in &lines {
        for key in ["provider_type", "licensed_states", "rems_certified"] {
            assert!(line.get(key).is_some(), "{key} in {line}");
        }
    }

    let vocabulary = app().get_json("/api/v1/vocabulary");
    let types = vocabulary["provider_types"]
        .as_array()
        .expect("provider_types");
    assert_eq!(types.len(), 7);
    assert!(
        types
            .iter()
            .any(|t| t["slug"] == "nurse_anesthetist" && t["label"] == "Nurse anesthetist (CRNA)")
    );
}

// ---------------------------------------------------------------------------
// The patient pages.

/// A page's text with askama's escaping undone.
fn page(path: &str) -> String {
    let reply = app().get(path);
    assert_eq!(reply.status, 200, "{path}: {}", reply.body);
    super::pages::unescape(&reply.body)
}

#[test]
fn the_form_offers_telehealth_reach_beside_the_place_and_a_provider_type_filter() {
    let body = page("/?near=Bozeman,%20MT");
    assert!(body.contains("name=\"include_telehealth\""), "{body}");
    assert!(
        body.contains("Also show telehealth providers licensed in Montana"),
        "the choice names the place's state"
    );
    assert!(body.contains("name=\"provider_type\" value=\"nurse_anesthetist\""));
    assert!(body.contains("Nurse anesthetist (CRNA)"));
    // Before a place is typed, the choice speaks of "your state".
    assert!(page("/").contains("Also show telehealth providers licensed in your state"));
    let spanish = page("/?near=Bozeman,%20MT&lang=es");
    assert!(
        spanish.contains("Mostrar también proveedores de telesalud con licencia en Montana"),
        "{spanish}"
    );
    assert!(spanish.contains("Enfermero/a anestesista (CRNA)"));
    // Checked, the choice stays checked on the results.
    let body = page(&format!("/?{}", &BOZEMAN_50["/api/v1/search?".len()..]));
    assert!(
        body.contains(
            "id=\"include_telehealth\" name=\"include_telehealth\" value=\"true\" checked"
        )
    );
}

#[test]
fn cards_found_through_telehealth_say_so_plainly() {
    let body = page(&format!("/?{}", &BOZEMAN_50["/api/v1/search?".len()..]));
    assert_eq!(
        body.matches("— visits by video").count(),
        3,
        "the three reached by video, not the clinic in town"
    );
    // Those reached by video are counted apart, not "within 50 miles".
    assert!(
        body.contains(
            "1 provider within 50 miles of Bozeman, MT and 3 telehealth providers licensed in Montana"
        ),
        "{body}"
    );
    assert!(body.contains("<bdi>Telehealth providers licensed in Montana</bdi>"));
    // Billings is about 123 miles from Bozeman.
    let line = &body[body
        .find("Telehealth · licensed in MT · ")
        .expect("the reach line")..];
    let line = &line[..line.find('<').expect("its end")];
    assert!(line.ends_with(" mi away — visits by video"), "{line}");
    let miles: u32 = line["Telehealth · licensed in MT · ".len()..]
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .expect("whole miles");
    assert!((120..=126).contains(&miles), "{line}");
    assert!(body.contains("Example Bozeman Infusions"));
    let spanish = page(&format!(
        "/?{}&lang=es",
        &BOZEMAN_50["/api/v1/search?".len()..]
    ));
    assert_eq!(
        spanish.matches("consultas por video").count(),
        3,
        "{spanish}"
    );
    // Provider type is a filter of the page too.
    let clinics = page("/?provider_type=clinic");
    assert!(clinics.contains("Example Pittsburgh Spravato"));
    assert!(!clinics.contains("Clinician Denver Both"));
}

#[test]
fn the_profile_says_who_gives_the_care_where_they_are_licensed_and_rems() {
    let body = page("/providers/co-licensed-mt");
    assert!(body.contains("Nurse practitioner"), "{body}");
    assert!(body.contains("Licensed to treat patients in"));
    assert!(body.contains("CO, MT"));
    // Blank licensed states: the provider's own state.
    let body = page("/providers/mt-video");
    let licensed = &body[body
        .find("Licensed to treat patients in")
        .expect("licensed")..];
    assert!(licensed[..200].contains("MT"), "{licensed}");
    assert!(page("/providers/pa-spravato").contains("REMS-certified site"));
    assert!(page("/providers/mt-spravato").contains("REMS certification not confirmed"));
    assert!(
        !page("/providers/mt-clinic").contains("REMS"),
        "no SPRAVATO, no REMS line"
    );
    assert!(page("/providers/mt-spravato?lang=es").contains("Certificación REMS no confirmada"));
}

#[test]
fn an_empty_clinic_only_search_names_the_nearest_provider_and_nothing_out_of_state() {
    let body =
        page("/?near=Bozeman,%20MT&radius=25&treatment=esketamine_nasal&include_telehealth=true");
    assert!(body.contains("No providers match this search"), "{body}");
    let empty = empty_state(&body);
    assert!(
        empty.contains("Nearest provider of Esketamine nasal spray (Spravato): Missoula, MT, "),
        "{empty}"
    );
    assert!(
        !empty.contains("everywhere"),
        "no search everywhere: {empty}"
    );
    assert!(!empty.contains("video"), "no telehealth route: {empty}");
    let links = search_links(empty);
    assert!(!links.is_empty(), "{empty}");
    for href in links {
        let found = app().get_json(&format!("/api/v1/search{}", &href[1..]));
        assert!(found["total"].as_u64().is_some_and(|n| n > 0), "{href}");
        // None of them reaches SPRAVATO by video.
        for hit in found["results"].as_array().expect("results") {
            assert_ne!(hit["reach"], "telehealth", "{href}");
        }
    }
    // Other treatments still may suggest searching everywhere.
    let body = page("/?near=Bozeman,%20MT&radius=25&treatment=oral_sublingual");
    assert!(!body.contains("Nearest provider of"));
}
