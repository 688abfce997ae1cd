//! Switchyard's Leptos application: pages, components and server functions, and (behind
//! `ssr`) the domain services and their SQL.
#![recursion_limit = "256"]

pub mod apidocs;
pub mod app;
pub mod approvals;
pub mod audit;
pub mod catalog;
pub mod deploys;
pub mod error;
pub mod iam;
pub mod pages;
pub mod ui;

#[cfg(feature = "ssr")]
pub mod batch;
#[cfg(feature = "ssr")]
pub mod context;
#[cfg(feature = "ssr")]
pub mod untrusted;

pub use app::{shell, App};

/// The browser entry point: hydrates the server-rendered page.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_lazy(App);
}
