//! The deploy worker: takes queued deploys from Postgres (`FOR UPDATE SKIP LOCKED`, woken by
//! LISTEN/NOTIFY, swept on a timer for anything missed), holds each under a heartbeated lease
//! and runs it through the executor its environment is configured with. Any number of
//! workers, in any number of processes, share the queue.
pub mod command;
pub mod events;
pub mod signature;
pub mod webhook;

use crate::config::{DeploySettings, ExecutorKind};
use app::context::RequestMeta;
use app::deploys::repo::QUEUE_CHANNEL;
use app::deploys::service::{self as deploys, Job};
use app::deploys::types::DeployState;
use sqlx::postgres::PgListener;
use sqlx::PgPool;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;
use tracing::Instrument;
use uuid::Uuid;

/// How a run ended, as the executor saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Succeeded(String),
    Failed(String),
    /// The CD system took it over and reports back through the events API.
    Handed,
    /// The job stopped being ours (cancelled, or its lease was lost): write nothing.
    Abandoned,
}

/// What an executor gets to work with.
pub struct Run<'a> {
    pub pool: &'a PgPool,
    pub job: &'a Job,
    pub worker: Uuid,
    pub settings: &'a DeploySettings,
    pub public_url: &'a str,
}

impl Run<'_> {
    /// Streams lines into the deploy's log; a log that cannot be written is only logged here.
    pub async fn log(&self, stream: &str, lines: &[String]) {
        if let Err(e) = deploys::append_log(self.pool, self.job.id, stream, lines).await {
            tracing::warn!(deploy = %self.job.id, error = %e, "could not write deploy log lines");
        }
    }

    /// Renews the lease; false when the job is no longer this worker's (cancelled or lost).
    pub async fn heartbeat(&self) -> bool {
        match deploys::heartbeat(self.pool, self.job.id, self.worker, self.settings.lease_secs).await {
            Ok(held) => held,
            // a database hiccup: keep going, the next beat may succeed before the lease ends
            Err(e) => {
                tracing::warn!(deploy = %self.job.id, error = %e, "heartbeat failed");
                true
            }
        }
    }

    pub fn heartbeat_every(&self) -> Duration {
        Duration::from_secs_f64((self.settings.lease_secs / 3.0).max(0.05))
    }
}

#[derive(Clone)]
pub struct Worker {
    pub id: Uuid,
    pool: PgPool,
    settings: Arc<DeploySettings>,
    public_url: Arc<str>,
}

impl Worker {
    pub fn new(pool: PgPool, settings: Arc<DeploySettings>, public_url: &str) -> Self {
        Worker { id: Uuid::new_v4(), pool, settings, public_url: public_url.into() }
    }

    /// Runs until the future is dropped (a crash, as far as the queue can tell) or forever.
    pub async fn run(self) {
        let slots = Arc::new(Semaphore::new(self.settings.concurrency.max(1)));
        let mut listener = None;
        let sweep = Duration::from_secs_f64(self.settings.sweep_secs.max(0.05));
        let mut jobs = tokio::task::JoinSet::new();
        let mut last_sweep: Option<tokio::time::Instant> = None;
        tracing::info!(worker = %self.id, "deploy worker started");
        loop {
            if listener.is_none() {
                listener = connect(&self.pool).await;
            }
            if last_sweep.is_none_or(|t| t.elapsed() >= sweep) {
                last_sweep = Some(tokio::time::Instant::now());
                if let Err(e) = deploys::recover(&self.pool).await {
                    tracing::warn!(error = %e, "deploy recovery sweep failed");
                }
            }
            // take jobs while there are free slots and queued work outside freeze windows
            let frozen = if slots.available_permits() > 0 { self.frozen().await } else { None };
            while let Some(frozen) = &frozen {
                let Ok(permit) = slots.clone().try_acquire_owned() else { break };
                match deploys::claim(&self.pool, self.id, self.settings.lease_secs, frozen).await {
                    Ok(Some(job)) => {
                        let me = self.clone();
                        jobs.spawn(async move {
                            me.execute(job).await;
                            drop(permit);
                        });
                    }
                    Ok(None) => break,
                    Err(e) => {
                        tracing::warn!(error = %e, "claiming a deploy failed");
                        break;
                    }
                }
            }
            while jobs.try_join_next().is_some() {}
            // wait for a NOTIFY, a finished job (a slot is free) or the sweep timer
            let notified = async {
                match listener.as_mut() {
                    Some(l) => {
                        if l.recv().await.is_err() {
                            listener = None;
                        }
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                () = notified => {}
                Some(_) = jobs.join_next(), if !jobs.is_empty() => {}
                () = tokio::time::sleep(sweep) => {}
            }
        }
    }

    /// One round, inline: the recovery sweep, then every runnable deploy claimed and run to its
    /// end. `run` does the same on its own timeline; tests drive the queue step by step with this.
    pub async fn run_once(&self) {
        if let Err(e) = deploys::recover(&self.pool).await {
            tracing::warn!(error = %e, "deploy recovery sweep failed");
        }
        let Some(frozen) = self.frozen().await else { return };
        while let Ok(Some(job)) = deploys::claim(&self.pool, self.id, self.settings.lease_secs, &frozen).await {
            self.execute(job).await;
        }
    }

    /// The environments frozen now; None when the windows cannot be read (nothing starts until
    /// the next try, rather than something starting inside a window).
    async fn frozen(&self) -> Option<Vec<String>> {
        deploys::frozen_now(&self.pool)
            .await
            .map_err(|e| tracing::warn!(error = %e, "could not read the freeze windows; no deploy starts until they can be"))
            .ok()
    }

    /// Runs one job to its end (or until it stops being ours) and records the outcome once, in a
    /// span that continues the kick-off's trace and links to it.
    pub async fn execute(&self, job: Job) {
        let span = tracing::info_span!(
            "deploys.worker.execute",
            deploy = %job.id,
            attempt = job.attempt,
            service = %job.service,
            environment = %job.environment,
            executor = tracing::field::Empty,
            trace_id = tracing::field::Empty,
            span_id = tracing::field::Empty,
        );
        if let Some(parent) = &job.trace_context {
            app::telemetry::continue_from(&span, parent);
        }
        crate::telemetry::record_ids(&span);
        self.execute_in(job).instrument(span).await
    }

    async fn execute_in(&self, job: Job) {
        let kind = self.settings.executor_for(&job.environment);
        tracing::Span::current().record("executor", kind.as_str());
        let timeout = match kind {
            ExecutorKind::Command => self.settings.command.timeout_secs,
            ExecutorKind::Webhook => self.settings.webhook.timeout_secs,
        };
        match deploys::dispatched(&self.pool, job.id, self.id, kind.as_str(), timeout).await {
            Ok(true) => {}
            Ok(false) => return, // cancelled between claim and start
            Err(e) => {
                tracing::warn!(deploy = %job.id, error = %e, "could not record the executor's start");
                return; // the lease runs out and recovery requeues it (nothing was started)
            }
        }
        metrics::counter!("switchyard_deploy_jobs_started_total", "executor" => kind.as_str()).increment(1);
        let started = std::time::Instant::now();
        let run = Run { pool: &self.pool, job: &job, worker: self.id, settings: &self.settings, public_url: &self.public_url };
        let outcome = match kind {
            ExecutorKind::Command => command::run(&run).await,
            ExecutorKind::Webhook => webhook::run(&run).await,
        };
        let ended = match &outcome {
            Outcome::Succeeded(_) => "succeeded",
            Outcome::Failed(_) => "failed",
            Outcome::Handed => "handed_over",
            Outcome::Abandoned => "abandoned",
        };
        let labels = [("executor", kind.as_str()), ("outcome", ended)];
        metrics::counter!("switchyard_deploy_jobs_finished_total", &labels).increment(1);
        metrics::histogram!("switchyard_deploy_executor_duration_seconds", &labels).record(started.elapsed().as_secs_f64());
        let meta = RequestMeta { request_id: format!("worker-{}", self.id), ip: String::new() };
        let (state, note) = match outcome {
            Outcome::Succeeded(note) => (DeployState::Succeeded, note),
            Outcome::Failed(note) => (DeployState::Failed, note),
            Outcome::Handed | Outcome::Abandoned => return,
        };
        if let Err(e) = deploys::finish(&self.pool, job.id, Some(self.id), state, &note, &meta).await {
            tracing::error!(deploy = %job.id, error = %e, "could not record the deploy's outcome");
        }
    }
}

async fn connect(pool: &PgPool) -> Option<PgListener> {
    let mut l = PgListener::connect_with(pool).await.map_err(|e| tracing::warn!(error = %e, "LISTEN connection failed")).ok()?;
    l.listen(QUEUE_CHANNEL).await.map_err(|e| tracing::warn!(error = %e, "LISTEN failed")).ok()?;
    Some(l)
}
