//! [`SearchRequest`]: SEARCH §4's parameters, parsed and checked once.
//!
//! The page's query string, the API's and the CLI's flags all arrive as
//! name/value pairs and go through [`SearchRequest::from_pairs`], so they
//! share every rule and every error message.

use serde::Serialize;

use crate::geo::{LatLon, parse_plain_decimal as parse_finite};
use crate::provider::{Condition, Treatment, list_key, parse_state_code};

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
/// Highest `max_price` accepted (USD per session).
pub const MAX_PRICE: u32 = 1_000_000;
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

    fn parse(value: &str) -> Option<SortOrder> {
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
    pub insurance: Vec<String>,
    pub languages: Vec<String>,
    pub state: Option<&'static str>,
    pub telehealth: bool,
    pub accepting: bool,
    pub min_rating: Option<f64>,
    pub max_price: Option<u32>,
    pub sort: SortOrder,
    pub page: u32,
    pub per_page: u32,
}

impl Default for SearchRequest {
    fn default() -> Self {
        SearchRequest {
            text: None,
            location: None,
            radius_miles: DEFAULT_RADIUS_MILES,
            treatments: Vec::new(),
            conditions: Vec::new(),
            insurance: Vec::new(),
            languages: Vec::new(),
            state: None,
            telehealth: false,
            accepting: false,
            min_rating: None,
            max_price: None,
            sort: SortOrder::Rating,
            page: 1,
            per_page: DEFAULT_PER_PAGE,
        }
    }
}

/// The parameters a search understands; others are ignored (forms and
/// partners may add their own, such as a submit button's name).
const SCALARS: [&str; 12] = [
    "q",
    "near",
    "lat",
    "lon",
    "radius",
    "state",
    "telehealth",
    "accepting",
    "min_rating",
    "max_price",
    "sort",
    "page",
];
const REPEATABLE: [&str; 4] = ["treatment", "condition", "insurance", "language"];

fn parse_whole(value: &str, min: u32, max: u32) -> Option<u32> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value
        .parse::<u32>()
        .ok()
        .filter(|n| (min..=max).contains(n))
}

/// `true/1/yes/on` or `false/0/no/off`, any case.
pub fn parse_flag(value: &str) -> Option<bool> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
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

struct Collected<'a> {
    pairs: Vec<(&'a str, &'a str)>,
}

impl<'a> Collected<'a> {
    fn values(&self, name: &str) -> impl Iterator<Item = &'a str> + '_ {
        let name = name.to_string();
        self.pairs
            .iter()
            .filter(move |(n, _)| *n == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// A scalar's value: blank counts as absent (SPEC §4).
    fn scalar(&self, name: &str) -> Option<&'a str> {
        self.values(name).next()
    }
}

impl SearchRequest {
    /// Parses decoded query-string pairs, collecting every bad parameter.
    pub fn from_pairs<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<SearchRequest, Vec<InvalidParam>> {
        let collected = Collected {
            pairs: pairs.into_iter().collect(),
        };
        let mut invalid = Vec::new();
        let mut bad = |name: &str, reason: String| {
            invalid.push(InvalidParam {
                name: name.to_string(),
                reason,
            })
        };
        for name in SCALARS.iter().chain(["per_page"].iter()) {
            if collected.values(name).count() > 1 {
                bad(name, "given more than once; give it once".into());
            }
        }
        for name in REPEATABLE {
            if collected.values(name).count() > MAX_FILTER_VALUES {
                bad(name, format!("at most {MAX_FILTER_VALUES} values"));
            }
        }
        let mut request = SearchRequest::default();

        let q = collected.scalar("q").and_then(printable);
        let q_given = q.is_some();
        if let Some(q) = q {
            if q.chars().count() > MAX_QUERY_CHARS {
                bad("q", format!("at most {MAX_QUERY_CHARS} characters"));
            } else if q.split_whitespace().count() > MAX_QUERY_TERMS {
                bad("q", format!("at most {MAX_QUERY_TERMS} words"));
            } else {
                request.text = Some(q);
            }
        }

        let lat = collected.scalar("lat");
        let lon = collected.scalar("lon");
        let near = collected.scalar("near").and_then(printable);
        match (near.as_deref(), lat, lon) {
            (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
                bad("near", "give either near or lat and lon, not both".into())
            }
            (Some(near), None, None) => {
                if near.chars().count() > 200 {
                    bad("near", "at most 200 characters".into());
                } else {
                    request.location = Some(LocationInput::Near(near.to_string()));
                }
            }
            (None, Some(lat), Some(lon)) => {
                let lat_value = parse_finite(lat).filter(|v| (-90.0..=90.0).contains(v));
                let lon_value = parse_finite(lon).filter(|v| (-180.0..=180.0).contains(v));
                if lat_value.is_none() {
                    bad("lat", "must be a number from -90 to 90".into());
                }
                if lon_value.is_none() {
                    bad("lon", "must be a number from -180 to 180".into());
                }
                if let Some(point) = lat_value
                    .zip(lon_value)
                    .and_then(|(a, o)| LatLon::new(a, o))
                {
                    request.location = Some(LocationInput::Point(point));
                }
            }
            (None, Some(_), None) => bad("lon", "lat needs lon too".into()),
            (None, None, Some(_)) => bad("lat", "lon needs lat too".into()),
            (None, None, None) => {}
        }
        let has_location = near.is_some() || lat.is_some() || lon.is_some();

        // Search forms always send a radius, so it only matters with a place.
        if has_location && let Some(radius) = collected.scalar("radius") {
            match parse_finite(radius).filter(|r| (MIN_RADIUS_MILES..=MAX_RADIUS_MILES).contains(r))
            {
                Some(radius) => request.radius_miles = radius,
                None => bad(
                    "radius",
                    format!(
                        "must be a number of miles from {MIN_RADIUS_MILES} to {MAX_RADIUS_MILES}"
                    ),
                ),
            }
        }

        for value in collected.values("treatment") {
            match Treatment::parse_lenient(value) {
                Some(t) if !request.treatments.contains(&t) => request.treatments.push(t),
                Some(_) => {}
                None => bad(
                    "treatment",
                    format!(
                        "unknown treatment {value:?}; allowed: {}",
                        Treatment::allowed()
                    ),
                ),
            }
        }
        for value in collected.values("condition") {
            match Condition::parse_lenient(value) {
                Some(c) if !request.conditions.contains(&c) => request.conditions.push(c),
                Some(_) => {}
                None => bad(
                    "condition",
                    format!(
                        "unknown condition {value:?}; allowed: {}",
                        Condition::allowed()
                    ),
                ),
            }
        }
        for (name, target) in [
            ("insurance", &mut request.insurance),
            ("language", &mut request.languages),
        ] {
            for value in collected.values(name) {
                if value.chars().count() > 100 {
                    bad(name, "each value at most 100 characters".into());
                } else {
                    target.push(list_key(value));
                }
            }
        }

        if let Some(state) = collected.scalar("state") {
            match parse_state_code(state) {
                Some(code) => request.state = Some(code),
                None => bad(
                    "state",
                    "must be a USPS code such as CO (the 50 states, DC, PR, VI, GU, AS, MP)".into(),
                ),
            }
        }
        for (name, target) in [
            ("telehealth", &mut request.telehealth),
            ("accepting", &mut request.accepting),
        ] {
            if let Some(value) = collected.scalar(name) {
                match parse_flag(value) {
                    Some(flag) => *target = flag,
                    None => bad(name, "must be true or false".into()),
                }
            }
        }
        if let Some(value) = collected.scalar("min_rating") {
            match parse_finite(value).filter(|r| (0.0..=5.0).contains(r)) {
                Some(rating) => request.min_rating = Some(rating),
                None => bad("min_rating", "must be a number from 0 to 5".into()),
            }
        }
        if let Some(value) = collected.scalar("max_price") {
            match parse_whole(value, 0, MAX_PRICE) {
                Some(price) => request.max_price = Some(price),
                None => bad(
                    "max_price",
                    format!("must be a whole number of US dollars from 0 to {MAX_PRICE}"),
                ),
            }
        }
        if let Some(value) = collected.scalar("sort") {
            match SortOrder::parse(value) {
                Some(sort) => request.sort = sort,
                None => bad(
                    "sort",
                    "must be one of rating, distance, relevance, reviews, price".into(),
                ),
            }
        }
        if request.sort == SortOrder::Distance && !has_location {
            bad(
                "sort",
                "sort=distance needs a location: give near, or lat and lon".into(),
            );
        }
        if request.sort == SortOrder::Relevance && !q_given {
            bad("sort", "sort=relevance needs a search text in q".into());
        }
        if let Some(value) = collected.scalar("page") {
            match parse_whole(value, 1, MAX_PAGE) {
                Some(page) => request.page = page,
                None => bad(
                    "page",
                    format!("must be a whole number from 1 to {MAX_PAGE}"),
                ),
            }
        }
        if let Some(value) = collected.scalar("per_page") {
            match parse_whole(value, 1, MAX_PER_PAGE) {
                Some(per_page) => request.per_page = per_page,
                None => bad(
                    "per_page",
                    format!("must be a whole number from 1 to {MAX_PER_PAGE}"),
                ),
            }
        }
        if invalid.is_empty() {
            Ok(request)
        } else {
            Err(invalid)
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
        if let Some(text) = &self.text {
            pairs.push(("q", text.clone()));
        }
        match &self.location {
            Some(LocationInput::Near(near)) => pairs.push(("near", near.clone())),
            Some(LocationInput::Point(point)) => {
                pairs.push(("lat", point.lat.to_string()));
                pairs.push(("lon", point.lon.to_string()));
            }
            None => {}
        }
        if self.location.is_some() {
            pairs.push(("radius", self.radius_miles.to_string()));
        }
        pairs.extend(
            self.treatments
                .iter()
                .map(|t| ("treatment", t.slug().to_string())),
        );
        pairs.extend(
            self.conditions
                .iter()
                .map(|c| ("condition", c.slug().to_string())),
        );
        pairs.extend(self.insurance.iter().map(|i| ("insurance", i.clone())));
        pairs.extend(self.languages.iter().map(|l| ("language", l.clone())));
        if let Some(state) = self.state {
            pairs.push(("state", state.to_string()));
        }
        if self.telehealth {
            pairs.push(("telehealth", "true".into()));
        }
        if self.accepting {
            pairs.push(("accepting", "true".into()));
        }
        if let Some(rating) = self.min_rating {
            pairs.push(("min_rating", rating.to_string()));
        }
        if let Some(price) = self.max_price {
            pairs.push(("max_price", price.to_string()));
        }
        if self.sort != SortOrder::Rating {
            pairs.push(("sort", self.sort.as_str().into()));
        }
        if self.page != 1 {
            pairs.push(("page", self.page.to_string()));
        }
        if self.per_page != DEFAULT_PER_PAGE {
            pairs.push(("per_page", self.per_page.to_string()));
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
        SCALARS.contains(&name) || REPEATABLE.contains(&name) || name == "per_page"
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
