//! The "what" box as patients write it: sentences, not keywords.
//!
//! Before matching, `q` loses the words that say nothing in this directory
//! (stop words, and words every listing here implicitly matches, such as
//! "ketamine" or "clinic"), and — when the request names no place — a place
//! typed among the words ("… in Austin, TX", a ZIP code) becomes the search's
//! location. The lists are the contract of docs/search.md ("Words that say
//! nothing here", "Places typed as words"); they live here and nowhere else.

use tantivy::Term;
use tantivy::query::FuzzyTermQuery;
use tantivy::schema::Field;
use tantivy_fst::Automaton;

use crate::geo::places::place_in_words;
use crate::provider::Condition;

use super::text;

/// Words that only hold a sentence together.
pub const STOP_WORDS: &[&str] = &[
    "a", "an", "the", "and", "or", "for", "of", "in", "on", "at", "to", "with", "from", "by", "my",
    "me", "i", "we", "us", "you", "need", "want", "looking", "find", "best", "top", "good",
    "great", "local", "nearby", "near", "around", "area", "help", "please",
];

/// Words every listing in this directory matches.
pub const DIRECTORY_WORDS: &[&str] = &[
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

/// True for a word (as [`text::words`] spells it) that `q` drops.
pub fn is_ignored(word: &str) -> bool {
    STOP_WORDS.contains(&word) || DIRECTORY_WORDS.contains(&word)
}

/// The words of `q` that a provider must match, in order, without repeats.
pub fn required_words(q: &str) -> Vec<String> {
    let mut required: Vec<String> = Vec::new();
    for word in text::words(q) {
        if !is_ignored(&word) && !required.contains(&word) {
            required.push(word);
        }
    }
    required
}

/// True when the visitor asked for providers "near me" without a place.
pub fn asks_near_me(q: &str) -> bool {
    text::words(q).windows(2).any(|pair| pair == ["near", "me"])
}

/// A place typed among the words of `q`: `(place, the rest of q)`.
///
/// A known 5-digit ZIP code anywhere, else the longest run of trailing words
/// (up to six) that reads as a town and its state ("Austin, TX", "austin
/// texas"), after an optional "in". Words that are no place stay in `q`.
pub fn place_in_query(q: &str) -> Option<(String, String)> {
    let tokens: Vec<&str> = q.split_whitespace().collect();
    let bare = |token: &str| {
        token
            .trim_matches(|c: char| !c.is_alphanumeric())
            .to_string()
    };
    for (at, token) in tokens.iter().enumerate() {
        let digits = bare(token);
        if digits.len() == 5
            && digits.bytes().all(|b| b.is_ascii_digit())
            && place_in_words(&digits).is_some()
        {
            let rest: Vec<&str> = tokens
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != at)
                .map(|(_, t)| *t)
                .collect();
            return Some((digits, rest.join(" ")));
        }
    }
    let longest = tokens.len().min(6);
    for count in (2..=longest).rev() {
        let start = tokens.len() - count;
        let candidate = tokens[start..]
            .join(" ")
            .trim_end_matches(|c: char| !c.is_alphanumeric())
            .to_string();
        if place_in_words(&candidate).is_none() {
            continue;
        }
        let mut rest = &tokens[..start];
        if rest
            .last()
            .is_some_and(|word| bare(word).eq_ignore_ascii_case("in"))
        {
            rest = &rest[..rest.len() - 1];
        }
        return Some((candidate, rest.join(" ")));
    }
    None
}

/// True when one of `words` (as [`required_words`] gives them) would match
/// the label or a synonym of one of `conditions` the way `q` matches text:
/// the same word, or for words of [`text::FUZZY_MIN_CHARS`] letters or more
/// one edit away. Pages use it to tell what a search is about.
pub fn mention_any(words: &[String], conditions: &[Condition]) -> bool {
    let vocabulary: Vec<String> = conditions
        .iter()
        .flat_map(|c| std::iter::once(c.label()).chain(c.synonyms().iter().copied()))
        .flat_map(text::words)
        .collect();
    words.iter().any(|word| {
        if vocabulary.contains(word) {
            return true;
        }
        if word.chars().count() < text::FUZZY_MIN_CHARS {
            return false;
        }
        let term = Term::from_field_text(Field::from_field_id(0), word);
        let Ok(dfa) = FuzzyTermQuery::new(term, 1, true).automaton() else {
            return false;
        };
        vocabulary.iter().any(|known| {
            let state = known
                .bytes()
                .fold(dfa.start(), |state, byte| dfa.accept(&state, byte));
            dfa.is_match(&state)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences_keep_only_the_words_that_say_something() {
        assert_eq!(
            required_words("Ketamine therapy for depression near me"),
            ["depression"]
        );
        assert_eq!(required_words("best ketamine DOCTOR"), Vec::<String>::new());
        assert_eq!(
            required_words("CRPS and CRPS pain, please"),
            ["crps", "pain"]
        );
        // Whole words only: "clinical" and "therapist" are not "clinic" or "therapy".
        assert_eq!(
            required_words("clinical therapist"),
            ["clinical", "therapist"]
        );
        assert!(asks_near_me("a clinic near me"));
        let crisis = [
            Condition::Depression,
            Condition::Ptsd,
            Condition::SuicidalIdeation,
        ];
        for words in [
            ["depresion"],
            ["trauma"],
            ["suicide"],
            ["ptsd"],
            ["depressed"],
        ] {
            let words: Vec<String> = words.iter().map(|w| w.to_string()).collect();
            assert!(mention_any(&words, &crisis), "{words:?}");
        }
        assert!(!mention_any(&["fibromyalgia".to_string()], &crisis));
        assert!(!mention_any(&["pts".to_string()], &crisis));
        assert!(!asks_near_me("me near"));
    }

    #[test]
    fn places_typed_as_words_become_the_location() {
        let cases = [
            (
                "best ketamine doctor in Austin, TX",
                Some(("Austin, TX", "best ketamine doctor")),
            ),
            ("depression 80202", Some(("80202", "depression"))),
            ("80202 infusion", Some(("80202", "infusion"))),
            (
                "fibromyalgia denver colorado",
                Some(("denver colorado", "fibromyalgia")),
            ),
            ("clinic in Bozeman, MT.", Some(("Bozeman, MT", "clinic"))),
            ("Denver, CO", Some(("Denver, CO", ""))),
            ("depression in Austin", None),
            ("pain 99999", None),
            ("ptsd", None),
        ];
        for (q, expected) in cases {
            let found = place_in_query(q);
            assert_eq!(
                found.as_ref().map(|(p, r)| (p.as_str(), r.as_str())),
                expected,
                "{q}"
            );
        }
    }
}
