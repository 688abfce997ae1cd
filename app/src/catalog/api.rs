//! Catalog server functions: context in, one service call, a DTO out.
use super::types::{CatalogOverview, ServiceSummary};
use crate::error::AppError;
use leptos::prelude::*;

#[server(endpoint = "catalog/overview")]
pub async fn get_overview() -> Result<CatalogOverview, AppError> {
    let pool = crate::context::pool()?;
    super::service::overview(&pool).await.map_err(AppError::internal)
}

#[server(endpoint = "catalog/search")]
pub async fn search_services(text: String) -> Result<Vec<ServiceSummary>, AppError> {
    use super::types::SearchText;
    let text = SearchText::parse(&text).map_err(|message| {
        crate::context::respond(AppError::Invalid {
            field: "search".into(),
            message,
        })
    })?;
    let pool = crate::context::pool()?;
    super::service::search(&pool, &text).await.map_err(AppError::internal)
}
