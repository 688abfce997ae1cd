//! Integrations: the systems business data moves between, the flows that move it (iPaaS and
//! in-house jobs), and their runs, pushed in as OpenLineage events and rolled up into health as
//! they arrive.
//!
//! Run events are records, not changes: each is kept as it came (append-only, with the token
//! that sent it) and writes no audit row. Changes to systems and integrations go through the
//! registry service with their audit row, and wait for approval where the data or the target
//! calls for it.
pub mod api;
pub mod declared;
pub mod pages;
pub mod types;

#[cfg(feature = "ssr")]
pub mod approval;
#[cfg(feature = "ssr")]
pub mod lineage;
#[cfg(feature = "ssr")]
pub mod repo;
#[cfg(feature = "ssr")]
pub mod service;
