//! The patient pages' words, in English (the default) and Spanish.
//!
//! Every sentence, label and title a patient page prints comes from a
//! message catalogue, `locales/en.txt` or `locales/es.txt`, compiled into
//! the binary and parsed once per process. The format is deliberately
//! tiny — one `key = value` per line, `#` comments, `{name}` placeholders —
//! because the pages need nothing more: no plural rules beyond one/other
//! (`key.one`, `key.other`, see [`Lang::count`]), no gender, no number
//! formats (US Spanish writes 1,234.5 as English does). A crate such as
//! `fluent` would bring a parser, a runtime and a second syntax for
//! translators to learn, for features these pages do not use.
//!
//! Keys are `area.name` (`results.heading`, `profile.call`), and closed
//! vocabularies are `vocabulary.slug`: `treatment.iv_infusion`,
//! `condition.crps`, `report_reason.phone`, `param.min_rating` (the search
//! form's name for a parameter, on error pages). The tests below check
//! that both files have the same keys with the same placeholders, that
//! every key the code and templates ask for exists, and that every value
//! of every vocabulary has a label.
//!
//! The language is a page parameter (`lang=es`), read by the routes; it is
//! not a search parameter. An unknown key never breaks a page: it prints
//! [`MISSING`] (and fails the unit tests at once), so a forgotten key
//! shows up in tests rather than as a server error.

use std::collections::HashMap;
use std::sync::LazyLock;

/// The query parameter that names the page's language.
pub const LANG_PARAM: &str = "lang";

/// What a lookup of an unknown key prints.
pub const MISSING: &str = "[missing text]";

/// A language the pages speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    En,
    Es,
}

/// One language's catalogue: key → text, both borrowed from the file
/// compiled into the binary.
type Catalogue = HashMap<&'static str, &'static str>;

const EN_SOURCE: &str = include_str!("../../locales/en.txt");
const ES_SOURCE: &str = include_str!("../../locales/es.txt");

static EN: LazyLock<Catalogue> = LazyLock::new(|| parse(EN_SOURCE).0);
static ES: LazyLock<Catalogue> = LazyLock::new(|| parse(ES_SOURCE).0);

/// Reads a catalogue; also returns each line it could not read (a line
/// without ` = `, an empty key, a key given twice), which the tests
/// require to be none. At run time a bad line is skipped.
fn parse(source: &'static str) -> (Catalogue, Vec<String>) {
    let mut texts = Catalogue::new();
    let mut problems = Vec::new();
    for (number, line) in source.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once(" = ") else {
            problems.push(format!("line {}: no \" = \": {line}", number + 1));
            continue;
        };
        let key = key.trim();
        if key.is_empty() || key.contains(char::is_whitespace) {
            problems.push(format!("line {}: bad key {key:?}", number + 1));
            continue;
        }
        if texts.insert(key, value.trim()).is_some() {
            problems.push(format!("line {}: {key} given twice", number + 1));
        }
    }
    (texts, problems)
}

/// A piece of a message split at its placeholders (see [`Lang::pieces`]):
/// text to print, or the name of a slot the template fills with markup
/// (a link, a `<bdi>`), never both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Piece {
    pub text: &'static str,
    pub slot: &'static str,
}

/// A message chosen before the page's language is known (an error made
/// deep in a handler): its key and arguments, said later with
/// [`Lang::say`].
#[derive(Debug, Clone, PartialEq)]
pub struct Text {
    key: &'static str,
    args: Vec<(&'static str, String)>,
    /// Chooses `key.one` or `key.other`, and fills `{n}`.
    count: Option<u64>,
}

impl Text {
    pub fn new(key: &'static str) -> Text {
        Text {
            key,
            args: Vec::new(),
            count: None,
        }
    }

    /// `key.one` or `key.other` by `n`, with `{n}` filled in.
    pub fn counted(key: &'static str, n: u64) -> Text {
        Text {
            count: Some(n),
            ..Text::new(key)
        }
    }

    pub fn with(mut self, name: &'static str, value: impl ToString) -> Text {
        self.args.push((name, value.to_string()));
        self
    }
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Es];

    /// The code of `<html lang>` and of the `lang` parameter.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Es => "es",
        }
    }

    /// The language a `lang` value asks for: `es` in any case, also with a
    /// region (`es-MX`, `es_US`), is Spanish; anything else — `en`, blank,
    /// a language the pages do not speak, junk — is English. README.md
    /// ("Languages") explains why a wrong value is not an error page.
    pub fn from_param(value: &str) -> Lang {
        let primary = value.trim().split(['-', '_']).next().unwrap_or_default();
        if primary.eq_ignore_ascii_case("es") {
            Lang::Es
        } else {
            Lang::En
        }
    }

    /// The language of decoded query pairs (the first `lang`).
    pub fn from_pairs(pairs: &[(String, String)]) -> Lang {
        pairs
            .iter()
            .find(|(name, _)| name == LANG_PARAM)
            .map_or(Lang::En, |(_, value)| Lang::from_param(value))
    }

    /// The language the switch on every page offers.
    pub fn other(self) -> Lang {
        match self {
            Lang::En => Lang::Es,
            Lang::Es => Lang::En,
        }
    }

    /// The language's name in itself ("Español"), for the switch.
    pub fn name(self) -> &'static str {
        self.t("lang.name")
    }

    fn catalogue(self) -> &'static Catalogue {
        match self {
            Lang::En => &EN,
            Lang::Es => &ES,
        }
    }

    /// The text of `key`: this language's, else English's (the tests keep
    /// the two key sets equal), else [`MISSING`].
    pub fn t(self, key: &str) -> &'static str {
        if let Some(text) = self
            .catalogue()
            .get(key)
            .or_else(|| Lang::En.catalogue().get(key))
        {
            return text;
        }
        // In the unit tests a forgotten key fails the test that rendered it.
        #[cfg(test)]
        panic!("no text for the key {key:?}");
        #[cfg(not(test))]
        {
            tracing::warn!(key, "no text for a message key");
            MISSING
        }
    }

    /// The text of `key` with each `{name}` replaced by its value.
    pub fn f(self, key: &str, args: &[(&str, &str)]) -> String {
        fill(self.t(key), args)
    }

    /// "1 provider", "2,000 providers": `key.one` or `key.other` with `{n}`
    /// written with thousands separators.
    pub fn count(self, key: &str, n: u64) -> String {
        self.count_with(key, n, &[])
    }

    /// [`Lang::count`] with more placeholders than `{n}`.
    pub fn count_with(self, key: &str, n: u64, args: &[(&str, &str)]) -> String {
        let form = if n == 1 { "one" } else { "other" };
        let number = super::view::thousands(n);
        let mut all: Vec<(&str, &str)> = vec![("n", &number)];
        all.extend_from_slice(args);
        fill(self.t(&format!("{key}.{form}")), &all)
    }

    /// The label of a vocabulary value: `treatment.iv_infusion`.
    pub fn label(self, vocabulary: &str, slug: &str) -> &'static str {
        self.t(&format!("{vocabulary}.{slug}"))
    }

    /// A message chosen earlier ([`Text`]), in this language.
    pub fn say(self, text: &Text) -> String {
        let args: Vec<(&str, &str)> = text
            .args
            .iter()
            .map(|(name, value)| (*name, value.as_str()))
            .collect();
        match text.count {
            Some(n) => self.count_with(text.key, n, &args),
            None => self.f(text.key, &args),
        }
    }

    /// The text of `key` split at its `{slots}`, for a template that puts
    /// markup in them ("Call or text {988} …" with a `tel:` link).
    pub fn pieces(self, key: &str) -> Vec<Piece> {
        let mut pieces = Vec::new();
        let mut rest = self.t(key);
        while let Some(open) = rest.find('{') {
            let Some(close) = rest[open..].find('}').map(|c| open + c) else {
                break;
            };
            if open > 0 {
                pieces.push(Piece {
                    text: &rest[..open],
                    slot: "",
                });
            }
            pieces.push(Piece {
                text: "",
                slot: &rest[open + 1..close],
            });
            rest = &rest[close + 1..];
        }
        if !rest.is_empty() {
            pieces.push(Piece {
                text: rest,
                slot: "",
            });
        }
        pieces
    }

    /// A same-site address in this language: Spanish adds `lang=es`;
    /// English leaves it exactly as it is.
    pub fn href(self, href: &str) -> String {
        if self == Lang::En {
            return href.to_string();
        }
        let (address, fragment) = href.split_once('#').map_or((href, ""), |(a, f)| (a, f));
        let joiner = if address.contains('?') { '&' } else { '?' };
        let mut out = format!("{address}{joiner}{LANG_PARAM}={}", self.code());
        if !fragment.is_empty() {
            out.push('#');
            out.push_str(fragment);
        }
        out
    }
}

/// `template` with each `{name}` of `args` replaced (others left as they are).
fn fill(template: &str, args: &[(&str, &str)]) -> String {
    let mut out = template.to_string();
    for (name, value) in args {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn placeholders(text: &str) -> BTreeSet<&str> {
        text.split('{')
            .skip(1)
            .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
            .collect()
    }

    #[test]
    fn both_catalogues_read_without_a_bad_line() {
        for (name, source) in [("en", EN_SOURCE), ("es", ES_SOURCE)] {
            let (texts, problems) = parse(source);
            assert!(problems.is_empty(), "locales/{name}.txt: {problems:#?}");
            assert!(texts.len() > 100, "locales/{name}.txt is nearly empty");
        }
    }

    /// A key in one language only, or a placeholder the other language
    /// lacks, fails here.
    #[test]
    fn both_languages_have_the_same_keys_and_placeholders() {
        let en: BTreeSet<&str> = EN.keys().copied().collect();
        let es: BTreeSet<&str> = ES.keys().copied().collect();
        let only_en: Vec<_> = en.difference(&es).collect();
        let only_es: Vec<_> = es.difference(&en).collect();
        assert!(
            only_en.is_empty() && only_es.is_empty(),
            "keys only in en.txt: {only_en:?}; only in es.txt: {only_es:?}"
        );
        for key in en {
            assert_eq!(
                placeholders(EN[key]),
                placeholders(ES[key]),
                "{key}: the two languages fill different placeholders"
            );
            assert!(!ES[key].is_empty() && !EN[key].is_empty(), "{key} is empty");
        }
    }

    /// Every closed vocabulary, as (key prefix, slugs, English label of
    /// each slug). A new vocabulary is one line here, plus its keys in
    /// both catalogues: `<prefix>.<slug> = <label>`.
    fn vocabularies() -> Vec<(&'static str, Vec<(&'static str, &'static str)>)> {
        use crate::provider::{Condition, ProviderType, Treatment, Vocabulary};
        use crate::reports::Reason;
        fn labels<V: Vocabulary>() -> (&'static str, Vec<(&'static str, &'static str)>) {
            (
                V::KEY,
                V::ALL.iter().map(|v| (v.slug(), v.label())).collect(),
            )
        }
        vec![
            labels::<Treatment>(),
            labels::<Condition>(),
            labels::<ProviderType>(),
            (
                "report_reason",
                Reason::ALL.iter().map(|v| (v.slug(), v.label())).collect(),
            ),
            (
                "param",
                crate::search::params::PARAMS
                    .iter()
                    .map(|p| (p.name, p.label))
                    .collect(),
            ),
        ]
    }

    /// Every value of every vocabulary has a label in both languages, and
    /// the English one is the label the API and the CSV docs use, so the
    /// pages and the API never name a value two ways.
    #[test]
    fn every_vocabulary_value_has_a_label_in_both_languages() {
        for (prefix, values) in vocabularies() {
            for (slug, english) in values {
                let key = format!("{prefix}.{slug}");
                assert_eq!(
                    EN.get(key.as_str()).copied(),
                    Some(english),
                    "locales/en.txt: {key} must be {english:?}"
                );
                assert!(ES.contains_key(key.as_str()), "locales/es.txt has no {key}");
            }
        }
    }

    /// The units of the parameter table, for the Spanish "must be a
    /// number from … to …" of an error page.
    #[test]
    fn every_unit_of_the_parameter_table_has_words() {
        use crate::search::params::{Kind, PARAMS};
        for param in PARAMS {
            if let Kind::Decimal { unit, .. } | Kind::Whole { unit, .. } = param.kind
                && !unit.is_empty()
            {
                let key = super::super::view::unit_key(unit);
                assert!(EN.contains_key(key.as_str()), "no {key}");
            }
        }
    }

    /// The keys the code and the templates name literally — `.t("…")`,
    /// `.f("…"`, `.count("…"`, `.pieces("…")`, `Text::new("…")` — all
    /// exist (keys built from a vocabulary are checked above).
    #[test]
    fn every_key_the_code_asks_for_exists() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut sources = Vec::new();
        for dir in ["src/pages", "src/routes/pages", "src/routes", "templates"] {
            let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_file() {
                    let text = std::fs::read_to_string(&path).unwrap_or_default();
                    sources.push((path.display().to_string(), text));
                }
            }
        }
        let calls = [
            ".t(\"",
            ".f(\"",
            ".count(\"",
            ".count_with(\"",
            ".pieces(\"",
            "Text::new(\"",
            "Text::counted(\"",
        ];
        let mut asked = 0;
        for (path, text) in &sources {
            for call in calls {
                for (at, _) in text.match_indices(call) {
                    let rest = &text[at + call.len()..];
                    let Some(key) = rest.split('"').next() else {
                        continue;
                    };
                    // Only literal keys (the doc comments name calls with "…").
                    let literal = !key.is_empty()
                        && key.chars().all(|c| {
                            c.is_ascii_lowercase() || c.is_ascii_digit() || "._".contains(c)
                        });
                    if !literal {
                        continue;
                    }
                    asked += 1;
                    let exists = if call.starts_with(".count") || call == "Text::counted(\"" {
                        EN.contains_key(format!("{key}.one").as_str())
                            && EN.contains_key(format!("{key}.other").as_str())
                    } else {
                        EN.contains_key(key)
                    };
                    assert!(
                        exists,
                        "{path} asks for {key:?}, which locales/en.txt lacks"
                    );
                }
            }
        }
        assert!(
            asked > 100,
            "only {asked} keys found: is the scan still right?"
        );
    }

    #[test]
    fn lang_values_fall_back_to_english() {
        assert_eq!(Lang::from_param("es"), Lang::Es);
        assert_eq!(Lang::from_param(" ES "), Lang::Es);
        assert_eq!(Lang::from_param("es-MX"), Lang::Es);
        for other in ["en", "", "fr", "<script>", "español", "e", "esx"] {
            assert_eq!(Lang::from_param(other), Lang::En, "{other}");
        }
    }

    #[test]
    fn addresses_carry_the_language_only_when_it_is_spanish() {
        assert_eq!(Lang::En.href("/?q=x"), "/?q=x");
        assert_eq!(Lang::Es.href("/"), "/?lang=es");
        assert_eq!(Lang::Es.href("/?q=x"), "/?q=x&lang=es");
        assert_eq!(Lang::Es.href("/?q=x#results"), "/?q=x&lang=es#results");
    }

    #[test]
    fn messages_fill_placeholders_and_count() {
        assert_eq!(Lang::En.count("count.providers", 1), "1 provider");
        assert_eq!(Lang::Es.count("count.providers", 2000), "2,000 proveedores");
        let text = Text::counted("count.minutes", 2);
        assert_eq!(Lang::Es.say(&text), "2 minutos");
        let pieces = Lang::En.pieces("layout.crisis_line");
        assert!(pieces.iter().any(|p| p.slot == "988"), "{pieces:?}");
        assert!(
            pieces
                .iter()
                .all(|p| p.slot.is_empty() != p.text.is_empty()),
            "{pieces:?}"
        );
    }
}
