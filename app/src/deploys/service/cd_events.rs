//! A CD system's signed reports on a deploy it runs (the webhook executor): log lines,
//! progress, and the result.
use super::worker::{append_log, finish, set_progress};
use super::{not_found, DeployError};
use crate::context::RequestMeta;
use crate::deploys::repo;
use crate::deploys::types::{DeployId, DeployState};
use sqlx::PgPool;

/// What a CD system reports about a deploy.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum CdEvent {
    /// Lines for the deploy's log.
    Log { lines: Vec<String> },
    /// How far the rollout is (0–100), with an optional line for the log.
    Progress { percent: i16, #[serde(default)] message: Option<String> },
    Succeeded { #[serde(default)] message: Option<String> },
    Failed { message: String },
}

/// One event as a CD system sends it: for which attempt of the deploy, its place in the
/// attempt's sequence (above the last one accepted), and what happened.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
pub struct CdReport {
    /// The `attempt` of the request the CD system received.
    pub attempt: i32,
    /// 1, 2, 3 … for each event of the deploy: one not above the last accepted is a replay.
    pub seq: i64,
    #[serde(flatten)]
    pub event: CdEvent,
}

/// Applies a CD system's report (its signature was checked by the caller): only for a deploy a
/// CD system runs (the webhook executor), at its current attempt, and only once (by `seq`). A
/// final report for a deploy that already ended the same way is accepted again and changes
/// nothing.
#[tracing::instrument(name = "deploys.service.cd_event", skip(pool, report), err)]
pub async fn cd_event(pool: &PgPool, id: DeployId, report: CdReport, meta: &RequestMeta) -> Result<DeployState, DeployError> {
    let row = repo::get(pool, id).await?.ok_or_else(|| not_found("That deploy"))?;
    let state = row.state;
    if row.executor.as_deref() != Some("webhook") {
        return Err(DeployError::NotWebhook);
    }
    if report.attempt != row.attempts {
        return Err(DeployError::WrongAttempt { event: report.attempt, current: row.attempts });
    }
    let event = report.event;
    match event {
        CdEvent::Succeeded { .. } if state == DeployState::Succeeded => return Ok(state),
        CdEvent::Failed { .. } if state == DeployState::Failed => return Ok(state),
        _ if state != DeployState::Running => return Err(DeployError::NotRunning { state, what: "the event" }),
        _ => {}
    }
    if !repo::take_event_seq(pool, id, report.seq).await? {
        return Err(DeployError::Replayed(report.seq));
    }
    match event {
        CdEvent::Log { lines } => {
            let lines: Vec<String> = lines.into_iter().take(1000).collect();
            append_log(pool, id, "cd", &lines).await?;
            Ok(state)
        }
        CdEvent::Progress { percent, message } => {
            if let Some(m) = message {
                append_log(pool, id, "cd", &[m]).await?;
            }
            set_progress(pool, id, percent).await?;
            Ok(state)
        }
        CdEvent::Succeeded { message } => {
            let note = message.unwrap_or_else(|| "the CD system reported success".into());
            if !finish(pool, id, None, DeployState::Succeeded, &note, meta).await? {
                return Err(DeployError::NotRunning { state, what: "the result" });
            }
            Ok(DeployState::Succeeded)
        }
        CdEvent::Failed { message } => {
            if !finish(pool, id, None, DeployState::Failed, &format!("the CD system reported failure: {message}"), meta).await? {
                return Err(DeployError::NotRunning { state, what: "the result" });
            }
            Ok(DeployState::Failed)
        }
    }
}

