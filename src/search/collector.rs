//! The collector that filters, counts facets and keeps the top hits in one
//! pass over the documents the tantivy query matched.
//!
//! tantivy narrows the documents with posting lists (text terms, geographic
//! cells, state, insurance, language); this collector reads the per-segment
//! columns of the generation for the rest: flag filters, rating and price
//! bounds, the exact radius test, facet counts and the sort keys.

use std::collections::{BinaryHeap, HashMap};
use std::sync::Arc;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::query::{EnableScoring, Query, Weight};
use tantivy::schema::IndexRecordOption;
use tantivy::{DocId, Score, Searcher, SegmentOrdinal, SegmentReader, Term};

use crate::geo::{EARTH_RADIUS_MILES, LatLon, distance_miles};
use crate::index::INSURANCE_OVERFLOW_BIT;
use crate::index::schema::flag;
use crate::index::{Generation, INSURANCE_FACET_SETS, ReachEntry, ReachList, SegmentColumns};

use super::relevance::{RelevanceTerms, SegmentRelevance, score_key};

/// Half-width of the band around the circle where the cheap dot-product
/// test defers to the exact haversine distance (a few millionths of a mile).
const DOT_MARGIN: f64 = 1e-12;

/// The radius filter of a query with a location.
#[derive(Debug, Clone, Copy)]
pub struct RadiusFilter {
    pub center: LatLon,
    pub radius_miles: f64,
    center_unit: [f64; 3],
    /// Cosine of the radius's angle: inside when the dot product is above.
    min_dot: f64,
}

impl RadiusFilter {
    pub fn new(center: LatLon, radius_miles: f64) -> RadiusFilter {
        RadiusFilter {
            center,
            radius_miles,
            center_unit: center.unit_vector(),
            min_dot: (radius_miles / EARTH_RADIUS_MILES).cos(),
        }
    }
}

/// Telehealth reach: besides the matches in the search area, telehealth
/// providers licensed in the searcher's state (docs/search.md,
/// "Telehealth reach").
#[derive(Debug, Clone, Copy)]
pub struct ReachFilter {
    /// The searcher's state: its index in `US_STATES`, and as a bit of the
    /// `reach_states` column.
    pub state: usize,
    pub state_bit: u64,
    /// An explicit `state=` filter (index in `US_STATES`): the separate
    /// pass applies it (the query does for the rest).
    pub own_state: Option<u8>,
    /// Find the reached providers in a pass of their own over the state's
    /// list (the query then admits only the area), rather than through the
    /// query (when words or term filters narrow them: those need postings).
    pub separate_pass: bool,
    /// The separate pass may sum instead of reading the whole list: no
    /// filter but the area, an order by rating (`summed_reach_pass`).
    pub summed: bool,
    /// The requested insurers as bits of the insurance column (0: no
    /// insurance filter); the separate pass tests them.
    pub insurance_mask: u64,
    /// For a whole-state search (no radius), the state as a `state_ord`:
    /// the area is the providers of that state.
    pub whole_state: Option<u8>,
    /// The request's treatments that telehealth can give (0 when the
    /// request asks for none of them, or for no treatment at all).
    pub treatment_mask: u32,
}

/// Which ordering the collector keeps the top of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RankBy {
    /// A precomputed global rank (rating without a location, reviews, price).
    Rank(RankArray),
    /// Rating with a location: (adjusted, reviews) tier, distance, name.
    RatingThenDistance,
    /// Distance, then adjusted rating, then id.
    Distance,
    /// BM25 score desc, then the rating order.
    Relevance,
}

pub use crate::index::RankArray;

impl Plan {
    /// True when a match must be looked at on its own: a filter or a sort
    /// key the posting lists cannot answer.
    pub fn needs_each_match(&self) -> bool {
        self.radius.is_some()
            || self.treatment_mask != 0
            || self.condition_mask != 0
            || self.required_flags != 0
            || self.min_rating.is_some()
            || self.max_price.is_some()
            || self.verified_since_day.is_some()
            || self.verified_until_day.is_some()
            || self.provider_type_mask != 0
            || self.excluded_flags != 0
            || self.reach.is_some()
            || !(matches!(self.rank_by, RankBy::Rank(_)) || self.ranks_after_matching())
    }

    /// True when the top hits by relevance are found after the matches
    /// (`relevance`), rather than by scoring each match as it comes.
    pub fn ranks_after_matching(&self) -> bool {
        self.relevance.is_some()
    }
}

/// Everything a segment collector needs, shared by all segments.
pub struct Plan {
    pub generation: Arc<Generation>,
    pub treatment_mask: u32,
    pub condition_mask: u32,
    pub provider_type_mask: u32,
    /// Flags no match may have (excluded provider types).
    pub excluded_flags: u32,
    /// Flags every match must have (telehealth, accepting).
    pub required_flags: u32,
    pub min_rating: Option<f64>,
    pub max_price: Option<u32>,
    /// Keeps docs whose `verified_day` is at least this (and known).
    pub verified_since_day: Option<u32>,
    /// Keeps docs whose `verified_day` is at most this (and known).
    pub verified_until_day: Option<u32>,
    /// Count facets; `facets=false` leaves the tally's counts at zero.
    pub count_facets: bool,
    pub radius: Option<RadiusFilter>,
    /// Telehealth reach (`include_telehealth`): the union's second part.
    pub reach: Option<ReachFilter>,
    pub rank_by: RankBy,
    /// For an order by relevance where every word must match (and only
    /// then): the words that score, to find the top hits once the matches
    /// are known.
    pub relevance: Option<RelevanceTerms>,
    /// How many top hits to keep (offset + page size).
    pub keep: usize,
}

/// A kept hit. Keys compare ascending: smaller is better.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    pub key: (u64, u64, u64),
    pub segment: u32,
    pub doc: u32,
    /// Dot product with the centre (for cheap distance pre-checks).
    dot: f64,
    /// Matched through telehealth reach only (outside the area).
    pub by_telehealth: bool,
}

impl Eq for Candidate {}
impl PartialOrd for Candidate {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Candidate {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key.cmp(&other.key)
    }
}

/// Counts over all matches.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    pub total: u64,
    /// Matches per bit of the `flags` column.
    pub flag_counts: [u64; 32],
    /// Matches per insurer ord.
    pub insurance_counts: HashMap<u32, u64>,
    /// Matches through telehealth reach only; `None` without
    /// `include_telehealth`.
    pub by_telehealth: Option<u64>,
}

pub struct Fruit {
    pub tally: Tally,
    /// The best `keep` hits, best first.
    pub hits: Vec<Candidate>,
}

pub struct SearchCollector {
    pub plan: Arc<Plan>,
}

impl Collector for SearchCollector {
    type Fruit = Fruit;
    type Child = SegmentSearch;

    fn for_segment(
        &self,
        segment_ord: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<SegmentSearch> {
        let relevance = self
            .plan
            .relevance
            .as_ref()
            .map(|terms| terms.open(reader))
            .transpose()?;
        Ok(SegmentSearch {
            relevance,
            plan: Arc::clone(&self.plan),
            segment: segment_ord,
            matched: Vec::new(),
            by_telehealth: Vec::new(),
            reached: 0,
            in_area_reachable: Vec::new(),
            heap: BinaryHeap::new(),
            worst: None,
        })
    }

    fn requires_scoring(&self) -> bool {
        self.plan.rank_by == RankBy::Relevance && !self.plan.ranks_after_matching()
    }

    fn merge_fruits(&self, fruits: Vec<Fruit>) -> tantivy::Result<Fruit> {
        merge(fruits, self.plan.keep)
    }
}

impl SearchCollector {
    /// The path for queries whose matches need no per-document check: each
    /// clause fills a bitset, the bitsets are ANDed, the total and the
    /// facets are popcounts, and the top hits are the first matches in the
    /// segment's rank order. No clauses means every document. (Generations
    /// are built whole and never delete documents, so no alive bitset.)
    pub fn collect_clauses(
        &self,
        searcher: &Searcher,
        clauses: &[BitsetClause],
    ) -> tantivy::Result<Fruit> {
        enum Prepared<'c> {
            Weight(Box<dyn Weight>),
            AnyTerm(&'c [Term]),
        }
        let prepared = clauses
            .iter()
            .map(|clause| match clause {
                BitsetClause::Query(query) => query
                    .weight(EnableScoring::disabled_from_searcher(searcher))
                    .map(Prepared::Weight),
                BitsetClause::AnyTerm(terms) => Ok(Prepared::AnyTerm(terms)),
            })
            .collect::<tantivy::Result<Vec<_>>>()?;
        let mut fruits = Vec::with_capacity(searcher.segment_readers().len());
        for (segment_ord, reader) in searcher.segment_readers().iter().enumerate() {
            let words = (reader.max_doc() as usize).div_ceil(64);
            let mut matches: Option<Vec<u64>> = None;
            for clause in &prepared {
                let mut clause_matches = vec![0u64; words];
                match clause {
                    Prepared::Weight(weight) => weight.for_each_no_score(reader, &mut |docs| {
                        set_bits(&mut clause_matches, docs);
                    })?,
                    Prepared::AnyTerm(terms) => {
                        or_postings(reader, terms, &mut clause_matches)?;
                    }
                }
                match &mut matches {
                    None => matches = Some(clause_matches),
                    Some(all) => all
                        .iter_mut()
                        .zip(&clause_matches)
                        .for_each(|(a, c)| *a &= c),
                }
            }
            let matches = matches.unwrap_or_else(|| every_doc(reader.max_doc()));
            fruits.push(self.fruit_of_bitset(segment_ord as SegmentOrdinal, reader, &matches)?);
        }
        merge(fruits, self.plan.keep)
    }

    fn fruit_of_bitset(
        &self,
        segment_ord: SegmentOrdinal,
        reader: &SegmentReader,
        matches: &[u64],
    ) -> tantivy::Result<Fruit> {
        let plan = &self.plan;
        let columns = &plan.generation.segments[segment_ord as usize];
        let total: u64 = matches.iter().map(|w| u64::from(w.count_ones())).sum();
        let mut hits = Vec::with_capacity(plan.keep.min(total as usize));
        if let Some(terms) = &plan.relevance
            && total > 0
        {
            let mut relevance = terms.open(reader)?;
            hits = relevance_hits(
                columns,
                &mut relevance,
                segment_ord,
                matches,
                &[],
                plan.keep,
            );
        } else if let RankBy::Rank(array) = plan.rank_by
            && total > 0
        {
            for &doc in columns.rank_order(array) {
                if hits.len() >= plan.keep {
                    break;
                }
                if matches[doc as usize / 64] & (1 << (doc % 64)) != 0 {
                    let rank = columns.rank(array, doc as usize);
                    hits.push(Candidate {
                        key: (u64::from(rank), 0, 0),
                        segment: segment_ord,
                        doc,
                        dot: 0.0,
                        by_telehealth: false,
                    });
                }
            }
        }
        let (flag_counts, insurance_bit_counts, overflow_counts) = if total > 0 && plan.count_facets
        {
            count_bitset(columns, matches, 0)
        } else {
            ([0; 32], [0; 63], HashMap::new())
        };
        Ok(Fruit {
            tally: tally(
                &plan.generation,
                total,
                flag_counts,
                insurance_bit_counts,
                overflow_counts,
                None,
            ),
            hits,
        })
    }
}

/// The best `keep` of a segment's matches (`matches`, a bitset) by
/// relevance, as hits; `by_telehealth` lists, in doc order, the matches
/// found through telehealth reach only.
fn relevance_hits(
    columns: &SegmentColumns,
    relevance: &mut SegmentRelevance,
    segment: SegmentOrdinal,
    matches: &[u64],
    by_telehealth: &[DocId],
    keep: usize,
) -> Vec<Candidate> {
    let rating_rank = &columns.ranks.rating;
    relevance
        .best(
            matches,
            keep,
            rating_rank,
            columns.rank_order(RankArray::Rating),
        )
        .into_iter()
        .map(|(doc, score)| Candidate {
            key: (score_key(score), u64::from(rating_rank[doc as usize]), 0),
            segment,
            doc,
            dot: 0.0,
            by_telehealth: by_telehealth.binary_search(&doc).is_ok(),
        })
        .collect()
}

/// A required clause of the bitset path.
pub enum BitsetClause {
    /// Any query: its matches are collected one buffer at a time.
    Query(Box<dyn Query>),
    /// Documents with any of these terms, read straight from the postings
    /// (a word of `q` and its fuzzy variants; none matches nothing).
    AnyTerm(Vec<Term>),
}

/// Sets the bits of `docs` (ascending): a common word's postings put tens
/// of docs in each bitset word, so bits are gathered in a register and each
/// word is written once.
fn set_bits(bits: &mut [u64], docs: &[DocId]) {
    let Some(&first) = docs.first() else {
        return;
    };
    let mut word = first as usize / 64;
    let mut gathered = 0u64;
    for &doc in docs {
        let at = doc as usize / 64;
        if at != word {
            bits[word] |= gathered;
            word = at;
            gathered = 0;
        }
        gathered |= 1 << (doc % 64);
    }
    bits[word] |= gathered;
}

/// ORs the documents of each term into `bits`, block by block. A union
/// needs no merging here: setting a bit twice is harmless.
fn or_postings(reader: &SegmentReader, terms: &[Term], bits: &mut [u64]) -> tantivy::Result<()> {
    let Some(field) = terms.first().map(Term::field) else {
        return Ok(());
    };
    let inverted = reader.inverted_index(field)?;
    for term in terms {
        let Some(info) = inverted.get_term_info(term)? else {
            continue;
        };
        let mut postings =
            inverted.read_block_postings_from_terminfo(&info, IndexRecordOption::Basic)?;
        loop {
            let docs = postings.docs();
            if docs.is_empty() {
                break;
            }
            set_bits(bits, docs);
            postings.advance();
        }
    }
    Ok(())
}

/// A bitset with the first `max_doc` bits set.
fn every_doc(max_doc: u32) -> Vec<u64> {
    let mut words = vec![u64::MAX; (max_doc as usize).div_ceil(64)];
    if let Some(last) = words.last_mut()
        && !max_doc.is_multiple_of(64)
    {
        *last = (1u64 << (max_doc % 64)) - 1;
    }
    words
}

fn merge(fruits: Vec<Fruit>, keep: usize) -> tantivy::Result<Fruit> {
    {
        let mut tally = Tally::default();
        let mut hits = Vec::new();
        for fruit in fruits {
            tally.total += fruit.tally.total;
            for (sum, count) in tally.flag_counts.iter_mut().zip(fruit.tally.flag_counts) {
                *sum += count;
            }
            for (ord, count) in fruit.tally.insurance_counts {
                *tally.insurance_counts.entry(ord).or_default() += count;
            }
            if let Some(count) = fruit.tally.by_telehealth {
                *tally.by_telehealth.get_or_insert(0) += count;
            }
            hits.extend(fruit.hits);
        }
        hits.sort_unstable();
        hits.truncate(keep);
        Ok(Fruit { tally, hits })
    }
}

pub struct SegmentSearch {
    plan: Arc<Plan>,
    segment: u32,
    /// The scoring words' postings, when the top hits by relevance are
    /// found once the matches are known.
    relevance: Option<SegmentRelevance>,
    /// Every match in the search area, in doc order; facets are counted
    /// from it at the end.
    matched: Vec<DocId>,
    /// The matches found through telehealth reach only, when the query
    /// found them (a reach pass counts its own facets).
    by_telehealth: Vec<DocId>,
    /// How many matches telehealth reach alone found.
    reached: u64,
    /// Matches in the area that are also in the searcher's state's reach
    /// list (kept for a summed reach pass only).
    in_area_reachable: Vec<DocId>,
    /// Max-heap of the best hits so far; its top is the worst kept one.
    heap: BinaryHeap<Candidate>,
    /// The heap's top once the heap is full: a candidate must beat it.
    worst: Option<Candidate>,
}

fn dot(a: [f64; 3], b: [f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

fn position(columns: &SegmentColumns, doc: usize) -> LatLon {
    LatLon {
        lat: columns.latitude[doc],
        lon: columns.longitude[doc],
    }
}

impl SegmentSearch {
    /// The filters that read per-document columns beyond the flags.
    #[inline(always)]
    fn passes_columns(plan: &Plan, columns: &SegmentColumns, d: usize) -> bool {
        // Most searches filter on none of them: no column is read then.
        if !plan.filters_values() {
            return true;
        }
        plan.passes_values(
            columns.rating[d],
            columns.price_min[d],
            columns.verified_day[d],
        )
    }

    #[inline(always)]
    fn consider(&mut self, plan: &Plan, columns: &SegmentColumns, doc: DocId, score: Score) {
        let d = doc as usize;
        let flags = columns.flags[d];
        if !plan.passes_flags(flags) || !Self::passes_columns(plan, columns, d) {
            return;
        }
        let Placement {
            in_area,
            dot_product,
            exact_distance,
        } = plan.place(
            columns.unit_vector[d],
            || columns.state_ord[d],
            || position(columns, d),
        );
        let in_person = in_area && (plan.treatment_mask == 0 || flags & plan.treatment_mask != 0);
        // With a separate pass the query admits only the area's documents,
        // and the pass finds the reached ones (`reach_pass`).
        let by_telehealth = !in_person
            && plan.reach.is_some_and(|reach| {
                !reach.separate_pass
                    && columns.reach_states[d] & reach.state_bit != 0
                    && reach.admits_treatments(plan, flags)
            });
        if !in_person && !by_telehealth {
            return;
        }
        // Kept apart: the area's matches are a few dense doc ranges, whose
        // facets are popcounts; the reached ones are scattered over the
        // segment.
        if by_telehealth {
            self.by_telehealth.push(doc);
            self.reached += 1;
        } else {
            self.matched.push(doc);
            if let Some(reach) = plan.reach
                && reach.summed
                && columns.reach_states[d] & reach.state_bit != 0
            {
                self.in_area_reachable.push(doc);
            }
        }
        self.keep(
            plan,
            columns,
            Kept {
                doc,
                score,
                dot_product,
                exact_distance,
                by_telehealth,
                rating_tier: None,
            },
        );
    }

    /// Telehealth reach as a pass of its own over the searcher's state's
    /// list of reachable telehealth providers (read front to back), for
    /// searches whose query needs no posting list beyond the area: the
    /// providers outside the area that pass every filter are the reached
    /// ones. (Those inside it were seen by the query: a provider the area
    /// admits but whose treatments fail there fails here too, since reach
    /// admits a subset of the requested treatments.)
    ///
    /// Returns the facet counts of the reached providers when facets are
    /// counted: the list's own counts minus those of the providers left out
    /// when they are fewer, else the reached ones counted one by one.
    fn reach_pass(
        &mut self,
        plan: &Plan,
        columns: &SegmentColumns,
        reach: &ReachFilter,
    ) -> Option<Counts> {
        let list = columns.reach_list(reach.state)?;
        // Asked only for treatments that need a clinic visit: nobody.
        if plan.treatment_mask != 0 && reach.treatment_mask == 0 {
            return None;
        }
        if reach.summed {
            return self.summed_reach_pass(plan, columns, list);
        }
        let mut left_out: Vec<&ReachEntry> = Vec::new();
        let mut reached: Vec<&ReachEntry> = Vec::new();
        for entry in &list.entries {
            if !plan.passes_flags(entry.flags)
                || !reach.admits_treatments(plan, entry.flags)
                || reach
                    .own_state
                    .is_some_and(|state| entry.state_ord != state)
            {
                left_out.push(entry);
                continue;
            }
            let placed = plan.place(
                entry.unit_vector,
                || entry.state_ord,
                || position(columns, entry.doc as usize),
            );
            if placed.in_area
                || !plan.passes_values(entry.rating, entry.price_min, entry.verified_day)
                || (reach.insurance_mask != 0 && entry.insurance_bits & reach.insurance_mask == 0)
            {
                left_out.push(entry);
                continue;
            }
            reached.push(entry);
            self.reached += 1;
            self.keep(plan, columns, Kept::reached(entry, placed));
        }
        if !plan.count_facets {
            return None;
        }
        let (mut flags, mut insurers, mut overflow, sign, counted) =
            if left_out.len() < reached.len() {
                (
                    list.flag_counts,
                    list.insurance_bit_counts,
                    list.overflow_counts.clone(),
                    u64::MAX, // -1, wrapping
                    left_out,
                )
            } else {
                ([0; 32], [0; 63], HashMap::new(), 1, reached)
            };
        for entry in counted {
            entry.count_into(columns, &mut flags, &mut insurers, &mut overflow, sign);
        }
        Some((flags, insurers, overflow))
    }

    /// The reach pass of a search with no filter but the area, ordered by
    /// rating: every provider of the list outside the area is reached, so
    /// the count and the facets are the list's minus those of the area's
    /// matches that are on the list (the area's pass noted them), and the
    /// page's candidates are read best rated first until no later one can
    /// enter the page. Cost: the page and the area, not the whole state.
    fn summed_reach_pass(
        &mut self,
        plan: &Plan,
        columns: &SegmentColumns,
        list: &ReachList,
    ) -> Option<Counts> {
        self.reached = (list.entries.len() - self.in_area_reachable.len()) as u64;
        for entry in &list.entries {
            if let Some(worst) = self.worst {
                let rank = match plan.rank_by {
                    RankBy::RatingThenDistance => entry.rating_tier,
                    _ => entry.rating_rank,
                };
                // Rating order: tiers (or ranks) only grow along the list.
                if u64::from(rank) > worst.key.0 {
                    break;
                }
            }
            let placed = plan.place(
                entry.unit_vector,
                || entry.state_ord,
                || position(columns, entry.doc as usize),
            );
            if placed.in_area {
                continue; // the query saw it
            }
            self.keep(plan, columns, Kept::reached(entry, placed));
        }
        if !plan.count_facets {
            return None;
        }
        let (flags, insurers, overflow) = count_each_match(columns, &self.in_area_reachable);
        let mut counts = (
            list.flag_counts,
            list.insurance_bit_counts,
            list.overflow_counts.clone(),
        );
        for (sum, count) in counts.0.iter_mut().zip(flags) {
            *sum -= count;
        }
        for (sum, count) in counts.1.iter_mut().zip(insurers) {
            *sum -= count;
        }
        for (ord, count) in overflow {
            if let Some(sum) = counts.2.get_mut(&ord) {
                *sum -= count;
            }
        }
        Some(counts)
    }

    /// Offers a match to the top hits.
    #[inline(always)]
    fn keep(&mut self, plan: &Plan, columns: &SegmentColumns, kept: Kept) {
        if plan.keep == 0 || self.relevance.is_some() {
            return;
        }
        let Kept {
            doc,
            score,
            dot_product,
            mut exact_distance,
            by_telehealth,
            rating_tier,
        } = kept;
        let d = doc as usize;
        let worst = self.worst;
        let full = worst.is_some();
        let ranks = &columns.ranks;
        let mut distance = |center: LatLon| {
            *exact_distance.get_or_insert_with(|| distance_miles(center, position(columns, d)))
        };
        let key = match plan.rank_by {
            RankBy::Rank(array) => {
                let rank = columns.rank(array, d);
                if worst.is_some_and(|w| u64::from(rank) >= w.key.0) {
                    return;
                }
                (u64::from(rank), 0, 0)
            }
            RankBy::Relevance => (score_key(score), u64::from(ranks.rating[d]), 0),
            RankBy::RatingThenDistance => {
                let tier = u64::from(rating_tier.unwrap_or_else(|| ranks.rating_tier[d]));
                if full && worst.is_some_and(|w| tier > w.key.0) {
                    return;
                }
                let center = plan
                    .radius
                    .map(|r| r.center)
                    .unwrap_or(position(columns, d));
                (tier, distance(center).to_bits(), u64::from(ranks.name[d]))
            }
            RankBy::Distance => {
                if full && worst.is_some_and(|w| dot_product < w.dot - DOT_MARGIN) {
                    return;
                }
                let center = plan
                    .radius
                    .map(|r| r.center)
                    .unwrap_or(position(columns, d));
                (
                    distance(center).to_bits(),
                    u64::from(ranks.adjusted_tier[d]),
                    u64::from(ranks.id[d]),
                )
            }
        };
        let candidate = Candidate {
            key,
            segment: self.segment,
            doc,
            dot: dot_product,
            by_telehealth,
        };
        if !full {
            self.heap.push(candidate);
        } else if worst.is_some_and(|w| candidate < w) {
            self.heap.pop();
            self.heap.push(candidate);
        } else {
            return;
        }
        if self.heap.len() >= plan.keep {
            self.worst = self.heap.peek().copied();
        }
    }
}

/// A match offered to the top hits, with what is known of it already.
struct Kept {
    doc: DocId,
    score: Score,
    dot_product: f64,
    exact_distance: Option<f64>,
    by_telehealth: bool,
    /// Its rating tier when at hand (the reach lists carry it: reading it
    /// from the column was a cache miss per reached provider).
    rating_tier: Option<u32>,
}

impl Kept {
    /// A provider of a reach list, found outside the search area.
    fn reached(entry: &ReachEntry, placed: Placement) -> Kept {
        Kept {
            doc: entry.doc,
            score: 0.0,
            dot_product: placed.dot_product,
            exact_distance: placed.exact_distance,
            by_telehealth: true,
            rating_tier: Some(entry.rating_tier),
        }
    }
}

/// Where a document lies against the radius.
enum Inside {
    No,
    Yes,
    /// Inside, and its exact distance had to be measured to know.
    Measured(f64),
}

impl RadiusFilter {
    /// Tells inside from outside by the dot product of unit vectors; only
    /// within a hair of the circle is the exact distance measured.
    #[inline(always)]
    fn contains(&self, dot_product: f64, position: impl FnOnce() -> LatLon) -> Inside {
        if dot_product < self.min_dot - DOT_MARGIN {
            Inside::No
        } else if dot_product > self.min_dot + DOT_MARGIN {
            Inside::Yes
        } else {
            let distance = distance_miles(self.center, position());
            if distance > self.radius_miles {
                Inside::No
            } else {
                Inside::Measured(distance)
            }
        }
    }
}

/// Where a document lies against the search area.
struct Placement {
    in_area: bool,
    /// With the centre (0 without a radius): the distance sort's cheap key.
    dot_product: f64,
    /// Measured only within a hair of the circle, where the dot product
    /// cannot tell.
    exact_distance: Option<f64>,
}

impl Plan {
    /// Whether a document (its unit vector, its own state) lies in the
    /// search area: inside the radius, or in the state a whole-state search
    /// names (with reach; without it the query admits only that state).
    #[inline(always)]
    fn place(
        &self,
        unit_vector: [f64; 3],
        state_ord: impl FnOnce() -> u8,
        position: impl FnOnce() -> LatLon,
    ) -> Placement {
        let Some(radius) = &self.radius else {
            return Placement {
                in_area: self
                    .reach
                    .and_then(|reach| reach.whole_state)
                    .is_none_or(|state| state_ord() == state),
                dot_product: 0.0,
                exact_distance: None,
            };
        };
        let dot_product = dot(unit_vector, radius.center_unit);
        let (in_area, exact_distance) = match radius.contains(dot_product, position) {
            Inside::No => (false, None),
            Inside::Yes => (true, None),
            Inside::Measured(distance) => (true, Some(distance)),
        };
        Placement {
            in_area,
            dot_product,
            exact_distance,
        }
    }

    /// Whether a rating, price or verification date bound is set.
    #[inline(always)]
    fn filters_values(&self) -> bool {
        self.min_rating.is_some()
            || self.max_price.is_some()
            || self.verified_since_day.is_some()
            || self.verified_until_day.is_some()
    }

    /// The rating, price and date filters, on a document's values.
    #[inline(always)]
    fn passes_values(&self, rating: f64, price_min: u32, verified_day: u32) -> bool {
        // Unrated providers hold NaN, which is never >= anything.
        if let Some(min) = self.min_rating
            && rating.partial_cmp(&min).is_none_or(|o| o.is_lt())
        {
            return false;
        }
        if let Some(max) = self.max_price
            && price_min > max
        {
            return false;
        }
        // Unknown dates are 0, below any day a search can ask for.
        if let Some(since) = self.verified_since_day
            && verified_day < since.max(1)
        {
            return false;
        }
        if let Some(until) = self.verified_until_day
            && (verified_day == 0 || verified_day > until)
        {
            return false;
        }
        true
    }

    /// The flag filters: conditions, provider types, required and excluded
    /// flags (treatments depend on how a provider is reached).
    #[inline(always)]
    fn passes_flags(&self, flags: u32) -> bool {
        !((self.condition_mask != 0 && flags & self.condition_mask == 0)
            || (self.provider_type_mask != 0 && flags & self.provider_type_mask == 0)
            || flags & self.required_flags != self.required_flags
            || flags & self.excluded_flags != 0)
    }
}

impl ReachFilter {
    /// Whether a reached provider offers a requested treatment it can give
    /// by telehealth (any, without a treatment filter).
    #[inline(always)]
    fn admits_treatments(&self, plan: &Plan, flags: u32) -> bool {
        plan.treatment_mask == 0 || flags & self.treatment_mask != 0
    }
}

impl SegmentCollector for SegmentSearch {
    type Fruit = Fruit;

    fn collect(&mut self, doc: DocId, score: Score) {
        let plan = Arc::clone(&self.plan);
        let columns = &plan.generation.segments[self.segment as usize];
        self.consider(&plan, columns, doc, score);
    }

    fn collect_block(&mut self, docs: &[DocId]) {
        let plan = Arc::clone(&self.plan);
        let columns = &plan.generation.segments[self.segment as usize];
        for &doc in docs {
            self.consider(&plan, columns, doc, 0.0);
        }
    }

    fn harvest(mut self) -> Fruit {
        let plan = Arc::clone(&self.plan);
        let generation = &plan.generation;
        let columns = &generation.segments[self.segment as usize];
        let reached_counts = match plan.reach.filter(|reach| reach.separate_pass) {
            Some(reach) => self.reach_pass(&plan, columns, &reach),
            None => None,
        };
        let (mut flag_counts, mut insurance_bit_counts, mut overflow_counts) =
            if self.plan.count_facets {
                facet_counts(columns, &self.matched)
            } else {
                ([0; 32], [0; 63], HashMap::new())
            };
        if self.plan.count_facets && self.reached > 0 {
            let (mut flags, insurers, overflow) =
                reached_counts.unwrap_or_else(|| facet_counts(columns, &self.by_telehealth));
            // A provider reached by telehealth only does not offer its
            // clinic-visit treatments to this searcher.
            let mut clinic_only = flag::all_treatments() & !flag::by_telehealth();
            while clinic_only != 0 {
                flags[clinic_only.trailing_zeros() as usize] = 0;
                clinic_only &= clinic_only - 1;
            }
            for (sum, count) in flag_counts.iter_mut().zip(flags) {
                *sum += count;
            }
            for (sum, count) in insurance_bit_counts.iter_mut().zip(insurers) {
                *sum += count;
            }
            for (ord, count) in overflow {
                *overflow_counts.entry(ord).or_default() += count;
            }
        }
        if let Some(mut relevance) = self.relevance.take() {
            let mut matches = vec![0u64; columns.flags.len().div_ceil(64)];
            set_bits(&mut matches, &self.matched);
            set_bits(&mut matches, &self.by_telehealth);
            let hits = relevance_hits(
                columns,
                &mut relevance,
                self.segment,
                &matches,
                &self.by_telehealth,
                plan.keep,
            );
            self.heap.extend(hits);
        }
        let by_telehealth = self.plan.reach.map(|_| self.reached);
        Fruit {
            tally: tally(
                generation,
                self.matched.len() as u64 + self.reached,
                flag_counts,
                insurance_bit_counts,
                overflow_counts,
                by_telehealth,
            ),
            hits: self.heap.into_sorted_vec(),
        }
    }
}

type Counts = ([u64; 32], [u64; 63], HashMap<u32, u64>);

/// Turns a segment's counts into a tally by insurer ord.
fn tally(
    generation: &Generation,
    total: u64,
    flag_counts: [u64; 32],
    insurance_bit_counts: [u64; 63],
    overflow_counts: HashMap<u32, u64>,
    by_telehealth: Option<u64>,
) -> Tally {
    let mut insurance_counts = overflow_counts;
    for (bit, &count) in insurance_bit_counts.iter().enumerate() {
        if count == 0 {
            continue;
        }
        if let Some(&ord) = generation.meta.insurance_bit_owners.get(bit) {
            *insurance_counts.entry(ord).or_default() += count;
        }
    }
    Tally {
        total,
        flag_counts,
        insurance_counts,
        by_telehealth,
    }
}

/// Facet counts of matches given in doc order: by bitsets when they are
/// dense (one bitset word holds several of them), else one by one.
fn facet_counts(columns: &SegmentColumns, matched: &[DocId]) -> Counts {
    match (matched.first(), matched.last()) {
        (Some(&first), Some(&last)) if matched.len() * 2 > (last / 64 - first / 64) as usize => {
            count_with_bitsets(columns, matched)
        }
        _ => count_each_match(columns, matched),
    }
}

/// Facet counts for a few matches: visit each one's bits.
fn count_each_match(columns: &SegmentColumns, matched: &[DocId]) -> Counts {
    let mut flag_counts = [0u64; 32];
    let mut insurance_bit_counts = [0u64; 63];
    let mut overflow_counts = HashMap::new();
    for &doc in matched {
        let mut bits = columns.flags[doc as usize];
        while bits != 0 {
            flag_counts[bits.trailing_zeros() as usize] += 1;
            bits &= bits - 1;
        }
        let insurance = columns.insurance_bits[doc as usize];
        let mut bits = insurance & !INSURANCE_OVERFLOW_BIT;
        while bits != 0 {
            insurance_bit_counts[bits.trailing_zeros() as usize] += 1;
            bits &= bits - 1;
        }
        if insurance & INSURANCE_OVERFLOW_BIT != 0 {
            for &ord in columns.overflow_ords_of(doc) {
                *overflow_counts.entry(ord).or_default() += 1;
            }
        }
    }
    (flag_counts, insurance_bit_counts, overflow_counts)
}

/// Facet counts for many matches: AND the match bitset with each facet
/// value's bitset and count the ones, over the words the matches span.
fn count_with_bitsets(columns: &SegmentColumns, matched: &[DocId]) -> Counts {
    // Matches arrive in doc order.
    let first_word = matched.first().map_or(0, |&d| d as usize / 64);
    let last_word = matched.last().map_or(0, |&d| d as usize / 64);
    let mut matches = vec![0u64; last_word - first_word + 1];
    for &doc in matched {
        matches[doc as usize / 64 - first_word] |= 1 << (doc % 64);
    }
    count_bitset(columns, &matches, first_word)
}

/// Facet counts of the matches in `matches`, a bitset whose word 0 is word
/// `first_word` of the segment.
fn count_bitset(columns: &SegmentColumns, matches: &[u64], first_word: usize) -> Counts {
    let last_word = first_word + matches.len() - 1;
    // An area's matches are a few dense runs in a long span: visit only the
    // words that hold some (each of ~95 facet sets is read at them).
    let occupied_words = matches.iter().filter(|m| **m != 0).count();
    let dense = occupied_words * 2 > matches.len();
    let span = first_word..=last_word;
    let occupied: Vec<(usize, u64)> = if dense {
        Vec::new()
    } else {
        matches
            .iter()
            .enumerate()
            .filter(|(_, m)| **m != 0)
            .map(|(i, m)| (first_word + i, *m))
            .collect()
    };
    let count = |set: &Vec<u64>| -> u64 {
        if set.is_empty() {
            return 0;
        }
        if dense {
            popcount::and(matches, &set[span.clone()])
        } else {
            popcount::and_at(&occupied, set)
        }
    };
    let sets = &columns.facet_sets;
    let flag_counts = std::array::from_fn(|bit| count(&sets[bit]));
    let insurance_bit_counts = std::array::from_fn(|bit| count(&sets[INSURANCE_FACET_SETS + bit]));
    let mut overflow_counts = HashMap::new();
    for (&doc, ords) in columns.overflow_docs.iter().zip(&columns.overflow_ords) {
        let word = doc as usize / 64;
        let inside = (first_word..=last_word).contains(&word);
        if inside && matches[word - first_word] & (1 << (doc % 64)) != 0 {
            for &ord in ords {
                *overflow_counts.entry(ord).or_default() += 1;
            }
        }
    }
    (flag_counts, insurance_bit_counts, overflow_counts)
}

/// Counting the bits of `a & b` over bitsets: the facets' inner loop.
///
/// The build targets baseline x86-64, which has no `popcnt` instruction;
/// its bit-twiddling replacement made facet counting a third of a
/// common-word search at 1M. The loops are compiled again with `popcnt`,
/// AVX2 and AVX-512's VPOPCNTDQ, and the best the CPU has is chosen at run
/// time.
mod popcount {
    /// Bits set in both, word by word (`a` and `b` of equal length).
    pub fn and(a: &[u64], b: &[u64]) -> u64 {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx512vpopcntdq")
            && std::arch::is_x86_feature_detected!("avx512f")
        {
            // SAFETY: the CPU has these instructions (checked above).
            return unsafe { and_avx512(a, b) };
        }
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("popcnt")
        {
            // SAFETY: as above.
            return unsafe { and_avx2(a, b) };
        }
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("popcnt") {
            // SAFETY: the CPU has the `popcnt` instruction (checked above).
            return unsafe { and_popcnt(a, b) };
        }
        and_portable(a, b)
    }

    /// Bits set in both, at the words of `b` that `a` lists with its own
    /// word there.
    pub fn and_at(a: &[(usize, u64)], b: &[u64]) -> u64 {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("popcnt") {
            // SAFETY: as in `and`.
            return unsafe { and_at_popcnt(a, b) };
        }
        and_at_portable(a, b)
    }

    #[inline(always)]
    fn and_portable(a: &[u64], b: &[u64]) -> u64 {
        a.iter()
            .zip(b)
            .map(|(a, b)| u64::from((a & b).count_ones()))
            .sum()
    }

    #[inline(always)]
    fn and_at_portable(a: &[(usize, u64)], b: &[u64]) -> u64 {
        a.iter()
            .map(|&(word, bits)| {
                b.get(word)
                    .map_or(0, |w| u64::from((bits & w).count_ones()))
            })
            .sum()
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "popcnt")]
    fn and_popcnt(a: &[u64], b: &[u64]) -> u64 {
        and_portable(a, b)
    }

    /// The compiler vectorises the loop with AVX2's byte-table popcount.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,popcnt")]
    fn and_avx2(a: &[u64], b: &[u64]) -> u64 {
        and_portable(a, b)
    }

    /// … and with AVX-512's popcount of eight words at once.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx512vpopcntdq,popcnt")]
    fn and_avx512(a: &[u64], b: &[u64]) -> u64 {
        and_portable(a, b)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "popcnt")]
    fn and_at_popcnt(a: &[(usize, u64)], b: &[u64]) -> u64 {
        and_at_portable(a, b)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        /// Every compiled variant this CPU can run counts as the portable
        /// loop does, on lengths that end inside and outside a vector.
        #[test]
        fn every_variant_counts_alike() {
            let mut state = 0x9E37_79B9_7F4A_7C15u64;
            let mut next = move || {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state
            };
            for len in [0, 1, 7, 8, 9, 63, 64, 65, 1000] {
                let a: Vec<u64> = (0..len).map(|_| next()).collect();
                let b: Vec<u64> = (0..len).map(|_| next() & next()).collect();
                let want = and_portable(&a, &b);
                assert_eq!(and(&a, &b), want);
                #[cfg(target_arch = "x86_64")]
                {
                    use std::arch::is_x86_feature_detected as has;
                    // SAFETY: each variant runs only where the CPU has it.
                    unsafe {
                        if has!("popcnt") {
                            assert_eq!(and_popcnt(&a, &b), want);
                        }
                        if has!("avx2") && has!("popcnt") {
                            assert_eq!(and_avx2(&a, &b), want);
                        }
                        if has!("avx512f") && has!("avx512vpopcntdq") {
                            assert_eq!(and_avx512(&a, &b), want);
                        }
                    }
                }
                let at: Vec<(usize, u64)> = a.iter().copied().enumerate().step_by(3).collect();
                let sparse: u64 = at
                    .iter()
                    .map(|&(i, w)| u64::from((w & b[i]).count_ones()))
                    .sum();
                assert_eq!(and_at(&at, &b), sparse);
            }
        }
    }
}
