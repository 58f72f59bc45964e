//! A Z-order (Morton) curve over the globe, and the key ranges covering a box.
//!
//! Latitude and longitude are quantised to 20 bits each and their bits
//! interleaved. Positions close on the globe mostly get close keys, and every
//! quadtree cell of the grid is one contiguous key range. Documents are
//! sorted by this key, so a search box becomes a few ranges of doc ids.

use std::ops::Range;

use super::{LatLon, bounding_box, wrap_longitude};

const BITS: u32 = 20;
const GRID_MAX: u32 = (1 << BITS) - 1;

/// How many partially covered quadtree cells may be split further; beyond
/// that the cells are kept whole (a superset; the exact test follows).
const MAX_PARTIAL_CELLS: usize = 32;

fn grid_y(lat: f64) -> u32 {
    (((lat + 90.0) / 180.0 * f64::from(GRID_MAX)) as u32).min(GRID_MAX)
}

fn grid_x(lon: f64) -> u32 {
    (((lon + 180.0) / 360.0 * f64::from(GRID_MAX)) as u32).min(GRID_MAX)
}

/// Moves bit i of a 20-bit value to bit 2i.
fn spread_bits(value: u32) -> u64 {
    (0..BITS).fold(0, |spread, bit| {
        spread | (u64::from(value >> bit) & 1) << (2 * bit)
    })
}

fn interleave(y: u32, x: u32) -> u64 {
    spread_bits(y) << 1 | spread_bits(x)
}

/// The Z-order key of a position.
pub fn key(position: LatLon) -> u64 {
    interleave(grid_y(position.lat), grid_x(position.lon))
}

/// An inclusive rectangle of grid coordinates.
#[derive(Debug, Clone, Copy)]
struct GridBox {
    y: (u32, u32),
    x: (u32, u32),
}

/// A quadtree cell: `level` bits of each coordinate fixed.
#[derive(Debug, Clone, Copy)]
struct Cell {
    level: u32,
    y: u32,
    x: u32,
}

impl Cell {
    fn span(self) -> u32 {
        1 << (BITS - self.level)
    }
    fn bounds(self) -> GridBox {
        let span = self.span();
        GridBox {
            y: (self.y * span, self.y * span + (span - 1)),
            x: (self.x * span, self.x * span + (span - 1)),
        }
    }
    fn keys(self) -> Range<u64> {
        let shift = 2 * (BITS - self.level);
        let start = interleave(self.y, self.x) << shift;
        start..start + (1 << shift)
    }
    fn children(self) -> [Cell; 4] {
        let level = self.level + 1;
        let (y, x) = (self.y * 2, self.x * 2);
        [
            Cell { level, y, x },
            Cell { level, y, x: x + 1 },
            Cell { level, y: y + 1, x },
            Cell {
                level,
                y: y + 1,
                x: x + 1,
            },
        ]
    }
}

enum Overlap {
    None,
    Partial,
    Inside,
}

fn overlap(cell: GridBox, boxes: &[GridBox]) -> Overlap {
    let mut partial = false;
    for b in boxes {
        let disjoint = cell.y.1 < b.y.0 || cell.y.0 > b.y.1 || cell.x.1 < b.x.0 || cell.x.0 > b.x.1;
        if disjoint {
            continue;
        }
        let inside =
            cell.y.0 >= b.y.0 && cell.y.1 <= b.y.1 && cell.x.0 >= b.x.0 && cell.x.1 <= b.x.1;
        if inside {
            return Overlap::Inside;
        }
        partial = true;
    }
    if partial {
        Overlap::Partial
    } else {
        Overlap::None
    }
}

/// Sorted, disjoint key ranges holding the key of every position within
/// `radius_miles` of `center` (and some outside it).
pub fn ranges_covering(center: LatLon, radius_miles: f64) -> Vec<Range<u64>> {
    let ((south, north), longitudes) = bounding_box(center, radius_miles);
    let y = (grid_y(south), grid_y(north));
    let boxes: Vec<GridBox> = match longitudes {
        None => vec![GridBox {
            y,
            x: (0, GRID_MAX),
        }],
        Some((west, east)) => {
            let (west, east) = (wrap_longitude(west), wrap_longitude(east));
            if west <= east {
                vec![GridBox {
                    y,
                    x: (grid_x(west), grid_x(east)),
                }]
            } else {
                // The box crosses the antimeridian: two boxes.
                vec![
                    GridBox {
                        y,
                        x: (grid_x(west), GRID_MAX),
                    },
                    GridBox {
                        y,
                        x: (0, grid_x(east)),
                    },
                ]
            }
        }
    };
    let mut ranges: Vec<Range<u64>> = Vec::new();
    let mut partial = vec![Cell {
        level: 0,
        y: 0,
        x: 0,
    }];
    while !partial.is_empty() {
        let can_split = partial[0].level < BITS && partial.len() * 4 <= MAX_PARTIAL_CELLS * 4;
        let mut next = Vec::new();
        for cell in partial {
            let children = if can_split {
                cell.children().to_vec()
            } else {
                vec![cell]
            };
            for child in children {
                match overlap(child.bounds(), &boxes) {
                    Overlap::None => {}
                    Overlap::Inside => ranges.push(child.keys()),
                    Overlap::Partial if can_split => next.push(child),
                    Overlap::Partial => ranges.push(child.keys()),
                }
            }
        }
        if !can_split || next.len() > MAX_PARTIAL_CELLS {
            ranges.extend(next.iter().map(|c| c.keys()));
            break;
        }
        partial = next;
    }
    ranges.sort_by_key(|r| r.start);
    let mut merged: Vec<Range<u64>> = Vec::with_capacity(ranges.len());
    for range in ranges {
        match merged.last_mut() {
            Some(last) if last.end >= range.start => last.end = last.end.max(range.end),
            _ => merged.push(range),
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geo::EARTH_RADIUS_MILES;

    fn point(lat: f64, lon: f64) -> LatLon {
        LatLon::new(lat, lon).expect("valid test point")
    }

    #[test]
    fn neighbours_get_close_keys() {
        assert_eq!(spread_bits(0b1011), 0b1_00_01_01);
        let denver = key(point(39.74, -104.99));
        let nearby = key(point(39.75, -104.98));
        let far = key(point(-33.9, 151.2));
        assert!(denver.abs_diff(nearby) < denver.abs_diff(far));
    }

    /// Every point on (just inside) the circle must have its key in a range;
    /// checked on rings around awkward centres.
    #[test]
    fn ranges_cover_every_point_of_the_circle() {
        let centers = [
            point(39.74, -104.99),
            point(51.88, -176.65),
            point(52.9, 173.1),
            point(71.29, -156.79),
            point(13.44, 144.79),
            point(89.9, 10.0),
            point(-89.9, 10.0),
            point(0.0, 180.0),
            point(0.0, -180.0),
            point(45.0, 0.0),
        ];
        for center in centers {
            for radius in [1.0, 10.0, 37.0, 100.0, 500.0] {
                let ranges = ranges_covering(center, radius);
                assert!(ranges.len() <= 200, "{} ranges", ranges.len());
                let contains = |k: u64| ranges.iter().any(|r| r.contains(&k));
                assert!(contains(key(center)));
                for fraction in [0.5, 0.999_999] {
                    let angular = radius / EARTH_RADIUS_MILES * fraction;
                    for step in 0..360 {
                        let bearing = f64::from(step).to_radians();
                        let (lat1, lon1) = (center.lat.to_radians(), center.lon.to_radians());
                        let lat2 = (lat1.sin() * angular.cos()
                            + lat1.cos() * angular.sin() * bearing.cos())
                        .asin();
                        let lon2 = lon1
                            + (bearing.sin() * angular.sin() * lat1.cos())
                                .atan2(angular.cos() - lat1.sin() * lat2.sin());
                        let on_circle = point(lat2.to_degrees(), wrap_longitude(lon2.to_degrees()));
                        assert!(
                            contains(key(on_circle)),
                            "center {center:?} radius {radius} misses {on_circle:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn ranges_are_few_and_tight_for_a_city_search() {
        let ranges = ranges_covering(point(39.74, -104.99), 25.0);
        assert!(ranges.len() <= 64, "{}", ranges.len());
        let keys: u64 = ranges.iter().map(|r| r.end - r.start).sum();
        // A 50-mile box is about 1/2000 of the globe's width and 1/250 of
        // its height; the ranges may cover a few times that, not much more.
        let globe = 1u64 << 40;
        assert!(keys < globe / 20_000, "{keys}");
    }
}
