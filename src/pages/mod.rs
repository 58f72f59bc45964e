//! The patient pages (README.md and ARCHITECTURE.md, "Patient pages"): search, results, profile, "how we rank" and
//! error pages, rendered from askama templates in `templates/`.
//!
//! This module turns search results into HTML and knows nothing of HTTP;
//! `routes::pages` calls it. Every provider string reaches the HTML through
//! askama's escaping; the one exception, the JSON-LD block, is escaped here
//! for a `<script>` element (see [`json_ld`]).
//!
//! Every render function takes the request's [`PageContext`] — the page's
//! language and whether the directory is the bundled sample — and builds
//! the one [`Layout`] every template prints its frame from, so no page can
//! leave out the language switch or the sample-data banner. The words come
//! from the message catalogues ([`i18n`]).

pub mod admin;
pub mod form;
pub mod i18n;
pub mod reports;
pub mod view;

use std::sync::LazyLock;

use askama::Template;
use sha2::{Digest, Sha256};

pub use form::SearchForm;
pub use view::{Alternative, Change, Link, ResultsView, empty_state_candidates};

use crate::provider::Provider;
use std::sync::Arc;

pub use i18n::{Lang, Text};

use crate::index::{Generation, GenerationMeta};
use crate::search::{Hit, SearchError, SearchRequest, SearchResponse};
use view::{RatingView, care_labels, price_range, tel_href, web_href};

#[derive(Debug, thiserror::Error)]
#[error("cannot render the page: {0}")]
pub struct RenderError(#[from] askama::Error);

/// The site's stylesheet and script, compiled into the binary.
pub const CSS: &str = include_str!("../../static/site.css");
pub const JS: &str = include_str!("../../static/site.js");

/// 16 hex digits of the content's SHA-256: the version in an asset's URL
/// (the admin page's stylesheet uses it too).
pub fn content_hash(content: &str) -> String {
    let digest = Sha256::digest(content.as_bytes());
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// Asset URLs name their content, so browsers may cache them for a year and
/// still fetch a new build at once.
pub static CSS_HREF: LazyLock<String> =
    LazyLock::new(|| format!("/static/site.css?v={}", content_hash(CSS)));
pub static JS_HREF: LazyLock<String> =
    LazyLock::new(|| format!("/static/site.js?v={}", content_hash(JS)));

/// SHA-256 (hex) of the bundled sample file as this binary was built with
/// it: `include_bytes!` makes Cargo rebuild whenever `data/providers.csv`
/// changes, so the comparison follows the file. Hashed once (~1 MB, a few
/// milliseconds), on the first page after start-up.
static SAMPLE_SHA256: LazyLock<String> = LazyLock::new(|| {
    let digest = Sha256::digest(include_bytes!("../../data/providers.csv"));
    digest.iter().map(|b| format!("{b:02x}")).collect()
});

/// True when a generation was built from the bundled sample file: its
/// providers are fictional, and every patient page says so.
pub fn built_from_sample(meta: &GenerationMeta) -> bool {
    meta.source_sha256.as_deref() == Some(SAMPLE_SHA256.as_str())
}

/// What every page takes from the request: its language, whether the
/// served directory is the bundled sample, and its own address.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PageContext {
    pub lang: Lang,
    /// The served generation was built from the bundled sample file.
    pub sample: bool,
    /// This page's same-site address without `lang` (path and query),
    /// which the language switch leads to; pages that know their address
    /// better (a search, a profile) build it themselves. Empty means `/`.
    pub here: String,
}

/// Shared by every page: asset URLs, the page title, the language (and the
/// switch to the other one), the sample-data banner.
pub struct Layout {
    pub title: String,
    pub css: &'static str,
    pub js: &'static str,
    pub lang: Lang,
    /// Show the "Sample data: these providers are fictional" banner.
    pub sample: bool,
    /// The same page in the other language.
    pub switch_href: String,
}

impl Layout {
    fn new(title: impl Into<String>, context: &PageContext) -> Layout {
        Layout::at(title, context, &context.here)
    }

    /// A page whose address without `lang` is `here`.
    fn at(title: impl Into<String>, context: &PageContext, here: &str) -> Layout {
        let here = if here.is_empty() { "/" } else { here };
        Layout {
            title: title.into(),
            css: CSS_HREF.as_str(),
            js: JS_HREF.as_str(),
            lang: context.lang,
            sample: context.sample,
            switch_href: context.lang.other().href(here),
        }
    }

    /// A message of the page's language (templates call this).
    pub fn t(&self, key: &str) -> &'static str {
        self.lang.t(key)
    }

    /// A message split at its slots, for markup inside a sentence.
    pub fn pieces(&self, key: &str) -> Vec<i18n::Piece> {
        self.lang.pieces(key)
    }

    /// A same-site address in the page's language.
    pub fn link(&self, href: &str) -> String {
        self.lang.href(href)
    }

    /// The value of a form's hidden `lang` field: none in English, so
    /// English addresses stay as they were.
    pub fn lang_field(&self) -> Option<&'static str> {
        (self.lang != Lang::En).then(|| self.lang.code())
    }

    /// The language the switch offers.
    pub fn other(&self) -> Lang {
        self.lang.other()
    }

    /// A page title: "… — ketadir".
    fn title(lang: Lang, key: &str, args: &[(&str, &str)]) -> String {
        format!("{} — ketadir", lang.f(key, args))
    }
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage<'a> {
    layout: Layout,
    form: &'a SearchForm,
    results: Option<&'a ResultsView>,
}

/// `/` without a search: the form and a few words on what the site is.
pub fn render_home(context: &PageContext, form: &SearchForm) -> Result<String, RenderError> {
    let page = SearchPage {
        layout: Layout::new(Layout::title(context.lang, "home.title", &[]), context),
        form,
        results: None,
    };
    Ok(page.render()?)
}

/// `/` with a search: the form, the results, facets and pagination.
pub fn render_results_page(
    context: &PageContext,
    mut form: SearchForm,
    request: &SearchRequest,
    response: &SearchResponse,
    alternatives: &[(Alternative, u64)],
    towns: &[(String, u64)],
) -> Result<String, RenderError> {
    let lang = context.lang;
    let results = ResultsView::new(request, response, alternatives, towns, lang);
    // The active filters show as chips above the results; an open filter
    // panel would push the results below the fold on a phone.
    form.filters_open = false;
    let mut title = results.heading.clone();
    if request.page > 1 {
        title.push(' ');
        title.push_str(&lang.f("results.title_page", &[("page", &request.page.to_string())]));
    }
    let page = SearchPage {
        // The switch leads to this search as the page's links write it.
        layout: Layout::at(
            format!("{title} — ketadir"),
            context,
            &view::search_href(request),
        ),
        form: &form,
        results: Some(&results),
    };
    Ok(page.render()?)
}

/// [`render_results_page`] without a request's context — in the form's
/// language, without the sample banner — for `benches/search.rs`, which
/// measures rendering. The server always calls [`render_results_page`].
pub fn render_results(
    form: SearchForm,
    request: &SearchRequest,
    response: &SearchResponse,
    alternatives: &[(Alternative, u64)],
    towns: &[(String, u64)],
) -> Result<String, RenderError> {
    let context = PageContext {
        lang: form.lang,
        ..PageContext::default()
    };
    render_results_page(&context, form, request, response, alternatives, towns)
}

/// What an empty results page should offer: each candidate change
/// ([`empty_state_candidates`]) with how many providers it finds, counted
/// on the same generation. Empty when the search found someone.
pub fn count_alternatives(
    generation: &Arc<Generation>,
    request: &SearchRequest,
    response: &SearchResponse,
    lang: Lang,
) -> Result<Vec<(Alternative, u64)>, SearchError> {
    if response.total > 0 {
        return Ok(Vec::new());
    }
    let mut counted = Vec::new();
    // Treatments that need a clinic visit (IV, IM, SPRAVATO): telehealth
    // cannot give them, so no search elsewhere or by video is offered;
    // the nearest provider that gives them in person is named instead.
    let clinic_only =
        !request.treatments.is_empty() && request.treatments.iter().all(|t| !t.by_telehealth());
    if clinic_only && let Some(nearest) = nearest_in_person(generation, request, lang)? {
        counted.push(nearest);
    }
    let mut radius_found = false;
    for mut alternative in empty_state_candidates(request, response, lang) {
        let leaves_the_area = alternative.change == Change::Everywhere
            || alternative.change == Change::WiderRadius
            || (request.state.is_some() && alternative.request.state.is_none());
        if clinic_only && leaves_the_area {
            continue;
        }
        if clinic_only {
            // In person only: no suggestion leads to providers by video.
            alternative.request.include_telehealth = false;
        }
        let is_radius = alternative.change == Change::WiderRadius;
        // Past the first wider radius that finds someone, the rest can wait.
        if is_radius && radius_found {
            continue;
        }
        let total = crate::search::count(generation, &alternative.request)?;
        radius_found |= is_radius && total > 0;
        counted.push((alternative, total));
    }
    Ok(counted)
}

/// "Nearest provider of SPRAVATO: Billings, MT, 122 mi", leading to the
/// radius that reaches it, with that search's count.
fn nearest_in_person(
    generation: &Arc<Generation>,
    request: &SearchRequest,
    lang: Lang,
) -> Result<Option<(Alternative, u64)>, SearchError> {
    let Some(hit) = crate::search::nearest(generation, request)? else {
        return Ok(None);
    };
    let Some(distance) = hit.distance_miles else {
        return Ok(None);
    };
    let mut reaching = request.clone();
    reaching.page = 1;
    reaching.include_telehealth = false;
    reaching.radius_miles = distance.ceil().clamp(1.0, 500.0);
    let treatments: Vec<&str> = request
        .treatments
        .iter()
        .map(|t| lang.label("treatment", t.slug()))
        .collect();
    let label = lang.f(
        "empty.nearest",
        &[
            ("treatment", &treatments.join(" / ")),
            (
                "place",
                &format!("{}, {}", hit.provider.city, hit.provider.state),
            ),
            ("distance", &format!("{distance:.0}")),
        ],
    );
    let total = crate::search::count(generation, &reaching)?;
    Ok(Some((
        Alternative {
            label,
            request: reaching,
            change: Change::Nearest,
        },
        total,
    )))
}

/// When `near` names a town without its state and several states have
/// one: each of them (the first is the one searched) with how many
/// providers the same search finds near it. Empty otherwise.
pub fn count_towns_of_the_name(
    generation: &Arc<Generation>,
    request: &SearchRequest,
) -> Result<Vec<(String, u64)>, SearchError> {
    let Some(crate::search::LocationInput::Near(typed)) = &request.location else {
        return Ok(Vec::new());
    };
    let mut counted = Vec::new();
    for label in crate::geo::places::other_towns_of_the_name(typed, 5) {
        let mut near_it = request.clone();
        near_it.location = Some(crate::search::LocationInput::Near(label.clone()));
        let total = crate::search::count(generation, &near_it)?;
        counted.push((label, total));
    }
    Ok(counted)
}

/// A profile field as a label and a value.
pub struct Fact {
    pub label: &'static str,
    pub value: String,
}

/// Pieces of the "last verified" line around the date (a `<time>`).
pub struct VerifiedLine {
    pub before: String,
    /// The date as people write it ("August 19, 2026", "19 de agosto de
    /// 2026"); the `<time>` element keeps the ISO date for machines.
    pub date: Option<String>,
    pub after: String,
}

/// `YYYY-MM-DD` in words, in `lang`; any other text as it is.
pub fn date_in_words(date: &str, lang: Lang) -> String {
    let mut parts = date.splitn(3, '-').map(str::parse::<u32>);
    match (parts.next(), parts.next(), parts.next()) {
        (Some(Ok(year)), Some(Ok(month @ 1..=12)), Some(Ok(day @ 1..=31))) => {
            let month = lang.t(&format!("month.{month}"));
            lang.f(
                "date.long",
                &[
                    ("year", &year.to_string()),
                    ("month", month),
                    ("day", &day.to_string()),
                ],
            )
        }
        _ => date.to_string(),
    }
}

#[derive(Template)]
#[template(path = "profile.html")]
struct ProfilePage<'a> {
    layout: Layout,
    provider: &'a Provider,
    rating: RatingView,
    facts: Vec<Fact>,
    treatments: Vec<&'static str>,
    conditions: Vec<&'static str>,
    /// For a SPRAVATO site: its REMS certification, in words.
    rems: Option<&'static str>,
    paragraphs: Vec<&'a str>,
    phone_href: Option<String>,
    website_href: Option<String>,
    email_href: Option<String>,
    map_href: String,
    address: String,
    last_verified: Option<&'a str>,
    verified_long_ago: bool,
    json_ld: String,
    /// The "report a problem" form (`templates/report_fields.html`).
    report: reports::ReportFormView,
    /// Route to the provider on OpenStreetMap (from wherever the visitor is).
    directions_href: String,
    /// "Accepting new patients · Takes Aetna, Cigna": what decides a call.
    status: String,
    /// The results this profile was opened from, to go back to.
    back_href: Option<String>,
    /// "Details last verified on {date}." around the date.
    verified: VerifiedLine,
}

/// True when `date` (`YYYY-MM-DD`) is more than 12 months before `today`.
/// Dates compare as strings once the year is moved back by one.
pub fn more_than_a_year_before(date: &str, today: &str) -> bool {
    let (Some(year), Some(rest)) = (
        today.get(..4).and_then(|y| y.parse::<u32>().ok()),
        today.get(4..10),
    ) else {
        return false;
    };
    let a_year_ago = format!("{:04}{rest}", year.saturating_sub(1));
    date < a_year_ago.as_str()
}

/// The provider as schema.org JSON-LD, safe inside `<script>`: `<`, `>` and
/// `&` are written as `\u003c` etc., so no value can close the element.
pub fn json_ld(provider: &Provider, url: &str) -> String {
    let kind = if provider.organization.is_none() && !provider.credentials.is_empty() {
        "Physician"
    } else {
        "MedicalClinic"
    };
    let mut value = serde_json::json!({
        "@context": "https://schema.org",
        "@type": kind,
        "name": provider.name,
        "url": url,
        "address": {
            "@type": "PostalAddress",
            "streetAddress": provider.address,
            "addressLocality": provider.city,
            "addressRegion": provider.state,
            "postalCode": provider.zip,
            "addressCountry": "US",
        },
        "geo": {
            "@type": "GeoCoordinates",
            "latitude": provider.latitude,
            "longitude": provider.longitude,
        },
        "telephone": provider.phone,
        "email": provider.email,
        "sameAs": provider.website.as_deref().and_then(web_href),
        "description": provider.description,
        "medicalSpecialty": "https://schema.org/Anesthesia",
    });
    if let (Some(rating), true) = (provider.rating, provider.review_count > 0) {
        value["aggregateRating"] = serde_json::json!({
            "@type": "AggregateRating",
            "ratingValue": rating,
            "reviewCount": provider.review_count,
            "bestRating": 5,
            "worstRating": 0,
        });
    }
    if let Some(object) = value.as_object_mut() {
        object.retain(|_, v| !v.is_null());
    }
    value
        .to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

fn yes_no(value: bool, lang: Lang) -> String {
    lang.t(if value { "profile.yes" } else { "profile.no" })
        .to_string()
}

/// `/providers/{id}`: every field, the map link, JSON-LD and the safety box.
/// `today` is `YYYY-MM-DD`, for the "verified long ago" flag.
/// A provider's profile; `back` is the search it was opened from (already
/// a parsed request, so the link can only be a same-site `/?…` search).
pub fn render_profile(
    context: &PageContext,
    hit: &Hit,
    today: &str,
    back: Option<&SearchRequest>,
) -> Result<String, RenderError> {
    let lang = context.lang;
    let provider = &hit.provider;
    let mut facts = Vec::new();
    let mut fact = |key: &str, value: Option<String>| {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            facts.push(Fact {
                label: lang.t(key),
                value,
            });
        }
    };
    fact(
        "profile.provider_type",
        Some(
            provider
                .provider_type
                .iter()
                .map(|t| lang.label("provider_type", t.slug()))
                .collect::<Vec<_>>()
                .join(", "),
        ),
    );
    fact("profile.organization", provider.organization.clone());
    fact("profile.credentials", Some(provider.credentials.join(", ")));
    fact("profile.price", price_range(provider, lang));
    fact(
        "profile.telehealth",
        Some(yes_no(provider.telehealth, lang)),
    );
    fact(
        "profile.accepting",
        Some(yes_no(provider.accepting_new_patients, lang)),
    );
    // Blank means the provider's own state (docs/csv.md).
    fact(
        "profile.licensed_states",
        Some(if provider.licensed_states.is_empty() {
            provider.state.clone()
        } else {
            provider.licensed_states.join(", ")
        }),
    );
    fact("profile.insurance", Some(provider.insurance.join(", ")));
    fact("profile.languages", Some(provider.languages.join(", ")));
    fact("profile.npi", provider.npi.clone());

    let mut address: Vec<String> = provider.address.iter().cloned().collect();
    address.push(format!(
        "{}, {}{}",
        provider.city,
        provider.state,
        provider
            .zip
            .as_deref()
            .map(|z| format!(" {z}"))
            .unwrap_or_default()
    ));
    let (lat, lon) = (provider.latitude, provider.longitude);
    let last_verified = provider.last_verified.as_deref();
    let (treatments, conditions) = care_labels(provider, lang);
    let back_query = back.map(|request| {
        let query: String =
            form_urlencoded::byte_serialize(request.to_query_string().as_bytes()).collect();
        format!("?back={query}")
    });
    let verified = {
        let mut pieces = lang.t("profile.verified_on").splitn(2, "{date}");
        VerifiedLine {
            before: pieces.next().unwrap_or_default().to_string(),
            date: last_verified.map(|date| date_in_words(date, lang)),
            after: pieces.next().unwrap_or_default().to_string(),
        }
    };
    let page = ProfilePage {
        // The switch keeps the way back, as parsed (never the raw `back`).
        layout: Layout::at(
            format!("{} — ketadir", provider.name),
            context,
            &format!("{}{}", hit.url, back_query.unwrap_or_default()),
        ),
        provider,
        rating: RatingView::new(provider, hit.adjusted_rating, lang),
        facts,
        treatments,
        conditions,
        // SPRAVATO may only be given at certified sites: say what is known.
        rems: provider
            .treatments
            .contains(&crate::provider::Treatment::EsketamineNasal)
            .then(|| match provider.rems_certified {
                Some(true) => lang.t("profile.rems_certified"),
                _ => lang.t("profile.rems_not_confirmed"),
            }),
        paragraphs: provider
            .description
            .as_deref()
            .map(|d| d.lines().map(str::trim).filter(|l| !l.is_empty()).collect())
            .unwrap_or_default(),
        phone_href: provider.phone.as_deref().and_then(tel_href),
        website_href: provider.website.as_deref().and_then(web_href),
        email_href: provider.email.as_ref().map(|e| format!("mailto:{e}")),
        map_href: format!(
            "https://www.openstreetmap.org/?mlat={lat:.5}&mlon={lon:.5}#map=15/{lat:.5}/{lon:.5}"
        ),
        address: address.join(", "),
        last_verified,
        verified_long_ago: last_verified.is_some_and(|d| more_than_a_year_before(d, today)),
        json_ld: json_ld(provider, &hit.url),
        report: reports::ReportFormView::empty(&provider.id, lang),
        directions_href: format!(
            "https://www.openstreetmap.org/directions?route=%3B{lat:.5}%2C{lon:.5}"
        ),
        status: profile_status(provider, lang),
        back_href: back.map(|request| lang.href(&view::search_href(request))),
        verified,
    };
    Ok(page.render()?)
}

/// Whether the provider takes new patients, and which insurance: the line
/// under the Call button.
fn profile_status(provider: &Provider, lang: Lang) -> String {
    let accepting = lang.t(if provider.accepting_new_patients {
        "filter.accepting"
    } else {
        "card.not_accepting"
    });
    let insurance = if provider.insurance.is_empty() {
        lang.t("profile.no_insurance").to_string()
    } else {
        lang.f(
            "profile.takes",
            &[("insurance", &provider.insurance.join(", "))],
        )
    };
    format!("{accepting} · {insurance}")
}

#[derive(Template)]
#[template(path = "how_we_rank.html")]
struct HowWeRankPage {
    layout: Layout,
    /// The paragraphs that carry the directory's figures, filled in.
    start: String,
    formula: String,
    one_review: String,
}

/// `/how-we-rank`, with the current directory-wide mean.
pub fn render_how_we_rank(
    context: &PageContext,
    mean_rating: f64,
    rated_providers: u64,
) -> Result<String, RenderError> {
    let lang = context.lang;
    let mean = format!("{mean_rating:.2}");
    let weight = format!("{:.0}", crate::provider::RATING_PRIOR_WEIGHT);
    let rated = view::thousands(rated_providers);
    // The adjusted rating of one 5-star review, for the worked example.
    let one = format!(
        "{:.2}",
        crate::provider::adjusted_rating(Some(5.0), 1, mean_rating)
    );
    let figures = [
        ("mean", mean.as_str()),
        ("weight", weight.as_str()),
        ("rated", rated.as_str()),
        ("one", one.as_str()),
    ];
    let page = HowWeRankPage {
        layout: Layout::new(Layout::title(lang, "rank.title", &[]), context),
        start: lang.f("rank.start", &figures),
        formula: lang.f("rank.formula", &figures),
        one_review: lang.f("rank.one_review", &figures),
    };
    Ok(page.render()?)
}

/// What an error page says: the problem, the details, and what to try.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorView {
    pub title: String,
    pub message: String,
    pub details: Vec<String>,
    pub suggestions: Vec<Link>,
    /// The search form as the visitor filled it, to correct and resend.
    pub form: Option<SearchForm>,
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    layout: Layout,
    error: &'a ErrorView,
}

/// An error page; `context` is the request's (the front door, which
/// answers requests it could not read, passes the default: English).
pub fn render_error(error: &ErrorView, context: &PageContext) -> Result<String, RenderError> {
    let page = ErrorPage {
        layout: Layout::new(format!("{} — ketadir", error.title), context),
        error,
    };
    Ok(page.render()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_read_as_words_in_each_language() {
        assert_eq!(date_in_words("2026-08-19", Lang::En), "August 19, 2026");
        assert_eq!(date_in_words("2026-08-09", Lang::Es), "9 de agosto de 2026");
        assert_eq!(date_in_words("2026-13-01", Lang::Es), "2026-13-01");
        assert_eq!(date_in_words("soon", Lang::En), "soon");
    }

    #[test]
    fn verified_dates_older_than_a_year_are_flagged() {
        assert!(more_than_a_year_before("2025-11-30", "2026-12-01"));
        assert!(!more_than_a_year_before("2025-12-01", "2026-12-01"));
        assert!(!more_than_a_year_before("2026-06-01", "2026-12-01"));
        assert!(!more_than_a_year_before("2020-01-01", "garbage"));
    }

    #[test]
    fn json_ld_cannot_close_its_script_element() {
        let provider: Provider = serde_json::from_value(serde_json::json!({
            "id": "x", "name": "</script><script>alert(1)</script>", "organization": null,
            "credentials": [], "npi": null, "address": null, "city": "A&B", "state": "CO",
            "zip": null, "latitude": 1.0, "longitude": 2.0, "location_approximate": false,
            "phone": null, "website": "javascript:alert(1)", "email": null, "treatments": [],
            "conditions": [], "insurance": [], "price_min": null, "price_max": null,
            "telehealth": false, "accepting_new_patients": false, "languages": [],
            "rating": null, "review_count": 0, "description": null, "last_verified": null
        }))
        .expect("provider");
        let ld = json_ld(&provider, "/providers/x");
        assert!(
            !ld.contains('<') && !ld.contains('>') && !ld.contains('&'),
            "{ld}"
        );
        assert!(!ld.contains("javascript"), "{ld}");
        let parsed: serde_json::Value = serde_json::from_str(&ld).expect("still JSON");
        assert_eq!(parsed["name"], "</script><script>alert(1)</script>");
        assert_eq!(parsed["@type"], "MedicalClinic");
    }
}
