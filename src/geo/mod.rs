//! Points, great-circle distance and the grid cells of the geographic prefilter.
//!
//! Distances are haversine on a sphere of 3958.8 miles (docs/search.md), computed by
//! the `geo` crate so that every part of the project (and the tests' reference)
//! measures the same way. Search prefilters on a Z-order curve ([`zorder`]):
//! documents are sorted by their position's key, and a query turns its
//! circle's bounding box into a few key ranges, hence doc-id ranges.

pub mod gazetteer;
pub mod places;
pub mod zorder;

use geo::{Distance, HaversineMeasure, Point};

/// Earth radius of docs/search.md, in miles.
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

/// Parses "lat,lon": `None` when the text is not two numbers, an error
/// when they are out of range.
pub fn parse_point(value: &str) -> Option<Result<LatLon, String>> {
    let (lat, lon) = value.split_once(',')?;
    let lat = crate::values::decimal(lat.trim())?;
    let lon = crate::values::decimal(lon.trim())?;
    Some(LatLon::new(lat, lon).ok_or_else(|| {
        "latitude must be between -90 and 90 and longitude between -180 and 180".into()
    }))
}

/// Haversine distance in miles.
pub fn distance_miles(a: LatLon, b: LatLon) -> f64 {
    EARTH.distance(Point::new(a.lon, a.lat), Point::new(b.lon, b.lat))
}

/// Half-extent of the bounding box of a circle: latitude range, and the
/// longitude range (`None` when the circle reaches a pole, so every
/// meridian crosses it).
pub fn bounding_box(center: LatLon, radius_miles: f64) -> ((f64, f64), Option<(f64, f64)>) {
    let angular = radius_miles / EARTH_RADIUS_MILES;
    // A small margin keeps points exactly on the circle inside the box.
    let margin = 1e-9;
    let delta_lat = angular.to_degrees() + margin;
    let lat_range = (
        (center.lat - delta_lat).max(-90.0),
        (center.lat + delta_lat).min(90.0),
    );
    if center.lat - delta_lat <= -90.0 || center.lat + delta_lat >= 90.0 {
        return (lat_range, None);
    }
    // The box's half-width in longitude grows with latitude.
    let ratio = angular.sin() / center.lat.to_radians().cos();
    if ratio >= 1.0 {
        return (lat_range, None);
    }
    let delta_lon = ratio.asin().to_degrees() + margin;
    if delta_lon >= 180.0 {
        return (lat_range, None);
    }
    (
        lat_range,
        Some((center.lon - delta_lon, center.lon + delta_lon)),
    )
}

/// Maps any longitude to -180..180.
pub fn wrap_longitude(lon: f64) -> f64 {
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

    #[test]
    fn bounding_boxes_widen_with_latitude_and_open_at_the_poles() {
        let (lat, lon) = bounding_box(point(0.0, 0.0), 69.09);
        assert!((lat.1 - 1.0).abs() < 0.01, "{lat:?}");
        assert!(lon.is_some_and(|(w, e)| (e - 1.0).abs() < 0.01 && (w + 1.0).abs() < 0.01));
        let (_, lon) = bounding_box(point(60.0, 0.0), 69.09);
        assert!(lon.is_some_and(|(_, e)| (e - 2.0).abs() < 0.02), "{lon:?}");
        let (lat, lon) = bounding_box(point(89.9, 0.0), 50.0);
        assert_eq!(lat.1, 90.0);
        assert_eq!(lon, None);
        let (_, lon) = bounding_box(point(51.8, 179.9), 20.0);
        assert!(lon.is_some_and(|(_, e)| e > 180.0), "{lon:?}");
    }
}
