//! Free text: `q` → one required clause per word.
//!
//! A word matches a provider when it is in the provider's own text, or when
//! it is a word of the label or a synonym of one of the provider's
//! treatments or conditions (matched through the `vocab` field, so "nerve
//! pain" finds neuropathic pain). Words of [`FUZZY_MIN_CHARS`] or more also
//! match at Damerau-Levenshtein distance 1, in both places. Any input is
//! accepted: words are extracted, never parsed as query syntax.

use std::sync::OnceLock;

use tantivy::Term;
use tantivy::query::{BooleanQuery, EmptyQuery, FuzzyTermQuery, Occur, Query, TermQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::tokenizer::{
    AsciiFoldingFilter, LowerCaser, SimpleTokenizer, TextAnalyzer, TokenStream,
};

use crate::index::Generation;
use crate::index::schema::MAX_TOKEN_BYTES;
use crate::provider::{Condition, Treatment};

/// Words of at least this many characters also match at edit distance 1.
pub const FUZZY_MIN_CHARS: usize = 5;

/// The words of a text as the index spells them (lower case, accents
/// folded); unlike the index, long words are kept so they can match nothing.
pub fn words(text: &str) -> Vec<String> {
    let mut analyzer = TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build();
    let mut stream = analyzer.token_stream(text);
    let mut words = Vec::new();
    while stream.advance() {
        words.push(stream.token().text.clone());
    }
    words
}

/// True when `a` and `b` are at most one insertion, deletion, substitution
/// or swap of two neighbouring characters apart.
pub fn within_one_edit(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let (shorter, longer) = if a.len() <= b.len() {
        (&a, &b)
    } else {
        (&b, &a)
    };
    match longer.len() - shorter.len() {
        0 => {
            let differing: Vec<usize> = (0..a.len()).filter(|&i| a[i] != b[i]).collect();
            match differing.as_slice() {
                [_] => true,
                [i, j] => *j == i + 1 && a[*i] == b[*j] && a[*j] == b[*i],
                _ => false,
            }
        }
        1 => {
            let prefix = shorter
                .iter()
                .zip(longer.iter())
                .take_while(|(x, y)| x == y)
                .count();
            shorter[prefix..] == longer[prefix + 1..]
        }
        _ => false,
    }
}

/// Every word of every vocabulary label and synonym, with its slug.
fn vocabulary_words() -> &'static [(String, &'static str)] {
    static WORDS: OnceLock<Vec<(String, &'static str)>> = OnceLock::new();
    WORDS.get_or_init(|| {
        let treatments = Treatment::ALL.iter().flat_map(|t| {
            std::iter::once(t.label())
                .chain(t.synonyms().iter().copied())
                .map(move |text| (text, t.slug()))
        });
        let conditions = Condition::ALL.iter().flat_map(|c| {
            std::iter::once(c.label())
                .chain(c.synonyms().iter().copied())
                .map(move |text| (text, c.slug()))
        });
        let mut pairs: Vec<(String, &'static str)> = treatments
            .chain(conditions)
            .flat_map(|(text, slug)| words(text).into_iter().map(move |w| (w, slug)))
            .collect();
        pairs.sort();
        pairs.dedup();
        pairs
    })
}

/// The slugs whose labels or synonyms contain a word matching `word`.
pub fn vocabulary_matches(word: &str) -> Vec<&'static str> {
    let fuzzy = word.chars().count() >= FUZZY_MIN_CHARS;
    let mut slugs: Vec<&'static str> = vocabulary_words()
        .iter()
        .filter(|(vocabulary_word, _)| {
            vocabulary_word == word || (fuzzy && within_one_edit(word, vocabulary_word))
        })
        .map(|(_, slug)| *slug)
        .collect();
    slugs.sort_unstable();
    slugs.dedup();
    slugs
}

/// One required clause per word of `text`. With `scored`, an exact match
/// adds BM25 relevance on top of the fuzzy one; without, the fuzzy clause
/// alone (which includes the exact word) saves merging a second list.
pub fn clauses(generation: &Generation, text: &str, scored: bool) -> Vec<Box<dyn Query>> {
    let fields = &generation.fields;
    words(text)
        .iter()
        .map(|word| -> Box<dyn Query> {
            // The index drops longer tokens, so such a word matches nothing.
            if word.len() > MAX_TOKEN_BYTES {
                return Box::new(EmptyQuery);
            }
            let term = Term::from_field_text(fields.text, word);
            let fuzzy = word.chars().count() >= FUZZY_MIN_CHARS;
            let mut alternatives: Vec<(Occur, Box<dyn Query>)> = Vec::new();
            if scored || !fuzzy {
                alternatives.push((
                    Occur::Should,
                    Box::new(TermQuery::new(term.clone(), IndexRecordOption::WithFreqs)),
                ));
            }
            if fuzzy {
                alternatives.push((Occur::Should, Box::new(FuzzyTermQuery::new(term, 1, true))));
            }
            let slugs = vocabulary_matches(word);
            if !slugs.is_empty() {
                let terms = slugs
                    .into_iter()
                    .map(|slug| Term::from_field_text(fields.vocab, slug));
                alternatives.push((Occur::Should, Box::new(super::any_term(terms))));
            }
            Box::new(BooleanQuery::new(alternatives))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_edit_means_one_insertion_deletion_substitution_or_swap() {
        let cases = [
            ("fibromyalgia", "fibromyalgia", true),
            ("fibromyalgai", "fibromyalgia", true),
            ("fibromyalga", "fibromyalgia", true),
            ("fibromyalgiaa", "fibromyalgia", true),
            ("fibromyalgxa", "fibromyalgia", true),
            ("fibromylagai", "fibromyalgia", false),
            ("pain", "rain", true),
            ("pain", "pian", true),
            ("abc", "cba", false),
            ("café", "cafe", true),
            ("", "a", true),
        ];
        for (a, b, expected) in cases {
            assert_eq!(within_one_edit(a, b), expected, "{a} ~ {b}");
            assert_eq!(within_one_edit(b, a), expected, "{b} ~ {a}");
        }
    }

    #[test]
    fn vocabulary_words_find_their_slugs() {
        assert_eq!(vocabulary_matches("spravato"), vec!["esketamine_nasal"]);
        assert_eq!(vocabulary_matches("rsd"), vec!["crps"]);
        assert_eq!(
            vocabulary_matches("trd"),
            vec!["treatment_resistant_depression"]
        );
        assert!(vocabulary_matches("nerve").contains(&"neuropathic_pain"));
        assert!(vocabulary_matches("fibromyalgai").contains(&"fibromyalgia"));
        // Short words never match fuzzily: "ptsx" is not "ptsd".
        assert!(vocabulary_matches("ptsx").is_empty());
        assert!(vocabulary_matches("zebra").is_empty());
    }

    #[test]
    fn words_fold_case_and_accents_and_ignore_syntax() {
        assert_eq!(words("Café AND (Zoë)*"), vec!["cafe", "and", "zoe"]);
        assert!(words("!!! ??? ---").is_empty());
    }
}
