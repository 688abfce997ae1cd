//! A deploy to an environment that needs approval: the deploy domain's subject for the
//! approval engine.
use crate::error::Refusal;
use super::repo;
use super::service::{not_found, transition, DeployError, DEPLOY};
use super::types::DeployAsk;
use crate::approvals::subject::{Request, Subject, SubjectError};
use crate::approvals::types::{ApprovalState, Fact, FactGroup};
use crate::audit::service::Actor;
use crate::context::RequestMeta;
use crate::deploys::types::DeployState;
use crate::iam::principal::{Principal, Scope};
use sqlx::PgConnection;
use crate::deploys::types::DeployId;

impl From<DeployError> for SubjectError {
    fn from(e: DeployError) -> Self {
        match e {
            DeployError::Refused(Refusal::Invalid(p)) => SubjectError::Refused { field: p.field, message: p.message },
            e @ DeployError::Refused(Refusal::NotFound(_)) => SubjectError::refused("deploy", e.to_string()),
            other => SubjectError::failed(other),
        }
    }
}

/// The approval that completes the policy queues the deploy; a rejection or expiry ends it.
pub struct DeployApproval;

#[async_trait::async_trait]
impl Subject for DeployApproval {
    fn kind(&self) -> &'static str {
        DEPLOY
    }

    fn scope_to_decide(&self) -> Scope {
        Scope::Deploy
    }

    /// Service, environment, the version now and the new one, a link to the changes between
    /// them when the repository is on a trusted code host, and the deploy itself.
    fn facts(&self, request: &Request) -> Vec<Fact> {
        let Ok(ask) = serde_json::from_value::<DeployAsk>(request.payload.clone()) else { return Vec::new() };
        let mut facts = vec![
            Fact::new("Service", ask.service),
            Fact::new("Where", ask.environment),
            Fact::new("Version", format!("{} → {}", ask.previous_version.as_deref().unwrap_or("nothing"), ask.version)),
        ];
        facts.extend(ask.compare_url.map(|u| Fact::link("What changed", u)));
        if ask.rollback {
            facts.push(Fact::warning("rollback"));
        }
        facts.push(Fact::link("The deploy", format!("/deploys/{}", ask.deploy_id.0)));
        facts
    }

    /// A production deploy's pre-flight card (across the layers: `topology::service::preflight`).
    async fn preflight(&self, conn: &mut PgConnection, request: &Request) -> Result<Vec<FactGroup>, SubjectError> {
        let Ok(ask) = serde_json::from_value::<DeployAsk>(request.payload.clone()) else { return Ok(Vec::new()) };
        if ask.environment != "production" {
            return Ok(Vec::new());
        }
        let now = chrono::Utc::now();
        let mut groups = crate::topology::service::preflight::deploy(&mut *conn, ask.deploy_id.0, now).await.map_err(SubjectError::failed)?;
        if groups.is_empty() {
            return Ok(groups);
        }
        // before the last deploys: the service's critical runs over the next day
        let runs = critical_runs(conn, &ask.service, now).await?;
        groups.insert(groups.len().saturating_sub(1), runs);
        Ok(groups)
    }

    async fn perform(&self, conn: &mut PgConnection, request: &Request, approver: &Principal, meta: &RequestMeta) -> Result<(), SubjectError> {
        Ok(perform(conn, &request.subject_id, approver, meta).await?)
    }

    async fn abandon(&self, conn: &mut PgConnection, request: &Request, outcome: ApprovalState, meta: &RequestMeta) -> Result<(), SubjectError> {
        Ok(abandon(conn, &request.subject_id, outcome, meta).await?)
    }
}

/// The critical integrations of the service that run in the next 24 hours (PCI, or an end that is
/// tier 0 or 1), each with its runs; one running now is a warning.
async fn critical_runs(conn: &mut PgConnection, service: &str, now: chrono::DateTime<chrono::Utc>) -> Result<FactGroup, DeployError> {
    let mut group = FactGroup {
        title: "Its critical integrations' runs, the next 24 hours".into(),
        empty: "None of its critical integrations is scheduled to run in the next 24 hours.".into(),
        facts: Vec::new(),
    };
    let Some(target) = repo::target(&mut *conn, service).await? else { return Ok(group) };
    let runs = crate::integrations::service::critical_runs(conn, Some(target.id.0), now, now + chrono::Duration::hours(24), 48)
        .await
        .map_err(|e| DeployError::Integrations(e.to_string()))?;
    for c in runs {
        let running = c.runs.iter().any(|(s, e)| *s <= now && now < *e);
        let times: Vec<String> = c.runs.iter().take(8).map(|(s, _)| s.format("%H:%M").to_string()).collect();
        let length = c.runs.first().map(|(s, e)| (*e - *s).num_minutes()).unwrap_or_default();
        group.facts.push(Fact {
            label: c.title,
            value: format!(
                "{}runs at {}{} UTC, up to {length} min each; critical: {}",
                if running { "running now; " } else { "" },
                times.join(", "),
                if c.runs.len() > 8 { ", …" } else { "" },
                c.why
            ),
            href: Some(format!("/integrations/{}", c.name)),
            warn: running,
        });
    }
    Ok(group)
}

/// The approval engine's hook: the approval that completes the policy queues the deploy.
async fn perform(conn: &mut PgConnection, subject_id: &str, approver: &Principal, meta: &RequestMeta) -> Result<(), DeployError> {
    let id = subject_id.parse().map(DeployId).map_err(|_| not_found("That deploy"))?;
    let state = repo::lock(&mut *conn, id).await?.ok_or_else(|| not_found("That deploy"))?;
    if state != DeployState::AwaitingApproval {
        return Err(Refusal::invalid("deploy", format!("the deploy is {}, not waiting for approval", state.label())).into());
    }
    let note = format!("approved; queued by {}", approver.username);
    transition(conn, id, DeployState::AwaitingApproval, DeployState::Queued, Actor::Person(approver), &note, meta).await
}

/// The approval engine's hook when a request ends without approval: the deploy is rejected or
/// expired with it.
async fn abandon(conn: &mut PgConnection, subject_id: &str, outcome: ApprovalState, meta: &RequestMeta) -> Result<(), DeployError> {
    let id = subject_id.parse().map(DeployId).map_err(|_| not_found("That deploy"))?;
    let Some(state) = repo::lock(&mut *conn, id).await? else { return Ok(()) };
    if state != DeployState::AwaitingApproval {
        return Ok(());
    }
    let (to, note) = match outcome {
        ApprovalState::Expired => (DeployState::Expired, "the approval request expired"),
        _ => (DeployState::Rejected, "the approval request was rejected"),
    };
    transition(conn, id, DeployState::AwaitingApproval, to, Actor::System, note, meta).await
}
