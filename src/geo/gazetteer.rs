//! The offline gazetteer: US ZIP centroids and city points compiled into the binary.
//!
//! Data © GeoNames (geonames.org), CC BY 4.0 — see `data/README.md`. Both
//! files are embedded with `include_str!` so that `ketadir` works from any
//! directory, and parsed once per process ([`Gazetteer::get`]) into sorted
//! vectors: a lookup is a binary search, a prefix a range of one of them.
//!
//! The two files spell places differently (USPS "Saint Louis" in the ZIP
//! file, GeoNames "St. Louis" and "New York City" in the city file), so
//! every name is compared through [`name_key`], which folds case, accents,
//! punctuation and the usual abbreviations. Each USPS town of the ZIP file
//! that the city file lacks becomes a town of its own, placed at the mean of
//! its ZIP centroids: the city file covers only about half of them.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::hash::{BuildHasherDefault, Hasher};
use std::ops::RangeInclusive;
use std::sync::OnceLock;

use tantivy::tokenizer::{AsciiFoldingFilter, RawTokenizer, TextAnalyzer, TokenStream};

use super::LatLon;
use crate::provider::US_STATES;

const ZIPS_CSV: &str = include_str!("../../data/us_zips.csv");
const CITIES_CSV: &str = include_str!("../../data/us_cities.csv");

/// A ZIP code's centroid and its USPS place name.
#[derive(Debug, Clone, PartialEq)]
pub struct ZipPlace {
    /// Five digits, leading zeros kept.
    pub zip: &'static str,
    /// The USPS place name, as the file spells it ("Saint Louis").
    pub city: &'static str,
    pub state: &'static str,
    pub position: LatLon,
    /// Index of the ZIP's town in [`Gazetteer::towns`].
    town: u32,
}

/// A named place in a state: a city of the city file, or a USPS town name
/// of the ZIP file that the city file does not have.
#[derive(Debug, Clone, PartialEq)]
pub struct Town {
    /// The name as the file spells it (the city file's when both have it).
    pub name: &'static str,
    pub state: &'static str,
    pub position: LatLon,
    /// GeoNames population; `None` for a name known only from ZIP codes.
    pub population: Option<u32>,
    /// How many ZIP codes carry this name in this state.
    pub zip_count: u32,
    /// [`name_key`] of the name.
    key: String,
}

impl Town {
    /// "Denver, CO": also what [`crate::geo::places::resolve_near`] reads back.
    pub fn label(&self) -> String {
        format!("{}, {}", self.name, self.state)
    }

    /// The normalised name ([`name_key`]).
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Orders towns from most to least populous: GeoNames population first
    /// (a town known only from ZIP codes has none, so it comes after), then
    /// the number of ZIP codes, then state and name so the order is total.
    pub fn by_size(a: &Town, b: &Town) -> Ordering {
        b.population
            .cmp(&a.population)
            .then(b.zip_count.cmp(&a.zip_count))
            .then(a.state.cmp(b.state))
            .then(a.name.cmp(b.name))
    }
}

/// A state, district or territory of docs/csv.md's list, with its key.
#[derive(Debug, Clone, PartialEq)]
pub struct State {
    pub code: &'static str,
    pub name: &'static str,
    key: String,
}

impl State {
    /// The normalised name ([`name_key`]), e.g. "district of columbia".
    pub fn key(&self) -> &str {
        &self.key
    }
}

/// The towns that share one key (one per state), summarised so that a
/// fuzzy scan can skip most names by comparing two integers.
#[derive(Debug, Clone, PartialEq)]
pub struct NameGroup {
    /// [`letter_mask`] of the key.
    pub letters: u64,
    /// Length of the key in bytes.
    pub key_len: usize,
    /// Where the group's towns start in [`Gazetteer::towns`], and end.
    first: u32,
    end: u32,
}

/// Lookup tables built from the embedded place files.
#[derive(Debug)]
pub struct Gazetteer {
    /// Sorted by ZIP code.
    zips: Vec<ZipPlace>,
    /// Sorted by (key, state): one town per key and state.
    towns: Vec<Town>,
    /// One per distinct key, by key length (then key).
    names: Vec<NameGroup>,
    states: Vec<State>,
}

impl Gazetteer {
    /// The process-wide gazetteer, parsed on first use.
    pub fn get() -> &'static Gazetteer {
        static GAZETTEER: OnceLock<Gazetteer> = OnceLock::new();
        GAZETTEER.get_or_init(Gazetteer::parse)
    }

    /// Parses the embedded files. Use [`Gazetteer::get`]; this is public so
    /// the benchmark can time it.
    pub fn parse() -> Gazetteer {
        let mut builder = Builder {
            towns: Vec::with_capacity(TOWNS_CAPACITY),
            by_key: FastMap::with_capacity_and_hasher(TOWNS_CAPACITY, Default::default()),
            sums: Vec::with_capacity(TOWNS_CAPACITY),
            zips: Vec::with_capacity(ZIPS_CAPACITY),
        };
        for line in CITIES_CSV.lines().skip(1) {
            builder.add_city(line);
        }
        for line in ZIPS_CSV.lines().skip(1) {
            builder.add_zip(line);
        }
        builder.finish()
    }

    /// The centroid of a 5-digit ZIP code.
    pub fn zip(&self, zip5: &str) -> Option<&ZipPlace> {
        if zip5.len() != 5 || !zip5.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let found = self.zips.binary_search_by(|z| z.zip.cmp(zip5)).ok()?;
        self.zips.get(found)
    }

    /// Every ZIP code, in order.
    pub fn zips(&self) -> &[ZipPlace] {
        &self.zips
    }

    /// ZIP codes starting with `digits`, in order.
    pub fn zips_with_prefix(&self, digits: &str) -> &[ZipPlace] {
        let start = self.zips.partition_point(|z| z.zip < digits);
        let end = start + self.zips[start..].partition_point(|z| z.zip.starts_with(digits));
        &self.zips[start..end]
    }

    /// The town a ZIP code's USPS name stands for.
    pub fn town_of(&self, zip: &ZipPlace) -> &Town {
        &self.towns[zip.town as usize]
    }

    /// Every town, sorted by key then state.
    pub fn towns(&self) -> &[Town] {
        &self.towns
    }

    /// The distinct town names whose keys are `lengths` bytes long.
    pub fn names(&self, lengths: RangeInclusive<usize>) -> &[NameGroup] {
        let start = self.names.partition_point(|g| g.key_len < *lengths.start());
        let end = self.names.partition_point(|g| g.key_len <= *lengths.end());
        &self.names[start..end.max(start)]
    }

    /// The towns (one per state) that share a name.
    pub fn towns_of(&self, group: &NameGroup) -> &[Town] {
        &self.towns[group.first as usize..group.end as usize]
    }

    /// The town with this key (or its alias) in this state.
    pub fn town(&self, key: &str, state: &str) -> Option<&Town> {
        let find = |key: &str| {
            let found = self
                .towns
                .binary_search_by(|t| (t.key(), t.state).cmp(&(key, state)))
                .ok()?;
            self.towns.get(found)
        };
        find(key).or_else(|| find(alias(key, state)?))
    }

    /// Towns with this key, in any state (sorted by state).
    pub fn towns_named(&self, key: &str) -> &[Town] {
        let start = self.towns.partition_point(|t| t.key() < key);
        let end = start + self.towns[start..].partition_point(|t| t.key() == key);
        &self.towns[start..end]
    }

    /// Towns whose key starts with `prefix`.
    pub fn towns_with_prefix(&self, prefix: &str) -> &[Town] {
        let start = self.towns.partition_point(|t| t.key() < prefix);
        let end = start + self.towns[start..].partition_point(|t| t.key().starts_with(prefix));
        &self.towns[start..end]
    }

    /// The state whose USPS code or normalised name is `key` (a [`name_key`]).
    pub fn state(&self, key: &str) -> Option<&State> {
        // The key reads "Mt" as "Mount" (Mount Vernon); as a state, "MT"
        // is Montana ("Bozeman, MT").
        let key = if key == "mount" { "mt" } else { key };
        self.states.iter().find(|state| {
            state.key == key || (key.len() == 2 && state.code.eq_ignore_ascii_case(key))
        })
    }

    /// Every state, district and territory of docs/csv.md.
    pub fn states(&self) -> &[State] {
        &self.states
    }
}

/// Room for the towns and ZIP codes of the embedded files (36k and 41k),
/// so the tables are not regrown while they are filled.
const TOWNS_CAPACITY: usize = 40_000;
const ZIPS_CAPACITY: usize = 42_000;

/// Collects towns and ZIP codes while the files are read.
struct Builder {
    /// Towns in the order met; their keys live in `by_key` until `finish`.
    towns: Vec<Town>,
    /// (key, state) → index in `towns`, so both files meet on one town.
    by_key: FastMap<(String, &'static str), u32>,
    /// Sums of each town's ZIP centroids (used for towns known only from
    /// ZIP codes).
    sums: Vec<(f64, f64)>,
    zips: Vec<ZipPlace>,
}

impl Builder {
    /// city,state,lat,lon,population — a malformed line is skipped rather
    /// than trusted (the files are ours; a test checks none is skipped).
    fn add_city(&mut self, line: &'static str) {
        let Some([name, state, lat, lon, population]) = csv_fields(line) else {
            return;
        };
        let (Some(position), Ok(population)) = (position(lat, lon), population.parse::<u32>())
        else {
            return;
        };
        // Only places a provider's `state` can name (the Marshall Islands
        // and the military "states" are in the files, not in the list).
        if !is_listed_state(state) {
            return;
        }
        let key = name_key(name);
        if key.is_empty() {
            return;
        }
        let town = Town {
            name,
            state,
            position,
            population: Some(population),
            zip_count: 0,
            key: String::new(),
        };
        // The file keeps one row per GeoNames name, but "St Marys" and
        // "St. Marys" share a key: keep the more populous.
        match self.by_key.entry((key, state)) {
            Entry::Occupied(entry) => {
                let kept = &mut self.towns[*entry.get() as usize];
                if kept.population < town.population {
                    *kept = town;
                }
            }
            Entry::Vacant(entry) => {
                entry.insert(self.towns.len() as u32);
                self.towns.push(town);
                self.sums.push((0.0, 0.0));
            }
        }
    }

    /// zip,city,state,lat,lon
    fn add_zip(&mut self, line: &'static str) {
        let Some([zip, city, state, lat, lon]) = csv_fields(line) else {
            return;
        };
        let Some(position) = position(lat, lon) else {
            return;
        };
        if zip.len() != 5 || !zip.bytes().all(|b| b.is_ascii_digit()) || !is_listed_state(state) {
            return;
        }
        let lookup = (name_key(city), state);
        let known = self.by_key.get(&lookup).copied().or_else(|| {
            let other = alias(&lookup.0, state)?;
            self.by_key.get(&(other.to_string(), state)).copied()
        });
        let town = known.unwrap_or_else(|| {
            let town = self.towns.len() as u32;
            self.towns.push(Town {
                name: city,
                state,
                position,
                population: None,
                zip_count: 0,
                key: String::new(),
            });
            self.sums.push((0.0, 0.0));
            self.by_key.insert(lookup, town);
            town
        });
        self.towns[town as usize].zip_count += 1;
        let sum = &mut self.sums[town as usize];
        sum.0 += position.lat;
        sum.1 += position.lon;
        self.zips.push(ZipPlace {
            zip,
            city,
            state,
            position,
            town,
        });
    }

    fn finish(mut self) -> Gazetteer {
        for ((key, _), index) in self.by_key {
            let town = &mut self.towns[index as usize];
            town.key = key;
            // A town known only from ZIP codes sits at the mean of their
            // centroids. A plain mean is right here: a town's ZIP codes are
            // a few miles apart and none straddles the antimeridian.
            if town.population.is_none() && town.zip_count > 0 {
                let (lat_sum, lon_sum) = self.sums[index as usize];
                let count = f64::from(town.zip_count);
                if let Some(mean) = LatLon::new(lat_sum / count, lon_sum / count) {
                    town.position = mean;
                }
            }
        }
        // Sort towns by (key, state) and point the ZIP codes at the new
        // places. The first 8 bytes of the key, as a number, decide most
        // comparisons without touching the strings.
        let mut order: Vec<(u64, u32)> = (0..)
            .zip(&self.towns)
            .map(|(index, town)| (key_prefix(town.key()), index))
            .collect();
        order.sort_unstable_by(|a, b| {
            a.0.cmp(&b.0).then_with(|| {
                let (a, b) = (&self.towns[a.1 as usize], &self.towns[b.1 as usize]);
                (a.key(), a.state).cmp(&(b.key(), b.state))
            })
        });
        let mut new_index = vec![0u32; order.len()];
        for (new, &(_, old)) in (0..).zip(&order) {
            new_index[old as usize] = new;
        }
        let mut slots: Vec<Option<Town>> = self.towns.into_iter().map(Some).collect();
        let towns: Vec<Town> = order
            .iter()
            .filter_map(|&(_, old)| slots[old as usize].take())
            .collect();
        for zip in &mut self.zips {
            zip.town = new_index[zip.town as usize];
        }
        // The file is sorted already; a stable sort of sorted input is linear.
        self.zips.sort_by(|a, b| a.zip.cmp(b.zip));
        self.zips.dedup_by(|a, b| a.zip == b.zip);
        let states = US_STATES
            .iter()
            .map(|&(code, name)| State {
                code,
                name,
                key: name_key(name),
            })
            .collect();
        Gazetteer {
            zips: self.zips,
            names: name_groups(&towns),
            towns,
            states,
        }
    }
}

/// Groups sorted towns by key, then orders the groups by key length so a
/// fuzzy scan reads only the lengths within its edit budget.
fn name_groups(towns: &[Town]) -> Vec<NameGroup> {
    let mut groups: Vec<NameGroup> = Vec::with_capacity(towns.len());
    for (index, town) in (0..).zip(towns) {
        match groups.last_mut() {
            Some(group) if towns[group.first as usize].key() == town.key() => group.end = index + 1,
            _ => groups.push(NameGroup {
                letters: letter_mask(town.key()),
                key_len: town.key().len(),
                first: index,
                end: index + 1,
            }),
        }
    }
    groups.sort_by_key(|group| group.key_len);
    groups
}

/// The first 8 bytes of a key as a big-endian number (zero-padded): it
/// orders like the key's bytes, and no key contains a zero byte.
fn key_prefix(key: &str) -> u64 {
    let mut word = [0u8; 8];
    let length = key.len().min(8);
    word[..length].copy_from_slice(&key.as_bytes()[..length]);
    u64::from_be_bytes(word)
}

/// A hash map with FxHash (rustc's hasher: one rotate, xor and multiply per
/// word). The keys are our own embedded data, so SipHash's resistance to
/// crafted keys buys nothing, and it cost a fifth of the parse. An import
/// uses it too, for the ids and insurers of the operator's own file.
pub(crate) type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

#[derive(Default)]
pub(crate) struct FxHasher(u64);

impl FxHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_u8(&mut self, n: u8) {
        self.add(u64::from(n));
    }

    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    fn finish(&self) -> u64 {
        // hashbrown picks the bucket from the low bits, which a multiply
        // mixes least (ids that differ in their last bytes all landed
        // together: a 1M-row import took minutes); bring the well-mixed
        // high bits down, as rustc-hash 2 does.
        self.0.rotate_left(26)
    }
}

fn position(lat: &str, lon: &str) -> Option<LatLon> {
    LatLon::new(lat.parse().ok()?, lon.parse().ok()?)
}

/// Splits one line of the embedded files into `N` fields. Fields may be
/// quoted (three city names contain commas) but never contain quotes, so
/// the slices borrow from the embedded text and parsing allocates nothing.
fn csv_fields<const N: usize>(line: &'static str) -> Option<[&'static str; N]> {
    let bytes = line.as_bytes();
    let mut fields = [""; N];
    let mut at = 0;
    for (i, field) in fields.iter_mut().enumerate() {
        if at > bytes.len() {
            return None;
        }
        // Delimiters are ASCII, so every slice boundary is a char boundary.
        let (start, end, next) = if bytes.get(at) == Some(&b'"') {
            let close = at + 1 + bytes[at + 1..].iter().position(|&b| b == b'"')?;
            (at + 1, close, close + 2)
        } else {
            let end = bytes[at..]
                .iter()
                .position(|&b| b == b',')
                .map_or(bytes.len(), |p| at + p);
            (at, end, end + 1)
        };
        *field = &line[start..end];
        at = next;
        if i + 1 < N && at > bytes.len() {
            return None;
        }
    }
    Some(fields)
}

/// Abbreviations read as the word they stand for ("St. Louis" = "Saint
/// Louis", "Ft Worth" = "Fort Worth").
pub const ABBREVIATIONS: [(&str, &str); 4] = [
    ("st", "saint"),
    ("ste", "sainte"),
    ("ft", "fort"),
    ("mt", "mount"),
];

/// Towns the two files name differently (normalised, GeoNames first): the
/// USPS "New York, NY" is GeoNames' "New York City". Keys stay as spelled,
/// because "New York" alone is also the state; [`Gazetteer::town`] tries
/// the other spelling when one is not found.
const ALIASES: [(&str, &str, &str); 1] = [("new york city", "new york", "NY")];

/// The other spelling of a town in `state`, if it has one.
/// A code of the states, district and territories a search can name.
fn is_listed_state(code: &str) -> bool {
    US_STATES.iter().any(|(listed, _)| *listed == code)
}

fn alias(key: &str, state: &str) -> Option<&'static str> {
    ALIASES.iter().find_map(|&(geonames, usps, alias_state)| {
        if state != alias_state {
            None
        } else if key == geonames {
            Some(usps)
        } else if key == usps {
            Some(geonames)
        } else {
            None
        }
    })
}

/// The comparable form of a place name: lower case, accents folded,
/// apostrophes dropped ("Hawaiʻi", "St. Mary's"), any other punctuation a
/// single space, [`ABBREVIATIONS`] spelled out, and "Mc" joined to the word
/// after it (USPS "Mc Lean", GeoNames "McLean"), a leading "The" dropped.
///
/// `"  Ft. Collins "` → `"fort collins"`, `"Cañon City"` → `"canon city"`.
pub fn name_key(text: &str) -> String {
    normalize(text, true)
}

/// [`name_key`], except that the last word stays as typed when it may be
/// unfinished (no separator after it): "st" may be "Saint" or the start of
/// "Sterling".
pub fn name_key_unfinished(text: &str) -> String {
    normalize(text, false)
}

fn normalize(text: &str, expand_last: bool) -> String {
    let folded: Cow<str> = if text.is_ascii() {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(fold_accents(text))
    };
    // Words are written straight into the key (no allocation per word);
    // `word_start` is where the current word began.
    let mut key = String::with_capacity(folded.len());
    let mut word_start = None;
    for c in folded.chars() {
        // "ʻ" (Hawaiian) counts as a letter in Unicode; as an apostrophe it
        // must vanish, not join or split words.
        if is_apostrophe(c) {
            continue;
        }
        let letter = if c.is_ascii() {
            c.is_ascii_alphanumeric()
        } else {
            c.is_alphanumeric()
        };
        if letter {
            if word_start.is_none() {
                if !key.is_empty() && !key.ends_with(" mc") && key != "mc" {
                    key.push(' ');
                }
                word_start = Some(key.len());
            }
            if c.is_ascii() {
                key.push(c.to_ascii_lowercase());
            } else {
                key.extend(c.to_lowercase());
            }
        } else if let Some(start) = word_start.take() {
            expand_word(&mut key, start);
        }
    }
    if let Some(start) = word_start
        && expand_last
    {
        expand_word(&mut key, start);
    }
    // GeoNames says "The Bronx", USPS "Bronx".
    if key.starts_with("the ") {
        key.drain(..4);
    }
    key
}

/// Replaces the key's last word (from `start`) by what it abbreviates.
fn expand_word(key: &mut String, start: usize) {
    if let Some((_, long)) = ABBREVIATIONS
        .iter()
        .find(|(short, _)| key[start..] == **short)
    {
        key.truncate(start);
        key.push_str(long);
    }
}

fn is_apostrophe(c: char) -> bool {
    matches!(
        c,
        '\'' | '\u{2018}' | '\u{2019}' | '\u{02BB}' | '\u{02BC}' | '`' | '\u{00B4}'
    )
}

/// Folds accents the way the index folds `q` (tantivy's ASCII folding), so
/// "Cañon" and "Canon" meet.
fn fold_accents(text: &str) -> String {
    let mut analyzer = TextAnalyzer::builder(RawTokenizer::default())
        .filter(AsciiFoldingFilter)
        .build();
    let mut stream = analyzer.token_stream(text);
    let mut folded = String::with_capacity(text.len());
    while stream.advance() {
        folded.push_str(&stream.token().text);
    }
    folded
}

/// Which characters a key contains (a–z, 0–9, space, anything else), one
/// bit each. One edit changes at most two bits, so two keys whose masks
/// differ in more than 2·k bits are more than k edits apart.
pub fn letter_mask(key: &str) -> u64 {
    key.bytes().fold(0, |mask, b| {
        mask | 1u64
            << match b {
                b'a'..=b'z' => u32::from(b - b'a'),
                b'0'..=b'9' => 26 + u32::from(b - b'0'),
                b' ' => 36,
                _ => 37,
            }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knows_denver_and_keeps_leading_zeros() {
        let gazetteer = Gazetteer::get();
        let denver = gazetteer.zip("80202").expect("80202 is in the file");
        assert_eq!(denver.state, "CO");
        assert!((denver.position.lat - 39.75).abs() < 0.1);
        let holtsville = gazetteer.zip("00501").expect("00501 is in the file");
        assert_eq!(holtsville.zip, "00501");
        assert!(gazetteer.zip("501").is_none());
        assert!(gazetteer.zip("99999").is_none());
        assert!(gazetteer.zip("8020a").is_none());
    }

    #[test]
    fn every_line_of_both_files_is_read() {
        let gazetteer = Gazetteer::get();
        // Every line of a listed state or territory (the files also hold
        // the Marshall Islands, which no provider's `state` can name).
        let listed_zips = ZIPS_CSV
            .lines()
            .skip(1)
            .filter_map(csv_fields::<5>)
            .filter(|[_, _, state, ..]| is_listed_state(state))
            .count();
        assert_eq!(gazetteer.zips().len(), listed_zips);
        assert!(listed_zips + 5 > ZIPS_CSV.lines().count() - 1);
        let cities = CITIES_CSV
            .lines()
            .skip(1)
            .filter_map(csv_fields::<5>)
            .filter(|[_, state, ..]| is_listed_state(state));
        let keys: std::collections::HashSet<(String, &str)> = cities
            .map(|[name, state, ..]| (name_key(name), state))
            .collect();
        let from_city_file = gazetteer
            .towns()
            .iter()
            .filter(|t| t.population.is_some())
            .count();
        assert_eq!(from_city_file, keys.len());
        assert_eq!(
            CITIES_CSV
                .lines()
                .skip(1)
                .filter_map(csv_fields::<5>)
                .count(),
            CITIES_CSV.lines().count() - 1
        );
    }

    #[test]
    fn names_fold_case_accents_punctuation_and_abbreviations() {
        let cases = [
            ("Denver", "denver"),
            ("  DENVER  ", "denver"),
            ("St. Louis", "saint louis"),
            ("St Louis", "saint louis"),
            ("Saint Louis", "saint louis"),
            ("Ste. Genevieve", "sainte genevieve"),
            ("Ft. Collins", "fort collins"),
            ("Mt Vernon", "mount vernon"),
            ("Cañon City", "canon city"),
            ("Hawaiʻi Kai", "hawaii kai"),
            ("St. Mary's", "saint marys"),
            ("Winston-Salem", "winston salem"),
            ("New York City", "new york city"),
            ("new  york", "new york"),
            ("Mc Lean", "mclean"),
            ("McLean", "mclean"),
            ("Lake Mc Queeney", "lake mcqueeney"),
            ("Mcallen", "mcallen"),
            ("The Bronx", "bronx"),
            ("Stamford", "stamford"),
            ("\u{0}!!", ""),
            ("😀", ""),
        ];
        for (name, key) in cases {
            assert_eq!(name_key(name), key, "{name:?}");
        }
        assert_eq!(name_key_unfinished("st"), "st");
        assert_eq!(name_key_unfinished("st "), "saint");
        assert_eq!(name_key_unfinished("ft. col"), "fort col");
    }

    #[test]
    fn both_files_meet_on_one_town_and_usps_only_names_get_a_mean() {
        let gazetteer = Gazetteer::get();
        let st_louis = gazetteer.town("saint louis", "MO").expect("St. Louis, MO");
        assert_eq!(st_louis.name, "St. Louis");
        assert!(st_louis.zip_count > 10, "USPS 'Saint Louis' ZIPs join it");
        let zip = gazetteer.zip("63101").expect("63101");
        assert_eq!(gazetteer.town_of(zip).name, "St. Louis");
        let new_york = gazetteer.town("new york", "NY").expect("NYC");
        assert_eq!(new_york.name, "New York City");
        assert_eq!(
            gazetteer.zip("10001").map(|z| gazetteer.town_of(z).name),
            Some("New York City")
        );
        let bronx = gazetteer.town("bronx", "NY").expect("USPS Bronx");
        assert_eq!(bronx.name, "The Bronx");
        // "Flushing, NY" is a USPS name only: its point is its ZIPs' mean.
        let flushing = gazetteer.town("flushing", "NY").expect("Flushing");
        let zips: Vec<&ZipPlace> = gazetteer
            .zips()
            .iter()
            .filter(|z| z.city == "Flushing" && z.state == "NY")
            .collect();
        assert_eq!(flushing.population, None);
        assert_eq!(flushing.zip_count as usize, zips.len());
        let mean_lat = zips.iter().map(|z| z.position.lat).sum::<f64>() / zips.len() as f64;
        let mean_lon = zips.iter().map(|z| z.position.lon).sum::<f64>() / zips.len() as f64;
        assert!((flushing.position.lat - mean_lat).abs() < 1e-9);
        assert!((flushing.position.lon - mean_lon).abs() < 1e-9);
    }

    #[test]
    fn towns_are_sorted_and_unique_and_prefixes_are_ranges() {
        let gazetteer = Gazetteer::get();
        assert!(
            gazetteer
                .towns()
                .windows(2)
                .all(|w| (w[0].key(), w[0].state) < (w[1].key(), w[1].state))
        );
        assert!(gazetteer.towns_named("springfield").len() > 20);
        let names = gazetteer.names(0..=usize::MAX);
        assert!(names.len() < gazetteer.towns().len());
        assert_eq!(
            names
                .iter()
                .map(|g| gazetteer.towns_of(g).len())
                .sum::<usize>(),
            gazetteer.towns().len()
        );
        for group in names {
            let towns = gazetteer.towns_of(group);
            assert!(towns.iter().all(|t| t.key() == towns[0].key()));
            assert_eq!(group.key_len, towns[0].key().len());
        }
        assert!(names.windows(2).all(|w| {
            let (a, b) = (gazetteer.towns_of(&w[0]), gazetteer.towns_of(&w[1]));
            (a[0].key().len(), a[0].key()) < (b[0].key().len(), b[0].key())
        }));
        let six = gazetteer.names(6..=6);
        assert!(!six.is_empty() && six.iter().all(|g| g.key_len == 6));
        assert!(
            gazetteer
                .towns_with_prefix("denv")
                .iter()
                .all(|t| t.key().starts_with("denv"))
        );
        assert!(gazetteer.towns_with_prefix("zzzzzz").is_empty());
        let zips = gazetteer.zips_with_prefix("8020");
        assert!(zips.iter().all(|z| z.zip.starts_with("8020")) && zips.len() > 5);
        assert_eq!(gazetteer.state("colorado").map(|s| s.code), Some("CO"));
        assert_eq!(gazetteer.state("co").map(|s| s.code), Some("CO"));
        assert_eq!(
            gazetteer.state("district of columbia").map(|s| s.code),
            Some("DC")
        );
        assert_eq!(gazetteer.state("xx"), None);
    }

    #[test]
    fn quoted_fields_and_short_lines() {
        assert_eq!(
            csv_fields::<3>("\"Olinda, CDP\",HI,1"),
            Some(["Olinda, CDP", "HI", "1"])
        );
        assert_eq!(csv_fields::<3>("a,b"), None);
        assert_eq!(csv_fields::<3>("a,b,"), Some(["a", "b", ""]));
        assert_eq!(csv_fields::<2>("a,b,c"), Some(["a", "b"]));
        assert_eq!(csv_fields::<2>("\"a\""), None);
        assert_eq!(csv_fields::<2>("\"open,b"), None);
    }

    #[test]
    fn letter_masks_bound_edit_distance() {
        assert_eq!(letter_mask("ab"), 0b11);
        assert_eq!(
            (letter_mask("denver") ^ letter_mask("denvr")).count_ones(),
            0
        );
        assert_eq!(
            (letter_mask("denver") ^ letter_mask("denvet")).count_ones(),
            2
        );
    }
}
