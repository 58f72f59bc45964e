//! The patient pages (ARCHITECTURE.md, "Patient pages") over HTTP, as a visitor meets them: the home
//! page and its form, results with facets and pagination, profiles, error
//! pages, escaping of hostile data and hostile URLs, caching and page weight.
//!
//! The HTML is read with a few string helpers below (start tags with their
//! attributes, link texts, visible text); no HTML parser is needed because
//! the pages escape every `<` that is not markup.

use std::sync::OnceLock;

use ketadir::clock::{format_utc, unix_now};

use super::helpers::{
    CSV_COLUMNS, Reply, TestApp, denver_csv, limited_to, sample_csv, spawn_app, spawn_app_with,
};

// ---------------------------------------------------------------------------
// Test data
// ---------------------------------------------------------------------------

/// One CSV row as column → value; missing columns are blank.
type Row = Vec<(&'static str, String)>;

fn set(row: &mut Row, column: &'static str, value: impl Into<String>) {
    assert!(CSV_COLUMNS.contains(&column), "unknown column {column}");
    row.retain(|(name, _)| *name != column);
    row.push((column, value.into()));
}

fn csv_of(rows: &[Row]) -> String {
    let quote = |value: &str| format!("\"{}\"", value.replace('"', "\"\""));
    let mut csv = CSV_COLUMNS.join(",") + "\n";
    for row in rows {
        let cells: Vec<String> = CSV_COLUMNS
            .iter()
            .map(|column| {
                let value = row.iter().find(|(name, _)| name == column);
                quote(value.map_or("", |(_, v)| v.as_str()))
            })
            .collect();
        csv.push_str(&cells.join(","));
        csv.push('\n');
    }
    csv
}

/// `YYYY-MM-DD`, `days` days before today (UTC), as the server counts.
fn days_ago(days: u64) -> String {
    format_utc(unix_now() - days * 86_400)[..10].to_string()
}

/// Providers in the Denver cluster, all within ~6 miles of downtown.
const DENVER_PROVIDERS: usize = 45;
/// Every third Denver provider offers telehealth (n = 0, 3, …, 42).
const DENVER_TELEHEALTH: usize = 15;

/// A realistic provider near downtown Denver, with a ~200-character description.
fn denver_row(n: usize) -> Row {
    const FIRST: [&str; 6] = ["Avery", "Jordan", "Morgan", "Riley", "Casey", "Quinn"];
    const LAST: [&str; 5] = ["Whitlock", "Okafor", "Lindqvist", "Moreno", "Haddad"];
    let (rating, reviews) = if n == 0 {
        (4.8, 1) // shows as "★★★★★ 4.8 · 1 review"
    } else {
        (3.5 + (n % 15) as f64 / 10.0, n * 3 + 2)
    };
    let mut row = Row::new();
    set(&mut row, "id", format!("den-{n:02}"));
    set(
        &mut row,
        "name",
        format!("Dr. {} {} {n}", FIRST[n % 6], LAST[n % 5]),
    );
    set(
        &mut row,
        "organization",
        format!("Front Range Ketamine Wellness Center {n}"),
    );
    set(&mut row, "credentials", "MD");
    set(
        &mut row,
        "address",
        format!("{} Colfax Avenue, Suite 2{n:02}", 1000 + n),
    );
    set(&mut row, "city", "Denver");
    set(&mut row, "state", "CO");
    set(&mut row, "zip", "80202");
    set(
        &mut row,
        "latitude",
        format!("{:.4}", 39.70 + (n % 9) as f64 * 0.01),
    );
    set(
        &mut row,
        "longitude",
        format!("{:.4}", -104.95 - (n / 9) as f64 * 0.01),
    );
    set(&mut row, "phone", format!("(303) 555-01{n:02}"));
    set(&mut row, "website", format!("https://den-{n}.example.org"));
    set(&mut row, "email", format!("intake@den-{n}.example.org"));
    set(&mut row, "treatments", "iv_infusion;esketamine_nasal");
    set(&mut row, "conditions", "depression;chronic_pain");
    set(&mut row, "insurance", "Aetna;Cigna;Self-pay");
    set(&mut row, "price_min", (400 + n % 5 * 25).to_string());
    set(&mut row, "price_max", "650");
    set(&mut row, "telehealth", n.is_multiple_of(3).to_string());
    set(
        &mut row,
        "accepting_new_patients",
        n.is_multiple_of(2).to_string(),
    );
    set(&mut row, "languages", "English;Spanish");
    set(&mut row, "rating", format!("{rating:.1}"));
    set(&mut row, "review_count", reviews.to_string());
    set(
        &mut row,
        "description",
        "Supervised IV ketamine infusions and esketamine nasal spray for depression and \
         chronic pain. Every plan starts with a review of your medical history, and your \
         own psychiatrist stays in the loop throughout.",
    );
    set(&mut row, "last_verified", days_ago(40));
    row
}

/// A provider in Boston, far from Denver.
fn boston_row(id: &str) -> Row {
    let mut row = Row::new();
    set(&mut row, "id", id);
    set(&mut row, "name", format!("Harbor Clinician {id}"));
    set(&mut row, "city", "Boston");
    set(&mut row, "state", "MA");
    set(&mut row, "zip", "02110");
    set(&mut row, "latitude", "42.3601");
    set(&mut row, "longitude", "-71.0589");
    set(&mut row, "treatments", "im_injection");
    set(&mut row, "conditions", "migraine");
    set(&mut row, "rating", "4.1");
    set(&mut row, "review_count", "12");
    row
}

/// The provider whose profile shows every field; verified long ago.
const FULL_ID: &str = "full-1";
/// Same, but verified recently.
const RECENT_ID: &str = "recent-1";

fn full_row() -> Row {
    let mut row = boston_row(FULL_ID);
    for (column, value) in [
        ("name", "Dr. Imogen Hartwell"),
        ("organization", "Harbor Light Ketamine Clinic"),
        ("credentials", "MD;PhD"),
        ("npi", "2996580405"),
        ("address", "77 Lantern Street, Suite 4"),
        ("phone", "(617) 555-0142"),
        ("website", "https://harborlight.example.org/ketamine"),
        ("email", "care@harborlight.example.org"),
        ("treatments", "iv_infusion;ketamine_assisted_psychotherapy"),
        ("conditions", "crps;treatment_resistant_depression"),
        ("insurance", "Blue Cross Blue Shield;Medicare"),
        ("price_min", "450"),
        ("price_max", "900"),
        ("telehealth", "true"),
        ("accepting_new_patients", "true"),
        ("languages", "English;Portuguese"),
        ("rating", "4.6"),
        ("review_count", "37"),
        (
            "description",
            "Infusions in a quiet harbour-side suite.\nWe coordinate with your pain specialist.",
        ),
        ("last_verified", "2020-03-15"),
    ] {
        set(&mut row, column, value);
    }
    row
}

fn recent_row() -> Row {
    let mut row = boston_row(RECENT_ID);
    set(&mut row, "last_verified", days_ago(30));
    row
}

fn directory_rows() -> Vec<Row> {
    let mut rows: Vec<Row> = (0..DENVER_PROVIDERS).map(denver_row).collect();
    rows.extend(["bos-1", "bos-2", "bos-3"].map(boston_row));
    rows.push(full_row());
    rows.push(recent_row());
    rows
}

/// One server on [`directory_rows`], shared by the read-only tests here.
fn app() -> &'static TestApp {
    static APP: OnceLock<TestApp> = OnceLock::new();
    APP.get_or_init(|| spawn_app(&csv_of(&directory_rows())))
}

const HOSTILE_ID: &str = "hostile-1";

/// Text fields full of markup, all of which the importer accepts.
fn hostile_row() -> Row {
    let mut row = denver_row(0);
    for (column, value) in [
        ("id", HOSTILE_ID),
        ("name", "<script>alert(1)</script>"),
        ("organization", "\"><img src=x onerror=alert(2)>"),
        (
            "description",
            "</script><script>alert(3)</script> and <b>bold</b>",
        ),
        ("city", "Denver & \"Aurora\" 'East'"),
        ("insurance", "<i>Evil</i>"),
        ("languages", "<svg onload=alert(4)>"),
        ("credentials", "MD<br>"),
        ("phone", "javascript:alert(5)"),
        ("email", "x@y.z\"><script>alert(6)</script>"),
    ] {
        set(&mut row, column, value);
    }
    row
}

fn hostile_app() -> &'static TestApp {
    static APP: OnceLock<TestApp> = OnceLock::new();
    APP.get_or_init(|| spawn_app(&csv_of(&[hostile_row(), denver_row(1)])))
}

// ---------------------------------------------------------------------------
// Reading HTML
// ---------------------------------------------------------------------------

/// Undoes the escaping askama (and HTML in general) applies.
pub(super) fn unescape(text: &str) -> String {
    [
        ("&lt;", "<"),
        ("&#60;", "<"),
        ("&gt;", ">"),
        ("&#62;", ">"),
        ("&quot;", "\""),
        ("&#34;", "\""),
        ("&#39;", "'"),
        ("&#x27;", "'"),
        ("&amp;", "&"),
        ("&#38;", "&"),
    ]
    .iter()
    .fold(text.to_string(), |text, (entity, plain)| {
        text.replace(entity, plain)
    })
}

/// A start tag: its name, attributes (values unescaped) and byte span.
#[derive(Debug)]
pub(super) struct Tag {
    pub(super) name: String,
    pub(super) attrs: Vec<(String, String)>,
    end: usize,
}

impl Tag {
    pub(super) fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Every start tag in `html`, in order. Skips comments and `<!DOCTYPE>`.
pub(super) fn start_tags(html: &str) -> Vec<Tag> {
    let bytes = html.as_bytes();
    let mut tags = Vec::new();
    let mut at = 0;
    while let Some(offset) = html[at..].find('<') {
        let start = at + offset;
        at = start + 1;
        if !bytes.get(at).is_some_and(u8::is_ascii_alphabetic) {
            continue;
        }
        let mut i = at;
        while i < bytes.len() && !matches!(bytes[i], b' ' | b'\n' | b'\t' | b'>' | b'/') {
            i += 1;
        }
        let name = html[at..i].to_ascii_lowercase();
        let mut attrs = Vec::new();
        loop {
            while i < bytes.len() && matches!(bytes[i], b' ' | b'\n' | b'\t' | b'/') {
                i += 1;
            }
            if i >= bytes.len() || bytes[i] == b'>' {
                break;
            }
            let name_start = i;
            while i < bytes.len() && !matches!(bytes[i], b' ' | b'\n' | b'\t' | b'>' | b'=') {
                i += 1;
            }
            let attr_name = html[name_start..i].to_ascii_lowercase();
            let mut value = String::new();
            if bytes.get(i) == Some(&b'=') {
                i += 1;
                match bytes.get(i) {
                    Some(&quote @ (b'"' | b'\'')) => {
                        let close = html[i + 1..]
                            .find(quote as char)
                            .map_or(bytes.len(), |c| i + 1 + c);
                        value = unescape(&html[i + 1..close.min(bytes.len())]);
                        i = close + 1;
                    }
                    _ => {
                        let value_start = i;
                        while i < bytes.len() && !matches!(bytes[i], b' ' | b'\n' | b'>') {
                            i += 1;
                        }
                        value = unescape(&html[value_start..i]);
                    }
                }
            }
            attrs.push((attr_name, value));
        }
        tags.push(Tag {
            name,
            attrs,
            end: (i + 1).min(bytes.len()),
        });
        at = i.min(bytes.len());
    }
    tags
}

/// Text with the tags removed, entities decoded and white space collapsed.
pub(super) fn text_of(html: &str) -> String {
    let mut text = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                text.push(' ');
            }
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    unescape(&text)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// What a reader sees: the text of `<body>` without scripts.
pub(super) fn visible_text(html: &str) -> String {
    let body = html
        .split_once("<body")
        .and_then(|(_, body)| body.split_once('>'))
        .map_or(html, |(_, body)| body);
    let mut text = String::new();
    let mut rest = body;
    while let Some((before, after)) = rest.split_once("<script") {
        text.push_str(before);
        rest = after.split_once("</script>").map_or("", |(_, a)| a);
    }
    text.push_str(rest);
    text_of(&text)
}

/// The HTML between the first `<{name}` that contains `marker` in its start
/// tag and the matching-by-name close tag (no nesting of the same name).
pub(super) fn element<'a>(html: &'a str, name: &str, marker: &str) -> Option<&'a str> {
    let open = format!("<{name}");
    let mut at = 0;
    while let Some(offset) = html[at..].find(&open) {
        let start = at + offset;
        let tag_end = start + html[start..].find('>')?;
        if html[start..tag_end].contains(marker) {
            let close = html[tag_end..].find(&format!("</{name}>"))?;
            return Some(&html[tag_end + 1..tag_end + close]);
        }
        at = tag_end;
    }
    None
}

/// Visible text of the first `<h1>`.
pub(super) fn h1(html: &str) -> String {
    text_of(element(html, "h1", "").expect("the page has an h1"))
}

/// The leading number of the results heading: "1,234 providers …" → 1234.
pub(super) fn heading_count(html: &str) -> u64 {
    let heading = h1(html);
    let digits: String = heading
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == ',')
        .filter(char::is_ascii_digit)
        .collect();
    digits
        .parse()
        .unwrap_or_else(|_| panic!("h1 starts with a count: {heading:?}"))
}

/// A link: its visible text (including visually hidden text) and target.
#[derive(Debug, Clone)]
pub(super) struct Anchor {
    pub(super) text: String,
    pub(super) href: String,
    rel: String,
    class: String,
    aria_label: String,
}

pub(super) fn anchors(html: &str) -> Vec<Anchor> {
    start_tags(html)
        .into_iter()
        .filter(|tag| tag.name == "a")
        .map(|tag| {
            let inner = &html[tag.end..];
            let inner = &inner[..inner.find("</a>").unwrap_or(inner.len())];
            Anchor {
                text: text_of(inner),
                href: tag.attr("href").unwrap_or_default().to_string(),
                rel: tag.attr("rel").unwrap_or_default().to_string(),
                class: tag.attr("class").unwrap_or_default().to_string(),
                aria_label: tag.attr("aria-label").unwrap_or_default().to_string(),
            }
        })
        .collect()
}

fn anchor_with_text(html: &str, predicate: impl Fn(&str) -> bool) -> Option<Anchor> {
    anchors(html).into_iter().find(|a| predicate(&a.text))
}

/// The result cards (`<li class="card">`), each as its HTML.
pub(super) fn cards(html: &str) -> Vec<&str> {
    let Some(list) = element(html, "ol", "class=\"results\"") else {
        return Vec::new();
    };
    list.split("<li class=\"card\">").skip(1).collect()
}

/// The profile links of the cards, in order.
fn card_profile_links(html: &str) -> Vec<String> {
    cards(html)
        .iter()
        .map(|card| {
            anchors(card)
                .into_iter()
                .find(|a| a.href.starts_with("/providers/"))
                .expect("a card links to a profile")
                .href
        })
        .collect()
}

/// The text of the `.page-summary` paragraph ("Showing 1–20 of 45").
fn page_summary(html: &str) -> String {
    text_of(element(html, "p", "class=\"page-summary\"").unwrap_or_default())
}

/// Every byte but letters and digits as `%XX`, for a path segment.
fn percent_encoded(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// `/?…` with each pair form-encoded.
fn search_url(pairs: &[(&str, &str)]) -> String {
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    format!("/?{query}")
}

/// The readers above are what every test relies on, so they are tested too.
#[test]
fn the_html_readers_see_what_a_browser_would() {
    let html = "<!DOCTYPE html><body><a class=\"x y\" href=\"/?a=1&#38;b=&#34;2&#34;\" rel=next>Next <span>page</span>\n →</a>\
                <script type=\"application/ld+json\">{\"a\":\"\\u003c\"}</script>\
                <h1 id=h>3 things &#60;b&#62;</h1><input value='it&#39;s' checked></body>";
    let tags = start_tags(html);
    let names: Vec<&str> = tags.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["body", "a", "span", "script", "h1", "input"]);
    assert_eq!(tags[5].attr("value"), Some("it's"));
    assert_eq!(tags[5].attr("checked"), Some(""));
    let links = anchors(html);
    assert_eq!(links.len(), 1);
    assert_eq!(links[0].href, "/?a=1&b=\"2\"");
    assert_eq!(links[0].rel, "next");
    assert_eq!(links[0].text, "Next page →");
    assert_eq!(h1(html), "3 things <b>");
    assert_eq!(heading_count(html), 3);
    assert_eq!(visible_text(html), "Next page → 3 things <b>");
    assert_eq!(json_ld(html).1["a"], "<");
}

// ---------------------------------------------------------------------------
// Assertions shared by several tests
// ---------------------------------------------------------------------------

fn assert_html_page(reply: &Reply, status: u16, what: &str) {
    assert_eq!(reply.status, status, "{what}: {}", reply.body);
    assert!(
        reply.content_type.starts_with("text/html"),
        "{what}: content type {:?}",
        reply.content_type
    );
    assert!(reply.body.contains("<main"), "{what}: no <main> landmark");
    assert!(
        reply.body.contains("<html lang=\"en\""),
        "{what}: no lang=\"en\""
    );
    let csp = reply
        .header("content-security-policy")
        .unwrap_or_else(|| panic!("{what}: no Content-Security-Policy"));
    for forbidden in ["unsafe-inline", "unsafe-eval", "http"] {
        assert!(
            !csp.contains(forbidden),
            "{what}: CSP has {forbidden}: {csp}"
        );
    }
    assert_eq!(
        reply.header("x-content-type-options"),
        Some("nosniff"),
        "{what}"
    );
}

/// The `.rating` line shows stars, the raw rating with one decimal and the
/// review count ("★★★★★ 4.8 · 1 review").
fn assert_rating_shown(html: &str, rating: &str, reviews: &str) {
    let line = text_of(element(html, "p", "class=\"rating\"").expect("a rating line"));
    let (stars, rest) = line.split_once(' ').unwrap_or_default();
    assert!(
        stars.chars().count() == 5 && stars.chars().all(|c| c == '★' || c == '☆'),
        "five stars first: {line}"
    );
    let shown = format!("{rating} · {reviews}");
    let shown_with_star = format!("{rating} ★ · {reviews}");
    assert!(
        rest.contains(&shown) || rest.contains(&shown_with_star),
        "{shown:?} in: {line}"
    );
    assert!(
        line.contains(&format!("Rated {rating} out of 5 from {reviews}")),
        "screen readers hear the rating: {line}"
    );
}

fn get_page(app: &TestApp, url: &str) -> Reply {
    let reply = app.get(url);
    assert_html_page(&reply, 200, url);
    reply
}

/// No inline style or script, no event handler attributes.
fn assert_no_inline_code(html: &str, what: &str) {
    for tag in start_tags(html) {
        assert!(
            tag.attr("style").is_none(),
            "{what}: style attribute on <{}>",
            tag.name
        );
        for (name, _) in &tag.attrs {
            assert!(
                !name.starts_with("on"),
                "{what}: event handler {name} on <{}>",
                tag.name
            );
        }
        if tag.name == "script" {
            assert!(
                tag.attr("src").is_some() || tag.attr("type") == Some("application/ld+json"),
                "{what}: inline <script> {:?}",
                tag.attrs
            );
        }
        if tag.name == "style" {
            panic!("{what}: a <style> element");
        }
    }
}

// ---------------------------------------------------------------------------
// 1. Home page
// ---------------------------------------------------------------------------

#[test]
fn home_page_is_a_labelled_get_search_form_with_landmarks_and_a_strict_csp() {
    let reply = get_page(app(), "/");
    let html = &reply.body;
    let form = start_tags(html)
        .into_iter()
        .find(|t| t.name == "form" && t.attr("role") == Some("search"))
        .expect("a form[role=search]");
    assert_eq!(form.attr("action"), Some("/"));
    assert_eq!(
        form.attr("method").map(str::to_ascii_lowercase).as_deref(),
        Some("get")
    );

    let form_html = element(html, "form", "role=\"search\"").expect("form body");
    let tags = start_tags(form_html);
    let labelled: Vec<&str> = tags
        .iter()
        .filter(|t| t.name == "label")
        .filter_map(|t| t.attr("for"))
        .collect();
    let controls: Vec<&Tag> = tags
        .iter()
        .filter(|t| matches!(t.name.as_str(), "input" | "select" | "textarea"))
        .filter(|t| t.attr("type") != Some("hidden"))
        .collect();
    assert!(
        controls.len() >= 10,
        "what, where, radius, filters: {controls:?}"
    );
    for control in controls {
        let id = control
            .attr("id")
            .unwrap_or_else(|| panic!("control without an id: {control:?}"));
        assert!(
            labelled.contains(&id),
            "no <label for={id:?}> for {control:?}"
        );
    }
    for name in [
        "q",
        "near",
        "radius",
        "treatment",
        "condition",
        "insurance",
        "sort",
    ] {
        assert!(
            form_html.contains(&format!("name=\"{name}\"")),
            "the form lacks {name}"
        );
    }

    let first_link = anchors(html).into_iter().next().expect("links");
    assert_eq!(
        first_link.href, "#main",
        "the first link skips to the content"
    );
    assert!(html.contains("<main id=\"main\""));
    assert!(html.contains("<html lang=\"en\""));
    assert!(
        element(html, "h1", "").is_some(),
        "the home page has a heading"
    );
    assert!(
        !html.contains("class=\"card\""),
        "no results without a search"
    );
}

// ---------------------------------------------------------------------------
// 2. Assets and inline code
// ---------------------------------------------------------------------------

#[test]
fn stylesheet_script_and_icon_are_served_immutable_with_their_types() {
    let html = get_page(app(), "/").body;
    let tags = start_tags(&html);
    let stylesheet = tags
        .iter()
        .find(|t| t.name == "link" && t.attr("rel") == Some("stylesheet"))
        .and_then(|t| t.attr("href"))
        .expect("a stylesheet link");
    let script = tags
        .iter()
        .find(|t| t.name == "script" && t.attr("src").is_some())
        .and_then(|t| t.attr("src"))
        .expect("a script");
    let icon = tags
        .iter()
        .find(|t| t.name == "link" && t.attr("rel") == Some("icon"))
        .and_then(|t| t.attr("href"))
        .expect("an icon");
    for (url, content_type) in [
        (stylesheet, "text/css"),
        (script, "text/javascript"),
        (icon, "image/svg+xml"),
    ] {
        assert!(url.starts_with('/'), "{url}: same origin");
        let reply = app().get(url);
        assert_eq!(reply.status, 200, "{url}");
        assert!(
            reply.content_type.starts_with(content_type),
            "{url}: {}",
            reply.content_type
        );
        assert!(!reply.body.is_empty(), "{url}");
        let cache = reply.header("cache-control").unwrap_or_default();
        assert!(
            cache.contains("max-age=31536000") && cache.contains("immutable"),
            "{url}: Cache-Control {cache:?}"
        );
    }
    assert!(
        stylesheet.contains("?v=") && script.contains("?v="),
        "versioned URLs, since they are cached for a year: {stylesheet} {script}"
    );
}

#[test]
fn no_page_has_inline_styles_or_scripts() {
    let profile_url = format!("/providers/{FULL_ID}");
    let pages = [
        ("/", 200),
        ("/?near=Denver%2C+CO", 200),
        ("/?near=Denver%2C+CO&page=2&telehealth=true", 200),
        ("/?near=Denver%2C+CO&condition=ptsd", 200),
        (profile_url.as_str(), 200),
        ("/how-we-rank", 200),
        ("/?near=Xyzzyville", 400),
        ("/?min_rating=9", 400),
        ("/providers/no-such-id", 404),
        ("/no/such/page", 404),
    ];
    for (url, status) in pages {
        let reply = app().get(url);
        assert_html_page(&reply, status, url);
        assert_no_inline_code(&reply.body, url);
    }
}

// ---------------------------------------------------------------------------
// 3. Results, facets, filters, pagination
// ---------------------------------------------------------------------------

#[test]
fn a_city_search_shows_a_counted_heading_and_twenty_cards() {
    let html = get_page(app(), "/?near=Denver,+CO").body;
    assert_eq!(
        h1(&html),
        format!("{DENVER_PROVIDERS} providers within 25 miles of Denver, CO")
    );
    assert_eq!(cards(&html).len(), 20);
    assert_eq!(
        html.matches("<li class=\"card\">").count(),
        20,
        "cards are <li class=\"card\">"
    );
    assert_eq!(
        page_summary(&html),
        format!("Showing 1–20 of {DENVER_PROVIDERS}")
    );
    // The form remembers the place.
    let near = start_tags(&html)
        .into_iter()
        .find(|t| t.attr("id") == Some("near"))
        .expect("the place box");
    assert_eq!(near.attr("value"), Some("Denver, CO"));
    let title = text_of(element(&html, "title", "").expect("a title"));
    assert!(
        title.contains("45 providers"),
        "the title names the search: {title}"
    );
}

#[test]
fn cards_show_rating_distance_and_phone_with_one_link_each() {
    // All 45 on one page, so den-00 (one review) is among them.
    let all = get_page(app(), "/?near=Denver,+CO&per_page=100").body;
    let cards = cards(&all);
    assert_eq!(cards.len(), DENVER_PROVIDERS);
    let one_review = cards
        .iter()
        .find(|card| card.contains("/providers/den-00?"))
        .expect("den-00 is listed");
    assert_rating_shown(one_review, "4.8", "1 review");
    for card in &cards {
        let text = text_of(card);
        let miles = text
            .split_whitespace()
            .collect::<Vec<_>>()
            .windows(2)
            .find(|w| w[1] == "mi")
            .map(|w| w[0].to_string())
            .unwrap_or_else(|| panic!("no distance on the card: {text}"));
        let (whole, tenths) = miles
            .split_once('.')
            .unwrap_or_else(|| panic!("distance with one decimal: {miles}"));
        assert!(
            whole.chars().all(|c| c.is_ascii_digit()) && tenths.len() == 1,
            "{miles}"
        );
        let distance: f64 = miles.parse().expect("a number");
        assert!(distance <= 25.0, "{distance} within the radius");

        // One tab stop per card: the name, to the profile (which has the
        // Call button); the phone is shown as text.
        let links: Vec<String> = anchors(card).into_iter().map(|a| a.href).collect();
        assert_eq!(links.len(), 1, "one link per card: {links:?}");
        assert!(links[0].starts_with("/providers/"), "{links:?}");
        assert!(
            text.contains("(303) 555-01"),
            "the number as written: {text}"
        );
        assert!(
            text.contains("IV ketamine infusion"),
            "treatment badge: {text}"
        );
        assert!(text.contains("Depression"), "condition badge: {text}");
        assert!(text.contains("per session"), "price: {text}");
        assert!(text.contains("Denver, CO"), "city: {text}");
    }
}

#[test]
fn next_links_walk_through_all_pages_without_repeating_a_provider() {
    let mut url = "/?near=Denver,+CO".to_string();
    let mut seen: Vec<String> = Vec::new();
    let mut summaries = Vec::new();
    for page in 1.. {
        assert!(page <= 3, "45 results make three pages");
        let html = get_page(app(), &url).body;
        let links = card_profile_links(&html);
        for link in &links {
            assert!(!seen.contains(link), "{link} repeated on page {page}");
        }
        seen.extend(links);
        summaries.push(page_summary(&html));
        let next = anchors(&html).into_iter().find(|a| a.rel == "next");
        let previous = anchors(&html).into_iter().find(|a| a.rel == "prev");
        assert_eq!(previous.is_some(), page > 1, "rel=prev on page {page}");
        match next {
            Some(next) => url = next.href,
            None => break,
        }
    }
    assert_eq!(seen.len(), DENVER_PROVIDERS);
    assert_eq!(
        summaries,
        [
            "Showing 1–20 of 45",
            "Showing 21–40 of 45",
            "Showing 41–45 of 45"
        ]
    );
}

#[test]
fn the_telehealth_facet_narrows_to_its_count_and_toggles_off_again() {
    let html = get_page(app(), "/?near=Denver,+CO").body;
    let facet = anchor_with_text(&html, |t| t.starts_with("Telehealth ("))
        .expect("a Telehealth (k) facet link");
    let count: u64 = facet
        .text
        .trim_start_matches("Telehealth (")
        .trim_end_matches(')')
        .parse()
        .expect("a count");
    assert_eq!(count, DENVER_TELEHEALTH as u64);

    let narrowed = get_page(app(), &facet.href).body;
    assert_eq!(heading_count(&narrowed), count);
    let on_page = cards(&narrowed);
    assert_eq!(on_page.len(), DENVER_TELEHEALTH.min(20));
    for card in &on_page {
        assert!(
            card.contains("class=\"flag yes\">Telehealth<"),
            "every card offers telehealth: {}",
            text_of(card)
        );
    }
    let telehealth_box = start_tags(&narrowed)
        .into_iter()
        .find(|t| t.attr("id") == Some("telehealth"))
        .expect("the telehealth checkbox");
    assert!(
        telehealth_box.attr("checked").is_some(),
        "the form shows the filter"
    );

    let active = anchors(&narrowed)
        .into_iter()
        .find(|a| a.class.contains("active") && a.text.contains("Telehealth ("))
        .expect("the active facet link");
    assert!(active.text.contains("Remove filter"), "{}", active.text);
    let widened = get_page(app(), &active.href).body;
    assert_eq!(heading_count(&widened), DENVER_PROVIDERS as u64);
    assert!(
        !anchors(&widened)
            .iter()
            .any(|a| a.class.contains("active") && a.text.contains("Telehealth")),
        "the filter is off again"
    );
}

#[test]
fn every_facet_count_matches_the_results_it_links_to() {
    let html = get_page(app(), "/?near=Denver,+CO").body;
    let facets = element(&html, "aside", "class=\"facets\"").expect("the facets");
    let mut followed = 0;
    for link in anchors(facets) {
        let Some((_, count)) = link.text.rsplit_once(" (") else {
            continue;
        };
        let count: u64 = count
            .trim_end_matches(')')
            .replace(',', "")
            .parse()
            .expect("count");
        let target = app().get(&link.href);
        assert_html_page(&target, 200, &link.href);
        assert_eq!(
            heading_count(&target.body),
            count,
            "{} → {}",
            link.text,
            link.href
        );
        followed += 1;
    }
    assert!(followed >= 5, "options, treatments, conditions, insurance");
}

#[test]
fn active_filter_chips_each_remove_their_own_filter() {
    let url = search_url(&[
        ("q", "infusions"),
        ("near", "Denver, CO"),
        ("telehealth", "true"),
        ("treatment", "esketamine_nasal"),
        ("insurance", "aetna"),
    ]);
    let html = get_page(app(), &url).body;
    let chips = anchors(element(&html, "ul", "class=\"chips\"").expect("active filter chips"));
    let labels: Vec<String> = chips.iter().map(|c| c.aria_label.clone()).collect();
    assert_eq!(chips.len(), 4, "{labels:?}");
    for label in ["infusions", "Telehealth", "Esketamine", "Aetna"] {
        assert!(
            labels
                .iter()
                .any(|l| l.starts_with("Remove filter") && l.contains(label)),
            "a chip for {label}: {labels:?}"
        );
    }
    for chip in chips {
        let after = get_page(app(), &chip.href).body;
        let remaining: Vec<String> = element(&after, "ul", "class=\"chips\"")
            .map(|ul| anchors(ul).into_iter().map(|a| a.aria_label).collect())
            .unwrap_or_default();
        assert_eq!(remaining.len(), 3, "{} → {remaining:?}", chip.aria_label);
        assert!(
            !remaining.contains(&chip.aria_label),
            "{} still active",
            chip.aria_label
        );
        assert!(
            heading_count(&after) >= heading_count(&html),
            "removing a filter never finds fewer"
        );
        assert!(after.contains("Denver, CO"), "the place stays");
    }
}

// ---------------------------------------------------------------------------
// 4. Empty state
// ---------------------------------------------------------------------------

/// The links of the empty state's "Try one of these" list.
fn empty_state_links(html: &str) -> Vec<Anchor> {
    let empty = element(html, "div", "class=\"empty\"").expect("the empty state");
    anchors(empty)
}

#[test]
fn an_empty_search_nearby_offers_a_wider_radius_that_finds_providers() {
    // ~8 miles east of the Denver cluster.
    let html = get_page(app(), "/?near=39.74,-104.80&radius=5").body;
    assert_eq!(heading_count(&html), 0);
    assert!(visible_text(&html).contains("No providers match"));
    assert!(cards(&html).is_empty());
    let links = empty_state_links(&html);
    let wider = links
        .iter()
        .find(|a| a.text.contains("10 miles"))
        .expect("a wider-radius suggestion");
    let everywhere = links
        .iter()
        .find(|a| a.text.contains("everywhere"))
        .expect("a search without the place");
    for suggestion in [wider, everywhere] {
        let found = get_page(app(), &suggestion.href).body;
        assert!(
            heading_count(&found) >= 1,
            "{} → {}: {}",
            suggestion.text,
            suggestion.href,
            h1(&found)
        );
    }
}

#[test]
fn an_empty_filtered_search_offers_to_remove_the_filter() {
    let html = get_page(app(), "/?near=Denver,+CO&condition=ptsd").body;
    assert_eq!(heading_count(&html), 0);
    assert!(visible_text(&html).contains("No providers match"));
    let links = empty_state_links(&html);
    let remove = links
        .iter()
        .find(|a| a.text.starts_with("Remove") && a.text.contains("PTSD"))
        .unwrap_or_else(|| panic!("a remove-the-filter suggestion: {links:?}"));
    let found = get_page(app(), &remove.href).body;
    assert_eq!(heading_count(&found), DENVER_PROVIDERS as u64);
    for link in links {
        get_page(app(), &link.href); // every suggestion is a working page
    }
}

#[test]
fn a_page_past_the_end_leads_back_to_the_results() {
    let html = get_page(app(), "/?near=Denver,+CO&page=9").body;
    assert_eq!(heading_count(&html), DENVER_PROVIDERS as u64);
    assert!(
        !visible_text(&html).contains("No providers match"),
        "there are 45 matches, just not on page 9"
    );
    let back = anchors(&html)
        .into_iter()
        .find(|a| a.href.contains("page=3") || a.rel == "prev")
        .expect("a link to the last page");
    assert_eq!(cards(&get_page(app(), &back.href).body).len(), 5);
}

// ---------------------------------------------------------------------------
// 5. Profile
// ---------------------------------------------------------------------------

fn profile(id: &str) -> String {
    get_page(app(), &format!("/providers/{id}")).body
}

/// The JSON-LD block of a page, raw and parsed.
fn json_ld(html: &str) -> (String, serde_json::Value) {
    let raw = element(html, "script", "application/ld+json")
        .expect("a <script type=\"application/ld+json\">")
        .to_string();
    let parsed = serde_json::from_str(&raw).unwrap_or_else(|e| panic!("JSON-LD ({e}): {raw}"));
    (raw, parsed)
}

#[test]
fn a_profile_shows_every_field_of_the_csv() {
    let html = profile(FULL_ID);
    let text = visible_text(&html);
    assert_eq!(h1(&html), "Dr. Imogen Hartwell");
    for expected in [
        "Harbor Light Ketamine Clinic",
        "MD, PhD",
        "2996580405",
        "77 Lantern Street, Suite 4, Boston, MA 02110",
        "(617) 555-0142",
        "care@harborlight.example.org",
        "Blue Cross Blue Shield, Medicare",
        "English, Portuguese",
        "$450–$900 per session",
        "IV ketamine infusion",
        "Ketamine-assisted psychotherapy (KAP)",
        "Complex regional pain syndrome (CRPS)",
        "Treatment-resistant depression (TRD)",
        "Infusions in a quiet harbour-side suite.",
        "We coordinate with your pain specialist.",
        // last_verified, in words (the <time> element keeps 2020-03-15).
        "March 15, 2020",
    ] {
        assert!(text.contains(expected), "{expected:?} missing from: {text}");
    }
    for slug in [
        "iv_infusion",
        "ketamine_assisted_psychotherapy",
        "treatment_resistant_depression",
    ] {
        assert!(!text.contains(slug), "labels, not slugs: {slug}");
    }
    let links = start_tags(&html);
    assert_rating_shown(&html, "4.6", "37 reviews");
    let website = links
        .iter()
        .find(|t| {
            t.name == "a" && t.attr("href") == Some("https://harborlight.example.org/ketamine")
        })
        .expect("the website as a link");
    let rel = website.attr("rel").unwrap_or_default();
    assert!(
        rel.contains("noopener") && rel.contains("nofollow"),
        "rel={rel:?}"
    );
    assert!(
        links
            .iter()
            .any(|t| t.name == "a" && t.attr("href") == Some("tel:6175550142")),
        "a dialable phone link"
    );
    assert!(
        links
            .iter()
            .any(|t| t.name == "a" && t.attr("href") == Some("mailto:care@harborlight.example.org")),
        "an email link"
    );
    let map = anchors(&html)
        .into_iter()
        .find(|a| a.href.contains("openstreetmap.org"))
        .expect("an OpenStreetMap link");
    assert!(
        map.href.starts_with("https://www.openstreetmap.org/")
            && map.href.contains("42.3601")
            && map.href.contains("-71.0589"),
        "{}",
        map.href
    );
}

#[test]
fn a_profile_has_the_safety_box() {
    let html = profile(FULL_ID);
    let safety = element(&html, "section", "class=\"safety\"").expect("a .safety section");
    let text = text_of(safety).to_lowercase();
    for phrase in [
        "supervised by medical professionals",
        "pregnan",
        "kidney",
        "liver",
        "head trauma",
        "seizures",
        "medical history",
    ] {
        assert!(text.contains(phrase), "safety box lacks {phrase:?}: {text}");
    }
    // Every profile has it, not just complete ones.
    assert!(profile("bos-1").contains("class=\"safety\""));
}

#[test]
fn a_profile_carries_schema_org_json_ld() {
    let html = profile(FULL_ID);
    let (_, ld) = json_ld(&html);
    assert_eq!(ld["@context"], "https://schema.org");
    assert_eq!(ld["name"], "Dr. Imogen Hartwell");
    assert_eq!(ld["telephone"], "(617) 555-0142");
    assert_eq!(ld["address"]["addressLocality"], "Boston");
    assert_eq!(ld["aggregateRating"]["reviewCount"], 37);
}

#[test]
fn details_verified_over_a_year_ago_carry_a_warning() {
    let warning = "more than 12 months ago";
    let stale = visible_text(&profile(FULL_ID));
    assert!(stale.contains(warning), "2020-03-15 is long ago: {stale}");
    let fresh = profile(RECENT_ID);
    assert!(
        fresh.contains(&format!("<time datetime=\"{}\">", days_ago(30))),
        "the date is shown"
    );
    assert!(
        !visible_text(&fresh).contains(warning),
        "verified 30 days ago"
    );
}

// ---------------------------------------------------------------------------
// 6. Error pages
// ---------------------------------------------------------------------------

#[test]
fn an_unknown_place_is_a_400_page_that_says_so() {
    let reply = app().get("/?near=Xyzzyville");
    assert_html_page(&reply, 400, "unknown place");
    let text = visible_text(&reply.body);
    assert!(text.contains("Xyzzyville"), "{text}");
    assert!(
        text.to_lowercase().contains("not find") || text.contains("not found"),
        "{text}"
    );
    assert!(
        anchors(&reply.body)
            .iter()
            .any(|a| a.text.to_lowercase().contains("search") && a.href.starts_with('/')),
        "a link to search again"
    );
    let place_box = start_tags(&reply.body)
        .into_iter()
        .find(|t| t.attr("id") == Some("near"))
        .expect("the form to correct the place");
    assert_eq!(place_box.attr("value"), Some("Xyzzyville"));
}

#[test]
fn a_misspelt_place_suggests_the_right_one_and_the_suggestion_works() {
    let reply = app().get("/?near=Denvr&telehealth=true");
    assert_html_page(&reply, 400, "misspelt place");
    let suggestion = anchor_with_text(&reply.body, |t| t == "Search near Denver, CO")
        .unwrap_or_else(|| panic!("a suggestion: {:?}", anchors(&reply.body)));
    let found = get_page(app(), &suggestion.href).body;
    assert_eq!(
        h1(&found),
        format!("{DENVER_TELEHEALTH} providers within 25 miles of Denver, CO"),
        "the suggestion keeps the other filters"
    );
}

#[test]
fn a_bad_value_is_a_400_page_naming_the_field_and_keeping_the_input() {
    let reply = app().get(&search_url(&[
        ("q", "knee \"pain\" <b>"),
        ("near", "Denver, CO"),
        ("min_rating", "9"),
    ]));
    assert_html_page(&reply, 400, "min_rating=9");
    let text = visible_text(&reply.body);
    assert!(text.contains("Minimum rating"), "{text}");
    assert!(!reply.body.contains("<b>"), "the input is escaped");
    let tags = start_tags(&reply.body);
    let value_of = |id: &str| {
        tags.iter()
            .find(|t| t.attr("id") == Some(id))
            .and_then(|t| t.attr("value"))
            .map(str::to_string)
    };
    assert_eq!(value_of("q").as_deref(), Some("knee \"pain\" <b>"));
    assert_eq!(value_of("near").as_deref(), Some("Denver, CO"));

    let distance = app().get("/?sort=distance");
    assert_html_page(&distance, 400, "sort=distance without a place");
    assert!(visible_text(&distance.body).contains("Sort by"));
}

#[test]
fn unknown_providers_and_paths_are_404_pages_but_the_api_stays_json() {
    for path in ["/providers/no-such-id", "/no/such/page"] {
        let reply = app().get(path);
        assert_html_page(&reply, 404, path);
        assert!(
            anchors(&reply.body).iter().any(|a| a.href == "/"),
            "{path}: a way back to search"
        );
    }
    assert!(visible_text(&app().get("/providers/no-such-id").body).contains("no-such-id"));
    let api = app().get("/api/v1/nope");
    assert_eq!(api.status, 404);
    assert!(
        api.content_type.starts_with("application/problem+json"),
        "{}",
        api.content_type
    );
    api.json();
}

/// Link checkers and monitors ask with HEAD.
#[test]
fn head_requests_on_pages_answer_like_get() {
    for path in [
        "/",
        "/?near=Denver%2C+CO",
        "/how-we-rank",
        "/providers/full-1",
    ] {
        let head = app().request("HEAD", path, &[]);
        assert_eq!(head.status, 200, "HEAD {path}");
        assert!(head.content_type.starts_with("text/html"), "HEAD {path}");
        assert!(
            head.header("content-security-policy").is_some(),
            "HEAD {path}"
        );
        assert!(head.body.is_empty(), "HEAD {path} has no body");
    }
}

// ---------------------------------------------------------------------------
// 7. Escaping
// ---------------------------------------------------------------------------

/// Markup from the hostile row that must never reach a page unescaped.
const RAW_MARKUP: [&str; 9] = [
    "<script>alert",
    "<img src=x",
    "<svg",
    "<i>Evil",
    "<b>bold",
    "MD<br>",
    "\"><img",
    "\"><script",
    "onerror=alert(2)>",
];

fn assert_escaped(html: &str, what: &str) {
    for raw in RAW_MARKUP {
        assert!(!html.contains(raw), "{what}: {raw:?} unescaped");
    }
    assert!(
        !html.to_ascii_lowercase().contains("href=\"javascript:"),
        "{what}: javascript: link"
    );
    assert_no_inline_code(html, what);
}

#[test]
fn hostile_provider_text_is_escaped_on_the_results_page() {
    let html = get_page(hostile_app(), "/?near=Denver,+CO").body;
    assert_eq!(cards(&html).len(), 2);
    assert_escaped(&html, "results");
    let text = visible_text(&html);
    for shown in [
        "<script>alert(1)</script>",
        "\"><img src=x onerror=alert(2)>",
        "Denver & \"Aurora\" 'East', CO",
        "MD<br>",
    ] {
        assert!(text.contains(shown), "{shown:?} shown as text: {text}");
    }
    assert!(
        text.contains("<i>Evil</i> (1)"),
        "the insurance facet: {text}"
    );
}

#[test]
fn hostile_provider_text_is_escaped_on_the_profile_page() {
    let html = get_page(hostile_app(), &format!("/providers/{HOSTILE_ID}")).body;
    assert_escaped(&html, "profile");
    let text = visible_text(&html);
    for shown in [
        "<script>alert(1)</script>",
        "\"><img src=x onerror=alert(2)>",
        "</script><script>alert(3)</script> and <b>bold</b>",
        "<i>Evil</i>",
        "<svg onload=alert(4)>",
        "MD<br>",
        "javascript:alert(5)",
        "x@y.z\"><script>alert(6)</script>",
    ] {
        assert!(text.contains(shown), "{shown:?} shown as text: {text}");
    }
    assert!(
        !anchors(&html)
            .iter()
            .any(|a| a.href.starts_with("tel:")
                && !["tel:988", "tel:911"].contains(&a.href.as_str())),
        "no phone link for a phone without digits (the crisis line's 988 and 911 aside)"
    );
    let title = element(&html, "title", "").expect("title");
    assert!(!title.contains('<'), "title escaped: {title}");

    let (raw, ld) = json_ld(&html);
    assert!(!raw.contains("</script") && !raw.contains('<'), "{raw}");
    assert_eq!(ld["name"], "<script>alert(1)</script>");
    assert_eq!(
        ld["description"],
        "</script><script>alert(3)</script> and <b>bold</b>"
    );
}

#[test]
fn query_values_echoed_into_the_page_are_escaped() {
    let hostile = "<script>x</script>\"'><img src=y>";
    for (url, status) in [
        (search_url(&[("q", hostile)]), 200),
        (search_url(&[("q", hostile), ("near", "Denver, CO")]), 200),
        (search_url(&[("near", hostile)]), 400),
        (search_url(&[("q", hostile), ("min_rating", "9")]), 400),
        (
            search_url(&[("language", hostile), ("near", "Denver, CO")]),
            200,
        ),
        (format!("/providers/{}", percent_encoded(hostile)), 404),
    ] {
        let reply = hostile_app().get(&url);
        assert_html_page(&reply, status, &url);
        assert!(!reply.body.contains("<script>x"), "{url}: q unescaped");
        assert!(
            !reply.body.contains("<img src=y"),
            "{url}: markup unescaped"
        );
        assert_no_inline_code(&reply.body, &url);
        assert!(
            unescape(&reply.body).contains(hostile),
            "{url}: the input is shown as typed"
        );
        for tag in start_tags(&reply.body) {
            if let Some(value) = tag.attr("value")
                && value.contains("script")
            {
                assert_eq!(value, hostile, "{url}: a form value is the input as typed");
            }
        }
    }
    let echoed = hostile_app().get(&search_url(&[("q", hostile)]));
    assert!(
        h1(&echoed.body).contains(hostile),
        "the heading quotes the search"
    );
}

// ---------------------------------------------------------------------------
// 8. Hostile query strings
// ---------------------------------------------------------------------------

#[test]
fn hostile_query_strings_get_a_page_never_a_server_error() {
    let long = "a".repeat(20_000);
    let queries = [
        format!("q={long}"),
        format!("near={long}"),
        format!("insurance={long}"),
        format!("treatment={}", "x".repeat(5_000)),
        "q=%00".into(),
        "near=%00".into(),
        "q=%FF%FE".into(),
        "near=%FF".into(),
        "q=%".into(),
        "q=a&q=b".into(),
        "near=Denver,+CO&near=Boston,+MA".into(),
        "treatment=iv_infusion&treatment=iv_infusion".into(),
        "page=0".into(),
        "page=-1".into(),
        "page=99999999999".into(),
        "near=Denver,+CO&page=10000".into(),
        "per_page=0".into(),
        "per_page=100000".into(),
        "radius=-1&near=Denver,+CO".into(),
        "radius=NaN&near=Denver,+CO".into(),
        "radius=1e309&near=Denver,+CO".into(),
        "lat=NaN&lon=1".into(),
        "lat=91&lon=181".into(),
        "lat=1".into(),
        "near=0,0&radius=500".into(),
        "near=-90,180".into(),
        "min_rating=-0".into(),
        "max_price=-5".into(),
        "max_price=99999999999999999999".into(),
        "sort=relevance".into(),
        "sort=%3Cscript%3E".into(),
        "state=ZZ".into(),
        "telehealth=maybe".into(),
        "=&&&=&".into(),
        "q[]=x&near[]=y".into(),
        format!("q={}", "%E2%98%85".repeat(200)),
    ];
    for query in &queries {
        let url = format!("/?{query}");
        let reply = hostile_app().get(&url);
        assert!(
            reply.status == 200 || reply.status == 400,
            "{}: status {}",
            &url[..url.len().min(80)],
            reply.status
        );
        assert_html_page(&reply, reply.status, &url[..url.len().min(80)]);
    }
    for only_unknown in ["/?foo=bar", "/?utm_source=mail&fbclid=x", "/?q=&near="] {
        let reply = hostile_app().get(only_unknown);
        assert_html_page(&reply, 200, only_unknown);
        assert!(
            !reply.body.contains("id=\"results-heading\""),
            "{only_unknown}: the home page, not a search"
        );
    }
}

#[test]
fn control_characters_from_the_query_are_not_echoed() {
    for query in [
        "/?q=%00",
        "/?q=a%00b%1B&near=%00Denver,+CO",
        "/?near=Xyz%00zy%07",
        "/?min_rating=9&q=%0B%00",
    ] {
        let reply = hostile_app().get(query);
        assert!(reply.status == 200 || reply.status == 400, "{query}");
        assert!(
            !reply.body.chars().any(|c| c.is_control() && c != '\n'),
            "{query}: a control character in the page"
        );
    }
    // Nothing printable left is no search text at all.
    let html = get_page(hostile_app(), "/?q=%00").body;
    assert!(!h1(&html).contains("matching"), "{}", h1(&html));
}

// ---------------------------------------------------------------------------
// 9. Caching
// ---------------------------------------------------------------------------

#[test]
fn results_pages_revalidate_with_etags() {
    let url = "/?near=Denver,+CO&telehealth=true";
    let first = get_page(app(), url);
    let etag = first.header("etag").expect("an ETag").to_string();
    let again = app().request("GET", url, &[("If-None-Match", &etag)]);
    assert_eq!(again.status, 304, "{}", again.body);
    assert!(again.body.is_empty());

    // Another page of the same search is not the cached one.
    let page_two = app().request("GET", "/?near=Denver,+CO", &[("If-None-Match", &etag)]);
    assert_eq!(page_two.status, 200);
    assert_ne!(page_two.header("etag"), Some(etag.as_str()));

    let profile = get_page(app(), &format!("/providers/{FULL_ID}"));
    let tag = profile
        .header("etag")
        .expect("profiles have an ETag")
        .to_string();
    let unchanged = app().request(
        "GET",
        &format!("/providers/{FULL_ID}"),
        &[("If-None-Match", &tag)],
    );
    assert_eq!(unchanged.status, 304);
}

// ---------------------------------------------------------------------------
// 10. Weight
// ---------------------------------------------------------------------------

#[test]
fn twenty_results_and_the_stylesheet_weigh_at_most_60_kb() {
    let html = get_page(app(), "/?near=Denver,+CO").body;
    assert_eq!(cards(&html).len(), 20);
    let css_href = start_tags(&html)
        .into_iter()
        .find(|t| t.name == "link" && t.attr("rel") == Some("stylesheet"))
        .and_then(|t| t.attr("href").map(str::to_string))
        .expect("stylesheet");
    let css = app().get(&css_href);
    assert_eq!(css.status, 200);
    let total = html.len() + css.body.len();
    assert!(
        total <= 60 * 1024,
        "page {} B + CSS {} B = {total} B",
        html.len(),
        css.body.len()
    );
}

// ---------------------------------------------------------------------------
// 11. How we rank
// ---------------------------------------------------------------------------

#[test]
fn how_we_rank_explains_the_adjusted_rating_with_the_directory_mean() {
    let html = get_page(app(), "/how-we-rank").body;
    let text = visible_text(&html);
    assert!(text.to_lowercase().contains("adjusted rating"), "{text}");
    let ratings: Vec<f64> = directory_rows()
        .iter()
        .filter_map(|row| row.iter().find(|(c, _)| *c == "rating"))
        .map(|(_, r)| r.parse::<f64>().expect("rating"))
        .collect();
    let mean = ratings.iter().sum::<f64>() / ratings.len() as f64;
    assert!(
        text.contains(&format!("{mean:.2}")),
        "the directory mean {mean:.2} in: {text}"
    );
    assert!(
        text.contains(&format!("across {} providers", ratings.len())),
        "{text}"
    );
}

#[test]
fn pages_are_gzipped_for_browsers_that_ask() {
    let url = "/?near=Denver,+CO";
    let zipped = app().request("GET", url, &[("Accept-Encoding", "gzip, deflate, br")]);
    assert_eq!(zipped.status, 200);
    assert_eq!(zipped.header("content-encoding"), Some("gzip"));
    assert!(
        zipped
            .header("vary")
            .is_some_and(|v| v.eq_ignore_ascii_case("accept-encoding"))
    );
    let plain = app().request("GET", url, &[("Accept-Encoding", "identity")]);
    assert_eq!(plain.header("content-encoding"), None);
    assert!(
        plain
            .body
            .contains("providers within 25 miles of Denver, CO")
    );
    // Two representations, two tags: a cached plain page never answers a
    // gzip request's revalidation, nor the other way round.
    assert_ne!(zipped.header("etag"), plain.header("etag"));
    // gzip;q=0 means "not gzip".
    let refused = app().request("GET", url, &[("Accept-Encoding", "gzip;q=0, identity")]);
    assert_eq!(refused.header("content-encoding"), None);
    // The compressed page is much smaller than the plain one.
    let zipped_len: usize = zipped
        .header("content-length")
        .and_then(|n| n.parse().ok())
        .expect("a length");
    assert!(
        zipped_len * 3 < plain.body.len(),
        "{zipped_len} vs {}",
        plain.body.len()
    );
}

#[test]
fn other_methods_on_pages_get_a_405_page() {
    for (method, path) in [
        ("POST", "/"),
        ("DELETE", "/providers/den-00"),
        ("PUT", "/how-we-rank"),
    ] {
        let reply = app().request(method, path, &[]);
        assert_eq!(reply.status, 405, "{method} {path}");
        assert!(
            reply.content_type.starts_with("text/html"),
            "{method} {path}"
        );
        assert_eq!(reply.header("allow"), Some("GET, HEAD"));
        assert!(reply.body.contains("<main"), "in the site's layout");
    }
}

#[test]
fn the_insurance_box_suggests_the_directorys_insurers() {
    let html = get_page(app(), "/").body;
    let list = element(&html, "datalist", "insurer-suggestions").expect("a datalist of insurers");
    for insurer in ["Aetna", "Cigna", "Self-pay"] {
        assert!(
            list.contains(&format!("value=\"{insurer}\"")),
            "{insurer}: {list}"
        );
    }
    let input = start_tags(&html)
        .into_iter()
        .find(|tag| tag.name == "input" && tag.attr("name") == Some("insurance"))
        .expect("the insurance box");
    assert_eq!(input.attr("list"), Some("insurer-suggestions"));
    // Markup in an insurer's name stays text in the suggestions too.
    let hostile = get_page(hostile_app(), "/").body;
    assert!(!hostile.contains("<i>Evil"), "unescaped insurer");
}

#[test]
fn hostile_headers_never_break_a_page() {
    let long = "x".repeat(6000);
    let headers: Vec<(&str, String)> = vec![
        ("Accept-Encoding", "gzip;q=abc, *;q=-1, ;;;".into()),
        ("Accept-Encoding", "GZIP;Q=0.5".into()),
        ("If-None-Match", long.clone()),
        ("If-None-Match", "\"unterminated".into()),
        ("X-Forwarded-For", "not-an-ip, 300.1.1.1, ::::".into()),
        ("X-Forwarded-Proto", "javascript:".into()),
        ("Cookie", format!("ketadir_admin={long}")),
        ("Accept", "*/*;q=nonsense".into()),
        ("Referer", "javascript:alert(1)".into()),
    ];
    for path in [
        "/",
        "/?near=Denver,+CO",
        "/providers/den-00",
        "/how-we-rank",
    ] {
        for (name, value) in &headers {
            let reply = app().request("GET", path, &[(name, value.as_str())]);
            assert!(
                reply.status == 200 || reply.status == 304,
                "{path} with {name}: {} {}",
                reply.status,
                reply.body.chars().take(200).collect::<String>()
            );
        }
    }
}

// ---------------------------------------------------------------------------
// 12. Provider text is isolated from the page's direction (issue 16, item 7)
// ---------------------------------------------------------------------------

/// `text` (no markup characters) shown as `<bdi>text</bdi>` in `html`.
fn assert_isolated(html: &str, text: &str, what: &str) {
    assert!(
        html.contains(&format!("<bdi>{text}</bdi>")),
        "{what}: {text:?} is not inside <bdi>: {html}"
    );
}

#[test]
fn provider_text_sits_inside_bdi_on_the_results_page() {
    let html = get_page(app(), "/?near=Denver,+CO&per_page=100").body;
    let card = cards(&html)
        .into_iter()
        .find(|card| card.contains("/providers/den-00?"))
        .expect("den-00 is listed");
    let heading = element(card, "h2", "").expect("a card heading");
    assert_isolated(heading, "Dr. Avery Whitlock 0", "the name");
    for (text, what) in [
        ("Front Range Ketamine Wellness Center 0", "the organization"),
        ("MD", "the credentials"),
        ("Denver, CO", "the city"),
        ("(303) 555-0100", "the phone"),
    ] {
        assert_isolated(card, text, what);
    }
    let excerpt = start_tags(card)
        .into_iter()
        .find(|t| t.attr("class") == Some("excerpt"))
        .expect("a description excerpt");
    assert_eq!(excerpt.attr("dir"), Some("auto"), "the excerpt");
    // Insurers in the facets are provider text as well.
    let facets = element(&html, "aside", "class=\"facets\"").expect("facets");
    assert_isolated(facets, "Cigna", "an insurer facet");
}

#[test]
fn provider_text_sits_inside_bdi_on_the_profile_page() {
    let html = profile(FULL_ID);
    assert!(
        html.contains("<h1 id=\"provider-name\"><bdi>Dr. Imogen Hartwell</bdi></h1>"),
        "the name: {html}"
    );
    for (text, what) in [
        ("Harbor Light Ketamine Clinic", "the organization"),
        (
            "77 Lantern Street, Suite 4, Boston, MA 02110",
            "the address",
        ),
        ("(617) 555-0142", "the phone"),
        ("care@harborlight.example.org", "the email"),
        ("https://harborlight.example.org/ketamine", "the website"),
    ] {
        assert_isolated(&html, text, what);
    }
    for (text, what) in [
        ("MD, PhD", "the credentials"),
        ("Blue Cross Blue Shield, Medicare", "the insurers"),
        ("English, Portuguese", "the languages"),
    ] {
        assert!(
            html.contains(&format!("<dd><bdi>{text}</bdi></dd>")),
            "{what}: {html}"
        );
    }
    for paragraph in [
        "Infusions in a quiet harbour-side suite.",
        "We coordinate with your pain specialist.",
    ] {
        assert!(
            html.contains(&format!("<p dir=\"auto\">{paragraph}</p>")),
            "the description: {html}"
        );
    }
}

// ---------------------------------------------------------------------------
// Sample data
// ---------------------------------------------------------------------------

const SAMPLE_BANNER: &str = "Sample data: these providers are fictional.";

/// Every kind of patient page of `app`, as (what, reply): home, results,
/// empty results, profile, how-we-rank, the report form, its thank-you
/// page and its refusal, and the error pages (400 bad value, 400 unknown
/// place, 404 provider, 404 path, 405), in English and in Spanish.
fn every_kind_of_page(app: &TestApp, provider: &str) -> Vec<(String, Reply)> {
    let form = [("Content-Type", "application/x-www-form-urlencoded")];
    let mut pages = Vec::new();
    for lang in ["", "lang=es"] {
        let with = |path: &str| {
            if lang.is_empty() {
                path.to_string()
            } else if path.contains('?') {
                format!("{path}&{lang}")
            } else {
                format!("{path}?{lang}")
            }
        };
        for path in [
            "/".to_string(),
            "/?near=Denver%2C+CO".to_string(),
            "/?q=zzqxv+zzqxw&all_words=true".to_string(),
            format!("/providers/{provider}"),
            "/how-we-rank".to_string(),
            format!("/providers/{provider}/report"),
            format!("/providers/{provider}/report?sent=1"),
            "/?near=Denver%2C+CO&min_rating=9".to_string(),
            "/?near=Xyzzyville".to_string(),
            "/providers/no-such-id".to_string(),
            "/no-such-page".to_string(),
        ] {
            let url = with(&path);
            pages.push((url.clone(), app.get(&url)));
        }
        let url = with("/how-we-rank");
        pages.push((format!("DELETE {url}"), app.request("DELETE", &url, &[])));
        let url = with(&format!("/providers/{provider}/report"));
        pages.push((
            format!("POST {url} (no reason)"),
            app.send("POST", &url, &form, b"details=x"),
        ));
    }
    pages
}

/// A server on another page limit: its 429 page, in both languages.
fn limited_pages(csv: &str) -> Vec<(String, Reply)> {
    let app = spawn_app_with(csv, limited_to(1));
    assert_eq!(app.get("/how-we-rank").status, 200);
    ["/how-we-rank", "/how-we-rank?lang=es"]
        .into_iter()
        .map(|url| {
            let reply = app.get(url);
            assert_eq!(reply.status, 429, "{url}: {}", reply.body);
            (format!("429 {url}"), reply)
        })
        .collect()
}

/// While the served generation was built from the bundled sample file,
/// every patient page says the providers are fictional (in the page's
/// language); a directory built from any other file never does.
#[test]
fn sample_data_says_so_on_every_page_and_real_data_never() {
    let sample = spawn_app(&sample_csv());
    let mut pages = every_kind_of_page(&sample, "p-000001");
    pages.extend(limited_pages(&sample_csv()));
    let statuses: Vec<u16> = pages.iter().map(|(_, reply)| reply.status).collect();
    for status in [200, 400, 404, 405, 429] {
        assert!(
            statuses.contains(&status),
            "no {status} page among {statuses:?}"
        );
    }
    for (what, reply) in &pages {
        let banner = element(&reply.body, "p", "class=\"sample-banner\"")
            .map(text_of)
            .unwrap_or_else(|| panic!("{what} ({}): no sample banner", reply.status));
        let expected = if what.contains("lang=es") {
            "Datos de muestra: estos proveedores son ficticios."
        } else {
            SAMPLE_BANNER
        };
        assert_eq!(banner, expected, "{what}");
        // Inside the header, so it is read before the main content.
        let header = element(&reply.body, "header", "class=\"site-header\"").expect("a header");
        assert!(
            header.contains("sample-banner"),
            "{what}: banner outside the header"
        );
    }

    let other = spawn_app(&denver_csv("den", 30));
    let mut pages = every_kind_of_page(&other, "den-0");
    pages.extend(limited_pages(&denver_csv("den", 30)));
    for (what, reply) in &pages {
        assert!(
            reply.content_type.starts_with("text/html"),
            "{what}: {}",
            reply.content_type
        );
        assert!(
            !reply.body.contains("sample-banner")
                && !reply.body.contains(SAMPLE_BANNER)
                && !reply.body.contains("ficticios"),
            "{what} ({}): a sample banner on real data",
            reply.status
        );
    }
}
