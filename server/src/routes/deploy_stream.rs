//! `GET /deploys/{id}/stream`: a deploy's transitions and log lines as server-sent events
//! (`event: update`, data a `DeployUpdate`), from the cursor given (query or Last-Event-ID) until
//! the deploy ends — or the session (or token) that opened it ends. Woken by the process's one
//! LISTEN; a timer covers anything missed. One session (or token) has at most
//! `MAX_STREAMS_PER_CALLER` open at once.
use crate::startup::AppState;
use app::deploys::service;
use app::deploys::types::{DeployId, DeployState};
use app::iam::principal::Principal;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use serde::Deserialize;
use app::iam::principal::Via;
use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::broadcast;
use uuid::Uuid;

/// Live streams one session or token may hold open (a few tabs' worth).
pub const MAX_STREAMS_PER_CALLER: usize = 8;

/// How often a stream checks that its session (or token) is still live.
const RECHECK: Duration = Duration::from_secs(5);

/// Open streams per session or token id, in this process.
static OPEN: LazyLock<Mutex<HashMap<Uuid, usize>>> = LazyLock::new(Default::default);

/// One open stream, counted while it lives.
struct Slot(Uuid);

impl Slot {
    fn take(caller: Uuid) -> Option<Slot> {
        let mut open = OPEN.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let n = open.entry(caller).or_default();
        if *n >= MAX_STREAMS_PER_CALLER {
            return None;
        }
        *n += 1;
        Some(Slot(caller))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = OPEN.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(n) = open.get_mut(&self.0) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.0);
            }
        }
    }
}

fn caller_id(p: &Principal) -> Uuid {
    match &p.via {
        Via::Session { session_id } => *session_id,
        Via::Token { token_id, .. } => *token_id,
    }
}


#[derive(Deserialize)]
pub struct Cursor {
    #[serde(default)]
    after_transition: i64,
    #[serde(default)]
    after_log: i64,
}

struct Follow {
    state: AppState,
    principal: Principal,
    id: Uuid,
    after_transition: i64,
    after_log: i64,
    rx: broadcast::Receiver<Uuid>,
    last: Option<(DeployState, Option<i16>)>,
    done: bool,
    checked: Instant,
    _slot: Slot,
    /// Counted in `switchyard_sse_streams_open` while the stream lives.
    _open: crate::metrics::OpenGauge,
}

/// Waits until this deploy is named by a NOTIFY (or a few seconds pass).
async fn wake(rx: &mut broadcast::Receiver<Uuid>, id: Uuid) {
    let wait = async {
        loop {
            match rx.recv().await {
                Ok(n) if n == id => return,
                Ok(_) => continue,
                // lagged: something may have been missed, so look
                Err(broadcast::error::RecvError::Lagged(_)) => return,
                Err(broadcast::error::RecvError::Closed) => std::future::pending::<()>().await,
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(5), wait).await;
}

async fn next(mut f: Follow) -> Option<(Result<Event, std::convert::Infallible>, Follow)> {
    if f.done {
        return None;
    }
    loop {
        if f.checked.elapsed() >= RECHECK {
            if !matches!(app::iam::service::still_live(&f.state.pool, &f.principal).await, Ok(true)) {
                return None; // signed out, or the token revoked: the stream ends with it
            }
            f.checked = Instant::now();
        }
        let u = match service::updates(&f.state.pool, &f.principal, DeployId(f.id), f.after_transition, f.after_log).await {
            Ok(u) => u,
            Err(e) => {
                tracing::warn!(deploy = %f.id, error = %e, "deploy stream stopped");
                return None;
            }
        };
        let changed = !u.transitions.is_empty() || !u.log.is_empty() || f.last != Some((u.state, u.progress));
        if changed {
            f.after_transition = u.last_transition;
            f.after_log = u.log.last().map(|l| l.id).unwrap_or(f.after_log);
            f.last = Some((u.state, u.progress));
            // the log may hold more than one answer's worth: keep going before declaring the end
            f.done = u.state.is_final() && u.log.len() < 1000;
            let event = Event::default()
                .event("update")
                .id(format!("{}:{}", f.after_transition, f.after_log))
                .json_data(&u)
                .unwrap_or_else(|_| Event::default().comment("unserialisable update"));
            return Some((Ok(event), f));
        }
        if u.state.is_final() {
            return None;
        }
        wake(&mut f.rx, f.id).await;
    }
}

pub async fn stream(
    State(state): State<AppState>,
    principal: Option<Extension<Principal>>,
    Path(id): Path<Uuid>,
    Query(cursor): Query<Cursor>,
    headers: HeaderMap,
) -> Response {
    let Some(Extension(principal)) = principal else { return StatusCode::UNAUTHORIZED.into_response() };
    // a reconnecting EventSource says where it got to
    let resume = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(':'))
        .and_then(|(t, l)| Some((t.parse::<i64>().ok()?, l.parse::<i64>().ok()?)));
    let (after_transition, after_log) = resume.unwrap_or((cursor.after_transition, cursor.after_log));
    if let Err(e) = service::get(&state.pool, &principal, DeployId(id)).await {
        let e = app::error::AppError::from(e);
        return (StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), e.to_string()).into_response();
    }
    let Some(slot) = Slot::take(caller_id(&principal)) else {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            format!("{MAX_STREAMS_PER_CALLER} live deploy streams are open for this session already; close a deploy page first"),
        )
            .into_response();
    };
    let rx = state.deploy_events.subscribe();
    let follow = Follow { state, principal, id, after_transition, after_log, rx, last: None, done: false, checked: Instant::now(), _slot: slot, _open: crate::metrics::OpenGauge::open("switchyard_sse_streams_open") };
    Sse::new(futures::stream::unfold(follow, next)).keep_alive(KeepAlive::default()).into_response()
}
