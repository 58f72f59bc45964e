//! The `ketadir` binary as an admin uses it: check, index, search, rollback,
//! serve, and an import killed mid-build that loses nothing.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use ketadir::index::{FORMAT_VERSION, IndexDir};

fn ketadir(index_dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ketadir"))
        .arg("--index-dir")
        .arg(index_dir)
        .args(args)
        .env("KETADIR_LOG", "warn")
        .output()
        .expect("the binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn sample_csv() -> &'static str {
    concat!(env!("CARGO_MANIFEST_DIR"), "/data/providers.csv")
}

fn write(dir: &Path, name: &str, contents: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, contents).expect("write test CSV");
    path.display().to_string()
}

#[test]
fn check_reports_bad_rows_as_text_and_json() {
    let dir = tempfile::tempdir().expect("temp dir");
    let csv = write(
        dir.path(),
        "bad.csv",
        "id,name,city,state,latitude,longitude,npi,fax\n\
         p-1,Fine,Denver,CO,39.7,-105,,1\n\
         p-2,Bad NPI,Denver,CO,39.7,-105,1234567890,2\n",
    );
    let index = dir.path().join("index");
    let text = ketadir(&index, &["check", &csv]);
    assert_eq!(text.status.code(), Some(1));
    assert!(
        stdout(&text).contains("line 3: error: npi (id p-2)"),
        "{}",
        stdout(&text)
    );

    let json = ketadir(&index, &["check", "--json", &csv]);
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON report");
    assert_eq!(report["rows_read"], 2);
    assert_eq!(report["valid"], 1);
    assert_eq!(report["invalid"], 1);
    assert_eq!(report["errors"][0]["line"], 3);
    assert_eq!(report["errors"][0]["id"], "p-2");
    assert_eq!(report["errors"][0]["column"], "npi");
    assert_eq!(report["errors"][0]["value"], "1234567890");
    assert_eq!(report["warnings"][0]["column"], "fax");
    assert_eq!(report["warnings"][0]["id"], serde_json::Value::Null);
}

#[test]
fn index_then_search_as_table_and_json_then_roll_back() {
    let dir = tempfile::tempdir().expect("temp dir");
    let index = dir.path().join("index");
    let first = ketadir(&index, &["index", sample_csv()]);
    assert!(first.status.success(), "{}", stdout(&first));
    assert!(stdout(&first).contains("published generation 1"));

    let table = ketadir(&index, &["search", "--near", "80202", "--radius", "50"]);
    assert!(table.status.success());
    let table = stdout(&table);
    assert!(table.contains("within 50 miles of"), "{table}");
    assert!(table.contains(", CO"), "{table}");

    let json = ketadir(
        &index,
        &[
            "search",
            "--lat",
            "39.74",
            "--lon",
            "-104.99",
            "--treatment",
            "iv_infusion",
            "--json",
        ],
    );
    let body: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON results");
    assert_eq!(body["location"]["radius_miles"], 25.0);
    assert!(body["results"].as_array().is_some_and(|r| !r.is_empty()));

    let bad = ketadir(&index, &["search", "--near", "80202", "--radius", "9999"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--radius"));

    let again = ketadir(&index, &["index", "--json", sample_csv()]);
    let outcome: serde_json::Value = serde_json::from_slice(&again.stdout).expect("JSON outcome");
    assert_eq!(outcome["generation"], 2);
    let rollback = ketadir(&index, &["rollback"]);
    assert!(rollback.status.success());
    assert_eq!(IndexDir::new(&index).current().expect("pointer"), Some(1));
}

#[test]
fn a_second_import_is_refused_while_one_runs() {
    let dir = tempfile::tempdir().expect("temp dir");
    let index = dir.path().join("index");
    let held = IndexDir::new(&index).lock_imports().expect("lock");
    let refused = ketadir(&index, &["index", sample_csv()]);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("another import is running"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    drop(held);
    assert!(ketadir(&index, &["index", sample_csv()]).status.success());
}

/// A CSV big enough that its import takes a while: the sample rows again
/// and again under new ids.
fn big_csv(dir: &Path, copies: usize) -> String {
    let sample = std::fs::read_to_string(sample_csv()).expect("sample data");
    let mut lines = sample.lines();
    let header = lines.next().expect("header");
    let rows: Vec<&str> = lines.collect();
    let mut csv = String::with_capacity(sample.len() * copies);
    csv.push_str(header);
    csv.push('\n');
    for copy in 0..copies {
        for row in &rows {
            // Ids start the row ("p-000123,…"); make them unique per copy.
            // Multi-line descriptions have continuation lines, kept as they are.
            if let Some(rest) = row.strip_prefix("p-") {
                csv.push_str(&format!("c{copy}-p-{rest}\n"));
            } else {
                csv.push_str(row);
                csv.push('\n');
            }
        }
    }
    write(dir, "big.csv", &csv)
}

#[test]
fn an_import_killed_mid_build_loses_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let index = dir.path().join("index");
    assert!(ketadir(&index, &["index", sample_csv()]).status.success());
    let big = big_csv(dir.path(), 60);

    let mut child = Command::new(env!("CARGO_BIN_EXE_ketadir"))
        .arg("--index-dir")
        .arg(&index)
        .args(["index", "--allow-shrink", &big])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("import starts");
    // Kill it once its build directory has tantivy files in it.
    let started = Instant::now();
    let building = index.join("gen-0000000002.building");
    loop {
        let files = std::fs::read_dir(&building).map(|d| d.count()).unwrap_or(0);
        if files > 3 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the import never started building"
        );
        assert!(
            child.try_wait().expect("poll").is_none(),
            "import ended too soon"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");

    let dir_state = IndexDir::new(&index);
    assert_eq!(dir_state.current().expect("pointer"), Some(1));
    let search = ketadir(&index, &["search", "--json", "--per-page", "1"]);
    let body: serde_json::Value = serde_json::from_slice(&search.stdout).expect("JSON");
    assert_eq!(body["total"], 2000);
    assert_eq!(body["generation"], 1);

    // The lock died with the process; the next import cleans up and succeeds.
    let next = ketadir(&index, &["index", sample_csv()]);
    assert!(next.status.success(), "{}", stdout(&next));
    assert_eq!(dir_state.current().expect("pointer"), Some(2));
    assert!(!building.exists());
}

#[test]
fn serve_builds_the_first_index_from_data_and_answers() {
    let dir = tempfile::tempdir().expect("temp dir");
    let index = dir.path().join("index");
    let mut server = Command::new(env!("CARGO_BIN_EXE_ketadir"))
        .arg("--index-dir")
        .arg(&index)
        .args(["serve", "--addr", "127.0.0.1:0", "--data", sample_csv()])
        .env("KETADIR_LOG", "info")
        .env("NO_COLOR", "1")
        .stderr(Stdio::piped())
        .spawn()
        .expect("server starts");
    let stderr = server.stderr.take().expect("stderr");
    // Keep draining the log after the address shows, so the server never
    // writes into a closed pipe.
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(at) = line.find("listening addr=") {
                let _ = sender.send(line[at + 15..].trim().to_string());
            }
        }
    });
    let address = receiver.recv_timeout(Duration::from_secs(60)).ok();
    let address = address.expect("the server logs its address");
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let body: serde_json::Value = agent
        .get(format!(
            "http://{address}/api/v1/search?near=80202&radius=50"
        ))
        .call()
        .expect("request")
        .body_mut()
        .read_json()
        .expect("JSON");
    server.kill().expect("stop server");
    server.wait().expect("reaped");
    assert!(body["total"].as_u64().is_some_and(|t| t > 0), "{body}");
}

#[test]
fn search_near_a_zip_a_city_or_a_state_and_unknown_places() {
    let dir = tempfile::tempdir().expect("temp dir");
    let index = dir.path().join("index");
    assert!(ketadir(&index, &["index", sample_csv()]).status.success());

    let zip = ketadir(&index, &["search", "--near", "80202"]);
    assert!(
        zip.status.success(),
        "{}",
        String::from_utf8_lossy(&zip.stderr)
    );
    let zip = stdout(&zip);
    assert!(zip.contains("within 25 miles of Denver, CO 80202"), "{zip}");
    assert!(zip.contains("Denver, CO"), "{zip}");

    let city = ketadir(&index, &["search", "--near", "Denver, CO", "--json"]);
    assert!(
        city.status.success(),
        "{}",
        String::from_utf8_lossy(&city.stderr)
    );
    let body: serde_json::Value = serde_json::from_slice(&city.stdout).expect("JSON");
    assert_eq!(body["location"]["label"], "Denver, CO");
    assert_eq!(body["location"]["radius_miles"], 25.0);
    let results = body["results"].as_array().expect("results");
    assert!(results.iter().any(|hit| hit["city"] == "Denver"), "{body}");

    let table = stdout(&ketadir(&index, &["search", "--near", "denver co"]));
    assert!(table.contains("within 25 miles of Denver, CO"), "{table}");
    let state = stdout(&ketadir(&index, &["search", "--near", "Colorado"]));
    assert!(state.contains("in Colorado (whole state)"), "{state}");

    let unknown = ketadir(&index, &["search", "--near", "Denvr, CO"]);
    assert!(!unknown.status.success());
    let stderr = String::from_utf8_lossy(&unknown.stderr);
    assert!(
        stderr.contains("Denvr, CO") && stderr.contains("Denver, CO"),
        "{stderr}"
    );
}

/// A server process that is killed if the test ends (or panics) first.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

#[test]
fn sigterm_lets_the_running_export_finish_then_exits_cleanly() {
    let dir = tempfile::tempdir().expect("temp dir");
    let index = dir.path().join("index");
    // Bigger than the socket buffers, so the export is still being written
    // when the signal comes.
    let data = big_csv(dir.path(), 8);
    let mut server = Command::new(env!("CARGO_BIN_EXE_ketadir"))
        .arg("--index-dir")
        .arg(&index)
        .args(["serve", "--addr", "127.0.0.1:0", "--data", &data])
        .env("KETADIR_LOG", "info")
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("server starts");
    let stderr = server.stderr.take().expect("stderr");
    let mut server = Running(server);
    let (sender, log) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = sender.send(line);
        }
    });
    let address = loop {
        let line = log
            .recv_timeout(Duration::from_secs(120))
            .expect("the server logs its address");
        if let Some(at) = line.find("listening addr=") {
            break line[at + 15..].trim().to_string();
        }
    };

    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let response = agent
        .get(format!("http://{address}/api/v1/providers?format=ndjson"))
        .call()
        .expect("export starts");
    assert_eq!(response.status(), 200);
    let request_id = response
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .expect("x-request-id")
        .to_string();
    let mut body = BufReader::new(response.into_body().into_reader());
    let mut first = String::new();
    body.read_line(&mut first).expect("first provider");

    let killed = Command::new("kill")
        .args(["-TERM", &server.0.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    // The rest of the export still arrives, in full.
    let rest = body.lines().map_while(Result::ok).count();
    assert_eq!(1 + rest, 16_000, "the export was cut short");

    let started = Instant::now();
    let status = loop {
        if let Some(status) = server.0.try_wait().expect("poll") {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the server did not exit within 10 s of SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status}");
    let lines: Vec<String> = log.try_iter().collect();
    let stop = lines
        .iter()
        .position(|l| l.contains("stop signal received") && l.contains("SIGTERM"));
    let stop = stop.unwrap_or_else(|| panic!("no shutdown log: {lines:#?}"));
    // The access log line of the export carries the id the client saw, and
    // comes after the signal: the export was in flight when it came.
    let export = lines
        .iter()
        .position(|l| l.contains(&request_id) && l.contains("http.status_code=200"));
    let export = export.unwrap_or_else(|| panic!("no log of request {request_id}: {lines:#?}"));
    assert!(stop < export, "{lines:#?}");
}

#[test]
fn the_server_keeps_answering_after_its_log_reader_goes_away() {
    let dir = tempfile::tempdir().expect("temp dir");
    let index = dir.path().join("index");
    let mut server = Running(
        Command::new(env!("CARGO_BIN_EXE_ketadir"))
            .arg("--index-dir")
            .arg(&index)
            .args(["serve", "--addr", "127.0.0.1:0", "--data", sample_csv()])
            .env("KETADIR_LOG", "info")
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("server starts"),
    );
    // Read the log up to the address, then close the pipe: every later log
    // line (one per request) is written into a closed pipe.
    let stderr = server.0.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines().map_while(Result::ok);
    let address = lines
        .find_map(|line| {
            line.find("listening addr=")
                .map(|at| line[at + 15..].trim().to_string())
        })
        .expect("the server logs its address");
    drop(lines);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into();
    for _ in 0..20 {
        let status = agent
            .get(format!("http://{address}/api/v1/search?near=80202"))
            .call()
            .map(|response| response.status().as_u16());
        assert_eq!(status.ok(), Some(200), "the server stopped answering");
    }
    assert!(
        matches!(server.0.try_wait(), Ok(None)),
        "the server exited when its stderr closed"
    );
}

/// A small CSV of `count` providers around Denver.
fn denver_csv(dir: &Path, count: usize) -> String {
    let mut csv = String::from(
        "id,name,city,state,zip,latitude,longitude,treatments,conditions,insurance,rating,review_count\n",
    );
    for n in 0..count {
        csv.push_str(&format!(
            "d-{n},Clinician {n},Denver,CO,80202,{:.4},{:.4},iv_infusion,depression,Aetna,{:.1},{}\n",
            39.74 + (n % 10) as f64 * 0.01,
            -104.99 - (n / 10) as f64 * 0.01,
            3.0 + (n % 20) as f64 / 10.0,
            n % 7 + 1
        ));
    }
    write(dir, "denver.csv", &csv)
}

/// Rewrites the format marker in a generation's `generation.json`, as an
/// older or a newer ketadir would have written it.
fn set_format_version(index: &Path, generation: u64, format: u32) {
    let path = IndexDir::new(index)
        .generation_path(generation)
        .join("generation.json");
    let mut meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).expect("generation.json")).expect("JSON");
    assert_eq!(meta["generation"], generation);
    assert_eq!(meta["format_version"], FORMAT_VERSION);
    meta["format_version"] = format.into();
    std::fs::write(&path, meta.to_string()).expect("write generation.json");
}

/// Runs `ketadir serve` on port 0 and waits for it to exit on its own
/// (within 60 s); returns its exit status and log.
fn serve_until_it_exits(index: &Path) -> (std::process::ExitStatus, String) {
    let log_path = index.with_extension("serve.log");
    let log = std::fs::File::create(&log_path).expect("log file");
    let mut server = Running(
        Command::new(env!("CARGO_BIN_EXE_ketadir"))
            .arg("--index-dir")
            .arg(index)
            .args(["serve", "--addr", "127.0.0.1:0", "--data", sample_csv()])
            .env("KETADIR_LOG", "info")
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("server starts"),
    );
    let started = Instant::now();
    let status = loop {
        if let Some(status) = server.0.try_wait().expect("poll") {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the server did not exit: {}",
            std::fs::read_to_string(&log_path).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    (status, std::fs::read_to_string(&log_path).expect("log"))
}

fn ids_and_total(output: &Output) -> (Vec<String>, u64, u64) {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let body: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON results");
    let ids = body["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|hit| hit["id"].as_str().expect("id").to_string())
        .collect();
    let total = body["total"].as_u64().expect("total");
    let generation = body["generation"].as_u64().expect("generation");
    (ids, total, generation)
}

#[test]
fn an_older_generation_is_rebuilt_from_its_csv_and_a_newer_one_is_never_served() {
    let dir = tempfile::tempdir().expect("temp dir");
    let index = dir.path().join("index");
    let csv = denver_csv(dir.path(), 30);
    let indexed = ketadir(&index, &["index", &csv]);
    assert!(indexed.status.success(), "{}", stdout(&indexed));
    let state = IndexDir::new(&index);
    assert_eq!(
        std::fs::read(state.generation_path(1).join("source.csv")).expect("source.csv kept"),
        std::fs::read(&csv).expect("CSV")
    );
    let query = [
        "search",
        "--near",
        "80202",
        "--radius",
        "50",
        "--per-page",
        "100",
        "--json",
    ];
    let (ids, total, generation) = ids_and_total(&ketadir(&index, &query));
    assert_eq!((total, generation), (30, 1));

    // As if an older ketadir had built it: the next use rebuilds it.
    set_format_version(&index, 1, FORMAT_VERSION - 1);
    let rebuilt = Command::new(env!("CARGO_BIN_EXE_ketadir"))
        .arg("--index-dir")
        .arg(&index)
        .args(query)
        .env("KETADIR_LOG", "info")
        .env("NO_COLOR", "1")
        .output()
        .expect("the binary runs");
    let stderr = String::from_utf8_lossy(&rebuilt.stderr).into_owned();
    assert_eq!(
        ids_and_total(&rebuilt),
        (ids.clone(), total, 2),
        "the rebuilt generation answers as before: {stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "generation 1 was built by an older ketadir (index format {}, this binary reads {FORMAT_VERSION}); rebuilding it from its source CSV",
            FORMAT_VERSION - 1
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("rebuilt generation 1 from its source CSV as generation 2"),
        "{stderr}"
    );
    assert_eq!(state.current().expect("pointer"), Some(2));
    assert_eq!(
        std::fs::read(state.generation_path(2).join("source.csv")).expect("source.csv kept"),
        std::fs::read(&csv).expect("CSV")
    );
    // Once: the next search finds generation 2 current.
    assert_eq!(ids_and_total(&ketadir(&index, &query)), (ids, total, 2));
    assert_eq!(state.generations().expect("list"), vec![1, 2]);

    // As if a newer ketadir had published it: never served.
    set_format_version(&index, 2, FORMAT_VERSION + 1);
    let (status, log) = serve_until_it_exits(&index);
    assert!(!status.success(), "{log}");
    assert!(
        log.contains(&format!(
            "generation 2 was built by a newer ketadir (index format {}); this binary reads format {FORMAT_VERSION} and will not serve it",
            FORMAT_VERSION + 1
        )),
        "{log}"
    );
    assert!(!log.contains("listening"), "{log}");
    let search = ketadir(&index, &query);
    assert!(!search.status.success());
    assert!(
        String::from_utf8_lossy(&search.stderr).contains("built by a newer ketadir"),
        "{}",
        String::from_utf8_lossy(&search.stderr)
    );
    assert_eq!(state.current().expect("pointer"), Some(2));
    assert_eq!(state.generations().expect("list"), vec![1, 2]);
}

#[test]
fn an_older_generation_without_its_csv_is_not_served() {
    let dir = tempfile::tempdir().expect("temp dir");
    let index = dir.path().join("index");
    let csv = denver_csv(dir.path(), 30);
    assert!(ketadir(&index, &["index", &csv]).status.success());
    let state = IndexDir::new(&index);
    set_format_version(&index, 1, FORMAT_VERSION - 1);
    std::fs::remove_file(state.generation_path(1).join("source.csv")).expect("remove");

    let (status, log) = serve_until_it_exits(&index);
    assert!(!status.success(), "{log}");
    assert!(
        log.contains("generation 1 cannot be rebuilt for this ketadir: it keeps no source CSV"),
        "{log}"
    );
    assert!(!log.contains("listening"), "{log}");
    assert_eq!(state.current().expect("pointer"), Some(1));
    assert_eq!(state.generations().expect("list"), vec![1]);
}

// ---------------------------------------------------------------------------
// Issue 16, items 6 and 7: quoting errors, the record cap, header-only
// files, and text that cannot spoof
// ---------------------------------------------------------------------------

fn json_report(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("JSON report ({e}): {}", stdout(output)))
}

/// The report's error on `line` in `column`, or a panic that shows the report.
fn report_error(report: &serde_json::Value, line: u64, column: &str) -> serde_json::Value {
    report["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .find(|e| e["line"] == line && e["column"] == column)
        .unwrap_or_else(|| panic!("no error on line {line} in {column}: {report:#}"))
        .clone()
}

#[test]
fn check_reports_an_unclosed_quote_on_the_row_where_it_starts() {
    let dir = tempfile::tempdir().expect("temp dir");
    let index = dir.path().join("index");
    let csv = write(
        dir.path(),
        "unclosed.csv",
        "id,name,city,state,latitude,longitude,description\n\
         p-1,A,Denver,CO,39.7,-105,fine\n\
         p-2,B,Denver,CO,39.7,-105,\"never closed\n\
         p-3,C,Denver,CO,39.7,-105,x\n\
         p-4,D,Denver,CO,39.7,-105,y\n",
    );
    let json = ketadir(&index, &["check", "--json", &csv]);
    assert_eq!(json.status.code(), Some(1), "{}", stdout(&json));
    let report = json_report(&json);
    assert_eq!(report["invalid"], 1, "{report:#}");
    assert_eq!(report["valid"], 1, "{report:#}");
    let error = report_error(&report, 3, "description");
    assert_eq!(error["id"], "p-2");
    let message = error["message"].as_str().expect("message");
    assert!(message.contains("never closes"), "{message}");

    let text = ketadir(&index, &["check", &csv]);
    assert_eq!(text.status.code(), Some(1));
    assert!(
        stdout(&text).contains("line 3: error: description (id p-2)"),
        "{}",
        stdout(&text)
    );
    let import = ketadir(&index, &["index", "--json", &csv]);
    assert!(!import.status.success(), "{}", stdout(&import));
}

#[test]
fn check_reports_stray_quotes_with_line_and_column() {
    let dir = tempfile::tempdir().expect("temp dir");
    let index = dir.path().join("index");
    let csv = write(
        dir.path(),
        "stray.csv",
        "id,name,organization,city,state,latitude,longitude\n\
         p-1,Na\"me,,Denver,CO,39.7,-105\n\
         p-2,\"Name\"junk,,Denver,CO,39.7,-105\n\
         p-3,Fine,\"Org \"\"Q\"\"\",Denver,CO,39.7,-105\n",
    );
    let json = ketadir(&index, &["check", "--json", &csv]);
    assert_eq!(json.status.code(), Some(1), "{}", stdout(&json));
    let report = json_report(&json);
    assert_eq!(
        (&report["rows_read"], &report["valid"], &report["invalid"]),
        (&3.into(), &1.into(), &2.into()),
        "{report:#}"
    );
    let stray = report_error(&report, 2, "name");
    assert_eq!(stray["id"], "p-1");
    assert_eq!(stray["value"], "Na\"me");
    let junk = report_error(&report, 3, "name");
    assert_eq!(junk["id"], "p-2");
    assert_eq!(report["errors"].as_array().map(Vec::len), Some(2));
}

/// `check /dev/zero` stops at the record cap instead of reading forever.
/// The address space is limited so that a regression fails this test
/// rather than the machine.
#[cfg(unix)]
#[test]
fn check_of_dev_zero_stops_at_the_record_cap() {
    let dir = tempfile::tempdir().expect("temp dir");
    let index = dir.path().join("index");
    let mut child = Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 2097152 && exec \"$@\"")
        .arg("sh")
        .arg(env!("CARGO_BIN_EXE_ketadir"))
        .arg("--index-dir")
        .arg(&index)
        .args(["check", "--json", "/dev/zero"])
        .env("KETADIR_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let started = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("check /dev/zero still running after 60 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = child.wait_with_output().expect("output");
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report = json_report(&output);
    assert_eq!(report["rows_read"], 0);
    let error = report_error(&report, 1, "header");
    let message = error["message"].as_str().expect("message");
    assert!(message.contains("1 MiB"), "{message}");
}

#[test]
fn check_says_a_header_only_file_has_no_rows_and_index_rejects_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let index = dir.path().join("index");
    let csv = write(
        dir.path(),
        "header-only.csv",
        "id,name,city,state,latitude,longitude\n",
    );
    let text = ketadir(&index, &["check", &csv]);
    assert_eq!(text.status.code(), Some(1), "{}", stdout(&text));
    assert!(
        stdout(&text).contains("line 1: error: row: the file has a header but no rows"),
        "{}",
        stdout(&text)
    );
    let json = ketadir(&index, &["check", "--json", &csv]);
    let report = json_report(&json);
    assert_eq!(report["rows_read"], 0);
    assert_eq!(
        report_error(&report, 1, "row")["message"],
        "the file has a header but no rows"
    );

    let import = ketadir(&index, &["index", "--json", &csv]);
    assert!(!import.status.success(), "{}", stdout(&import));
    let outcome = json_report(&import);
    assert_eq!(
        outcome["rejection"]["reason"], "no_valid_rows",
        "{outcome:#}"
    );
    assert_eq!(outcome["generation"], serde_json::Value::Null);
}

#[test]
fn check_rejects_direction_overrides_in_names_and_dot_ids() {
    let dir = tempfile::tempdir().expect("temp dir");
    let index = dir.path().join("index");
    // The byte-order mark at the start of the file stays accepted.
    let csv = write(
        dir.path(),
        "spoof.csv",
        "\u{feff}id,name,city,state,latitude,longitude\n\
         p-1,Dr. \u{202e}Evil,Denver,CO,39.7,-105\n\
         ..,Fine,Denver,CO,39.7,-105\n\
         p-3,Fine,Denver,CO,39.7,-105\n",
    );
    let json = ketadir(&index, &["check", "--json", &csv]);
    assert_eq!(json.status.code(), Some(1), "{}", stdout(&json));
    let report = json_report(&json);
    assert_eq!(report["valid"], 1, "{report:#}");
    assert!(
        report["warnings"].as_array().is_some_and(Vec::is_empty),
        "{report:#}"
    );
    let name = report_error(&report, 2, "name");
    assert_eq!(name["id"], "p-1");
    assert_eq!(
        name["message"],
        "contains U+202E RIGHT-TO-LEFT OVERRIDE, which can make text display reversed"
    );
    let id = report_error(&report, 3, "id");
    assert_eq!(id["value"], "..");
    assert_eq!(id["id"], serde_json::Value::Null);
}

// ---------------------------------------------------------------------------
// Issue 16, items 1 to 4: the published history, rollback targets that do
// not open, numbers never reused, and no hang at start-up
// ---------------------------------------------------------------------------

/// `ketadir index` of `count` Denver providers; its published generation.
fn index_denver(dir: &Path, index: &Path, count: usize) -> Output {
    let csv = denver_csv(dir, count);
    ketadir(index, &["index", "--allow-shrink", &csv])
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// What `ketadir search` answers: (total, generation).
fn served_total_and_generation(index: &Path) -> (u64, u64) {
    let (_, total, generation) = ids_and_total(&ketadir(
        index,
        &["search", "--near", "80202", "--radius", "50", "--json"],
    ));
    (total, generation)
}

#[test]
fn an_import_that_dies_before_publishing_is_never_a_rollback_target() {
    let dir = tempfile::tempdir().expect("temp dir");
    let index = dir.path().join("index");
    let state = IndexDir::new(&index);
    for count in [30, 31] {
        let output = index_denver(dir.path(), &index, count);
        assert!(output.status.success(), "{}", stderr(&output));
    }
    // Publishing fails (an I/O error writing CURRENT): two complete
    // generations, 3 and 4, that were never served.
    let blocker = index.join("CURRENT.tmp");
    std::fs::create_dir(&blocker).expect("mkdir CURRENT.tmp");
    for (count, generation) in [(32, "gen-0000000003"), (33, "gen-0000000004")] {
        let failed = index_denver(dir.path(), &index, count);
        assert!(!failed.status.success(), "{}", stdout(&failed));
        assert!(
            stderr(&failed).contains(&format!("publishing {generation}")),
            "{}",
            stderr(&failed)
        );
    }
    std::fs::remove_dir(&blocker).expect("rmdir CURRENT.tmp");
    assert_eq!(state.current().expect("pointer"), Some(2));
    assert_eq!(state.generations().expect("list"), vec![1, 2, 3, 4]);

    let published = index_denver(dir.path(), &index, 34);
    assert!(
        stdout(&published).contains("published generation 5"),
        "{}",
        stdout(&published)
    );
    // Pruned by the published history [1, 2, 5]: the generation served a
    // moment ago stays, the never-published ones go.
    assert_eq!(state.generations().expect("list"), vec![1, 2, 5]);

    let rollback = ketadir(&index, &["rollback"]);
    assert!(rollback.status.success(), "{}", stderr(&rollback));
    assert_eq!(stdout(&rollback).trim(), "now serving generation 2");
    assert_eq!(served_total_and_generation(&index), (31, 2));
    let rollback = ketadir(&index, &["rollback"]);
    assert_eq!(stdout(&rollback).trim(), "now serving generation 1");
    assert_eq!(served_total_and_generation(&index), (30, 1));
    let nothing = ketadir(&index, &["rollback"]);
    assert!(!nothing.status.success());
    assert!(
        stderr(&nothing).contains("no older generation to roll back to"),
        "{}",
        stderr(&nothing)
    );
    assert_eq!(state.current().expect("pointer"), Some(1));
}

#[test]
fn a_rollback_after_a_rollback_and_an_import_returns_to_what_was_served_before() {
    let dir = tempfile::tempdir().expect("temp dir");
    let index = dir.path().join("index");
    for count in [30, 31] {
        assert!(index_denver(dir.path(), &index, count).status.success());
    }
    let rollback = ketadir(&index, &["rollback"]);
    assert_eq!(stdout(&rollback).trim(), "now serving generation 1");
    let published = index_denver(dir.path(), &index, 32);
    assert!(
        stdout(&published).contains("published generation 3"),
        "{}",
        stdout(&published)
    );
    // The history is [1, 3]: back to 1, not to 2 (rolled away from).
    let rollback = ketadir(&index, &["rollback"]);
    assert!(rollback.status.success(), "{}", stderr(&rollback));
    assert_eq!(stdout(&rollback).trim(), "now serving generation 1");
    assert_eq!(served_total_and_generation(&index), (30, 1));
}

#[test]
fn a_rollback_to_a_generation_that_does_not_open_fails_and_changes_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let index = dir.path().join("index");
    let state = IndexDir::new(&index);
    for count in [30, 31, 32] {
        assert!(index_denver(dir.path(), &index, count).status.success());
    }
    std::fs::remove_file(state.generation_path(2).join("ranks.bin")).expect("rm ranks.bin");

    let rollback = ketadir(&index, &["rollback"]);
    assert!(!rollback.status.success(), "{}", stdout(&rollback));
    assert!(
        !stdout(&rollback).contains("now serving"),
        "{}",
        stdout(&rollback)
    );
    let message = stderr(&rollback);
    assert!(
        message.contains("cannot roll back to generation 2")
            && message.contains("ranks.bin")
            && message.contains("generation 3 is still served"),
        "{message}"
    );
    assert_eq!(state.current().expect("pointer"), Some(3));
    assert_eq!(served_total_and_generation(&index), (32, 3));
}

#[test]
fn a_generation_number_is_never_published_twice() {
    let dir = tempfile::tempdir().expect("temp dir");
    let index = dir.path().join("index");
    let state = IndexDir::new(&index);
    for count in [30, 31, 32] {
        assert!(index_denver(dir.path(), &index, count).status.success());
    }
    // The served generation deleted by hand.
    std::fs::remove_dir_all(state.generation_path(3)).expect("rm -r gen-3");
    let published = index_denver(dir.path(), &index, 33);
    assert!(published.status.success(), "{}", stderr(&published));
    assert!(
        stdout(&published).contains("published generation 4"),
        "{}",
        stdout(&published)
    );
    assert_eq!(served_total_and_generation(&index), (33, 4));
}

/// `ketadir serve` on port 0 with the sample data; its log, line by line.
fn serve_with_log(index: &Path) -> (Running, std::sync::mpsc::Receiver<String>) {
    let mut server = Command::new(env!("CARGO_BIN_EXE_ketadir"))
        .arg("--index-dir")
        .arg(index)
        .args(["serve", "--addr", "127.0.0.1:0", "--data", sample_csv()])
        .env("KETADIR_LOG", "info")
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("server starts");
    let stderr = server.stderr.take().expect("stderr");
    let (sender, log) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = sender.send(line);
        }
    });
    (Running(server), log)
}

/// Waits for the server's address in its log; panics with the log so far.
fn listening_address(log: &std::sync::mpsc::Receiver<String>, limit: Duration) -> String {
    let started = Instant::now();
    let mut seen = Vec::new();
    while let Some(left) = limit.checked_sub(started.elapsed()) {
        match log.recv_timeout(left) {
            Ok(line) => {
                if let Some(at) = line.find("listening addr=") {
                    return line[at + 15..].trim().to_string();
                }
                seen.push(line);
            }
            Err(_) => break,
        }
    }
    panic!("the server did not listen within {limit:?}: {seen:#?}");
}

fn search_total_and_generation(address: &str) -> (u64, u64) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into();
    let body: serde_json::Value = agent
        .get(format!(
            "http://{address}/api/v1/search?near=80202&radius=50"
        ))
        .call()
        .expect("request")
        .body_mut()
        .read_json()
        .expect("JSON");
    (
        body["total"].as_u64().expect("total"),
        body["generation"].as_u64().expect("generation"),
    )
}

#[test]
fn serve_builds_the_first_index_itself_when_another_first_import_gives_up() {
    let dir = tempfile::tempdir().expect("temp dir");
    let index = dir.path().join("index");
    // Another process's first import is running…
    let held = IndexDir::new(&index).lock_imports().expect("lock");
    let (mut server, log) = serve_with_log(&index);
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        matches!(server.0.try_wait(), Ok(None)),
        "the server must wait for the running import"
    );
    let early: Vec<String> = log.try_iter().collect();
    assert!(
        !early.iter().any(|line| line.contains("listening")),
        "{early:#?}"
    );
    // …and ends without publishing (rejected, or killed): the server builds
    // the first generation itself instead of waiting for ever.
    drop(held);
    let address = listening_address(&log, Duration::from_secs(60));
    assert_eq!(search_total_and_generation(&address).1, 1);
    assert_eq!(IndexDir::new(&index).current().expect("pointer"), Some(1));
}

#[test]
fn serve_waits_for_a_running_first_import_and_serves_what_it_published() {
    let dir = tempfile::tempdir().expect("temp dir");
    let index = dir.path().join("index");
    let state = IndexDir::new(&index);
    let held = state.lock_imports().expect("lock");
    let (_server, log) = serve_with_log(&index);
    std::thread::sleep(Duration::from_millis(1000));
    let csv = std::fs::read(denver_csv(dir.path(), 30)).expect("CSV");
    let outcome = ketadir::index::import_csv_locked(
        &state,
        &held,
        csv.as_slice(),
        &ketadir::index::ImportOptions::default(),
        |_| {},
    )
    .expect("import");
    assert_eq!(outcome.generation, Some(1));
    drop(held);
    let address = listening_address(&log, Duration::from_secs(60));
    // What the other import published, not a build of --data.
    assert_eq!(search_total_and_generation(&address), (30, 1));
    assert_eq!(state.generations().expect("list"), vec![1]);
}

#[test]
fn serve_refuses_published_generations_without_a_pointer() {
    let dir = tempfile::tempdir().expect("temp dir");
    let index = dir.path().join("index");
    let state = IndexDir::new(&index);
    for count in [30, 31] {
        assert!(index_denver(dir.path(), &index, count).status.success());
    }
    std::fs::remove_file(state.pointer_path()).expect("rm CURRENT");

    let (status, log) = serve_until_it_exits(&index);
    assert!(!status.success(), "{log}");
    assert!(
        log.contains(&format!(
            "{} has generations 1, 2 but no CURRENT pointer",
            index.display()
        )) && log.contains("index <CSV>")
            && log.contains("gen-0000000002"),
        "{log}"
    );
    assert!(!log.contains("listening"), "{log}");
    // Nothing was built from --data over them.
    assert_eq!(state.generations().expect("list"), vec![1, 2]);
    assert_eq!(state.current().expect("pointer"), None);
}
