//! The deploy queue's door in this process: kick-offs that simply queue a deploy are written in
//! groups, and the workers are woken after the commit.
//!
//! **Group commit.** A queued kick-off is one statement (its deploy, transitions and audit row;
//! `repo::insert`), but a commit each is the price: Postgres starts an executor, takes the audit
//! stripe's lock and flushes the WAL once per kick-off. Kick-offs that arrive while a group is
//! being written wait for the next one and go together into one statement (`repo::insert_group`),
//! at most [`GROUP`] at once and [`WRITERS`] groups at a time, each on a connection of the queue's
//! own (so waiting requests never starve the writers of connections). Each caller is answered only
//! after its group committed: as durable as on its own. With no load a group is one kick-off and
//! waits for nothing. If a group fails (a service deleted since its check, a deadlock, a lost
//! connection), its kick-offs are written again one by one, so one bad kick-off fails alone and
//! the others are written as they would have been; the idempotency key makes that retry safe even
//! when the group's commit had gone through.
//!
//! **Wake-ups.** After deploys were queued the workers of every process are woken (a NOTIFY on the
//! queue channel): after the commit, at most one per [`WAKE_EVERY`] however many were queued. A
//! NOTIFY inside the kick-off's transaction would make Postgres commit the kick-offs one at a time
//! (it locks the notification queue until the commit is flushed: measured, half the transactions
//! per second), and a worker needs one wake-up, not one per deploy. A wake-up lost to a crash
//! between commit and NOTIFY costs at most the workers' sweep interval.
use super::repo::{self, NewDeployRow, QUEUE_CHANNEL};
use crate::audit::service::Entry;
use crate::batch::{Batcher, Call};
use chrono::{DateTime, Utc};
use sqlx::PgPool;
use tokio::sync::mpsc;
use tracing::Instrument;

/// The most kick-offs written in one statement.
pub const GROUP: usize = 64;
/// How many groups are written at once: the size of the queue's own pool.
pub const WRITERS: u32 = 2;
/// The shortest time between two wake-ups.
const WAKE_EVERY: std::time::Duration = std::time::Duration::from_millis(5);

/// What a write answers: the deploy's creation time, or None when the requester's key was taken.
type Written = Result<Option<DateTime<Utc>>, sqlx::Error>;
type Write = Call<(NewDeployRow, Entry), Written>;

/// A handle on this process's queue writer and waker; cheap to clone.
#[derive(Clone)]
pub struct Queue {
    wake: mpsc::Sender<()>,
    writes: Batcher<(NewDeployRow, Entry), Written>,
}

impl Queue {
    /// Starts the writer, which writes on `writers` (a pool of [`WRITERS`] connections), and the
    /// waker, which sends its NOTIFYs on `pool`. Both end when the last handle is dropped.
    pub fn start(pool: PgPool, writers: PgPool) -> Self {
        let (wake, mut wanted) = mpsc::channel::<()>(1);
        tokio::spawn(async move {
            while wanted.recv().await.is_some() {
                if let Err(e) = repo::notify(&pool, QUEUE_CHANNEL, "").await {
                    tracing::warn!(error = %e, "could not wake the deploy workers; their sweep will find the work");
                }
                tokio::time::sleep(WAKE_EVERY).await;
            }
        });
        let writes = Batcher::start("deploy queue", WRITERS as usize, GROUP, move |group| write_group(writers.clone(), group));
        Queue { wake, writes }
    }

    /// Asks for a wake-up; one already pending covers this one too.
    pub fn wake(&self) {
        let _ = self.wake.try_send(());
    }

    /// Writes a queued deploy with its transitions and its audit row, with whatever other
    /// kick-offs are waiting, and answers once they are committed: when it was created, or None
    /// when the requester's idempotency key is taken (nothing written for it).
    pub async fn write(&self, row: NewDeployRow, audit: Entry) -> Written {
        self.writes.call((row, audit)).await.map_err(|_| sqlx::Error::PoolClosed)?
    }
}

/// One group's commit, in a span of its own that links to the trace of every kick-off in it.
async fn write_group(pool: PgPool, group: Vec<Write>) {
    metrics::histogram!("switchyard_deploy_kickoff_group_size").record(group.len() as f64);
    let span = tracing::debug_span!("deploys.queue.group_commit", size = group.len());
    for w in &group {
        if let Some(parent) = &w.input.0.trace_context {
            crate::telemetry::link(&span, parent);
        }
    }
    write_group_in(pool, group).instrument(span).await
}

async fn write_group_in(pool: PgPool, group: Vec<Write>) {
    if group.len() == 1 {
        for w in group {
            write_one(&pool, w).await;
        }
        return;
    }
    let (rows, answers): (Vec<_>, Vec<_>) = group.into_iter().map(|c| (c.input, c.answer)).unzip();
    let written = match pool.acquire().await {
        Ok(mut conn) => repo::insert_group(&mut conn, &rows).await,
        Err(e) => Err(e),
    };
    match written {
        Ok(created) => {
            crate::telemetry::audit_rows(created.len());
            for ((row, _), answer) in rows.iter().zip(answers) {
                let at = created.iter().find(|(id, _)| *id == row.id).map(|(_, at)| *at);
                let _ = answer.send(Ok(at));
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, kick_offs = rows.len(), "a group of kick-offs failed; writing them one by one");
            for (input, answer) in rows.into_iter().zip(answers) {
                write_one(&pool, Call { input, answer }).await;
            }
        }
    }
}

async fn write_one(pool: &PgPool, w: Write) {
    let written = match pool.acquire().await {
        Ok(mut conn) => repo::insert(&mut conn, &w.input.0, Some(&w.input.1)).await,
        Err(e) => Err(e),
    };
    if let Ok(Some(_)) = written {
        crate::telemetry::audit_rows(1);
    }
    w.reply(written);
}
