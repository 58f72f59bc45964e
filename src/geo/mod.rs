//! Points, great-circle distance and the grid cells of the geographic prefilter.
//!
//! Distances are haversine on a sphere of 3958.8 miles (SPEC §4), computed by
//! the `geo` crate so that every part of the project (and the tests' reference)
//! measures the same way. Search prefilters with grid cells: each provider is
//! indexed with the cell that holds it at every [`CELL_LEVELS`] size, and a
//! query asks for the few cells that cover its circle's bounding box.

pub mod gazetteer;
pub mod places;

use geo::{Distance, HaversineMeasure, Point};

/// Earth radius of SPEC §4, in miles.
pub const EARTH_RADIUS_MILES: f64 = 3958.8;

const EARTH: HaversineMeasure = HaversineMeasure::new(EARTH_RADIUS_MILES);

/// A position in decimal degrees.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LatLon {
    pub lat: f64,
    pub lon: f64,
}

impl LatLon {
    /// A position, when both values are finite and in range.
    pub fn new(lat: f64, lon: f64) -> Option<Self> {
        let valid = lat.is_finite()
            && lon.is_finite()
            && (-90.0..=90.0).contains(&lat)
            && (-180.0..=180.0).contains(&lon);
        valid.then_some(LatLon { lat, lon })
    }

    /// The point on the unit sphere; the dot product of two of them is the
    /// cosine of their angular distance, which lets search reject most
    /// providers with three multiplications instead of trigonometry.
    pub fn unit_vector(self) -> [f64; 3] {
        let (lat, lon) = (self.lat.to_radians(), self.lon.to_radians());
        [lat.cos() * lon.cos(), lat.cos() * lon.sin(), lat.sin()]
    }
}

/// Haversine distance in miles.
pub fn distance_miles(a: LatLon, b: LatLon) -> f64 {
    EARTH.distance(Point::new(a.lon, a.lat), Point::new(b.lon, b.lat))
}

/// Sizes of the prefilter grid, in tenths of a degree. Each provider carries
/// one cell id per size; a query picks the finest size whose covering of the
/// search box needs at most [`MAX_COVERING_CELLS`] cells.
pub const CELL_LEVELS: [u32; 5] = [1, 4, 16, 64, 256];

/// Upper bound on the terms in one geographic prefilter query.
pub const MAX_COVERING_CELLS: usize = 64;

fn grid_rows(level: usize) -> u32 {
    1800_u32.div_ceil(CELL_LEVELS[level])
}

fn grid_cols(level: usize) -> u32 {
    3600_u32.div_ceil(CELL_LEVELS[level])
}

fn cell_row(level: usize, lat: f64) -> u32 {
    let row = ((lat + 90.0) * 10.0 / f64::from(CELL_LEVELS[level])).floor();
    (row.max(0.0) as u32).min(grid_rows(level) - 1)
}

fn cell_col(level: usize, lon: f64) -> u32 {
    let col = ((lon + 180.0) * 10.0 / f64::from(CELL_LEVELS[level])).floor();
    // 180° and -180° are the same meridian.
    (col.max(0.0) as u32) % grid_cols(level)
}

fn cell_id(level: usize, row: u32, col: u32) -> u64 {
    ((level as u64) << 40) | (u64::from(row) << 20) | u64::from(col)
}

/// The cell ids of a position, one per level (indexed with each provider).
pub fn cells_of(position: LatLon) -> [u64; CELL_LEVELS.len()] {
    std::array::from_fn(|level| {
        cell_id(
            level,
            cell_row(level, position.lat),
            cell_col(level, position.lon),
        )
    })
}

/// The cells that cover every point within `radius_miles` of `center`.
pub fn covering_cells(center: LatLon, radius_miles: f64) -> Vec<u64> {
    let angular = radius_miles / EARTH_RADIUS_MILES;
    // A small margin keeps points exactly on the circle inside the box.
    let margin = 1e-9;
    let delta_lat = angular.to_degrees() + margin;
    let lat_min = center.lat - delta_lat;
    let lat_max = center.lat + delta_lat;
    let contains_pole = lat_min <= -90.0 || lat_max >= 90.0;
    // The box's half-width in longitude grows with latitude; near a pole the
    // circle covers every meridian.
    let delta_lon = if contains_pole {
        None
    } else {
        let ratio = angular.sin() / center.lat.to_radians().cos();
        (ratio < 1.0).then(|| ratio.asin().to_degrees() + margin)
    };
    for level in 0..CELL_LEVELS.len() {
        let row_first = cell_row(level, lat_min);
        let row_last = cell_row(level, lat_max);
        let (col_first, col_count) = match delta_lon {
            Some(delta) if 2.0 * delta < 360.0 => {
                let first = cell_col(level, wrap_longitude(center.lon - delta));
                let last = cell_col(level, wrap_longitude(center.lon + delta));
                let cols = grid_cols(level);
                (first, (last + cols - first) % cols + 1)
            }
            _ => (0, grid_cols(level)),
        };
        let rows = (row_last - row_first + 1) as usize;
        let is_last_level = level + 1 == CELL_LEVELS.len();
        if rows * col_count as usize <= MAX_COVERING_CELLS || is_last_level {
            let cols = grid_cols(level);
            return (row_first..=row_last)
                .flat_map(|row| {
                    (0..col_count).map(move |i| cell_id(level, row, (col_first + i) % cols))
                })
                .collect();
        }
    }
    unreachable!("the last level always returns")
}

/// Maps any longitude to -180..180.
fn wrap_longitude(lon: f64) -> f64 {
    (lon + 180.0).rem_euclid(360.0) - 180.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(lat: f64, lon: f64) -> LatLon {
        LatLon::new(lat, lon).expect("valid test point")
    }

    #[test]
    fn denver_to_boulder_is_about_25_miles() {
        let d = distance_miles(point(39.7392, -104.9903), point(40.0150, -105.2705));
        assert!((d - 24.4).abs() < 0.5, "{d}");
    }

    #[test]
    fn distance_is_short_across_the_antimeridian() {
        let d = distance_miles(point(51.8, 179.9), point(51.8, -179.9));
        assert!(d < 10.0, "{d}");
    }

    #[test]
    fn positions_out_of_range_are_rejected() {
        assert!(LatLon::new(90.1, 0.0).is_none());
        assert!(LatLon::new(0.0, -180.5).is_none());
        assert!(LatLon::new(f64::NAN, 0.0).is_none());
        assert!(LatLon::new(0.0, f64::INFINITY).is_none());
    }

    /// Every point within the radius must lie in one of the covering cells;
    /// checked on a ring of points at the radius around awkward centres.
    #[test]
    fn covering_contains_every_point_on_the_circle() {
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
        ];
        for center in centers {
            for radius in [1.0, 10.0, 37.0, 100.0, 500.0] {
                let cells = covering_cells(center, radius);
                assert!(cells.len() <= 200, "{} cells", cells.len());
                let angular = radius / EARTH_RADIUS_MILES * 0.999_999;
                for step in 0..360 {
                    let bearing = f64::from(step).to_radians();
                    let lat1 = center.lat.to_radians();
                    let lon1 = center.lon.to_radians();
                    let lat2 = (lat1.sin() * angular.cos()
                        + lat1.cos() * angular.sin() * bearing.cos())
                    .asin();
                    let lon2 = lon1
                        + (bearing.sin() * angular.sin() * lat1.cos())
                            .atan2(angular.cos() - lat1.sin() * lat2.sin());
                    let on_circle = point(lat2.to_degrees(), wrap_longitude(lon2.to_degrees()));
                    let level = (cells[0] >> 40) as usize;
                    let wanted = cells_of(on_circle)[level];
                    assert!(
                        cells.contains(&wanted),
                        "center {center:?} radius {radius} misses {on_circle:?}"
                    );
                }
            }
        }
    }
}
