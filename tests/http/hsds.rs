//! The HSDS facade (`/hsds`, docs/hsds.md) against the real server: lists,
//! records by id, the vocabulary, NDJSON, errors, caching, CORS and
//! limits, and agreement with `/api/v1/search` on the same query.
//!
//! Every HSDS answer these tests receive is validated by the `jsonschema`
//! crate (JSON Schema 2020-12, `format` asserted) against the standard's
//! own files in `../shared/standards/hsds/` (Open Referral, CC BY-SA 4.0):
//! the response schemas of its `openapi.json` (the page envelope with
//! `contents` of `compiled/*_list.json`), and `compiled/service.json`,
//! `organization.json` and `service_at_location.json` for records by id.
//! The standard's schemas allow any extra member; the tests also check
//! that every member written is one the schema declares, so a misspelt
//! field cannot pass unnoticed.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use jsonschema::{Draft, Registry, Validator};
use ketadir::facades::hsds::{Record, Taxonomy, Term};
use ketadir::geo::{LatLon, distance_miles};
use ketadir::provider::{Condition, Treatment};
use serde_json::{Value, json};

use super::helpers::{
    Reply, TestApp, denver_csv, limited_to, sample_csv, spawn_app, spawn_app_with,
};

fn app() -> &'static TestApp {
    static APP: OnceLock<TestApp> = OnceLock::new();
    APP.get_or_init(|| spawn_app(&sample_csv()))
}

// ---------------------------------------------------------------------------
// The standard's schemas.

/// Where the standard's files are published; its `$ref`s use these URLs,
/// which the registry answers with the local copies (nothing is fetched).
const PUBLISHED: &str = "https://raw.githubusercontent.com/openreferral/specification/3.0/schema/";

/// `../shared/standards` beside the repository (as in CI), or
/// `KETADIR_STANDARDS_DIR`.
fn standards_dir() -> PathBuf {
    std::env::var_os("KETADIR_STANDARDS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/standards"))
        })
}

fn load(relative: &str) -> &'static Value {
    let path = standards_dir().join("hsds").join(relative);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "the HSDS schemas are needed to check the /hsds answers: {} ({e}); \
             shared/ must lie beside the repository, or set KETADIR_STANDARDS_DIR",
            path.display()
        )
    });
    let value: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
    Box::leak(Box::new(value))
}

const COMPILED: [&str; 6] = [
    "service",
    "service_list",
    "organization",
    "organization_list",
    "service_at_location",
    "service_at_location_list",
];

fn compiled(name: &str) -> &'static Value {
    static LOADED: OnceLock<HashMap<&'static str, &'static Value>> = OnceLock::new();
    LOADED.get_or_init(|| {
        COMPILED
            .iter()
            .map(|name| (*name, load(&format!("compiled/{name}.json"))))
            .collect()
    })[name]
}

fn registry() -> &'static Registry<'static> {
    static REGISTRY: OnceLock<Registry<'static>> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let mut builder = Registry::new()
            .draft(Draft::Draft202012)
            .add(format!("{PUBLISHED}openapi.json"), load("openapi.json"))
            .expect("openapi.json registers");
        for name in COMPILED {
            builder = builder
                .add(format!("{PUBLISHED}compiled/{name}.json"), compiled(name))
                .unwrap_or_else(|e| panic!("compiled/{name}.json registers: {e}"));
        }
        builder
            .prepare()
            .unwrap_or_else(|e| panic!("the HSDS schemas as JSON Schema resources: {e}"))
    })
}

/// A validator of `schema` (which refers into the standard's files).
fn validator(schema: Value) -> Arc<Validator> {
    static BUILT: OnceLock<Mutex<HashMap<String, Arc<Validator>>>> = OnceLock::new();
    let key = schema.to_string();
    let mut built = BUILT
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    if let Some(validator) = built.get(&key) {
        return Arc::clone(validator);
    }
    let validator = Arc::new(
        jsonschema::draft202012::options()
            .with_registry(registry())
            .offline()
            .should_validate_formats(true)
            .build(&schema)
            .unwrap_or_else(|e| panic!("{schema} does not compile: {e}")),
    );
    built.insert(key, Arc::clone(&validator));
    validator
}

/// The response schema the standard's OpenAPI document gives a path.
fn openapi_response(path: &str) -> Value {
    json!({"$ref": format!(
        "{PUBLISHED}openapi.json#/paths/{}/get/responses/200/content/application~1json/schema",
        path.replace('/', "~1")
    )})
}

const TERM: &str = "#/properties/attributes/items/properties/taxonomy_term";

/// What a record or list is checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Root,
    ServicesPage,
    OrganizationsPage,
    ServiceAtLocationsPage,
    Service,
    Organization,
    ServiceAtLocation,
    ServiceItem,
    OrganizationItem,
    ServiceAtLocationItem,
    TaxonomiesPage,
    TermsPage,
    Taxonomy,
    Term,
}

impl Shape {
    /// The shape of the JSON answer to a path (a query string aside).
    fn of(path: &str) -> Shape {
        let path = path.split('?').next().unwrap_or(path);
        let segments: Vec<&str> = path.trim_end_matches('/').split('/').skip(2).collect();
        match segments.as_slice() {
            [] => Shape::Root,
            ["services"] => Shape::ServicesPage,
            ["services", _] => Shape::Service,
            ["organizations"] => Shape::OrganizationsPage,
            ["organizations", _] => Shape::Organization,
            ["service_at_locations"] => Shape::ServiceAtLocationsPage,
            ["service_at_locations", _] => Shape::ServiceAtLocation,
            ["taxonomies"] => Shape::TaxonomiesPage,
            ["taxonomies", _] => Shape::Taxonomy,
            ["taxonomy_terms"] => Shape::TermsPage,
            ["taxonomy_terms", _] => Shape::Term,
            _ => panic!("no HSDS shape for {path}"),
        }
    }

    /// The shape of one NDJSON line of a list.
    fn item(self) -> Shape {
        match self {
            Shape::ServicesPage => Shape::ServiceItem,
            Shape::OrganizationsPage => Shape::OrganizationItem,
            Shape::ServiceAtLocationsPage => Shape::ServiceAtLocationItem,
            Shape::TaxonomiesPage => Shape::Taxonomy,
            Shape::TermsPage => Shape::Term,
            other => other,
        }
    }

    /// The schema, as a reference into the standard's files. The
    /// `/service_at_locations/{id}` answer is checked against
    /// `service_at_location.json`: the standard's OpenAPI names
    /// `service.json` there, a slip (it is a service at location).
    /// Taxonomies and terms have no compiled schema in the copy; they are
    /// checked against the taxonomy term (and its `taxonomy_detail`)
    /// inside `service.json`.
    fn schema(self) -> Value {
        let file = |name: &str| json!({"$ref": format!("{PUBLISHED}compiled/{name}.json")});
        let term = format!("{PUBLISHED}compiled/service.json{TERM}");
        let page_of = |items: String| {
            json!({
                "allOf": [{"$ref": format!("{PUBLISHED}openapi.json#/components/schemas/Page")}],
                "properties": {"contents": {"type": "array", "items": {"$ref": items}}}
            })
        };
        match self {
            Shape::Root => openapi_response("/"),
            Shape::ServicesPage => openapi_response("/services"),
            Shape::OrganizationsPage => openapi_response("/organizations"),
            Shape::ServiceAtLocationsPage => openapi_response("/service_at_locations"),
            Shape::Service => file("service"),
            Shape::Organization => file("organization"),
            Shape::ServiceAtLocation => file("service_at_location"),
            Shape::ServiceItem => file("service_list"),
            Shape::OrganizationItem => file("organization_list"),
            Shape::ServiceAtLocationItem => file("service_at_location_list"),
            Shape::TaxonomiesPage => page_of(format!("{term}/properties/taxonomy_detail")),
            Shape::TermsPage => page_of(term),
            Shape::Taxonomy => json!({"$ref": format!("{term}/properties/taxonomy_detail")}),
            Shape::Term => json!({"$ref": term}),
        }
    }

    /// The compiled schema (a value) whose declared members a record may
    /// use; for a page, its items'.
    fn declared(self) -> Option<&'static Value> {
        let term = || {
            compiled("service")
                .pointer(&TERM[1..])
                .expect("term schema")
        };
        Some(match self {
            Shape::Service => compiled("service"),
            Shape::Organization => compiled("organization"),
            Shape::ServiceAtLocation => compiled("service_at_location"),
            Shape::ServiceItem | Shape::ServicesPage => compiled("service_list"),
            Shape::OrganizationItem | Shape::OrganizationsPage => compiled("organization_list"),
            Shape::ServiceAtLocationItem | Shape::ServiceAtLocationsPage => {
                compiled("service_at_location_list")
            }
            Shape::Term | Shape::TermsPage => term(),
            Shape::Taxonomy | Shape::TaxonomiesPage => &term()["properties"]["taxonomy_detail"],
            Shape::Root => return None,
        })
    }

    fn is_page(self) -> bool {
        matches!(
            self,
            Shape::ServicesPage
                | Shape::OrganizationsPage
                | Shape::ServiceAtLocationsPage
                | Shape::TaxonomiesPage
                | Shape::TermsPage
        )
    }
}

/// Members of `instance` that `schema` does not declare, as JSON Pointers.
fn undeclared(schema: &Value, instance: &Value, at: &str, found: &mut Vec<String>) {
    match instance {
        Value::Object(members) => {
            let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
                return;
            };
            for (name, value) in members {
                match properties.get(name) {
                    Some(child) => undeclared(child, value, &format!("{at}/{name}"), found),
                    None => found.push(format!("{at}/{name}")),
                }
            }
        }
        Value::Array(items) => {
            if let Some(item) = schema.get("items") {
                for (i, value) in items.iter().enumerate() {
                    undeclared(item, value, &format!("{at}/{i}"), found);
                }
            }
        }
        _ => {}
    }
}

/// Validates an HSDS answer against the standard; panics with every
/// violation.
fn check(shape: Shape, instance: &Value, what: &str) {
    let validator = validator(shape.schema());
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| {
            format!(
                "{} at {:?} ({})",
                e.masked(),
                e.instance_path().as_str(),
                e.schema_path()
            )
        })
        .collect();
    assert!(
        errors.is_empty(),
        "{what} breaks the HSDS schema ({shape:?}):\n{}\n{instance}",
        errors.join("\n")
    );
    if let Some(declared) = shape.declared() {
        let mut found = Vec::new();
        if shape.is_page() {
            for (i, item) in instance["contents"]
                .as_array()
                .into_iter()
                .flatten()
                .enumerate()
            {
                undeclared(declared, item, &format!("/contents/{i}"), &mut found);
            }
        } else {
            undeclared(declared, instance, "", &mut found);
        }
        assert!(
            found.is_empty(),
            "{what}: members HSDS does not declare: {found:?}"
        );
    }
    if shape.is_page() {
        for member in [
            "total_items",
            "total_pages",
            "page_number",
            "size",
            "first_page",
            "last_page",
            "empty",
            "contents",
        ] {
            assert!(instance.get(member).is_some(), "{what}: no {member}");
        }
    }
}

/// A GET of the HSDS facade; a JSON 200 is validated against the standard,
/// an NDJSON one line by line, an error must be a problem document.
fn hsds_get(app: &TestApp, path: &str) -> Reply {
    hsds_request(app, "GET", path, &[])
}

fn hsds_request(app: &TestApp, method: &str, path: &str, headers: &[(&str, &str)]) -> Reply {
    let reply = app.request(method, path, headers);
    let what = format!("{method} {path}");
    match reply.status {
        200 if reply.content_type.starts_with("application/x-ndjson") => {
            let shape = Shape::of(path).item();
            for (n, line) in reply.body.lines().enumerate() {
                let value: Value = serde_json::from_str(line)
                    .unwrap_or_else(|e| panic!("{what} line {n}: not JSON ({e})"));
                check(shape, &value, &format!("{what} line {n}"));
            }
        }
        200 => {
            assert!(reply.content_type.starts_with("application/json"), "{what}");
            check(Shape::of(path), &reply.json(), &what);
        }
        304 => assert!(reply.body.is_empty()),
        _ => assert!(
            reply.content_type.starts_with("application/problem+json"),
            "{what}: {} {}",
            reply.status,
            reply.body
        ),
    }
    reply
}

fn hsds_json(app: &TestApp, path: &str) -> Value {
    let reply = hsds_get(app, path);
    assert_eq!(reply.status, 200, "{path}: {}", reply.body);
    reply.json()
}

/// Every item of a list, following its pages.
fn all_items(app: &TestApp, path: &str) -> Vec<Value> {
    let mut items = Vec::new();
    for page in 1.. {
        let answer = hsds_json(app, &format!("{path}&per_page=100&page={page}"));
        items.extend(answer["contents"].as_array().cloned().unwrap_or_default());
        assert_eq!(answer["page_number"], page);
        if answer["last_page"] == true {
            assert_eq!(
                items.len() as u64,
                answer["total_items"].as_u64().expect("total")
            );
            break;
        }
    }
    items
}

fn api_results(app: &TestApp, query: &str) -> (Value, Vec<Value>) {
    let mut results = Vec::new();
    let mut location = Value::Null;
    for page in 1.. {
        let answer = app.get_json(&format!("/api/v1/search?{query}&per_page=100&page={page}"));
        location = answer["location"].clone();
        results.extend(answer["results"].as_array().cloned().unwrap_or_default());
        if results.len() as u64 >= answer["total"].as_u64().expect("total") {
            break;
        }
    }
    (location, results)
}

fn ids_of(items: &[Value], member: &str) -> Vec<String> {
    items
        .iter()
        .map(|i| i[member].as_str().expect(member).to_string())
        .collect()
}

// ---------------------------------------------------------------------------

#[test]
fn the_root_says_what_this_api_is() {
    for path in ["/hsds/", "/hsds"] {
        let root = hsds_json(app(), path);
        assert_eq!(root["version"], "3.0");
        assert!(
            root["openapi_url"]
                .as_str()
                .expect("url")
                .ends_with("openapi.json")
        );
        assert!(root["profile"].is_string());
    }
}

#[test]
fn services_near_a_postcode_are_the_api_s_answer_with_the_same_distances() {
    for (postcode, metres) in [
        ("80202", 80_467.2),
        ("10001", 40_000.0),
        ("90012", 400_000.0),
    ] {
        let miles = metres / 1609.344;
        let (location, expected) = api_results(
            app(),
            &format!("near={postcode}&radius={miles}&sort=distance"),
        );
        assert!(!expected.is_empty(), "{postcode}");
        let center = LatLon::new(
            location["lat"].as_f64().expect("lat"),
            location["lon"].as_f64().expect("lon"),
        )
        .expect("centre");
        let query = format!("postcode={postcode}&proximity={metres}");
        let expected_services: Vec<String> = expected
            .iter()
            .map(|r| Record::Service.id(r["id"].as_str().expect("id")))
            .collect();

        let services = all_items(app(), &format!("/hsds/services?{query}"));
        assert_eq!(ids_of(&services, "id"), expected_services, "{query}");

        let at_locations = all_items(app(), &format!("/hsds/service_at_locations?{query}"));
        assert_eq!(
            ids_of(&at_locations, "service_id"),
            expected_services,
            "{query}"
        );
        for (item, result) in at_locations.iter().zip(&expected) {
            let id = result["id"].as_str().expect("id");
            assert_eq!(item["id"], Record::ServiceAtLocation.id(id));
            assert_eq!(item["location_id"], Record::Location.id(id));
            let position = LatLon::new(
                item["location"]["latitude"].as_f64().expect("latitude"),
                item["location"]["longitude"].as_f64().expect("longitude"),
            )
            .expect("position");
            assert_eq!(
                distance_miles(center, position),
                result["distance_miles"].as_f64().expect("distance"),
                "{id}"
            );
        }
    }
}

#[test]
fn records_read_by_id_in_full() {
    let provider = app().get_json("/api/v1/providers/p-000001");
    let service = hsds_json(
        app(),
        &format!("/hsds/services/{}", Record::Service.id("p-000001")),
    );
    assert_eq!(service["name"], provider["name"]);
    assert_eq!(
        service["organization_id"],
        Record::Organization.id("p-000001")
    );
    assert_eq!(service["status"], "active");
    assert_eq!(service["assured_date"], provider["last_verified"]);
    assert_eq!(service["phones"][0]["number"], provider["phone"]);
    let codes: Vec<&Value> = service["attributes"]
        .as_array()
        .expect("attributes")
        .iter()
        .map(|a| &a["taxonomy_term"]["code"])
        .collect();
    let expected: Vec<&Value> = provider["treatments"]
        .as_array()
        .expect("treatments")
        .iter()
        .chain(provider["conditions"].as_array().expect("conditions"))
        .collect();
    assert_eq!(codes, expected);
    let place = &service["service_at_locations"][0]["location"];
    assert_eq!(place["latitude"], provider["latitude"]);
    assert_eq!(place["addresses"][0]["postal_code"], provider["zip"]);
    assert_eq!(place["external_identifier"], "p-000001");

    let organization = hsds_json(
        app(),
        &format!(
            "/hsds/organizations/{}",
            Record::Organization.id("p-000001")
        ),
    );
    assert_eq!(organization["name"], provider["organization"]);
    assert_eq!(
        organization["services"][0]["id"],
        Record::Service.id("p-000001")
    );

    let at_location = hsds_json(
        app(),
        &format!(
            "/hsds/service_at_locations/{}",
            Record::ServiceAtLocation.id("p-000001")
        ),
    );
    assert_eq!(at_location["service"]["id"], Record::Service.id("p-000001"));
    assert_eq!(
        at_location["location"]["id"],
        Record::Location.id("p-000001")
    );

    // Ids of another kind, unknown UUIDs and text that is no UUID: 404.
    for path in [
        format!("/hsds/services/{}", Record::Organization.id("p-000001")),
        format!("/hsds/organizations/{}", Record::Service.id("p-000001")),
        "/hsds/services/6ba7b810-9dad-11d1-80b4-00c04fd430c8".to_string(),
        "/hsds/services/p-000001".to_string(),
    ] {
        let reply = hsds_get(app(), &path);
        assert_eq!(reply.status, 404, "{path}");
        assert_eq!(reply.json()["type"], "/problems/not-found");
    }
}

#[test]
fn taxonomy_terms_filter_as_the_api_filters() {
    let taxonomies = hsds_json(app(), "/hsds/taxonomies");
    assert_eq!(taxonomies["total_items"], 2);
    let terms = hsds_json(app(), "/hsds/taxonomy_terms?per_page=100");
    assert_eq!(
        terms["total_items"].as_u64(),
        Some((Treatment::ALL.len() + Condition::ALL.len()) as u64)
    );
    let conditions = hsds_json(
        app(),
        &format!(
            "/hsds/taxonomy_terms?taxonomy_id={}",
            Taxonomy::Conditions.id()
        ),
    );
    assert_eq!(
        conditions["total_items"].as_u64(),
        Some(Condition::ALL.len() as u64)
    );
    let found = hsds_json(app(), "/hsds/taxonomy_terms?search=spravato");
    assert_eq!(found["contents"][0]["code"], "esketamine_nasal");
    let crps = Term::Condition(Condition::Crps).id();
    let term = hsds_json(app(), &format!("/hsds/taxonomy_terms/{crps}"));
    assert_eq!(term["code"], "crps");
    let taxonomy = hsds_json(
        app(),
        &format!("/hsds/taxonomies/{}", Taxonomy::Treatments.id()),
    );
    assert_eq!(taxonomy["name"], "ketadir treatments");
    let lines = hsds_get(app(), "/hsds/taxonomy_terms?format=ndjson");
    assert_eq!(
        lines.body.lines().count(),
        Treatment::ALL.len() + Condition::ALL.len()
    );

    for (hsds, api) in [
        (
            format!("taxonomy_term_id={crps}"),
            "condition=crps".to_string(),
        ),
        (
            "taxonomy_term_id=iv_infusion&taxonomy_term_id=ptsd,anxiety".to_string(),
            "treatment=iv_infusion&condition=ptsd&condition=anxiety".to_string(),
        ),
        (
            format!("taxonomy_id={}", Taxonomy::Conditions.id()),
            Condition::ALL
                .iter()
                .map(|c| format!("condition={}", c.slug()))
                .collect::<Vec<_>>()
                .join("&"),
        ),
        (
            "search=fibromyalgia".to_string(),
            "q=fibromyalgia".to_string(),
        ),
    ] {
        let page = hsds_json(app(), &format!("/hsds/services?{hsds}&per_page=10"));
        let answer = app().get_json(&format!("/api/v1/search?{api}&per_page=10"));
        assert_eq!(page["total_items"], answer["total"], "{hsds}");
        let expected: Vec<String> = answer["results"]
            .as_array()
            .expect("results")
            .iter()
            .map(|r| Record::Service.id(r["id"].as_str().expect("id")))
            .collect();
        assert_eq!(
            ids_of(page["contents"].as_array().expect("contents"), "id"),
            expected
        );
    }
}

#[test]
fn minimal_and_ndjson_give_the_same_services() {
    let query = "postcode=80202&proximity=160934.4";
    let pages = all_items(app(), &format!("/hsds/services?{query}"));
    let stream = hsds_get(app(), &format!("/hsds/services?{query}&format=ndjson"));
    assert_eq!(stream.status, 200);
    let lines: Vec<Value> = stream
        .body
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(lines, pages);

    let minimal = hsds_json(app(), &format!("/hsds/services?{query}&minimal=true"));
    for item in minimal["contents"].as_array().expect("contents") {
        for member in item.as_object().expect("an object").keys() {
            assert!(
                ["id", "name", "status", "last_modified"].contains(&member.as_str()),
                "{member}"
            );
        }
    }
    // The whole directory, one service a line.
    let everything = hsds_get(app(), "/hsds/services?format=ndjson&minimal=true");
    assert_eq!(everything.body.lines().count(), 2000);
    for list in ["organizations", "service_at_locations"] {
        let stream = hsds_get(app(), &format!("/hsds/{list}?{query}&format=ndjson"));
        assert_eq!(stream.body.lines().count(), pages.len(), "{list}");
    }
}

#[test]
fn modified_after_and_organization_id() {
    let sample = sample_csv();
    let mut reader = csv::Reader::from_reader(sample.as_bytes());
    let column = reader
        .headers()
        .expect("header")
        .iter()
        .position(|h| h == "last_verified")
        .expect("last_verified");
    let since = reader
        .records()
        .map(|r| r.expect("row"))
        .filter(|r| !r[column].is_empty() && &r[column] >= "2026-03-01")
        .count();
    for when in [
        "2026-03-01",
        "2026-02-28T19:00:00-05:00",
        "2026-02-28T12:00:00Z",
    ] {
        let page = hsds_json(
            app(),
            &format!(
                "/hsds/services?modified_after={}&minimal=true",
                when.replace('+', "%2B")
            ),
        );
        assert_eq!(page["total_items"].as_u64(), Some(since as u64), "{when}");
    }
    let page = hsds_json(
        app(),
        &format!(
            "/hsds/services?organization_id={}",
            Record::Organization.id("p-000007")
        ),
    );
    assert_eq!(page["total_items"], 1);
    assert_eq!(page["contents"][0]["id"], Record::Service.id("p-000007"));
    let nobody = hsds_json(
        app(),
        &format!(
            "/hsds/organizations?organization_id={}",
            Record::Service.id("p-000007")
        ),
    );
    assert_eq!(nobody["total_items"], 0);
    assert_eq!(nobody["empty"], true);
}

#[test]
fn pages_carry_the_hsds_envelope() {
    let page = hsds_json(app(), "/hsds/organizations?per_page=7&page=3");
    assert_eq!(page["total_items"], 2000);
    assert_eq!(page["total_pages"], 286);
    assert_eq!(page["page_number"], 3);
    assert_eq!(page["size"], 7);
    assert_eq!(page["first_page"], false);
    assert_eq!(page["last_page"], false);
    assert_eq!(page["empty"], false);
    let last = hsds_json(app(), "/hsds/organizations?per_page=7&page=286");
    assert_eq!(last["size"], 2000 - 7 * 285);
    assert_eq!(last["last_page"], true);
    let past = hsds_json(app(), "/hsds/organizations?per_page=7&page=300");
    assert_eq!(past["empty"], true);
    assert_eq!(past["size"], 0);
}

#[test]
fn errors_are_problems_naming_the_hsds_parameter() {
    for (path, names) in [
        ("/hsds/services?proximity=5000", vec!["proximity"]),
        ("/hsds/services?postcode=Denver", vec!["postcode"]),
        ("/hsds/services?postcode=00000", vec!["postcode"]),
        (
            "/hsds/services?postcode=80202&proximity=1",
            vec!["proximity"],
        ),
        (
            "/hsds/services?taxonomy_term_id=flu&per_page=0",
            vec!["per_page", "taxonomy_term_id"],
        ),
        (
            "/hsds/service_at_locations?modified_after=soon",
            vec!["modified_after"],
        ),
        ("/hsds/organizations?format=xml", vec!["format"]),
        ("/hsds/taxonomy_terms?page=0", vec!["page"]),
    ] {
        let reply = hsds_get(app(), path);
        assert_eq!(reply.status, 400, "{path}: {}", reply.body);
        let mut got: Vec<String> = reply.json()["invalid_params"]
            .as_array()
            .expect("invalid_params")
            .iter()
            .map(|p| p["name"].as_str().expect("name").to_string())
            .collect();
        got.sort();
        assert_eq!(got, names, "{path}");
    }
    assert_eq!(hsds_get(app(), "/hsds/locations").status, 404);
    assert_eq!(hsds_get(app(), "/hsds/taxonomies/nothing").status, 404);
    let post = hsds_request(app(), "POST", "/hsds/services", &[]);
    assert_eq!(post.status, 405);
    assert_eq!(post.header("allow"), Some("GET"));
}

#[test]
fn caching_cors_and_the_rate_limit_apply_as_for_the_api() {
    for path in [
        "/hsds/services?postcode=80202&proximity=40000",
        &format!("/hsds/services/{}", Record::Service.id("p-000001")),
        "/hsds/taxonomy_terms",
    ] {
        let first = hsds_request(
            app(),
            "GET",
            path,
            &[("Origin", "https://partner.example.org")],
        );
        assert_eq!(first.status, 200, "{path}");
        assert_eq!(first.header("access-control-allow-origin"), Some("*"));
        assert_eq!(first.header("x-content-type-options"), Some("nosniff"));
        let tag = first.header("etag").expect("an ETag").to_string();
        let again = hsds_request(app(), "GET", path, &[("If-None-Match", &tag)]);
        assert_eq!(again.status, 304, "{path}");
    }
    let limited = spawn_app_with(&denver_csv("h", 3), limited_to(2));
    let statuses: Vec<u16> = (0..3)
        .map(|_| hsds_get(&limited, "/hsds/services").status)
        .collect();
    assert_eq!(statuses, [200, 200, 429]);
    let over = hsds_get(&limited, "/hsds/services");
    assert_eq!(over.json()["type"], "/problems/rate-limited");
}
