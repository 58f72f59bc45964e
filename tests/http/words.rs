//! The results page reads the "what" box as patients write it: words that
//! say nothing are dropped (and the page says what was searched for), a
//! place typed among the words becomes the location, and a sentence whose
//! words match nothing together still leads somewhere.

use super::helpers::{empty_state, sample_csv, search_links, spawn_app};

#[test]
fn the_page_says_what_it_searched_for_and_where() {
    let app = spawn_app(&sample_csv());
    let page = app.get("/?q=ketamine+therapy+for+depression+near+me&near=Denver%2C+CO");
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("Searching for: depression"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("You asked for providers near you"));
    let keyword = app.get("/?q=depression&near=Denver%2C+CO");
    let count = |body: &str| body.matches("<li class=\"card\"").count();
    assert_eq!(count(&page.body), count(&keyword.body));

    let austin = app.get("/?q=best+ketamine+doctor+in+Austin%2C+TX");
    assert_eq!(austin.status, 200);
    assert!(
        austin
            .body
            .contains("of Austin, TX (from your search words)"),
        "{}",
        austin.body
    );

    let near_me = app.get("/?q=ketamine+for+ptsd+near+me");
    assert!(near_me.body.contains("You asked for providers near you"));
}

#[test]
fn words_that_match_nothing_together_fall_back_to_most_of_them() {
    let app = spawn_app(&sample_csv());
    let page = app.get("/?q=fibromyalgia+zzqxv");
    assert_eq!(page.status, 200);
    assert!(
        page.body
            .contains("No provider matches every word; these match 1 of your 2 words"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("<li class=\"card\""),
        "results are listed"
    );
    assert!(page.body.contains("all_words=true"));
    let strict = app.get("/?q=fibromyalgia+zzqxv&all_words=true");
    assert_eq!(strict.status, 200);
    assert!(!strict.body.contains("<li class=\"card\""));
    assert!(strict.body.contains("No providers match this search"));
    // The API never relaxes: total 0 and each word's own total.
    let api = app.get_json("/api/v1/search?q=fibromyalgia+zzqxv");
    assert_eq!(api["total"], 0);
    assert_eq!(api["suggestions"][1]["word"], "zzqxv");
    assert_eq!(api["suggestions"][1]["total"], 0);
    assert!(
        api["suggestions"][0]["total"]
            .as_u64()
            .is_some_and(|n| n > 0)
    );
    assert_eq!(
        api["query"]["words"],
        serde_json::json!(["fibromyalgia", "zzqxv"])
    );
}

/// Every page carries the 988 crisis line; searches about depression,
/// PTSD or suicidal thoughts (by filter or by their words, misspelt too)
/// show it as a box before the results, empty results included.
#[test]
fn the_crisis_line_is_on_every_page_and_in_a_box_for_crisis_searches() {
    let app = spawn_app(&sample_csv());
    for path in [
        "/",
        "/how-we-rank",
        "/providers/p-000001",
        "/?q=fibromyalgia",
        "/no-such-page",
    ] {
        let page = app.get(path);
        assert!(
            // The sentence comes from the catalogue, so its "&" is escaped
            // as askama escapes text (`&#38;`).
            page.body.contains(r#"Call or text <a href="tel:988">988</a> (Suicide &#38; Crisis Lifeline). In an emergency call <a href="tel:911">911</a>."#),
            "{path}: {}",
            page.body
        );
    }
    let boxed = |path: &str| app.get(path).body.contains("class=\"crisis-box\"");
    assert!(boxed("/?condition=depression"));
    assert!(boxed("/?condition=ptsd&near=80202"));
    assert!(boxed("/?q=ketamine+for+depresion"));
    assert!(boxed("/?q=suicidal+thoughts"));
    assert!(
        boxed("/?q=trauma+zzqxv+zzqxw"),
        "relaxed and empty results too"
    );
    assert!(!boxed("/?q=fibromyalgia"));
    assert!(!boxed("/?condition=crps"));
    let page = app.get("/?condition=bipolar_depression");
    let crisis = page.body.find("class=\"crisis-box\"").expect("the box");
    let first_card = page.body.find("<li class=\"card\"").expect("a result");
    assert!(crisis < first_card, "the box comes before the first result");
    assert!(
        page.body.contains("href=\"#results\""),
        "a skip link to the results"
    );
}

/// Errors and labels in plain words: a sort that needs a place says so in
/// the form's terms, a select never offers an invalid value, and a search
/// around coordinates (the "Use my location" button) reads "your location".
#[test]
fn errors_and_labels_speak_plainly() {
    let app = spawn_app(&sample_csv());
    let page = app.get("/?sort=distance&min_rating=9");
    assert_eq!(page.status, 400);
    assert!(
        page.body
            .contains("Nearest first needs a place — type a ZIP code or city under “Where”"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("sort=distance needs"), "{}", page.body);
    assert!(!page.body.contains(r#"<option value="9""#), "{}", page.body);
    let near = app.get("/?near=39.7392%2C-104.9903&radius=25");
    assert_eq!(near.status, 200);
    assert!(
        near.body.contains("within 25 miles of your location"),
        "{}",
        near.body
    );
    assert!(!near.body.contains("of 39.7392"), "{}", near.body);
}

/// An empty results page offers only changes that find someone, each with
/// its count, says which filter emptied the list, and links no facet value
/// that would lead to another empty page.
#[test]
fn no_results_pages_lead_only_to_results() {
    let app = spawn_app(&sample_csv());
    let page = app.get("/?near=Denver%2C+CO&condition=ptsd&insurance=Aetna");
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("No providers match this search"),
        "{}",
        page.body
    );
    let empty = empty_state(&page.body);
    let links = search_links(empty);
    assert!(!links.is_empty(), "{empty}");
    assert!(empty.contains(" — "), "counts beside the changes: {empty}");
    for href in links {
        let href = href.replace("&#38;", "&").replace("&amp;", "&");
        let found = app.get_json(&format!("/api/v1/search{}", &href[1..]));
        assert!(
            found["total"].as_u64().is_some_and(|n| n > 0),
            "{href} leads to an empty page"
        );
    }
    // The facet panel shows values nobody matches as text, not as links.
    let facets = &page.body[page.body.find("class=\"facets\"").expect("facets")..];
    assert!(facets.contains("class=\"facet-none\""), "{facets}");
    for item in facets
        .split("<li>")
        .filter(|item| item.contains("(0)</span></a>"))
    {
        assert!(
            item.contains("aria-current=\"true\""),
            "only an active filter (to remove it) links with a count of 0: {item}"
        );
    }
}

/// A town named without its state that several states have gets results
/// near the most populous and the question "Which Springfield?" with the
/// others, each with its count and a link that resolves.
#[test]
fn an_ambiguous_town_asks_which_one() {
    let app = spawn_app(&sample_csv());
    let page = app.get("/?near=Springfield");
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("<strong>Which Springfield?</strong>"),
        "{}",
        page.body
    );
    assert!(page.body.contains("Springfield, MO — "), "{}", page.body);
    assert!(page.body.contains("Springfield, IL — "), "{}", page.body);
    let picked = app.get("/?near=Springfield%2C+IL");
    assert_eq!(picked.status, 200);
    assert!(!picked.body.contains("Which Springfield?"));
    assert!(
        picked.body.contains("of Springfield, IL"),
        "{}",
        picked.body
    );
}

/// A profile opened from results leads back to that exact search, and only
/// ever to a search of this site; near the name it offers a Call button,
/// the website and directions, then whether the provider takes new
/// patients and which insurance.
#[test]
fn a_profile_leads_back_to_its_search_and_puts_the_call_first() {
    let app = spawn_app(&sample_csv());
    let results = app.get("/?q=depression&near=Denver%2C+CO&sort=distance");
    let start = results.body.find("<li class=\"card\">").expect("a card");
    let href = results.body[start..]
        .split("href=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the card's link")
        .replace("&#38;", "&")
        .replace("&amp;", "&");
    assert!(
        href.starts_with("/providers/") && href.contains("?back="),
        "{href}"
    );
    let profile = app.get(&href);
    assert_eq!(profile.status, 200);
    assert!(
        profile.body.contains(
            r#"<a href="/?q=depression&#38;near=Denver%2C+CO&#38;radius=25&#38;sort=distance">← Back to results</a>"#
        ),
        "{}",
        profile.body
    );
    assert!(profile.body.contains(r#"<a href="/">New search</a>"#));
    let name = profile.body.find("id=\"provider-name\"").expect("the name");
    let call = profile
        .body
        .find("class=\"button call\"")
        .expect("a Call button");
    let safety = profile
        .body
        .find("id=\"safety-heading\"")
        .expect("the safety box");
    let details = profile
        .body
        .find("id=\"contact-heading\"")
        .expect("the details");
    assert!(
        name < call && call < safety && safety < details,
        "name, call, safety, details"
    );
    assert!(profile.body.contains("Directions</a>"));
    assert!(profile.body.contains("new patients · "), "{}", profile.body);
    // Anything but a search of this site is no way back.
    for hostile in [
        "https://evil.example/",
        "//evil.example",
        "javascript:alert(1)",
        "sort=distance",
        "near=Nowhere&radius=abc",
    ] {
        let encoded: String = form_urlencoded::byte_serialize(hostile.as_bytes()).collect();
        let page = app.get(&format!("/providers/p-000001?back={encoded}"));
        assert_eq!(page.status, 200, "{hostile}");
        assert!(!page.body.contains("evil.example"), "{hostile}");
        assert!(!page.body.contains("javascript:"), "{hostile}");
        assert!(!page.body.contains("Back to results"), "{hostile}");
    }
}

#[test]
fn spanish_words_find_what_the_english_ones_find() {
    let app = spawn_app(&sample_csv());
    for (spanish, condition) in [
        ("ansiedad", "anxiety"),
        ("migraña", "migraine"),
        ("fibromialgia", "fibromyalgia"),
        ("depresión", "depression"),
    ] {
        let word: String = form_urlencoded::byte_serialize(spanish.as_bytes()).collect();
        let by_word = app.get_json(&format!("/api/v1/search?q={word}&facets=false"));
        let by_filter = app.get_json(&format!(
            "/api/v1/search?condition={condition}&facets=false"
        ));
        assert!(
            by_word["total"].as_u64().is_some_and(|n| n > 0),
            "{spanish}"
        );
        // At least those (a typo-tolerant word may find more: "depresion"
        // is one letter from "depression", in three conditions' labels).
        assert!(
            by_word["total"].as_u64() >= by_filter["total"].as_u64(),
            "{spanish}: {} < {}",
            by_word["total"],
            by_filter["total"]
        );
    }
    // The crisis box answers Spanish words too.
    let page = app.get("/?q=depresi%C3%B3n&lang=es");
    assert!(page.body.contains("class=\"crisis-box\""), "{}", page.body);
}
