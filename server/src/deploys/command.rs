//! The command executor: runs the configured program with the deploy's parameters in its
//! environment (and nothing else of the server's: no secret leaks into it), streams its output
//! into the deploy's log, heartbeats the lease, and kills it at the timeout or when the deploy
//! is cancelled. A line `::progress N` sets the progress bar.
use super::{Outcome, Run};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;
use tokio::sync::mpsc;

/// Lines are written in batches: at most this many, or whatever came within the flush interval.
const BATCH: usize = 100;
const FLUSH: Duration = Duration::from_millis(150);

pub async fn run(run: &Run<'_>) -> Outcome {
    let job = run.job;
    let settings = &run.settings.command;
    let mut cmd = Command::new(&settings.program);
    cmd.args(&settings.args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_else(|_| "/usr/local/bin:/usr/bin:/bin".into()))
        .env("LANG", "C.UTF-8")
        .envs(&settings.env)
        .env("SWITCHYARD_DEPLOY_ID", job.id.to_string())
        .env("SWITCHYARD_ATTEMPT", job.attempt.to_string())
        .env("SWITCHYARD_SERVICE", &job.service)
        .env("SWITCHYARD_ENVIRONMENT", &job.environment)
        .env("SWITCHYARD_VERSION", &job.version)
        .env("SWITCHYARD_PREVIOUS_VERSION", job.previous_version.as_deref().unwrap_or(""))
        .env("SWITCHYARD_REQUESTER", &job.requester)
        .env("SWITCHYARD_REASON", &job.reason)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return Outcome::Failed(format!("the command {} could not be started: {e}", settings.program)),
    };
    run.log("switchyard", &[format!("started {} (attempt {})", settings.program, job.attempt)]).await;

    // both streams into one channel, in the order lines arrive
    let (tx, mut rx) = mpsc::channel::<(&'static str, String)>(1024);
    if let Some(out) = child.stdout.take() {
        let tx = tx.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(out).lines();
            while let Ok(Some(l)) = lines.next_line().await {
                if tx.send(("stdout", l)).await.is_err() {
                    break;
                }
            }
        });
    }
    if let Some(err) = child.stderr.take() {
        let tx = tx.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(err).lines();
            while let Ok(Some(l)) = lines.next_line().await {
                if tx.send(("stderr", l)).await.is_err() {
                    break;
                }
            }
        });
    }
    drop(tx);

    let deadline = tokio::time::sleep(Duration::from_secs_f64(settings.timeout_secs.max(0.1)));
    tokio::pin!(deadline);
    let mut beat = tokio::time::interval(run.heartbeat_every());
    beat.tick().await;
    let mut flush = tokio::time::interval(FLUSH);
    let mut pending: Vec<(&'static str, String)> = Vec::new();
    let mut streams_open = true;
    let status = loop {
        tokio::select! {
            line = rx.recv(), if streams_open => match line {
                Some(l) => {
                    pending.push(l);
                    if pending.len() >= BATCH {
                        write(run, &mut pending).await;
                    }
                }
                None => streams_open = false,
            },
            _ = flush.tick() => write(run, &mut pending).await,
            _ = beat.tick() => {
                if !run.heartbeat().await {
                    let _ = child.kill().await;
                    write(run, &mut pending).await;
                    run.log("switchyard", &["stopped: the deploy was cancelled or taken over".into()]).await;
                    return Outcome::Abandoned;
                }
            }
            () = &mut deadline => {
                let _ = child.kill().await;
                write(run, &mut pending).await;
                let note = format!("timed out after {} s; the command was killed", settings.timeout_secs);
                run.log("switchyard", std::slice::from_ref(&note)).await;
                return Outcome::Failed(note);
            }
            status = child.wait(), if !streams_open => break status,
        }
    };
    write(run, &mut pending).await;
    match status {
        Ok(s) if s.success() => Outcome::Succeeded("the command exited with 0".into()),
        Ok(s) => Outcome::Failed(match s.code() {
            Some(code) => format!("the command exited with {code}"),
            None => "the command was killed by a signal".into(),
        }),
        Err(e) => Outcome::Failed(format!("waiting for the command failed: {e}")),
    }
}

/// Writes the pending lines, grouped by stream in arrival order, and applies progress marks.
async fn write(run: &Run<'_>, pending: &mut Vec<(&'static str, String)>) {
    if pending.is_empty() {
        return;
    }
    let mut progress = None;
    let mut group: Vec<String> = Vec::new();
    let mut stream = pending[0].0;
    for (s, line) in pending.drain(..) {
        if let Some(p) = line.strip_prefix("::progress ").and_then(|p| p.trim().parse::<i16>().ok()) {
            progress = Some(p);
            continue;
        }
        if s != stream && !group.is_empty() {
            run.log(stream, &group).await;
            group.clear();
        }
        stream = s;
        group.push(line);
    }
    if !group.is_empty() {
        run.log(stream, &group).await;
    }
    if let Some(p) = progress {
        if let Err(e) = app::deploys::service::set_progress(run.pool, run.job.id, p).await {
            tracing::warn!(deploy = %run.job.id, error = %e, "could not set progress");
        }
    }
}
