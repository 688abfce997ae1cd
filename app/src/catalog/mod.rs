//! The service catalog: services, their owners and tiers.
pub mod api;
pub mod pages;
pub mod types;

#[cfg(feature = "ssr")]
pub mod repo;
#[cfg(feature = "ssr")]
pub mod service;
