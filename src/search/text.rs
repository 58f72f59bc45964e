//! Free text: `q` → one required clause per word.
//!
//! A word matches a provider when it is in the provider's searchable text:
//! its own words and the words of its treatments' and conditions' labels
//! and synonyms (so "nerve pain" finds neuropathic pain; see
//! `index::schema::searchable_text`). Words of [`FUZZY_MIN_CHARS`] or more
//! also match at Damerau-Levenshtein distance 1. Any input is accepted:
//! words are extracted, never parsed as query syntax.

use std::collections::BTreeSet;
use std::sync::Arc;

use tantivy::Term;
use tantivy::query::{
    BooleanQuery, ConstScoreQuery, EmptyQuery, FuzzyTermQuery, Occur, Query, TermQuery,
};
use tantivy::schema::IndexRecordOption;
use tantivy::tokenizer::{
    AsciiFoldingFilter, LowerCaser, SimpleTokenizer, TextAnalyzer, TokenStream,
};

use super::any_term;
use crate::index::Generation;
use crate::index::schema::MAX_TOKEN_BYTES;

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

/// The index terms each of `words` (as [`words`] spells them) stands for: the word itself, and
/// for words of [`FUZZY_MIN_CHARS`] or more every term of the generation at
/// Damerau-Levenshtein distance 1. A word that matches nothing has no terms.
///
/// Expanding once per query (the term dictionaries are small) lets every
/// clause be a plain union of posting lists: the bitset path ORs them
/// straight into its bitset, and the per-document path can intersect them
/// with a location by seeking, instead of first materialising a bitset of
/// every document near the word, as tantivy's fuzzy query does.
pub fn expand(generation: &Generation, words: &[String]) -> tantivy::Result<Vec<WordTerms>> {
    let field = generation.fields.text;
    words
        .iter()
        .map(|word| {
            let exact = Term::from_field_text(field, word);
            // The index drops longer tokens, so such a word matches nothing.
            if word.len() > MAX_TOKEN_BYTES {
                return Ok(WordTerms {
                    exact,
                    terms: Vec::new(),
                });
            }
            if word.chars().count() < FUZZY_MIN_CHARS {
                return Ok(WordTerms {
                    terms: vec![exact.clone()],
                    exact,
                });
            }
            let variants = match generation.term_cache.get(word) {
                Some(variants) => variants,
                None => {
                    let automaton = FuzzyTermQuery::new(exact.clone(), 1, true).automaton()?;
                    let mut found: BTreeSet<Vec<u8>> = BTreeSet::new();
                    for reader in generation.searcher.segment_readers() {
                        let inverted = reader.inverted_index(field)?;
                        let mut stream = inverted.terms().search(&automaton).into_stream()?;
                        while stream.advance() {
                            found.insert(stream.key().to_vec());
                        }
                    }
                    let variants: Arc<[Vec<u8>]> = found.into_iter().collect();
                    generation.term_cache.insert(word, Arc::clone(&variants));
                    variants
                }
            };
            let terms = variants
                .iter()
                .filter_map(|bytes| std::str::from_utf8(bytes).ok())
                .map(|text| Term::from_field_text(field, text))
                .collect();
            Ok(WordTerms { exact, terms })
        })
        .collect()
}

/// One word of a query and the index terms it matches.
#[derive(Debug, Clone)]
pub struct WordTerms {
    /// The word as typed (lower case, accents folded): BM25 scores it.
    pub exact: Term,
    pub terms: Vec<Term>,
}

/// A word as a required clause of the per-document path. With `scored`,
/// an exact match adds BM25 relevance on top of the constant 1 of any
/// match, so exact words rank above near-misses.
pub fn clause(word: &WordTerms, scored: bool) -> Box<dyn Query> {
    if word.terms.is_empty() {
        return Box::new(EmptyQuery);
    }
    let any: Box<dyn Query> = Box::new(ConstScoreQuery::new(
        Box::new(any_term(word.terms.iter().cloned())),
        1.0,
    ));
    if !scored {
        return any;
    }
    Box::new(BooleanQuery::new(vec![
        (
            Occur::Should,
            Box::new(TermQuery::new(
                word.exact.clone(),
                IndexRecordOption::WithFreqs,
            )),
        ),
        (Occur::Should, any),
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_fold_case_and_accents_and_ignore_syntax() {
        assert_eq!(words("Café AND (Zoë)*"), vec!["cafe", "and", "zoe"]);
        assert!(words("!!! ??? ---").is_empty());
    }
}
