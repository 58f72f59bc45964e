//! Generates a deterministic, plainly fictional ketamine-therapy provider CSV
//! for load tests, demos and importer fuzzing.
//!
//! All providers are fictional: people are "Clinician <first> <last>",
//! clinics and organisations are "Example …", "Sample …", "Demo …",
//! "Placeholder …" or "Fictional …", streets are "Example Ave" and friends,
//! phone numbers use the 555-0100..0199 range reserved for fiction, web and
//! e-mail addresses live under `example.org`, and NPIs are random numbers
//! that merely pass the check digit. Only the places are real: cities are
//! drawn from `data/us_cities.csv` weighted by population, points are
//! scattered up to eight miles around them, and each row gets the nearest
//! ZIP from `data/us_zips.csv` in the same state (ZIP code and city
//! coordinates and populations © GeoNames (geonames.org), CC BY 4.0).
//!
//! The output follows the importer's column order and rules (RFC 4180
//! quoting, `;`-separated lists, NPIs with a valid check digit, coordinates
//! either both present or both blank, no rating without reviews). The same
//! `--rows` and `--seed` always produce byte-identical output.
//!
//! ```text
//! cargo run --release --example generate -- --rows 1000000 --seed 1 > big.csv
//! ```
//!
//! Options: `--rows N` (default 2000) and `--seed S` (default 1).

use std::borrow::Cow;
use std::collections::HashMap;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

const CITIES_CSV: &str = include_str!("../data/us_cities.csv");
const ZIPS_CSV: &str = include_str!("../data/us_zips.csv");

const DEFAULT_ROWS: u64 = 2000;
const DEFAULT_SEED: u64 = 1;

const USAGE: &str = "usage: generate [--rows N] [--seed S]

Writes a fictional ketamine-provider CSV to stdout.
  --rows N   number of provider rows (default 2000)
  --seed S   random seed, any unsigned 64-bit integer (default 1)";

const HEADER: &str = "id,name,organization,credentials,npi,address,city,state,zip,\
latitude,longitude,phone,website,email,treatments,conditions,insurance,price_min,\
price_max,telehealth,accepting_new_patients,languages,rating,review_count,\
description,last_verified,provider_type,licensed_states,rems_certified";

const FIRST_NAMES: [&str; 60] = [
    "Avery", "Blake", "Casey", "Dana", "Emery", "Finley", "Gray", "Harper", "Indigo", "Jordan",
    "Kai", "Logan", "Morgan", "Noel", "Oakley", "Parker", "Quinn", "Reese", "Sage", "Taylor",
    "Umi", "Val", "Wren", "Xen", "Yael", "Zion", "Ari", "Briar", "Cameron", "Dakota", "Eden",
    "Frankie", "Greer", "Hollis", "Ira", "Jules", "Kendall", "Lane", "Marlow", "Nico", "Oren",
    "Peyton", "Remy", "Rowan", "Shay", "Tatum", "Toby", "Vesper", "Winter", "Arden", "Bellamy",
    "Callan", "Darcy", "Ellis", "Fallon", "Hayden", "Jesse", "Kit", "Lennox", "Milan",
];

// Kept compact by hand; rustfmt would put each name on its own line.
#[rustfmt::skip]
const LAST_NAMES: [&str; 60] = [
    "Lindqvist", "Okonkwo-Hale", "Barrowfield", "Castellan", "Delacroix-Moss", "Eberhart",
    "Fairweather", "Galloway", "Hargrove", "Ibarra-Quill", "Jessamine", "Kettleby", "Larkspur",
    "Merriweather", "Nakashima-Reed", "Oldcastle", "Pennywhistle", "Quillfeather", "Ravensworth",
    "Silverbirch", "Thistlewood", "Underhill", "Vantongeren", "Whitlock", "Yarborough",
    "Zellweger-Park", "Ashgrove", "Bramblecote", "Cinderford", "Dunmore", "Elderwood", "Foxhollow",
    "Greywater", "Hazelbrook", "Ironwood", "Juniperhill", "Kingsmere", "Lowenthal", "Marchbank",
    "Northcott", "Orchardson", "Pembrook", "Quarrington", "Rosenvold", "Stonebridge", "Tillingham",
    "Upfield", "Veldkamp", "Westerholt", "Applegarth", "Blackthorne", "Coldwell", "Driftwood",
    "Emberly", "Fernsby", "Goldhawk", "Hollowell", "Inglewood-Tate", "Moorcroft", "Sandoval-Pike",
];

/// Prefixes that make every organisation name obviously made up.
const PLACEHOLDER_WORDS: [&str; 5] = ["Example", "Sample", "Demo", "Placeholder", "Fictional"];

const CLINIC_KINDS: [&str; 5] = [
    "Ketamine Clinic",
    "Infusion Center",
    "Ketamine Wellness Center",
    "Ketamine Therapy Clinic",
    "Mood and Pain Clinic",
];

const ORGANIZATION_KINDS: [&str; 6] = [
    "Infusion Partners",
    "Ketamine Group",
    "Wellness Collective",
    "Integrative Psychiatry",
    "Pain Medicine Associates",
    "Mental Health Practice",
];

const STREET_NAMES: [&str; 8] = [
    "Example",
    "Sample",
    "Placeholder",
    "Demo",
    "Fictional",
    "Specimen",
    "Imaginary",
    "Testing",
];

const STREET_SUFFIXES: [&str; 8] = ["St", "Ave", "Blvd", "Rd", "Way", "Lane", "Court", "Drive"];

/// Weights are relative; MDs, NPs and CRNAs run most infusion practices.
const INDIVIDUAL_CREDENTIALS: [(&str, u32); 8] = [
    ("MD", 30),
    ("DO", 8),
    ("CRNA", 12),
    ("NP", 20),
    ("PA", 8),
    ("PhD", 6),
    ("LCSW", 8),
    ("PsyD", 8),
];

/// The `provider_type` each of [`INDIVIDUAL_CREDENTIALS`] stands for.
const CREDENTIAL_PROVIDER_TYPES: [&str; 8] = [
    "physician",
    "physician",
    "nurse_anesthetist",
    "nurse_practitioner",
    "physician_assistant",
    "psychologist",
    "therapist",
    "psychologist",
];

/// Code, probability of being offered, and the plain words used in descriptions.
const TREATMENTS: [(&str, f64, &str); 5] = [
    ("iv_infusion", 0.72, "IV ketamine infusions"),
    ("im_injection", 0.22, "intramuscular ketamine injections"),
    ("esketamine_nasal", 0.30, "esketamine nasal spray"),
    ("oral_sublingual", 0.18, "oral and sublingual ketamine"),
    (
        "ketamine_assisted_psychotherapy",
        0.27,
        "ketamine-assisted psychotherapy",
    ),
];
const MAX_TREATMENTS: u32 = 4;
/// Bit masks into `TREATMENTS` / `CONDITIONS` (a test pins the positions).
const IV_INFUSION: u32 = 1 << 0;
const ESKETAMINE_NASAL: u32 = 1 << 2;
const KETAMINE_ASSISTED_PSYCHOTHERAPY: u32 = 1 << 4;

const CONDITIONS: [(&str, f64, &str); 12] = [
    ("chronic_pain", 0.40, "chronic pain"),
    ("crps", 0.30, "CRPS"),
    ("fibromyalgia", 0.28, "fibromyalgia"),
    ("neuropathic_pain", 0.30, "neuropathic pain"),
    ("migraine", 0.18, "migraine"),
    ("depression", 0.65, "depression"),
    (
        "treatment_resistant_depression",
        0.60,
        "treatment-resistant depression",
    ),
    ("ptsd", 0.25, "PTSD"),
    ("anxiety", 0.22, "anxiety"),
    ("ocd", 0.08, "OCD"),
    ("bipolar_depression", 0.10, "bipolar depression"),
    ("suicidal_ideation", 0.10, "suicidal ideation"),
];
const MAX_CONDITIONS: u32 = 6;
const DEPRESSION: u32 = 1 << 5;

/// Ordered by how often directories list them, so a Zipf weight by rank
/// gives the familiar "everyone takes Aetna, few take Tufts" skew.
const INSURERS: [&str; 29] = [
    "UnitedHealthcare",
    "Aetna",
    "Cigna",
    "Blue Cross Blue Shield",
    "Medicare",
    "Humana",
    "Anthem",
    "Tricare",
    "Medicaid",
    "Kaiser Permanente",
    "VA Community Care",
    "Oscar",
    "Ambetter",
    "Molina",
    "Florida Blue",
    "Highmark",
    "CareFirst",
    "Independence Blue Cross",
    "Centene",
    "WellCare",
    "Regence",
    "Premera",
    "EmblemHealth",
    "Harvard Pilgrim",
    "Tufts",
    "Geisinger",
    "Priority Health",
    "HealthPartners",
    "Select Health",
];
const SELF_PAY: &str = "Self-pay";

/// Cumulative percentages for listing 0..=5 payers.
const INSURANCE_COUNT_CUMULATIVE: [u32; 6] = [15, 40, 62, 80, 92, 100];

/// Extra languages beyond English and how often each is offered.
const EXTRA_LANGUAGES: [(&str, f64); 7] = [
    ("Spanish", 0.25),
    ("Vietnamese", 0.03),
    ("Mandarin", 0.03),
    ("Russian", 0.02),
    ("ASL", 0.02),
    ("French", 0.02),
    ("Arabic", 0.02),
];

/// Follow-up sentences that fit any provider.
const GENERAL_SENTENCES: [&str; 7] = [
    "Medical history is reviewed before the first session.",
    "Vital signs are monitored throughout each session, and a ride home is required afterwards.",
    "A psychiatric evaluation, usually by video, comes before any treatment.",
    "Superbills are provided for out-of-network reimbursement.",
    "Sessions take place in a quiet, private room, and a support person is welcome.",
    "Dosing follows published protocols, with adjustments after each visit.",
    "Coordination with your existing psychiatrist, therapist, or pain specialist is encouraged.",
];

const MULTILINE_SENTENCE: &str = "Past patients called the space \"calm, unhurried, and private.\"\n\
This listing is fictional sample data.";

const FIRST_VERIFIED: (i64, u32, u32) = (2023, 1, 1);
const LAST_VERIFIED: (i64, u32, u32) = (2026, 11, 30);

const MILES_PER_DEGREE_LATITUDE: f64 = 69.0;
const MAX_OFFSET_MILES: f64 = 8.0;

fn main() -> ExitCode {
    let options = match parse_args(std::env::args_os().skip(1)) {
        Ok(Command::Run(options)) => options,
        Ok(Command::Help) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("generate: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match write_csv(&options) {
        Ok(()) => ExitCode::SUCCESS,
        // `generate | head` is a normal way to peek at the output.
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("generate: cannot write output: {error}");
            ExitCode::FAILURE
        }
    }
}

struct Options {
    rows: u64,
    seed: u64,
}

enum Command {
    Run(Options),
    Help,
}

fn parse_args(args: impl IntoIterator<Item = OsString>) -> Result<Command, String> {
    let mut options = Options {
        rows: DEFAULT_ROWS,
        seed: DEFAULT_SEED,
    };
    let mut args = args.into_iter();
    while let Some(raw) = args.next() {
        let arg = raw
            .into_string()
            .map_err(|raw| format!("argument is not valid UTF-8: {raw:?}"))?;
        let (flag, inline_value) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => {
                (flag.to_string(), Some(value.to_string()))
            }
            _ => (arg, None),
        };
        let target = match flag.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "--rows" => &mut options.rows,
            "--seed" => &mut options.seed,
            other => return Err(format!("unknown argument {other:?}")),
        };
        let value = match inline_value {
            Some(value) => value,
            None => args
                .next()
                .ok_or_else(|| format!("{flag} needs a value"))?
                .into_string()
                .map_err(|raw| format!("{flag} value is not valid UTF-8: {raw:?}"))?,
        };
        *target = value
            .parse()
            .map_err(|_| format!("{flag} expects a non-negative integer, got {value:?}"))?;
    }
    Ok(Command::Run(options))
}

fn write_csv(options: &Options) -> io::Result<()> {
    let mut generator = Generator::new(options.seed);
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(1 << 17, stdout.lock());
    out.write_all(HEADER.as_bytes())?;
    out.write_all(b"\n")?;
    for row_number in 1..=options.rows {
        generator.fill_row(row_number);
        out.write_all(&generator.line.bytes)?;
    }
    out.flush()
}

/// xoshiro256** seeded through splitmix64, so nearby seeds still give
/// unrelated streams and the output never depends on a crate's version.
struct Rng {
    state: [u64; 4],
}

impl Rng {
    fn seeded(seed: u64) -> Self {
        let mut splitmix = seed;
        let mut next = || {
            splitmix = splitmix.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = splitmix;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        Self {
            state: [next(), next(), next(), next()],
        }
    }

    fn next_u64(&mut self) -> u64 {
        let s = &mut self.state;
        let result = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// Uniform in [0, 1) with 53 bits of precision.
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in 0..bound via multiply-shift; the bias is far below anything
    /// a synthetic data set could show.
    fn below(&mut self, bound: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(bound)) >> 64) as u64
    }

    fn between(&mut self, low: u32, high_inclusive: u32) -> u32 {
        low + self.below(u64::from(high_inclusive - low) + 1) as u32
    }

    fn chance(&mut self, probability: f64) -> bool {
        self.unit() < probability
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }

    fn pick_weighted(&mut self, weights: impl Iterator<Item = u32> + Clone) -> usize {
        let total: u32 = weights.clone().sum();
        let mut target = self.below(u64::from(total)) as u32;
        for (index, weight) in weights.enumerate() {
            if target < weight {
                return index;
            }
            target -= weight;
        }
        unreachable!("target is below the total weight")
    }
}

struct City {
    name: Cow<'static, str>,
    state: &'static str,
    latitude: f64,
    longitude: f64,
}

struct ZipCentroid {
    code: &'static str,
    latitude: f64,
    longitude: f64,
}

#[derive(Clone, Copy)]
enum NearestZip {
    NotLookedUp,
    NoneInState,
    Found(&'static str),
}

struct Places {
    cities: Vec<City>,
    /// Running population total, so a uniform draw below the last entry
    /// lands on a city with probability proportional to its population.
    cumulative_population: Vec<u64>,
    zips_by_state: HashMap<&'static str, Vec<ZipCentroid>>,
    /// Filled lazily: a million rows only ever touch a few thousand cities.
    nearest_zip_by_city: Vec<NearestZip>,
}

impl Places {
    fn load() -> Self {
        let mut cities = Vec::new();
        let mut cumulative_population = Vec::new();
        let mut running_total = 0u64;
        for (line_number, line) in data_lines(CITIES_CSV) {
            let Ok([name, state, latitude, longitude, population]) =
                <[_; 5]>::try_from(split_csv_record(line))
            else {
                panic!("us_cities.csv line {line_number}: expected 5 fields");
            };
            let population: u64 = parse_embedded(&population, "us_cities.csv", line_number);
            running_total += population;
            cumulative_population.push(running_total);
            cities.push(City {
                name,
                state: as_static(state),
                latitude: parse_embedded(&latitude, "us_cities.csv", line_number),
                longitude: parse_embedded(&longitude, "us_cities.csv", line_number),
            });
        }
        assert!(running_total > 0, "us_cities.csv has no population");

        let mut zips_by_state: HashMap<&'static str, Vec<ZipCentroid>> = HashMap::new();
        for (line_number, line) in data_lines(ZIPS_CSV) {
            let Ok([code, _city, state, latitude, longitude]) =
                <[_; 5]>::try_from(split_csv_record(line))
            else {
                panic!("us_zips.csv line {line_number}: expected 5 fields");
            };
            zips_by_state
                .entry(as_static(state))
                .or_default()
                .push(ZipCentroid {
                    code: as_static(code),
                    latitude: parse_embedded(&latitude, "us_zips.csv", line_number),
                    longitude: parse_embedded(&longitude, "us_zips.csv", line_number),
                });
        }

        let nearest_zip_by_city = vec![NearestZip::NotLookedUp; cities.len()];
        Self {
            cities,
            cumulative_population,
            zips_by_state,
            nearest_zip_by_city,
        }
    }

    fn random_city(&self, rng: &mut Rng) -> usize {
        let total = self.cumulative_population.last().copied().unwrap_or(0);
        let target = rng.below(total);
        self.cumulative_population
            .partition_point(|&running| running <= target)
    }

    fn nearest_zip(&mut self, city_index: usize) -> Option<&'static str> {
        if let NearestZip::NotLookedUp = self.nearest_zip_by_city[city_index] {
            let city = &self.cities[city_index];
            // An equirectangular distance is plenty to rank ZIPs within a state.
            let longitude_scale = city.latitude.to_radians().cos();
            let nearest = self
                .zips_by_state
                .get(city.state)
                .into_iter()
                .flatten()
                .map(|zip| {
                    let north = zip.latitude - city.latitude;
                    let east = (zip.longitude - city.longitude) * longitude_scale;
                    (north * north + east * east, zip.code)
                })
                .min_by(|a, b| a.0.total_cmp(&b.0));
            self.nearest_zip_by_city[city_index] = match nearest {
                Some((_, code)) => NearestZip::Found(code),
                None => NearestZip::NoneInState,
            };
        }
        match self.nearest_zip_by_city[city_index] {
            NearestZip::Found(code) => Some(code),
            NearestZip::NoneInState | NearestZip::NotLookedUp => None,
        }
    }
}

/// Non-empty data lines after the header, numbered as an editor would.
fn data_lines(text: &'static str) -> impl Iterator<Item = (usize, &'static str)> {
    text.lines()
        .enumerate()
        .skip(1)
        .map(|(index, line)| (index + 1, line.trim_end_matches('\r')))
        .filter(|(_, line)| !line.is_empty())
}

/// Enough CSV for the embedded gazetteers: a few city names are quoted
/// because they contain commas; none span lines.
fn split_csv_record(line: &'static str) -> Vec<Cow<'static, str>> {
    let mut fields = Vec::with_capacity(5);
    let mut rest = line;
    loop {
        if let Some(quoted) = rest.strip_prefix('"') {
            let mut value = String::new();
            let mut remaining = quoted;
            loop {
                match remaining.find('"') {
                    Some(position) if remaining[position + 1..].starts_with('"') => {
                        value.push_str(&remaining[..=position]);
                        remaining = &remaining[position + 2..];
                    }
                    Some(position) => {
                        value.push_str(&remaining[..position]);
                        remaining = &remaining[position + 1..];
                        break;
                    }
                    None => {
                        value.push_str(remaining);
                        remaining = "";
                        break;
                    }
                }
            }
            fields.push(Cow::Owned(value));
            match remaining.strip_prefix(',') {
                Some(after_comma) => rest = after_comma,
                None => break,
            }
        } else {
            match rest.split_once(',') {
                Some((field, after_comma)) => {
                    fields.push(Cow::Borrowed(field));
                    rest = after_comma;
                }
                None => {
                    fields.push(Cow::Borrowed(rest));
                    break;
                }
            }
        }
    }
    fields
}

/// Short identifiers such as states and ZIP codes are never quoted in the
/// gazetteers, so they can borrow from the embedded text.
fn as_static(field: Cow<'static, str>) -> &'static str {
    match field {
        Cow::Borrowed(text) => text,
        Cow::Owned(text) => panic!("unexpected quoted identifier {text:?} in embedded data"),
    }
}

fn parse_embedded<T: std::str::FromStr>(field: &str, file: &str, line_number: usize) -> T {
    field
        .parse()
        .unwrap_or_else(|_| panic!("{file} line {line_number}: cannot parse {field:?}"))
}

/// One output record, reusing its buffers from row to row.
#[derive(Default)]
struct CsvLine {
    bytes: Vec<u8>,
    field_count: usize,
    formatted: String,
}

impl CsvLine {
    fn begin(&mut self) {
        self.bytes.clear();
        self.field_count = 0;
    }

    fn field(&mut self, value: &str) {
        // A non-short-circuiting fold lets the compiler vectorise the scan,
        // which matters for the long description column.
        let needs_quotes = value.bytes().fold(false, |found, b| {
            found | matches!(b, b',' | b'"' | b'\n' | b'\r')
        });
        if needs_quotes {
            self.quoted_field(value);
        } else {
            self.unquoted_field(value);
        }
    }

    /// For values built only from digits, codes and fixed words, which can
    /// never need quoting; skipping the scan keeps a million rows fast.
    fn unquoted_field(&mut self, value: &str) {
        debug_assert!(!value.contains([',', '"', '\n', '\r']));
        self.separator();
        self.bytes.extend_from_slice(value.as_bytes());
    }

    fn separator(&mut self) {
        if self.field_count > 0 {
            self.bytes.push(b',');
        }
        self.field_count += 1;
    }

    fn quoted_field(&mut self, value: &str) {
        self.separator();
        self.bytes.push(b'"');
        for (index, part) in value.split('"').enumerate() {
            if index > 0 {
                self.bytes.extend_from_slice(b"\"\"");
            }
            self.bytes.extend_from_slice(part.as_bytes());
        }
        self.bytes.push(b'"');
    }

    /// Starts a field that the caller assembles from `push_text` and
    /// `push_digits` pieces, none of which may need quoting. Writing digits
    /// straight into the line avoids `fmt`, which dominated the run time.
    fn begin_unquoted_field(&mut self) {
        self.separator();
    }

    fn push_text(&mut self, piece: &str) {
        debug_assert!(!piece.contains([',', '"', '\n', '\r']));
        self.bytes.extend_from_slice(piece.as_bytes());
    }

    /// Decimal digits, zero-padded to at least `min_width` (at most 20).
    fn push_digits(&mut self, value: u64, min_width: usize) {
        let mut buffer = [b'0'; 20];
        let mut start = buffer.len();
        let mut rest = value;
        loop {
            start -= 1;
            buffer[start] = b'0' + (rest % 10) as u8;
            rest /= 10;
            if rest == 0 {
                break;
            }
        }
        // The buffer is pre-filled with zeros, so padding is just a wider slice.
        let start = start.min(buffer.len() - min_width.min(buffer.len()));
        self.bytes.extend_from_slice(&buffer[start..]);
    }

    fn number_field(&mut self, value: u64) {
        self.begin_unquoted_field();
        self.push_digits(value, 1);
    }

    /// For text that may contain commas or quotes.
    fn formatted_text_field(&mut self, arguments: std::fmt::Arguments<'_>) {
        let mut formatted = std::mem::take(&mut self.formatted);
        formatted.clear();
        formatted
            .write_fmt(arguments)
            .expect("formatting into a String cannot fail");
        self.field(&formatted);
        self.formatted = formatted;
    }

    /// Fixed-point degrees with five decimals, formatted from an integer so
    /// the text never depends on float-formatting details.
    fn coordinate_field(&mut self, degrees: f64) {
        let hundred_thousandths = (degrees * 100_000.0).round() as i64;
        let magnitude = hundred_thousandths.unsigned_abs();
        self.begin_unquoted_field();
        if hundred_thousandths < 0 {
            self.push_text("-");
        }
        self.push_digits(magnitude / 100_000, 1);
        self.push_text(".");
        self.push_digits(magnitude % 100_000, 5);
    }

    fn finish(&mut self) {
        self.bytes.push(b'\n');
    }
}

struct Generator {
    rng: Rng,
    places: Places,
    insurer_cumulative_weight: Vec<f64>,
    first_verified_day: i64,
    verified_day_span: u64,
    line: CsvLine,
    list: String,
    description: String,
    /// Bits of [`INDIVIDUAL_CREDENTIALS`] the current row lists.
    credentials: u32,
    /// A stream of its own for the columns added later (provider type,
    /// licensed states, REMS), so the earlier columns stay as they were
    /// for a given seed.
    extra_rng: Rng,
}

impl Generator {
    fn new(seed: u64) -> Self {
        let mut running = 0.0;
        let insurer_cumulative_weight = (1..=INSURERS.len())
            .map(|rank| {
                running += 1.0 / rank as f64;
                running
            })
            .collect();
        let first_verified_day = days_from_civil(FIRST_VERIFIED);
        let last_verified_day = days_from_civil(LAST_VERIFIED);
        Self {
            rng: Rng::seeded(seed),
            places: Places::load(),
            insurer_cumulative_weight,
            first_verified_day,
            verified_day_span: (last_verified_day - first_verified_day + 1) as u64,
            line: CsvLine::default(),
            list: String::new(),
            description: String::new(),
            credentials: 0,
            extra_rng: Rng::seeded(seed ^ 0x7e1e_4ea1_7400_0001),
        }
    }

    fn fill_row(&mut self, row_number: u64) {
        self.line.begin();
        self.line.begin_unquoted_field();
        self.line.push_text("p-");
        self.line.push_digits(row_number, 6);

        let city_index = self.places.random_city(&mut self.rng);
        let is_clinic = self.rng.chance(0.30);
        self.write_name_and_organization(is_clinic, city_index);
        self.write_credentials(is_clinic);
        self.write_npi();
        self.write_address();
        let has_zip = self.write_place(city_index);
        self.write_coordinates(city_index, has_zip);

        // 555-0100..0199 is reserved for fiction, whatever the area code.
        let area_code = self.rng.between(201, 989);
        let line_suffix = self.rng.below(100);
        self.line.begin_unquoted_field();
        self.line.push_text("(");
        self.line.push_digits(u64::from(area_code), 3);
        self.line.push_text(") 555-01");
        self.line.push_digits(line_suffix, 2);

        self.line.begin_unquoted_field();
        if self.rng.chance(0.85) {
            self.line.push_text("https://provider-");
            self.line.push_digits(row_number, 6);
            self.line.push_text(".example.org");
        }
        self.line.begin_unquoted_field();
        if self.rng.chance(0.80) {
            self.line.push_text("intake@provider-");
            self.line.push_digits(row_number, 6);
            self.line.push_text(".example.org");
        }

        let treatments = self.choose_treatments();
        self.write_codes(&TREATMENTS, treatments);
        let conditions = self.choose_conditions();
        self.write_codes(&CONDITIONS, conditions);
        self.write_insurance();
        self.write_prices();
        let telehealth = self.rng.chance(0.35);
        let accepting = self.rng.chance(0.75);
        let telehealth_text = self.boolean_text(telehealth);
        self.line.unquoted_field(telehealth_text);
        let accepting_text = self.boolean_text(accepting);
        self.line.unquoted_field(accepting_text);
        self.write_languages();
        self.write_rating();
        self.write_description(treatments, conditions, telehealth, accepting);
        self.write_last_verified();
        self.write_provider_type(is_clinic);
        self.write_licensed_states(city_index, telehealth);
        self.write_rems(treatments);
        self.line.finish();
    }

    /// Clinics are `clinic`; people are what their credentials say.
    fn write_provider_type(&mut self, is_clinic: bool) {
        self.list.clear();
        if is_clinic {
            self.list.push_str("clinic");
        } else {
            for (index, provider_type) in CREDENTIAL_PROVIDER_TYPES.iter().enumerate() {
                let named = self.credentials & (1 << index) != 0;
                if named && !self.list.split(';').any(|t| t == *provider_type) {
                    if !self.list.is_empty() {
                        self.list.push(';');
                    }
                    self.list.push_str(provider_type);
                }
            }
        }
        self.line.unquoted_field(&self.list);
    }

    /// Most telehealth providers are licensed in one to three states, their
    /// own included (blank, meaning their own state, about half the time);
    /// a few in-person providers list their own state.
    fn write_licensed_states(&mut self, city_index: usize, telehealth: bool) {
        let own = self.places.cities[city_index].state;
        self.list.clear();
        let extra = if telehealth {
            match self.extra_rng.below(100) {
                0..45 => None,
                45..80 => Some(1),
                80..95 => Some(2),
                _ => Some(0),
            }
        } else if self.extra_rng.chance(0.10) {
            Some(0)
        } else {
            None
        };
        if let Some(extra) = extra {
            self.list.push_str(own);
            for _ in 0..extra {
                let other = self.places.random_city(&mut self.extra_rng);
                let state = self.places.cities[other].state;
                if !self.list.split(';').any(|s| s == state) {
                    self.list.push(';');
                    self.list.push_str(state);
                }
            }
        }
        self.line.unquoted_field(&self.list);
    }

    /// Every SPRAVATO site says whether it is REMS-certified (most are, a
    /// few leave it blank); a few other sites say they are not.
    fn write_rems(&mut self, treatments: u32) {
        let value = if treatments & ESKETAMINE_NASAL != 0 {
            if self.extra_rng.chance(0.92) {
                "true"
            } else {
                ""
            }
        } else if self.extra_rng.chance(0.04) {
            "false"
        } else {
            ""
        };
        self.line.unquoted_field(value);
    }

    fn write_name_and_organization(&mut self, is_clinic: bool, city_index: usize) {
        let city = &self.places.cities[city_index].name;
        if is_clinic {
            let placeholder = self.rng.pick(&PLACEHOLDER_WORDS);
            let kind = self.rng.pick(&CLINIC_KINDS);
            self.line
                .formatted_text_field(format_args!("{placeholder} {kind} of {city}"));
        } else {
            let first = self.rng.pick(&FIRST_NAMES);
            let last = self.rng.pick(&LAST_NAMES);
            self.line.begin_unquoted_field();
            self.line.push_text("Clinician ");
            self.line.push_text(first);
            self.line.push_text(" ");
            self.line.push_text(last);
        }
        if self.rng.chance(0.80) {
            let placeholder = self.rng.pick(&PLACEHOLDER_WORDS);
            let kind = self.rng.pick(&ORGANIZATION_KINDS);
            self.line
                .formatted_text_field(format_args!("{placeholder} {kind} of {city}"));
        } else {
            self.line.unquoted_field("");
        }
    }

    fn write_credentials(&mut self, is_clinic: bool) {
        self.list.clear();
        self.credentials = 0;
        // Clinics often list no single licence of their own.
        if !(is_clinic && self.rng.chance(0.40)) {
            let weights = INDIVIDUAL_CREDENTIALS.iter().map(|&(_, weight)| weight);
            let first = self.rng.pick_weighted(weights.clone());
            self.credentials |= 1 << first;
            self.list.push_str(INDIVIDUAL_CREDENTIALS[first].0);
            if self.rng.chance(0.30) {
                let second = self.rng.pick_weighted(weights);
                if second != first {
                    self.credentials |= 1 << second;
                    self.list.push(';');
                    self.list.push_str(INDIVIDUAL_CREDENTIALS[second].0);
                }
            }
        }
        self.line.unquoted_field(&self.list);
    }

    fn write_npi(&mut self) {
        if !self.rng.chance(0.70) {
            self.line.unquoted_field("");
            return;
        }
        let mut digits = [0u8; 10];
        digits[0] = if self.rng.chance(0.5) { b'1' } else { b'2' };
        for digit in &mut digits[1..9] {
            *digit = b'0' + self.rng.below(10) as u8;
        }
        digits[9] = b'0' + npi_check_digit(&digits[..9]);
        let npi = std::str::from_utf8(&digits).expect("NPI digits are ASCII");
        self.line.unquoted_field(npi);
    }

    fn write_address(&mut self) {
        let number = self.rng.between(100, 9899);
        let street = self.rng.pick(&STREET_NAMES);
        let suffix = self.rng.pick(&STREET_SUFFIXES);
        if self.rng.chance(0.45) {
            let suite = self.rng.between(100, 999);
            self.line
                .formatted_text_field(format_args!("{number} {street} {suffix}, Suite {suite}"));
        } else {
            self.line
                .formatted_text_field(format_args!("{number} {street} {suffix}"));
        }
    }

    /// Writes city, state and ZIP; returns whether a ZIP was written.
    fn write_place(&mut self, city_index: usize) -> bool {
        let zip = self.places.nearest_zip(city_index);
        let city = &self.places.cities[city_index];
        self.line.field(&city.name);
        self.line.unquoted_field(city.state);
        self.line.unquoted_field(zip.unwrap_or(""));
        zip.is_some()
    }

    fn write_coordinates(&mut self, city_index: usize, has_zip: bool) {
        // The importer falls back to the ZIP centroid, but only if there is one.
        if has_zip && self.rng.chance(0.05) {
            self.line.unquoted_field("");
            self.line.unquoted_field("");
            return;
        }
        let city = &self.places.cities[city_index];
        // Rejection sampling spreads points evenly over the disc and needs no
        // sin/cos, whose last bits may differ between math libraries.
        let (north, east) = loop {
            let north = 2.0 * self.rng.unit() - 1.0;
            let east = 2.0 * self.rng.unit() - 1.0;
            if north * north + east * east <= 1.0 {
                break (north, east);
            }
        };
        let latitude_offset = MAX_OFFSET_MILES * north / MILES_PER_DEGREE_LATITUDE;
        let miles_per_degree_longitude =
            MILES_PER_DEGREE_LATITUDE * city.latitude.to_radians().cos().max(0.01);
        let longitude_offset = MAX_OFFSET_MILES * east / miles_per_degree_longitude;
        let latitude = (city.latitude + latitude_offset).clamp(-90.0, 90.0);
        let longitude = (city.longitude + longitude_offset).clamp(-180.0, 180.0);
        self.line.coordinate_field(latitude);
        self.line.coordinate_field(longitude);
    }

    fn choose_treatments(&mut self) -> u32 {
        let mut chosen = self.choose_independently(&TREATMENTS);
        if chosen == 0 {
            chosen = IV_INFUSION; // what most clinics offer
        }
        self.drop_until_at_most(chosen, MAX_TREATMENTS)
    }

    fn choose_conditions(&mut self) -> u32 {
        let mut chosen = self.choose_independently(&CONDITIONS);
        if chosen == 0 {
            chosen = DEPRESSION; // the most common reason to seek ketamine
        }
        self.drop_until_at_most(chosen, MAX_CONDITIONS)
    }

    fn choose_independently(&mut self, vocabulary: &[(&str, f64, &str)]) -> u32 {
        let mut chosen = 0u32;
        for (bit, &(_, probability, _)) in vocabulary.iter().enumerate() {
            if self.rng.chance(probability) {
                chosen |= 1 << bit;
            }
        }
        chosen
    }

    fn drop_until_at_most(&mut self, mut chosen: u32, limit: u32) -> u32 {
        while chosen.count_ones() > limit {
            let victim = self.rng.below(u64::from(chosen.count_ones()));
            let mut remaining = chosen;
            for _ in 0..victim {
                remaining &= remaining - 1; // clear the lowest set bit
            }
            chosen &= !(remaining & remaining.wrapping_neg());
        }
        chosen
    }

    fn write_codes(&mut self, vocabulary: &[(&str, f64, &str)], chosen: u32) {
        self.list.clear();
        for (bit, &(code, _, _)) in vocabulary.iter().enumerate() {
            if chosen & (1 << bit) != 0 {
                if !self.list.is_empty() {
                    self.list.push(';');
                }
                self.list.push_str(code);
            }
        }
        self.line.unquoted_field(&self.list);
    }

    fn write_insurance(&mut self) {
        let roll = self.rng.below(100) as u32;
        let count = INSURANCE_COUNT_CUMULATIVE
            .iter()
            .position(|&cumulative| roll < cumulative)
            .unwrap_or(0) as u32;
        // Most ketamine care is paid out of pocket, so Self-pay is by far the
        // most common entry; it is written last, as directories tend to.
        let self_pay = count > 0 && self.rng.chance(0.75);
        let insurer_count = count - u32::from(self_pay);
        let mut chosen = 0u32;
        let total_weight = self
            .insurer_cumulative_weight
            .last()
            .copied()
            .unwrap_or(0.0);
        while chosen.count_ones() < insurer_count {
            let target = self.rng.unit() * total_weight;
            let index = self
                .insurer_cumulative_weight
                .partition_point(|&running| running <= target)
                .min(INSURERS.len() - 1);
            chosen |= 1 << index;
        }
        self.list.clear();
        for (bit, insurer) in INSURERS.iter().enumerate() {
            if chosen & (1 << bit) != 0 {
                if !self.list.is_empty() {
                    self.list.push(';');
                }
                self.list.push_str(insurer);
            }
        }
        if self_pay {
            if !self.list.is_empty() {
                self.list.push(';');
            }
            self.list.push_str(SELF_PAY);
        }
        self.line.unquoted_field(&self.list);
    }

    fn write_prices(&mut self) {
        if self.rng.chance(0.10) {
            self.line.unquoted_field("");
            self.line.unquoted_field("");
            return;
        }
        // In $25 steps: minimums cluster at $300–700, ranges span up to $300.
        let minimum_step = self.rng.below(17) as u32;
        let span_steps = (self.rng.below(13) as u32).min(28 - minimum_step);
        let price_min = 300 + 25 * minimum_step;
        let price_max = price_min + 25 * span_steps;
        self.line.number_field(u64::from(price_min));
        self.line.number_field(u64::from(price_max));
    }

    /// Real spreadsheets mix spellings; the importer accepts all of these.
    fn boolean_text(&mut self, value: bool) -> &'static str {
        let roll = self.rng.below(100);
        match (roll, value) {
            (0..85, true) => "true",
            (0..85, false) => "false",
            (85..93, true) => "yes",
            (85..93, false) => "no",
            (_, true) => "1",
            (_, false) => "0",
        }
    }

    fn write_languages(&mut self) {
        self.list.clear();
        self.list.push_str("English");
        for &(language, probability) in &EXTRA_LANGUAGES {
            if self.rng.chance(probability) {
                self.list.push(';');
                self.list.push_str(language);
            }
        }
        self.line.unquoted_field(&self.list);
    }

    fn write_rating(&mut self) {
        if self.rng.chance(0.25) {
            self.line.unquoted_field("");
            let unrated_count = if self.rng.chance(0.6) { "0" } else { "" };
            self.line.unquoted_field(unrated_count);
            return;
        }
        // Directories are dominated by listings with a review or two, with a
        // long tail of busy practices (up to e^6 ≈ 403 reviews).
        let review_count = if self.rng.chance(0.20) {
            1
        } else {
            ((self.rng.unit() * 6.0).exp() as u32).max(1)
        };
        // Each review is 5 stars with the provider's "delight" probability,
        // otherwise 4 or 1–3; a few providers are mediocre. Simulating stars
        // keeps one-review listings at whole numbers, mostly 5.0.
        let delight = if self.rng.chance(0.08) {
            0.10 + 0.40 * self.rng.unit()
        } else {
            0.50 + 0.47 * self.rng.unit()
        };
        let simulated = review_count.min(60);
        let mut stars_total = 0u32;
        for _ in 0..simulated {
            stars_total += if self.rng.chance(delight) {
                5
            } else if self.rng.chance(0.5) {
                4
            } else {
                self.rng.between(1, 3)
            };
        }
        let tenths = (stars_total * 10 + simulated / 2) / simulated;
        self.line.begin_unquoted_field();
        self.line.push_digits(u64::from(tenths / 10), 1);
        self.line.push_text(".");
        self.line.push_digits(u64::from(tenths % 10), 1);
        self.line.number_field(u64::from(review_count));
    }

    fn write_description(
        &mut self,
        treatments: u32,
        conditions: u32,
        telehealth: bool,
        accepting: bool,
    ) {
        let text = &mut self.description;
        text.clear();
        let opener = match self.rng.below(3) {
            0 => "Supervised ",
            1 => "Offers ",
            _ => "",
        };
        text.push_str(opener);
        push_english_list(text, &TREATMENTS, treatments);
        if opener.is_empty() {
            // Treatment phrases are written mid-sentence ("oral and ...").
            text[..1].make_ascii_uppercase();
        }
        text.push_str(" for ");
        push_english_list(text, &CONDITIONS, conditions);
        text.push('.');

        let extra_sentences = match self.rng.below(100) {
            0..25 => 0,
            25..70 => 1,
            _ => 2,
        };
        let mut used_general = u32::MAX;
        for sentence_index in 0..extra_sentences {
            text.push(' ');
            // The first follow-up sometimes speaks to this provider's specifics.
            let specific = sentence_index == 0 && self.rng.chance(0.4);
            if specific && treatments & KETAMINE_ASSISTED_PSYCHOTHERAPY != 0 {
                text.push_str(
                    "Integration sessions follow each dose, in person or by video, to help make sense of the experience.",
                );
            } else if specific && telehealth {
                text.push_str("Telehealth follow-ups are available between sessions.");
            } else if specific && accepting {
                text.push_str(
                    "Currently accepting new patients; referrals are welcome, but not required.",
                );
            } else if specific {
                text.push_str("Not accepting new patients right now, but a waitlist is open.");
            } else {
                let mut index = self.rng.below(GENERAL_SENTENCES.len() as u64) as u32;
                if index == used_general {
                    index = (index + 1) % GENERAL_SENTENCES.len() as u32;
                }
                used_general = index;
                text.push_str(GENERAL_SENTENCES[index as usize]);
            }
        }
        // A rare quoted, multi-line description keeps CSV parsers honest.
        if self.rng.chance(0.01) {
            text.push(' ');
            text.push_str(MULTILINE_SENTENCE);
        }
        self.line.field(&self.description);
    }

    fn write_last_verified(&mut self) {
        if self.rng.chance(0.05) {
            self.line.unquoted_field("");
            return;
        }
        let day = self.first_verified_day + self.rng.below(self.verified_day_span) as i64;
        let (year, month, day_of_month) = civil_from_days(day);
        self.line.begin_unquoted_field();
        self.line.push_digits(year.unsigned_abs(), 4);
        self.line.push_text("-");
        self.line.push_digits(u64::from(month), 2);
        self.line.push_text("-");
        self.line.push_digits(u64::from(day_of_month), 2);
    }
}

/// "a", "a and b", or "a, b, and c" from the plain words of the chosen codes.
fn push_english_list(text: &mut String, vocabulary: &[(&str, f64, &str)], chosen: u32) {
    let total = chosen.count_ones();
    let mut written = 0;
    for (bit, &(_, _, words)) in vocabulary.iter().enumerate() {
        if chosen & (1 << bit) == 0 {
            continue;
        }
        if written > 0 {
            text.push_str(match (total, written + 1 == total) {
                (2, _) => " and ",
                (_, true) => ", and ",
                _ => ", ",
            });
        }
        text.push_str(words);
        written += 1;
    }
}

/// The NPI check digit is the Luhn digit of "80840" followed by the first
/// nine digits (the prefix identifies US health-care card issuers).
fn npi_check_digit(first_nine: &[u8]) -> u8 {
    let mut sum = 0u32;
    // Walk right to left; the check digit would sit at position 0, so the
    // payload's rightmost digit is the first one doubled.
    let payload = b"80840".iter().chain(first_nine).rev();
    for (position, digit) in payload.map(|&byte| u32::from(byte - b'0')).enumerate() {
        sum += if position % 2 == 0 {
            let doubled = digit * 2;
            if doubled > 9 { doubled - 9 } else { doubled }
        } else {
            digit
        };
    }
    ((10 - sum % 10) % 10) as u8
}

/// Days since 1970-01-01 (Howard Hinnant's civil calendar algorithm), so
/// random dates respect month lengths and leap years.
fn days_from_civil((year, month, day): (i64, u32, u32)) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = i64::from((month + 9) % 12);
    let day_of_year = (153 * month_from_march + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_from_march + 2) / 5 + 1) as u32;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npi_check_digit_matches_cms_example() {
        // CMS's worked example: 123456789 has check digit 3.
        assert_eq!(npi_check_digit(b"123456789"), 3);
    }

    #[test]
    fn bit_masks_match_vocabularies() {
        assert_eq!(
            TREATMENTS[IV_INFUSION.trailing_zeros() as usize].0,
            "iv_infusion"
        );
        assert_eq!(
            TREATMENTS[KETAMINE_ASSISTED_PSYCHOTHERAPY.trailing_zeros() as usize].0,
            "ketamine_assisted_psychotherapy"
        );
        assert_eq!(
            TREATMENTS[ESKETAMINE_NASAL.trailing_zeros() as usize].0,
            "esketamine_nasal"
        );
        assert_eq!(
            CONDITIONS[DEPRESSION.trailing_zeros() as usize].0,
            "depression"
        );
    }

    #[test]
    fn same_seed_same_rows() {
        let mut first = Generator::new(42);
        let mut second = Generator::new(42);
        for row_number in 1..=200 {
            first.fill_row(row_number);
            second.fill_row(row_number);
            assert_eq!(first.line.bytes, second.line.bytes);
        }
    }

    #[test]
    fn calendar_round_trips() {
        for day in days_from_civil((2023, 1, 1))..=days_from_civil((2026, 11, 30)) {
            assert_eq!(days_from_civil(civil_from_days(day)), day);
        }
        assert_eq!(
            civil_from_days(days_from_civil((2024, 2, 29))),
            (2024, 2, 29)
        );
    }

    #[test]
    fn quoting_doubles_quotes() {
        let mut line = CsvLine::default();
        line.begin();
        line.field("plain");
        line.field("a, \"b\"\nc");
        assert_eq!(line.bytes, b"plain,\"a, \"\"b\"\"\nc\"");
    }

    #[test]
    fn rejects_bad_arguments() {
        let parse = |args: &[&str]| parse_args(args.iter().map(OsString::from));
        assert!(parse(&["--rows"]).is_err());
        assert!(parse(&["--rows", "-5"]).is_err());
        assert!(parse(&["--rows", "ten"]).is_err());
        assert!(parse(&["--bogus"]).is_err());
        assert!(matches!(
            parse(&["--rows=7", "--seed", "9"]),
            Ok(Command::Run(Options { rows: 7, seed: 9 }))
        ));
    }
}
