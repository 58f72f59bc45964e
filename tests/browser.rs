//! Real-browser tests of the patient pages: builds an index from the bundled
//! `data/providers.csv`, starts the real server on a random port, and runs
//! `tests/browser/e2e.mjs` (playwright-core driving Debian's Chromium, axe-core
//! for accessibility) against it. Screenshots go to `target/screenshots/`.
//!
//! Needs `/usr/bin/chromium` (`apt-get install chromium`), Node.js and
//! `tests/browser/node_modules` (`npm ci --prefix tests/browser`). Without
//! them the test is skipped with a loud message (and its name says it may
//! be), unless `CI` is set or `KETADIR_BROWSER_TESTS=required`, where it
//! fails.

#[allow(dead_code)]
#[path = "http/helpers.rs"]
mod helpers;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CHROMIUM: &str = "/usr/bin/chromium";
/// The whole browser run; the script has its own, shorter, watchdog.
const TIMEOUT: Duration = Duration::from_secs(300);

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Written straight to the process's stderr, so it shows even when the test
/// harness captures a passing test's output.
fn announce(message: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "{message}");
    let _ = stderr.flush();
}

/// What is missing to run the browser test, with how to install it.
fn missing_prerequisites(browser_dir: &Path) -> Vec<String> {
    let mut missing = Vec::new();
    if !Path::new(CHROMIUM).exists() {
        missing.push(format!("{CHROMIUM} (apt-get install chromium)"));
    }
    let node_runs = Command::new("node")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !node_runs {
        missing.push("node (apt-get install nodejs npm)".into());
    }
    for package in ["playwright-core", "axe-core"] {
        if !browser_dir.join("node_modules").join(package).is_dir() {
            missing.push(format!(
                "tests/browser/node_modules/{package} (npm ci --prefix tests/browser)"
            ));
        }
    }
    missing
}

/// Asks a running child to stop (SIGTERM lets playwright close Chromium),
/// then kills it.
fn stop(child: &mut std::process::Child) {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if matches!(child.try_wait(), Ok(Some(_))) {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn patient_pages_in_a_real_browser_skipped_without_chromium_unless_ci() {
    let root = manifest_dir();
    let browser_dir = root.join("tests").join("browser");
    let missing = missing_prerequisites(&browser_dir);
    if !missing.is_empty() {
        let what = missing.join(", ");
        // In CI (`CI` set, as every CI runner does) a skipped browser test
        // would pass having tested nothing: there it is a failure.
        let required = std::env::var("KETADIR_BROWSER_TESTS").as_deref() == Ok("required")
            || std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false");
        if required {
            panic!(
                "the browser test is required here (CI or KETADIR_BROWSER_TESTS=required) but \
                 cannot run; missing: {what}. \
                 Install with: apt-get install chromium && npm ci --prefix tests/browser"
            );
        }
        announce(&format!(
            "\n************************************************************\n\
             SKIPPED browser test: missing {what}.\n\
             Install with: apt-get install chromium && npm ci --prefix tests/browser\n\
             (set KETADIR_BROWSER_TESTS=required to make this a failure)\n\
             ************************************************************\n"
        ));
        return;
    }

    let app = helpers::spawn_app(&helpers::sample_csv());
    let ready = app.get("/readyz");
    assert_eq!(ready.status, 200, "server not ready: {}", ready.body);

    let screenshots = root.join("target").join("screenshots");
    std::fs::create_dir_all(&screenshots).expect("create target/screenshots");
    let script = browser_dir.join("e2e.mjs");
    announce(&format!(
        "browser test: node {} {} {}",
        script.display(),
        app.address,
        screenshots.display()
    ));

    let started = Instant::now();
    // The script's output goes straight to this process's stdout and
    // stderr, line by line as it runs.
    let mut child = Command::new("node")
        .arg(&script)
        .arg(&app.address)
        .arg(&screenshots)
        .current_dir(&root)
        .stdin(Stdio::null())
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("node starts");
    let status = loop {
        match child.try_wait().expect("wait for node") {
            Some(status) => break status,
            None if started.elapsed() > TIMEOUT => {
                stop(&mut child);
                panic!("the browser test did not finish within {TIMEOUT:?}");
            }
            None => std::thread::sleep(Duration::from_millis(100)),
        }
    };
    announce(&format!(
        "browser test finished in {:.1} s with {status}; screenshots in {}",
        started.elapsed().as_secs_f64(),
        screenshots.display()
    ));
    assert!(
        status.success(),
        "tests/browser/e2e.mjs failed ({status}); its output above names the failed check"
    );
}
