//! The service catalog: Backstage's entity model (components, APIs, systems, domains,
//! resources; teams as groups), registration through approval, search, scorecards, and
//! descriptor import and export.
pub mod api;
pub mod draft;
pub mod pages;
pub mod types;

#[cfg(feature = "ssr")]
pub mod approval;
#[cfg(feature = "ssr")]
pub mod backstage;
#[cfg(feature = "ssr")]
pub mod definitions;
#[cfg(feature = "ssr")]
pub mod import;
#[cfg(feature = "ssr")]
pub mod repo;
#[cfg(feature = "ssr")]
pub mod scorecard;
#[cfg(feature = "ssr")]
pub mod service;
