//! The tantivy schema of a generation and how a [`Provider`] becomes a document.
//!
//! The words that `q` searches go into one `text` field: the provider's own
//! text and the words of the labels and synonyms of its treatments and
//! conditions (each word once), so "spravato" or "nerve pain" find providers
//! through one posting list per word. Filters that need posting lists
//! (state, insurance, language) are raw terms; everything the search
//! collector reads per matching document is a fast field. Nothing is in
//! tantivy's doc store: the provider records live beside the index
//! (`records.rs`), keyed by the `seq` fast field. Documents are sorted by
//! `geo_order` (the Z-order key of their position, see `geo::zorder`), so a
//! radius query's candidates are a few runs of doc ids.

use std::sync::OnceLock;

use tantivy::TantivyDocument;
use tantivy::schema::{
    Field, IndexRecordOption, NumericOptions, STRING, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{
    AsciiFoldingFilter, LowerCaser, RemoveLongFilter, SimpleTokenizer, TextAnalyzer, Token,
    TokenStream, Tokenizer,
};

use crate::clock::day_number;
use crate::geo::{LatLon, zorder};
use crate::provider::{Condition, Provider, Treatment, state_index};

/// Name under which [`text_analyzer`] is registered on every opened index.
pub const TEXT_TOKENIZER: &str = "ketadir_text";

/// Tokens longer than this many bytes are dropped (they are never words).
pub const MAX_TOKEN_BYTES: usize = 40;

/// Splits on anything but letters and digits, lower-cases and folds accents,
/// so "Café" and "cafe" meet. Queries go through the same analyzer.
///
/// This is [`reference_analyzer`]'s chain in one pass ([`TextTokenizer`]):
/// the same tokens, positions and offsets, at a fraction of the cost for
/// ASCII words, which tokenizing a million providers' text spends most of
/// its time on.
pub fn text_analyzer() -> TextAnalyzer {
    TextAnalyzer::from(TextTokenizer {
        token: Token::default(),
        chain: reference_analyzer(),
    })
}

/// tantivy's chain that [`text_analyzer`] reproduces: simple tokenizer,
/// lower case, ASCII folding, tokens of [`MAX_TOKEN_BYTES`] at most.
/// `search::text` reads the words of `q` with the same chain.
fn reference_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES + 1))
        .build()
}

/// [`reference_analyzer`] fused: a word (a run of alphanumeric characters,
/// as `SimpleTokenizer` splits) that is all ASCII is lower-cased while it is
/// copied, and dropped when longer than [`MAX_TOKEN_BYTES`]; a word with
/// other characters goes through the reference chain itself, so every
/// Unicode rule (lower case, folding) stays tantivy's. Each word takes a
/// position whether or not it is kept, as with `RemoveLongFilter`.
#[derive(Clone)]
struct TextTokenizer {
    token: Token,
    chain: TextAnalyzer,
}

struct TextTokenStream<'a> {
    text: &'a str,
    /// Where the search for the next word starts.
    at: usize,
    token: &'a mut Token,
    chain: &'a mut TextAnalyzer,
}

impl Tokenizer for TextTokenizer {
    type TokenStream<'a> = TextTokenStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> TextTokenStream<'a> {
        self.token.reset();
        TextTokenStream {
            text,
            at: 0,
            token: &mut self.token,
            chain: &mut self.chain,
        }
    }
}

impl TextTokenStream<'_> {
    /// The next word: its byte range and whether it is all ASCII.
    fn next_word(&mut self) -> Option<(usize, usize, bool)> {
        let bytes = self.text.as_bytes();
        let mut start = None;
        let mut ascii = true;
        let mut at = self.at;
        while at < bytes.len() {
            let byte = bytes[at];
            let (alphanumeric, width) = if byte.is_ascii() {
                (byte.is_ascii_alphanumeric(), 1)
            } else {
                // Not ASCII: a whole character starts here (`at` only ever
                // stops on character boundaries).
                let c = self.text[at..].chars().next()?;
                (c.is_alphanumeric(), c.len_utf8())
            };
            match (start, alphanumeric) {
                (None, true) => start = Some(at),
                (Some(from), false) => {
                    self.at = at + width;
                    return Some((from, at, ascii));
                }
                _ => {}
            }
            if alphanumeric && width > 1 {
                ascii = false;
            }
            at += width;
        }
        self.at = bytes.len();
        start.map(|from| (from, bytes.len(), ascii))
    }
}

impl TokenStream for TextTokenStream<'_> {
    fn advance(&mut self) -> bool {
        while let Some((from, to, ascii)) = self.next_word() {
            self.token.position = self.token.position.wrapping_add(1);
            self.token.offset_from = from;
            self.token.offset_to = to;
            self.token.text.clear();
            let word = &self.text[from..to];
            if ascii {
                if word.len() > MAX_TOKEN_BYTES {
                    continue;
                }
                self.token.text.push_str(word);
                self.token.text.make_ascii_lowercase();
                return true;
            }
            let mut stream = self.chain.token_stream(word);
            if stream.advance() {
                self.token.text.push_str(&stream.token().text);
                return true;
            }
        }
        false
    }

    fn token(&self) -> &Token {
        self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        self.token
    }
}

/// Name of the fast field that orders documents within a segment.
pub const GEO_ORDER_FIELD: &str = "geo_order";

/// Bit positions in the `flags` fast field.
pub mod flag {
    use crate::provider::{Condition, ProviderType, Treatment};

    pub fn treatment(t: Treatment) -> u32 {
        1 << t.index()
    }
    pub fn condition(c: Condition) -> u32 {
        1 << (Treatment::ALL.len() + c.index())
    }
    pub const TELEHEALTH: u32 = 1 << (5 + 12);
    pub const ACCEPTING: u32 = 1 << (5 + 12 + 1);
    pub fn provider_type(t: ProviderType) -> u32 {
        1 << (5 + 12 + 2 + t.index())
    }
    /// The treatments that telehealth reach may match (oral, KAP).
    pub fn by_telehealth() -> u32 {
        Treatment::BY_TELEHEALTH.iter().map(|t| treatment(*t)).sum()
    }
    /// Every treatment bit.
    pub fn all_treatments() -> u32 {
        Treatment::ALL.iter().map(|t| treatment(*t)).sum()
    }
}

/// Handles to the schema's fields.
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    pub id: Field,
    pub text: Field,
    pub state: Field,
    pub insurance: Field,
    pub language: Field,
    pub seq: Field,
    pub lat: Field,
    pub lon: Field,
    pub flags: Field,
    pub insurance_ord: Field,
    pub rating: Field,
    pub price_min: Field,
    pub review_count: Field,
    /// `last_verified` as days since 1970-01-01 (absent when not given).
    pub verified_day: Field,
    pub geo_order: Field,
    /// The ZIP code (5 digits), a raw term: the FHIR facade's
    /// `address-postalcode` matches it by prefix.
    pub zip: Field,
    /// [`crate::ids::lookup_key`] of the id: the facades' UUIDs find their
    /// provider through it.
    pub key: Field,
    /// The states a telehealth provider may treat patients in (its
    /// `licensed_states`, or its own state), as raw terms: the candidates
    /// of telehealth reach. Absent for providers without telehealth.
    pub reach_state: Field,
    /// The same states as a bitmask over [`crate::provider::US_STATES`].
    pub reach_states: Field,
    /// The provider's own state as its index in `US_STATES`.
    pub state_ord: Field,
}

pub fn build_schema() -> (Schema, Fields) {
    let mut builder = Schema::builder();
    let text_indexing = TextFieldIndexing::default()
        .set_tokenizer(TEXT_TOKENIZER)
        .set_index_option(IndexRecordOption::WithFreqs);
    let fast = NumericOptions::default().set_fast();
    let fields = Fields {
        id: builder.add_text_field("id", STRING),
        text: builder.add_text_field(
            "text",
            TextOptions::default().set_indexing_options(text_indexing),
        ),
        state: builder.add_text_field("state", STRING),
        insurance: builder.add_text_field("insurance", STRING),
        language: builder.add_text_field("language", STRING),
        seq: builder.add_u64_field("seq", fast.clone()),
        lat: builder.add_f64_field("lat", fast.clone()),
        lon: builder.add_f64_field("lon", fast.clone()),
        flags: builder.add_u64_field("flags", fast.clone()),
        insurance_ord: builder.add_u64_field("insurance_ord", fast.clone()),
        rating: builder.add_f64_field("rating", fast.clone()),
        price_min: builder.add_u64_field("price_min", fast.clone()),
        review_count: builder.add_u64_field("review_count", fast.clone()),
        verified_day: builder.add_u64_field("verified_day", fast.clone()),
        geo_order: builder.add_u64_field(GEO_ORDER_FIELD, fast.clone()),
        zip: builder.add_text_field("zip", STRING),
        key: builder.add_u64_field("key", NumericOptions::default().set_indexed()),
        reach_state: builder.add_text_field("reach_state", STRING),
        reach_states: builder.add_u64_field("reach_states", fast.clone()),
        state_ord: builder.add_u64_field("state_ord", fast.clone()),
    };
    (builder.build(), fields)
}

impl Fields {
    pub fn from_schema(schema: &Schema) -> tantivy::Result<Fields> {
        let get = |name: &str| schema.get_field(name);
        Ok(Fields {
            id: get("id")?,
            text: get("text")?,
            state: get("state")?,
            insurance: get("insurance")?,
            language: get("language")?,
            seq: get("seq")?,
            lat: get("lat")?,
            lon: get("lon")?,
            flags: get("flags")?,
            insurance_ord: get("insurance_ord")?,
            rating: get("rating")?,
            price_min: get("price_min")?,
            review_count: get("review_count")?,
            verified_day: get("verified_day")?,
            geo_order: get(GEO_ORDER_FIELD)?,
            zip: get("zip")?,
            key: get("key")?,
            reach_state: get("reach_state")?,
            reach_states: get("reach_states")?,
            state_ord: get("state_ord")?,
        })
    }
}

/// The lower-cased words of every vocabulary value's label and synonyms,
/// sorted and each once, and for each treatment and condition the set of
/// its words as a bitset over that list. A provider's words are then the
/// union of a few bitsets, written in list order: the same words in the
/// same order as sorting and deduplicating them per provider, without the
/// per-row sort (it was a visible part of an import's profile).
struct VocabularyWords {
    words: Vec<String>,
    treatments: Vec<Vec<u64>>,
    conditions: Vec<Vec<u64>>,
}

impl VocabularyWords {
    fn blocks(&self) -> usize {
        self.words.len().div_ceil(64)
    }
}

fn vocabulary_words() -> &'static VocabularyWords {
    static WORDS: OnceLock<VocabularyWords> = OnceLock::new();
    WORDS.get_or_init(|| {
        let words_of = |label: &str, synonyms: &[&str]| -> Vec<String> {
            std::iter::once(label)
                .chain(synonyms.iter().copied())
                .flat_map(|text| text.split(|c: char| !c.is_alphanumeric()))
                .filter(|word| !word.is_empty())
                .map(str::to_lowercase)
                .collect()
        };
        let treatments: Vec<Vec<String>> = Treatment::ALL
            .iter()
            .map(|t| words_of(t.label(), t.synonyms()))
            .collect();
        let conditions: Vec<Vec<String>> = Condition::ALL
            .iter()
            .map(|c| words_of(c.label(), c.synonyms()))
            .collect();
        let mut words: Vec<String> = treatments
            .iter()
            .chain(&conditions)
            .flatten()
            .cloned()
            .collect();
        words.sort_unstable();
        words.dedup();
        let blocks = words.len().div_ceil(64);
        let bitset = |own: &Vec<String>| -> Vec<u64> {
            let mut bits = vec![0u64; blocks];
            for word in own {
                if let Ok(i) = words.binary_search(word) {
                    bits[i / 64] |= 1 << (i % 64);
                }
            }
            bits
        };
        let treatments = treatments.iter().map(bitset).collect();
        let conditions = conditions.iter().map(bitset).collect();
        VocabularyWords {
            words,
            treatments,
            conditions,
        }
    })
}

/// The words `q` can find a provider by: docs/search.md's fields, plus each word of
/// the labels and synonyms of its treatments and conditions, once.
pub fn searchable_text(provider: &Provider) -> String {
    let mut text = String::new();
    let mut scratch = Vec::new();
    write_searchable_text(provider, &mut text, &mut scratch);
    text
}

/// [`searchable_text`] into `text` (cleared first); `scratch` holds the
/// word bitset. Both are reused from row to row by [`DocumentBuilder`].
fn write_searchable_text(provider: &Provider, text: &mut String, scratch: &mut Vec<u64>) {
    text.clear();
    let mut push = |part: &str| {
        text.push_str(part);
        text.push('\n');
    };
    push(&provider.name);
    push(provider.organization.as_deref().unwrap_or_default());
    push(provider.description.as_deref().unwrap_or_default());
    push(&provider.city);
    for credential in &provider.credentials {
        push(credential);
    }
    let words = vocabulary_words();
    scratch.clear();
    scratch.resize(words.blocks(), 0);
    let own = provider
        .treatments
        .iter()
        .map(|t| &words.treatments[t.index()])
        .chain(
            provider
                .conditions
                .iter()
                .map(|c| &words.conditions[c.index()]),
        );
    for bits in own {
        for (union, block) in scratch.iter_mut().zip(bits) {
            *union |= block;
        }
    }
    for (block_index, &block) in scratch.iter().enumerate() {
        let mut block = block;
        while block != 0 {
            let word = &words.words[block_index * 64 + block.trailing_zeros() as usize];
            text.push_str(word);
            text.push(' ');
            block &= block - 1;
        }
    }
}

/// [`crate::provider::list_key`] (trimmed, lower case) into a reused buffer: list values are
/// nearly always ASCII, and this runs for every insurer and language of
/// every row.
fn list_key_into<'b>(value: &str, buffer: &'b mut String) -> &'b str {
    let value = value.trim();
    buffer.clear();
    if value.is_ascii() {
        buffer.push_str(value);
        buffer.make_ascii_lowercase();
    } else {
        buffer.push_str(&value.to_lowercase());
    }
    buffer
}

pub fn flags_of(provider: &Provider) -> u32 {
    let treatments: u32 = provider
        .treatments
        .iter()
        .map(|t| flag::treatment(*t))
        .sum();
    let conditions: u32 = provider
        .conditions
        .iter()
        .map(|c| flag::condition(*c))
        .sum();
    let telehealth = if provider.telehealth {
        flag::TELEHEALTH
    } else {
        0
    };
    let accepting = if provider.accepting_new_patients {
        flag::ACCEPTING
    } else {
        0
    };
    let provider_types: u32 = provider
        .provider_type
        .iter()
        .map(|t| flag::provider_type(*t))
        .sum();
    treatments | conditions | telehealth | accepting | provider_types
}

/// The states a provider reaches by telehealth (none without telehealth).
pub fn reach_states_of(provider: &Provider) -> Vec<&str> {
    if !provider.telehealth {
        Vec::new()
    } else if provider.licensed_states.is_empty() {
        vec![provider.state.as_str()]
    } else {
        provider
            .licensed_states
            .iter()
            .map(String::as_str)
            .collect()
    }
}

/// [`reach_states_of`] as a bitmask over `US_STATES`.
pub fn reach_mask(provider: &Provider) -> u64 {
    reach_states_of(provider)
        .into_iter()
        .filter_map(state_index)
        .fold(0, |mask, i| mask | 1 << i)
}

/// Builds providers' documents, reusing its buffers from one to the next
/// (an import builds a million of them).
pub struct DocumentBuilder {
    fields: Fields,
    text: String,
    key: String,
    scratch: Vec<u64>,
}

impl DocumentBuilder {
    pub fn new(fields: Fields) -> DocumentBuilder {
        DocumentBuilder {
            fields,
            text: String::new(),
            key: String::new(),
            scratch: Vec::new(),
        }
    }

    /// The document of one provider; `insurance_ords` are the provider's
    /// insurers numbered in the generation's insurance dictionary.
    pub fn document(
        &mut self,
        provider: &Provider,
        seq: u64,
        insurance_ords: &[u32],
    ) -> TantivyDocument {
        let fields = &self.fields;
        write_searchable_text(provider, &mut self.text, &mut self.scratch);
        // Room for the text and the short values, so the document's buffer
        // is allocated once.
        let mut doc = TantivyDocument::with_capacity(self.text.len() + 512);
        doc.add_text(fields.id, &provider.id);
        doc.add_u64(fields.key, crate::ids::lookup_key(&provider.id));
        if let Some(zip) = &provider.zip {
            doc.add_text(fields.zip, zip);
        }
        doc.add_text(fields.text, &self.text);
        let position = LatLon {
            lat: provider.latitude,
            lon: provider.longitude,
        };
        doc.add_text(fields.state, &provider.state);
        for state in reach_states_of(provider) {
            doc.add_text(fields.reach_state, state);
        }
        doc.add_u64(fields.reach_states, reach_mask(provider));
        doc.add_u64(
            fields.state_ord,
            state_index(&provider.state).map_or(u64::MAX, |i| i as u64),
        );
        for insurer in &provider.insurance {
            doc.add_text(fields.insurance, list_key_into(insurer, &mut self.key));
        }
        for language in &provider.languages {
            doc.add_text(fields.language, list_key_into(language, &mut self.key));
        }
        doc.add_u64(fields.seq, seq);
        doc.add_f64(fields.lat, provider.latitude);
        doc.add_f64(fields.lon, provider.longitude);
        doc.add_u64(fields.flags, u64::from(flags_of(provider)));
        for ord in insurance_ords {
            doc.add_u64(fields.insurance_ord, u64::from(*ord));
        }
        if let Some(rating) = provider.rating {
            doc.add_f64(fields.rating, rating);
        }
        if let Some(price) = provider.price_min {
            doc.add_u64(fields.price_min, u64::from(price));
        }
        doc.add_u64(fields.review_count, u64::from(provider.review_count));
        if let Some(day) = provider.last_verified.as_deref().and_then(day_number) {
            doc.add_u64(fields.verified_day, u64::from(day));
        }
        doc.add_u64(fields.geo_order, zorder::key(position));
        doc
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::ProviderType;

    #[test]
    fn flags_do_not_overlap() {
        let mut seen = 0u32;
        let all = Treatment::ALL
            .iter()
            .map(|t| flag::treatment(*t))
            .chain(Condition::ALL.iter().map(|c| flag::condition(*c)))
            .chain([flag::TELEHEALTH, flag::ACCEPTING])
            .chain(ProviderType::ALL.iter().map(|t| flag::provider_type(*t)));
        for bit in all {
            assert_eq!(seen & bit, 0);
            seen |= bit;
        }
    }

    /// The vocabulary words as they were computed per row before the
    /// bitsets: every word of the labels and synonyms, sorted, each once.
    fn reference_vocabulary(treatments: &[Treatment], conditions: &[Condition]) -> String {
        let mut words: Vec<String> = treatments
            .iter()
            .flat_map(|t| std::iter::once(t.label()).chain(t.synonyms().iter().copied()))
            .chain(
                conditions
                    .iter()
                    .flat_map(|c| std::iter::once(c.label()).chain(c.synonyms().iter().copied())),
            )
            .flat_map(|text| text.split(|c: char| !c.is_alphanumeric()))
            .filter(|word| !word.is_empty())
            .map(str::to_lowercase)
            .collect();
        words.sort_unstable();
        words.dedup();
        words.iter().map(|w| format!("{w} ")).collect()
    }

    #[test]
    fn vocabulary_words_are_the_sorted_union_of_each_value_s_words() {
        let csv = "id,name,city,state,latitude,longitude\np,N,C,CO,0,0\n";
        let mut providers = Vec::new();
        crate::ingest::read_providers(csv.as_bytes(), |p| providers.push(p)).expect("read");
        let mut provider = providers.pop().expect("one provider");
        let own_text = "N\n\n\nC\n";
        // Every single value, then growing sets of both vocabularies.
        let mut cases: Vec<(Vec<Treatment>, Vec<Condition>)> = vec![(vec![], vec![])];
        cases.extend(Treatment::ALL.iter().map(|t| (vec![*t], vec![])));
        cases.extend(Condition::ALL.iter().map(|c| (vec![], vec![*c])));
        for n in 1..=Condition::ALL.len() {
            let treatments = Treatment::ALL[..n.min(Treatment::ALL.len())].to_vec();
            cases.push((
                treatments,
                Condition::ALL[Condition::ALL.len() - n..].to_vec(),
            ));
        }
        for (treatments, conditions) in cases {
            let expected = format!(
                "{own_text}{}",
                reference_vocabulary(&treatments, &conditions)
            );
            provider.treatments = treatments;
            provider.conditions = conditions;
            assert_eq!(searchable_text(&provider), expected);
        }
    }

    fn tokens(analyzer: &mut TextAnalyzer, text: &str) -> Vec<(String, usize, usize, usize)> {
        let mut stream = analyzer.token_stream(text);
        let mut tokens = Vec::new();
        while stream.advance() {
            let t = stream.token();
            tokens.push((t.text.clone(), t.position, t.offset_from, t.offset_to));
        }
        tokens
    }

    #[test]
    fn the_fused_analyzer_gives_the_reference_chain_s_tokens() {
        let mut fused = text_analyzer();
        let mut reference = reference_analyzer();
        let long = "x".repeat(MAX_TOKEN_BYTES);
        let longer = "y".repeat(MAX_TOKEN_BYTES + 1);
        let long_accented = format!("{}é", "z".repeat(MAX_TOKEN_BYTES - 1));
        let fixed = [
            "",
            "   ",
            "Hello, happy tax payer!",
            "Café CAFÉ naïve Ærø straße İstanbul ΣΟΦΟΣ ﬁne Ⅻ ½ ²",
            "Dr. O'Brien-Smith, MD;CRNA\nIV ketamine (Spravato®) 24/7",
            "日本語のテキスト と 中文 mixed東京text",
            "emoji 🙂 between👍words",
            "\u{301}combining e\u{301} marks",
            "trailing word",
            "ŉ ǅ ẞ ß",
            &long,
            &longer,
            &long_accented,
            "a\u{200B}b\u{2028}c\u{FEFF}d",
        ];
        for text in fixed {
            assert_eq!(
                tokens(&mut fused, text),
                tokens(&mut reference, text),
                "{text:?}"
            );
        }
        // Pseudo-random strings over an alphabet of ASCII, accented,
        // non-Latin, long-folding and separator characters.
        let alphabet: Vec<char> = "aZ09 ,.-_;'\"\n\téÉüßİıŉǅﬁ½²Ⅻ日本Σσς🙂\u{301}\u{200B}œÆ"
            .chars()
            .collect();
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..3000 {
            let mut text = String::new();
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let length = (state % 60) as usize;
            for _ in 0..length {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let c = alphabet[(state % alphabet.len() as u64) as usize];
                // Long runs of one letter now and then, for the length limit.
                let repeat = if state.is_multiple_of(17) { 45 } else { 1 };
                text.extend(std::iter::repeat_n(c, repeat));
            }
            assert_eq!(
                tokens(&mut fused, &text),
                tokens(&mut reference, &text),
                "{text:?}"
            );
        }
    }

    #[test]
    fn list_keys_into_a_buffer_match_list_key() {
        let mut buffer = String::from("left over");
        for value in [
            "Aetna",
            " BLUE Cross ",
            "Ünited",
            "self-pay",
            "İstanbul",
            "",
        ] {
            assert_eq!(
                list_key_into(value, &mut buffer),
                crate::provider::list_key(value)
            );
        }
    }
}
