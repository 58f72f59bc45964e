//! ketadir: a search service for ketamine-therapy providers.
//!
//! The library does all the work; `src/main.rs` only parses arguments.
//! See ARCHITECTURE.md for the map and the data flow.

pub mod cli;
pub mod clock;
pub mod facades;
pub mod geo;
pub mod ids;
pub mod index;
pub mod ingest;
pub mod metrics;
pub mod pages;
pub mod provider;
pub mod reports;
pub mod routes;
pub mod search;
pub mod shutdown;
pub mod startup;
pub mod values;
