//! Reading integrations, systems and runs. Every employee reads. A list or a page reads the
//! roll-ups and a bounded number of runs (one page), never the history.
use super::IntegrationError;
use crate::catalog::types::Classification;
use crate::error::Refusal;
use crate::iam::principal::Principal;
use crate::integrations::types::*;
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use sqlx::{PgConnection, PgPool};
use std::collections::HashMap;
use uuid::Uuid;

/// `%` and `_` taken literally in an ILIKE pattern.
fn like(text: &str) -> String {
    let escaped = text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}

struct SummaryRow {
    id: Uuid,
    name: String,
    title: String,
    platform: String,
    trigger: String,
    schedule: Option<String>,
    owner: String,
    classification: String,
    lifecycle: String,
    status: String,
    job_id: Uuid,
    health: String,
    health_reason: String,
    last_run_id: Option<Uuid>,
    last_state: Option<String>,
    last_started_at: Option<DateTime<Utc>>,
    last_ended_at: Option<DateTime<Utc>>,
    last_error: Option<String>,
}

fn counts_of(succeeded: i32, warned: i32, failed: i32, aborted: i32, late: i32, missed: i32) -> RunCounts {
    RunCounts {
        succeeded: i64::from(succeeded),
        warned: i64::from(warned),
        failed: i64::from(failed),
        aborted: i64::from(aborted),
        late: i64::from(late),
        missed: i64::from(missed),
    }
}

/// An hour's histogram as stored.
fn histogram(durations: &[Option<i32>]) -> Vec<i64> {
    durations.iter().take(DURATION_BUCKETS.len() + 1).map(|c| i64::from(c.unwrap_or(0))).collect()
}

fn add_histogram(into: &mut [i64], from: &[i64]) {
    for (a, b) in into.iter_mut().zip(from) {
        *a += b;
    }
}

/// A day of a job's roll-up, as read.
struct Day {
    day: NaiveDate,
    counts: RunCounts,
    slots: i64,
    records_failed: i64,
    /// Ended runs per duration bucket ([`DURATION_BUCKETS`], and one past the last).
    histogram: Vec<i64>,
}

impl Day {
    fn point(&self) -> DayPoint {
        DayPoint { day: self.day, counts: self.counts, p95_secs: histogram_quantile(&self.histogram, 0.95) }
    }
}

/// Days `from..=to`, each with its counts (zero on a day without runs); `days` oldest first.
fn fill_days(days: &[Day], from: NaiveDate, to: NaiveDate) -> Vec<DayPoint> {
    let mut rows = days.iter().skip_while(|d| d.day < from).peekable();
    from.iter_days()
        .take_while(|d| *d <= to)
        .map(|d| match rows.next_if(|r| r.day == d) {
            Some(r) => r.point(),
            None => DayPoint { day: d, counts: RunCounts::default(), p95_secs: None },
        })
        .collect()
}

/// A month of a job's roll-up as read: each array a day an entry (see the migration of
/// `integration_rollup_monthly`).
struct MonthRow {
    job_id: Uuid,
    month: NaiveDate,
    succeeded: Vec<i32>,
    warned: Vec<i32>,
    failed: Vec<i32>,
    aborted: Vec<i32>,
    late: Vec<i32>,
    missed: Vec<i32>,
    slots: Vec<i32>,
    records_failed: Vec<i64>,
    durations: Vec<i32>,
}

/// The days from `first` on of these jobs, by job, oldest first: those with something counted,
/// a month a row. A list's sparklines read the counts alone (its days have no p95), an
/// integration's page everything.
async fn days_of(conn: &mut PgConnection, jobs: &[Uuid], first: NaiveDate, counts_only: bool) -> Result<HashMap<Uuid, Vec<Day>>, IntegrationError> {
    const BUCKETS: usize = DURATION_BUCKETS.len() + 1;
    let months = if counts_only {
        sqlx::query_as!(
            MonthRow,
            r#"SELECT job_id, month, succeeded, warned, failed, aborted, late, missed, '{}'::int[] AS "slots!",
                      '{}'::bigint[] AS "records_failed!", '{}'::int[] AS "durations!"
               FROM integration_rollup_monthly WHERE job_id = ANY($1) AND month >= date_trunc('month', $2::date)::date"#,
            jobs,
            first
        )
        .fetch_all(&mut *conn)
        .await?
    } else {
        sqlx::query_as!(
            MonthRow,
            r#"SELECT job_id, month, succeeded, warned, failed, aborted, late, missed, slots, records_failed, durations
               FROM integration_rollup_monthly WHERE job_id = ANY($1) AND month >= date_trunc('month', $2::date)::date"#,
            jobs,
            first
        )
        .fetch_all(&mut *conn)
        .await?
    };
    let mut by_job: HashMap<Uuid, Vec<Day>> = HashMap::new();
    for m in months {
        let days = by_job.entry(m.job_id).or_default();
        let at = |a: &[i32], k: usize| a.get(k).copied().unwrap_or(0);
        for (k, day) in m.month.iter_days().take_while(|d| d.month() == m.month.month()).enumerate().skip_while(|(_, d)| *d < first) {
            let counts = counts_of(at(&m.succeeded, k), at(&m.warned, k), at(&m.failed, k), at(&m.aborted, k), at(&m.late, k), at(&m.missed, k));
            let histogram = m.durations.get(k * BUCKETS..(k + 1) * BUCKETS).unwrap_or_default();
            let (slots, records_failed) = (at(&m.slots, k), m.records_failed.get(k).copied().unwrap_or(0));
            if counts != RunCounts::default() || slots != 0 || records_failed != 0 || histogram.iter().any(|c| *c != 0) {
                let histogram = histogram.iter().map(|c| i64::from(*c)).collect();
                days.push(Day { day, counts, slots: i64::from(slots), records_failed, histogram });
            }
        }
    }
    for days in by_job.values_mut() {
        days.sort_unstable_by_key(|d| d.day);
    }
    Ok(by_job)
}

/// The first of the 30 days a summary shows.
fn first_of_30(now: DateTime<Utc>) -> NaiveDate {
    now.date_naive() - Duration::days(29)
}

/// The summaries of these rows: their ends and last runs, and their 30 days from `by_job` (at
/// least [`first_of_30`] on), in one statement.
async fn summaries(
    conn: &mut PgConnection,
    rows: Vec<SummaryRow>,
    by_job: &HashMap<Uuid, Vec<Day>>,
    now: DateTime<Utc>,
) -> Result<Vec<IntegrationSummary>, IntegrationError> {
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let ends = sqlx::query!(
        r#"SELECT e.integration_id, e.direction, sy.name, sy.title, sy.kind, sy.external
           FROM integration_ends e JOIN integration_systems sy ON sy.id = e.system_id
           WHERE e.integration_id = ANY($1) ORDER BY e.integration_id, e.direction, e.position"#,
        &ids
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut sources: HashMap<Uuid, Vec<SystemRef>> = HashMap::new();
    let mut targets: HashMap<Uuid, Vec<SystemRef>> = HashMap::new();
    for e in ends {
        let r = SystemRef { name: e.name, title: e.title, kind: SystemKind::stored(&e.kind), external: e.external };
        if e.direction == "source" { &mut sources } else { &mut targets }.entry(e.integration_id).or_default().push(r);
    }
    let (first, today) = (first_of_30(now), now.date_naive());
    Ok(rows
        .into_iter()
        .map(|r| IntegrationSummary {
            id: IntegrationId(r.id),
            sources: sources.remove(&r.id).unwrap_or_default(),
            targets: targets.remove(&r.id).unwrap_or_default(),
            days: fill_days(by_job.get(&r.job_id).map_or(&[], Vec::as_slice), first, today),
            last_run: r.last_run_id.map(|run_id| LastRun {
                run_id,
                state: RunState::stored(r.last_state.as_deref().unwrap_or("succeeded")),
                started_at: r.last_started_at,
                ended_at: r.last_ended_at,
                duration_secs: r.last_started_at.zip(r.last_ended_at).map(|(s, e)| (e - s).num_milliseconds() as f64 / 1000.0),
                error: r.last_error,
            }),
            name: r.name,
            title: r.title,
            platform: Platform::stored(&r.platform),
            trigger: Trigger::stored(&r.trigger),
            schedule: r.schedule,
            owner: r.owner,
            classification: Classification::parse(&r.classification).unwrap_or(Classification::Internal),
            lifecycle: IntegrationLifecycle::stored(&r.lifecycle),
            status: r.status,
            health: Health::stored(&r.health),
            health_reason: r.health_reason,
        })
        .collect())
}

/// Integrations by name, filtered, one page at a time, with the counts per health state.
#[tracing::instrument(name = "integrations.service.list", skip_all, err)]
pub async fn list(pool: &PgPool, principal: &Principal, q: &IntegrationQuery, now: DateTime<Utc>) -> Result<IntegrationPage, IntegrationError> {
    principal.require_read()?;
    let mut conn = pool.acquire().await?;
    let text = (!q.text.is_empty()).then(|| like(&q.text));
    let limit = i64::from(if q.limit == 0 { IntegrationQuery::DEFAULT_LIMIT } else { q.limit });
    let rows = sqlx::query_as!(
        SummaryRow,
        r#"SELECT i.id, i.name, i.title, i.platform, i.trigger, i.schedule, t.slug AS owner, i.classification, i.lifecycle,
                  i.status, i.job_id, coalesce(h.state, 'unknown') AS "health!", coalesce(h.reason, '') AS "health_reason!",
                  s.last_run_id AS "last_run_id?", s.last_state AS "last_state?", s.last_started_at AS "last_started_at?",
                  s.last_ended_at AS "last_ended_at?", s.last_error AS "last_error?"
           FROM integrations i
           JOIN teams t ON t.id = i.owner_team_id
           LEFT JOIN integration_health h ON h.integration_id = i.id
           LEFT JOIN integration_job_stats s ON s.job_id = i.job_id
           WHERE ($1::text IS NULL OR i.name > $1)
             AND ($2::text IS NULL OR i.platform = $2)
             AND ($3::text IS NULL OR EXISTS (SELECT 1 FROM integration_ends e JOIN integration_systems sy ON sy.id = e.system_id
                                             WHERE e.integration_id = i.id AND sy.name = $3))
             AND ($4::text IS NULL OR t.slug = $4 OR EXISTS (SELECT 1 FROM integration_co_owners c JOIN teams ct ON ct.id = c.team_id
                                                             WHERE c.integration_id = i.id AND ct.slug = $4))
             AND ($5::text IS NULL OR coalesce(h.state, 'unknown') = $5)
             AND ($6::text IS NULL OR i.classification = $6)
             AND ($7::text IS NULL OR i.trigger = $7)
             AND ($8::text IS NULL OR i.lifecycle = $8)
             AND ($9::text IS NULL OR i.name ILIKE $9 OR i.title ILIKE $9)
             AND ($11::text IS NULL OR EXISTS (SELECT 1 FROM integration_ends e JOIN integration_systems sy ON sy.id = e.system_id
                                              JOIN entities en ON en.id = sy.entity_id
                                              WHERE e.integration_id = i.id AND en.kind = 'component' AND en.name = $11))
             AND ($12::text IS NULL OR EXISTS (SELECT 1 FROM integration_ends e JOIN integration_systems sy ON sy.id = e.system_id
                                              JOIN topology_partners p ON p.id IN (sy.hosted_by, sy.reached_via)
                                              WHERE e.integration_id = i.id AND p.name = $12))
           ORDER BY i.name
           LIMIT $10"#,
        q.after,
        q.platform.map(Platform::as_str),
        q.system,
        q.owner,
        q.health.map(Health::as_str),
        q.classification.map(Classification::as_str),
        q.trigger.map(Trigger::as_str),
        q.lifecycle.map(IntegrationLifecycle::as_str),
        text,
        limit + 1,
        q.component,
        q.partner,
    )
    .fetch_all(&mut *conn)
    .await?;
    let counts = sqlx::query!(
        r#"SELECT coalesce(h.state, 'unknown') AS "state!", count(*) AS "n!"
           FROM integrations i
           JOIN teams t ON t.id = i.owner_team_id
           LEFT JOIN integration_health h ON h.integration_id = i.id
           WHERE ($1::text IS NULL OR i.platform = $1)
             AND ($2::text IS NULL OR EXISTS (SELECT 1 FROM integration_ends e JOIN integration_systems sy ON sy.id = e.system_id
                                             WHERE e.integration_id = i.id AND sy.name = $2))
             AND ($3::text IS NULL OR t.slug = $3 OR EXISTS (SELECT 1 FROM integration_co_owners c JOIN teams ct ON ct.id = c.team_id
                                                             WHERE c.integration_id = i.id AND ct.slug = $3))
             AND ($4::text IS NULL OR i.classification = $4)
             AND ($5::text IS NULL OR i.trigger = $5)
             AND ($6::text IS NULL OR i.lifecycle = $6)
             AND ($7::text IS NULL OR i.name ILIKE $7 OR i.title ILIKE $7)
             AND ($8::text IS NULL OR EXISTS (SELECT 1 FROM integration_ends e JOIN integration_systems sy ON sy.id = e.system_id
                                             JOIN entities en ON en.id = sy.entity_id
                                             WHERE e.integration_id = i.id AND en.kind = 'component' AND en.name = $8))
             AND ($9::text IS NULL OR EXISTS (SELECT 1 FROM integration_ends e JOIN integration_systems sy ON sy.id = e.system_id
                                             JOIN topology_partners p ON p.id IN (sy.hosted_by, sy.reached_via)
                                             WHERE e.integration_id = i.id AND p.name = $9))
           GROUP BY 1"#,
        q.platform.map(Platform::as_str),
        q.system,
        q.owner,
        q.classification.map(Classification::as_str),
        q.trigger.map(Trigger::as_str),
        q.lifecycle.map(IntegrationLifecycle::as_str),
        text,
        q.component,
        q.partner,
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut rows = rows;
    let next = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|r| r.name.clone())
    } else {
        None
    };
    let jobs: Vec<Uuid> = rows.iter().map(|r| r.job_id).collect();
    let by_job = days_of(&mut conn, &jobs, first_of_30(now), true).await?;
    let items = summaries(&mut conn, rows, &by_job, now).await?;
    let health_counts = Health::ALL
        .iter()
        .map(|h| HealthCount { health: *h, count: counts.iter().find(|c| c.state == h.as_str()).map_or(0, |c| c.n) })
        .collect();
    Ok(IntegrationPage { items, health_counts, next })
}

/// One integration with its health, service levels and 13 months of days.
#[tracing::instrument(name = "integrations.service.get", skip_all, fields(integration = name), err)]
pub async fn get(pool: &PgPool, principal: &Principal, name: &str, now: DateTime<Utc>) -> Result<IntegrationDetail, IntegrationError> {
    principal.require_read()?;
    let mut conn = pool.acquire().await?;
    let Some(i) = sqlx::query!(
        r#"SELECT i.id, i.name, i.title, i.description, i.platform, i.platform_ref, i.trigger, i.schedule, i.time_zone,
                  i.data_format, i.transport, i.auth, t.slug AS owner, i.classification, i.lifecycle, i.runbook_url,
                  i.on_call, i.tags, i.grace_mins, i.max_duration_mins, i.freshness_hours, i.success_target, i.status,
                  i.version, i.job_id, j.namespace AS job_namespace, j.name AS job_name,
                  coalesce(h.state, 'unknown') AS "health!", coalesce(h.reason, '') AS "health_reason!",
                  s.last_run_id AS "last_run_id?", s.last_state AS "last_state?", s.last_started_at AS "last_started_at?",
                  s.last_ended_at AS "last_ended_at?", s.last_error AS "last_error?", s.last_success_at AS "last_success_at?"
           FROM integrations i
           JOIN teams t ON t.id = i.owner_team_id
           JOIN integration_jobs j ON j.id = i.job_id
           LEFT JOIN integration_health h ON h.integration_id = i.id
           LEFT JOIN integration_job_stats s ON s.job_id = i.job_id
           WHERE i.name = $1"#,
        name
    )
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Err(Refusal::not_found(format!("The integration \"{name}\"")).into());
    };
    let co_owners = sqlx::query_scalar!(
        "SELECT t.slug FROM integration_co_owners c JOIN teams t ON t.id = c.team_id WHERE c.integration_id = $1 ORDER BY t.slug",
        i.id
    )
    .fetch_all(&mut *conn)
    .await?;
    let hours = sqlx::query!(
        r#"SELECT succeeded, warned, failed, aborted, durations AS "durations: Vec<Option<i32>>"
           FROM integration_rollup_hourly WHERE job_id = $1 AND at > $2::timestamptz - interval '24 hours'"#,
        i.job_id,
        now
    )
    .fetch_all(&mut *conn)
    .await?;
    let today = now.date_naive();
    let first = today - Duration::days(395);
    let days = days_of(&mut conn, &[i.job_id], first, false).await?.remove(&i.job_id).unwrap_or_default();
    let top_errors = sqlx::query!(
        r#"SELECT error_class, sum(runs)::bigint AS "runs!" FROM integration_rollup_errors
           WHERE job_id = $1 AND day > $2::date - 30 GROUP BY error_class ORDER BY 2 DESC, 1 LIMIT 5"#,
        i.job_id,
        today
    )
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|r| ErrorCount { error_class: r.error_class, runs: r.runs })
    .collect();
    let late_slots = sqlx::query!(
        "SELECT nominal, state, settled FROM integration_slots WHERE integration_id = $1 AND state <> 'on_time' ORDER BY nominal DESC LIMIT 20",
        i.id
    )
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|s| SlotView { nominal: s.nominal, state: SlotState::stored(&s.state), settled: s.settled })
    .collect();
    let pending_approval = crate::approvals::service::pending_about(&mut conn, super::INTEGRATION, &i.id.to_string())
        .await?
        .first()
        .map(|(id, _)| id.0);

    let mut day24 = RunCounts::default();
    let mut hist24 = vec![0i64; DURATION_BUCKETS.len() + 1];
    for h in &hours {
        day24.add(&counts_of(h.succeeded, h.warned, h.failed, h.aborted, 0, 0));
        add_histogram(&mut hist24, &histogram(&h.durations));
    }
    let (mut week, mut month) = (RunCounts::default(), RunCounts::default());
    let mut hist30 = vec![0i64; DURATION_BUCKETS.len() + 1];
    let (mut slots30, mut records_failed_30d) = (0i64, 0i64);
    for d in &days {
        if d.day > today - Duration::days(7) {
            week.add(&d.counts);
        }
        if d.day > today - Duration::days(30) {
            month.add(&d.counts);
            add_histogram(&mut hist30, &d.histogram);
            slots30 += d.slots;
            records_failed_30d += d.records_failed;
        }
    }
    let trigger = Trigger::stored(&i.trigger);
    let levels = ServiceLevels {
        grace_mins: i.grace_mins,
        max_duration_mins: i.max_duration_mins,
        freshness_hours: i.freshness_hours,
        success_target: i.success_target,
    };
    let expected = if trigger == Trigger::Schedule { slots30 } else { month.ended() };
    let budget = error_budget(levels.success_target, expected, month.failed + month.aborted + month.missed);
    let next_slots = match (&i.schedule, i.time_zone.parse::<chrono_tz::Tz>()) {
        (Some(s), Ok(tz)) if i.lifecycle != "deprecated" => {
            CronSchedule::parse(s).map(|s| s.slots(&tz, now, now + Duration::days(60), 5)).unwrap_or_default()
        }
        _ => Vec::new(),
    };
    let row = SummaryRow {
        id: i.id,
        name: i.name,
        title: i.title,
        platform: i.platform,
        trigger: i.trigger,
        schedule: i.schedule,
        owner: i.owner,
        classification: i.classification,
        lifecycle: i.lifecycle,
        status: i.status,
        job_id: i.job_id,
        health: i.health,
        health_reason: i.health_reason,
        last_run_id: i.last_run_id,
        last_state: i.last_state,
        last_started_at: i.last_started_at,
        last_ended_at: i.last_ended_at,
        last_error: i.last_error,
    };
    // the summary's 30 days are the last of the 13 months read above
    let history = fill_days(&days, first, today);
    let by_job = HashMap::from([(row.job_id, days)]);
    let summary = summaries(&mut conn, vec![row], &by_job, now).await?.pop().ok_or_else(|| Refusal::not_found("The integration"))?;
    Ok(IntegrationDetail {
        summary,
        description: i.description,
        platform_ref: i.platform_ref,
        time_zone: i.time_zone,
        data_format: DataFormat::stored(&i.data_format),
        transport: Transport::stored(&i.transport),
        auth: AuthMethod::stored(&i.auth),
        co_owners,
        runbook: (!i.runbook_url.is_empty()).then_some(i.runbook_url),
        on_call: i.on_call,
        tags: i.tags,
        levels,
        job_namespace: i.job_namespace,
        job_name: i.job_name,
        version: i.version,
        last_success_at: i.last_success_at,
        success_24h: day24.success_rate(),
        success_7d: week.success_rate(),
        success_30d: month.success_rate(),
        p95_24h_secs: histogram_quantile(&hist24, 0.95),
        p95_30d_secs: histogram_quantile(&hist30, 0.95),
        budget,
        records_failed_30d,
        top_errors,
        next_slots,
        late_slots,
        history,
        pending_approval,
        as_of: now,
    })
}

struct RunRow {
    run_id: Uuid,
    namespace: String,
    job_name: String,
    integration: Option<String>,
    state: String,
    raw_status: Option<String>,
    trigger: String,
    nominal_start: Option<DateTime<Utc>>,
    started_at: Option<DateTime<Utc>>,
    ended_at: Option<DateTime<Utc>>,
    records_in: Option<i64>,
    records_out: Option<i64>,
    records_failed: Option<i64>,
    error_class: Option<String>,
    error_message: Option<String>,
    retry_of: Option<Uuid>,
    parent_run_id: Option<Uuid>,
    runtime_node: Option<String>,
    event_count: i32,
    at: Option<DateTime<Utc>>,
}

fn run_view(r: RunRow) -> RunView {
    RunView {
        run_id: r.run_id,
        job_namespace: r.namespace,
        job_name: r.job_name,
        integration: r.integration,
        state: RunState::stored(&r.state),
        raw_status: r.raw_status,
        trigger: RunTrigger::stored(&r.trigger),
        nominal_start: r.nominal_start,
        started_at: r.started_at,
        ended_at: r.ended_at,
        duration_secs: r.started_at.zip(r.ended_at).map(|(s, e)| (e - s).num_milliseconds() as f64 / 1000.0),
        records_in: r.records_in,
        records_out: r.records_out,
        records_failed: r.records_failed,
        error_class: r.error_class,
        error_message: r.error_message,
        retry_of: r.retry_of,
        parent_run_id: r.parent_run_id,
        runtime_node: r.runtime_node,
        event_count: r.event_count,
    }
}

/// An integration's runs, newest first, one page at a time.
#[tracing::instrument(name = "integrations.service.list_runs", skip_all, fields(integration = name), err)]
pub async fn list_runs(pool: &PgPool, principal: &Principal, name: &str, q: &RunQuery) -> Result<RunPage, IntegrationError> {
    principal.require_read()?;
    let Some(job_id) = sqlx::query_scalar!("SELECT job_id FROM integrations WHERE name = $1", name).fetch_optional(pool).await? else {
        return Err(Refusal::not_found(format!("The integration \"{name}\"")).into());
    };
    let limit = i64::from(if q.limit == 0 { RunQuery::DEFAULT_LIMIT } else { q.limit });
    let (after_at, after_id) = q.after.map_or((None, None), |(t, id)| (Some(t), Some(id)));
    // A run sits (`at`) at most a day after its first event arrived, and its partition is that
    // month (migration 19): no run of a month before last month sits after last month's first
    // day plus a day. So the page is read from this month's and last month's partitions, and
    // the older ones are read only when those do not hold a full page past that bound (an
    // integration with few runs, a filter, a later page). A busy integration's first page reads
    // two partitions whatever the history holds.
    let this_month = Utc::now().date_naive().with_day(1).unwrap_or_default();
    let last_month = this_month.checked_sub_months(chrono::Months::new(1)).unwrap_or(this_month);
    let older_sit_before = last_month.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc() + Duration::hours(24);
    // Postgres would plan this anew for each request (a custom plan: its filters are optional)
    // unless told not to, and at 10 M runs planning costs more than running; the generic plan is
    // the same plan, its partitions pruned as it starts.
    let mut tx = pool.begin().await?;
    crate::integrations::repo::plan_once(&mut tx, true).await?;
    let mut rows = sqlx::query_as!(
        RunRow,
        r#"WITH recent AS MATERIALIZED (
               SELECT r.run_id, r.job_id, r.state, r.raw_status, r.trigger, r.nominal_start, r.started_at, r.ended_at,
                      r.records_in, r.records_out, r.records_failed, r.error_class, r.error_message, r.retry_of,
                      r.parent_run_id, r.runtime_node, r.event_count, r.at
               FROM integration_runs r
               WHERE r.job_id = $1 AND r.month >= $9
                 AND ($3::text IS NULL OR r.state = $3)
                 AND ($4::timestamptz IS NULL OR r.at >= $4)
                 AND ($5::timestamptz IS NULL OR r.at < $5)
                 AND ($6::timestamptz IS NULL OR (r.at, r.run_id) < ($6, $7::uuid))
               ORDER BY r.at DESC, r.run_id DESC
               LIMIT $8
           ), older AS (
               SELECT r.run_id, r.job_id, r.state, r.raw_status, r.trigger, r.nominal_start, r.started_at, r.ended_at,
                      r.records_in, r.records_out, r.records_failed, r.error_class, r.error_message, r.retry_of,
                      r.parent_run_id, r.runtime_node, r.event_count, r.at
               FROM integration_runs r
               WHERE r.job_id = $1 AND r.month < $9
                 AND ($3::text IS NULL OR r.state = $3)
                 AND ($4::timestamptz IS NULL OR r.at >= $4)
                 AND ($5::timestamptz IS NULL OR r.at < $5)
                 AND ($6::timestamptz IS NULL OR (r.at, r.run_id) < ($6, $7::uuid))
                 -- a one-time filter: the older partitions are not opened when it is false
                 AND (SELECT count(*) < $8 OR min(at) < $10 FROM recent)
               ORDER BY r.at DESC, r.run_id DESC
               LIMIT $8
           )
           SELECT r.run_id AS "run_id!", j.namespace, j.name AS job_name, $2::text AS integration, r.state AS "state!",
                  r.raw_status, r.trigger AS "trigger!", r.nominal_start, r.started_at, r.ended_at, r.records_in,
                  r.records_out, r.records_failed, r.error_class, r.error_message, r.retry_of, r.parent_run_id,
                  r.runtime_node, r.event_count AS "event_count!", r.at
           FROM (SELECT * FROM recent UNION ALL SELECT * FROM older) r JOIN integration_jobs j ON j.id = r.job_id
           ORDER BY r.at DESC, r.run_id DESC
           LIMIT $8"#,
        job_id,
        name,
        q.state.map(RunState::as_str),
        q.since,
        q.until,
        after_at,
        after_id,
        limit + 1,
        last_month,
        older_sit_before,
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let next = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().and_then(|r| r.at.map(|at| RunQuery::cursor(at, r.run_id)))
    } else {
        None
    };
    Ok(RunPage { items: rows.into_iter().map(run_view).collect(), next })
}

/// One run with its events as they came, its facets and its retry chain.
#[tracing::instrument(name = "integrations.service.get_run", skip_all, fields(run_id = %run_id), err)]
pub async fn get_run(pool: &PgPool, principal: &Principal, run_id: Uuid) -> Result<RunDetail, IntegrationError> {
    principal.require_read()?;
    let mut conn = pool.acquire().await?;
    let select = |id: Uuid| {
        sqlx::query!(
            r#"SELECT r.run_id, j.namespace, j.name AS job_name, i.name AS "integration?", r.state, r.raw_status, r.trigger,
                      r.nominal_start, r.started_at, r.ended_at, r.records_in, r.records_out, r.records_failed, r.error_class,
                      r.error_message, r.retry_of, r.parent_run_id, r.runtime_node, r.event_count, r.at, r.facets::text AS "facets!"
               FROM integration_runs r JOIN integration_jobs j ON j.id = r.job_id LEFT JOIN integrations i ON i.job_id = r.job_id
               WHERE r.run_id = $1"#,
            id
        )
    };
    let Some(r) = select(run_id).fetch_optional(&mut *conn).await? else {
        return Err(Refusal::not_found("That run").into());
    };
    let facets = r.facets.clone();
    macro_rules! view {
        ($r:expr) => {
            run_view(RunRow {
                run_id: $r.run_id,
                namespace: $r.namespace,
                job_name: $r.job_name,
                integration: $r.integration,
                state: $r.state,
                raw_status: $r.raw_status,
                trigger: $r.trigger,
                nominal_start: $r.nominal_start,
                started_at: $r.started_at,
                ended_at: $r.ended_at,
                records_in: $r.records_in,
                records_out: $r.records_out,
                records_failed: $r.records_failed,
                error_class: $r.error_class,
                error_message: $r.error_message,
                retry_of: $r.retry_of,
                parent_run_id: $r.parent_run_id,
                runtime_node: $r.runtime_node,
                event_count: $r.event_count,
                at: $r.at,
            })
        };
    }
    let run = view!(r);
    // the chain: what this run retried (back to the first attempt), and what retried it
    let mut retries = Vec::new();
    let mut back = run.retry_of;
    while let (Some(id), true) = (back, retries.len() < 10) {
        let Some(prev) = select(id).fetch_optional(&mut *conn).await? else { break };
        let v = view!(prev);
        back = v.retry_of;
        retries.push(v);
    }
    let later = sqlx::query_scalar!("SELECT run_id FROM integration_runs WHERE retry_of = $1 LIMIT 10", run_id).fetch_all(&mut *conn).await?;
    for id in later {
        if let Some(next) = select(id).fetch_optional(&mut *conn).await? {
            retries.push(view!(next));
        }
    }
    let events = sqlx::query!(
        r#"SELECT event_type, event_time, received_at, body::text AS "body!" FROM integration_events
           WHERE run_id = $1 ORDER BY event_time, received_at LIMIT 500"#,
        run_id
    )
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|e| EventView { event_type: e.event_type, event_time: e.event_time, received_at: e.received_at, body: e.body })
    .collect();
    Ok(RunDetail { run, facets, events, retries })
}

struct SystemRow {
    id: Uuid,
    name: String,
    title: String,
    description: String,
    kind: String,
    vendor: String,
    environment: String,
    external: bool,
    owner: String,
    classification: String,
    contacts: Vec<String>,
    component: Option<String>,
    hosted_by: Option<String>,
    reached_via: Option<String>,
    integrations_in: i64,
    integrations_out: i64,
}

fn system_view(s: SystemRow) -> SystemView {
    SystemView {
        id: SystemId(s.id),
        name: s.name,
        title: s.title,
        description: s.description,
        kind: SystemKind::stored(&s.kind),
        vendor: s.vendor,
        environment: SystemEnvironment::stored(&s.environment),
        external: s.external,
        owner: s.owner,
        classification: Classification::parse(&s.classification).unwrap_or(Classification::Internal),
        contacts: s.contacts,
        component: s.component,
        hosted_by: s.hosted_by,
        reached_via: s.reached_via,
        integrations_in: s.integrations_in,
        integrations_out: s.integrations_out,
    }
}

/// Every system (there are tens to hundreds), by name, with how many integrations touch it.
#[tracing::instrument(name = "integrations.service.list_systems", skip_all, err)]
pub async fn list_systems(pool: &PgPool, principal: &Principal) -> Result<Vec<SystemView>, IntegrationError> {
    principal.require_read()?;
    systems(pool, None).await
}

async fn systems(pool: &PgPool, name: Option<&str>) -> Result<Vec<SystemView>, IntegrationError> {
    let rows = sqlx::query_as!(
        SystemRow,
        r#"SELECT s.id, s.name, s.title, s.description, s.kind, s.vendor, s.environment, s.external, t.slug AS owner,
                  s.classification, s.contacts, e.name AS "component?", hp.name AS "hosted_by?", rp.name AS "reached_via?",
                  (SELECT count(*) FROM integration_ends x WHERE x.system_id = s.id AND x.direction = 'target') AS "integrations_in!",
                  (SELECT count(*) FROM integration_ends x WHERE x.system_id = s.id AND x.direction = 'source') AS "integrations_out!"
           FROM integration_systems s JOIN teams t ON t.id = s.owner_team_id LEFT JOIN entities e ON e.id = s.entity_id
                LEFT JOIN topology_partners hp ON hp.id = s.hosted_by LEFT JOIN topology_partners rp ON rp.id = s.reached_via
           WHERE ($1::text IS NULL OR s.name = $1)
           ORDER BY s.name LIMIT 2000"#,
        name
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(system_view).collect())
}

/// One system and the integrations into and out of it.
#[tracing::instrument(name = "integrations.service.get_system", skip_all, fields(system = name), err)]
pub async fn get_system(pool: &PgPool, principal: &Principal, name: &str, now: DateTime<Utc>) -> Result<SystemDetail, IntegrationError> {
    principal.require_read()?;
    let Some(system) = systems(pool, Some(name)).await?.pop() else {
        return Err(Refusal::not_found(format!("The system \"{name}\"")).into());
    };
    let q = IntegrationQuery { system: Some(name.to_owned()), limit: IntegrationQuery::MAX_LIMIT, ..IntegrationQuery::default() };
    let all = list(pool, principal, &q, now).await?.items;
    let (incoming, outgoing) = all.into_iter().partition(|i| i.targets.iter().any(|t| t.name == name));
    Ok(SystemDetail { system, incoming, outgoing })
}

/// The map of every integration: systems as nodes, one edge per source → target of each.
#[tracing::instrument(name = "integrations.service.system_map", skip_all, err)]
pub async fn system_map(pool: &PgPool, principal: &Principal) -> Result<SystemMap, IntegrationError> {
    principal.require_read()?;
    let systems = sqlx::query!("SELECT name, title, kind, external FROM integration_systems ORDER BY name LIMIT 2000")
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(|s| SystemRef { name: s.name, title: s.title, kind: SystemKind::stored(&s.kind), external: s.external })
        .collect();
    let flows = sqlx::query!(
        r#"SELECT i.name, src.name AS source, dst.name AS target, i.classification = 'pci' AS "pci!"
           FROM integrations i
           JOIN integration_ends a ON a.integration_id = i.id AND a.direction = 'source'
           JOIN integration_systems src ON src.id = a.system_id
           JOIN integration_ends b ON b.integration_id = i.id AND b.direction = 'target'
           JOIN integration_systems dst ON dst.id = b.system_id
           ORDER BY i.name, src.name, dst.name LIMIT 20000"#
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|f| Flow { integration: f.name, source: f.source, target: f.target, pci: f.pci })
    .collect();
    Ok(SystemMap { systems, flows })
}

/// Jobs that sent events but match no integration, the most recently heard from first.
#[tracing::instrument(name = "integrations.service.unregistered_jobs", skip_all, err)]
pub async fn unregistered_jobs(pool: &PgPool, principal: &Principal) -> Result<Vec<UnregisteredJob>, IntegrationError> {
    principal.require_read()?;
    let rows = sqlx::query!(
        r#"SELECT j.namespace, j.name, j.first_seen, coalesce(s.runs, 0) AS "runs!", s.last_state AS "last_state?",
                  s.last_event_at AS "last_event_at?"
           FROM integration_jobs j
           LEFT JOIN integrations i ON i.job_id = j.id
           LEFT JOIN integration_job_stats s ON s.job_id = j.id
           WHERE i.id IS NULL
           ORDER BY s.last_event_at DESC NULLS LAST, j.namespace, j.name
           LIMIT 500"#
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| UnregisteredJob {
            namespace: r.namespace,
            name: r.name,
            first_seen: r.first_seen,
            runs: r.runs,
            last_state: r.last_state.as_deref().map(RunState::stored),
            last_event_at: r.last_event_at,
        })
        .collect())
}

/// The map of the integrations drawn: systems as boxes, an edge per source → target (dashed when
/// it carries PCI data). With `focus`, only that system and its neighbours.
#[tracing::instrument(name = "integrations.service.map_drawing", skip_all, err)]
pub async fn map_drawing(pool: &PgPool, principal: &Principal, focus: Option<&str>) -> Result<crate::graph::LaidOut, IntegrationError> {
    use crate::graph::layout::{layout, EdgeSpec, NodeSpec};
    let map = system_map(pool, principal).await?;
    let flows: Vec<&Flow> = map.flows.iter().filter(|f| focus.is_none_or(|n| f.source == n || f.target == n)).collect();
    let mut names: Vec<&str> = match focus {
        Some(n) => std::iter::once(n).chain(flows.iter().flat_map(|f| [f.source.as_str(), f.target.as_str()])).collect(),
        None => map.systems.iter().map(|s| s.name.as_str()).collect(),
    };
    names.sort_unstable();
    names.dedup();
    // a drawing stays readable up to ~150 boxes: beyond, the busiest systems are kept
    let truncated = names.len() > 150;
    names.truncate(150);
    let index: HashMap<&str, usize> = names.iter().enumerate().map(|(i, n)| (*n, i)).collect();
    let nodes = names
        .iter()
        .map(|n| {
            let title = map.systems.iter().find(|s| s.name == *n).map_or_else(|| (*n).to_owned(), |s| s.title.clone());
            NodeSpec::one(title.clone(), title, format!("/integrations/systems/{n}"), i32::from(Some(*n) != focus))
        })
        .collect();
    let mut seen = std::collections::HashSet::new();
    let edges = flows
        .iter()
        .filter_map(|f| {
            let (from, to) = (*index.get(f.source.as_str())?, *index.get(f.target.as_str())?);
            seen.insert((from, to, f.pci)).then(|| EdgeSpec { from, to, relation: f.integration.clone(), dashed: f.pci })
        })
        .collect();
    Ok(layout(nodes, edges, truncated))
}

/// The critical integrations (`critical_because`) whose scheduled runs overlap `[from, until)`,
/// each run from its slot (in the integration's time zone) for the longest a run may take, at
/// most `max` runs each; with `service`, only those with an end at that catalog component. The
/// caller has checked that its principal may read.
#[tracing::instrument(level = "debug", name = "integrations.service.critical_runs", skip_all, err)]
pub async fn critical_runs(conn: &mut PgConnection, service: Option<Uuid>, from: DateTime<Utc>, until: DateTime<Utc>, max: usize) -> Result<Vec<CriticalRuns>, IntegrationError> {
    let rows = crate::integrations::repo::scheduled(conn, service).await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            let why = critical_because(&r.classification, r.tier, r.tier_of.as_deref())?;
            let schedule = CronSchedule::parse(&r.schedule).ok()?;
            let zone: chrono_tz::Tz = r.time_zone.parse().unwrap_or(chrono_tz::UTC);
            let length = Duration::minutes(i64::from(r.max_duration_mins));
            // a run that began up to `length` before `from` is still under way at it
            let runs: Vec<(DateTime<Utc>, DateTime<Utc>)> = schedule
                .slots(&zone, from - length - Duration::seconds(1), until, max + 1)
                .into_iter()
                .map(|start| (start, start + length))
                .filter(|(start, end)| *end > from && *start < until)
                .take(max)
                .collect();
            (!runs.is_empty()).then_some(CriticalRuns {
                name: r.name,
                title: r.title,
                owner: r.owner,
                why,
                services: r.services,
                partners: r.partners,
                schedule: r.schedule,
                time_zone: r.time_zone,
                runs,
            })
        })
        .collect())
}

/// How the integrations' audit rows rebuild an integration or a system: each registration and
/// edit records the whole of it.
const INTEGRATION_REPLAY: crate::audit::service::Replay = crate::audit::service::Replay {
    whole: &["integration.registered", "integration.requested", "integration.updated"],
    ends: &["integration.withdrawn"],
    key: crate::audit::service::same_key,
    hidden: &["reason"],
};

const SYSTEM_REPLAY: crate::audit::service::Replay = crate::audit::service::Replay {
    whole: &["integration_system.created", "integration_system.updated"],
    ends: &[],
    key: crate::audit::service::same_key,
    hidden: &[],
};

/// An integration (`system` false) or a system as it was at `at`, from the audit log, beside
/// how it is now (anyone who reads).
#[tracing::instrument(name = "integrations.service.as_of", skip(pool, principal), fields(user = %principal.username), err)]
pub async fn as_of(pool: &PgPool, principal: &Principal, system: bool, name: &str, at: DateTime<Utc>) -> Result<crate::audit::types::AsOf, IntegrationError> {
    use crate::audit::service::SubjectKind;
    principal.require_read()?;
    let mut conn = pool.acquire().await?;
    let (id, kind, replay, what) = if system {
        let id = sqlx::query_scalar!("SELECT id FROM integration_systems WHERE name = $1", name).fetch_optional(&mut *conn).await?;
        (id, SubjectKind::IntegrationSystem, &SYSTEM_REPLAY, "system")
    } else {
        let id = sqlx::query_scalar!("SELECT id FROM integrations WHERE name = $1", name).fetch_optional(&mut *conn).await?;
        (id, SubjectKind::Integration, &INTEGRATION_REPLAY, "integration")
    };
    let id = id.ok_or_else(|| Refusal::not_found(format!("The {what} \"{}\"", name.chars().take(100).collect::<String>())))?;
    Ok(crate::audit::service::as_of(&mut conn, kind, &id.to_string(), at, replay).await?)
}
