//! Listing reports (docs/api.md, "Reporting a wrong listing"; README.md) end to end, on the real server and a real
//! database: the profile's form with JavaScript off, the partner JSON
//! route and its hostile inputs, the hourly limit, repeats, the honeypot,
//! imports that drop providers, restarts, a server killed mid-write,
//! replicas sharing the queue, the admin's list (JSON, CSV), resolutions
//! (JSON, and the page with its CSRF token), `/admin/status` (queue and
//! freshness) and `/metrics`.
//!
//! Every scenario runs on SQLite (the default: a file in the index
//! directory) and, when `KETADIR_TEST_DATABASE_URL` names a PostgreSQL
//! database, again on PostgreSQL, in a schema of its own (created here,
//! dropped at the end), so that tests running in parallel never see each
//! other's rows. Without that variable the PostgreSQL runs are skipped
//! with a note on stderr — unless `CI` is set, where that is a failure.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ketadir::clock::{format_utc, unix_now};
use ketadir::index::ImportOptions;
use ketadir::reports::DatabaseSettings;
use ketadir::routes::admin::AdminSettings;
use ketadir::routes::client_ip::TrustedProxies;
use ketadir::startup::HttpSettings;
use serde_json::{Value, json};

use super::helpers::{HEADER, Reply, TestApp, denver_csv, import, spawn_app_with, spawn_replica};

const TOKEN: &str = "reports-admin-token-0123456789";

// ---------------------------------------------------------------------------
// The databases a scenario runs on.

/// A PostgreSQL schema of one test, dropped when the test ends.
struct PgSchema {
    base: String,
    schema: String,
    /// `base` with the schema as the connection's `search_path`.
    url: String,
}

/// Runs one statement on PostgreSQL.
fn run_sql(url: &str, sql: &str) -> Result<(), String> {
    use sqlx::Connection;
    actix_web::rt::System::new().block_on(async {
        let mut connection = sqlx::PgConnection::connect(url)
            .await
            .map_err(|e| format!("cannot connect to {url}: {e}"))?;
        sqlx::query(sql)
            .execute(&mut connection)
            .await
            .map_err(|e| format!("{sql}: {e}"))?;
        connection.close().await.map_err(|e| e.to_string())
    })
}

impl PgSchema {
    fn new(base: &str, test: &str) -> PgSchema {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let schema = format!(
            "t_{}_{:x}{:x}",
            test.chars().take(30).collect::<String>(),
            std::process::id(),
            nanos
        );
        run_sql(base, &format!("CREATE SCHEMA {schema}"))
            .unwrap_or_else(|e| panic!("KETADIR_TEST_DATABASE_URL: {e}"));
        let separator = if base.contains('?') { '&' } else { '?' };
        PgSchema {
            url: format!("{base}{separator}options[search_path]={schema}"),
            base: base.to_string(),
            schema,
        }
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        if let Err(error) = run_sql(
            &self.base,
            &format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema),
        ) {
            eprintln!("could not drop the test schema {}: {error}", self.schema);
        }
    }
}

enum TestDb {
    Sqlite,
    Postgres(PgSchema),
}

impl TestDb {
    /// SQLite, and PostgreSQL when `KETADIR_TEST_DATABASE_URL` is set
    /// (which CI must do).
    fn all(test: &str) -> Vec<TestDb> {
        let mut databases = vec![TestDb::Sqlite];
        match std::env::var("KETADIR_TEST_DATABASE_URL") {
            Ok(url) if !url.trim().is_empty() => {
                databases.push(TestDb::Postgres(PgSchema::new(url.trim(), test)));
            }
            _ if std::env::var_os("CI").is_some() => panic!(
                "CI is set but KETADIR_TEST_DATABASE_URL is not: the report tests must also run \
                 on PostgreSQL (.ci/run starts one and sets it)"
            ),
            _ => eprintln!(
                "SKIPPED PostgreSQL for {test}: set KETADIR_TEST_DATABASE_URL=postgres://… to \
                 run it there too (it ran on SQLite)"
            ),
        }
        databases
    }

    fn settings(&self) -> DatabaseSettings {
        match self {
            TestDb::Sqlite => DatabaseSettings::default(),
            TestDb::Postgres(schema) => DatabaseSettings {
                url: Some(schema.url.clone()),
            },
        }
    }

    fn name(&self) -> &'static str {
        match self {
            TestDb::Sqlite => "SQLite",
            TestDb::Postgres(_) => "PostgreSQL",
        }
    }
}

/// The settings of a report test's server: the admin token, the loopback
/// address as a trusted proxy (so a test can be many clients through
/// `X-Forwarded-For`), and the database.
fn settings(db: &TestDb) -> HttpSettings {
    HttpSettings {
        admin: AdminSettings {
            token: Some(TOKEN.into()),
            max_upload_bytes: 1 << 20,
            ..AdminSettings::default()
        },
        trusted_proxies: TrustedProxies(vec!["127.0.0.1".parse().expect("an address")]),
        database: db.settings(),
        ..HttpSettings::default()
    }
}

fn app(db: &TestDb, csv: &str) -> TestApp {
    spawn_app_with(csv, settings(db))
}

// ---------------------------------------------------------------------------
// Data and requests.

fn days_ago(days: u64) -> String {
    format_utc(unix_now() - days * 86_400)[..10].to_string()
}

/// `denver_csv` with `last_verified`: of every five providers two were
/// verified within 90 days, one within 12 months, one longer ago and one
/// never.
fn listings(prefix: &str, count: usize) -> String {
    let mut csv = format!("{HEADER},last_verified\n");
    for (n, line) in denver_csv(prefix, count).lines().skip(1).enumerate() {
        let verified = match n % 5 {
            0 => days_ago(10),
            1 => days_ago(200),
            2 => days_ago(800),
            3 => String::new(),
            _ => days_ago(45),
        };
        csv.push_str(&format!("{line},{verified}\n"));
    }
    csv
}

/// The CSV without the providers named in `dropped`.
fn without(csv: &str, dropped: &[&str]) -> String {
    csv.lines()
        .filter(|line| !dropped.iter().any(|id| line.starts_with(&format!("{id},"))))
        .map(|line| format!("{line}\n"))
        .collect()
}

fn bearer() -> String {
    format!("Bearer {TOKEN}")
}

/// `POST /api/v1/providers/{provider}/reports` from `client` (an address
/// forwarded by the trusted loopback proxy; `None`: loopback itself).
fn send_report(app: &TestApp, provider: &str, body: &[u8], client: Option<&str>) -> Reply {
    let mut headers = vec![("Content-Type", "application/json")];
    if let Some(client) = client {
        headers.push(("X-Forwarded-For", client));
    }
    app.send(
        "POST",
        &format!("/api/v1/providers/{provider}/reports"),
        &headers,
        body,
    )
}

fn report(app: &TestApp, provider: &str, body: &Value, client: &str) -> Reply {
    send_report(app, provider, body.to_string().as_bytes(), Some(client))
}

/// A report that must be accepted; its id.
fn accepted(app: &TestApp, provider: &str, body: &Value, client: &str) -> String {
    let reply = report(app, provider, body, client);
    assert_eq!(reply.status, 202, "{provider} {body}: {}", reply.body);
    assert_eq!(reply.content_type, "application/json");
    let answer = reply.json();
    let id = answer["id"].as_str().expect("an id").to_string();
    assert!(
        id.len() == 18 && id.starts_with("r-"),
        "report ids are r- and 16 hex digits: {id}"
    );
    id
}

/// `GET /admin/reports?format=json&status=…` → the reports.
fn listed(app: &TestApp, status: &str) -> Vec<Value> {
    let auth = bearer();
    let reply = app.request(
        "GET",
        &format!("/admin/reports?format=json&status={status}"),
        &[("Authorization", auth.as_str())],
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    reply.json()["reports"]
        .as_array()
        .expect("a list of reports")
        .clone()
}

fn find<'a>(reports: &'a [Value], id: &str) -> &'a Value {
    reports
        .iter()
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("report {id} is not listed: {reports:?}"))
}

fn form(app: &TestApp, provider: &str, body: &str, headers: &[(&str, &str)]) -> Reply {
    let mut all = vec![("Content-Type", "application/x-www-form-urlencoded")];
    all.extend_from_slice(headers);
    app.send(
        "POST",
        &format!("/providers/{provider}/report"),
        &all,
        body.as_bytes(),
    )
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

/// Signs in to the admin page; the `Cookie` header to send back.
fn sign_in(app: &TestApp) -> String {
    let body: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("token", TOKEN)
        .finish();
    let reply = app.send(
        "POST",
        "/admin/login",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        body.as_bytes(),
    );
    assert_eq!(reply.status, 303, "{}", reply.body);
    reply
        .header("set-cookie")
        .and_then(|c| c.split(';').next())
        .expect("a session cookie")
        .to_string()
}

fn csrf_of(page: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = page.find(marker).expect("a csrf field") + marker.len();
    page[start..]
        .split('"')
        .next()
        .expect("a value")
        .to_string()
}

/// Polls `check` for up to 15 s.
fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let started = Instant::now();
    while !check() {
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "not within 15 s: {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Sends raw bytes on a new connection and reads the answer until the
/// server closes it or 30 s pass.
fn raw(app: &TestApp, request: &[u8]) -> String {
    let address = app.address.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).expect("connects");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let _ = stream.write_all(request);
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => answer.extend_from_slice(&buffer[..n]),
        }
        let text = String::from_utf8_lossy(&answer);
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().to_string())
                })
                .and_then(|v| v.parse::<usize>().ok());
            if length.is_some_and(|length| body.len() >= length) {
                break;
            }
        }
    }
    String::from_utf8_lossy(&answer).into_owned()
}

// ---------------------------------------------------------------------------
// The scenarios.

#[test]
fn a_report_from_the_profile_form_without_javascript_reaches_the_queue() {
    for db in TestDb::all("form") {
        let app = app(&db, &listings("f", 10));
        let profile = app.get("/providers/f-1");
        assert_eq!(profile.status, 200);
        let page = &profile.body;
        for part in [
            "action=\"/providers/f-1/report\"",
            "method=\"post\"",
            "name=\"reason\" value=\"phone\"",
            "name=\"reason\" value=\"no_ketamine\"",
            "name=\"reason\" value=\"other\"",
            "name=\"details\"",
            "maxlength=\"1000\"",
            "<div class=\"report-hp\" aria-hidden=\"true\">",
            "name=\"website_url\" value=\"\" tabindex=\"-1\"",
        ] {
            assert!(
                page.contains(part),
                "{}: the profile lacks {part}",
                db.name()
            );
        }
        // The strict CSP stays: no inline style or script was added.
        assert!(
            profile
                .header("content-security-policy")
                .is_some_and(|csp| csp.contains("default-src 'none'"))
        );
        assert!(!page.contains("style="), "no inline style");
        assert_eq!(
            page.matches("<script").count(),
            2,
            "only the JSON-LD block and the site's script file"
        );

        // What a browser with JavaScript off sends.
        let sent = form(
            &app,
            "f-1",
            "reason=phone&reason=price&details=The+number+is+disconnected.%0D%0ACall+the+other+one.&website_url=",
            &[("X-Forwarded-For", "198.51.100.1")],
        );
        assert_eq!(sent.status, 303, "{}: {}", db.name(), sent.body);
        let location = sent.header("location").expect("a redirect").to_string();
        assert_eq!(location, "/providers/f-1/report?sent=1");
        let thanks = app.get(&location);
        assert_eq!(thanks.status, 200);
        assert!(thanks.body.contains("Thank you"), "{}", thanks.body);
        assert!(
            thanks
                .body
                .contains("An admin checks it against the provider")
        );
        assert!(thanks.body.contains("next time the directory is updated"));
        assert_eq!(thanks.header("cache-control"), Some("no-store"));

        let open = listed(&app, "open");
        assert_eq!(open.len(), 1, "{open:?}");
        let stored = &open[0];
        assert_eq!(stored["provider_id"], "f-1");
        assert_eq!(stored["reasons"], json!(["phone", "price"]));
        assert_eq!(
            stored["details"],
            "The number is disconnected.\nCall the other one."
        );
        assert_eq!(stored["status"], "open");
        assert_eq!(stored["resolution"], Value::Null);

        // The honeypot: thanked, never stored.
        let robot = form(
            &app,
            "f-2",
            "reason=closed&details=buy+now&website_url=http%3A%2F%2Fspam.example",
            &[("X-Forwarded-For", "198.51.100.2")],
        );
        assert_eq!(robot.status, 303);
        assert_eq!(
            robot.header("location"),
            Some("/providers/f-2/report?sent=1")
        );
        assert_eq!(listed(&app, "all").len(), 1, "the honeypot stored nothing");

        // Refusals are pages that say what to fix, with the form refilled.
        let other = form(
            &app,
            "f-3",
            "reason=other&details=+++&website_url=",
            &[("X-Forwarded-For", "198.51.100.3")],
        );
        assert_eq!(other.status, 400);
        assert!(other.content_type.starts_with("text/html"));
        assert!(other.body.contains("Something else"), "{}", other.body);
        assert!(other.body.contains("value=\"other\" checked"));
        let nothing = form(&app, "f-3", "details=hello", &[]);
        assert_eq!(nothing.status, 400);
        assert!(nothing.body.contains("at least one thing"));
        assert!(nothing.body.contains(">hello</textarea>"));
        let unknown = form(&app, "nobody", "reason=phone", &[]);
        assert_eq!(unknown.status, 404);
        assert!(unknown.content_type.starts_with("text/html"));
        let cross = form(
            &app,
            "f-3",
            "reason=phone",
            &[("Sec-Fetch-Site", "cross-site")],
        );
        assert_eq!(cross.status, 403);
        let wrong_type = app.send(
            "POST",
            "/providers/f-3/report",
            &[("Content-Type", "text/plain")],
            b"reason=phone",
        );
        assert_eq!(wrong_type.status, 415);
        assert!(wrong_type.content_type.starts_with("text/html"));
        assert_eq!(listed(&app, "all").len(), 1, "no refusal was stored");

        // The form on a page of its own, and the methods it answers.
        let alone = app.get("/providers/f-3/report");
        assert_eq!(alone.status, 200);
        assert!(alone.body.contains("Report a problem with"));
        assert!(alone.body.contains("action=\"/providers/f-3/report\""));
        let put = app.request("PUT", "/providers/f-3/report", &[]);
        assert_eq!(put.status, 405);
        assert_eq!(put.header("allow"), Some("GET, HEAD, POST"));
        assert_eq!(app.get("/providers/nobody/report").status, 404);
    }
}

#[test]
fn the_json_route_accepts_reports_and_refuses_hostile_input() {
    for db in TestDb::all("json") {
        let app = app(&db, &listings("j", 10));
        let closed = accepted(
            &app,
            "j-1",
            &json!({"reasons": ["closed"], "details": "Closed since May."}),
            "198.51.100.1",
        );
        let reply = report(&app, "j-2", &json!({"reasons": ["phone"]}), "198.51.100.2");
        assert_eq!(reply.status, 202);
        assert_eq!(reply.json()["status"], "open");
        assert_eq!(reply.header("cache-control"), Some("no-store"));
        // SQL metacharacters are text like any other.
        let sql = "'); DROP TABLE reports; -- \" OR 1=1; \\ $1 ?";
        let quoted = accepted(
            &app,
            "j-3",
            &json!({"reasons": ["other"], "details": sql}),
            "198.51.100.3",
        );

        let long = "x".repeat(1_001);
        let deep = format!("{}{}", "[".repeat(300), "]".repeat(300));
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (b"{}".to_vec(), "reasons"),
            (br#"{"reasons": []}"#.to_vec(), "reasons"),
            (br#"{"reasons": "phone"}"#.to_vec(), "reasons"),
            (br#"{"reasons": [1, 2]}"#.to_vec(), "reasons"),
            (br#"{"reasons": [null]}"#.to_vec(), "reasons"),
            (br#"{"reasons": ["phone", "bogus"]}"#.to_vec(), "reasons"),
            (br#"{"reasons": ["PHONE"]}"#.to_vec(), "reasons"),
            (br#"{"reasons": ["other"]}"#.to_vec(), "details"),
            (
                br#"{"reasons": ["other"], "details": "   "}"#.to_vec(),
                "details",
            ),
            (
                br#"{"reasons": ["phone"], "details": 5}"#.to_vec(),
                "details",
            ),
            (
                br#"{"reasons": ["phone"], "details": {"a": 1}}"#.to_vec(),
                "details",
            ),
            (
                json!({"reasons": ["phone"], "details": long})
                    .to_string()
                    .into_bytes(),
                "details",
            ),
            (
                json!({"reasons": ["phone"], "details": "nul \u{0} byte"})
                    .to_string()
                    .into_bytes(),
                "details",
            ),
            (
                json!({"reasons": ["phone"], "details": "\u{1b}[2J escape"})
                    .to_string()
                    .into_bytes(),
                "details",
            ),
            (
                json!({"reasons": ["phone"], "details": "\u{202e}reversed"})
                    .to_string()
                    .into_bytes(),
                "details",
            ),
            (b"\xff\xfe\x00{".to_vec(), "body"),
            (b"{\"reasons\": [\"ph\xc3\x28one\"]}".to_vec(), "body"),
            (b"not json".to_vec(), "body"),
            (b"".to_vec(), "body"),
            (b"[]".to_vec(), "body"),
            (b"null".to_vec(), "body"),
            (b"\"phone\"".to_vec(), "body"),
            (deep.into_bytes(), "body"),
        ];
        for (body, field) in cases {
            let reply = send_report(&app, "j-4", &body, Some("198.51.100.4"));
            let shown = String::from_utf8_lossy(&body)
                .chars()
                .take(80)
                .collect::<String>();
            assert_eq!(reply.status, 400, "{}: {shown}: {}", db.name(), reply.body);
            assert_eq!(reply.content_type, "application/problem+json");
            assert_eq!(reply.json()["type"], "/problems/invalid-parameters");
            assert!(
                problem_names(&reply).contains(&field.to_string()),
                "{shown}: {field} not named in {}",
                reply.body
            );
        }

        // Unknown providers, whatever their id looks like.
        for provider in [
            "nobody",
            "%00",
            "'%3B%20DROP%20TABLE%20reports%3B--",
            "j-1%0A",
        ] {
            let reply = send_report(
                &app,
                provider,
                br#"{"reasons": ["phone"]}"#,
                Some("198.51.100.5"),
            );
            assert_eq!(reply.status, 404, "{provider}: {}", reply.body);
            assert_eq!(reply.json()["type"], "/problems/not-found");
        }
        // Not JSON: 415.
        for content_type in [
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ] {
            let reply = app.send(
                "POST",
                "/api/v1/providers/j-5/reports",
                &[("Content-Type", content_type)],
                br#"{"reasons": ["phone"]}"#,
            );
            assert_eq!(reply.status, 415, "{content_type}");
            assert_eq!(reply.content_type, "application/problem+json");
        }
        let untyped = app.send("POST", "/api/v1/providers/j-5/reports", &[], b"{}");
        assert_eq!(untyped.status, 415);
        let gzipped = app.send(
            "POST",
            "/api/v1/providers/j-5/reports",
            &[
                ("Content-Type", "application/json"),
                ("Content-Encoding", "gzip"),
            ],
            b"\x1f\x8b",
        );
        assert_eq!(gzipped.status, 415);
        // Too large: declared, and streamed without a length.
        let huge = format!(
            "{{\"reasons\": [\"phone\"], \"details\": \"{}\"}}",
            "y".repeat(17_000)
        );
        let reply = send_report(&app, "j-5", huge.as_bytes(), Some("198.51.100.6"));
        assert_eq!(reply.status, 413);
        assert_eq!(reply.content_type, "application/problem+json");
        let address = app.address.trim_start_matches("http://").to_string();
        let mut chunked = format!(
            "POST /api/v1/providers/j-5/reports HTTP/1.1\r\nHost: {address}\r\n\
             Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        )
        .into_bytes();
        for _ in 0..5 {
            chunked
                .extend_from_slice(format!("{:x}\r\n{}\r\n", 4_096, "z".repeat(4_096)).as_bytes());
        }
        chunked.extend_from_slice(b"0\r\n\r\n");
        let answer = raw(&app, &chunked);
        assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
        // Other methods: 405 naming POST.
        let get = app.get("/api/v1/providers/j-1/reports");
        assert_eq!(get.status, 405);
        assert_eq!(get.header("allow"), Some("POST"));
        assert_eq!(get.content_type, "application/problem+json");
        // Partners may send reports from their own pages (CORS).
        let preflight = app.request(
            "OPTIONS",
            "/api/v1/providers/j-1/reports",
            &[
                ("Origin", "https://partner.example"),
                ("Access-Control-Request-Method", "POST"),
                ("Access-Control-Request-Headers", "content-type"),
            ],
        );
        assert_eq!(preflight.status, 200, "{}", preflight.body);
        assert!(
            preflight
                .header("access-control-allow-methods")
                .is_some_and(|m| m.contains("POST")),
            "{:?}",
            preflight.headers
        );

        let all = listed(&app, "all");
        assert_eq!(
            all.len(),
            3,
            "{}: only the valid reports are stored",
            db.name()
        );
        assert_eq!(find(&all, &quoted)["details"], sql);
        assert_eq!(find(&all, &closed)["reasons"], json!(["closed"]));
    }
}

#[test]
fn five_reports_an_hour_per_client_and_repeats_count_once() {
    for db in TestDb::all("limits") {
        let app = app(&db, &listings("l", 12));
        let phone = json!({"reasons": ["phone"]});
        let a = "198.51.100.7";
        let ids: Vec<String> = (0..5)
            .map(|n| accepted(&app, &format!("l-{n}"), &phone, a))
            .collect();
        let over = report(&app, "l-5", &phone, a);
        assert_eq!(over.status, 429, "{}: {}", db.name(), over.body);
        assert_eq!(over.content_type, "application/problem+json");
        assert_eq!(over.json()["type"], "/problems/too-many-reports");
        let wait: u64 = over
            .header("retry-after")
            .and_then(|v| v.parse().ok())
            .expect("Retry-After in seconds");
        assert!((3_500..=3_600).contains(&wait), "{wait}");
        // A repeat (same client, provider and reason) answers the earlier
        // report, even over the limit, and is not stored again.
        let repeat = report(
            &app,
            "l-0",
            &json!({"reasons": ["phone"], "details": "again"}),
            a,
        );
        assert_eq!(repeat.status, 202);
        assert_eq!(repeat.json()["id"], ids[0].as_str());
        assert_eq!(repeat.json()["status"], "open");
        // Another client has its own budget; its repeats count per reason.
        let b = "198.51.100.8";
        let first = accepted(&app, "l-0", &phone, b);
        assert_ne!(first, ids[0]);
        let second = accepted(&app, "l-0", &json!({"reasons": ["phone", "price"]}), b);
        assert_ne!(second, first);
        let again = accepted(&app, "l-0", &json!({"reasons": ["price", "phone"]}), b);
        assert_eq!(
            again, first,
            "both reasons were sent within 24 h: the report of the first one (phone) answers"
        );
        let all = listed(&app, "all");
        assert_eq!(find(&all, &second)["reasons"], json!(["price"]));
        // Loopback clients are limited like any other.
        for n in 0..5 {
            let reply = send_report(
                &app,
                &format!("l-{n}"),
                br#"{"reasons": ["address"]}"#,
                None,
            );
            assert_eq!(reply.status, 202, "{}", reply.body);
        }
        let reply = send_report(&app, "l-6", br#"{"reasons": ["address"]}"#, None);
        assert_eq!(reply.status, 429);
        // An IPv6 client counts by its /64.
        for n in 1..=5 {
            let client = format!("2001:db8:1:2::{n}");
            accepted(
                &app,
                &format!("l-{n}"),
                &json!({"reasons": ["website"]}),
                &client,
            );
        }
        let reply = report(
            &app,
            "l-7",
            &json!({"reasons": ["website"]}),
            "2001:db8:1:2:ffff::9",
        );
        assert_eq!(reply.status, 429);
        // The form over the limit: a page that says when to try again.
        let page = form(&app, "l-8", "reason=closed", &[("X-Forwarded-For", a)]);
        assert_eq!(page.status, 429);
        assert!(page.content_type.starts_with("text/html"));
        assert!(page.header("retry-after").is_some());
        assert!(page.body.contains("try again in"), "{}", page.body);

        assert_eq!(listed(&app, "all").len(), 5 + 2 + 5 + 5);
    }
}

#[test]
fn imports_that_drop_a_provider_close_its_reports_and_the_rest_survive() {
    for db in TestDb::all("imports") {
        let csv = listings("i", 10);
        let app = app(&db, &csv);
        let kept = accepted(&app, "i-1", &json!({"reasons": ["phone"]}), "198.51.100.1");
        let dropped_by_upload =
            accepted(&app, "i-2", &json!({"reasons": ["closed"]}), "198.51.100.2");
        let dropped_by_cli = accepted(&app, "i-3", &json!({"reasons": ["price"]}), "198.51.100.3");

        // An admin upload without i-2: generation 2 closes its report at once.
        let auth = bearer();
        let upload = app.send(
            "POST",
            "/admin/reindex",
            &[
                ("Authorization", auth.as_str()),
                ("Content-Type", "text/csv"),
            ],
            without(&csv, &["i-2"]).as_bytes(),
        );
        assert_eq!(upload.status, 200, "{}", upload.body);
        assert_eq!(upload.json()["generation"], 2);
        let all = listed(&app, "all");
        let closed = find(&all, &dropped_by_upload);
        assert_eq!(closed["status"], "resolved", "{}: {closed}", db.name());
        assert_eq!(closed["resolution"], "listing_removed");
        assert_eq!(closed["generation"], 2);
        assert!(closed["resolved_at"].is_string());
        assert_eq!(find(&all, &kept)["status"], "open");
        assert_eq!(find(&all, &dropped_by_cli)["status"], "open");

        // An import by the CLI's code path (no HTTP): the server closes the
        // reports when it picks the generation up.
        let outcome = import(
            &app.index_dir(),
            &without(&csv, &["i-2", "i-3"]),
            &ImportOptions::default(),
        );
        assert_eq!(outcome.generation, Some(3), "{:?}", outcome.rejection);
        app.wait_for_generation(3, Duration::from_secs(10));
        eventually(
            "the CLI import's dropped provider has its report closed",
            || find(&listed(&app, "all"), &dropped_by_cli)["generation"] == 3,
        );
        let all = listed(&app, "all");
        assert_eq!(find(&all, &dropped_by_cli)["resolution"], "listing_removed");
        assert_eq!(find(&all, &kept)["status"], "open");
        // A report of a listed provider survives re-imports and a rollback.
        let rollback = app.request(
            "POST",
            "/admin/rollback",
            &[("Authorization", auth.as_str())],
        );
        assert_eq!(rollback.status, 200, "{}", rollback.body);
        let open = listed(&app, "open");
        assert_eq!(open.len(), 1);
        assert_eq!(open[0]["id"], kept.as_str());

        // A restarted server on the same index directory and database sees
        // the same queue.
        let restarted = spawn_replica(app.index_dir().root(), settings(&db));
        let before: Vec<Value> = listed(&app, "all");
        assert_eq!(listed(&restarted, "all"), before);
    }
}

#[test]
fn admins_list_resolve_and_download_reports() {
    for db in TestDb::all("admin") {
        let app = app(&db, &listings("a", 10));
        // Leading white space is trimmed, so a tab never starts a stored cell:
        // "\t=cmd" is stored as "=cmd".
        let formulas = [
            "=1+1",
            "+15551234",
            "-2+3",
            "@SUM(A1)",
            "\t=cmd",
            "<b>bold</b>, \"quoted\"\nline two",
        ];
        let ids: Vec<String> = formulas
            .iter()
            .enumerate()
            .map(|(n, details)| {
                accepted(
                    &app,
                    &format!("a-{n}"),
                    &json!({"reasons": ["other"], "details": details}),
                    &format!("198.51.100.{}", n + 10),
                )
            })
            .collect();

        // JSON: one object per report, with exactly the documented fields.
        let open = listed(&app, "open");
        assert_eq!(open.len(), formulas.len());
        let mut keys: Vec<&String> = open[0].as_object().expect("object").keys().collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "created_at",
                "details",
                "generation",
                "id",
                "note",
                "provider_id",
                "reasons",
                "resolution",
                "resolved_at",
                "status"
            ]
        );
        let created = open[0]["created_at"].as_str().expect("a timestamp");
        assert!(
            created.len() == 20 && created.ends_with('Z') && created.contains('T'),
            "{created}"
        );

        // Resolve with JSON.
        let auth = bearer();
        let resolve = |id: &str, body: &[u8], headers: &[(&str, &str)]| {
            app.send(
                "POST",
                &format!("/admin/reports/{id}/resolve"),
                headers,
                body,
            )
        };
        let json_headers = [
            ("Authorization", auth.as_str()),
            ("Content-Type", "application/json"),
        ];
        let done = resolve(
            &ids[0],
            br#"{"resolution": "fixed", "note": "Number corrected in the CSV"}"#,
            &json_headers,
        );
        assert_eq!(done.status, 200, "{}", done.body);
        let resolved = done.json();
        assert_eq!(resolved["status"], "resolved");
        assert_eq!(resolved["resolution"], "fixed");
        assert_eq!(resolved["note"], "Number corrected in the CSV");
        assert_eq!(
            resolve(&ids[0], br#"{"resolution": "dismissed"}"#, &json_headers).status,
            409
        );
        assert_eq!(
            resolve(
                "r-0000000000000000",
                br#"{"resolution": "fixed"}"#,
                &json_headers
            )
            .status,
            404
        );
        assert_eq!(
            resolve("%00", br#"{"resolution": "fixed"}"#, &json_headers).status,
            404
        );
        let bad = resolve(
            &ids[1],
            br#"{"resolution": "listing_removed"}"#,
            &json_headers,
        );
        assert_eq!(bad.status, 400);
        assert_eq!(problem_names(&bad), ["resolution"]);
        let long_note = json!({"resolution": "fixed", "note": "n".repeat(501)}).to_string();
        let bad = resolve(&ids[1], long_note.as_bytes(), &json_headers);
        assert_eq!(bad.status, 400);
        assert_eq!(problem_names(&bad), ["note"]);
        assert_eq!(
            resolve(&ids[1], b"{}", &[("Content-Type", "application/json")]).status,
            401
        );
        assert_eq!(
            resolve(
                &ids[1],
                b"resolution=fixed",
                &[
                    ("Authorization", auth.as_str()),
                    ("Content-Type", "text/plain")
                ]
            )
            .status,
            415
        );
        assert_eq!(listed(&app, "open").len(), formulas.len() - 1);
        assert_eq!(listed(&app, "resolved").len(), 1);
        assert_eq!(listed(&app, "all").len(), formulas.len());

        // CSV: every formula defused, quoting kept.
        let csv = app.request(
            "GET",
            "/admin/reports?format=csv&status=all",
            &[("Authorization", auth.as_str())],
        );
        assert_eq!(csv.status, 200);
        assert_eq!(csv.content_type, "text/csv; charset=utf-8");
        let mut reader = csv::Reader::from_reader(csv.body.as_bytes());
        let header: Vec<String> = reader
            .headers()
            .expect("a header")
            .iter()
            .map(str::to_string)
            .collect();
        assert_eq!(header[..4], ["id", "provider_id", "reasons", "details"]);
        let details: Vec<String> = reader
            .records()
            .map(|r| r.expect("a valid row")[3].to_string())
            .collect();
        for expected in [
            "'=1+1",
            "'+15551234",
            "'-2+3",
            "'@SUM(A1)",
            "'=cmd",
            "<b>bold</b>, \"quoted\"\nline two",
        ] {
            assert!(
                details.iter().any(|d| d == expected),
                "{expected:?} not in {details:?}"
            );
        }
        // Auth and parameters.
        assert_eq!(app.get("/admin/reports?format=json").status, 401);
        let wrong = app.request(
            "GET",
            "/admin/reports?format=xml",
            &[("Authorization", auth.as_str())],
        );
        assert_eq!(wrong.status, 400);
        assert_eq!(problem_names(&wrong), ["format"]);
        let wrong = app.request(
            "GET",
            "/admin/reports?format=json&status=closed",
            &[("Authorization", auth.as_str())],
        );
        assert_eq!(problem_names(&wrong), ["status"]);

        // The page: the sign-in form without a session; with one, the open
        // reports grouped by provider, escaped, each with a CSRF form.
        let anonymous = app.get("/admin/reports");
        assert_eq!(anonymous.status, 200);
        assert!(anonymous.body.contains("action=\"/admin/login\""));
        let cookie = sign_in(&app);
        let page = app.request("GET", "/admin/reports", &[("Cookie", cookie.as_str())]);
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(
            page.body.contains("5 open reports about 5 providers"),
            "{}",
            page.body
        );
        assert!(page.body.contains("&#60;b&#62;bold&#60;/b&#62;"));
        assert!(!page.body.contains("<b>bold</b>"));
        assert!(
            page.body.contains("Clinician a 5"),
            "names from the served generation"
        );
        assert!(
            page.header("content-security-policy")
                .is_some_and(|csp| csp.contains("default-src 'self'"))
        );
        let csrf = csrf_of(&page.body);
        let resolve_form = |id: &str, body: String| {
            app.send(
                "POST",
                &format!("/admin/reports/{id}/resolve-form"),
                &[
                    ("Cookie", cookie.as_str()),
                    ("Content-Type", "application/x-www-form-urlencoded"),
                ],
                body.as_bytes(),
            )
        };
        let forged = resolve_form(&ids[2], "resolution=dismissed&csrf=not-the-token".into());
        assert_eq!(forged.status, 403);
        let done = resolve_form(
            &ids[2],
            format!("resolution=dismissed&note=Duplicate+of+an+older+report&csrf={csrf}"),
        );
        assert_eq!(done.status, 303, "{}", done.body);
        assert_eq!(done.header("location"), Some("/admin/reports"));
        let report = find(&listed(&app, "all"), &ids[2]).clone();
        assert_eq!(report["resolution"], "dismissed");
        assert_eq!(report["note"], "Duplicate of an older report");
        // The page's download links work with the session alone.
        let download = app.request(
            "GET",
            "/admin/reports?format=csv&status=all",
            &[("Cookie", cookie.as_str())],
        );
        assert_eq!(download.status, 200);
        // The main admin page links the queue.
        let admin = app.request("GET", "/admin", &[("Cookie", cookie.as_str())]);
        assert!(admin.body.contains("href=\"/admin/reports\""));
        assert!(
            admin.body.contains("<span id=\"reports-open\">4</span>"),
            "{}",
            admin.body
        );
    }
}

#[test]
fn status_and_metrics_show_the_queue_and_freshness() {
    for db in TestDb::all("status") {
        let app = app(&db, &listings("s", 10));
        let auth = bearer();
        let status = app
            .request("GET", "/admin/status", &[("Authorization", auth.as_str())])
            .json();
        assert_eq!(status["reports"]["open"], 0);
        assert_eq!(status["reports"]["oldest_open_age_seconds"], Value::Null);
        assert_eq!(
            status["freshness"],
            json!({
                "within_90_days": 4,
                "within_12_months": 2,
                "older": 2,
                "unknown": 2,
                "as_of": days_ago(0),
            })
        );
        assert_eq!(status["generation"], 1, "the index's status is still there");
        let metrics = app.get("/metrics").body;
        assert!(metrics.contains("\nketadir_reports_open 0\n"), "{metrics}");
        assert!(metrics.contains("ketadir_reports_total{reason=\"no_ketamine\"} 0"));

        let first = accepted(
            &app,
            "s-1",
            &json!({"reasons": ["phone", "price"]}),
            "198.51.100.1",
        );
        accepted(&app, "s-2", &json!({"reasons": ["phone"]}), "198.51.100.2");
        accepted(&app, "s-3", &json!({"reasons": ["closed"]}), "198.51.100.3");
        let resolved = app.send(
            "POST",
            &format!("/admin/reports/{first}/resolve"),
            &[
                ("Authorization", auth.as_str()),
                ("Content-Type", "application/json"),
            ],
            br#"{"resolution": "dismissed"}"#,
        );
        assert_eq!(resolved.status, 200);

        let status = app
            .request("GET", "/admin/status", &[("Authorization", auth.as_str())])
            .json();
        assert_eq!(status["reports"]["open"], 2);
        let age = status["reports"]["oldest_open_age_seconds"]
            .as_u64()
            .expect("an age");
        assert!(age < 600, "{age}");
        let metrics = app.get("/metrics").body;
        assert!(metrics.contains("\nketadir_reports_open 2\n"), "{metrics}");
        assert!(metrics.contains("# TYPE ketadir_reports_open gauge"));
        assert!(metrics.contains("# TYPE ketadir_reports_total counter"));
        assert!(metrics.contains("ketadir_reports_total{reason=\"phone\"} 2"));
        assert!(metrics.contains("ketadir_reports_total{reason=\"price\"} 1"));
        assert!(metrics.contains("ketadir_reports_total{reason=\"closed\"} 1"));
        assert!(metrics.contains("\nketadir_reports_oldest_open_age_seconds "));

        let cookie = sign_in(&app);
        let page = app
            .request("GET", "/admin", &[("Cookie", cookie.as_str())])
            .body;
        for part in [
            "<span id=\"reports-open\">2</span>",
            "<dd id=\"fresh-90\">4</dd>",
            "<dd id=\"fresh-12\">2</dd>",
            "<dd id=\"fresh-older\">2</dd>",
            "<dd id=\"fresh-unknown\">2</dd>",
            "id=\"reports-oldest\"",
        ] {
            assert!(
                page.contains(part),
                "{}: the admin page lacks {part}: {page}",
                db.name()
            );
        }
    }
}

#[test]
fn replicas_share_one_queue() {
    for db in TestDb::all("replicas") {
        let first = app(&db, &listings("r", 10));
        let second = spawn_replica(first.index_dir().root(), settings(&db));
        let client = "198.51.100.77";
        let phone = json!({"reasons": ["phone"]});
        let mut ids = vec![
            accepted(&first, "r-0", &phone, client),
            accepted(&second, "r-1", &phone, client),
            accepted(&first, "r-2", &phone, client),
        ];
        ids.push(accepted(&second, "r-3", &phone, client));
        ids.push(accepted(&first, "r-4", &phone, client));
        // The hourly limit and repeats span the replicas.
        assert_eq!(
            report(&second, "r-5", &phone, client).status,
            429,
            "{}",
            db.name()
        );
        assert_eq!(
            report(&second, "r-0", &phone, client).json()["id"],
            ids[0].as_str()
        );
        let seen: Vec<String> = listed(&second, "open")
            .iter()
            .map(|r| r["id"].as_str().expect("id").to_string())
            .collect();
        assert_eq!(seen.len(), 5);
        for id in &ids {
            assert!(seen.contains(id), "{id} not seen by the other replica");
        }
        let auth = bearer();
        let done = second.send(
            "POST",
            &format!("/admin/reports/{}/resolve", ids[0]),
            &[
                ("Authorization", auth.as_str()),
                ("Content-Type", "application/json"),
            ],
            br#"{"resolution": "fixed"}"#,
        );
        assert_eq!(done.status, 200);
        assert_eq!(find(&listed(&first, "all"), &ids[0])["resolution"], "fixed");
    }
}

#[test]
fn a_body_that_stalls_gets_408() {
    let db = TestDb::Sqlite;
    let app = app(&db, &listings("t", 3));
    let address = app.address.trim_start_matches("http://").to_string();
    let started = Instant::now();
    let answer = raw(
        &app,
        format!(
            "POST /api/v1/providers/t-1/reports HTTP/1.1\r\nHost: {address}\r\n\
             Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"reasons\""
        )
        .as_bytes(),
    );
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("application/problem+json"));
    assert!(started.elapsed() < Duration::from_secs(25));
}

// ---------------------------------------------------------------------------
// A server process killed while reports are being written.

/// A server process, killed when dropped.
struct Server {
    child: std::process::Child,
    address: String,
    /// Its log lines after "report queue ready".
    log: std::sync::mpsc::Receiver<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_server(dir: &std::path::Path, data: &std::path::Path, db: &TestDb) -> Server {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ketadir"));
    command
        .arg("--index-dir")
        .arg(dir.join("index"))
        .args([
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--trusted-proxy",
            "127.0.0.1",
            "--data",
        ])
        .arg(data)
        .env("KETADIR_ADMIN_TOKEN", TOKEN)
        .env("KETADIR_LOG", "info")
        .env("NO_COLOR", "1")
        .env_remove("KETADIR_DATABASE_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if let Some(url) = db.settings().url {
        command.env("KETADIR_DATABASE_URL", url);
    }
    let mut child = command.spawn().expect("the server starts");
    let stderr = child.stderr.take().expect("stderr");
    let (sender, lines) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            let _ = sender.send(line);
        }
    });
    let mut seen = Vec::new();
    let mut listening = None;
    loop {
        let line = lines
            .recv_timeout(Duration::from_secs(120))
            .unwrap_or_else(|_| panic!("the server did not get ready: {seen:#?}"));
        if let Some(at) = line.find("listening addr=") {
            listening = Some(line[at + 15..].trim().to_string());
        }
        if line.contains("report queue ready") {
            break;
        }
        seen.push(line);
    }
    Server {
        child,
        address: listening.expect("the server logs its address first"),
        log: lines,
    }
}

#[test]
fn a_server_killed_mid_write_loses_no_acknowledged_report() {
    for db in TestDb::all("killed") {
        let dir = tempfile::tempdir().expect("temp dir");
        let data = dir.path().join("providers.csv");
        std::fs::write(&data, listings("k", 50)).expect("write the CSV");
        let server = start_server(dir.path(), &data, &db);
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(10)))
            .build()
            .into();
        let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
        let writer = {
            let acknowledged = Arc::clone(&acknowledged);
            let agent = agent.clone();
            let base = format!("http://{}", server.address);
            std::thread::spawn(move || {
                // Bounded: at most 3,000 reports, each from its own client.
                for n in 0..3_000u32 {
                    let client = format!("10.{}.{}.1", n / 250, n % 250);
                    let body =
                        json!({"reasons": ["phone", "price"], "details": format!("report {n}")});
                    let sent = agent
                        .post(format!("{base}/api/v1/providers/k-{}/reports", n % 50))
                        .header("X-Forwarded-For", &client)
                        .header("Content-Type", "application/json")
                        .send(body.to_string());
                    match sent {
                        Ok(mut reply) if reply.status() == 202 => {
                            let answer: Value = reply.body_mut().read_json().expect("JSON");
                            let id = answer["id"].as_str().expect("id").to_string();
                            acknowledged.lock().expect("lock").push(id);
                        }
                        Ok(reply) => panic!("unexpected {}", reply.status()),
                        // The server is gone.
                        Err(_) => return,
                    }
                }
            })
        };
        eventually("some reports are acknowledged", || {
            acknowledged.lock().expect("lock").len() >= 30
        });
        drop(server); // SIGKILL, while the writer keeps sending.
        writer.join().expect("the writer thread");
        let acknowledged = acknowledged.lock().expect("lock").clone();

        let restarted = start_server(dir.path(), &data, &db);
        let reply = agent
            .get(format!(
                "http://{}/admin/reports?format=json&status=all",
                restarted.address
            ))
            .header("Authorization", &bearer())
            .call()
            .expect("the list");
        assert_eq!(reply.status(), 200);
        let answer: Value = reply.into_body().read_json().expect("JSON");
        let stored = answer["reports"].as_array().expect("reports");
        for id in &acknowledged {
            assert!(
                stored.iter().any(|r| r["id"] == id.as_str()),
                "{}: acknowledged report {id} was lost",
                db.name()
            );
        }
        // Whole reports only: every stored one has its reasons and details.
        for report in stored {
            assert_eq!(report["reasons"], json!(["phone", "price"]), "{report}");
            assert!(report["details"].is_string(), "{report}");
        }
        assert!(stored.len() >= acknowledged.len());
        assert!(
            stored.len() <= acknowledged.len() + 4,
            "at most the reports in flight were stored without an answer"
        );
        if let TestDb::Sqlite = db {
            // The database file is intact, and every report has its reason rows.
            let path = dir.path().join("index").join("reports.sqlite");
            let (integrity, orphans) = actix_web::rt::System::new().block_on(async {
                use sqlx::Connection;
                let mut connection =
                    sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
                        .await
                        .expect("opens");
                let (integrity,): (String,) = sqlx::query_as("PRAGMA integrity_check")
                    .fetch_one(&mut connection)
                    .await
                    .expect("checks");
                let (orphans,): (i64,) = sqlx::query_as(
                    "SELECT COUNT(*) FROM reports r WHERE \
                     (SELECT COUNT(*) FROM report_reasons rr WHERE rr.report_id = r.id) != 2",
                )
                .fetch_one(&mut connection)
                .await
                .expect("counts");
                (integrity, orphans)
            });
            assert_eq!(integrity, "ok");
            assert_eq!(orphans, 0);
        }
    }
}

#[test]
fn report_submissions_leave_no_client_address_in_the_log() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("providers.csv");
    std::fs::write(&data, listings("g", 5)).expect("write the CSV");
    let mut server = start_server(dir.path(), &data, &TestDb::Sqlite);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into();
    let base = format!("http://{}", server.address);
    let json = agent
        .post(format!(
            "{base}/api/v1/providers/g-1/reports?tracking=secret-query"
        ))
        .header("Content-Type", "application/json")
        .header("X-Forwarded-For", "203.0.113.99")
        .send(r#"{"reasons": ["phone"]}"#)
        .expect("answers");
    assert_eq!(json.status(), 202);
    let form = agent
        .post(format!("{base}/providers/g-2/report?tracking=secret-query"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("X-Forwarded-For", "203.0.113.99")
        .send("reason=closed")
        .expect("answers");
    assert_eq!(form.status(), 303);
    let thanks = agent
        .get(format!("{base}/providers/g-2/report?sent=1"))
        .header("X-Forwarded-For", "203.0.113.99")
        .call()
        .expect("answers");
    assert_eq!(thanks.status(), 200);
    // A search by the same client is logged with its address, as usual.
    let search = agent
        .get(format!("{base}/api/v1/search?near=80202"))
        .header("X-Forwarded-For", "203.0.113.99")
        .call()
        .expect("answers");
    assert_eq!(search.status(), 200);
    let _ = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status();
    let _ = server.child.wait();
    let log: Vec<String> = server.log.try_iter().collect();
    let about_reports: Vec<&String> = log
        .iter()
        .filter(|line| line.contains("/reports") || line.contains("/report"))
        .collect();
    assert!(about_reports.len() >= 3, "{log:#?}");
    for line in &about_reports {
        assert!(!line.contains("203.0.113.99"), "a client address: {line}");
        assert!(!line.contains("secret-query"), "a query string: {line}");
        assert!(!line.contains("sent=1"), "a query string: {line}");
    }
    assert!(
        log.iter()
            .any(|line| line.contains("/api/v1/search") && line.contains("203.0.113.99")),
        "other requests still log the client: {log:#?}"
    );
}
