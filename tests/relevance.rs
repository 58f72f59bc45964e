//! Patient-style queries over the bundled sample data: sentences,
//! misspellings, abbreviations and brand names, each with what must hold
//! for it (docs/search.md, "Words that say nothing here" and "Places typed
//! as words"). A table test: a new phrasing is one more row.

use std::fs::File;
use std::io::BufReader;
use std::sync::{Arc, OnceLock};

use ketadir::index::{Generation, ImportOptions, IndexDir, import_csv};
use ketadir::provider::{Condition, Treatment};
use ketadir::search::{SearchRequest, SearchResponse, search, search_most_words};

struct Fixture {
    _dir: tempfile::TempDir,
    generation: Arc<Generation>,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let index = IndexDir::new(dir.path().join("index"));
        let csv = concat!(env!("CARGO_MANIFEST_DIR"), "/data/providers.csv");
        let reader = BufReader::new(File::open(csv).expect("the sample data"));
        let outcome =
            import_csv(&index, reader, &ImportOptions::default(), |_| {}).expect("the import runs");
        assert!(outcome.generation.is_some(), "{:?}", outcome.rejection);
        let generation = Arc::new(Generation::open_current(&index).expect("opens"));
        Fixture {
            _dir: dir,
            generation,
        }
    })
}

fn run(pairs: &[(&str, &str)]) -> SearchResponse {
    let request = SearchRequest::from_pairs(pairs.iter().copied())
        .unwrap_or_else(|e| panic!("{pairs:?}: {e:?}"));
    search(&fixture().generation, &request).unwrap_or_else(|e| panic!("{pairs:?}: {e}"))
}

/// What a result must offer or treat: any one of these.
#[derive(Clone, Copy)]
enum Topic {
    Treats(&'static [Condition]),
    Offers(&'static [Treatment]),
    /// Within this many miles of the search's place.
    Within(f64),
    Anything,
}

struct Case {
    /// What the patient typed.
    q: &'static str,
    /// Other parameters of the search.
    with: &'static [(&'static str, &'static str)],
    /// The keyword search it must equal in count (same other parameters);
    /// `None` when no such keyword form exists.
    same_as: Option<&'static [(&'static str, &'static str)]>,
    /// What the top five results must have.
    top: Topic,
}

const DEPRESSIONS: &[Condition] = &[
    Condition::Depression,
    Condition::TreatmentResistantDepression,
    Condition::BipolarDepression,
];

const fn case(
    q: &'static str,
    with: &'static [(&'static str, &'static str)],
    same_as: Option<&'static [(&'static str, &'static str)]>,
    top: Topic,
) -> Case {
    Case {
        q,
        with,
        same_as,
        top,
    }
}

const DENVER: &[(&str, &str)] = &[("near", "Denver, CO"), ("radius", "100")];

const CASES: &[Case] = &[
    case(
        "ketamine therapy for depression near me",
        DENVER,
        Some(&[("q", "depression")]),
        Topic::Treats(DEPRESSIONS),
    ),
    case(
        "ketamine therapy for depression near me",
        &[],
        Some(&[("q", "depression")]),
        Topic::Treats(DEPRESSIONS),
    ),
    case(
        "ketamine for depression",
        &[],
        Some(&[("q", "depression")]),
        Topic::Treats(DEPRESSIONS),
    ),
    case(
        "ketamine clinic for depression",
        &[],
        Some(&[("q", "depression")]),
        Topic::Treats(DEPRESSIONS),
    ),
    case(
        "I need help with my depression please",
        &[],
        Some(&[("q", "depression")]),
        Topic::Treats(DEPRESSIONS),
    ),
    case("depresion", &[], None, Topic::Treats(DEPRESSIONS)),
    case("depressed", &[], None, Topic::Treats(DEPRESSIONS)),
    case("MDD", &[], None, Topic::Treats(&[Condition::Depression])),
    case(
        "TRD",
        &[],
        None,
        Topic::Treats(&[Condition::TreatmentResistantDepression]),
    ),
    case(
        "treatment resistant depression",
        &[],
        None,
        Topic::Treats(&[Condition::TreatmentResistantDepression]),
    ),
    case(
        "best doctor for treatment resistant depression",
        &[],
        Some(&[("q", "treatment resistant depression")]),
        Topic::Treats(&[Condition::TreatmentResistantDepression]),
    ),
    case(
        "bipolar depression",
        &[],
        None,
        Topic::Treats(&[Condition::BipolarDepression]),
    ),
    case(
        "bipolar",
        &[],
        None,
        Topic::Treats(&[Condition::BipolarDepression]),
    ),
    case("PTSD", &[], None, Topic::Treats(&[Condition::Ptsd])),
    case(
        "ketamine therapy for PTSD near me",
        &[],
        Some(&[("q", "ptsd")]),
        Topic::Treats(&[Condition::Ptsd]),
    ),
    case("trauma", &[], None, Topic::Treats(&[Condition::Ptsd])),
    case(
        "suicidal thoughts",
        &[],
        None,
        Topic::Treats(&[Condition::SuicidalIdeation]),
    ),
    case(
        "anxiety clinic",
        &[],
        Some(&[("q", "anxiety")]),
        Topic::Treats(&[Condition::Anxiety]),
    ),
    case("OCD", &[], None, Topic::Treats(&[Condition::Ocd])),
    case("CRPS", &[], None, Topic::Treats(&[Condition::Crps])),
    case("RSD", &[], None, Topic::Treats(&[Condition::Crps])),
    case(
        "ketamine infusion for CRPS",
        &[],
        Some(&[("q", "infusion crps")]),
        Topic::Treats(&[Condition::Crps]),
    ),
    case(
        "complex regional pain syndrome",
        &[],
        None,
        Topic::Treats(&[Condition::Crps]),
    ),
    case(
        "fibromyalgia",
        &[],
        None,
        Topic::Treats(&[Condition::Fibromyalgia]),
    ),
    case(
        "fibromyalga",
        &[],
        None,
        Topic::Treats(&[Condition::Fibromyalgia]),
    ),
    case(
        "fibro",
        &[],
        None,
        Topic::Treats(&[Condition::Fibromyalgia]),
    ),
    case(
        "ketamine clinic for fibromyalgia",
        &[],
        Some(&[("q", "fibromyalgia")]),
        Topic::Treats(&[Condition::Fibromyalgia]),
    ),
    case(
        "nerve pain",
        &[],
        None,
        Topic::Treats(&[Condition::NeuropathicPain]),
    ),
    case(
        "neuropathy doctor",
        &[],
        Some(&[("q", "neuropathy")]),
        Topic::Treats(&[Condition::NeuropathicPain]),
    ),
    case(
        "migraines",
        &[],
        None,
        Topic::Treats(&[Condition::Migraine]),
    ),
    case(
        "chronic pain specialist",
        &[],
        Some(&[("q", "chronic pain")]),
        Topic::Treats(&[Condition::ChronicPain]),
    ),
    case(
        "spravato",
        &[],
        None,
        Topic::Offers(&[Treatment::EsketamineNasal]),
    ),
    case(
        "Spravato near me",
        &[],
        Some(&[("q", "spravato")]),
        Topic::Offers(&[Treatment::EsketamineNasal]),
    ),
    case(
        "esketamine nasal spray",
        &[],
        None,
        Topic::Offers(&[Treatment::EsketamineNasal]),
    ),
    case(
        "IV ketamine",
        &[],
        Some(&[("q", "iv")]),
        Topic::Offers(&[Treatment::IvInfusion]),
    ),
    case(
        "IV infusion therapy",
        &[],
        Some(&[("q", "iv infusion")]),
        Topic::Offers(&[Treatment::IvInfusion]),
    ),
    case(
        "IM ketamine injection",
        &[],
        Some(&[("q", "im injection")]),
        Topic::Offers(&[Treatment::ImInjection]),
    ),
    case(
        "intramuscular",
        &[],
        None,
        Topic::Offers(&[Treatment::ImInjection]),
    ),
    case(
        "ketamine lozenges",
        &[],
        Some(&[("q", "lozenges")]),
        Topic::Offers(&[Treatment::OralSublingual]),
    ),
    case(
        "troches",
        &[],
        None,
        Topic::Offers(&[Treatment::OralSublingual]),
    ),
    case(
        "KAP",
        &[],
        None,
        Topic::Offers(&[Treatment::KetamineAssistedPsychotherapy]),
    ),
    case(
        "ketamine assisted psychotherapy",
        &[],
        Some(&[("q", "assisted psychotherapy")]),
        Topic::Offers(&[Treatment::KetamineAssistedPsychotherapy]),
    ),
    case(
        "best ketamine doctor in Austin, TX",
        &[],
        Some(&[("near", "Austin, TX")]),
        Topic::Within(25.0),
    ),
    case(
        "ketamine for depression in Austin, TX",
        &[],
        Some(&[("q", "depression"), ("near", "Austin, TX")]),
        Topic::Treats(DEPRESSIONS),
    ),
    case(
        "ketamine clinic Chicago IL",
        &[],
        Some(&[("near", "Chicago, IL")]),
        Topic::Anything,
    ),
    case(
        "depression 77002",
        &[],
        Some(&[("q", "depression"), ("near", "77002")]),
        Topic::Treats(DEPRESSIONS),
    ),
    case(
        "find a ketamine provider near me",
        &[],
        Some(&[]),
        Topic::Anything,
    ),
];

fn offers(case: &Case, response: &SearchResponse) -> Vec<String> {
    let mut problems = Vec::new();
    for hit in response.results.iter().take(5) {
        let p = &hit.provider;
        let ok = match case.top {
            Topic::Treats(conditions) => p.conditions.iter().any(|c| conditions.contains(c)),
            Topic::Offers(treatments) => p.treatments.iter().any(|t| treatments.contains(t)),
            Topic::Within(miles) => hit.distance_miles.is_some_and(|d| d <= miles),
            Topic::Anything => true,
        };
        if !ok {
            problems.push(format!("{} ({}) is in the top 5", p.id, p.name));
        }
    }
    problems
}

#[test]
fn patient_style_queries_find_what_they_ask_for() {
    assert!(CASES.len() >= 40);
    let mut failures = Vec::new();
    for case in CASES {
        let mut pairs = vec![("q", case.q)];
        pairs.extend_from_slice(case.with);
        let response = run(&pairs);
        if response.total == 0 {
            failures.push(format!("{:?} {:?}: no results", case.q, case.with));
            continue;
        }
        for problem in offers(case, &response) {
            failures.push(format!("{:?}: {problem}", case.q));
        }
        if let Some(keywords) = case.same_as {
            let mut pairs = keywords.to_vec();
            pairs.extend_from_slice(case.with);
            let keyword = run(&pairs);
            if keyword.total != response.total {
                failures.push(format!(
                    "{:?}: {} results, but {keywords:?} finds {}",
                    case.q, response.total, keyword.total
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn a_sentence_near_denver_finds_exactly_what_its_keyword_finds() {
    let sentence = run(&[
        ("q", "ketamine therapy for depression near me"),
        ("near", "Denver, CO"),
    ]);
    let keyword = run(&[("q", "depression"), ("near", "Denver, CO")]);
    let ids = |r: &SearchResponse| {
        r.results
            .iter()
            .map(|h| h.provider.id.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&sentence), ids(&keyword));
    assert_eq!(sentence.total, keyword.total);
    assert_eq!(
        sentence.query.as_ref().map(|q| q.words.clone()),
        Some(vec!["depression".to_string()])
    );
}

#[test]
fn a_place_among_the_words_becomes_the_location() {
    let response = run(&[
        ("q", "best ketamine doctor in Austin, TX"),
        ("radius", "10"),
    ]);
    let location = response.location.as_ref().expect("a location");
    assert_eq!(location.query, "Austin, TX");
    assert_eq!(location.radius_miles, Some(10.0));
    assert_eq!(response.query.as_ref().map(|q| q.words.len()), Some(0));
    assert!(response.total > 0);
    assert!(
        response
            .results
            .iter()
            .all(|h| h.distance_miles.is_some_and(|d| d <= 10.0))
    );
    assert!(response.results.iter().any(|h| h.provider.city == "Austin"));
    // With a place given, the words stay words.
    let given = run(&[("q", "depression in Austin, TX"), ("near", "80202")]);
    assert_eq!(
        given.location.as_ref().map(|l| l.query.as_str()),
        Some("80202")
    );
    assert!(
        given
            .query
            .as_ref()
            .is_some_and(|q| q.words.contains(&"austin".to_string()))
    );
}

#[test]
fn words_that_match_nothing_together_get_per_word_totals_and_a_page_fallback() {
    let strict = run(&[("q", "fibromyalgia zzqxv")]);
    assert_eq!(strict.total, 0);
    let suggestions = strict.suggestions.as_ref().expect("suggestions");
    let fibro = run(&[("q", "fibromyalgia")]).total;
    assert_eq!(suggestions.len(), 2);
    assert_eq!(
        (suggestions[0].word.as_str(), suggestions[0].total),
        ("fibromyalgia", fibro)
    );
    assert_eq!(
        (suggestions[1].word.as_str(), suggestions[1].total),
        ("zzqxv", 0)
    );
    let request = SearchRequest::from_pairs([("q", "fibromyalgia zzqxv")]).expect("parses");
    let (most, matched) = search_most_words(&fixture().generation, &request)
        .expect("runs")
        .expect("a fallback");
    assert_eq!((most.total, matched), (fibro, 1));
    // Every word of a sentence that matches anything keeps the page full.
    for q in [
        "veterans ptsd",
        "fibromyalgia in the mountains",
        "spravato weekend appointments",
    ] {
        let request = SearchRequest::from_pairs([("q", q)]).expect("parses");
        let strict = search(&fixture().generation, &request).expect("runs");
        if strict.total == 0 {
            let fallback = search_most_words(&fixture().generation, &request).expect("runs");
            assert!(fallback.is_some_and(|(r, _)| r.total > 0), "{q}");
        }
    }
}

#[test]
fn a_sentence_of_only_empty_words_is_no_text_and_relevance_falls_back() {
    let response = run(&[("q", "ketamine clinic near me"), ("sort", "relevance")]);
    assert_eq!(response.sort, "rating");
    assert_eq!(response.total, run(&[]).total);
    assert_eq!(response.query.as_ref().map(|q| q.words.len()), Some(0));
    assert!(run(&[]).query.is_none());
}
