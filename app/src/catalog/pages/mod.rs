mod entity;
mod form;
mod import;
mod list;
mod table;
mod team;
mod unresolved;

pub use entity::EntityPage;
pub use form::{EditPage, RegisterPage};
pub use import::ImportPage;
pub use list::CatalogPage;
pub use table::{lifecycle_tone, tier_tone, EntityTable};
pub use team::TeamPage;
pub use unresolved::UnresolvedPage;
