//! Search: [`SearchRequest`] → tantivy query → ranked hits + facets.
//!
//! This is the only code that reads generations. It runs synchronously
//! (CPU work); the HTTP layer calls it from the blocking thread pool.

mod collector;
mod export;
mod freshness;
mod geo_query;
pub mod params;
mod relevance;
mod request;
mod response;
pub mod text;
pub mod words;

use std::ops::Bound;
use std::sync::Arc;

use tantivy::Term;
use tantivy::collector::DocSetCollector;
use tantivy::query::{
    AllQuery, BooleanQuery, ConstScoreQuery, Occur, Query, RangeQuery, TermQuery,
};
use tantivy::schema::IndexRecordOption;

pub use collector::RadiusFilter;
use collector::{
    BitsetClause, Candidate, Fruit, Plan, RankArray, RankBy, ReachFilter, SearchCollector,
};
pub use export::{EXPORT_CHUNK_BYTES, ExportRequest, NdjsonChunks, export};
pub use freshness::{Freshness, freshness};
use geo_query::GeoRangesQuery;
use relevance::RelevanceTerms;
pub use request::{
    DEFAULT_RADIUS_MILES, DISTANCE_NEEDS_A_PLACE, InvalidParam, LocationInput, MAX_PAGE,
    MAX_VERIFIED_WITHIN_DAYS, RELEVANCE_NEEDS_WORDS, SearchRequest, SortOrder, decode_query,
    parse_flag, printable,
};
pub use response::{
    Facets, Hit, QueryWords, Reach, ReachCounts, ResolvedLocation, SearchResponse, WordTotal,
};

use crate::geo::places::{PlaceError, resolve_near};
use crate::geo::{LatLon, distance_miles, zorder};
use crate::index::schema::flag;
use crate::index::{Generation, IndexError};
use crate::provider::state_index;

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("invalid parameters")]
    InvalidParams(Vec<InvalidParam>),
    #[error(transparent)]
    UnknownPlace(#[from] PlaceError),
    #[error(transparent)]
    Index(#[from] IndexError),
}

impl From<tantivy::TantivyError> for SearchError {
    fn from(error: tantivy::TantivyError) -> Self {
        SearchError::Index(IndexError::Tantivy(error))
    }
}

/// Matches documents with any of the terms. (tantivy's `TermSetQuery`
/// builds an FST per query, which costs more than a handful of term lookups.)
pub fn any_term(terms: impl IntoIterator<Item = Term>) -> BooleanQuery {
    BooleanQuery::new(
        terms
            .into_iter()
            .map(|term| {
                let query: Box<dyn Query> =
                    Box::new(TermQuery::new(term, IndexRecordOption::Basic));
                (Occur::Should, query)
            })
            .collect(),
    )
}

/// A filter clause that must match but adds nothing to the score.
fn filter(query: impl Query) -> (Occur, Box<dyn Query>) {
    (
        Occur::Must,
        Box::new(ConstScoreQuery::new(Box::new(query), 0.0)),
    )
}

/// The insurers of an `insurance` filter as a mask of the generation's
/// insurance bits: `Some(0)` without the filter, `None` when one of them
/// has no bit (an insurer the generation does not know matches nobody and
/// adds no bit; when none is known, `None` too).
fn insurance_bits(generation: &Generation, insurers: &[String]) -> Option<u64> {
    let meta = &generation.meta;
    let mut mask = 0u64;
    for key in insurers {
        let Some(ord) = meta
            .insurance_names
            .iter()
            .position(|name| crate::provider::list_key(name) == *key)
        else {
            continue;
        };
        mask |= 1u64
            << generation
                .insurance_bit_of_ord
                .get(ord)
                .copied()
                .flatten()?;
    }
    // Only insurers nobody takes: the query's terms answer that.
    if mask == 0 && !insurers.is_empty() {
        return None;
    }
    Some(mask)
}

/// True when no word of `q` must match.
fn required_words_are_none(understood: &Understood) -> bool {
    understood.request.text.is_none() || understood.words.as_ref().is_none_or(Vec::is_empty)
}

/// Resolves the request's location, if any: a point and a radius, or a
/// whole state (from `near=Colorado`), which then filters like `state=`.
pub fn resolve_location(request: &SearchRequest) -> Result<Option<ResolvedLocation>, SearchError> {
    let radius_miles = request.radius_miles;
    Ok(match &request.location {
        None => None,
        Some(LocationInput::Point(point)) => Some(ResolvedLocation {
            query: format!("{},{}", point.lat, point.lon),
            label: format!("{:.4}, {:.4}", point.lat, point.lon),
            lat: Some(point.lat),
            lon: Some(point.lon),
            radius_miles: Some(radius_miles),
            state: None,
            in_state: None,
        }),
        Some(LocationInput::Near(text)) => {
            let place = resolve_near(text)?;
            if let (Some(from_near), Some(given)) = (place.state, request.state)
                && from_near != given
            {
                return Err(SearchError::InvalidParams(vec![InvalidParam {
                    name: "near".into(),
                    reason: format!(
                        "near={text:?} is the state {from_near} but state={given}; \
                         give one of them"
                    ),
                }]));
            }
            if place.position.is_none() && request.sort == SortOrder::Distance {
                return Err(SearchError::InvalidParams(vec![InvalidParam {
                    name: "sort".into(),
                    reason: format!(
                        "sort=distance needs a point, and near={text:?} is a whole state: \
                         give a ZIP code, a city or coordinates"
                    ),
                }]));
            }
            Some(ResolvedLocation {
                query: text.clone(),
                label: place.label,
                lat: place.position.map(|p| p.lat),
                lon: place.position.map(|p| p.lon),
                radius_miles: place.position.map(|_| radius_miles),
                state: place.state,
                in_state: place.in_state,
            })
        }
    })
}

/// How the words of `q` must match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WordMatch {
    /// Every word (the search's semantics everywhere).
    All,
    /// At least this many of them (the results page's fallback).
    AtLeast(usize),
}

/// A request as the search reads it: a place typed among the words moved
/// to the location, and the words that say nothing dropped.
struct Understood {
    request: SearchRequest,
    /// The words a provider must match; `None` without `q`.
    words: Option<Vec<String>>,
}

fn understand(request: &SearchRequest) -> Understood {
    let mut request = request.clone();
    let Some(q) = request.text.take() else {
        return Understood {
            request,
            words: None,
        };
    };
    let mut q = q;
    if request.location.is_none()
        && let Some((place, rest)) = words::place_in_query(&q)
    {
        request.location = Some(LocationInput::Near(place));
        q = rest;
    }
    let required = words::required_words(&q);
    if required.is_empty() {
        // Nothing left to match: as if `q` was absent.
        if request.sort == SortOrder::Relevance {
            request.sort = SortOrder::Rating;
        }
    } else {
        request.text = Some(required.join(" "));
    }
    Understood {
        request,
        words: Some(required),
    }
}

/// Runs a search on one generation: every word of `q` must match (after the
/// words that say nothing are dropped); when none matches together, the
/// response lists each word's own total in `suggestions`.
pub fn search(
    generation: &Arc<Generation>,
    request: &SearchRequest,
) -> Result<SearchResponse, SearchError> {
    let understood = understand(request);
    let mut response = run(generation, &understood, WordMatch::All)?;
    if response.total == 0
        && let Some(words) = understood.words.as_ref().filter(|w| !w.is_empty())
    {
        let mut alone = understood.request.clone();
        let mut suggestions = Vec::with_capacity(words.len());
        for word in words {
            alone.text = Some(word.clone());
            let total = count(generation, &alone)?;
            suggestions.push(WordTotal {
                word: word.clone(),
                total,
            });
        }
        response.suggestions = Some(suggestions);
    }
    Ok(response)
}

/// How many providers `request` finds: its total alone, without a page of
/// hits, facets or per-word suggestions (what "would this change find
/// someone?" asks).
pub fn count(generation: &Arc<Generation>, request: &SearchRequest) -> Result<u64, SearchError> {
    let mut probe = request.clone();
    probe.page = 1;
    probe.per_page = 1;
    probe.facets = false;
    Ok(run(generation, &understand(&probe), WordMatch::All)?.total)
}

/// The nearest provider that matches every filter of `request` at any
/// distance up to the largest radius (500 miles), in person (no telehealth
/// reach): what an empty page names when the treatment needs a clinic
/// visit ("Nearest SPRAVATO provider: Billings, MT, 122 mi"). `None`
/// without a point to measure from, or when nobody is that close.
pub fn nearest(
    generation: &Arc<Generation>,
    request: &SearchRequest,
) -> Result<Option<Hit>, SearchError> {
    let mut probe = request.clone();
    probe.include_telehealth = false;
    probe.radius_miles = request::MAX_RADIUS_MILES;
    probe.sort = SortOrder::Distance;
    probe.page = 1;
    probe.per_page = 1;
    probe.facets = false;
    let understood = understand(&probe);
    if resolve_location(&understood.request)?
        .and_then(|location| location.center())
        .is_none()
    {
        return Ok(None);
    }
    Ok(run(generation, &understood, WordMatch::All)?
        .results
        .into_iter()
        .next())
}

/// The results page's search: [`search`], and when its words match nothing
/// together but some match alone, [`search_most_words`] instead (unless the
/// request says `all_words`): the answer's `relaxed` then says how many
/// words every result matches.
pub fn search_for_page(
    generation: &Arc<Generation>,
    request: &SearchRequest,
) -> Result<SearchResponse, SearchError> {
    let strict = search(generation, request)?;
    let some_word_matches = strict
        .suggestions
        .as_ref()
        .is_some_and(|words| words.len() > 1 && words.iter().any(|w| w.total > 0));
    if request.all_words || !some_word_matches {
        return Ok(strict);
    }
    match search_most_words(generation, request)? {
        Some((mut relaxed, matched)) => {
            relaxed.relaxed = Some(matched);
            relaxed.suggestions = strict.suggestions;
            Ok(relaxed)
        }
        None => Ok(strict),
    }
}

/// The results page's fallback when the words match nothing together but
/// some of them match alone: the providers that match the most words (all
/// of them match that many), in the request's order, and that number.
/// `None` when there is nothing better to show.
pub fn search_most_words(
    generation: &Arc<Generation>,
    request: &SearchRequest,
) -> Result<Option<(SearchResponse, usize)>, SearchError> {
    let understood = understand(request);
    let count = understood.words.as_ref().map_or(0, Vec::len);
    for at_least in (1..count).rev() {
        let response = run(generation, &understood, WordMatch::AtLeast(at_least))?;
        if response.total > 0 {
            return Ok(Some((response, at_least)));
        }
    }
    Ok(None)
}

/// What the collector found, with where the search looked.
struct Collected {
    fruit: Fruit,
    location: Option<ResolvedLocation>,
    center: Option<LatLon>,
}

fn run(
    generation: &Arc<Generation>,
    understood: &Understood,
    word_match: WordMatch,
) -> Result<SearchResponse, SearchError> {
    let request = &understood.request;
    let keep = request.offset() + request.per_page as usize;
    let Collected {
        fruit,
        location,
        center,
    } = collect(generation, understood, word_match, keep)?;
    let mean = generation.meta.mean_rating;
    let results = fruit
        .hits
        .iter()
        .skip(request.offset())
        .map(|hit| {
            let mut loaded = load_hit(generation, hit, center, mean)?;
            loaded.reach = request.include_telehealth.then_some(if hit.by_telehealth {
                Reach::Telehealth
            } else {
                Reach::InPerson
            });
            Ok(loaded)
        })
        .collect::<Result<Vec<_>, SearchError>>()?;

    Ok(SearchResponse {
        query: understood.words.clone().map(|words| QueryWords { words }),
        suggestions: None,
        relaxed: None,
        total: fruit.tally.total,
        page: request.page,
        per_page: request.per_page,
        sort: request.sort.as_str(),
        location,
        results,
        facets: request
            .facets
            .then(|| Facets::from_tally(&fruit.tally, &generation.meta)),
        generation: generation.number(),
    })
}

/// A kept hit's provider, with its distance from the centre.
fn load_hit(
    generation: &Generation,
    hit: &Candidate,
    center: Option<LatLon>,
    mean: f64,
) -> Result<Hit, SearchError> {
    let provider = generation.provider(hit.segment, hit.doc)?;
    let distance_miles = center.map(|c| {
        distance_miles(
            c,
            LatLon {
                lat: provider.latitude,
                lon: provider.longitude,
            },
        )
    });
    Ok(Hit::new(provider, distance_miles, mean))
}

/// Every match of a search, in the request's order, handed to `sink` one
/// at a time until it answers `false` (for streams: the HSDS facade's
/// NDJSON). `page` and `per_page` are ignored and no facets are counted;
/// the words must all match, as in [`search`]. Returns the number of
/// matches.
pub fn for_each_hit(
    generation: &Arc<Generation>,
    request: &SearchRequest,
    mut sink: impl FnMut(Hit) -> bool,
) -> Result<u64, SearchError> {
    let mut understood = understand(request);
    understood.request.facets = false;
    let Collected { fruit, center, .. } =
        collect(generation, &understood, WordMatch::All, usize::MAX)?;
    let mean = generation.meta.mean_rating;
    for hit in &fruit.hits {
        if !sink(load_hit(generation, hit, center, mean)?) {
            break;
        }
    }
    Ok(fruit.tally.total)
}

/// Builds and runs the query of a request, keeping the best `keep` hits.
fn collect(
    generation: &Arc<Generation>,
    understood: &Understood,
    word_match: WordMatch,
    keep: usize,
) -> Result<Collected, SearchError> {
    let request = &understood.request;
    if request.sort == SortOrder::Distance && request.location.is_none() {
        return Err(SearchError::InvalidParams(vec![InvalidParam {
            name: "sort".into(),
            reason: request::DISTANCE_NEEDS_A_PLACE.into(),
        }]));
    }
    let location = resolve_location(request)?;
    let center = location.as_ref().and_then(ResolvedLocation::center);
    let area_state = location.as_ref().and_then(|location| location.state);
    let fields = &generation.fields;
    // The insurers asked for as bits of the insurance column, when each
    // has one (the most common do): the reach pass can then test them.
    let insurance_mask = insurance_bits(generation, &request.insurance);
    let reach = if request.include_telehealth {
        let searcher_state = location
            .as_ref()
            .and_then(|location| location.in_state)
            .ok_or_else(|| {
                SearchError::InvalidParams(vec![InvalidParam {
                    name: "include_telehealth".into(),
                    reason: request::TELEHEALTH_NEEDS_A_STATE.into(),
                }])
            })?;
        let state = state_index(searcher_state).unwrap_or(usize::MAX);
        Some((
            searcher_state,
            ReachFilter {
                state,
                state_bit: 1u64.checked_shl(state as u32).unwrap_or(0),
                own_state: request.state.and_then(state_index).map(|i| i as u8),
                // Words and term filters need postings: the query finds
                // the reached providers then (see the area clause below).
                separate_pass: required_words_are_none(understood)
                    && insurance_mask.is_some()
                    && request.languages.is_empty()
                    && request.ids.is_empty()
                    && request.zip_prefix.is_none(),
                summed: false, // decided with the order, below
                insurance_mask: insurance_mask.unwrap_or(0),
                whole_state: area_state.and_then(state_index).map(|i| i as u8),
                treatment_mask: request
                    .treatments
                    .iter()
                    .filter(|t| t.by_telehealth())
                    .map(|t| flag::treatment(*t))
                    .sum(),
            },
        ))
    } else {
        None
    };

    let required: &[String] = match (&request.text, &understood.words) {
        (Some(_), Some(words)) => words,
        _ => &[],
    };
    let words = text::expand(generation, required)?;
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    // The search area: the circle's cells, or a whole state; with reach,
    // also every telehealth provider licensed in the searcher's state.
    let area: Option<Box<dyn Query>> = match (center, area_state) {
        (Some(center), _) => Some(Box::new(GeoRangesQuery {
            key_ranges: zorder::ranges_covering(center, request.radius_miles),
            generation: Arc::clone(generation),
        })),
        (None, Some(state)) => Some(Box::new(TermQuery::new(
            Term::from_field_text(fields.state, state),
            IndexRecordOption::Basic,
        ))),
        (None, None) => None,
    };
    // Asked only for treatments that need a clinic visit, nobody can be
    // reached by telehealth: the area alone answers.
    let reach_term = reach.filter(|(_, filter)| {
        !filter.separate_pass && (request.treatments.is_empty() || filter.treatment_mask != 0)
    });
    let area = match (area, reach_term) {
        (Some(area), Some((state, _))) => Some(Box::new(BooleanQuery::new(vec![
            (Occur::Should, area),
            (
                Occur::Should,
                Box::new(TermQuery::new(
                    Term::from_field_text(fields.reach_state, state),
                    IndexRecordOption::Basic,
                )),
            ),
        ])) as Box<dyn Query>),
        (area, _) => area,
    };
    if let Some(area) = area {
        clauses.push((Occur::Must, Box::new(ConstScoreQuery::new(area, 0.0))));
    }
    // (`near` naming a whole state and an equal `state=` need one clause.)
    if let Some(state) = request
        .state
        .filter(|state| reach.is_some() || area_state != Some(*state))
    {
        clauses.push(filter(TermQuery::new(
            Term::from_field_text(fields.state, state),
            IndexRecordOption::Basic,
        )));
    }
    if !request.ids.is_empty() {
        let terms = request
            .ids
            .iter()
            .map(|id| Term::from_field_text(fields.id, id));
        clauses.push(filter(any_term(terms)));
    }
    if let Some(prefix) = &request.zip_prefix {
        // ZIP codes are digits, and ':' sorts right after '9'.
        clauses.push(filter(RangeQuery::new(
            Bound::Included(Term::from_field_text(fields.zip, prefix)),
            Bound::Excluded(Term::from_field_text(fields.zip, &format!("{prefix}:"))),
        )));
    }
    for (field, values) in [
        (fields.insurance, &request.insurance),
        (fields.language, &request.languages),
    ] {
        if !values.is_empty() {
            let terms = values.iter().map(|v| Term::from_field_text(field, v));
            clauses.push(filter(any_term(terms)));
        }
    }
    let rank_by = match (request.sort, center.is_some()) {
        (SortOrder::Rating, false) => RankBy::Rank(RankArray::Rating),
        (SortOrder::Rating, true) => RankBy::RatingThenDistance,
        (SortOrder::Distance, _) => RankBy::Distance,
        (SortOrder::Relevance, _) => RankBy::Relevance,
        (SortOrder::Reviews, _) => RankBy::Rank(RankArray::Reviews),
        (SortOrder::Price, _) => RankBy::Rank(RankArray::Price),
    };
    let required_flags = if request.telehealth {
        flag::TELEHEALTH
    } else {
        0
    } | if request.accepting {
        flag::ACCEPTING
    } else {
        0
    };
    // With no filter but the area and an order by rating, the reach pass
    // can sum instead of reading the state's whole list.
    let filter_free = request.treatments.is_empty()
        && request.insurance.is_empty()
        && request.conditions.is_empty()
        && request.provider_types.is_empty()
        && request.excluded_provider_types.is_empty()
        && !request.telehealth
        && !request.accepting
        && request.min_rating.is_none()
        && request.max_price.is_none()
        && request.verified_within_days.is_none()
        && request.verified_from_day.is_none()
        && request.verified_to_day.is_none()
        && request.state.is_none();
    let by_rating = matches!(
        rank_by,
        RankBy::RatingThenDistance | RankBy::Rank(RankArray::Rating)
    );
    let reach = reach.map(|(state, mut filter)| {
        filter.summed = filter.separate_pass && filter_free && by_rating;
        (state, filter)
    });
    // Every word must match: the matches are found unscored, and the top
    // hits by relevance among them afterwards (`relevance`). (The page's
    // fallback, where matching more words ranks higher, scores each.)
    let relevance = if rank_by == RankBy::Relevance && word_match == WordMatch::All {
        Some(RelevanceTerms::new(
            &generation.searcher,
            fields.text,
            &words,
        )?)
    } else {
        None
    };
    let plan = Arc::new(Plan {
        generation: Arc::clone(generation),
        treatment_mask: request.treatments.iter().map(|t| flag::treatment(*t)).sum(),
        condition_mask: request.conditions.iter().map(|c| flag::condition(*c)).sum(),
        provider_type_mask: request
            .provider_types
            .iter()
            .map(|t| flag::provider_type(*t))
            .sum(),
        excluded_flags: request
            .excluded_provider_types
            .iter()
            .map(|t| flag::provider_type(*t))
            .sum(),
        reach: reach.map(|(_, filter)| filter),
        required_flags,
        min_rating: request.min_rating,
        max_price: request.max_price,
        verified_since_day: request
            .verified_within_days
            .map(|days| crate::clock::today_number().saturating_sub(days))
            .max(request.verified_from_day),
        verified_until_day: request.verified_to_day,
        count_facets: request.facets,
        radius: center.map(|c| RadiusFilter::new(c, request.radius_miles)),
        rank_by,
        relevance,
        keep,
    });
    let collector = SearchCollector {
        plan: Arc::clone(&plan),
    };
    let fruit = if plan.needs_each_match() || word_match != WordMatch::All {
        let scored = plan.rank_by == RankBy::Relevance && !plan.ranks_after_matching();
        match word_match {
            WordMatch::All => {
                for word in &words {
                    clauses.push((Occur::Must, text::clause(word, scored)));
                }
            }
            WordMatch::AtLeast(count) => {
                let any: Vec<(Occur, Box<dyn Query>)> = words
                    .iter()
                    .map(|word| (Occur::Should, text::clause(word, scored)))
                    .collect();
                clauses.push((
                    Occur::Must,
                    Box::new(BooleanQuery::with_minimum_required_clauses(any, count)),
                ));
            }
        }
        let query: Box<dyn Query> = if clauses.is_empty() {
            Box::new(AllQuery)
        } else {
            Box::new(BooleanQuery::new(clauses))
        };
        generation.searcher.search(&*query, &collector)?
    } else {
        // Each clause fills its own bitset and the bitsets are ANDed: linear
        // in the matches, where intersecting posting lists seeks per doc.
        let clauses: Vec<BitsetClause> = words
            .into_iter()
            .map(|word| BitsetClause::AnyTerm(word.terms))
            .chain(clauses.into_iter().map(|(_, q)| BitsetClause::Query(q)))
            .collect();
        collector.collect_clauses(&generation.searcher, &clauses)?
    };

    Ok(Collected {
        fruit,
        location,
        center,
    })
}

/// One provider by id, with its adjusted rating.
pub fn find_provider(generation: &Generation, id: &str) -> Result<Option<Hit>, SearchError> {
    let query = TermQuery::new(
        Term::from_field_text(generation.fields.id, id),
        IndexRecordOption::Basic,
    );
    let found = generation.searcher.search(&query, &DocSetCollector)?;
    let Some(address) = found.into_iter().min() else {
        return Ok(None);
    };
    let provider = generation.provider(address.segment_ord, address.doc_id)?;
    Ok(Some(Hit::new(provider, None, generation.meta.mean_rating)))
}

/// Whether the generation lists a provider with this id (no record is
/// read: the report queue asks this of every provider with open reports).
pub fn has_provider(generation: &Generation, id: &str) -> Result<bool, SearchError> {
    let query = TermQuery::new(
        Term::from_field_text(generation.fields.id, id),
        IndexRecordOption::Basic,
    );
    Ok(!generation
        .searcher
        .search(&query, &DocSetCollector)?
        .is_empty())
}

/// The providers indexed under a lookup key ([`crate::ids::lookup_key`]):
/// one, unless two ids share a key (a 2⁻⁶⁰ chance); the facades then keep
/// the one whose UUID was asked for.
pub fn find_by_key(generation: &Generation, key: u64) -> Result<Vec<Hit>, SearchError> {
    let query = TermQuery::new(
        Term::from_field_u64(generation.fields.key, key),
        IndexRecordOption::Basic,
    );
    let mut found: Vec<_> = generation
        .searcher
        .search(&query, &DocSetCollector)?
        .into_iter()
        .collect();
    found.sort();
    found
        .into_iter()
        .map(|address| {
            let provider = generation.provider(address.segment_ord, address.doc_id)?;
            Ok(Hit::new(provider, None, generation.meta.mean_rating))
        })
        .collect()
}
