//! End-to-end HTTP tests: each test builds a real index from a CSV in a
//! temporary directory and starts the real server on a random port.

mod admin;
mod admin_page;
mod api;
mod fhir;
mod generations;
mod helpers;
mod hsds;
mod languages;
mod metrics;
mod openapi;
mod pages;
mod partner;
mod places;
mod reach;
mod reports;
mod words;
