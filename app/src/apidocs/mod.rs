//! The readable reference page of the REST API, made from its OpenAPI document.
pub mod api;
pub mod page;
pub mod types;
