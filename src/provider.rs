//! The provider record and its controlled vocabularies.
//!
//! A [`Provider`] is what one valid CSV row becomes and what the API returns.
//! [`Treatment`] and [`Condition`] are closed vocabularies: each value has a
//! slug (stored, filtered on), a human label (shown on pages) and search
//! synonyms (indexed as text so that "spravato" or "nerve pain" find the
//! providers that offer or treat them).

use serde::{Deserialize, Serialize};

/// One provider as validated by `ingest` and stored in a generation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Provider {
    pub id: String,
    pub name: String,
    pub organization: Option<String>,
    pub credentials: Vec<String>,
    pub npi: Option<String>,
    pub address: Option<String>,
    pub city: String,
    pub state: String,
    pub zip: Option<String>,
    pub latitude: f64,
    pub longitude: f64,
    /// True when the CSV row had no coordinates and the ZIP centroid was used.
    pub location_approximate: bool,
    pub phone: Option<String>,
    pub website: Option<String>,
    pub email: Option<String>,
    pub treatments: Vec<Treatment>,
    pub conditions: Vec<Condition>,
    pub insurance: Vec<String>,
    pub price_min: Option<u32>,
    pub price_max: Option<u32>,
    pub telehealth: bool,
    pub accepting_new_patients: bool,
    pub languages: Vec<String>,
    pub rating: Option<f64>,
    pub review_count: u32,
    pub description: Option<String>,
    pub last_verified: Option<String>,
    /// Who gives the care (empty when the CSV does not say).
    #[serde(default)]
    pub provider_type: Vec<ProviderType>,
    /// States where the provider may treat patients by telehealth; empty
    /// means its own `state` (see [`Provider::reaches_state`]).
    #[serde(default)]
    pub licensed_states: Vec<String>,
    /// Whether the site is certified under the SPRAVATO REMS; `None` when
    /// the CSV does not say.
    #[serde(default)]
    pub rems_certified: Option<bool>,
}

impl Provider {
    /// True when a patient in `state` can be treated by this provider over
    /// telehealth: it offers telehealth and is licensed there (no listed
    /// states means its own state only).
    pub fn reaches_state(&self, state: &str) -> bool {
        self.telehealth
            && if self.licensed_states.is_empty() {
                self.state == state
            } else {
                self.licensed_states.iter().any(|s| s == state)
            }
    }
}

/// Highest price (whole USD per session) a CSV may give and `max_price`
/// may ask for.
pub const MAX_PRICE: u32 = 1_000_000;
/// Highest review count a CSV may give.
pub const MAX_REVIEW_COUNT: u32 = 100_000_000;

/// Smoothing weight of the adjusted rating: a provider needs about this many
/// reviews before its own average outweighs the directory-wide mean.
pub const RATING_PRIOR_WEIGHT: f64 = 10.0;

/// The rating used for `sort=rating`: a Bayesian average that pulls providers
/// with few reviews towards `mean_rating`, so one 5-star review cannot put a
/// provider above one with hundreds of 4.8s.
pub fn adjusted_rating(rating: Option<f64>, review_count: u32, mean_rating: f64) -> f64 {
    match rating {
        Some(rating) if review_count > 0 => {
            let n = f64::from(review_count);
            (RATING_PRIOR_WEIGHT * mean_rating + rating * n) / (RATING_PRIOR_WEIGHT + n)
        }
        _ => mean_rating,
    }
}

/// The key under which free-text list values (insurance, languages) are
/// compared: trimmed and lower-cased, so "Aetna" and "AETNA" are one insurer.
pub fn list_key(value: &str) -> String {
    value.trim().to_lowercase()
}

/// Turns a user-written vocabulary value into slug form: lower case, with
/// spaces and hyphens read as underscores.
pub fn normalize_slug(value: &str) -> String {
    value
        .trim()
        .chars()
        .map(|c| match c {
            ' ' | '-' => '_',
            other => other.to_ascii_lowercase(),
        })
        .collect()
}

/// A closed vocabulary (treatments, conditions, provider types) as code
/// that serves them all sees it: the API's lists, the form's checkboxes,
/// the facets' links.
pub trait Vocabulary: Copy + PartialEq + 'static {
    /// Every value, in the order pages and facets list them.
    const ALL: &'static [Self];
    /// Its name as a search parameter and as the prefix of its labels in
    /// the pages' catalogues (`treatment.iv_infusion`).
    const KEY: &'static str;
    fn slug(self) -> &'static str;
    fn label(self) -> &'static str;
    fn synonyms(self) -> &'static [&'static str];
    fn parse_lenient(value: &str) -> Option<Self>;
}

/// Defines a closed vocabulary enum with slug, label and synonyms per value.
/// Synonyms include the Spanish words patients type on the Spanish pages
/// ("fibromialgia", "ansiedad", "migraña"; accents are folded when
/// matching), so the "what" box understands them too.
macro_rules! vocabulary {
    (
        $(#[$meta:meta])*
        $name:ident ($key:literal) {
            $($variant:ident => $slug:literal, $label:literal, [$($synonym:literal),* $(,)?];)+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($variant,)+
        }

        impl $name {
            /// Every value, in the order pages and facets list them.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// Every slug, in the order of [`Self::ALL`].
            pub const SLUGS: &'static [&'static str] = &[$($slug,)+];

            pub fn slug(self) -> &'static str {
                match self {
                    $($name::$variant => $slug,)+
                }
            }

            pub fn label(self) -> &'static str {
                match self {
                    $($name::$variant => $label,)+
                }
            }

            /// Other words patients use for this value; indexed as text.
            pub fn synonyms(self) -> &'static [&'static str] {
                match self {
                    $($name::$variant => &[$($synonym,)*],)+
                }
            }

            /// Position in [`Self::ALL`]; used as a bit index in fast fields.
            pub fn index(self) -> usize {
                self as usize
            }

            /// Parses a CSV value: the slug, case-insensitive, with spaces and
            /// hyphens read as underscores.
            pub fn parse(value: &str) -> Option<Self> {
                let slug = normalize_slug(value);
                Self::ALL.iter().copied().find(|v| v.slug() == slug)
            }

            /// Parses a search parameter: the slug as in [`Self::parse`], or a
            /// synonym ("spravato", "rsd"), so that hand-written URLs work.
            pub fn parse_lenient(value: &str) -> Option<Self> {
                Self::parse(value).or_else(|| {
                    let wanted = value.trim().to_lowercase();
                    Self::ALL
                        .iter()
                        .copied()
                        .find(|v| v.synonyms().iter().any(|s| *s == wanted))
                })
            }

            /// The allowed slugs, for error messages.
            pub fn allowed() -> String {
                Self::ALL.iter().map(|v| v.slug()).collect::<Vec<_>>().join(", ")
            }
        }

        impl Vocabulary for $name {
            const ALL: &'static [$name] = $name::ALL;
            const KEY: &'static str = $key;

            fn slug(self) -> &'static str {
                $name::slug(self)
            }

            fn label(self) -> &'static str {
                $name::label(self)
            }

            fn synonyms(self) -> &'static [&'static str] {
                $name::synonyms(self)
            }

            fn parse_lenient(value: &str) -> Option<Self> {
                $name::parse_lenient(value)
            }
        }
    };
}

vocabulary! {
    /// How ketamine is given.
    Treatment ("treatment") {
        IvInfusion => "iv_infusion", "IV ketamine infusion",
            ["iv", "intravenous", "infusion", "infusions", "drip", "infusión", "intravenosa"];
        ImInjection => "im_injection", "Intramuscular ketamine injection",
            ["im", "intramuscular", "injection", "injections", "shot", "inyección", "inyecciones"];
        EsketamineNasal => "esketamine_nasal", "Esketamine nasal spray (Spravato)",
            ["spravato", "esketamine", "nasal spray", "nasal", "rems", "esketamina", "aerosol nasal"];
        OralSublingual => "oral_sublingual", "Oral or sublingual ketamine (lozenges, troches)",
            ["oral", "sublingual", "lozenge", "lozenges", "troche", "troches", "tablet", "pastillas"];
        KetamineAssistedPsychotherapy => "ketamine_assisted_psychotherapy",
            "Ketamine-assisted psychotherapy (KAP)",
            ["kap", "psychotherapy", "therapy", "counseling", "counselling", "psicoterapia", "terapia"];
    }
}

vocabulary! {
    /// What a provider treats with ketamine.
    Condition ("condition") {
        ChronicPain => "chronic_pain", "Chronic pain",
            ["pain", "persistent pain", "dolor", "dolor crónico"];
        Crps => "crps", "Complex regional pain syndrome (CRPS)",
            ["crps", "rsd", "reflex sympathetic dystrophy", "sdrc"];
        Fibromyalgia => "fibromyalgia", "Fibromyalgia", ["fibro", "fms", "fibromialgia"];
        NeuropathicPain => "neuropathic_pain", "Neuropathic pain",
            ["nerve pain", "neuropathy", "neuralgia", "neuropatía", "dolor neuropático"];
        Migraine => "migraine", "Migraine", ["migraines", "headache", "headaches", "migraña", "migrañas"];
        Depression => "depression", "Depression",
            ["major depressive disorder", "mdd", "depressed", "depresión"];
        TreatmentResistantDepression => "treatment_resistant_depression",
            "Treatment-resistant depression (TRD)",
            ["trd", "resistant depression", "depresión resistente"];
        Ptsd => "ptsd", "Post-traumatic stress disorder (PTSD)",
            ["ptsd", "trauma", "post traumatic stress", "tept", "estrés postraumático"];
        Anxiety => "anxiety", "Anxiety", ["anxiety disorder", "gad", "panic", "ansiedad", "pánico"];
        Ocd => "ocd", "Obsessive-compulsive disorder (OCD)", ["ocd", "obsessive compulsive", "toc"];
        BipolarDepression => "bipolar_depression", "Bipolar depression", ["bipolar", "depresión bipolar"];
        SuicidalIdeation => "suicidal_ideation", "Suicidal ideation",
            ["suicidal thoughts", "suicide", "ideación suicida", "suicidio"];
    }
}

vocabulary! {
    /// Who gives the care.
    ProviderType ("provider_type") {
        Physician => "physician", "Physician (MD/DO)", ["md", "do", "physician"];
        NursePractitioner => "nurse_practitioner", "Nurse practitioner", ["np", "aprn"];
        PhysicianAssistant => "physician_assistant", "Physician assistant", ["pa", "pa-c"];
        NurseAnesthetist => "nurse_anesthetist", "Nurse anesthetist (CRNA)", ["crna"];
        Psychologist => "psychologist", "Psychologist", ["phd", "psyd"];
        Therapist => "therapist", "Therapist (LCSW, LPC, LMFT)",
            ["lcsw", "lpc", "lmft", "counselor"];
        Clinic => "clinic", "Clinic", ["center", "practice"];
    }
}

impl Treatment {
    /// Treatments a patient can receive without a clinic visit: the only
    /// ones that telehealth reach may match (docs/search.md, "Telehealth
    /// reach"). IV, IM and SPRAVATO need the patient in the room.
    pub const BY_TELEHEALTH: &'static [Treatment] = &[
        Treatment::OralSublingual,
        Treatment::KetamineAssistedPsychotherapy,
    ];

    pub fn by_telehealth(self) -> bool {
        Self::BY_TELEHEALTH.contains(&self)
    }
}

/// USPS codes accepted in `state`: the 50 states, DC and the inhabited
/// territories, with their names (a patient may type either).
pub const US_STATES: &[(&str, &str)] = &[
    ("AL", "Alabama"),
    ("AK", "Alaska"),
    ("AZ", "Arizona"),
    ("AR", "Arkansas"),
    ("CA", "California"),
    ("CO", "Colorado"),
    ("CT", "Connecticut"),
    ("DE", "Delaware"),
    ("DC", "District of Columbia"),
    ("FL", "Florida"),
    ("GA", "Georgia"),
    ("HI", "Hawaii"),
    ("ID", "Idaho"),
    ("IL", "Illinois"),
    ("IN", "Indiana"),
    ("IA", "Iowa"),
    ("KS", "Kansas"),
    ("KY", "Kentucky"),
    ("LA", "Louisiana"),
    ("ME", "Maine"),
    ("MD", "Maryland"),
    ("MA", "Massachusetts"),
    ("MI", "Michigan"),
    ("MN", "Minnesota"),
    ("MS", "Mississippi"),
    ("MO", "Missouri"),
    ("MT", "Montana"),
    ("NE", "Nebraska"),
    ("NV", "Nevada"),
    ("NH", "New Hampshire"),
    ("NJ", "New Jersey"),
    ("NM", "New Mexico"),
    ("NY", "New York"),
    ("NC", "North Carolina"),
    ("ND", "North Dakota"),
    ("OH", "Ohio"),
    ("OK", "Oklahoma"),
    ("OR", "Oregon"),
    ("PA", "Pennsylvania"),
    ("RI", "Rhode Island"),
    ("SC", "South Carolina"),
    ("SD", "South Dakota"),
    ("TN", "Tennessee"),
    ("TX", "Texas"),
    ("UT", "Utah"),
    ("VT", "Vermont"),
    ("VA", "Virginia"),
    ("WA", "Washington"),
    ("WV", "West Virginia"),
    ("WI", "Wisconsin"),
    ("WY", "Wyoming"),
    ("PR", "Puerto Rico"),
    ("VI", "U.S. Virgin Islands"),
    ("GU", "Guam"),
    ("AS", "American Samoa"),
    ("MP", "Northern Mariana Islands"),
];

/// The name of a state given by its upper-case USPS code ("MT" →
/// "Montana").
pub fn state_name(code: &str) -> Option<&'static str> {
    US_STATES
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, name)| *name)
}

/// Position of a USPS code in [`US_STATES`] (a bit index in the index's
/// licensed-states column).
pub fn state_index(code: &str) -> Option<usize> {
    US_STATES.iter().position(|(c, _)| *c == code)
}

/// Returns the upper-case USPS code for a code given in any case.
pub fn parse_state_code(value: &str) -> Option<&'static str> {
    let wanted = value.trim();
    US_STATES
        .iter()
        .find(|(code, _)| code.eq_ignore_ascii_case(wanted))
        .map(|(code, _)| *code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vocabulary_parses_slugs_case_and_separators() {
        assert_eq!(Treatment::parse("IV-Infusion"), Some(Treatment::IvInfusion));
        assert_eq!(
            Treatment::parse(" ketamine assisted psychotherapy "),
            Some(Treatment::KetamineAssistedPsychotherapy)
        );
        assert_eq!(Condition::parse("CRPS"), Some(Condition::Crps));
        assert_eq!(Condition::parse("rsd"), None);
        assert_eq!(Condition::parse_lenient("RSD"), Some(Condition::Crps));
        assert_eq!(
            Treatment::parse_lenient("Spravato"),
            Some(Treatment::EsketamineNasal)
        );
        assert_eq!(
            Condition::parse_lenient("nerve pain"),
            Some(Condition::NeuropathicPain)
        );
        assert_eq!(
            Condition::parse_lenient("TRD"),
            Some(Condition::TreatmentResistantDepression)
        );
    }

    #[test]
    fn vocabulary_fits_the_bitmasks() {
        assert!(Treatment::ALL.len() + Condition::ALL.len() + 2 + ProviderType::ALL.len() <= 32);
        assert!(US_STATES.len() <= 64, "licensed states are a u64 bitmask");
        for (i, t) in Treatment::ALL.iter().enumerate() {
            assert_eq!(t.index(), i);
        }
    }

    #[test]
    fn adjusted_rating_pulls_single_reviews_towards_the_mean() {
        let mean = 4.0;
        let one_five_star = adjusted_rating(Some(5.0), 1, mean);
        let many_good = adjusted_rating(Some(4.8), 300, mean);
        assert!(many_good > one_five_star);
        assert_eq!(adjusted_rating(None, 0, mean), mean);
        assert!((one_five_star - (10.0 * 4.0 + 5.0) / 11.0).abs() < 1e-12);
    }

    #[test]
    fn state_codes_are_case_insensitive() {
        assert_eq!(parse_state_code("co"), Some("CO"));
        assert_eq!(parse_state_code("Gu"), Some("GU"));
        assert_eq!(parse_state_code("XX"), None);
    }
}
