//! The patient pages in Spanish (`lang=es`) and English (the default), as
//! a visitor meets them: every page exists in both, says so in `<html
//! lang>`, offers a switch to the same page in the other language, and
//! keeps its language on every link and form; English addresses stay as
//! they were; a `lang` the pages do not speak falls back to English; the
//! API stays English.

use std::sync::OnceLock;

use super::helpers::{TestApp, sample_csv, spawn_app};
use super::pages::{anchors, cards, element, h1, heading_count, start_tags, text_of};

fn app() -> &'static TestApp {
    static APP: OnceLock<TestApp> = OnceLock::new();
    APP.get_or_init(|| spawn_app(&sample_csv()))
}

/// What a lookup of a key the catalogue lacks prints (`pages::i18n::MISSING`).
const MISSING: &str = "[missing text]";

/// A page of every kind, as a path without `lang` and its status.
const PAGES: &[(&str, u16)] = &[
    ("/", 200),
    ("/?condition=fibromyalgia&near=Denver%2C+CO", 200),
    ("/?condition=fibromyalgia&near=Denver%2C+CO&page=2", 200),
    ("/?q=depression&near=Denver%2C+CO&sort=distance", 200),
    ("/?near=Springfield", 200),
    ("/?q=zzqxv+zzqxw&near=Bozeman%2C+MT&all_words=true", 200),
    ("/?q=fibromyalgia+zzqxv", 200),
    ("/?near=Denver%2C+CO&page=400", 200),
    ("/?near=Colorado", 200),
    ("/providers/p-000001", 200),
    ("/how-we-rank", 200),
    ("/providers/p-000001/report", 200),
    ("/providers/p-000001/report?sent=1", 200),
    ("/?near=Denver%2C+CO&min_rating=9&sort=nearest", 400),
    ("/?near=Denvr%2C+CO", 400),
    ("/providers/no-such-id", 404),
    ("/no-such-page", 404),
];

fn spanish(path: &str) -> String {
    let joiner = if path.contains('?') { '&' } else { '?' };
    format!("{path}{joiner}lang=es")
}

/// The `lang` values of an address's query string.
fn lang_values(href: &str) -> Vec<String> {
    let query = href.split_once('?').map_or("", |(_, q)| q);
    let query = query.split('#').next().unwrap_or_default();
    form_urlencoded::parse(query.as_bytes())
        .filter(|(name, _)| name == "lang")
        .map(|(_, value)| value.into_owned())
        .collect()
}

/// Same-site page addresses (not assets, the API, anchors or `tel:`).
fn is_page_link(href: &str) -> bool {
    href.starts_with('/') && !href.starts_with("/static/") && !href.starts_with("/api/")
}

/// The language switch: its address and the language it names.
fn switch(html: &str) -> (String, String) {
    let tag = start_tags(html)
        .into_iter()
        .find(|tag| tag.name == "a" && tag.attr("class") == Some("lang-switch"))
        .expect("a language switch");
    (
        tag.attr("href").unwrap_or_default().to_string(),
        tag.attr("hreflang").unwrap_or_default().to_string(),
    )
}

/// Every page in Spanish: `<html lang="es">`, Spanish words, every link
/// to a page and every form of this site in Spanish, and a switch to the
/// same page in English — the address the English page has.
#[test]
fn every_page_exists_in_spanish_and_keeps_its_language() {
    for (path, status) in PAGES {
        let url = spanish(path);
        let reply = app().get(&url);
        assert_eq!(reply.status, *status, "{url}: {}", reply.body);
        let html = &reply.body;
        assert!(html.contains("<html lang=\"es\">"), "{url}: not lang=es");
        assert!(!html.contains(MISSING), "{url}: a missing message");
        assert!(
            text_of(html).contains("Línea de Prevención del Suicidio y Crisis"),
            "{url}: no Spanish crisis line"
        );
        for link in anchors(html).iter().filter(|a| is_page_link(&a.href)) {
            if link.href == switch(html).0 {
                continue;
            }
            assert_eq!(
                lang_values(&link.href),
                ["es"],
                "{url}: the link {:?} ({}) leaves Spanish",
                link.href,
                link.text
            );
        }
        for form in start_tags(html).into_iter().filter(|t| t.name == "form") {
            let action = form.attr("action").unwrap_or_default().to_string();
            let start = html.find(&format!("action=\"{}\"", action.replace('&', "&#38;")));
            let hidden = start.is_some_and(|at| {
                let body = &html[at..];
                let body = &body[..body.find("</form>").unwrap_or(body.len())];
                body.contains(r#"<input type="hidden" name="lang" value="es">"#)
            });
            assert!(
                lang_values(&action) == ["es"] || hidden,
                "{url}: the form to {action} does not carry lang=es"
            );
        }
        let (href, hreflang) = switch(html);
        assert_eq!(hreflang, "en", "{url}");
        assert!(lang_values(&href).is_empty(), "{url}: {href}");
        let english = app().get(&href);
        assert_eq!(english.status, *status, "{url} → {href}");
        assert!(english.body.contains("<html lang=\"en\">"), "{href}");
        // And back again: the English page's switch is the Spanish page.
        assert_eq!(switch(&english.body).0, spanish(&href), "{href}");
    }
}

/// English pages keep their addresses exactly: no `lang` on any link or
/// form, and a switch to the Spanish page.
#[test]
fn english_addresses_stay_as_they_were() {
    for (path, status) in PAGES {
        let reply = app().get(path);
        assert_eq!(reply.status, *status, "{path}");
        let html = &reply.body;
        assert!(html.contains("<html lang=\"en\">"), "{path}");
        assert!(!html.contains(MISSING), "{path}: a missing message");
        for link in anchors(html).iter().filter(|a| is_page_link(&a.href)) {
            if link.href == switch(html).0 {
                continue;
            }
            assert!(
                lang_values(&link.href).is_empty(),
                "{path}: {} carries lang",
                link.href
            );
        }
        assert!(!html.contains("name=\"lang\""), "{path}: a lang field");
        let (href, hreflang) = switch(html);
        assert_eq!(hreflang, "es");
        assert_eq!(lang_values(&href), ["es"], "{path}: {href}");
    }
}

/// The words a Spanish-speaking patient reads: headings, counts,
/// vocabulary, the safety box, the crisis box, plain-word errors.
#[test]
fn spanish_pages_speak_plain_spanish() {
    let results = app().get("/?condition=fibromyalgia&near=Denver%2C+CO&lang=es");
    let heading = h1(&results.body);
    assert!(
        heading.ends_with("proveedores a menos de 25 millas de Denver, CO"),
        "{heading}"
    );
    let english = app().get("/?condition=fibromyalgia&near=Denver%2C+CO");
    assert_eq!(heading_count(&results.body), heading_count(&english.body));
    let text = text_of(&results.body);
    for words in [
        "Síndrome de dolor regional complejo (SDRC)",
        "Depresión resistente al tratamiento",
        "Acepta pacientes nuevos",
        "Refinar",
        "Quitar filtro: Fibromialgia",
        "Primero los mejor calificados",
    ] {
        assert!(text.contains(words), "results: no {words:?}");
    }
    let card = text_of(cards(&results.body)[0]);
    assert!(
        card.contains("Calificación de ") || card.contains("Todavía no tiene reseñas"),
        "{card}"
    );
    assert!(card.contains("por sesión") || !card.contains('$'), "{card}");

    let crisis = app().get("/?condition=depression&lang=es");
    let alert =
        text_of(element(&crisis.body, "aside", "class=\"crisis-box\"").expect("crisis box"));
    assert!(
        alert
            .starts_with("¿Está pensando en el suicidio? Llame o envíe un mensaje de texto al 988"),
        "{alert}"
    );
    assert!(crisis.body.contains("href=\"tel:988\"") && crisis.body.contains("href=\"tel:911\""));
    assert!(
        text_of(&crisis.body).contains("En caso de emergencia, llame al 911"),
        "the crisis line"
    );

    let profile = app().get("/providers/p-000001?lang=es");
    let safety = text_of(element(&profile.body, "section", "class=\"safety\"").expect("safety"));
    for words in [
        "embarazada",
        "riñones",
        "hígado",
        "convulsiones",
        "cabeza",
        "historial médico",
        "médico",
    ] {
        assert!(
            safety.contains(words),
            "the safety box lacks {words:?}: {safety}"
        );
    }
    let call = anchors(&profile.body)
        .into_iter()
        .find(|a| a.href.starts_with("tel:") && a.text.starts_with("Llamar"))
        .expect("a Call button in Spanish");
    assert!(call.href.len() > 4);

    let place = app().get("/?near=Xyzzyville&lang=es");
    assert_eq!(place.status, 400);
    assert_eq!(h1(&place.body), "No encontramos ese lugar");
    assert!(text_of(&place.body).contains("No encontramos el lugar “Xyzzyville”."));

    let bad = app().get("/?near=Denver%2C+CO&min_rating=9&lang=es");
    assert_eq!(h1(&bad.body), "Revise su búsqueda");
    let problems = text_of(element(&bad.body, "ul", "class=\"problems\"").expect("problems"));
    assert_eq!(problems, "Calificación mínima: debe ser un número de 0 a 5");

    let town = app().get("/?near=Springfield&lang=es");
    assert!(
        town.body
            .contains("<strong>¿Cuál Springfield busca?</strong>")
    );
    let missing = app().get("/providers/no-such-id?lang=es");
    assert_eq!(h1(&missing.body), "No encontramos esta página");
}

/// A `lang` the pages do not speak is English, never a 500, and never
/// repeated into the page.
#[test]
fn an_unknown_language_falls_back_to_english_and_is_not_echoed() {
    // Values as sent in a URL (percent-encoded).
    for value in [
        "fr",
        "%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        "es%00",
        "%C3%28",
        "en-GB",
        "",
    ] {
        for path in [
            "/",
            "/?near=Denver%2C+CO",
            "/providers/p-000001",
            "/no-such-page",
        ] {
            let joiner = if path.contains('?') { '&' } else { '?' };
            let url = format!("{path}{joiner}lang={value}");
            let reply = app().get(&url);
            assert!(reply.status < 500, "{url}: {}", reply.status);
            assert!(reply.body.contains("<html lang=\"en\">"), "{url}");
            assert!(
                !reply.body.contains("lang=fr") && !reply.body.contains("script>alert"),
                "{url}"
            );
            assert!(
                !reply.body.contains("%3Cscript"),
                "{url}: the value is echoed"
            );
        }
    }
    // Regional Spanish is Spanish.
    assert!(
        app()
            .get("/?lang=es-MX")
            .body
            .contains("<html lang=\"es\">")
    );
}

/// The search form and the report form keep Spanish across a submission.
#[test]
fn forms_keep_spanish_through_a_submission() {
    let home = app().get("/?lang=es");
    assert!(
        home.body
            .contains(r#"<input type="hidden" name="lang" value="es">"#)
    );
    // What the browser sends when the Spanish form is submitted.
    let results = app().get("/?q=&near=80202&radius=25&sort=rating&lang=es");
    assert!(results.body.contains("<html lang=\"es\">"));
    let sent = app().send(
        "POST",
        "/providers/p-000002/report?lang=es",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        b"reason=price&details=",
    );
    assert_eq!(sent.status, 303, "{}", sent.body);
    let location = sent.header("location").expect("a redirect").to_string();
    assert_eq!(location, "/providers/p-000002/report?sent=1&lang=es");
    let thanks = app().get(&location);
    assert_eq!(h1(&thanks.body), "Gracias: su reporte fue enviado");
    let refused = app().send(
        "POST",
        "/providers/p-000002/report?lang=es",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        b"details=",
    );
    assert_eq!(refused.status, 400);
    assert!(
        text_of(&refused.body).contains("Elija al menos una cosa que esté mal en el perfil."),
        "{}",
        refused.body
    );
}

/// The API's labels stay English whatever the page language.
#[test]
fn the_api_stays_english() {
    let vocabulary = app().get_json("/api/v1/vocabulary?lang=es");
    let text = vocabulary.to_string();
    assert!(
        text.contains("Complex regional pain syndrome (CRPS)"),
        "{text}"
    );
    assert!(!text.contains("SDRC"));
    let search = app().get("/api/v1/search?near=80202&lang=es");
    assert_eq!(search.status, 200);
    assert!(search.content_type.starts_with("application/json"));
}
