//! View models: search results and providers turned into the strings and
//! links the templates print. Everything here is plain data; the templates
//! escape it, so no function builds markup.

use crate::provider::{Condition, Provider, Treatment, list_key};
use crate::search::{Hit, LocationInput, SearchRequest, SearchResponse, SortOrder};

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

/// "1 provider", "2,000 providers".
pub fn count_noun(n: u64, singular: &str, plural: &str) -> String {
    format!(
        "{} {}",
        thousands(n),
        if n == 1 { singular } else { plural }
    )
}

/// 25.0 → "25", 12.5 → "12.5".
fn miles(value: f64) -> String {
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
    pub fn new(provider: &Provider, adjusted_rating: f64) -> RatingView {
        let reviews = count_noun(u64::from(provider.review_count), "review", "reviews");
        match provider.rating {
            Some(rating) if provider.review_count > 0 => {
                let filled = (rating.round() as usize).min(5);
                RatingView {
                    stars: "★".repeat(filled) + &"☆".repeat(5 - filled),
                    summary: format!("{rating:.1} · {reviews}"),
                    spoken: format!("Rated {rating:.1} out of 5 from {reviews}"),
                    ranking: format!("ranked as {adjusted_rating:.2}"),
                    rated: true,
                }
            }
            _ => RatingView {
                stars: "☆☆☆☆☆".into(),
                summary: "No reviews yet".into(),
                spoken: "No reviews yet".into(),
                ranking: format!("ranked at the directory average, {adjusted_rating:.2}"),
                rated: false,
            },
        }
    }
}

/// "$400–$650 per session", "from $400 per session", or `None`.
pub fn price_range(provider: &Provider) -> Option<String> {
    match (provider.price_min, provider.price_max) {
        (Some(min), Some(max)) if min == max => {
            Some(format!("${} per session", thousands(min.into())))
        }
        (Some(min), Some(max)) => Some(format!(
            "${}–${} per session",
            thousands(min.into()),
            thousands(max.into())
        )),
        (Some(min), None) => Some(format!("from ${} per session", thousands(min.into()))),
        (None, Some(max)) => Some(format!("up to ${} per session", thousands(max.into()))),
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
    pub treatments: Vec<&'static str>,
    pub conditions: Vec<&'static str>,
    pub price: Option<String>,
    pub telehealth: bool,
    pub accepting: bool,
    pub phone: Option<String>,
    pub phone_href: Option<String>,
    pub excerpt: Option<String>,
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

impl Card {
    /// The card of `hit` in the results of `request`: its link carries the
    /// search, so the profile can lead back to it.
    pub fn new(hit: &Hit, request: &SearchRequest) -> Card {
        let p = &hit.provider;
        let back: String =
            form_urlencoded::byte_serialize(request.to_query_string().as_bytes()).collect();
        Card {
            name: p.name.clone(),
            href: format!("{}?back={back}", hit.url),
            organization: p.organization.clone(),
            credentials: p.credentials.join(", "),
            rating: RatingView::new(p, hit.adjusted_rating),
            distance: hit.distance_miles.map(|d| format!("{d:.1} mi")),
            place: format!("{}, {}", p.city, p.state),
            treatments: p.treatments.iter().map(|t| t.label()).collect(),
            conditions: p.conditions.iter().map(|c| c.label()).collect(),
            price: price_range(p),
            telehealth: p.telehealth,
            accepting: p.accepting_new_patients,
            phone: p.phone.clone(),
            phone_href: p.phone.as_deref().and_then(tel_href),
            excerpt: p.description.as_deref().map(excerpt),
        }
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
    pub title: &'static str,
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
    pub subheading: &'static str,
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
fn which_town(request: &SearchRequest, towns: &[(String, u64)]) -> Option<(String, Vec<Link>)> {
    let Some(LocationInput::Near(typed)) = &request.location else {
        return None;
    };
    if towns.len() < 2 {
        return None;
    }
    let links = towns
        .iter()
        .map(|(label, total)| Link {
            label: format!("{label} — {}", count_noun(*total, "provider", "providers")),
            href: changed(request, |r| {
                r.location = Some(LocationInput::Near(label.clone()))
            }),
        })
        .collect();
    Some((format!("Which {}?", typed.trim()), links))
}

/// "“knee pain” near Denver, CO" — the search in one line, for the folded
/// form on results pages.
fn fold_summary(request: &SearchRequest, response: &SearchResponse) -> String {
    let what = request
        .text
        .as_ref()
        .map_or_else(|| "All providers".to_string(), |text| format!("“{text}”"));
    match &response.location {
        Some(location) if location.radius_miles.is_some() => {
            format!("{what} near {}", location.label)
        }
        Some(location) => format!("{what} in {}", location.label),
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
) -> (Option<String>, bool, Option<RelaxedNotice>) {
    let (Some(typed), Some(query)) = (&request.text, &response.query) else {
        return (None, false, None);
    };
    let typed_words = crate::search::text::words(typed);
    let searching_for = (typed_words != query.words).then(|| {
        if query.words.is_empty() {
            "Searching for: every provider (your words did not narrow the search)".to_string()
        } else {
            format!("Searching for: {}", query.words.join(" "))
        }
    });
    let near_me = crate::search::words::asks_near_me(typed) && response.location.is_none();
    let relaxed = response.relaxed.map(|matched| RelaxedNotice {
        message: format!(
            "No provider matches every word; these match {matched} of your {} words ({}).",
            query.words.len(),
            query.words.join(", ")
        ),
        strict: Link {
            label: "Show only providers that match every word".into(),
            href: changed(request, |r| r.all_words = true),
        },
    });
    (searching_for, near_me, relaxed)
}

/// Radius steps offered by the form and by "search a wider area".
pub const RADIUS_STEPS: [u32; 7] = [5, 10, 25, 50, 100, 250, 500];

/// The same search on another page.
fn page_href(request: &SearchRequest, page: u32) -> String {
    search_href(&SearchRequest {
        page,
        ..request.clone()
    })
}

fn first_page(request: &SearchRequest) -> SearchRequest {
    SearchRequest {
        page: 1,
        ..request.clone()
    }
}

/// The same search with one change, on its first page.
fn changed(request: &SearchRequest, change: impl FnOnce(&mut SearchRequest)) -> String {
    let mut next = first_page(request);
    change(&mut next);
    // A sort that needs what the change removed falls back to the default.
    if (next.sort == SortOrder::Distance && next.location.is_none())
        || (next.sort == SortOrder::Relevance && next.text.is_none())
    {
        next.sort = SortOrder::Rating;
    }
    search_href(&next)
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
    ) -> ResultsView {
        let mut heading = count_noun(response.total, "provider", "providers");
        if let Some(text) = &request.text {
            heading.push_str(&format!(" matching “{text}”"));
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
                "your location"
            } else {
                location.label.as_str()
            };
            match location.radius_miles {
                Some(radius) => {
                    heading.push_str(&format!(" within {} miles of {place}", miles(radius),))
                }
                None => heading.push_str(&format!(" in {place}")),
            }
        }
        if request.location.is_none() && response.location.is_some() {
            heading.push_str(" (from your search words)");
        }
        let subheading = match request.sort {
            SortOrder::Rating => "Best rated first, by a rating that needs many reviews to count",
            SortOrder::Distance => "Nearest first",
            SortOrder::Relevance => "Best match first",
            SortOrder::Reviews => "Most reviewed first",
            SortOrder::Price => "Lowest price first",
        };

        let active_filters = active_filters(request, response);
        let suggestions = empty_state_suggestions(alternatives);
        let emptied_by = emptied_by(alternatives);
        let last_page = last_page(response);
        let back_to_last_page = (response.results.is_empty() && response.total > 0).then(|| Link {
            label: format!("Go to the last page of results (page {last_page})"),
            href: page_href(request, last_page.max(1)),
        });
        let previous = (request.page > 1 && request.page <= last_page + 1)
            .then(|| page_href(request, request.page - 1));
        let next = (request.page < last_page).then(|| page_href(request, request.page + 1));
        let first_shown = request.offset() as u64 + 1;
        let last_shown = request.offset() as u64 + response.results.len() as u64;
        let page_summary = if response.results.is_empty() {
            String::new()
        } else {
            format!(
                "Showing {}–{} of {}",
                thousands(first_shown),
                thousands(last_shown),
                thousands(response.total)
            )
        };
        let (searching_for, near_me, relaxed) = words_notices(request, response);
        let fold_summary = fold_summary(request, response);
        ResultsView {
            heading,
            subheading,
            cards: response
                .results
                .iter()
                .map(|hit| Card::new(hit, request))
                .collect(),
            facets: facet_groups(request, response),
            sorts: sort_links(request),
            active_filters,
            suggestions,
            emptied_by,
            back_to_last_page,
            previous,
            next,
            pages: page_links(request, last_page),
            page_summary,
            fold_summary,
            searching_for,
            near_me,
            relaxed,
            crisis: about_crisis(request, response),
            which_town: which_town(request, towns),
        }
    }
}

/// Links to the same search in each order it allows: distance needs a
/// place, relevance needs words.
fn sort_links(request: &SearchRequest) -> Vec<FacetLink> {
    SortOrder::ALL
        .iter()
        .filter(|sort| match sort {
            SortOrder::Distance => request.location.is_some(),
            SortOrder::Relevance => request.text.is_some(),
            _ => true,
        })
        .map(|sort| FacetLink {
            label: sort_label(*sort).to_string(),
            count: String::new(),
            href: changed(request, |r| r.sort = *sort),
            active: request.sort == *sort,
        })
        .collect()
}

/// How the pages name a sort order.
pub fn sort_label(sort: SortOrder) -> &'static str {
    match sort {
        SortOrder::Rating => "Best rated",
        SortOrder::Distance => "Nearest",
        SortOrder::Relevance => "Best match",
        SortOrder::Reviews => "Most reviewed",
        SortOrder::Price => "Lowest price",
    }
}

fn last_page(response: &SearchResponse) -> u32 {
    let pages = response.total.div_ceil(u64::from(response.per_page.max(1)));
    pages.min(u64::from(crate::search::MAX_PAGE)) as u32
}

/// Page numbers around the current one, plus the first and the last.
fn page_links(request: &SearchRequest, last_page: u32) -> Vec<PageLink> {
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
                href: page_href(request, number),
                current: number == request.page,
                gap_before: number > previous + 1,
            };
            previous = number;
            link
        })
        .collect()
}

fn facet_groups(request: &SearchRequest, response: &SearchResponse) -> Vec<FacetGroup> {
    // Pages always ask for facets; an answer without them shows none.
    let Some(facets) = &response.facets else {
        return Vec::new();
    };
    let treatments = Treatment::ALL
        .iter()
        .map(|t| FacetLink {
            label: t.label().to_string(),
            count: thousands(facets.treatments.get(t.slug()).copied().unwrap_or(0)),
            href: changed(request, |r| toggle(&mut r.treatments, *t)),
            active: request.treatments.contains(t),
        })
        .collect();
    let conditions = Condition::ALL
        .iter()
        .map(|c| FacetLink {
            label: c.label().to_string(),
            count: thousands(facets.conditions.get(c.slug()).copied().unwrap_or(0)),
            href: changed(request, |r| toggle(&mut r.conditions, *c)),
            active: request.conditions.contains(c),
        })
        .collect();
    let insurance = facets
        .insurance
        .iter()
        .map(|(name, count)| {
            let key = list_key(name);
            let active = request.insurance.contains(&key);
            FacetLink {
                label: name.clone(),
                count: thousands(*count),
                href: changed(request, |r| {
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
            label: "Telehealth".into(),
            count: thousands(facets.telehealth),
            href: changed(request, |r| r.telehealth = !r.telehealth),
            active: request.telehealth,
        },
        FacetLink {
            label: "Accepting new patients".into(),
            count: thousands(facets.accepting_new_patients),
            href: changed(request, |r| r.accepting = !r.accepting),
            active: request.accepting,
        },
    ];
    vec![
        FacetGroup {
            title: "Options",
            links: options,
        },
        FacetGroup {
            title: "Treatments",
            links: treatments,
        },
        FacetGroup {
            title: "Conditions",
            links: conditions,
        },
        FacetGroup {
            title: "Insurance",
            links: insurance,
        },
    ]
}

/// Each active filter as a link to the same search without it.
fn active_filters(request: &SearchRequest, response: &SearchResponse) -> Vec<Link> {
    filter_removals(request, response)
        .into_iter()
        .map(|(label, next)| Link {
            label,
            href: search_href(&next),
        })
        .collect()
}

/// Each active filter, named for a person, and the search without it (on
/// its first page).
fn filter_removals(
    request: &SearchRequest,
    response: &SearchResponse,
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
        add(t.label().into(), &|r| r.treatments.retain(|x| x != t));
    }
    for c in &request.conditions {
        add(c.label().into(), &|r| r.conditions.retain(|x| x != c));
    }
    for i in &request.insurance {
        add(insurer_label(response, i), &|r| {
            r.insurance.retain(|x| x != i)
        });
    }
    for l in &request.languages {
        add(format!("Speaks {l}"), &|r| r.languages.retain(|x| x != l));
    }
    if let Some(state) = request.state {
        add(format!("State: {state}"), &|r| r.state = None);
    }
    if request.telehealth {
        add("Telehealth".into(), &|r| r.telehealth = false);
    }
    if request.accepting {
        add("Accepting new patients".into(), &|r| r.accepting = false);
    }
    if let Some(rating) = request.min_rating {
        add(format!("Rated {rating} or more"), &|r| r.min_rating = None);
    }
    if let Some(price) = request.max_price {
        add(format!("Up to ${price} per session"), &|r| {
            r.max_price = None
        });
    }
    if let Some(days) = request.verified_within_days {
        add(format!("Verified within {days} days"), &|r| {
            r.verified_within_days = None
        });
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
}

/// What to try when nothing matched, before counting: every wider radius
/// step (the smallest that finds someone is kept), no place at all, and
/// each filter removed. [`crate::pages::count_alternatives`] keeps those
/// that lead to results.
pub fn empty_state_candidates(
    request: &SearchRequest,
    response: &SearchResponse,
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
                label: format!("Within {} miles", miles(wider)),
                request: next,
                change: Change::WiderRadius,
            });
        }
    }
    if request.location.is_some() {
        let mut next = first_page(request);
        next.location = None;
        candidates.push(Alternative {
            label: "Search everywhere (many providers offer telehealth)".into(),
            request: next,
            change: Change::Everywhere,
        });
    }
    candidates.extend(
        filter_removals(request, response)
            .into_iter()
            .map(|(label, next)| Alternative {
                label: format!("Remove {label}"),
                request: next,
                change: Change::Removes(label),
            }),
    );
    candidates
}

/// Counted alternatives as links ("Within 100 miles — 3 providers"): only
/// those that find someone, and of the wider radii only the smallest.
fn empty_state_suggestions(counted: &[(Alternative, u64)]) -> Vec<Link> {
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
                count_noun(*total, "provider", "providers")
            ),
            href: search_href(&alternative.request),
        })
        .collect()
}

/// Which filter emptied the list, when removing one alone finds someone.
fn emptied_by(counted: &[(Alternative, u64)]) -> Option<String> {
    counted
        .iter()
        .find_map(|(alternative, total)| match &alternative.change {
            Change::Removes(label) if *total > 0 => Some(format!(
                "Nothing matches together with {label}; without it, {} match.",
                count_noun(*total, "provider", "providers")
            )),
            _ => None,
        })
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
        assert_eq!(count_noun(1, "review", "reviews"), "1 review");
        assert_eq!(count_noun(2000, "provider", "providers"), "2,000 providers");
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
