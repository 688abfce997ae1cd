//! Freeze windows: one-off or recurring (cron) periods when an environment takes no deploys,
//! unless an admin overrides one with a reason.
use crate::error::Refusal;
use super::{not_found, DeployError};
use crate::audit::service::{self as audit, Actor, Change, SubjectKind};
use crate::context::RequestMeta;
use crate::deploys::repo::{self, FreezeRow};
use crate::deploys::types::{EnvironmentPolicies, FreezeForm, FreezeId, FreezeView, FreezeWhen};
use crate::iam::principal::Principal;
use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use sqlx::{PgConnection, PgPool};
use std::str::FromStr;

fn schedule_of(raw: &str) -> Result<cron::Schedule, String> {
    cron::Schedule::from_str(raw).map_err(|e| {
        format!("\"{raw}\" is not a schedule ({e}): use six fields, sec min hour day month weekday, e.g. 0 0 18 * * Fri")
    })
}

/// The occurrences of a window that overlap `[from, until)`, at most `max`.
fn occurrences(f: &FreezeRow, from: DateTime<Utc>, until: DateTime<Utc>, max: usize) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    match (&f.schedule, f.duration_mins, f.ends_at) {
        (None, _, Some(end)) => {
            if end > from && f.starts_at < until {
                vec![(f.starts_at, end)]
            } else {
                Vec::new()
            }
        }
        (Some(raw), Some(mins), _) => {
            let Ok(schedule) = schedule_of(raw) else { return Vec::new() };
            let length = Duration::minutes(i64::from(mins));
            // an occurrence that began up to `length` ago still covers `from`
            let begin = std::cmp::max(from - length, f.starts_at - Duration::seconds(1));
            schedule
                .after(&begin)
                .take_while(|start| *start < until)
                .filter(|start| *start + length > from && *start >= f.starts_at)
                .take(max)
                .map(|start| (start, start + length))
                .collect()
        }
        _ => Vec::new(),
    }
}

fn freeze_view(f: FreezeRow, now: DateTime<Utc>, until: DateTime<Utc>) -> FreezeView {
    freeze_view_max(f, now, until, 60)
}

fn freeze_view_max(f: FreezeRow, now: DateTime<Utc>, until: DateTime<Utc>, max: usize) -> FreezeView {
    let occ = occurrences(&f, now, until, max);
    let active_now = occ.first().is_some_and(|(s, e)| *s <= now && now < *e);
    FreezeView {
        id: f.id,
        environment: f.environment,
        reason: f.reason,
        starts_at: f.starts_at,
        ends_at: f.ends_at,
        schedule: f.schedule,
        duration_mins: f.duration_mins,
        created_by: f.created_by,
        occurrences: occ,
        active_now,
    }
}

/// The windows among `rows` that freeze their environment at `at`.
fn active_at(rows: Vec<FreezeRow>, at: DateTime<Utc>) -> impl Iterator<Item = FreezeView> {
    rows.into_iter().map(move |f| freeze_view(f, at, at + Duration::seconds(1))).filter(|v| v.active_now)
}

/// The window among `rows` that freezes its environment at `at`, if any.
pub(super) fn active_among(rows: Vec<FreezeRow>, at: DateTime<Utc>) -> Option<FreezeView> {
    active_at(rows, at).next()
}

/// The window that freezes `environment` at `at`, if any.
#[tracing::instrument(level = "debug", name = "deploys.service.active_freeze", skip_all)]
pub(super) async fn active_freeze(conn: &mut PgConnection, environment: &str, at: DateTime<Utc>) -> Result<Option<FreezeView>, DeployError> {
    Ok(active_among(repo::freezes(&mut *conn, Some(environment), at).await?, at))
}

/// The environments frozen now, for the worker: a queued deploy there waits for the window to
/// end unless an admin overrode it.
#[tracing::instrument(level = "debug", name = "deploys.service.frozen_now", skip_all)]
pub async fn frozen_now(pool: &PgPool) -> Result<Vec<String>, DeployError> {
    let now = Utc::now();
    let mut frozen: Vec<String> = active_at(repo::freezes(pool, None, now).await?, now).map(|v| v.environment).collect();
    frozen.sort();
    frozen.dedup();
    Ok(frozen)
}

/// Every environment as (name, title), in order.
#[tracing::instrument(level = "debug", name = "deploys.service.environments", skip_all)]
pub async fn environments(pool: &PgPool, principal: &Principal) -> Result<Vec<(String, String)>, DeployError> {
    principal.require_read()?;
    Ok(repo::environments(pool).await?.into_iter().map(|e| (e.name, e.title)).collect())
}

/// Every window with its occurrences over the next `days` days, for the calendar.
#[tracing::instrument(name = "deploys.service.calendar", skip(pool, principal), fields(user = %principal.username), err)]
pub async fn calendar(pool: &PgPool, principal: &Principal, days: i64) -> Result<Vec<FreezeView>, DeployError> {
    principal.require_read()?;
    let now = Utc::now();
    let rows = repo::freezes(pool, None, now).await?;
    Ok(rows.into_iter().map(|f| freeze_view(f, now, now + Duration::days(days.clamp(1, 366)))).collect())
}

/// The windows with an occurrence overlapping `[from, until)`, with those occurrences (at most
/// `max` each), for the change calendar; its caller has checked that its principal may read.
#[tracing::instrument(level = "debug", name = "deploys.service.freezes_between", skip_all, err)]
pub async fn freezes_between(conn: &mut PgConnection, from: DateTime<Utc>, until: DateTime<Utc>, max: usize) -> Result<Vec<FreezeView>, DeployError> {
    let rows = repo::freezes(&mut *conn, None, from).await?;
    Ok(rows.into_iter().map(|f| freeze_view_max(f, from, until, max)).filter(|v| !v.occurrences.is_empty()).collect())
}

/// Admins add a freeze window (audited).
#[tracing::instrument(name = "deploys.service.create_freeze", skip(pool, principal), fields(user = %principal.username), err)]
pub async fn create_freeze(pool: &PgPool, principal: &Principal, form: &FreezeForm, meta: &RequestMeta) -> Result<FreezeId, DeployError> {
    principal.require_admin()?;
    let (environment, reason, when) = form.parse().map_err(Refusal::InvalidFields)?;
    let envs = repo::environments(pool).await?;
    if !envs.iter().any(|e| e.name == environment) {
        return Err(Refusal::invalid("environment", format!("unknown environment \"{environment}\"")).into());
    }
    let (starts_at, ends_at, schedule, duration_mins) = match &when {
        FreezeWhen::Once { starts_at, ends_at } => (*starts_at, Some(*ends_at), None, None),
        FreezeWhen::Recurring { starts_at, schedule, duration_mins } => {
            schedule_of(schedule).map_err(|m| Refusal::invalid("schedule", m))?;
            (*starts_at, None, Some(schedule.as_str()), Some(*duration_mins))
        }
    };
    let mut tx = pool.begin().await?;
    let id = repo::insert_freeze(
        &mut *tx,
        &repo::NewFreeze { environment: &environment, reason: &reason, starts_at, ends_at, schedule, duration_mins, created_by: principal.user_id.0 },
    )
    .await?;
    let change = Change {
        action: "freeze.created",
        subject_kind: SubjectKind::FreezeWindow,
        subject_id: id.to_string(),
        before: None,
        after: Some(json!({
            "environment": environment, "reason": reason, "starts_at": starts_at, "ends_at": ends_at,
            "schedule": schedule, "duration_mins": duration_mins,
        })),
    };
    audit::record(&mut tx, Actor::Person(principal), change, meta).await?;
    tx.commit().await?;
    Ok(id)
}

/// What a policy may say: warn (the form and the pre-flight card say so), or block (refused unless
/// an admin overrides with a reason).
const POLICIES: [&str; 2] = ["warn", "block"];

/// Every environment with its policies, in order (anyone who may read).
#[tracing::instrument(level = "debug", name = "deploys.service.environment_policies", skip_all, err)]
pub async fn environment_policies(pool: &PgPool, principal: &Principal) -> Result<Vec<EnvironmentPolicies>, DeployError> {
    principal.require_read()?;
    Ok(repo::environments(pool)
        .await?
        .into_iter()
        .map(|e| EnvironmentPolicies { environment: e.name, title: e.title, maintenance_policy: e.maintenance_policy, critical_run_policy: e.critical_run_policy })
        .collect())
}

/// Admins set what maintenance on a service's network path, and a critical integration's run of
/// it, do to a deploy to `environment` (audited, before and after).
#[tracing::instrument(name = "deploys.service.set_environment_policies", skip(pool, principal), fields(user = %principal.username), err)]
pub async fn set_environment_policies(pool: &PgPool, principal: &Principal, environment: &str, maintenance: &str, critical_runs: &str, meta: &RequestMeta) -> Result<(), DeployError> {
    principal.require_admin()?;
    let mut problems = Vec::new();
    for (field, value) in [("maintenance_policy", maintenance), ("critical_run_policy", critical_runs)] {
        if !POLICIES.contains(&value) {
            problems.push(crate::error::FieldProblem::new(field, format!("\"{}\" is not a policy: choose warn or block", value.chars().take(40).collect::<String>())));
        }
    }
    if !problems.is_empty() {
        return Err(Refusal::InvalidFields(problems).into());
    }
    let mut tx = pool.begin().await?;
    let (was_maintenance, was_critical) =
        repo::set_policies(&mut tx, environment, maintenance, critical_runs).await?.ok_or_else(|| not_found(&format!("The environment \"{}\"", environment.chars().take(40).collect::<String>())))?;
    if (was_maintenance.as_str(), was_critical.as_str()) == (maintenance, critical_runs) {
        return Ok(());
    }
    let change = Change {
        action: "environment.policies_changed",
        subject_kind: SubjectKind::Environment,
        subject_id: environment.to_owned(),
        before: Some(json!({ "maintenance_policy": was_maintenance, "critical_run_policy": was_critical })),
        after: Some(json!({ "maintenance_policy": maintenance, "critical_run_policy": critical_runs })),
    };
    audit::record(&mut tx, Actor::Person(principal), change, meta).await?;
    tx.commit().await?;
    Ok(())
}

/// Admins remove a freeze window (audited).
#[tracing::instrument(name = "deploys.service.delete_freeze", skip(pool, principal), fields(user = %principal.username), err)]
pub async fn delete_freeze(pool: &PgPool, principal: &Principal, id: FreezeId, meta: &RequestMeta) -> Result<(), DeployError> {
    principal.require_admin()?;
    let mut tx = pool.begin().await?;
    let (environment, reason) = repo::delete_freeze(&mut *tx, id).await?.ok_or_else(|| not_found("That freeze window"))?;
    let change = Change {
        action: "freeze.deleted",
        subject_kind: SubjectKind::FreezeWindow,
        subject_id: id.0.to_string(),
        before: Some(json!({ "environment": environment, "reason": reason })),
        after: None,
    };
    audit::record(&mut tx, Actor::Person(principal), change, meta).await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;
    use chrono::TimeZone;

    fn window(schedule: Option<&str>, mins: Option<i32>, ends: Option<DateTime<Utc>>) -> FreezeRow {
        FreezeRow {
            id: FreezeId(Uuid::nil()),
            environment: "production".into(),
            reason: "r".into(),
            starts_at: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single().unwrap_or_default(),
            ends_at: ends,
            schedule: schedule.map(str::to_owned),
            duration_mins: mins,
            created_by: "alice".into(),
        }
    }

    fn at(d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, d, h, 0, 0).single().unwrap_or_default()
    }

    #[test]
    fn a_weekly_window_covers_its_hours_and_no_others() {
        // Fridays 18:00 for 62 hours: through Monday 08:00. 2026-12-04 is a Friday.
        let w = window(Some("0 0 18 * * Fri"), Some(62 * 60), None);
        let covers = |t: DateTime<Utc>| !occurrences(&w, t, t + Duration::seconds(1), 1).is_empty();
        assert!(covers(at(5, 12)), "Saturday noon is frozen");
        assert!(covers(at(7, 7)), "Monday 07:00 is still frozen");
        assert!(!covers(at(7, 9)), "Monday 09:00 is open");
        assert!(!covers(at(4, 17)), "Friday 17:00 is open");
    }

    #[test]
    fn a_one_off_window_ends_when_it_says() {
        let w = window(None, None, Some(at(2, 0)));
        assert_eq!(occurrences(&w, at(1, 12), at(1, 13), 5).len(), 1);
        assert!(occurrences(&w, at(2, 0), at(2, 1), 5).is_empty());
    }
}
