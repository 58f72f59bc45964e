//! Starting a test server and talking to it.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ketadir::index::ServedIndex;
use ketadir::index::{ImportOptions, ImportOutcome, IndexDir, import_csv};
use ketadir::startup::{HttpSettings, run_with};
use serde_json::Value;
use tempfile::TempDir;

/// The bundled sample data (2,000 fictional providers).
/// Every column the importer knows, in the order of `data/providers.csv`.
pub const CSV_COLUMNS: [&str; 29] = [
    "id",
    "name",
    "organization",
    "credentials",
    "npi",
    "address",
    "city",
    "state",
    "zip",
    "latitude",
    "longitude",
    "phone",
    "website",
    "email",
    "treatments",
    "conditions",
    "insurance",
    "price_min",
    "price_max",
    "telehealth",
    "accepting_new_patients",
    "languages",
    "rating",
    "review_count",
    "description",
    "last_verified",
    "provider_type",
    "licensed_states",
    "rems_certified",
];

pub fn sample_csv() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/data/providers.csv"))
        .expect("bundled data/providers.csv")
}

pub const HEADER: &str = "id,name,city,state,zip,latitude,longitude,treatments,conditions,insurance,rating,review_count,telehealth,price_min";

/// A small CSV of `count` providers around Denver, ids `{prefix}-{n}`.
pub fn denver_csv(prefix: &str, count: usize) -> String {
    let mut csv = format!("{HEADER}\n");
    for n in 0..count {
        let lat = 39.74 + (n % 10) as f64 * 0.01;
        let lon = -104.99 - (n / 10 % 10) as f64 * 0.01;
        let rating = 3.0 + (n % 20) as f64 / 10.0;
        csv.push_str(&format!(
            "{prefix}-{n},Clinician {prefix} {n},Denver,CO,80202,{lat:.4},{lon:.4},iv_infusion,crps;depression,Aetna;Self-pay,{rating:.1},{},{},{}\n",
            n % 7 + 1,
            n % 2 == 0,
            300 + n % 10 * 50
        ));
    }
    csv
}

pub fn import(dir: &IndexDir, csv: &str, options: &ImportOptions) -> ImportOutcome {
    import_csv(dir, csv.as_bytes(), options, |_| {}).expect("import runs")
}

pub struct TestApp {
    pub address: String,
    pub root: TempDir,
    agent: ureq::Agent,
}

pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", self.body))
    }
}

impl TestApp {
    pub fn index_dir(&self) -> IndexDir {
        IndexDir::new(index_path(self.root.path()))
    }

    pub fn get(&self, path_and_query: &str) -> Reply {
        self.request("GET", path_and_query, &[])
    }

    /// Any method, with extra request headers.
    pub fn request(&self, method: &str, path_and_query: &str, headers: &[(&str, &str)]) -> Reply {
        self.send(method, path_and_query, headers, &[])
    }

    /// Any method, with headers and a body.
    pub fn send(
        &self,
        method: &str,
        path_and_query: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Reply {
        let url = format!("{}{path_and_query}", self.address);
        let mut builder = ureq::http::Request::builder().method(method).uri(&url);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let request = builder.body(body.to_vec()).expect("a valid test request");
        let mut response = self
            .agent
            .run(request)
            .unwrap_or_else(|e| panic!("{method} {url} failed: {e}"));
        let headers = response
            .headers()
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or_default().to_string()))
            .collect();
        Reply {
            status: response.status().as_u16(),
            content_type: response
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string(),
            headers,
            body: response.body_mut().read_to_string().expect("readable body"),
        }
    }

    /// GET that must answer 200 with JSON.
    pub fn get_json(&self, path_and_query: &str) -> Value {
        let reply = self.get(path_and_query);
        assert_eq!(reply.status, 200, "{path_and_query}: {}", reply.body);
        reply.json()
    }

    /// Waits until the server serves `generation`, or panics after `limit`.
    pub fn wait_for_generation(&self, generation: u64, limit: Duration) {
        let started = Instant::now();
        loop {
            let ready = self.get("/readyz").json();
            if ready["generation"] == generation {
                return;
            }
            assert!(
                started.elapsed() < limit,
                "generation {generation} not picked up within {limit:?}: {ready}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn index_path(root: &Path) -> PathBuf {
    root.join("index")
}

/// Imports `csv` into a fresh index directory and starts a server on it.
pub fn spawn_app(csv: &str) -> TestApp {
    let root = tempfile::tempdir().expect("temp dir");
    let outcome = import(
        &IndexDir::new(index_path(root.path())),
        csv,
        &ImportOptions::default(),
    );
    assert!(
        outcome.generation.is_some(),
        "test data must import: {:?}",
        outcome.rejection
    );
    spawn_on(root)
}

/// Starts a server on an existing index directory under `root`.
pub fn spawn_on(root: TempDir) -> TestApp {
    spawn_on_with(root, HttpSettings::default())
}

/// [`spawn_app`] with explicit HTTP settings (rate limits, caching).
pub fn spawn_app_with(csv: &str, settings: HttpSettings) -> TestApp {
    let root = tempfile::tempdir().expect("temp dir");
    let outcome = import(
        &IndexDir::new(index_path(root.path())),
        csv,
        &ImportOptions::default(),
    );
    assert!(outcome.generation.is_some(), "{:?}", outcome.rejection);
    spawn_on_with(root, settings)
}

/// [`spawn_on`] with explicit HTTP settings.
pub fn spawn_on_with(root: TempDir, settings: HttpSettings) -> TestApp {
    let index = index_path(root.path());
    spawn_at(root, &index, settings)
}

/// Another server on the index directory `index` (a replica of the server
/// that owns it); its own `root` is an empty temporary directory.
pub fn spawn_replica(index: &Path, settings: HttpSettings) -> TestApp {
    spawn_at(tempfile::tempdir().expect("temp dir"), index, settings)
}

fn spawn_at(root: TempDir, index: &Path, settings: HttpSettings) -> TestApp {
    let state = ServedIndex::open(IndexDir::new(index)).expect("state opens");
    state.watch();
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    let port = listener.local_addr().expect("local address").port();
    let server_state = Arc::clone(&state);
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            run_with(listener, server_state, settings)
                .expect("server starts")
                .await
                .expect("server runs")
        })
    });
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        // Tests look at a redirect itself (the admin page's 303s).
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        root,
        agent,
    }
}

/// The empty-state box of a results page with no results.
pub fn empty_state(body: &str) -> &str {
    let empty = &body[body.find("class=\"empty\"").expect("the empty state")..];
    &empty[..empty.find("</div>").expect("its end")]
}

/// The links of a piece of page that lead to another search (`/?…`).
pub fn search_links(html: &str) -> Vec<&str> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .filter(|href| href.starts_with("/?"))
        .collect()
}

/// Server settings whose rate limit is `per_minute` requests a minute for
/// every client, this test's loopback included.
pub fn limited_to(per_minute: u32) -> HttpSettings {
    HttpSettings {
        rate_limits: ketadir::routes::rate_limit::RateLimitSettings {
            per_ip_per_minute: per_minute,
            limit_loopback: true,
            ..Default::default()
        },
        ..HttpSettings::default()
    }
}
