//! Import and query benchmarks at 100k and 1M generated providers.
//!
//! `cargo bench` runs both sizes; `KETADIR_BENCH_SIZES=100000 cargo bench`
//! picks sizes. CSVs come from the deterministic generator
//! (`examples/generate.rs`, seed 1) and are cached in `target/bench-data/`.
//! Each size reports import throughput, the process's peak RSS, and
//! per-query latency percentiles over a fixed, seeded query mix in the
//! proportions users send (55 % place + radius 10–100 mi + 0–2 filters by
//! rating, 15 % place by distance, 15 % words + place, 10 % words alone by
//! relevance, 5 % state + treatment), per class and overall, with facets
//! and again with `facets=false`.
//!
//! Then telehealth reach: the same town searches with and without
//! `include_telehealth`.
//!
//! Then the patient results page (20 results) for the same mix: rendering
//! alone (form + view + template) and search + rendering, with the largest
//! page's size.
//!
//! Then the partner facades on the mix's places: the API's JSON, FHIR's
//! `Location?near=…` and HSDS's `services?postcode=…&proximity=…`, each
//! from its query string to the bytes it sends.
//!
//! Then the same mix from 2 threads at once (each thread runs it from its
//! own starting point), in queries per second, with facets and with
//! `facets=false`.
//!
//! Last, the SQLite peer (`benches/sqlite_peer/`): the same searches on
//! SQLite FTS5 + R*Tree over the same CSV (its database is built once and
//! cached in `target/bench-data/peer-v1-{rows}.sqlite`), timed over the
//! mix's first 400 timed queries after 40 warm-up ones (the same class
//! proportions), then from 2 threads with a connection each; each peer
//! total is compared with ketadir's, and the ratios peer / ketadir are
//! printed. `KETADIR_BENCH_PEER=0` skips the peer, `KETADIR_BENCH_PEER=only`
//! runs the mix, the 2-thread figures and the peer and nothing else;
//! `KETADIR_BENCH_PEER_QUERIES=N` times N queries instead of 400.
//!
//! For iterating on query speed: `KETADIR_BENCH_INDEX=DIR` keeps the index
//! in DIR and reuses it when it already holds a generation (no import), and
//! `KETADIR_BENCH_KINDS=0,3` runs only some query kinds;
//! `KETADIR_BENCH_REACH_ONLY=1` runs only the telehealth-reach pairs
//! (`KETADIR_BENCH_REACH_WORST=1` also lists the slowest of them).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ketadir::facades::{fhir, hsds};
use ketadir::index::{Generation, ImportOptions, IndexDir, import_csv};
use ketadir::pages::{SearchForm, render_results};
use ketadir::search::{SearchRequest, search};

#[path = "sqlite_peer/mod.rs"]
mod sqlite_peer;

const QUERIES: usize = 4000;
const WARMUP: usize = 400;

fn main() {
    let sizes: Vec<usize> = std::env::var("KETADIR_BENCH_SIZES")
        .unwrap_or_else(|_| "100000,1000000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let data_dir = root.join("target/bench-data");
    std::fs::create_dir_all(&data_dir).expect("create target/bench-data");
    let cities = load_cities(&root.join("data/us_cities.csv"));
    for rows in sizes {
        let csv = ensure_csv(&root, &data_dir, rows);
        run_size(&root, rows, &csv, &cities);
    }
}

fn ensure_csv(root: &Path, data_dir: &Path, rows: usize) -> PathBuf {
    // The name carries the generator's column set: a cached file from an
    // older generator would lack columns the searches read.
    let path = data_dir.join(format!("providers-v2-{rows}.csv"));
    if path.exists() {
        return path;
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(&cargo)
        .current_dir(root)
        .args(["build", "--release", "--example", "generate"])
        .status()
        .expect("cargo runs");
    assert!(status.success(), "building the generator failed");
    let output = std::fs::File::create(&path).expect("create CSV");
    let status = Command::new(root.join("target/release/examples/generate"))
        .args(["--rows", &rows.to_string(), "--seed", "1"])
        .stdout(output)
        .status()
        .expect("generator runs");
    assert!(status.success(), "generating {rows} rows failed");
    path
}

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kib| kib / 1024.0)
}

struct City {
    /// "Name, ST", as `near` reads it.
    label: String,
    lat: f64,
    lon: f64,
    population: f64,
}

fn load_cities(path: &Path) -> Vec<City> {
    let mut reader = csv::Reader::from_path(path).expect("us_cities.csv");
    reader
        .records()
        .filter_map(Result::ok)
        .filter_map(|r| {
            Some(City {
                label: format!("{}, {}", r.get(0)?, r.get(1)?),
                lat: r.get(2)?.parse().ok()?,
                lon: r.get(3)?.parse().ok()?,
                population: r.get(4)?.parse().ok()?,
            })
        })
        .collect()
}

/// xorshift64*: deterministic across runs and platforms.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

const WORDS: [&str; 12] = [
    "infusion",
    "depression",
    "crps",
    "ptsd",
    "spravato",
    "fibromyalgia",
    "anxiety",
    "chronic pain",
    "migraine",
    "psychotherapy",
    "nerve pain",
    "supervised",
];
const FILTERS: [(&str, &str); 8] = [
    ("treatment", "iv_infusion"),
    ("treatment", "esketamine_nasal"),
    ("condition", "crps"),
    ("condition", "treatment_resistant_depression"),
    ("insurance", "aetna"),
    ("telehealth", "true"),
    ("accepting", "true"),
    ("min_rating", "4"),
];
/// The classes of the mix, in the proportions of the "Speed at 1M"
/// issue's comparison (what users send): per 20 queries 11, 3, 3, 2, 1.
const KINDS: [&str; 5] = [
    "place + 0–2 filters, rating (55 %)",
    "place, distance (15 %)",
    "words + place (15 %)",
    "words alone, relevance (10 %)",
    "state + treatment (5 %)",
];
const TREATMENTS: [&str; 5] = [
    "iv_infusion",
    "im_injection",
    "esketamine_nasal",
    "oral_sublingual",
    "ketamine_assisted_psychotherapy",
];

/// The fixed query mix: (kind, query pairs).
fn query_mix(cities: &[City], count: usize) -> Vec<(usize, Vec<(String, String)>)> {
    let total_population: f64 = cities.iter().map(|c| c.population).sum();
    let mut rng = Rng(0x5EED_1234_ABCD_0001);
    let pick_city = |rng: &mut Rng| {
        let mut target = rng.unit() * total_population;
        for city in cities {
            target -= city.population;
            if target <= 0.0 {
                return city;
            }
        }
        &cities[0]
    };
    (0..count)
        .map(|i| {
            let kind = match i % 20 {
                0..=10 => 0,
                11..=13 => 1,
                14..=16 => 2,
                17 | 18 => 3,
                _ => 4,
            };
            let mut pairs: Vec<(String, String)> = Vec::new();
            if kind == 4 {
                // A state drawn by population, as the towns are.
                let city = pick_city(&mut rng);
                let state = city.label.rsplit(", ").next().unwrap_or("CO");
                pairs.push(("state".into(), state.into()));
                let treatment = TREATMENTS[rng.below(TREATMENTS.len())];
                pairs.push(("treatment".into(), treatment.into()));
                return (kind, pairs);
            }
            if kind != 3 {
                let city = pick_city(&mut rng);
                pairs.push(("lat".into(), format!("{:.4}", city.lat)));
                pairs.push(("lon".into(), format!("{:.4}", city.lon)));
                pairs.push(("radius".into(), (10 + rng.below(91)).to_string()));
            }
            match kind {
                0 => {
                    for _ in 0..rng.below(3) {
                        let (name, value) = FILTERS[rng.below(FILTERS.len())];
                        if !pairs.iter().any(|(n, _)| n == name) {
                            pairs.push((name.into(), value.into()));
                        }
                    }
                }
                1 => pairs.push(("sort".into(), "distance".into())),
                2 => pairs.push(("q".into(), WORDS[rng.below(WORDS.len())].into())),
                _ => {
                    pairs.push(("q".into(), WORDS[rng.below(WORDS.len())].into()));
                    pairs.push(("sort".into(), "relevance".into()));
                }
            }
            (kind, pairs)
        })
        .collect()
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index].as_secs_f64() * 1000.0
}

/// The header of a latency table whose first column is `what`.
fn print_header(what: &str) {
    println!("\n| {what} | n | p50 ms | p90 ms | p99 ms | max ms |\n|---|---|---|---|---|---|");
}

/// A row of latency percentiles (sorts `times`).
fn print_row(name: &str, times: &mut [Duration]) {
    times.sort_unstable();
    println!(
        "| {name} | {} | {:.3} | {:.3} | {:.3} | {:.3} |",
        times.len(),
        percentile(times, 0.5),
        percentile(times, 0.9),
        percentile(times, 0.99),
        percentile(times, 1.0)
    );
}

/// `KETADIR_BENCH_QUERY="q=depression&per_page=20"`: one query, timed alone.
fn time_one_query(generation: &Arc<Generation>, query: &str) {
    let request = SearchRequest::from_query_string(query).expect("a valid query");
    let mut times: Vec<Duration> = (0..200)
        .map(|_| {
            let started = Instant::now();
            search(generation, &request).expect("search");
            started.elapsed()
        })
        .collect();
    times.sort_unstable();
    println!(
        "{query}: p50 {:.3} ms, p99 {:.3} ms, {} matches",
        percentile(&times, 0.5),
        percentile(&times, 0.99),
        search(generation, &request).expect("search").total
    );
}

fn run_size(root: &Path, rows: usize, csv: &Path, cities: &[City]) {
    let temporary = tempfile::tempdir().expect("temp dir");
    let dir = match std::env::var("KETADIR_BENCH_INDEX") {
        Ok(kept) => IndexDir::new(format!("{kept}-{rows}")),
        Err(_) => IndexDir::new(temporary.path()),
    };
    println!("\n## {rows} providers\n");
    if dir.current().ok().flatten().is_none() {
        let file = std::io::BufReader::with_capacity(
            1 << 20,
            std::fs::File::open(csv).expect("open bench CSV"),
        );
        let started = Instant::now();
        let outcome = import_csv(&dir, file, &ImportOptions::default(), |_| {}).expect("import");
        let seconds = started.elapsed().as_secs_f64();
        assert!(outcome.generation.is_some(), "{:?}", outcome.rejection);
        println!(
            "import: {seconds:.2} s, {:.0} rows/s, peak RSS so far {:.0} MiB",
            rows as f64 / seconds,
            peak_rss_mib()
        );
    }

    let opened = Instant::now();
    let generation = Arc::new(Generation::open_current(&dir).expect("open generation"));
    println!(
        "open generation: {:.0} ms ({} segments)",
        opened.elapsed().as_secs_f64() * 1000.0,
        generation.segments.len()
    );

    if let Ok(query) = std::env::var("KETADIR_BENCH_QUERY") {
        time_one_query(&generation, &query);
        return;
    }
    if std::env::var_os("KETADIR_BENCH_REACH_ONLY").is_some() {
        time_reach(&generation, cities);
        return;
    }
    let kinds: Vec<usize> = std::env::var("KETADIR_BENCH_KINDS")
        .map(|k| k.split(',').filter_map(|s| s.trim().parse().ok()).collect())
        .unwrap_or_else(|_| (0..KINDS.len()).collect());
    let mix: Vec<_> = query_mix(cities, WARMUP + QUERIES)
        .into_iter()
        .filter(|(kind, _)| kinds.contains(kind))
        .collect();
    let requests: Vec<(usize, SearchRequest)> = mix
        .iter()
        .map(|(kind, pairs)| {
            let request =
                SearchRequest::from_pairs(pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())))
                    .expect("bench queries are valid");
            (*kind, request)
        })
        .collect();
    // One untimed pass first: at 1M the index is larger than what stays
    // cached between runs, and the first pass would time the disk.
    for (_, request) in &requests {
        search(&generation, request).expect("search");
    }
    // The mix as pages and partners send it (facets counted), then again
    // with `facets=false`, as partners that show no counts may send it.
    let mut without_facets = MixTimes::default();
    for facets in [true, false] {
        let mut by_kind: Vec<Vec<Duration>> = vec![Vec::new(); KINDS.len()];
        let mut all = Vec::with_capacity(mix.len());
        let mut matched = 0u64;
        for (i, (kind, request)) in requests.iter().enumerate() {
            let mut request = request.clone();
            request.facets = facets;
            let started = Instant::now();
            let response = search(&generation, &request).expect("search");
            let elapsed = started.elapsed();
            if i >= WARMUP.min(mix.len() / 10) {
                matched += response.total;
                by_kind[*kind].push(elapsed);
                all.push(elapsed);
            }
        }
        print_header(if facets {
            "query kind"
        } else {
            "query kind, `facets=false`"
        });
        for (kind, name) in KINDS.iter().enumerate() {
            print_row(name, &mut by_kind[kind]);
        }
        print_row("**all**", &mut all);
        println!(
            "\nmean matches per query: {:.0}; peak RSS {:.0} MiB",
            matched as f64 / all.len() as f64,
            peak_rss_mib()
        );
        if !facets {
            without_facets = MixTimes { by_kind, all };
        }
    }
    let timed = &requests[WARMUP.min(requests.len() / 10)..];
    println!("\n| 2 threads, each over the mix | queries/s |\n|---|---|");
    let mut two_threads = [0.0; 2];
    for (facets, rate) in [true, false].into_iter().zip(&mut two_threads) {
        let requests: Vec<SearchRequest> = timed
            .iter()
            .map(|(_, request)| SearchRequest {
                facets,
                ..request.clone()
            })
            .collect();
        *rate = two_threads_rate(
            requests.len(),
            || (),
            |_, i| {
                search(&generation, &requests[i]).expect("search");
            },
        );
        let name = if facets {
            "with facets"
        } else {
            "`facets=false`"
        };
        println!("| ketadir, {name} | {rate:.0} |");
    }
    let peer = std::env::var("KETADIR_BENCH_PEER").unwrap_or_default();
    if peer != "only" {
        time_reach(&generation, cities);
        time_pages(&generation, &mix, &requests);
        time_facades(&generation, cities);
    }
    if peer != "0" {
        let ketadir = Ketadir {
            generation: &generation,
            mix: without_facets,
            two_threads,
        };
        time_peer(root, rows, csv, &requests, &ketadir);
    }
}

/// One pass's latencies (sorted), per class and overall.
#[derive(Default)]
struct MixTimes {
    by_kind: Vec<Vec<Duration>>,
    all: Vec<Duration>,
}

/// What the peer is compared with, from the same run.
struct Ketadir<'a> {
    generation: &'a Arc<Generation>,
    /// The mix with `facets=false`.
    mix: MixTimes,
    /// Queries/s from 2 threads: with facets, with `facets=false`.
    two_threads: [f64; 2],
}

/// Queries per second of 2 threads, each making its state with `open`
/// (before the clock starts) and calling `run` for every index below
/// `count`, the second thread starting half-way.
fn two_threads_rate<S>(
    count: usize,
    open: impl Fn() -> S + Sync,
    run: impl Fn(&mut S, usize) + Sync,
) -> f64 {
    let ready = std::sync::Barrier::new(2);
    let elapsed = std::thread::scope(|scope| {
        let threads: Vec<_> = (0..2)
            .map(|thread| {
                let (open, run, ready) = (&open, &run, &ready);
                scope.spawn(move || {
                    let mut state = open();
                    ready.wait();
                    let started = Instant::now();
                    for i in 0..count {
                        run(&mut state, (i + thread * count / 2) % count);
                    }
                    started.elapsed()
                })
            })
            .collect();
        threads
            .into_iter()
            .map(|t| t.join().expect("a bench thread"))
            .max()
            .unwrap_or_default()
    });
    (2 * count) as f64 / elapsed.as_secs_f64()
}

/// The peer's warm-up and timed queries.
const PEER_WARMUP: usize = 40;
const PEER_QUERIES: usize = 400;

/// The SQLite peer on the same mix: latencies per class, totals against
/// ketadir's, 2-thread queries/s, and the ratios peer / ketadir.
fn time_peer(
    root: &Path,
    rows: usize,
    csv: &Path,
    requests: &[(usize, SearchRequest)],
    ketadir: &Ketadir,
) {
    let db = sqlite_peer::ensure_db(root, csv, rows);
    let peer = sqlite_peer::Peer::open(&db);
    let count = std::env::var("KETADIR_BENCH_PEER_QUERIES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(PEER_QUERIES);
    let warmup = PEER_WARMUP.min(requests.len() / 10);
    let measured = &requests[warmup..(warmup + count).min(requests.len())];
    for (_, request) in &requests[..warmup] {
        peer.search(request);
    }
    let mut by_kind: Vec<Vec<Duration>> = vec![Vec::new(); KINDS.len()];
    let mut all = Vec::with_capacity(measured.len());
    let mut ketadir_all = Vec::with_capacity(measured.len());
    // Per class: queries, equal totals, largest relative difference of
    // the totals, equal pages; and the sums of both totals.
    let mut agreement = vec![(0usize, 0usize, 0.0f64, 0usize, 0u64, 0u64); KINDS.len()];
    for (kind, request) in measured {
        let started = Instant::now();
        let answer = peer.search(request);
        let elapsed = started.elapsed();
        by_kind[*kind].push(elapsed);
        all.push(elapsed);
        let request = SearchRequest {
            facets: false,
            ..request.clone()
        };
        let started = Instant::now();
        let response = search(ketadir.generation, &request).expect("search");
        ketadir_all.push(started.elapsed());
        let ids: Vec<&str> = response
            .results
            .iter()
            .map(|h| h.provider.id.as_str())
            .collect();
        let row = &mut agreement[*kind];
        row.0 += 1;
        row.1 += usize::from(answer.total == response.total);
        let difference = answer.total.abs_diff(response.total) as f64;
        row.2 = row.2.max(difference / response.total.max(1) as f64);
        row.3 += usize::from(answer.ids == ids);
        row.4 += answer.total;
        row.5 += response.total;
        // Place, filters and state classes match the same providers; the
        // words classes are compared, not asserted (see the module's doc).
        if *kind != 2 && *kind != 3 {
            assert!(
                difference <= (response.total as f64 * 0.01).max(1.0),
                "the peer's total {} differs from ketadir's {} for {}",
                answer.total,
                response.total,
                request.to_query_string()
            );
        }
    }
    print_header("SQLite peer, query kind");
    for (kind, name) in KINDS.iter().enumerate() {
        print_row(name, &mut by_kind[kind]);
    }
    print_row("**all**", &mut all);
    print_row("ketadir, same queries, `facets=false`", &mut ketadir_all);
    println!(
        "\n| totals, peer vs ketadir | queries | equal totals | largest difference | \
         mean total peer / ketadir | equal pages |\n|---|---|---|---|---|---|"
    );
    for (name, (n, equal, largest, pages, peer_sum, ketadir_sum)) in KINDS.iter().zip(&agreement) {
        println!(
            "| {name} | {n} | {equal} | {:.2} % | {:.0} / {:.0} | {pages} |",
            largest * 100.0,
            *peer_sum as f64 / (*n).max(1) as f64,
            *ketadir_sum as f64 / (*n).max(1) as f64
        );
    }
    let peer_rate = two_threads_rate(
        measured.len(),
        || sqlite_peer::Peer::open(&db),
        |peer, i| {
            peer.search(&measured[i].1);
        },
    );
    println!("\nSQLite peer, 2 threads (a connection each): {peer_rate:.0} queries/s");
    let p = |times: &[Duration], q: f64| percentile(times, q);
    let words = 3;
    println!(
        "\n| {rows} providers | ketadir (`facets=false`) | SQLite peer | peer / ketadir |\n|---|---|---|---|"
    );
    let ratio_rows = [
        ("p50 ms, all", p(&ketadir.mix.all, 0.5), p(&all, 0.5)),
        ("p99 ms, all", p(&ketadir.mix.all, 0.99), p(&all, 0.99)),
        (
            "p50 ms, words alone by relevance",
            p(&ketadir.mix.by_kind[words], 0.5),
            p(&by_kind[words], 0.5),
        ),
        (
            "p99 ms, words alone by relevance",
            p(&ketadir.mix.by_kind[words], 0.99),
            p(&by_kind[words], 0.99),
        ),
    ];
    for (name, ours, theirs) in ratio_rows {
        println!(
            "| {name} | {ours:.3} | {theirs:.3} | {:.1} |",
            theirs / ours
        );
    }
    for (name, ours) in [
        ("`facets=false`", ketadir.two_threads[1]),
        ("with facets", ketadir.two_threads[0]),
    ] {
        let times = ours / peer_rate;
        println!(
            "| queries/s, 2 threads (ketadir {name}) | {ours:.0} | {peer_rate:.1} | 1 / {times:.1} (ketadir {times:.1}×) |"
        );
    }
}

/// Telehealth reach (`include_telehealth`) against the same search
/// without it: a town and state, 10–100 miles, 0–1 filters, rating order.
/// The union adds one pass over the telehealth providers licensed in the
/// town's state; the target is a p99 within 1.5× of the plain search.
fn time_reach(generation: &Arc<Generation>, cities: &[City]) {
    let total_population: f64 = cities.iter().map(|c| c.population).sum();
    let mut rng = Rng(0x5EED_7E1E_4EA1_0001);
    let mut pairs: Vec<(SearchRequest, SearchRequest)> = Vec::new();
    while pairs.len() < QUERIES / 2 {
        let mut target = rng.unit() * total_population;
        let city = cities
            .iter()
            .find(|city| {
                target -= city.population;
                target <= 0.0
            })
            .unwrap_or(&cities[0]);
        let mut query = format!(
            "near={}&radius={}",
            urlencode(&city.label),
            10 + rng.below(91)
        );
        if rng.below(2) == 1 {
            let (name, value) = FILTERS[rng.below(FILTERS.len())];
            query.push_str(&format!("&{name}={value}"));
        }
        let Ok(request) = SearchRequest::from_query_string(&query) else {
            continue;
        };
        // A town `near` does not know is left out.
        if search(generation, &request).is_err() {
            continue;
        }
        let mut with_reach = request.clone();
        with_reach.include_telehealth = true;
        pairs.push((request, with_reach));
    }
    // One pass to warm both (the index's pages, each state's reach list),
    // then each pair timed in turn, in alternating order.
    for (plain, with_reach) in &pairs {
        search(generation, plain).expect("search");
        search(generation, with_reach).expect("search with reach");
    }
    let mut plain_times = Vec::new();
    let mut reach_times = Vec::new();
    let (mut plain_matches, mut reach_matches) = (0u64, 0u64);
    for (i, (plain, with_reach)) in pairs.iter().enumerate() {
        let time = |request: &SearchRequest| {
            let started = Instant::now();
            let total = search(generation, request).expect("search").total;
            (started.elapsed(), total)
        };
        let ((plain_time, plain_total), (reach_time, reach_total)) = if i % 2 == 0 {
            let first = time(plain);
            (first, time(with_reach))
        } else {
            let second = time(with_reach);
            (time(plain), second)
        };
        plain_times.push(plain_time);
        reach_times.push(reach_time);
        plain_matches += plain_total;
        reach_matches += reach_total;
    }
    if std::env::var_os("KETADIR_BENCH_REACH_WORST").is_some() {
        let mut worst: Vec<(Duration, Duration, String)> = pairs
            .iter()
            .zip(reach_times.iter().zip(&plain_times))
            .map(|((plain, _), (r, p))| (*r, *p, plain.to_query_string()))
            .collect();
        worst.sort_by_key(|w| std::cmp::Reverse(w.0));
        for (r, p, q) in worst.iter().take(12) {
            println!(
                "{:.3} ms with, {:.3} ms without: {q}",
                r.as_secs_f64() * 1e3,
                p.as_secs_f64() * 1e3
            );
        }
    }
    print_header("telehealth reach (town, 10–100 mi, 0–1 filter)");
    let queries = pairs.len().max(1) as f64;
    print_row("without `include_telehealth`", &mut plain_times);
    print_row("with `include_telehealth=true`", &mut reach_times);
    println!(
        "\nmean matches: {:.0} without, {:.0} with; p50 ratio {:.2}, p99 ratio {:.2}",
        plain_matches as f64 / queries,
        reach_matches as f64 / queries,
        percentile(&reach_times, 0.5) / percentile(&plain_times, 0.5),
        percentile(&reach_times, 0.99) / percentile(&plain_times, 0.99)
    );
}

/// Percent-encodes a query value (town names have spaces and commas).
fn urlencode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// The results page for each query of the mix: what `GET /?…` costs on
/// the server besides HTTP.
fn time_pages(
    generation: &Arc<Generation>,
    mix: &[(usize, Vec<(String, String)>)],
    requests: &[(usize, SearchRequest)],
) {
    let mut render = Vec::with_capacity(requests.len());
    let mut whole = Vec::with_capacity(requests.len());
    let mut largest = 0;
    for (i, ((_, pairs), (_, request))) in mix.iter().zip(requests).enumerate() {
        let started = Instant::now();
        let response = search(generation, request).expect("search");
        let searched = started.elapsed();
        let form = SearchForm::from_pairs(pairs).with_insurers(generation);
        let page = render_results(form, request, &response, &[], &[]).expect("render");
        let done = started.elapsed();
        if i >= WARMUP.min(mix.len() / 10) {
            render.push(done - searched);
            whole.push(done);
            largest = largest.max(page.len());
        }
    }
    print_header("results page (20 results)");
    print_row("render", &mut render);
    print_row("search + render", &mut whole);
    println!(
        "\nlargest results page: {:.1} KB of HTML",
        largest as f64 / 1024.0
    );
}

/// ZIP codes of large cities, for the HSDS facade's `postcode`.
const ZIPS: [&str; 20] = [
    "10001", "90012", "60601", "77002", "85003", "19103", "78205", "92101", "75201", "95113",
    "78701", "32202", "94102", "43215", "28202", "46204", "98101", "80202", "20001", "02108",
];

/// The partner facades on the mix's places (its "location, distance"
/// queries, and the same radii around large cities' ZIP codes): what
/// `/api/v1/search`, `/fhir/Location?near=…` and `/hsds/services?postcode=…`
/// cost on the server besides HTTP: reading the parameters, the search,
/// building the answer and serialising it to the bytes sent.
fn time_facades(generation: &Arc<Generation>, cities: &[City]) {
    let places: Vec<(String, String, String)> = query_mix(cities, 10 * (WARMUP + QUERIES) / 2)
        .into_iter()
        .filter(|(kind, _)| *kind == 1)
        .map(|(_, pairs)| {
            let value = |name: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, v)| v.clone())
                    .expect(name)
            };
            (value("lat"), value("lon"), value("radius"))
        })
        .collect();
    let names = [
        "API `/api/v1/search?lat&lon&radius&sort=distance`",
        "API, same, `facets=false`",
        "FHIR `/fhir/Location?near=lat\\|lon\\|radius\\|mi`",
        "API `/api/v1/search?near=ZIP&radius&sort=distance`",
        "HSDS `/hsds/services?postcode=ZIP&proximity`",
    ];
    let mut times: Vec<Vec<Duration>> = vec![Vec::new(); names.len()];
    let mut bytes = vec![0usize; names.len()];
    let api = |query: &str| {
        let request = SearchRequest::from_query_string(query).expect("valid");
        serde_json::to_vec(&search(generation, &request).expect("search")).expect("JSON")
    };
    for (i, (lat, lon, radius)) in places.iter().enumerate() {
        let zip = ZIPS[i % ZIPS.len()];
        let metres = radius.parse::<f64>().expect("radius") * 1609.344;
        let runs: [&dyn Fn() -> Vec<u8>; 5] = [
            &|| {
                api(&format!(
                    "lat={lat}&lon={lon}&radius={radius}&sort=distance"
                ))
            },
            &|| {
                api(&format!(
                    "lat={lat}&lon={lon}&radius={radius}&sort=distance&facets=false"
                ))
            },
            &|| {
                let query = fhir::parse_search(
                    fhir::ResourceType::Location,
                    &format!("near={lat}|{lon}|{radius}|mi"),
                    false,
                )
                .expect("valid");
                fhir::search(generation, &query, "http://127.0.0.1:8080/fhir").expect("search")
            },
            &|| api(&format!("near={zip}&radius={radius}&sort=distance")),
            &|| {
                let query =
                    hsds::parse_list(&format!("postcode={zip}&proximity={metres}")).expect("valid");
                hsds::list(generation, hsds::List::Services, &query).expect("search")
            },
        ];
        for (n, run) in runs.iter().enumerate() {
            let started = Instant::now();
            let body = run();
            let elapsed = started.elapsed();
            if i >= WARMUP / 2 {
                times[n].push(elapsed);
                bytes[n] += body.len();
            }
        }
    }
    print_header("partner facades (20 results, same places)");
    for (n, name) in names.iter().enumerate() {
        print_row(name, &mut times[n]);
    }
    let measured = times[0].len().max(1);
    println!(
        "\nmean answer size: {}",
        names
            .iter()
            .zip(&bytes)
            .map(|(name, b)| format!("{name}: {:.1} KB", *b as f64 / measured as f64 / 1024.0))
            .collect::<Vec<_>>()
            .join("; ")
    );
}
