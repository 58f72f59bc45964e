//! The access log of the real binary: the client address it records is the
//! TCP peer, never what a client writes into `X-Forwarded-For` or
//! `Forwarded` (without `--trusted-proxy`).

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::Duration;

#[test]
fn request_logs_record_the_peer_never_a_forwarded_header() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/data/providers.csv");
    let mut server = Command::new(env!("CARGO_BIN_EXE_ketadir"))
        .arg("--index-dir")
        .arg(dir.path().join("index"))
        .args(["serve", "--addr", "127.0.0.1:0", "--data", sample])
        .env("KETADIR_LOG", "info")
        .env("KETADIR_ADMIN_TOKEN", "a-token-of-the-admin-0123456789")
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("server starts");
    let mut stderr = BufReader::new(server.stderr.take().expect("stderr"));
    let mut log = String::new();
    let address = loop {
        let mut line = String::new();
        if stderr.read_line(&mut line).expect("read the log") == 0 {
            panic!("the server exited: {log}");
        }
        log.push_str(&line);
        if let Some(at) = line.find("listening addr=") {
            break line[at + 15..].trim().to_string();
        }
    };
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into();
    for path in ["/api/v1/search?near=80202", "/", "/admin/status"] {
        let status = agent
            .get(format!("http://{address}{path}"))
            .header("X-Forwarded-For", "6.6.6.6")
            .header("Forwarded", "for=7.7.7.7")
            .header("X-Real-IP", "8.8.4.4")
            .header("Authorization", "Bearer wrong-token")
            .call()
            .map(|response| response.status().as_u16())
            .expect("the server answers");
        assert!(status < 500, "{path}: {status}");
    }
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(server.id().to_string())
        .status();
    stderr
        .read_to_string(&mut log)
        .expect("read the rest of the log");
    let _ = server.wait();
    let requests: Vec<&str> = log.lines().filter(|l| l.contains("HTTP request")).collect();
    assert!(requests.len() >= 3, "one line per request: {log}");
    for line in &requests {
        assert!(line.contains("http.client_ip=127.0.0.1"), "{line}");
        for spoofed in ["6.6.6.6", "7.7.7.7", "8.8.4.4"] {
            assert!(!line.contains(spoofed), "the log believed a header: {line}");
        }
    }
}
