//! HTTP-level tests: each starts the real server on port 0 against a database of its own.
mod as_of;
mod assets;
mod auth;
mod backup;
mod blast;
mod calendar;
mod catalog;
mod contract;
mod deploys;
mod governance;
mod helpers;
mod health;
#[path = "../../../app/tests/mutate/mod.rs"]
mod mutate;
mod integrations;
mod netbox;
mod network_changes;
mod topology;
mod pages;
mod permissions;
mod security;
#[path = "../../benches/common/statements.rs"]
mod statements;
mod teams;
mod tokens;
