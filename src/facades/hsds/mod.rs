//! HSDS 3.0 (Open Referral's Human Services Data Specification),
//! read-only (docs/hsds.md). Each provider row is one `service` (its
//! treatments and conditions as taxonomy terms, through `attributes`) at
//! one `location`, offered by one `organization`, joined by one
//! `service_at_location`. Every id is a UUID derived from the provider id
//! ([`crate::ids`]); lists are the search of the JSON API in HSDS's page
//! envelope, or NDJSON.

mod params;
mod taxonomy;

use std::sync::Arc;

use uuid::Uuid;

pub use params::{DEFAULT_PER_PAGE, ListQuery, MAX_PER_PAGE, parse_list, parse_page};
pub use taxonomy::{Taxonomy, Term};

use crate::facades::node::{Node, Object};
use crate::facades::verified_instant;
use crate::ids;
use crate::index::Generation;
use crate::provider::Provider;
use crate::search::{self, Hit, NdjsonChunks, SearchError};

/// The HSDS version served.
pub const VERSION: &str = "3.0";
/// No HSDS profile: the base specification, as published.
pub const PROFILE: &str = "https://docs.openreferral.org/en/3.0/";
/// The standard's OpenAPI document, which these routes follow.
pub const OPENAPI_URL: &str =
    "https://raw.githubusercontent.com/openreferral/specification/3.0/schema/openapi.json";

/// The kinds of record a provider row becomes, each with its own UUID.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Record {
    Service,
    Organization,
    Location,
    ServiceAtLocation,
}

impl Record {
    fn kind(self) -> &'static str {
        match self {
            Record::Service => "service",
            Record::Organization => "organization",
            Record::Location => "location",
            Record::ServiceAtLocation => "service_at_location",
        }
    }

    /// The record's id for a provider.
    pub fn id(self, provider_id: &str) -> String {
        uuid_of(self.kind(), provider_id)
    }
}

fn uuid_of(kind: &str, provider_id: &str) -> String {
    ids::provider_uuid(kind, provider_id)
        .hyphenated()
        .to_string()
}

/// `GET /hsds/`: what this API is.
pub fn root() -> Vec<u8> {
    to_json(
        &Object::new()
            .with("version", VERSION)
            .with("profile", PROFILE)
            .with("openapi_url", OPENAPI_URL),
    )
}

fn to_json(node: &impl serde::Serialize) -> Vec<u8> {
    // Nodes hold strings, numbers and booleans only: this cannot fail.
    serde_json::to_vec(node).unwrap_or_default()
}

/// An `http(s)` URL written with the characters RFC 3986 allows, so that
/// it passes as HSDS's `format: uri`; `None` for anything else.
fn web_url(text: &str) -> Option<&str> {
    let rest = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"))?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let allowed = |b: u8| b.is_ascii_alphanumeric() || b"-._~:/?#[]@!$&'()*+,;=%".contains(&b);
    (!host.is_empty() && text.bytes().all(allowed)).then_some(text)
}

/// An address of the dot-atom form (RFC 5322) with a host name, so that it
/// passes as HSDS's `format: email`; `None` for anything else.
fn email(text: &str) -> Option<&str> {
    let (local, domain) = text.split_once('@')?;
    let atext = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~".contains(&b);
    let local_ok = !local.is_empty()
        && local
            .split('.')
            .all(|part| !part.is_empty() && part.bytes().all(atext));
    let domain_ok = domain.len() <= 253
        && domain.split('.').all(|label| {
            (1..=63).contains(&label.len())
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    (local_ok && domain_ok).then_some(text)
}

/// The name of the row's organization: the practice, or, for a clinician
/// listed without one, the clinician's own practice under their name.
fn organization_name(provider: &Provider) -> &str {
    provider.organization.as_deref().unwrap_or(&provider.name)
}

fn application_process(provider: &Provider) -> &'static str {
    match (provider.accepting_new_patients, provider.telehealth) {
        (true, true) => {
            "Accepting new patients; contact the provider to book. Telehealth \
             appointments are offered."
        }
        (true, false) => "Accepting new patients; contact the provider to book.",
        (false, true) => {
            "Not accepting new patients at present. Telehealth appointments are offered."
        }
        (false, false) => "Not accepting new patients at present.",
    }
}

fn price_text(provider: &Provider) -> Option<String> {
    match (provider.price_min, provider.price_max) {
        (Some(min), Some(max)) if max > min => Some(format!("USD {min}–{max} per session")),
        (Some(price), _) | (None, Some(price)) => Some(format!("USD {price} per session")),
        (None, None) => None,
    }
}

fn fees_description(provider: &Provider) -> Option<String> {
    let insurers = (!provider.insurance.is_empty())
        .then(|| format!("Insurance accepted: {}.", provider.insurance.join(", ")));
    match (price_text(provider), insurers) {
        (Some(price), Some(insurers)) => Some(format!("{price}. {insurers}")),
        (Some(price), None) => Some(format!("{price}.")),
        (None, insurers) => insurers,
    }
}

/// The organization's one-to-one fields (`organization_list.json`).
fn organization_item(provider: &Provider) -> Object<'_> {
    Object::new()
        .with("id", Record::Organization.id(&provider.id))
        .with("name", organization_name(provider))
        .with(
            "description",
            provider.description.as_deref().unwrap_or_default(),
        )
        .maybe("email", provider.email.as_deref().and_then(email))
        .maybe("website", provider.website.as_deref().and_then(web_url))
}

/// The service's one-to-one fields (`service_list.json`); `minimal` keeps
/// `id`, `name`, `status` and `last_modified`.
fn service_item(provider: &Provider, minimal: bool) -> Object<'_> {
    let last_modified = provider.last_verified.as_deref().map(verified_instant);
    let id = Record::Service.id(&provider.id);
    if minimal {
        return Object::new()
            .with("id", id)
            .with("name", &provider.name)
            .with("status", "active")
            .maybe("last_modified", last_modified);
    }
    Object::new()
        .with("id", id)
        .with("organization_id", Record::Organization.id(&provider.id))
        .with("name", &provider.name)
        .maybe("description", provider.description.as_deref())
        .maybe("url", provider.website.as_deref().and_then(web_url))
        .maybe("email", provider.email.as_deref().and_then(email))
        .with("status", "active")
        .with("application_process", application_process(provider))
        .maybe("fees_description", fees_description(provider))
        .maybe("assured_date", provider.last_verified.as_deref())
        .maybe("last_modified", last_modified)
        .with("organization", organization_item(provider))
}

/// The row's phone, attached to `owner` (`service_id`, `location_id`, …).
fn phones<'a>(provider: &'a Provider, owner: &'static str, owner_id: &str) -> Vec<Node<'a>> {
    provider
        .phone
        .as_deref()
        .map(|number| {
            Object::new()
                .with("id", uuid_of(&format!("phone {owner}"), &provider.id))
                .with(owner, owner_id.to_string())
                .with("number", number)
                .with("type", "voice")
                .into()
        })
        .into_iter()
        .collect()
}

/// The location's one-to-one fields (`service_at_location_list.json`);
/// `full` adds the address and the phone.
fn location(provider: &Provider, full: bool) -> Object<'_> {
    let id = Record::Location.id(&provider.id);
    let description = provider.location_approximate.then(|| {
        format!(
            "The position is the centre of ZIP code {}, not the street address.",
            provider.zip.as_deref().unwrap_or("(unknown)")
        )
    });
    let mut record = Object::new()
        .with("id", id.clone())
        .with("location_type", "physical")
        .with("organization_id", Record::Organization.id(&provider.id))
        .with("name", organization_name(provider))
        .maybe("description", description)
        .with("latitude", provider.latitude)
        .with("longitude", provider.longitude)
        .with("external_identifier", &provider.id)
        .with("external_identifier_type", "ketadir provider id");
    if full {
        // HSDS requires the street and the postal code of an address.
        let address = provider
            .address
            .as_deref()
            .zip(provider.zip.as_deref())
            .map(|(street, zip)| {
                Node::from(
                    Object::new()
                        .with("id", uuid_of("address", &provider.id))
                        .with("location_id", id.clone())
                        .with("address_1", street)
                        .with("city", &provider.city)
                        .with("state_province", &provider.state)
                        .with("postal_code", zip)
                        .with("country", "US")
                        .with("address_type", "physical"),
                )
            });
        record = record
            .list("addresses", address.into_iter().collect())
            .list("phones", phones(provider, "location_id", &id));
    }
    record
}

/// Treatments and conditions as attributes linking the service to terms.
fn attributes<'a>(provider: &'a Provider, service_id: &str) -> Vec<Node<'a>> {
    let terms = provider
        .treatments
        .iter()
        .map(|t| Term::Treatment(*t))
        .chain(provider.conditions.iter().map(|c| Term::Condition(*c)));
    terms
        .map(|term| {
            let link_type = match term {
                Term::Treatment(_) => "treatment",
                Term::Condition(_) => "condition",
            };
            Object::new()
                .with(
                    "id",
                    uuid_of(
                        &format!("attribute {link_type} {}", term.code()),
                        &provider.id,
                    ),
                )
                .with("link_id", service_id.to_string())
                .with("taxonomy_term_id", term.id().hyphenated().to_string())
                .with("link_type", link_type)
                .with("link_entity", "service")
                .with("taxonomy_term", term.record(false))
                .into()
        })
        .collect()
}

fn service_at_location_item(provider: &Provider, full: bool) -> Object<'_> {
    Object::new()
        .with("id", Record::ServiceAtLocation.id(&provider.id))
        .with("service_id", Record::Service.id(&provider.id))
        .with("location_id", Record::Location.id(&provider.id))
        .with("location", location(provider, full))
}

/// The fully nested service (`service.json`).
fn service_full(provider: &Provider) -> Object<'_> {
    let id = Record::Service.id(&provider.id);
    let languages = provider
        .languages
        .iter()
        .map(|name| {
            Object::new()
                .with(
                    "id",
                    uuid_of(&format!("language {}", name.to_lowercase()), &provider.id),
                )
                .with("service_id", id.clone())
                .with("name", name)
                .into()
        })
        .collect();
    let cost = provider.price_min.or(provider.price_max).map(|amount| {
        Node::from(
            Object::new()
                .with("id", uuid_of("cost_option", &provider.id))
                .with("service_id", id.clone())
                .with("option", "Per session")
                .with("currency", "USD")
                .with("amount", amount)
                .maybe("amount_description", price_text(provider)),
        )
    });
    service_item(provider, false)
        .list("phones", phones(provider, "service_id", &id))
        .list(
            "service_at_locations",
            vec![service_at_location_item(provider, true).into()],
        )
        .list("languages", languages)
        .list("cost_options", cost.into_iter().collect())
        .list("attributes", attributes(provider, &id))
}

/// The fully nested organization (`organization.json`): its location, and
/// its service with one-to-one fields.
fn organization_full(provider: &Provider) -> Object<'_> {
    let id = Record::Organization.id(&provider.id);
    organization_item(provider)
        .list("phones", phones(provider, "organization_id", &id))
        .list("locations", vec![location(provider, true).into()])
        .list("services", vec![service_item(provider, false).into()])
}

/// The fully nested service at location (`service_at_location.json`).
fn service_at_location_full(provider: &Provider) -> Object<'_> {
    service_at_location_item(provider, true).with("service", service_item(provider, false))
}

/// The lists of provider records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum List {
    Services,
    Organizations,
    ServiceAtLocations,
}

impl List {
    fn record(self) -> Record {
        match self {
            List::Services => Record::Service,
            List::Organizations => Record::Organization,
            List::ServiceAtLocations => Record::ServiceAtLocation,
        }
    }

    /// A list's item for a provider.
    fn item(self, provider: &Provider, minimal: bool) -> Object<'_> {
        match self {
            List::Services => service_item(provider, minimal),
            List::Organizations => organization_item(provider),
            List::ServiceAtLocations => service_at_location_item(provider, false)
                .with("service", service_item(provider, false)),
        }
    }

    /// A record in full, by id.
    fn full(self, provider: &Provider) -> Object<'_> {
        match self {
            List::Services => service_full(provider),
            List::Organizations => organization_full(provider),
            List::ServiceAtLocations => service_at_location_full(provider),
        }
    }
}

/// The provider row whose record of that kind has this id.
pub fn find(generation: &Generation, record: Record, id: &str) -> Result<Option<Hit>, SearchError> {
    let Some(uuid) = ids::parse_uuid(id) else {
        return Ok(None);
    };
    find_uuid(generation, record, uuid)
}

fn find_uuid(
    generation: &Generation,
    record: Record,
    uuid: Uuid,
) -> Result<Option<Hit>, SearchError> {
    let Some(key) = ids::key_of(&uuid) else {
        return Ok(None);
    };
    Ok(search::find_by_key(generation, key)?
        .into_iter()
        .find(|hit| ids::provider_uuid(record.kind(), &hit.provider.id) == uuid))
}

/// `GET /hsds/{list}/{id}`: the record in full, `None` for an unknown id.
pub fn read(generation: &Generation, list: List, id: &str) -> Result<Option<Vec<u8>>, SearchError> {
    Ok(find(generation, list.record(), id)?.map(|hit| to_json(&list.full(&hit.provider))))
}

/// The search a list runs: the query's, limited to the providers of its
/// `organization_id`s. `None` when those name no provider.
fn request_of(
    generation: &Generation,
    query: &ListQuery,
) -> Result<Option<search::SearchRequest>, SearchError> {
    let mut request = query.request.clone();
    if !query.organizations.is_empty() {
        for uuid in &query.organizations {
            if let Some(hit) = find_uuid(generation, Record::Organization, *uuid)? {
                request.ids.push(hit.provider.id);
            }
        }
        if request.ids.is_empty() {
            return Ok(None);
        }
    }
    Ok(Some(request))
}

/// HSDS's page envelope around `contents`.
fn page<'a>(total: u64, page: u32, per_page: u32, contents: Vec<Node<'a>>) -> Object<'a> {
    let total_pages = total.div_ceil(u64::from(per_page));
    Object::new()
        .with("total_items", total)
        .with("total_pages", total_pages)
        .with("page_number", page)
        .with("size", contents.len() as u64)
        .with("first_page", page == 1)
        .with("last_page", u64::from(page) >= total_pages)
        .with("empty", contents.is_empty())
        .with("contents", Node::List(contents))
}

/// `GET /hsds/{list}?…` as a page of records, as JSON.
pub fn list(
    generation: &Arc<Generation>,
    list: List,
    query: &ListQuery,
) -> Result<Vec<u8>, SearchError> {
    let (page_number, per_page) = (query.request.page, query.request.per_page);
    let Some(request) = request_of(generation, query)? else {
        return Ok(to_json(&page(0, page_number, per_page, Vec::new())));
    };
    let response = search::search(generation, &request)?;
    let contents = response
        .results
        .iter()
        .map(|hit| list.item(&hit.provider, query.minimal).into())
        .collect();
    Ok(to_json(&page(
        response.total,
        page_number,
        per_page,
        contents,
    )))
}

/// `GET /hsds/{list}?format=ndjson`: every match, one record per line, in
/// chunks of whole lines handed to `sink` (which answers `false` when the
/// client went away). Blocking work: run it on a thread of its own.
pub fn stream(
    generation: &Arc<Generation>,
    list: List,
    query: &ListQuery,
    sink: impl FnMut(Vec<u8>) -> bool,
) -> Result<(), SearchError> {
    let Some(request) = request_of(generation, query)? else {
        return Ok(());
    };
    let mut lines = NdjsonChunks::new(sink);
    search::for_each_hit(generation, &request, |hit| {
        lines.push(&list.item(&hit.provider, query.minimal))
    })?;
    lines.finish();
    Ok(())
}

/// The taxonomies or terms of one page, in HSDS's envelope.
fn vocabulary_page(items: Vec<Node<'static>>, page_number: u32, per_page: u32) -> Vec<u8> {
    let total = items.len() as u64;
    let start = (page_number as usize - 1).saturating_mul(per_page as usize);
    let contents = items
        .into_iter()
        .skip(start)
        .take(per_page as usize)
        .collect();
    to_json(&page(total, page_number, per_page, contents))
}

/// `GET /hsds/taxonomies`.
pub fn taxonomies(page_number: u32, per_page: u32) -> Vec<u8> {
    let items = Taxonomy::ALL.iter().map(|t| t.record()).collect();
    vocabulary_page(items, page_number, per_page)
}

/// `GET /hsds/taxonomies/{id}`.
pub fn taxonomy(id: &str) -> Option<Vec<u8>> {
    let uuid = ids::parse_uuid(id)?;
    Taxonomy::ALL
        .into_iter()
        .find(|t| t.id() == uuid)
        .map(|t| to_json(&t.record()))
}

/// Which terms `/hsds/taxonomy_terms` lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TermsQuery {
    /// `taxonomy_id`: only that taxonomy's terms.
    pub taxonomy: Option<String>,
    /// `search`: terms whose code, name or a synonym contains it.
    pub search: Option<String>,
    /// `parent_id`: no term has a parent, so any value lists none.
    pub parent: Option<String>,
}

/// `GET /hsds/taxonomy_terms`.
pub fn taxonomy_terms(query: &TermsQuery, page_number: u32, per_page: u32) -> Vec<u8> {
    let taxonomy = query.taxonomy.as_deref().map(ids::parse_uuid);
    let search = query.search.as_deref().map(str::to_lowercase);
    let items = Term::all()
        .filter(|term| match taxonomy {
            None => true,
            Some(uuid) => Some(term.taxonomy().id()) == uuid,
        })
        .filter(|term| search.as_deref().is_none_or(|text| term.mentions(text)))
        .filter(|_| query.parent.is_none())
        .map(|term| term.record(true))
        .collect();
    vocabulary_page(items, page_number, per_page)
}

/// `GET /hsds/taxonomy_terms/{id}`.
pub fn taxonomy_term(id: &str) -> Option<Vec<u8>> {
    let uuid = ids::parse_uuid(id)?;
    Term::all()
        .find(|term| term.id() == uuid)
        .map(|term| to_json(&term.record(true)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_standard_urls_and_addresses_are_written() {
        assert_eq!(
            web_url("https://provider-1.example.org/a?b=c#d"),
            Some("https://provider-1.example.org/a?b=c#d")
        );
        assert_eq!(web_url("https://example.org/a b"), None);
        assert_eq!(web_url("https://"), None);
        assert_eq!(web_url("ftp://example.org"), None);
        assert_eq!(web_url("https://example.org/{x}"), None);
        assert_eq!(
            email("intake@provider-2.example.org"),
            Some("intake@provider-2.example.org")
        );
        for bad in [
            "a@b@c",
            "a..b@example.org",
            "@example.org",
            "a@-x.org",
            "a b@x.org",
        ] {
            assert_eq!(email(bad), None, "{bad}");
        }
    }
}
