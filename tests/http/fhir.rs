//! The FHIR facade (`/fhir`, docs/fhir.md) against the real server: reads,
//! searches, paging, the CapabilityStatement, errors, caching, CORS and
//! limits, and agreement with `/api/v1/search` on the same query.
//!
//! Every FHIR answer these tests receive is parsed by the `fhir.resources`
//! package (its R4B models) through `tests/fhir/validate.py`, run by the
//! Python named in `KETADIR_PYTHON` (`.ci/run` makes a virtual environment
//! with `.ci/requirements.txt`). Without `KETADIR_PYTHON` the validation is
//! skipped with a loud message, unless `CI` is set, where that is a failure.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{Mutex, OnceLock, PoisonError};

use ketadir::facades::fhir::{
    CONDITION_SYSTEM, LOCATION_DISTANCE, NPI_SYSTEM, TREATMENT_SYSTEM, fhir_id,
};
use serde_json::Value;

use super::helpers::{
    Reply, TestApp, denver_csv, limited_to, sample_csv, spawn_app, spawn_app_with,
};

/// Plan-Net's provider roles, the system of `PractitionerRole.code`.
const PROVIDER_ROLE_SYSTEM: &str =
    "http://hl7.org/fhir/us/davinci-pdex-plan-net/CodeSystem/ProviderRoleCS";

fn app() -> &'static TestApp {
    static APP: OnceLock<TestApp> = OnceLock::new();
    APP.get_or_init(|| spawn_app(&sample_csv()))
}

// ---------------------------------------------------------------------------
// The validator: one `validate.py --serve` per test process.

struct Validator {
    _child: Child,
    input: ChildStdin,
    output: BufReader<ChildStdout>,
}

/// Written straight to stderr, so it shows even for a passing test.
fn announce(message: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "{message}");
    let _ = stderr.flush();
}

fn in_ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false")
}

/// The running validator, or `None` when FHIR validation is skipped here.
fn validator() -> Option<&'static Mutex<Validator>> {
    static VALIDATOR: OnceLock<Option<Mutex<Validator>>> = OnceLock::new();
    VALIDATOR
        .get_or_init(|| {
            let python = std::env::var("KETADIR_PYTHON")
                .ok()
                .filter(|p| !p.is_empty());
            let Some(python) = python else {
                assert!(
                    !in_ci(),
                    "CI is set but KETADIR_PYTHON is not: the FHIR answers must be parsed by \
                     fhir.resources. .ci/run sets it to a virtual environment with \
                     .ci/requirements.txt installed"
                );
                announce(
                    "\n************************************************************\n\
                     SKIPPED FHIR validation: KETADIR_PYTHON is not set, so no answer of\n\
                     the FHIR tests is parsed by fhir.resources. To run it:\n\
                     python3 -m venv /tmp/fhir-venv && \\\n\
                     /tmp/fhir-venv/bin/pip install -r .ci/requirements.txt && \\\n\
                     KETADIR_PYTHON=/tmp/fhir-venv/bin/python cargo test --test http fhir\n\
                     (in CI, where CI is set, this is a failure)\n\
                     ************************************************************\n",
                );
                return None;
            };
            let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fhir/validate.py");
            let mut child = Command::new(&python)
                .arg(script)
                .arg("--serve")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()
                .unwrap_or_else(|e| panic!("KETADIR_PYTHON={python} does not start: {e}"));
            let input = child.stdin.take().expect("validator stdin");
            let output = BufReader::new(child.stdout.take().expect("validator stdout"));
            Some(Mutex::new(Validator {
                _child: child,
                input,
                output,
            }))
        })
        .as_ref()
}

/// Parses one FHIR document with fhir.resources; panics with its reason.
fn validate(body: &str, what: &str) {
    let Some(validator) = validator() else {
        return;
    };
    // One document per line: the body again, compact.
    let value: Value =
        serde_json::from_str(body).unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {body}"));
    let mut validator = validator.lock().unwrap_or_else(PoisonError::into_inner);
    let line = format!("{value}\n");
    validator
        .input
        .write_all(line.as_bytes())
        .and_then(|()| validator.input.flush())
        .unwrap_or_else(|e| panic!("the FHIR validator stopped ({e}); see its output above"));
    let mut verdict = String::new();
    validator
        .output
        .read_line(&mut verdict)
        .unwrap_or_else(|e| panic!("no verdict from the FHIR validator: {e}"));
    assert_eq!(
        verdict.trim_end(),
        "ok",
        "fhir.resources rejects the answer to {what}: {body}"
    );
}

/// Checks an answer of the FHIR facade: its media type, and its body by
/// fhir.resources (a 304 has none).
fn checked(reply: Reply, what: &str) -> Reply {
    if reply.status == 304 {
        assert!(reply.body.is_empty(), "{what}: a 304 with a body");
        return reply;
    }
    assert!(
        reply.content_type.starts_with("application/fhir+json"),
        "{what}: {} is not application/fhir+json ({})",
        reply.content_type,
        reply.body
    );
    validate(&reply.body, what);
    reply
}

fn fhir_request(app: &TestApp, method: &str, path: &str, headers: &[(&str, &str)]) -> Reply {
    checked(
        app.request(method, path, headers),
        &format!("{method} {path}"),
    )
}

fn fhir_get(app: &TestApp, path: &str) -> Reply {
    fhir_request(app, "GET", path, &[])
}

/// A FHIR GET that must answer 200.
fn fhir_json(app: &TestApp, path: &str) -> Value {
    let reply = fhir_get(app, path);
    assert_eq!(reply.status, 200, "{path}: {}", reply.body);
    reply.json()
}

/// Every entry of a search, following `next` links from `path`.
fn all_entries(app: &TestApp, path: &str) -> (u64, Vec<Value>) {
    let mut entries = Vec::new();
    let mut next = Some(path.to_string());
    let mut total = None;
    let mut pages = 0;
    while let Some(path) = next.take() {
        pages += 1;
        assert!(pages <= 100, "{path}: too many pages");
        let bundle = fhir_json(app, &path);
        assert_eq!(bundle["resourceType"], "Bundle");
        assert_eq!(bundle["type"], "searchset");
        let this_total = bundle["total"].as_u64().expect("total");
        assert_eq!(*total.get_or_insert(this_total), this_total, "{path}");
        entries.extend(bundle["entry"].as_array().cloned().unwrap_or_default());
        next = link(&bundle, "next").map(|url| local(app, &url));
    }
    (total.unwrap_or(0), entries)
}

fn link(bundle: &Value, relation: &str) -> Option<String> {
    bundle["link"]
        .as_array()?
        .iter()
        .find(|l| l["relation"] == relation)
        .and_then(|l| l["url"].as_str())
        .map(str::to_string)
}

/// An absolute URL of this server as a path and query.
fn local(app: &TestApp, url: &str) -> String {
    url.strip_prefix(&app.address)
        .unwrap_or_else(|| panic!("{url} is not on {}", app.address))
        .to_string()
}

/// Every result of an API search, following its pages.
fn api_results(app: &TestApp, query: &str) -> Vec<Value> {
    let mut results = Vec::new();
    for page in 1.. {
        let answer = app.get_json(&format!("/api/v1/search?{query}&per_page=100&page={page}"));
        let batch = answer["results"].as_array().cloned().unwrap_or_default();
        results.extend(batch);
        if results.len() as u64 >= answer["total"].as_u64().expect("total") {
            break;
        }
    }
    results
}

fn resource_ids(entries: &[Value], mode: &str) -> Vec<String> {
    entries
        .iter()
        .filter(|e| e["search"]["mode"] == mode)
        .map(|e| e["resource"]["id"].as_str().expect("id").to_string())
        .collect()
}

/// The value of a resource's NPI identifier.
fn npi(resource: &Value) -> Option<&Value> {
    resource["identifier"]
        .as_array()?
        .iter()
        .find(|i| i["system"] == NPI_SYSTEM)
        .map(|i| &i["value"])
}

/// The included resources of a Bundle's entries, as sorted `Type/id`s.
fn included(entries: &[Value]) -> Vec<String> {
    let mut included: Vec<String> = entries
        .iter()
        .filter(|e| e["search"]["mode"] == "include")
        .map(|e| {
            format!(
                "{}/{}",
                e["resource"]["resourceType"].as_str().expect("type"),
                e["resource"]["id"].as_str().expect("id")
            )
        })
        .collect();
    included.sort();
    included
}

// ---------------------------------------------------------------------------

#[test]
fn metadata_lists_every_resource_interaction_and_search_parameter() {
    let statement = fhir_json(app(), "/fhir/metadata");
    assert_eq!(statement["resourceType"], "CapabilityStatement");
    assert_eq!(statement["fhirVersion"], "4.0.1");
    assert_eq!(statement["kind"], "instance");
    let resources = statement["rest"][0]["resource"]
        .as_array()
        .expect("resources");
    let types: Vec<&str> = resources
        .iter()
        .map(|r| r["type"].as_str().expect("type"))
        .collect();
    assert_eq!(
        types,
        [
            "Practitioner",
            "Organization",
            "Location",
            "PractitionerRole",
            "HealthcareService"
        ]
    );
    for resource in resources {
        let kind = resource["type"].as_str().expect("type");
        let interactions: Vec<&str> = resource["interaction"]
            .as_array()
            .expect("interactions")
            .iter()
            .map(|i| i["code"].as_str().expect("code"))
            .collect();
        assert_eq!(interactions, ["read", "search-type"], "{kind}");
        assert_eq!(
            resource["supportedProfile"][0],
            format!(
                "http://hl7.org/fhir/us/davinci-pdex-plan-net/StructureDefinition/plannet-{kind}"
            )
        );
        let params: Vec<&str> = resource["searchParam"]
            .as_array()
            .expect("params")
            .iter()
            .map(|p| p["name"].as_str().expect("name"))
            .collect();
        let expected: &[&str] = match kind {
            "Location" => &[
                "_id",
                "_lastUpdated",
                "near",
                "address-state",
                "address-postalcode",
            ],
            "PractitionerRole" => &[
                "_id",
                "_lastUpdated",
                "practitioner",
                "organization",
                "location",
                "service",
                "specialty",
            ],
            _ => &["_id", "_lastUpdated"],
        };
        assert_eq!(params, expected, "{kind}");
        // Every parameter it lists is answered (not refused as unknown).
        for name in params {
            let reply = fhir_request(
                app(),
                "GET",
                &format!("/fhir/{kind}?{name}=x"),
                &[("Prefer", "handling=strict")],
            );
            assert!(
                !reply.body.contains("does not search by"),
                "{kind}?{name}: {}",
                reply.body
            );
        }
    }
    assert_eq!(
        resources[3]["searchInclude"],
        serde_json::json!([
            "PractitionerRole:practitioner",
            "PractitionerRole:organization",
            "PractitionerRole:location",
            "PractitionerRole:service"
        ])
    );
}

#[test]
fn each_resource_of_a_row_reads_by_id_and_maps_the_provider() {
    let provider = app().get_json("/api/v1/providers/p-000001");
    let read = |kind: &str| fhir_json(app(), &format!("/fhir/{kind}/p-000001"));

    let practitioner = read("Practitioner");
    assert_eq!(practitioner["id"], "p-000001");
    assert_eq!(
        practitioner["meta"]["profile"][0],
        "http://hl7.org/fhir/us/davinci-pdex-plan-net/StructureDefinition/plannet-Practitioner"
    );
    assert_eq!(
        practitioner["meta"]["lastUpdated"],
        format!(
            "{}T00:00:00Z",
            provider["last_verified"].as_str().expect("date")
        )
    );
    assert_eq!(npi(&practitioner), Some(&provider["npi"]));
    assert_eq!(practitioner["name"][0]["text"], provider["name"]);
    let credentials: Vec<&Value> = practitioner["qualification"]
        .as_array()
        .expect("qualifications")
        .iter()
        .map(|q| &q["code"]["text"])
        .collect();
    assert_eq!(
        credentials,
        provider["credentials"]
            .as_array()
            .expect("credentials")
            .iter()
            .collect::<Vec<_>>()
    );

    let organization = read("Organization");
    assert_eq!(organization["name"], provider["organization"]);
    assert_eq!(organization["active"], true);
    // A person's NPI and name stay on their Practitioner.
    assert_eq!(organization["identifier"].as_array().map(Vec::len), Some(1));
    assert!(organization.get("alias").is_none());

    let location = read("Location");
    assert_eq!(location["position"]["latitude"], provider["latitude"]);
    assert_eq!(location["position"]["longitude"], provider["longitude"]);
    assert_eq!(location["address"]["postalCode"], provider["zip"]);
    assert_eq!(location["address"]["state"], provider["state"]);
    assert_eq!(
        location["managingOrganization"]["reference"],
        "Organization/p-000001"
    );
    assert!(
        location["telecom"]
            .as_array()
            .expect("telecom")
            .iter()
            .any(|t| t["system"] == "phone" && t["value"] == provider["phone"])
    );

    let role = read("PractitionerRole");
    assert_eq!(role["practitioner"]["reference"], "Practitioner/p-000001");
    // The provider type is the role's code: Plan-Net's provider role that
    // holds it, and the directory's label as text.
    assert_eq!(
        provider["provider_type"],
        serde_json::json!(["nurse_anesthetist"])
    );
    assert_eq!(
        role["code"],
        serde_json::json!([{
            "coding": [{
                "system": PROVIDER_ROLE_SYSTEM,
                "code": "apn",
                "display": "Advanced Practice Nursing Providers"
            }],
            "text": "Nurse anesthetist (CRNA)"
        }])
    );
    assert_eq!(role["organization"]["reference"], "Organization/p-000001");
    assert_eq!(role["location"][0]["reference"], "Location/p-000001");
    assert_eq!(
        role["healthcareService"][0]["reference"],
        "HealthcareService/p-000001"
    );
    let specialties: Vec<(String, String)> = role["specialty"]
        .as_array()
        .expect("specialties")
        .iter()
        .map(|s| {
            (
                s["coding"][0]["system"]
                    .as_str()
                    .expect("system")
                    .to_string(),
                s["coding"][0]["code"].as_str().expect("code").to_string(),
            )
        })
        .collect();
    let expected: Vec<(String, String)> = provider["treatments"]
        .as_array()
        .expect("treatments")
        .iter()
        .map(|t| {
            (
                TREATMENT_SYSTEM.to_string(),
                t.as_str().expect("slug").to_string(),
            )
        })
        .chain(
            provider["conditions"]
                .as_array()
                .expect("conditions")
                .iter()
                .map(|c| {
                    (
                        CONDITION_SYSTEM.to_string(),
                        c.as_str().expect("slug").to_string(),
                    )
                }),
        )
        .collect();
    assert_eq!(specialties, expected);
    let accepting = if provider["accepting_new_patients"] == true {
        "newpt"
    } else {
        "nopt"
    };
    let new_patients = &role["extension"][0];
    assert_eq!(
        new_patients["url"],
        "http://hl7.org/fhir/us/davinci-pdex-plan-net/StructureDefinition/newpatients"
    );
    assert_eq!(
        new_patients["extension"][0]["valueCodeableConcept"]["coding"][0]["code"],
        accepting
    );

    let service = read("HealthcareService");
    assert_eq!(service["providedBy"]["reference"], "Organization/p-000001");
    let types: Vec<&Value> = service["type"]
        .as_array()
        .expect("types")
        .iter()
        .map(|t| &t["coding"][0]["code"])
        .collect();
    assert_eq!(
        types,
        provider["treatments"]
            .as_array()
            .expect("treatments")
            .iter()
            .collect::<Vec<_>>()
    );
    let methods: Vec<&Value> = service["extension"]
        .as_array()
        .expect("extensions")
        .iter()
        .filter(|e| {
            e["url"] == "http://hl7.org/fhir/us/davinci-pdex-plan-net/StructureDefinition/delivery-method"
        })
        .map(|e| &e["extension"][0]["valueCodeableConcept"]["coding"][0]["code"])
        .collect();
    let expected_methods = if provider["telehealth"] == true {
        vec!["physical", "virtual"]
    } else {
        vec!["physical"]
    };
    assert_eq!(methods, expected_methods);

    // Each row has an Organization of its own, even where two rows name
    // the same practice.
    let other = fhir_json(app(), "/fhir/Organization/p-000002");
    assert_eq!(other["id"], "p-000002");
}

#[test]
fn location_near_returns_what_the_api_returns_nearest_first_with_distances() {
    for (lat, lon, distance, unit) in [
        (39.74, -104.99, 50.0, "mi"),
        (40.71, -74.0, 100.0, "km"),
        (34.05, -118.24, 250.0, "mi"),
    ] {
        let miles = if unit == "mi" {
            distance
        } else {
            distance / 1.609_344
        };
        let expected = api_results(
            app(),
            &format!("lat={lat}&lon={lon}&radius={miles}&sort=distance"),
        );
        let (total, entries) = all_entries(
            app(),
            &format!("/fhir/Location?near={lat}|{lon}|{distance}|{unit}&_count=100"),
        );
        assert_eq!(
            total,
            expected.len() as u64,
            "{lat},{lon} {distance} {unit}"
        );
        assert!(!expected.is_empty());
        let ids = resource_ids(&entries, "match");
        let expected_ids: Vec<&str> = expected
            .iter()
            .map(|r| r["id"].as_str().expect("id"))
            .collect();
        assert_eq!(ids, expected_ids, "{lat},{lon} {distance} {unit}");
        for (entry, result) in entries.iter().zip(&expected) {
            let extension = &entry["search"]["extension"][0];
            assert_eq!(extension["url"], LOCATION_DISTANCE);
            let value = &extension["valueDistance"];
            assert_eq!(value["system"], "http://unitsofmeasure.org");
            let api_miles = result["distance_miles"].as_f64().expect("distance");
            let got = value["value"].as_f64().expect("value");
            if unit == "mi" {
                assert_eq!(value["code"], "[mi_i]");
                assert_eq!(got, api_miles, "{}", result["id"]);
            } else {
                assert_eq!(value["code"], "km");
                assert!(
                    (got - api_miles * 1.609_344).abs() <= 1e-9 * got.max(1.0),
                    "{}: {got} km vs {api_miles} mi",
                    result["id"]
                );
            }
            assert!(
                entry["fullUrl"]
                    .as_str()
                    .expect("fullUrl")
                    .ends_with(&format!(
                        "/fhir/Location/{}",
                        result["id"].as_str().expect("id")
                    ))
            );
        }
    }
    // Without a unit the distance is in kilometres.
    let bundle = fhir_json(app(), "/fhir/Location?near=39.74|-104.99|80");
    assert_eq!(
        bundle["entry"][0]["search"]["extension"][0]["valueDistance"]["code"],
        "km"
    );
}

#[test]
fn pages_walk_every_match_once_with_next_and_previous_links() {
    let (total, entries) = all_entries(app(), "/fhir/Location?address-state=CO&_count=7");
    let ids = resource_ids(&entries, "match");
    assert_eq!(ids.len() as u64, total);
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "no id twice");
    let api_total = app().get_json("/api/v1/search?state=CO")["total"].clone();
    assert_eq!(total, api_total.as_u64().expect("total"));

    let second = fhir_json(app(), "/fhir/Location?address-state=CO&_count=7&_page=2");
    let previous = link(&second, "previous").expect("a previous link");
    let first = fhir_json(app(), &local(app(), &previous));
    assert_eq!(
        link(&first, "self"),
        Some(format!(
            "{}/fhir/Location?address-state=CO&_count=7",
            app().address
        ))
    );
    assert!(link(&first, "previous").is_none());

    // `_count=0`: the total, no entries.
    let count_only = fhir_json(app(), "/fhir/Organization?_count=0");
    assert_eq!(count_only["total"], 2000);
    assert!(count_only.get("entry").is_none());
    assert!(link(&count_only, "next").is_none());
}

#[test]
fn practitioner_roles_by_location_and_specialty_with_includes() {
    let bundle = fhir_json(
        app(),
        "/fhir/PractitionerRole?location=Location/p-000001,p-000003\
         &_include=PractitionerRole:practitioner&_include=PractitionerRole:location\
         &_include=PractitionerRole:organization&_include=PractitionerRole:service",
    );
    assert_eq!(bundle["total"], 2);
    let entries = bundle["entry"].as_array().expect("entries");
    let mut matches = resource_ids(entries, "match");
    matches.sort();
    assert_eq!(matches, ["p-000001", "p-000003"]);
    let mut expected: Vec<String> = [
        "HealthcareService",
        "Location",
        "Organization",
        "Practitioner",
    ]
    .iter()
    .flat_map(|kind| ["p-000001", "p-000003"].map(|id| format!("{kind}/{id}")))
    .collect();
    expected.sort();
    assert_eq!(included(entries), expected);

    // specialty = the API's treatment and condition filters.
    for (fhir, api) in [
        ("specialty=crps", "condition=crps"),
        (
            &format!("specialty={TREATMENT_SYSTEM}|esketamine_nasal,im_injection")[..],
            "treatment=esketamine_nasal&treatment=im_injection",
        ),
        (
            "specialty=iv_infusion&specialty=depression,ptsd",
            "treatment=iv_infusion&condition=depression&condition=ptsd",
        ),
    ] {
        let bundle = fhir_json(app(), &format!("/fhir/PractitionerRole?{fhir}&_count=5"));
        let api_answer = app().get_json(&format!("/api/v1/search?{api}&per_page=5"));
        assert_eq!(bundle["total"], api_answer["total"], "{fhir}");
        let ids = resource_ids(bundle["entry"].as_array().expect("entries"), "match");
        let api_ids: Vec<&str> = api_answer["results"]
            .as_array()
            .expect("results")
            .iter()
            .map(|r| r["id"].as_str().expect("id"))
            .collect();
        assert_eq!(ids, api_ids, "{fhir}");
    }
    let both = fhir_get(app(), "/fhir/PractitionerRole?specialty=iv_infusion,crps");
    assert_eq!(both.status, 400, "{}", both.body);
}

#[test]
fn address_and_last_updated_filters() {
    let sample = sample_csv();
    let mut reader = csv::Reader::from_reader(sample.as_bytes());
    let headers = reader.headers().expect("header").clone();
    let column = |name: &str| headers.iter().position(|h| h == name).expect(name);
    let (zip, verified) = (column("zip"), column("last_verified"));
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    let count = |keep: &dyn Fn(&csv::StringRecord) -> bool| rows.iter().filter(|r| keep(r)).count();

    let bundle = fhir_json(app(), "/fhir/Location?address-postalcode=802&_count=100");
    assert_eq!(
        bundle["total"].as_u64(),
        Some(count(&|r| r[zip].starts_with("802")) as u64)
    );
    for entry in bundle["entry"].as_array().expect("entries") {
        assert!(
            entry["resource"]["address"]["postalCode"]
                .as_str()
                .expect("zip")
                .starts_with("802")
        );
    }
    for (query, keep) in [
        (
            "_lastUpdated=ge2026-01-01",
            &(|r: &csv::StringRecord| !r[verified].is_empty() && &r[verified] >= "2026-01-01")
                as &dyn Fn(&csv::StringRecord) -> bool,
        ),
        ("_lastUpdated=lt2025-06-15", &|r: &csv::StringRecord| {
            !r[verified].is_empty() && &r[verified] < "2025-06-15"
        }),
        (
            "_lastUpdated=ge2025-01&_lastUpdated=le2025-03",
            &|r: &csv::StringRecord| {
                !r[verified].is_empty()
                    && &r[verified] >= "2025-01-01"
                    && &r[verified] <= "2025-03-31"
            },
        ),
        ("_lastUpdated=2025-03-10", &|r: &csv::StringRecord| {
            &r[verified] == "2025-03-10"
        }),
    ] {
        let bundle = fhir_json(app(), &format!("/fhir/Organization?{query}&_count=1"));
        assert_eq!(
            bundle["total"].as_u64(),
            Some(count(keep) as u64),
            "{query}"
        );
    }
    let some = fhir_json(
        app(),
        "/fhir/Organization?_lastUpdated=ge2026-01-01&_count=20",
    );
    for entry in some["entry"].as_array().expect("entries") {
        assert!(
            entry["resource"]["meta"]["lastUpdated"]
                .as_str()
                .expect("lastUpdated")
                >= "2026-01-01"
        );
    }
    // _id: any of a list.
    let listed = fhir_json(
        app(),
        "/fhir/HealthcareService?_id=p-000002,p-000005,nobody",
    );
    let mut ids = resource_ids(listed["entry"].as_array().expect("entries"), "match");
    ids.sort();
    assert_eq!(ids, ["p-000002", "p-000005"]);
}

/// The sample's rows, with a lookup of their columns by name.
fn sample_rows() -> (
    Vec<csv::StringRecord>,
    impl Fn(&csv::StringRecord, &str) -> String,
) {
    let sample = sample_csv();
    let mut reader = csv::Reader::from_reader(sample.as_bytes());
    let headers = reader.headers().expect("header").clone();
    let rows = reader.records().map(|r| r.expect("row")).collect();
    let cell = move |row: &csv::StringRecord, name: &str| {
        let column = headers.iter().position(|h| h == name).expect(name);
        row[column].to_string()
    };
    (rows, cell)
}

/// A `provider_type` cell that lists `clinic`.
fn lists_clinic(types: &str) -> bool {
    types
        .split(';')
        .any(|t| t.trim().eq_ignore_ascii_case("clinic"))
}

#[test]
fn a_clinic_has_every_resource_but_a_practitioner() {
    let (rows, cell) = sample_rows();
    let clinics: Vec<&csv::StringRecord> = rows
        .iter()
        .filter(|r| lists_clinic(&cell(r, "provider_type")))
        .collect();
    assert!(!clinics.is_empty() && clinics.len() < rows.len());
    // A clinic with an NPI and a practice's name of its own, to see both
    // move to its Organization.
    let clinic = clinics
        .iter()
        .find(|r| !cell(r, "npi").is_empty() && !cell(r, "organization").is_empty())
        .expect("a clinic with an NPI and an organization");
    let id = cell(clinic, "id");
    let person = rows
        .iter()
        .find(|r| !lists_clinic(&cell(r, "provider_type")))
        .map(|r| cell(r, "id"))
        .expect("a person's row");

    // No Practitioner: a read is a 404 like any unknown id...
    let read = fhir_get(app(), &format!("/fhir/Practitioner/{id}"));
    assert_eq!(read.status, 404, "{}", read.body);
    let outcome = read.json();
    assert_eq!(outcome["resourceType"], "OperationOutcome");
    assert_eq!(outcome["issue"][0]["code"], "not-found");
    // ... and every other resource of the row is there; their searches
    // count every row.
    for kind in [
        "Organization",
        "Location",
        "HealthcareService",
        "PractitionerRole",
    ] {
        let resource = fhir_json(app(), &format!("/fhir/{kind}/{id}"));
        assert_eq!(resource["id"], id.as_str(), "{kind}");
        let count = fhir_json(app(), &format!("/fhir/{kind}?_count=0"));
        assert_eq!(count["total"], rows.len() as u64, "{kind}");
    }

    // Its role names the Organization, Location and service only, and its
    // code is the clinic, which no provider role names: text only.
    let role = fhir_json(app(), &format!("/fhir/PractitionerRole/{id}"));
    assert!(role.get("practitioner").is_none(), "{role}");
    assert_eq!(
        role["organization"]["reference"],
        format!("Organization/{id}")
    );
    assert_eq!(role["location"][0]["reference"], format!("Location/{id}"));
    assert_eq!(
        role["healthcareService"][0]["reference"],
        format!("HealthcareService/{id}")
    );
    assert_eq!(role["code"], serde_json::json!([{ "text": "Clinic" }]));

    // Its Organization carries what no Practitioner does: the NPI, and
    // the clinic's name beside the practice's.
    let organization = fhir_json(app(), &format!("/fhir/Organization/{id}"));
    assert_eq!(organization["name"], cell(clinic, "organization"));
    assert_eq!(
        organization["alias"],
        serde_json::json!([cell(clinic, "name")])
    );
    assert_eq!(npi(&organization), Some(&Value::from(cell(clinic, "npi"))));

    // Searches for Practitioners neither list nor count clinics.
    let people = (rows.len() - clinics.len()) as u64;
    let count = fhir_json(app(), "/fhir/Practitioner?_count=0");
    assert_eq!(count["total"], people);
    let (total, entries) = all_entries(app(), "/fhir/Practitioner?_count=100");
    assert_eq!(total, people);
    let listed = resource_ids(&entries, "match");
    assert_eq!(listed.len() as u64, people);
    let clinic_ids: Vec<String> = clinics.iter().map(|r| cell(r, "id")).collect();
    assert!(!listed.iter().any(|id| clinic_ids.contains(id)));
    let by_id = fhir_json(app(), &format!("/fhir/Practitioner?_id={id},{person}"));
    assert_eq!(by_id["total"], 1);
    assert_eq!(
        resource_ids(by_id["entry"].as_array().expect("entries"), "match"),
        [person.as_str()]
    );

    // A role search finds the clinic's role, but `practitioner` never
    // does, and `_include` adds no Practitioner for it.
    let roles = fhir_json(
        app(),
        &format!(
            "/fhir/PractitionerRole?_id={id},{person}\
             &_include=PractitionerRole:practitioner&_include=PractitionerRole:organization"
        ),
    );
    assert_eq!(roles["total"], 2);
    let mut expected = vec![
        format!("Organization/{id}"),
        format!("Organization/{person}"),
        format!("Practitioner/{person}"),
    ];
    expected.sort();
    assert_eq!(
        included(roles["entry"].as_array().expect("entries")),
        expected
    );
    let by_practitioner = fhir_json(
        app(),
        &format!("/fhir/PractitionerRole?practitioner=Practitioner/{id},{person}"),
    );
    assert_eq!(by_practitioner["total"], 1);
    assert_eq!(
        by_practitioner["entry"][0]["resource"]["id"],
        person.as_str()
    );
    let by_organization = fhir_json(
        app(),
        &format!("/fhir/PractitionerRole?organization=Organization/{id}"),
    );
    assert_eq!(by_organization["total"], 1);
}

#[test]
fn provider_types_are_role_codes_and_any_clinic_type_drops_the_practitioner() {
    let csv = "id,name,organization,npi,city,state,zip,latitude,longitude,provider_type\n\
        c-1,Sample Clinic,,1120116672,Denver,CO,80202,39.74,-104.99,clinic\n\
        c-2,Sample Group Clinic,Sample Group,,Denver,CO,80202,39.75,-104.99,physician;clinic\n\
        c-3,Dr. Pat Example,Sample Group,1120116672,Denver,CO,80202,39.76,-104.99,physician;therapist\n\
        c-4,Sam Example,,,Denver,CO,80202,39.77,-104.99,\n";
    let app = spawn_app(csv);
    let count = fhir_json(&app, "/fhir/Practitioner?_count=0");
    assert_eq!(count["total"], 2, "c-3 and c-4");
    for (id, status) in [("c-1", 404), ("c-2", 404), ("c-3", 200), ("c-4", 200)] {
        let reply = fhir_get(&app, &format!("/fhir/Practitioner/{id}"));
        assert_eq!(reply.status, status, "{id}: {}", reply.body);
    }
    let role = |id: &str| fhir_json(&app, &format!("/fhir/PractitionerRole/{id}"));
    let codes = |role: &Value| -> Vec<(Value, Value)> {
        role["code"]
            .as_array()
            .map(|codes| {
                codes
                    .iter()
                    .map(|c| (c["coding"][0]["code"].clone(), c["text"].clone()))
                    .collect()
            })
            .unwrap_or_default()
    };
    let c2 = role("c-2");
    assert!(c2.get("practitioner").is_none());
    assert_eq!(
        codes(&c2),
        [
            (Value::from("ph"), Value::from("Physician (MD/DO)")),
            (Value::Null, Value::from("Clinic")),
        ]
    );
    let c3 = role("c-3");
    assert_eq!(c3["practitioner"]["reference"], "Practitioner/c-3");
    assert_eq!(
        codes(&c3),
        [
            (Value::from("ph"), Value::from("Physician (MD/DO)")),
            (
                Value::from("bh"),
                Value::from("Therapist (LCSW, LPC, LMFT)")
            ),
        ]
    );
    assert_eq!(c3["code"][0]["coding"][0]["system"], PROVIDER_ROLE_SYSTEM);
    // A row without types is a person's, with no role code.
    let c4 = role("c-4");
    assert_eq!(c4["practitioner"]["reference"], "Practitioner/c-4");
    assert!(c4.get("code").is_none());
    // A clinic named after no practice has no alias; a person's NPI stays
    // on their Practitioner.
    let c1 = fhir_json(&app, "/fhir/Organization/c-1");
    assert_eq!(c1["name"], "Sample Clinic");
    assert!(c1.get("alias").is_none());
    assert_eq!(npi(&c1), Some(&Value::from("1120116672")));
    let c3 = fhir_json(&app, "/fhir/Organization/c-3");
    assert_eq!(npi(&c3), None);
    let c3 = fhir_json(&app, "/fhir/Practitioner/c-3");
    assert_eq!(npi(&c3), Some(&Value::from("1120116672")));
}

#[test]
fn errors_are_operation_outcomes_with_their_status() {
    let cases: [(&str, &str, u16, &str); 9] = [
        ("GET", "/fhir/Location?near=91|0", 400, "invalid"),
        ("GET", "/fhir/Location?near=1|2|3|4|5", 400, "invalid"),
        ("GET", "/fhir/Location?_count=1000", 400, "invalid"),
        (
            "GET",
            "/fhir/PractitionerRole?_include=PractitionerRole:network",
            400,
            "invalid",
        ),
        ("GET", "/fhir/Patient", 404, "not-found"),
        ("GET", "/fhir/Location/nobody-here", 404, "not-found"),
        ("GET", "/fhir/Location/p_1", 404, "not-found"),
        ("POST", "/fhir/Location", 405, "not-supported"),
        ("DELETE", "/fhir/Location/p-000001", 405, "not-supported"),
    ];
    for (method, path, status, code) in cases {
        let reply = fhir_request(app(), method, path, &[]);
        assert_eq!(reply.status, status, "{method} {path}: {}", reply.body);
        let outcome = reply.json();
        assert_eq!(outcome["resourceType"], "OperationOutcome", "{path}");
        assert_eq!(outcome["issue"][0]["code"], code, "{path}");
        assert_eq!(outcome["issue"][0]["severity"], "error");
        if status == 405 {
            assert_eq!(reply.header("allow"), Some("GET"));
        }
    }
    let unknown_path = fhir_get(app(), "/fhir/Location/p-000001/_history/1");
    assert_eq!(unknown_path.status, 404);
    // Every bad parameter is an issue of its own.
    let many = fhir_get(app(), "/fhir/Location?near=91|0&_count=-1&address-state=XX");
    assert_eq!(many.status, 400);
    assert_eq!(many.json()["issue"].as_array().map(Vec::len), Some(3));
    // Unknown parameters are ignored, unless the client is strict.
    assert_eq!(fhir_get(app(), "/fhir/Location?colour=blue").status, 200);
    let strict = fhir_request(
        app(),
        "GET",
        "/fhir/Location?colour=blue",
        &[("Prefer", "handling=strict")],
    );
    assert_eq!(strict.status, 400, "{}", strict.body);
}

#[test]
fn ids_with_an_underscore_become_uuids_that_read_back() {
    let app = spawn_app(&denver_csv("u_d", 5));
    let id = fhir_id("u_d-3").into_owned();
    assert_ne!(id, "u_d-3");
    for kind in ["Practitioner", "Location", "Organization"] {
        let resource = fhir_json(&app, &format!("/fhir/{kind}/{id}"));
        assert_eq!(resource["id"], id.as_str());
    }
    let role = fhir_json(&app, &format!("/fhir/PractitionerRole/{id}"));
    assert_eq!(role["location"][0]["reference"], format!("Location/{id}"));
    let found = fhir_json(
        &app,
        &format!("/fhir/PractitionerRole?location=Location/{id}&_id={id}"),
    );
    assert_eq!(found["total"], 1);
    let everyone = fhir_json(&app, "/fhir/Location?near=39.74|-104.99|25|mi");
    assert_eq!(everyone["total"], 5);
}

#[test]
fn caching_cors_and_the_rate_limit_apply_as_for_the_api() {
    for path in [
        "/fhir/Location?near=39.74|-104.99|50|mi",
        "/fhir/Practitioner/p-000001",
        "/fhir/metadata",
    ] {
        let first = fhir_request(
            app(),
            "GET",
            path,
            &[("Origin", "https://partner.example.org")],
        );
        assert_eq!(first.status, 200, "{path}");
        assert_eq!(first.header("access-control-allow-origin"), Some("*"));
        assert_eq!(first.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(first.header("cache-control"), Some("public, max-age=60"));
        let tag = first.header("etag").expect("an ETag").to_string();
        let again = fhir_request(app(), "GET", path, &[("If-None-Match", &tag)]);
        assert_eq!(again.status, 304, "{path}");
    }
    let preflight = app().request(
        "OPTIONS",
        "/fhir/Location",
        &[
            ("Origin", "https://partner.example.org"),
            ("Access-Control-Request-Method", "GET"),
        ],
    );
    assert_eq!(preflight.status, 200, "{}", preflight.body);

    let limited = spawn_app_with(&denver_csv("r", 3), limited_to(2));
    let statuses: Vec<u16> = (0..3)
        .map(|_| fhir_get(&limited, "/fhir/Location").status)
        .collect();
    assert_eq!(statuses, [200, 200, 429]);
    let over = fhir_get(&limited, "/fhir/Location");
    assert_eq!(over.json()["issue"][0]["code"], "throttled");
    assert!(over.header("retry-after").is_some());
    let unknown_key = fhir_request(&limited, "GET", "/fhir/metadata", &[("X-API-Key", "nope")]);
    assert_eq!(unknown_key.status, 401);
    assert_eq!(unknown_key.json()["issue"][0]["code"], "security");
}
