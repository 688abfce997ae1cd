//! What a topology error is at the edge.
#[cfg(feature = "ssr")]
use crate::error::AppError;

#[cfg(feature = "ssr")]
impl From<super::service::TopologyError> for AppError {
    fn from(e: super::service::TopologyError) -> Self {
        use super::service::TopologyError as E;
        match e {
            E::Refused(r) => r.into(),
            e @ (E::Database(_) | E::Drawing(_)) => AppError::internal(e),
        }
    }
}
