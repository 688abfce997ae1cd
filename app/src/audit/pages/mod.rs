mod as_of;
mod log;

pub use as_of::{asked_moment, AsOfCard};
pub use log::{AuditPage, AuditTable};
