//! The offline gazetteer: US ZIP centroids compiled into the binary.
//!
//! Data © GeoNames (geonames.org), CC BY 4.0 — see `data/README.md`. The file
//! is embedded with `include_str!` so that `ketadir` works from any directory,
//! and parsed once per process on first use.

use std::collections::HashMap;
use std::sync::OnceLock;

use super::LatLon;

const ZIPS_CSV: &str = include_str!("../../data/us_zips.csv");

/// A ZIP code's centroid and its USPS place name.
#[derive(Debug, Clone, PartialEq)]
pub struct ZipPlace {
    pub zip: String,
    pub city: String,
    pub state: String,
    pub position: LatLon,
}

/// Lookup tables built from the embedded place files.
#[derive(Debug)]
pub struct Gazetteer {
    zips: HashMap<u32, ZipPlace>,
}

impl Gazetteer {
    /// The process-wide gazetteer, parsed on first use.
    pub fn get() -> &'static Gazetteer {
        static GAZETTEER: OnceLock<Gazetteer> = OnceLock::new();
        GAZETTEER.get_or_init(Gazetteer::parse_embedded)
    }

    fn parse_embedded() -> Gazetteer {
        let mut zips = HashMap::with_capacity(42_000);
        // The embedded file is ours and plain (no quoting), so a line split
        // is enough; a malformed line is skipped rather than trusted.
        for line in ZIPS_CSV.lines().skip(1) {
            let mut fields = line.split(',');
            let (Some(zip), Some(city), Some(state), Some(lat), Some(lon)) = (
                fields.next(),
                fields.next(),
                fields.next(),
                fields.next(),
                fields.next(),
            ) else {
                continue;
            };
            let position = lat
                .parse()
                .ok()
                .zip(lon.parse().ok())
                .and_then(|(lat, lon)| LatLon::new(lat, lon));
            let (Ok(key), Some(position)) = (zip.parse::<u32>(), position) else {
                continue;
            };
            zips.insert(
                key,
                ZipPlace {
                    zip: zip.to_string(),
                    city: city.to_string(),
                    state: state.to_string(),
                    position,
                },
            );
        }
        Gazetteer { zips }
    }

    /// The centroid of a 5-digit ZIP code.
    pub fn zip(&self, zip5: &str) -> Option<&ZipPlace> {
        if zip5.len() != 5 || !zip5.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        self.zips.get(&zip5.parse().ok()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knows_denver_and_keeps_leading_zeros() {
        let gazetteer = Gazetteer::get();
        let denver = gazetteer.zip("80202").expect("80202 is in the file");
        assert_eq!(denver.state, "CO");
        assert!((denver.position.lat - 39.75).abs() < 0.1);
        let holtsville = gazetteer.zip("00501").expect("00501 is in the file");
        assert_eq!(holtsville.zip, "00501");
        assert!(gazetteer.zip("501").is_none());
        assert!(gazetteer.zip("99999").is_none());
        assert!(gazetteer.zip("8020a").is_none());
    }
}
