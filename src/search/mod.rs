//! Search: [`SearchRequest`] → tantivy query → ranked hits + facets.
//!
//! This is the only code that reads generations. It runs synchronously
//! (CPU work); the HTTP layer calls it from the blocking thread pool.

mod collector;
mod geo_query;
mod request;
mod response;
pub mod text;

use std::sync::Arc;

use tantivy::collector::DocSetCollector;
use tantivy::query::{AllQuery, BooleanQuery, ConstScoreQuery, Occur, Query, TermQuery};
use tantivy::schema::{IndexRecordOption, Value};
use tantivy::{DocAddress, TantivyDocument, Term};

pub use collector::RadiusFilter;
use collector::{Plan, RankArray, RankBy, SearchCollector};
use geo_query::GeoRangesQuery;
pub use request::{InvalidParam, LocationInput, SearchRequest, SortOrder, parse_point};
pub use response::{Facets, Hit, ResolvedLocation, SearchResponse};

use crate::geo::places::{PlaceError, resolve_near};
use crate::geo::{LatLon, distance_miles, zorder};
use crate::index::schema::flag;
use crate::index::{Generation, IndexError};
use crate::provider::{Provider, adjusted_rating};

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

/// Resolves the request's location, if any.
pub fn resolve_location(request: &SearchRequest) -> Result<Option<ResolvedLocation>, SearchError> {
    let radius_miles = request.radius_miles;
    Ok(match &request.location {
        None => None,
        Some(LocationInput::Point(point)) => Some(ResolvedLocation {
            query: format!("{},{}", point.lat, point.lon),
            label: format!("{:.4}, {:.4}", point.lat, point.lon),
            lat: point.lat,
            lon: point.lon,
            radius_miles,
        }),
        Some(LocationInput::Near(text)) => {
            let place = resolve_near(text)?;
            Some(ResolvedLocation {
                query: text.clone(),
                label: place.label,
                lat: place.position.lat,
                lon: place.position.lon,
                radius_miles,
            })
        }
    })
}

/// Runs a search on one generation.
pub fn search(
    generation: &Arc<Generation>,
    request: &SearchRequest,
) -> Result<SearchResponse, SearchError> {
    let location = resolve_location(request)?;
    let center = location.as_ref().map(|l| LatLon {
        lat: l.lat,
        lon: l.lon,
    });
    let fields = &generation.fields;

    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    if let Some(text) = &request.text {
        for query in text::clauses(generation, text, request.sort == SortOrder::Relevance) {
            clauses.push((Occur::Must, query));
        }
    }
    if let Some(center) = center {
        clauses.push(filter(GeoRangesQuery {
            key_ranges: zorder::ranges_covering(center, request.radius_miles),
        }));
    }
    if let Some(state) = request.state {
        clauses.push(filter(TermQuery::new(
            Term::from_field_text(fields.state, state),
            IndexRecordOption::Basic,
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
    let query: Box<dyn Query> = if clauses.is_empty() {
        Box::new(AllQuery)
    } else {
        Box::new(BooleanQuery::new(clauses))
    };

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
    let plan = Arc::new(Plan {
        generation: Arc::clone(generation),
        treatment_mask: request.treatments.iter().map(|t| flag::treatment(*t)).sum(),
        condition_mask: request.conditions.iter().map(|c| flag::condition(*c)).sum(),
        required_flags,
        min_rating: request.min_rating,
        max_price: request.max_price,
        radius: center.map(|c| RadiusFilter::new(c, request.radius_miles)),
        rank_by,
        keep: request.offset() + request.per_page as usize,
    });
    let fruit = generation.searcher.search(
        &*query,
        &SearchCollector {
            plan: Arc::clone(&plan),
        },
    )?;

    let mean = generation.meta.mean_rating;
    let results = fruit
        .hits
        .iter()
        .skip(request.offset())
        .map(|hit| {
            let provider = load_provider(generation, DocAddress::new(hit.segment, hit.doc))?;
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
        })
        .collect::<Result<Vec<_>, SearchError>>()?;

    Ok(SearchResponse {
        total: fruit.tally.total,
        page: request.page,
        per_page: request.per_page,
        sort: request.sort.as_str(),
        location,
        results,
        facets: Facets::from_tally(&fruit.tally, &generation.meta),
        generation: generation.number(),
    })
}

fn load_provider(generation: &Generation, address: DocAddress) -> Result<Provider, SearchError> {
    let doc: TantivyDocument = generation.searcher.doc(address)?;
    let json = doc
        .get_first(generation.fields.json)
        .and_then(|value| value.as_str())
        .ok_or_else(|| IndexError::Corrupt("a document has no stored provider".into()))?;
    serde_json::from_str(json)
        .map_err(|e| IndexError::Corrupt(format!("a stored provider does not parse: {e}")).into())
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
    let provider = load_provider(generation, address)?;
    Ok(Some(Hit::new(provider, None, generation.meta.mean_rating)))
}

/// Adjusted rating of a provider in a generation (also used by pages).
pub fn adjusted_rating_in(generation: &Generation, provider: &Provider) -> f64 {
    adjusted_rating(
        provider.rating,
        provider.review_count,
        generation.meta.mean_rating,
    )
}
