//! The search parameters, each declared once.
//!
//! [`PARAMS`] names every parameter of a search with its kind (and bounds),
//! its label on the form, its help text, how the search form carries it,
//! an example value, and the two functions that read it into a
//! [`SearchRequest`] and write it back out. Everything that lists search
//! parameters comes from this table: the query-string parser and
//! `to_query_string` (`request.rs`), the CLI's `search` flags (`cli.rs`),
//! the form's hidden fields (`pages/form.rs`), the error pages' field
//! labels, and the OpenAPI test's parameter list. Adding a filter means a
//! row here, a field on `SearchRequest`, the query plan or collector, and
//! (when it needs one) an index column and a form control; ARCHITECTURE.md
//! lists the files.

use super::request::{
    DEFAULT_PER_PAGE, LocationInput, MAX_PAGE, MAX_PER_PAGE, MAX_QUERY_CHARS, MAX_QUERY_TERMS,
    MAX_RADIUS_MILES, MAX_VERIFIED_WITHIN_DAYS, MIN_RADIUS_MILES, Parse, SearchRequest, SortOrder,
};
use crate::provider::{Condition, MAX_PRICE, ProviderType, Treatment, parse_state_code};

/// What values a parameter takes; the bounds here are the ones enforced.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    /// Free text of at most this many characters.
    Text { max_chars: usize },
    /// A place that `near` resolves (ZIP, "City, ST", state, "lat,lon").
    Place { max_chars: usize },
    /// A decimal number within the bounds, in `unit` (may be empty).
    Decimal {
        min: f64,
        max: f64,
        unit: &'static str,
    },
    /// A whole number within the bounds, in `unit` (may be empty).
    Whole {
        min: u32,
        max: u32,
        unit: &'static str,
    },
    /// `true` or `false`; `default` applies when it is absent.
    Flag { default: bool },
    /// One of a closed list of words.
    Choice(&'static [&'static str]),
    /// A USPS state code.
    State,
    /// Repeatable; values of a closed vocabulary (slugs or synonyms).
    Vocabulary(&'static [&'static str]),
    /// Repeatable; free-text values of at most this many characters each.
    Names { max_chars: usize },
}

impl Kind {
    /// True for parameters given once per value (`treatment=a&treatment=b`).
    pub fn is_repeatable(self) -> bool {
        matches!(self, Kind::Vocabulary(_) | Kind::Names { .. })
    }

    /// What a bad value is told: the allowed values in plain words.
    pub fn allowed(self) -> String {
        let unit = |unit: &str| {
            if unit.is_empty() {
                String::new()
            } else {
                format!(" of {unit}")
            }
        };
        match self {
            Kind::Text { max_chars } | Kind::Place { max_chars } => {
                format!("at most {max_chars} characters")
            }
            Kind::Decimal { min, max, unit: u } => {
                format!("must be a number{} from {min} to {max}", unit(u))
            }
            Kind::Whole { min, max, unit: u } => {
                format!("must be a whole number{} from {min} to {max}", unit(u))
            }
            Kind::Flag { .. } => "must be true or false".into(),
            Kind::Choice(words) => format!("must be one of {}", words.join(", ")),
            Kind::State => {
                "must be a USPS code such as CO (the 50 states, DC, PR, VI, GU, AS, MP)".into()
            }
            Kind::Vocabulary(slugs) => format!("allowed: {}", slugs.join(", ")),
            Kind::Names { max_chars } => format!("each value at most {max_chars} characters"),
        }
    }
}

/// How the patient search form carries a parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormControl {
    /// A control of its own in `templates/search_form.html`.
    Control,
    /// Shown in the "Where" box (`lat`,`lon` as "lat,lon", which `near` reads).
    WhereBox,
    /// No control: carried along as a hidden field so a new submission
    /// keeps it.
    Hidden,
    /// Not carried: a new submission starts again at page 1, and pages
    /// always count facets.
    NotCarried,
}

/// One search parameter.
pub struct Param {
    pub name: &'static str,
    pub kind: Kind,
    /// The form's name for it, used on error pages ("Minimum rating: …").
    pub label: &'static str,
    /// One line for the CLI's help and the docs.
    pub help: &'static str,
    pub form: FormControl,
    /// A valid value that differs from the default (for tests and docs).
    pub example: &'static str,
    pub(super) read: fn(&mut Parse<'_>),
    pub(super) write: fn(&SearchRequest, &mut Vec<(&'static str, String)>),
}

impl std::fmt::Debug for Param {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Param")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

/// The parameter called `name`, if it is one.
pub fn find(name: &str) -> Option<&'static Param> {
    PARAMS.iter().find(|p| p.name == name)
}

/// The form's label for a parameter name (the name itself for others).
pub fn label(name: &str) -> &str {
    find(name).map_or(name, |p| p.label)
}

const SORTS: &[&str] = &["rating", "distance", "relevance", "reviews", "price"];

fn push(pairs: &mut Vec<(&'static str, String)>, name: &'static str, value: impl ToString) {
    pairs.push((name, value.to_string()));
}

/// Every search parameter, in the order links write them.
pub static PARAMS: &[Param] = &[
    Param {
        name: "q",
        kind: Kind::Text {
            max_chars: MAX_QUERY_CHARS,
        },
        label: "What",
        help: "Free text; every word must match (5+ letters also at one typo).",
        form: FormControl::Control,
        example: "knee pain",
        read: |p| {
            if let Some(q) = p.text("q") {
                if q.split_whitespace().count() > MAX_QUERY_TERMS {
                    p.bad("q", format!("at most {MAX_QUERY_TERMS} words"));
                } else {
                    p.request.text = Some(q);
                }
            }
        },
        write: |r, pairs| {
            if let Some(text) = &r.text {
                push(pairs, "q", text);
            }
        },
    },
    Param {
        name: "near",
        kind: Kind::Place { max_chars: 200 },
        label: "Where",
        help: "A ZIP code, \"City, ST\", a state, or \"lat,lon\".",
        form: FormControl::Control,
        example: "Denver, CO",
        read: |p| {
            p.near = p.text("near");
        },
        write: |r, pairs| {
            if let Some(LocationInput::Near(near)) = &r.location {
                push(pairs, "near", near);
            }
        },
    },
    Param {
        name: "lat",
        kind: Kind::Decimal {
            min: -90.0,
            max: 90.0,
            unit: "",
        },
        label: "Where",
        help: "Latitude of an explicit point (with lon, instead of near).",
        form: FormControl::WhereBox,
        example: "39.74",
        read: |p| p.lat = p.scalar("lat").map(|raw| (raw, p.decimal("lat", raw))),
        write: |r, pairs| {
            if let Some(LocationInput::Point(point)) = &r.location {
                push(pairs, "lat", point.lat);
            }
        },
    },
    Param {
        name: "lon",
        kind: Kind::Decimal {
            min: -180.0,
            max: 180.0,
            unit: "",
        },
        label: "Where",
        help: "Longitude of an explicit point (with lat, instead of near).",
        form: FormControl::WhereBox,
        example: "-104.99",
        read: |p| p.lon = p.scalar("lon").map(|raw| (raw, p.decimal("lon", raw))),
        write: |r, pairs| {
            if let Some(LocationInput::Point(point)) = &r.location {
                push(pairs, "lon", point.lon);
            }
        },
    },
    Param {
        name: "radius",
        kind: Kind::Decimal {
            min: MIN_RADIUS_MILES,
            max: MAX_RADIUS_MILES,
            unit: "miles",
        },
        label: "Within",
        help: "Miles, 1–500 (default 25 with a location; ignored without one).",
        form: FormControl::Control,
        example: "50",
        read: |p| {
            let Some(raw) = p.scalar("radius") else {
                return;
            };
            // Search forms always send a radius, so a bad one is an error
            // only with a place; without one it is kept, when valid, for a
            // place typed among the words of `q`.
            let radius = if p.has_location {
                p.decimal("radius", raw)
            } else {
                crate::values::decimal_in(raw, MIN_RADIUS_MILES, MAX_RADIUS_MILES)
            };
            if let Some(radius) = radius {
                p.request.radius_miles = radius;
            }
        },
        write: |r, pairs| {
            if r.location.is_some() {
                push(pairs, "radius", r.radius_miles);
            }
        },
    },
    Param {
        name: "include_telehealth",
        kind: Kind::Flag { default: false },
        label: "Also show telehealth providers licensed in your state",
        help: "Also list telehealth providers licensed in the state of the place near names \
               (needs near as a ZIP, a city or a state).",
        form: FormControl::Control,
        example: "true",
        read: |p| {
            if let Some(flag) = p.flag("include_telehealth") {
                p.request.include_telehealth = flag;
            }
        },
        write: |r, pairs| {
            if r.include_telehealth {
                push(pairs, "include_telehealth", true);
            }
        },
    },
    Param {
        name: "treatment",
        kind: Kind::Vocabulary(Treatment::SLUGS),
        label: "Treatment",
        help: "Repeatable: providers offering any of them (slug or synonym).",
        form: FormControl::Control,
        example: "iv_infusion",
        read: |p| {
            for value in p.values("treatment") {
                match Treatment::parse_lenient(value) {
                    Some(t) if !p.request.treatments.contains(&t) => p.request.treatments.push(t),
                    Some(_) => {}
                    None => p.bad(
                        "treatment",
                        format!(
                            "unknown treatment {value:?}; allowed: {}",
                            Treatment::allowed()
                        ),
                    ),
                }
            }
        },
        write: |r, pairs| {
            for t in &r.treatments {
                push(pairs, "treatment", t.slug());
            }
        },
    },
    Param {
        name: "condition",
        kind: Kind::Vocabulary(Condition::SLUGS),
        label: "Condition",
        help: "Repeatable: providers treating any of them (slug or synonym).",
        form: FormControl::Control,
        example: "fibromyalgia",
        read: |p| {
            for value in p.values("condition") {
                match Condition::parse_lenient(value) {
                    Some(c) if !p.request.conditions.contains(&c) => p.request.conditions.push(c),
                    Some(_) => {}
                    None => p.bad(
                        "condition",
                        format!(
                            "unknown condition {value:?}; allowed: {}",
                            Condition::allowed()
                        ),
                    ),
                }
            }
        },
        write: |r, pairs| {
            for c in &r.conditions {
                push(pairs, "condition", c.slug());
            }
        },
    },
    Param {
        name: "provider_type",
        kind: Kind::Vocabulary(ProviderType::SLUGS),
        label: "Provider type",
        help: "Repeatable: providers of any of these types (who gives the care).",
        form: FormControl::Control,
        example: "nurse_practitioner",
        read: |p| {
            for value in p.values("provider_type") {
                match ProviderType::parse_lenient(value) {
                    Some(t) if !p.request.provider_types.contains(&t) => {
                        p.request.provider_types.push(t)
                    }
                    Some(_) => {}
                    None => p.bad(
                        "provider_type",
                        format!(
                            "unknown provider type {value:?}; allowed: {}",
                            ProviderType::allowed()
                        ),
                    ),
                }
            }
        },
        write: |r, pairs| {
            for t in &r.provider_types {
                push(pairs, "provider_type", t.slug());
            }
        },
    },
    Param {
        name: "insurance",
        kind: Kind::Names { max_chars: 100 },
        label: "Insurance",
        help: "Repeatable: providers taking any of them (case-insensitive).",
        form: FormControl::Control,
        example: "Aetna",
        read: |p| p.request.insurance = p.names("insurance"),
        write: |r, pairs| {
            for name in &r.insurance {
                push(pairs, "insurance", name);
            }
        },
    },
    Param {
        name: "language",
        kind: Kind::Names { max_chars: 100 },
        label: "Language",
        help: "Repeatable: providers speaking any of them (case-insensitive).",
        form: FormControl::Hidden,
        example: "Spanish",
        read: |p| p.request.languages = p.names("language"),
        write: |r, pairs| {
            for name in &r.languages {
                push(pairs, "language", name);
            }
        },
    },
    Param {
        name: "state",
        kind: Kind::State,
        label: "State",
        help: "USPS state code.",
        form: FormControl::Hidden,
        example: "CO",
        read: |p| {
            if let Some(value) = p.scalar("state") {
                match parse_state_code(value) {
                    Some(code) => p.request.state = Some(code),
                    None => p.bad("state", Kind::State.allowed()),
                }
            }
        },
        write: |r, pairs| {
            if let Some(state) = r.state {
                push(pairs, "state", state);
            }
        },
    },
    Param {
        name: "telehealth",
        kind: Kind::Flag { default: false },
        label: "Telehealth",
        help: "Only providers offering telehealth.",
        form: FormControl::Control,
        example: "true",
        read: |p| {
            if let Some(flag) = p.flag("telehealth") {
                p.request.telehealth = flag;
            }
        },
        write: |r, pairs| {
            if r.telehealth {
                push(pairs, "telehealth", true);
            }
        },
    },
    Param {
        name: "accepting",
        kind: Kind::Flag { default: false },
        label: "Accepting new patients",
        help: "Only providers accepting new patients.",
        form: FormControl::Control,
        example: "true",
        read: |p| {
            if let Some(flag) = p.flag("accepting") {
                p.request.accepting = flag;
            }
        },
        write: |r, pairs| {
            if r.accepting {
                push(pairs, "accepting", true);
            }
        },
    },
    Param {
        name: "min_rating",
        kind: Kind::Decimal {
            min: 0.0,
            max: 5.0,
            unit: "",
        },
        label: "Minimum rating",
        help: "0–5, compared with the raw rating; unrated providers do not pass.",
        form: FormControl::Control,
        example: "4.5",
        read: |p| {
            if let Some(raw) = p.scalar("min_rating") {
                p.request.min_rating = p.decimal("min_rating", raw);
            }
        },
        write: |r, pairs| {
            if let Some(rating) = r.min_rating {
                push(pairs, "min_rating", rating);
            }
        },
    },
    Param {
        name: "max_price",
        kind: Kind::Whole {
            min: 0,
            max: MAX_PRICE,
            unit: "US dollars",
        },
        label: "Maximum price",
        help: "US dollars per session: providers whose lowest price is at most this.",
        form: FormControl::Hidden,
        example: "300",
        read: |p| p.request.max_price = p.whole("max_price"),
        write: |r, pairs| {
            if let Some(price) = r.max_price {
                push(pairs, "max_price", price);
            }
        },
    },
    Param {
        name: "verified_within_days",
        kind: Kind::Whole {
            min: 1,
            max: MAX_VERIFIED_WITHIN_DAYS,
            unit: "days",
        },
        label: "Verified within",
        help: "Only providers whose listing was verified at most this many days ago (UTC).",
        form: FormControl::Hidden,
        example: "365",
        read: |p| p.request.verified_within_days = p.whole("verified_within_days"),
        write: |r, pairs| {
            if let Some(days) = r.verified_within_days {
                push(pairs, "verified_within_days", days);
            }
        },
    },
    Param {
        name: "sort",
        kind: Kind::Choice(SORTS),
        label: "Sort by",
        help: "rating (default), distance, relevance, reviews or price.",
        form: FormControl::Control,
        example: "reviews",
        read: |p| {
            if let Some(value) = p.scalar("sort") {
                match SortOrder::parse(value) {
                    Some(sort) => p.request.sort = sort,
                    None => p.bad("sort", Kind::Choice(SORTS).allowed()),
                }
            }
        },
        write: |r, pairs| {
            if r.sort != SortOrder::Rating {
                push(pairs, "sort", r.sort.as_str());
            }
        },
    },
    Param {
        name: "page",
        kind: Kind::Whole {
            min: 1,
            max: MAX_PAGE,
            unit: "",
        },
        label: "Page",
        help: "1-based page number.",
        form: FormControl::NotCarried,
        example: "2",
        read: |p| {
            if let Some(page) = p.whole("page") {
                p.request.page = page;
            }
        },
        write: |r, pairs| {
            if r.page != 1 {
                push(pairs, "page", r.page);
            }
        },
    },
    Param {
        name: "per_page",
        kind: Kind::Whole {
            min: 1,
            max: MAX_PER_PAGE,
            unit: "",
        },
        label: "Results per page",
        help: "Results per page, 1–100 (default 20).",
        form: FormControl::Hidden,
        example: "50",
        read: |p| {
            if let Some(per_page) = p.whole("per_page") {
                p.request.per_page = per_page;
            }
        },
        write: |r, pairs| {
            if r.per_page != DEFAULT_PER_PAGE {
                push(pairs, "per_page", r.per_page);
            }
        },
    },
    Param {
        name: "all_words",
        kind: Kind::Flag { default: false },
        label: "Match every word",
        help: "Results page only: show only providers matching every word (no fallback).",
        form: FormControl::Hidden,
        example: "true",
        read: |p| {
            if let Some(flag) = p.flag("all_words") {
                p.request.all_words = flag;
            }
        },
        write: |r, pairs| {
            if r.all_words {
                push(pairs, "all_words", true);
            }
        },
    },
    Param {
        name: "facets",
        kind: Kind::Flag { default: true },
        label: "Facet counts",
        help: "false skips counting facets (facets is null in the answer).",
        form: FormControl::NotCarried,
        example: "false",
        read: |p| {
            if let Some(flag) = p.flag("facets") {
                p.request.facets = flag;
            }
        },
        write: |r, pairs| {
            if !r.facets {
                push(pairs, "facets", false);
            }
        },
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    /// The pairs that make `name=example` meaningful on its own: a radius
    /// needs a place, a point needs both halves, the sorts need a place or
    /// words.
    fn with_context(param: &Param) -> Vec<(&'static str, &'static str)> {
        let mut pairs = vec![(param.name, param.example)];
        match param.name {
            "lat" => pairs.push(("lon", "-104.99")),
            "lon" => pairs.push(("lat", "39.74")),
            "radius" | "include_telehealth" => pairs.push(("near", "80202")),
            _ => {}
        }
        pairs
    }

    #[test]
    fn names_are_unique_and_every_row_is_complete() {
        for (i, param) in PARAMS.iter().enumerate() {
            assert!(
                PARAMS[..i].iter().all(|p| p.name != param.name),
                "{} is declared twice",
                param.name
            );
            assert!(
                !param.label.is_empty() && !param.help.is_empty(),
                "{}",
                param.name
            );
            assert!(find(param.name).is_some());
        }
    }

    /// A row whose `read` or `write` forgets its field fails here: every
    /// example must change the request, and survive a round trip through
    /// the query string that links carry.
    #[test]
    fn every_example_is_read_and_written_back() {
        let default = SearchRequest::default();
        for param in PARAMS {
            let pairs = with_context(param);
            let request = SearchRequest::from_pairs(pairs.iter().copied())
                .unwrap_or_else(|e| panic!("{}={}: {e:?}", param.name, param.example));
            // (A point's half alone is an error, which a forgetful read of
            // the other half also meets.)
            if let Ok(base) = SearchRequest::from_pairs(pairs[1..].iter().copied()) {
                assert_ne!(
                    request, base,
                    "{}={} changed nothing: its read forgets it",
                    param.name, param.example
                );
            }
            assert_ne!(request, default, "{}", param.name);
            let written = request.to_pairs();
            assert!(
                written.iter().any(|(name, _)| *name == param.name),
                "{}: its write leaves it out of links ({written:?})",
                param.name
            );
            let again = SearchRequest::from_query_string(&request.to_query_string());
            assert_eq!(again.as_ref(), Ok(&request), "{}", param.name);
        }
    }

    #[test]
    fn bad_values_name_their_parameter_with_the_tables_bounds() {
        for param in PARAMS {
            let bad = match param.kind {
                Kind::Whole { max, .. } => (u64::from(max) + 1).to_string(),
                Kind::Decimal { max, .. } => (max + 1.0).to_string(),
                Kind::Flag { .. } => "maybe".into(),
                Kind::Choice(_) | Kind::Vocabulary(_) | Kind::State => "no-such-value".into(),
                Kind::Text { max_chars } | Kind::Place { max_chars } => "x".repeat(max_chars + 1),
                Kind::Names { max_chars } => "x".repeat(max_chars + 1),
            };
            let mut pairs = with_context(param);
            pairs[0].1 = Box::leak(bad.into_boxed_str());
            let errors = SearchRequest::from_pairs(pairs.iter().copied()).expect_err(param.name);
            assert!(
                errors.iter().any(|e| e.name == param.name),
                "{}: {errors:?}",
                param.name
            );
        }
    }
}
