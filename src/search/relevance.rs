//! `sort=relevance` without scoring every match.
//!
//! A match's relevance is the sum over the words of `q` of the BM25 score
//! of the word as typed (fuzzy variants match but score nothing; see
//! `text::clause`), ties broken by the rating order. A common word matches
//! half the directory, and scoring each match cost 10–50 ms at 1M
//! providers. Here the matches are known first, as a bitset (counted and
//! faceted without scores), and the top page is found by walking the typed
//! words' posting lists block by block: each block of 128 postings carries
//! the best score any of its documents can reach, so a stretch of
//! documents where the blocks' maxima add up to less than the page's
//! current worst score is skipped unscored (block-max pruning, as in Ding
//! & Suel 2011; tantivy's own block-max WAND covers unions of term queries
//! only, not a bitset of matches).
//!
//! The order is exactly that of scoring every match: a stretch is skipped
//! only when none of its documents can reach the page's worst score, even
//! on a tie (which the rating order could win).

use std::collections::BinaryHeap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use tantivy::fieldnorm::FieldNormReader;
use tantivy::postings::BlockSegmentPostings;
use tantivy::query::{Bm25StatisticsProvider, Bm25Weight};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocId, Score, Searcher, SegmentReader, Term};

use super::text::WordTerms;

/// The typed words of a query with their BM25 weights over the whole
/// generation, shared by every segment of one search.
pub struct RelevanceTerms {
    field: Field,
    words: Vec<(Term, Bm25Weight)>,
    /// The field's mean length over the generation (what the weights use).
    average_fieldnorm: Score,
    /// The worst score of a full page found in any segment so far (bits
    /// of an `f32`): a later segment's document below it cannot enter the
    /// merged page either.
    floor: Arc<AtomicU32>,
}

impl RelevanceTerms {
    pub fn new(searcher: &Searcher, field: Field, words: &[WordTerms]) -> tantivy::Result<Self> {
        let stats: &dyn Bm25StatisticsProvider = searcher;
        let docs = stats.total_num_docs()?;
        let average_fieldnorm = if docs == 0 {
            1.0
        } else {
            stats.total_num_tokens(field)? as Score / docs as Score
        };
        let words = words
            .iter()
            .map(|word| {
                let weight = Bm25Weight::for_terms(stats, std::slice::from_ref(&word.exact))?;
                Ok((word.exact.clone(), weight))
            })
            .collect::<tantivy::Result<_>>()?;
        Ok(RelevanceTerms {
            field,
            words,
            average_fieldnorm,
            floor: Arc::new(AtomicU32::new(0.0f32.to_bits())),
        })
    }

    /// The words' posting lists in one segment.
    pub fn open(&self, reader: &SegmentReader) -> tantivy::Result<SegmentRelevance> {
        let inverted = reader.inverted_index(self.field)?;
        let mut cursors = Vec::with_capacity(self.words.len());
        for (term, weight) in &self.words {
            if let Some(info) = inverted.get_term_info(term)? {
                let postings = inverted
                    .read_block_postings_from_terminfo(&info, IndexRecordOption::WithFreqs)?;
                cursors.push(WordCursor {
                    postings,
                    weight: weight.clone(),
                });
            }
        }
        // The blocks' maxima were chosen at index time with this segment's
        // mean length; scores use the generation's. Each length's share of
        // the score moves by at most the ratio of the two means, so the
        // maxima are scaled by it (and a hair more for float rounding).
        let segment_docs = reader.max_doc().max(1);
        let segment_mean = inverted.total_num_tokens() as Score / segment_docs as Score;
        let ratio = if segment_mean > 0.0 {
            (segment_mean / self.average_fieldnorm).max(self.average_fieldnorm / segment_mean)
        } else {
            1.0
        };
        Ok(SegmentRelevance {
            floor: Arc::clone(&self.floor),
            cursors,
            fieldnorms: reader.get_fieldnorms_reader(self.field)?,
            slack: ratio * 1.000_1,
        })
    }
}

/// One word's postings, a block at a time.
struct WordCursor {
    postings: BlockSegmentPostings,
    weight: Bm25Weight,
}

impl WordCursor {
    fn last(&self) -> Option<DocId> {
        self.postings.docs().last().copied()
    }
}

/// The typed words' postings in one segment, ready to find its top page.
pub struct SegmentRelevance {
    /// [`RelevanceTerms`]'s bar shared by the segments.
    floor: Arc<AtomicU32>,
    cursors: Vec<WordCursor>,
    fieldnorms: FieldNormReader,
    /// What the blocks' maxima are multiplied by to stay upper bounds.
    slack: Score,
}

/// A document of the page being built: a smaller key is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Ranked {
    /// Higher scores first (the bits of a non-negative `f32` sort as it).
    score_key: u64,
    rating_rank: u32,
    doc: DocId,
}

impl Ranked {
    fn new(doc: DocId, score: Score, rating_rank: u32) -> Ranked {
        Ranked {
            score_key: score_key(score),
            rating_rank,
            doc,
        }
    }

    fn score(&self) -> Score {
        Score::from_bits(u32::MAX - self.score_key as u32)
    }
}

/// Scores are non-negative; a higher score must give a smaller key.
pub fn score_key(score: Score) -> u64 {
    u64::from(u32::MAX - score.max(0.0).to_bits())
}

impl SegmentRelevance {
    /// The best `keep` documents of the bitset `matches` (a bit per doc of
    /// the segment), by score and then `rating_rank`, best first, with
    /// their scores. `rating_order` lists the segment's docs by rating
    /// rank: the page is filled from it when fewer than `keep` matches
    /// contain a typed word (the others all score 0).
    pub fn best(
        &mut self,
        matches: &[u64],
        keep: usize,
        rating_rank: &[u32],
        rating_order: &[u32],
    ) -> Vec<(DocId, Score)> {
        if keep == 0 {
            return Vec::new();
        }
        let is_match = |doc: DocId| {
            matches
                .get(doc as usize / 64)
                .is_some_and(|word| word & (1 << (doc % 64)) != 0)
        };
        let mut page: BinaryHeap<Ranked> = BinaryHeap::new();
        // The page's worst score once it is full.
        let mut threshold: Option<Score> = None;
        let mut window: Vec<(DocId, Score)> = Vec::with_capacity(256);
        let mut next: DocId = 0;
        let mut pruned = false;
        loop {
            for cursor in &mut self.cursors {
                while cursor.last().is_some_and(|last| last < next) {
                    cursor.postings.advance();
                }
            }
            self.cursors.retain(|cursor| cursor.last().is_some());
            let Some(end) = self.cursors.iter().filter_map(WordCursor::last).min() else {
                break;
            };
            // Another segment's full page may already have set the bar.
            let floor = Score::from_bits(self.floor.load(Ordering::Relaxed));
            let bar = threshold.map_or(floor, |t| t.max(floor));
            if bar > 0.0 {
                let bound: Score = self
                    .cursors
                    .iter_mut()
                    .filter(|cursor| cursor.postings.docs()[0] <= end)
                    .map(|cursor| {
                        cursor
                            .postings
                            .block_max_score(&self.fieldnorms, &cursor.weight)
                    })
                    .sum();
                if bound * self.slack < bar {
                    pruned = true;
                    next = end + 1;
                    continue;
                }
            }
            // Score the window [next, end]: each word's postings in it.
            window.clear();
            for cursor in &self.cursors {
                let docs = cursor.postings.docs();
                let freqs = cursor.postings.freqs();
                let from = docs.partition_point(|&doc| doc < next);
                let to = docs.partition_point(|&doc| doc <= end);
                for (&doc, &freq) in docs[from..to].iter().zip(&freqs[from..to]) {
                    if is_match(doc) {
                        let norm = self.fieldnorms.fieldnorm_id(doc);
                        window.push((doc, cursor.weight.score(norm, freq)));
                    }
                }
            }
            if self.cursors.len() > 1 {
                // Stable: a document's words add up in the words' order.
                window.sort_by_key(|&(doc, _)| doc);
            }
            let mut i = 0;
            while i < window.len() {
                let (doc, mut score) = window[i];
                i += 1;
                while i < window.len() && window[i].0 == doc {
                    score += window[i].1;
                    i += 1;
                }
                let ranked = Ranked::new(doc, score, rating_rank[doc as usize]);
                if page.len() < keep {
                    page.push(ranked);
                } else if page.peek().is_some_and(|worst| ranked < *worst) {
                    page.pop();
                    page.push(ranked);
                } else {
                    continue;
                }
                if page.len() >= keep {
                    threshold = page.peek().map(Ranked::score);
                }
            }
            next = end + 1;
        }
        if let Some(worst) = threshold {
            self.floor.fetch_max(worst.to_bits(), Ordering::Relaxed);
        }
        if !pruned && page.len() < keep {
            // Every match with a typed word is on the page, and the rest
            // score 0: they follow in rating order. (After pruning, some
            // page, here or in another segment, is full of better ones.)
            let mut scored: Vec<DocId> = page.iter().map(|ranked| ranked.doc).collect();
            scored.sort_unstable();
            for &doc in rating_order {
                if page.len() >= keep {
                    break;
                }
                if is_match(doc) && scored.binary_search(&doc).is_err() {
                    page.push(Ranked::new(doc, 0.0, rating_rank[doc as usize]));
                }
            }
        }
        page.into_sorted_vec()
            .into_iter()
            .map(|ranked| (ranked.doc, ranked.score()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::path::Path;
    use std::sync::Arc;

    use tantivy::collector::TopDocs;
    use tantivy::query::{BooleanQuery, Occur, Query};

    use crate::index::{Generation, ImportOptions, IndexDir, import_csv};
    use crate::search::{SearchRequest, for_each_hit, search, text};

    /// The bundled directory (2,000 providers with real-looking texts).
    fn bundled() -> (tempfile::TempDir, Arc<Generation>) {
        let dir = tempfile::tempdir().expect("temp dir");
        let index_dir = IndexDir::new(dir.path().join("index"));
        let csv = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("data/providers.csv"))
            .expect("bundled CSV");
        let outcome = import_csv(&index_dir, &csv[..], &ImportOptions::default(), |_| {})
            .expect("import runs");
        assert!(outcome.generation.is_some(), "{:?}", outcome.rejection);
        let generation = Generation::open_current(&index_dir).expect("opens");
        (dir, Arc::new(generation))
    }

    /// Every match of the words scored by tantivy's own BM25 (the clauses
    /// the search used before pruning), restricted to `among`, ordered by
    /// score and then rating rank: (id, score).
    fn scored_by_tantivy(
        generation: &Generation,
        words: &[&str],
        among: &HashSet<String>,
    ) -> Vec<(String, f32)> {
        // The search drops the words that say nothing here ("ketamine").
        let words = crate::search::words::required_words(&words.join(" "));
        let expanded = text::expand(generation, &words).expect("expands");
        let clauses: Vec<(Occur, Box<dyn Query>)> = expanded
            .iter()
            .map(|word| (Occur::Must, text::clause(word, true)))
            .collect();
        let query = BooleanQuery::new(clauses);
        let all = generation
            .searcher
            .search(&query, &TopDocs::with_limit(100_000).order_by_score())
            .expect("searches");
        let mut scored: Vec<(f32, u32, String)> = all
            .into_iter()
            .filter_map(|(score, address)| {
                let provider = generation
                    .provider(address.segment_ord, address.doc_id)
                    .expect("record");
                let rank = generation.segments[address.segment_ord as usize]
                    .ranks
                    .rating[address.doc_id as usize];
                among
                    .contains(&provider.id)
                    .then_some((score, rank, provider.id))
            })
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        scored
            .into_iter()
            .map(|(score, _, id)| (id, score))
            .collect()
    }

    #[test]
    fn relevance_pages_are_those_of_scoring_every_match() {
        let (_dir, generation) = bundled();
        let cases: &[(&[&str], &str)] = &[
            (&["ketamine", "depression"], ""),
            (&["depression"], ""),
            (&["pain"], ""),
            (&["chronic", "pain"], ""),
            (&["nerve", "pain"], ""),
            (&["infusion", "depression"], ""),
            (&["spravato"], ""),
            (&["ptsd", "therapy"], ""),
            (&["depresion"], ""), // a typo: fuzzy matches only, all score 0
            (&["depression"], "&accepting=true&min_rating=4"),
            (&["pain"], "&near=Denver, CO&radius=500"),
            (
                &["infusion"],
                "&near=Austin, TX&radius=100&include_telehealth=true",
            ),
        ];
        let mut pages_checked = 0;
        for (words, filters) in cases {
            let query = format!("q={}&sort=relevance{filters}", words.join(" "));
            let request = |extra: &str| {
                SearchRequest::from_query_string(&format!("{query}{extra}")).expect("valid request")
            };
            let mut every = HashSet::new();
            for_each_hit(&generation, &request(""), |hit| {
                every.insert(hit.provider.id.clone());
                true
            })
            .expect("searches");
            let expected = scored_by_tantivy(&generation, words, &every);
            assert_eq!(expected.len(), every.len(), "{query}");
            assert!(!expected.is_empty(), "{query} matches nobody");
            for per_page in [1, 7, 20] {
                for page in 1..=3 {
                    let response = search(
                        &generation,
                        &request(&format!("&per_page={per_page}&page={page}")),
                    )
                    .expect("searches");
                    assert_eq!(response.total as usize, every.len(), "{query}");
                    let got: Vec<&str> = response
                        .results
                        .iter()
                        .map(|hit| hit.provider.id.as_str())
                        .collect();
                    let from = (page - 1) * per_page;
                    let want: Vec<&str> = expected
                        .iter()
                        .skip(from)
                        .take(per_page)
                        .map(|(id, _)| id.as_str())
                        .collect();
                    assert_eq!(got, want, "{query} per_page={per_page} page={page}");
                    pages_checked += 1;
                }
            }
        }
        assert_eq!(pages_checked, cases.len() * 9);
    }
}
