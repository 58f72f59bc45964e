//! The search form's state, filled from the query string as the visitor
//! sent it: after a bad value the form still shows what they typed, so
//! they can correct it rather than start again. Its labels are in the
//! language the query string asks for (`lang`, see [`Lang::from_pairs`]).

use super::i18n::LANG_PARAM;
use crate::index::Generation;
use crate::provider::{Condition, ProviderType, Treatment, Vocabulary, state_name};
use crate::search::params::Kind;
use crate::search::params::{FormControl, PARAMS};
use crate::search::{DEFAULT_RADIUS_MILES, SortOrder, printable};
use crate::values;

use super::i18n::Lang;
use super::view::{RADIUS_STEPS, sort_label};

/// An `<option>` of a `<select>`.
#[derive(Debug, Clone, PartialEq)]
pub struct SelectOption {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// A checkbox of a vocabulary.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckOption {
    pub id: String,
    pub value: &'static str,
    pub label: &'static str,
    pub checked: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SearchForm {
    pub q: String,
    pub near: String,
    pub radius: Vec<SelectOption>,
    pub treatments: Vec<CheckOption>,
    pub conditions: Vec<CheckOption>,
    pub provider_types: Vec<CheckOption>,
    /// "Also show telehealth providers licensed in Montana", beside the
    /// place: checked, and its label (the state of the place typed, when
    /// it names one).
    pub include_telehealth: bool,
    pub include_telehealth_label: String,
    pub insurance: String,
    pub telehealth: bool,
    pub accepting: bool,
    pub min_rating: Vec<SelectOption>,
    pub sort: Vec<SelectOption>,
    /// Parameters the form has no control for (`language`, `state`, …),
    /// carried along so that a new submission keeps them.
    pub hidden: Vec<(&'static str, String)>,
    /// Open the "more filters" section when one of its filters is set.
    pub filters_open: bool,
    /// Insurers to suggest in the insurance box (a `<datalist>`, so it
    /// works without JavaScript), alphabetical.
    pub insurers: Vec<String>,
    /// The language of the labels (the page's).
    pub lang: Lang,
}

/// A vocabulary's checkboxes (ids `<id_prefix>-<slug>`), ticked for the
/// values given (slugs or synonyms).
fn check_options<V: Vocabulary>(
    id_prefix: &str,
    given: impl Iterator<Item = String>,
    lang: Lang,
) -> Vec<CheckOption> {
    let chosen: Vec<V> = given.filter_map(|v| V::parse_lenient(&v)).collect();
    V::ALL
        .iter()
        .map(|value| CheckOption {
            id: format!("{id_prefix}-{}", value.slug()),
            value: value.slug(),
            label: lang.label(V::KEY, value.slug()),
            checked: chosen.contains(value),
        })
        .collect()
}

/// The name of the state the typed place lies in ("Bozeman, MT" →
/// "Montana"), when it names one (no I/O: the gazetteer is in the binary).
fn place_state_name(near: &str) -> Option<&'static str> {
    if near.is_empty() {
        return None;
    }
    state_name(crate::geo::places::resolve_near(near).ok()?.in_state?)
}

/// True when `value` is within the bounds the parameter table gives `name`.
fn bounded(name: &str, value: &str) -> bool {
    match crate::search::params::find(name).map(|p| p.kind) {
        Some(Kind::Decimal { min, max, .. }) => values::decimal_in(value, min, max).is_some(),
        _ => false,
    }
}

/// A `<select>`'s options with `chosen` selected. A value the list lacks is
/// added when `valid` accepts it (a radius of 12.5 typed into the URL), and
/// never echoed when it does not (a select cannot show an invalid value
/// as a choice the visitor could make).
fn options(
    values: impl IntoIterator<Item = (String, String)>,
    chosen: &str,
    valid: impl Fn(&str) -> bool,
) -> Vec<SelectOption> {
    let mut options: Vec<SelectOption> = values
        .into_iter()
        .map(|(value, label)| SelectOption {
            selected: value == chosen,
            value,
            label,
        })
        .collect();
    if !chosen.is_empty() && !options.iter().any(|o| o.selected) && valid(chosen) {
        options.push(SelectOption {
            value: chosen.to_string(),
            label: chosen.to_string(),
            selected: true,
        });
    }
    options
}

impl SearchForm {
    /// An empty form in `lang` (on a page that is not a search).
    pub fn empty(lang: Lang) -> SearchForm {
        SearchForm::from_pairs(&[(LANG_PARAM.to_string(), lang.code().to_string())])
    }

    /// The form for decoded query-string pairs (blank values count as
    /// absent), labelled in the language they ask for.
    pub fn from_pairs(pairs: &[(String, String)]) -> SearchForm {
        let lang = Lang::from_pairs(pairs);
        // Control characters read as spaces, as in the search, so the form
        // never echoes them into the page.
        let values = |name: &'static str| {
            pairs
                .iter()
                .filter(move |(n, _)| n == name)
                .filter_map(|(_, v)| printable(v))
        };
        let first = |name: &'static str| values(name).next().unwrap_or_default();
        let is_true = |name: &'static str| {
            values(name).any(|v| crate::search::parse_flag(&v).unwrap_or(false))
        };

        let mut near = first("near");
        let mut hidden: Vec<(&'static str, String)> = Vec::new();
        let (lat, lon) = (first("lat"), first("lon"));
        if near.is_empty() && !lat.is_empty() && !lon.is_empty() {
            // `near` reads "lat,lon" too, and one box is easier to edit.
            near = format!("{lat},{lon}");
        }
        // The parameters without a control ride along (params::PARAMS says which).
        for param in PARAMS.iter().filter(|p| p.form == FormControl::Hidden) {
            hidden.extend(values(param.name).map(|v| (param.name, v)));
        }
        let mut insurers = values("insurance");
        let insurance = insurers.next().unwrap_or_default();
        hidden.extend(insurers.map(|v| ("insurance", v)));

        let treatments = check_options::<Treatment>("treatment", values("treatment"), lang);
        let conditions = check_options::<Condition>("condition", values("condition"), lang);
        let provider_types =
            check_options::<ProviderType>("provider-type", values("provider_type"), lang);
        let include_telehealth_label = match place_state_name(&near) {
            Some(state) => lang.f("form.include_telehealth", &[("state", state)]),
            None => lang.t("form.include_telehealth_any").to_string(),
        };

        let radius = first("radius");
        let radius = if radius.is_empty() {
            DEFAULT_RADIUS_MILES.to_string()
        } else {
            radius
        };
        let min_rating = first("min_rating");
        let sort = first("sort").to_ascii_lowercase();
        let telehealth = is_true("telehealth");
        let accepting = is_true("accepting");
        let ticked = |options: &[CheckOption]| options.iter().any(|o| o.checked);
        let filters_open = ticked(&treatments)
            || ticked(&conditions)
            || ticked(&provider_types)
            || !insurance.is_empty()
            || telehealth
            || accepting
            || !min_rating.is_empty();
        SearchForm {
            q: first("q"),
            near,
            radius: options(
                RADIUS_STEPS.iter().map(|step| {
                    let step = step.to_string();
                    let label = lang.f("form.radius_miles", &[("miles", &step)]);
                    (step, label)
                }),
                &radius,
                |r| bounded("radius", r),
            ),
            treatments,
            conditions,
            provider_types,
            include_telehealth: is_true("include_telehealth"),
            include_telehealth_label,
            insurance,
            telehealth,
            accepting,
            min_rating: options(
                std::iter::once((String::new(), lang.t("form.any_rating").to_string())).chain(
                    ["3", "4", "4.5"].map(|v| {
                        (
                            v.to_string(),
                            lang.f("form.rating_and_up", &[("rating", v)]),
                        )
                    }),
                ),
                &min_rating,
                |r| bounded("min_rating", r),
            ),
            sort: options(
                SortOrder::ALL.iter().map(|s| {
                    let label = match s {
                        SortOrder::Distance => {
                            lang.f("form.sort_needs_place", &[("sort", sort_label(*s, lang))])
                        }
                        SortOrder::Relevance => {
                            lang.f("form.sort_needs_words", &[("sort", sort_label(*s, lang))])
                        }
                        _ => sort_label(*s, lang).to_string(),
                    };
                    (s.as_str().to_string(), label)
                }),
                if sort.is_empty() { "rating" } else { &sort },
                |_| false,
            ),
            hidden,
            filters_open,
            insurers: Vec::new(),
            lang,
        }
    }

    /// Suggests the directory's most common insurers (the generation keeps
    /// them most common first), in alphabetical order.
    pub fn with_insurers(mut self, generation: &Generation) -> SearchForm {
        let meta = &generation.meta;
        let mut names: Vec<String> = meta
            .insurance_bit_owners
            .iter()
            .filter_map(|&ord| meta.insurance_names.get(ord as usize).cloned())
            .collect();
        names.sort_by_key(|name| name.to_lowercase());
        self.insurers = names;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(query: &str) -> Vec<(String, String)> {
        crate::search::decode_query(query)
    }

    #[test]
    fn keeps_what_the_visitor_typed_even_when_it_is_invalid() {
        let form = SearchForm::from_pairs(&pairs(
            "q=knee&near=Nowhere&radius=7&min_rating=9&treatment=Spravato&language=Spanish",
        ));
        assert_eq!(form.q, "knee");
        assert_eq!(form.near, "Nowhere");
        let chosen: Vec<&str> = form
            .radius
            .iter()
            .filter(|o| o.selected)
            .map(|o| o.value.as_str())
            .collect();
        assert_eq!(chosen, ["7"]);
        // A select never offers an invalid value as a choice.
        assert!(!form.min_rating.iter().any(|o| o.value == "9"));
        assert!(!form.min_rating.iter().any(|o| o.selected));
        assert!(
            form.treatments
                .iter()
                .any(|t| t.checked && t.value == "esketamine_nasal")
        );
        assert_eq!(form.hidden, vec![("language", "Spanish".to_string())]);
        assert!(form.filters_open);
    }

    /// Every parameter the table gives a control has one in the form, and
    /// every parameter it marks hidden rides along when given.
    #[test]
    fn the_form_carries_every_parameter_the_table_says_it_does() {
        let html = crate::pages::render_home(
            &crate::pages::PageContext::default(),
            &SearchForm::from_pairs(&[]),
        )
        .expect("renders");
        for param in PARAMS {
            let named = html.contains(&format!("name=\"{}\"", param.name));
            match param.form {
                FormControl::Control => assert!(named, "no control named {}", param.name),
                FormControl::Hidden => {
                    let form = SearchForm::from_pairs(&[(param.name.into(), param.example.into())]);
                    assert!(
                        form.hidden.iter().any(|(name, _)| *name == param.name),
                        "{} is not carried as a hidden field",
                        param.name
                    );
                }
                FormControl::WhereBox | FormControl::NotCarried => {
                    assert!(
                        !named,
                        "{} has a control the table does not know",
                        param.name
                    )
                }
            }
        }
    }

    #[test]
    fn a_point_shows_in_the_place_box() {
        let form = SearchForm::from_pairs(&pairs("lat=39.7&lon=-104.9"));
        assert_eq!(form.near, "39.7,-104.9");
        assert!(!form.filters_open);
        assert!(form.radius.iter().any(|o| o.selected && o.value == "25"));
    }
}
