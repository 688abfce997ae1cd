//! Integration rules. Run events come in through `ingest` (a team's token with the `ingest`
//! scope); health is recomputed as runs end (`health::recompute`) and as schedule slots come due
//! (`health::check_due`, run periodically by the server); `retention` drops whole months.
//! Systems and integrations change through `registry`, with their audit row, and wait for
//! approval where their data or their target calls for it.
mod declared;
mod health;
mod ingest;
mod read;
mod registry;

pub use declared::{apply_declared, plan_declared, Batch, DeclaredPlan};
pub use health::{check_due, ensure_partitions, recompute, retention};
pub use ingest::{count_refused, ingest, ingest_batch, replay, BatchOutcome, Stored, Writer, WRITERS as EVENT_WRITERS};
pub use read::{as_of, critical_runs, get, get_run, get_system, list, list_runs, list_systems, map_drawing, system_map, unregistered_jobs};
pub use registry::{abandon, add_system, create_system, edit_integration, edit_system, perform, register, register_integration, By, Registered, INTEGRATION};
use super::lineage::Refused;
use crate::approvals::service::ApprovalError;
use crate::error::Refusal;

/// What went wrong, in the integrations domain's words.
#[derive(Debug, thiserror::Error)]
pub enum IntegrationError {
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// A run event that does not read: the field (a JSON pointer) and why.
    #[error("{0}")]
    BadEvent(Refused),
    /// The integration changed since the form was read.
    #[error("the integration was changed by someone else since you opened it: reload and make your change again")]
    StaleVersion,
    #[error(transparent)]
    Approval(#[from] ApprovalError),
    #[error("database: {0}")]
    Database(sqlx::Error),
}

/// Every database error is counted as this domain's (`switchyard_db_errors_total`).
impl From<sqlx::Error> for IntegrationError {
    fn from(e: sqlx::Error) -> Self {
        crate::telemetry::db_error("integrations", &e);
        IntegrationError::Database(e)
    }
}
