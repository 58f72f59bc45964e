//! What a patient types as `near`, resolved into a point (or a whole
//! state), and the place suggestions of the search box.
//!
//! [`resolve_near`] is shared by the API, the pages and the CLI. It reads,
//! in this order: `lat,lon`; a ZIP code (`80202`, `80202-1234`, also at
//! either end of a longer text: "Denver, CO 80202"); a state alone
//! ("Colorado", "CO"); a town and a state ("Denver, CO", "denver co",
//! "Denver, Colorado"); a town alone, which means the most populous town of
//! that name. Names are compared through [`name_key`], so case, accents,
//! punctuation and St./Ft./Mt. do not matter. An unknown place is an error
//! that carries up to [`MAX_SUGGESTIONS`] near misses, never an empty result.

use std::cmp::Ordering;

use serde::Serialize;

use super::LatLon;
use super::gazetteer::{
    Gazetteer, State, Town, ZipPlace, letter_mask, name_key, name_key_unfinished,
};
use super::parse_point;

/// Most suggestions an unknown place gets.
pub const MAX_SUGGESTIONS: usize = 3;
/// Longest `near` worth looking up; no place name comes close.
pub const MAX_NEAR_CHARS: usize = 200;
/// Most characters of the query repeated in an error message.
const ECHO_CHARS: usize = 100;

/// A resolved `near`.
#[derive(Debug, Clone, PartialEq)]
pub struct Place {
    /// What the response shows: "Denver, CO 80202", "Denver, CO",
    /// "Colorado (whole state)", "39.7525, -104.9995".
    pub label: String,
    /// The centre of the search; `None` for a whole state.
    pub position: Option<LatLon>,
    /// Set for a whole state: search filters by it instead of a radius.
    pub state: Option<&'static str>,
    /// The state the place lies in (a ZIP's, a town's, or the state
    /// itself); `None` for bare coordinates. Telehealth reach asks it.
    pub in_state: Option<&'static str>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlaceError {
    #[error("{}", not_found_message(.query, .suggestions))]
    NotFound {
        /// The text as given (at most 100 characters of it).
        query: String,
        /// Labels that `near` accepts, best first.
        suggestions: Vec<String>,
    },
    #[error("{0}")]
    OutOfRange(String),
}

fn not_found_message(query: &str, suggestions: &[String]) -> String {
    let hint = match suggestions {
        [] => "try a 5-digit ZIP code, a city and state such as \"Denver, CO\", a state, \
               or coordinates such as 39.74,-104.99"
            .to_string(),
        _ => format!(
            "did you mean {}? A 5-digit ZIP code works too",
            suggestions
                .iter()
                .map(|s| format!("{s:?}"))
                .collect::<Vec<_>>()
                .join(" or ")
        ),
    };
    format!("no place called {query:?} is known; {hint}")
}

fn not_found(text: &str, suggestions: Vec<String>) -> PlaceError {
    PlaceError::NotFound {
        query: text.chars().take(ECHO_CHARS).collect(),
        suggestions,
    }
}

/// Resolves `near` (see the module documentation for what it reads).
pub fn resolve_near(text: &str) -> Result<Place, PlaceError> {
    let text = text.trim();
    if text.chars().count() > MAX_NEAR_CHARS {
        return Err(not_found(text, Vec::new()));
    }
    if let Some(point) = parse_point(text) {
        let point = point.map_err(PlaceError::OutOfRange)?;
        return Ok(Place {
            label: format!("{:.4}, {:.4}", point.lat, point.lon),
            position: Some(point),
            state: None,
            in_state: None,
        });
    }
    let gazetteer = Gazetteer::get();
    if let Some(zip) = whole_zip(text) {
        return match gazetteer.zip(zip) {
            Some(place) => Ok(zip_place(place)),
            None => Err(not_found(text, zip_suggestions(gazetteer, zip))),
        };
    }
    // "Denver, CO 80202" or "80202 (Denver, CO)": the ZIP is the most
    // precise part; when it is unknown the rest may still be a place.
    if let Some((zip, rest)) = zip_at_either_end(text) {
        if let Some(place) = gazetteer.zip(zip) {
            return Ok(zip_place(place));
        }
        return resolve_name(gazetteer, rest).map_err(|error| match error {
            PlaceError::NotFound { suggestions, .. } => not_found(text, suggestions),
            other => other,
        });
    }
    resolve_name(gazetteer, text)
}

/// A place written as words inside a longer text (a search box's words):
/// a known 5-digit ZIP code, or a town followed by its state ("Austin,
/// TX", "austin texas"). Nothing else: no coordinates, no state alone, no
/// town without a state, no suggestions, so a miss costs only lookups.
pub fn place_in_words(text: &str) -> Option<Place> {
    let gazetteer = Gazetteer::get();
    let trimmed = text.trim();
    if trimmed.len() == 5 && trimmed.bytes().all(|b| b.is_ascii_digit()) {
        return gazetteer.zip(trimmed).map(zip_place);
    }
    let key = name_key(trimmed);
    splits(&key).into_iter().find_map(|(town_key, state_key)| {
        let state = gazetteer.state(state_key)?;
        gazetteer.town(town_key, state.code).map(town_place)
    })
}

/// When `text` names a town without its state and towns of that name lie
/// in several states: their labels ("Springfield, MO", …), most populous
/// first, at most `limit`. `near` reads such a name as the first of them;
/// pages ask which one was meant.
pub fn other_towns_of_the_name(text: &str, limit: usize) -> Vec<String> {
    let gazetteer = Gazetteer::get();
    let key = name_key(text.trim());
    if key.is_empty() || gazetteer.state(&key).is_some() {
        return Vec::new();
    }
    let mut towns: Vec<&Town> = gazetteer.towns_named(&key).iter().collect();
    if towns.len() < 2 {
        return Vec::new();
    }
    towns.sort_by(|a, b| Town::by_size(a, b));
    towns.into_iter().take(limit).map(Town::label).collect()
}

fn zip_place(place: &ZipPlace) -> Place {
    Place {
        label: format!("{}, {} {}", place.city, place.state, place.zip),
        position: Some(place.position),
        state: None,
        in_state: Some(place.state),
    }
}

/// The 5 digits of `80202`, `80202-1234` or `802021234`.
fn whole_zip(text: &str) -> Option<&str> {
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let zip = text.get(..5).filter(|zip| digits(zip))?;
    let plus4 = &text[5..];
    let valid = plus4.is_empty()
        || (plus4.len() == 5 && plus4.starts_with('-') && digits(&plus4[1..]))
        || (plus4.len() == 4 && digits(plus4));
    valid.then_some(zip)
}

/// A ZIP code as the first or last word of a longer text, and the rest.
fn zip_at_either_end(text: &str) -> Option<(&str, &str)> {
    let is_separator = |c: char| c.is_whitespace() || matches!(c, ',' | '(' | ')');
    let (before, last) = text.rsplit_once(is_separator)?;
    if let Some(zip) = whole_zip(last) {
        return Some((zip, before));
    }
    let (first, after) = text.split_once(is_separator)?;
    whole_zip(first).map(|zip| (zip, after))
}

/// Country names a patient may add at the end ("Denver, CO, USA").
const COUNTRY_SUFFIXES: [&str; 4] = [" united states of america", " united states", " usa", " us"];

/// A state, a town in a state, or a town alone.
fn resolve_name(gazetteer: &Gazetteer, text: &str) -> Result<Place, PlaceError> {
    let full_key = name_key(text);
    let key = COUNTRY_SUFFIXES
        .iter()
        .find_map(|suffix| full_key.strip_suffix(suffix))
        .unwrap_or(&full_key);
    if key.is_empty() {
        return Err(not_found(text, Vec::new()));
    }
    if let Some(state) = gazetteer.state(key) {
        return Ok(whole_state(state));
    }
    // The last one to three words may be a state ("north carolina",
    // "district of columbia"); the longest reading that names a town wins.
    let mut wanted: Option<(&str, &State)> = None;
    for (town_key, state_key) in splits(key) {
        let Some(state) = gazetteer.state(state_key) else {
            continue;
        };
        if let Some(town) = gazetteer.town(town_key, state.code) {
            return Ok(town_place(town));
        }
        wanted.get_or_insert((town_key, state));
    }
    // No state, or a state and a name that is not a town of it: a town
    // with the whole name ("Port Washington") still wins over an error.
    if let Some(town) = most_populous(gazetteer.towns_named(key)) {
        return Ok(town_place(town));
    }
    let suggestions = match wanted {
        Some((town_key, state)) => suggest_towns(gazetteer, town_key, Some(state.code)),
        // "Denvr, Colorado Springs": the part before the comma is the name.
        None => match text.rsplit_once(',') {
            Some((name, _)) => suggest_towns(gazetteer, &name_key(name), None),
            None => suggest_towns(gazetteer, key, None),
        },
    };
    Err(not_found(text, suggestions))
}

/// (town, state) readings of a key whose last 1–3 words may be a state,
/// the longest state first.
fn splits(key: &str) -> Vec<(&str, &str)> {
    let spaces: Vec<usize> = key.match_indices(' ').map(|(at, _)| at).collect();
    let first = spaces.len().saturating_sub(3);
    spaces[first..]
        .iter()
        .map(|&at| (&key[..at], &key[at + 1..]))
        .collect()
}

fn whole_state(state: &State) -> Place {
    let kind = match state.code {
        "DC" => "district",
        "PR" | "VI" | "GU" | "AS" | "MP" => "territory",
        _ => "state",
    };
    Place {
        label: format!("{} (whole {kind})", state.name),
        position: None,
        state: Some(state.code),
        in_state: Some(state.code),
    }
}

fn town_place(town: &Town) -> Place {
    Place {
        label: town.label(),
        position: Some(town.position),
        state: None,
        in_state: Some(town.state),
    }
}

fn most_populous(towns: &[Town]) -> Option<&Town> {
    towns.iter().min_by(|a, b| Town::by_size(a, b))
}

/// Most edits between a typed name and a suggested one, by length: one
/// typo in a short name, up to three in a long one.
fn edit_budget(key: &str) -> usize {
    match key.len() {
        0..=2 => 0,
        3..=4 => 1,
        5..=8 => 2,
        _ => 3,
    }
}

/// Up to [`MAX_SUGGESTIONS`] town labels close to `key`: few edits away, or
/// starting with it (counted as one edit); in `state` first when one was
/// given (a town of that name in another state counts one edit more). Most
/// populous first among equals. The scan visits each distinct name once and
/// skips most by length and letters before any edit distance is computed;
/// names starting with the key are a range of the sorted towns.
fn suggest_towns(gazetteer: &Gazetteer, key: &str, state: Option<&str>) -> Vec<String> {
    let budget = edit_budget(key);
    if budget == 0 {
        return Vec::new();
    }
    let cost = |distance: usize, town: &Town| {
        distance + usize::from(state.is_some_and(|state| state != town.state))
    };
    let max_cost = budget + usize::from(state.is_some());
    let key_letters = letter_mask(key);
    let mut distance = EditDistance::default();
    let mut found: Vec<(usize, &Town)> = Vec::new();
    let lengths = key.len().saturating_sub(budget)..=key.len() + budget;
    for group in gazetteer.names(lengths) {
        if (group.letters ^ key_letters).count_ones() as usize > 2 * budget {
            continue;
        }
        let towns = gazetteer.towns_of(group);
        let Some(edits) = distance.within(key.as_bytes(), towns[0].key().as_bytes(), budget) else {
            continue;
        };
        found.extend(towns.iter().map(|town| (cost(edits, town), town)));
    }
    if key.len() >= 3 {
        let longer = gazetteer
            .towns_with_prefix(key)
            .iter()
            .filter(|town| town.key().len() > key.len());
        found.extend(longer.map(|town| (cost(1, town), town)));
    }
    found.retain(|(cost, _)| *cost <= max_cost);
    found.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| Town::by_size(a.1, b.1)));
    let mut labels: Vec<String> = Vec::with_capacity(MAX_SUGGESTIONS);
    for (_, town) in found {
        let label = town.label();
        if !labels.contains(&label) {
            labels.push(label);
            if labels.len() == MAX_SUGGESTIONS {
                break;
            }
        }
    }
    labels
}

/// Optimal-string-alignment distance (insertions, deletions, substitutions
/// and swaps of neighbours) within a budget. It keeps the three rows of the
/// table between calls, so a scan allocates them once.
#[derive(Default)]
struct EditDistance {
    before: Vec<usize>,
    previous: Vec<usize>,
    current: Vec<usize>,
}

impl EditDistance {
    /// The distance from `a` to `b`, or `None` once it must exceed `budget`.
    fn within(&mut self, a: &[u8], b: &[u8], budget: usize) -> Option<usize> {
        if a.len().abs_diff(b.len()) > budget {
            return None;
        }
        let width = b.len() + 1;
        let EditDistance {
            before,
            previous,
            current,
        } = self;
        for row in [&mut *before, &mut *previous, &mut *current] {
            row.clear();
            row.resize(width, 0);
        }
        for (j, cell) in previous.iter_mut().enumerate() {
            *cell = j;
        }
        for i in 1..=a.len() {
            current[0] = i;
            let mut row_min = i;
            for j in 1..width {
                let substitution = usize::from(a[i - 1] != b[j - 1]);
                let mut cell = (previous[j] + 1)
                    .min(current[j - 1] + 1)
                    .min(previous[j - 1] + substitution);
                if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                    cell = cell.min(before[j - 2] + 1);
                }
                current[j] = cell;
                row_min = row_min.min(cell);
            }
            if row_min > budget {
                return None;
            }
            std::mem::swap(before, previous);
            std::mem::swap(previous, current);
        }
        Some(previous[b.len()]).filter(|&d| d <= budget)
    }
}

/// Known ZIP codes nearest in number to an unknown one within its
/// three-digit area (the same sectional centre), as `near` labels.
fn zip_suggestions(gazetteer: &Gazetteer, zip: &str) -> Vec<String> {
    let Ok(wanted) = zip.parse::<i64>() else {
        return Vec::new();
    };
    let mut area: Vec<&ZipPlace> = gazetteer.zips_with_prefix(&zip[..3]).iter().collect();
    area.sort_by_key(|place| {
        let number = place.zip.parse::<i64>().unwrap_or(i64::MAX);
        ((number - wanted).abs(), number)
    });
    area.into_iter()
        .take(MAX_SUGGESTIONS)
        .map(|place| zip_place(place).label)
        .collect()
}

/// Kind of a suggested place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PlaceKind {
    City,
    Zip,
}

/// One entry of the search box's suggestions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlaceSuggestion {
    /// "Denver, CO" or "80202 (Denver, CO)"; `near` accepts both.
    pub label: String,
    pub kind: PlaceKind,
    pub lat: f64,
    pub lon: f64,
    /// GeoNames population of the city; `null` for a ZIP code and for a
    /// town known only from ZIP codes.
    pub population: Option<u32>,
}

/// Longest accepted suggestion prefix, in characters.
pub const MAX_PREFIX_CHARS: usize = 100;
/// Most suggestions one request may ask for.
pub const MAX_SUGGESTION_LIMIT: usize = 50;

/// Places whose name (or ZIP code) starts with `prefix`, most populous
/// first: digits give ZIP codes (in the most populous towns first), words
/// give cities ("den" → Denver, Denton…). A comma starts a state filter:
/// "Springfield, m" → Springfield, MO / MA / MI… An unfinished last word
/// may be an abbreviation or a word of its own ("st" → Saint… and Sterling).
pub fn suggest(prefix: &str, limit: usize) -> Vec<PlaceSuggestion> {
    let gazetteer = Gazetteer::get();
    let prefix = prefix.trim();
    if let Some(digits) = zip_prefix(prefix) {
        return suggest_zips(gazetteer, digits, limit);
    }
    let (name, states) = match prefix.rsplit_once(',') {
        Some((name, state)) => (name, states_starting(gazetteer, state)),
        None => (prefix, None),
    };
    if states.as_ref().is_some_and(Vec::is_empty) {
        return Vec::new();
    }
    // Typed "Denver," is a whole word; typed "st" may not be.
    let finished = states.is_some() || name.ends_with(|c: char| !c.is_alphanumeric());
    let expanded = name_key(name);
    if expanded.is_empty() {
        return Vec::new();
    }
    let literal = name_key_unfinished(name);
    let mut ranges = vec![gazetteer.towns_with_prefix(&expanded)];
    if !finished && literal != expanded {
        ranges.push(gazetteer.towns_with_prefix(&literal));
    }
    let mut towns: Vec<&Town> = ranges
        .into_iter()
        .flatten()
        .filter(|town| {
            states
                .as_ref()
                .is_none_or(|states| states.contains(&town.state))
        })
        .collect();
    top(&mut towns, limit, |a, b| Town::by_size(a, b));
    towns
        .into_iter()
        .map(|town| PlaceSuggestion {
            label: town.label(),
            kind: PlaceKind::City,
            lat: town.position.lat,
            lon: town.position.lon,
            population: town.population,
        })
        .collect()
}

/// The digits of a ZIP prefix: 1–5 digits, or 5 digits and a partial +4.
fn zip_prefix(prefix: &str) -> Option<&str> {
    let digits = prefix.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || digits > 5 {
        return None;
    }
    let rest = &prefix[digits..];
    let plus4 = rest.is_empty()
        || (digits == 5
            && rest.starts_with('-')
            && rest.len() <= 5
            && rest[1..].bytes().all(|b| b.is_ascii_digit()));
    plus4.then_some(&prefix[..digits])
}

fn suggest_zips(gazetteer: &Gazetteer, digits: &str, limit: usize) -> Vec<PlaceSuggestion> {
    let mut zips: Vec<&ZipPlace> = gazetteer.zips_with_prefix(digits).iter().collect();
    top(&mut zips, limit, |a, b| {
        Town::by_size(gazetteer.town_of(a), gazetteer.town_of(b)).then(a.zip.cmp(b.zip))
    });
    zips.into_iter()
        .map(|zip| PlaceSuggestion {
            label: format!("{} ({}, {})", zip.zip, zip.city, zip.state),
            kind: PlaceKind::Zip,
            lat: zip.position.lat,
            lon: zip.position.lon,
            population: None,
        })
        .collect()
}

/// Codes of the states the text after a comma may mean: the state it
/// names ("co", "Colorado"), else those whose code or name starts with it
/// ("c", "colo"); `None` when nothing was typed after the comma.
fn states_starting(gazetteer: &Gazetteer, typed: &str) -> Option<Vec<&'static str>> {
    let key = name_key_unfinished(typed);
    if key.is_empty() {
        return None;
    }
    if let Some(state) = gazetteer.state(&key) {
        return Some(vec![state.code]);
    }
    Some(
        gazetteer
            .states()
            .iter()
            .filter(|state| {
                state.key().starts_with(&key)
                    || (key.len() <= 2 && state.code.to_ascii_lowercase().starts_with(&key))
            })
            .map(|state| state.code)
            .collect(),
    )
}

/// Keeps the first `limit` items in `order`, sorted.
fn top<T>(items: &mut Vec<T>, limit: usize, mut order: impl FnMut(&T, &T) -> Ordering) {
    if limit == 0 {
        items.clear();
        return;
    }
    if items.len() > limit {
        items.select_nth_unstable_by(limit - 1, &mut order);
        items.truncate(limit);
    }
    items.sort_by(order);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bounded_edit_distance(a: &[u8], b: &[u8], budget: usize) -> Option<usize> {
        EditDistance::default().within(a, b, budget)
    }

    fn label(text: &str) -> String {
        match resolve_near(text) {
            Ok(place) => place.label,
            Err(error) => panic!("{text:?}: {error}"),
        }
    }

    fn suggestions(text: &str) -> Vec<String> {
        match resolve_near(text) {
            Err(PlaceError::NotFound { suggestions, .. }) => suggestions,
            other => panic!("{text:?} should be unknown: {other:?}"),
        }
    }

    #[test]
    fn each_form_of_near() {
        let cases = [
            ("80202", "Denver, CO 80202"),
            ("80202-1234", "Denver, CO 80202"),
            ("802021234", "Denver, CO 80202"),
            ("  80202  ", "Denver, CO 80202"),
            ("Denver, CO", "Denver, CO"),
            ("denver co", "Denver, CO"),
            ("Denver, Colorado", "Denver, CO"),
            ("DENVER,CO", "Denver, CO"),
            ("Denver CO USA", "Denver, CO"),
            ("Denver, CO 80202", "Denver, CO 80202"),
            ("80202 (Denver, CO)", "Denver, CO 80202"),
            ("Denver", "Denver, CO"),
            ("39.7525,-104.9995", "39.7525, -104.9995"),
            ("39.7525, -104.9995", "39.7525, -104.9995"),
            ("Colorado", "Colorado (whole state)"),
            ("co", "Colorado (whole state)"),
            (
                "District of Columbia",
                "District of Columbia (whole district)",
            ),
            ("Puerto Rico", "Puerto Rico (whole territory)"),
            ("Washington, DC", "Washington, DC"),
            ("Charleston, West Virginia", "Charleston, WV"),
            ("charleston west virginia", "Charleston, WV"),
            ("Kansas City", "Kansas City, MO"),
            ("Kansas City, Kansas", "Kansas City, KS"),
        ];
        for (text, expected) in cases {
            assert_eq!(label(text), expected, "{text:?}");
        }
        let state = resolve_near("Colorado").expect("a state");
        assert_eq!((state.position, state.state), (None, Some("CO")));
        let city = resolve_near("Denver, CO").expect("a city");
        assert_eq!(city.state, None);
        let denver = city.position.expect("a point");
        assert!((denver.lat - 39.739).abs() < 0.01 && (denver.lon + 104.985).abs() < 0.01);
    }

    #[test]
    fn normalisations() {
        let cases = [
            ("St. Louis, MO", "St. Louis, MO"),
            ("Saint Louis MO", "St. Louis, MO"),
            ("st louis", "St. Louis, MO"),
            ("Ft. Collins, CO", "Fort Collins, CO"),
            ("Ft Worth TX", "Fort Worth, TX"),
            ("Mt. Vernon, NY", "Mount Vernon, NY"),
            ("Mount Pleasant, SC", "Mount Pleasant, SC"),
            ("New York, NY", "New York City, NY"),
            ("New York City", "New York City, NY"),
            ("new york city, new york", "New York City, NY"),
            ("Cañon City, CO", "Cañon City, CO"),
            ("Canon City, CO", "Cañon City, CO"),
            ("  denver ,  co. ", "Denver, CO"),
            ("Winston Salem, NC", "Winston-Salem, NC"),
            ("Coeur d'Alene, ID", "Coeur d'Alene, ID"),
        ];
        for (text, expected) in cases {
            assert_eq!(label(text), expected, "{text:?}");
        }
    }

    #[test]
    fn ambiguous_names_go_to_the_most_populous() {
        assert_eq!(label("Springfield"), "Springfield, MO");
        assert_eq!(label("Portland"), "Portland, OR");
        assert_eq!(label("Portland, ME"), "Portland, ME");
        assert_eq!(label("Columbus"), "Columbus, OH");
        // A state name alone is the state, even where a city shares it.
        assert_eq!(label("Washington"), "Washington (whole state)");
        assert_eq!(label("New York"), "New York (whole state)");
    }

    #[test]
    fn usps_names_missing_from_the_city_file_fall_back_to_zip_centroids() {
        let gazetteer = Gazetteer::get();
        let flushing = gazetteer.town("flushing", "NY").expect("USPS name");
        assert_eq!(flushing.population, None);
        let place = resolve_near("Flushing, NY").expect("found");
        assert_eq!(place.label, "Flushing, NY");
        assert_eq!(place.position, Some(flushing.position));
        // Alone, a name with a known population wins over a USPS-only one.
        assert_eq!(label("flushing"), "Flushing, MI");
        assert_eq!(label("Bronx, NY"), "The Bronx, NY");
        assert_eq!(label("St. Albans, NY"), "Saint Albans, NY");
        assert_eq!(label("Mc Lean, VA"), "McLean, VA");
        assert_eq!(label("mclean va"), "McLean, VA");
    }

    #[test]
    fn unknown_places_suggest_near_misses() {
        assert_eq!(suggestions("Denvr, CO")[0], "Denver, CO");
        assert_eq!(suggestions("Denvr")[0], "Denver, CO");
        assert_eq!(suggestions("Albequerque, NM")[0], "Albuquerque, NM");
        assert_eq!(suggestions("Pittsburg, PA")[0], "Pittsburgh, PA");
        assert_eq!(suggestions("Colorado Sprngs")[0], "Colorado Springs, CO");
        // The right name in the wrong state: the real ones, biggest first.
        let portland = suggestions("Portland, CO");
        assert_eq!(&portland[..2], ["Portland, OR", "Portland, ME"]);
        assert!(suggestions("Denvr, Colorado Springs").contains(&"Denver, CO".to_string()));
        assert!(suggestions("99999").iter().all(|s| s.contains(" 999")));
        assert_eq!(suggestions("Denvr, CO 99999")[0], "Denver, CO");
        assert!(suggestions("xqzwv").is_empty());
        for text in ["Denvr, CO", "Portland, CO", "Springfeld", "Albequerque"] {
            let found = suggestions(text);
            assert!(
                !found.is_empty() && found.len() <= MAX_SUGGESTIONS,
                "{text}"
            );
            for suggestion in found {
                assert_eq!(label(&suggestion), suggestion, "suggestions resolve");
            }
        }
        let error = resolve_near("Denvr, CO").expect_err("unknown");
        let message = error.to_string();
        assert!(
            message.contains("\"Denvr, CO\"") && message.contains("\"Denver, CO\""),
            "{message}"
        );
    }

    #[test]
    fn garbage_is_unknown_or_out_of_range_never_a_panic() {
        let long = "a".repeat(10_000);
        let long_digits = "8".repeat(10_000);
        let garbage = [
            "",
            "   ",
            "\u{0}",
            "%00",
            ",",
            ",,,",
            "-",
            "😀",
            "😀😀, 😀",
            "\u{202E}",
            "ﾃﾞﾝﾊﾞｰ",
            long.as_str(),
            long_digits.as_str(),
            "1234",
            "123456",
            "80202-",
            "00000",
            "St",
            "st.",
            "usa",
        ];
        for text in garbage {
            match resolve_near(text) {
                Err(PlaceError::NotFound { query, .. }) => {
                    assert!(query.chars().count() <= 100)
                }
                other => panic!("{text:?}: {other:?}"),
            }
        }
        for text in ["91,0", "0,181", "-90.5,10", "1e3,5"] {
            assert!(
                matches!(resolve_near(text), Err(PlaceError::OutOfRange(_))),
                "{text}"
            );
        }
        assert!(resolve_near("90,180").is_ok());
    }

    #[test]
    fn real_places_spot_checks() {
        let cases = [
            ("10001", "New York, NY 10001", 40.75, -74.0),
            ("60601", "Chicago, IL 60601", 41.88, -87.62),
            ("Los Angeles, CA", "Los Angeles, CA", 34.05, -118.24),
            ("Honolulu", "Honolulu, HI", 21.31, -157.86),
            ("Anchorage, AK", "Anchorage, AK", 61.22, -149.9),
            ("Miami, FL", "Miami, FL", 25.77, -80.19),
            ("Boston, MA", "Boston, MA", 42.36, -71.06),
            ("Seattle, WA", "Seattle, WA", 47.61, -122.33),
        ];
        for (text, expected, lat, lon) in cases {
            let place = resolve_near(text).expect(text);
            assert_eq!(place.label, expected);
            let position = place.position.expect("a point");
            assert!(
                (position.lat - lat).abs() < 0.1 && (position.lon - lon).abs() < 0.1,
                "{text}: {position:?}"
            );
        }
    }

    #[test]
    fn edit_distance_counts_swaps_and_stops_at_the_budget() {
        assert_eq!(bounded_edit_distance(b"denver", b"denver", 2), Some(0));
        assert_eq!(bounded_edit_distance(b"denvr", b"denver", 2), Some(1));
        assert_eq!(bounded_edit_distance(b"dnever", b"denver", 2), Some(1));
        assert_eq!(bounded_edit_distance(b"abc", b"xyz", 2), None);
        assert_eq!(bounded_edit_distance(b"", b"ab", 2), Some(2));
        assert_eq!(bounded_edit_distance(b"a", b"abcd", 2), None);
    }

    #[test]
    fn prefix_suggestions_for_the_search_box() {
        let labels = |prefix: &str, limit| -> Vec<String> {
            suggest(prefix, limit)
                .into_iter()
                .map(|s| s.label)
                .collect()
        };
        let den = suggest("den", 10);
        assert_eq!(den[0].label, "Denver, CO");
        assert_eq!(den[0].kind, PlaceKind::City);
        assert!(den[0].population.is_some_and(|p| p > 500_000));
        assert!(den.len() == 10);
        assert!(den.windows(2).all(|w| w[0].population >= w[1].population));
        assert_eq!(labels("DEN", 1), ["Denver, CO"]);
        assert_eq!(labels("st lou", 1), ["St. Louis, MO"]);
        assert_eq!(labels("saint lou", 1), ["St. Louis, MO"]);
        let st = labels("st", 50);
        assert!(st.iter().any(|l| l.starts_with("St")), "{st:?}");
        assert!(st.iter().any(|l| l.starts_with("Stamford")), "{st:?}");
        assert_eq!(labels("springfield, m", 3).len(), 3);
        assert!(
            labels("springfield, m", 10)
                .iter()
                .all(|l| l.ends_with(", MO")
                    || l.ends_with(", MA")
                    || l.ends_with(", MI")
                    || l.ends_with(", MN")
                    || l.ends_with(", ME")
                    || l.ends_with(", MS")
                    || l.ends_with(", MT")
                    || l.ends_with(", MD")
                    || l.ends_with(", MP"))
        );
        assert_eq!(labels("Denver, Colo", 5), ["Denver, CO"]);
        // A whole code is that state, not every state starting with it.
        assert_eq!(labels("springfield, co", 5), ["Springfield, CO"]);
        assert_eq!(labels("springfield, colorado", 5), ["Springfield, CO"]);
        assert!(labels("Denver, XX", 5).is_empty());
        let zips = suggest("802", 10);
        assert_eq!(zips.len(), 10);
        assert!(
            zips.iter()
                .all(|z| z.kind == PlaceKind::Zip && z.population.is_none())
        );
        assert!(zips[0].label.starts_with("802") && zips[0].label.ends_with("(Denver, CO)"));
        assert_eq!(labels("80202-12", 5), ["80202 (Denver, CO)"]);
        assert!(labels("802021", 5).is_empty());
        assert!(labels("😀", 5).is_empty());
        assert!(labels("zzzzzz", 5).is_empty());
        assert!(labels("den", 0).is_empty());
        for suggestion in den.iter().chain(&zips) {
            let place = resolve_near(&suggestion.label).expect("labels resolve");
            assert_eq!(
                place.position.map(|p| (p.lat, p.lon)),
                Some((suggestion.lat, suggestion.lon))
            );
        }
    }

    /// "City, ST" for every state's most populous town resolves to that
    /// town (the bug that read "Bozeman, MT" as "Bozeman Mount").
    #[test]
    fn every_states_largest_city_typed_as_city_st_resolves() {
        let gazetteer = Gazetteer::get();
        let mut failures = Vec::new();
        for state in gazetteer.states() {
            let Some(largest) = gazetteer
                .towns()
                .iter()
                .filter(|t| t.state == state.code && t.population.is_some())
                .max_by_key(|t| t.population)
            else {
                continue;
            };
            for typed in [
                format!("{}, {}", largest.name, state.code),
                format!("{} {}", largest.name, state.code.to_lowercase()),
            ] {
                match resolve_near(&typed) {
                    Ok(place) if place.position == Some(largest.position) => {}
                    other => failures.push(format!("{typed}: {other:?}")),
                }
            }
        }
        assert!(failures.is_empty(), "{failures:#?}");
        for typed in ["Bozeman, MT", "Billings, MT", "Helena, MT", "Missoula MT"] {
            let place = resolve_near(typed).unwrap_or_else(|e| panic!("{typed}: {e}"));
            assert!(place.label.ends_with(", MT"), "{typed}: {}", place.label);
        }
        // "Mt" still reads as "Mount" inside a name.
        assert!(resolve_near("Mt Vernon, NY").is_ok_and(|p| p.label == "Mount Vernon, NY"));
        assert_eq!(resolve_near("MT").map(|p| p.state), Ok(Some("MT")));
    }

    /// Every label the search box can offer, for every town and every ZIP
    /// code, resolves to that place when chosen; so do the "did you mean"
    /// suggestions of an unknown place.
    #[test]
    fn every_place_the_site_offers_resolves_when_chosen() {
        let gazetteer = Gazetteer::get();
        let mut failures = Vec::new();
        for town in gazetteer.towns() {
            let label = town.label();
            match resolve_near(&label) {
                Ok(place) if place.label.ends_with(&format!(", {}", town.state)) => {}
                other => failures.push(format!("{label}: {other:?}")),
            }
        }
        for zip in gazetteer.zips().iter().step_by(7) {
            for suggestion in suggest(zip.zip, 1) {
                if resolve_near(&suggestion.label).is_err() {
                    failures.push(suggestion.label);
                }
            }
        }
        for typed in [
            "Bozman, MT",
            "Billngs, MT",
            "Denvr, CO",
            "Springfeld",
            "Austn, TX",
        ] {
            if let Err(PlaceError::NotFound { suggestions, .. }) = resolve_near(typed) {
                for suggestion in suggestions {
                    if resolve_near(&suggestion).is_err() {
                        failures.push(format!("{typed} suggests {suggestion}"));
                    }
                }
            }
        }
        assert!(
            failures.is_empty(),
            "{} places do not resolve: {:#?}",
            failures.len(),
            &failures[..failures.len().min(40)]
        );
    }

    #[test]
    fn a_town_without_its_state_lists_the_towns_of_that_name() {
        let springfields = other_towns_of_the_name("springfield", 5);
        assert_eq!(springfields.len(), 5, "{springfields:?}");
        assert_eq!(springfields[0], "Springfield, MO");
        assert!(springfields.iter().all(|s| resolve_near(s).is_ok()));
        assert!(other_towns_of_the_name("Springfield, IL", 5).is_empty());
        assert!(other_towns_of_the_name("Colorado", 5).is_empty());
        assert!(other_towns_of_the_name("Xyzzyville", 5).is_empty());
    }
}
