//! Process-wide Prometheus metrics (all named `ketadir_*`).
//!
//! One [`Registry`] per process, built on first use, holds the counters and
//! histograms that only ever grow: HTTP requests and imports. What describes
//! the served generation (documents, generation number) is not kept here:
//! several servers can share a process (the tests run many), so those gauges
//! are made per scrape from the state of the server being scraped and passed
//! to [`render`].
//!
//! Label values are bounded by construction: routes are patterns, methods
//! and import outcomes come from closed lists, so a client cannot grow the
//! number of series.

use std::sync::OnceLock;
use std::time::Instant;

use prometheus::proto::MetricFamily;
use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};

use crate::index::{ImportOutcome, IndexError};

/// The `Content-Type` of [`render`]'s output.
pub const CONTENT_TYPE: &str = prometheus::TEXT_FORMAT;

/// The `outcome` label values: the import log's (see `index`).
pub use crate::index::{FAILED, PUBLISHED, REJECTED};
const OUTCOMES: [&str; 3] = [PUBLISHED, REJECTED, FAILED];

/// Latency buckets of HTTP requests, 0.5 ms to 5 s: a search answers in a
/// few ms, an export of the whole directory takes seconds.
const HTTP_BUCKETS: [f64; 13] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

/// Import durations, 0.1 s to 20 min: the sample file takes well under a
/// second, a million rows several seconds, a slow disk much more.
const IMPORT_BUCKETS: [f64; 12] = [
    0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 1200.0,
];

#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    #[error("cannot encode the metrics: {0}")]
    Encode(#[from] prometheus::Error),
    #[error("the metrics text is not UTF-8: {0}")]
    Utf8(#[from] std::string::FromUtf8Error),
}

struct Metrics {
    registry: Registry,
    http_requests: IntCounterVec,
    http_duration: HistogramVec,
    imports: IntCounterVec,
    import_duration: Histogram,
}

fn metrics() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(|| {
        // Names, labels and buckets are constants: creating and registering
        // them fails only if this code is wrong, which the tests catch.
        let registry = Registry::new();
        let http_requests = IntCounterVec::new(
            Opts::new(
                "ketadir_http_requests_total",
                "HTTP requests answered, by route pattern, method and status.",
            ),
            &["route", "method", "status"],
        )
        .expect("valid ketadir_http_requests_total");
        let http_duration = HistogramVec::new(
            HistogramOpts::new(
                "ketadir_http_request_duration_seconds",
                "Time from a request's arrival to its response head, by route pattern.",
            )
            .buckets(HTTP_BUCKETS.to_vec()),
            &["route"],
        )
        .expect("valid ketadir_http_request_duration_seconds");
        let imports = IntCounterVec::new(
            Opts::new(
                "ketadir_imports_total",
                "CSV imports run by this process, by outcome (published, rejected, failed).",
            ),
            &["outcome"],
        )
        .expect("valid ketadir_imports_total");
        let import_duration = Histogram::with_opts(
            HistogramOpts::new(
                "ketadir_import_duration_seconds",
                "Duration of the CSV imports run by this process, whatever their outcome.",
            )
            .buckets(IMPORT_BUCKETS.to_vec()),
        )
        .expect("valid ketadir_import_duration_seconds");
        for collector in [
            Box::new(http_requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(http_duration.clone()),
            Box::new(imports.clone()),
            Box::new(import_duration.clone()),
        ] {
            registry
                .register(collector)
                .expect("metric names are unique");
        }
        // Every outcome shows from the start (as 0), so a rate over
        // `outcome="failed"` exists before the first failure.
        for outcome in OUTCOMES {
            imports.with_label_values(&[outcome]);
        }
        Metrics {
            registry,
            http_requests,
            http_duration,
            imports,
            import_duration,
        }
    })
}

/// Counts one answered HTTP request. `route` must be a route pattern or
/// `"unmatched"`, `method` one of a closed list (see `routes::metrics`).
pub fn record_request(route: &str, method: &str, status: u16, seconds: f64) {
    let metrics = metrics();
    metrics
        .http_requests
        .with_label_values(&[route, method, &status.to_string()])
        .inc();
    metrics
        .http_duration
        .with_label_values(&[route])
        .observe(seconds);
}

/// Counts one import: `outcome` is [`PUBLISHED`], [`REJECTED`] or
/// [`FAILED`]; `seconds` its duration. Any other outcome is logged and not
/// counted, to keep the label's values a closed set.
pub fn record_import(outcome: &str, seconds: f64) {
    if !OUTCOMES.contains(&outcome) {
        tracing::warn!(outcome, "unknown import outcome: not counted");
        return;
    }
    let metrics = metrics();
    metrics.imports.with_label_values(&[outcome]).inc();
    metrics.import_duration.observe(seconds);
}

/// Counts an import that ran to its end, published or rejected.
pub fn record_outcome(outcome: &ImportOutcome) {
    let label = if outcome.generation.is_some() {
        PUBLISHED
    } else {
        REJECTED
    };
    record_import(label, outcome.seconds);
}

/// Runs an import and counts it: published or rejected from its outcome,
/// failed on an error. An import refused because another one runs
/// ([`IndexError::ImportInProgress`]) never started and is not counted.
pub fn track_import(
    run: impl FnOnce() -> Result<ImportOutcome, IndexError>,
) -> Result<ImportOutcome, IndexError> {
    let started = Instant::now();
    let result = run();
    if let Some(outcome) = outcome_label(&result) {
        let seconds = match &result {
            Ok(outcome) => outcome.seconds,
            Err(_) => started.elapsed().as_secs_f64(),
        };
        record_import(outcome, seconds);
    }
    result
}

/// The `outcome` label of an import's result; `None` when it never ran.
fn outcome_label(result: &Result<ImportOutcome, IndexError>) -> Option<&'static str> {
    match result {
        // Refused before it started: not an import.
        Err(IndexError::ImportInProgress) => None,
        other => Some(crate::index::outcome_label(other)),
    }
}

/// The generation a server answers from, as of a scrape.
#[derive(Debug, Clone, Copy, Default)]
pub struct Served {
    pub generation: u64,
    pub documents: u64,
}

/// Every metric in Prometheus' text format, with the gauges of `served`
/// (0 for both when no generation is loaded: generations start at 1).
pub fn render(served: Option<Served>) -> Result<String, MetricsError> {
    render_with_reports(served, None)
}

/// [`render`] with the report queue's figures, read from its database at
/// each scrape (so every replica sharing the database shows the same
/// values, and they survive restarts): `ketadir_reports_open`,
/// `ketadir_reports_oldest_open_age_seconds` (0 when none is open) and
/// `ketadir_reports_total{reason}` (every report ever stored, by reason;
/// a report with several reasons counts once for each). Without them (the
/// database did not answer) those families are left out.
pub fn render_with_reports(
    served: Option<Served>,
    reports: Option<&crate::reports::QueueStats>,
) -> Result<String, MetricsError> {
    let served = served.unwrap_or_default();
    let mut families = metrics().registry.gather();
    if let Some(reports) = reports {
        families.extend(gauge(
            "ketadir_reports_open",
            "Listing reports waiting for an admin.",
            reports.open,
        )?);
        families.extend(gauge(
            "ketadir_reports_oldest_open_age_seconds",
            "Age of the oldest open listing report (0: none open).",
            reports.oldest_open_age_seconds.unwrap_or(0),
        )?);
        use prometheus::core::Collector;
        let totals = IntCounterVec::new(
            Opts::new(
                "ketadir_reports_total",
                "Listing reports stored, by reason (from the report database).",
            ),
            &["reason"],
        )?;
        for (reason, count) in &reports.by_reason {
            totals.with_label_values(&[reason.slug()]).inc_by(*count);
        }
        families.extend(totals.collect());
    }
    families.extend(gauge(
        "ketadir_documents",
        "Providers in the served generation.",
        served.documents,
    )?);
    families.extend(gauge(
        "ketadir_generation",
        "Number of the served generation (0: none loaded).",
        served.generation,
    )?);
    families.sort_by(|a, b| a.name().cmp(b.name()));
    let mut text = Vec::new();
    TextEncoder::new().encode(&families, &mut text)?;
    Ok(String::from_utf8(text)?)
}

/// A one-off gauge family, never registered (see the module comment).
fn gauge(name: &str, help: &str, value: u64) -> Result<Vec<MetricFamily>, MetricsError> {
    use prometheus::core::Collector;
    let gauge = IntGauge::new(name, help)?;
    gauge.set(i64::try_from(value).unwrap_or(i64::MAX));
    Ok(gauge.collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::Report;

    fn imports(outcome: &str) -> u64 {
        metrics().imports.with_label_values(&[outcome]).get()
    }

    fn import_count() -> u64 {
        metrics().import_duration.get_sample_count()
    }

    fn outcome(generation: Option<u64>) -> ImportOutcome {
        ImportOutcome {
            report: Report::default(),
            generation,
            rejection: None,
            documents: 3,
            seconds: 0.2,
        }
    }

    // Tests in this binary share the registry and run in parallel, so each
    // assertion is on growth, not on absolute values.
    #[test]
    fn record_import_counts_known_outcomes_only() {
        let (published, rejected, failed, durations) = (
            imports(PUBLISHED),
            imports(REJECTED),
            imports(FAILED),
            import_count(),
        );
        record_import(PUBLISHED, 1.5);
        record_import(REJECTED, 0.5);
        record_import(FAILED, 0.1);
        record_import("exploded", 0.1);
        assert!(imports(PUBLISHED) > published);
        assert!(imports(REJECTED) > rejected);
        assert!(imports(FAILED) > failed);
        assert!(import_count() >= durations + 3);
        let text = render(None).expect("renders");
        assert!(!text.contains("exploded"), "{text}");
    }

    #[test]
    fn track_import_sorts_outcomes_and_skips_refused_imports() {
        let published = imports(PUBLISHED);
        let result = track_import(|| Ok(outcome(Some(4))));
        assert_eq!(result.expect("passed through").generation, Some(4));
        assert!(imports(PUBLISHED) > published);

        let rejected = imports(REJECTED);
        assert!(track_import(|| Ok(outcome(None))).is_ok());
        assert!(imports(REJECTED) > rejected);

        let failed = imports(FAILED);
        let error = track_import(|| Err(IndexError::NoGeneration));
        assert!(matches!(error, Err(IndexError::NoGeneration)));
        assert!(imports(FAILED) > failed);
    }

    #[test]
    fn outcome_labels() {
        assert_eq!(outcome_label(&Ok(outcome(Some(1)))), Some(PUBLISHED));
        assert_eq!(outcome_label(&Ok(outcome(None))), Some(REJECTED));
        let io = IndexError::Io {
            context: "writing".into(),
            source: std::io::Error::other("disk full"),
        };
        assert_eq!(outcome_label(&Err(io)), Some(FAILED));
        // Refused before it started: another import holds the lock.
        assert_eq!(outcome_label(&Err(IndexError::ImportInProgress)), None);
    }

    #[test]
    fn render_has_every_family_and_the_served_gauges() {
        record_request("/api/v1/search", "GET", 200, 0.003);
        let text = render(Some(Served {
            generation: 7,
            documents: 2000,
        }))
        .expect("renders");
        assert!(text.contains("# TYPE ketadir_http_requests_total counter"));
        assert!(text.contains(
            r#"ketadir_http_requests_total{method="GET",route="/api/v1/search",status="200"}"#
        ));
        assert!(text.contains(
            r#"ketadir_http_request_duration_seconds_bucket{route="/api/v1/search",le="0.0005"}"#
        ));
        assert!(text.contains(r#"ketadir_imports_total{outcome="failed"}"#));
        assert!(text.contains("# TYPE ketadir_import_duration_seconds histogram"));
        assert!(text.contains("\nketadir_documents 2000\n"), "{text}");
        assert!(text.contains("\nketadir_generation 7\n"), "{text}");
        let empty = render(None).expect("renders");
        assert!(empty.contains("\nketadir_generation 0\n"), "{empty}");
    }
}
