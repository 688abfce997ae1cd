//! Switchyard's server: configuration, telemetry, routes and start-up around the Leptos app.
pub mod api;
pub mod assets;
pub mod auth;
pub mod config;
pub mod db;
mod demo_integrations;
pub mod demo_network;
pub mod metrics;
pub mod deploys;
pub mod middleware;
pub mod plain;
pub mod routes;
pub mod startup;
pub mod telemetry;
