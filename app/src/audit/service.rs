//! Writing and verifying the audit chain.
use super::repo::{self, Row};
use super::types::{AsOf, AuditEntry, AuditPage, AuditQuery, ChainCheck, ChangeMark, FieldThen, shown};
pub use super::types::SubjectKind;
use crate::context::RequestMeta;
use crate::error::{FieldProblem, Refusal};
use crate::iam::principal::Principal;
use chrono::{DateTime, SubsecRound, Utc};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, PgPool};

/// Who made a change: a person (through a session or a token), or Switchyard itself.
#[derive(Debug, Clone, Copy)]
pub enum Actor<'a> {
    Person(&'a Principal),
    System,
}

/// A change to record.
#[derive(Debug)]
pub struct Change<'a> {
    pub action: &'a str,
    pub subject_kind: SubjectKind,
    pub subject_id: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

const GENESIS: [u8; 32] = [0; 32];

/// A row's content as canonical JSON (keys sorted, timestamps in microseconds, as stored):
/// what its hash covers after the previous row's hash.
pub fn canonical(row: &Row) -> String {
    json!({
        "at": row.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "actor_id": row.actor_id,
        "actor_name": row.actor_name,
        "action": row.action,
        "subject_kind": row.subject_kind,
        "subject_id": row.subject_id,
        "before": row.before,
        "after": row.after,
        "request_id": row.request_id,
        "source_ip": row.source_ip,
    })
    .to_string()
}

/// The hash a row must carry: SHA-256 over the previous hash and the row's canonical JSON.
pub fn row_hash(prev_hash: &[u8], row: &Row) -> Vec<u8> {
    let mut hasher = Sha256::new();
    hasher.update(prev_hash);
    hasher.update(canonical(row).as_bytes());
    hasher.finalize().to_vec()
}

/// A change's audit row with its canonical content, ready to be appended: by [`record`], or by a
/// statement that makes the change and calls `audit_append` itself, so that change and row are
/// one statement (a deploy kick-off: `deploys::repo::insert`).
pub struct Entry {
    pub row: Row,
    pub content: String,
}

/// The audit row `actor` makes for `change`.
pub fn entry(actor: Actor<'_>, change: Change<'_>, meta: &RequestMeta) -> Entry {
    let (actor_id, actor_name) = match actor {
        Actor::Person(p) => (Some(p.user_id.0), p.username.clone()),
        Actor::System => (None, "switchyard".to_owned()),
    };
    let row = Row {
        id: 0,
        // Postgres keeps microseconds: hash exactly what will be stored.
        at: Utc::now().trunc_subsecs(6),
        actor_id,
        actor_name,
        action: change.action.to_owned(),
        subject_kind: change.subject_kind.as_str().to_owned(),
        subject_id: change.subject_id,
        before: change.before,
        after: change.after,
        request_id: meta.request_id.clone(),
        source_ip: meta.ip.clone(),
        prev_hash: Vec::new(),
        hash: Vec::new(),
    };
    let content = canonical(&row);
    Entry { row, content }
}

/// Appends one row for `change` to the chain. Call it inside the transaction that makes the
/// change, so both commit or neither does. The database links and hashes it onto the newest
/// row of the connection's stripe (`row_hash` is the same computation, for checking).
#[tracing::instrument(level = "debug", name = "audit.service.record", skip_all)]
pub async fn record(
    conn: &mut PgConnection,
    actor: Actor<'_>,
    change: Change<'_>,
    meta: &RequestMeta,
) -> Result<i64, sqlx::Error> {
    let Entry { row, content } = entry(actor, change, meta);
    let id = repo::append(conn, &row, &content).await?;
    crate::telemetry::audit_rows(1);
    Ok(id)
}

/// Appends one row for each change, in order, in one round trip (an import's rows): the rows
/// and links `record` would make one at a time.
#[tracing::instrument(level = "debug", name = "audit.service.record_many", skip_all)]
pub async fn record_many(
    conn: &mut PgConnection,
    actor: Actor<'_>,
    changes: Vec<Change<'_>>,
    meta: &RequestMeta,
) -> Result<Vec<i64>, sqlx::Error> {
    if changes.is_empty() {
        return Ok(Vec::new());
    }
    let entries: Vec<Entry> = changes.into_iter().map(|c| entry(actor, c, meta)).collect();
    let ids = repo::append_many(conn, &entries).await?;
    crate::telemetry::audit_rows(ids.len());
    Ok(ids)
}

/// A checkpoint's hash: SHA-256 over the previous checkpoint's hash and the heads' canonical JSON.
fn checkpoint_hash(prev: &[u8], heads: &Value) -> Vec<u8> {
    let mut hasher = Sha256::new();
    hasher.update(prev);
    hasher.update(heads.to_string().as_bytes());
    hasher.finalize().to_vec()
}

/// Records the newest row of every stripe as a checkpoint, chained onto the last one, unless
/// nothing was appended since. Returns the new checkpoint's id.
#[tracing::instrument(name = "audit.service.checkpoint", skip(pool), err)]
pub async fn checkpoint(pool: &PgPool) -> Result<Option<i64>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let last = repo::last_checkpoint_locked(&mut tx).await?;
    let heads: Vec<Value> = repo::stripe_heads(&mut tx)
        .await?
        .into_iter()
        .map(|(chain, id, hash)| json!({ "chain": chain, "id": id, "hash": hex::encode(hash) }))
        .collect();
    let heads = Value::Array(heads);
    if last.as_ref().is_some_and(|c| c.heads == heads) || heads.as_array().is_some_and(|h| h.is_empty()) {
        return Ok(None);
    }
    let prev = last.map(|c| c.hash).unwrap_or_else(|| GENESIS.to_vec());
    let hash = checkpoint_hash(&prev, &heads);
    let id = repo::insert_checkpoint(&mut tx, &heads, &prev, &hash).await?;
    tx.commit().await?;
    Ok(Some(id))
}

/// Checks the checkpoints: each chained onto the one before, and every head it names still in
/// its stripe with the hash it had (a stripe cut short, or removed, loses the head).
#[tracing::instrument(level = "debug", name = "audit.service.verify_checkpoints", skip_all)]
async fn verify_checkpoints(conn: &mut PgConnection) -> Result<Option<ChainCheck>, sqlx::Error> {
    let mut prev = GENESIS.to_vec();
    for c in repo::checkpoints(&mut *conn).await? {
        if c.prev_hash != prev || checkpoint_hash(&c.prev_hash, &c.heads) != c.hash {
            return Ok(Some(ChainCheck::Broken { row_id: 0, reason: format!("checkpoint {} does not match its content or the one before it", c.id) }));
        }
        for head in c.heads.as_array().into_iter().flatten() {
            let (Some(id), Some(chain), Some(hash)) = (head["id"].as_i64(), head["chain"].as_i64(), head["hash"].as_str()) else {
                return Ok(Some(ChainCheck::Broken { row_id: 0, reason: format!("checkpoint {} holds an unreadable head", c.id) }));
            };
            match repo::row_link(&mut *conn, id).await? {
                Some((stripe, found)) if i64::from(stripe) == chain && hex::encode(&found) == hash => {}
                Some(_) => {
                    return Ok(Some(ChainCheck::Broken { row_id: id, reason: format!("it differs from what checkpoint {} recorded", c.id) }))
                }
                None => {
                    return Ok(Some(ChainCheck::Broken {
                        row_id: id,
                        reason: format!("it is missing: checkpoint {} recorded it as the newest row of stripe {chain}, so the stripe was cut short or removed", c.id),
                    }))
                }
            }
        }
        prev = c.hash;
    }
    Ok(None)
}

/// Walks every stripe of the chain, each from the zero hash, and reports the first row that does
/// not match; then checks the checkpoints (which find rows cut off a stripe's end).
#[tracing::instrument(name = "audit.service.verify", skip(pool), err)]
pub async fn verify(pool: &PgPool) -> Result<ChainCheck, sqlx::Error> {
    let mut conn = pool.acquire().await?;
    let mut expected_prev = GENESIS.to_vec();
    let (mut last, mut rows) = ((-1_i16, 0_i64), 0_i64);
    loop {
        let page = repo::chain_page(&mut conn, last, 1000).await?;
        if page.is_empty() {
            return Ok(verify_checkpoints(&mut conn).await?.unwrap_or(ChainCheck::Intact { rows }));
        }
        for repo::Link { chain, row } in page {
            if chain != last.0 {
                expected_prev = GENESIS.to_vec();
            }
            if row.prev_hash != expected_prev {
                return Ok(ChainCheck::Broken {
                    row_id: row.id,
                    reason: "its link to the previous row does not match that row's hash".into(),
                });
            }
            if row_hash(&row.prev_hash, &row) != row.hash {
                return Ok(ChainCheck::Broken {
                    row_id: row.id,
                    reason: "its content does not match its hash".into(),
                });
            }
            expected_prev = row.hash;
            last = (chain, row.id);
            rows += 1;
        }
    }
}

pub fn to_entry(row: Row) -> AuditEntry {
    AuditEntry {
        id: row.id,
        at: row.at,
        actor_id: row.actor_id,
        actor_name: row.actor_name,
        action: row.action,
        subject_kind: row.subject_kind,
        subject_id: row.subject_id,
        before: row.before.map(|v| v.to_string()),
        after: row.after.map(|v| v.to_string()),
        request_id: row.request_id,
        source_ip: row.source_ip,
    }
}

/// The history of one subject, newest first. Where a change came from (source IP, request id)
/// is for admins: others see who did what, when.
#[tracing::instrument(name = "audit.service.history", skip(pool, principal), fields(user = %principal.username), err)]
pub async fn history(
    pool: &PgPool,
    principal: &Principal,
    subject_kind: &str,
    subject_id: &str,
    limit: i64,
) -> Result<Vec<AuditEntry>, AuditError> {
    if SubjectKind::parse(subject_kind).is_some_and(SubjectKind::public_history) {
        principal.require_read()?;
    } else {
        principal.require_admin()?;
    }
    let mut conn = pool.acquire().await?;
    Ok(shown_to(principal, repo::of_subject(&mut conn, subject_kind, subject_id, limit).await?))
}

/// Rows as `principal` reads them: where a change came from (request id, source IP) is for
/// admins.
fn shown_to(principal: &Principal, rows: Vec<Row>) -> Vec<AuditEntry> {
    let admin = principal.is_admin();
    rows.into_iter()
        .map(to_entry)
        .map(|e| if admin { e } else { AuditEntry { request_id: String::new(), source_ip: String::new(), ..e } })
        .collect()
}

/// The history of several subjects together, newest first: a partner and what hangs off it, say.
/// Each `(kind, id)`; a subject whose history is not for everyone needs an admin. Where a change
/// came from is for admins.
#[tracing::instrument(name = "audit.service.history_of", skip(pool, principal, subjects), fields(user = %principal.username, subjects = subjects.len()), err)]
pub async fn history_of(pool: &PgPool, principal: &Principal, subjects: &[(String, String)], limit: i64) -> Result<Vec<AuditEntry>, AuditError> {
    principal.require_read()?;
    if subjects.iter().any(|(kind, _)| !SubjectKind::parse(kind).is_some_and(SubjectKind::public_history)) {
        principal.require_admin()?;
    }
    let (kinds, ids): (Vec<String>, Vec<String>) = subjects.iter().cloned().unzip();
    let mut conn = pool.acquire().await?;
    Ok(shown_to(principal, repo::subjects(&mut conn, &kinds, &ids, limit).await?))
}

/// Rows on a page of the audit log (each read as its changes, field by field).
pub const PAGE_SIZE: i64 = 50;

/// Admins search the log, newest first, a page at a time.
#[tracing::instrument(name = "audit.service.search", skip(pool, principal), fields(user = %principal.username), err)]
pub async fn search(
    pool: &PgPool,
    principal: &Principal,
    query: &AuditQuery,
    limit: i64,
) -> Result<AuditPage, AuditError> {
    principal.require_admin()?;
    let from = AuditQuery::parse_day("from", &query.from, false).map_err(invalid)?;
    let until = AuditQuery::parse_day("until", &query.until, true).map_err(invalid)?;
    let mut conn = pool.acquire().await?;
    let filter = repo::Filter {
        actor: AuditQuery::field(&query.actor),
        action: AuditQuery::field(&query.action),
        subject_kind: AuditQuery::field(&query.subject_kind),
        subject_id: AuditQuery::field(&query.subject_id),
        from,
        until,
        before_id: query.before_id,
        limit: limit + 1,
    };
    let mut rows = repo::search(&mut conn, &filter).await?;
    let more = i64::try_from(rows.len()).unwrap_or(i64::MAX) > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(0));
    let next_before_id = if more { rows.last().map(|r| r.id) } else { None };
    let (kinds, ids): (Vec<String>, Vec<String>) = rows.iter().map(|r| (r.subject_kind.clone(), r.subject_id.clone())).unzip();
    let labels = repo::labels(&mut conn, &kinds, &ids).await?;
    Ok(AuditPage { entries: rows.into_iter().map(to_entry).collect(), next_before_id, labels })
}

/// Admins check the chain.
#[tracing::instrument(name = "audit.service.verify_as", skip(pool, principal), fields(user = %principal.username), err)]
pub async fn verify_as(pool: &PgPool, principal: &Principal) -> Result<ChainCheck, AuditError> {
    principal.require_admin()?;
    Ok(verify(pool).await?)
}

/// What went wrong reading the audit log.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error("database: {0}")]
    Database(sqlx::Error),
}

/// Every database error is counted as this domain's (`switchyard_db_errors_total`).
impl From<sqlx::Error> for AuditError {
    fn from(e: sqlx::Error) -> Self {
        crate::telemetry::db_error("audit", &e);
        AuditError::Database(e)
    }
}

fn invalid((field, message): (String, String)) -> AuditError {
    AuditError::Refused(Refusal::Invalid(FieldProblem { field, message }))
}

/// How a domain's audit rows rebuild one of its subjects: the actions whose `after` holds the
/// whole of it, those that end it, and how the keys of a partial change (an edit that records
/// only the fields it changed) name the whole's fields.
pub struct Replay {
    pub whole: &'static [&'static str],
    pub ends: &'static [&'static str],
    pub key: fn(&str) -> &str,
    /// Fields of the whole that are not the subject's (an edit's reason, say).
    pub hidden: &'static [&'static str],
}

/// For a domain whose partial changes name the whole's fields as they are.
pub fn same_key(field: &str) -> &str {
    field
}

/// A subject's state after these changes, oldest first: `None` when it did not exist. A whole
/// replaces the state; an end removes it; a partial change sets the fields it names (a field
/// the whole does not have is not the subject's: a status, say, and is left out).
pub fn replay<'a>(steps: impl IntoIterator<Item = (&'a str, Option<&'a Value>)>, r: &Replay) -> Option<Value> {
    let mut state: Option<Value> = None;
    for (action, after) in steps {
        if r.ends.contains(&action) {
            state = None;
        } else if r.whole.contains(&action) {
            state = after.cloned().filter(Value::is_object);
        } else if let (Some(Value::Object(now)), Some(Value::Object(change))) = (state.as_mut(), after) {
            for (k, v) in change {
                let key = (r.key)(k);
                if let Some(slot) = now.get_mut(key) {
                    *slot = v.clone();
                }
            }
        }
    }
    state
}

/// The most changes of one subject a replay reads.
const MAX_STEPS: i64 = 10_000;

/// A subject as its audit rows say it was at `at`, beside how they say it is now. The caller
/// (the subject's domain) has checked the reader may see it.
#[tracing::instrument(level = "debug", name = "audit.service.as_of", skip(conn, r), err)]
pub async fn as_of(conn: &mut PgConnection, kind: SubjectKind, id: &str, at: DateTime<Utc>, r: &Replay) -> Result<AsOf, sqlx::Error> {
    let steps = repo::steps(conn, kind.as_str(), id, MAX_STEPS).await?;
    let upto = steps.partition_point(|s| s.at <= at);
    let then = replay(steps[..upto].iter().map(|s| (s.action.as_str(), s.after.as_ref())), r);
    let now = replay(steps.iter().map(|s| (s.action.as_str(), s.after.as_ref())), r);
    let fields_of = |v: &Option<Value>| -> Vec<(String, String)> {
        match v {
            Some(Value::Object(m)) => m.iter().filter(|(k, _)| !r.hidden.contains(&k.as_str())).map(|(k, v)| (k.clone(), shown(v))).collect(),
            _ => Vec::new(),
        }
    };
    let (was, is) = (fields_of(&then), fields_of(&now));
    let mut names: Vec<String> = was.iter().chain(&is).map(|(k, _)| k.clone()).collect();
    names.sort();
    names.dedup();
    let value = |list: &[(String, String)], name: &str| list.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default();
    let fields = names
        .into_iter()
        .map(|name| {
            let (then, now) = (value(&was, &name), value(&is, &name));
            FieldThen { changed: then != now, name, then, now }
        })
        .collect();
    Ok(AsOf {
        at,
        existed: then.is_some(),
        last_change: steps[..upto].last().map(|s| ChangeMark { at: s.at, actor: s.actor_name.clone(), action: s.action.clone() }),
        changes_since: i64::try_from(steps.len() - upto).unwrap_or(i64::MAX),
        fields,
    })
}

/// A moment as the API (RFC 3339) or a browser's date-and-time field (`YYYY-MM-DDTHH:MM`, UTC)
/// sends it, not in the future.
pub fn parse_moment(field: &str, raw: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, Refusal> {
    let raw = raw.trim();
    let wrong = || Refusal::invalid(field, format!("\"{}\" is not a time: use RFC 3339, or YYYY-MM-DDTHH:MM in UTC", raw.chars().take(40).collect::<String>()));
    if raw.is_empty() {
        return Err(Refusal::invalid(field, "a time is required (RFC 3339, or YYYY-MM-DDTHH:MM in UTC)"));
    }
    if raw.len() > 40 {
        return Err(wrong());
    }
    let at = DateTime::parse_from_rfc3339(raw)
        .map(|t| t.with_timezone(&Utc))
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M").map(|t| t.and_utc()))
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S").map(|t| t.and_utc()))
        .map_err(|_| wrong())?;
    if at > now {
        return Err(Refusal::invalid(field, "that moment is still to come: ask about the past"));
    }
    Ok(at)
}

#[cfg(test)]
mod replay_tests {
    use super::*;

    fn key(k: &str) -> &str {
        if k == "on-call" { "oncall" } else { k }
    }

    const R: Replay = Replay { whole: &["created"], ends: &["deleted"], key, hidden: &[] };

    #[test]
    fn a_whole_then_partial_changes_then_an_end_replay_in_order() {
        let created = json!({ "title": "Ledger", "oncall": "a", "owners": ["ledger"] });
        let edit = json!({ "on-call": "b", "status": "active" });
        let steps = [("created", Some(&created)), ("updated", Some(&edit))];
        assert_eq!(replay(steps, &R), Some(json!({ "title": "Ledger", "oncall": "b", "owners": ["ledger"] })));
        assert_eq!(replay(steps[..1].iter().copied(), &R), Some(created.clone()));
        assert_eq!(replay([("updated", Some(&edit))], &R), None, "a change before it existed rebuilds nothing");
        assert_eq!(replay([("created", Some(&created)), ("deleted", None)], &R), None);
    }

    #[test]
    fn values_read_as_text() {
        assert_eq!(shown(&json!(["a", "b"])), "a, b");
        assert_eq!(shown(&json!([["dependsOn", "component:default/x"]])), "dependsOn component:default/x");
        assert_eq!(shown(&json!({ "k": "v" })), "k=v");
        assert_eq!(shown(&json!([["depends_on", { "kind": "component", "namespace": "default", "name": "ledger" }]])), "depends_on component:default/ledger");
        assert_eq!(shown(&Value::Null), "");
        assert_eq!(shown(&json!(3)), "3");
    }

    #[test]
    fn a_moment_is_rfc3339_or_a_browsers_field_and_not_to_come() {
        let now = DateTime::parse_from_rfc3339("2026-12-07T12:00:00Z").map(|t| t.with_timezone(&Utc)).ok().unwrap_or_default();
        assert_eq!(parse_moment("as_of", "2026-12-01T06:30", now).ok().map(|t| t.to_rfc3339()), Some("2026-12-01T06:30:00+00:00".into()));
        assert!(parse_moment("as_of", "2026-12-01T06:30:00+01:00", now).is_ok());
        for bad in ["", "yesterday", "2027-01-01T00:00"] {
            assert!(matches!(parse_moment("as_of", bad, now), Err(Refusal::Invalid(p)) if p.field == "as_of"), "{bad}");
        }
    }
}
