//! The results page reads the "what" box as patients write it: words that
//! say nothing are dropped (and the page says what was searched for), a
//! place typed among the words becomes the location, and a sentence whose
//! words match nothing together still leads somewhere.

use super::helpers::{sample_csv, spawn_app};

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
