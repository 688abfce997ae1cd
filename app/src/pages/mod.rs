//! Pages that belong to no single domain: home, not found, and sections still to come.
pub mod home;
pub mod not_found;
pub mod section;
