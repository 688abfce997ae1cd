//! The network: sites, devices, interfaces, links, circuits, partners and BGP sessions, close
//! to NetBox's model so data moves between them; and what the network's shape says: the devices
//! and links whose loss splits it, the paths between two places, and how many independent paths
//! reach each partner (computed with `graph::network`).
//!
//! Changes come from the network team (or an admin) through the service, a GraphML drawing or a
//! NetBox sync at a time, with one audit row for what each changed.
pub mod api;
pub mod pages;
pub mod types;

#[cfg(feature = "ssr")]
pub mod approval;
#[cfg(feature = "ssr")]
pub mod graphml;
#[cfg(feature = "ssr")]
pub mod layout;
#[cfg(feature = "ssr")]
pub mod netbox;
#[cfg(feature = "ssr")]
pub mod repo;
#[cfg(feature = "ssr")]
pub mod service;
