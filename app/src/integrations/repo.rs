//! The integrations' SQL. Runs and events live in monthly partitions (see the migration); a run
//! is found by its id in whichever month it began.
use super::types::{IntegrationForm, IntegrationId, JobId, SystemForm, SystemId};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde_json::Value;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// The job of this namespace and name, made on its first event.
#[tracing::instrument(level = "debug", name = "integrations.repo.job_id", skip_all)]
pub async fn job_id(conn: &mut PgConnection, namespace: &str, name: &str) -> sqlx::Result<JobId> {
    if let Some(id) = sqlx::query_scalar!("SELECT id FROM integration_jobs WHERE namespace = $1 AND name = $2", namespace, name)
        .fetch_optional(&mut *conn)
        .await?
    {
        return Ok(JobId(id));
    }
    let made = sqlx::query_scalar!(
        "INSERT INTO integration_jobs (namespace, name) VALUES ($1, $2) ON CONFLICT (namespace, name) DO NOTHING RETURNING id",
        namespace,
        name
    )
    .fetch_optional(&mut *conn)
    .await?;
    match made {
        Some(id) => Ok(JobId(id)),
        // made meanwhile by another transaction: this statement sees it now
        None => sqlx::query_scalar!("SELECT id FROM integration_jobs WHERE namespace = $1 AND name = $2", namespace, name)
            .fetch_one(conn)
            .await
            .map(JobId),
    }
}

/// A run as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRow {
    pub month: NaiveDate,
    pub run_id: Uuid,
    pub job_id: Uuid,
    pub state: String,
    pub raw_status: Option<String>,
    pub trigger: String,
    pub nominal_start: Option<DateTime<Utc>>,
    pub nominal_end: Option<DateTime<Utc>>,
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub records_in: Option<i64>,
    pub records_out: Option<i64>,
    pub records_failed: Option<i64>,
    pub error_class: Option<String>,
    pub error_message: Option<String>,
    pub retry_of: Option<Uuid>,
    pub parent_run_id: Option<Uuid>,
    pub runtime_node: Option<String>,
    pub facets: Value,
    pub decided_by: Option<String>,
    pub counted: bool,
    pub duration_counted: bool,
    pub event_count: i32,
    pub first_received: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub struct NewEvent<'a> {
    pub month: NaiveDate,
    pub run_id: Uuid,
    pub digest: &'a [u8],
    pub job_id: Uuid,
    pub event_type: &'a str,
    pub event_time: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    pub token_id: Option<Uuid>,
    /// The event's JSON text, as it came.
    pub body: &'a str,
}

/// Counts a run that ended into its hour's and day's roll-ups (and its error class into the
/// day's), and into the job's last run.
pub struct Ended<'a> {
    pub job_id: Uuid,
    pub run_id: Uuid,
    pub at: DateTime<Utc>,
    pub state: &'a str,
    pub test: bool,
    pub started_at: Option<DateTime<Utc>>,
    pub records_failed: i64,
    pub error_class: Option<&'a str>,
    pub error: Option<&'a str>,
}

#[tracing::instrument(level = "debug", name = "integrations.repo.count_end", skip_all)]
pub async fn count_end(conn: &mut PgConnection, e: &Ended<'_>) -> sqlx::Result<()> {
    let ok = matches!(e.state, "succeeded") && !e.test;
    let warned = matches!(e.state, "succeeded_with_warnings") && !e.test;
    let failed = matches!(e.state, "failed") && !e.test;
    let aborted = matches!(e.state, "aborted") && !e.test;
    let (month, day) = month_day(e.at);
    sqlx::query!(
        r#"WITH hourly AS (
               INSERT INTO integration_rollup_hourly AS h (job_id, at, succeeded, warned, failed, aborted, tests, records_failed)
               VALUES ($1, date_trunc('hour', $2::timestamptz), $3::int, $4::int, $5::int, $6::int, $7::int, $8)
               ON CONFLICT (job_id, at) DO UPDATE SET succeeded = h.succeeded + EXCLUDED.succeeded,
                   warned = h.warned + EXCLUDED.warned, failed = h.failed + EXCLUDED.failed,
                   aborted = h.aborted + EXCLUDED.aborted, tests = h.tests + EXCLUDED.tests,
                   records_failed = h.records_failed + EXCLUDED.records_failed
               RETURNING 1
           )
           INSERT INTO integration_rollup_monthly AS m (job_id, month, succeeded, warned, failed, aborted, tests, records_failed)
           VALUES ($1, $9, integration_on_day($10, $3)::int[], integration_on_day($10, $4)::int[], integration_on_day($10, $5)::int[],
                   integration_on_day($10, $6)::int[], integration_on_day($10, $7)::int[], integration_on_day($10, $8))
           ON CONFLICT (job_id, month) DO UPDATE SET succeeded[$10] = m.succeeded[$10] + $3::int,
               warned[$10] = m.warned[$10] + $4::int, failed[$10] = m.failed[$10] + $5::int,
               aborted[$10] = m.aborted[$10] + $6::int, tests[$10] = m.tests[$10] + $7::int,
               records_failed[$10] = m.records_failed[$10] + $8"#,
        e.job_id,
        e.at,
        i32::from(ok),
        i32::from(warned),
        i32::from(failed),
        i32::from(aborted),
        i32::from(e.test),
        e.records_failed,
        month,
        day,
    )
    .execute(&mut *conn)
    .await?;
    if let (Some(class), false) = (e.error_class, e.test) {
        sqlx::query!(
            r#"INSERT INTO integration_rollup_errors AS r (job_id, day, error_class, runs)
               VALUES ($1, ($2::timestamptz AT TIME ZONE 'UTC')::date, $3, 1)
               ON CONFLICT (job_id, day, error_class) DO UPDATE SET runs = r.runs + 1"#,
            e.job_id,
            e.at,
            class
        )
        .execute(&mut *conn)
        .await?;
    }
    if !e.test {
        sqlx::query!(
            r#"INSERT INTO integration_job_stats AS s (job_id, runs, last_run_id, last_state, last_started_at, last_ended_at,
                   last_error, last_success_at, last_event_at)
               VALUES ($1, 1, $2, $3, $4, $5::timestamptz, $6, CASE WHEN $7 THEN $5::timestamptz END, $5::timestamptz)
               ON CONFLICT (job_id) DO UPDATE SET
                   runs = s.runs + 1,
                   last_run_id = CASE WHEN s.last_ended_at IS NULL OR EXCLUDED.last_ended_at >= s.last_ended_at THEN EXCLUDED.last_run_id ELSE s.last_run_id END,
                   last_state = CASE WHEN s.last_ended_at IS NULL OR EXCLUDED.last_ended_at >= s.last_ended_at THEN EXCLUDED.last_state ELSE s.last_state END,
                   last_started_at = CASE WHEN s.last_ended_at IS NULL OR EXCLUDED.last_ended_at >= s.last_ended_at THEN EXCLUDED.last_started_at ELSE s.last_started_at END,
                   last_error = CASE WHEN s.last_ended_at IS NULL OR EXCLUDED.last_ended_at >= s.last_ended_at THEN EXCLUDED.last_error ELSE s.last_error END,
                   last_ended_at = greatest(s.last_ended_at, EXCLUDED.last_ended_at),
                   last_success_at = greatest(s.last_success_at, EXCLUDED.last_success_at),
                   last_event_at = greatest(s.last_event_at, EXCLUDED.last_event_at)"#,
            e.job_id,
            e.run_id,
            e.state,
            e.started_at,
            e.at,
            e.error,
            ok || warned,
        )
        .execute(conn)
        .await?;
    }
    Ok(())
}

/// Adds a run's duration to the histograms of the hour and day it ended in (the day's row was
/// made by [`count_end`]).
#[tracing::instrument(level = "debug", name = "integrations.repo.count_duration", skip_all)]
pub async fn count_duration(conn: &mut PgConnection, job_id: Uuid, ended_at: DateTime<Utc>, bucket: i32) -> sqlx::Result<()> {
    let (month, day) = month_day(ended_at);
    // arrays are 1-based; the hour's histogram grows past its end if need be (NULLs between)
    sqlx::query!(
        r#"WITH hourly AS (
               UPDATE integration_rollup_hourly SET durations[$3::int + 1] = coalesce(durations[$3::int + 1], 0) + 1
               WHERE job_id = $1 AND at = date_trunc('hour', $2::timestamptz)
               RETURNING 1
           )
           UPDATE integration_rollup_monthly SET durations[$5] = durations[$5] + 1
           WHERE job_id = $1 AND month = $4"#,
        job_id,
        ended_at,
        bucket,
        month,
        histogram_entry(day, bucket),
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The month (its first day) and the day of the month (from 1) that `at` falls on in UTC: where
/// it counts in `integration_rollup_monthly`.
fn month_day(at: DateTime<Utc>) -> (NaiveDate, i32) {
    let date = at.date_naive();
    (date.with_day(1).unwrap_or(date), date.day() as i32)
}

/// The entry (from 1) of a month's `durations` that counts `bucket` (from 0) on `day` (from 1).
fn histogram_entry(day: i32, bucket: i32) -> i32 {
    const BUCKETS: i32 = super::types::DURATION_BUCKETS.len() as i32 + 1;
    (day - 1) * BUCKETS + bucket.clamp(0, BUCKETS - 1) + 1
}

/// The registered integration of a job, if any.
pub async fn integration_of_job(conn: &mut PgConnection, job_id: Uuid) -> sqlx::Result<Option<IntegrationId>> {
    sqlx::query_scalar!("SELECT id FROM integrations WHERE job_id = $1", job_id)
        .fetch_optional(conn)
        .await
        .map(|id| id.map(IntegrationId))
}

/// What the health rule reads about one integration, in one statement.
#[derive(Debug)]
pub struct HealthRow {
    pub id: Uuid,
    pub job_id: Uuid,
    pub lifecycle: String,
    pub status: String,
    pub trigger: String,
    pub schedule: Option<String>,
    pub time_zone: String,
    pub grace_mins: i32,
    pub max_duration_mins: i32,
    pub freshness_hours: Option<i32>,
    pub success_target: f64,
    pub created_at: DateTime<Utc>,
    pub watch_from: Option<DateTime<Utc>>,
    pub last_run_id: Option<Uuid>,
    pub last_state: Option<String>,
    pub last_started_at: Option<DateTime<Utc>>,
    pub last_ended_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub last_success_at: Option<DateTime<Utc>>,
    pub day_succeeded: i64,
    pub day_warned: i64,
    pub day_failed: i64,
    pub day_aborted: i64,
    pub month_ended: i64,
    pub month_failures: i64,
    pub month_slots: i64,
    pub month_missed: i64,
    pub late_nominal: Option<DateTime<Utc>>,
    pub late_state: Option<String>,
}

#[tracing::instrument(level = "debug", name = "integrations.repo.health_row", skip_all)]
pub async fn health_row(conn: &mut PgConnection, id: IntegrationId, now: DateTime<Utc>) -> sqlx::Result<Option<HealthRow>> {
    sqlx::query_as!(
        HealthRow,
        r#"SELECT i.id, i.job_id, i.lifecycle, i.status, i.trigger, i.schedule, i.time_zone, i.grace_mins, i.max_duration_mins,
                  i.freshness_hours, i.success_target, i.created_at, h.watch_from,
                  s.last_run_id, s.last_state, s.last_started_at, s.last_ended_at, s.last_error, s.last_success_at,
                  coalesce(d1.succeeded, 0) AS "day_succeeded!", coalesce(d1.warned, 0) AS "day_warned!",
                  coalesce(d1.failed, 0) AS "day_failed!", coalesce(d1.aborted, 0) AS "day_aborted!",
                  coalesce(d30.ended, 0) AS "month_ended!", coalesce(d30.failures, 0) AS "month_failures!",
                  coalesce(d30.slots, 0) AS "month_slots!", coalesce(d30.missed, 0) AS "month_missed!",
                  late.nominal AS "late_nominal?", late.state AS "late_state?"
           FROM integrations i
           LEFT JOIN integration_health h ON h.integration_id = i.id
           LEFT JOIN integration_job_stats s ON s.job_id = i.job_id
           LEFT JOIN LATERAL (
               SELECT sum(succeeded)::bigint AS succeeded, sum(warned)::bigint AS warned,
                      sum(failed)::bigint AS failed, sum(aborted)::bigint AS aborted
               FROM integration_rollup_hourly WHERE job_id = i.job_id AND at > $2::timestamptz - interval '24 hours'
           ) d1 ON true
           LEFT JOIN LATERAL (
               SELECT sum(s + w + f + a)::bigint AS ended, sum(f + a)::bigint AS failures, sum(sl)::bigint AS slots,
                      sum(mi)::bigint AS missed
               FROM integration_rollup_monthly m,
                    unnest(m.succeeded, m.warned, m.failed, m.aborted, m.slots, m.missed) WITH ORDINALITY AS u(s, w, f, a, sl, mi, k)
               WHERE m.job_id = i.job_id
                 AND m.month >= date_trunc('month', ($2::timestamptz - interval '30 days') AT TIME ZONE 'UTC')::date
                 AND (m.month + k::int - 1)::timestamp AT TIME ZONE 'UTC' > $2::timestamptz - interval '30 days'
           ) d30 ON true
           LEFT JOIN LATERAL (
               SELECT sl.nominal, sl.state FROM integration_slots sl
               WHERE sl.integration_id = i.id AND sl.state IN ('late', 'missed')
                 AND (s.last_success_at IS NULL OR s.last_success_at < sl.nominal)
               ORDER BY sl.nominal DESC LIMIT 1
           ) late ON true
           WHERE i.id = $1"#,
        id.0,
        now
    )
    .fetch_optional(conn)
    .await
}

#[tracing::instrument(level = "debug", name = "integrations.repo.save_health", skip_all)]
pub async fn save_health(
    conn: &mut PgConnection,
    id: IntegrationId,
    state: &str,
    reason: &str,
    watch_from: Option<DateTime<Utc>>,
    next_check_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        r#"INSERT INTO integration_health (integration_id, state, reason, watch_from, next_check_at, computed_at)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (integration_id) DO UPDATE SET state = EXCLUDED.state, reason = EXCLUDED.reason,
               watch_from = EXCLUDED.watch_from, next_check_at = EXCLUDED.next_check_at, computed_at = EXCLUDED.computed_at"#,
        id.0,
        state,
        reason,
        watch_from,
        next_check_at,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The integrations whose health must be looked at again by `now` (a slot came due, a late
/// slot's deadline passed, a success went stale), oldest due first.
pub async fn due_for_check(pool: &PgPool, now: DateTime<Utc>, limit: i64) -> sqlx::Result<Vec<IntegrationId>> {
    sqlx::query_scalar!(
        "SELECT integration_id FROM integration_health WHERE next_check_at <= $1 ORDER BY next_check_at LIMIT $2",
        now,
        limit
    )
    .fetch_all(pool)
    .await
    .map(|ids| ids.into_iter().map(IntegrationId).collect())
}

/// When a job's runs for one slot first started and first ended: a run whose nominal start is
/// the slot, or (without one) a run started from a minute before it until `until`.
pub async fn slot_runs(
    conn: &mut PgConnection,
    job_id: Uuid,
    nominal: DateTime<Utc>,
    until: DateTime<Utc>,
) -> sqlx::Result<(Option<Uuid>, Option<DateTime<Utc>>, Option<DateTime<Utc>>)> {
    let row = sqlx::query!(
        r#"SELECT (array_agg(run_id ORDER BY at))[1] AS run_id,
                  min(started_at) AS started, min(ended_at) AS ended
           FROM integration_runs
           WHERE job_id = $1 AND trigger <> 'test'
             AND at >= $2::timestamptz - interval '1 day' AND at < $3
             AND (nominal_start = $2 OR (nominal_start IS NULL AND at >= $2::timestamptz - interval '1 minute'))"#,
        job_id,
        nominal,
        until
    )
    .fetch_one(conn)
    .await?;
    Ok((row.run_id, row.started, row.ended))
}

/// Records a slot's judgement; counts it into its day once it is settled.
pub async fn save_slot(
    conn: &mut PgConnection,
    integration_id: IntegrationId,
    job_id: Uuid,
    nominal: DateTime<Utc>,
    state: &str,
    settled: bool,
    run_id: Option<Uuid>,
) -> sqlx::Result<()> {
    let was_settled = sqlx::query_scalar!(
        "SELECT settled FROM integration_slots WHERE integration_id = $1 AND nominal = $2",
        integration_id.0,
        nominal
    )
    .fetch_optional(&mut *conn)
    .await?
    .unwrap_or(false);
    if was_settled {
        return Ok(());
    }
    sqlx::query!(
        r#"INSERT INTO integration_slots (integration_id, nominal, state, settled, run_id) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (integration_id, nominal) DO UPDATE SET state = EXCLUDED.state, settled = EXCLUDED.settled, run_id = EXCLUDED.run_id"#,
        integration_id.0,
        nominal,
        state,
        settled,
        run_id
    )
    .execute(&mut *conn)
    .await?;
    if settled {
        let (month, day) = month_day(nominal);
        sqlx::query!(
            r#"INSERT INTO integration_rollup_monthly AS m (job_id, month, slots, late, missed)
               VALUES ($1, $2, integration_on_day($5, 1)::int[], integration_on_day($5, $3::int)::int[], integration_on_day($5, $4::int)::int[])
               ON CONFLICT (job_id, month) DO UPDATE SET slots[$5] = m.slots[$5] + 1, late[$5] = m.late[$5] + $3::int,
                   missed[$5] = m.missed[$5] + $4::int"#,
            job_id,
            month,
            i32::from(state == "late"),
            i32::from(state == "missed"),
            day,
        )
        .execute(conn)
        .await?;
    }
    Ok(())
}

/// Makes the partitions of the months from `from` for `months` months (idempotent).
pub async fn ensure_partitions(pool: &PgPool, from: NaiveDate, months: i32) -> sqlx::Result<()> {
    sqlx::query!(
        "SELECT integration_partition_create(($1::date + make_interval(months => k))::date) FROM generate_series(0, $2::int - 1) AS k",
        from,
        months
    )
    .fetch_all(pool)
    .await?;
    Ok(())
}

/// Drops the partitions of months before `cutoff`, and the roll-ups and slots older than it;
/// returns the months dropped.
pub async fn drop_before(pool: &PgPool, cutoff: NaiveDate) -> sqlx::Result<Vec<NaiveDate>> {
    let mut tx = pool.begin().await?;
    let months = sqlx::query_scalar!(r#"SELECT m AS "m!" FROM integration_partition_drop_before($1) AS m"#, cutoff)
        .fetch_all(&mut *tx)
        .await?;
    sqlx::query!("DELETE FROM integration_rollup_monthly WHERE month < $1::date", cutoff).execute(&mut *tx).await?;
    sqlx::query!("DELETE FROM integration_rollup_errors WHERE day < $1::date", cutoff).execute(&mut *tx).await?;
    sqlx::query!("DELETE FROM integration_slots WHERE nominal < $1::date", cutoff).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(months)
}

/// Hourly roll-ups are read for the last day only: older ones go.
pub async fn prune_hourly(pool: &PgPool, before: DateTime<Utc>) -> sqlx::Result<u64> {
    Ok(sqlx::query!("DELETE FROM integration_rollup_hourly WHERE at < $1", before).execute(pool).await?.rows_affected())
}

/// Team ids by slug (those that exist).
pub async fn team_ids(conn: &mut PgConnection, slugs: &[String]) -> sqlx::Result<Vec<(String, Uuid)>> {
    let rows = sqlx::query!("SELECT slug, id FROM teams WHERE slug = ANY($1)", slugs).fetch_all(conn).await?;
    Ok(rows.into_iter().map(|r| (r.slug, r.id)).collect())
}

/// Systems by name (those that exist): id and whether it is outside the company.
pub async fn system_ids(conn: &mut PgConnection, names: &[String]) -> sqlx::Result<Vec<(String, Uuid, bool)>> {
    let rows = sqlx::query!("SELECT name, id, external FROM integration_systems WHERE name = ANY($1)", names).fetch_all(conn).await?;
    Ok(rows.into_iter().map(|r| (r.name, r.id, r.external)).collect())
}

/// A catalog component's id by name.
pub async fn component_id(conn: &mut PgConnection, name: &str) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar!("SELECT id FROM entities WHERE kind = 'component' AND namespace = 'default' AND name = $1", name)
        .fetch_optional(conn)
        .await
}

pub struct NewSystem<'a> {
    pub name: &'a str,
    pub title: &'a str,
    pub description: &'a str,
    pub kind: &'a str,
    pub vendor: &'a str,
    pub environment: &'a str,
    pub external: bool,
    pub owner_team_id: Uuid,
    pub classification: &'a str,
    pub contacts: &'a [String],
    pub entity_id: Option<Uuid>,
    pub hosted_by: Option<Uuid>,
    pub reached_via: Option<Uuid>,
}

/// The topology's partners by these names, as (name, id); names that match none are left out.
#[tracing::instrument(level = "debug", name = "integrations.repo.partner_ids", skip_all)]
pub async fn partner_ids(conn: &mut PgConnection, names: &[String]) -> sqlx::Result<Vec<(String, Uuid)>> {
    let rows = sqlx::query!("SELECT name, id FROM topology_partners WHERE name = ANY($1)", names).fetch_all(conn).await?;
    Ok(rows.into_iter().map(|r| (r.name, r.id)).collect())
}

/// Inserts a system; `None` when the name is taken.
pub async fn insert_system(conn: &mut PgConnection, s: &NewSystem<'_>) -> sqlx::Result<Option<SystemId>> {
    sqlx::query_scalar!(
        r#"INSERT INTO integration_systems (name, title, description, kind, vendor, environment, external, owner_team_id,
               classification, contacts, entity_id, hosted_by, reached_via)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT (name) DO NOTHING RETURNING id"#,
        s.name,
        s.title,
        s.description,
        s.kind,
        s.vendor,
        s.environment,
        s.external,
        s.owner_team_id,
        s.classification,
        s.contacts,
        s.entity_id,
        s.hosted_by,
        s.reached_via
    )
    .fetch_optional(conn)
    .await
    .map(|id| id.map(SystemId))
}

/// An integration's columns as written.
pub struct IntegrationRow<'a> {
    pub name: &'a str,
    pub title: &'a str,
    pub description: &'a str,
    pub platform: &'a str,
    pub platform_ref: &'a str,
    pub trigger: &'a str,
    pub schedule: Option<&'a str>,
    pub time_zone: &'a str,
    pub data_format: &'a str,
    pub transport: &'a str,
    pub auth: &'a str,
    pub owner_team_id: Uuid,
    pub classification: &'a str,
    pub lifecycle: &'a str,
    pub runbook_url: &'a str,
    pub on_call: &'a str,
    pub tags: &'a [String],
    pub grace_mins: i32,
    pub max_duration_mins: i32,
    pub freshness_hours: Option<i32>,
    pub success_target: f64,
    pub job_id: Uuid,
}

/// Inserts an integration; `None` when the name is taken.
pub async fn insert_integration(conn: &mut PgConnection, i: &IntegrationRow<'_>, status: &str, created_by: Option<Uuid>, now: DateTime<Utc>) -> sqlx::Result<Option<IntegrationId>> {
    sqlx::query_scalar!(
        r#"INSERT INTO integrations (name, title, description, platform, platform_ref, trigger, schedule, time_zone, data_format,
               transport, auth, owner_team_id, classification, lifecycle, runbook_url, on_call, tags, grace_mins,
               max_duration_mins, freshness_hours, success_target, job_id, status, created_by, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $25)
           ON CONFLICT (name) DO NOTHING RETURNING id"#,
        i.name,
        i.title,
        i.description,
        i.platform,
        i.platform_ref,
        i.trigger,
        i.schedule,
        i.time_zone,
        i.data_format,
        i.transport,
        i.auth,
        i.owner_team_id,
        i.classification,
        i.lifecycle,
        i.runbook_url,
        i.on_call,
        i.tags,
        i.grace_mins,
        i.max_duration_mins,
        i.freshness_hours,
        i.success_target,
        i.job_id,
        status,
        created_by,
        now,
    )
    .fetch_optional(conn)
    .await
    .map(|id| id.map(IntegrationId))
}

/// Replaces an integration's columns if its version is still `version`; false when it moved on.
pub async fn update_integration(conn: &mut PgConnection, id: IntegrationId, version: i32, i: &IntegrationRow<'_>, now: DateTime<Utc>) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        r#"UPDATE integrations SET title = $3, description = $4, platform = $5, platform_ref = $6, trigger = $7, schedule = $8,
               time_zone = $9, data_format = $10, transport = $11, auth = $12, owner_team_id = $13, classification = $14,
               lifecycle = $15, runbook_url = $16, on_call = $17, tags = $18, grace_mins = $19, max_duration_mins = $20,
               freshness_hours = $21, success_target = $22, job_id = $23, updated_at = $24, version = version + 1
           WHERE id = $1 AND version = $2"#,
        id.0,
        version,
        i.title,
        i.description,
        i.platform,
        i.platform_ref,
        i.trigger,
        i.schedule,
        i.time_zone,
        i.data_format,
        i.transport,
        i.auth,
        i.owner_team_id,
        i.classification,
        i.lifecycle,
        i.runbook_url,
        i.on_call,
        i.tags,
        i.grace_mins,
        i.max_duration_mins,
        i.freshness_hours,
        i.success_target,
        i.job_id,
        now,
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Sets an integration's ends and co-owners (replacing what was there).
pub async fn set_links(conn: &mut PgConnection, id: IntegrationId, sources: &[Uuid], targets: &[Uuid], co_owners: &[Uuid]) -> sqlx::Result<()> {
    sqlx::query!("DELETE FROM integration_ends WHERE integration_id = $1", id.0).execute(&mut *conn).await?;
    sqlx::query!("DELETE FROM integration_co_owners WHERE integration_id = $1", id.0).execute(&mut *conn).await?;
    sqlx::query!(
        r#"INSERT INTO integration_ends (integration_id, system_id, direction, position)
           SELECT $1::uuid, s.id, 'source', s.n - 1 FROM unnest($2::uuid[]) WITH ORDINALITY AS s(id, n)
           UNION ALL
           SELECT $1::uuid, t.id, 'target', t.n - 1 FROM unnest($3::uuid[]) WITH ORDINALITY AS t(id, n)"#,
        id.0,
        sources,
        targets
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!("INSERT INTO integration_co_owners (integration_id, team_id) SELECT $1, unnest($2::uuid[])", id.0, co_owners)
        .execute(conn)
        .await?;
    Ok(())
}

/// An integration as the registry reads it before a change.
#[derive(Debug)]
pub struct Current {
    pub id: Uuid,
    pub name: String,
    pub status: String,
    pub version: i32,
    pub owner_team_id: Uuid,
    pub classification: String,
    pub co_owners: Vec<Uuid>,
    pub job_id: Uuid,
}

pub async fn current(conn: &mut PgConnection, by_id: Option<Uuid>, by_name: Option<&str>) -> sqlx::Result<Option<Current>> {
    sqlx::query_as!(
        Current,
        r#"SELECT i.id, i.name, i.status, i.version, i.owner_team_id, i.classification, i.job_id,
                  coalesce((SELECT array_agg(team_id) FROM integration_co_owners c WHERE c.integration_id = i.id), '{}') AS "co_owners!"
           FROM integrations i WHERE ($1::uuid IS NULL OR i.id = $1) AND ($2::text IS NULL OR i.name = $2)
           FOR UPDATE OF i"#,
        by_id,
        by_name
    )
    .fetch_optional(conn)
    .await
}

pub async fn set_status(conn: &mut PgConnection, id: Uuid, status: &str) -> sqlx::Result<()> {
    sqlx::query!("UPDATE integrations SET status = $2, version = version + 1 WHERE id = $1", id, status).execute(conn).await?;
    Ok(())
}

pub async fn delete_integration(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<()> {
    sqlx::query!("DELETE FROM integrations WHERE id = $1", id).execute(conn).await?;
    Ok(())
}

/// The integration a job is registered as, by name, if any.
pub async fn job_owner(conn: &mut PgConnection, job_id: Uuid) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar!("SELECT name FROM integrations WHERE job_id = $1", job_id).fetch_optional(conn).await
}

/// Changes a system's fields by name; its id, or `None` when there is no such system.
#[tracing::instrument(level = "debug", name = "integrations.repo.update_system", skip_all)]
pub async fn update_system(conn: &mut PgConnection, s: &NewSystem<'_>) -> sqlx::Result<Option<SystemId>> {
    sqlx::query_scalar!(
        r#"UPDATE integration_systems SET title = $2, description = $3, kind = $4, vendor = $5, environment = $6,
               external = $7, owner_team_id = $8, classification = $9, contacts = $10, entity_id = $11,
               hosted_by = $12, reached_via = $13, updated_at = now(), version = version + 1
           WHERE name = $1 RETURNING id"#,
        s.name,
        s.title,
        s.description,
        s.kind,
        s.vendor,
        s.environment,
        s.external,
        s.owner_team_id,
        s.classification,
        s.contacts,
        s.entity_id,
        s.hosted_by,
        s.reached_via
    )
    .fetch_optional(conn)
    .await
    .map(|id| id.map(SystemId))
}

/// Stored systems as their forms would state them, with their owning team's id, by name.
#[tracing::instrument(level = "debug", name = "integrations.repo.system_forms", skip_all)]
pub async fn system_forms(conn: &mut PgConnection, names: &[String]) -> sqlx::Result<Vec<(SystemForm, Uuid)>> {
    let rows = sqlx::query!(
        r#"SELECT s.name, s.title, s.description, s.kind, s.vendor, s.environment, s.external, t.slug AS owner,
                  s.classification, s.contacts, e.name AS "component?", s.owner_team_id,
                  hp.name AS "hosted_by?", rp.name AS "reached_via?"
           FROM integration_systems s JOIN teams t ON t.id = s.owner_team_id
           LEFT JOIN entities e ON e.id = s.entity_id
           LEFT JOIN topology_partners hp ON hp.id = s.hosted_by
           LEFT JOIN topology_partners rp ON rp.id = s.reached_via
           WHERE s.name = ANY($1)"#,
        names
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let form = SystemForm {
                name: r.name,
                title: r.title,
                description: r.description,
                kind: r.kind,
                vendor: r.vendor,
                environment: r.environment,
                external: if r.external { "yes" } else { "no" }.into(),
                owner: r.owner,
                classification: r.classification,
                contacts: r.contacts.join(", "),
                component: r.component.unwrap_or_default(),
                hosted_by: r.hosted_by.unwrap_or_default(),
                reached_via: r.reached_via.unwrap_or_default(),
            };
            (form, r.owner_team_id)
        })
        .collect())
}

/// Stored integrations as their forms would state them, with their status, by name.
#[tracing::instrument(level = "debug", name = "integrations.repo.integration_forms", skip_all)]
pub async fn integration_forms(conn: &mut PgConnection, names: &[String]) -> sqlx::Result<Vec<(IntegrationForm, String)>> {
    let rows = sqlx::query!(
        r#"SELECT i.name, i.title, i.description, i.platform, i.platform_ref, i.trigger, i.schedule, i.time_zone,
                  i.data_format, i.transport, i.auth, t.slug AS owner, i.classification, i.lifecycle, i.runbook_url,
                  i.on_call, i.tags, i.grace_mins, i.max_duration_mins, i.freshness_hours, i.success_target, i.status,
                  j.namespace AS job_namespace, j.name AS job_name,
                  coalesce((SELECT string_agg(s.name, ', ' ORDER BY e.position) FROM integration_ends e
                            JOIN integration_systems s ON s.id = e.system_id WHERE e.integration_id = i.id AND e.direction = 'source'), '') AS "sources!",
                  coalesce((SELECT string_agg(s.name, ', ' ORDER BY e.position) FROM integration_ends e
                            JOIN integration_systems s ON s.id = e.system_id WHERE e.integration_id = i.id AND e.direction = 'target'), '') AS "targets!",
                  coalesce((SELECT string_agg(ct.slug, ', ' ORDER BY ct.slug) FROM integration_co_owners c
                            JOIN teams ct ON ct.id = c.team_id WHERE c.integration_id = i.id), '') AS "co_owners!"
           FROM integrations i JOIN teams t ON t.id = i.owner_team_id JOIN integration_jobs j ON j.id = i.job_id
           WHERE i.name = ANY($1)"#,
        names
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let form = IntegrationForm {
                name: r.name,
                title: r.title,
                description: r.description,
                sources: r.sources,
                targets: r.targets,
                platform: r.platform,
                platform_ref: r.platform_ref,
                trigger: r.trigger,
                schedule: r.schedule.unwrap_or_default(),
                time_zone: r.time_zone,
                data_format: r.data_format,
                transport: r.transport,
                auth: r.auth,
                owner: r.owner,
                co_owners: r.co_owners,
                classification: r.classification,
                lifecycle: r.lifecycle,
                runbook: r.runbook_url,
                on_call: r.on_call,
                tags: r.tags.join(", "),
                grace_mins: r.grace_mins.to_string(),
                max_duration_mins: r.max_duration_mins.to_string(),
                freshness_hours: r.freshness_hours.map(|h| h.to_string()).unwrap_or_default(),
                success_target: r.success_target.to_string(),
                job_namespace: r.job_namespace,
                job_name: r.job_name,
                reason: String::new(),
            };
            (form, r.status)
        })
        .collect())
}

/// The names of the catalog's components among `names`.
#[tracing::instrument(level = "debug", name = "integrations.repo.component_names", skip_all)]
pub async fn component_names(conn: &mut PgConnection, names: &[String]) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar!("SELECT name FROM entities WHERE kind = 'component' AND namespace = 'default' AND name = ANY($1)", names)
        .fetch_all(conn)
        .await
}

/// Locks the runs of a batch, in the order given (every batch sorts them: none waits on another).
#[tracing::instrument(level = "debug", name = "integrations.repo.lock_runs", skip_all, fields(runs = run_ids.len()))]
pub async fn lock_runs(conn: &mut PgConnection, run_ids: &[Uuid]) -> sqlx::Result<()> {
    sqlx::query!("SELECT pg_advisory_xact_lock(hashtextextended(r::text, 1717)) FROM unnest($1::uuid[]) AS r", run_ids)
        .fetch_all(conn)
        .await?;
    Ok(())
}

/// Which of these (run, digest) pairs are stored already.
#[tracing::instrument(level = "debug", name = "integrations.repo.events_seen", skip_all)]
pub async fn events_seen(conn: &mut PgConnection, run_ids: &[Uuid], digests: &[Vec<u8>]) -> sqlx::Result<Vec<(Uuid, Vec<u8>)>> {
    let rows = sqlx::query!(
        r#"SELECT e.run_id, e.digest FROM integration_events e
           JOIN unnest($1::uuid[], $2::bytea[]) AS x(run_id, digest) ON e.run_id = x.run_id AND e.digest = x.digest"#,
        run_ids,
        digests
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.run_id, r.digest)).collect())
}

/// For the rest of the transaction (`on`), or no longer: statements are planned once per
/// connection (Postgres's generic plan) rather than for each execution, and by their indexes. A
/// batch's statements take arrays of hundreds of values into 14 monthly partitions: planning them
/// for each batch took milliseconds (6 ms for the run lookup alone), and gave the same plans. A
/// plan made once must not depend on a partition's size at that moment: made while the month's
/// partition was nearly empty it scanned the partition whole, and went on doing so as it grew
/// until autovacuum analysed it again (a batch's run lookup went from 22 to 108 ms in 20 batches).
#[tracing::instrument(level = "debug", name = "integrations.repo.plan_once", skip_all)]
pub async fn plan_once(conn: &mut PgConnection, on: bool) -> sqlx::Result<()> {
    // both in one round trip, for the transaction only (`true`); off restores what RESET would
    let mode = if on {
        "SELECT set_config('plan_cache_mode', 'force_generic_plan', true), set_config('enable_seqscan', 'off', true)"
    } else {
        "SELECT set_config(name, reset_val, true) FROM pg_settings WHERE name IN ('plan_cache_mode', 'enable_seqscan')"
    };
    sqlx::query(mode).execute(conn).await?;
    Ok(())
}

/// These runs as stored, looked for in every monthly partition.
#[tracing::instrument(level = "debug", name = "integrations.repo.find_runs", skip_all)]
pub async fn find_runs(conn: &mut PgConnection, run_ids: &[Uuid]) -> sqlx::Result<Vec<RunRow>> {
    sqlx::query_as!(
        RunRow,
        r#"SELECT month, run_id, job_id, state, raw_status, trigger, nominal_start, nominal_end, started_at, ended_at,
                  records_in, records_out, records_failed, error_class, error_message, retry_of, parent_run_id,
                  runtime_node, facets, decided_by, counted, duration_counted, event_count, first_received, updated_at
           FROM integration_runs WHERE run_id = ANY($1)"#,
        run_ids
    )
    .fetch_all(conn)
    .await
}

/// Inserts a batch's events in one statement.
#[tracing::instrument(level = "debug", name = "integrations.repo.insert_events", skip_all, fields(events = events.len()))]
pub async fn insert_events(conn: &mut PgConnection, events: &[NewEvent<'_>]) -> sqlx::Result<()> {
    let col = |f: &dyn Fn(&NewEvent<'_>) -> String| events.iter().map(f).collect::<Vec<String>>();
    sqlx::query!(
        r#"INSERT INTO integration_events (month, run_id, digest, job_id, event_type, event_time, received_at, token_id, body)
           SELECT month, run_id, digest, job_id, event_type, event_time, received_at, token_id, body::json
           FROM unnest($1::date[], $2::uuid[], $3::bytea[], $4::uuid[], $5::text[], $6::timestamptz[], $7::timestamptz[], $8::uuid[], $9::text[])
                AS x(month, run_id, digest, job_id, event_type, event_time, received_at, token_id, body)"#,
        &events.iter().map(|e| e.month).collect::<Vec<_>>(),
        &events.iter().map(|e| e.run_id).collect::<Vec<_>>(),
        &events.iter().map(|e| e.digest.to_vec()).collect::<Vec<_>>(),
        &events.iter().map(|e| e.job_id).collect::<Vec<_>>(),
        &col(&|e| e.event_type.to_owned()),
        &events.iter().map(|e| e.event_time).collect::<Vec<_>>(),
        &events.iter().map(|e| e.received_at).collect::<Vec<_>>(),
        &events.iter().map(|e| e.token_id).collect::<Vec<Option<Uuid>>>() as &[Option<Uuid>],
        &col(&|e| e.body.to_owned()),
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Writes a batch's runs in one statement, as `save_run` does each.
#[tracing::instrument(level = "debug", name = "integrations.repo.save_runs", skip_all, fields(runs = runs.len()))]
pub async fn save_runs(conn: &mut PgConnection, runs: &[&RunRow]) -> sqlx::Result<()> {
    macro_rules! col {
        ($f:ident) => {
            runs.iter().map(|r| r.$f.clone()).collect::<Vec<_>>()
        };
    }
    sqlx::query!(
        r#"INSERT INTO integration_runs (month, run_id, job_id, state, raw_status, trigger, nominal_start, nominal_end,
               started_at, ended_at, records_in, records_out, records_failed, error_class, error_message, retry_of,
               parent_run_id, runtime_node, facets, decided_by, counted, duration_counted, event_count, first_received, updated_at)
           SELECT * FROM unnest($1::date[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::timestamptz[],
               $8::timestamptz[], $9::timestamptz[], $10::timestamptz[], $11::int8[], $12::int8[], $13::int8[], $14::text[],
               $15::text[], $16::uuid[], $17::uuid[], $18::text[], $19::jsonb[], $20::text[], $21::bool[], $22::bool[],
               $23::int4[], $24::timestamptz[], $25::timestamptz[])
           ON CONFLICT (run_id, month) DO UPDATE SET
               state = EXCLUDED.state, raw_status = EXCLUDED.raw_status, trigger = EXCLUDED.trigger,
               nominal_start = EXCLUDED.nominal_start, nominal_end = EXCLUDED.nominal_end,
               started_at = EXCLUDED.started_at, ended_at = EXCLUDED.ended_at, records_in = EXCLUDED.records_in,
               records_out = EXCLUDED.records_out, records_failed = EXCLUDED.records_failed,
               error_class = EXCLUDED.error_class, error_message = EXCLUDED.error_message, retry_of = EXCLUDED.retry_of,
               parent_run_id = EXCLUDED.parent_run_id, runtime_node = EXCLUDED.runtime_node, facets = EXCLUDED.facets,
               decided_by = EXCLUDED.decided_by, counted = EXCLUDED.counted, duration_counted = EXCLUDED.duration_counted,
               event_count = EXCLUDED.event_count, updated_at = EXCLUDED.updated_at"#,
        &col!(month),
        &col!(run_id),
        &col!(job_id),
        &col!(state),
        &col!(raw_status) as &[Option<String>],
        &col!(trigger),
        &col!(nominal_start) as &[Option<DateTime<Utc>>],
        &col!(nominal_end) as &[Option<DateTime<Utc>>],
        &col!(started_at) as &[Option<DateTime<Utc>>],
        &col!(ended_at) as &[Option<DateTime<Utc>>],
        &col!(records_in) as &[Option<i64>],
        &col!(records_out) as &[Option<i64>],
        &col!(records_failed) as &[Option<i64>],
        &col!(error_class) as &[Option<String>],
        &col!(error_message) as &[Option<String>],
        &col!(retry_of) as &[Option<Uuid>],
        &col!(parent_run_id) as &[Option<Uuid>],
        &col!(runtime_node) as &[Option<String>],
        &col!(facets),
        &col!(decided_by) as &[Option<String>],
        &col!(counted),
        &col!(duration_counted),
        &col!(event_count),
        &col!(first_received),
        &col!(updated_at),
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The jobs of these (namespace, name) pairs, made where new, in one statement (a pair made by
/// another transaction meanwhile is looked up again on its own).
#[tracing::instrument(level = "debug", name = "integrations.repo.job_ids", skip_all, fields(jobs = jobs.len()))]
pub async fn job_ids(conn: &mut PgConnection, jobs: &[(String, String)]) -> sqlx::Result<Vec<((String, String), Uuid)>> {
    let rows = sqlx::query!(
        r#"WITH want AS (SELECT * FROM unnest($1::text[], $2::text[]) AS w(namespace, name)),
           made AS (INSERT INTO integration_jobs (namespace, name) SELECT namespace, name FROM want
                    ON CONFLICT (namespace, name) DO NOTHING RETURNING id, namespace, name)
           SELECT id AS "id!", namespace AS "namespace!", name AS "name!" FROM made
           UNION ALL
           SELECT j.id, j.namespace, j.name FROM integration_jobs j JOIN want w ON w.namespace = j.namespace AND w.name = j.name"#,
        &jobs.iter().map(|j| j.0.clone()).collect::<Vec<_>>(),
        &jobs.iter().map(|j| j.1.clone()).collect::<Vec<_>>(),
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut found: Vec<((String, String), Uuid)> = rows.into_iter().map(|r| ((r.namespace, r.name), r.id)).collect();
    for job in jobs {
        if !found.iter().any(|(j, _)| j == job) {
            let id = job_id(&mut *conn, &job.0, &job.1).await?.0;
            found.push((job.clone(), id));
        }
    }
    Ok(found)
}

/// New runs of these jobs (distinct) at `at`: their last event moves on, in one statement.
#[tracing::instrument(level = "debug", name = "integrations.repo.note_runs", skip_all)]
pub async fn note_runs(conn: &mut PgConnection, job_ids: &[Uuid], at: DateTime<Utc>) -> sqlx::Result<()> {
    sqlx::query!(
        r#"INSERT INTO integration_job_stats AS s (job_id, last_event_at) SELECT j, $2 FROM unnest($1::uuid[]) AS j ORDER BY j
           ON CONFLICT (job_id) DO UPDATE SET last_event_at = greatest(s.last_event_at, EXCLUDED.last_event_at)"#,
        job_ids,
        at
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// An active scheduled integration, with what makes it critical or not (its classification,
/// and the lowest tier among the catalog components at its ends), the components at its ends
/// and the partners hosting its systems.
pub struct ScheduledRow {
    pub name: String,
    pub title: String,
    pub owner: String,
    pub classification: String,
    pub schedule: String,
    pub time_zone: String,
    pub max_duration_mins: i32,
    pub tier: Option<i16>,
    /// The component with that tier.
    pub tier_of: Option<String>,
    /// `kind:namespace/name` of each component at an end.
    pub services: Vec<String>,
    pub partners: Vec<String>,
}

/// Every active scheduled integration, or (with `service`) those with an end at that component.
#[tracing::instrument(level = "debug", name = "integrations.repo.scheduled", skip_all)]
pub async fn scheduled(conn: &mut PgConnection, service: Option<Uuid>) -> sqlx::Result<Vec<ScheduledRow>> {
    sqlx::query_as!(
        ScheduledRow,
        r#"SELECT i.name, i.title, t.name AS owner, i.classification, i.schedule AS "schedule!", i.time_zone, i.max_duration_mins,
                  x.tier, x.tier_of, x.services AS "services!",
                  ARRAY(SELECT DISTINCT p.name FROM integration_ends e JOIN topology_partner_systems ps ON ps.system_id = e.system_id
                        JOIN topology_partners p ON p.id = ps.partner_id WHERE e.integration_id = i.id ORDER BY p.name) AS "partners!"
           FROM integrations i JOIN teams t ON t.id = i.owner_team_id
           CROSS JOIN LATERAL (
               SELECT min(en.tier) AS tier, (array_agg(coalesce(en.title, en.name) ORDER BY en.tier NULLS LAST, en.name) FILTER (WHERE en.id IS NOT NULL))[1] AS tier_of,
                      coalesce(array_agg(DISTINCT en.kind || ':' || en.namespace || '/' || en.name) FILTER (WHERE en.id IS NOT NULL), '{}') AS services
               FROM integration_ends e JOIN integration_systems y ON y.id = e.system_id LEFT JOIN entities en ON en.id = y.entity_id
               WHERE e.integration_id = i.id
           ) x
           WHERE i.status = 'active' AND i.trigger = 'schedule' AND i.schedule IS NOT NULL
             AND ($1::uuid IS NULL OR EXISTS (SELECT 1 FROM integration_ends e JOIN integration_systems y ON y.id = e.system_id
                                              WHERE e.integration_id = i.id AND y.entity_id = $1))
           ORDER BY i.name"#,
        service
    )
    .fetch_all(conn)
    .await
}
