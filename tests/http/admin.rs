//! Admin over HTTP: the auth matrix, re-imports that publish or are
//! rejected without touching the served data, 409, 413, status, rollback.

use std::time::Duration;

use std::sync::Arc;

use ketadir::routes::admin::AdminSettings;
use ketadir::routes::sign_in_limit::FailedSignIns;
use ketadir::startup::HttpSettings;

use super::helpers::{TestApp, denver_csv, spawn_app, spawn_app_with};

const TOKEN: &str = "admin-secret-token-0123456789";
const SEARCH: &str = "/api/v1/search?near=80202&radius=30&per_page=100";

fn admin_app(csv: &str, max_upload_bytes: u64) -> TestApp {
    spawn_app_with(
        csv,
        HttpSettings {
            admin: AdminSettings {
                token: Some(TOKEN.into()),
                max_upload_bytes,
                ..AdminSettings::default()
            },
            ..HttpSettings::default()
        },
    )
}

fn bearer() -> String {
    format!("Bearer {TOKEN}")
}

fn upload(app: &TestApp, query: &str, csv: &str) -> super::helpers::Reply {
    let auth = bearer();
    app.send(
        "POST",
        &format!("/admin/reindex{query}"),
        &[
            ("Authorization", auth.as_str()),
            ("Content-Type", "text/csv"),
        ],
        csv.as_bytes(),
    )
}

#[test]
fn without_a_configured_token_admin_does_not_exist() {
    let app = spawn_app(&denver_csv("p", 10));
    let auth = bearer();
    for (method, path) in [
        ("POST", "/admin/reindex"),
        ("GET", "/admin/status"),
        ("POST", "/admin/rollback"),
    ] {
        let reply = app.request(method, path, &[("Authorization", auth.as_str())]);
        assert_eq!(reply.status, 404, "{method} {path}");
    }
}

#[test]
fn the_auth_matrix() {
    let app = admin_app(&denver_csv("p", 10), 1 << 20);
    let wrong = format!("Bearer {TOKEN}x");
    let short = "Bearer admin";
    for headers in [
        vec![],
        vec![("Authorization", wrong.as_str())],
        vec![("Authorization", short)],
        vec![("Authorization", TOKEN)],
    ] {
        let reply = app.request("GET", "/admin/status", &headers);
        assert_eq!(reply.status, 401, "{headers:?}");
        assert_eq!(reply.content_type, "application/problem+json");
        assert_eq!(reply.header("www-authenticate"), Some("Bearer"));
    }
    let auth = bearer();
    let reply = app.request("GET", "/admin/status", &[("Authorization", auth.as_str())]);
    assert_eq!(reply.status, 200, "{}", reply.body);
    let status = reply.json();
    assert_eq!(status["generation"], 1);
    assert_eq!(status["documents"], 10);
    assert!(
        status["source_sha256"]
            .as_str()
            .is_some_and(|h| h.len() == 64)
    );
    // No CORS on /admin, even for a browser on another origin.
    let cross = app.request(
        "GET",
        "/admin/status",
        &[
            ("Authorization", auth.as_str()),
            ("Origin", "https://evil.example.org"),
        ],
    );
    assert_eq!(cross.header("access-control-allow-origin"), None);
}

#[test]
fn an_upload_publishes_and_broken_ones_change_nothing() {
    let app = admin_app(&denver_csv("a", 50), 1 << 20);
    let published = upload(&app, "", &denver_csv("b", 52));
    assert_eq!(published.status, 200, "{}", published.body);
    assert_eq!(published.json()["generation"], 2);
    // This server switched at once; no waiting for the watcher.
    let after = app.get_json(SEARCH);
    assert_eq!(after["total"], 52);
    let served = app.get(SEARCH).body;

    let mut broken = denver_csv("c", 52);
    broken.push_str("bad id,No City,,ZZ,,,,,,,,,,\n");
    let rejected = upload(&app, "", &broken);
    assert_eq!(rejected.status, 422);
    let answer = rejected.json();
    assert_eq!(answer["generation"], serde_json::Value::Null);
    assert_eq!(answer["report"]["invalid"], 1);
    let error = &answer["report"]["errors"][0];
    assert_eq!(error["line"], 54);
    assert!(error["column"].is_string() && error["message"].is_string());

    let truncated = upload(&app, "", &denver_csv("d", 20));
    assert_eq!(truncated.status, 422);
    assert!(
        truncated.json()["rejection"]
            .as_str()
            .is_some_and(|r| r.contains("20 %"))
    );
    assert_eq!(app.get(SEARCH).body, served);

    let skipped = upload(&app, "?skip_invalid=true", &broken);
    assert_eq!(skipped.status, 200);
    assert_eq!(skipped.json()["documents"], 52);
    let shrunk = upload(&app, "?allow_shrink=true", &denver_csv("e", 20));
    assert_eq!(shrunk.status, 200);
    assert_eq!(app.get_json(SEARCH)["total"], 20);

    let auth = bearer();
    let status = app
        .request("GET", "/admin/status", &[("Authorization", auth.as_str())])
        .json();
    let outcomes: Vec<&str> = status["recent_imports"]
        .as_array()
        .expect("recent imports")
        .iter()
        .filter_map(|entry| entry["outcome"].as_str())
        .collect();
    assert_eq!(
        outcomes,
        [
            "published",
            "published",
            "rejected",
            "rejected",
            "published",
            "published"
        ]
    );
}

#[test]
fn a_multipart_upload_takes_the_file_field() {
    let app = admin_app(&denver_csv("a", 10), 1 << 20);
    let csv = denver_csv("m", 11);
    let boundary = "ketadir-test-boundary";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nignored\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"providers.csv\"\r\nContent-Type: text/csv\r\n\r\n{csv}\r\n\
         --{boundary}--\r\n"
    );
    let auth = bearer();
    let content_type = format!("multipart/form-data; boundary={boundary}");
    let reply = app.send(
        "POST",
        "/admin/reindex",
        &[
            ("Authorization", auth.as_str()),
            ("Content-Type", content_type.as_str()),
        ],
        body.as_bytes(),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json()["documents"], 11);
    let status = app
        .request("GET", "/admin/status", &[("Authorization", auth.as_str())])
        .json();
    assert_eq!(status["source"], "providers.csv");
}

#[test]
fn too_large_concurrent_and_wrong_type_uploads_are_refused() {
    let app = admin_app(&denver_csv("a", 10), 2_000);
    let big = denver_csv("b", 100);
    assert!(big.len() > 2_000);
    let reply = upload(&app, "", &big);
    assert_eq!(reply.status, 413);
    assert_eq!(reply.content_type, "application/problem+json");

    let held = app.index_dir().lock_imports().expect("lock");
    let reply = upload(&app, "", &denver_csv("c", 10));
    assert_eq!(reply.status, 409);
    let auth = bearer();
    let reply = app.request(
        "POST",
        "/admin/rollback",
        &[("Authorization", auth.as_str())],
    );
    assert_eq!(reply.status, 409);
    drop(held);

    let reply = app.send(
        "POST",
        "/admin/reindex",
        &[
            ("Authorization", auth.as_str()),
            ("Content-Type", "application/json"),
        ],
        b"{}",
    );
    assert_eq!(reply.status, 415);
    let reply = upload(&app, "?skip_invalid=maybe", &denver_csv("c", 10));
    assert_eq!(reply.status, 400);
    assert_eq!(app.get_json(SEARCH)["generation"], 1);
}

#[test]
fn rollback_serves_the_previous_generation() {
    let app = admin_app(&denver_csv("a", 10), 1 << 20);
    let auth = bearer();
    let nothing = app.request(
        "POST",
        "/admin/rollback",
        &[("Authorization", auth.as_str())],
    );
    assert_eq!(nothing.status, 409);
    assert_eq!(upload(&app, "", &denver_csv("b", 11)).status, 200);
    let reply = app.request(
        "POST",
        "/admin/rollback",
        &[("Authorization", auth.as_str())],
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json()["generation"], 1);
    app.wait_for_generation(1, Duration::from_secs(5));
    assert_eq!(app.get_json(SEARCH)["total"], 10);
}

#[test]
fn wrong_bearer_tokens_are_throttled_per_client() {
    let app = spawn_app_with(
        &denver_csv("p", 5),
        HttpSettings {
            admin: AdminSettings {
                token: Some(TOKEN.into()),
                failed_sign_ins: Arc::new(FailedSignIns::new(2)),
                ..AdminSettings::default()
            },
            ..HttpSettings::default()
        },
    );
    // No token at all is not a guess and does not count.
    for _ in 0..5 {
        assert_eq!(app.request("GET", "/admin/status", &[]).status, 401);
    }
    let right = bearer();
    assert_eq!(
        app.request("GET", "/admin/status", &[("Authorization", right.as_str())])
            .status,
        200
    );
    let wrong = format!("Bearer {TOKEN}-wrong");
    for _ in 0..2 {
        let reply = app.request("GET", "/admin/status", &[("Authorization", wrong.as_str())]);
        assert_eq!(reply.status, 401);
    }
    for auth in [wrong.as_str(), right.as_str()] {
        let reply = app.request("POST", "/admin/rollback", &[("Authorization", auth)]);
        assert_eq!(reply.status, 429, "{}", reply.body);
        assert_eq!(reply.content_type, "application/problem+json");
        assert_eq!(reply.json()["type"], "/problems/too-many-attempts");
        assert!(reply.header("retry-after").is_some());
    }
}

/// An upload that trickles a few bytes and then goes quiet is cut off with
/// 408 after the idle timeout, and the import lock is free again: the next
/// import (HTTP here) is not refused with 409.
#[test]
fn a_stalled_upload_times_out_and_releases_the_import_lock() {
    use std::io::{Read, Write};
    let app = spawn_app_with(
        &denver_csv("p", 10),
        HttpSettings {
            admin: AdminSettings {
                token: Some(TOKEN.into()),
                upload_idle_timeout: Duration::from_secs(1),
                ..AdminSettings::default()
            },
            ..HttpSettings::default()
        },
    );
    let address = app.address.trim_start_matches("http://").to_string();
    let mut stalled = std::net::TcpStream::connect(&address).expect("connect");
    stalled
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    let head = format!(
        "POST /admin/reindex HTTP/1.1\r\nHost: {address}\r\nAuthorization: {}\r\n\
         Content-Type: text/csv\r\nContent-Length: 100000\r\n\r\nid,name,ci",
        bearer()
    );
    stalled.write_all(head.as_bytes()).expect("send the head");
    // While it stalls, it holds the lock: another import is refused.
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(upload(&app, "", &denver_csv("q", 10)).status, 409);
    let started = std::time::Instant::now();
    let mut answer = Vec::new();
    let _ = stalled.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("sent nothing for 1 s"), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(10));
    let next = upload(&app, "", &denver_csv("q", 10));
    assert_eq!(next.status, 200, "{}", next.body);
}

/// A gzip-compressed CSV is decompressed (within the upload limit); other
/// encodings are refused with 415 naming them, before the lock is taken.
#[test]
fn gzip_uploads_are_decoded_and_other_encodings_refused() {
    use flate2::Compression;
    use flate2::write::GzEncoder;
    use std::io::Write;
    let app = admin_app(&denver_csv("p", 10), 4096);
    let csv = denver_csv("g", 12);
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(csv.as_bytes()).expect("gzip");
    let gzipped = encoder.finish().expect("gzip");
    let auth = bearer();
    let send = |encoding: &str, body: &[u8]| {
        app.send(
            "POST",
            "/admin/reindex",
            &[
                ("Authorization", auth.as_str()),
                ("Content-Type", "text/csv"),
                ("Content-Encoding", encoding),
            ],
            body,
        )
    };
    let reply = send("gzip", &gzipped);
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json()["documents"], 12);
    assert!(
        app.get_json(SEARCH)["results"][0]["id"]
            .as_str()
            .is_some_and(|id| id.starts_with("g-"))
    );

    let refused = send("br", b"whatever");
    assert_eq!(refused.status, 415, "{}", refused.body);
    let detail = refused.json()["detail"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(detail.contains("\"br\""), "{detail}");

    let broken = send("gzip", b"not gzip at all");
    assert_eq!(broken.status, 400, "{}", broken.body);

    // Small when compressed, over the limit when decompressed.
    let big = denver_csv("b", 200);
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    encoder.write_all(big.as_bytes()).expect("gzip");
    let bomb = encoder.finish().expect("gzip");
    assert!(bomb.len() < 4096 && big.len() > 4096);
    assert_eq!(send("gzip", &bomb).status, 413);
    assert_eq!(
        app.get_json(SEARCH)["generation"],
        2,
        "nothing else was published"
    );
}
