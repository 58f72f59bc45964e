//! Global sort positions, computed once per generation at build time.
//!
//! Every sort of docs/search.md ends in byte-wise tie-breaks on name and id, which
//! fast fields cannot compare cheaply. Since a generation never changes, the
//! build sorts all providers once per ordering and stores each provider's
//! position; at query time a sort compares small integers. The file is
//! `ranks.bin` in the generation directory, indexed by the `seq` fast field.

use std::cmp::{Ordering, Reverse};
use std::io::{Read, Write};

use crate::provider::adjusted_rating;

/// What the build keeps of each valid provider to rank it.
#[derive(Debug, Clone)]
pub struct RankInput {
    pub name: Box<str>,
    pub id: Box<str>,
    pub rating: Option<f64>,
    pub review_count: u32,
    pub price_min: Option<u32>,
}

/// Per provider (by `seq`), its position in each ordering. "Tier" arrays are
/// dense ranks that leave ties tied, for sorts whose next key is a distance.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ranks {
    /// adjusted desc, reviews desc, name, id.
    pub rating: Vec<u32>,
    /// Dense rank of (adjusted desc, reviews desc): ties stay tied.
    pub rating_tier: Vec<u32>,
    /// name, id.
    pub name: Vec<u32>,
    /// Dense rank of adjusted desc.
    pub adjusted_tier: Vec<u32>,
    /// id.
    pub id: Vec<u32>,
    /// reviews desc, adjusted desc, id.
    pub reviews: Vec<u32>,
    /// price_min asc (missing last), adjusted desc, id.
    pub price: Vec<u32>,
}

const MAGIC: &[u8; 8] = b"KDRANKS1";

/// Mean raw rating of the rated providers (0 when none is rated).
pub fn mean_rating(inputs: &[RankInput]) -> (f64, u64) {
    let (sum, count) = inputs
        .iter()
        .filter(|p| p.review_count > 0)
        .filter_map(|p| p.rating)
        .fold((0.0, 0u64), |(sum, count), r| (sum + r, count + 1));
    let mean = if count == 0 { 0.0 } else { sum / count as f64 };
    (mean, count)
}

fn positions(order: &[u32]) -> Vec<u32> {
    let mut rank = vec![0u32; order.len()];
    for (position, &seq) in order.iter().enumerate() {
        rank[seq as usize] = position as u32;
    }
    rank
}

/// Dense ranks over `order`, where `same` says whether neighbours tie.
fn tiers(order: &[u32], same: impl Fn(u32, u32) -> bool) -> Vec<u32> {
    let mut tier = vec![0u32; order.len()];
    let mut current = 0u32;
    for (i, &seq) in order.iter().enumerate() {
        if i > 0 && !same(order[i - 1], seq) {
            current += 1;
        }
        tier[seq as usize] = current;
    }
    tier
}

/// `value` as a key whose ascending order is the descending order of
/// `f64::total_cmp`.
fn descending(value: f64) -> u64 {
    let bits = value.to_bits();
    let ascending = if bits >> 63 == 1 {
        !bits
    } else {
        bits | 1 << 63
    };
    !ascending
}

/// The seqs `0..count` in the order of their keys.
fn sort_by_key<K: Ord>(count: usize, key: impl Fn(usize) -> K) -> Vec<u32> {
    let mut keyed: Vec<(K, u32)> = (0..count).map(|seq| (key(seq), seq as u32)).collect();
    keyed.sort_unstable();
    keyed.into_iter().map(|(_, seq)| seq).collect()
}

/// The seqs of `inputs` ordered byte-wise by `text`, then by `tie`.
///
/// Comparing strings through the seqs reads two random places of memory
/// per comparison, and these two sorts were most of the ranking's time. So
/// each entry carries the 8 bytes that follow the prefix every text shares
/// (names often start alike), big-endian and zero-padded: comparing those
/// orders most pairs, and only equal keys compare the whole strings. A
/// shorter key sorts first, as a prefix does, so the order is byte-wise.
fn sort_by_text(
    inputs: &[RankInput],
    text: impl Fn(&RankInput) -> &str,
    tie: impl Fn(u32, u32) -> Ordering,
) -> Vec<u32> {
    let first = inputs.first().map_or("", &text).as_bytes();
    let shared = inputs.iter().fold(first.len(), |shared, input| {
        let bytes = text(input).as_bytes();
        shared.min(first.iter().zip(bytes).take_while(|(a, b)| a == b).count())
    });
    let key = |bytes: &[u8]| {
        let mut word = [0u8; 8];
        let rest = &bytes[shared..];
        let take = rest.len().min(8);
        word[..take].copy_from_slice(&rest[..take]);
        u64::from_be_bytes(word)
    };
    let mut keyed: Vec<(u64, u32)> = inputs
        .iter()
        .zip(0u32..)
        .map(|(input, seq)| (key(text(input).as_bytes()), seq))
        .collect();
    keyed.sort_unstable_by(|a, b| {
        a.0.cmp(&b.0).then_with(|| {
            let (x, y) = (&inputs[a.1 as usize], &inputs[b.1 as usize]);
            text(x).cmp(text(y)).then_with(|| tie(a.1, b.1))
        })
    });
    keyed.into_iter().map(|(_, seq)| seq).collect()
}

pub fn compute(inputs: &[RankInput], mean: f64) -> Ranks {
    let adjusted: Vec<f64> = inputs
        .iter()
        .map(|p| adjusted_rating(p.rating, p.review_count, mean))
        .collect();
    let by_adjusted_desc = |a: u32, b: u32| adjusted[b as usize].total_cmp(&adjusted[a as usize]);
    let reviews = |seq: u32| inputs[seq as usize].review_count;

    // The two string sorts; every other ordering breaks ties on their ranks.
    let by_id = sort_by_text(inputs, |p| &p.id, |_, _| Ordering::Equal);
    let id = positions(&by_id);
    let by_name = sort_by_text(
        inputs,
        |p| &p.name,
        |a, b| id[a as usize].cmp(&id[b as usize]),
    );
    let name = positions(&by_name);

    // Each numeric ordering sorts (key, seq) pairs, the key a tuple that
    // ends in a unique rank: no comparison reads another array (these
    // sorts were half the ranking's time when they compared through seqs).
    let count = inputs.len();
    let by_rating = sort_by_key(count, |seq| {
        (
            descending(adjusted[seq]),
            Reverse(inputs[seq].review_count),
            name[seq],
        )
    });
    let rating_tier = tiers(&by_rating, |a, b| {
        by_adjusted_desc(a, b) == Ordering::Equal && reviews(a) == reviews(b)
    });
    let adjusted_tier = tiers(&by_rating, |a, b| by_adjusted_desc(a, b) == Ordering::Equal);
    let by_reviews = sort_by_key(count, |seq| {
        (
            Reverse(inputs[seq].review_count),
            descending(adjusted[seq]),
            id[seq],
        )
    });
    let by_price = sort_by_key(count, |seq| {
        let price = inputs[seq].price_min;
        (
            price.is_none(),
            price.unwrap_or(u32::MAX),
            descending(adjusted[seq]),
            id[seq],
        )
    });

    Ranks {
        rating: positions(&by_rating),
        rating_tier,
        name,
        adjusted_tier,
        id,
        reviews: positions(&by_reviews),
        price: positions(&by_price),
    }
}

impl Ranks {
    fn arrays(&self) -> [&Vec<u32>; 7] {
        [
            &self.rating,
            &self.rating_tier,
            &self.name,
            &self.adjusted_tier,
            &self.id,
            &self.reviews,
            &self.price,
        ]
    }

    pub fn len(&self) -> usize {
        self.rating.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rating.is_empty()
    }

    pub fn write_to(&self, mut out: impl Write) -> std::io::Result<()> {
        out.write_all(MAGIC)?;
        out.write_all(&(self.len() as u64).to_le_bytes())?;
        let mut buffer = Vec::with_capacity(self.len() * 4);
        for array in self.arrays() {
            buffer.clear();
            array
                .iter()
                .for_each(|v| buffer.extend_from_slice(&v.to_le_bytes()));
            out.write_all(&buffer)?;
        }
        out.flush()
    }

    pub fn read_from(mut input: impl Read) -> std::io::Result<Ranks> {
        let invalid = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what);
        let mut magic = [0u8; 8];
        input.read_exact(&mut magic)?;
        if &magic != MAGIC {
            return Err(invalid("ranks.bin has an unknown format"));
        }
        let mut count = [0u8; 8];
        input.read_exact(&mut count)?;
        let count = usize::try_from(u64::from_le_bytes(count))
            .map_err(|_| invalid("ranks.bin count too large"))?;
        let mut bytes = Vec::new();
        input.read_to_end(&mut bytes)?;
        if bytes.len() != count * 4 * 7 {
            return Err(invalid("ranks.bin is truncated"));
        }
        let mut arrays = bytes.chunks_exact(count * 4).map(|chunk| {
            chunk
                .chunks_exact(4)
                .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect::<Vec<u32>>()
        });
        let mut next = || arrays.next().unwrap_or_default();
        Ok(Ranks {
            rating: next(),
            rating_tier: next(),
            name: next(),
            adjusted_tier: next(),
            id: next(),
            reviews: next(),
            price: next(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(
        id: &str,
        name: &str,
        rating: Option<f64>,
        reviews: u32,
        price: Option<u32>,
    ) -> RankInput {
        RankInput {
            name: name.into(),
            id: id.into(),
            rating,
            review_count: reviews,
            price_min: price,
        }
    }

    #[test]
    fn text_sorts_are_byte_wise_with_shared_prefixes_short_names_and_ties() {
        let names = [
            "Clinician Ann",
            "Clinician Ann",
            "Clinician Annabelle Zed",
            "Clinician Annabelle Able",
            "Clinician",
            "Clinician Ö",
            "Clinician Z",
            "Clinician Annabell",
            "Clinician ann",
        ];
        let inputs: Vec<RankInput> = names
            .iter()
            .enumerate()
            .map(|(n, name)| input(&format!("id-{}", 9 - n), name, None, 0, None))
            .collect();
        let ranks = compute(&inputs, 0.0);
        let mut expected: Vec<usize> = (0..inputs.len()).collect();
        expected.sort_by(|&a, &b| {
            (inputs[a].name.as_bytes(), inputs[a].id.as_bytes())
                .cmp(&(inputs[b].name.as_bytes(), inputs[b].id.as_bytes()))
        });
        let by_name: Vec<usize> = (0..inputs.len())
            .map(|position| {
                ranks
                    .name
                    .iter()
                    .position(|&r| r as usize == position)
                    .unwrap_or(99)
            })
            .collect();
        assert_eq!(by_name, expected);
        let mut ids: Vec<usize> = (0..inputs.len()).collect();
        ids.sort_by(|&a, &b| inputs[a].id.cmp(&inputs[b].id));
        for (position, seq) in ids.into_iter().enumerate() {
            assert_eq!(ranks.id[seq] as usize, position);
        }
        // No shared prefix at all, and a single provider.
        let one = compute(&[input("a", "", None, 0, None)], 0.0);
        assert_eq!(one.name, vec![0]);
    }

    #[test]
    fn descending_keys_reverse_total_cmp() {
        let values = [-1.5, -0.0, 0.0, 1e-300, 2.5, 4.9, 5.0, f64::INFINITY];
        for a in values {
            for b in values {
                assert_eq!(
                    descending(a).cmp(&descending(b)),
                    b.total_cmp(&a),
                    "{a} {b}"
                );
            }
        }
    }

    #[test]
    fn rating_order_breaks_ties_by_reviews_name_then_id() {
        let inputs = vec![
            input("b", "Same", None, 0, Some(500)),
            input("a", "Same", None, 0, None),
            input("c", "Solo five", Some(5.0), 1, Some(300)),
            input("d", "Many good", Some(4.8), 300, Some(300)),
        ];
        let (mean, rated) = mean_rating(&inputs);
        assert_eq!(rated, 2);
        assert!((mean - 4.9).abs() < 1e-12);
        let ranks = compute(&inputs, mean);
        // c: (49+5)/11 = 4.909; d: (49+1440)/310 = 4.803; unrated: 4.9.
        assert_eq!(ranks.rating, vec![2, 1, 0, 3]);
        assert_eq!(ranks.rating_tier[0], ranks.rating_tier[1]);
        // Price: c and d at 300 (c has the higher adjusted rating), then b (seq 0), then a (seq 1) without a price.
        assert_eq!(ranks.price, vec![2, 3, 0, 1]);
        let mut bytes = Vec::new();
        ranks.write_to(&mut bytes).expect("write to memory");
        assert_eq!(Ranks::read_from(&bytes[..]).expect("read back"), ranks);
        assert!(Ranks::read_from(&bytes[..bytes.len() - 1]).is_err());
    }
}
