mod list;
mod table;

pub use list::CatalogPage;
pub use table::ServiceTable;
