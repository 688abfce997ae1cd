//! Reading an OpenLineage `RunEvent` (any 1.x or 2.x schema): what the run store needs from it,
//! each refusal naming the field by its JSON pointer.
//!
//! The platform's own words travel in a custom run facet, `switchyard_run` (see the README):
//! `status` (the platform's raw status, e.g. Boomi's `COMPLETE_WARN`), `state` (one of the run
//! states, where the event type alone does not say it), `trigger`, `test`, `retryOf`, `node`,
//! `recordsIn`, `recordsOut`, `recordsFailed` and `errorClass`.
use super::types::{RunState, RunTrigger};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// The most events one batch may carry.
pub const MAX_BATCH: usize = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    Start,
    Running,
    Complete,
    Abort,
    Fail,
    Other,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Start => "START",
            EventType::Running => "RUNNING",
            EventType::Complete => "COMPLETE",
            EventType::Abort => "ABORT",
            EventType::Fail => "FAIL",
            EventType::Other => "OTHER",
        }
    }

    pub fn is_terminal(self) -> bool {
        matches!(self, EventType::Complete | EventType::Abort | EventType::Fail)
    }
}

/// A refused event: the JSON pointer of the field, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{pointer}: {message}")]
pub struct Refused {
    pub pointer: String,
    pub message: String,
}

fn refuse(pointer: &str, message: impl Into<String>) -> Refused {
    Refused { pointer: pointer.into(), message: message.into() }
}

/// What the run store takes from one event.
#[derive(Debug, Clone, PartialEq)]
pub struct LineageEvent {
    pub event_type: EventType,
    pub event_time: DateTime<Utc>,
    pub run_id: Uuid,
    pub namespace: String,
    pub name: String,
    /// The run's facets, to merge into the run's.
    pub facets: Map<String, Value>,
    pub nominal_start: Option<DateTime<Utc>>,
    pub nominal_end: Option<DateTime<Utc>>,
    pub parent_run_id: Option<Uuid>,
    pub error_message: Option<String>,
    pub error_class: Option<String>,
    pub raw_status: Option<String>,
    /// The state the event puts a run in (the event type, refined by `switchyard_run.state`).
    pub state: Option<RunState>,
    pub trigger: Option<RunTrigger>,
    pub retry_of: Option<Uuid>,
    pub node: Option<String>,
    pub records_in: Option<i64>,
    pub records_out: Option<i64>,
    pub records_failed: Option<i64>,
    /// SHA-256 of the event's canonical JSON (keys sorted): a retried event has the same.
    pub digest: Vec<u8>,
}

fn text<'a>(v: &'a Value, pointer: &str, max: usize) -> Result<Option<&'a str>, Refused> {
    match v.pointer(pointer) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.chars().count() > max => Err(refuse(pointer, format!("longer than {max} characters"))),
        Some(Value::String(s)) if s.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) => {
            Err(refuse(pointer, "contains a control character"))
        }
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(_) => Err(refuse(pointer, "must be a string")),
    }
}

fn required<'a>(v: &'a Value, pointer: &str, max: usize) -> Result<&'a str, Refused> {
    match text(v, pointer, max)? {
        Some(s) if !s.trim().is_empty() => Ok(s),
        _ => Err(refuse(pointer, "is required")),
    }
}

/// An ISO 8601 time: with an offset, or without one (read as UTC).
fn time(v: &Value, pointer: &str) -> Result<Option<DateTime<Utc>>, Refused> {
    let Some(raw) = text(v, pointer, 100)? else { return Ok(None) };
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Ok(Some(t.with_timezone(&Utc)));
    }
    NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S%.f")
        .map(|t| Some(t.and_utc()))
        .map_err(|_| refuse(pointer, format!("\"{raw}\" is not an ISO 8601 time (e.g. 2026-12-05T06:00:00Z)")))
}

fn uuid(v: &Value, pointer: &str) -> Result<Option<Uuid>, Refused> {
    text(v, pointer, 64)?
        .map(|s| Uuid::parse_str(s).map_err(|_| refuse(pointer, format!("\"{s}\" is not a UUID"))))
        .transpose()
}

fn count(v: &Value, pointer: &str) -> Result<Option<i64>, Refused> {
    match v.pointer(pointer) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n.as_i64().filter(|n| *n >= 0).map(Some).ok_or_else(|| refuse(pointer, "must be a whole number, 0 or more")),
        Some(_) => Err(refuse(pointer, "must be a number")),
    }
}

/// Sums a statistics facet's `rowCount` over the datasets of `list` (`inputs` or `outputs`).
fn row_counts(v: &Value, list: &str, facets: &str, facet: &str) -> Result<Option<i64>, Refused> {
    let Some(datasets) = v.get(list) else { return Ok(None) };
    let Some(datasets) = datasets.as_array() else { return Err(refuse(&format!("/{list}"), "must be an array")) };
    let mut total: Option<i64> = None;
    for i in 0..datasets.len() {
        if let Some(n) = count(v, &format!("/{list}/{i}/{facets}/{facet}/rowCount"))? {
            total = Some(total.unwrap_or(0).saturating_add(n));
        }
    }
    Ok(total)
}

/// Reads one event. `value` is the event's JSON.
pub fn parse(value: &Value) -> Result<LineageEvent, Refused> {
    let Some(object) = value.as_object() else { return Err(refuse("", "an event must be a JSON object")) };
    let schema = required(value, "/schemaURL", 2000)?;
    let known = ["https://openlineage.io/spec/1-", "https://openlineage.io/spec/2-"];
    if !known.iter().any(|p| schema.starts_with(p)) {
        return Err(refuse("/schemaURL", format!("\"{schema}\" is not an OpenLineage 1.x or 2.x schema")));
    }
    if !object.contains_key("run") {
        return Err(refuse("/run", "is required: only RunEvents are taken here (a DatasetEvent or JobEvent has no run)"));
    }
    required(value, "/producer", 2000)?;
    let event_type = match text(value, "/eventType", 16)? {
        None => EventType::Other,
        Some(t) => match t.to_ascii_uppercase().as_str() {
            "START" => EventType::Start,
            "RUNNING" => EventType::Running,
            "COMPLETE" => EventType::Complete,
            "ABORT" => EventType::Abort,
            "FAIL" => EventType::Fail,
            "OTHER" => EventType::Other,
            _ => return Err(refuse("/eventType", format!("\"{t}\" is not an event type: use START, RUNNING, COMPLETE, ABORT, FAIL or OTHER"))),
        },
    };
    let event_time = time(value, "/eventTime")?.ok_or_else(|| refuse("/eventTime", "is required"))?;
    let run_id = uuid(value, "/run/runId")?.ok_or_else(|| refuse("/run/runId", "is required"))?;
    let namespace = required(value, "/job/namespace", 200)?.trim().to_owned();
    let name = required(value, "/job/name", 300)?.trim().to_owned();
    let facets = match value.pointer("/run/facets") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => return Err(refuse("/run/facets", "must be an object")),
    };
    const OWN: &str = "/run/facets/switchyard_run";
    if value.pointer(OWN).is_some_and(|f| !f.is_object()) {
        return Err(refuse(OWN, "must be an object"));
    }
    let wanted = text(value, &format!("{OWN}/state"), 32)?
        .map(|s| RunState::parse(s).map_err(|m| refuse(&format!("{OWN}/state"), m)))
        .transpose()?;
    let state = match (event_type, wanted) {
        (EventType::Complete, Some(s @ (RunState::Succeeded | RunState::SucceededWithWarnings))) => Some(s),
        (EventType::Complete, None) => Some(RunState::Succeeded),
        (EventType::Abort, Some(s @ (RunState::Aborted | RunState::Discarded))) => Some(s),
        (EventType::Abort, None) => Some(RunState::Aborted),
        (EventType::Fail, Some(RunState::Failed) | None) => Some(RunState::Failed),
        (EventType::Start | EventType::Running | EventType::Other, Some(s @ (RunState::Queued | RunState::Running))) => Some(s),
        (EventType::Start | EventType::Running, None) => Some(RunState::Running),
        (EventType::Other, None) => None,
        (t, Some(s)) => {
            return Err(refuse(&format!("{OWN}/state"), format!("a {} event cannot put a run in the state {}", t.as_str(), s.as_str())))
        }
    };
    let test = match value.pointer(&format!("{OWN}/test")) {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(refuse(&format!("{OWN}/test"), "must be true or false")),
    };
    let trigger = text(value, &format!("{OWN}/trigger"), 32)?
        .map(|s| RunTrigger::parse(s).map_err(|m| refuse(&format!("{OWN}/trigger"), m)))
        .transpose()?;
    let trigger = if test { Some(RunTrigger::Test) } else { trigger };
    let records_in = match count(value, &format!("{OWN}/recordsIn"))? {
        Some(n) => Some(n),
        None => row_counts(value, "inputs", "inputFacets", "inputStatistics")?,
    };
    let records_out = match count(value, &format!("{OWN}/recordsOut"))? {
        Some(n) => Some(n),
        None => row_counts(value, "outputs", "outputFacets", "outputStatistics")?,
    };
    let mut canonical = Sha256::new();
    canonical.update(serde_json::to_vec(value).unwrap_or_default());
    Ok(LineageEvent {
        event_type,
        event_time,
        run_id,
        namespace,
        name,
        nominal_start: time(value, "/run/facets/nominalTime/nominalStartTime")?,
        nominal_end: time(value, "/run/facets/nominalTime/nominalEndTime")?,
        parent_run_id: uuid(value, "/run/facets/parent/run/runId")?,
        error_message: text(value, "/run/facets/errorMessage/message", 100_000)?.map(|m| m.chars().take(4000).collect()),
        error_class: text(value, &format!("{OWN}/errorClass"), 200)?.map(str::to_owned),
        raw_status: text(value, &format!("{OWN}/status"), 100)?.map(str::to_owned),
        state,
        trigger,
        retry_of: uuid(value, &format!("{OWN}/retryOf"))?,
        node: text(value, &format!("{OWN}/node"), 200)?.map(str::to_owned),
        records_in,
        records_out,
        records_failed: count(value, &format!("{OWN}/recordsFailed"))?,
        facets,
        digest: canonical.finalize().to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event() -> Value {
        json!({
            "eventType": "COMPLETE",
            "eventTime": "2026-12-05T06:00:05.123456+00:00",
            "run": { "runId": "0193a1e2-7c3b-7d4e-8f00-000000000001", "facets": {
                "nominalTime": { "nominalStartTime": "2026-12-05T06:00:00Z" },
                "switchyard_run": { "status": "COMPLETE_WARN", "state": "succeeded_with_warnings", "recordsFailed": 2 }
            }},
            "job": { "namespace": "boomi", "name": "bank-statements" },
            "outputs": [ { "namespace": "s3", "name": "x", "outputFacets": { "outputStatistics": { "rowCount": 40 } } },
                         { "namespace": "s3", "name": "y", "outputFacets": { "outputStatistics": { "rowCount": 2 } } } ],
            "producer": "https://example.com/poller",
            "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
        })
    }

    #[test]
    fn an_event_reads_with_its_platform_words() {
        let e = parse(&event()).expect("parses");
        assert_eq!(e.event_type, EventType::Complete);
        assert_eq!(e.state, Some(RunState::SucceededWithWarnings));
        assert_eq!(e.raw_status.as_deref(), Some("COMPLETE_WARN"));
        assert_eq!((e.records_out, e.records_failed), (Some(42), Some(2)));
        assert_eq!(e.nominal_start.map(|t| t.to_rfc3339()), Some("2026-12-05T06:00:00+00:00".into()));
        assert_eq!(e.namespace, "boomi");
    }

    #[test]
    fn the_same_event_has_the_same_digest_whatever_its_key_order() {
        let a = parse(&event()).expect("parses");
        let text = r#"{"schemaURL":"https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent","producer":"https://example.com/poller","job":{"name":"bank-statements","namespace":"boomi"},"run":{"runId":"0193a1e2-7c3b-7d4e-8f00-000000000001","facets":{"switchyard_run":{"recordsFailed":2,"state":"succeeded_with_warnings","status":"COMPLETE_WARN"},"nominalTime":{"nominalStartTime":"2026-12-05T06:00:00Z"}}},"eventTime":"2026-12-05T06:00:05.123456+00:00","eventType":"COMPLETE","outputs":[{"namespace":"s3","name":"x","outputFacets":{"outputStatistics":{"rowCount":40}}},{"namespace":"s3","name":"y","outputFacets":{"outputStatistics":{"rowCount":2}}}]}"#;
        let b = parse(&serde_json::from_str(text).expect("json")).expect("parses");
        assert_eq!(a.digest, b.digest);
        let mut other = event();
        other["eventTime"] = json!("2026-12-05T06:00:06Z");
        assert_ne!(parse(&other).expect("parses").digest, a.digest);
    }

    #[test]
    fn a_bad_event_names_its_field() {
        let cases: [(&str, Value, &str); 6] = [
            ("/run/runId", json!(null), "is required"),
            ("/run/runId", json!("not-a-uuid"), "is not a UUID"),
            ("/eventTime", json!("yesterday"), "is not an ISO 8601 time"),
            ("/eventType", json!("DONE"), "is not an event type"),
            ("/job/name", json!(""), "is required"),
            ("/run/facets/switchyard_run/state", json!("failed"), "cannot put a run in the state failed"),
        ];
        for (pointer, bad, says) in cases {
            let mut e = event();
            *e.pointer_mut(pointer).expect("the field exists") = bad;
            let refused = parse(&e).expect_err(pointer);
            assert_eq!(refused.pointer, pointer);
            assert!(refused.message.contains(says), "{pointer}: {}", refused.message);
        }
        assert_eq!(parse(&json!([1])).expect_err("not an object").pointer, "");
        let mut dataset_event = event();
        dataset_event.as_object_mut().expect("object").remove("run");
        assert_eq!(parse(&dataset_event).expect_err("no run").pointer, "/run");
    }
}
