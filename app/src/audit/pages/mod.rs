mod log;

pub use log::{AuditPage, AuditTable};
