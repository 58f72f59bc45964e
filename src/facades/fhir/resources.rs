//! One provider row as FHIR resources (docs/fhir.md, "Mapping"): a
//! `Practitioner`, the `Organization` of its own row, a `Location`, a
//! `PractitionerRole` tying them together, and a `HealthcareService`. All
//! share the row's FHIR id ([`super::fhir_id`]).
//!
//! A row whose `provider_type` lists `clinic` is a clinic, not a person: it
//! has no Practitioner ([`super::has_practitioner`]). Its Organization
//! carries what the Practitioner would have (the NPI, which is then the
//! organization's, and the listing's name as an alias), and its
//! PractitionerRole, which Plan-Net allows without a practitioner, names
//! the Organization, Location and HealthcareService only. The provider
//! types are the role's `code`.

use std::borrow::Cow;

use super::{
    CONDITION_SYSTEM, NPI_SYSTEM, PROVIDER_ID_SYSTEM, ResourceType, TREATMENT_SYSTEM, fhir_id,
    has_practitioner,
};
use crate::facades::node::{Node, Object};
use crate::facades::verified_instant;
use crate::provider::{Provider, ProviderType};
use crate::search::Hit;

/// HL7 v2 table 0203 (identifier types): `NPI`.
const IDENTIFIER_TYPE_SYSTEM: &str = "http://terminology.hl7.org/CodeSystem/v2-0203";
/// HL7 v2 table 0360 (degrees and licences), for the credentials it has.
const DEGREE_SYSTEM: &str = "http://terminology.hl7.org/CodeSystem/v2-0360";
const GEOLOCATION: &str = "http://hl7.org/fhir/StructureDefinition/geolocation";

/// Credentials as written in the directory → v2-0360 code and display.
/// Others (CRNA, LCSW, PsyD, …) have no code there and are sent as text.
const DEGREES: [(&str, &str, &str); 8] = [
    ("MD", "MD", "Doctor of Medicine"),
    ("DO", "DO", "Doctor of Osteopathy"),
    ("NP", "NP", "Nurse Practitioner"),
    ("PA", "PA", "Physician Assistant"),
    ("PHD", "PHD", "Doctor of Philosophy"),
    ("RN", "RN", "Registered Nurse"),
    ("LPN", "LPN", "Licensed Practical Nurse"),
    ("PHARMD", "PharmD", "Doctor of Pharmacy"),
];

/// Plan-Net's provider roles (`PractitionerRole.code`, bound to its
/// PractitionerRoleVS).
const PROVIDER_ROLE_SYSTEM: &str =
    "http://hl7.org/fhir/us/davinci-pdex-plan-net/CodeSystem/ProviderRoleCS";

/// A provider type's code and display in [`PROVIDER_ROLE_SYSTEM`]: the
/// narrowest code that holds every provider of the type. Nurse
/// anesthetists (CRNA) are advanced practice nurses, which is as close as
/// the system comes; therapists (LCSW, LPC, LMFT) are behavioural health
/// and social service providers, as the directory does not say which
/// licence each has. A clinic is no provider role: it has none.
fn provider_role(kind: ProviderType) -> Option<(&'static str, &'static str)> {
    match kind {
        ProviderType::Physician => Some(("ph", "Physician")),
        ProviderType::NursePractitioner => {
            Some(("crnp", "Certified Registered Nurse Practitioner"))
        }
        ProviderType::PhysicianAssistant => Some(("pa", "Physician Assistant")),
        ProviderType::NurseAnesthetist => Some(("apn", "Advanced Practice Nursing Providers")),
        ProviderType::Psychologist => Some(("py", "Psychologist")),
        ProviderType::Therapist => Some(("bh", "Behavioral Health & Social Service Providers")),
        ProviderType::Clinic => None,
    }
}

/// Words before a name that are titles, not given names.
const NAME_PREFIXES: [&str; 7] = ["dr", "dr.", "mr", "mr.", "mrs", "mrs.", "ms"];

/// The resource of one kind for a provider row. Callers ask only for the
/// kinds the row has ([`ResourceType::exists_for`]): a clinic's
/// Practitioner would be built, but it does not exist.
pub fn resource(kind: ResourceType, hit: &Hit) -> Node<'_> {
    let provider = &hit.provider;
    let head = Object::new()
        .with("resourceType", kind.name())
        .with("id", fhir_id(&provider.id))
        .with("meta", meta(kind, provider));
    match kind {
        ResourceType::Practitioner => practitioner(head, provider),
        ResourceType::Organization => organization(head, provider),
        ResourceType::Location => location(head, provider),
        ResourceType::PractitionerRole => practitioner_role(head, provider),
        ResourceType::HealthcareService => healthcare_service(head, provider),
    }
    .into()
}

fn meta(kind: ResourceType, provider: &Provider) -> Node<'_> {
    Object::new()
        .maybe(
            "lastUpdated",
            provider.last_verified.as_deref().map(verified_instant),
        )
        .list("profile", vec![kind.profile().into()])
        .into()
}

fn coding<'a>(system: &'a str, code: &'a str, display: &'a str) -> Node<'a> {
    Object::new()
        .with("system", system)
        .with("code", code)
        .with("display", display)
        .into()
}

/// A CodeableConcept of one coding, with the display as its text.
fn concept<'a>(system: &'a str, code: &'a str, display: &'a str) -> Node<'a> {
    Object::new()
        .list("coding", vec![coding(system, code, display)])
        .with("text", display)
        .into()
}

/// A CodeableConcept of text only (languages, credentials without a code).
fn text_concept(text: &str) -> Node<'_> {
    Object::new().with("text", text).into()
}

fn reference<'a>(kind: ResourceType, provider: &'a Provider, display: &'a str) -> Node<'a> {
    Object::new()
        .with(
            "reference",
            format!("{}/{}", kind.name(), fhir_id(&provider.id)),
        )
        .with("display", display)
        .into()
}

fn provider_identifier(provider: &Provider) -> Node<'_> {
    Object::new()
        .with("use", "secondary")
        .with("system", PROVIDER_ID_SYSTEM)
        .with("value", &provider.id)
        .into()
}

fn npi_identifier(npi: &str) -> Node<'_> {
    Object::new()
        .with("use", "official")
        .with(
            "type",
            concept(
                IDENTIFIER_TYPE_SYSTEM,
                "NPI",
                "National provider identifier",
            ),
        )
        .with("system", NPI_SYSTEM)
        .with("value", npi)
        .into()
}

fn telecom(provider: &Provider) -> Vec<Node<'_>> {
    [
        ("phone", &provider.phone),
        ("email", &provider.email),
        ("url", &provider.website),
    ]
    .into_iter()
    .filter_map(|(system, value)| {
        let value = value.as_deref()?;
        Some(
            Object::new()
                .with("system", system)
                .with("value", value)
                .with("use", "work")
                .into(),
        )
    })
    .collect()
}

/// "724 Demo Rd, Queens, NY 11417".
fn address_text(provider: &Provider) -> String {
    let mut text = String::with_capacity(64);
    if let Some(street) = &provider.address {
        text.push_str(street);
        text.push_str(", ");
    }
    text.push_str(&provider.city);
    text.push_str(", ");
    text.push_str(&provider.state);
    if let Some(zip) = &provider.zip {
        text.push(' ');
        text.push_str(zip);
    }
    text
}

/// The row's address; with the `geolocation` extension where the resource
/// has no `position` of its own (Organization, Practitioner).
fn address(provider: &Provider, geolocation: bool) -> Node<'_> {
    let extension = if geolocation {
        vec![
            Object::new()
                .with("url", GEOLOCATION)
                .list(
                    "extension",
                    vec![
                        Object::new()
                            .with("url", "latitude")
                            .with("valueDecimal", provider.latitude)
                            .into(),
                        Object::new()
                            .with("url", "longitude")
                            .with("valueDecimal", provider.longitude)
                            .into(),
                    ],
                )
                .into(),
        ]
    } else {
        Vec::new()
    };
    Object::new()
        .list("extension", extension)
        .with("use", "work")
        .with("type", "physical")
        .with("text", address_text(provider))
        .list(
            "line",
            provider
                .address
                .as_deref()
                .map(Node::from)
                .into_iter()
                .collect(),
        )
        .with("city", &provider.city)
        .with("state", &provider.state)
        .maybe("postalCode", provider.zip.as_deref())
        .with("country", "US")
        .into()
}

/// Plan-Net's `newpatients` extension: accepting new patients or not.
fn new_patients(provider: &Provider) -> Node<'_> {
    let (code, display) = if provider.accepting_new_patients {
        ("newpt", "Accepting")
    } else {
        ("nopt", "Not Accepting")
    };
    Object::new()
        .with(
            "url",
            concat!(
                "http://hl7.org/fhir/us/davinci-pdex-plan-net",
                "/StructureDefinition/newpatients"
            ),
        )
        .list(
            "extension",
            vec![
                Object::new()
                    .with("url", "acceptingPatients")
                    .with(
                        "valueCodeableConcept",
                        concept(
                            concat!(
                                "http://hl7.org/fhir/us/davinci-pdex-plan-net",
                                "/CodeSystem/AcceptingPatientsCS"
                            ),
                            code,
                            display,
                        ),
                    )
                    .into(),
            ],
        )
        .into()
}

/// Plan-Net's `delivery-method` extension: `physical` or `virtual`.
fn delivery_method(code: &'static str, display: &'static str) -> Node<'static> {
    Object::new()
        .with(
            "url",
            concat!(
                "http://hl7.org/fhir/us/davinci-pdex-plan-net",
                "/StructureDefinition/delivery-method"
            ),
        )
        .list(
            "extension",
            vec![
                Object::new()
                    .with("url", "type")
                    .with(
                        "valueCodeableConcept",
                        concept(
                            concat!(
                                "http://hl7.org/fhir/us/davinci-pdex-plan-net",
                                "/CodeSystem/DeliveryMethodCS"
                            ),
                            code,
                            display,
                        ),
                    )
                    .into(),
            ],
        )
        .into()
}

/// The name of the row's organization: the practice, or, for a clinician
/// listed without one, the clinician's own practice under their name.
pub(super) fn organization_name(provider: &Provider) -> &str {
    provider.organization.as_deref().unwrap_or(&provider.name)
}

/// A person's name split as FHIR wants it: titles in `prefix`, the last
/// word as `family`, the words between as `given`; `text` is the name as
/// listed. Anything after a comma ("Jane Roe, MD") is left to `text`.
fn human_name(full: &str) -> Node<'_> {
    let name = full.split(',').next().unwrap_or(full);
    let mut words: Vec<&str> = name.split_whitespace().collect();
    let prefixes = words
        .iter()
        .take_while(|w| NAME_PREFIXES.contains(&w.to_lowercase().as_str()))
        .count()
        .min(words.len().saturating_sub(1));
    let prefix: Vec<Node> = words.drain(..prefixes).map(Node::from).collect();
    let family = words.pop();
    Object::new()
        .with("use", "official")
        .with("text", full)
        .maybe("family", family)
        .list("given", words.into_iter().map(Node::from).collect())
        .list("prefix", prefix)
        .into()
}

fn qualification(credential: &str) -> Node<'_> {
    let key: String = credential
        .chars()
        .filter(|c| *c != '.')
        .collect::<String>()
        .to_uppercase();
    let code = match DEGREES.iter().find(|(written, _, _)| *written == key) {
        Some((_, code, display)) => Object::new()
            .list("coding", vec![coding(DEGREE_SYSTEM, code, display)])
            .with("text", credential)
            .into(),
        None => text_concept(credential),
    };
    Object::new().with("code", code).into()
}

fn languages(provider: &Provider) -> Vec<Node<'_>> {
    provider.languages.iter().map(|l| text_concept(l)).collect()
}

fn practitioner<'a>(head: Object<'a>, provider: &'a Provider) -> Object<'a> {
    let identifiers = provider
        .npi
        .as_deref()
        .map(npi_identifier)
        .into_iter()
        .chain([provider_identifier(provider)])
        .collect();
    head.list("identifier", identifiers)
        .with("active", true)
        .list("name", vec![human_name(&provider.name)])
        .list("telecom", telecom(provider))
        .list("address", vec![address(provider, true)])
        .list(
            "qualification",
            provider
                .credentials
                .iter()
                .map(|c| qualification(c))
                .collect(),
        )
        .list("communication", languages(provider))
}

fn organization<'a>(head: Object<'a>, provider: &'a Provider) -> Object<'a> {
    // A clinic has no Practitioner to carry its NPI and name: its NPI is
    // the organization's (an NPI of type 2), and its name, when the
    // practice's differs, is the name it is known by here.
    let clinic = !has_practitioner(provider);
    let identifiers = provider
        .npi
        .as_deref()
        .filter(|_| clinic)
        .map(npi_identifier)
        .into_iter()
        .chain([provider_identifier(provider)])
        .collect();
    let alias = (clinic && organization_name(provider) != provider.name)
        .then(|| Node::from(&provider.name));
    head.list("identifier", identifiers)
        .with("active", true)
        .list(
            "type",
            vec![concept(
                concat!(
                    "http://hl7.org/fhir/us/davinci-pdex-plan-net",
                    "/CodeSystem/OrgTypeCS"
                ),
                "prvgrp",
                "Provider Group",
            )],
        )
        .with("name", organization_name(provider))
        .list("alias", alias.into_iter().collect())
        .list("telecom", telecom(provider))
        .list("address", vec![address(provider, true)])
}

fn location<'a>(head: Object<'a>, provider: &'a Provider) -> Object<'a> {
    let description = provider.location_approximate.then(|| {
        format!(
            "The position is the centre of ZIP code {}, not the street address.",
            provider.zip.as_deref().unwrap_or("(unknown)")
        )
    });
    head.list("extension", vec![new_patients(provider)])
        .list("identifier", vec![provider_identifier(provider)])
        .with("status", "active")
        .with("name", organization_name(provider))
        .maybe("description", description)
        .list("telecom", telecom(provider))
        .with("address", address(provider, false))
        .with(
            "position",
            Object::new()
                .with("longitude", provider.longitude)
                .with("latitude", provider.latitude),
        )
        .with(
            "managingOrganization",
            reference(
                ResourceType::Organization,
                provider,
                organization_name(provider),
            ),
        )
}

/// Treatments, then conditions, as codings of ketadir's code systems.
fn specialties(provider: &Provider) -> Vec<Node<'_>> {
    provider
        .treatments
        .iter()
        .map(|t| concept(TREATMENT_SYSTEM, t.slug(), t.label()))
        .chain(
            provider
                .conditions
                .iter()
                .map(|c| concept(CONDITION_SYSTEM, c.slug(), c.label())),
        )
        .collect()
}

/// The provider types as role codes: a coding of Plan-Net's provider
/// roles where one fits, and the directory's label as the text (a clinic,
/// which no provider role names, is text only).
fn role_codes(provider: &Provider) -> Vec<Node<'_>> {
    provider
        .provider_type
        .iter()
        .map(|kind| {
            let codings = provider_role(*kind)
                .map(|(code, display)| coding(PROVIDER_ROLE_SYSTEM, code, display))
                .into_iter()
                .collect();
            Object::new()
                .list("coding", codings)
                .with("text", kind.label())
                .into()
        })
        .collect()
}

fn practitioner_role<'a>(head: Object<'a>, provider: &'a Provider) -> Object<'a> {
    // A clinic's role is the Organization's own: Plan-Net allows a role
    // without a practitioner when it names an organization, location or
    // service, and this one names all three.
    let practitioner = has_practitioner(provider)
        .then(|| reference(ResourceType::Practitioner, provider, &provider.name));
    head.list("extension", vec![new_patients(provider)])
        .list("identifier", vec![provider_identifier(provider)])
        .with("active", true)
        .maybe("practitioner", practitioner)
        .with(
            "organization",
            reference(
                ResourceType::Organization,
                provider,
                organization_name(provider),
            ),
        )
        .list("code", role_codes(provider))
        .list("specialty", specialties(provider))
        .list(
            "location",
            vec![reference(
                ResourceType::Location,
                provider,
                organization_name(provider),
            )],
        )
        .list(
            "healthcareService",
            vec![reference(
                ResourceType::HealthcareService,
                provider,
                &provider.name,
            )],
        )
        .list("telecom", telecom(provider))
}

/// Markdown with the characters that would format escaped.
fn markdown_text(text: &str) -> Cow<'_, str> {
    const SPECIAL: &[char] = &['\\', '`', '*', '_', '[', ']', '<', '>', '#', '|'];
    if !text.contains(SPECIAL) {
        return Cow::Borrowed(text);
    }
    let mut escaped = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if SPECIAL.contains(&c) {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    Cow::Owned(escaped)
}

/// Price and insurers, which FHIR's HealthcareService has no field for.
fn extra_details(provider: &Provider) -> Option<String> {
    let mut lines = Vec::new();
    match (provider.price_min, provider.price_max) {
        (Some(min), Some(max)) if max > min => {
            lines.push(format!("Price per session: USD {min}–{max}."));
        }
        (Some(price), _) | (None, Some(price)) => {
            lines.push(format!("Price per session: USD {price}."));
        }
        (None, None) => {}
    }
    if !provider.insurance.is_empty() {
        let insurers: Vec<Cow<str>> = provider
            .insurance
            .iter()
            .map(|i| markdown_text(i))
            .collect();
        lines.push(format!("Insurance accepted: {}.", insurers.join(", ")));
    }
    (!lines.is_empty()).then(|| lines.join("\n\n"))
}

fn healthcare_service<'a>(head: Object<'a>, provider: &'a Provider) -> Object<'a> {
    let mut extension = vec![
        new_patients(provider),
        delivery_method("physical", "Physical"),
    ];
    if provider.telehealth {
        extension.push(delivery_method("virtual", "Virtual"));
    }
    head.list("extension", extension)
        .list("identifier", vec![provider_identifier(provider)])
        .with("active", true)
        .with(
            "providedBy",
            reference(
                ResourceType::Organization,
                provider,
                organization_name(provider),
            ),
        )
        .list(
            "category",
            vec![concept(
                concat!(
                    "http://hl7.org/fhir/us/davinci-pdex-plan-net",
                    "/CodeSystem/HealthcareServiceCategoryCS"
                ),
                "outpat",
                "Clinic or Outpatient Facility",
            )],
        )
        .list(
            "type",
            provider
                .treatments
                .iter()
                .map(|t| concept(TREATMENT_SYSTEM, t.slug(), t.label()))
                .collect(),
        )
        .list(
            "location",
            vec![reference(
                ResourceType::Location,
                provider,
                organization_name(provider),
            )],
        )
        .with("name", &provider.name)
        .maybe("comment", provider.description.as_deref())
        .maybe("extraDetails", extra_details(provider))
        .list("telecom", telecom(provider))
        .list("communication", languages(provider))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(node: &Node) -> serde_json::Value {
        serde_json::to_value(node).expect("serialises")
    }

    #[test]
    fn names_split_into_prefix_given_and_family() {
        let name = json(&human_name("Dr. Ana María de la Cruz, MD"));
        assert_eq!(name["prefix"], serde_json::json!(["Dr."]));
        assert_eq!(name["family"], "Cruz");
        assert_eq!(
            name["given"],
            serde_json::json!(["Ana", "María", "de", "la"])
        );
        assert_eq!(name["text"], "Dr. Ana María de la Cruz, MD");
        let single = json(&human_name("Dr"));
        assert_eq!(single["family"], "Dr");
        assert!(single.get("given").is_none() && single.get("prefix").is_none());
    }

    #[test]
    fn known_degrees_are_coded_and_others_are_text() {
        let md = json(&qualification("M.D."));
        assert_eq!(md["code"]["coding"][0]["code"], "MD");
        assert_eq!(md["code"]["text"], "M.D.");
        let crna = json(&qualification("CRNA"));
        assert!(crna["code"].get("coding").is_none());
        assert_eq!(crna["code"]["text"], "CRNA");
    }

    #[test]
    fn markdown_specials_are_escaped() {
        assert_eq!(markdown_text("Aetna"), "Aetna");
        assert_eq!(markdown_text("*Blue* [Cross]"), "\\*Blue\\* \\[Cross\\]");
    }
}
