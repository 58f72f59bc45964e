//! The OpenAPI document (`static/openapi.json`, served at
//! `/api/v1/openapi.json`) against the code and the real server.
//!
//! Every route registered under `/api/v1` must be documented, and every
//! answer (valid requests, bad parameters, unknown ids, other methods, an
//! unknown API key, the rate limit, no index yet, conditional requests)
//! must match the schema, headers and
//! media type the document gives for that path and status. The requests are
//! partly derived from the document itself (each documented bound, enum
//! value and required parameter is probed), so a limit changed in the code
//! but not in the document fails here.
//!
//! JSON Schema is checked by the small validator at the end of this file:
//! the subset the document uses, so that no schema crate is needed. It
//! refuses keywords it does not implement, so the document cannot use a
//! constraint that silently goes unchecked.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::OnceLock;

use ketadir::geo::places::{MAX_PREFIX_CHARS, MAX_SUGGESTION_LIMIT};
use ketadir::provider::{Condition, Treatment, US_STATES};
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
const API_ROUTES: [&str; 6] = [
    "/search",
    "/providers/{id}",
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

/// Statuses a test cannot provoke: a 500 needs a broken index.
const UNPROVOKABLE: [&str; 1] = ["500"];

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
        assert_eq!(methods, ["get"], "{path}: the API only has GET operations");
    }
}

#[test]
fn every_reference_resolves_and_every_schema_is_checkable() {
    let document = document();
    let validator = Validator::new(document);
    let mut references = Vec::new();
    collect_references(document, &mut references);
    assert!(references.len() > 20, "{references:?}");
    for reference in references {
        validator
            .resolve(&reference)
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let mut schemas = Vec::new();
    collect_schemas(document, "#", &mut schemas);
    assert!(schemas.len() > 30, "{}", schemas.len());
    for (at, schema) in schemas {
        if let Err(problem) = validator.check_schema(schema) {
            panic!("{at}: {problem}");
        }
    }
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

/// Every schema of the document: components, parameters, media types and
/// the NDJSON item schemas.
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
        let child_at = format!("{at}/{key}");
        if key == "schema" || key == "x-itemSchema" || at == "#/components/schemas" {
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
    let validator = Validator::new(document());
    let search_parameters = parameters(SEARCH);
    let search: Vec<&String> = search_parameters.keys().collect();
    let mut expected: Vec<&str> = PARAMS.iter().map(|p| p.name).collect();
    expected.sort_unstable();
    assert_eq!(
        search, expected,
        "static/openapi.json lists exactly the parameters of search::params::PARAMS"
    );
    for param in PARAMS {
        let schema = validator
            .follow(&search_parameters[param.name]["schema"])
            .expect("schema resolves");
        let item = if param.kind.is_repeatable() {
            validator.follow(&schema["items"]).expect("items resolve")
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
    let validator = Validator::new(document());
    document()["paths"][path]["get"]["parameters"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|p| validator.follow(p).expect("parameter resolves"))
        .filter(|p| p["in"] == "query")
        .map(|p| (p["name"].as_str().expect("name").to_string(), p))
        .collect()
}

// ---------------------------------------------------------------------------
// (b) The server's answers against the document.

/// Sends requests to one server and checks each answer against the document.
struct Checker<'a> {
    app: &'a TestApp,
    validator: Validator<'static>,
    /// (path, status) pairs answered and validated so far.
    seen: BTreeSet<(String, String)>,
    /// Documented paths the server does not route yet.
    skipped: BTreeSet<String>,
}

impl<'a> Checker<'a> {
    fn new(app: &'a TestApp) -> Checker<'a> {
        Checker {
            app,
            validator: Validator::new(document()),
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

    /// The answer against the document. Only GET operations exist, so the
    /// answers to other methods are documented as the GET operation's 405.
    fn conforms(&self, path: &str, answer: &Reply) -> Result<(), String> {
        let responses = &document()["paths"][path]["get"]["responses"];
        let response = responses
            .get(answer.status.to_string())
            .or_else(|| responses.get("default"))
            .ok_or_else(|| format!("status {} is not documented for {path}", answer.status))?;
        let response = self.validator.follow(response)?;
        if let Some(headers) = response.get("headers").and_then(Value::as_object) {
            for (name, header) in headers {
                let header = self.validator.follow(header)?;
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
                        self.validator
                            .validate(&header["schema"], &value)
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
        if media_type == "application/x-ndjson" {
            let item = media
                .get("x-itemSchema")
                .ok_or("an NDJSON answer needs x-itemSchema")?;
            if !answer.body.is_empty() && !answer.body.ends_with('\n') {
                return Err("the last NDJSON line does not end with a newline".into());
            }
            for (number, line) in answer.body.lines().enumerate() {
                let value: Value = serde_json::from_str(line)
                    .map_err(|e| format!("line {} is not JSON ({e})", number + 1))?;
                self.validator
                    .validate(item, &value)
                    .map_err(|e| format!("line {}: {e}", number + 1))?;
            }
            return Ok(());
        }
        let body: Value = serde_json::from_str(&answer.body)
            .map_err(|e| format!("the body is not JSON ({e}): {}", answer.body))?;
        self.validator.validate(&media["schema"], &body)
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
            let schema = self
                .validator
                .follow(&parameter["schema"])
                .expect("schema resolves");
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
                    let items = self.validator.follow(&schema["items"]).expect("items");
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

    for path in checker.routed_paths() {
        let responses = &document()["paths"][path]["get"]["responses"];
        if responses.get("304").is_some() {
            checker.conditional_requests(path, &valid_target(path));
        }
        for method in ["POST", "DELETE"] {
            let reply = checker.expect(method, path, &valid_target(path), 405);
            assert_eq!(reply.header("allow"), Some("GET"), "{method} {path}");
        }
        let unknown_key = [("X-API-Key", "not-a-known-key-0000")];
        checker.expect_with("GET", path, &valid_target(path), 401, &unknown_key);
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
        limited.expect("GET", path, &valid_target(path), 429);
    }

    // A server that has no index yet: 503 wherever one is documented.
    let starting_app = spawn_on(tempfile::tempdir().expect("temp dir"));
    let mut starting = Checker::new(&starting_app);
    for path in checker.routed_paths() {
        if document()["paths"][path]["get"]["responses"]
            .get("503")
            .is_some()
        {
            starting.expect("GET", path, &valid_target(path), 503);
        }
    }

    // Every documented answer was provoked and checked at least once.
    let mut seen = checker.seen.clone();
    seen.extend(limited.seen);
    seen.extend(starting.seen);
    let mut missing = Vec::new();
    for path in checker.routed_paths() {
        let responses = document()["paths"][path]["get"]["responses"]
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
        let documented = checker
            .validator
            .follow(&parameters[name]["schema"])
            .expect("schema");
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

#[test]
fn the_validator_reports_the_path_of_the_first_violation() {
    let validator = Validator::new(document());
    let search = json!({"$ref": "#/components/schemas/SearchResponse"});
    let valid = app().get_json("/api/v1/search?lat=39.74&lon=-104.99&radius=50&per_page=2");
    validator
        .validate(&search, &valid)
        .unwrap_or_else(|e| panic!("a real answer is valid: {e}"));

    let rejects = |change: &dyn Fn(&mut Value), path: &str| {
        let mut changed = valid.clone();
        change(&mut changed);
        let error = validator
            .validate(&search, &changed)
            .expect_err("the changed answer must be rejected");
        assert!(
            error.starts_with(&format!("{path}: ")),
            "expected a violation at {path}, got: {error}"
        );
    };
    // An extra field, at the top and inside a hit (which closes its
    // provider fields through `unevaluatedProperties`).
    rejects(&|v| v["debug"] = json!(true), "$.debug");
    rejects(
        &|v| v["results"][1]["surprise"] = json!(1),
        "$.results[1].surprise",
    );
    rejects(&|v| v["location"]["zoom"] = json!(3), "$.location");
    // Wrong types, enums and ranges.
    rejects(&|v| v["total"] = json!("12"), "$.total");
    rejects(&|v| v["total"] = json!(1.5), "$.total");
    rejects(
        &|v| v["results"][0]["distance_miles"] = json!("far"),
        "$.results[0].distance_miles",
    );
    rejects(
        &|v| v["results"][0]["latitude"] = json!(null),
        "$.results[0].latitude",
    );
    rejects(
        &|v| v["results"][0]["treatments"][0] = json!("magic"),
        "$.results[0].treatments[0]",
    );
    rejects(
        &|v| v["facets"]["treatments"]["iv_infusion"] = json!(-1),
        "$.facets.treatments.iv_infusion",
    );
    let insurer = valid["facets"]["insurance"]
        .as_object()
        .and_then(|o| o.keys().next().cloned())
        .expect("an insurer in the facets");
    rejects(
        &|v| v["facets"]["insurance"][insurer.as_str()] = json!("many"),
        &child_path("$.facets.insurance", &insurer),
    );
    rejects(&|v| v["sort"] = json!("best"), "$.sort");
    rejects(&|v| v["per_page"] = json!(101), "$.per_page");
    // A missing required field.
    rejects(
        &|v| {
            if let Some(object) = v.as_object_mut() {
                object.remove("generation");
            }
        },
        "$",
    );
    rejects(
        &|v| {
            if let Some(hit) = v["results"][0].as_object_mut() {
                hit.remove("npi");
            }
        },
        "$.results[0]",
    );

    // A problem: closed, with the status its response fixes.
    let not_found = &document()["components"]["responses"]["NotFound"]["content"]["application/problem+json"]
        ["schema"];
    let problem =
        json!({"type": "/problems/not-found", "title": "Not found", "status": 404, "detail": "x"});
    validator
        .validate(not_found, &problem)
        .expect("valid problem");
    let mut extra = problem.clone();
    extra["trace"] = json!("…");
    assert!(
        validator
            .validate(not_found, &extra)
            .is_err_and(|e| e.starts_with("$.trace: "))
    );
    let mut wrong = problem.clone();
    wrong["status"] = json!(400);
    assert!(
        validator
            .validate(not_found, &wrong)
            .is_err_and(|e| e.starts_with("$.status: "))
    );

    // Keywords it does not implement are refused, not ignored.
    let unchecked = json!({"type": "string", "pattern": "^[0-9]{5}$"});
    assert!(
        validator
            .validate(&unchecked, &json!("abc"))
            .is_err_and(|e| e.contains("pattern"))
    );
}

// ---------------------------------------------------------------------------
// The JSON Schema validator (2020-12 semantics, the subset the document uses).

/// Keywords that constrain, all checked below.
const ASSERTIONS: [&str; 19] = [
    "$ref",
    "type",
    "enum",
    "const",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "items",
    "required",
    "properties",
    "additionalProperties",
    "unevaluatedProperties",
    "maxProperties",
    "allOf",
    "anyOf",
    "oneOf",
];

/// Keywords that only annotate (`format` is an annotation by default in
/// JSON Schema 2020-12).
const ANNOTATIONS: [&str; 7] = [
    "description",
    "title",
    "default",
    "examples",
    "format",
    "deprecated",
    "$comment",
];

const TYPES: [&str; 7] = [
    "null", "boolean", "object", "array", "number", "integer", "string",
];

/// Property names a schema evaluated, for `unevaluatedProperties`.
type Evaluated = BTreeSet<String>;

struct Validator<'a> {
    root: &'a Value,
}

impl<'a> Validator<'a> {
    fn new(root: &'a Value) -> Validator<'a> {
        Validator { root }
    }

    /// A local reference (`#/components/schemas/Hit`).
    fn resolve(&self, reference: &str) -> Result<&'a Value, String> {
        let pointer = reference
            .strip_prefix('#')
            .ok_or_else(|| format!("only local references are supported: {reference}"))?;
        self.root
            .pointer(pointer)
            .ok_or_else(|| format!("{reference} does not resolve"))
    }

    /// `value`, or what it refers to when it is a Reference Object.
    fn follow<'v>(&self, value: &'v Value) -> Result<&'v Value, String>
    where
        'a: 'v,
    {
        match value.get("$ref").and_then(Value::as_str) {
            Some(reference) => self.resolve(reference),
            None => Ok(value),
        }
    }

    /// `Ok` when `instance` matches `schema`; otherwise the JSON path of the
    /// first violation found, a colon, and what is wrong.
    fn validate(&self, schema: &Value, instance: &Value) -> Result<(), String> {
        self.check(schema, instance, "$", 0).map(|_| ())
    }

    fn check(
        &self,
        schema: &Value,
        instance: &Value,
        path: &str,
        depth: usize,
    ) -> Result<Evaluated, String> {
        if depth > 64 {
            return Err(format!("{path}: schema references nest too deep"));
        }
        let schema = match schema {
            Value::Bool(true) => return Ok(Evaluated::new()),
            Value::Bool(false) => return Err(format!("{path}: no value is allowed here")),
            Value::Object(schema) => schema,
            other => return Err(format!("{path}: not a schema: {other}")),
        };
        if let Some(keyword) = schema
            .keys()
            .find(|k| !ASSERTIONS.contains(&k.as_str()) && !ANNOTATIONS.contains(&k.as_str()))
        {
            return Err(format!(
                "{path}: the schema uses {keyword:?}, which this validator does not check"
            ));
        }
        let mut evaluated = Evaluated::new();

        if let Some(expected) = schema.get("type") {
            let names: Vec<&str> = match expected {
                Value::String(name) => vec![name.as_str()],
                Value::Array(names) => names.iter().filter_map(Value::as_str).collect(),
                other => return Err(format!("{path}: bad type keyword {other}")),
            };
            if let Some(unknown) = names.iter().find(|n| !TYPES.contains(n)) {
                return Err(format!("{path}: unknown type {unknown:?} in the schema"));
            }
            if !names.iter().any(|name| has_type(instance, name)) {
                return Err(format!(
                    "{path}: expected {}, found {}",
                    names.join(" or "),
                    describe(instance)
                ));
            }
        }
        if let Some(values) = schema.get("enum") {
            let values = values
                .as_array()
                .ok_or_else(|| format!("{path}: enum is not a list"))?;
            if !values.contains(instance) {
                return Err(format!(
                    "{path}: {} is not one of {}",
                    describe(instance),
                    Value::Array(values.clone())
                ));
            }
        }
        if let Some(value) = schema.get("const")
            && value != instance
        {
            return Err(format!(
                "{path}: expected {value}, found {}",
                describe(instance)
            ));
        }
        if let Some(number) = instance.as_f64() {
            if let Some(minimum) = schema.get("minimum").and_then(Value::as_f64)
                && number < minimum
            {
                return Err(format!("{path}: {number} is below the minimum {minimum}"));
            }
            if let Some(maximum) = schema.get("maximum").and_then(Value::as_f64)
                && number > maximum
            {
                return Err(format!("{path}: {number} is above the maximum {maximum}"));
            }
        }
        if let Some(text) = instance.as_str() {
            let length = text.chars().count() as u64;
            if let Some(min) = schema.get("minLength").and_then(Value::as_u64)
                && length < min
            {
                return Err(format!("{path}: {length} characters, fewer than {min}"));
            }
            if let Some(max) = schema.get("maxLength").and_then(Value::as_u64)
                && length > max
            {
                return Err(format!("{path}: {length} characters, more than {max}"));
            }
        }
        if let Some(items) = instance.as_array() {
            let count = items.len() as u64;
            if let Some(min) = schema.get("minItems").and_then(Value::as_u64)
                && count < min
            {
                return Err(format!("{path}: {count} items, fewer than {min}"));
            }
            if let Some(max) = schema.get("maxItems").and_then(Value::as_u64)
                && count > max
            {
                return Err(format!("{path}: {count} items, more than {max}"));
            }
            if let Some(item_schema) = schema.get("items") {
                for (i, item) in items.iter().enumerate() {
                    self.check(item_schema, item, &format!("{path}[{i}]"), depth + 1)?;
                }
            }
        }
        if let Some(object) = instance.as_object() {
            if let Some(required) = schema.get("required").and_then(Value::as_array) {
                for name in required.iter().filter_map(Value::as_str) {
                    if !object.contains_key(name) {
                        return Err(format!("{path}: the required property {name:?} is missing"));
                    }
                }
            }
            if let Some(max) = schema.get("maxProperties").and_then(Value::as_u64)
                && object.len() as u64 > max
            {
                return Err(format!(
                    "{path}: {} properties, more than {max}",
                    object.len()
                ));
            }
            let properties = schema.get("properties").and_then(Value::as_object);
            for (name, value) in object {
                let child = child_path(path, name);
                match properties.and_then(|p| p.get(name)) {
                    Some(property) => {
                        self.check(property, value, &child, depth + 1)?;
                        evaluated.insert(name.clone());
                    }
                    None => match schema.get("additionalProperties") {
                        None => {}
                        Some(Value::Bool(false)) => {
                            return Err(format!(
                                "{child}: unexpected property (additionalProperties: false)"
                            ));
                        }
                        Some(additional) => {
                            self.check(additional, value, &child, depth + 1)?;
                            evaluated.insert(name.clone());
                        }
                    },
                }
            }
        }
        if let Some(reference) = schema.get("$ref") {
            let reference = reference
                .as_str()
                .ok_or_else(|| format!("{path}: $ref is not a string"))?;
            let target = self
                .resolve(reference)
                .map_err(|e| format!("{path}: {e}"))?;
            evaluated.extend(self.check(target, instance, path, depth + 1)?);
        }
        if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
            for branch in all {
                evaluated.extend(self.check(branch, instance, path, depth + 1)?);
            }
        }
        for keyword in ["anyOf", "oneOf"] {
            let Some(branches) = schema.get(keyword).and_then(Value::as_array) else {
                continue;
            };
            let mut matched = 0;
            let mut failures = Vec::new();
            for branch in branches {
                match self.check(branch, instance, path, depth + 1) {
                    Ok(names) => {
                        matched += 1;
                        evaluated.extend(names);
                    }
                    Err(failure) => failures.push(failure),
                }
            }
            if matched == 0 {
                return Err(format!(
                    "{path}: matches none of the {keyword} schemas ({})",
                    failures.join("; ")
                ));
            }
            if keyword == "oneOf" && matched > 1 {
                return Err(format!("{path}: matches {matched} of the oneOf schemas"));
            }
        }
        // Last: it needs what every other keyword evaluated.
        if let (Some(unevaluated), Some(object)) =
            (schema.get("unevaluatedProperties"), instance.as_object())
        {
            for (name, value) in object {
                if evaluated.contains(name) {
                    continue;
                }
                let child = child_path(path, name);
                if unevaluated.as_bool() == Some(false) {
                    return Err(format!(
                        "{child}: unexpected property (unevaluatedProperties: false)"
                    ));
                }
                self.check(unevaluated, value, &child, depth + 1)?;
                evaluated.insert(name.clone());
            }
        }
        Ok(evaluated)
    }

    /// Checks that a schema only uses supported keywords and known types,
    /// in every subschema, whether or not an answer reaches it.
    fn check_schema(&self, schema: &Value) -> Result<(), String> {
        let Value::Object(map) = schema else {
            return match schema {
                Value::Bool(_) => Ok(()),
                other => Err(format!("not a schema: {other}")),
            };
        };
        for (keyword, value) in map {
            if !ASSERTIONS.contains(&keyword.as_str()) && !ANNOTATIONS.contains(&keyword.as_str()) {
                return Err(format!("unsupported keyword {keyword:?}"));
            }
            match keyword.as_str() {
                "$ref" => {
                    self.resolve(value.as_str().ok_or("$ref is not a string")?)?;
                }
                "type" => {
                    let names: Vec<&Value> = match value {
                        Value::Array(names) => names.iter().collect(),
                        single => vec![single],
                    };
                    for name in names {
                        if !name.as_str().is_some_and(|n| TYPES.contains(&n)) {
                            return Err(format!("unknown type {name}"));
                        }
                    }
                }
                "items" | "additionalProperties" | "unevaluatedProperties" => {
                    self.check_schema(value)?
                }
                "properties" => {
                    for (name, property) in value.as_object().ok_or("properties is not a map")? {
                        self.check_schema(property)
                            .map_err(|e| format!("properties/{name}: {e}"))?;
                    }
                }
                "allOf" | "anyOf" | "oneOf" => {
                    for branch in value.as_array().ok_or("not a list of schemas")? {
                        self.check_schema(branch)?;
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }
}

fn has_type(instance: &Value, name: &str) -> bool {
    match name {
        "null" => instance.is_null(),
        "boolean" => instance.is_boolean(),
        "object" => instance.is_object(),
        "array" => instance.is_array(),
        "string" => instance.is_string(),
        "number" => instance.is_number(),
        // JSON Schema counts 1.0 as an integer.
        "integer" => {
            instance.is_i64()
                || instance.is_u64()
                || instance.as_f64().is_some_and(|n| n.fract() == 0.0)
        }
        _ => false,
    }
}

/// The instance's type and a short rendering of it, for messages.
fn describe(instance: &Value) -> String {
    let kind = match instance {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    let mut shown = instance.to_string();
    if shown.chars().count() > 60 {
        shown = shown.chars().take(60).collect::<String>() + "…";
    }
    format!("{kind} {shown}")
}

/// `$.a.b`, or `$.a["not an identifier"]`.
fn child_path(path: &str, name: &str) -> String {
    let plain = !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit());
    if plain {
        format!("{path}.{name}")
    } else {
        format!("{path}[{}]", Value::String(name.to_string()))
    }
}
