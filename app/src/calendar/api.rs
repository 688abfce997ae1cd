//! The calendar's server function, and what a calendar error is at the edge.
use super::types::ChangeCalendar;
use crate::error::AppError;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
impl From<super::service::CalendarError> for AppError {
    fn from(e: super::service::CalendarError) -> Self {
        use super::service::CalendarError as E;
        match e {
            E::Refused(r) => r.into(),
            E::Deploys(e) => e.into(),
            E::Topology(e) => e.into(),
            E::Integrations(e) => e.into(),
            e @ E::Database(_) => AppError::internal(e),
        }
    }
}

/// The change calendar over the span and filters asked for (each empty when not).
#[server(endpoint = "calendar")]
pub async fn get_calendar(from: String, to: String, team: String, service: String, site: String, partner: String) -> Result<ChangeCalendar, AppError> {
    let principal = crate::context::principal()?;
    let pool = crate::context::pool()?;
    let query = super::types::CalendarQuery { from, to, team, service, site, partner };
    super::service::calendar(&pool, &principal, &query, chrono::Utc::now()).await.map_err(|e| crate::context::respond(e.into()))
}
