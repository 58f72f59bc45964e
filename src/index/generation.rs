//! An opened, read-only generation: its searcher, metadata and the
//! per-segment columns the search collector reads.
//!
//! Fast fields are copied into plain vectors once, when the generation is
//! opened, and derived values (unit vectors for the distance test, the
//! insurance facet bitmask, the sort ranks) are computed there too: a query
//! then touches only arrays indexed by doc id.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, Write};
use std::path::Path;
use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Serialize};
use tantivy::{Index, IndexReader, ReloadPolicy, Searcher, SegmentReader};

use super::generations::IndexDir;
use super::ranks::Ranks;
use super::records::RecordStore;
use super::schema::{Fields, GEO_ORDER_FIELD, TEXT_TOKENIZER, text_analyzer};
use super::{FORMAT_VERSION, IndexError, LEGACY_FORMAT_VERSION};
use crate::geo::LatLon;
use crate::provider::Provider;

const META_FILE: &str = "generation.json";
/// Where generations of format 1 kept their metadata (no format marker).
const LEGACY_META_FILE: &str = "ketadir.json";
const RANKS_FILE: &str = "ranks.bin";

/// Facts about a generation, written when it is built (`generation.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GenerationMeta {
    pub generation: u64,
    /// Random, made when the generation is built: tells two builds apart
    /// even if they carry the same number (one an older ketadir made, or a
    /// directory replaced by hand). `None` in generations built before it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The [`FORMAT_VERSION`] of the binary that built it; a generation
    /// without one is of format 1.
    #[serde(default = "legacy_format")]
    pub format_version: u32,
    pub documents: u64,
    pub built_at: String,
    /// `m` of the adjusted rating: the mean raw rating of rated providers.
    pub mean_rating: f64,
    pub rated_providers: u64,
    pub source: Option<String>,
    /// SHA-256 (hex) and size of the CSV the generation was built from.
    #[serde(default)]
    pub source_sha256: Option<String>,
    #[serde(default)]
    pub source_bytes: u64,
    pub rows_read: u64,
    pub invalid_rows_skipped: u64,
    /// Display names of the insurers, by ord (first spelling seen).
    pub insurance_names: Vec<String>,
    /// The ords that own bits 0..63 of the insurance facet bitmask.
    pub insurance_bit_owners: Vec<u32>,
}

fn legacy_format() -> u32 {
    LEGACY_FORMAT_VERSION
}

/// Opens `generation.json`, or the `ketadir.json` of a format-1 generation.
fn open_meta_file(generation_dir: &Path) -> Result<(File, std::path::PathBuf), IndexError> {
    let path = generation_dir.join(META_FILE);
    let error = match File::open(&path) {
        Ok(file) => return Ok((file, path)),
        Err(error) => error,
    };
    if error.kind() == std::io::ErrorKind::NotFound {
        let legacy = generation_dir.join(LEGACY_META_FILE);
        if let Ok(file) = File::open(&legacy) {
            return Ok((file, legacy));
        }
    }
    Err(IndexError::Io {
        context: format!("opening {}", path.display()),
        source: error,
    })
}

/// The format version a generation directory records (1 when it records
/// none). Reads only the marker, so the metadata of any other format,
/// newer ones included, need not parse as this binary's.
pub fn format_of(generation_dir: &Path) -> Result<u32, IndexError> {
    #[derive(Deserialize)]
    struct Marker {
        #[serde(default = "legacy_format")]
        format_version: u32,
    }
    let (file, path) = open_meta_file(generation_dir)?;
    let marker: Marker = serde_json::from_reader(BufReader::new(file))
        .map_err(|e| IndexError::Corrupt(format!("{}: {e}", path.display())))?;
    Ok(marker.format_version)
}

/// Refuses a generation whose format is not [`FORMAT_VERSION`], with
/// [`IndexError::OldFormat`] or [`IndexError::NewerFormat`].
pub fn check_format(dir: &IndexDir, generation: u64) -> Result<(), IndexError> {
    let found = format_of(&dir.generation_path(generation))?;
    let expected = FORMAT_VERSION;
    match found.cmp(&expected) {
        std::cmp::Ordering::Equal => Ok(()),
        std::cmp::Ordering::Less => Err(IndexError::OldFormat {
            generation,
            found,
            expected,
        }),
        std::cmp::Ordering::Greater => Err(IndexError::NewerFormat {
            generation,
            found,
            expected,
        }),
    }
}

/// What tells one build of a generation from another: its number, its
/// random `id`, when it was built and from which bytes (the last two for
/// generations built before the `id`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct GenerationIdentity {
    pub generation: u64,
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub built_at: String,
    #[serde(default)]
    pub source_sha256: Option<String>,
}

impl GenerationIdentity {
    /// Reads the identity of the generation in `generation_dir` from its
    /// metadata, without parsing the rest (cheap enough for every poll).
    pub fn read(generation_dir: &Path) -> Result<GenerationIdentity, IndexError> {
        let (file, path) = open_meta_file(generation_dir)?;
        serde_json::from_reader(BufReader::new(file))
            .map_err(|e| IndexError::Corrupt(format!("{}: {e}", path.display())))
    }
}

impl GenerationMeta {
    /// A new random id for a build of `generation` (128 bits, hex): the
    /// process's random hasher keys, the time, the process and the source.
    pub fn new_id(generation: u64, source_sha256: &str) -> String {
        use sha2::{Digest, Sha256};
        use std::hash::BuildHasher;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let random = std::collections::hash_map::RandomState::new().hash_one((
            generation,
            nanos,
            std::process::id(),
        ));
        let mut digest = Sha256::new();
        digest.update(random.to_le_bytes());
        digest.update(nanos.to_le_bytes());
        digest.update(std::process::id().to_le_bytes());
        digest.update(generation.to_le_bytes());
        digest.update(source_sha256.as_bytes());
        digest.finalize()[..16]
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect()
    }

    /// This generation's [`GenerationIdentity`].
    pub fn identity(&self) -> GenerationIdentity {
        GenerationIdentity {
            generation: self.generation,
            id: self.id.clone(),
            built_at: self.built_at.clone(),
            source_sha256: self.source_sha256.clone(),
        }
    }

    /// Reads `generation.json` (or a format-1 generation's `ketadir.json`).
    pub fn read(generation_dir: &Path) -> Result<GenerationMeta, IndexError> {
        let (file, path) = open_meta_file(generation_dir)?;
        serde_json::from_reader(BufReader::new(file))
            .map_err(|e| IndexError::Corrupt(format!("{}: {e}", path.display())))
    }

    pub fn write(&self, generation_dir: &Path) -> Result<(), IndexError> {
        let path = generation_dir.join(META_FILE);
        let write = || -> std::io::Result<()> {
            let mut file = File::create(&path)?;
            serde_json::to_writer_pretty(&mut file, self)?;
            file.write_all(b"\n")?;
            file.sync_all()
        };
        write().map_err(|source| IndexError::Io {
            context: format!("writing {}", path.display()),
            source,
        })
    }
}

/// Bit 63 of `insurance_bits` marks a provider with an insurer beyond the
/// 63 most frequent; those are read from `overflow_ords`.
pub const INSURANCE_OVERFLOW_BIT: u64 = 1 << 63;

/// What the collector reads per document of one segment.
#[derive(Debug, Default)]
pub struct SegmentColumns {
    /// Each doc's Z-order key (`geo_order`), ascending: the docs of a key
    /// range are a doc range.
    pub geo_keys: Vec<u64>,
    pub latitude: Vec<f64>,
    pub longitude: Vec<f64>,
    pub unit_vector: Vec<[f64; 3]>,
    pub flags: Vec<u32>,
    pub insurance_bits: Vec<u64>,
    /// Docs with insurers outside the bitmask (sorted), and their ords.
    pub overflow_docs: Vec<u32>,
    pub overflow_ords: Vec<Vec<u32>>,
    /// Raw rating; NaN when unrated (so every comparison fails).
    pub rating: Vec<f64>,
    /// `price_min`, `u32::MAX` when not given.
    pub price_min: Vec<u32>,
    pub review_count: Vec<u32>,
    /// `last_verified` as days since 1970-01-01; 0 when not given.
    pub verified_day: Vec<u32>,
    /// The states a telehealth provider reaches, as a bitmask over
    /// `provider::US_STATES` (0 without telehealth).
    pub reach_states: Vec<u64>,
    /// The provider's own state, as its index in `US_STATES`.
    pub state_ord: Vec<u8>,
    /// The provider record number of each doc (see `records.rs`).
    pub seq: Vec<u32>,
    pub ranks: Ranks,
    /// One bitset over the segment's docs per facet value: indexes 0..32
    /// are the bits of `flags`, 32..95 the insurance bits. Counting a facet
    /// over a large match set is then a popcount of two bitsets ANDed.
    pub facet_sets: Vec<Vec<u64>>,
    /// The segment's docs in each single-rank order, built on first use.
    rank_orders: [OnceLock<Vec<u32>>; 3],
    /// Per state (index in `US_STATES`), the telehealth providers that
    /// reach it, built on first use: see [`ReachEntry`].
    reach_lists: Vec<OnceLock<ReachList>>,
}

/// The telehealth providers of a segment that reach one state (best rated
/// first), and their facet counts all together: a search that excludes few of them counts
/// those few and subtracts.
#[derive(Debug)]
pub struct ReachList {
    pub entries: Vec<ReachEntry>,
    pub flag_counts: [u64; 32],
    pub insurance_bit_counts: [u64; 63],
    pub overflow_counts: HashMap<u32, u64>,
}

impl Default for ReachList {
    fn default() -> Self {
        ReachList {
            entries: Vec::new(),
            flag_counts: [0; 32],
            insurance_bit_counts: [0; 63],
            overflow_counts: HashMap::new(),
        }
    }
}

/// What telehealth reach reads of a provider, packed: a search reads a
/// state's list front to back instead of gathering a few columns per
/// provider from all over the segment (those reads were most of the cost of
/// `include_telehealth`, as cache misses; BENCHMARKS.md).
#[derive(Debug, Clone, Copy)]
pub struct ReachEntry {
    pub doc: u32,
    pub flags: u32,
    /// `ranks.rating_tier` of the doc (the rating order's first key).
    pub rating_tier: u32,
    /// `ranks.rating` of the doc: lists are in this order.
    pub rating_rank: u32,
    /// The columns the rating, price and date filters read.
    pub rating: f64,
    pub price_min: u32,
    pub verified_day: u32,
    /// The provider's own state (index in `US_STATES`).
    pub state_ord: u8,
    pub unit_vector: [f64; 3],
    pub insurance_bits: u64,
}

impl ReachEntry {
    /// Adds (`sign` 1) or takes away (`sign` -1, as wrapping) this
    /// provider's facet values to or from the counts.
    pub fn count_into(
        &self,
        columns: &SegmentColumns,
        flag_counts: &mut [u64; 32],
        insurance_bit_counts: &mut [u64; 63],
        overflow_counts: &mut HashMap<u32, u64>,
        sign: u64,
    ) {
        let mut bits = self.flags;
        while bits != 0 {
            let slot = &mut flag_counts[bits.trailing_zeros() as usize];
            *slot = slot.wrapping_add(sign);
            bits &= bits - 1;
        }
        let mut bits = self.insurance_bits & !INSURANCE_OVERFLOW_BIT;
        while bits != 0 {
            let slot = &mut insurance_bit_counts[bits.trailing_zeros() as usize];
            *slot = slot.wrapping_add(sign);
            bits &= bits - 1;
        }
        if self.insurance_bits & INSURANCE_OVERFLOW_BIT != 0 {
            for &ord in columns.overflow_ords_of(self.doc) {
                let slot = overflow_counts.entry(ord).or_default();
                *slot = slot.wrapping_add(sign);
            }
        }
    }
}

/// The orderings that are one precomputed rank.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RankArray {
    Rating,
    Reviews,
    Price,
}

/// Index in [`SegmentColumns::facet_sets`] of insurance bit `bit`.
pub const INSURANCE_FACET_SETS: usize = 32;

impl SegmentColumns {
    pub fn rank(&self, array: RankArray, doc: usize) -> u32 {
        match array {
            RankArray::Rating => self.ranks.rating[doc],
            RankArray::Reviews => self.ranks.reviews[doc],
            RankArray::Price => self.ranks.price[doc],
        }
    }

    /// The segment's doc ids, best first in `array`'s order.
    pub fn rank_order(&self, array: RankArray) -> &[u32] {
        self.rank_orders[array as usize].get_or_init(|| {
            let mut docs: Vec<u32> = (0..self.flags.len() as u32).collect();
            docs.sort_unstable_by_key(|&doc| self.rank(array, doc as usize));
            docs
        })
    }

    /// The telehealth providers that reach the state with index `state`
    /// in `US_STATES`, in doc order (empty for an index out of range).
    pub fn reach_list(&self, state: usize) -> Option<&ReachList> {
        let list = self.reach_lists.get(state)?;
        Some(list.get_or_init(|| {
            let bit = 1u64 << state;
            let entries: Vec<ReachEntry> = self
                .reach_states
                .iter()
                .enumerate()
                .filter(|(_, states)| *states & bit != 0)
                .map(|(doc, _)| ReachEntry {
                    doc: doc as u32,
                    flags: self.flags[doc],
                    rating_tier: self.ranks.rating_tier[doc],
                    rating_rank: self.ranks.rating[doc],
                    rating: self.rating[doc],
                    price_min: self.price_min[doc],
                    verified_day: self.verified_day[doc],
                    state_ord: self.state_ord[doc],
                    unit_vector: self.unit_vector[doc],
                    insurance_bits: self.insurance_bits[doc],
                })
                .collect();
            // Best rated first: a search ordered by rating stops reading
            // once the rest cannot enter its page.
            let mut entries = entries;
            entries.sort_unstable_by_key(|entry| entry.rating_rank);
            let mut list = ReachList {
                entries,
                ..ReachList::default()
            };
            for entry in &list.entries {
                entry.count_into(
                    self,
                    &mut list.flag_counts,
                    &mut list.insurance_bit_counts,
                    &mut list.overflow_counts,
                    1,
                );
            }
            list
        }))
    }

    /// Insurer ords of a document outside the bitmask.
    pub fn overflow_ords_of(&self, doc: u32) -> &[u32] {
        match self.overflow_docs.binary_search(&doc) {
            Ok(i) => &self.overflow_ords[i],
            Err(_) => &[],
        }
    }
}

/// A generation opened for searching. Cheap to share (`Arc`); requests keep
/// the one they started with even when a newer one is swapped in.
pub struct Generation {
    pub meta: GenerationMeta,
    pub fields: Fields,
    pub searcher: Searcher,
    pub segments: Vec<SegmentColumns>,
    /// Bit position (0..63) of each insurer ord, if it has one.
    pub insurance_bit_of_ord: Vec<Option<u8>>,
    /// What the search has learnt of this generation's terms (a word's
    /// fuzzy variants); the terms never change, so neither does an entry.
    pub term_cache: TermCache,
    records: RecordStore,
    _reader: IndexReader,
}

impl std::fmt::Debug for Generation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Generation")
            .field("generation", &self.meta.generation)
            .field("documents", &self.meta.documents)
            .finish()
    }
}

/// A bounded map from a typed word to the generation's terms it matches
/// (search::text::expand). Patients type the same common words again and
/// again; walking four term dictionaries with a Levenshtein automaton cost
/// a tenth of a words + place search at 1M.
#[derive(Debug, Default)]
pub struct TermCache {
    words: std::sync::Mutex<HashMap<String, Arc<[Vec<u8>]>>>,
}

impl TermCache {
    /// Beyond this many words the cache starts again (a few MB at most).
    const CAPACITY: usize = 4096;

    pub fn get(&self, word: &str) -> Option<Arc<[Vec<u8>]>> {
        self.words.lock().ok()?.get(word).cloned()
    }

    pub fn insert(&self, word: &str, terms: Arc<[Vec<u8>]>) {
        if let Ok(mut words) = self.words.lock() {
            if words.len() >= Self::CAPACITY {
                words.clear();
            }
            words.insert(word.to_owned(), terms);
        }
    }
}

fn corrupt(what: impl std::fmt::Display) -> IndexError {
    IndexError::Corrupt(what.to_string())
}

impl Generation {
    pub fn number(&self) -> u64 {
        self.meta.generation
    }

    /// The provider behind a document.
    pub fn provider(&self, segment: u32, doc: u32) -> Result<Provider, IndexError> {
        let seq = self
            .segments
            .get(segment as usize)
            .and_then(|columns| columns.seq.get(doc as usize))
            .ok_or_else(|| corrupt(format!("no document {doc} in segment {segment}")))?;
        self.records.get(*seq)
    }

    /// Every provider of the generation, in file order, until `each`
    /// returns false (bulk export; constant memory).
    pub fn for_each_provider(&self, each: impl FnMut(Provider) -> bool) -> Result<(), IndexError> {
        self.records.for_each(each)
    }

    /// Opens the generation `CURRENT` names.
    pub fn open_current(dir: &IndexDir) -> Result<Generation, IndexError> {
        let current = dir.current()?.ok_or(IndexError::NoGeneration)?;
        Generation::open(dir, current)
    }

    /// Opens a generation of this binary's [`FORMAT_VERSION`]; one of
    /// another format is refused before anything else is read.
    pub fn open(dir: &IndexDir, generation: u64) -> Result<Generation, IndexError> {
        check_format(dir, generation)?;
        let path = dir.generation_path(generation);
        let meta = GenerationMeta::read(&path)?;
        let ranks_path = path.join(RANKS_FILE);
        let ranks_file = File::open(&ranks_path).map_err(|source| IndexError::Io {
            context: format!("opening {}", ranks_path.display()),
            source,
        })?;
        let ranks = Ranks::read_from(BufReader::new(ranks_file))
            .map_err(|e| corrupt(format!("{}: {e}", ranks_path.display())))?;
        if ranks.len() as u64 != meta.documents {
            return Err(corrupt("ranks.bin does not match the document count"));
        }
        let index = Index::open_in_dir(&path)?;
        index.tokenizers().register(TEXT_TOKENIZER, text_analyzer());
        let fields = Fields::from_schema(&index.schema())?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let searcher = reader.searcher();
        let mut insurance_bit_of_ord = vec![None; meta.insurance_names.len()];
        for (bit, &ord) in meta.insurance_bit_owners.iter().enumerate().take(63) {
            if let Some(slot) = insurance_bit_of_ord.get_mut(ord as usize) {
                *slot = Some(bit as u8);
            }
        }
        let segments = searcher
            .segment_readers()
            .iter()
            .map(|segment| load_columns(segment, &ranks, &insurance_bit_of_ord))
            .collect::<Result<Vec<_>, _>>()?;
        let total_docs: u64 = segments.iter().map(|s| s.flags.len() as u64).sum();
        if total_docs != meta.documents {
            return Err(corrupt(format!(
                "the index holds {total_docs} documents, its metadata says {}",
                meta.documents
            )));
        }
        let records = RecordStore::open(&path)?;
        if records.len() as u64 != meta.documents {
            return Err(corrupt(
                "the provider records do not match the document count",
            ));
        }
        Ok(Generation {
            meta,
            fields,
            searcher,
            segments,
            insurance_bit_of_ord,
            term_cache: TermCache::default(),
            records,
            _reader: reader,
        })
    }
}

fn load_columns(
    segment: &SegmentReader,
    ranks: &Ranks,
    insurance_bit_of_ord: &[Option<u8>],
) -> Result<SegmentColumns, IndexError> {
    let fast = segment.fast_fields();
    let seq = fast.u64("seq")?;
    let lat = fast.f64("lat")?;
    let lon = fast.f64("lon")?;
    let flags = fast.u64("flags")?;
    let insurance = fast.u64("insurance_ord")?;
    let rating = fast.f64("rating")?;
    let price = fast.u64("price_min")?;
    let reviews = fast.u64("review_count")?;
    let verified = fast.u64("verified_day")?;
    let reach_states = fast.u64("reach_states")?;
    let state_ord = fast.u64("state_ord")?;
    let geo_order = fast.u64(GEO_ORDER_FIELD)?;
    let docs = segment.max_doc();
    // Radius queries binary-search these keys (search::geo_query).
    let geo_keys: Vec<u64> = (0..docs)
        .map(|doc| geo_order.first(doc).unwrap_or(u64::MAX))
        .collect();
    if !geo_keys.is_sorted() {
        return Err(corrupt("a segment is not sorted by geo_order"));
    }
    let mut columns = SegmentColumns {
        geo_keys,
        ..SegmentColumns::default()
    };
    let capacity = docs as usize;
    columns.latitude.reserve(capacity);
    columns.longitude.reserve(capacity);
    columns.unit_vector.reserve(capacity);
    columns.flags.reserve(capacity);
    columns.insurance_bits.reserve(capacity);
    columns.rating.reserve(capacity);
    columns.price_min.reserve(capacity);
    columns.review_count.reserve(capacity);
    columns.verified_day.reserve(capacity);
    columns.reach_states.reserve(capacity);
    columns.state_ord.reserve(capacity);
    let mut seqs = Vec::with_capacity(capacity);
    for doc in 0..docs {
        let seq = seq
            .first(doc)
            .ok_or_else(|| corrupt("a document has no seq"))? as usize;
        if seq >= ranks.len() {
            return Err(corrupt("a document's seq is out of range"));
        }
        seqs.push(seq);
        let position = lat
            .first(doc)
            .zip(lon.first(doc))
            .and_then(|(lat, lon)| LatLon::new(lat, lon))
            .ok_or_else(|| corrupt("a document has no valid position"))?;
        columns.latitude.push(position.lat);
        columns.longitude.push(position.lon);
        columns.unit_vector.push(position.unit_vector());
        columns.flags.push(flags.first(doc).unwrap_or(0) as u32);
        let mut bits = 0u64;
        let mut overflow = Vec::new();
        for ord in insurance.values_for_doc(doc) {
            match insurance_bit_of_ord.get(ord as usize).copied().flatten() {
                Some(bit) => bits |= 1 << bit,
                None => overflow.push(ord as u32),
            }
        }
        if !overflow.is_empty() {
            bits |= INSURANCE_OVERFLOW_BIT;
            columns.overflow_docs.push(doc);
            columns.overflow_ords.push(overflow);
        }
        columns.insurance_bits.push(bits);
        columns.rating.push(rating.first(doc).unwrap_or(f64::NAN));
        columns.price_min.push(
            price
                .first(doc)
                .map_or(u32::MAX, |p| p.min(u64::from(u32::MAX - 1)) as u32),
        );
        columns
            .review_count
            .push(reviews.first(doc).unwrap_or(0).min(u64::from(u32::MAX)) as u32);
        columns
            .verified_day
            .push(verified.first(doc).unwrap_or(0).min(u64::from(u32::MAX)) as u32);
        columns
            .reach_states
            .push(reach_states.first(doc).unwrap_or(0));
        columns
            .state_ord
            .push(state_ord.first(doc).unwrap_or(u64::MAX).min(255) as u8);
    }
    columns.facet_sets = facet_sets(&columns.flags, &columns.insurance_bits);
    columns.reach_lists = crate::provider::US_STATES
        .iter()
        .map(|_| OnceLock::new())
        .collect();
    columns.seq = seqs.iter().map(|&s| s as u32).collect();
    let pick = |all: &Vec<u32>| seqs.iter().map(|&s| all[s]).collect::<Vec<u32>>();
    columns.ranks = Ranks {
        rating: pick(&ranks.rating),
        rating_tier: pick(&ranks.rating_tier),
        name: pick(&ranks.name),
        adjusted_tier: pick(&ranks.adjusted_tier),
        id: pick(&ranks.id),
        reviews: pick(&ranks.reviews),
        price: pick(&ranks.price),
    };
    Ok(columns)
}

fn facet_sets(flags: &[u32], insurance_bits: &[u64]) -> Vec<Vec<u64>> {
    let words = flags.len().div_ceil(64);
    let mut sets = vec![vec![0u64; words]; INSURANCE_FACET_SETS + 63];
    for (doc, (&flag_bits, &insurer_bits)) in flags.iter().zip(insurance_bits).enumerate() {
        let (word, bit) = (doc / 64, 1u64 << (doc % 64));
        let mut bits = flag_bits;
        while bits != 0 {
            sets[bits.trailing_zeros() as usize][word] |= bit;
            bits &= bits - 1;
        }
        let mut bits = insurer_bits & !INSURANCE_OVERFLOW_BIT;
        while bits != 0 {
            sets[INSURANCE_FACET_SETS + bits.trailing_zeros() as usize][word] |= bit;
            bits &= bits - 1;
        }
    }
    // Values nobody has need no set: an empty one reads as all zeros.
    for set in &mut sets {
        if set.iter().all(|w| *w == 0) {
            *set = Vec::new();
        }
    }
    sets
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(generation: u64) -> GenerationMeta {
        GenerationMeta {
            generation,
            id: Some("0123456789abcdef0123456789abcdef".into()),
            format_version: FORMAT_VERSION,
            documents: 3,
            built_at: "2025-01-01T00:00:00Z".into(),
            mean_rating: 4.2,
            rated_providers: 2,
            source: Some("providers.csv".into()),
            source_sha256: Some("ab".repeat(32)),
            source_bytes: 123,
            rows_read: 4,
            invalid_rows_skipped: 1,
            insurance_names: vec!["Aetna".into(), "Self-pay".into()],
            insurance_bit_owners: vec![1, 0],
        }
    }

    #[test]
    fn generation_json_round_trips_with_its_format_version() {
        let dir = tempfile::tempdir().expect("temp dir");
        let written = meta(7);
        written.write(dir.path()).expect("write");
        let raw: serde_json::Value = serde_json::from_slice(
            &std::fs::read(dir.path().join("generation.json")).expect("generation.json"),
        )
        .expect("JSON");
        assert_eq!(raw["generation"], 7);
        assert_eq!(raw["format_version"], FORMAT_VERSION);
        let read = GenerationMeta::read(dir.path()).expect("read");
        assert_eq!(
            serde_json::to_value(&read).expect("value"),
            serde_json::to_value(&written).expect("value")
        );
        assert_eq!(format_of(dir.path()).expect("format"), FORMAT_VERSION);
    }

    #[test]
    fn a_generation_without_a_format_marker_is_of_format_1() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut raw = serde_json::to_value(meta(3)).expect("value");
        raw.as_object_mut()
            .expect("object")
            .remove("format_version");
        // generation.json without format_version…
        std::fs::write(dir.path().join("generation.json"), raw.to_string()).expect("write");
        assert_eq!(format_of(dir.path()).expect("format"), 1);
        let read = GenerationMeta::read(dir.path()).expect("read");
        assert_eq!((read.generation, read.format_version), (3, 1));
        // …and the ketadir.json of a generation built before generation.json.
        std::fs::rename(
            dir.path().join("generation.json"),
            dir.path().join("ketadir.json"),
        )
        .expect("rename");
        assert_eq!(format_of(dir.path()).expect("format"), 1);
        assert_eq!(GenerationMeta::read(dir.path()).expect("read").documents, 3);
        // No metadata at all is an error, not an old format.
        std::fs::remove_file(dir.path().join("ketadir.json")).expect("remove");
        assert!(matches!(format_of(dir.path()), Err(IndexError::Io { .. })));
    }

    #[test]
    fn generations_of_another_format_are_refused_by_name() {
        let root = tempfile::tempdir().expect("temp dir");
        let index = IndexDir::new(root.path());
        for (generation, format) in [(1, FORMAT_VERSION - 1), (2, FORMAT_VERSION + 7)] {
            let path = index.generation_path(generation);
            std::fs::create_dir_all(&path).expect("mkdir");
            let marker = serde_json::json!({"generation": generation, "format_version": format});
            std::fs::write(path.join("generation.json"), marker.to_string()).expect("write");
        }
        let old = Generation::open(&index, 1).expect_err("older format");
        assert!(
            matches!(old, IndexError::OldFormat { generation: 1, found, expected }
                if found == FORMAT_VERSION - 1 && expected == FORMAT_VERSION),
            "{old:?}"
        );
        let newer = Generation::open(&index, 2).expect_err("newer format");
        assert_eq!(
            newer.to_string(),
            format!(
                "generation 2 was built by a newer ketadir (index format {}); this binary reads format {FORMAT_VERSION} and will not serve it",
                FORMAT_VERSION + 7
            )
        );
    }
}
