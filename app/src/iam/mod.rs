//! Identity: users from the company SSO, their roles and teams, sessions and API tokens.
pub mod api;
pub mod pages;
pub mod types;

#[cfg(feature = "ssr")]
pub mod approval;

#[cfg(feature = "ssr")]
pub mod principal;
#[cfg(feature = "ssr")]
pub mod repo;
#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod teams;
#[cfg(feature = "ssr")]
pub mod tokens;
