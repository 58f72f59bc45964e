//! View models: search results and providers turned into the strings and
//! links the templates print, in the page's language ([`Lang`]). Everything
//! here is plain data; the templates escape it, so no function builds
//! markup. Every link to a search is the request changed and written back
//! ([`search_href`]), then put in the page's language ([`Lang::href`]).

use indexmap::IndexMap;

use super::i18n::Lang;
use crate::provider::{Condition, Provider, Vocabulary, list_key};
use crate::search::{Hit, LocationInput, Reach, SearchRequest, SearchResponse, SortOrder};

/// A link: what it says and where it goes.
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    pub label: String,
    pub href: String,
}

/// `/?<query>` for a request (page 1 unless the request says otherwise).
pub fn search_href(request: &SearchRequest) -> String {
    let query = request.to_query_string();
    if query.is_empty() {
        "/?sort=rating".into()
    } else {
        format!("/?{query}")
    }
}

/// 1234567 → "1,234,567".
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// 25.0 → "25", 12.5 → "12.5".
pub fn miles(value: f64) -> String {
    if value.fract() == 0.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    }
}

/// A provider's rating as the pages show it.
#[derive(Debug, Clone, PartialEq)]
pub struct RatingView {
    /// Five stars, filled to the rounded raw rating ("★★★★☆"); decorative.
    pub stars: String,
    /// "4.8 · 1 review" (after the stars), or "No reviews yet".
    pub summary: String,
    /// Read by screen readers instead of the stars.
    pub spoken: String,
    /// The adjusted rating the directory ranks by, in words: "ranked as
    /// 4.31", or for the unrated "ranked at the directory average, 4.39".
    pub ranking: String,
    pub rated: bool,
}

impl RatingView {
    pub fn new(provider: &Provider, adjusted_rating: f64, lang: Lang) -> RatingView {
        let reviews = lang.count("count.reviews", u64::from(provider.review_count));
        let adjusted = format!("{adjusted_rating:.2}");
        match provider.rating {
            Some(rating) if provider.review_count > 0 => {
                let filled = (rating.round() as usize).min(5);
                let rating = format!("{rating:.1}");
                let args = [("rating", rating.as_str()), ("reviews", reviews.as_str())];
                RatingView {
                    stars: "★".repeat(filled) + &"☆".repeat(5 - filled),
                    summary: format!("{rating} · {reviews}"),
                    spoken: lang.f("rating.spoken", &args),
                    ranking: lang.f("rating.ranked_as", &[("adjusted", &adjusted)]),
                    rated: true,
                }
            }
            _ => RatingView {
                stars: "☆☆☆☆☆".into(),
                summary: lang.t("rating.none").into(),
                spoken: lang.t("rating.none").into(),
                ranking: lang.f("rating.ranked_at_average", &[("adjusted", &adjusted)]),
                rated: false,
            },
        }
    }
}

/// "$400–$650 per session", "from $400 per session", or `None`.
pub fn price_range(provider: &Provider, lang: Lang) -> Option<String> {
    let dollars = |value: u32| thousands(value.into());
    match (provider.price_min, provider.price_max) {
        (Some(min), Some(max)) if min == max => {
            Some(lang.f("price.exactly", &[("price", &dollars(min))]))
        }
        (Some(min), Some(max)) => Some(lang.f(
            "price.range",
            &[("min", &dollars(min)), ("max", &dollars(max))],
        )),
        (Some(min), None) => Some(lang.f("price.from", &[("price", &dollars(min))])),
        (None, Some(max)) => Some(lang.f("price.up_to", &[("price", &dollars(max))])),
        (None, None) => None,
    }
}

/// A `tel:` URL keeps only digits and a leading `+`: whatever the CSV held,
/// the link can dial and do nothing else.
pub fn tel_href(phone: &str) -> Option<String> {
    let mut number = String::new();
    for (i, c) in phone.trim().chars().enumerate() {
        match c {
            '+' if i == 0 => number.push('+'),
            '0'..='9' => number.push(c),
            _ => {}
        }
    }
    (number.trim_start_matches('+').len() >= 3).then(|| format!("tel:{number}"))
}

/// A website link only for `http(s)://` URLs (ingest already refuses
/// others; this keeps a `javascript:` URL inert should one ever get in).
pub fn web_href(url: &str) -> Option<String> {
    let lower = url.trim().to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://")).then(|| url.trim().to_string())
}

/// One result card.
#[derive(Debug, Clone, PartialEq)]
pub struct Card {
    pub name: String,
    pub href: String,
    pub organization: Option<String>,
    pub credentials: String,
    pub rating: RatingView,
    pub distance: Option<String>,
    pub place: String,
    /// Vocabulary labels in the page's language.
    pub treatments: Vec<&'static str>,
    pub conditions: Vec<&'static str>,
    pub price: Option<String>,
    pub telehealth: bool,
    pub accepting: bool,
    pub phone: Option<String>,
    pub phone_href: Option<String>,
    pub excerpt: Option<String>,
    /// Found through telehealth reach only: says so plainly ("Telehealth ·
    /// licensed in MT · 340 mi away — visits by video"), instead of the
    /// distance alone, which would suggest a visit.
    pub reached_by_video: Option<String>,
}

/// Longest description excerpt on a card, in characters.
const EXCERPT_CHARS: usize = 160;

fn excerpt(text: &str) -> String {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.chars().count() <= EXCERPT_CHARS {
        return text;
    }
    let cut: String = text.chars().take(EXCERPT_CHARS).collect();
    let cut = cut.rsplit_once(' ').map_or(cut.as_str(), |(head, _)| head);
    format!("{}…", cut.trim_end_matches([',', '.', ';', ':']))
}

/// The labels of a provider's treatments and conditions, in `lang`.
pub fn care_labels(provider: &Provider, lang: Lang) -> (Vec<&'static str>, Vec<&'static str>) {
    (
        provider
            .treatments
            .iter()
            .map(|t| lang.label("treatment", t.slug()))
            .collect(),
        provider
            .conditions
            .iter()
            .map(|c| lang.label("condition", c.slug()))
            .collect(),
    )
}

impl Card {
    /// The card of `hit` in the results of `request`: its link carries the
    /// search, so the profile can lead back to it.
    /// `searcher_state` is the state a telehealth-reach search was made
    /// from (the place's).
    pub fn new(
        hit: &Hit,
        request: &SearchRequest,
        searcher_state: Option<&str>,
        lang: Lang,
    ) -> Card {
        let p = &hit.provider;
        let back: String =
            form_urlencoded::byte_serialize(request.to_query_string().as_bytes()).collect();
        let (treatments, conditions) = care_labels(p, lang);
        Card {
            name: p.name.clone(),
            href: lang.href(&format!("{}?back={back}", hit.url)),
            organization: p.organization.clone(),
            credentials: p.credentials.join(", "),
            rating: RatingView::new(p, hit.adjusted_rating, lang),
            distance: hit.distance_miles.map(|d| format!("{d:.1} mi")),
            reached_by_video: (hit.reach == Some(Reach::Telehealth))
                .then(|| reached_by_video(hit, searcher_state, lang)),
            place: format!("{}, {}", p.city, p.state),
            treatments,
            conditions,
            price: price_range(p, lang),
            telehealth: p.telehealth,
            accepting: p.accepting_new_patients,
            phone: p.phone.clone(),
            phone_href: p.phone.as_deref().and_then(tel_href),
            excerpt: p.description.as_deref().map(excerpt),
        }
    }
}

/// The line of a card found through telehealth reach.
fn reached_by_video(hit: &Hit, searcher_state: Option<&str>, lang: Lang) -> String {
    let state = searcher_state.unwrap_or(&hit.provider.state);
    match hit.distance_miles {
        Some(distance) => lang.f(
            "card.reached_by_video",
            &[("state", state), ("distance", &format!("{distance:.0}"))],
        ),
        None => lang.f("card.reached_by_video_state", &[("state", state)]),
    }
}

/// A facet value: a link that adds (or, when active, removes) the filter.
#[derive(Debug, Clone, PartialEq)]
pub struct FacetLink {
    pub label: String,
    pub count: String,
    pub href: String,
    pub active: bool,
}

impl FacetLink {
    /// A facet value no match has: shown, but not as a link to an empty page.
    pub fn leads_nowhere(&self) -> bool {
        self.count == "0" && !self.active
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct FacetGroup {
    pub title: String,
    pub links: Vec<FacetLink>,
}

/// One page number (or a gap) of the pagination.
#[derive(Debug, Clone, PartialEq)]
pub struct PageLink {
    pub number: u32,
    pub href: String,
    pub current: bool,
    /// True for the "…" before this number.
    pub gap_before: bool,
}

/// Everything the results part of the search page shows.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultsView {
    pub heading: String,
    /// The order of the results, in words.
    pub subheading: String,
    pub cards: Vec<Card>,
    pub facets: Vec<FacetGroup>,
    /// The orders this search can be sorted by, the current one active.
    pub sorts: Vec<FacetLink>,
    /// Active filters, each a link that removes it.
    pub active_filters: Vec<Link>,
    /// What to change when nothing matched: only changes that find
    /// someone, with their counts.
    pub suggestions: Vec<Link>,
    /// Which filter emptied the list, in a sentence.
    pub emptied_by: Option<String>,
    /// For a page number past the last page: the way back to the last one.
    pub back_to_last_page: Option<Link>,
    pub previous: Option<String>,
    pub next: Option<String>,
    pub pages: Vec<PageLink>,
    pub page_summary: String,
    /// The folded search form's one line: what and where.
    pub fold_summary: String,
    /// "Searching for: depression" when `q` lost words that say nothing.
    pub searching_for: Option<String>,
    /// The words asked for providers "near me" and the search has no place.
    pub near_me: bool,
    /// When the results match most of the words, not all: what to say.
    pub relaxed: Option<RelaxedNotice>,
    /// A town named without its state that several states have: the
    /// question, and the same search near each of them (with its count).
    pub which_town: Option<(String, Vec<Link>)>,
    /// The search is about depression, PTSD or suicidal thoughts: the 988
    /// Lifeline shows as a box before the results.
    pub crisis: bool,
}

/// Conditions whose searches show the crisis box (by filter, or by a word
/// of `q` that matches their labels or synonyms).
pub const CRISIS_CONDITIONS: [Condition; 5] = [
    Condition::Depression,
    Condition::TreatmentResistantDepression,
    Condition::BipolarDepression,
    Condition::Ptsd,
    Condition::SuicidalIdeation,
];

fn about_crisis(request: &SearchRequest, response: &SearchResponse) -> bool {
    request
        .conditions
        .iter()
        .any(|c| CRISIS_CONDITIONS.contains(c))
        || response
            .query
            .as_ref()
            .is_some_and(|q| crate::search::words::mention_any(&q.words, &CRISIS_CONDITIONS))
}

/// The towns of an ambiguous name as links to the same search near each,
/// with how many providers each finds ("Springfield, MA — 3 providers").
fn which_town(
    request: &SearchRequest,
    towns: &[(String, u64)],
    lang: Lang,
) -> Option<(String, Vec<Link>)> {
    let Some(LocationInput::Near(typed)) = &request.location else {
        return None;
    };
    if towns.len() < 2 {
        return None;
    }
    let links = towns
        .iter()
        .map(|(label, total)| Link {
            label: format!("{label} — {}", lang.count("count.providers", *total)),
            href: changed(request, lang, |r| {
                r.location = Some(LocationInput::Near(label.clone()))
            }),
        })
        .collect();
    Some((
        lang.f("results.which_town", &[("place", typed.trim())]),
        links,
    ))
}

/// What the geography calls a whole state ("Colorado (whole state)"), in
/// the page's language.
const WHOLE_STATE_SUFFIX: &str = " (whole state)";

/// A place's label in `lang`: only the "(whole state)" the geography adds
/// is English; town names and state codes are the same in both.
fn place_label(label: &str, lang: Lang) -> String {
    match label.strip_suffix(WHOLE_STATE_SUFFIX) {
        Some(state) => lang.f("place.whole_state", &[("state", state)]),
        None => label.to_string(),
    }
}

/// "“knee pain” near Denver, CO" — the search in one line, for the folded
/// form on results pages.
fn fold_summary(request: &SearchRequest, response: &SearchResponse, lang: Lang) -> String {
    let what = request.text.as_ref().map_or_else(
        || lang.t("fold.all_providers").to_string(),
        |text| format!("“{text}”"),
    );
    match &response.location {
        Some(location) => {
            let key = if location.radius_miles.is_some() {
                "fold.near"
            } else {
                "fold.in"
            };
            let place = place_label(&location.label, lang);
            lang.f(key, &[("what", &what), ("place", &place)])
        }
        None => what,
    }
}

/// The notice over results that match most of the words, not all.
#[derive(Debug, Clone, PartialEq)]
pub struct RelaxedNotice {
    pub message: String,
    /// The same search with every word required (`all_words=true`).
    pub strict: Link,
}

/// What the page says about the words of `q`: the words searched for when
/// some were dropped, whether they asked "near me" without a place, and
/// the notice of a relaxed answer.
fn words_notices(
    request: &SearchRequest,
    response: &SearchResponse,
    lang: Lang,
) -> (Option<String>, bool, Option<RelaxedNotice>) {
    let (Some(typed), Some(query)) = (&request.text, &response.query) else {
        return (None, false, None);
    };
    let typed_words = crate::search::text::words(typed);
    let searching_for = (typed_words != query.words).then(|| {
        if query.words.is_empty() {
            lang.t("results.searching_for_everyone").to_string()
        } else {
            lang.f(
                "results.searching_for",
                &[("words", &query.words.join(" "))],
            )
        }
    });
    let near_me = crate::search::words::asks_near_me(typed) && response.location.is_none();
    let relaxed = response.relaxed.map(|matched| RelaxedNotice {
        message: lang.f(
            "results.relaxed",
            &[
                ("matched", &matched.to_string()),
                ("total", &query.words.len().to_string()),
                ("words", &query.words.join(", ")),
            ],
        ),
        strict: Link {
            label: lang.t("results.relaxed_strict").into(),
            href: changed(request, lang, |r| r.all_words = true),
        },
    });
    (searching_for, near_me, relaxed)
}

/// Radius steps offered by the form and by "search a wider area".
pub const RADIUS_STEPS: [u32; 7] = [5, 10, 25, 50, 100, 250, 500];

/// The same search on another page.
fn page_href(request: &SearchRequest, lang: Lang, page: u32) -> String {
    lang.href(&search_href(&SearchRequest {
        page,
        ..request.clone()
    }))
}

fn first_page(request: &SearchRequest) -> SearchRequest {
    SearchRequest {
        page: 1,
        ..request.clone()
    }
}

/// The same search with one change, on its first page.
fn changed(request: &SearchRequest, lang: Lang, change: impl FnOnce(&mut SearchRequest)) -> String {
    let mut next = first_page(request);
    change(&mut next);
    // A sort that needs what the change removed falls back to the default.
    if (next.sort == SortOrder::Distance && next.location.is_none())
        || (next.sort == SortOrder::Relevance && next.text.is_none())
    {
        next.sort = SortOrder::Rating;
    }
    lang.href(&search_href(&next))
}

fn toggle<T: PartialEq + Copy>(values: &mut Vec<T>, value: T) {
    if let Some(at) = values.iter().position(|v| *v == value) {
        values.remove(at);
    } else {
        values.push(value);
    }
}

/// The insurer's display spelling from the facets, else the stored key.
fn insurer_label(response: &SearchResponse, key: &str) -> String {
    response
        .facets
        .iter()
        .flat_map(|facets| facets.insurance.keys())
        .find(|name| list_key(name) == key)
        .cloned()
        .unwrap_or_else(|| key.to_string())
}

impl ResultsView {
    /// The view of a search; `alternatives` are the counted changes to an
    /// empty one ([`empty_state_candidates`]), empty otherwise.
    pub fn new(
        request: &SearchRequest,
        response: &SearchResponse,
        alternatives: &[(Alternative, u64)],
        towns: &[(String, u64)],
        lang: Lang,
    ) -> ResultsView {
        let heading = heading(request, response, lang);
        let subheading = lang
            .t(match request.sort {
                SortOrder::Rating => "results.order.rating",
                SortOrder::Distance => "results.order.distance",
                SortOrder::Relevance => "results.order.relevance",
                SortOrder::Reviews => "results.order.reviews",
                SortOrder::Price => "results.order.price",
            })
            .to_string();

        let active_filters = active_filters(request, response, lang);
        let suggestions = empty_state_suggestions(alternatives, lang);
        let emptied_by = emptied_by(alternatives, lang);
        let last_page = last_page(response);
        let back_to_last_page = (response.results.is_empty() && response.total > 0).then(|| Link {
            label: lang.f(
                "results.last_page",
                &[("page", &thousands(last_page.into()))],
            ),
            href: page_href(request, lang, last_page.max(1)),
        });
        let previous = (request.page > 1 && request.page <= last_page + 1)
            .then(|| page_href(request, lang, request.page - 1));
        let next = (request.page < last_page).then(|| page_href(request, lang, request.page + 1));
        let first_shown = request.offset() as u64 + 1;
        let last_shown = request.offset() as u64 + response.results.len() as u64;
        let page_summary = if response.results.is_empty() {
            String::new()
        } else {
            lang.f(
                "results.showing",
                &[
                    ("first", &thousands(first_shown)),
                    ("last", &thousands(last_shown)),
                    ("total", &thousands(response.total)),
                ],
            )
        };
        let (searching_for, near_me, relaxed) = words_notices(request, response, lang);
        let fold_summary = fold_summary(request, response, lang);
        let searcher_state = response.location.as_ref().and_then(|l| l.in_state);
        ResultsView {
            heading,
            subheading,
            cards: response
                .results
                .iter()
                .map(|hit| Card::new(hit, request, searcher_state, lang))
                .collect(),
            facets: facet_groups(request, response, lang),
            sorts: sort_links(request, lang),
            active_filters,
            suggestions,
            emptied_by,
            back_to_last_page,
            previous,
            next,
            pages: page_links(request, lang, last_page),
            page_summary,
            fold_summary,
            searching_for,
            near_me,
            relaxed,
            crisis: about_crisis(request, response),
            which_town: which_town(request, towns, lang),
        }
    }
}

/// "64 providers matching “knee pain” within 25 miles of Chicago, IL": its
/// parts, each a message of its own, joined by spaces.
/// The name of the state a search's place lies in ("Montana").
fn searcher_state_name(response: &SearchResponse) -> Option<&'static str> {
    crate::provider::state_name(response.location.as_ref()?.in_state?)
}

fn heading(request: &SearchRequest, response: &SearchResponse, lang: Lang) -> String {
    // With telehealth reach the place's count is the in-person one, and
    // those reached by video are counted apart: they are not "within" it.
    let reach = response
        .facets
        .as_ref()
        .and_then(|f| f.reach)
        .filter(|reach| reach.telehealth > 0);
    let in_area = reach.map_or(response.total, |reach| reach.in_person);
    let mut parts = vec![lang.count("count.providers", in_area)];
    if let Some(text) = &request.text {
        parts.push(lang.count_with("results.matching", response.total, &[("text", text)]));
    }
    if let Some(location) = &response.location {
        // Coordinates come from "Use my location" (or a partner's
        // link): the visitor's own position, not numbers to read.
        let by_coordinates = match &request.location {
            Some(LocationInput::Point(_)) => true,
            Some(LocationInput::Near(text)) => crate::geo::parse_point(text).is_some(),
            None => false,
        };
        let place = if by_coordinates {
            lang.t("results.your_location").to_string()
        } else {
            place_label(&location.label, lang)
        };
        parts.push(match location.radius_miles {
            Some(radius) => lang.f(
                "results.within",
                &[("miles", &miles(radius)), ("place", &place)],
            ),
            None => lang.f("results.in", &[("place", &place)]),
        });
    }
    if let Some(reach) = reach {
        let state = searcher_state_name(response).unwrap_or_default();
        parts.push(lang.count_with(
            "results.and_by_video",
            reach.telehealth,
            &[("state", state)],
        ));
    }
    if request.location.is_none() && response.location.is_some() {
        parts.push(lang.t("results.from_words").to_string());
    }
    parts.join(" ")
}

/// Links to the same search in each order it allows: distance needs a
/// place, relevance needs words.
fn sort_links(request: &SearchRequest, lang: Lang) -> Vec<FacetLink> {
    SortOrder::ALL
        .iter()
        .filter(|sort| match sort {
            SortOrder::Distance => request.location.is_some(),
            SortOrder::Relevance => request.text.is_some(),
            _ => true,
        })
        .map(|sort| FacetLink {
            label: sort_label(*sort, lang).to_string(),
            count: String::new(),
            href: changed(request, lang, |r| r.sort = *sort),
            active: request.sort == *sort,
        })
        .collect()
}

/// How the pages name a sort order.
pub fn sort_label(sort: SortOrder, lang: Lang) -> &'static str {
    lang.t(match sort {
        SortOrder::Rating => "sort.rating",
        SortOrder::Distance => "sort.distance",
        SortOrder::Relevance => "sort.relevance",
        SortOrder::Reviews => "sort.reviews",
        SortOrder::Price => "sort.price",
    })
}

fn last_page(response: &SearchResponse) -> u32 {
    let pages = response.total.div_ceil(u64::from(response.per_page.max(1)));
    pages.min(u64::from(crate::search::MAX_PAGE)) as u32
}

/// Page numbers around the current one, plus the first and the last.
fn page_links(request: &SearchRequest, lang: Lang, last_page: u32) -> Vec<PageLink> {
    if last_page <= 1 {
        return Vec::new();
    }
    let mut numbers: Vec<u32> = vec![1, last_page];
    let current = request.page.min(last_page);
    numbers.extend(current.saturating_sub(2).max(1)..=(current + 2).min(last_page));
    numbers.sort_unstable();
    numbers.dedup();
    let mut previous = 0;
    numbers
        .into_iter()
        .map(|number| {
            let link = PageLink {
                number,
                href: page_href(request, lang, number),
                current: number == request.page,
                gap_before: number > previous + 1,
            };
            previous = number;
            link
        })
        .collect()
}

/// A vocabulary's facet: each value with its count, linking to the search
/// with it toggled in the request's list of them (`active`, which
/// `chosen` reaches in a copy of the request).
fn vocabulary_links<V: Vocabulary>(
    request: &SearchRequest,
    lang: Lang,
    counts: &IndexMap<&'static str, u64>,
    active: &[V],
    chosen: fn(&mut SearchRequest) -> &mut Vec<V>,
) -> Vec<FacetLink> {
    V::ALL
        .iter()
        .map(|value| FacetLink {
            label: lang.label(V::KEY, value.slug()).to_string(),
            count: thousands(counts.get(value.slug()).copied().unwrap_or(0)),
            href: changed(request, lang, |r| toggle(chosen(r), *value)),
            active: active.contains(value),
        })
        .collect()
}

fn facet_groups(request: &SearchRequest, response: &SearchResponse, lang: Lang) -> Vec<FacetGroup> {
    // Pages always ask for facets; an answer without them shows none.
    let Some(facets) = &response.facets else {
        return Vec::new();
    };
    let treatments = vocabulary_links(
        request,
        lang,
        &facets.treatments,
        &request.treatments,
        |r| &mut r.treatments,
    );
    let conditions = vocabulary_links(
        request,
        lang,
        &facets.conditions,
        &request.conditions,
        |r| &mut r.conditions,
    );
    let provider_types = vocabulary_links(
        request,
        lang,
        &facets.provider_type,
        &request.provider_types,
        |r| &mut r.provider_types,
    );
    let insurance = facets
        .insurance
        .iter()
        .map(|(name, count)| {
            let key = list_key(name);
            let active = request.insurance.contains(&key);
            FacetLink {
                label: name.clone(),
                count: thousands(*count),
                href: changed(request, lang, |r| {
                    if active {
                        r.insurance.retain(|i| *i != key);
                    } else {
                        r.insurance.push(key.clone());
                    }
                }),
                active,
            }
        })
        .collect();
    let options = vec![
        FacetLink {
            label: lang.t("filter.telehealth").into(),
            count: thousands(facets.telehealth),
            href: changed(request, lang, |r| r.telehealth = !r.telehealth),
            active: request.telehealth,
        },
        FacetLink {
            label: lang.t("filter.accepting").into(),
            count: thousands(facets.accepting_new_patients),
            href: changed(request, lang, |r| r.accepting = !r.accepting),
            active: request.accepting,
        },
    ];
    [
        ("facets.options", options),
        ("facets.treatments", treatments),
        ("facets.conditions", conditions),
        ("facets.provider_types", provider_types),
        ("facets.insurance", insurance),
    ]
    .into_iter()
    .map(|(title, links)| FacetGroup {
        title: lang.t(title).to_string(),
        links,
    })
    .collect()
}

/// Each active filter as a link to the same search without it.
fn active_filters(request: &SearchRequest, response: &SearchResponse, lang: Lang) -> Vec<Link> {
    filter_removals(request, response, lang)
        .into_iter()
        .map(|(label, next)| Link {
            label,
            href: lang.href(&search_href(&next)),
        })
        .collect()
}

/// Each active filter, named for a person, and the search without it (on
/// its first page).
fn filter_removals(
    request: &SearchRequest,
    response: &SearchResponse,
    lang: Lang,
) -> Vec<(String, SearchRequest)> {
    let mut removals = Vec::new();
    let mut add = |label: String, change: &dyn Fn(&mut SearchRequest)| {
        let mut next = first_page(request);
        change(&mut next);
        removals.push((label, next));
    };
    if let Some(text) = &request.text {
        add(format!("“{text}”"), &|r| r.text = None);
    }
    for t in &request.treatments {
        add(lang.label("treatment", t.slug()).into(), &|r| {
            r.treatments.retain(|x| x != t)
        });
    }
    for c in &request.conditions {
        add(lang.label("condition", c.slug()).into(), &|r| {
            r.conditions.retain(|x| x != c)
        });
    }
    for t in &request.provider_types {
        add(lang.label("provider_type", t.slug()).into(), &|r| {
            r.provider_types.retain(|x| x != t)
        });
    }
    if request.include_telehealth {
        let label = match searcher_state_name(response) {
            Some(state) => lang.f("filter.include_telehealth_in", &[("state", state)]),
            None => lang.t("filter.include_telehealth").into(),
        };
        add(label, &|r| r.include_telehealth = false);
    }
    for i in &request.insurance {
        add(insurer_label(response, i), &|r| {
            r.insurance.retain(|x| x != i)
        });
    }
    for l in &request.languages {
        add(lang.f("filter.speaks", &[("language", l)]), &|r| {
            r.languages.retain(|x| x != l)
        });
    }
    if let Some(state) = request.state {
        add(lang.f("filter.state", &[("state", state)]), &|r| {
            r.state = None
        });
    }
    if request.telehealth {
        add(lang.t("filter.telehealth").into(), &|r| {
            r.telehealth = false
        });
    }
    if request.accepting {
        add(lang.t("filter.accepting").into(), &|r| r.accepting = false);
    }
    if let Some(rating) = request.min_rating {
        add(
            lang.f("filter.min_rating", &[("rating", &rating.to_string())]),
            &|r| r.min_rating = None,
        );
    }
    if let Some(price) = request.max_price {
        add(
            lang.f("filter.max_price", &[("price", &price.to_string())]),
            &|r| r.max_price = None,
        );
    }
    if let Some(days) = request.verified_within_days {
        add(
            lang.f("filter.verified_within", &[("days", &days.to_string())]),
            &|r| r.verified_within_days = None,
        );
    }
    removals
}

/// One change to an empty search that someone could try: what it is, the
/// search it leads to, and (once counted) how many providers that finds.
#[derive(Debug, Clone, PartialEq)]
pub struct Alternative {
    pub label: String,
    pub request: SearchRequest,
    pub change: Change,
}

/// What an [`Alternative`] changes.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// A wider radius step (only the smallest that finds someone is offered).
    WiderRadius,
    /// No place at all.
    Everywhere,
    /// One filter of the search removed (its label).
    Removes(String),
    /// The radius that reaches the nearest provider offering the
    /// requested treatments in person (they need a clinic visit).
    Nearest,
}

/// What to try when nothing matched, before counting: every wider radius
/// step (the smallest that finds someone is kept), no place at all, and
/// each filter removed. [`crate::pages::count_alternatives`] keeps those
/// that lead to results.
pub fn empty_state_candidates(
    request: &SearchRequest,
    response: &SearchResponse,
    lang: Lang,
) -> Vec<Alternative> {
    let mut candidates = Vec::new();
    if request.location.is_some()
        && response
            .location
            .as_ref()
            .is_some_and(|l| l.radius_miles.is_some())
    {
        for wider in RADIUS_STEPS
            .iter()
            .map(|step| f64::from(*step))
            .filter(|step| *step > request.radius_miles)
        {
            let mut next = first_page(request);
            next.radius_miles = wider;
            candidates.push(Alternative {
                label: lang.f("empty.within", &[("miles", &miles(wider))]),
                request: next,
                change: Change::WiderRadius,
            });
        }
    }
    if request.location.is_some() {
        let mut next = first_page(request);
        next.location = None;
        candidates.push(Alternative {
            label: lang.t("empty.everywhere").into(),
            request: next,
            change: Change::Everywhere,
        });
    }
    candidates.extend(
        filter_removals(request, response, lang)
            .into_iter()
            .map(|(label, next)| Alternative {
                label: lang.f("empty.remove", &[("filter", &label)]),
                request: next,
                change: Change::Removes(label),
            }),
    );
    candidates
}

/// Counted alternatives as links ("Within 100 miles — 3 providers"): only
/// those that find someone, and of the wider radii only the smallest.
fn empty_state_suggestions(counted: &[(Alternative, u64)], lang: Lang) -> Vec<Link> {
    let mut radius_kept = false;
    counted
        .iter()
        .filter(|(_, total)| *total > 0)
        .filter(|(alternative, _)| {
            let is_radius = alternative.change == Change::WiderRadius;
            let keep = !(is_radius && radius_kept);
            radius_kept |= is_radius;
            keep
        })
        .map(|(alternative, total)| Link {
            label: format!(
                "{} — {}",
                alternative.label,
                lang.count("count.providers", *total)
            ),
            href: lang.href(&search_href(&alternative.request)),
        })
        .collect()
}

/// Which filter emptied the list, when removing one alone finds someone.
fn emptied_by(counted: &[(Alternative, u64)], lang: Lang) -> Option<String> {
    counted
        .iter()
        .find_map(|(alternative, total)| match &alternative.change {
            Change::Removes(label) if *total > 0 => Some(lang.count_with(
                "empty.emptied_by",
                *total,
                &[
                    ("filter", label),
                    ("providers", &lang.count("count.providers", *total)),
                ],
            )),
            _ => None,
        })
}

/// The catalogue key of a unit of the parameter table ("US dollars" →
/// `unit.us_dollars`), for error pages that say what a value must be.
pub fn unit_key(unit: &str) -> String {
    format!("unit.{}", unit.to_ascii_lowercase().replace(' ', "_"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_like_prose() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(Lang::En.count("count.reviews", 1), "1 review");
        assert_eq!(Lang::En.count("count.providers", 2000), "2,000 providers");
        assert_eq!(miles(25.0), "25");
        assert_eq!(miles(12.5), "12.5");
    }

    #[test]
    fn phone_links_dial_digits_only() {
        assert_eq!(
            tel_href("(303) 555-0100").as_deref(),
            Some("tel:3035550100")
        );
        assert_eq!(
            tel_href("+1 303 555 0100").as_deref(),
            Some("tel:+13035550100")
        );
        assert_eq!(
            tel_href("javascript:alert(1)//303").as_deref(),
            Some("tel:1303")
        );
        assert_eq!(tel_href("call us"), None);
    }

    #[test]
    fn only_http_websites_become_links() {
        assert_eq!(
            web_href("https://example.org/a").as_deref(),
            Some("https://example.org/a")
        );
        assert_eq!(
            web_href("HTTP://example.org").as_deref(),
            Some("HTTP://example.org")
        );
        assert_eq!(web_href("javascript:alert(1)"), None);
        assert_eq!(web_href(" data:text/html,x"), None);
    }

    #[test]
    fn excerpts_cut_at_a_word() {
        assert_eq!(excerpt("Short  text."), "Short text.");
        let long = "word ".repeat(100);
        let cut = excerpt(&long);
        assert!(cut.ends_with("word…"), "{cut}");
        assert!(cut.chars().count() <= EXCERPT_CHARS + 1);
    }
}
