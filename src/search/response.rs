//! The search response of docs/api.md, shared by the JSON API, the pages and the CLI.

use indexmap::IndexMap;
use serde::Serialize;

use super::collector::Tally;
use crate::geo::LatLon;
use crate::index::GenerationMeta;
use crate::index::schema::flag;
use crate::provider::{Condition, Provider, ProviderType, Treatment, adjusted_rating};

/// How many insurers the insurance facet lists.
pub const INSURANCE_FACET_SIZE: usize = 20;

/// The `location` of a response: where the search looked.
///
/// A whole state (`near=Colorado`) has no centre and no radius: `lat`,
/// `lon` and `radius_miles` are `null`, and the label says so
/// ("Colorado (whole state)").
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResolvedLocation {
    pub query: String,
    pub label: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub radius_miles: Option<f64>,
    /// The state `near` named alone, which filters like `state=`.
    #[serde(skip)]
    pub state: Option<&'static str>,
    /// The state the place lies in: the searcher's state for telehealth
    /// reach (`None` for bare coordinates).
    #[serde(skip)]
    pub in_state: Option<&'static str>,
}

impl ResolvedLocation {
    /// The centre of the radius search, if there is one.
    pub fn center(&self) -> Option<LatLon> {
        LatLon::new(self.lat?, self.lon?)
    }
}

/// A provider in results: every CSV column plus what the search adds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hit {
    #[serde(flatten)]
    pub provider: Provider,
    pub distance_miles: Option<f64>,
    pub adjusted_rating: f64,
    /// How a search with `include_telehealth` reached the provider;
    /// `None` otherwise (the key is always in results).
    pub reach: Option<Reach>,
    /// Path of the provider's profile page.
    pub url: String,
}

/// How a provider is reachable for the searcher (docs/search.md,
/// "Telehealth reach").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reach {
    /// Inside the search area: a visit in person is possible.
    InPerson,
    /// Outside it, but a telehealth provider licensed in the searcher's
    /// state.
    Telehealth,
}

/// `facets.reach`: the matches by how they were reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ReachCounts {
    pub in_person: u64,
    pub telehealth: u64,
}

impl Hit {
    pub fn new(provider: Provider, distance_miles: Option<f64>, mean_rating: f64) -> Hit {
        let adjusted = adjusted_rating(provider.rating, provider.review_count, mean_rating);
        Hit {
            url: format!("/providers/{}", provider.id),
            provider,
            distance_miles,
            adjusted_rating: adjusted,
            reach: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Facets {
    pub treatments: IndexMap<&'static str, u64>,
    pub conditions: IndexMap<&'static str, u64>,
    /// The most common insurers among the matches, most common first.
    pub insurance: IndexMap<String, u64>,
    pub provider_type: IndexMap<&'static str, u64>,
    /// `None` without `include_telehealth`.
    pub reach: Option<ReachCounts>,
    pub telehealth: u64,
    pub accepting_new_patients: u64,
}

impl Facets {
    pub(super) fn from_tally(tally: &Tally, meta: &GenerationMeta) -> Facets {
        let count = |bit: u32| tally.flag_counts[bit.trailing_zeros() as usize];
        let mut insurers: Vec<(&String, u64)> = tally
            .insurance_counts
            .iter()
            .filter(|(_, count)| **count > 0)
            .filter_map(|(ord, count)| Some((meta.insurance_names.get(*ord as usize)?, *count)))
            .collect();
        insurers.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        Facets {
            treatments: Treatment::ALL
                .iter()
                .map(|t| (t.slug(), count(flag::treatment(*t))))
                .collect(),
            conditions: Condition::ALL
                .iter()
                .map(|c| (c.slug(), count(flag::condition(*c))))
                .collect(),
            insurance: insurers
                .into_iter()
                .take(INSURANCE_FACET_SIZE)
                .map(|(name, count)| (name.clone(), count))
                .collect(),
            provider_type: ProviderType::ALL
                .iter()
                .map(|t| (t.slug(), count(flag::provider_type(*t))))
                .collect(),
            reach: tally.by_telehealth.map(|telehealth| ReachCounts {
                in_person: tally.total - telehealth,
                telehealth,
            }),
            telehealth: count(flag::TELEHEALTH),
            accepting_new_patients: count(flag::ACCEPTING),
        }
    }
}

/// The words actually searched for (after the words that say nothing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QueryWords {
    pub words: Vec<String>,
}

/// How many providers one word matches alone (with every other filter).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WordTotal {
    pub word: String,
    pub total: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchResponse {
    pub total: u64,
    pub page: u32,
    pub per_page: u32,
    pub sort: &'static str,
    /// The words of `q` a provider had to match; `None` without `q`.
    pub query: Option<QueryWords>,
    /// When the words match nothing together: each word's own total.
    pub suggestions: Option<Vec<WordTotal>>,
    /// Results page only (never in JSON): the results match this many of
    /// the words, not all (see `search_for_page`).
    #[serde(skip)]
    pub relaxed: Option<usize>,
    pub location: Option<ResolvedLocation>,
    pub results: Vec<Hit>,
    /// `None` when the request said `facets=false`.
    pub facets: Option<Facets>,
    pub generation: u64,
}
