//! Health, kept current: recomputed from the roll-ups when a run ends, and when the periodic
//! check finds a schedule slot due (late: nothing started by nominal + grace; missed: nothing
//! ended by nominal + maximum duration) or a success gone stale. Nothing here reads history.
use super::IntegrationError;
use crate::integrations::repo::{self, HealthRow};
use crate::integrations::types::{
    error_budget, health, CronSchedule, HealthInputs, IntegrationId, IntegrationLifecycle, LastRun, RunCounts, RunState, ServiceLevels, SlotState, Trigger,
};
use chrono::{DateTime, Datelike, Duration, Months, NaiveDate, Utc};
use sqlx::{PgConnection, PgPool};

/// The most slots one check judges for one integration (a server that was down for long catches
/// up over several checks).
const SLOTS_PER_CHECK: usize = 200;

fn levels(r: &HealthRow) -> ServiceLevels {
    ServiceLevels {
        grace_mins: r.grace_mins,
        max_duration_mins: r.max_duration_mins,
        freshness_hours: r.freshness_hours,
        success_target: r.success_target,
    }
}

fn schedule(r: &HealthRow) -> Option<(CronSchedule, chrono_tz::Tz)> {
    if r.status != "active" || Trigger::stored(&r.trigger) != Trigger::Schedule || IntegrationLifecycle::stored(&r.lifecycle) == IntegrationLifecycle::Deprecated {
        return None;
    }
    let s = CronSchedule::parse(r.schedule.as_deref()?).ok()?;
    Some((s, r.time_zone.parse().unwrap_or(chrono_tz::UTC)))
}

/// The inputs of the health rule, from one row of roll-ups.
fn inputs(r: &HealthRow) -> HealthInputs {
    let levels = levels(r);
    let last = r.last_run_id.map(|run_id| LastRun {
        run_id,
        state: RunState::stored(r.last_state.as_deref().unwrap_or("succeeded")),
        started_at: r.last_started_at,
        ended_at: r.last_ended_at,
        duration_secs: r.last_started_at.zip(r.last_ended_at).map(|(s, e)| (e - s).num_milliseconds() as f64 / 1000.0),
        error: r.last_error.clone(),
    });
    let expected = if r.trigger == "schedule" { r.month_slots } else { r.month_ended };
    HealthInputs {
        lifecycle: IntegrationLifecycle::stored(&r.lifecycle),
        levels,
        last,
        last_success_at: r.last_success_at,
        day: RunCounts { succeeded: r.day_succeeded, warned: r.day_warned, failed: r.day_failed, aborted: r.day_aborted, ..RunCounts::default() },
        open_late_slot: r.late_nominal.zip(r.late_state.as_deref().map(SlotState::stored)),
        budget: error_budget(levels.success_target, expected, r.month_failures + r.month_missed),
    }
}

/// Recomputes one integration's health from its roll-ups, and when to look again.
#[tracing::instrument(level = "debug", name = "integrations.service.recompute", skip_all)]
pub async fn recompute(conn: &mut PgConnection, id: IntegrationId, now: DateTime<Utc>) -> Result<(), IntegrationError> {
    refresh(conn, id, now, None, None).await
}

/// Recomputes and saves the health; `watch` moves the slot watch on, `due` is a time to look
/// again before the next slot (a late slot's deadline).
async fn refresh(
    conn: &mut PgConnection,
    id: IntegrationId,
    now: DateTime<Utc>,
    watch: Option<DateTime<Utc>>,
    due: Option<DateTime<Utc>>,
) -> Result<(), IntegrationError> {
    let Some(row) = repo::health_row(&mut *conn, id, now).await? else { return Ok(()) };
    let (state, reason) = health(&inputs(&row), now);
    let watch_from = watch.or(row.watch_from).unwrap_or(row.created_at);
    let next = match (next_check(&row, watch_from, now), due) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    repo::save_health(conn, id, state.as_str(), &reason, Some(watch_from), next, now).await?;
    Ok(())
}

/// When the health changes without a run ending: the next slot comes due, or the last success
/// goes stale.
fn next_check(row: &HealthRow, watch_from: DateTime<Utc>, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let grace = Duration::minutes(i64::from(row.grace_mins));
    // the first slot not yet judged: due at once when it is in the past (a slot held late is
    // looked at again each check until its deadline settles it)
    let slot = schedule(row).and_then(|(s, tz)| s.slots(&tz, watch_from, now + Duration::days(400), 1).first().map(|n| *n + grace));
    let stale = row.freshness_hours.zip(row.last_success_at).map(|(h, s)| s + Duration::hours(i64::from(h))).filter(|t| *t > now);
    match (slot, stale) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Judges the slots of one integration that came due since the last check, then recomputes its
/// health. A slot still late (before its deadline) holds the watch there.
async fn check_one(conn: &mut PgConnection, id: IntegrationId, now: DateTime<Utc>) -> Result<(), IntegrationError> {
    let Some(row) = repo::health_row(&mut *conn, id, now).await? else { return Ok(()) };
    let watch_from = row.watch_from.unwrap_or(row.created_at);
    let mut new_watch = watch_from;
    let mut next_due: Option<DateTime<Utc>> = None;
    if let Some((schedule, tz)) = schedule(&row) {
        let levels = levels(&row);
        let max = Duration::minutes(i64::from(levels.max_duration_mins.max(levels.grace_mins)));
        let mut held = false;
        let slots = schedule.slots(&tz, watch_from, now, SLOTS_PER_CHECK);
        if slots.len() == SLOTS_PER_CHECK {
            // catching up: go on at the next check
            next_due = Some(now);
        }
        for nominal in slots {
            let (run, started, ended) = repo::slot_runs(&mut *conn, row.job_id, nominal, nominal + max).await?;
            match crate::integrations::types::judge_slot(nominal, &levels, started, ended, now) {
                None => break,
                Some((state, settled)) => {
                    repo::save_slot(&mut *conn, id, row.job_id, nominal, state.as_str(), settled, run).await?;
                    if settled && !held {
                        new_watch = nominal;
                    } else if !settled {
                        held = true;
                        let deadline = nominal + Duration::minutes(i64::from(levels.max_duration_mins));
                        next_due = Some(next_due.map_or(deadline, |d| d.min(deadline)));
                    }
                }
            }
        }
    }
    refresh(conn, id, now, Some(new_watch), next_due).await
}

/// Checks every integration whose health is due to be looked at again (at most `limit`), each
/// in its own transaction; returns how many were checked.
#[tracing::instrument(level = "debug", name = "integrations.service.check_due", skip_all)]
pub async fn check_due(pool: &PgPool, now: DateTime<Utc>, limit: i64) -> Result<usize, IntegrationError> {
    let due = repo::due_for_check(pool, now, limit).await?;
    let mut checked = 0;
    for id in due {
        let mut tx = pool.begin().await?;
        // two servers checking at once take different integrations
        let mine = sqlx::query_scalar!(r#"SELECT pg_try_advisory_xact_lock(hashtextextended($1::text, 1718)) AS "locked!""#, id.0.to_string())
            .fetch_one(&mut *tx)
            .await?;
        if mine {
            check_one(&mut tx, id, now).await?;
            checked += 1;
        }
        tx.commit().await?;
    }
    Ok(checked)
}

fn month_start(t: DateTime<Utc>) -> NaiveDate {
    NaiveDate::from_ymd_opt(t.year(), t.month(), 1).unwrap_or_default()
}

/// Makes sure the partitions of this month and the next two exist.
pub async fn ensure_partitions(pool: &PgPool, now: DateTime<Utc>) -> Result<(), IntegrationError> {
    repo::ensure_partitions(pool, month_start(now), 3).await?;
    Ok(())
}

/// Drops the months of runs and events older than `months` (dropping their partitions) and the
/// hourly roll-ups older than two days; returns the months dropped.
#[tracing::instrument(name = "integrations.service.retention", skip(pool), err)]
pub async fn retention(pool: &PgPool, now: DateTime<Utc>, months: u32) -> Result<Vec<NaiveDate>, IntegrationError> {
    let cutoff = month_start(now).checked_sub_months(Months::new(months)).unwrap_or_default();
    let dropped = repo::drop_before(pool, cutoff).await?;
    repo::prune_hourly(pool, now - Duration::days(2)).await?;
    for m in &dropped {
        tracing::info!(month = %m, "integration runs and events of a month dropped (retention)");
    }
    Ok(dropped)
}
