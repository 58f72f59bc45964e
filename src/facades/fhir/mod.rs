//! FHIR R4 (4.0.1) with the Da Vinci PDex Plan-Net profiles, read-only
//! (docs/fhir.md). A provider row is a `Practitioner` (unless it is a
//! clinic, [`has_practitioner`]), an `Organization` of its own, a
//! `Location`, a `PractitionerRole` and a `HealthcareService`, all with
//! the row's FHIR id ([`fhir_id`]); a search is the JSON API's
//! search ([`params`] reads it into a `SearchRequest`) answered as a
//! `searchset` Bundle. Errors are `OperationOutcome`s ([`outcome`]).

mod capability;
mod params;
mod resources;

use std::borrow::Cow;
use std::sync::Arc;

pub use capability::capability_statement;
pub use params::{COMMON, FhirSearch, Include, MAX_IDS, Unit, parameters_of, parse_search};
pub use resources::resource;

use crate::facades::node::{Node, Object};
use crate::ids;
use crate::index::Generation;
use crate::provider::{Provider, ProviderType};
use crate::search::{self, Hit, InvalidParam, MAX_PAGE, SearchError};

pub const FHIR_VERSION: &str = "4.0.1";
/// The media type of every answer, errors included.
pub const MEDIA_TYPE: &str = "application/fhir+json";
pub const PLAN_NET: &str = "http://hl7.org/fhir/us/davinci-pdex-plan-net";
pub const NPI_SYSTEM: &str = "http://hl7.org/fhir/sid/us-npi";
pub const LOCATION_DISTANCE: &str = "http://hl7.org/fhir/StructureDefinition/location-distance";

/// Where ketadir's own code and identifier systems live. ketadir has no
/// public domain yet; `.invalid` (RFC 2606) can never be anyone else's.
/// Change the systems together, and tell partners: codings are compared by
/// system and code.
pub const TREATMENT_SYSTEM: &str = "https://ketadir.invalid/fhir/CodeSystem/treatment";
pub const CONDITION_SYSTEM: &str = "https://ketadir.invalid/fhir/CodeSystem/condition";
/// The identifier system of ketadir's provider ids (the API's `id`).
pub const PROVIDER_ID_SYSTEM: &str = "https://ketadir.invalid/fhir/NamingSystem/provider-id";

/// Entries per page when `_count` is not given, and at most.
pub const DEFAULT_COUNT: u32 = 20;
pub const MAX_COUNT: u32 = 100;

/// The resource types a provider row becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResourceType {
    Practitioner,
    Organization,
    Location,
    PractitionerRole,
    HealthcareService,
}

impl ResourceType {
    pub const ALL: [ResourceType; 5] = [
        ResourceType::Practitioner,
        ResourceType::Organization,
        ResourceType::Location,
        ResourceType::PractitionerRole,
        ResourceType::HealthcareService,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ResourceType::Practitioner => "Practitioner",
            ResourceType::Organization => "Organization",
            ResourceType::Location => "Location",
            ResourceType::PractitionerRole => "PractitionerRole",
            ResourceType::HealthcareService => "HealthcareService",
        }
    }

    /// True when a row has a resource of this type: every row has one of
    /// each, but a clinic has no Practitioner.
    pub fn exists_for(self, provider: &Provider) -> bool {
        self != ResourceType::Practitioner || has_practitioner(provider)
    }

    pub fn parse(name: &str) -> Option<ResourceType> {
        ResourceType::ALL
            .into_iter()
            .find(|kind| kind.name() == name)
    }

    /// The Plan-Net profile its resources claim (`meta.profile`).
    pub fn profile(self) -> &'static str {
        match self {
            ResourceType::Practitioner => {
                "http://hl7.org/fhir/us/davinci-pdex-plan-net/StructureDefinition/plannet-Practitioner"
            }
            ResourceType::Organization => {
                "http://hl7.org/fhir/us/davinci-pdex-plan-net/StructureDefinition/plannet-Organization"
            }
            ResourceType::Location => {
                "http://hl7.org/fhir/us/davinci-pdex-plan-net/StructureDefinition/plannet-Location"
            }
            ResourceType::PractitionerRole => {
                "http://hl7.org/fhir/us/davinci-pdex-plan-net/StructureDefinition/plannet-PractitionerRole"
            }
            ResourceType::HealthcareService => {
                "http://hl7.org/fhir/us/davinci-pdex-plan-net/StructureDefinition/plannet-HealthcareService"
            }
        }
    }
}

/// The provider types whose rows have no Practitioner: a clinic is an
/// organization, not a person (docs/fhir.md, "Clinics"). Practitioner
/// searches leave these rows out (`SearchRequest::excluded_provider_types`).
pub const WITHOUT_PRACTITIONER: [ProviderType; 1] = [ProviderType::Clinic];

/// True when the row is a person's listing, which has a Practitioner: its
/// `provider_type` has no `clinic` (a row without types is a person's, as
/// every row was before the column).
pub fn has_practitioner(provider: &Provider) -> bool {
    !provider
        .provider_type
        .iter()
        .any(|kind| WITHOUT_PRACTITIONER.contains(kind))
}

/// True for a FHIR id: 1–64 of `A-Z a-z 0-9 - .`.
pub fn is_fhir_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

/// The FHIR id of a provider row's resources: the provider id itself, or,
/// for an id with `_` (which FHIR ids cannot hold), the provider's UUID of
/// kind `fhir` ([`ids::provider_uuid`]). Provider ids are at most 64
/// characters, so every other one is a FHIR id as it is.
pub fn fhir_id(provider_id: &str) -> Cow<'_, str> {
    if is_fhir_id(provider_id) {
        Cow::Borrowed(provider_id)
    } else {
        Cow::Owned(
            ids::provider_uuid("fhir", provider_id)
                .hyphenated()
                .to_string(),
        )
    }
}

/// The provider ids a FHIR id may name: itself, and the provider whose
/// UUID it is. An id FHIR would not accept names nothing.
pub fn provider_ids(generation: &Generation, id: &str) -> Result<Vec<String>, SearchError> {
    let mut found = Vec::new();
    if !is_fhir_id(id) {
        return Ok(found);
    }
    found.push(id.to_string());
    if let Some(key) = ids::parse_uuid(id).and_then(|uuid| ids::key_of(&uuid)) {
        for hit in search::find_by_key(generation, key)? {
            if hit.provider.id != id && fhir_id(&hit.provider.id) == id {
                found.push(hit.provider.id);
            }
        }
    }
    Ok(found)
}

/// The provider row a FHIR id names.
pub fn find(generation: &Generation, id: &str) -> Result<Option<Hit>, SearchError> {
    if !is_fhir_id(id) {
        return Ok(None);
    }
    if let Some(hit) = search::find_provider(generation, id)? {
        return Ok(Some(hit));
    }
    if let Some(key) = ids::parse_uuid(id).and_then(|uuid| ids::key_of(&uuid)) {
        for hit in search::find_by_key(generation, key)? {
            if fhir_id(&hit.provider.id) == id {
                return Ok(Some(hit));
            }
        }
    }
    Ok(None)
}

/// What a read found.
#[derive(Debug)]
pub enum Read {
    /// The resource, as JSON.
    Found(Vec<u8>),
    /// No row has this id.
    Unknown,
    /// The id is a clinic's, which has every resource but a Practitioner.
    NoPractitioner,
}

/// `GET /fhir/{type}/{id}`.
pub fn read(generation: &Generation, kind: ResourceType, id: &str) -> Result<Read, SearchError> {
    Ok(match find(generation, id)? {
        None => Read::Unknown,
        Some(hit) if !kind.exists_for(&hit.provider) => Read::NoPractitioner,
        Some(hit) => Read::Found(to_json(&resource(kind, &hit))),
    })
}

fn to_json(node: &impl serde::Serialize) -> Vec<u8> {
    // Nodes hold strings, numbers and booleans only: this cannot fail.
    serde_json::to_vec(node).unwrap_or_default()
}

/// `GET /fhir/{type}?…`: the search as a `searchset` Bundle, as JSON;
/// `base` is the FHIR base URL the links and `fullUrl`s start with.
pub fn search(
    generation: &Arc<Generation>,
    query: &FhirSearch,
    base: &str,
) -> Result<Vec<u8>, SearchError> {
    let mut request = query.request.clone();
    if let Some(fhir_ids) = &query.ids {
        request.ids.clear();
        for id in fhir_ids {
            request.ids.extend(provider_ids(generation, id)?);
        }
        if request.ids.is_empty() {
            // No id the search may answer: nothing to look for.
            return Ok(to_json(&bundle(query, base, 0, &[])));
        }
    }
    let response = search::search(generation, &request)?;
    Ok(to_json(&bundle(
        query,
        base,
        response.total,
        &response.results,
    )))
}

/// The URL of a page of the search.
fn page_link(base: &str, query: &FhirSearch, page: u32) -> String {
    let mut serializer = form_urlencoded::Serializer::new(String::new());
    for (name, value) in &query.link_pairs {
        serializer.append_pair(name, value);
    }
    if page > 1 {
        serializer.append_pair("_page", &page.to_string());
    }
    let parameters = serializer.finish();
    if parameters.is_empty() {
        format!("{base}/{}", query.kind.name())
    } else {
        format!("{base}/{}?{parameters}", query.kind.name())
    }
}

fn link(relation: &'static str, url: String) -> Node<'static> {
    Object::new()
        .with("relation", relation)
        .with("url", url)
        .into()
}

fn bundle<'a>(query: &FhirSearch, base: &str, total: u64, hits: &'a [Hit]) -> Object<'a> {
    let mut links = vec![link("self", page_link(base, query, query.page))];
    let shown = u64::from(query.page) * u64::from(query.count);
    if query.count > 0 && shown < total && query.page < MAX_PAGE {
        links.push(link("next", page_link(base, query, query.page + 1)));
    }
    if query.page > 1 {
        links.push(link("previous", page_link(base, query, query.page - 1)));
    }
    let mut entries = Vec::new();
    if query.count > 0 {
        entries.reserve(hits.len() * (1 + query.includes.len()));
        for hit in hits {
            // The search itself leaves out rows without a resource of the
            // type (`excluded_provider_types`), so that `total` counts
            // only what can be listed.
            debug_assert!(query.kind.exists_for(&hit.provider), "{}", hit.provider.id);
            entries.push(entry(base, query.kind, hit, "match", query.unit));
        }
        for include in &query.includes {
            // A clinic's role has no practitioner to include.
            for hit in hits
                .iter()
                .filter(|hit| include.kind().exists_for(&hit.provider))
            {
                entries.push(entry(base, include.kind(), hit, "include", None));
            }
        }
    }
    Object::new()
        .with("resourceType", "Bundle")
        .with("type", "searchset")
        .with("total", total)
        .list("link", links)
        .list("entry", entries)
}

fn entry<'a>(
    base: &str,
    kind: ResourceType,
    hit: &'a Hit,
    mode: &'static str,
    unit: Option<Unit>,
) -> Node<'a> {
    let distance = unit.zip(hit.distance_miles).map(|(unit, miles)| {
        Node::from(
            Object::new().with("url", LOCATION_DISTANCE).with(
                "valueDistance",
                Object::new()
                    .with("value", unit.from_miles(miles))
                    .with("unit", unit.label())
                    .with("system", "http://unitsofmeasure.org")
                    .with("code", unit.ucum()),
            ),
        )
    });
    Object::new()
        .with(
            "fullUrl",
            format!("{base}/{}/{}", kind.name(), fhir_id(&hit.provider.id)),
        )
        .with("resource", resource(kind, hit))
        .with(
            "search",
            Object::new()
                .list("extension", distance.into_iter().collect())
                .with("mode", mode),
        )
        .into()
}

/// An `OperationOutcome` of errors, one issue per message; `code` is the
/// FHIR issue type (`invalid`, `not-found`, `not-supported`, `throttled`,
/// `exception`, …).
pub fn outcome(code: &str, messages: impl IntoIterator<Item = String>) -> Vec<u8> {
    let mut issues: Vec<Node> = messages
        .into_iter()
        .map(|message| {
            Object::new()
                .with("severity", "error")
                .with("code", code)
                .with("diagnostics", message)
                .into()
        })
        .collect();
    if issues.is_empty() {
        issues.push(
            Object::new()
                .with("severity", "error")
                .with("code", code)
                .into(),
        );
    }
    to_json(
        &Object::new()
            .with("resourceType", "OperationOutcome")
            .list("issue", issues),
    )
}

/// The `OperationOutcome` of bad parameters: one issue each, naming it.
pub fn invalid_params_outcome(params: &[InvalidParam]) -> Vec<u8> {
    outcome(
        "invalid",
        params.iter().map(|p| format!("{}: {}", p.name, p.reason)),
    )
}

/// [`capability_statement`] as JSON.
pub fn metadata(base: &str) -> Vec<u8> {
    to_json(&capability_statement(base))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_ids_are_fhir_ids_unless_they_hold_an_underscore() {
        assert_eq!(fhir_id("p-000001"), "p-000001");
        assert_eq!(fhir_id("a.b-C9"), "a.b-C9");
        let fallback = fhir_id("p_1");
        assert!(is_fhir_id(&fallback), "{fallback}");
        assert_eq!(fallback.len(), 36);
        assert_eq!(fallback, fhir_id("p_1"));
        assert_ne!(fallback, fhir_id("p_2"));
        assert!(!is_fhir_id("") && !is_fhir_id(&"a".repeat(65)) && !is_fhir_id("a/b"));
    }
}
