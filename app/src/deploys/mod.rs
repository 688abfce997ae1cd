//! Deploys: kick off, approve, run, watch and roll back — a state machine whose rows are the
//! job queue, so a crash loses nothing and runs nothing twice.
pub mod api;
pub mod pages;
pub mod types;

#[cfg(feature = "ssr")]
pub mod approval;
#[cfg(feature = "ssr")]
pub mod queue;
#[cfg(feature = "ssr")]
pub mod repo;
#[cfg(feature = "ssr")]
pub mod service;
