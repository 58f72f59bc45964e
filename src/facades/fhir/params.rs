//! A FHIR search's parameters, read into the [`SearchRequest`] the JSON API
//! uses (docs/fhir.md, "Search"). Each FHIR parameter becomes the search
//! parameters that mean the same (`near` → `lat`, `lon`, `radius` and
//! `sort=distance`; `address-state` → `state`; `specialty` → `treatment`
//! or `condition`; `_count` → `per_page`), which
//! [`SearchRequest::from_pairs`] reads with every rule of the API; the
//! filters the API has no parameter for (ids, a ZIP prefix, a range of
//! verification days, and leaving out the clinics, which have no
//! Practitioner) are set on the request after it.

use super::{
    CONDITION_SYSTEM, DEFAULT_COUNT, MAX_COUNT, ResourceType, TREATMENT_SYSTEM,
    WITHOUT_PRACTITIONER,
};
use crate::facades::time::{Comparator, DayRange, parse_span};
use crate::facades::{KM_PER_MILE, invalid, renamed, shortened};
use crate::provider::{Condition, Treatment, parse_state_code};
use crate::search::{DEFAULT_RADIUS_MILES, InvalidParam, MAX_PAGE, SearchRequest, decode_query};
use crate::values;

/// Radius bounds of the search, in miles (as `radius` of the API).
const MIN_MILES: f64 = 1.0;
const MAX_MILES: f64 = 500.0;

/// Most ids one search may name (`_id` and references together).
pub const MAX_IDS: usize = 100;

/// The unit of `near`'s distance, and of the distances answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Miles,
    Kilometres,
}

impl Unit {
    /// The UCUM code of `valueDistance`.
    pub fn ucum(self) -> &'static str {
        match self {
            Unit::Miles => "[mi_i]",
            Unit::Kilometres => "km",
        }
    }

    /// The human unit of `valueDistance`.
    pub fn label(self) -> &'static str {
        match self {
            Unit::Miles => "mi",
            Unit::Kilometres => "km",
        }
    }

    /// Miles as this unit.
    pub fn from_miles(self, miles: f64) -> f64 {
        match self {
            Unit::Miles => miles,
            Unit::Kilometres => miles * KM_PER_MILE,
        }
    }

    fn parse(text: &str) -> Option<Unit> {
        match text {
            "" | "km" => Some(Unit::Kilometres),
            "mi" | "[mi_i]" => Some(Unit::Miles),
            _ => None,
        }
    }
}

/// What `_include` adds to a PractitionerRole search.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Include {
    Practitioner,
    Organization,
    Location,
    Service,
}

impl Include {
    pub const ALL: [Include; 4] = [
        Include::Practitioner,
        Include::Organization,
        Include::Location,
        Include::Service,
    ];

    /// The value of `_include` (`PractitionerRole:practitioner`, …).
    pub fn value(self) -> &'static str {
        match self {
            Include::Practitioner => "PractitionerRole:practitioner",
            Include::Organization => "PractitionerRole:organization",
            Include::Location => "PractitionerRole:location",
            Include::Service => "PractitionerRole:service",
        }
    }

    /// The resource it adds.
    pub fn kind(self) -> ResourceType {
        match self {
            Include::Practitioner => ResourceType::Practitioner,
            Include::Organization => ResourceType::Organization,
            Include::Location => ResourceType::Location,
            Include::Service => ResourceType::HealthcareService,
        }
    }
}

/// The reference parameters of PractitionerRole and what they point to.
pub const REFERENCES: [(&str, ResourceType); 4] = [
    ("practitioner", ResourceType::Practitioner),
    ("organization", ResourceType::Organization),
    ("location", ResourceType::Location),
    ("service", ResourceType::HealthcareService),
];

/// The search parameters each resource type answers (besides `_id`,
/// `_lastUpdated`, `_count` and `_page`, which all answer).
pub fn parameters_of(kind: ResourceType) -> &'static [&'static str] {
    match kind {
        ResourceType::Location => &["near", "address-state", "address-postalcode"],
        ResourceType::PractitionerRole => &[
            "practitioner",
            "organization",
            "location",
            "service",
            "specialty",
            "_include",
        ],
        _ => &[],
    }
}

/// Parameters every resource type answers.
pub const COMMON: [&str; 4] = ["_id", "_lastUpdated", "_count", "_page"];

/// Parameters a server may ignore and ketadir does: the format is always
/// JSON, and pretty printing is the client's business.
const IGNORED: [&str; 2] = ["_format", "_pretty"];

/// A FHIR search, read.
#[derive(Debug, Clone, PartialEq)]
pub struct FhirSearch {
    pub kind: ResourceType,
    /// The search underneath (facets off).
    pub request: SearchRequest,
    /// The FHIR ids the results must have (`_id` and reference
    /// parameters, intersected); `None` without such a parameter.
    pub ids: Option<Vec<String>>,
    /// `_count`: entries per page, 0–100 (0 answers the total only).
    pub count: u32,
    pub page: u32,
    /// `near`'s unit, when the search has a `near`.
    pub unit: Option<Unit>,
    pub includes: Vec<Include>,
    /// The parameters read, as sent (but `_page`), for the Bundle's links.
    pub link_pairs: Vec<(String, String)>,
}

/// Reads a search's query string. `strict` (the client sent `Prefer:
/// handling=strict`) makes an unknown parameter an error; otherwise it is
/// ignored and left out of the Bundle's `self` link, as FHIR asks.
pub fn parse_search(
    kind: ResourceType,
    query: &str,
    strict: bool,
) -> Result<FhirSearch, Vec<InvalidParam>> {
    let mut reader = Reader {
        kind,
        invalid: Vec::new(),
        pairs: vec![("facets", "false".to_string())],
        ids: None,
        id_count: 0,
        days: DayRange::default(),
        zip_prefix: None,
        count: None,
        page: None,
        unit: None,
        includes: Vec::new(),
        specialty: [false, false],
        practitioner_reference: false,
        seen: Vec::new(),
        link_pairs: Vec::new(),
    };
    for (name, value) in decode_query(query) {
        let value = value.trim().to_string();
        reader.read(&name, value, strict);
    }
    reader.finish()
}

struct Reader {
    kind: ResourceType,
    invalid: Vec<InvalidParam>,
    /// Pairs for [`SearchRequest::from_pairs`].
    pairs: Vec<(&'static str, String)>,
    ids: Option<Vec<String>>,
    id_count: usize,
    days: DayRange,
    zip_prefix: Option<String>,
    count: Option<u32>,
    page: Option<u32>,
    unit: Option<Unit>,
    includes: Vec<Include>,
    /// A `specialty` parameter of treatments, of conditions, was read.
    specialty: [bool; 2],
    /// A `practitioner` reference was read: only roles with a practitioner
    /// can match it.
    practitioner_reference: bool,
    /// Parameters that may be given once, already read.
    seen: Vec<String>,
    link_pairs: Vec<(String, String)>,
}

impl Reader {
    fn bad(&mut self, name: &str, reason: impl Into<String>) {
        self.invalid.push(invalid(name, reason));
    }

    /// False (and an error) when a parameter that may be given once comes
    /// again.
    fn once(&mut self, name: &str) -> bool {
        if self.seen.iter().any(|seen| seen == name) {
            self.bad(name, "given more than once; give it once");
            return false;
        }
        self.seen.push(name.to_string());
        true
    }

    fn read(&mut self, raw_name: &str, value: String, strict: bool) {
        let (name, modifier) = match raw_name.split_once(':') {
            Some((name, modifier)) => (name, Some(modifier)),
            None => (raw_name, None),
        };
        let known = COMMON.contains(&name) || parameters_of(self.kind).contains(&name);
        if !known {
            if strict && !IGNORED.contains(&name) {
                self.bad(
                    raw_name,
                    format!(
                        "{} does not search by {:?} (see /fhir/metadata)",
                        self.kind.name(),
                        shortened(raw_name, 40)
                    ),
                );
            }
            return;
        }
        if let Some(modifier) = modifier {
            self.bad(
                raw_name,
                format!("the modifier :{} is not supported", shortened(modifier, 20)),
            );
            return;
        }
        if value.is_empty() {
            // As in the API, a blank value counts as absent.
            return;
        }
        if name != "_page" {
            self.link_pairs.push((name.to_string(), value.clone()));
        }
        match name {
            "_id" => {
                let ids: Vec<String> = value
                    .split(',')
                    .map(str::trim)
                    .filter(|id| !id.is_empty())
                    .map(str::to_string)
                    .collect();
                self.restrict(name, ids);
            }
            "_lastUpdated" => self.last_updated(&value),
            "_count" => {
                if self.once(name) {
                    match values::whole(&value, 0, MAX_COUNT) {
                        Some(count) => self.count = Some(count),
                        None => self.bad(
                            name,
                            format!("must be a whole number from 0 to {MAX_COUNT}"),
                        ),
                    }
                }
            }
            "_page" => {
                if self.once(name) {
                    match values::whole(&value, 1, MAX_PAGE) {
                        Some(page) => self.page = Some(page),
                        None => {
                            self.bad(name, format!("must be a whole number from 1 to {MAX_PAGE}"))
                        }
                    }
                }
            }
            "_include" => self.include(&value),
            "near" => {
                if self.once(name) {
                    self.near(&value);
                }
            }
            "address-state" => {
                if self.once(name) {
                    match parse_state_code(&value) {
                        Some(code) => self.pairs.push(("state", code.to_string())),
                        None => self.bad(
                            name,
                            "give a state's 2-letter USPS code, such as CO \
                             (the 50 states, DC, PR, VI, GU, AS, MP)",
                        ),
                    }
                }
            }
            "address-postalcode" => {
                if self.once(name) {
                    if (1..=5).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_digit()) {
                        self.zip_prefix = Some(value);
                    } else {
                        self.bad(
                            name,
                            "give 1 to 5 digits of a ZIP code (matched as the start of \
                             the 5-digit code)",
                        );
                    }
                }
            }
            "specialty" => self.specialty(&value),
            reference => {
                let target = REFERENCES
                    .iter()
                    .find(|(n, _)| *n == reference)
                    .map(|(_, kind)| *kind);
                if let Some(target) = target {
                    let mut ids = Vec::new();
                    for item in value.split(',').map(str::trim).filter(|v| !v.is_empty()) {
                        match reference_id(item, target) {
                            Some(id) => ids.push(id.to_string()),
                            None => self.bad(
                                reference,
                                format!(
                                    "{:?} is not a reference to a {}: give {}/<id> or <id>",
                                    shortened(item, 80),
                                    target.name(),
                                    target.name()
                                ),
                            ),
                        }
                    }
                    self.practitioner_reference |= target == ResourceType::Practitioner;
                    self.restrict(reference, ids);
                }
            }
        }
    }

    /// `_id` and references: the results' ids must be among these.
    fn restrict(&mut self, name: &str, ids: Vec<String>) {
        self.id_count += ids.len();
        if self.id_count > MAX_IDS {
            if self.id_count - ids.len() <= MAX_IDS {
                self.bad(name, format!("at most {MAX_IDS} ids in one search"));
            }
            return;
        }
        self.ids = Some(match self.ids.take() {
            None => ids,
            Some(before) => before.into_iter().filter(|id| ids.contains(id)).collect(),
        });
    }

    fn last_updated(&mut self, value: &str) {
        const NAME: &str = "_lastUpdated";
        let (comparator, date) = match value.get(..2) {
            Some("eq") => (Comparator::Eq, &value[2..]),
            Some("ge") => (Comparator::Ge, &value[2..]),
            Some("gt") => (Comparator::Gt, &value[2..]),
            Some("le") => (Comparator::Le, &value[2..]),
            Some("lt") => (Comparator::Lt, &value[2..]),
            Some("ne" | "sa" | "eb" | "ap") => {
                self.bad(NAME, "the prefixes eq, ge, gt, le and lt are supported");
                return;
            }
            _ => (Comparator::Eq, value),
        };
        // A `+` of an offset that was not percent-encoded arrives as a space.
        let date = date.replace(' ', "+");
        match parse_span(&date) {
            Ok(span) => self.days = self.days.intersect(span.days(comparator)),
            Err(reason) => self.bad(NAME, reason),
        }
    }

    fn include(&mut self, value: &str) {
        match Include::ALL.iter().find(|i| i.value() == value) {
            Some(include) if !self.includes.contains(include) => self.includes.push(*include),
            Some(_) => {}
            None => {
                let allowed: Vec<&str> = Include::ALL.iter().map(|i| i.value()).collect();
                self.bad(
                    "_include",
                    format!(
                        "{:?} is not supported; allowed: {}",
                        shortened(value, 60),
                        allowed.join(", ")
                    ),
                );
            }
        }
    }

    /// `near=lat|lon|distance|unit`: a radius search, nearest first.
    fn near(&mut self, value: &str) {
        const NAME: &str = "near";
        let parts: Vec<&str> = value.split('|').map(str::trim).collect();
        if !(2..=4).contains(&parts.len()) {
            self.bad(
                NAME,
                "give latitude|longitude|distance|unit, such as 39.74|-104.99|50|mi \
                 (distance and unit may be left out)",
            );
            return;
        }
        let lat = values::decimal_in(parts[0], -90.0, 90.0);
        let lon = values::decimal_in(parts[1], -180.0, 180.0);
        if lat.is_none() {
            self.bad(NAME, "the latitude must be a number from -90 to 90");
        }
        if lon.is_none() {
            self.bad(NAME, "the longitude must be a number from -180 to 180");
        }
        let Some(unit) = Unit::parse(parts.get(3).copied().unwrap_or("")) else {
            self.bad(NAME, "the unit must be mi or km (km when left out)");
            return;
        };
        let miles = match parts.get(2).copied().filter(|d| !d.is_empty()) {
            None => Some(DEFAULT_RADIUS_MILES),
            Some(distance) => {
                // Bounds in the query's unit, with room for rounding of
                // the conversion, then clamped to the search's bounds.
                let (min, max) = (unit.from_miles(MIN_MILES), unit.from_miles(MAX_MILES));
                let slack = 1e-9 * max;
                let distance = values::decimal_in(distance, min - slack, max + slack);
                distance.map(|d| {
                    let miles = match unit {
                        Unit::Miles => d,
                        Unit::Kilometres => d / KM_PER_MILE,
                    };
                    miles.clamp(MIN_MILES, MAX_MILES)
                })
            }
        };
        let Some(miles) = miles else {
            self.bad(
                NAME,
                format!(
                    "the distance must be from {MIN_MILES} to {MAX_MILES} miles \
                     ({} to {} km)",
                    MIN_MILES * KM_PER_MILE,
                    MAX_MILES * KM_PER_MILE
                ),
            );
            return;
        };
        if let (Some(lat), Some(lon)) = (lat, lon) {
            self.pairs.push(("lat", lat.to_string()));
            self.pairs.push(("lon", lon.to_string()));
            self.pairs.push(("radius", miles.to_string()));
            self.pairs.push(("sort", "distance".into()));
            self.unit = Some(unit);
        }
    }

    /// `specialty=[system|]code,…`: treatments or conditions, any of them.
    fn specialty(&mut self, value: &str) {
        const NAME: &str = "specialty";
        let mut treatments = Vec::new();
        let mut conditions = Vec::new();
        for token in value.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            let (system, code) = match token.split_once('|') {
                Some((system, code)) => (Some(system), code),
                None => (None, token),
            };
            let treatment = Treatment::ALL.iter().find(|t| t.slug() == code);
            let condition = Condition::ALL.iter().find(|c| c.slug() == code);
            match (system, treatment, condition) {
                (Some(TREATMENT_SYSTEM) | None, Some(t), _) => treatments.push(t.slug()),
                (Some(CONDITION_SYSTEM) | None, _, Some(c)) => conditions.push(c.slug()),
                _ => self.bad(
                    NAME,
                    format!(
                        "{:?} is no specialty of ketadir: give a treatment of {TREATMENT_SYSTEM} \
                         ({}) or a condition of {CONDITION_SYSTEM} ({})",
                        shortened(token, 80),
                        Treatment::SLUGS.join(", "),
                        Condition::SLUGS.join(", ")
                    ),
                ),
            }
        }
        if !treatments.is_empty() && !conditions.is_empty() {
            self.bad(
                NAME,
                "one specialty parameter lists treatments or conditions, not both; \
                 repeat specialty for the other (the two must then both match)",
            );
            return;
        }
        let (slot, name, slugs) = if treatments.is_empty() {
            (1, "condition", conditions)
        } else {
            (0, "treatment", treatments)
        };
        if slugs.is_empty() {
            return;
        }
        if self.specialty[slot] {
            self.bad(
                NAME,
                format!(
                    "a second specialty parameter of {name}s would ask for both, which \
                     ketadir cannot search; list them in one parameter (any of them)"
                ),
            );
            return;
        }
        self.specialty[slot] = true;
        for slug in slugs {
            self.pairs.push((name, slug.to_string()));
        }
    }

    fn finish(mut self) -> Result<FhirSearch, Vec<InvalidParam>> {
        let count = self.count.unwrap_or(DEFAULT_COUNT);
        let page = self.page.unwrap_or(1);
        // `_count=0` asks for the total only: one result is searched for
        // and none is sent.
        self.pairs.push(("per_page", count.max(1).to_string()));
        self.pairs.push(("page", page.to_string()));
        let parsed = SearchRequest::from_pairs(self.pairs.iter().map(|(n, v)| (*n, v.as_str())));
        let mut request = match parsed {
            Ok(request) if self.invalid.is_empty() => request,
            Ok(_) => return Err(self.invalid),
            Err(errors) => {
                self.invalid.extend(renamed(
                    errors,
                    &[
                        ("lat", "near"),
                        ("lon", "near"),
                        ("radius", "near"),
                        ("sort", "near"),
                        ("state", "address-state"),
                        ("treatment", "specialty"),
                        ("condition", "specialty"),
                        ("per_page", "_count"),
                        ("page", "_page"),
                    ],
                ));
                return Err(self.invalid);
            }
        };
        request.zip_prefix = self.zip_prefix;
        // A clinic's row has no Practitioner: Practitioner searches never
        // find it (and do not count it), and its role, which names no
        // practitioner, matches no `practitioner` reference, even one
        // naming the clinic's own id.
        if self.kind == ResourceType::Practitioner || self.practitioner_reference {
            request.excluded_provider_types = WITHOUT_PRACTITIONER.to_vec();
        }
        (request.verified_from_day, request.verified_to_day) = self.days.to_search_days();
        Ok(FhirSearch {
            kind: self.kind,
            request,
            ids: self.ids,
            count,
            page,
            unit: self.unit,
            includes: self.includes,
            link_pairs: self.link_pairs,
        })
    }
}

/// The id in a reference to `target`: `Type/id`, `id` or an absolute URL
/// ending in `Type/id`.
fn reference_id(value: &str, target: ResourceType) -> Option<&str> {
    let mut segments = value.rsplit('/');
    let id = segments.next().filter(|id| !id.is_empty())?;
    match segments.next() {
        None => Some(id),
        Some(kind) if kind == target.name() => Some(id),
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::{LocationInput, SortOrder};

    fn names(result: Result<FhirSearch, Vec<InvalidParam>>) -> Vec<String> {
        result
            .expect_err("an error")
            .into_iter()
            .map(|e| e.name)
            .collect()
    }

    #[test]
    fn near_is_a_radius_search_nearest_first() {
        let search =
            parse_search(ResourceType::Location, "near=39.74|-104.99|50|mi", false).expect("ok");
        assert_eq!(search.unit, Some(Unit::Miles));
        assert_eq!(search.request.radius_miles, 50.0);
        assert_eq!(search.request.sort, SortOrder::Distance);
        assert!(matches!(
            search.request.location,
            Some(LocationInput::Point(p)) if p.lat == 39.74 && p.lon == -104.99
        ));
        let km =
            parse_search(ResourceType::Location, "near=39.74|-104.99|80.4672", false).expect("ok");
        assert_eq!(km.unit, Some(Unit::Kilometres));
        assert!((km.request.radius_miles - 50.0).abs() < 1e-9);
        let widest =
            parse_search(ResourceType::Location, "near=0|0|804.672|km", false).expect("ok");
        assert_eq!(widest.request.radius_miles, 500.0);
        for bad in [
            "near=91|0",
            "near=0|181",
            "near=0",
            "near=0|0|0.5|mi",
            "near=0|0|1|furlong",
            "near=0|0|900|km",
        ] {
            assert_eq!(
                names(parse_search(ResourceType::Location, bad, false)),
                ["near"],
                "{bad}"
            );
        }
    }

    #[test]
    fn parameters_belong_to_their_resource_types() {
        // Unknown parameters are ignored, or refused when strict.
        let lenient =
            parse_search(ResourceType::Practitioner, "near=1|2&foo=bar", false).expect("ignored");
        assert!(lenient.request.location.is_none());
        assert!(lenient.link_pairs.is_empty());
        assert_eq!(
            names(parse_search(ResourceType::Practitioner, "near=1|2", true)),
            ["near"]
        );
        assert!(parse_search(ResourceType::Practitioner, "_format=json", true).is_ok());
        assert_eq!(
            names(parse_search(
                ResourceType::Location,
                "address-state:exact=CO",
                false
            )),
            ["address-state:exact"]
        );
    }

    #[test]
    fn specialties_are_treatments_or_conditions() {
        let search = parse_search(
            ResourceType::PractitionerRole,
            &format!("specialty={TREATMENT_SYSTEM}|iv_infusion,esketamine_nasal&specialty=crps"),
            false,
        )
        .expect("ok");
        assert_eq!(
            search.request.treatments,
            [Treatment::IvInfusion, Treatment::EsketamineNasal]
        );
        assert_eq!(search.request.conditions, [Condition::Crps]);
        for bad in [
            "specialty=iv_infusion,crps",
            "specialty=crps&specialty=ptsd",
            "specialty=spravato",
            "specialty=http://example.org|crps",
        ] {
            assert_eq!(
                names(parse_search(ResourceType::PractitionerRole, bad, false)),
                ["specialty"],
                "{bad}"
            );
        }
    }

    #[test]
    fn ids_and_references_intersect() {
        let search = parse_search(
            ResourceType::PractitionerRole,
            "_id=a,b,c&location=Location/b,http://x.example/fhir/Location/c&_include=PractitionerRole:practitioner",
            false,
        )
        .expect("ok");
        assert_eq!(search.ids, Some(vec!["b".to_string(), "c".to_string()]));
        assert_eq!(search.includes, [Include::Practitioner]);
        assert_eq!(
            names(parse_search(
                ResourceType::PractitionerRole,
                "location=Organization/b",
                false
            )),
            ["location"]
        );
        let many = (0..101)
            .map(|i| format!("p{i}"))
            .collect::<Vec<_>>()
            .join(",");
        assert_eq!(
            names(parse_search(
                ResourceType::Location,
                &format!("_id={many}"),
                false
            )),
            ["_id"]
        );
    }

    #[test]
    fn practitioner_searches_leave_out_clinics() {
        use crate::provider::ProviderType;
        let clinics = [ProviderType::Clinic];
        let practitioners = parse_search(ResourceType::Practitioner, "", false).expect("ok");
        assert_eq!(practitioners.request.excluded_provider_types, clinics);
        let by_reference = parse_search(
            ResourceType::PractitionerRole,
            "practitioner=Practitioner/p-1",
            false,
        )
        .expect("ok");
        assert_eq!(by_reference.request.excluded_provider_types, clinics);
        for (kind, query) in [
            (ResourceType::PractitionerRole, "location=p-1"),
            (
                ResourceType::PractitionerRole,
                "_include=PractitionerRole:practitioner",
            ),
            // Blank: absent.
            (ResourceType::PractitionerRole, "practitioner="),
            (ResourceType::Organization, ""),
            (ResourceType::Location, ""),
            (ResourceType::HealthcareService, ""),
        ] {
            let search = parse_search(kind, query, false).expect("ok");
            assert!(
                search.request.excluded_provider_types.is_empty(),
                "{kind:?} {query}"
            );
        }
    }

    #[test]
    fn counts_pages_and_dates() {
        let search = parse_search(
            ResourceType::Organization,
            "_count=0&_page=3&_lastUpdated=ge2025-01-01&_lastUpdated=lt2026",
            false,
        )
        .expect("ok");
        assert_eq!((search.count, search.page), (0, 3));
        assert_eq!(search.request.per_page, 1);
        assert_eq!(
            search.request.verified_from_day,
            crate::clock::day_number("2025-01-01")
        );
        assert_eq!(
            search.request.verified_to_day,
            crate::clock::day_number("2025-12-31")
        );
        for (bad, name) in [
            ("_count=101", "_count"),
            ("_page=0", "_page"),
            ("_lastUpdated=ne2025", "_lastUpdated"),
            ("_lastUpdated=ge2025-02-30", "_lastUpdated"),
            ("address-postalcode=80202-1234", "address-postalcode"),
            ("address-state=Colorado", "address-state"),
        ] {
            assert_eq!(
                names(parse_search(ResourceType::Location, bad, false)),
                [name],
                "{bad}"
            );
        }
    }
}
