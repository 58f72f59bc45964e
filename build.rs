//! Rebuilds the crate when a migration is added or changed: `sqlx::migrate!`
//! embeds `migrations/` at compile time, and Cargo does not otherwise know
//! that the crate depends on those files.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
