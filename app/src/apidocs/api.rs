use super::types::ApiReference;
use crate::error::AppError;
use leptos::prelude::*;

/// The REST API reference (any signed-in employee).
#[server(endpoint = "docs/api")]
pub async fn get_api_reference() -> Result<ApiReference, AppError> {
    let principal = crate::context::principal()?;
    principal.require_read()?;
    use_context::<std::sync::Arc<ApiReference>>()
        .map(|r| r.as_ref().clone())
        .ok_or_else(|| AppError::internal("no API reference in context"))
}
