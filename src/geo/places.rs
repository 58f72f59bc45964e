//! Resolving what a patient types as `near` into a point and a label.
//!
//! Understood today: a 5-digit ZIP (or ZIP+4) and "lat,lon". City and state
//! names are the Places issue's work and are answered as unknown places.

use super::LatLon;
use super::gazetteer::Gazetteer;
use crate::search::parse_point;

/// A resolved place.
#[derive(Debug, Clone, PartialEq)]
pub struct Place {
    pub label: String,
    pub position: LatLon,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlaceError {
    #[error(
        "no place called {query:?} is known; try a 5-digit ZIP code or coordinates like 39.74,-104.99"
    )]
    NotFound {
        query: String,
        suggestions: Vec<String>,
    },
    #[error("{0}")]
    OutOfRange(String),
}

pub fn resolve_near(text: &str) -> Result<Place, PlaceError> {
    let text = text.trim();
    if let Some(point) = parse_point(text) {
        let point = point.map_err(PlaceError::OutOfRange)?;
        return Ok(Place {
            label: format!("{:.4}, {:.4}", point.lat, point.lon),
            position: point,
        });
    }
    let zip5 = text
        .get(..5)
        .filter(|_| text.len() == 5 || (text.len() == 10 && text.as_bytes()[5] == b'-'));
    if let Some(place) = zip5.and_then(|zip| Gazetteer::get().zip(zip)) {
        return Ok(Place {
            label: format!("{}, {} {}", place.city, place.state, place.zip),
            position: place.position,
        });
    }
    Err(PlaceError::NotFound {
        query: text.chars().take(100).collect(),
        suggestions: Vec::new(),
    })
}
