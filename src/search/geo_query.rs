//! A tantivy query for "inside this circle's bounding box", answered from
//! doc-id ranges instead of posting lists.
//!
//! Documents are sorted by their Z-order key (`geo_order`), so the key
//! ranges covering the box (`geo::zorder::ranges_covering`) map to doc-id
//! ranges by binary search in each segment's keys (`geo_order`, held in
//! memory as `SegmentColumns::geo_keys`). The query is a superset of the
//! circle; the collector does the exact distance test.

use std::ops::Range;
use std::sync::Arc;

use tantivy::query::{EnableScoring, Explanation, Query, Scorer, Weight};
use tantivy::{DocId, DocSet, Score, SegmentReader, TERMINATED};

use crate::index::Generation;

#[derive(Clone)]
pub struct GeoRangesQuery {
    /// Sorted, disjoint Z-order key ranges.
    pub key_ranges: Vec<Range<u64>>,
    /// Whose segments' keys are searched.
    pub generation: Arc<Generation>,
}

impl std::fmt::Debug for GeoRangesQuery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeoRangesQuery")
            .field("key_ranges", &self.key_ranges)
            .finish_non_exhaustive()
    }
}

impl Query for GeoRangesQuery {
    fn weight(&self, _scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(self.clone()))
    }
}

impl Weight for GeoRangesQuery {
    fn scorer(&self, reader: &SegmentReader, _boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        let segment = self
            .generation
            .searcher
            .segment_readers()
            .iter()
            .position(|r| r.segment_id() == reader.segment_id())
            .and_then(|ord| self.generation.segments.get(ord))
            .ok_or_else(|| {
                tantivy::TantivyError::InvalidArgument("a segment of another generation".into())
            })?;
        let doc_ranges = doc_ranges(&segment.geo_keys, &self.key_ranges);
        Ok(Box::new(DocRanges::new(doc_ranges)))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        let mut scorer = self.scorer(reader, 1.0)?;
        if scorer.seek(doc) == doc {
            Ok(Explanation::new_with_string(
                "inside the search box".into(),
                1.0,
            ))
        } else {
            Err(tantivy::TantivyError::InvalidArgument(format!(
                "document {doc} is outside the search box"
            )))
        }
    }
}

/// The doc ranges of sorted, disjoint key ranges in a segment whose docs
/// have the sorted Z-order keys `keys`.
pub fn doc_ranges(keys: &[u64], key_ranges: &[Range<u64>]) -> Vec<Range<DocId>> {
    // First doc at or after `from` whose key is >= `key`: galloping, since
    // the key ranges ascend and one range's docs usually start a little
    // after the previous range's end.
    let lower_bound = |from: usize, key: u64| -> usize {
        let (mut low, mut step) = (from, 1);
        while low + step < keys.len() && keys[low + step] < key {
            low += step;
            step *= 2;
        }
        let high = (low + step + 1).min(keys.len());
        let low = low.min(high);
        low + keys[low..high].partition_point(|&k| k < key)
    };
    let mut doc_ranges: Vec<Range<DocId>> = Vec::with_capacity(key_ranges.len());
    let mut from = 0;
    for range in key_ranges {
        let start = lower_bound(from, range.start);
        let end = lower_bound(start, range.end);
        from = end;
        let docs = start as DocId..end as DocId;
        if docs.is_empty() {
            continue;
        }
        match doc_ranges.last_mut() {
            Some(last) if last.end >= docs.start => last.end = last.end.max(docs.end),
            _ => doc_ranges.push(docs),
        }
    }
    doc_ranges
}

/// The docs of sorted, disjoint ranges, as a tantivy doc set.
struct DocRanges {
    ranges: Vec<Range<DocId>>,
    /// Index of the range holding `doc`.
    current: usize,
    doc: DocId,
    size: u32,
}

impl DocRanges {
    fn new(ranges: Vec<Range<DocId>>) -> DocRanges {
        let doc = ranges.first().map_or(TERMINATED, |r| r.start);
        let size = ranges.iter().map(|r| r.end - r.start).sum();
        DocRanges {
            ranges,
            current: 0,
            doc,
            size,
        }
    }
}

impl DocSet for DocRanges {
    fn advance(&mut self) -> DocId {
        if self.doc == TERMINATED {
            return TERMINATED;
        }
        self.doc += 1;
        if self.doc >= self.ranges[self.current].end {
            self.current += 1;
            self.doc = self
                .ranges
                .get(self.current)
                .map_or(TERMINATED, |r| r.start);
        }
        self.doc
    }

    fn seek(&mut self, target: DocId) -> DocId {
        if self.doc >= target {
            return self.doc;
        }
        // Words intersected with an area seek here once per candidate:
        // mostly within the current range or a few ranges on.
        let rest = &self.ranges[self.current..];
        let skip = match rest.iter().take(4).position(|r| r.end > target) {
            Some(near) => near,
            None => rest.partition_point(|r| r.end <= target),
        };
        self.current += skip;
        self.doc = match self.ranges.get(self.current) {
            Some(range) => target.max(range.start),
            None => TERMINATED,
        };
        self.doc
    }

    fn doc(&self) -> DocId {
        self.doc
    }

    fn size_hint(&self) -> u32 {
        self.size
    }
}

impl Scorer for DocRanges {
    fn score(&mut self) -> Score {
        1.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doc_ranges_advance_and_seek_across_gaps() {
        let mut docs = DocRanges::new(vec![2..4, 10..11, 20..23]);
        assert_eq!(docs.size_hint(), 6);
        let mut seen = vec![docs.doc()];
        while docs.advance() != TERMINATED {
            seen.push(docs.doc());
        }
        assert_eq!(seen, [2, 3, 10, 20, 21, 22]);

        let mut docs = DocRanges::new(vec![2..4, 10..11, 20..23]);
        assert_eq!(docs.seek(3), 3);
        assert_eq!(docs.seek(5), 10);
        assert_eq!(docs.seek(21), 21);
        assert_eq!(docs.advance(), 22);
        assert_eq!(docs.seek(23), TERMINATED);
        assert_eq!(DocRanges::new(Vec::new()).doc(), TERMINATED);
    }
}
