//! The parameters of the HSDS lists, read into the [`SearchRequest`] the
//! JSON API uses: `search` → `q`, `postcode` (+ `proximity` in metres) →
//! `near` + `radius` in miles and nearest first, `taxonomy_term_id` →
//! `treatment`/`condition`, `modified_after` → the first day of
//! `last_verified`.

use uuid::Uuid;

use super::taxonomy::{Taxonomy, Term};
use crate::facades::time::{Comparator, parse_span};
use crate::facades::{METRES_PER_MILE, invalid, renamed, shortened};
use crate::geo::places::resolve_near;
use crate::ids;
use crate::search::{DEFAULT_RADIUS_MILES, InvalidParam, MAX_PAGE, SearchRequest, decode_query};
use crate::values;

/// Entries per page when `per_page` is not given, and at most.
pub const DEFAULT_PER_PAGE: u32 = 20;
pub const MAX_PER_PAGE: u32 = 100;

/// Radius bounds of the search, in miles (as `radius` of the API).
const MIN_MILES: f64 = 1.0;
const MAX_MILES: f64 = 500.0;

/// A list request, read.
#[derive(Debug, Clone, PartialEq)]
pub struct ListQuery {
    /// The search underneath (facets off).
    pub request: SearchRequest,
    /// `organization_id`: the organizations whose services are wanted.
    pub organizations: Vec<Uuid>,
    /// `minimal=true`: services with `id`, `name`, `status` and
    /// `last_modified` only.
    pub minimal: bool,
    /// `format=ndjson`: every match, one per line, no pages.
    pub ndjson: bool,
}

/// Parameters that may be given once.
const SCALARS: [&str; 9] = [
    "search",
    "page",
    "per_page",
    "postcode",
    "proximity",
    "modified_after",
    "minimal",
    "format",
    "taxonomy_id",
];

/// Reads the query string of `/hsds/services`, `/hsds/organizations` or
/// `/hsds/service_at_locations`. Unknown parameters are ignored, as in the
/// API.
pub fn parse_list(query: &str) -> Result<ListQuery, Vec<InvalidParam>> {
    let pairs = decode_query(query);
    let mut invalid_params = Vec::new();
    let mut bad = |name: &str, reason: String| invalid_params.push(invalid(name, reason));
    let values_of = |name: &str| -> Vec<&str> {
        pairs
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
            .collect()
    };
    for name in SCALARS {
        if values_of(name).len() > 1 {
            bad(name, "given more than once; give it once".into());
        }
    }
    let scalar = |name: &str| values_of(name).first().copied();
    let mut search: Vec<(&'static str, String)> = vec![("facets", "false".into())];

    if let Some(text) = scalar("search") {
        search.push(("q", text.to_string()));
    }
    let page = match scalar("page") {
        None => 1,
        Some(page) => values::whole(page, 1, MAX_PAGE).unwrap_or_else(|| {
            bad(
                "page",
                format!("must be a whole number from 1 to {MAX_PAGE}"),
            );
            1
        }),
    };
    let per_page = match scalar("per_page") {
        None => DEFAULT_PER_PAGE,
        Some(n) => values::whole(n, 1, MAX_PER_PAGE).unwrap_or_else(|| {
            bad(
                "per_page",
                format!("must be a whole number from 1 to {MAX_PER_PAGE}"),
            );
            DEFAULT_PER_PAGE
        }),
    };
    search.push(("page", page.to_string()));
    search.push(("per_page", per_page.to_string()));

    let proximity_miles = scalar("proximity").and_then(|metres| {
        let (min, max) = (MIN_MILES * METRES_PER_MILE, MAX_MILES * METRES_PER_MILE);
        let slack = 1e-9 * max;
        let miles = values::decimal_in(metres, min - slack, max + slack)
            .map(|m| (m / METRES_PER_MILE).clamp(MIN_MILES, MAX_MILES));
        if miles.is_none() {
            bad(
                "proximity",
                format!("must be a number of metres from {min} to {max} (1 to 500 miles)"),
            );
        }
        miles
    });
    match scalar("postcode") {
        Some(postcode) => {
            let zip_shaped = postcode.len() == 5 && postcode.bytes().all(|b| b.is_ascii_digit())
                || postcode.len() == 10
                    && postcode.as_bytes()[5] == b'-'
                    && postcode
                        .bytes()
                        .enumerate()
                        .all(|(i, b)| i == 5 || b.is_ascii_digit());
            if !zip_shaped {
                bad(
                    "postcode",
                    "must be a US ZIP code: 5 digits, or ZIP+4 (80202-1234)".into(),
                );
            } else if let Err(error) = resolve_near(postcode) {
                bad("postcode", error.to_string());
            } else {
                search.push(("near", postcode.to_string()));
                search.push((
                    "radius",
                    proximity_miles.unwrap_or(DEFAULT_RADIUS_MILES).to_string(),
                ));
                search.push(("sort", "distance".into()));
            }
        }
        None if scalar("proximity").is_some() => bad(
            "proximity",
            "needs a postcode: the distance is counted from its centre".into(),
        ),
        None => {}
    }

    for value in values_of("taxonomy_term_id") {
        for item in value.split(',').map(str::trim).filter(|v| !v.is_empty()) {
            match Term::find(item) {
                Some(Term::Treatment(t)) => search.push(("treatment", t.slug().into())),
                Some(Term::Condition(c)) => search.push(("condition", c.slug().into())),
                None => bad(
                    "taxonomy_term_id",
                    format!(
                        "{:?} is no taxonomy term of ketadir: give a term's id or code \
                         (see /hsds/taxonomy_terms)",
                        shortened(item, 80)
                    ),
                ),
            }
        }
    }
    if let Some(taxonomy) = scalar("taxonomy_id") {
        let uuid = ids::parse_uuid(taxonomy);
        match Taxonomy::ALL.into_iter().find(|t| Some(t.id()) == uuid) {
            // Any term of the taxonomy.
            Some(taxonomy) => {
                let name = match taxonomy {
                    Taxonomy::Treatments => "treatment",
                    Taxonomy::Conditions => "condition",
                };
                for term in taxonomy.terms() {
                    search.push((name, term.code().into()));
                }
            }
            None => bad(
                "taxonomy_id",
                "is no taxonomy of ketadir (see /hsds/taxonomies)".into(),
            ),
        }
    }
    let mut organizations = Vec::new();
    for value in values_of("organization_id") {
        for item in value.split(',').map(str::trim).filter(|v| !v.is_empty()) {
            match ids::parse_uuid(item) {
                Some(uuid) => organizations.push(uuid),
                None => bad(
                    "organization_id",
                    format!("{:?} is not a UUID", shortened(item, 80)),
                ),
            }
        }
    }
    let mut from_day = None;
    if let Some(when) = scalar("modified_after") {
        // A `+` of an offset that was not percent-encoded arrives as a space.
        match parse_span(&when.replace(' ', "+")) {
            Ok(span) => from_day = span.days(Comparator::Ge).to_search_days().0,
            Err(reason) => bad("modified_after", reason),
        }
    }
    let minimal = match scalar("minimal") {
        None => false,
        Some(flag) => values::form_flag(flag).unwrap_or_else(|| {
            bad("minimal", "must be true or false".into());
            false
        }),
    };
    let ndjson = match scalar("format") {
        None | Some("json") => false,
        Some("ndjson") => true,
        Some(_) => {
            bad("format", "must be json or ndjson".into());
            false
        }
    };

    let parsed = SearchRequest::from_pairs(search.iter().map(|(n, v)| (*n, v.as_str())));
    match parsed {
        Ok(mut request) if invalid_params.is_empty() => {
            request.verified_from_day = from_day;
            Ok(ListQuery {
                request,
                organizations,
                minimal,
                ndjson,
            })
        }
        Ok(_) => Err(invalid_params),
        Err(errors) => {
            invalid_params.extend(renamed(
                errors,
                &[
                    ("q", "search"),
                    ("near", "postcode"),
                    ("radius", "proximity"),
                    ("treatment", "taxonomy_term_id"),
                    ("condition", "taxonomy_term_id"),
                ],
            ));
            Err(invalid_params)
        }
    }
}

/// `page` and `per_page` of the taxonomy lists (no search underneath).
pub fn parse_page(query: &str) -> Result<(u32, u32), Vec<InvalidParam>> {
    let pairs = decode_query(query);
    let value = |name: &str| {
        pairs
            .iter()
            .find(|(n, v)| n == name && !v.trim().is_empty())
            .map(|(_, v)| v.trim().to_string())
    };
    let mut invalid_params = Vec::new();
    let page = match value("page") {
        None => 1,
        Some(page) => values::whole(&page, 1, MAX_PAGE).unwrap_or_else(|| {
            invalid_params.push(invalid(
                "page",
                format!("must be a whole number from 1 to {MAX_PAGE}"),
            ));
            1
        }),
    };
    let per_page = match value("per_page") {
        None => DEFAULT_PER_PAGE,
        Some(n) => values::whole(&n, 1, MAX_PER_PAGE).unwrap_or_else(|| {
            invalid_params.push(invalid(
                "per_page",
                format!("must be a whole number from 1 to {MAX_PER_PAGE}"),
            ));
            DEFAULT_PER_PAGE
        }),
    };
    if invalid_params.is_empty() {
        Ok((page, per_page))
    } else {
        Err(invalid_params)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::{Condition, Treatment};
    use crate::search::{LocationInput, SortOrder};

    fn names(query: &str) -> Vec<String> {
        parse_list(query)
            .expect_err(query)
            .into_iter()
            .map(|e| e.name)
            .collect()
    }

    #[test]
    fn postcode_and_proximity_are_a_radius_search_in_metres() {
        let query = parse_list("postcode=80202&proximity=80467.2").expect("ok");
        assert_eq!(
            query.request.location,
            Some(LocationInput::Near("80202".into()))
        );
        assert!((query.request.radius_miles - 50.0).abs() < 1e-9);
        assert_eq!(query.request.sort, SortOrder::Distance);
        let default = parse_list("postcode=80202").expect("ok");
        assert_eq!(default.request.radius_miles, DEFAULT_RADIUS_MILES);
        assert_eq!(names("proximity=5000"), ["proximity"]);
        assert_eq!(names("postcode=80202&proximity=10"), ["proximity"]);
        assert_eq!(names("postcode=Denver"), ["postcode"]);
        assert_eq!(names("postcode=00000"), ["postcode"]);
    }

    #[test]
    fn terms_taxonomies_and_flags() {
        let query = parse_list(&format!(
            "taxonomy_term_id={},crps&minimal=true&format=ndjson&search=pain",
            Term::Treatment(Treatment::IvInfusion).id()
        ))
        .expect("ok");
        assert_eq!(query.request.treatments, [Treatment::IvInfusion]);
        assert_eq!(query.request.conditions, [Condition::Crps]);
        assert!(query.minimal && query.ndjson);
        assert_eq!(query.request.text.as_deref(), Some("pain"));
        let taxonomy =
            parse_list(&format!("taxonomy_id={}", Taxonomy::Conditions.id())).expect("ok");
        assert_eq!(taxonomy.request.conditions.len(), Condition::ALL.len());
        assert_eq!(names("taxonomy_term_id=magic"), ["taxonomy_term_id"]);
        assert_eq!(names("format=xml"), ["format"]);
        assert_eq!(names("per_page=101&page=0"), ["page", "per_page"]);
        assert_eq!(names("modified_after=soon"), ["modified_after"]);
        assert_eq!(names("search=a&search=b"), ["search"]);
    }
}
