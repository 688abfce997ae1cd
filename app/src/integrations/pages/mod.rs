//! The integrations' pages: the list, an integration, a run, the systems and their map, a
//! system, unregistered jobs, and the register form.
mod charts;
mod detail;
mod form;
mod list;
mod run;
mod systems;

pub use detail::IntegrationPage;
pub use form::{EditIntegrationPage, RegisterIntegrationPage};
pub use list::{component_integrations_data, ComponentIntegrations, IntegrationsPage, PartnerIntegrations, TouchingData};
pub use run::RunPage;
pub use systems::{SystemPage, SystemsPage, UnregisteredJobsPage};

use crate::integrations::types::{Health, RunState};
use crate::ui::{Badge, Tone};
use chrono::{DateTime, Utc};
use leptos::prelude::*;

pub(crate) fn health_tone(h: Health) -> Tone {
    match h {
        Health::Healthy => Tone::Good,
        Health::Degraded | Health::Late => Tone::Warn,
        Health::Failing => Tone::Bad,
        Health::Unknown | Health::Paused => Tone::Neutral,
    }
}

pub(crate) fn run_tone(s: RunState) -> Tone {
    match s {
        RunState::Succeeded => Tone::Good,
        RunState::SucceededWithWarnings => Tone::Warn,
        RunState::Failed | RunState::Aborted => Tone::Bad,
        RunState::Queued | RunState::Running => Tone::Info,
        RunState::Discarded => Tone::Neutral,
    }
}

#[component]
pub(crate) fn HealthBadge(health: Health) -> impl IntoView {
    view! { <span data-testid="health" data-health=health.as_str()><Badge tone=health_tone(health)>{health.label()}</Badge></span> }
}

#[component]
pub(crate) fn RunBadge(state: RunState) -> impl IntoView {
    view! { <span data-testid="run-state" data-state=state.as_str()><Badge tone=run_tone(state)>{state.label()}</Badge></span> }
}

/// A time as people read it, exact in its tooltip.
#[component]
pub(crate) fn When(at: Option<DateTime<Utc>>) -> impl IntoView {
    match at {
        Some(t) => view! { <time datetime=t.to_rfc3339() title=t.to_rfc3339()>{t.format("%Y-%m-%d %H:%M UTC").to_string()}</time> }.into_any(),
        None => view! { <span class="text-slate-400">"—"</span> }.into_any(),
    }
}

/// An integration (or, with `system`, a system) named by `name` as it was at the page's
/// `as_of` moment, when one is asked.
pub(crate) fn as_of_resource(
    system: bool,
    name: impl Fn() -> String + Send + Sync + 'static,
) -> Resource<Option<Result<crate::audit::types::AsOf, crate::error::AppError>>> {
    let asked = crate::audit::pages::asked_moment();
    Resource::new(move || (name(), asked.get()), move |(name, at)| async move {
        match at {
            Some(at) => Some(crate::integrations::api::as_of(system, name, at).await),
            None => None,
        }
    })
}
