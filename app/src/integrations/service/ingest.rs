//! Taking run events in. Each event is stored once (a retry is recognised by its digest) and
//! applied to its run under a lock of that run: the first terminal event decides the run, a
//! late START never reopens it, facets merge. A run's end is counted into the roll-ups, and its
//! integration's health recomputed, in the same transaction — so a 2xx means all of it is
//! committed.
use super::{health, IntegrationError};
use crate::batch::{Batcher, Call};
use crate::error::Refusal;
use crate::iam::principal::{Principal, Scope, Via};
use crate::integrations::lineage::{self, EventType, LineageEvent, Refused};
use crate::integrations::repo::{self, Ended, NewEvent, RunRow};
use crate::integrations::types::{duration_bucket, RunState, RunTrigger};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde_json::Value;
use sqlx::{PgConnection, PgPool};
use std::collections::{BTreeSet, HashMap, HashSet};
use uuid::Uuid;

/// What became of one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    Created,
    /// The same event was stored before; nothing changed.
    Duplicate,
}

/// Pushing events: a token (never a browser session) with the `ingest` scope.
fn may_ingest(p: &Principal) -> Result<Option<Uuid>, Refusal> {
    match &p.via {
        Via::Token { token_id, .. } if p.require_scope(Scope::Ingest).is_ok() => Ok(Some(*token_id)),
        Via::Token { .. } => Err(Refusal::NotAllowed("run events need a token with the ingest scope".into())),
        Via::Session { .. } => Err(Refusal::NotAllowed("run events are sent with a team's service token (ingest scope), not from a browser session".into())),
    }
}

fn month_of(t: DateTime<Utc>) -> NaiveDate {
    NaiveDate::from_ymd_opt(t.year(), t.month(), 1).unwrap_or_default()
}

/// Stores one event. `value` is the event's JSON, `raw` its text as received. Events that
/// arrive together are written together ([`Writer`]); the answer comes once its group committed.
#[tracing::instrument(name = "integrations.service.ingest", skip_all, fields(run_id, job), err)]
pub async fn ingest(writer: &Writer, principal: &Principal, value: &Value, raw: &str, now: DateTime<Utc>) -> Result<Stored, IntegrationError> {
    let token = may_ingest(principal)?;
    let event = lineage::parse(value).map_err(IntegrationError::BadEvent)?;
    let span = tracing::Span::current();
    span.record("run_id", tracing::field::display(event.run_id));
    span.record("job", tracing::field::display(format_args!("{}/{}", event.namespace, event.name)));
    let stored = writer.write(Pending { event, raw: raw.to_owned(), token, now }).await?;
    count(stored);
    Ok(stored)
}

/// One event waiting for its group's commit.
pub struct Pending {
    event: LineageEvent,
    raw: String,
    token: Option<Uuid>,
    now: DateTime<Utc>,
}

/// The most events written in one group.
pub const GROUP: usize = 64;
/// How many groups are written at once: the size of the writer's own pool.
pub const WRITERS: u32 = 2;

type Write = Call<Pending, Result<Stored, IntegrationError>>;

/// **Group commit** of single events, as the deploy queue writes kick-offs: events that arrive
/// while a group is being written go together into the next one ([`apply_batch`], one
/// transaction), at most [`GROUP`] at once and [`WRITERS`] groups at a time, on connections of
/// the writer's own. Each caller is answered after its group committed: as durable as on its
/// own. With no load a group is one event and waits for nothing. A group that fails is written
/// again event by event, so a bad one fails alone.
#[derive(Clone)]
pub struct Writer {
    writes: Batcher<Pending, Result<Stored, IntegrationError>>,
}

impl Writer {
    /// Starts the writer on `writers` (a pool of [`WRITERS`] connections); it ends when the last
    /// handle is dropped.
    pub fn start(writers: PgPool) -> Self {
        Writer { writes: Batcher::start("lineage writer", WRITERS as usize, GROUP, move |group| write_group(writers.clone(), group)) }
    }

    async fn write(&self, pending: Pending) -> Result<Stored, IntegrationError> {
        self.writes.call(pending).await.map_err(|_| IntegrationError::Database(sqlx::Error::PoolClosed))?
    }
}

async fn write_group(pool: PgPool, group: Vec<Write>) {
    metrics::histogram!("switchyard_integration_event_group_size").record(group.len() as f64);
    // runs locked in one order; a run's events keep the order they came in
    let mut order: Vec<usize> = (0..group.len()).collect();
    order.sort_by_key(|i| group[*i].input.event.run_id);
    let events: Vec<(&LineageEvent, &str, Option<Uuid>)> = order.iter().map(|i| pending_event(&group[*i].input)).collect();
    match write_events(&pool, &events, group[0].input.now).await {
        Ok(stored) => {
            let mut answers: Vec<Option<Stored>> = vec![None; group.len()];
            for (i, s) in order.into_iter().zip(stored) {
                answers[i] = Some(s);
            }
            for (call, answer) in group.into_iter().zip(answers) {
                call.reply(answer.ok_or(IntegrationError::Database(sqlx::Error::RowNotFound)));
            }
        }
        Err(e) if group.len() == 1 => {
            if let Some(call) = group.into_iter().next() {
                call.reply(Err(e));
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, events = group.len(), "a group of run events failed; writing them one by one");
            for call in group {
                let written = write_events(&pool, &[pending_event(&call.input)], call.input.now).await;
                call.reply(written.and_then(|s| s.into_iter().next().ok_or(IntegrationError::Database(sqlx::Error::RowNotFound))));
            }
        }
    }
}

fn pending_event(p: &Pending) -> (&LineageEvent, &str, Option<Uuid>) {
    (&p.event, p.raw.as_str(), p.token)
}

/// Applies events (sorted by run) in one transaction of their own.
async fn write_events(pool: &PgPool, events: &[(&LineageEvent, &str, Option<Uuid>)], now: DateTime<Utc>) -> Result<Vec<Stored>, IntegrationError> {
    let mut tx = pool.begin().await?;
    let stored = apply_batch(&mut tx, events, now).await?;
    tx.commit().await?;
    Ok(stored)
}

fn count(stored: Stored) {
    let result = match stored {
        Stored::Created => "stored",
        Stored::Duplicate => "duplicate",
    };
    metrics::counter!("switchyard_integration_events_total", "result" => result).increment(1);
}

/// What a batch did: how many events were stored or were duplicates, and each refused one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchOutcome {
    pub stored: usize,
    pub duplicates: usize,
    /// (index in the batch, the field's JSON pointer, why)
    pub failed: Vec<(usize, Refused)>,
}

/// Stores a batch: every event that reads is stored (in one transaction), every one that does
/// not is listed with its index.
#[tracing::instrument(name = "integrations.service.ingest_batch", skip_all, fields(events = events.len()), err)]
pub async fn ingest_batch(pool: &PgPool, principal: &Principal, events: &[(Value, &str)], now: DateTime<Utc>) -> Result<BatchOutcome, IntegrationError> {
    let token = may_ingest(principal)?;
    store_batch(pool, token, events, now).await
}

/// Stores events Switchyard itself replays (the demo company's history): as a batch, with no token.
pub async fn replay(pool: &PgPool, events: &[(Value, &str)], now: DateTime<Utc>) -> Result<BatchOutcome, IntegrationError> {
    store_batch(pool, None, events, now).await
}

async fn store_batch(pool: &PgPool, token: Option<Uuid>, events: &[(Value, &str)], now: DateTime<Utc>) -> Result<BatchOutcome, IntegrationError> {
    let mut outcome = BatchOutcome::default();
    let mut good: Vec<(LineageEvent, &str)> = Vec::with_capacity(events.len());
    for (i, (value, raw)) in events.iter().enumerate() {
        match lineage::parse(value) {
            Ok(e) => good.push((e, raw)),
            Err(r) => outcome.failed.push((i, r)),
        }
    }
    // runs are locked in one order by every batch (no two wait on each other); a run's events
    // keep the order they came in
    good.sort_by_key(|(e, _)| e.run_id);
    if !good.is_empty() {
        let events: Vec<(&LineageEvent, &str, Option<Uuid>)> = good.iter().map(|(e, raw)| (e, *raw, token)).collect();
        let stored = write_events(pool, &events, now).await?;
        outcome.stored = stored.iter().filter(|s| **s == Stored::Created).count();
        outcome.duplicates = stored.len() - outcome.stored;
    }
    metrics::counter!("switchyard_integration_events_total", "result" => "stored").increment(outcome.stored as u64);
    metrics::counter!("switchyard_integration_events_total", "result" => "duplicate").increment(outcome.duplicates as u64);
    metrics::counter!("switchyard_integration_events_total", "result" => "refused").increment(outcome.failed.len() as u64);
    Ok(outcome)
}

/// Records one refused event (the API answers before reaching a service).
pub fn count_refused() {
    metrics::counter!("switchyard_integration_events_total", "result" => "refused").increment(1);
}

/// An event as stored, in its run's month and with its run's job.
fn new_event<'a>(e: &'a LineageEvent, run: &RunRow, raw: &'a str, token: Option<Uuid>, now: DateTime<Utc>) -> NewEvent<'a> {
    NewEvent {
        month: run.month,
        run_id: e.run_id,
        digest: &e.digest,
        job_id: run.job_id,
        event_type: e.event_type.as_str(),
        event_time: e.event_time,
        received_at: now,
        token_id: token,
        body: raw,
    }
}

/// A run's end, as counted into the roll-ups.
struct End {
    job_id: Uuid,
    run_id: Uuid,
    at: DateTime<Utc>,
    state: String,
    test: bool,
    started_at: Option<DateTime<Utc>>,
    records_failed: i64,
    error_class: Option<String>,
    error: Option<String>,
}

/// Applies events (sorted by run), set-wise, one batch or one group of single events: the runs locked,
/// looked up and written, and the events inserted, a statement each; the ends and durations
/// counted, and each touched integration's health recomputed once. Answers each event's fate.
async fn apply_batch(conn: &mut PgConnection, events: &[(&LineageEvent, &str, Option<Uuid>)], now: DateTime<Utc>) -> Result<Vec<Stored>, IntegrationError> {
    let mut run_ids: Vec<Uuid> = events.iter().map(|(e, _, _)| e.run_id).collect();
    run_ids.dedup();
    // the set-wise statements, planned once per connection (their arrays differ every time);
    // the roll-ups and health below, one job at a time, as Postgres chooses
    repo::plan_once(&mut *conn, true).await?;
    repo::lock_runs(&mut *conn, &run_ids).await?;
    let mut runs: HashMap<Uuid, RunRow> = repo::find_runs(&mut *conn, &run_ids).await?.into_iter().map(|r| (r.run_id, r)).collect();
    // only a stored run has events a retry could match
    let known: Vec<&(&LineageEvent, &str, Option<Uuid>)> = events.iter().filter(|(e, _, _)| runs.contains_key(&e.run_id)).collect();
    let seen: HashSet<(Uuid, Vec<u8>)> = if known.is_empty() {
        HashSet::new()
    } else {
        repo::events_seen(
            &mut *conn,
            &known.iter().map(|(e, _, _)| e.run_id).collect::<Vec<_>>(),
            &known.iter().map(|(e, _, _)| e.digest.clone()).collect::<Vec<_>>(),
        )
        .await?
        .into_iter()
        .collect()
    };
    let mut wanted: Vec<(String, String)> =
        events.iter().filter(|(e, _, _)| !runs.contains_key(&e.run_id)).map(|(e, _, _)| (e.namespace.clone(), e.name.clone())).collect();
    wanted.sort();
    wanted.dedup();
    let jobs: HashMap<(String, String), Uuid> =
        if wanted.is_empty() { HashMap::new() } else { repo::job_ids(&mut *conn, &wanted).await?.into_iter().collect() };
    let mut fates = Vec::with_capacity(events.len());
    let mut in_batch: HashSet<(Uuid, &[u8])> = HashSet::new();
    let mut new_events = Vec::with_capacity(events.len());
    let mut touched: Vec<Uuid> = Vec::new();
    let mut new_run_jobs: BTreeSet<Uuid> = BTreeSet::new();
    let mut ends: Vec<End> = Vec::new();
    let mut durations: Vec<(Uuid, DateTime<Utc>, i32)> = Vec::new();
    let mut recompute: BTreeSet<Uuid> = BTreeSet::new();
    for (e, raw, token) in events {
        if seen.contains(&(e.run_id, e.digest.clone())) || !in_batch.insert((e.run_id, e.digest.as_slice())) {
            fates.push(Stored::Duplicate);
            continue;
        }
        let before = runs.remove(&e.run_id);
        let job_id = before.as_ref().map_or_else(|| jobs.get(&(e.namespace.clone(), e.name.clone())).copied().unwrap_or_default(), |r| r.job_id);
        if before.is_none() {
            new_run_jobs.insert(job_id);
        }
        let (run, effects) = merge(before, e, job_id, now);
        new_events.push(new_event(e, &run, raw, *token, now));
        let test = run.trigger == RunTrigger::Test.as_str();
        if effects.ended {
            ends.push(End {
                job_id,
                run_id: run.run_id,
                at: run.ended_at.unwrap_or(e.event_time),
                state: run.state.clone(),
                test,
                started_at: run.started_at,
                records_failed: run.records_failed.unwrap_or(0),
                error_class: run.error_class.clone().or_else(|| (run.state == "failed").then(|| "unclassified".to_owned())),
                error: run.error_message.clone(),
            });
        }
        if let (true, Some(start), Some(end)) = (effects.timed, run.started_at, run.ended_at) {
            let secs = (end - start).num_milliseconds().max(0) as f64 / 1000.0;
            durations.push((job_id, end, duration_bucket(secs) as i32));
        }
        if (effects.ended || effects.timed) && !test {
            recompute.insert(job_id);
        }
        if !touched.contains(&run.run_id) {
            touched.push(run.run_id);
        }
        runs.insert(run.run_id, run);
        fates.push(Stored::Created);
    }
    if new_events.is_empty() {
        repo::plan_once(&mut *conn, false).await?;
        return Ok(fates);
    }
    repo::insert_events(&mut *conn, &new_events).await?;
    let written: Vec<&RunRow> = touched.iter().filter_map(|id| runs.get(id)).collect();
    repo::save_runs(&mut *conn, &written).await?;
    if !new_run_jobs.is_empty() {
        repo::note_runs(&mut *conn, &new_run_jobs.into_iter().collect::<Vec<_>>(), now).await?;
    }
    repo::plan_once(&mut *conn, false).await?;
    // a job's roll-ups are written in job order, so two groups never wait on each other
    ends.sort_by_key(|e| (e.job_id, e.run_id));
    durations.sort_by_key(|d| d.0);
    for end in &ends {
        let ended = Ended {
            job_id: end.job_id,
            run_id: end.run_id,
            at: end.at,
            state: &end.state,
            test: end.test,
            started_at: end.started_at,
            records_failed: end.records_failed,
            error_class: end.error_class.as_deref(),
            error: end.error.as_deref(),
        };
        repo::count_end(&mut *conn, &ended).await?;
        metrics::counter!("switchyard_integration_runs_ended_total", "state" => RunState::stored(&end.state).as_str()).increment(1);
    }
    for (job_id, end, bucket) in durations {
        repo::count_duration(&mut *conn, job_id, end, bucket).await?;
    }
    for job_id in recompute {
        if let Some(integration) = repo::integration_of_job(&mut *conn, job_id).await? {
            health::recompute(&mut *conn, integration, now).await?;
        }
    }
    Ok(fates)
}

/// What applying an event did besides changing the run.
#[derive(Debug, Default, PartialEq, Eq)]
struct Effects {
    /// The run ended with this event: count it.
    ended: bool,
    /// The run's duration became known with this event: count it.
    timed: bool,
}

/// The run after one more event.
fn merge(stored: Option<RunRow>, e: &LineageEvent, job_id: Uuid, now: DateTime<Utc>) -> (RunRow, Effects) {
    let mut r = stored.unwrap_or_else(|| RunRow {
        month: month_of(now),
        run_id: e.run_id,
        job_id,
        state: RunState::Queued.as_str().into(),
        raw_status: None,
        trigger: e
            .trigger
            .unwrap_or(if e.retry_of.is_some() {
                RunTrigger::Retry
            } else if e.parent_run_id.is_some() {
                RunTrigger::SubProcess
            } else if e.nominal_start.is_some() {
                RunTrigger::Scheduled
            } else {
                RunTrigger::Manual
            })
            .as_str()
            .into(),
        nominal_start: None,
        nominal_end: None,
        started_at: None,
        ended_at: None,
        records_in: None,
        records_out: None,
        records_failed: None,
        error_class: None,
        error_message: None,
        retry_of: None,
        parent_run_id: None,
        runtime_node: None,
        facets: Value::Object(Default::default()),
        decided_by: None,
        counted: false,
        duration_counted: false,
        event_count: 0,
        first_received: now,
        updated_at: now,
    });
    let decided = r.decided_by.is_some();
    if !decided {
        if let Some(state) = e.state {
            r.state = state.as_str().into();
            if state.is_terminal() {
                r.decided_by = Some(e.event_type.as_str().into());
                r.ended_at = Some(e.event_time);
            }
        }
        if e.raw_status.is_some() {
            r.raw_status.clone_from(&e.raw_status);
        }
        if let Some(t) = e.trigger {
            r.trigger = t.as_str().into();
        }
    } else if r.raw_status.is_none() {
        r.raw_status.clone_from(&e.raw_status);
    }
    if e.event_type == EventType::Start {
        r.started_at = Some(r.started_at.map_or(e.event_time, |s| s.min(e.event_time)));
    }
    r.nominal_start = r.nominal_start.or(e.nominal_start);
    r.nominal_end = r.nominal_end.or(e.nominal_end);
    r.parent_run_id = r.parent_run_id.or(e.parent_run_id);
    r.retry_of = r.retry_of.or(e.retry_of);
    r.runtime_node = r.runtime_node.take().or_else(|| e.node.clone());
    r.error_message = r.error_message.take().or_else(|| e.error_message.clone());
    r.error_class = r.error_class.take().or_else(|| e.error_class.clone());
    // the deciding event's counts are the final ones; a late event fills only what is missing
    let later = |mine: Option<i64>, theirs: Option<i64>| if decided { mine.or(theirs) } else { theirs.or(mine) };
    r.records_in = later(r.records_in, e.records_in);
    r.records_out = later(r.records_out, e.records_out);
    r.records_failed = later(r.records_failed, e.records_failed);
    if let Value::Object(facets) = &mut r.facets {
        for (name, facet) in &e.facets {
            if !decided || !facets.contains_key(name) {
                facets.insert(name.clone(), facet.clone());
            }
        }
    }
    r.event_count += 1;
    r.updated_at = now;
    let mut effects = Effects::default();
    if r.decided_by.is_some() && !r.counted {
        r.counted = true;
        effects.ended = true;
    }
    if r.counted && !r.duration_counted && r.started_at.is_some() && r.ended_at.is_some() {
        r.duration_counted = true;
        effects.timed = true;
    }
    (r, effects)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(kind: &str, at: &str, extra: Value) -> LineageEvent {
        let mut v = json!({
            "eventType": kind, "eventTime": at,
            "run": { "runId": "0193a1e2-7c3b-7d4e-8f00-000000000001", "facets": {} },
            "job": { "namespace": "workato", "name": "coupa-invoices" },
            "producer": "https://example.com", "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
        });
        if let (Some(facets), Value::Object(extra)) = (v.pointer_mut("/run/facets").and_then(Value::as_object_mut), extra) {
            facets.extend(extra);
        }
        lineage::parse(&v).expect("a valid event")
    }

    fn now() -> DateTime<Utc> {
        "2026-12-05T07:00:00Z".parse().expect("a time")
    }

    #[test]
    fn the_first_terminal_event_decides_and_a_late_start_does_not_reopen() {
        let job = Uuid::nil();
        let fail = event("FAIL", "2026-12-05T06:05:00Z", json!({ "errorMessage": { "message": "HTTP 401", "programmingLanguage": "x" } }));
        let (run, fx) = merge(None, &fail, job, now());
        assert_eq!((run.state.as_str(), fx), ("failed", Effects { ended: true, timed: false }));
        let complete = event("COMPLETE", "2026-12-05T06:06:00Z", json!({}));
        let (run, fx) = merge(Some(run), &complete, job, now());
        assert_eq!((run.state.as_str(), run.decided_by.as_deref(), fx), ("failed", Some("FAIL"), Effects::default()));
        let start = event("START", "2026-12-05T06:00:00Z", json!({ "errorMessage": { "message": "other", "programmingLanguage": "x" } }));
        let (run, fx) = merge(Some(run), &start, job, now());
        assert_eq!(run.state, "failed", "a late START never reopens a run");
        assert_eq!(fx, Effects { ended: false, timed: true }, "its start time makes the duration known");
        assert_eq!(run.error_message.as_deref(), Some("HTTP 401"));
        assert_eq!(run.facets["errorMessage"]["message"], "HTTP 401", "a late event's facet does not replace the deciding one's");
        assert_eq!(run.event_count, 3);
    }
}
