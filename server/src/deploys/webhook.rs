//! The webhook executor: POSTs the deploy as signed JSON to an external CD system (an Argo CD
//! or GitHub Actions bridge), retrying connection errors, 429 and 5xx with doubling waits. The
//! CD system answers 2xx when it has taken the deploy, then reports progress and the result to
//! `callback_url` with the same signature scheme. It must treat `deploy_id` (also sent as
//! `Idempotency-Key`) as the key of the rollout.
use super::signature;
use super::{Outcome, Run};
use secrecy::ExposeSecret;
use serde::Serialize;
use std::time::Duration;

/// The request body a CD system receives.
#[derive(Debug, Serialize)]
pub struct DeployRequest<'a> {
    pub deploy_id: uuid::Uuid,
    pub attempt: i32,
    pub service: &'a str,
    pub environment: &'a str,
    pub version: &'a str,
    pub previous_version: Option<&'a str>,
    pub requester: &'a str,
    pub reason: &'a str,
    /// Where to POST events (`{"attempt": <this attempt>, "seq": <1, 2, 3 …>, "type": "log" |
    /// "progress" | "succeeded" | "failed", …}`), signed like this request.
    pub callback_url: String,
    /// No result by then and the deploy fails.
    pub deadline: chrono::DateTime<chrono::Utc>,
}

pub async fn run(run: &Run<'_>) -> Outcome {
    let settings = &run.settings.webhook;
    let job = run.job;
    if settings.url.is_empty() {
        return Outcome::Failed("no webhook URL is configured for this environment (deploys.webhook.url)".into());
    }
    let body = DeployRequest {
        deploy_id: job.id.0,
        attempt: job.attempt,
        service: &job.service,
        environment: &job.environment,
        version: &job.version,
        previous_version: job.previous_version.as_deref(),
        requester: &job.requester,
        reason: &job.reason,
        callback_url: format!("{}/api/v1/deploys/{}/events", run.public_url.trim_end_matches('/'), job.id),
        deadline: chrono::Utc::now() + chrono::Duration::milliseconds((settings.timeout_secs * 1000.0) as i64),
    };
    let body = match serde_json::to_vec(&body) {
        Ok(b) => b,
        Err(e) => return Outcome::Failed(format!("the request could not be built: {e}")),
    };
    let client = match reqwest::Client::builder()
        .timeout(Duration::from_secs_f64(settings.request_timeout_secs))
        .redirect(reqwest::redirect::Policy::none())
        .build()
    {
        Ok(c) => c,
        Err(e) => return Outcome::Failed(format!("no HTTP client: {e}")),
    };
    let mut wait = Duration::from_millis(settings.backoff_ms);
    let attempts = settings.attempts.max(1);
    for attempt in 1..=attempts {
        if !run.heartbeat().await {
            return Outcome::Abandoned;
        }
        // signed afresh each attempt, so a retry is never stale
        let signed = signature::sign(settings.secret.expose_secret().as_bytes(), chrono::Utc::now().timestamp(), job.id.0, &body);
        let sent = client
            .post(&settings.url)
            .headers(crate::telemetry::outgoing_headers())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(signature::HEADER, signed)
            .header("idempotency-key", job.id.to_string())
            .body(body.clone())
            .send()
            .await;
        let retry_reason = match sent {
            Ok(r) if r.status().is_success() => {
                run.log("switchyard", &[format!("the CD system accepted the deploy ({})", r.status())]).await;
                return match app::deploys::service::hand_over(run.pool, job.id, run.worker).await {
                    Ok(_) => Outcome::Handed,
                    Err(e) => {
                        tracing::warn!(deploy = %job.id, error = %e, "could not hand the deploy over");
                        Outcome::Handed
                    }
                };
            }
            Ok(r) if r.status().is_server_error() || r.status() == reqwest::StatusCode::TOO_MANY_REQUESTS => {
                format!("the CD system answered {}", r.status())
            }
            Ok(r) => return Outcome::Failed(format!("the CD system refused the deploy: {}", r.status())),
            Err(e) => format!("the CD system could not be reached ({})", if e.is_timeout() { "timeout" } else { "connection failed" }),
        };
        run.log("switchyard", &[format!("attempt {attempt} of {attempts}: {retry_reason}")]).await;
        if attempt == attempts {
            return Outcome::Failed(format!("{retry_reason}, {attempts} times"));
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(Duration::from_secs(60));
    }
    Outcome::Failed("the CD system was not reached".into())
}
