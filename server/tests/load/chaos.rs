//! The fault run: two Switchyard server processes, each with a deploy worker, on one Postgres
//! cluster of the run's own, under mixed traffic — deploy kick-offs with idempotency keys (a
//! client retries, with the same key, every request whose answer it did not get), OpenLineage
//! run events with the same retries, catalog reads, and an admin approving the production
//! deploys — while the server processes are killed (SIGKILL; once SIGTERM, a graceful stop) and
//! Postgres stops with `pg_ctl stop -m immediate` and starts again. Then it checks that nothing
//! acknowledged was lost or doubled, prints a table, and fails on any violation.
//!
//! `make test` runs the short version (thirty seconds: one kill, one Postgres restart);
//! `make chaos` runs the whole one (five minutes: a kill every 20 s, a Postgres restart every
//! 45 s, one graceful stop), which is `#[ignore]`d here.
use crate::harness::{name, Stack};
use crate::helpers::Browser;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;
use uuid::Uuid;

/// How many clients of each kind drive the load.
const DEPLOYERS: usize = 3;
const EMITTERS: usize = 2;
const READERS: usize = 2;
/// A client gives up on one request after retrying it this long (a violation: every fault of
/// the run is over in seconds).
const GIVE_UP_AFTER: Duration = Duration::from_secs(60);
const DEPLOY_STATES_ENDED: &str = "('succeeded', 'failed', 'cancelled', 'rejected', 'expired')";

/// What one run does: how long the traffic lasts, and when each fault comes.
struct Plan {
    name: &'static str,
    load: Duration,
    /// (seconds from the start, fault), in order.
    faults: Vec<(u64, Fault)>,
    /// How long the deploys asked for may take to end after the traffic stops.
    drain: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    /// A server process killed with SIGKILL, then started again.
    Kill(usize),
    /// A server process stopped with SIGTERM (it finishes what it serves), then started again.
    Stop(usize),
    /// Postgres stopped in immediate mode (as a crash would), then started again.
    PostgresRestart,
}

impl Fault {
    fn describe(self) -> String {
        match self {
            Fault::Kill(i) => format!("SIGKILL server {}", name(i)),
            Fault::Stop(i) => format!("SIGTERM server {}", name(i)),
            Fault::PostgresRestart => "Postgres stop -m immediate".to_owned(),
        }
    }
}

impl Plan {
    /// The short version `make test` runs: thirty seconds, one kill, one Postgres restart.
    fn short() -> Plan {
        Plan {
            name: "short",
            load: Duration::from_secs(30),
            faults: vec![(8, Fault::Kill(0)), (18, Fault::PostgresRestart)],
            drain: Duration::from_secs(90),
        }
    }

    /// Five minutes: a kill every 20 s (alternating), Postgres restarted every 45 s, and one
    /// graceful stop in the middle.
    fn whole() -> Plan {
        let mut faults: Vec<(u64, Fault)> = (1..15).map(|k| (k * 20, Fault::Kill((k % 2) as usize))).collect();
        faults.extend((1..7).map(|k| (k * 45 + 2, Fault::PostgresRestart)));
        faults.push((150, Fault::Stop(1)));
        faults.sort_by_key(|f| f.0);
        Plan { name: "five minutes", load: Duration::from_secs(300), faults, drain: Duration::from_secs(180) }
    }
}

// ------------------------------------------------------------------------------ traffic

/// What the clients saw and were told.
#[derive(Default)]
struct Seen {
    /// Every acknowledged kick-off: (requester's token index, key, deploy id).
    kick_offs: Vec<(usize, String, Uuid)>,
    /// Kick-offs whose replay (the same key again, after the answer) named another deploy.
    replays_differing: Vec<String>,
    replays: usize,
    /// Every acknowledged run event: (run id, event type).
    events: Vec<(Uuid, String)>,
    /// Per kind of request: answered, retried, refused (4xx), given up.
    tally: BTreeMap<&'static str, Tally>,
    /// The times (from the run's start) requests succeeded, per server.
    successes: [Vec<Duration>; 2],
}

#[derive(Default, Clone, Copy)]
struct Tally {
    ok: usize,
    retries: usize,
    refused: usize,
    given_up: usize,
}

struct Ctx {
    bases: [String; 2],
    client: reqwest::Client,
    started: Instant,
    seen: Mutex<Seen>,
    services: Vec<String>,
}

impl Ctx {
    fn tally(&self, kind: &'static str, f: impl FnOnce(&mut Tally)) {
        f(self.seen.lock().expect("seen").tally.entry(kind).or_default());
    }

    fn succeeded(&self, server: usize) {
        let at = self.started.elapsed();
        self.seen.lock().expect("seen").successes[server].push(at);
    }

    /// Sends what `request` builds for a server (alternating, from `first`) until an answer
    /// comes: `Some((status, body))` for a 2xx or a 4xx (a refusal is an answer), `None` when
    /// it gave up. Timeouts, cut connections, 5xx, 408 and 429 are retried: the request may
    /// have been done, which is what the idempotency keys are for.
    async fn until_answered(
        &self,
        kind: &'static str,
        first: usize,
        request: impl Fn(&str) -> reqwest::RequestBuilder,
    ) -> Option<(u16, Value)> {
        let deadline = Instant::now() + GIVE_UP_AFTER;
        let mut attempt = 0;
        while Instant::now() < deadline {
            let server = (first + attempt) % 2;
            attempt += 1;
            let answer = request(&self.bases[server]).timeout(Duration::from_secs(10)).send().await;
            if let Ok(r) = answer {
                let status = r.status().as_u16();
                let retry = status >= 500 || status == 408 || status == 429;
                if !retry {
                    if let Ok(body) = r.json::<Value>().await {
                        if status < 300 {
                            self.succeeded(server);
                            self.tally(kind, |t| t.ok += 1);
                        } else {
                            self.tally(kind, |t| t.refused += 1);
                        }
                        return Some((status, body));
                    }
                }
            }
            self.tally(kind, |t| t.retries += 1);
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        self.tally(kind, |t| t.given_up += 1);
        None
    }
}

/// Kicks off deploys (one in five to production) with fresh keys, each until answered, and
/// replays every third one with its key, which must name the same deploy.
async fn deployer(ctx: Arc<Ctx>, me: usize, token: String, stop: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(Duration::from_millis(700));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut i = 0usize;
    while !*stop.borrow() {
        tick.tick().await;
        i += 1;
        let service = &ctx.services[(me * 5 + i) % ctx.services.len()];
        let environment = match i % 5 {
            0 => "production",
            1 | 3 => "dev",
            _ => "staging",
        };
        let key = Uuid::new_v4().to_string();
        let body = json!({ "service": service, "environment": environment, "version": format!("v{me}.{i}"), "reason": "the fault run" });
        let send = |base: &str| ctx.client.post(format!("{base}/api/v1/deploys")).bearer_auth(&token).header("idempotency-key", &key).json(&body);
        let Some((status, answer)) = ctx.until_answered("deploy kick-off", me + i, &send).await else { continue };
        if status >= 300 {
            continue;
        }
        let Some(id) = answer["id"].as_str().and_then(|s| s.parse::<Uuid>().ok()) else { continue };
        ctx.seen.lock().expect("seen").kick_offs.push((me, key.clone(), id));
        if i % 3 == 0 {
            if let Some((_, again)) = ctx.until_answered("kick-off replay", me + i + 1, &send).await {
                let mut seen = ctx.seen.lock().expect("seen");
                seen.replays += 1;
                if again["id"].as_str() != Some(id.to_string().as_str()) {
                    seen.replays_differing.push(format!("key {key}: first {id}, then {}", again["id"]));
                }
            }
        }
    }
}

/// Sends a START and a COMPLETE event for one new run after another, each until answered.
async fn emitter(ctx: Arc<Ctx>, me: usize, token: String, stop: watch::Receiver<bool>) {
    const SCHEMA: &str = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent";
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut i = 0usize;
    while !*stop.borrow() {
        tick.tick().await;
        i += 1;
        let run = Uuid::new_v4();
        let start = chrono::Utc::now();
        for (kind, at) in [("START", start), ("COMPLETE", start + chrono::Duration::milliseconds(40))] {
            let event = json!({
                "eventType": kind, "eventTime": at.to_rfc3339(), "run": { "runId": run, "facets": {} },
                "job": { "namespace": "chaos", "name": format!("flow-{me}-{}", i % 4) },
                "producer": "https://github.com/switchyard/chaos", "schemaURL": SCHEMA,
            });
            let send = |base: &str| ctx.client.post(format!("{base}/api/v1/lineage")).bearer_auth(&token).json(&event);
            if let Some((status, _)) = ctx.until_answered("run event", me + i, send).await {
                if status < 300 {
                    ctx.seen.lock().expect("seen").events.push((run, kind.to_owned()));
                }
            }
        }
    }
}

/// Reads the catalog: a page of components and one component by name.
async fn reader(ctx: Arc<Ctx>, me: usize, token: String, stop: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut i = 0usize;
    while !*stop.borrow() {
        tick.tick().await;
        i += 1;
        let server = (me + i) % 2;
        let path = if i % 2 == 0 {
            "/api/v1/catalog/entities?kind=component&limit=20".to_owned()
        } else {
            format!("/api/v1/catalog/entities/by-name/component/default/{}", ctx.services[i % ctx.services.len()])
        };
        let r = ctx.client.get(format!("{}{path}", ctx.bases[server])).bearer_auth(&token).timeout(Duration::from_secs(10)).send().await;
        match r {
            Ok(r) if r.status().is_success() => {
                ctx.succeeded(server);
                ctx.tally("catalog read", |t| t.ok += 1);
            }
            Ok(r) if r.status().is_client_error() => ctx.tally("catalog read", |t| t.refused += 1),
            _ => ctx.tally("catalog read", |t| t.retries += 1),
        }
    }
}

/// An admin (signed in once, on server A) approving every deploy waiting for them, asking each
/// server in turn, until told to stop.
async fn approver(ctx: Arc<Ctx>, admin: [Browser; 2], stop: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(Duration::from_millis(300));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut i = 0usize;
    while !*stop.borrow() {
        tick.tick().await;
        i += 1;
        let b = &admin[i % 2];
        let Ok(r) = b.client.get(b.url("/api/v1/approvals?inbox=waiting_for_me&state=pending")).timeout(Duration::from_secs(10)).send().await else {
            continue;
        };
        let Ok(Value::Array(waiting)) = r.json::<Value>().await else { continue };
        for w in waiting.iter().filter(|w| w["subject_kind"] == "deploy") {
            let Some(id) = w["id"].as_str() else { continue };
            let r = b
                .client
                .post(b.url(&format!("/api/v1/approvals/{id}/approve")))
                .header("origin", b.url(""))
                .json(&json!({ "comment": "approved during the fault run" }))
                .timeout(Duration::from_secs(10))
                .send()
                .await;
            match r {
                Ok(r) if r.status().is_success() => ctx.tally("approval", |t| t.ok += 1),
                Ok(r) if r.status().is_client_error() => ctx.tally("approval", |t| t.refused += 1),
                _ => ctx.tally("approval", |t| t.retries += 1),
            }
        }
    }
}

// ------------------------------------------------------------------------------ the run

/// One fault as it went: what, when, and how long until a request succeeded again.
struct FaultSeen {
    at: Duration,
    fault: Fault,
    /// From the fault until the next successful request on each server.
    recovered: [Option<Duration>; 2],
    note: String,
    /// False for a graceful stop that did not exit 0.
    clean: bool,
}

/// The run: its table, and the violations found (none when it passed).
async fn fault_run(plan: Plan) -> (String, Vec<String>) {
    let mut stack = Stack::new("chaos", 2, DEPLOYERS).await;
    let (pool, fx, client, starts) = (&stack.pool, &stack.fx, stack.client.clone(), stack.starts.clone());
    let bases = [stack.procs[0].base(), stack.procs[1].base()];

    // an admin's session, made on A; it is used on both
    let alice = Browser::at(&bases[0]);
    let landed = alice.sign_in("alice", "alice").await;
    assert_eq!(landed.status(), 200, "alice signs in on server A");
    let admin = [alice.on(&bases[0]), alice.on(&bases[1])];

    let ctx = Arc::new(Ctx { bases: bases.clone(), client: client.clone(), started: Instant::now(), seen: Mutex::new(Seen::default()), services: stack.services.clone() });
    let (stop_load, load_stopped) = watch::channel(false);
    let (stop_approver, approver_stopped) = watch::channel(false);
    let mut drivers = Vec::new();
    for (i, token) in fx.deploy_tokens.iter().enumerate() {
        drivers.push(tokio::spawn(deployer(ctx.clone(), i, token.clone(), load_stopped.clone())));
    }
    for i in 0..EMITTERS {
        drivers.push(tokio::spawn(emitter(ctx.clone(), i, fx.ingest_token.clone(), load_stopped.clone())));
    }
    for i in 0..READERS {
        drivers.push(tokio::spawn(reader(ctx.clone(), i, fx.deploy_tokens[i % DEPLOYERS].clone(), load_stopped.clone())));
    }
    let approving = tokio::spawn(approver(ctx.clone(), admin, approver_stopped));

    // the faults, one after another, each at its time
    let mut faults = Vec::new();
    for (at, fault) in &plan.faults {
        tokio::time::sleep_until((ctx.started + Duration::from_secs(*at)).into()).await;
        // `down`: the moment the fault has struck (the process is gone, Postgres is down); the
        // time to recover is counted from there
        let mut note = String::new();
        let mut clean = true;
        let down = match *fault {
            Fault::Kill(i) => {
                stack.procs[i].kill().await;
                let down = ctx.started.elapsed();
                stack.procs[i].start();
                stack.procs[i].ready(&client).await;
                down
            }
            Fault::Stop(i) => {
                let status = stack.procs[i].stop().await;
                let down = ctx.started.elapsed();
                note = format!("exited with {status}");
                clean = status.success();
                if !clean {
                    note.push_str(" (a graceful stop should exit 0)");
                }
                stack.procs[i].start();
                stack.procs[i].ready(&client).await;
                down
            }
            Fault::PostgresRestart => {
                stack.cluster.crash().await;
                let down = ctx.started.elapsed();
                stack.cluster.start().await;
                down
            }
        };
        faults.push(FaultSeen { at: down, fault: *fault, recovered: [None, None], note, clean });
    }
    tokio::time::sleep_until((ctx.started + plan.load).into()).await;
    stop_load.send(true).expect("stop the load");
    for d in drivers {
        d.await.expect("a client");
    }

    // every deploy asked for ends (the admin still approves), within the drain time
    let drain_started = Instant::now();
    let open_sql = format!("SELECT count(*) FROM deploys WHERE requester_id = ANY($1) AND state NOT IN {DEPLOY_STATES_ENDED}");
    let mut open: i64 = -1;
    while drain_started.elapsed() < plan.drain {
        open = sqlx::query_scalar(&open_sql).bind(&fx.bots).fetch_one(pool).await.expect("open deploys");
        if open == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let drained = drain_started.elapsed();
    stop_approver.send(true).expect("stop the approver");
    approving.await.expect("the approver");

    // ---- checks
    let mut violations = Vec::new();
    let mut table = String::new();
    let seen = std::mem::take(&mut *ctx.seen.lock().expect("seen"));
    for f in &mut faults {
        for server in 0..2 {
            f.recovered[server] = seen.successes[server].iter().find(|t| **t > f.at).map(|t| *t - f.at);
        }
    }
    let _ = writeln!(table, "Fault run ({}): two servers, {} deployers, {} OpenLineage emitters, {} catalog readers and an approving admin, {} s of traffic\n", plan.name, DEPLOYERS, EMITTERS, READERS, plan.load.as_secs());
    let _ = writeln!(table, "| at | fault | next success on A | next success on B | note |\n|---:|---|---:|---:|---|");
    for f in &faults {
        let shown = |d: Option<Duration>| d.map_or("none".to_owned(), |d| format!("{:.2} s", d.as_secs_f64()));
        let _ = writeln!(table, "| {:.1} s | {} | {} | {} | {} |", f.at.as_secs_f64(), f.fault.describe(), shown(f.recovered[0]), shown(f.recovered[1]), f.note);
        if f.recovered.iter().any(Option::is_none) {
            violations.push(format!("no request succeeded on some server after \"{}\" at {:.1} s", f.fault.describe(), f.at.as_secs_f64()));
        }
        if !f.clean {
            violations.push(format!("the graceful stop at {:.1} s: {}", f.at.as_secs_f64(), f.note));
        }
    }
    let _ = writeln!(table, "\n| requests | answered 2xx | refused 4xx | retried | given up |\n|---|---:|---:|---:|---:|");
    for (kind, t) in &seen.tally {
        let _ = writeln!(table, "| {kind} | {} | {} | {} | {} |", t.ok, t.refused, t.retries, t.given_up);
        // every request the clients send is valid: a refusal or a request never answered is a
        // fault the run did not recover from (an approval may race with another's decision)
        if *kind != "approval" && (t.refused > 0 || t.given_up > 0) {
            violations.push(format!("{kind}: {} refused, {} never answered", t.refused, t.given_up));
        }
    }
    let _ = writeln!(table, "\n| check | holds | detail |\n|---|---|---|");
    let mut check = |name: &str, ok: bool, detail: String| {
        let _ = writeln!(table, "| {name} | {} | {detail} |", if ok { "yes" } else { "**NO**" });
        if !ok {
            violations.push(format!("{name}: {detail}"));
        }
    };

    // every acknowledged kick-off is there, once, under its key
    let acked: Vec<Uuid> = seen.kick_offs.iter().map(|k| k.2).collect();
    let stored: HashMap<Uuid, (Uuid, String)> = sqlx::query_as::<_, (Uuid, Uuid, String)>("SELECT id, requester_id, idempotency_key FROM deploys WHERE id = ANY($1)")
        .bind(&acked)
        .fetch_all(pool)
        .await
        .expect("acknowledged deploys")
        .into_iter()
        .map(|(id, who, key)| (id, (who, key)))
        .collect();
    let lost: Vec<String> = seen
        .kick_offs
        .iter()
        .filter(|(who, key, id)| stored.get(id) != Some(&(fx.bots[*who], key.clone())))
        .map(|(_, key, id)| format!("{id} (key {key})"))
        .collect();
    check("every acknowledged kick-off exists, under its key", lost.is_empty() && !acked.is_empty(), format!("{} acknowledged; missing or under another key: {lost:?}", acked.len()));
    check("a key replayed names the same deploy", seen.replays_differing.is_empty(), format!("{} replays; differing: {:?}", seen.replays, seen.replays_differing));
    let shared: i64 = sqlx::query_scalar("SELECT count(*) FROM (SELECT 1 FROM deploys GROUP BY requester_id, idempotency_key HAVING count(*) > 1) AS d")
        .fetch_one(pool)
        .await
        .expect("shared keys");
    let made: i64 = sqlx::query_scalar("SELECT count(*) FROM deploys WHERE requester_id = ANY($1)").bind(&fx.bots).fetch_one(pool).await.expect("deploys");
    check("no two deploys share a key", shared == 0, format!("{made} deploys made by the run's clients (acknowledged or not), {shared} keys shared"));

    // every acknowledged run event is stored exactly once
    let runs: Vec<Uuid> = seen.events.iter().map(|e| e.0).collect();
    let counts: HashMap<(Uuid, String), i64> =
        sqlx::query_as::<_, (Uuid, String, i64)>("SELECT run_id, event_type, count(*) FROM integration_events WHERE run_id = ANY($1) GROUP BY 1, 2")
            .bind(&runs)
            .fetch_all(pool)
            .await
            .expect("stored events")
            .into_iter()
            .map(|(r, t, n)| ((r, t), n))
            .collect();
    let wrong: Vec<String> = seen
        .events
        .iter()
        .filter(|(r, t)| counts.get(&(*r, t.clone())) != Some(&1))
        .map(|(r, t)| format!("{r} {t}: {}", counts.get(&(*r, t.clone())).copied().unwrap_or(0)))
        .collect();
    check("every acknowledged run event is stored exactly once", wrong.is_empty() && !seen.events.is_empty(), format!("{} acknowledged; wrong counts: {wrong:?}", seen.events.len()));

    // every deploy ended, none started twice by the executor (a run cut off by its worker's
    // death is failed and says so, never started again)
    let states: BTreeMap<String, i64> =
        sqlx::query_as::<_, (String, i64)>("SELECT state, count(*) FROM deploys WHERE requester_id = ANY($1) GROUP BY 1 ORDER BY 1")
            .bind(&fx.bots)
            .fetch_all(pool)
            .await
            .expect("states")
            .into_iter()
            .collect();
    check(
        &format!("every deploy ended (within {} s of the traffic's end)", plan.drain.as_secs()),
        open == 0,
        format!("{open} still open after {:.1} s; by state: {states:?}", drained.as_secs_f64()),
    );
    let log = std::fs::read_to_string(&starts).unwrap_or_default();
    let mut started: HashMap<String, usize> = HashMap::new();
    for line in log.lines() {
        *started.entry(line.split(' ').next().unwrap_or_default().to_owned()).or_default() += 1;
    }
    // a deploy requeued after its worker died had not been dispatched (`recover`), so it had
    // not started: any second start is a deploy run twice
    let twice: Vec<String> = started.iter().filter(|(_, n)| **n > 1).map(|(id, n)| format!("{id} started {n} times")).collect();
    let cut: i64 = sqlx::query_scalar("SELECT count(*) FROM deploys WHERE requester_id = ANY($1) AND outcome LIKE '%stopped mid-run%'")
        .bind(&fx.bots)
        .fetch_one(pool)
        .await
        .expect("cut deploys");
    check(
        "no deploy started twice by the executor",
        twice.is_empty(),
        format!("{} starts logged; {cut} deploys failed because their worker died mid-run (marked so); started twice: {twice:?}", log.lines().count()),
    );

    // the audit: every chain verifies, and each state change has its one row
    let chain = app::audit::service::verify(pool).await.expect("verify the audit chains");
    check("the audit chains verify", matches!(chain, app::audit::types::ChainCheck::Intact { .. }), format!("{chain:?}"));
    let mismatched: i64 = sqlx::query_scalar(
        "WITH t AS (SELECT deploy_id::text AS id, to_state AS state, count(*) AS n FROM deploy_transitions t
                    WHERE to_state <> 'requested' AND deploy_id IN (SELECT id FROM deploys WHERE requester_id = ANY($1)) GROUP BY 1, 2),
              a AS (SELECT subject_id AS id, after ->> 'state' AS state, count(*) AS n FROM audit_log
                    WHERE subject_kind = 'deploy' AND subject_id IN (SELECT id::text FROM deploys WHERE requester_id = ANY($1)) GROUP BY 1, 2)
         SELECT count(*) FROM t FULL JOIN a USING (id, state) WHERE t.n IS DISTINCT FROM a.n",
    )
    .bind(&fx.bots)
    .fetch_one(pool)
    .await
    .expect("audit rows per state change");
    check("one audit row per deploy state change", mismatched == 0, format!("{mismatched} (deploy, state) pairs whose transitions and audit rows differ in number"));

    // the session made on A works on B (after both restarted, when the plan restarts both)
    let me = alice.on(&bases[1]).get("/api/v1/me").await;
    let status = me.status();
    let who: Value = me.json().await.unwrap_or(Value::Null);
    check("a session made on server A works on server B", status == 200 && who["username"] == "alice", format!("GET /api/v1/me on B: {status}, {}", who["username"]));

    let keep = !violations.is_empty();
    if keep {
        let _ = writeln!(table, "\nThe run's folder (server and Postgres logs, the executor's starts): {}", stack.dir.display());
    }
    stack.end(keep).await;
    (table, violations)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_short_fault_run_loses_and_doubles_nothing() {
    let (table, violations) = fault_run(Plan::short()).await;
    println!("{table}");
    assert!(violations.is_empty(), "{table}\nviolations:\n{}", violations.join("\n"));
}

/// `make chaos`: five minutes of faults.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "five minutes: make chaos"]
async fn the_fault_run_loses_and_doubles_nothing() {
    let (table, violations) = fault_run(Plan::whole()).await;
    println!("{table}");
    assert!(violations.is_empty(), "{table}\nviolations:\n{}", violations.join("\n"));
}
