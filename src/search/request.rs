//! [`SearchRequest`]: the search parameters (docs/search.md), parsed and
//! checked once.
//!
//! The page's query string, the API's and the CLI's flags all arrive as
//! name/value pairs and go through [`SearchRequest::from_pairs`], so they
//! share every rule and every error message. Each parameter's reading and
//! writing is declared once, in [`params::PARAMS`]; this file holds the
//! request type and the rules that join parameters (a place from `near` or
//! `lat`+`lon`, sorts that need a place or words).

use serde::Serialize;

use super::params::{self, Kind, PARAMS};
use crate::geo::LatLon;
use crate::provider::{Condition, ProviderType, Treatment, list_key};
use crate::values;

/// Longest accepted `q`, in characters.
pub const MAX_QUERY_CHARS: usize = 500;
/// Most words `q` may have (each is a required term).
pub const MAX_QUERY_TERMS: usize = 32;
pub const MAX_PER_PAGE: u32 = 100;
pub const DEFAULT_PER_PAGE: u32 = 20;
pub const MAX_PAGE: u32 = 10_000;
pub const DEFAULT_RADIUS_MILES: f64 = 25.0;
pub const MIN_RADIUS_MILES: f64 = 1.0;
pub const MAX_RADIUS_MILES: f64 = 500.0;
/// Why `sort=distance` is refused without a place (pages say it in their
/// own words when they see it).
pub const DISTANCE_NEEDS_A_PLACE: &str =
    "sort=distance needs a location: give near, or lat and lon";
/// Why `sort=relevance` is refused without words.
pub const RELEVANCE_NEEDS_WORDS: &str = "sort=relevance needs a search text in q";

/// Why `include_telehealth` is refused without a named place.
pub const TELEHEALTH_NEEDS_A_STATE: &str = "include_telehealth=true needs the searcher's state: \
     give near as a ZIP code, a city and state, or a state (not coordinates)";

/// Most days `verified_within_days` may ask for (ten years).
pub const MAX_VERIFIED_WITHIN_DAYS: u32 = 3650;
/// Most values one repeatable filter may list.
const MAX_FILTER_VALUES: usize = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SortOrder {
    #[default]
    Rating,
    Distance,
    Relevance,
    Reviews,
    Price,
}

impl SortOrder {
    pub const ALL: [SortOrder; 5] = [
        SortOrder::Rating,
        SortOrder::Distance,
        SortOrder::Relevance,
        SortOrder::Reviews,
        SortOrder::Price,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SortOrder::Rating => "rating",
            SortOrder::Distance => "distance",
            SortOrder::Relevance => "relevance",
            SortOrder::Reviews => "reviews",
            SortOrder::Price => "price",
        }
    }

    pub(super) fn parse(value: &str) -> Option<SortOrder> {
        SortOrder::ALL
            .into_iter()
            .find(|s| s.as_str().eq_ignore_ascii_case(value.trim()))
    }
}

/// Where to search around: a place to look up, or an explicit point.
#[derive(Debug, Clone, PartialEq)]
pub enum LocationInput {
    /// `near`: a ZIP, "City, ST", a state or "lat,lon", resolved by `geo`.
    Near(String),
    /// `lat` + `lon`.
    Point(LatLon),
}

/// A bad parameter: its name and what is allowed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InvalidParam {
    pub name: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SearchRequest {
    pub text: Option<String>,
    pub location: Option<LocationInput>,
    pub radius_miles: f64,
    pub treatments: Vec<Treatment>,
    pub conditions: Vec<Condition>,
    pub provider_types: Vec<ProviderType>,
    /// Also match telehealth providers licensed in the searcher's state
    /// (docs/search.md, "Telehealth reach").
    pub include_telehealth: bool,
    pub insurance: Vec<String>,
    pub languages: Vec<String>,
    pub state: Option<&'static str>,
    pub telehealth: bool,
    pub accepting: bool,
    pub min_rating: Option<f64>,
    pub max_price: Option<u32>,
    /// Keeps providers verified at most this many days before today (UTC).
    pub verified_within_days: Option<u32>,
    pub sort: SortOrder,
    pub page: u32,
    pub per_page: u32,
    /// Count facets (`facets=false` skips them; the answer's `facets` is null).
    pub facets: bool,
    /// Results page only: no fallback to the providers matching most words.
    pub all_words: bool,
    // Filters that only the partner facades set (`src/facades/`): they are
    // no query parameter of the API or the pages, so `PARAMS` neither reads
    // nor writes them, and `to_pairs` leaves them out.
    /// Keeps only the providers with these ids (empty: no such filter).
    pub ids: Vec<String>,
    /// Keeps providers whose ZIP code starts with these digits.
    pub zip_prefix: Option<String>,
    /// Drops providers of any of these types (FHIR: a clinic's row has
    /// no Practitioner).
    pub excluded_provider_types: Vec<ProviderType>,
    /// Keeps providers whose `last_verified` is known and falls on or
    /// after this day, and on or before `verified_to_day` (days since
    /// 1970-01-01, UTC).
    pub verified_from_day: Option<u32>,
    pub verified_to_day: Option<u32>,
}

impl Default for SearchRequest {
    fn default() -> Self {
        SearchRequest {
            text: None,
            location: None,
            radius_miles: DEFAULT_RADIUS_MILES,
            treatments: Vec::new(),
            conditions: Vec::new(),
            provider_types: Vec::new(),
            include_telehealth: false,
            insurance: Vec::new(),
            languages: Vec::new(),
            state: None,
            telehealth: false,
            accepting: false,
            min_rating: None,
            max_price: None,
            verified_within_days: None,
            sort: SortOrder::Rating,
            page: 1,
            per_page: DEFAULT_PER_PAGE,
            facets: true,
            all_words: false,
            ids: Vec::new(),
            zip_prefix: None,
            excluded_provider_types: Vec::new(),
            verified_from_day: None,
            verified_to_day: None,
        }
    }
}

/// `true/1/yes/on` or `false/0/no/off`, any case.
pub fn parse_flag(value: &str) -> Option<bool> {
    values::form_flag(value)
}

/// A free-text value with control characters (NUL, escapes, line breaks)
/// read as spaces, trimmed; `None` when nothing printable is left. Such
/// characters are never meant, and pages would echo them into HTML.
pub fn printable(value: &str) -> Option<String> {
    let cleaned: String = value
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let cleaned = cleaned.trim();
    (!cleaned.is_empty()).then(|| cleaned.to_string())
}

/// A raw (percent-encoded) query string as decoded name/value pairs.
pub fn decode_query(query: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(query.as_bytes())
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect()
}

/// A parse in progress: the pairs, the request filled so far, the bad
/// parameters found, and what the rules that join parameters need.
pub(super) struct Parse<'a> {
    pairs: Vec<(&'a str, &'a str)>,
    pub(super) request: SearchRequest,
    invalid: Vec<InvalidParam>,
    /// A location parameter was given (valid or not): `radius` matters.
    pub(super) has_location: bool,
    pub(super) near: Option<String>,
    /// `lat` and `lon` as sent, with their value when it is in range.
    pub(super) lat: Option<(&'a str, Option<f64>)>,
    pub(super) lon: Option<(&'a str, Option<f64>)>,
}

impl<'a> Parse<'a> {
    /// The non-blank values of `name` (blank counts as absent).
    pub(super) fn values(&self, name: &str) -> Vec<&'a str> {
        self.pairs
            .iter()
            .filter(|(n, _)| *n == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
            .collect()
    }

    /// A scalar's value: blank counts as absent.
    pub(super) fn scalar(&self, name: &str) -> Option<&'a str> {
        self.values(name).into_iter().next()
    }

    pub(super) fn bad(&mut self, name: &str, reason: String) {
        self.invalid.push(InvalidParam {
            name: name.to_string(),
            reason,
        });
    }

    fn kind(name: &str) -> Kind {
        params::find(name).map_or(Kind::Flag { default: false }, |p| p.kind)
    }

    /// Free text with control characters read as spaces, within the
    /// parameter's length.
    pub(super) fn text(&mut self, name: &str) -> Option<String> {
        let text = self.scalar(name).and_then(printable)?;
        let kind = Self::kind(name);
        match kind {
            Kind::Text { max_chars } | Kind::Place { max_chars }
                if text.chars().count() > max_chars =>
            {
                self.bad(name, kind.allowed());
                None
            }
            _ => Some(text),
        }
    }

    /// A decimal within the parameter's bounds.
    pub(super) fn decimal(&mut self, name: &str, raw: &str) -> Option<f64> {
        let kind = Self::kind(name);
        let Kind::Decimal { min, max, .. } = kind else {
            return None;
        };
        let value = values::decimal_in(raw, min, max);
        if value.is_none() {
            self.bad(name, kind.allowed());
        }
        value
    }

    /// A whole number within the parameter's bounds.
    pub(super) fn whole(&mut self, name: &str) -> Option<u32> {
        let raw = self.scalar(name)?;
        let kind = Self::kind(name);
        let Kind::Whole { min, max, .. } = kind else {
            return None;
        };
        let value = values::whole(raw, min, max);
        if value.is_none() {
            self.bad(name, kind.allowed());
        }
        value
    }

    /// `true` or `false` (also yes/no, 1/0, on/off).
    pub(super) fn flag(&mut self, name: &str) -> Option<bool> {
        let raw = self.scalar(name)?;
        let value = values::form_flag(raw);
        if value.is_none() {
            self.bad(name, Self::kind(name).allowed());
        }
        value
    }

    /// A repeatable free-text list, compared by [`list_key`].
    pub(super) fn names(&mut self, name: &str) -> Vec<String> {
        let kind = Self::kind(name);
        let max_chars = match kind {
            Kind::Names { max_chars } => max_chars,
            _ => usize::MAX,
        };
        let mut keys = Vec::new();
        for value in self.values(name) {
            if value.chars().count() > max_chars {
                self.bad(name, kind.allowed());
            } else {
                keys.push(list_key(value));
            }
        }
        keys
    }

    /// The rules that join parameters, once each has been read.
    fn join(&mut self) {
        match (self.near.take(), self.lat, self.lon) {
            (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
                self.bad("near", "give either near or lat and lon, not both".into())
            }
            (Some(near), None, None) => self.request.location = Some(LocationInput::Near(near)),
            (None, Some((_, lat)), Some((_, lon))) => {
                if let Some(point) = lat.zip(lon).and_then(|(a, o)| LatLon::new(a, o)) {
                    self.request.location = Some(LocationInput::Point(point));
                }
            }
            (None, Some(_), None) => self.bad("lon", "lat needs lon too".into()),
            (None, None, Some(_)) => self.bad("lat", "lon needs lat too".into()),
            (None, None, None) => {}
        }
        let q_given = self.scalar("q").and_then(printable).is_some();
        // The searcher's state comes from a named place; words may still
        // hold one (search checks it once they are read).
        if self.request.include_telehealth
            && (matches!(self.request.location, Some(LocationInput::Point(_)))
                || (!self.has_location && !q_given))
        {
            self.bad("include_telehealth", TELEHEALTH_NEEDS_A_STATE.into());
        }
        // With words, a place may be among them (search reads it); without,
        // nothing can give the distance a centre.
        if self.request.sort == SortOrder::Distance && !self.has_location && !q_given {
            self.bad("sort", DISTANCE_NEEDS_A_PLACE.into());
        }
        if self.request.sort == SortOrder::Relevance && !q_given {
            self.bad("sort", RELEVANCE_NEEDS_WORDS.into());
        }
    }
}

impl SearchRequest {
    /// Parses decoded query-string pairs, collecting every bad parameter.
    pub fn from_pairs<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<SearchRequest, Vec<InvalidParam>> {
        let mut parse = Parse {
            pairs: pairs.into_iter().collect(),
            request: SearchRequest::default(),
            invalid: Vec::new(),
            has_location: false,
            near: None,
            lat: None,
            lon: None,
        };
        parse.has_location = ["near", "lat", "lon"]
            .iter()
            .any(|name| parse.scalar(name).is_some());
        for param in PARAMS {
            let count = parse.values(param.name).len();
            if param.kind.is_repeatable() {
                if count > MAX_FILTER_VALUES {
                    parse.bad(param.name, format!("at most {MAX_FILTER_VALUES} values"));
                }
            } else if count > 1 {
                parse.bad(param.name, "given more than once; give it once".into());
            }
        }
        for param in PARAMS {
            (param.read)(&mut parse);
        }
        parse.join();
        if parse.invalid.is_empty() {
            Ok(parse.request)
        } else {
            Err(parse.invalid)
        }
    }

    /// Parses a raw (percent-encoded) query string.
    pub fn from_query_string(query: &str) -> Result<SearchRequest, Vec<InvalidParam>> {
        let pairs = decode_query(query);
        SearchRequest::from_pairs(pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())))
    }

    /// The request as canonical query parameters (slugs for vocabularies,
    /// defaults left out): what a link to the same search carries. Parsing
    /// them gives the same request back.
    pub fn to_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        for param in PARAMS {
            (param.write)(self, &mut pairs);
        }
        pairs
    }

    /// [`SearchRequest::to_pairs`] as a percent-encoded query string.
    pub fn to_query_string(&self) -> String {
        form_urlencoded::Serializer::new(String::new())
            .extend_pairs(self.to_pairs())
            .finish()
    }

    /// True for the name of a search parameter (others are ignored).
    pub fn is_parameter(name: &str) -> bool {
        params::find(name).is_some()
    }

    /// Offset of the first result of the requested page.
    pub fn offset(&self) -> usize {
        (self.page as usize - 1) * self.per_page as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(query: &str) -> Result<SearchRequest, Vec<String>> {
        SearchRequest::from_query_string(query)
            .map_err(|errors| errors.into_iter().map(|e| e.name).collect())
    }

    #[test]
    fn defaults_and_blank_parameters() {
        let request = parse("q=&near=&radius=&sort=").expect("blanks are absent");
        assert_eq!(request, SearchRequest::default());
    }

    #[test]
    fn radius_without_location_is_ignored() {
        assert!(parse("radius=abc").is_ok());
        assert_eq!(parse("lat=1&lon=2&radius=abc"), Err(vec!["radius".into()]));
        assert_eq!(
            parse("lat=1&lon=2&radius=500").map(|r| r.radius_miles),
            Ok(500.0)
        );
        assert_eq!(parse("lat=1&lon=2&radius=0.5"), Err(vec!["radius".into()]));
    }

    #[test]
    fn each_bad_value_names_its_parameter() {
        let cases = [
            ("lat=91&lon=0", "lat"),
            ("lat=NaN&lon=0", "lat"),
            ("lat=0&lon=inf", "lon"),
            ("lat=1e309&lon=0", "lat"),
            ("lat=1", "lon"),
            ("near=80202&lat=1&lon=1", "near"),
            ("treatment=magic", "treatment"),
            ("condition=flu", "condition"),
            ("state=XX", "state"),
            ("telehealth=maybe", "telehealth"),
            ("min_rating=6", "min_rating"),
            ("max_price=-1", "max_price"),
            ("max_price=12.5", "max_price"),
            ("sort=best", "sort"),
            ("sort=distance", "sort"),
            ("sort=relevance", "sort"),
            ("page=0", "page"),
            ("page=99999999999999999999", "page"),
            ("per_page=101", "per_page"),
            ("radius=5&radius=6&near=80202", "radius"),
            ("page=1&page=2", "page"),
        ];
        for (query, name) in cases {
            let errors = parse(query).expect_err(query);
            assert!(errors.contains(&name.to_string()), "{query}: {errors:?}");
        }
    }

    #[test]
    fn repeatable_filters_and_synonyms() {
        let request = parse(
            "treatment=iv_infusion&treatment=Spravato&condition=RSD&insurance=Aetna&insurance=CIGNA&telehealth=on",
        )
        .expect("valid");
        assert_eq!(
            request.treatments,
            vec![Treatment::IvInfusion, Treatment::EsketamineNasal]
        );
        assert_eq!(request.conditions, vec![Condition::Crps]);
        assert_eq!(request.insurance, vec!["aetna", "cigna"]);
        assert!(request.telehealth);
    }

    #[test]
    fn canonical_pairs_parse_back_to_the_same_request() {
        for query in [
            "",
            "q=knee%20pain&near=Denver,%20CO&radius=12.5&treatment=Spravato&condition=RSD",
            "lat=-33.25&lon=151.125&sort=distance&page=3&per_page=7",
            "insurance=Aetna&insurance=Self-pay&language=Spanish&state=co&telehealth=yes",
            "accepting=1&min_rating=4.5&max_price=300&sort=price&q=%3Cb%3E%26",
        ] {
            let request = SearchRequest::from_query_string(query).expect(query);
            let again = SearchRequest::from_query_string(&request.to_query_string());
            assert_eq!(again.as_ref(), Ok(&request), "{query}");
        }
    }

    #[test]
    fn hostile_strings_are_errors_or_accepted_never_panics() {
        let long = "a".repeat(10_000);
        assert_eq!(parse(&format!("q={long}")), Err(vec!["q".into()]));
        assert!(parse("q=%00%01%FF%FE").is_ok());
        // Control characters read as spaces: nothing printable is no text.
        assert_eq!(parse("q=%00%1B").map(|r| r.text), Ok(None));
        assert_eq!(
            parse("q=a%00b&near=%0ADenver").map(|r| (r.text, r.location)),
            Ok((
                Some("a b".into()),
                Some(LocationInput::Near("Denver".into()))
            ))
        );
        assert_eq!(parse("q=%00&sort=relevance"), Err(vec!["sort".into()]));
        assert!(parse("q=%E2%28%A1").is_ok());
        assert!(parse("q=\"unbalanced AND (OR").is_ok());
        assert!(parse("%%%=%%%&&&==").is_ok());
    }
}
