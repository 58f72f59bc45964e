//! Place lookups: how long the embedded gazetteer takes to parse at
//! start-up, and what each kind of lookup costs afterwards.
//!
//! `cargo bench --bench places` prints, for the parse and for each kind of
//! lookup (ZIP, "City, ST", a miss with fuzzy suggestions, search-box
//! prefixes), the median, 99th percentile and worst time of one call. It
//! runs for a few seconds; targets: parse ≤ 50 ms, lookups in microseconds,
//! suggestions ≤ 1 ms.

use std::hint::black_box;
use std::time::{Duration, Instant};

use ketadir::geo::gazetteer::Gazetteer;
use ketadir::geo::places::{resolve_near, suggest};

/// Time spent measuring each kind of lookup.
const BUDGET: Duration = Duration::from_millis(400);
const PARSES: usize = 15;

fn main() {
    let started = Instant::now();
    let gazetteer = Gazetteer::parse();
    let first = started.elapsed();
    println!(
        "gazetteer: {} ZIP codes, {} towns ({} from the city file)",
        gazetteer.zips().len(),
        gazetteer.towns().len(),
        gazetteer
            .towns()
            .iter()
            .filter(|t| t.population.is_some())
            .count()
    );
    let mut parses: Vec<Duration> = (0..PARSES)
        .map(|_| {
            let started = Instant::now();
            black_box(Gazetteer::parse());
            started.elapsed()
        })
        .collect();
    parses.sort();
    println!(
        "parse (start-up)        first {:>9.2?}  median {:>9.2?}  worst {:>9.2?}  ({PARSES} runs)",
        first,
        parses[PARSES / 2],
        parses[PARSES - 1]
    );
    // Warm the process-wide copy the lookups use.
    Gazetteer::get();

    let kinds: [(&str, &[&str]); 3] = [
        ("ZIP", &["80202", "10001", "94110-1234", "Denver, CO 80202"]),
        (
            "City, ST",
            &[
                "Denver, CO",
                "st. louis mo",
                "New York, NY",
                "Portland",
                "Charleston, West Virginia",
            ],
        ),
        (
            "miss + suggestions",
            &[
                "Denvr, CO",
                "Albequerque",
                "Springfeld",
                "Portland, CO",
                "xqzwvy",
            ],
        ),
    ];
    for (kind, inputs) in kinds {
        let times = measure(inputs, |text| {
            black_box(resolve_near(black_box(text)).ok());
        });
        report(kind, inputs, &times);
    }
    let prefixes = ["den", "s", "st lo", "new y", "springfield, m", "8", "802"];
    let times = measure(&prefixes, |prefix| {
        black_box(suggest(black_box(prefix), 10));
    });
    report("prefix suggestions (10)", &prefixes, &times);
}

/// Calls `lookup` on each input in turn until the budget is spent; one
/// timing per call.
fn measure(inputs: &[&str], mut lookup: impl FnMut(&str)) -> Vec<Duration> {
    let mut times = Vec::new();
    let started = Instant::now();
    while started.elapsed() < BUDGET {
        for input in inputs {
            let call = Instant::now();
            lookup(input);
            times.push(call.elapsed());
        }
    }
    times.sort();
    times
}

fn report(kind: &str, inputs: &[&str], times: &[Duration]) {
    let at = |q: f64| times[((times.len() - 1) as f64 * q) as usize];
    println!(
        "{kind:<24}median {:>9.2?}  p99 {:>9.2?}  worst {:>9.2?}  ({} calls over {inputs:?})",
        at(0.5),
        at(0.99),
        at(1.0),
        times.len()
    );
}
