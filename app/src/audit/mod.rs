//! The audit log: one append-only, hash-chained row for every change, written in the same
//! transaction as the change.
pub mod api;
pub mod pages;
pub mod types;

#[cfg(feature = "ssr")]
pub mod repo;
#[cfg(feature = "ssr")]
pub mod service;
