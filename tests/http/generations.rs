//! Generations seen from a running server: live pickup, rejected imports
//! that change nothing, and searches that never fail during imports.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use ketadir::index::{FORMAT_VERSION, ImportOptions, IndexDir, Rejection};
use ketadir::routes::admin::AdminSettings;
use ketadir::startup::HttpSettings;

use super::helpers::{TestApp, denver_csv, import, spawn_app, spawn_app_with, spawn_on};

const SEARCH: &str = "/api/v1/search?near=80202&radius=30&per_page=100";

#[test]
fn a_running_server_picks_up_a_generation_published_elsewhere() {
    let app = spawn_app(&denver_csv("old", 40));
    let before = app.get_json(SEARCH);
    assert_eq!(before["total"], 40);
    assert_eq!(before["generation"], 1);

    let outcome = import(
        &app.index_dir(),
        &denver_csv("new", 45),
        &ImportOptions::default(),
    );
    assert_eq!(outcome.generation, Some(2));
    app.wait_for_generation(2, Duration::from_secs(5));
    let after = app.get_json(SEARCH);
    assert_eq!(after["total"], 45);
    assert!(
        after["results"][0]["id"]
            .as_str()
            .is_some_and(|id| id.starts_with("new-"))
    );
}

#[test]
fn rejected_imports_leave_the_served_results_identical() {
    let app = spawn_app(&denver_csv("p", 50));
    let before = app.get(SEARCH).body;
    let dir = app.index_dir();

    // A broken row: rejected unless invalid rows may be skipped.
    let mut broken = denver_csv("p", 50);
    broken.push_str("bad id,No City,,ZZ,,,,,,,,,,\n");
    let outcome = import(&dir, &broken, &ImportOptions::default());
    assert!(matches!(
        outcome.rejection,
        Some(Rejection::InvalidRows { invalid: 1 })
    ));

    // A truncated file: more than 20 % smaller.
    let truncated = denver_csv("p", 30);
    let outcome = import(&dir, &truncated, &ImportOptions::default());
    assert!(matches!(
        outcome.rejection,
        Some(Rejection::WouldShrink {
            served: 50,
            imported: 30
        })
    ));

    // Not a provider file at all, and an empty one.
    for junk in ["just,some,columns\n1,2,3\n", ""] {
        let outcome = import(&dir, junk, &ImportOptions::default());
        assert!(outcome.rejection.is_some(), "{junk:?} must be rejected");
    }
    assert_eq!(dir.current().expect("pointer"), Some(1));
    std::thread::sleep(Duration::from_millis(1200));
    assert_eq!(app.get(SEARCH).body, before);

    // skip_invalid publishes exactly the valid rows.
    let options = ImportOptions {
        skip_invalid: true,
        ..ImportOptions::default()
    };
    let outcome = import(&dir, &broken, &options);
    assert_eq!(outcome.generation, Some(2));
    assert_eq!(outcome.documents, 50);
}

#[test]
fn searches_never_fail_while_imports_publish_generations() {
    let app = Arc::new(spawn_app(&denver_csv("g0", 60)));
    let stop = Arc::new(AtomicBool::new(false));
    let failures = Arc::new(AtomicU64::new(0));
    let requests = Arc::new(AtomicU64::new(0));
    let clients: Vec<_> = (0..4)
        .map(|_| {
            let (app, stop, failures, requests) = (
                Arc::clone(&app),
                Arc::clone(&stop),
                Arc::clone(&failures),
                Arc::clone(&requests),
            );
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let reply = app.get(SEARCH);
                    requests.fetch_add(1, Ordering::Relaxed);
                    // Every response comes whole from one generation.
                    let body = reply.json();
                    let generation = body["generation"].as_u64().unwrap_or(0);
                    let prefix = format!("g{}-", generation - 1);
                    let consistent = body["results"].as_array().is_some_and(|hits| {
                        hits.iter()
                            .all(|h| h["id"].as_str().is_some_and(|id| id.starts_with(&prefix)))
                    });
                    if reply.status != 200 || !consistent {
                        failures.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    let dir = app.index_dir();
    for generation in 1..=10 {
        let outcome = import(
            &dir,
            &denver_csv(&format!("g{generation}"), 60),
            &ImportOptions::default(),
        );
        assert_eq!(outcome.generation, Some(generation + 1));
    }
    app.wait_for_generation(11, Duration::from_secs(5));
    stop.store(true, Ordering::Relaxed);
    for client in clients {
        client.join().expect("client thread");
    }
    assert!(requests.load(Ordering::Relaxed) > 10);
    assert_eq!(failures.load(Ordering::Relaxed), 0);
    // Only the newest three generations stay on disk.
    assert_eq!(dir.generations().expect("list"), vec![9, 10, 11]);
}

#[test]
fn two_servers_on_one_directory_follow_an_import() {
    let first = spawn_app(&denver_csv("a", 20));
    let root = tempfile::tempdir().expect("temp dir");
    // The second server shares the first one's index directory.
    std::os::unix::fs::symlink(first.root.path().join("index"), root.path().join("index"))
        .expect("symlink");
    let second = spawn_on(root);
    assert_eq!(second.get_json(SEARCH)["total"], 20);
    let outcome = import(
        &first.index_dir(),
        &denver_csv("b", 22),
        &ImportOptions::default(),
    );
    assert_eq!(outcome.generation, Some(2));
    for app in [&first, &second] {
        app.wait_for_generation(2, Duration::from_secs(5));
        assert_eq!(app.get_json(SEARCH)["total"], 22);
    }
}

#[test]
fn an_import_killed_mid_build_leaves_both_servers_serving() {
    let first = spawn_app(&denver_csv("a", 30));
    let root = tempfile::tempdir().expect("temp dir");
    std::os::unix::fs::symlink(first.root.path().join("index"), root.path().join("index"))
        .expect("symlink");
    let second = spawn_on(root);
    let before = first.get(SEARCH).body;
    assert_eq!(second.get(SEARCH).body, before);

    // A file big enough that the import is still building when killed.
    let big_path = first.root.path().join("big.csv");
    std::fs::write(&big_path, denver_csv("big", 200_000)).expect("write big CSV");
    let index = first.root.path().join("index");
    let mut cli_import = std::process::Command::new(env!("CARGO_BIN_EXE_ketadir"))
        .arg("--index-dir")
        .arg(&index)
        .arg("index")
        .arg(&big_path)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("the CLI import starts");
    let building = index.join("gen-0000000002.building");
    let started = std::time::Instant::now();
    while std::fs::read_dir(&building).map_or(0, |d| d.count()) < 3 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the import never started"
        );
        assert!(
            cli_import.try_wait().expect("poll").is_none(),
            "the import ended too soon"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    cli_import.kill().expect("SIGKILL");
    cli_import.wait().expect("reaped");

    std::thread::sleep(Duration::from_millis(1500));
    for app in [&first, &second] {
        assert_eq!(app.get(SEARCH).body, before);
    }
    let outcome = import(
        &first.index_dir(),
        &denver_csv("c", 31),
        &ImportOptions::default(),
    );
    assert_eq!(outcome.generation, Some(2));
    for app in [&first, &second] {
        app.wait_for_generation(2, Duration::from_secs(5));
        assert_eq!(app.get_json(SEARCH)["total"], 31);
    }
}

/// Publishes a copy of generation `from` as `to`, marked with `format`: a
/// generation as an older or a newer ketadir would publish it.
fn publish_copy_with_format(dir: &IndexDir, from: u64, to: u64, format: u32) {
    let source = dir.generation_path(from);
    let target = dir.generation_path(to);
    std::fs::create_dir(&target).expect("mkdir");
    for entry in std::fs::read_dir(&source).expect("list") {
        let entry = entry.expect("entry");
        std::fs::copy(entry.path(), target.join(entry.file_name())).expect("copy");
    }
    let path = target.join("generation.json");
    let mut meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("JSON");
    meta["generation"] = to.into();
    meta["format_version"] = format.into();
    std::fs::write(&path, meta.to_string()).expect("write");
    let lock = dir.lock_imports().expect("lock");
    dir.publish(to, &lock).expect("publish");
}

#[test]
fn a_running_server_keeps_serving_when_a_generation_of_another_format_is_published() {
    let app = spawn_app(&denver_csv("p", 40));
    let before = app.get(SEARCH).body;
    let dir = app.index_dir();

    publish_copy_with_format(&dir, 1, 2, FORMAT_VERSION + 1);
    // Two polls and more: still generation 1, answering the same.
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(app.get_json("/readyz")["generation"], 1);
    assert_eq!(app.get(SEARCH).body, before);

    publish_copy_with_format(&dir, 1, 3, FORMAT_VERSION - 1);
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(app.get_json("/readyz")["generation"], 1);
    assert_eq!(app.get(SEARCH).body, before);

    // A generation of this binary's format is picked up as usual.
    let outcome = import(&dir, &denver_csv("q", 41), &ImportOptions::default());
    assert_eq!(outcome.generation, Some(4));
    app.wait_for_generation(4, Duration::from_secs(5));
    assert_eq!(app.get_json(SEARCH)["total"], 41);
}

// Issue 16, items 1 to 3, seen from running servers.

/// A server on `csv` with the admin routes on, and a second server sharing
/// its index directory.
fn two_servers_with_admin(csv: &str) -> (TestApp, TestApp) {
    let settings = HttpSettings {
        admin: AdminSettings {
            token: Some(ADMIN_TOKEN.into()),
            ..AdminSettings::default()
        },
        ..HttpSettings::default()
    };
    let first = spawn_app_with(csv, settings);
    let root = tempfile::tempdir().expect("temp dir");
    std::os::unix::fs::symlink(first.root.path().join("index"), root.path().join("index"))
        .expect("symlink");
    let second = spawn_on(root);
    (first, second)
}

const ADMIN_TOKEN: &str = "generations-admin-token-0123456789";

#[test]
fn every_server_follows_a_rollback_to_what_was_served_before() {
    let (first, second) = two_servers_with_admin(&denver_csv("a", 20));
    let dir = first.index_dir();
    assert_eq!(
        import(&dir, &denver_csv("b", 21), &ImportOptions::default()).generation,
        Some(2)
    );
    let auth = format!("Bearer {ADMIN_TOKEN}");
    let rollback = || {
        first.request(
            "POST",
            "/admin/rollback",
            &[("Authorization", auth.as_str())],
        )
    };
    let reply = rollback();
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json()["generation"], 1);
    // The server that answered already serves it.
    assert_eq!(first.get_json(SEARCH)["total"], 20);
    second.wait_for_generation(1, Duration::from_secs(5));

    assert_eq!(
        import(&dir, &denver_csv("c", 22), &ImportOptions::default()).generation,
        Some(3)
    );
    for app in [&first, &second] {
        app.wait_for_generation(3, Duration::from_secs(5));
    }
    // The history is [1, 3]: 2, rolled away from, is no target.
    let reply = rollback();
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json()["generation"], 1);
    assert_eq!(first.get_json(SEARCH)["total"], 20);
    second.wait_for_generation(1, Duration::from_secs(5));
    assert_eq!(second.get_json(SEARCH)["total"], 20);
    assert_eq!(dir.current().expect("pointer"), Some(1));
}

#[test]
fn an_admin_rollback_to_a_generation_that_does_not_open_is_refused() {
    let (first, second) = two_servers_with_admin(&denver_csv("a", 20));
    let dir = first.index_dir();
    for (prefix, count) in [("b", 21), ("c", 22)] {
        import(&dir, &denver_csv(prefix, count), &ImportOptions::default());
    }
    for app in [&first, &second] {
        app.wait_for_generation(3, Duration::from_secs(5));
    }
    let before = first.get(SEARCH).body;
    std::fs::remove_file(dir.generation_path(2).join("ranks.bin")).expect("rm ranks.bin");

    let auth = format!("Bearer {ADMIN_TOKEN}");
    let reply = first.request(
        "POST",
        "/admin/rollback",
        &[("Authorization", auth.as_str())],
    );
    assert_eq!(reply.status, 409, "{} {}", reply.status, reply.body);
    assert_eq!(dir.current().expect("pointer"), Some(3));
    std::thread::sleep(Duration::from_millis(1500));
    for app in [&first, &second] {
        assert_eq!(app.get_json("/readyz")["generation"], 3);
        assert_eq!(app.get(SEARCH).body, before);
    }
}

#[test]
fn a_server_swaps_in_another_build_put_under_the_served_number() {
    let app = spawn_app(&denver_csv("old", 40));
    assert_eq!(app.get_json(SEARCH)["total"], 40);
    // Another build numbered 1 (as an older ketadir would reuse the number
    // of a deleted generation), put in place of the served directory.
    let other = tempfile::tempdir().expect("temp dir");
    let other_dir = IndexDir::new(other.path().join("index"));
    let outcome = import(
        &other_dir,
        &denver_csv("new", 45),
        &ImportOptions::default(),
    );
    assert_eq!(outcome.generation, Some(1));
    let served = app.index_dir().generation_path(1);
    std::fs::rename(&served, served.with_extension("replaced")).expect("move the served one");
    std::fs::rename(other_dir.generation_path(1), &served).expect("put the other one");

    let started = std::time::Instant::now();
    loop {
        let body = app.get_json(SEARCH);
        if body["total"] == 45 {
            assert_eq!(body["generation"], 1);
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the other build was not picked up: {} providers",
            body["total"]
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
