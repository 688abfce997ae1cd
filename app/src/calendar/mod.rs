//! One change calendar across the layers: deploy freezes (deploys), maintenance windows with
//! what they cut off (topology), and the scheduled runs of critical integrations
//! (integrations), on one timeline, filterable, and as an iCalendar feed. It owns no table: it
//! reads each domain through that domain's service.
pub mod api;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod service;
pub mod types;
