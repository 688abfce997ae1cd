//! One trace from a caller's request through the kick-off, the queue and the worker to the CD
//! system's webhook, as exported over OTLP/HTTP and decoded with opentelemetry-proto.
use crate::helpers::{eventually, Persona};
use crate::{hex, receiver, spawn, turn};
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use opentelemetry_proto::tonic::trace::v1::Span;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use uuid::Uuid;

/// A CD system on 127.0.0.1 that takes every deploy and keeps the `traceparent` each came with.
async fn cd_system() -> (String, Arc<Mutex<Vec<Option<String>>>>) {
    let seen: Arc<Mutex<Vec<Option<String>>>> = Arc::default();
    let keep = seen.clone();
    let app = axum::Router::new().route(
        "/deploy",
        axum::routing::post(move |headers: axum::http::HeaderMap| {
            let keep = keep.clone();
            async move {
                keep.lock().expect("seen").push(headers.get("traceparent").and_then(|v| v.to_str().ok()).map(str::to_owned));
                axum::http::StatusCode::ACCEPTED
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind CD system");
    let url = format!("http://{}/deploy", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await.expect("CD system") });
    (url, seen)
}

fn attribute(span: &Span, key: &str) -> Option<String> {
    span.attributes.iter().find(|a| a.key == key).and_then(|a| match a.value.as_ref()?.value.as_ref()? {
        AnyValue::StringValue(s) => Some(s.clone()),
        AnyValue::IntValue(i) => Some(i.to_string()),
        _ => None,
    })
}

/// Whether `span` descends from the span `ancestor` (by parent ids, within `by_id`).
fn descends(span: &Span, ancestor: &[u8], by_id: &HashMap<Vec<u8>, &Span>) -> bool {
    let mut parent = span.parent_span_id.clone();
    for _ in 0..64 {
        if parent == ancestor {
            return true;
        }
        match by_id.get(&parent) {
            Some(p) => parent = p.parent_span_id.clone(),
            None => return false,
        }
    }
    false
}

#[tokio::test]
async fn a_traced_kick_off_is_one_trace_through_the_request_the_queue_the_worker_and_the_webhook() {
    let _turn = turn().await;
    let (cd_url, cd_seen) = cd_system().await;
    let app = spawn(vec![("deploys.default_executor", "webhook".into()), ("deploys.webhook.url", cd_url.into())]).await;
    let bob = app.login_as(Persona::PaymentsLead).await;

    // the caller's own trace: W3C trace context, sampled
    let trace = Uuid::new_v4().simple().to_string();
    let caller_span = Uuid::new_v4().simple().to_string()[..16].to_owned();
    let kicked = bob
        .client
        .post(bob.url("/api/v1/deploys"))
        .header("origin", bob.url(""))
        .header("idempotency-key", Uuid::new_v4().to_string())
        .header("traceparent", format!("00-{trace}-{caller_span}-01"))
        .json(&json!({ "service": "refunds", "environment": "dev", "version": "v7.7.7", "reason": "trace it" }))
        .send()
        .await
        .expect("kick off");
    let status = kicked.status();
    let body: Value = kicked.json().await.expect("json");
    assert_eq!(status, 201, "{body}");
    let deploy = body["id"].as_str().expect("id").to_owned();

    // the CD system was called with the same trace
    let sent = eventually("the CD system to be called", || async { cd_seen.lock().expect("seen").first().cloned() }).await;
    let sent = sent.expect("the webhook call carries a traceparent");
    assert_eq!(sent.split('-').nth(1), Some(trace.as_str()), "the webhook's traceparent {sent} is of the kick-off's trace {trace}");

    // the spans, as the collector got them
    let (_, received) = receiver();
    let spans = eventually("the worker's span to be exported", || async {
        let spans: Vec<Span> = received.spans().into_iter().filter(|s| hex(&s.trace_id) == trace).collect();
        spans.iter().any(|s| s.name == "deploys.worker.execute" && attribute(s, "deploy").as_deref() == Some(deploy.as_str())).then_some(spans)
    })
    .await;
    let by_id: HashMap<Vec<u8>, &Span> = spans.iter().map(|s| (s.span_id.clone(), s)).collect();
    let names: Vec<&str> = spans.iter().map(|s| s.name.as_str()).collect();

    // the request's span is the caller's span's child
    let request = spans
        .iter()
        .find(|s| s.name == "POST /api/v1/deploys")
        .unwrap_or_else(|| panic!("no request span in the trace: {names:?}"));
    assert_eq!(hex(&request.parent_span_id), caller_span, "the request span's parent is the caller's span");
    // what the router and the sign-in learnt reached the request's own span (its log lines too)
    assert_eq!(attribute(request, "route").as_deref(), Some("/api/v1/deploys"));
    assert_eq!(attribute(request, "user").as_deref(), Some("bob"));
    assert_eq!(attribute(request, "trace_id").as_deref(), Some(trace.as_str()), "the log lines' trace id is the trace's");

    // service and repo calls below it
    let below = |prefix: &str| spans.iter().filter(|s| s.name.starts_with(prefix) && descends(s, &request.span_id, &by_id)).count();
    assert!(below("deploys.service.") >= 1, "no deploy service span below the request: {names:?}");
    assert!(below("catalog.repo.") + below("deploys.repo.") + below("iam.repo.") >= 1, "no repo span below the request: {names:?}");

    // the job's span links to the kick-off (the deploy service's span that queued it), and
    // continues its trace
    let job = spans.iter().find(|s| s.name == "deploys.worker.execute").expect("job span");
    let links: Vec<(String, String)> = job.links.iter().map(|l| (hex(&l.trace_id), hex(&l.span_id))).collect();
    assert_eq!(links.len(), 1, "{links:?}");
    assert_eq!(links[0].0, trace, "the job's link is to the kick-off's trace");
    let kick_off = by_id.get(&job.links[0].span_id).unwrap_or_else(|| panic!("the linked span {links:?} is not in the trace"));
    assert!(kick_off.name.starts_with("deploys.service.") && descends(kick_off, &request.span_id, &by_id), "linked to {}", kick_off.name);
    assert_eq!(job.parent_span_id, kick_off.span_id, "the job continues the kick-off's trace");
    assert_eq!(attribute(job, "executor").as_deref(), Some("webhook"));
    // the worker's own calls are in the job's span
    assert!(spans.iter().any(|s| s.name.starts_with("deploys.service.") && descends(s, &job.span_id, &by_id)), "{names:?}");
    // the group commit that wrote the kick-off links to it too
    let group = received.spans().into_iter().find(|s| s.name == "deploys.queue.group_commit" && s.links.iter().any(|l| hex(&l.trace_id) == trace));
    assert!(group.is_some_and(|g| attribute(&g, "size").as_deref() == Some("1")), "the group commit's span links to the kick-off");
}

#[tokio::test]
async fn a_request_without_a_traceparent_starts_a_trace_of_its_own() {
    let _turn = turn().await;
    let app = spawn(vec![]).await;
    let r = app.get("/readyz").await;
    assert!(r.status().is_success());
    let (_, received) = receiver();
    let span = eventually("the request's span", || async {
        received.spans().into_iter().find(|s| s.name == "GET /readyz" && s.parent_span_id.is_empty())
    })
    .await;
    assert_eq!(span.trace_id.len(), 16);
    assert!(span.trace_id.iter().any(|b| *b != 0));
}
