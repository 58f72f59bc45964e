//! `GET /fhir/metadata`: the CapabilityStatement, listing every resource,
//! interaction and search parameter the FHIR facade answers. Built from the
//! same tables the parameter reader uses (`params::parameters_of`,
//! `Include::ALL`), so it cannot promise a parameter that is not read.

use super::params::{COMMON, Include, parameters_of};
use super::{FHIR_VERSION, MAX_COUNT, MEDIA_TYPE, ResourceType};
use crate::facades::node::{Node, Object};

/// When this statement last changed (its `date`).
const DATE: &str = "2026-12-03";

const PLAN_NET_IG: &str = "http://hl7.org/fhir/us/davinci-pdex-plan-net/ImplementationGuide/hl7.fhir.us.davinci-pdex-plan-net";

/// A search parameter: its definition's canonical URL, type and what it does here.
fn definition(name: &str) -> (&'static str, &'static str, &'static str) {
    match name {
        "_id" => (
            "http://hl7.org/fhir/SearchParameter/Resource-id",
            "token",
            "The resource's id; several separated by commas (any of them).",
        ),
        "_lastUpdated" => (
            "http://hl7.org/fhir/SearchParameter/Resource-lastUpdated",
            "date",
            "When the listing was last verified (meta.lastUpdated, midnight UTC of that \
             day); prefixes eq, ge, gt, le, lt; repeat it for a range. Listings never \
             verified do not match.",
        ),
        "near" => (
            "http://hl7.org/fhir/SearchParameter/Location-near",
            "special",
            "latitude|longitude|distance|unit, unit mi or km (default km), distance 1 to \
             500 miles (default 25 miles). Results come nearest first, each with the \
             location-distance extension in the unit asked for.",
        ),
        "address-state" => (
            "http://hl7.org/fhir/us/davinci-pdex-plan-net/SearchParameter/location-address-state",
            "string",
            "The state's 2-letter USPS code.",
        ),
        "address-postalcode" => (
            "http://hl7.org/fhir/us/davinci-pdex-plan-net/SearchParameter/location-address-postalcode",
            "string",
            "1 to 5 digits, matched as the start of the 5-digit ZIP code.",
        ),
        "practitioner" => (
            "http://hl7.org/fhir/us/davinci-pdex-plan-net/SearchParameter/practitionerrole-practitioner",
            "reference",
            "Practitioner/<id>; several separated by commas. A clinic's role has no \
             practitioner and never matches.",
        ),
        "organization" => (
            "http://hl7.org/fhir/us/davinci-pdex-plan-net/SearchParameter/practitionerrole-organization",
            "reference",
            "Organization/<id>; several separated by commas.",
        ),
        "location" => (
            "http://hl7.org/fhir/us/davinci-pdex-plan-net/SearchParameter/practitionerrole-location",
            "reference",
            "Location/<id>; several separated by commas.",
        ),
        "service" => (
            "http://hl7.org/fhir/us/davinci-pdex-plan-net/SearchParameter/practitionerrole-service",
            "reference",
            "HealthcareService/<id>; several separated by commas.",
        ),
        "specialty" => (
            "http://hl7.org/fhir/us/davinci-pdex-plan-net/SearchParameter/practitionerrole-specialty",
            "token",
            "A treatment or condition code of ketadir's code systems, with or without \
             its system; several of one kind separated by commas (any of them); one \
             parameter of treatments and one of conditions (both must match).",
        ),
        _ => ("", "", ""),
    }
}

fn resource(kind: ResourceType) -> Node<'static> {
    let params = COMMON
        .iter()
        .chain(parameters_of(kind))
        .filter(|name| !matches!(**name, "_count" | "_page" | "_include"))
        .map(|name| {
            let (url, kind, documentation) = definition(name);
            Object::new()
                .with("name", *name)
                .with("definition", url)
                .with("type", kind)
                .with("documentation", documentation)
                .into()
        })
        .collect();
    let includes = if parameters_of(kind).contains(&"_include") {
        Include::ALL.iter().map(|i| Node::from(i.value())).collect()
    } else {
        Vec::new()
    };
    Object::new()
        .with("type", kind.name())
        .list("supportedProfile", vec![kind.profile().into()])
        .list(
            "interaction",
            vec![
                Object::new().with("code", "read").into(),
                Object::new().with("code", "search-type").into(),
            ],
        )
        .with("versioning", "no-version")
        .with("readHistory", false)
        .with("updateCreate", false)
        .list("searchInclude", includes)
        .list("searchParam", params)
        .into()
}

/// The CapabilityStatement of the server whose FHIR base URL is `base`.
pub fn capability_statement(base: &str) -> Node<'_> {
    Object::new()
        .with("resourceType", "CapabilityStatement")
        .with("id", "ketadir")
        .with("name", "KetadirProviderDirectory")
        .with(
            "title",
            "ketadir: ketamine-therapy providers (FHIR R4, Da Vinci Plan-Net profiles)",
        )
        .with("status", "active")
        .with("experimental", false)
        .with("date", DATE)
        .with("publisher", "ketadir")
        .with(
            "description",
            "A read-only view of the ketadir provider directory. Each listing is a \
             Practitioner, an Organization of its own, a Location, a PractitionerRole \
             and a HealthcareService with the same id, in the Plan-Net profiles. A \
             clinic's listing has no Practitioner: its PractitionerRole names the \
             Organization, Location and HealthcareService only.",
        )
        .with("kind", "instance")
        .with(
            "software",
            Object::new()
                .with("name", "ketadir")
                .with("version", env!("CARGO_PKG_VERSION")),
        )
        .with(
            "implementation",
            Object::new()
                .with("description", "ketadir FHIR facade")
                .with("url", base),
        )
        .with("fhirVersion", FHIR_VERSION)
        .list("format", vec!["json".into(), MEDIA_TYPE.into()])
        .list("implementationGuide", vec![PLAN_NET_IG.into()])
        .list(
            "rest",
            vec![
                Object::new()
                    .with("mode", "server")
                    .with(
                        "documentation",
                        format!(
                            "Read-only: read and search-type on every resource; other \
                             methods answer 405. Searches page with _count (at most \
                             {MAX_COUNT}) and the Bundle's next and previous links."
                        ),
                    )
                    .with(
                        "security",
                        Object::new().with("cors", true).with(
                            "description",
                            "No authentication: the directory is public. Requests are \
                             rate-limited per client; an X-API-Key raises the limit.",
                        ),
                    )
                    .list(
                        "resource",
                        ResourceType::ALL.iter().map(|k| resource(*k)).collect(),
                    )
                    .into(),
            ],
        )
        .into()
}
