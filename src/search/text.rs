//! Free text: `q` → one required clause per word.
//!
//! A word matches a provider when it is in the provider's searchable text:
//! its own words and the words of its treatments' and conditions' labels
//! and synonyms (so "nerve pain" finds neuropathic pain; see
//! `index::schema::searchable_text`). Words of [`FUZZY_MIN_CHARS`] or more
//! also match at Damerau-Levenshtein distance 1. Any input is accepted:
//! words are extracted, never parsed as query syntax.

use tantivy::Term;
use tantivy::query::{BooleanQuery, EmptyQuery, FuzzyTermQuery, Occur, Query, TermQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::tokenizer::{
    AsciiFoldingFilter, LowerCaser, SimpleTokenizer, TextAnalyzer, TokenStream,
};

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
            match alternatives.len() {
                1 => alternatives.remove(0).1,
                _ => Box::new(BooleanQuery::new(alternatives)),
            }
        })
        .collect()
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
