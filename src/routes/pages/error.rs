//! [`PageError`]: an error of a patient page. The same library errors as
//! the API's ([`ApiError`]), with the same status, shown in the site's
//! layout with what to try instead (the form as the visitor filled it,
//! "search near …" links, a link without the values we could not read).
//!
//! Its words are chosen when the error is made but said when the page is
//! rendered ([`Text`]), in the language of the request's [`PageContext`]
//! (set with [`PageError::within`]), so an error raised deep in a handler
//! still gets the visitor's language and the sample-data banner.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

use crate::geo::places::PlaceError;
use crate::pages::{self, ErrorView, Lang, Link, PageContext, SearchForm, Text};
use crate::routes::errors::ApiError;
use crate::search::params::{self, Kind};
use crate::search::{DISTANCE_NEEDS_A_PLACE, InvalidParam, RELEVANCE_NEEDS_WORDS};

/// The search form an error page offers.
#[derive(Debug, Clone)]
enum FormOffer {
    None,
    /// As the visitor sent it, to correct.
    AsSent(Box<SearchForm>),
    /// Empty, in the page's language (an unknown path).
    Empty,
}

/// An error of a patient page: the API's error plus what the page needs to
/// help (the form as the visitor filled it, links to try instead).
#[derive(Debug, thiserror::Error)]
#[error("{error}")]
pub struct PageError {
    error: ApiError,
    /// Links to try instead: what they say, and where they go (without
    /// `lang`, which the page's language adds).
    suggestions: Vec<(Text, String)>,
    form: FormOffer,
    /// Overrides the API's wording where a page can say it better.
    message: Option<Text>,
    context: PageContext,
}

impl From<ApiError> for PageError {
    fn from(error: ApiError) -> Self {
        PageError {
            error,
            suggestions: Vec::new(),
            form: FormOffer::None,
            message: None,
            context: PageContext::default(),
        }
    }
}

/// `/?<pairs>` without the parameters in `drop` (and `page` and `lang`),
/// plus `add`.
fn search_href_changed(
    pairs: &[(String, String)],
    drop: &[&str],
    add: Option<(&str, &str)>,
) -> String {
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(
            pairs
                .iter()
                .filter(|(name, _)| {
                    name != "page"
                        && name != pages::i18n::LANG_PARAM
                        && !drop.contains(&name.as_str())
                })
                .map(|(n, v)| (n.as_str(), v.as_str())),
        )
        .extend_pairs(add)
        .finish();
    format!("/?{query}")
}

impl PageError {
    /// The error on the page of a request: its language, the sample
    /// banner, the language switch.
    pub fn within(mut self, context: &PageContext) -> PageError {
        self.context = context.clone();
        self
    }

    /// A failed search, shown with the form as it was sent.
    pub fn search(error: ApiError, pairs: &[(String, String)], form: &SearchForm) -> PageError {
        let mut suggestions = Vec::new();
        match &error {
            ApiError::UnknownPlace(PlaceError::NotFound {
                suggestions: places,
                ..
            }) => {
                suggestions.extend(places.iter().take(5).map(|place| {
                    (
                        Text::new("error.search_near").with("place", place),
                        search_href_changed(pairs, &["near"], Some(("near", place))),
                    )
                }));
                suggestions.push((
                    Text::new("error.search_everywhere"),
                    search_href_changed(pairs, &["near", "radius", "sort"], None),
                ));
            }
            ApiError::InvalidParams(params) => {
                let names: Vec<&str> = params.iter().map(|p| p.name.as_str()).collect();
                suggestions.push((
                    Text::new("error.search_without_bad_values"),
                    search_href_changed(pairs, &names, None),
                ));
            }
            _ => {}
        }
        let message = match &error {
            ApiError::UnknownPlace(PlaceError::NotFound { query, .. }) => {
                Some(Text::new("error.place_not_found").with("place", query))
            }
            ApiError::UnknownPlace(PlaceError::OutOfRange(_)) => {
                Some(Text::new("error.place_out_of_range"))
            }
            ApiError::InvalidParams(_) => Some(Text::new("error.bad_search")),
            _ => None,
        };
        PageError {
            error,
            suggestions,
            form: FormOffer::AsSent(Box::new(form.clone())),
            message,
            context: PageContext::default(),
        }
    }

    pub fn unknown_provider(id: &str) -> PageError {
        PageError {
            message: Some(
                Text::new("error.unknown_provider")
                    .with("id", id.chars().take(100).collect::<String>()),
            ),
            ..PageError::from(ApiError::NotFound("unknown provider".into()))
        }
    }

    /// A page asked for with a method other than GET or HEAD.
    pub fn method_not_allowed(method: &str) -> PageError {
        PageError {
            message: Some(Text::new("error.method_not_allowed").with("method", method)),
            ..PageError::from(ApiError::MethodNotAllowed(format!(
                "{method} is not allowed"
            )))
        }
    }

    /// A visitor over the per-client request budget (shared with the API).
    pub fn rate_limited(wait_seconds: u64) -> PageError {
        PageError {
            message: Some(Text::counted("error.rate_limited", wait_seconds)),
            ..PageError::from(ApiError::TooManyAttempts(wait_seconds))
        }
    }

    /// The API's error with the page's own words for it (the report form's
    /// refusals, say).
    pub fn said(error: ApiError, message: Text) -> PageError {
        PageError {
            message: Some(message),
            ..PageError::from(error)
        }
    }

    pub fn unknown_path(path: &str) -> PageError {
        PageError {
            message: Some(
                Text::new("error.unknown_path")
                    .with("path", path.chars().take(200).collect::<String>()),
            ),
            form: FormOffer::Empty,
            ..PageError::from(ApiError::NotFound("unknown page".into()))
        }
    }

    fn view(&self) -> ErrorView {
        let lang = self.context.lang;
        let status = self.error.status_code();
        let details = match &self.error {
            ApiError::InvalidParams(params) => {
                params.iter().map(|p| plain_words(p, lang)).collect()
            }
            _ => Vec::new(),
        };
        let title = match (&self.error, status) {
            (ApiError::UnknownPlace(_), _) => "error.title.place_not_found",
            (ApiError::InvalidParams(_), _) => "error.title.check_search",
            (_, StatusCode::NOT_FOUND) => "error.title.not_found",
            (_, StatusCode::SERVICE_UNAVAILABLE) => "error.title.starting",
            (_, StatusCode::METHOD_NOT_ALLOWED) => "error.title.not_allowed",
            (_, StatusCode::TOO_MANY_REQUESTS) => "error.title.too_many",
            _ => "error.title.went_wrong",
        };
        let message = match (&self.error, &self.message) {
            (ApiError::Internal(_), _) => lang.t("error.internal").to_string(),
            (ApiError::NotReady, _) => lang.t("error.not_ready").to_string(),
            (_, Some(message)) => lang.say(message),
            // An error no page words were chosen for: the API's English
            // is the only detail there is; Spanish pages say it generally.
            (other, None) => match lang {
                Lang::En => other.to_string(),
                Lang::Es => lang.t("error.generic").to_string(),
            },
        };
        ErrorView {
            title: lang.t(title).into(),
            message,
            details,
            suggestions: self
                .suggestions
                .iter()
                .map(|(label, href)| Link {
                    label: lang.say(label),
                    href: lang.href(href),
                })
                .collect(),
            form: match &self.form {
                FormOffer::None => None,
                FormOffer::AsSent(form) => Some((**form).clone()),
                FormOffer::Empty => Some(SearchForm::empty(lang)),
            },
        }
    }
}

/// A bad parameter as a visitor reads it: the form's label, and for the
/// refusals a patient meets most, what to do instead. In English the
/// search's own reason follows the label; in Spanish the page says what
/// the field takes, from the parameter table (the search explains itself
/// in English only, as the API does).
fn plain_words(param: &InvalidParam, lang: Lang) -> String {
    match param.reason.as_str() {
        DISTANCE_NEEDS_A_PLACE => lang.t("error.distance_needs_place").into(),
        RELEVANCE_NEEDS_WORDS => lang.t("error.relevance_needs_words").into(),
        reason => {
            // The table's parameters have labels in every language; any
            // other name is shown as it is.
            let label = match params::find(&param.name) {
                Some(_) => lang.label("param", &param.name),
                None => param.name.as_str(),
            };
            let reason = match lang {
                Lang::En => reason.to_string(),
                Lang::Es => what_it_takes(&param.name, reason, lang),
            };
            lang.f("error.bad_value", &[("label", label), ("reason", &reason)])
        }
    }
}

/// What a parameter accepts, in `lang`, from its row of the table; a
/// reason the table's bounds do not give (a value given twice, `lat`
/// without `lon`) gets the general "we could not read it".
fn what_it_takes(name: &str, reason: &str, lang: Lang) -> String {
    let Some(kind) = params::find(name).map(|p| p.kind) else {
        return lang.t("error.value.unreadable").into();
    };
    if let Kind::Vocabulary(_) | Kind::Choice(_) = kind {
        return lang.t("error.value.choose").into();
    }
    if reason != kind.allowed() {
        return lang.t("error.value.unreadable").into();
    }
    let unit = |unit: &str| {
        if unit.is_empty() {
            String::new()
        } else {
            format!(" {}", lang.t(&pages::view::unit_key(unit)))
        }
    };
    match kind {
        Kind::Text { max_chars } | Kind::Place { max_chars } => lang.f(
            "error.value.at_most_chars",
            &[("max", &max_chars.to_string())],
        ),
        Kind::Names { max_chars } => lang.f(
            "error.value.each_at_most_chars",
            &[("max", &max_chars.to_string())],
        ),
        Kind::Decimal { min, max, unit: u } => lang.f(
            "error.value.number",
            &[
                ("min", &min.to_string()),
                ("max", &max.to_string()),
                ("unit", &unit(u)),
            ],
        ),
        Kind::Whole { min, max, unit: u } => lang.f(
            "error.value.whole_number",
            &[
                ("min", &min.to_string()),
                ("max", &max.to_string()),
                ("unit", &unit(u)),
            ],
        ),
        Kind::Flag { .. } => lang.t("error.value.flag").into(),
        Kind::State => lang.t("error.value.state").into(),
        Kind::Vocabulary(_) | Kind::Choice(_) => lang.t("error.value.choose").into(),
    }
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        self.error.status_code()
    }

    fn error_response(&self) -> HttpResponse {
        if let ApiError::Internal(cause) = &self.error {
            tracing::error!(%cause, "internal error");
        }
        let view = self.view();
        let status = self.status_code();
        match pages::render_error(&view, &self.context) {
            Ok(body) => super::html(status, super::Page::new(body, false)),
            Err(error) => ApiError::from(error).error_response(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every bad value of every parameter reads as Spanish words (never
    /// the search's English reason) on a Spanish page.
    #[test]
    fn bad_values_are_explained_in_spanish_from_the_table() {
        let spanish = PageContext {
            lang: Lang::Es,
            ..PageContext::default()
        };
        for (query, expected) in [
            (
                "near=80202&radius=9000",
                "Distancia máxima: debe ser un número de 1 a 500 en millas",
            ),
            (
                "min_rating=9",
                "Calificación mínima: debe ser un número de 0 a 5",
            ),
            (
                "sort=nearest",
                "Ordenar por: elija una de las opciones de la lista",
            ),
            (
                "near=80202&radius=5&radius=6",
                "Distancia máxima: no pudimos leer este valor",
            ),
            ("sort=distance", "“Más cercanos” necesita un lugar"),
        ] {
            let pairs = crate::search::decode_query(query);
            let Err(invalid) = crate::search::SearchRequest::from_pairs(
                pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())),
            ) else {
                panic!("{query} should be refused");
            };
            let error = PageError::search(
                ApiError::InvalidParams(invalid),
                &pairs,
                &SearchForm::from_pairs(&pairs),
            )
            .within(&spanish);
            let view = error.view();
            assert_eq!(view.title, "Revise su búsqueda");
            assert!(
                view.details.iter().any(|d| d.starts_with(expected)),
                "{query}: {:?}",
                view.details
            );
        }
    }
}
