//! Stable identifiers derived from a provider's id, for the partner
//! facades (`facades::hsds`, `facades::fhir`).
//!
//! HSDS 3.0 requires a UUID for every `id` and foreign key; a FHIR id is
//! `[A-Za-z0-9.-]{1,64}`, which a provider id with `_` is not. The ids
//! derived here are name-based: the same provider has the same ids in
//! every generation and on every replica, and nothing is stored but one
//! 64-bit **lookup key** per provider (indexed by `index::schema`), from
//! which a request's UUID finds its provider again.
//!
//! A provider's UUID of a given *kind* (`service`, `organization`, …) is a
//! UUIDv8 (RFC 9562, vendor-specific layout):
//!
//! - bytes 0–7: the provider's lookup key, the first 8 bytes of
//!   SHA-256(`ketadir` 0x00 provider id) with the version nibble set to 8;
//! - bytes 8–15: bytes 8–15 of SHA-256(`ketadir` 0x00 kind 0x00 provider
//!   id), with the RFC 4122 variant bits set.
//!
//! A lookup reads the key from the UUID, finds the providers indexed under
//! it (one, bar a 2⁻⁶⁰ chance), and keeps the provider whose UUID of that
//! kind is the one asked for; any other UUID names nothing.

use sha2::{Digest, Sha256};
use uuid::Uuid;

/// SHA-256 of `ketadir` 0x00, then each part followed by 0x00 except the last.
fn digest(parts: &[&str]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(b"ketadir\0");
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            hasher.update([0u8]);
        }
        hasher.update(part.as_bytes());
    }
    hasher.finalize().into()
}

/// The first 8 bytes of a provider's UUIDs, version nibble included.
fn key_bytes(provider_id: &str) -> [u8; 8] {
    let hash = digest(&[provider_id]);
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&hash[..8]);
    bytes[6] = 0x80 | (bytes[6] & 0x0f);
    bytes
}

/// The 64-bit key under which a provider is indexed; every UUID of the
/// provider starts with it.
pub fn lookup_key(provider_id: &str) -> u64 {
    u64::from_be_bytes(key_bytes(provider_id))
}

/// The provider's UUID of one kind of record (`service`, `organization`,
/// `location`, `service_at_location`, or a nested record such as
/// `phone` or `attribute treatment iv_infusion`).
pub fn provider_uuid(kind: &str, provider_id: &str) -> Uuid {
    let tail = digest(&[kind, provider_id]);
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&key_bytes(provider_id));
    bytes[8..].copy_from_slice(&tail[8..16]);
    // `new_v8` sets the version (8) and variant bits; the version nibble
    // is already part of the key bytes.
    Uuid::new_v8(bytes)
}

/// A UUID for a name that is not a provider's (a taxonomy, a term).
pub fn name_uuid(name: &str) -> Uuid {
    let hash = digest(&["name", name]);
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&hash[..16]);
    Uuid::new_v8(bytes)
}

/// The hyphenated, lower-case form (`8-4-4-4-12` hex digits), the one the
/// facades write.
pub fn parse_uuid(text: &str) -> Option<Uuid> {
    if text.len() != 36 {
        return None;
    }
    Uuid::try_parse(text).ok()
}

/// The lookup key a UUID of ours carries: `None` for a UUID that cannot be
/// one of ours (another version or variant).
pub fn key_of(uuid: &Uuid) -> Option<u64> {
    if uuid.get_version_num() != 8 || uuid.get_variant() != uuid::Variant::RFC4122 {
        return None;
    }
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&uuid.as_bytes()[..8]);
    Some(u64::from_be_bytes(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_stable_distinct_per_kind_and_carry_the_key() {
        let service = provider_uuid("service", "p-000001");
        assert_eq!(service, provider_uuid("service", "p-000001"));
        assert_ne!(service, provider_uuid("organization", "p-000001"));
        assert_ne!(service, provider_uuid("service", "p-000002"));
        assert_eq!(service.get_version_num(), 8);
        assert_eq!(key_of(&service), Some(lookup_key("p-000001")));
        assert_eq!(
            key_of(&provider_uuid("location", "p-000001")),
            Some(lookup_key("p-000001"))
        );
    }

    #[test]
    fn parsing_accepts_only_the_hyphenated_form() {
        let uuid = provider_uuid("service", "p-000001");
        let text = uuid.hyphenated().to_string();
        assert_eq!(parse_uuid(&text), Some(uuid));
        assert_eq!(parse_uuid(&text.to_uppercase()), Some(uuid));
        assert_eq!(parse_uuid(&uuid.simple().to_string()), None);
        assert_eq!(parse_uuid("p-000001"), None);
        assert_eq!(key_of(&Uuid::nil()), None);
    }
}
