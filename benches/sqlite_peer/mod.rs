//! The SQLite peer: the bench's searches answered by SQLite (FTS5 + R*Tree,
//! through `rusqlite` and its bundled SQLite), timed in the same run on the
//! same data and query mix (issue "Speed at 1M", item 3), so the figures
//! compare as ratios, which hold from one machine to the next.
//!
//! **Data.** The bench's CSV (`target/bench-data/providers-v2-{rows}.csv`),
//! loaded once into `target/bench-data/peer-v1-{rows}.sqlite` (rebuilt when
//! missing; built under another name and renamed, so an interrupted build
//! leaves nothing half-done). Only the columns the searches read:
//!
//! - `providers`: one row per provider (`rowid` = CSV order), with `id`,
//!   `name`, `city`, `state`, `lat`, `lon` (a blank position is the ZIP's
//!   centroid from `data/us_zips.csv`, as ketadir does), `treatments` and
//!   `conditions` as bitmasks over the closed vocabularies, `telehealth`,
//!   `accepting`, `rating` (NULL when unrated), `review_count`,
//!   `price_min`, and `adjusted`: the rating of SPEC §4's rating sort,
//!   `(10·m + rating·n) / (10 + n)`, `m` the mean raw rating of the rated
//!   providers, computed at load time with the same arithmetic as
//!   `ketadir::provider::adjusted_rating` (so orders agree bit for bit);
//! - `geo`: an R*Tree of each provider's point (a degenerate box), with the
//!   exact `lat`, `lon` as auxiliary columns, so a place-only count needs
//!   no other table;
//! - `fts`: an FTS5 table (contentless, `unicode61` with diacritics
//!   removed) over the words ketadir's `q` searches: name, organization,
//!   description, city, credentials, and the words of the labels and
//!   synonyms of the provider's treatments and conditions (as
//!   `index::schema::searchable_text` builds them);
//! - `insurance(provider, key)`: who takes which insurer (lower case), a
//!   `WITHOUT ROWID` table keyed for the per-candidate check;
//! - `by_state`: an index on `providers(state, treatments, adjusted DESC,
//!   review_count DESC, name, id)` that covers the state + treatment class
//!   (count and page) without reading the table.
//!
//! **Queries.** Each [`SearchRequest`] of the mix (parsed by ketadir's own
//! `from_pairs`, with `q`'s words read by ketadir's `words`) becomes two
//! prepared, cached statements: `count(*)` and the page (`ORDER BY …
//! LIMIT 20`, selecting the page's id, name, town, state, adjusted rating
//! and distance). A place is the R*Tree's bounding box of the circle plus
//! the exact haversine on SPEC §4's 3,958.8-mile sphere (the SQL function
//! `dist`, in Rust). With words too, the R*Tree's candidates are kept when
//! in the words' FTS matches (`+geo.id IN (SELECT rowid FROM fts WHERE fts
//! MATCH …)`: SQLite's own plan drove the join from the FTS matches and
//! looked each up in the R*Tree by id, 3–10 times slower); words alone
//! drive from the FTS index. A count without conditions on the provider's
//! row reads the R*Tree or the FTS index alone. Filters are SQL on the
//! joined row (`treatments & mask`, `rating >= ?`, an `EXISTS` on
//! `insurance`). Sorts follow SPEC §4 with its tie-breaks: rating =
//! adjusted desc, reviews desc, distance, name, id; distance = distance,
//! adjusted desc, id; relevance = FTS5's `bm25()`, then the rating order.
//! Words of 5+ letters match their terms at Damerau-Levenshtein distance 1,
//! as ketadir's do: each word is expanded over the FTS vocabulary (read
//! once per connection with `fts5vocab`) into an `OR` of quoted terms.
//!
//! **Not mirrored.** Facets (the peer is compared with `facets=false`);
//! relevance scores: ketadir ranks by the sum over words of 1 + the exact
//! word's BM25, the peer by FTS5's BM25 over all of a word's terms (fuzzy
//! ones included), so pages of the relevance class differ while their
//! totals should not; the page holds ids and the searched columns, not
//! ketadir's whole records; the parameters the mix does not send (languages,
//! provider types, prices, verification dates, telehealth reach, the
//! facades' filters) are refused with a panic rather than ignored.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use ketadir::provider::{Condition, Treatment, Vocabulary, adjusted_rating};
use ketadir::search::{LocationInput, SearchRequest, SortOrder, resolve_location, text, words};
use rusqlite::functions::FunctionFlags;
use rusqlite::types::Value;
use rusqlite::{Connection, OpenFlags, params};

/// SPEC §4's sphere.
const EARTH_RADIUS_MILES: f64 = 3958.8;
/// The schema's version, in the file name: a cached file of another
/// version is not read.
const FORMAT: &str = "peer-v1";

/// The peer's database for `csv`, built if missing.
pub fn ensure_db(root: &Path, csv: &Path, rows: usize) -> PathBuf {
    let path = csv.with_file_name(format!("{FORMAT}-{rows}.sqlite"));
    if path.exists() {
        let size = std::fs::metadata(&path).map_or(0, |m| m.len());
        println!(
            "SQLite peer: {} ({:.0} MB, cached)",
            path.display(),
            size as f64 / 1e6
        );
        return path;
    }
    let building = path.with_extension("sqlite.building");
    let _ = std::fs::remove_file(&building);
    let started = Instant::now();
    let loaded = build(root, csv, &building);
    std::fs::rename(&building, &path).expect("publish the peer's database");
    let size = std::fs::metadata(&path).map_or(0, |m| m.len());
    println!(
        "SQLite peer: built {} in {:.1} s ({loaded} rows, {:.0} MB)",
        path.display(),
        started.elapsed().as_secs_f64(),
        size as f64 / 1e6
    );
    path
}

/// The ZIP centroids (`data/us_zips.csv`), for rows without a position.
fn zip_centroids(root: &Path) -> HashMap<String, (f64, f64)> {
    let mut reader = csv::Reader::from_path(root.join("data/us_zips.csv")).expect("us_zips.csv");
    reader
        .records()
        .filter_map(Result::ok)
        .filter_map(|r| {
            Some((
                r.get(0)?.to_string(),
                (r.get(3)?.parse().ok()?, r.get(4)?.parse().ok()?),
            ))
        })
        .collect()
}

/// Per value of a vocabulary (in `ALL`'s order), the lower-cased words of
/// its label and synonyms (as `q`'s words are read), once each: what
/// ketadir indexes with a provider.
fn vocabulary_words<V: Vocabulary>() -> Vec<Vec<String>> {
    V::ALL
        .iter()
        .map(|value| {
            let mut words: Vec<String> = std::iter::once(value.label())
                .chain(value.synonyms().iter().copied())
                .flat_map(text::words)
                .collect();
            words.sort_unstable();
            words.dedup();
            words
        })
        .collect()
}

fn flag(value: &str) -> bool {
    matches!(
        value.trim().to_ascii_lowercase().as_str(),
        "true" | "yes" | "1"
    )
}

/// Loads the CSV into a new database at `path`; returns the rows loaded.
fn build(root: &Path, csv: &Path, path: &Path) -> u64 {
    let zips = zip_centroids(root);
    let treatment_words = vocabulary_words::<Treatment>();
    let condition_words = vocabulary_words::<Condition>();
    let mut db = Connection::open(path).expect("create the peer's database");
    // A one-off build: no journal, no fsync; a crash leaves a `.building`
    // file that the next run deletes.
    db.pragma_update_and_check(None, "journal_mode", "OFF", |_| Ok(()))
        .expect("no journal");
    db.execute_batch(
        "PRAGMA synchronous = OFF;
         PRAGMA cache_size = -1048576;
         PRAGMA temp_store = MEMORY;
         CREATE TABLE providers (
             rowid INTEGER PRIMARY KEY,
             id TEXT NOT NULL,
             name TEXT NOT NULL,
             city TEXT NOT NULL,
             state TEXT NOT NULL,
             lat REAL NOT NULL,
             lon REAL NOT NULL,
             treatments INTEGER NOT NULL,
             conditions INTEGER NOT NULL,
             telehealth INTEGER NOT NULL,
             accepting INTEGER NOT NULL,
             rating REAL,
             review_count INTEGER NOT NULL,
             price_min INTEGER,
             adjusted REAL
         );
         CREATE VIRTUAL TABLE geo USING rtree(id, min_lat, max_lat, min_lon, max_lon, +lat, +lon);
         CREATE VIRTUAL TABLE fts USING fts5(text, content = '', tokenize = 'unicode61 remove_diacritics 2');
         CREATE TABLE insurance (
             provider INTEGER NOT NULL,
             key TEXT NOT NULL,
             PRIMARY KEY (provider, key)
         ) WITHOUT ROWID;",
    )
    .expect("the peer's schema (FTS5 and R*Tree compiled in)");
    let transaction = db.transaction().expect("begin");
    let mut rated = (0.0f64, 0u64);
    let mut loaded = 0u64;
    {
        let mut insert = transaction
            .prepare(
                "INSERT INTO providers (rowid, id, name, city, state, lat, lon, treatments,
                     conditions, telehealth, accepting, rating, review_count, price_min)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            )
            .expect("prepare insert");
        let mut insert_geo = transaction
            .prepare("INSERT INTO geo VALUES (?1, ?2, ?2, ?3, ?3, ?2, ?3)")
            .expect("prepare geo insert");
        let mut insert_text = transaction
            .prepare("INSERT INTO fts (rowid, text) VALUES (?1, ?2)")
            .expect("prepare fts insert");
        let mut insert_insurer = transaction
            .prepare("INSERT OR IGNORE INTO insurance VALUES (?1, ?2)")
            .expect("prepare insurance insert");
        let mut reader = csv::Reader::from_path(csv).expect("open the bench CSV");
        let headers = reader.headers().expect("CSV header").clone();
        let column = |name: &str| {
            headers
                .iter()
                .position(|h| h.trim().eq_ignore_ascii_case(name))
                .unwrap_or_else(|| panic!("the bench CSV has no {name} column"))
        };
        let [
            id,
            name,
            organization,
            credentials,
            description,
            city,
            state,
            zip,
            latitude,
            longitude,
            treatments,
            conditions,
            insurance,
            telehealth,
            accepting,
            rating,
            review_count,
            price_min,
        ] = [
            "id",
            "name",
            "organization",
            "credentials",
            "description",
            "city",
            "state",
            "zip",
            "latitude",
            "longitude",
            "treatments",
            "conditions",
            "insurance",
            "telehealth",
            "accepting_new_patients",
            "rating",
            "review_count",
            "price_min",
        ]
        .map(column);
        let mut record = csv::StringRecord::new();
        let mut text = String::new();
        while reader.read_record(&mut record).expect("read a CSV row") {
            let cell = |i: usize| record.get(i).unwrap_or("").trim();
            let list = |i: usize| cell(i).split(';').map(str::trim).filter(|v| !v.is_empty());
            let (lat, lon) = match (cell(latitude).parse(), cell(longitude).parse()) {
                (Ok(lat), Ok(lon)) => (lat, lon),
                _ => *zips
                    .get(cell(zip).get(..5).unwrap_or(""))
                    .expect("a row without a position has a known ZIP"),
            };
            let offered: Vec<Treatment> = list(treatments)
                .map(|v| Treatment::parse(v).expect("a known treatment"))
                .collect();
            let treated: Vec<Condition> = list(conditions)
                .map(|v| Condition::parse(v).expect("a known condition"))
                .collect();
            let raw_rating: Option<f64> = cell(rating).parse().ok();
            let reviews: u32 = cell(review_count).parse().unwrap_or(0);
            if let Some(r) = raw_rating.filter(|_| reviews > 0) {
                rated.0 += r;
                rated.1 += 1;
            }
            text.clear();
            for part in [
                cell(name),
                cell(organization),
                cell(description),
                cell(city),
            ] {
                text.push_str(part);
                text.push('\n');
            }
            for credential in list(credentials) {
                text.push_str(credential);
                text.push('\n');
            }
            let mut vocabulary: Vec<&str> = offered
                .iter()
                .flat_map(|t| &treatment_words[t.index()])
                .chain(treated.iter().flat_map(|c| &condition_words[c.index()]))
                .map(String::as_str)
                .collect();
            vocabulary.sort_unstable();
            vocabulary.dedup();
            for word in vocabulary {
                text.push_str(word);
                text.push(' ');
            }
            loaded += 1;
            let rowid = loaded as i64;
            insert
                .execute(params![
                    rowid,
                    cell(id),
                    cell(name),
                    cell(city),
                    cell(state).to_ascii_uppercase(),
                    lat,
                    lon,
                    offered.iter().fold(0i64, |m, t| m | 1 << t.index()),
                    treated.iter().fold(0i64, |m, c| m | 1 << c.index()),
                    flag(cell(telehealth)),
                    flag(cell(accepting)),
                    raw_rating,
                    reviews,
                    cell(price_min).parse::<i64>().ok(),
                ])
                .expect("insert a provider");
            insert_geo
                .execute(params![rowid, lat, lon])
                .expect("insert a point");
            insert_text
                .execute(params![rowid, text])
                .expect("insert a text");
            for insurer in list(insurance) {
                insert_insurer
                    .execute(params![rowid, insurer.to_lowercase()])
                    .expect("insert an insurer");
            }
        }
    }
    // The same mean and the same arithmetic as the rating sort of SPEC §4
    // (`adjusted_rating`): SQLite's `(10.0 * m + rating * n) / (10.0 + n)`
    // rounds exactly as Rust's does. Checked on one provider below.
    let mean = if rated.1 == 0 {
        0.0
    } else {
        rated.0 / rated.1 as f64
    };
    transaction
        .execute(
            "UPDATE providers SET adjusted = CASE WHEN rating IS NOT NULL AND review_count > 0
                 THEN (10.0 * ?1 + rating * review_count) / (10.0 + review_count) ELSE ?1 END",
            params![mean],
        )
        .expect("adjusted ratings");
    let (rating, reviews, adjusted): (Option<f64>, u32, f64) = transaction
        .query_row(
            "SELECT rating, review_count, adjusted FROM providers WHERE rating IS NOT NULL LIMIT 1",
            [],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .expect("a rated provider");
    assert_eq!(
        adjusted.to_bits(),
        adjusted_rating(rating, reviews, mean).to_bits(),
        "SQLite's adjusted rating differs from ketadir's"
    );
    transaction
        .execute_batch(
            "CREATE INDEX by_state ON providers (state, treatments, adjusted DESC,
                 review_count DESC, name, id);
             INSERT INTO fts (fts) VALUES ('optimize');
             ANALYZE;",
        )
        .expect("indexes");
    transaction.commit().expect("commit the peer's database");
    loaded
}

/// One search's answer: what ketadir's `facets=false` answer has (the
/// total and the page in order), with the rows the page shows.
pub struct Answer {
    pub total: u64,
    pub ids: Vec<String>,
}

/// A connection to the peer's database, ready to search.
pub struct Peer {
    db: Connection,
    /// The FTS vocabulary, for the fuzzy expansion of words of 5+ letters.
    vocabulary: Vec<String>,
}

/// True when `a` and `b` are at most one edit apart: an insertion, a
/// deletion, a substitution or a swap of two neighbours (what tantivy's
/// `FuzzyTermQuery` with distance 1 and transpositions matches).
fn within_one_edit(a: &[char], b: &[char]) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    if long.len() - short.len() > 1 {
        return false;
    }
    let prefix = short.iter().zip(long).take_while(|(x, y)| x == y).count();
    if prefix == short.len() {
        return true;
    }
    if short.len() == long.len() {
        let rest = prefix + 1;
        short[rest..] == long[rest..]
            || (rest < short.len()
                && short[prefix] == long[rest]
                && short[rest] == long[prefix]
                && short[rest + 1..] == long[rest + 1..])
    } else {
        short[prefix..] == long[prefix + 1..]
    }
}

/// [`within_one_edit`] on a few cases (a bench has no unit tests).
fn check_within_one_edit() {
    let c = |s: &str| s.chars().collect::<Vec<_>>();
    for (a, b, near) in [
        ("depression", "depresion", true),
        ("depression", "depressoin", true),
        ("depression", "depressions", true),
        ("depression", "derression", true),
        ("depression", "dperessoin", false),
        ("abc", "cab", false),
        ("ptsd", "ptsd", true),
    ] {
        assert_eq!(within_one_edit(&c(a), &c(b)), near, "{a} / {b}");
    }
}

impl Peer {
    /// Opens the database read-only, as a server's connection would be.
    pub fn open(path: &Path) -> Peer {
        check_within_one_edit();
        let db = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .expect("open the peer's database");
        db.pragma_update_and_check(None, "mmap_size", 1i64 << 32, |_| Ok(()))
            .expect("mmap");
        db.execute_batch(
            "PRAGMA cache_size = -262144;
             PRAGMA temp_store = MEMORY;
             CREATE VIRTUAL TABLE temp.vocabulary USING fts5vocab(main, fts, row);",
        )
        .expect("the peer's connection settings");
        db.set_prepared_statement_cache_capacity(256);
        db.create_scalar_function(
            "dist",
            4,
            FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
            |context| {
                Ok(haversine_miles(
                    context.get(0)?,
                    context.get(1)?,
                    context.get(2)?,
                    context.get(3)?,
                ))
            },
        )
        .expect("register dist()");
        let vocabulary = db
            .prepare("SELECT term FROM temp.vocabulary")
            .expect("read the vocabulary")
            .query_map([], |row| row.get(0))
            .expect("read the vocabulary")
            .collect::<Result<Vec<String>, _>>()
            .expect("read the vocabulary");
        Peer { db, vocabulary }
    }

    /// The FTS5 query for `q`'s required words: each word, or for words of
    /// 5+ letters the `OR` of every indexed term within one edit of it.
    fn match_expression(&self, words: &[String]) -> String {
        words
            .iter()
            .map(|word| {
                let mut terms = vec![word.clone()];
                if word.chars().count() >= text::FUZZY_MIN_CHARS {
                    let wanted: Vec<char> = word.chars().collect();
                    terms.extend(
                        self.vocabulary
                            .iter()
                            .filter(|term| *term != word)
                            .filter(|term| {
                                let term: Vec<char> = term.chars().collect();
                                within_one_edit(&wanted, &term)
                            })
                            .cloned(),
                    );
                }
                let quoted: Vec<String> = terms.iter().map(|t| format!("\"{t}\"")).collect();
                format!("({})", quoted.join(" OR "))
            })
            .collect::<Vec<_>>()
            .join(" AND ")
    }

    /// Answers `request` as ketadir's `search` with `facets=false` would
    /// (total and page), for the parameters the bench's mix sends.
    pub fn search(&self, request: &SearchRequest) -> Answer {
        assert!(
            request.languages.is_empty()
                && request.provider_types.is_empty()
                && request.max_price.is_none()
                && request.verified_within_days.is_none()
                && !request.include_telehealth
                && request.ids.is_empty()
                && request.zip_prefix.is_none()
                && request.excluded_provider_types.is_empty()
                && request.verified_from_day.is_none()
                && request.verified_to_day.is_none(),
            "the SQLite peer does not mirror this request: {}",
            request.to_query_string()
        );
        // `q` as ketadir reads it: a place typed among the words moves to
        // the location, the words that say nothing are dropped.
        let mut request = request.clone();
        let mut required = Vec::new();
        if let Some(q) = request.text.take() {
            let mut q = q;
            if request.location.is_none()
                && let Some((place, rest)) = words::place_in_query(&q)
            {
                request.location = Some(LocationInput::Near(place));
                q = rest;
            }
            required = words::required_words(&q);
            if required.is_empty() && request.sort == SortOrder::Relevance {
                request.sort = SortOrder::Rating;
            }
        }
        let location = resolve_location(&request).expect("a known place");
        let state = location.as_ref().and_then(|l| l.state).or(request.state);
        let center = location
            .as_ref()
            .and_then(|l| Some((l.lat?, l.lon?, l.radius_miles?)));

        let mut values: Vec<Value> = Vec::new();
        let mut bind = |value: Value| {
            values.push(value);
            format!("?{}", values.len())
        };
        let mut from = String::new();
        // Conditions on the providers row; conditions on `geo` and `fts`
        // alone let the count skip the table.
        let mut on_row: Vec<String> = Vec::new();
        let mut on_index: Vec<String> = Vec::new();
        let mut distance = None;
        if let Some((lat, lon, radius)) = center {
            from.push_str("geo JOIN providers p ON p.rowid = geo.id");
            let ((south, north), east_west) = bounding_box(lat, lon, radius);
            on_index.push(format!(
                "geo.min_lat <= {} AND geo.max_lat >= {}",
                bind(Value::Real(north)),
                bind(Value::Real(south))
            ));
            if let Some((west, east)) = east_west {
                on_index.push(format!(
                    "geo.min_lon <= {} AND geo.max_lon >= {}",
                    bind(Value::Real(east)),
                    bind(Value::Real(west))
                ));
            }
            let expression = format!(
                "dist(geo.lat, geo.lon, {}, {})",
                bind(Value::Real(lat)),
                bind(Value::Real(lon))
            );
            on_index.push(format!("{expression} <= {}", bind(Value::Real(radius))));
            distance = Some(expression);
        }
        // Words and a place: the R*Tree's candidates, kept when in the set
        // of the words' matches (built once per statement; `+` stops SQLite
        // from driving the join from that set, which would look every match
        // up in the R*Tree by id: 3-10 times slower on this data). Words
        // alone, or sorted by relevance (`bm25` needs the FTS table in the
        // join): the FTS index drives.
        let relevance = request.sort == SortOrder::Relevance && !required.is_empty();
        if !required.is_empty() {
            let expression = bind(Value::Text(self.match_expression(&required)));
            if center.is_some() && !relevance {
                on_index.push(format!(
                    "+geo.id IN (SELECT rowid FROM fts WHERE fts MATCH {expression})"
                ));
            } else {
                if from.is_empty() {
                    from.push_str("fts JOIN providers p ON p.rowid = fts.rowid");
                } else {
                    from.push_str(" JOIN fts ON fts.rowid = p.rowid");
                }
                on_index.push(format!("fts MATCH {expression}"));
            }
        }
        if from.is_empty() {
            from.push_str("providers p");
        }
        if let Some(state) = state {
            on_row.push(format!("p.state = {}", bind(Value::Text(state.into()))));
        }
        if !request.treatments.is_empty() {
            let mask: i64 = request.treatments.iter().map(|t| 1 << t.index()).sum();
            on_row.push(format!("p.treatments & {mask} != 0"));
        }
        if !request.conditions.is_empty() {
            let mask: i64 = request.conditions.iter().map(|c| 1 << c.index()).sum();
            on_row.push(format!("p.conditions & {mask} != 0"));
        }
        if request.telehealth {
            on_row.push("p.telehealth".into());
        }
        if request.accepting {
            on_row.push("p.accepting".into());
        }
        if let Some(min) = request.min_rating {
            on_row.push(format!("p.rating >= {}", bind(Value::Real(min))));
        }
        if !request.insurance.is_empty() {
            let keys: Vec<String> = request
                .insurance
                .iter()
                .map(|key| bind(Value::Text(key.trim().to_lowercase())))
                .collect();
            on_row.push(format!(
                "EXISTS (SELECT 1 FROM insurance i WHERE i.provider = p.rowid AND i.key IN ({}))",
                keys.join(", ")
            ));
        }
        let all: Vec<&String> = on_index.iter().chain(&on_row).collect();
        let where_all = if all.is_empty() {
            String::new()
        } else {
            format!(
                " WHERE {}",
                all.iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(" AND ")
            )
        };
        // The count: without conditions on the row, from the R*Tree or the
        // FTS index alone.
        let count_sql =
            if on_row.is_empty() && !on_index.is_empty() && !(center.is_some() && relevance) {
                let table = if center.is_some() { "geo" } else { "fts" };
                format!(
                    "SELECT count(*) FROM {table} WHERE {}",
                    on_index.join(" AND ")
                )
            } else {
                format!("SELECT count(*) FROM {from}{where_all}")
            };
        let rating = "p.adjusted DESC, p.review_count DESC";
        let order = match (request.sort, &distance) {
            (SortOrder::Distance, Some(d)) => format!("{d}, p.adjusted DESC, p.id"),
            (SortOrder::Relevance, _) if relevance => {
                format!("bm25(fts), {rating}, p.name, p.id")
            }
            (SortOrder::Rating, Some(d)) => format!("{rating}, {d}, p.name, p.id"),
            (SortOrder::Rating, None) => format!("{rating}, p.name, p.id"),
            (sort, _) => panic!("the SQLite peer does not mirror sort={}", sort.as_str()),
        };
        let page_sql = format!(
            "SELECT p.id, p.name, p.city, p.state, p.adjusted{} FROM {from}{where_all} \
             ORDER BY {order} LIMIT {} OFFSET {}",
            distance
                .as_ref()
                .map_or(String::new(), |d| format!(", {d}")),
            request.per_page,
            u64::from(request.page - 1) * u64::from(request.per_page)
        );
        let total: i64 = self
            .db
            .prepare_cached(&count_sql)
            .expect("prepare the count")
            .query_row(rusqlite::params_from_iter(&values), |row| row.get(0))
            .expect("count");
        let ids = self
            .db
            .prepare_cached(&page_sql)
            .expect("prepare the page")
            .query_map(rusqlite::params_from_iter(&values), |row| row.get(0))
            .expect("page")
            .collect::<Result<Vec<String>, _>>()
            .expect("page rows");
        Answer {
            total: total as u64,
            ids,
        }
    }
}

/// Haversine distance in miles on SPEC §4's sphere.
fn haversine_miles(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (phi1, phi2) = (lat1.to_radians(), lat2.to_radians());
    let half_dphi = (phi2 - phi1) / 2.0;
    let half_dlambda = (lon2 - lon1).to_radians() / 2.0;
    let h = half_dphi.sin().powi(2) + phi1.cos() * phi2.cos() * half_dlambda.sin().powi(2);
    2.0 * EARTH_RADIUS_MILES * h.sqrt().min(1.0).asin()
}

/// The circle's bounding box: (south, north) and, unless the circle
/// reaches a pole or the antimeridian, (west, east). A small margin keeps
/// points on the circle inside; the exact test is `dist`.
fn bounding_box(lat: f64, lon: f64, radius: f64) -> ((f64, f64), Option<(f64, f64)>) {
    let angular = radius / EARTH_RADIUS_MILES;
    let margin = 1e-6;
    let delta_lat = angular.to_degrees() + margin;
    let (south, north) = (lat - delta_lat, lat + delta_lat);
    if south <= -90.0 || north >= 90.0 {
        return ((south, north), None);
    }
    let ratio = angular.sin() / lat.to_radians().cos();
    if ratio >= 1.0 {
        return ((south, north), None);
    }
    let delta_lon = ratio.asin().to_degrees() + margin;
    let (west, east) = (lon - delta_lon, lon + delta_lon);
    if west < -180.0 || east > 180.0 {
        return ((south, north), None);
    }
    ((south, north), Some((west, east)))
}
