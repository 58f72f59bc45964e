//! Checks `ketadir::search::search` against an independent brute-force
//! reference.
//!
//! What this proves: on a seeded random directory of about 2,600 providers,
//! for 400 seeded random queries covering every parameter of docs/search.md, the
//! library returns exactly what a naive scan of the CSV's records computes
//! with the documented semantics: the same `total`, the same facets (every
//! treatment and condition, the top-20 insurers, telehealth, accepting), the
//! same ids in the same order on the requested page, bit-identical
//! `distance_miles` and `adjusted_rating` for every hit, and each hit's
//! record equal to the CSV's. The data set is built
//! to hit the awkward cases on purpose: clusters across the antimeridian, at
//! 71° N and in Guam; identical coordinates, names and ratings (so every
//! tie-break is exercised); unrated providers and one-review 5.0s; insurers
//! spelled in several cases; more distinct insurers than the facet bitmask
//! has bits; accented words; 40- and 41-byte words; invalid rows that must not
//! leak into the index.
//!
//! The reference gets its typed records from `ingest::read_providers` (the
//! CSV rules are tested elsewhere) but shares no search code with the
//! library: tokenising, typo matching, distances, filters, facets, the
//! adjusted rating and every sort order are written out again here from the
//! contract. BM25 is not reproduced, so for `sort=relevance` only the match
//! set, the facets and the page size are compared.
//!
//! Separate tests pin single edge cases: the antimeridian, high latitudes, a
//! provider exactly on the radius, the adjusted-rating promise of docs/search.md,
//! values written with 17 significant digits, an exact `m`, the insurance
//! facet counting providers (not spellings) and the length limit of indexed
//! words.
//!
//! `SEARCH_REFERENCE_SEED=<u64>` runs the random test on another data set.

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use geo::{Distance, HaversineMeasure, Point};
use ketadir::index::{Generation, ImportOptions, IndexDir, import_csv};
use ketadir::ingest::read_providers;
use ketadir::provider::US_STATES;
use ketadir::provider::{Condition, Provider, Treatment};
use ketadir::search::{Hit, SearchRequest, SearchResponse, SortOrder, search};

// The contract's constants, written out again rather than imported, so that
// a change in the library cannot silently change what the test expects.
const EARTH_RADIUS_MILES: f64 = 3958.8;
const DEFAULT_RADIUS: f64 = 25.0;
const DEFAULT_PER_PAGE: u32 = 20;
const PRIOR_WEIGHT: f64 = 10.0;
const MAX_TOKEN_BYTES: usize = 40;
const FUZZY_MIN_CHARS: usize = 5;
const INSURANCE_FACET_SIZE: usize = 20;

const SEED: u64 = 0x6b65_7461_6469_7221;
const PROVIDER_ROWS: usize = 2_600;
const QUERIES: usize = 400;

// ---------------------------------------------------------------------------
// Deterministic randomness (splitmix64): the same seed gives the same data
// and queries on every machine, so a failure can be replayed.

struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        assert!(n > 0, "below(0) has no value");
        (self.next_u64() % n as u64) as usize
    }

    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    fn between(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * self.unit()
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// A few distinct items of `items`, in random order.
    fn some<T: Copy + PartialEq>(&mut self, items: &[T], max: usize) -> Vec<T> {
        let wanted = self.below(max + 1);
        let mut chosen = Vec::new();
        for _ in 0..wanted * 3 {
            let item = *self.pick(items);
            if chosen.len() < wanted && !chosen.contains(&item) {
                chosen.push(item);
            }
        }
        chosen
    }
}

// ---------------------------------------------------------------------------
// CSV rows (docs/csv.md).

/// Header spellings vary in case and padding: docs/csv.md matches them
/// case-insensitively after trimming.
const HEADER: [&str; 26] = [
    "ID",
    " name",
    "Organization",
    "credentials",
    "npi",
    "address",
    "city",
    "STATE ",
    "zip",
    "latitude",
    "Longitude",
    "phone",
    "website",
    "email",
    "treatments",
    "conditions",
    "insurance",
    "price_min",
    "price_max",
    "telehealth",
    "Accepting_New_Patients",
    "languages",
    "rating",
    "review_count",
    "description",
    "last_verified",
];

#[derive(Debug, Clone, Default)]
struct Row {
    id: String,
    name: String,
    organization: String,
    credentials: String,
    address: String,
    city: String,
    state: String,
    zip: String,
    latitude: String,
    longitude: String,
    phone: String,
    website: String,
    email: String,
    treatments: String,
    conditions: String,
    insurance: String,
    price_min: String,
    price_max: String,
    telehealth: String,
    accepting: String,
    languages: String,
    rating: String,
    review_count: String,
    description: String,
    last_verified: String,
}

impl Row {
    /// A minimal valid row at a point (used by the single-case tests).
    fn at(id: &str, name: &str, lat: f64, lon: f64) -> Row {
        Row {
            id: id.into(),
            name: name.into(),
            city: "Testville".into(),
            state: "AK".into(),
            latitude: format!("{lat}"),
            longitude: format!("{lon}"),
            ..Row::default()
        }
    }

    fn cells(&self) -> [&str; 26] {
        [
            &self.id,
            &self.name,
            &self.organization,
            &self.credentials,
            "",
            &self.address,
            &self.city,
            &self.state,
            &self.zip,
            &self.latitude,
            &self.longitude,
            &self.phone,
            &self.website,
            &self.email,
            &self.treatments,
            &self.conditions,
            &self.insurance,
            &self.price_min,
            &self.price_max,
            &self.telehealth,
            &self.accepting,
            &self.languages,
            &self.rating,
            &self.review_count,
            &self.description,
            &self.last_verified,
        ]
    }
}

fn quote(cell: &str) -> String {
    if cell.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", cell.replace('"', "\"\""))
    } else {
        cell.to_string()
    }
}

/// The CSV text, with a byte-order mark (docs/csv.md accepts one).
fn write_csv(rows: &[Row]) -> String {
    let mut out = String::from("\u{feff}");
    out.push_str(&HEADER.join(","));
    out.push('\n');
    for row in rows {
        let cells: Vec<String> = row.cells().iter().map(|c| quote(c)).collect();
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    out
}

// ---------------------------------------------------------------------------
// The random directory.

struct Place {
    city: &'static str,
    state: &'static str,
    lat: f64,
    lon: f64,
}

/// Cluster centres chosen for their geometry: an ordinary city, both sides
/// of the antimeridian and a point on it, the Arctic, a territory west of
/// the date line, and Hawaii.
const CLUSTERS: [Place; 7] = [
    Place {
        city: "Denver",
        state: "CO",
        lat: 39.74,
        lon: -104.99,
    },
    Place {
        city: "Adak",
        state: "AK",
        lat: 51.88,
        lon: -176.65,
    },
    Place {
        city: "Attu",
        state: "AK",
        lat: 52.9,
        lon: 173.1,
    },
    Place {
        city: "Amchitka",
        state: "AK",
        lat: 51.6,
        lon: 179.9,
    },
    Place {
        city: "Utqiagvik",
        state: "AK",
        lat: 71.29,
        lon: -156.79,
    },
    Place {
        city: "Hagåtña",
        state: "GU",
        lat: 13.44,
        lon: 144.79,
    },
    Place {
        city: "Honolulu",
        state: "HI",
        lat: 21.31,
        lon: -157.86,
    },
];

const SCATTER_CITIES: [&str; 8] = [
    "Springfield",
    "Fairview",
    "Riverside",
    "San José",
    "Coeur d'Alène",
    "Greenville",
    "Madison",
    "Salem",
];

const STATES: [&str; 14] = [
    "CO", "AK", "GU", "HI", "CA", "TX", "NY", "WA", "OR", "PR", "DC", "MP", "VI", "FL",
];

const FIRST_NAMES: [&str; 14] = [
    "Ana", "Zoë", "Émile", "José", "Mai", "Omar", "Priya", "Chen", "Lars", "Noor", "ana", "Björn",
    "Renée", "Sam",
];

const LAST_NAMES: [&str; 12] = [
    "Lee", "García", "Nguyen", "Okafor", "Müller", "Smith", "Café", "Brontë", "Kalani", "Reyes",
    "lee", "Young",
];

/// Names shared by many rows, so that ties on everything before the name
/// break on the id.
const SHARED_NAMES: [&str; 4] = [
    "Mountain Ketamine Clinic",
    "Dr. Ana Lee",
    "Zoë Café",
    "Aurora Infusions",
];

const ORG_WORDS: [&str; 10] = [
    "Aurora",
    "Summit",
    "Harbor",
    "Tundra",
    "Island",
    "Café",
    "Borealis",
    "Evergreen",
    "Pacific",
    "Zenith",
];

const CREDENTIALS: [&str; 7] = ["MD", "DO", "CRNA", "NP", "PA-C", "PhD", "LCSW"];

/// Description words: a small vocabulary so that text queries match sets
/// of providers, with accents, digits and hyphenated forms.
const WORDS: [&str; 56] = [
    "ketamine",
    "infusion",
    "clinic",
    "supervised",
    "chronic",
    "pain",
    "depression",
    "relief",
    "gentle",
    "team",
    "board",
    "certified",
    "anesthesiologist",
    "psychiatrist",
    "calm",
    "Café",
    "Zoë",
    "naïve",
    "mountain",
    "ocean",
    "island",
    "arctic",
    "northern",
    "friendly",
    "evening",
    "weekend",
    "appointments",
    "sliding",
    "scale",
    "veterans",
    "trauma",
    "recovery",
    "wellness",
    "integrative",
    "functional",
    "medicine",
    "comfortable",
    "private",
    "suites",
    "music",
    "nurse",
    "monitoring",
    "protocol",
    "evidence",
    "based",
    "holistic",
    "compassionate",
    "Spravato",
    "fibromyalgia",
    "migraine",
    "neuropathy",
    "pain-free",
    "24/7",
    "Façade",
    "résumé",
    "Ñandú",
];

/// 40 bytes: the longest word the index keeps.
const LONG_WORD_40: &str = "antidisestablishmentarianismketaminecare";
/// 41 bytes: dropped by the index (and at edit distance 1 of the 40-byte one).
const LONG_WORD_41: &str = "antidisestablishmentarianismketaminecares";

const INSURERS: [&str; 30] = [
    "Aetna",
    "Cigna",
    "UnitedHealthcare",
    "Blue Cross Blue Shield",
    "Humana",
    "Kaiser Permanente",
    "Medicare",
    "Medicaid",
    "Tricare",
    "VA Community Care",
    "Self-pay",
    "Anthem",
    "Oscar",
    "Ambetter",
    "Molina",
    "Centene",
    "Highmark",
    "Regence",
    "Premera",
    "Harvard Pilgrim",
    "Tufts",
    "Magellan",
    "Optum",
    "Beacon",
    "ComPsych",
    "HMSA",
    "Alaska Native Health",
    "StayWell",
    "TakeCare",
    "Café Health",
];

const LANGUAGES: [&str; 8] = [
    "English",
    "Spanish",
    "Vietnamese",
    "Tagalog",
    "Chamorro",
    "Français",
    "Deutsch",
    "ASL",
];

/// Rating/review pairs shared by many rows (exact ties in adjusted rating).
const TIED_RATINGS: [(&str, &str); 3] = [("4.5", "12"), ("4.0", "3"), ("3.5", "7")];

/// The same text in one of the case spellings a CSV author might use.
fn case_variant(rng: &mut Rng, text: &str) -> String {
    match rng.below(5) {
        0 => text.to_uppercase(),
        1 => text.to_lowercase(),
        _ => text.to_string(),
    }
}

/// A vocabulary slug written as a CSV author might: `IV Infusion`, `iv-infusion`.
fn slug_variant(rng: &mut Rng, slug: &str) -> String {
    match rng.below(4) {
        0 => slug.replace('_', " ").to_uppercase(),
        1 => slug.replace('_', "-"),
        2 => slug.replace('_', " "),
        _ => slug.to_string(),
    }
}

/// The point `miles` away from (lat, lon) at `bearing` degrees.
fn destination(lat: f64, lon: f64, miles: f64, bearing: f64) -> (f64, f64) {
    let angle = miles / EARTH_RADIUS_MILES;
    let bearing = bearing.to_radians();
    let (lat1, lon1) = (lat.to_radians(), lon.to_radians());
    let lat2 = (lat1.sin() * angle.cos() + lat1.cos() * angle.sin() * bearing.cos()).asin();
    let lon2 = lon1
        + (bearing.sin() * angle.sin() * lat1.cos()).atan2(angle.cos() - lat1.sin() * lat2.sin());
    (lat2.to_degrees(), wrap_longitude(lon2.to_degrees()))
}

fn wrap_longitude(lon: f64) -> f64 {
    ((lon + 180.0).rem_euclid(360.0) - 180.0).clamp(-180.0, 180.0)
}

/// A coordinate as a CSV author writes it: mostly 4 decimals, sometimes 12
/// or 2. Twelve decimals keep at most 15 significant digits: values with 16
/// or 17 (which the stored JSON does not round-trip) have their own test,
/// `full_precision_values_survive_the_index`, so that they do not mask
/// everything else here.
fn coordinate(rng: &mut Rng, value: f64) -> String {
    match rng.below(10) {
        0 | 1 => format!("{value:.12}"),
        2 => format!("{value:.2}"),
        _ => format!("{value:.4}"),
    }
}

fn description(rng: &mut Rng) -> String {
    let mut text = String::new();
    for i in 0..3 + rng.below(12) {
        if i > 0 {
            let separator = *rng.pick(&[" ", " ", " ", ", ", ". ", "\n", " (", ") "]);
            text.push_str(separator);
        }
        let word = if rng.chance(0.01) {
            *rng.pick(&[LONG_WORD_40, LONG_WORD_41])
        } else {
            *rng.pick(&WORDS)
        };
        text.push_str(word);
    }
    text
}

fn random_row(rng: &mut Rng, index: usize, previous: Option<&Row>) -> Row {
    let id = match rng.below(6) {
        0 => format!("p-{index:05}"),
        1 => format!("P{index}"),
        2 => format!("a.{index}"),
        3 => format!("Z_{index}"),
        4 => format!("z-{index}"),
        _ => format!("{index}"),
    };
    let mut row = Row {
        id: id.clone(),
        ..Row::default()
    };

    // Where: a cluster (most), a copy of the previous row's point (ties on
    // distance), a ZIP centroid, exactly on the antimeridian, or anywhere.
    let roll = rng.unit();
    if let Some(previous) = previous.filter(|_| roll < 0.05) {
        row.latitude = previous.latitude.clone();
        row.longitude = previous.longitude.clone();
        row.zip = previous.zip.clone();
        row.city = previous.city.clone();
        row.state = previous.state.clone();
    } else if roll < 0.06 {
        row.zip = "80202".into();
        row.city = "Denver".into();
        row.state = "co".into();
    } else if roll < 0.07 {
        let lat = rng.between(51.0, 52.5);
        row.latitude = coordinate(rng, lat);
        row.longitude = rng.pick(&["180", "-180", "180.0", "-179.9999"]).to_string();
        row.city = "Amchitka".into();
        row.state = "AK".into();
    } else if roll < 0.85 {
        // Denver gets a bigger share: a dense area for the sorts' tie-breaks.
        let cluster = if rng.chance(0.3) {
            &CLUSTERS[0]
        } else {
            rng.pick(&CLUSTERS)
        };
        let miles = 120.0 * rng.unit().sqrt();
        let (lat, lon) = destination(cluster.lat, cluster.lon, miles, rng.between(0.0, 360.0));
        row.latitude = coordinate(rng, lat);
        row.longitude = coordinate(rng, lon);
        row.city = cluster.city.into();
        row.state = if rng.chance(0.1) {
            let state = rng_state(rng);
            case_variant(rng, state)
        } else {
            cluster.state.into()
        };
    } else {
        let (lat, lon) = (rng.between(18.0, 66.0), rng.between(-170.0, -65.0));
        row.latitude = coordinate(rng, lat);
        row.longitude = coordinate(rng, lon);
        row.city = rng.pick(&SCATTER_CITIES).to_string();
        let state = rng_state(rng);
        row.state = case_variant(rng, state);
    }

    row.name = if rng.chance(0.1) {
        rng.pick(&SHARED_NAMES).to_string()
    } else {
        let title = if rng.chance(0.3) { "Dr. " } else { "" };
        format!(
            "{title}{} {}",
            rng.pick(&FIRST_NAMES),
            rng.pick(&LAST_NAMES)
        )
    };
    if rng.chance(0.6) {
        row.organization = format!(
            "{} {} {}",
            rng.pick(&ORG_WORDS),
            rng.pick(&["Ketamine", "Infusion", "Wellness", "Psychiatry"]),
            rng.pick(&["Clinic", "Center", "Institute", "Partners"])
        );
    }
    row.credentials = rng.some(&CREDENTIALS, 2).join(";");
    let treatments: Vec<String> = rng
        .some(Treatment::ALL, 3)
        .into_iter()
        .map(|t| slug_variant(rng, t.slug()))
        .collect();
    row.treatments = treatments.join(";");
    let conditions: Vec<String> = rng
        .some(Condition::ALL, 4)
        .into_iter()
        .map(|c| slug_variant(rng, c.slug()))
        .collect();
    row.conditions = conditions.join("; ");

    // Insurers: skewed towards the first names of the list (so counts
    // differ and some tie), in random case, plus a long tail of rare plans
    // so that there are more insurers than the facet bitmask's 63 bits.
    let mut insurers = Vec::new();
    for _ in 0..rng.below(5) {
        let bound = rng.below(INSURERS.len()) + 1;
        let skewed = rng.below(bound);
        insurers.push(case_variant(rng, INSURERS[skewed]));
    }
    if rng.chance(0.15) {
        insurers.push(format!("Regional Plan {:02}", rng.below(50)));
    }
    row.insurance = insurers.join(";");
    let languages: Vec<String> = rng
        .some(&LANGUAGES, 2)
        .into_iter()
        .map(|l| case_variant(rng, l))
        .collect();
    row.languages = languages.join(";");

    if !rng.chance(0.2) {
        let min = 50 * rng.below(20) as u32;
        row.price_min = min.to_string();
        if rng.chance(0.7) {
            row.price_max = (min + 50 * rng.below(10) as u32).to_string();
        }
    } else if rng.chance(0.3) {
        row.price_max = "900".into();
    }
    row.telehealth = rng
        .pick(&["yes", "no", "true", "false", "TRUE", "0", "1", ""])
        .to_string();
    row.accepting = rng
        .pick(&["yes", "No", "true", "false", "1", "0", "", ""])
        .to_string();

    let (rating, reviews) = match rng.below(20) {
        0..=4 => (String::new(), rng.pick(&["0", ""]).to_string()),
        5 | 6 => (rng.pick(&["5", "5.0"]).to_string(), "1".to_string()),
        7 | 8 => {
            let (r, n) = *rng.pick(&TIED_RATINGS);
            (r.to_string(), n.to_string())
        }
        9 => ("4.8".to_string(), (100 + rng.below(800)).to_string()),
        10 => (
            format!("{:.13}", rng.between(0.0, 5.0)),
            (1 + rng.below(40)).to_string(),
        ),
        _ => (
            format!("{:.1}", rng.between(1.0, 5.0)),
            (1 + rng.below(60)).to_string(),
        ),
    };
    row.rating = rating;
    row.review_count = reviews;
    if rng.chance(0.9) {
        row.description = description(rng);
    }
    if rng.chance(0.3) {
        row.website = format!("https://example.org/{id}");
        row.email = "info@example.org".into();
        row.phone = "+1 555 0100".into();
        row.address = "1 Main St, Suite 2".into();
        row.last_verified = "2025-06-01".into();
    }
    row
}

fn rng_state(rng: &mut Rng) -> &'static str {
    STATES[rng.below(STATES.len())]
}

/// Rows that fail validation: they must not reach the index nor name an
/// insurer in the facets (their spellings differ from the valid rows').
fn invalid_row(rng: &mut Rng, index: usize) -> Row {
    let mut row = random_row(rng, index, None);
    row.id = format!("bad-{index}");
    row.insurance = "aetna;CIGNA;Invalid Only Plan;ketamine".into();
    match index % 3 {
        0 => row.state = "ZZ".into(),
        1 => {
            row.rating = "4.5".into();
            row.review_count = "0".into();
        }
        _ => {
            row.latitude = "45.0".into();
            row.longitude = String::new();
            row.zip = String::new();
        }
    }
    row
}

fn random_rows(rng: &mut Rng) -> Vec<Row> {
    let mut rows = vec![invalid_row(rng, 0)];
    let mut previous: Option<Row> = None;
    for index in 0..PROVIDER_ROWS {
        if index % 200 == 17 {
            rows.push(invalid_row(rng, index + 1));
        }
        // Copies of the previous valid row's point make distance ties.
        let row = random_row(rng, index, previous.as_ref());
        previous = Some(row.clone());
        rows.push(row);
    }
    rows
}

// ---------------------------------------------------------------------------
// Building an index and reading the same records.

struct Fixture {
    _dir: tempfile::TempDir,
    generation: Arc<Generation>,
    providers: Vec<Provider>,
}

fn import(rows: &[Row]) -> Fixture {
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let csv_path = dir.path().join("providers.csv");
    std::fs::write(&csv_path, write_csv(rows)).expect("write the CSV");
    let index_dir = IndexDir::new(dir.path().join("index"));
    let options = ImportOptions {
        skip_invalid: true,
        allow_shrink: false,
        source: Some("search_reference".into()),
    };
    let csv = File::open(&csv_path).expect("open the CSV for the import");
    let outcome = import_csv(&index_dir, csv, &options, |_| {}).expect("the import runs");
    assert!(
        outcome.rejection.is_none(),
        "import rejected: {:?}; errors: {:?}",
        outcome.rejection,
        outcome.report.errors
    );
    let generation =
        Arc::new(Generation::open_current(&index_dir).expect("open the published generation"));
    let providers = read_records(&csv_path);
    assert_eq!(
        generation.meta.documents,
        providers.len() as u64,
        "the index should hold exactly the valid rows"
    );
    Fixture {
        _dir: dir,
        generation,
        providers,
    }
}

/// The valid records in file order, as `ingest` reads them.
fn read_records(path: &Path) -> Vec<Provider> {
    let mut providers = Vec::new();
    read_providers(File::open(path).expect("open the CSV"), |p| {
        providers.push(p)
    })
    .expect("read the CSV");
    providers
}

fn run(generation: &Arc<Generation>, pairs: &[(&str, &str)]) -> SearchResponse {
    let request = SearchRequest::from_pairs(pairs.iter().copied())
        .unwrap_or_else(|errors| panic!("{pairs:?} should parse: {errors:?}"));
    search(generation, &request).unwrap_or_else(|error| panic!("{pairs:?}: search failed: {error}"))
}

fn ids(response: &SearchResponse) -> Vec<&str> {
    response
        .results
        .iter()
        .map(|hit| hit.provider.id.as_str())
        .collect()
}

// ---------------------------------------------------------------------------
// The reference.

/// docs/search.md's distance: haversine on a sphere of 3958.8 miles, from the query
/// point to the provider.
fn haversine(from: (f64, f64), to: (f64, f64)) -> f64 {
    HaversineMeasure::new(EARTH_RADIUS_MILES)
        .distance(Point::new(from.1, from.0), Point::new(to.1, to.0))
}

/// ASCII folding of the accented letters the generator uses. Anything else
/// non-ASCII is a gap in this table, so it panics rather than guessing.
fn fold(c: char) -> char {
    match c {
        'à' | 'á' | 'â' | 'ä' | 'å' | 'ã' => 'a',
        'ç' => 'c',
        'è' | 'é' | 'ê' | 'ë' => 'e',
        'ì' | 'í' | 'î' | 'ï' => 'i',
        'ñ' => 'n',
        'ò' | 'ó' | 'ô' | 'ö' => 'o',
        'ù' | 'ú' | 'û' | 'ü' => 'u',
        c if c.is_ascii() => c,
        other => panic!("the test's fold table has no entry for {other:?}"),
    }
}

/// Split on every non-alphanumeric char, lower-case, fold accents.
/// docs/search.md, "Words that say nothing here": dropped from `q` before
/// matching. The reference keeps its own copy of the lists, on purpose.
const IGNORED_WORDS: [&str; 51] = [
    "a",
    "an",
    "the",
    "and",
    "or",
    "for",
    "of",
    "in",
    "on",
    "at",
    "to",
    "with",
    "from",
    "by",
    "my",
    "me",
    "i",
    "we",
    "us",
    "you",
    "need",
    "want",
    "looking",
    "find",
    "best",
    "top",
    "good",
    "great",
    "local",
    "nearby",
    "near",
    "around",
    "area",
    "help",
    "please",
    "ketamine",
    "therapy",
    "therapies",
    "clinic",
    "clinics",
    "doctor",
    "doctors",
    "provider",
    "providers",
    "center",
    "centers",
    "centre",
    "centres",
    "specialist",
    "specialists",
    "practice",
];

/// The words of `q` a provider must match.
fn meaningful_words(text: &str) -> Vec<String> {
    tokenize(text)
        .into_iter()
        .filter(|word| !IGNORED_WORDS.contains(&word.as_str()))
        .collect()
}

/// A word that could make the words of `q` name a place (docs/search.md,
/// "Places typed as words"): a state code or a word of a state's name, or
/// a 5-digit number. The random texts leave such words out, so that the
/// reference need not know the gazetteer.
fn could_name_a_place(word: &str) -> bool {
    let lower = word.to_lowercase();
    (lower.len() == 5 && lower.bytes().all(|b| b.is_ascii_digit()))
        || US_STATES.iter().any(|(code, name)| {
            code.eq_ignore_ascii_case(&lower)
                || name
                    .split(' ')
                    .any(|part| part.eq_ignore_ascii_case(&lower))
        })
}

fn tokenize(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(|word| word.to_lowercase().chars().map(fold).collect())
        .collect()
}

/// Optimal-string-alignment distance (adjacent transposition costs 1).
fn osa_distance(a: &[char], b: &[char]) -> usize {
    let (n, m) = (a.len(), b.len());
    let mut d = vec![vec![0usize; m + 1]; n + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=n {
        for j in 1..=m {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[n][m]
}

/// The words a provider can be found by (docs/search.md plus the vocabulary's
/// labels and synonyms), as raw text.
fn searchable_parts(provider: &Provider) -> Vec<&str> {
    let mut parts: Vec<&str> = vec![provider.name.as_str(), provider.city.as_str()];
    parts.extend(provider.organization.as_deref());
    parts.extend(provider.description.as_deref());
    parts.extend(provider.credentials.iter().map(String::as_str));
    for treatment in &provider.treatments {
        parts.push(treatment.label());
        parts.extend(treatment.synonyms().iter().copied());
    }
    for condition in &provider.conditions {
        parts.push(condition.label());
        parts.extend(condition.synonyms().iter().copied());
    }
    parts
}

struct RefProvider {
    provider: Provider,
    /// Ids (into `Reference::vocabulary`) of the provider's indexed tokens.
    tokens: Vec<u32>,
    adjusted: f64,
    /// Insurers and languages as matched: trimmed, lower-cased, distinct.
    insurers: Vec<String>,
    languages: Vec<String>,
}

struct Reference {
    providers: Vec<RefProvider>,
    vocabulary: Vec<Vec<char>>,
    /// Display name of each insurer key: the first spelling in the file.
    insurer_display: HashMap<String, String>,
    mean: f64,
}

fn list_key(value: &str) -> String {
    value.trim().to_lowercase()
}

fn distinct_keys(values: &[String]) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for value in values {
        let key = list_key(value);
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    keys
}

impl Reference {
    fn new(providers: &[Provider]) -> Reference {
        // m: sum of raw ratings in file order, divided by their count.
        let (mut sum, mut count) = (0.0f64, 0u32);
        for rating in providers.iter().filter_map(|p| p.rating) {
            sum += rating;
            count += 1;
        }
        let mean = if count == 0 {
            0.0
        } else {
            sum / f64::from(count)
        };

        let mut vocabulary: Vec<Vec<char>> = Vec::new();
        let mut token_ids: HashMap<String, u32> = HashMap::new();
        let mut insurer_display: HashMap<String, String> = HashMap::new();
        let mut out = Vec::with_capacity(providers.len());
        for provider in providers {
            let mut tokens: Vec<u32> = Vec::new();
            for part in searchable_parts(provider) {
                for token in tokenize(part) {
                    if token.len() > MAX_TOKEN_BYTES {
                        continue;
                    }
                    let next = vocabulary.len() as u32;
                    let id = *token_ids.entry(token.clone()).or_insert(next);
                    if id == next {
                        vocabulary.push(token.chars().collect());
                    }
                    if !tokens.contains(&id) {
                        tokens.push(id);
                    }
                }
            }
            for insurer in &provider.insurance {
                insurer_display
                    .entry(list_key(insurer))
                    .or_insert_with(|| insurer.clone());
            }
            let adjusted = match provider.rating {
                Some(rating) if provider.review_count > 0 => {
                    let n = f64::from(provider.review_count);
                    (PRIOR_WEIGHT * mean + rating * n) / (PRIOR_WEIGHT + n)
                }
                _ => mean,
            };
            out.push(RefProvider {
                provider: provider.clone(),
                tokens,
                adjusted,
                insurers: distinct_keys(&provider.insurance),
                languages: distinct_keys(&provider.languages),
            });
        }
        Reference {
            providers: out,
            vocabulary,
            insurer_display,
            mean,
        }
    }

    /// For each query token, which vocabulary tokens it matches; `None` when
    /// the text has no tokens (no text constraint).
    fn text_sets(&self, text: &str) -> Option<Vec<Vec<bool>>> {
        let words = meaningful_words(text);
        if words.is_empty() {
            return None;
        }
        let sets = words
            .iter()
            .map(|word| {
                let chars: Vec<char> = word.chars().collect();
                self.vocabulary
                    .iter()
                    .map(|token| {
                        if word.len() > MAX_TOKEN_BYTES {
                            false
                        } else if *token == chars {
                            true
                        } else {
                            chars.len() >= FUZZY_MIN_CHARS
                                && chars.len().abs_diff(token.len()) <= 1
                                && osa_distance(&chars, token) <= 1
                        }
                    })
                    .collect()
            })
            .collect();
        Some(sets)
    }

    fn evaluate(&self, query: &Query) -> Expected {
        let text_sets = query.text.as_deref().and_then(|t| self.text_sets(t));
        let mut matches: Vec<Match> = Vec::new();
        for (index, rp) in self.providers.iter().enumerate() {
            let p = &rp.provider;
            if let Some(sets) = &text_sets
                && !sets
                    .iter()
                    .all(|set| rp.tokens.iter().any(|&t| set[t as usize]))
            {
                continue;
            }
            let distance = query
                .center
                .map(|center| haversine(center, (p.latitude, p.longitude)));
            if distance.is_some_and(|d| d > query.radius) {
                continue;
            }
            let any_of = |wanted: &[String], has: &[String]| {
                wanted.is_empty() || has.iter().any(|h| wanted.contains(h))
            };
            let keep = (query.treatments.is_empty()
                || p.treatments.iter().any(|t| query.treatments.contains(t)))
                && (query.conditions.is_empty()
                    || p.conditions.iter().any(|c| query.conditions.contains(c)))
                && any_of(&query.insurance, &rp.insurers)
                && any_of(&query.languages, &rp.languages)
                && query.state.as_ref().is_none_or(|s| *s == p.state)
                && (!query.telehealth || p.telehealth)
                && (!query.accepting || p.accepting_new_patients)
                && query
                    .min_rating
                    .is_none_or(|min| p.rating.is_some_and(|r| r >= min))
                && query
                    .max_price
                    .is_none_or(|max| p.price_min.is_some_and(|price| price <= max));
            if keep {
                matches.push(Match { index, distance });
            }
        }
        matches.sort_by(|a, b| self.order(query, a, b));

        let count = |has: &dyn Fn(&Provider) -> bool| {
            matches
                .iter()
                .filter(|m| has(&self.providers[m.index].provider))
                .count() as u64
        };
        let treatments = Treatment::ALL
            .iter()
            .map(|t| (t.slug(), count(&|p| p.treatments.contains(t))))
            .collect();
        let conditions = Condition::ALL
            .iter()
            .map(|c| (c.slug(), count(&|p| p.conditions.contains(c))))
            .collect();
        let mut insurer_counts: HashMap<&str, u64> = HashMap::new();
        for m in &matches {
            for key in &self.providers[m.index].insurers {
                *insurer_counts.entry(key.as_str()).or_default() += 1;
            }
        }
        let mut insurance: Vec<(String, u64)> = insurer_counts
            .into_iter()
            .map(|(key, n)| (self.insurer_display[key].clone(), n))
            .collect();
        insurance.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        insurance.truncate(INSURANCE_FACET_SIZE);

        Expected {
            total: matches.len() as u64,
            treatments,
            conditions,
            insurance,
            telehealth: count(&|p| p.telehealth),
            accepting: count(&|p| p.accepting_new_patients),
            matches,
        }
    }

    /// docs/search.md's orders; each ends on the id, so each is total.
    fn order(&self, query: &Query, a: &Match, b: &Match) -> Ordering {
        let (ra, rb) = (&self.providers[a.index], &self.providers[b.index]);
        let (pa, pb) = (&ra.provider, &rb.provider);
        let adjusted_desc = rb.adjusted.total_cmp(&ra.adjusted);
        let distance_asc = || match (a.distance, b.distance) {
            (Some(x), Some(y)) => x.total_cmp(&y),
            _ => Ordering::Equal,
        };
        let id = || pa.id.as_bytes().cmp(pb.id.as_bytes());
        match query.sort {
            // Relevance is compared as a set; any total order will do.
            SortOrder::Rating | SortOrder::Relevance => adjusted_desc
                .then_with(|| pb.review_count.cmp(&pa.review_count))
                .then_with(distance_asc)
                .then_with(|| pa.name.as_bytes().cmp(pb.name.as_bytes()))
                .then_with(id),
            SortOrder::Distance => distance_asc().then(adjusted_desc).then_with(id),
            SortOrder::Reviews => pb
                .review_count
                .cmp(&pa.review_count)
                .then(adjusted_desc)
                .then_with(id),
            SortOrder::Price => {
                let key = |p: &Provider| (p.price_min.is_none(), p.price_min);
                key(pa).cmp(&key(pb)).then(adjusted_desc).then_with(id)
            }
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Match {
    index: usize,
    distance: Option<f64>,
}

struct Expected {
    total: u64,
    /// Every match, in the query's order.
    matches: Vec<Match>,
    treatments: Vec<(&'static str, u64)>,
    conditions: Vec<(&'static str, u64)>,
    insurance: Vec<(String, u64)>,
    telehealth: u64,
    accepting: u64,
}

// ---------------------------------------------------------------------------
// Random queries: the query-string pairs and, generated alongside, what they
// mean (so the reference never reads the library's parsed request).

#[derive(Debug, Clone)]
struct Query {
    pairs: Vec<(String, String)>,
    text: Option<String>,
    /// (lat, lon)
    center: Option<(f64, f64)>,
    radius: f64,
    treatments: Vec<Treatment>,
    conditions: Vec<Condition>,
    insurance: Vec<String>,
    languages: Vec<String>,
    state: Option<String>,
    telehealth: bool,
    accepting: bool,
    min_rating: Option<f64>,
    max_price: Option<u32>,
    sort: SortOrder,
    page: u32,
    per_page: u32,
}

impl Query {
    fn new() -> Query {
        Query {
            pairs: Vec::new(),
            text: None,
            center: None,
            radius: DEFAULT_RADIUS,
            treatments: Vec::new(),
            conditions: Vec::new(),
            insurance: Vec::new(),
            languages: Vec::new(),
            state: None,
            telehealth: false,
            accepting: false,
            min_rating: None,
            max_price: None,
            sort: SortOrder::Rating,
            page: 1,
            per_page: DEFAULT_PER_PAGE,
        }
    }

    fn push(&mut self, name: &str, value: impl Into<String>) {
        self.pairs.push((name.to_string(), value.into()));
    }

    fn query_string(&self) -> String {
        form_urlencoded::Serializer::new(String::new())
            .extend_pairs(self.pairs.iter())
            .finish()
    }
}

/// One typo (substitution, deletion, insertion or adjacent transposition).
fn typo(rng: &mut Rng, word: &str) -> String {
    let mut chars: Vec<char> = word.chars().collect();
    let letter = char::from(b'a' + rng.below(26) as u8);
    match rng.below(4) {
        0 => {
            let i = rng.below(chars.len());
            chars[i] = letter;
        }
        1 => {
            let i = rng.below(chars.len());
            chars.remove(i);
        }
        2 => {
            let i = rng.below(chars.len() + 1);
            chars.insert(i, letter);
        }
        _ => {
            let i = rng.below(chars.len() - 1);
            chars.swap(i, i + 1);
        }
    }
    chars.into_iter().collect()
}

fn raw_words(provider: &Provider) -> Vec<String> {
    searchable_parts(provider)
        .into_iter()
        .flat_map(|part| part.split(|c: char| !c.is_alphanumeric()))
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

fn random_text(rng: &mut Rng, providers: &[Provider]) -> String {
    if rng.chance(0.02) {
        // No tokens at all: counts as no text constraint.
        return rng.pick(&["!!", "(", "— …"]).to_string();
    }
    let words = raw_words(rng.pick(providers));
    let mut chosen = Vec::new();
    for _ in 0..1 + rng.below(2) {
        let mut word = if rng.chance(0.1) {
            rng.pick(&WORDS).to_string()
        } else {
            rng.pick(&words).clone()
        };
        if could_name_a_place(&word) {
            word = "infusion".into();
        }
        // Typos in 4-letter words too: those must not match (no fuzzy
        // matching below 5 characters).
        if word.chars().count() >= 4 && rng.chance(0.3) {
            word = typo(rng, &word);
        }
        if rng.chance(0.15) {
            word = word.to_uppercase();
        }
        chosen.push(word);
    }
    match rng.below(6) {
        0 => format!("\"{}\"", chosen.join(" ")),
        1 => chosen.join(", "),
        _ => chosen.join(" "),
    }
}

fn random_query(rng: &mut Rng, providers: &[Provider]) -> Query {
    let mut query = Query::new();

    if rng.chance(0.45) {
        let text = random_text(rng, providers);
        query.text = Some(text.clone());
        query.push("q", text);
    }

    if rng.chance(0.55) {
        let center = match rng.below(10) {
            0..=3 => {
                let p = rng.pick(providers);
                if rng.chance(0.5) {
                    (p.latitude, p.longitude)
                } else {
                    destination(
                        p.latitude,
                        p.longitude,
                        rng.between(0.0, 30.0),
                        rng.between(0.0, 360.0),
                    )
                }
            }
            4..=6 => {
                let c = rng.pick(&CLUSTERS);
                (c.lat, c.lon)
            }
            7 => *rng.pick(&[
                (52.0, 180.0),
                (52.0, -180.0),
                (51.6, 179.999),
                (51.6, -179.999),
                (85.0, -156.0),
                (89.99, 20.0),
                (72.5, 180.0),
            ]),
            _ => (rng.between(15.0, 70.0), rng.between(-180.0, -60.0)),
        };
        query.center = Some(center);
        query.push("lat", format!("{}", center.0));
        query.push("lon", format!("{}", center.1));
        match rng.below(4) {
            0 => {}
            1 => {
                let radius = *rng.pick(&[1u32, 5, 10, 25, 50, 100, 120, 250, 500]);
                query.radius = f64::from(radius);
                query.push("radius", radius.to_string());
            }
            2 => {
                let radius = format!("{:.3}", rng.between(1.0, 500.0));
                query.radius = radius.parse().expect("a formatted float parses");
                query.push("radius", radius);
            }
            _ => {
                // Exactly the distance of some provider: it must be inside.
                let mut radius = 60.0;
                for _ in 0..50 {
                    let p = rng.pick(providers);
                    let d = haversine(center, (p.latitude, p.longitude));
                    if (1.0..=500.0).contains(&d) {
                        radius = d;
                        break;
                    }
                }
                query.radius = radius;
                query.push("radius", format!("{radius}"));
            }
        }
    } else if rng.chance(0.1) {
        // A radius without a location is ignored (docs/search.md).
        query.push("radius", "7");
    }

    if rng.chance(0.25) {
        query.treatments = rng.some(Treatment::ALL, 2);
        if query.treatments.is_empty() {
            query.treatments.push(Treatment::IvInfusion);
        }
        for t in query.treatments.clone() {
            let value = if rng.chance(0.3) {
                rng.pick(t.synonyms()).to_string()
            } else {
                slug_variant(rng, t.slug())
            };
            query.push("treatment", value);
        }
    }
    if rng.chance(0.25) {
        query.conditions = rng.some(Condition::ALL, 2);
        if query.conditions.is_empty() {
            query.conditions.push(Condition::Crps);
        }
        for c in query.conditions.clone() {
            let value = if rng.chance(0.3) {
                rng.pick(c.synonyms()).to_string()
            } else {
                slug_variant(rng, c.slug())
            };
            query.push("condition", value);
        }
    }
    if rng.chance(0.2) {
        for _ in 0..1 + rng.below(2) {
            let name = match rng.below(10) {
                0 => format!("Regional Plan {:02}", rng.below(50)),
                1 => "Invalid Only Plan".to_string(),
                _ => rng.pick(&INSURERS[..12]).to_string(),
            };
            query.insurance.push(list_key(&name));
            let spelled = case_variant(rng, &name);
            query.push("insurance", format!(" {spelled} "));
        }
    }
    if rng.chance(0.15) {
        let language = rng.pick(&LANGUAGES).to_string();
        query.languages.push(list_key(&language));
        query.push("language", case_variant(rng, &language));
    }
    if rng.chance(0.12) {
        let state = rng.pick(&STATES).to_string();
        query.push("state", case_variant(rng, &state));
        query.state = Some(state);
    }
    for name in ["telehealth", "accepting"] {
        if rng.chance(0.2) {
            let (value, on) = *rng.pick(&[
                ("true", true),
                ("yes", true),
                ("1", true),
                ("on", true),
                ("false", false),
                ("0", false),
            ]);
            query.push(name, value);
            if name == "telehealth" {
                query.telehealth = on;
            } else {
                query.accepting = on;
            }
        }
    }
    if rng.chance(0.15) {
        let text = rng
            .pick(&["0", "3.5", "4", "4.5", "4.8", "5", "4.25", "2.0"])
            .to_string();
        query.min_rating = Some(text.parse().expect("a literal float parses"));
        query.push("min_rating", text);
    }
    if rng.chance(0.15) {
        let price = *rng.pick(&[0u32, 100, 250, 400, 450, 600, 1000]);
        query.max_price = Some(price);
        query.push("max_price", price.to_string());
    }

    let mut sorts = vec![SortOrder::Rating, SortOrder::Reviews, SortOrder::Price];
    if query.center.is_some() {
        sorts.push(SortOrder::Distance);
        sorts.push(SortOrder::Distance);
    }
    if query.text.is_some() {
        sorts.push(SortOrder::Relevance);
    }
    query.sort = *rng.pick(&sorts);
    if query.sort != SortOrder::Rating || rng.chance(0.3) {
        query.push("sort", case_variant(rng, query.sort.as_str()));
    }
    // A `q` whose every word says nothing counts as absent, and relevance
    // then orders as rating (docs/search.md).
    if query.sort == SortOrder::Relevance
        && query
            .text
            .as_deref()
            .is_none_or(|text| meaningful_words(text).is_empty())
    {
        query.sort = SortOrder::Rating;
    }

    if rng.chance(0.4) {
        let per_page = *rng.pick(&[1u32, 2, 3, 5, 10, 20, 37, 50, 100]);
        query.per_page = per_page;
        query.push("per_page", per_page.to_string());
    }
    if rng.chance(0.4) {
        let page = if rng.chance(0.1) {
            *rng.pick(&[50u32, 400, 10_000])
        } else {
            1 + rng.below(5) as u32
        };
        query.page = page;
        query.push("page", page.to_string());
    }

    // Parameter order must not matter.
    for i in (1..query.pairs.len()).rev() {
        let j = rng.below(i + 1);
        query.pairs.swap(i, j);
    }
    query
}

// ---------------------------------------------------------------------------
// Comparing a response with the reference.

fn describe_expected(reference: &Reference, m: &Match) -> String {
    let rp = &reference.providers[m.index];
    let p = &rp.provider;
    format!(
        "{} (adjusted {}, reviews {}, distance {:?}, price_min {:?}, name {:?})",
        p.id, rp.adjusted, p.review_count, m.distance, p.price_min, p.name
    )
}

fn describe_hit(hit: &Hit) -> String {
    let p = &hit.provider;
    format!(
        "{} (adjusted {}, reviews {}, distance {:?}, price_min {:?}, name {:?})",
        p.id, hit.adjusted_rating, p.review_count, hit.distance_miles, p.price_min, p.name
    )
}

/// The first position where two lists differ, described.
fn first_difference<T: PartialEq + std::fmt::Debug>(
    what: &str,
    expected: &[T],
    got: &[T],
) -> Option<String> {
    if expected == got {
        return None;
    }
    let position = expected
        .iter()
        .zip(got)
        .position(|(e, g)| e != g)
        .unwrap_or(expected.len().min(got.len()));
    Some(format!(
        "{what}: first difference at position {position}: expected {:?}, got {:?} (expected {} entries, got {})",
        expected.get(position),
        got.get(position),
        expected.len(),
        got.len()
    ))
}

fn compare(
    reference: &Reference,
    query: &Query,
    expected: &Expected,
    response: &SearchResponse,
) -> Vec<String> {
    let mut problems = Vec::new();
    if response.total != expected.total {
        problems.push(format!(
            "total: expected {}, got {}",
            expected.total, response.total
        ));
    }
    if (response.page, response.per_page) != (query.page, query.per_page) {
        problems.push(format!(
            "page/per_page: expected {}/{}, got {}/{}",
            query.page, query.per_page, response.page, response.per_page
        ));
    }
    if response.sort != query.sort.as_str() {
        problems.push(format!(
            "sort: expected {}, got {}",
            query.sort.as_str(),
            response.sort
        ));
    }
    match (&response.location, query.center) {
        (None, None) => {}
        (Some(location), Some((lat, lon)))
            if location.lat == Some(lat)
                && location.lon == Some(lon)
                && location.radius_miles == Some(query.radius) => {}
        (got, wanted) => problems.push(format!(
            "location: expected {wanted:?} radius {}, got {got:?}",
            query.radius
        )),
    }

    let Some(facets) = &response.facets else {
        problems.push("facets: null, though the request asked for them".into());
        return problems;
    };
    let got_treatments: Vec<(&str, u64)> =
        facets.treatments.iter().map(|(k, v)| (*k, *v)).collect();
    let got_conditions: Vec<(&str, u64)> =
        facets.conditions.iter().map(|(k, v)| (*k, *v)).collect();
    let got_insurance: Vec<(String, u64)> = facets
        .insurance
        .iter()
        .map(|(k, v)| (k.clone(), *v))
        .collect();
    problems.extend(first_difference(
        "facets.treatments",
        &expected.treatments,
        &got_treatments,
    ));
    problems.extend(first_difference(
        "facets.conditions",
        &expected.conditions,
        &got_conditions,
    ));
    problems.extend(first_difference(
        "facets.insurance",
        &expected.insurance,
        &got_insurance,
    ));
    if facets.telehealth != expected.telehealth {
        problems.push(format!(
            "facets.telehealth: expected {}, got {}",
            expected.telehealth, facets.telehealth
        ));
    }
    if facets.accepting_new_patients != expected.accepting {
        problems.push(format!(
            "facets.accepting_new_patients: expected {}, got {}",
            expected.accepting, facets.accepting_new_patients
        ));
    }

    let offset = (query.page as usize - 1) * query.per_page as usize;
    let page: &[Match] = expected
        .matches
        .get(offset..)
        .map(|rest| &rest[..rest.len().min(query.per_page as usize)])
        .unwrap_or(&[]);
    if response.results.len() != page.len() {
        problems.push(format!(
            "page size: expected {} results, got {}",
            page.len(),
            response.results.len()
        ));
    }

    if query.sort == SortOrder::Relevance {
        // BM25 is not reproduced: every hit must be a match, once.
        let matching: HashMap<&str, &Match> = expected
            .matches
            .iter()
            .map(|m| (reference.providers[m.index].provider.id.as_str(), m))
            .collect();
        let mut seen = HashSet::new();
        for (position, hit) in response.results.iter().enumerate() {
            let id = hit.provider.id.as_str();
            if !seen.insert(id) {
                problems.push(format!("results[{position}]: {id} is listed twice"));
            }
            match matching.get(id) {
                None => problems.push(format!(
                    "results[{position}]: {} is not a match",
                    describe_hit(hit)
                )),
                Some(m) => problems.extend(compare_hit(reference, position, m, hit)),
            }
        }
        return problems;
    }

    for (position, (m, hit)) in page.iter().zip(&response.results).enumerate() {
        let wanted_id = &reference.providers[m.index].provider.id;
        if *wanted_id != hit.provider.id {
            problems.push(format!(
                "results: first difference at position {position} (overall {}): expected {}, got {}",
                offset + position,
                describe_expected(reference, m),
                describe_hit(hit)
            ));
            break;
        }
        problems.extend(compare_hit(reference, position, m, hit));
    }
    problems
}

/// The values of one hit whose id is right.
fn compare_hit(reference: &Reference, position: usize, m: &Match, hit: &Hit) -> Vec<String> {
    let rp = &reference.providers[m.index];
    let mut problems = Vec::new();
    let id = &rp.provider.id;
    // Same formulas, same operands, same operation order: bit-identical.
    if hit.distance_miles != m.distance {
        problems.push(format!(
            "results[{position}] {id}: distance_miles expected {:?}, got {:?}",
            m.distance, hit.distance_miles
        ));
    }
    if hit.adjusted_rating.to_bits() != rp.adjusted.to_bits() {
        problems.push(format!(
            "results[{position}] {id}: adjusted_rating expected {}, got {}",
            rp.adjusted, hit.adjusted_rating
        ));
    }
    if hit.url != format!("/providers/{id}") {
        problems.push(format!("results[{position}] {id}: url {:?}", hit.url));
    }
    if hit.provider != rp.provider {
        let (e, g) = (&rp.provider, &hit.provider);
        problems.push(format!(
            "results[{position}] {id}: the stored provider differs from the CSV record \
             (latitude {:?} vs {:?}, longitude {:?} vs {:?}, rating {:?} vs {:?}); expected {e:?}, got {g:?}",
            e.latitude, g.latitude, e.longitude, g.longitude, e.rating, g.rating
        ));
    }
    problems
}

// ---------------------------------------------------------------------------
// The tests.

#[test]
fn random_queries_match_the_brute_force_reference() {
    // SEARCH_REFERENCE_SEED explores other data sets and queries; the
    // default seed is what CI runs.
    let seed = std::env::var("SEARCH_REFERENCE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(SEED);
    let mut rng = Rng(seed);
    let rows = random_rows(&mut rng);
    let fixture = import(&rows);
    let reference = Reference::new(&fixture.providers);
    assert!(
        fixture.providers.len() > PROVIDER_ROWS * 9 / 10,
        "most generated rows should be valid, got {}",
        fixture.providers.len()
    );
    let mut failures: Vec<String> = Vec::new();
    // m feeds every adjusted rating: when it is off, say so first.
    if fixture.generation.meta.mean_rating.to_bits() != reference.mean.to_bits() {
        failures.push(format!(
            "m, the mean raw rating: expected {}, got {}",
            reference.mean, fixture.generation.meta.mean_rating
        ));
    }
    let mut nonempty_pages = 0;
    let mut nonempty_totals = 0;
    let mut by_sort: HashMap<&str, usize> = HashMap::new();
    for number in 0..QUERIES {
        let query = random_query(&mut rng, &fixture.providers);
        let pairs: Vec<(&str, &str)> = query
            .pairs
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let request = match SearchRequest::from_pairs(pairs.iter().copied()) {
            Ok(request) => request,
            Err(errors) => {
                failures.push(format!(
                    "query #{number} `{}`: rejected: {errors:?}",
                    query.query_string()
                ));
                continue;
            }
        };
        let response = match search(&fixture.generation, &request) {
            Ok(response) => response,
            Err(error) => {
                failures.push(format!(
                    "query #{number} `{}`: search failed: {error}",
                    query.query_string()
                ));
                continue;
            }
        };
        let expected = reference.evaluate(&query);
        *by_sort.entry(query.sort.as_str()).or_default() += 1;
        nonempty_totals += usize::from(expected.total > 0);
        nonempty_pages += usize::from(!response.results.is_empty());
        let problems = compare(&reference, &query, &expected, &response);
        if !problems.is_empty() {
            failures.push(format!(
                "query #{number} `{}`:\n    {}",
                query.query_string(),
                problems.join("\n    ")
            ));
        }
    }

    println!(
        "seed {seed}: {QUERIES} queries on {} providers: {nonempty_totals} with matches, {nonempty_pages} with a non-empty page; by sort {by_sort:?}",
        fixture.providers.len()
    );
    assert!(
        failures.is_empty(),
        "seed {seed}: {} of {QUERIES} queries differ from the reference; the first ones:\n{}",
        failures.len(),
        failures
            .iter()
            .take(8)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    // Guard against a vacuous pass (e.g. every query matching nothing).
    assert!(
        nonempty_totals > QUERIES / 2 && nonempty_pages > QUERIES / 3,
        "too few queries had matches ({nonempty_totals}) or results ({nonempty_pages})"
    );
}

/// docs/search.md's distance is on a sphere: 179.95° E and 179.95° W are neighbours.
#[test]
fn search_across_the_antimeridian() {
    let rows = vec![
        Row::at("east", "East Side", 52.0, 179.95),
        Row::at("west", "West Side", 52.0, -179.95),
        // About 40 miles west of the date line: outside a 10-mile radius.
        Row::at("far", "Far Side", 52.0, 179.0),
    ];
    let fixture = import(&rows);
    for (lat, lon) in [
        (52.0, 179.99),
        (52.0, -179.99),
        (52.0, 180.0),
        (52.0, -180.0),
    ] {
        let (lat_text, lon_text) = (format!("{lat}"), format!("{lon}"));
        let pairs = [
            ("lat", lat_text.as_str()),
            ("lon", lon_text.as_str()),
            ("radius", "10"),
            ("sort", "distance"),
        ];
        let response = run(&fixture.generation, &pairs);
        let mut expected: Vec<(f64, &str)> = fixture
            .providers
            .iter()
            .map(|p| {
                (
                    haversine((lat, lon), (p.latitude, p.longitude)),
                    p.id.as_str(),
                )
            })
            .filter(|(d, _)| *d <= 10.0)
            .collect();
        expected.sort_by(|a, b| a.0.total_cmp(&b.0));
        let expected_ids: Vec<&str> = expected.iter().map(|(_, id)| *id).collect();
        assert_eq!(
            ids(&response),
            expected_ids,
            "from ({lat}, {lon}) within 10 miles"
        );
        let mut found = ids(&response);
        found.sort_unstable();
        assert_eq!(found, ["east", "west"], "from ({lat}, {lon})");
        for (hit, (distance, _)) in response.results.iter().zip(&expected) {
            let got = hit.distance_miles.expect("a location gives distances");
            assert_eq!(got, *distance, "distance of {}", hit.provider.id);
            assert!(got < 5.0, "{} is {got} miles away", hit.provider.id);
        }
    }
}

/// Near 71° N a degree of longitude is about 22 miles, not 69: the radius
/// must be measured on the sphere, not in "degrees × 69 miles".
#[test]
fn high_latitude_radius_is_true_distance() {
    let (lat, lon) = (71.29, -156.79);
    let rows = vec![
        Row::at("inside", "Due East Inside", lat, lon + 1.0),
        Row::at("outside", "Due East Outside", lat, lon + 1.5),
    ];
    let fixture = import(&rows);
    let inside = haversine((lat, lon), (lat, lon + 1.0));
    let outside = haversine((lat, lon), (lat, lon + 1.5));
    // The premise: naive degrees × 69 says 69 miles, the sphere says ~22.
    let degrees_east = 1.0;
    assert!(degrees_east * 69.0 > 30.0 && inside < 30.0 && outside > 30.0);

    let response = run(
        &fixture.generation,
        &[("lat", "71.29"), ("lon", "-156.79"), ("radius", "30")],
    );
    assert_eq!(ids(&response), ["inside"]);
    assert_eq!(response.total, 1);
    assert_eq!(response.results[0].distance_miles, Some(inside));

    // From the other side of the provider, and with the radius just wide
    // enough for both.
    let response = run(
        &fixture.generation,
        &[
            ("lat", "71.29"),
            ("lon", "-156.79"),
            ("radius", "34"),
            ("sort", "distance"),
        ],
    );
    assert_eq!(ids(&response), ["inside", "outside"]);
}

/// "A provider exactly on the radius is inside" (docs/search.md), with the radius
/// set to the provider's computed distance, and outside one ulp below it.
#[test]
fn provider_exactly_on_the_radius_is_inside() {
    let mut rng = Rng(SEED ^ 0xD15);
    let centers = [
        (39.74, -104.99),
        (51.88, -176.65),
        (52.0, 180.0),
        (71.29, -156.79),
        (13.44, 144.79),
    ];
    let mut rows = Vec::new();
    let mut cases = Vec::new();
    for (c, center) in centers.iter().enumerate() {
        for k in 0..6 {
            let miles = rng.between(1.5, 450.0);
            let (lat, lon) = destination(center.0, center.1, miles, rng.between(0.0, 360.0));
            let id = format!("c{c}-{k}");
            // 12 decimals: exactly representable through the stored JSON, so
            // this test is about the radius rule alone (17-digit values are
            // `full_precision_values_survive_the_index`'s subject).
            rows.push(Row {
                latitude: format!("{lat:.12}"),
                longitude: format!("{lon:.12}"),
                ..Row::at(&id, "On The Circle", 0.0, 0.0)
            });
            cases.push((*center, id));
        }
    }
    let fixture = import(&rows);
    for (center, id) in cases {
        let provider = fixture
            .providers
            .iter()
            .find(|p| p.id == id)
            .expect("every row is valid");
        let distance = haversine(center, (provider.latitude, provider.longitude));
        assert!((1.0..=500.0).contains(&distance), "{id}: {distance}");
        let (lat, lon) = (format!("{}", center.0), format!("{}", center.1));
        let exact = format!("{distance}");
        let response = run(
            &fixture.generation,
            &[
                ("lat", &lat),
                ("lon", &lon),
                ("radius", &exact),
                ("per_page", "100"),
            ],
        );
        let hit = response
            .results
            .iter()
            .find(|h| h.provider.id == id)
            .unwrap_or_else(|| {
                panic!("{id} at exactly {distance} miles from {center:?} is missing with radius={exact}")
            });
        assert_eq!(hit.distance_miles, Some(distance), "{id}");

        let below = format!("{}", distance.next_down());
        let response = run(
            &fixture.generation,
            &[
                ("lat", &lat),
                ("lon", &lon),
                ("radius", &below),
                ("per_page", "100"),
            ],
        );
        assert!(
            !ids(&response).contains(&id.as_str()),
            "{id} at {distance} miles from {center:?} is listed with radius={below}"
        );
    }
}

/// What the CSV says is what search returns and computes with: a
/// coordinate or rating written with 17 significant digits (the shortest
/// form that round-trips an f64, as any program printing floats writes
/// them) comes back bit for bit, and `distance_miles` is the distance to the
/// CSV's point. Otherwise a hit found with `radius=R` (the filter reads the
/// exact value) can show a `distance_miles` above R.
#[test]
fn full_precision_values_survive_the_index() {
    let rows = vec![
        Row {
            latitude: "39.228073780645204".into(),
            longitude: "-103.8165".into(),
            rating: "4.8".into(),
            review_count: "380".into(),
            ..Row::at("lat17", "Seventeen Digit Latitude", 0.0, 0.0)
        },
        Row {
            latitude: "39.821687724879446".into(),
            longitude: "-105.94340276409027".into(),
            rating: "3.6351718253355387".into(),
            review_count: "7".into(),
            ..Row::at("lon17", "Seventeen Digit Longitude", 0.0, 0.0)
        },
    ];
    let fixture = import(&rows);
    let reference = Reference::new(&fixture.providers);
    let center = (40.059671384712416, -103.53653503472887);
    let (lat, lon) = (format!("{}", center.0), format!("{}", center.1));
    let response = run(
        &fixture.generation,
        &[("lat", &lat), ("lon", &lon), ("radius", "500")],
    );
    assert_eq!(response.total, 2);
    let mut problems = Vec::new();
    for (position, hit) in response.results.iter().enumerate() {
        let index = reference
            .providers
            .iter()
            .position(|rp| rp.provider.id == hit.provider.id)
            .expect("a hit is a CSV row");
        let rp = &reference.providers[index];
        let m = Match {
            index,
            distance: Some(haversine(
                center,
                (rp.provider.latitude, rp.provider.longitude),
            )),
        };
        problems.extend(compare_hit(&reference, position, &m, hit));
    }
    // The same provider with the radius set to its exact distance.
    let on_circle = &fixture.providers[1];
    let distance = haversine(center, (on_circle.latitude, on_circle.longitude));
    let radius = format!("{distance}");
    let response = run(
        &fixture.generation,
        &[("lat", &lat), ("lon", &lon), ("radius", &radius)],
    );
    match response
        .results
        .iter()
        .find(|h| h.provider.id == on_circle.id)
    {
        None => problems.push(format!("{} is missing with radius={radius}", on_circle.id)),
        Some(hit) => {
            let shown = hit.distance_miles.expect("a location gives distances");
            if shown > distance {
                problems.push(format!(
                    "{} is listed with radius={radius} but shows distance_miles={shown}",
                    on_circle.id
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "values written with 17 significant digits do not survive:\n{}",
        problems.join("\n")
    );
}

/// `m` is the mean raw rating of the rated providers, exactly: with ratings
/// 3.6 and 4.1 it is (3.6 + 4.1) / 2 = 3.8499999999999996 in f64, and an
/// unrated provider's adjusted rating is that value.
#[test]
fn mean_rating_is_exact() {
    let rated = |id: &str, rating: &str| Row {
        rating: rating.into(),
        review_count: "1".into(),
        ..Row::at(id, "Rated", 39.74, -104.99)
    };
    let rows = vec![
        rated("a", "3.6"),
        rated("b", "4.1"),
        Row::at("unrated", "Unrated", 39.74, -104.99),
    ];
    let fixture = import(&rows);
    let mean: f64 = (3.6 + 4.1) / 2.0;
    assert_eq!(
        fixture.generation.meta.mean_rating, mean,
        "the generation's m"
    );
    let response = run(&fixture.generation, &[("q", "unrated")]);
    assert_eq!(ids(&response), ["unrated"]);
    assert_eq!(
        response.results[0].adjusted_rating, mean,
        "an unrated provider's adjusted rating is m"
    );
}

/// docs/search.md's reason for the adjusted rating: one 5.0 review does not beat
/// hundreds of 4.8s (with a realistic directory mean).
#[test]
fn one_perfect_review_ranks_below_many_good_ones() {
    let rated = |id: &str, name: &str, rating: &str, reviews: &str| Row {
        rating: rating.into(),
        review_count: reviews.into(),
        ..Row::at(id, name, 39.74, -104.99)
    };
    let rows = vec![
        rated("solo", "Solo Five", "5.0", "1"),
        rated("many", "Many Good", "4.8", "300"),
        rated("mid", "Middling", "3.9", "40"),
        rated("low", "Lower", "3.5", "12"),
        Row::at("unrated", "Not Yet Rated", 39.74, -104.99),
    ];
    let fixture = import(&rows);
    let mean: f64 = (5.0 + 4.8 + 3.9 + 3.5) / 4.0;
    let adjusted = |rating: f64, n: f64| (10.0 * mean + rating * n) / (10.0 + n);
    for pairs in [
        vec![("sort", "rating")],
        vec![("lat", "39.74"), ("lon", "-104.99"), ("sort", "rating")],
    ] {
        let response = run(&fixture.generation, &pairs);
        let order = ids(&response);
        let position = |id: &str| {
            order
                .iter()
                .position(|x| *x == id)
                .unwrap_or_else(|| panic!("{id} missing from {order:?}"))
        };
        assert!(
            position("many") < position("solo"),
            "{pairs:?}: 300 reviews of 4.8 should rank above one 5.0: {order:?}"
        );
        assert_eq!(
            order,
            ["many", "solo", "unrated", "mid", "low"],
            "{pairs:?}"
        );
        let by_id: HashMap<&str, f64> = response
            .results
            .iter()
            .map(|h| (h.provider.id.as_str(), h.adjusted_rating))
            .collect();
        assert_eq!(by_id["solo"], adjusted(5.0, 1.0));
        assert_eq!(by_id["many"], adjusted(4.8, 300.0));
        assert_eq!(by_id["unrated"], mean);
    }
}

/// The insurance facet counts providers. A row may list one insurer in two
/// spellings that differ beyond ASCII case ("Zürich Care" and "ZÜRICH
/// CARE"): ingest keeps one, as search matches them as one, and the provider
/// counts once. More than 63 insurers put this one outside the facet
/// bitmask, on the per-document path.
#[test]
fn insurance_facet_counts_each_provider_once() {
    let mut rows = Vec::new();
    for plan in 0..70 {
        for copy in 0..3 {
            rows.push(Row {
                insurance: format!("Plan {plan:02}"),
                ..Row::at(&format!("plan-{plan}-{copy}"), "Filler", 40.0, -105.0)
            });
        }
    }
    rows.push(Row {
        insurance: "Zürich Care;ZÜRICH CARE;Plan 00".into(),
        description: "Quokka".into(),
        ..Row::at("zurich", "Two Spellings", 40.0, -105.0)
    });
    let fixture = import(&rows);
    let zurich = fixture
        .providers
        .iter()
        .find(|p| p.id == "zurich")
        .expect("the row is valid");
    assert_eq!(
        zurich.insurance,
        ["Zürich Care", "Plan 00"],
        "ingest keeps one spelling per insurer"
    );

    let response = run(&fixture.generation, &[("q", "quokka")]);
    assert_eq!(ids(&response), ["zurich"]);
    let facet: Vec<(&str, u64)> = response
        .facets
        .as_ref()
        .expect("facets are counted by default")
        .insurance
        .iter()
        .map(|(k, v)| (k.as_str(), *v))
        .collect();
    assert_eq!(
        facet,
        [("Plan 00", 1), ("Zürich Care", 1)],
        "one matching provider can count at most once per insurer"
    );

    let response = run(&fixture.generation, &[("insurance", "zürich care")]);
    assert_eq!(ids(&response), ["zurich"]);
}

/// Words longer than 40 bytes are dropped from the index. A word measured
/// after lower-casing and folding (as queries are) must be findable when it
/// fits: "é" + 39 letters is 41 bytes as written but 40 as indexed and
/// queried.
#[test]
fn word_length_limit_is_measured_on_the_folded_word() {
    let accented = format!("é{}", &LONG_WORD_40[..39]);
    let folded = format!("e{}", &LONG_WORD_40[..39]);
    assert_eq!((accented.len(), folded.len()), (41, 40), "premise");
    let rows = vec![
        Row {
            description: format!("Clinic {LONG_WORD_40}"),
            ..Row::at("forty", "Forty", 40.0, -105.0)
        },
        Row {
            description: format!("Clinic {LONG_WORD_41}"),
            ..Row::at("forty-one", "Forty One", 40.0, -105.0)
        },
        Row {
            description: format!("Clinic {accented}"),
            ..Row::at("accented", "Accented", 40.0, -105.0)
        },
    ];
    let fixture = import(&rows);
    // The unambiguous cases: 40 ASCII bytes are kept, 41 are not (the
    // 40-byte word is within one edit of the 41-byte one, but that one is
    // not in the index and a 41-byte query matches nothing).
    assert_eq!(
        ids(&run(&fixture.generation, &[("q", LONG_WORD_40)])),
        ["forty"]
    );
    assert!(ids(&run(&fixture.generation, &[("q", LONG_WORD_41)])).is_empty());
    // The folded word is 40 bytes, whether the query is typed with or
    // without the accent.
    for q in [accented.as_str(), folded.as_str()] {
        assert_eq!(
            ids(&run(&fixture.generation, &[("q", q)])),
            ["accented"],
            "q={q:?}: the provider's word is {} bytes once folded",
            folded.len()
        );
    }
}
