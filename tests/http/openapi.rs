//! The OpenAPI document (`static/openapi.json`, served at
//! `/api/v1/openapi.json`) against the code and the real server.
//!
//! Every route registered under `/api/v1` must be documented, and every
//! answer (valid requests, bad parameters, unknown ids, other methods, an
//! unknown API key, the rate limit, no index yet, conditional requests;
//! for the one POST operation, listing reports, also bad bodies, 413, 415
//! and the report limit) must match the schema, headers and
//! media type the document gives for that path and status. The requests are
//! partly derived from the document itself (each documented bound, enum
//! value and required parameter is probed), so a limit changed in the code
//! but not in the document fails here.
//!
//! JSON Schema is checked by the `jsonschema` crate (JSON Schema 2020-12,
//! the dialect of OpenAPI 3.1, with `format` asserted), the document
//! registered as one resource so that its `#/components/...` references
//! resolve inside it; see the end of this file. Every schema of the
//! document must also be valid under the 2020-12 meta-schema and use only
//! 2020-12 keywords, so that no constraint (a typo, or OpenAPI 3.0's
//! `nullable`) silently goes unchecked.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use jsonschema::error::ValidationErrorKind;
use jsonschema::{Draft, Registry, Validator};
use ketadir::geo::places::{MAX_PREFIX_CHARS, MAX_SUGGESTION_LIMIT};
use ketadir::provider::{Condition, Treatment, US_STATES};
use ketadir::reports::{MAX_DETAILS_CHARS, Reason};
use ketadir::routes::rate_limit::RateLimitSettings;
use ketadir::search::SortOrder;
use ketadir::search::params::{Kind, PARAMS};
use ketadir::startup::HttpSettings;
use serde_json::{Value, json};

use super::helpers::{Reply, TestApp, denver_csv, sample_csv, spawn_app, spawn_app_with, spawn_on};

/// The document as written in the repository.
const DOCUMENT: &str = include_str!("../../static/openapi.json");

/// Every route of the `/api/v1` scope in `src/routes/mod.rs`. Keep in sync:
/// `every_api_route_is_documented` compares it with that file and
/// with the document's `paths`.
const API_ROUTES: [&str; 7] = [
    "/search",
    "/providers/{id}",
    "/providers/{id}/reports",
    "/places",
    "/vocabulary",
    "/providers",
    "/openapi.json",
];

const SEARCH: &str = "/api/v1/search";
const PROVIDER: &str = "/api/v1/providers/{id}";
const PLACES: &str = "/api/v1/places";
const VOCABULARY: &str = "/api/v1/vocabulary";
const EXPORT: &str = "/api/v1/providers";
const OPENAPI: &str = "/api/v1/openapi.json";
const REPORTS: &str = "/api/v1/providers/{id}/reports";

/// Statuses a test cannot provoke here: a 500 needs a broken index, a 408
/// a body that stalls for 10 s (`tests/http/reports.rs` sends one).
const UNPROVOKABLE: [&str; 2] = ["500", "408"];

/// The operation of a documented path: `get`, or `post` for the one route
/// that takes a body (listing reports).
fn operation(path: &str) -> &'static str {
    if document()["paths"][path].get("post").is_some() {
        "post"
    } else {
        "get"
    }
}

/// A valid body for a path's operation (empty for GET).
fn valid_body(path: &str) -> &'static [u8] {
    match operation(path) {
        "post" => br#"{"reasons": ["phone"], "details": "The number rings elsewhere."}"#,
        _ => b"",
    }
}

fn document() -> &'static Value {
    static PARSED: OnceLock<Value> = OnceLock::new();
    PARSED.get_or_init(|| serde_json::from_str(DOCUMENT).expect("static/openapi.json is JSON"))
}

/// One server on the sample data, shared by the tests here.
fn app() -> &'static TestApp {
    static APP: OnceLock<TestApp> = OnceLock::new();
    APP.get_or_init(|| spawn_app(&sample_csv()))
}

// ---------------------------------------------------------------------------
// (a) The document itself.

/// The string literals of the `/api/v1` scope in `src/routes/mod.rs` that
/// start with `/`: the routes, however they are registered (`.route("/x"`,
/// `get_only("/x"`, `web::resource("/x"`).
fn registered_api_routes() -> BTreeSet<String> {
    let source = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/routes/mod.rs"))
        .expect("src/routes/mod.rs is readable");
    let opening = "web::scope(\"/api/v1\")";
    let start = source
        .find(opening)
        .expect("src/routes/mod.rs has web::scope(\"/api/v1\"); update this parser if it moved");
    let scope = &source[start + opening.len()..];
    let end = scope
        .find(".default_service(")
        .expect("the /api/v1 scope ends with its default service");
    scope[..end]
        .split("(\"/")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(|route| format!("/{route}"))
        .collect()
}

#[test]
fn every_api_route_is_documented() {
    let document = document();
    assert_eq!(document["openapi"], "3.1.0");
    assert_eq!(
        document["info"]["version"],
        env!("CARGO_PKG_VERSION"),
        "info.version follows the crate's version"
    );
    let paths: BTreeSet<&str> = document["paths"]
        .as_object()
        .expect("paths")
        .keys()
        .map(String::as_str)
        .collect();
    let listed: BTreeSet<String> = API_ROUTES.iter().map(|r| format!("/api/v1{r}")).collect();
    assert_eq!(
        paths,
        listed.iter().map(String::as_str).collect(),
        "the document's paths are exactly API_ROUTES"
    );
    let registered = registered_api_routes();
    for route in &registered {
        assert!(
            API_ROUTES.contains(&route.as_str()),
            "src/routes/mod.rs registers /api/v1{route}, which API_ROUTES and \
             static/openapi.json do not list"
        );
    }
    for route in API_ROUTES {
        assert!(
            registered.contains(route),
            "/api/v1{route} is documented but not registered in src/routes/mod.rs"
        );
    }
    for (path, item) in document["paths"].as_object().expect("paths") {
        let methods: Vec<&String> = item.as_object().expect("path item").keys().collect();
        let expected = if path == REPORTS { "post" } else { "get" };
        assert_eq!(
            methods,
            [expected],
            "{path}: the API has GET operations, and one POST (listing reports)"
        );
    }
}

#[test]
fn every_reference_resolves_and_every_schema_is_checkable() {
    let document = document();
    let mut references = Vec::new();
    collect_references(document, &mut references);
    assert!(references.len() > 20, "{references:?}");
    for reference in references {
        resolve(&reference).unwrap_or_else(|e| panic!("{e}"));
    }
    let mut schemas = Vec::new();
    collect_schemas(document, "", &mut schemas);
    assert!(schemas.len() > 30, "{}", schemas.len());
    for (at, schema) in schemas {
        // A schema of the 2020-12 meta-schema (types, keyword shapes)...
        if let Err(problem) = jsonschema::draft202012::meta::validate(schema) {
            panic!("{at}: not a valid JSON Schema 2020-12 schema: {problem}");
        }
        // ...whose every keyword JSON Schema defines (others are ignored
        // by validators, so a typo would check nothing)...
        if let Err(problem) = only_known_keywords(schema) {
            panic!("{at}: {problem}");
        }
        // ...that compiles: its references resolve in the document and
        // its formats are ones the validator asserts.
        if let Err(problem) = schema_at(&at) {
            panic!("{problem}");
        }
    }
    assert!(schema_at("/components/schemas/NoSuchSchema").is_err());
}

fn collect_references(value: &Value, into: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(reference)) = map.get("$ref") {
                into.push(reference.clone());
            }
            map.values().for_each(|v| collect_references(v, into));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_references(v, into)),
        _ => {}
    }
}

/// Every schema of the document, with its JSON Pointer: components,
/// parameters, headers, media types and the NDJSON item schemas.
fn collect_schemas<'a>(value: &'a Value, at: &str, into: &mut Vec<(String, &'a Value)>) {
    let Value::Object(map) = value else {
        if let Value::Array(items) = value {
            for (i, item) in items.iter().enumerate() {
                collect_schemas(item, &format!("{at}/{i}"), into);
            }
        }
        return;
    };
    for (key, child) in map {
        let child_at = pointer_child(at, key);
        if key == "schema" || key == "x-itemSchema" || at == "/components/schemas" {
            into.push((child_at, child));
        } else {
            collect_schemas(child, &child_at, into);
        }
    }
}

fn enum_strings(schema: &Value) -> Vec<&str> {
    schema["enum"]
        .as_array()
        .expect("enum")
        .iter()
        .map(|v| v.as_str().expect("string enum"))
        .collect()
}

#[test]
fn the_vocabularies_and_limits_match_the_code() {
    let schemas = &document()["components"]["schemas"];
    assert_eq!(
        enum_strings(&schemas["TreatmentSlug"]),
        Treatment::ALL.iter().map(|t| t.slug()).collect::<Vec<_>>()
    );
    assert_eq!(
        enum_strings(&schemas["ConditionSlug"]),
        Condition::ALL.iter().map(|c| c.slug()).collect::<Vec<_>>()
    );
    assert_eq!(
        enum_strings(&schemas["StateCode"]),
        US_STATES.iter().map(|(code, _)| *code).collect::<Vec<_>>()
    );
    assert_eq!(
        enum_strings(&schemas["ReportReason"]),
        Reason::ALL.iter().map(|r| r.slug()).collect::<Vec<_>>()
    );
    assert_eq!(
        schemas["ReportSubmission"]["properties"]["details"]["maxLength"],
        json!(MAX_DETAILS_CHARS)
    );
    assert_eq!(
        enum_strings(&schemas["SortOrder"]),
        SortOrder::ALL
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
    );
    let facets = &schemas["Facets"]["properties"];
    let keys = |schema: &Value| -> Vec<String> {
        let mut keys: Vec<String> = schema["properties"]
            .as_object()
            .expect("properties")
            .keys()
            .cloned()
            .collect();
        keys.sort();
        keys
    };
    let mut treatments = enum_strings(&schemas["TreatmentSlug"]);
    treatments.sort();
    assert_eq!(keys(&facets["treatments"]), treatments);
    let mut conditions = enum_strings(&schemas["ConditionSlug"]);
    conditions.sort();
    assert_eq!(keys(&facets["conditions"]), conditions);

    let places = parameters(PLACES);
    assert_eq!(
        places["limit"]["schema"]["maximum"],
        json!(MAX_SUGGESTION_LIMIT)
    );
    assert_eq!(
        places["prefix"]["schema"]["maxLength"],
        json!(MAX_PREFIX_CHARS)
    );
    // The search's parameters are declared once, in search::params::PARAMS:
    // the document must list exactly those, with the same bounds.
    let search_parameters = parameters(SEARCH);
    let search: Vec<&String> = search_parameters.keys().collect();
    let mut expected: Vec<&str> = PARAMS.iter().map(|p| p.name).collect();
    expected.sort_unstable();
    assert_eq!(
        search, expected,
        "static/openapi.json lists exactly the parameters of search::params::PARAMS"
    );
    for param in PARAMS {
        let schema = follow(&search_parameters[param.name]["schema"]).expect("schema resolves");
        let item = if param.kind.is_repeatable() {
            follow(&schema["items"]).expect("items resolve")
        } else {
            schema
        };
        match param.kind {
            Kind::Whole { min, max, .. } => {
                assert_eq!(item["type"], "integer", "{}", param.name);
                assert_eq!(item["minimum"], json!(min), "{}: minimum", param.name);
                assert_eq!(item["maximum"], json!(max), "{}: maximum", param.name);
            }
            Kind::Decimal { min, max, .. } => {
                assert_eq!(item["type"], "number", "{}", param.name);
                assert_eq!(
                    item["minimum"].as_f64(),
                    Some(min),
                    "{}: minimum",
                    param.name
                );
                assert_eq!(
                    item["maximum"].as_f64(),
                    Some(max),
                    "{}: maximum",
                    param.name
                );
            }
            Kind::Flag { default } => {
                assert_eq!(item["type"], "boolean", "{}", param.name);
                if default {
                    assert_eq!(item["default"], json!(true), "{}: default", param.name);
                }
            }
            Kind::Choice(words) | Kind::Vocabulary(words) => {
                let mut documented = enum_strings(item);
                documented.sort_unstable();
                let mut words = words.to_vec();
                words.sort_unstable();
                assert_eq!(documented, words, "{}: allowed values", param.name);
            }
            Kind::Text { max_chars } | Kind::Place { max_chars } => {
                assert_eq!(
                    item["maxLength"],
                    json!(max_chars),
                    "{}: maxLength",
                    param.name
                );
            }
            Kind::Names { .. } | Kind::State => {
                assert_eq!(item["type"], "string", "{}", param.name);
            }
        }
        assert_eq!(
            schema["type"] == "array",
            param.kind.is_repeatable(),
            "{}: repeatable in the document and in the table",
            param.name
        );
    }
    for (name, parameter) in parameters(SEARCH) {
        if parameter["schema"]["type"] == "array" {
            assert_eq!(parameter["style"], "form", "{name}");
            assert_eq!(parameter["explode"], true, "{name}");
        }
    }
}

/// The query parameters of a path's GET, by name (references resolved).
fn parameters(path: &str) -> BTreeMap<String, &'static Value> {
    document()["paths"][path]["get"]["parameters"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|p| follow(p).expect("parameter resolves"))
        .filter(|p| p["in"] == "query")
        .map(|p| (p["name"].as_str().expect("name").to_string(), p))
        .collect()
}

// ---------------------------------------------------------------------------
// (b) The server's answers against the document.

/// Sends requests to one server and checks each answer against the document.
struct Checker<'a> {
    app: &'a TestApp,
    /// (path, status) pairs answered and validated so far.
    seen: BTreeSet<(String, String)>,
    /// Documented paths the server does not route yet.
    skipped: BTreeSet<String>,
}

impl<'a> Checker<'a> {
    fn new(app: &'a TestApp) -> Checker<'a> {
        Checker {
            app,
            seen: BTreeSet::new(),
            skipped: BTreeSet::new(),
        }
    }

    /// False, with a note on stderr, while `path` answers the API's "no
    /// route" 404: the route is documented ahead of its merge, and is
    /// checked as soon as it answers anything else.
    fn routed(&mut self, path: &str, target: &str) -> bool {
        let reply = self.app.get(target);
        if reply.status == 404 && reply.body.contains("no API route") {
            eprintln!(
                "SKIPPED: {path} is documented but the server does not route it yet \
                 ({}); it is checked as soon as it answers",
                reply.body
            );
            self.skipped.insert(path.to_string());
            return false;
        }
        true
    }

    /// The documented paths the server routes.
    fn routed_paths(&self) -> Vec<&'static str> {
        document()["paths"]
            .as_object()
            .expect("paths")
            .keys()
            .map(String::as_str)
            .filter(|path| !self.skipped.contains(*path))
            .collect()
    }

    /// Sends `method target`, asserts the status and checks the answer
    /// against the document's response for `path` and that status.
    fn expect(&mut self, method: &str, path: &str, target: &str, status: u16) -> Reply {
        self.expect_with(method, path, target, status, &[])
    }

    fn expect_with(
        &mut self,
        method: &str,
        path: &str,
        target: &str,
        status: u16,
        headers: &[(&str, &str)],
    ) -> Reply {
        let reply = self.app.request(method, target, headers);
        assert_eq!(
            reply.status, status,
            "{method} {target}: {} {}",
            reply.content_type, reply.body
        );
        if let Err(problem) = self.conforms(path, &reply) {
            panic!("{method} {target} → {status} does not match the document: {problem}");
        }
        self.seen.insert((path.to_string(), status.to_string()));
        reply
    }

    /// A request with a body (the POST operation), checked like
    /// [`Checker::expect_with`].
    fn expect_body(
        &mut self,
        method: &str,
        path: &str,
        target: &str,
        status: u16,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Reply {
        let reply = self.app.send(method, target, headers, body);
        assert_eq!(
            reply.status,
            status,
            "{method} {target} {}: {} {}",
            String::from_utf8_lossy(body)
                .chars()
                .take(100)
                .collect::<String>(),
            reply.content_type,
            reply.body
        );
        if let Err(problem) = self.conforms(path, &reply) {
            panic!("{method} {target} → {status} does not match the document: {problem}");
        }
        self.seen.insert((path.to_string(), status.to_string()));
        reply
    }

    /// The path's own operation with a valid body (a GET for GET paths).
    fn expect_operation(
        &mut self,
        path: &str,
        target: &str,
        status: u16,
        headers: &[(&str, &str)],
    ) -> Reply {
        let method = operation(path).to_ascii_uppercase();
        let mut all = headers.to_vec();
        if method == "POST" {
            all.push(("Content-Type", "application/json"));
        }
        self.expect_body(&method, path, target, status, &all, valid_body(path))
    }

    /// The answer against the document. Each path has one operation (GET,
    /// or POST for reports), so the answers to other methods are documented
    /// as that operation's 405. Schemas are validated where they are in the
    /// document (by JSON Pointer), so their references resolve in it.
    fn conforms(&self, path: &str, answer: &Reply) -> Result<(), String> {
        let responses_at = pointer_child(&pointer_child("/paths", path), operation(path));
        let responses_at = pointer_child(&responses_at, "responses");
        let responses = at(&responses_at)?;
        let status = answer.status.to_string();
        let key = [status.as_str(), "default"]
            .into_iter()
            .find(|key| responses.get(*key).is_some())
            .ok_or_else(|| format!("status {} is not documented for {path}", answer.status))?;
        let response_at = followed(&pointer_child(&responses_at, key))?;
        let response = at(&response_at)?;
        if let Some(headers) = response.get("headers").and_then(Value::as_object) {
            for name in headers.keys() {
                let header_at = followed(&pointer_child(
                    &pointer_child(&response_at, "headers"),
                    name,
                ))?;
                let header = at(&header_at)?;
                match answer.header(name) {
                    None if header["required"] == true => {
                        return Err(format!("the required header {name} is missing"));
                    }
                    None => {}
                    Some(value) => {
                        // Header values are text; an integer schema means digits.
                        let value = match header["schema"]["type"].as_str() {
                            Some("integer") => {
                                value.parse::<i64>().map(Value::from).map_err(|_| {
                                    format!("header {name}: {value:?} is not an integer")
                                })?
                            }
                            _ => Value::from(value),
                        };
                        validate(&pointer_child(&header_at, "schema"), &value)
                            .map_err(|e| format!("header {name}: {e}"))?;
                    }
                }
            }
        }
        let Some(content) = response.get("content").and_then(Value::as_object) else {
            return if answer.body.is_empty() {
                Ok(())
            } else {
                Err(format!("no body is documented, got {:?}", answer.body))
            };
        };
        let media_type = answer
            .content_type
            .split(';')
            .next()
            .unwrap_or_default()
            .trim();
        let media = content.get(media_type).ok_or_else(|| {
            format!(
                "content type {:?} is not documented (documented: {:?})",
                answer.content_type,
                content.keys().collect::<Vec<_>>()
            )
        })?;
        let media_at = pointer_child(&pointer_child(&response_at, "content"), media_type);
        if media_type == "application/x-ndjson" {
            if media.get("x-itemSchema").is_none() {
                return Err("an NDJSON answer needs x-itemSchema".into());
            }
            let item = pointer_child(&media_at, "x-itemSchema");
            if !answer.body.is_empty() && !answer.body.ends_with('\n') {
                return Err("the last NDJSON line does not end with a newline".into());
            }
            for (number, line) in answer.body.lines().enumerate() {
                let value: Value = serde_json::from_str(line)
                    .map_err(|e| format!("line {} is not JSON ({e})", number + 1))?;
                validate(&item, &value).map_err(|e| format!("line {}: {e}", number + 1))?;
            }
            return Ok(());
        }
        let body: Value = serde_json::from_str(&answer.body)
            .map_err(|e| format!("the body is not JSON ({e}): {}", answer.body))?;
        validate(&pointer_child(&media_at, "schema"), &body)
    }

    /// A 400 that names `parameter` in `invalid_params`.
    fn expect_invalid(&mut self, path: &str, target: &str, parameter: &str) {
        let problem = self.expect("GET", path, target, 400).json();
        let names: Vec<&str> = problem["invalid_params"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .filter_map(|p| p["name"].as_str())
            .collect();
        assert!(
            names.contains(&parameter),
            "{target}: {parameter} not named in {problem}"
        );
    }

    /// Probes every documented bound, enum value, boolean, length, count
    /// and required parameter of `path`: what the document allows must
    /// answer 200, just past it a 400 naming the parameter.
    fn probe_parameters(&mut self, path: &str, context: fn(&str, &str) -> &'static str) {
        for (name, parameter) in parameters(path) {
            let schema = follow(&parameter["schema"]).expect("schema resolves");
            let target =
                |value: &str| format!("{path}?{}{name}={}", context(&name, value), encode(value));
            if parameter["required"] == true {
                let without = format!("{path}?{}", context(&name, ""));
                self.expect_invalid(path, &without, &name);
            }
            match schema["type"].as_str() {
                Some("integer" | "number") => {
                    let bound = |key: &str| schema[key].as_f64();
                    if let Some(min) = bound("minimum") {
                        self.expect("GET", path, &target(&number(min)), 200);
                        self.expect_invalid(path, &target(&number(min - 1.0)), &name);
                    }
                    if let Some(max) = bound("maximum") {
                        self.expect("GET", path, &target(&number(max)), 200);
                        self.expect_invalid(path, &target(&number(max + 1.0)), &name);
                    }
                }
                Some("boolean") => {
                    self.expect("GET", path, &target("true"), 200);
                    self.expect("GET", path, &target("false"), 200);
                    self.expect_invalid(path, &target("maybe"), &name);
                }
                Some("string") => {
                    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
                        for value in values {
                            let value = value.as_str().expect("string enum");
                            self.expect("GET", path, &target(value), 200);
                        }
                        self.expect_invalid(path, &target("no-such-value"), &name);
                    }
                    if let Some(max) = schema["maxLength"].as_u64() {
                        let long = "a".repeat(max as usize + 1);
                        self.expect_invalid(path, &target(&long), &name);
                    }
                }
                Some("array") => {
                    let items = follow(&schema["items"]).expect("items");
                    let valid = first_enum_value_or(items, "x");
                    for value in items
                        .get("enum")
                        .and_then(Value::as_array)
                        .map(Vec::as_slice)
                        .unwrap_or_default()
                    {
                        let value = value.as_str().expect("string enum");
                        self.expect("GET", path, &target(value), 200);
                    }
                    if items.get("enum").is_some() {
                        self.expect_invalid(path, &target("no-such-value"), &name);
                    }
                    if let Some(max) = schema["maxItems"].as_u64() {
                        let repeated = vec![format!("{name}={}", encode(&valid)); max as usize + 1];
                        let target = format!("{path}?{}", repeated.join("&"));
                        self.expect_invalid(path, &target, &name);
                    }
                    if let Some(max) = items["maxLength"].as_u64() {
                        let long = "a".repeat(max as usize + 1);
                        self.expect_invalid(path, &target(&long), &name);
                    }
                }
                _ => {}
            }
        }
    }

    /// Every documented 304: a GET, then the same GET with its `ETag`.
    fn conditional_requests(&mut self, path: &str, target: &str) {
        let first = self.expect("GET", path, target, 200);
        let tag = first
            .header("etag")
            .unwrap_or_else(|| panic!("{target}: 200 without an ETag"))
            .to_string();
        self.expect_with("GET", path, target, 304, &[("If-None-Match", &tag)]);
        self.expect_with(
            "GET",
            path,
            target,
            200,
            &[("If-None-Match", "\"some-other-tag\"")],
        );
    }
}

/// A decimal as a query value: whole numbers without a fraction.
fn number(value: f64) -> String {
    if value.fract() == 0.0 {
        (value as i64).to_string()
    } else {
        value.to_string()
    }
}

fn encode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

fn first_enum_value_or(schema: &Value, fallback: &str) -> String {
    schema["enum"][0].as_str().unwrap_or(fallback).to_string()
}

/// What a probed parameter needs beside it to be a valid request.
fn probe_context(name: &str, value: &str) -> &'static str {
    match (name, value) {
        ("radius", _) | ("sort", "distance") => "lat=39.74&lon=-104.99&",
        ("lat", _) => "lon=-104.99&",
        ("lon", _) => "lat=39.74&",
        ("sort", "relevance") => "q=pain&",
        ("include_telehealth", "true") => "near=Bozeman,%20MT&",
        ("limit", _) => "prefix=den&",
        ("updated_since", _) => "format=ndjson&",
        _ => "",
    }
}

/// A valid request for each documented path.
fn valid_target(path: &str) -> String {
    match path {
        SEARCH => format!("{SEARCH}?near=80202&treatment=iv_infusion"),
        PROVIDER => "/api/v1/providers/p-000002".into(),
        REPORTS => "/api/v1/providers/p-000002/reports".into(),
        PLACES => format!("{PLACES}?prefix=bou"),
        EXPORT => format!("{EXPORT}?format=ndjson"),
        other => other.to_string(),
    }
}

#[test]
fn every_route_answers_as_the_document_says() {
    let mut checker = Checker::new(app());

    let served = checker.expect("GET", OPENAPI, OPENAPI, 200);
    assert_eq!(
        served.json(),
        *document(),
        "the served document is the file"
    );
    assert_eq!(served.content_type, "application/json");
    check_search(&mut checker);
    check_provider(&mut checker);
    check_places(&mut checker);
    if checker.routed(VOCABULARY, VOCABULARY) {
        check_vocabulary(&mut checker);
    }
    if checker.routed(EXPORT, &valid_target(EXPORT)) {
        check_export(&mut checker);
    }
    if checker.routed(REPORTS, &valid_target(REPORTS)) {
        check_reports(&mut checker);
    }

    for path in checker.routed_paths() {
        let responses = &document()["paths"][path][operation(path)]["responses"];
        if responses.get("304").is_some() {
            checker.conditional_requests(path, &valid_target(path));
        }
        let (others, allowed) = match operation(path) {
            "post" => (["GET", "DELETE"], "POST"),
            _ => (["POST", "DELETE"], "GET"),
        };
        for method in others {
            let reply = checker.expect(method, path, &valid_target(path), 405);
            assert_eq!(reply.header("allow"), Some(allowed), "{method} {path}");
        }
        let unknown_key = [("X-API-Key", "not-a-known-key-0000")];
        checker.expect_operation(path, &valid_target(path), 401, &unknown_key);
    }

    // Over the rate limit: a server allowing this client one request a
    // minute, and a partner key with a limit of its own.
    let key = "partner-key-0123456789";
    let limited_app = spawn_app_with(
        &denver_csv("rl", 3),
        HttpSettings {
            rate_limits: RateLimitSettings {
                per_ip_per_minute: 1,
                keys: HashMap::from([(key.to_string(), 1000)]),
                limit_loopback: true,
            },
            ..HttpSettings::default()
        },
    );
    let mut limited = Checker::new(&limited_app);
    limited.expect("GET", OPENAPI, OPENAPI, 200);
    let with_key = limited.expect_with("GET", OPENAPI, OPENAPI, 200, &[("X-API-Key", key)]);
    assert_eq!(with_key.header("ratelimit-limit"), Some("1000"));
    for path in checker.routed_paths() {
        limited.expect_operation(path, &valid_target(path), 429, &[]);
    }

    // A server that has no index yet: 503 wherever one is documented.
    let starting_app = spawn_on(tempfile::tempdir().expect("temp dir"));
    let mut starting = Checker::new(&starting_app);
    for path in checker.routed_paths() {
        if document()["paths"][path][operation(path)]["responses"]
            .get("503")
            .is_some()
        {
            starting.expect_operation(path, &valid_target(path), 503, &[]);
        }
    }

    // Every documented answer was provoked and checked at least once.
    let mut seen = checker.seen.clone();
    seen.extend(limited.seen);
    seen.extend(starting.seen);
    let mut missing = Vec::new();
    for path in checker.routed_paths() {
        let responses = document()["paths"][path][operation(path)]["responses"]
            .as_object()
            .expect("responses");
        for status in responses.keys() {
            let pair = (path.to_string(), status.clone());
            if !UNPROVOKABLE.contains(&status.as_str()) && !seen.contains(&pair) {
                missing.push(pair);
            }
        }
    }
    assert!(
        missing.is_empty(),
        "documented but never checked: {missing:?}"
    );
}

/// Search: the documented defaults, the usual kinds of queries, errors,
/// and every documented bound and enum value.
fn check_search(checker: &mut Checker) {
    let defaults = checker.expect("GET", SEARCH, SEARCH, 200).json();
    let parameters = parameters(SEARCH);
    for name in ["page", "per_page", "sort"] {
        let documented = follow(&parameters[name]["schema"]).expect("schema");
        assert_eq!(defaults[name], documented["default"], "default of {name}");
    }
    assert_eq!(defaults["location"], Value::Null);
    let around = checker
        .expect(
            "GET",
            SEARCH,
            &format!("{SEARCH}?lat=39.74&lon=-104.99"),
            200,
        )
        .json();
    assert_eq!(
        around["location"]["radius_miles"].as_f64(),
        parameters["radius"]["schema"]["default"].as_f64(),
        "default radius"
    );
    for query in [
        "near=80202&radius=50&sort=distance",
        "near=Denver,%20CO",
        "near=Colorado",
        "near=Springfield&sort=distance&per_page=5",
        "q=fibromyalgia&insurance=Aetna&language=Spanish&telehealth=true&accepting=yes",
        "q=spravato&sort=relevance",
        "min_rating=4.5&max_price=500&sort=price",
        "sort=reviews&per_page=100&page=2",
        "treatment=spravato&condition=RSD&state=co",
        "near=59715&radius=100&include_telehealth=true&provider_type=clinic&provider_type=np",
        "near=Montana&include_telehealth=1&treatment=kap",
        "page=10000",
        "q=%22(AND%20OR%20NOT)*%3F~%5E%3A&near=",
    ] {
        checker.expect("GET", SEARCH, &format!("{SEARCH}?{query}"), 200);
    }
    for (query, parameter) in [
        ("near=99999", "near"),
        ("near=91,0", "near"),
        ("near=Colorado&sort=distance", "sort"),
        ("near=Colorado&state=TX", "near"),
        ("lat=39.74", "lon"),
        ("near=80202&lat=1&lon=1", "near"),
        ("page=1&page=2", "page"),
        ("sort=distance", "sort"),
        ("sort=relevance", "sort"),
        ("max_price=12.5", "max_price"),
        (
            "lat=45.6&lon=-111&include_telehealth=true",
            "include_telehealth",
        ),
        (
            "near=45.6,-111&include_telehealth=true",
            "include_telehealth",
        ),
        ("provider_type=surgeon", "provider_type"),
    ] {
        checker.expect_invalid(SEARCH, &format!("{SEARCH}?{query}"), parameter);
    }
    let unknown = checker
        .expect("GET", SEARCH, &format!("{SEARCH}?near=Portlnd,%20OR"), 400)
        .json();
    assert_eq!(unknown["type"], "/problems/unknown-place");
    assert!(
        unknown["suggestions"]
            .as_array()
            .is_some_and(|s| !s.is_empty()),
        "{unknown}"
    );
    checker.probe_parameters(SEARCH, probe_context);
}

fn check_provider(checker: &mut Checker) {
    let hit = checker
        .expect("GET", PROVIDER, "/api/v1/providers/p-000001", 200)
        .json();
    assert_eq!(hit["id"], "p-000001");
    assert_eq!(hit["distance_miles"], Value::Null, "as documented");
    for id in ["nope", "..%2F..%2Fetc", "%F0%9F%92%A9", &"x".repeat(500)] {
        checker.expect("GET", PROVIDER, &format!("/api/v1/providers/{id}"), 404);
    }
}

fn check_places(checker: &mut Checker) {
    for query in [
        "prefix=den",
        "prefix=802&limit=50",
        "prefix=Springfield,%20m",
        "prefix=zzzzzz",
        "prefix=st&limit=1",
    ] {
        checker.expect("GET", PLACES, &format!("{PLACES}?{query}"), 200);
    }
    for (query, parameter) in [
        ("prefix=%20%20", "prefix"),
        ("prefix=a&prefix=b", "prefix"),
        ("prefix=den&limit=ten", "limit"),
    ] {
        checker.expect_invalid(PLACES, &format!("{PLACES}?{query}"), parameter);
    }
    checker.probe_parameters(PLACES, probe_context);
}

fn check_vocabulary(checker: &mut Checker) {
    let vocabulary = checker.expect("GET", VOCABULARY, VOCABULARY, 200).json();
    for (list, expected) in [
        ("treatments", Treatment::ALL.len()),
        ("conditions", Condition::ALL.len()),
    ] {
        let entries = vocabulary[list].as_array().map_or(0, Vec::len);
        assert_eq!(entries, expected, "{list}");
    }
}

/// The export, and the documented meaning of `updated_since`: providers
/// verified on or after the date; those without a date are left out.
fn check_export(checker: &mut Checker) {
    let export = valid_target(EXPORT);
    let all: Vec<Value> = checker
        .expect("GET", EXPORT, &export, 200)
        .body
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect();
    assert_eq!(all.len(), 2000, "every sample provider");
    assert!(all.iter().all(|hit| hit["distance_miles"].is_null()));
    for since in ["2025-01-01", "2999-01-01"] {
        let expected = all
            .iter()
            .filter(|hit| hit["last_verified"].as_str().is_some_and(|d| d >= since))
            .count();
        let reply = checker.expect(
            "GET",
            EXPORT,
            &format!("{export}&updated_since={since}"),
            200,
        );
        assert_eq!(
            reply.body.lines().count(),
            expected,
            "updated_since={since}"
        );
    }
    for date in ["2025-13-01", "yesterday"] {
        let target = format!("{export}&updated_since={date}");
        checker.expect_invalid(EXPORT, &target, "updated_since");
    }
    checker.probe_parameters(EXPORT, probe_context);
}

/// Listing reports: accepted (and a repeat), every kind of bad body, an
/// unknown provider, other media types, a body over the limit, and the
/// report limit (the shared sample server's loopback client sends 5).
fn check_reports(checker: &mut Checker) {
    let json = [("Content-Type", "application/json")];
    let target = |id: &str| format!("/api/v1/providers/{id}/reports");
    let first = checker
        .expect_body(
            "POST",
            REPORTS,
            &target("p-000011"),
            202,
            &json,
            br#"{"reasons": ["price", "insurance"]}"#,
        )
        .json();
    assert_eq!(first["status"], "open");
    let repeat = checker
        .expect_body(
            "POST",
            REPORTS,
            &target("p-000011"),
            202,
            &json,
            br#"{"reasons": ["insurance"], "details": null}"#,
        )
        .json();
    assert_eq!(
        repeat["id"], first["id"],
        "a repeat answers the earlier report"
    );
    for body in [
        &br#"{"reasons": []}"#[..],
        br#"{"reasons": ["other"]}"#,
        br#"{"reasons": ["phone"], "details": 7}"#,
        b"\xff",
        b"[1, 2]",
    ] {
        let reply = checker.expect_body("POST", REPORTS, &target("p-000011"), 400, &json, body);
        assert!(!problem_names(&reply).is_empty());
    }
    checker.expect_body(
        "POST",
        REPORTS,
        &target("nobody"),
        404,
        &json,
        valid_body(REPORTS),
    );
    checker.expect_body(
        "POST",
        REPORTS,
        &target("p-000011"),
        415,
        &[("Content-Type", "text/plain")],
        valid_body(REPORTS),
    );
    let huge = format!(
        r#"{{"reasons": ["phone"], "details": "{}"}}"#,
        "x".repeat(20_000)
    );
    checker.expect_body(
        "POST",
        REPORTS,
        &target("p-000011"),
        413,
        &json,
        huge.as_bytes(),
    );
    // Four more from this client (five in all), then the report limit.
    for n in 12..16 {
        checker.expect_body(
            "POST",
            REPORTS,
            &target(&format!("p-0000{n}")),
            202,
            &json,
            valid_body(REPORTS),
        );
    }
    let limited = checker.expect_body(
        "POST",
        REPORTS,
        &target("p-000016"),
        429,
        &json,
        valid_body(REPORTS),
    );
    assert_eq!(limited.json()["type"], "/problems/too-many-reports");
    assert!(limited.header("retry-after").is_some());
}

fn problem_names(reply: &Reply) -> Vec<String> {
    reply.json()["invalid_params"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter_map(|p| p["name"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn the_validator_reports_the_path_of_the_first_violation() {
    let search = "/components/schemas/SearchResponse";
    let valid = app().get_json("/api/v1/search?lat=39.74&lon=-104.99&radius=50&per_page=2");
    validate(search, &valid).unwrap_or_else(|e| panic!("a real answer is valid: {e}"));

    // The violation is found, and the first one reported is where the
    // change was: at the changed value, or at the object that misses a
    // required property. Any others are its consequence in that object or
    // an enclosing one: a hit's provider fields are no longer "evaluated" once the
    // `allOf` branch that declares them fails, so the hit's
    // `unevaluatedProperties` reports them too.
    let rejects = |change: &dyn Fn(&mut Value), expected: &str| {
        let mut changed = valid.clone();
        change(&mut changed);
        let found = violations(search, &changed).expect("the schema compiles");
        let listed = describe_all(&found);
        assert!(
            found.first().is_some_and(|first| first.at == expected),
            "expected the first violation at {expected:?}, got: {listed}"
        );
        let enclosing = |object: &Option<String>| {
            object
                .as_ref()
                .is_some_and(|o| expected == o || expected.starts_with(&format!("{o}/")))
        };
        assert!(
            found
                .iter()
                .all(|v| v.at == expected || enclosing(&v.unexpected_in)),
            "violations elsewhere than {expected:?}: {listed}"
        );
        // `validate`, used on every answer, reports it first.
        let error = validate(search, &changed).expect_err("rejected");
        assert!(error.starts_with(&format!("at {expected:?}: ")), "{error}");
    };
    // An extra field, at the top and inside a hit (which closes its
    // provider fields through `unevaluatedProperties`).
    rejects(&|v| v["debug"] = json!(true), "/debug");
    rejects(
        &|v| v["results"][1]["surprise"] = json!(1),
        "/results/1/surprise",
    );
    rejects(&|v| v["location"]["zoom"] = json!(3), "/location");
    // Wrong types, nullable types, enums and ranges.
    rejects(&|v| v["total"] = json!("12"), "/total");
    rejects(&|v| v["total"] = json!(1.5), "/total");
    rejects(
        &|v| v["results"][0]["distance_miles"] = json!("far"),
        "/results/0/distance_miles",
    );
    rejects(
        &|v| v["results"][0]["latitude"] = json!(null),
        "/results/0/latitude",
    );
    // `Facets` is `"type": ["object", "null"]`: null passes, a string not.
    let mut without_facets = valid.clone();
    without_facets["facets"] = Value::Null;
    validate(search, &without_facets).unwrap_or_else(|e| panic!("null facets are valid: {e}"));
    rejects(&|v| v["facets"] = json!("none"), "/facets");
    rejects(
        &|v| v["results"][0]["treatments"][0] = json!("magic"),
        "/results/0/treatments/0",
    );
    rejects(
        &|v| v["facets"]["treatments"]["iv_infusion"] = json!(-1),
        "/facets/treatments/iv_infusion",
    );
    let insurer = valid["facets"]["insurance"]
        .as_object()
        .and_then(|o| o.keys().next().cloned())
        .expect("an insurer in the facets");
    rejects(
        &|v| v["facets"]["insurance"][insurer.as_str()] = json!("many"),
        &pointer_child("/facets/insurance", &insurer),
    );
    rejects(&|v| v["sort"] = json!("best"), "/sort");
    // The documented maximum is enforced: one past it is not.
    rejects(&|v| v["per_page"] = json!(101), "/per_page");
    let mut at_maximum = valid.clone();
    at_maximum["per_page"] = json!(100);
    validate(search, &at_maximum).unwrap_or_else(|e| panic!("the maximum is allowed: {e}"));
    // A missing required field.
    rejects(
        &|v| {
            if let Some(object) = v.as_object_mut() {
                object.remove("generation");
            }
        },
        "",
    );
    rejects(
        &|v| {
            if let Some(hit) = v["results"][0].as_object_mut() {
                hit.remove("npi");
            }
        },
        "/results/0",
    );

    // A problem: closed, with the status its response fixes.
    let not_found = "/components/responses/NotFound/content/application~1problem+json/schema";
    let problem =
        json!({"type": "/problems/not-found", "title": "Not found", "status": 404, "detail": "x"});
    validate(not_found, &problem).expect("valid problem");
    // Where the violations are (one place may break several keywords).
    let at_of = |instance: &Value| -> BTreeSet<String> {
        violations(not_found, instance)
            .expect("the schema compiles")
            .into_iter()
            .map(|v| v.at)
            .collect()
    };
    let mut extra = problem.clone();
    extra["trace"] = json!("…");
    assert_eq!(at_of(&extra), BTreeSet::from(["/trace".to_string()]));
    let mut wrong = problem.clone();
    wrong["status"] = json!(400);
    assert_eq!(at_of(&wrong), BTreeSet::from(["/status".to_string()]));
    // Formats are asserted, not only annotations.
    let mut bad_type = problem.clone();
    bad_type["type"] = json!("not a uri reference");
    let found = violations("/components/schemas/Problem", &bad_type).expect("compiles");
    assert!(
        found.len() == 1 && found[0].at == "/type" && found[0].problem.contains("uri-reference"),
        "{}",
        describe_all(&found)
    );

    // A keyword JSON Schema does not define would check nothing: the
    // document may not use one (OpenAPI 3.0's `nullable`, a typo).
    for unchecked in [
        json!({"type": "string", "nullable": true}),
        json!({"type": "object", "properties": {"zip": {"type": "string", "maxLenght": 5}}}),
        json!({"anyOf": [{"type": "string", "minimun": 1}]}),
    ] {
        assert!(
            only_known_keywords(&unchecked).is_err_and(|e| e.contains("JSON Schema 2020-12")),
            "{unchecked}"
        );
    }
    let checked = json!({"type": "string", "pattern": "^[0-9]{5}$", "description": "a ZIP"});
    assert!(only_known_keywords(&checked).is_ok());
}

// ---------------------------------------------------------------------------
// JSON Schema, by the `jsonschema` crate: draft 2020-12 (the dialect of
// OpenAPI 3.1), `format` asserted, and the document registered as one
// resource so that a schema anywhere in it is validated in place, its
// `#/components/...` references resolving in the document.

/// The URI the document is registered under (nothing is fetched from it).
const DOCUMENT_URI: &str = "https://ketadir.invalid/api/v1/openapi.json";

fn registry() -> &'static Registry<'static> {
    static REGISTRY: OnceLock<Registry<'static>> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        Registry::new()
            .draft(Draft::Draft202012)
            .add(DOCUMENT_URI, document())
            .and_then(|builder| builder.prepare())
            .unwrap_or_else(|e| panic!("static/openapi.json as a JSON Schema resource: {e}"))
    })
}

/// The validator of the schema at `pointer` (a JSON Pointer into the
/// document), compiled once and shared by the tests.
fn schema_at(pointer: &str) -> Result<Arc<Validator>, String> {
    static COMPILED: OnceLock<Mutex<HashMap<String, Arc<Validator>>>> = OnceLock::new();
    let mut compiled = COMPILED
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    if let Some(validator) = compiled.get(pointer) {
        return Ok(Arc::clone(validator));
    }
    let reference = json!({"$ref": format!("{DOCUMENT_URI}#{}", fragment(pointer))});
    let validator = jsonschema::draft202012::options()
        .with_registry(registry())
        .offline()
        .should_validate_formats(true)
        .should_ignore_unknown_formats(false)
        .build(&reference)
        .map(Arc::new)
        .map_err(|e| format!("the schema at {pointer:?} does not compile: {e}"))?;
    compiled.insert(pointer.to_string(), Arc::clone(&validator));
    Ok(validator)
}

/// One way an instance breaks its schema: where (a JSON Pointer into the
/// instance; an unexpected property is reported at the property itself)
/// and what is wrong.
struct Violation {
    at: String,
    problem: String,
    /// For an unexpected property: the object it is in.
    unexpected_in: Option<String>,
}

/// Every violation of the schema at `pointer` by `instance`.
fn violations(pointer: &str, instance: &Value) -> Result<Vec<Violation>, String> {
    let validator = schema_at(pointer)?;
    let mut found = Vec::new();
    for error in validator.iter_errors(instance) {
        let at = error.instance_path().as_str().to_string();
        let problem = format!("{} ({})", error.masked(), error.schema_path());
        match error.kind() {
            ValidationErrorKind::AdditionalProperties { unexpected }
            | ValidationErrorKind::UnevaluatedProperties { unexpected } => {
                let closed_by = error.schema_path();
                for name in unexpected {
                    found.push(Violation {
                        at: pointer_child(&at, name),
                        problem: format!("unexpected property {name:?} (closed by {closed_by})"),
                        unexpected_in: Some(at.clone()),
                    });
                }
            }
            _ => found.push(Violation {
                at,
                problem,
                unexpected_in: None,
            }),
        }
    }
    Ok(found)
}

fn describe_all(found: &[Violation]) -> String {
    found
        .iter()
        .map(|v| format!("at {:?}: {}", v.at, v.problem))
        .collect::<Vec<_>>()
        .join("; ")
}

/// `Ok` when `instance` matches the schema at `pointer`; otherwise the
/// first violation, `at "<JSON Pointer>": <what is wrong>`, then the others.
fn validate(pointer: &str, instance: &Value) -> Result<(), String> {
    let found = violations(pointer, instance)?;
    if found.is_empty() {
        Ok(())
    } else {
        Err(describe_all(&found))
    }
}

/// The keywords of JSON Schema 2020-12 (core, applicator, unevaluated,
/// validation, meta-data, format-annotation and content vocabularies).
const KEYWORDS: [&str; 57] = [
    "$schema",
    "$id",
    "$ref",
    "$anchor",
    "$dynamicRef",
    "$dynamicAnchor",
    "$vocabulary",
    "$comment",
    "$defs",
    "allOf",
    "anyOf",
    "oneOf",
    "not",
    "if",
    "then",
    "else",
    "dependentSchemas",
    "prefixItems",
    "items",
    "contains",
    "properties",
    "patternProperties",
    "additionalProperties",
    "propertyNames",
    "unevaluatedItems",
    "unevaluatedProperties",
    "type",
    "enum",
    "const",
    "multipleOf",
    "maximum",
    "exclusiveMaximum",
    "minimum",
    "exclusiveMinimum",
    "maxLength",
    "minLength",
    "pattern",
    "maxItems",
    "minItems",
    "uniqueItems",
    "maxContains",
    "minContains",
    "maxProperties",
    "minProperties",
    "required",
    "dependentRequired",
    "title",
    "description",
    "default",
    "deprecated",
    "readOnly",
    "writeOnly",
    "examples",
    "format",
    "contentEncoding",
    "contentMediaType",
    "contentSchema",
];

/// Keywords whose value is a schema, a list of schemas or a map of them.
const SCHEMA_KEYWORDS: [&str; 12] = [
    "not",
    "if",
    "then",
    "else",
    "items",
    "contains",
    "additionalProperties",
    "propertyNames",
    "unevaluatedItems",
    "unevaluatedProperties",
    "contentSchema",
    "$defs",
];

/// Checks that a schema and every subschema use only JSON Schema 2020-12
/// keywords: validators ignore others, so the document cannot use a
/// constraint that silently goes unchecked.
fn only_known_keywords(schema: &Value) -> Result<(), String> {
    let Value::Object(map) = schema else {
        return Ok(());
    };
    for (keyword, value) in map {
        if !KEYWORDS.contains(&keyword.as_str()) {
            return Err(format!(
                "{keyword:?} is not a JSON Schema 2020-12 keyword, so nothing checks it"
            ));
        }
        let children: Vec<(String, &Value)> = match (keyword.as_str(), value) {
            ("allOf" | "anyOf" | "oneOf" | "prefixItems", Value::Array(list)) => list
                .iter()
                .enumerate()
                .map(|(i, child)| (format!("{keyword}/{i}"), child))
                .collect(),
            (
                "properties" | "patternProperties" | "dependentSchemas" | "$defs",
                Value::Object(children),
            ) => children
                .iter()
                .map(|(name, child)| (format!("{keyword}/{name}"), child))
                .collect(),
            (keyword, child) if SCHEMA_KEYWORDS.contains(&keyword) => {
                vec![(keyword.to_string(), child)]
            }
            _ => Vec::new(),
        };
        for (at, child) in children {
            only_known_keywords(child).map_err(|e| format!("{at}: {e}"))?;
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// JSON Pointers into the document (RFC 6901), for the OpenAPI Reference
// Objects of parameters, responses and headers (serde_json resolves them).

/// `at` + `/name`, with `~` and `/` in the name escaped.
fn pointer_child(at: &str, name: &str) -> String {
    format!("{at}/{}", name.replace('~', "~0").replace('/', "~1"))
}

/// The pointer as a URI fragment: bytes a fragment may not hold (such as
/// the braces of `/providers/{id}`) percent-encoded.
fn fragment(pointer: &str) -> String {
    pointer
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn at(pointer: &str) -> Result<&'static Value, String> {
    document()
        .pointer(pointer)
        .ok_or_else(|| format!("#{pointer} is not in the document"))
}

/// A local reference (`#/components/schemas/Hit`).
fn resolve(reference: &str) -> Result<&'static Value, String> {
    let pointer = reference
        .strip_prefix('#')
        .ok_or_else(|| format!("only local references are used: {reference}"))?;
    at(pointer).map_err(|_| format!("{reference} does not resolve"))
}

/// `value`, or what it refers to when it is a Reference Object.
fn follow(value: &'static Value) -> Result<&'static Value, String> {
    match value.get("$ref").and_then(Value::as_str) {
        Some(reference) => resolve(reference),
        None => Ok(value),
    }
}

/// The pointer of what is at `pointer`, once a Reference Object there is
/// followed.
fn followed(pointer: &str) -> Result<String, String> {
    match at(pointer)?.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let target = reference
                .strip_prefix('#')
                .ok_or_else(|| format!("only local references are used: {reference}"))?;
            at(target).map(|_| target.to_string())
        }
        None => Ok(pointer.to_string()),
    }
}
