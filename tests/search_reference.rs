//! Checks `ketadir::search::search` against an independent brute-force
//! reference.
//!
//! What this proves: on a seeded random directory of about 2,600 providers,
//! for 650 seeded random queries covering every parameter of docs/search.md
//! (400 of every kind, then 250 telehealth searches), the library returns
//! exactly what a naive scan of the CSV's records computes with the
//! documented semantics: the same `total`, the same facets (every treatment,
//! condition and provider type, the top-20 insurers, telehealth, accepting,
//! and `reach`), the same ids in the same order on the requested page,
//! bit-identical `distance_miles` and `adjusted_rating` for every hit, each
//! hit's `reach`, and each hit's record equal to the CSV's.
//!
//! Places are named every way `near` reads them — coordinates, a ZIP code,
//! "City, ST", a town alone (the most populous of the name), a state alone
//! (a whole-state search), or a ZIP or "City, ST" typed in `q` — and about
//! 300 of the queries add `include_telehealth`. For those the reference
//! computes the union of the docs/search.md "Telehealth reach" section: the
//! usual matches (`reach: "in_person"`) plus the telehealth providers
//! licensed in the searcher's state S (`"telehealth"`), with every other
//! filter, `state=` included, applied to both; a treatment filter matching
//! only oral/sublingual and KAP through reach; and a provider reached only
//! by telehealth counting in `facets.treatments` for those two alone. The
//! 250 telehealth searches take every way of naming S with every sort order
//! (distance only where there is a point) and every kind of treatment filter
//! (none, telehealth-able, clinic-only, mixed), so that none goes untested;
//! and the run fails if the data never produced one of the awkward cases
//! `ReachStats` counts. Queries without `include_telehealth` must have `reach`
//! null on every hit and in the facets. `verified_within_days` counts back
//! from today (UTC) over dates on either side of each bound queried, and
//! in the future. `facets=false` must make `facets` null and change nothing
//! else.
//!
//! Refused combinations are refused with a 400 naming the right parameter,
//! both in a fixed list (`REFUSED`) and among the random queries:
//! `include_telehealth` with coordinates (`lat`/`lon` or a "lat,lon" near),
//! without a place (even with `state=`, or with words that name none), or
//! with a bad flag; `sort=distance` from a whole state; a whole-state `near`
//! with another `state=`; an unknown `provider_type`.
//!
//! The data set is built to hit the awkward cases on purpose: clusters
//! across the antimeridian, at 71° N and in Guam; clusters across state
//! lines (Denver reaching into Wyoming, Kansas City in Kansas and Missouri);
//! identical coordinates, names and ratings (so every tie-break is
//! exercised); unrated providers and one-review 5.0s; insurers spelled in
//! several cases; more distinct insurers than the facet bitmask has bits;
//! accented words; 40- and 41-byte words; telehealth providers with a blank
//! `licensed_states` (their own state), with a few states that may leave
//! out their own, with many states or all 56, with repeats; providers with
//! licensed states but no telehealth, which reach must never list;
//! SPRAVATO rows with `rems_certified` true or blank; and invalid rows that
//! must not leak into the index, among them SPRAVATO rows with
//! `rems_certified` false that are bait for every telehealth search.
//!
//! The reference gets its typed records from `ingest::read_providers` (the
//! CSV rules are tested elsewhere) but shares no search code with the
//! library: tokenising, typo matching, distances, filters, telehealth reach,
//! facets, the adjusted rating and every sort order are written out again
//! here from the contract. The states of the places queries name are
//! written in `KNOWN_PLACES`; only their points come from the gazetteer
//! (`resolve_near`, tested elsewhere), which must agree on the states. BM25
//! is not reproduced, so for `sort=relevance` only the match set, the
//! facets, the page size and each hit's values are compared.
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
use ketadir::geo::places::resolve_near;
use ketadir::index::{Generation, ImportOptions, IndexDir, import_csv};
use ketadir::ingest::read_providers;
use ketadir::provider::US_STATES;
use ketadir::provider::{Condition, Provider, ProviderType, Treatment};
use ketadir::search::{
    Facets, Hit, Reach, SearchError, SearchRequest, SearchResponse, SortOrder, search,
};

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
/// Telehealth searches, besides the telehealth searches among `QUERIES`.
const TELEHEALTH_QUERIES: usize = 250;

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
const HEADER: [&str; 29] = [
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
    "Provider_Type",
    "licensed_states ",
    "REMS_certified",
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
    provider_type: String,
    licensed_states: String,
    rems_certified: String,
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

    fn cells(&self) -> [&str; 29] {
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
            &self.provider_type,
            &self.licensed_states,
            &self.rems_certified,
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

struct Cluster {
    city: &'static str,
    state: &'static str,
    lat: f64,
    lon: f64,
}

/// Cluster centres chosen for their geometry: an ordinary city, both sides
/// of the antimeridian and a point on it, the Arctic, a territory west of
/// the date line, Hawaii, and a city on a state line. Denver's cluster
/// also reaches over Colorado's northern border into Wyoming (Cheyenne).
const CLUSTERS: [Cluster; 8] = [
    Cluster {
        city: "Denver",
        state: "CO",
        lat: 39.74,
        lon: -104.99,
    },
    Cluster {
        city: "Adak",
        state: "AK",
        lat: 51.88,
        lon: -176.65,
    },
    Cluster {
        city: "Attu",
        state: "AK",
        lat: 52.9,
        lon: 173.1,
    },
    Cluster {
        city: "Amchitka",
        state: "AK",
        lat: 51.6,
        lon: 179.9,
    },
    Cluster {
        city: "Utqiagvik",
        state: "AK",
        lat: 71.29,
        lon: -156.79,
    },
    Cluster {
        city: "Hagåtña",
        state: "GU",
        lat: 13.44,
        lon: 144.79,
    },
    Cluster {
        city: "Honolulu",
        state: "HI",
        lat: 21.31,
        lon: -157.86,
    },
    Cluster {
        city: "Kansas City",
        state: "MO",
        lat: 39.10,
        lon: -94.58,
    },
];

/// The city and state of a cluster row at (lat, lon): the state lines the
/// clusters cross, so that a searcher's neighbours are in other states.
fn city_and_state(cluster: &Cluster, lat: f64, lon: f64) -> (&'static str, &'static str) {
    match cluster.city {
        // Colorado's northern border is the 41st parallel.
        "Denver" if lat > 41.0 => ("Cheyenne", "WY"),
        // Kansas City, KS lies west of State Line Road.
        "Kansas City" if lon < -94.607 => ("Kansas City", "KS"),
        _ => (cluster.city, cluster.state),
    }
}

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

fn random_row(rng: &mut Rng, index: usize, previous: Option<&Row>, today: i64) -> Row {
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
        let (zip, city, state) = *rng.pick(&[
            ("80202", "Denver", "co"),
            ("66101", "Kansas City", "KS"),
            ("64105", "Kansas City", "Mo"),
        ]);
        row.zip = zip.into();
        row.city = city.into();
        row.state = state.into();
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
        let (city, state) = city_and_state(cluster, lat, lon);
        row.city = city.into();
        row.state = if rng.chance(0.1) {
            let state = rng_state(rng);
            case_variant(rng, state)
        } else {
            state.into()
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
    let offered = rng.some(Treatment::ALL, 3);
    let treatments: Vec<String> = offered
        .iter()
        .map(|t| slug_variant(rng, t.slug()))
        .collect();
    row.treatments = treatments.join(";");
    // SPRAVATO rows say they are certified or leave it blank (a warning
    // only); other rows may say anything, false included.
    row.rems_certified = if offered.contains(&Treatment::EsketamineNasal) {
        rng.pick(&["true", "yes", "TRUE", "1", "", ""])
    } else {
        rng.pick(&["", "", "", "false", "no", "0", "true"])
    }
    .to_string();
    let types: Vec<String> = rng
        .some(ProviderType::ALL, 3)
        .into_iter()
        .map(|t| slug_variant(rng, t.slug()))
        .collect();
    row.provider_type = types.join(";");
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
    // Written whatever `telehealth` says: a provider without telehealth
    // but with licensed states must never be reached through them.
    row.licensed_states = licensed_states(rng, &row.state);

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
    }
    row.last_verified = verified_date(rng, today);
    row
}

/// States that the searchers' places lie in or next to, so that licences
/// often name the searcher's state.
const NEIGHBOUR_STATES: [&str; 16] = [
    "CO", "WY", "KS", "MO", "NE", "HI", "AK", "GU", "OR", "WA", "CA", "WI", "NC", "NJ", "TX", "PR",
];

/// A `licensed_states` cell: mostly blank (the provider's own state); a
/// few codes that may or may not include the provider's own state; a list
/// naming many states or all of them; repeats in other cases.
fn licensed_states(rng: &mut Rng, own_state: &str) -> String {
    let codes: Vec<String> = match rng.below(20) {
        0..=10 => Vec::new(),
        11..=15 => {
            let mut codes: Vec<String> = rng
                .some(&NEIGHBOUR_STATES, 3)
                .into_iter()
                .map(|code| case_variant(rng, code))
                .collect();
            if rng.chance(0.4) {
                codes.push(own_state.to_string());
            }
            codes
        }
        16 | 17 => {
            let mut codes = Vec::new();
            for (code, _) in US_STATES {
                if rng.chance(0.6) {
                    codes.push(case_variant(rng, code));
                }
            }
            codes
        }
        18 => US_STATES.iter().map(|(code, _)| code.to_string()).collect(),
        _ => {
            let code = *rng.pick(&NEIGHBOUR_STATES);
            vec![
                code.to_lowercase(),
                code.to_string(),
                rng.pick(&NEIGHBOUR_STATES).to_string(),
            ]
        }
    };
    let separator = *rng.pick(&[";", "; ", " ; "]);
    let mut cell = codes.join(separator);
    if !cell.is_empty() && rng.chance(0.1) {
        cell.push(';');
    }
    cell
}

/// The `verified_within_days` values queries use: the data has dates on
/// each side of every one of them.
const VERIFIED_DAYS: [u32; 8] = [1, 7, 30, 90, 180, 365, 730, 3650];

/// A `last_verified` cell relative to `today` (days since 1970, UTC): none,
/// a day before or after a query's bound, in the future, long ago, or any
/// day of the last few years.
fn verified_date(rng: &mut Rng, today: i64) -> String {
    let days_ago = match rng.below(20) {
        0..=6 => return String::new(),
        7 | 8 => i64::from(*rng.pick(&VERIFIED_DAYS)) + rng.below(3) as i64 - 1,
        9 => -1 - rng.below(30) as i64,
        10 => {
            return rng
                .pick(&["2001-02-03", "2016-02-29", "1999-12-31"])
                .to_string();
        }
        _ => rng.below(1500) as i64,
    };
    civil_date(today - days_ago)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
/// days-from-civil), written here rather than borrowed from the library.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// `YYYY-MM-DD` of a day number (civil-from-days).
fn civil_date(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// A `YYYY-MM-DD` date as days since 1970 (the dates the CSV holds are
/// well-formed: ingest refuses others).
fn day_of(date: &str) -> i64 {
    let part = |range: std::ops::Range<usize>| -> i64 {
        date[range]
            .parse()
            .unwrap_or_else(|_| panic!("{date:?} is not YYYY-MM-DD"))
    };
    days_from_civil(part(0..4), part(5..7), part(8..10))
}

/// Today in UTC, as days since 1970-01-01, from the system clock.
fn today_utc() -> i64 {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_secs();
    (seconds / 86_400) as i64
}

fn rng_state(rng: &mut Rng) -> &'static str {
    STATES[rng.below(STATES.len())]
}

/// Rows that fail validation: they must not reach the index nor name an
/// insurer in the facets (their spellings differ from the valid rows').
fn invalid_row(rng: &mut Rng, index: usize, today: i64) -> Row {
    let mut row = random_row(rng, index, None, today);
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

/// A SPRAVATO row that says it is not REMS-certified: invalid (an error in
/// `rems_certified`), so it must not reach the index. Otherwise it is bait
/// for every search: a telehealth clinic in a cluster, licensed in every
/// state the searchers are in.
fn rems_invalid_row(rng: &mut Rng, index: usize, today: i64) -> Row {
    let mut row = random_row(rng, index, None, today);
    row.id = format!("bad-rems-{index}");
    row.insurance = "Invalid Only Plan".into();
    row.treatments = "oral_sublingual;Esketamine Nasal;ketamine_assisted_psychotherapy".into();
    row.rems_certified = rng.pick(&["false", "No", "0", "FALSE"]).to_string();
    row.telehealth = "yes".into();
    row.licensed_states = NEIGHBOUR_STATES.join(";");
    row.provider_type = "clinic;physician".into();
    row
}

fn random_rows(rng: &mut Rng, today: i64) -> Vec<Row> {
    let mut rows = vec![invalid_row(rng, 0, today)];
    let mut previous: Option<Row> = None;
    for index in 0..PROVIDER_ROWS {
        if index % 200 == 17 {
            rows.push(invalid_row(rng, index + 1, today));
        }
        if index % 150 == 77 {
            rows.push(rems_invalid_row(rng, index, today));
        }
        // Copies of the previous valid row's point make distance ties.
        let row = random_row(rng, index, previous.as_ref(), today);
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
/// a 5-digit number. The random texts leave such words out, so that only
/// the places a query types on purpose (from `KNOWN_PLACES`) move to
/// `near`.
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
    /// `last_verified` as days since 1970.
    verified_day: Option<i64>,
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
                verified_day: provider.last_verified.as_deref().map(day_of),
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

    /// Every match of `query`, in its order, and the facets. `today` is
    /// the day `verified_within_days` counts back from; `stats` counts the
    /// awkward telehealth cases the query met.
    fn evaluate(&self, query: &Query, today: i64, stats: &mut ReachStats) -> Expected {
        let text_sets = query.text.as_deref().and_then(|t| self.text_sets(t));
        let searcher_state = query.searcher_state;
        let wanted_by_telehealth: Vec<Treatment> = query
            .treatments
            .iter()
            .copied()
            .filter(|t| BY_TELEHEALTH.contains(t))
            .collect();
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
            let any_of = |wanted: &[String], has: &[String]| {
                wanted.is_empty() || has.iter().any(|h| wanted.contains(h))
            };
            // The filters that apply alike to both parts of the union.
            let keep = (query.conditions.is_empty()
                || p.conditions.iter().any(|c| query.conditions.contains(c)))
                && (query.provider_types.is_empty()
                    || p.provider_type
                        .iter()
                        .any(|t| query.provider_types.contains(t)))
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
                    .is_none_or(|max| p.price_min.is_some_and(|price| price <= max))
                && query.verified_within.is_none_or(|days| {
                    rp.verified_day
                        .is_some_and(|day| day >= today - i64::from(days))
                });
            if !keep {
                continue;
            }
            let distance = query
                .center
                .map(|center| haversine(center, (p.latitude, p.longitude)));
            // (a): the usual matches, in the area.
            let in_area = match (distance, query.whole_state) {
                (Some(d), _) => d <= query.radius,
                (None, Some(state)) => p.state == state,
                (None, None) => true,
            };
            let offers_any = |wanted: &[Treatment]| p.treatments.iter().any(|t| wanted.contains(t));
            let treatment_in_person = query.treatments.is_empty() || offers_any(&query.treatments);
            let in_person = in_area && treatment_in_person;
            // (b): telehealth providers licensed in the searcher's state,
            // wherever they are; a treatment filter matches only what
            // telehealth can give.
            let licensed_in = |state: &str| {
                if p.licensed_states.is_empty() {
                    p.state == state
                } else {
                    p.licensed_states.iter().any(|s| s == state)
                }
            };
            let reachable = searcher_state.is_some_and(|s| p.telehealth && licensed_in(s));
            let treatment_by_telehealth =
                query.treatments.is_empty() || offers_any(&wanted_by_telehealth);
            let by_telehealth = reachable && treatment_by_telehealth;
            if let Some(s) = searcher_state {
                stats.observe(
                    p,
                    s,
                    in_person,
                    reachable,
                    by_telehealth,
                    treatment_in_person,
                );
            }
            let reach = match (in_person, by_telehealth) {
                (true, _) => Reach::InPerson,
                (false, true) => Reach::Telehealth,
                (false, false) => continue,
            };
            matches.push(Match {
                index,
                distance,
                reach: query.include_telehealth.then_some(reach),
            });
        }
        matches.sort_by(|a, b| self.order(query, a, b));

        // One pass over the matches for every count but the insurers'.
        let mut treatment_counts = vec![0u64; Treatment::ALL.len()];
        let mut condition_counts = vec![0u64; Condition::ALL.len()];
        let mut type_counts = vec![0u64; ProviderType::ALL.len()];
        let (mut telehealth, mut accepting) = (0, 0);
        let (mut in_person, mut telehealth_only) = (0, 0);
        for m in &matches {
            let p = &self.providers[m.index].provider;
            for (count, t) in treatment_counts.iter_mut().zip(Treatment::ALL) {
                // A provider reached by telehealth only counts for the
                // treatments telehealth can give.
                *count += u64::from(
                    p.treatments.contains(t)
                        && (m.reach != Some(Reach::Telehealth) || BY_TELEHEALTH.contains(t)),
                );
            }
            for (count, c) in condition_counts.iter_mut().zip(Condition::ALL) {
                *count += u64::from(p.conditions.contains(c));
            }
            for (count, t) in type_counts.iter_mut().zip(ProviderType::ALL) {
                *count += u64::from(p.provider_type.contains(t));
            }
            telehealth += u64::from(p.telehealth);
            accepting += u64::from(p.accepting_new_patients);
            in_person += u64::from(m.reach == Some(Reach::InPerson));
            telehealth_only += u64::from(m.reach == Some(Reach::Telehealth));
        }
        let slugs = |slugs: &'static [&'static str], counts: Vec<u64>| {
            slugs.iter().copied().zip(counts).collect::<Vec<_>>()
        };
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
            treatments: slugs(Treatment::SLUGS, treatment_counts),
            conditions: slugs(Condition::SLUGS, condition_counts),
            provider_types: slugs(ProviderType::SLUGS, type_counts),
            insurance,
            telehealth,
            accepting,
            reach: query
                .include_telehealth
                .then_some((in_person, telehealth_only)),
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
    /// `None` on a search without `include_telehealth`.
    reach: Option<Reach>,
}

struct Expected {
    total: u64,
    /// Every match, in the query's order.
    matches: Vec<Match>,
    treatments: Vec<(&'static str, u64)>,
    conditions: Vec<(&'static str, u64)>,
    provider_types: Vec<(&'static str, u64)>,
    insurance: Vec<(String, u64)>,
    telehealth: u64,
    accepting: u64,
    /// (in person, telehealth only); `None` without `include_telehealth`.
    reach: Option<(u64, u64)>,
}

/// The treatments telehealth can give (docs/search.md, "Telehealth
/// reach"); written out again rather than taken from the library.
const BY_TELEHEALTH: [Treatment; 2] = [
    Treatment::OralSublingual,
    Treatment::KetamineAssistedPsychotherapy,
];

/// How often the telehealth searches met each awkward case, counted over
/// every provider that passes the filters shared by both parts of the
/// union; the test fails if one never happened.
#[derive(Debug, Default)]
struct ReachStats {
    /// In person, in another state than the searcher's.
    in_person_across_a_state_line: u64,
    /// In the area and also reachable by telehealth: reach is in_person.
    in_person_and_reachable: u64,
    /// Telehealth only, licensed through a blank `licensed_states`.
    telehealth_blank_licence: u64,
    /// Telehealth only, licensed through a list.
    telehealth_listed_licence: u64,
    /// Telehealth only, through a list of 20 states or more.
    telehealth_many_states: u64,
    /// Telehealth only and offering a clinic-visit treatment, which the
    /// treatment facet must not count.
    telehealth_with_clinic_treatment: u64,
    /// Outside the area, licensed in the searcher's state but without
    /// telehealth: not a match.
    licensed_without_telehealth: u64,
    /// Outside the area, telehealth, in the searcher's state, but with a
    /// list of licences that leaves it out: not a match.
    own_state_not_licensed: u64,
    /// Outside the area, reachable, offering a requested treatment that
    /// needs a clinic visit and none that telehealth can give: not a match.
    clinic_treatment_refused: u64,
}

impl ReachStats {
    fn observe(
        &mut self,
        p: &Provider,
        searcher_state: &str,
        in_person: bool,
        reachable: bool,
        by_telehealth: bool,
        treatment_in_person: bool,
    ) {
        let listed = |state: &str| p.licensed_states.iter().any(|s| s == state);
        if in_person {
            self.in_person_across_a_state_line += u64::from(p.state != searcher_state);
            self.in_person_and_reachable += u64::from(by_telehealth);
        } else if by_telehealth {
            self.telehealth_blank_licence += u64::from(p.licensed_states.is_empty());
            self.telehealth_listed_licence += u64::from(!p.licensed_states.is_empty());
            self.telehealth_many_states += u64::from(p.licensed_states.len() >= 20);
            self.telehealth_with_clinic_treatment +=
                u64::from(p.treatments.iter().any(|t| !BY_TELEHEALTH.contains(t)));
        } else {
            let licensed = if p.licensed_states.is_empty() {
                p.state == searcher_state
            } else {
                listed(searcher_state)
            };
            self.licensed_without_telehealth += u64::from(!p.telehealth && licensed);
            self.own_state_not_licensed += u64::from(
                p.telehealth
                    && p.state == searcher_state
                    && !p.licensed_states.is_empty()
                    && !listed(searcher_state),
            );
            self.clinic_treatment_refused += u64::from(reachable && treatment_in_person);
        }
    }

    fn missing(&self) -> Vec<&'static str> {
        [
            (
                "in_person_across_a_state_line",
                self.in_person_across_a_state_line,
            ),
            ("in_person_and_reachable", self.in_person_and_reachable),
            ("telehealth_blank_licence", self.telehealth_blank_licence),
            ("telehealth_listed_licence", self.telehealth_listed_licence),
            ("telehealth_many_states", self.telehealth_many_states),
            (
                "telehealth_with_clinic_treatment",
                self.telehealth_with_clinic_treatment,
            ),
            (
                "licensed_without_telehealth",
                self.licensed_without_telehealth,
            ),
            ("own_state_not_licensed", self.own_state_not_licensed),
            ("clinic_treatment_refused", self.clinic_treatment_refused),
        ]
        .into_iter()
        .filter(|(_, n)| *n == 0)
        .map(|(name, _)| name)
        .collect()
    }
}

// ---------------------------------------------------------------------------
// Random queries: the query-string pairs and, generated alongside, what they
// mean (so the reference never reads the library's parsed request).

#[derive(Debug, Clone)]
struct Query {
    pairs: Vec<(String, String)>,
    /// The words of `q` (without a place typed among them).
    text: Option<String>,
    /// (lat, lon): the search's point, when it has one.
    center: Option<(f64, f64)>,
    radius: f64,
    /// The state a whole-state `near` names.
    whole_state: Option<&'static str>,
    /// How the place was named; `None` without a named place.
    near_kind: Option<NearKind>,
    include_telehealth: bool,
    /// S, the searcher's state, with `include_telehealth`.
    searcher_state: Option<&'static str>,
    treatments: Vec<Treatment>,
    conditions: Vec<Condition>,
    provider_types: Vec<ProviderType>,
    insurance: Vec<String>,
    languages: Vec<String>,
    state: Option<String>,
    telehealth: bool,
    accepting: bool,
    min_rating: Option<f64>,
    max_price: Option<u32>,
    verified_within: Option<u32>,
    /// `facets=false` makes `facets` null, and changes nothing else.
    facets: bool,
    sort: SortOrder,
    page: u32,
    per_page: u32,
    /// Combinations the contract refuses: the parameters a 400 may name
    /// (empty for a valid query).
    refused: Vec<&'static str>,
}

impl Query {
    fn new() -> Query {
        Query {
            pairs: Vec::new(),
            text: None,
            center: None,
            radius: DEFAULT_RADIUS,
            whole_state: None,
            near_kind: None,
            include_telehealth: false,
            searcher_state: None,
            treatments: Vec::new(),
            conditions: Vec::new(),
            provider_types: Vec::new(),
            insurance: Vec::new(),
            languages: Vec::new(),
            state: None,
            telehealth: false,
            accepting: false,
            min_rating: None,
            max_price: None,
            verified_within: None,
            facets: true,
            sort: SortOrder::Rating,
            page: 1,
            per_page: DEFAULT_PER_PAGE,
            refused: Vec::new(),
        }
    }

    /// Records a refused combination.
    fn refuse(&mut self, name: &'static str) {
        self.refused.push(name);
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

/// How a query names its place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum NearKind {
    /// `near` as a ZIP code.
    Zip,
    /// `near` as "City, ST" (or "City State").
    City,
    /// `near` as a town alone: the most populous town of the name.
    Town,
    /// `near` as a state alone: a whole-state search.
    State,
    /// A ZIP or "City, ST" typed in `q`, without `near`: it moves to `near`.
    Words,
}

const NEAR_KINDS: [NearKind; 5] = [
    NearKind::Zip,
    NearKind::City,
    NearKind::Town,
    NearKind::State,
    NearKind::Words,
];

/// The places queries name, with the state each lies in, written here:
/// the searcher's state S of `include_telehealth`. Their points come from
/// the gazetteer (`known_places`), which also confirms the states.
const KNOWN_PLACES: [(&str, NearKind, &str); 33] = [
    ("80202", NearKind::Zip, "CO"),
    ("82001", NearKind::Zip, "WY"),
    ("66101", NearKind::Zip, "KS"),
    ("64105", NearKind::Zip, "MO"),
    ("96813", NearKind::Zip, "HI"),
    ("99546", NearKind::Zip, "AK"),
    ("99723", NearKind::Zip, "AK"),
    ("Denver, CO", NearKind::City, "CO"),
    ("denver co", NearKind::City, "CO"),
    ("Fort Collins, CO", NearKind::City, "CO"),
    ("Boulder, Colorado", NearKind::City, "CO"),
    ("Cheyenne, WY", NearKind::City, "WY"),
    ("Kansas City, KS", NearKind::City, "KS"),
    ("Kansas City, MO", NearKind::City, "MO"),
    ("Honolulu, HI", NearKind::City, "HI"),
    ("Adak, AK", NearKind::City, "AK"),
    ("Utqiagvik, AK", NearKind::City, "AK"),
    ("Springfield", NearKind::Town, "MO"),
    ("Kansas City", NearKind::Town, "MO"),
    ("Aurora", NearKind::Town, "CO"),
    ("Salem", NearKind::Town, "OR"),
    ("Madison", NearKind::Town, "WI"),
    ("Anchorage", NearKind::Town, "AK"),
    ("Portland", NearKind::Town, "OR"),
    ("CO", NearKind::State, "CO"),
    ("colorado", NearKind::State, "CO"),
    ("WY", NearKind::State, "WY"),
    ("Kansas", NearKind::State, "KS"),
    ("mo", NearKind::State, "MO"),
    ("AK", NearKind::State, "AK"),
    ("Hawaii", NearKind::State, "HI"),
    ("GU", NearKind::State, "GU"),
    ("OR", NearKind::State, "OR"),
];

struct KnownPlace {
    text: &'static str,
    kind: NearKind,
    state: &'static str,
    /// (lat, lon); `None` for a state alone.
    point: Option<(f64, f64)>,
}

/// [`KNOWN_PLACES`] with their points, resolved once through the
/// gazetteer (place reading is tested elsewhere; here it must only agree
/// with the table on the state and on being a point or a whole state).
fn known_places() -> Vec<KnownPlace> {
    KNOWN_PLACES
        .iter()
        .map(|&(text, kind, state)| {
            let place = resolve_near(text)
                .unwrap_or_else(|error| panic!("the gazetteer should know {text:?}: {error}"));
            assert_eq!(place.in_state, Some(state), "the state of {text:?}");
            let point = place.position.map(|p| (p.lat, p.lon));
            assert_eq!(
                point.is_none(),
                kind == NearKind::State,
                "{text:?} is a whole state exactly when the table says so: {}",
                place.label
            );
            KnownPlace {
                text,
                kind,
                state,
                point,
            }
        })
        .collect()
}

/// What queries are made from.
struct QueryContext<'a> {
    providers: &'a [Provider],
    places: &'a [KnownPlace],
}

/// A `radius` for a query with a point (or none: the default).
fn random_radius(rng: &mut Rng, query: &mut Query, providers: &[Provider]) {
    let center = query.center.expect("a radius goes with a point");
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
}

/// A point anywhere interesting: at or near a provider, a cluster centre,
/// on the antimeridian, near a pole, or anywhere.
fn random_point(rng: &mut Rng, providers: &[Provider]) -> (f64, f64) {
    match rng.below(10) {
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
    }
}

const FLAG_ON: [&str; 5] = ["true", "1", "yes", "on", "TRUE"];
const FLAG_OFF: [&str; 4] = ["false", "0", "no", "off"];

const SORT_ORDERS: [SortOrder; 5] = [
    SortOrder::Rating,
    SortOrder::Distance,
    SortOrder::Relevance,
    SortOrder::Reviews,
    SortOrder::Price,
];

/// Treatment filters, by what telehealth reach makes of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum TreatmentFilter {
    None,
    /// Only treatments telehealth can give.
    TelehealthAble,
    /// Only treatments that need a clinic visit: nothing through (b).
    ClinicOnly,
    Mixed,
}

const TREATMENT_FILTERS: [TreatmentFilter; 4] = [
    TreatmentFilter::None,
    TreatmentFilter::TelehealthAble,
    TreatmentFilter::ClinicOnly,
    TreatmentFilter::Mixed,
];

const CLINIC_VISIT: [Treatment; 3] = [
    Treatment::IvInfusion,
    Treatment::ImInjection,
    Treatment::EsketamineNasal,
];

fn treatment_filter_kind(treatments: &[Treatment]) -> TreatmentFilter {
    let by_telehealth = treatments
        .iter()
        .filter(|t| BY_TELEHEALTH.contains(t))
        .count();
    match (by_telehealth, treatments.len() - by_telehealth) {
        (0, 0) => TreatmentFilter::None,
        (_, 0) => TreatmentFilter::TelehealthAble,
        (0, _) => TreatmentFilter::ClinicOnly,
        _ => TreatmentFilter::Mixed,
    }
}

/// A random query. `telehealth: Some(i)` makes the i-th telehealth
/// search: always `include_telehealth` with a named place, and the way
/// the place is named, the sort order and the kind of treatment filter
/// taken in turn from `i`, so that every combination is searched.
fn random_query(rng: &mut Rng, context: &QueryContext, telehealth: Option<usize>) -> Query {
    let providers = context.providers;
    let mut query = Query::new();
    let focus = telehealth.is_some();

    let focus_sort = telehealth.map(|i| SORT_ORDERS[i / NEAR_KINDS.len() % SORT_ORDERS.len()]);
    let text_chance = if focus { 0.3 } else { 0.45 };
    if focus_sort == Some(SortOrder::Relevance) || rng.chance(text_chance) {
        query.text = Some(random_text(rng, providers));
    }

    // Where: a named place (ZIP, "City, ST", a town, a state, or one typed
    // in q), a bare point (lat/lon or a "lat,lon" near), or nowhere.
    let mut bare_point = false;
    let kind = if let Some(i) = telehealth {
        Some(NEAR_KINDS[i % NEAR_KINDS.len()])
    } else if rng.chance(0.55) {
        match rng.below(20) {
            0..=9 => {
                let center = random_point(rng, providers);
                if rng.below(20) < 18 {
                    query.center = Some(center);
                    query.push("lat", format!("{}", center.0));
                    query.push("lon", format!("{}", center.1));
                } else {
                    let near = format!("{:.4},{}{:.4}", center.0, rng.pick(&["", " "]), center.1);
                    let (lat, lon) = near.split_once(',').expect("written with a comma");
                    query.center = Some((
                        lat.parse().expect("a formatted float parses"),
                        lon.trim().parse().expect("a formatted float parses"),
                    ));
                    query.push("near", near);
                }
                random_radius(rng, &mut query, providers);
                bare_point = true;
                None
            }
            10..=12 => Some(NearKind::Zip),
            13 | 14 => Some(NearKind::City),
            15 | 16 => Some(NearKind::Town),
            _ => Some(NearKind::State),
        }
    } else if query.text.is_some() && rng.chance(0.15) {
        Some(NearKind::Words)
    } else {
        if rng.chance(0.1) {
            // A radius without a location is ignored (docs/search.md).
            query.push("radius", "7");
        }
        None
    };
    let mut place: Option<&KnownPlace> = None;
    if let Some(kind) = kind {
        let candidates: Vec<&KnownPlace> = context
            .places
            .iter()
            .filter(|p| match kind {
                NearKind::Words => matches!(p.kind, NearKind::Zip | NearKind::City),
                _ => p.kind == kind,
            })
            .collect();
        let chosen = *rng.pick(&candidates);
        query.near_kind = Some(kind);
        match chosen.point {
            Some(point) => {
                query.center = Some(point);
                random_radius(rng, &mut query, providers);
            }
            None => {
                query.whole_state = Some(chosen.state);
                if rng.chance(0.3) {
                    // No effect on a whole state, but still read.
                    query.push("radius", "40");
                }
            }
        }
        if kind == NearKind::Words {
            let words = query
                .text
                .get_or_insert_with(|| random_text(rng, providers))
                .clone();
            let q = match (chosen.kind, rng.below(2)) {
                (NearKind::Zip, 0) => format!("{} {words}", chosen.text),
                (NearKind::Zip, _) => format!("{words} {}", chosen.text),
                (_, 0) => format!("{words} in {}", chosen.text),
                _ => format!("{words} {}", chosen.text),
            };
            query.push("q", q);
        } else {
            let near = match kind {
                NearKind::Zip => chosen.text.to_string(),
                _ => case_variant(rng, chosen.text),
            };
            query.push("near", near);
        }
        place = Some(chosen);
    }
    if kind != Some(NearKind::Words)
        && let Some(text) = &query.text
    {
        query.push("q", text.clone());
    }

    // Telehealth reach needs the state of a named place: with a bare point
    // or no place at all it is refused.
    if let Some(chosen) = place {
        if focus || rng.chance(0.4) {
            query.include_telehealth = true;
            query.searcher_state = Some(chosen.state);
            query.push("include_telehealth", *rng.pick(&FLAG_ON));
        } else if rng.chance(0.15) {
            query.push("include_telehealth", *rng.pick(&FLAG_OFF));
        }
    } else if rng.chance(if bare_point { 0.06 } else { 0.04 }) {
        query.include_telehealth = true;
        query.push("include_telehealth", *rng.pick(&FLAG_ON));
        query.refuse("include_telehealth");
    } else if rng.chance(0.05) {
        query.push("include_telehealth", *rng.pick(&FLAG_OFF));
    }

    let filter = match telehealth {
        Some(i) => {
            let block = i / (NEAR_KINDS.len() * SORT_ORDERS.len());
            TREATMENT_FILTERS[block % TREATMENT_FILTERS.len()]
        }
        None if rng.chance(0.25) => TREATMENT_FILTERS[1 + rng.below(3)],
        None => TreatmentFilter::None,
    };
    let at_least_one = |rng: &mut Rng, from: &[Treatment], max: usize| {
        let mut chosen = rng.some(from, max);
        if chosen.is_empty() {
            chosen.push(*rng.pick(from));
        }
        chosen
    };
    query.treatments = match filter {
        TreatmentFilter::None => Vec::new(),
        TreatmentFilter::TelehealthAble => at_least_one(rng, &BY_TELEHEALTH, 2),
        TreatmentFilter::ClinicOnly => at_least_one(rng, &CLINIC_VISIT, 2),
        TreatmentFilter::Mixed => {
            let mut chosen = vec![*rng.pick(&BY_TELEHEALTH), *rng.pick(&CLINIC_VISIT)];
            if rng.chance(0.5) {
                chosen.swap(0, 1);
            }
            chosen
        }
    };
    for t in query.treatments.clone() {
        let value = if rng.chance(0.3) {
            rng.pick(t.synonyms()).to_string()
        } else {
            slug_variant(rng, t.slug())
        };
        query.push("treatment", value);
    }
    if rng.chance(0.15) {
        query.provider_types = rng.some(ProviderType::ALL, 2);
        if query.provider_types.is_empty() {
            query.provider_types.push(*rng.pick(ProviderType::ALL));
        }
        for t in query.provider_types.clone() {
            // A slug in any spelling, or a synonym ("crna", "lcsw").
            let value = if rng.chance(0.3) {
                let synonym = *rng.pick(t.synonyms());
                case_variant(rng, synonym)
            } else {
                slug_variant(rng, t.slug())
            };
            query.push("provider_type", value);
        }
    } else if rng.chance(0.01) {
        query.push("provider_type", "surgeon");
        query.refuse("provider_type");
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
    if let Some(whole) = query.whole_state {
        if rng.chance(0.2) {
            // The state near names is allowed again; another is a 400
            // naming near.
            let state = if rng.chance(0.75) {
                whole
            } else {
                *rng.pick(&NEIGHBOUR_STATES)
            };
            if state != whole {
                query.refuse("near");
            }
            query.push("state", case_variant(rng, state));
            query.state = Some(state.to_string());
        }
    } else if rng.chance(if query.include_telehealth { 0.25 } else { 0.12 }) {
        // With telehealth reach, often the searcher's own state or a
        // neighbour: `state=` filters both parts of the union.
        let state = match query.searcher_state {
            Some(s) if rng.chance(0.5) => s,
            Some(_) => *rng.pick(&NEIGHBOUR_STATES),
            None => *rng.pick(&STATES),
        };
        query.push("state", case_variant(rng, state));
        query.state = Some(state.to_string());
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
    if rng.chance(0.12) {
        let days = if rng.chance(0.8) {
            *rng.pick(&VERIFIED_DAYS)
        } else {
            1 + rng.below(2000) as u32
        };
        query.verified_within = Some(days);
        query.push("verified_within_days", days.to_string());
    }
    if rng.chance(0.08) {
        query.facets = rng.chance(0.3);
        let value = if query.facets {
            rng.pick(&FLAG_ON)
        } else {
            rng.pick(&FLAG_OFF)
        };
        query.push("facets", *value);
    }

    query.sort = match focus_sort {
        Some(sort) => sort,
        None if query.whole_state.is_some() && rng.chance(0.05) => SortOrder::Distance,
        None => {
            let mut sorts = vec![SortOrder::Rating, SortOrder::Reviews, SortOrder::Price];
            if query.center.is_some() {
                sorts.push(SortOrder::Distance);
                sorts.push(SortOrder::Distance);
            }
            if query.text.is_some() {
                sorts.push(SortOrder::Relevance);
            }
            *rng.pick(&sorts)
        }
    };
    // Only a whole state lacks a point here: distance from it is a 400.
    if query.sort == SortOrder::Distance && query.center.is_none() {
        if focus && rng.chance(0.7) {
            query.sort = *rng.pick(&[SortOrder::Rating, SortOrder::Reviews, SortOrder::Price]);
        } else {
            query.refuse("sort");
        }
    }
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

    if rng.chance(if focus { 0.7 } else { 0.4 }) {
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
        "{} (adjusted {}, reviews {}, distance {:?}, price_min {:?}, name {:?}, reach {:?})",
        p.id, rp.adjusted, p.review_count, m.distance, p.price_min, p.name, m.reach
    )
}

fn describe_hit(hit: &Hit) -> String {
    let p = &hit.provider;
    format!(
        "{} (adjusted {}, reviews {}, distance {:?}, price_min {:?}, name {:?}, reach {:?})",
        p.id,
        hit.adjusted_rating,
        p.review_count,
        hit.distance_miles,
        p.price_min,
        p.name,
        hit.reach
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
    match (&response.location, query.center, query.whole_state) {
        (None, None, None) => {}
        (Some(location), Some((lat, lon)), _)
            if location.lat == Some(lat)
                && location.lon == Some(lon)
                && location.radius_miles == Some(query.radius) => {}
        (Some(location), None, Some(_))
            if (location.lat, location.lon, location.radius_miles) == (None, None, None) => {}
        (got, wanted, whole_state) => problems.push(format!(
            "location: expected {wanted:?} radius {} (whole state {whole_state:?}), got {got:?}",
            query.radius
        )),
    }

    match (&response.facets, query.facets) {
        (Some(facets), true) => problems.extend(compare_facets(expected, facets)),
        (None, false) => {}
        (None, true) => problems.push("facets: null, though the request asked for them".into()),
        (Some(_), false) => {
            problems.push("facets: counted, though the request said facets=false".into())
        }
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

/// The facets of an answer against the reference's counts.
fn compare_facets(expected: &Expected, facets: &Facets) -> Vec<String> {
    let mut problems = Vec::new();
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
    let got_provider_types: Vec<(&str, u64)> =
        facets.provider_type.iter().map(|(k, v)| (*k, *v)).collect();
    problems.extend(first_difference(
        "facets.provider_type",
        &expected.provider_types,
        &got_provider_types,
    ));
    let got_reach = facets.reach.map(|r| (r.in_person, r.telehealth));
    if got_reach != expected.reach {
        problems.push(format!(
            "facets.reach (in_person, telehealth): expected {:?}, got {got_reach:?}",
            expected.reach
        ));
    }
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
    if hit.reach != m.reach {
        problems.push(format!(
            "results[{position}] {id}: reach expected {:?}, got {:?}",
            m.reach, hit.reach
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

/// What running one query gave.
enum Outcome {
    Answered(Box<SearchResponse>),
    /// A 400: the names of the parameters it blames.
    Refused(Vec<String>),
    /// Any other error, described.
    Failed(String),
}

fn run_query(generation: &Arc<Generation>, query: &Query) -> Outcome {
    let pairs: Vec<(&str, &str)> = query
        .pairs
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let request = match SearchRequest::from_pairs(pairs.iter().copied()) {
        Ok(request) => request,
        Err(errors) => return Outcome::Refused(errors.into_iter().map(|e| e.name).collect()),
    };
    match search(generation, &request) {
        Ok(response) => Outcome::Answered(Box::new(response)),
        Err(SearchError::InvalidParams(errors)) => {
            Outcome::Refused(errors.into_iter().map(|e| e.name).collect())
        }
        Err(error) => Outcome::Failed(error.to_string()),
    }
}

/// Requests the contract refuses whatever the data, with the parameter
/// the 400 must name (the random queries refuse some more).
const REFUSED: [(&[(&str, &str)], &str); 11] = [
    // Telehealth reach needs the searcher's state: a point has none...
    (
        &[
            ("include_telehealth", "true"),
            ("lat", "39.74"),
            ("lon", "-104.99"),
        ],
        "include_telehealth",
    ),
    (
        &[("include_telehealth", "yes"), ("near", "39.74,-104.99")],
        "include_telehealth",
    ),
    // ...nor does a search without a place, even with state= (a filter)
    // or with words that name no place (a town alone stays in q).
    (&[("include_telehealth", "1")], "include_telehealth"),
    (
        &[("include_telehealth", "true"), ("state", "CO")],
        "include_telehealth",
    ),
    (
        &[("include_telehealth", "true"), ("q", "infusion")],
        "include_telehealth",
    ),
    (
        &[
            ("include_telehealth", "on"),
            ("q", "infusion in Denver"),
            ("state", "CO"),
        ],
        "include_telehealth",
    ),
    (
        &[("include_telehealth", "maybe"), ("near", "80202")],
        "include_telehealth",
    ),
    // A whole state has no point to measure distances from.
    (
        &[
            ("include_telehealth", "true"),
            ("near", "Colorado"),
            ("sort", "distance"),
        ],
        "sort",
    ),
    // A whole-state near and another state=.
    (
        &[
            ("include_telehealth", "true"),
            ("near", "CO"),
            ("state", "WY"),
        ],
        "near",
    ),
    (&[("provider_type", "surgeon")], "provider_type"),
    (
        &[
            ("provider_type", "clinic"),
            ("provider_type", "physician,clinic"),
        ],
        "provider_type",
    ),
];

/// What the telehealth searches covered, so that a data set or generator
/// change cannot quietly stop testing a case.
#[derive(Default)]
struct Coverage {
    /// Accepted telehealth searches per (how the place was named, sort).
    by_kind_and_sort: HashMap<(NearKind, &'static str), usize>,
    by_treatment_filter: HashMap<TreatmentFilter, usize>,
    with_state_filter: usize,
    with_provider_type: usize,
    with_verified: usize,
    /// Hits on returned pages by reach.
    hits_in_person: usize,
    hits_telehealth: usize,
    /// Searches whose returned page mixes both reaches.
    mixed_pages: usize,
    /// Refused combinations, by the parameter named.
    refused: HashMap<&'static str, usize>,
    /// Accepted searches without include_telehealth that named a place.
    named_places_without_reach: usize,
}

#[test]
fn random_queries_match_the_brute_force_reference() {
    // SEARCH_REFERENCE_SEED explores other data sets and queries; the
    // default seed is what CI runs.
    let seed = std::env::var("SEARCH_REFERENCE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(SEED);
    let mut rng = Rng(seed);
    let rows = random_rows(&mut rng, today_utc());
    let fixture = import(&rows);
    let reference = Reference::new(&fixture.providers);
    let places = known_places();
    let mut failures: Vec<String> = Vec::new();

    // Every row meant to be valid is, and no invalid one (REMS false on a
    // SPRAVATO row among them) was read or indexed.
    let read: HashSet<&str> = fixture.providers.iter().map(|p| p.id.as_str()).collect();
    let meant: HashSet<&str> = rows
        .iter()
        .map(|r| r.id.as_str())
        .filter(|id| !id.starts_with("bad-"))
        .collect();
    let misread: Vec<&&str> = read.symmetric_difference(&meant).collect();
    assert!(
        misread.is_empty(),
        "rows read as valid though meant invalid, or the reverse: {misread:?}"
    );
    let spravato = |certified: Option<bool>| {
        fixture
            .providers
            .iter()
            .filter(|p| {
                p.treatments.contains(&Treatment::EsketamineNasal) && p.rems_certified == certified
            })
            .count()
    };
    let rems_rejected = rows
        .iter()
        .filter(|r| r.id.starts_with("bad-rems-"))
        .count();
    assert_eq!(
        spravato(Some(false)),
        0,
        "a SPRAVATO row with REMS false is invalid"
    );
    assert!(
        spravato(Some(true)) > 10 && spravato(None) > 10 && rems_rejected > 10,
        "the data should hold SPRAVATO rows certified ({}), not saying ({}) and refused ({rems_rejected})",
        spravato(Some(true)),
        spravato(None)
    );

    // m feeds every adjusted rating: when it is off, say so first.
    if fixture.generation.meta.mean_rating.to_bits() != reference.mean.to_bits() {
        failures.push(format!(
            "m, the mean raw rating: expected {}, got {}",
            reference.mean, fixture.generation.meta.mean_rating
        ));
    }
    let context = QueryContext {
        providers: &fixture.providers,
        places: &places,
    };
    let mut stats = ReachStats::default();
    let mut coverage = Coverage::default();
    let mut answered = 0;
    let mut nonempty_pages = 0;
    let mut nonempty_totals = 0;
    let mut by_sort: HashMap<&str, usize> = HashMap::new();
    // Answered queries with provider_type, verified_within_days, facets=false.
    let (mut with_types, mut with_verified, mut without_facets) = (0, 0, 0);
    for number in 0..QUERIES + TELEHEALTH_QUERIES {
        let query = random_query(&mut rng, &context, number.checked_sub(QUERIES));
        // `verified_within_days` counts from today: run again if the day
        // changed meanwhile.
        let (today, outcome) = loop {
            let today = today_utc();
            let outcome = run_query(&fixture.generation, &query);
            if today_utc() == today {
                break (today, outcome);
            }
        };
        let response = match (outcome, query.refused.is_empty()) {
            (Outcome::Answered(response), true) => *response,
            (Outcome::Refused(names), false)
                if names.iter().any(|n| query.refused.contains(&n.as_str())) =>
            {
                *coverage.refused.entry(query.refused[0]).or_default() += 1;
                continue;
            }
            (outcome, _) => {
                let got = match outcome {
                    Outcome::Answered(response) => {
                        format!("an answer with total {}", response.total)
                    }
                    Outcome::Refused(names) => format!("a 400 naming {names:?}"),
                    Outcome::Failed(error) => format!("an error: {error}"),
                };
                let wanted = if query.refused.is_empty() {
                    "an answer".to_string()
                } else {
                    format!("a 400 naming one of {:?}", query.refused)
                };
                failures.push(format!(
                    "query #{number} `{}`: expected {wanted}, got {got}",
                    query.query_string()
                ));
                continue;
            }
        };
        let expected = reference.evaluate(&query, today, &mut stats);
        answered += 1;
        *by_sort.entry(query.sort.as_str()).or_default() += 1;
        with_types += usize::from(!query.provider_types.is_empty());
        with_verified += usize::from(query.verified_within.is_some());
        without_facets += usize::from(!query.facets);
        nonempty_totals += usize::from(expected.total > 0);
        nonempty_pages += usize::from(!response.results.is_empty());
        if query.include_telehealth {
            let kind = query.near_kind.expect("telehealth reach names a place");
            *coverage
                .by_kind_and_sort
                .entry((kind, query.sort.as_str()))
                .or_default() += 1;
            *coverage
                .by_treatment_filter
                .entry(treatment_filter_kind(&query.treatments))
                .or_default() += 1;
            coverage.with_state_filter += usize::from(query.state.is_some());
            coverage.with_provider_type += usize::from(!query.provider_types.is_empty());
            coverage.with_verified += usize::from(query.verified_within.is_some());
            let reached = |reach: Reach| {
                response
                    .results
                    .iter()
                    .filter(|hit| hit.reach == Some(reach))
                    .count()
            };
            let (in_person, telehealth) = (reached(Reach::InPerson), reached(Reach::Telehealth));
            coverage.hits_in_person += in_person;
            coverage.hits_telehealth += telehealth;
            coverage.mixed_pages += usize::from(in_person > 0 && telehealth > 0);
        } else {
            coverage.named_places_without_reach += usize::from(query.near_kind.is_some());
        }
        let problems = compare(&reference, &query, &expected, &response);
        if !problems.is_empty() {
            failures.push(format!(
                "query #{number} `{}`:\n    {}",
                query.query_string(),
                problems.join("\n    ")
            ));
        }
    }

    for (pairs, name) in REFUSED {
        let request = SearchRequest::from_pairs(pairs.iter().copied());
        let names: Vec<String> = match request.map(|r| search(&fixture.generation, &r)) {
            Err(errors) => errors.into_iter().map(|e| e.name).collect(),
            Ok(Err(SearchError::InvalidParams(errors))) => {
                errors.into_iter().map(|e| e.name).collect()
            }
            Ok(Err(error)) => vec![format!("(not a 400: {error})")],
            Ok(Ok(response)) => vec![format!("(an answer with total {})", response.total)],
        };
        if !names.iter().any(|n| n == name) {
            failures.push(format!(
                "{pairs:?}: expected a 400 naming {name}, got {names:?}"
            ));
        }
    }

    let total = QUERIES + TELEHEALTH_QUERIES;
    println!(
        "seed {seed}: {total} queries on {} providers, {answered} answered: {nonempty_totals} with matches, \
         {nonempty_pages} with a non-empty page; by sort {by_sort:?}; {with_types} with provider_type, \
         {with_verified} with verified_within_days, {without_facets} with facets=false",
        fixture.providers.len()
    );
    let mut cells: Vec<_> = coverage.by_kind_and_sort.iter().collect();
    cells.sort();
    println!(
        "include_telehealth: {} searches by (place, sort) {cells:?}; by treatment filter {:?}; \
         {} with state=, {} with provider_type, {} with verified_within_days; \
         hits shown {} in person, {} telehealth, {} pages with both; {} named places without reach; \
         refused {:?}; cases met {stats:?}",
        coverage.by_kind_and_sort.values().sum::<usize>(),
        coverage.by_treatment_filter,
        coverage.with_state_filter,
        coverage.with_provider_type,
        coverage.with_verified,
        coverage.hits_in_person,
        coverage.hits_telehealth,
        coverage.mixed_pages,
        coverage.named_places_without_reach,
        coverage.refused,
    );
    assert!(
        failures.is_empty(),
        "seed {seed}: {} of {total} queries differ from the reference; the first ones:\n{}",
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
        nonempty_totals > answered / 2 && nonempty_pages > answered / 3,
        "too few queries had matches ({nonempty_totals}) or results ({nonempty_pages})"
    );
    // Every way of naming the searcher's state, with every sort order it
    // allows; every kind of treatment filter; every refusal; every case.
    let mut gaps: Vec<String> = Vec::new();
    for kind in NEAR_KINDS {
        for sort in SORT_ORDERS {
            let searched = coverage
                .by_kind_and_sort
                .get(&(kind, sort.as_str()))
                .copied()
                .unwrap_or(0);
            let possible = !(kind == NearKind::State && sort == SortOrder::Distance);
            if possible && searched == 0 {
                gaps.push(format!(
                    "include_telehealth with {kind:?} and sort={}",
                    sort.as_str()
                ));
            }
        }
    }
    for kind in TREATMENT_FILTERS {
        if !coverage.by_treatment_filter.contains_key(&kind) {
            gaps.push(format!("include_telehealth with treatment filter {kind:?}"));
        }
    }
    if coverage.with_state_filter == 0
        || coverage.with_provider_type == 0
        || coverage.mixed_pages == 0
    {
        gaps.push(
            "include_telehealth with state=, with provider_type, or a page of both reaches".into(),
        );
    }
    gaps.extend(
        stats
            .missing()
            .into_iter()
            .map(|case| format!("the case {case}")),
    );
    assert!(
        gaps.is_empty(),
        "seed {seed}: the queries never covered: {gaps:?}"
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
            reach: None,
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
