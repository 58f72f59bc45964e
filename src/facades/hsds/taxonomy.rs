//! ketadir's vocabulary as HSDS taxonomies: one taxonomy of treatments and
//! one of conditions, each value a taxonomy term whose `code` is the
//! API's slug. Ids are name-based UUIDs ([`ids::name_uuid`]), the same
//! everywhere and forever.

use uuid::Uuid;

use crate::facades::node::{Node, Object};
use crate::ids;
use crate::provider::{Condition, Treatment};

/// The two taxonomies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Taxonomy {
    Treatments,
    Conditions,
}

impl Taxonomy {
    pub const ALL: [Taxonomy; 2] = [Taxonomy::Treatments, Taxonomy::Conditions];

    fn slug(self) -> &'static str {
        match self {
            Taxonomy::Treatments => "treatment",
            Taxonomy::Conditions => "condition",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Taxonomy::Treatments => "ketadir treatments",
            Taxonomy::Conditions => "ketadir conditions",
        }
    }

    fn description(self) -> &'static str {
        match self {
            Taxonomy::Treatments => {
                "How ketamine is given: the treatments a listing offers (the `treatment` \
                 filter of ketadir's API)."
            }
            Taxonomy::Conditions => {
                "What a listing treats with ketamine (the `condition` filter of \
                 ketadir's API)."
            }
        }
    }

    pub fn id(self) -> Uuid {
        ids::name_uuid(&format!("taxonomy {}", self.slug()))
    }

    /// The taxonomy as HSDS writes it (the `taxonomy_detail` of a term).
    pub fn record(self) -> Node<'static> {
        Object::new()
            .with("id", self.id().hyphenated().to_string())
            .with("name", self.name())
            .with("description", self.description())
            .with("version", env!("CARGO_PKG_VERSION"))
            .into()
    }

    /// Its terms, in vocabulary order.
    pub fn terms(self) -> Vec<Term> {
        match self {
            Taxonomy::Treatments => Treatment::ALL.iter().map(|t| Term::Treatment(*t)).collect(),
            Taxonomy::Conditions => Condition::ALL.iter().map(|c| Term::Condition(*c)).collect(),
        }
    }
}

/// One taxonomy term: a treatment or a condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Term {
    Treatment(Treatment),
    Condition(Condition),
}

impl Term {
    /// Every term: treatments, then conditions.
    pub fn all() -> impl Iterator<Item = Term> {
        Taxonomy::ALL.into_iter().flat_map(Taxonomy::terms)
    }

    pub fn taxonomy(self) -> Taxonomy {
        match self {
            Term::Treatment(_) => Taxonomy::Treatments,
            Term::Condition(_) => Taxonomy::Conditions,
        }
    }

    /// The API's slug (`iv_infusion`, `crps`): the term's `code`.
    pub fn code(self) -> &'static str {
        match self {
            Term::Treatment(t) => t.slug(),
            Term::Condition(c) => c.slug(),
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Term::Treatment(t) => t.label(),
            Term::Condition(c) => c.label(),
        }
    }

    fn synonyms(self) -> &'static [&'static str] {
        match self {
            Term::Treatment(t) => t.synonyms(),
            Term::Condition(c) => c.synonyms(),
        }
    }

    pub fn id(self) -> Uuid {
        ids::name_uuid(&format!("term {} {}", self.taxonomy().slug(), self.code()))
    }

    /// A term named by its id or its code.
    pub fn find(text: &str) -> Option<Term> {
        let uuid = ids::parse_uuid(text);
        Term::all().find(|term| Some(term.id()) == uuid || term.code() == text)
    }

    /// True when the term's code, label or a synonym contains `text`
    /// (lower case).
    pub fn mentions(self, text: &str) -> bool {
        self.code().contains(text)
            || self.label().to_lowercase().contains(text)
            || self.synonyms().iter().any(|s| s.contains(text))
    }

    /// The term as HSDS writes it; `detail` adds its taxonomy in full.
    pub fn record(self, detail: bool) -> Node<'static> {
        let description = if self.synonyms().is_empty() {
            self.label().to_string()
        } else {
            format!("{} (also: {})", self.label(), self.synonyms().join(", "))
        };
        let taxonomy = self.taxonomy();
        Object::new()
            .with("id", self.id().hyphenated().to_string())
            .with("code", self.code())
            .with("name", self.label())
            .with("description", description)
            .with("taxonomy", taxonomy.name())
            .maybe("taxonomy_detail", detail.then(|| taxonomy.record()))
            .with("language", "en")
            .with("taxonomy_id", taxonomy.id().hyphenated().to_string())
            .into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_are_found_by_id_or_code_and_ids_are_distinct() {
        let all: Vec<Term> = Term::all().collect();
        assert_eq!(all.len(), Treatment::ALL.len() + Condition::ALL.len());
        for term in &all {
            assert_eq!(Term::find(&term.id().hyphenated().to_string()), Some(*term));
            assert_eq!(Term::find(term.code()), Some(*term));
        }
        let mut ids: Vec<Uuid> = all.iter().map(|t| t.id()).collect();
        ids.extend(Taxonomy::ALL.iter().map(|t| t.id()));
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), all.len() + 2);
        assert_eq!(Term::find("magic"), None);
    }
}
