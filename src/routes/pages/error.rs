//! [`PageError`]: an error of a patient page. The same library errors as
//! the API's ([`ApiError`]), with the same status, shown in the site's
//! layout with what to try instead (the form as the visitor filled it,
//! "search near …" links, a link without the values we could not read).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

use crate::geo::places::PlaceError;
use crate::pages::{self, ErrorView, Link, SearchForm};
use crate::routes::errors::ApiError;
use crate::search::{DISTANCE_NEEDS_A_PLACE, InvalidParam, RELEVANCE_NEEDS_WORDS, params};

/// An error of a patient page: the API's error plus what the page needs to
/// help (the form as the visitor filled it, links to try instead).
#[derive(Debug, thiserror::Error)]
#[error("{error}")]
pub struct PageError {
    error: ApiError,
    suggestions: Vec<Link>,
    form: Option<SearchForm>,
    /// Overrides the API's wording where a page can say it better.
    message: Option<String>,
}

impl From<ApiError> for PageError {
    fn from(error: ApiError) -> Self {
        PageError {
            error,
            suggestions: Vec::new(),
            form: None,
            message: None,
        }
    }
}

/// `/?<pairs>` without the parameters in `drop` (and `page`), plus `add`.
fn search_href_changed(
    pairs: &[(String, String)],
    drop: &[&str],
    add: Option<(&str, &str)>,
) -> String {
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(
            pairs
                .iter()
                .filter(|(name, _)| name != "page" && !drop.contains(&name.as_str()))
                .map(|(n, v)| (n.as_str(), v.as_str())),
        )
        .extend_pairs(add)
        .finish();
    format!("/?{query}")
}

impl PageError {
    /// A failed search, shown with the form as it was sent.
    pub fn search(error: ApiError, pairs: &[(String, String)], form: &SearchForm) -> PageError {
        let mut suggestions: Vec<Link> = Vec::new();
        match &error {
            ApiError::UnknownPlace(PlaceError::NotFound {
                suggestions: places,
                ..
            }) => {
                suggestions.extend(places.iter().take(5).map(|place| Link {
                    label: format!("Search near {place}"),
                    href: search_href_changed(pairs, &["near"], Some(("near", place))),
                }));
                suggestions.push(Link {
                    label: "Search everywhere instead (many providers offer telehealth)".into(),
                    href: search_href_changed(pairs, &["near", "radius", "sort"], None),
                });
            }
            ApiError::InvalidParams(params) => {
                let names: Vec<&str> = params.iter().map(|p| p.name.as_str()).collect();
                suggestions.push(Link {
                    label: "Search again without the values we could not read".into(),
                    href: search_href_changed(pairs, &names, None),
                });
            }
            _ => {}
        }
        let message = match &error {
            ApiError::UnknownPlace(PlaceError::NotFound { query, .. }) => Some(format!(
                "We could not find the place “{query}”. Try a 5-digit ZIP code, a city and \
                 state such as “Denver, CO”, or a state name."
            )),
            ApiError::InvalidParams(_) => Some(
                "Part of this search could not be understood. Change the value below and \
                 search again."
                    .into(),
            ),
            _ => None,
        };
        PageError {
            error,
            suggestions,
            form: Some(form.clone()),
            message,
        }
    }

    pub fn unknown_provider(id: &str) -> PageError {
        PageError {
            message: Some(format!(
                "There is no provider with the id “{}”. It may have left the directory \
                 in the latest update. Search again to find providers near you.",
                id.chars().take(100).collect::<String>()
            )),
            ..PageError::from(ApiError::NotFound("unknown provider".into()))
        }
    }

    /// A page asked for with a method other than GET or HEAD.
    pub fn method_not_allowed(method: &str) -> PageError {
        PageError {
            message: Some(format!(
                "This page can only be read ({method} is not allowed). Use the links or \
                 the search form instead."
            )),
            ..PageError::from(ApiError::MethodNotAllowed(format!(
                "{method} is not allowed"
            )))
        }
    }

    /// A visitor over the per-client request budget (shared with the API).
    pub fn rate_limited(wait_seconds: u64) -> PageError {
        PageError {
            message: Some(format!(
                "This address has asked for many pages in a short time. Please wait \
                 {wait_seconds} seconds, then try again."
            )),
            ..PageError::from(ApiError::TooManyAttempts(wait_seconds))
        }
    }

    /// The API's error with the page's own words for it (the report form's
    /// refusals, say).
    pub fn said(error: ApiError, message: impl Into<String>) -> PageError {
        PageError {
            message: Some(message.into()),
            ..PageError::from(error)
        }
    }

    pub fn unknown_path(path: &str) -> PageError {
        PageError {
            message: Some(format!(
                "There is no page at “{}”. Use the search below, or start from the home page.",
                path.chars().take(200).collect::<String>()
            )),
            form: Some(SearchForm::from_pairs(&[])),
            ..PageError::from(ApiError::NotFound("unknown page".into()))
        }
    }

    fn view(&self) -> ErrorView {
        let status = self.error.status_code();
        let details = match &self.error {
            ApiError::InvalidParams(params) => params.iter().map(plain_words).collect(),
            _ => Vec::new(),
        };
        let title = match (&self.error, status) {
            (ApiError::UnknownPlace(_), _) => "Place not found",
            (ApiError::InvalidParams(_), _) => "Please check your search",
            (_, StatusCode::NOT_FOUND) => "Page not found",
            (_, StatusCode::SERVICE_UNAVAILABLE) => "The directory is starting",
            (_, StatusCode::METHOD_NOT_ALLOWED) => "Not allowed here",
            (_, StatusCode::TOO_MANY_REQUESTS) => "Too many requests",
            _ => "Something went wrong",
        };
        let message = match &self.error {
            ApiError::Internal(_) => {
                "Something went wrong on our side. Please try again in a moment.".to_string()
            }
            ApiError::NotReady => {
                "The directory is loading its data. Please try again in a few seconds.".into()
            }
            other => self.message.clone().unwrap_or_else(|| other.to_string()),
        };
        ErrorView {
            title: title.into(),
            message,
            details,
            suggestions: self.suggestions.clone(),
            form: self.form.clone(),
        }
    }
}

/// A bad parameter as a visitor reads it: the form's label, and for the
/// refusals a patient meets most, what to do instead.
fn plain_words(param: &InvalidParam) -> String {
    match param.reason.as_str() {
        DISTANCE_NEEDS_A_PLACE => {
            "Nearest first needs a place — type a ZIP code or city under “Where”".into()
        }
        RELEVANCE_NEEDS_WORDS => {
            "Best match first needs words to match — type them under “What”".into()
        }
        reason => format!("{}: {}", params::label(&param.name), reason),
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
        match pages::render_error(&view) {
            Ok(body) => super::html(status, super::Page::new(body, false)),
            Err(error) => ApiError::from(error).error_response(),
        }
    }
}
