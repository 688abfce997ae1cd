//! Deploy pages: the list, the kick-off form, one deploy (live), a service's history per
//! environment, and the freeze calendar.
mod detail;
mod freezes;
mod history;
mod list;
mod new;

pub use detail::DeployDetailPage;
pub use freezes::FreezeCalendarPage;
pub use history::ServiceDeploysPage;
pub use list::DeploysPage;
pub use new::NewDeployPage;

use super::types::{DeployState, Problem};
use crate::ui::Tone;

pub fn state_tone(s: DeployState) -> Tone {
    match s {
        DeployState::Succeeded => Tone::Good,
        DeployState::Failed | DeployState::Rejected => Tone::Bad,
        DeployState::Running | DeployState::Queued => Tone::Info,
        DeployState::AwaitingApproval | DeployState::Requested => Tone::Warn,
        DeployState::Cancelled | DeployState::Expired => Tone::Neutral,
    }
}

/// The problems a refused no-JS post left in the URL.
fn problems_from(q: &leptos_router::params::ParamsMap) -> Vec<Problem> {
    q.get("errors").and_then(|e| serde_json::from_str(&e).ok()).unwrap_or_default()
}

fn when(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

const INPUT: &str = "mt-1 h-9 w-full rounded-lg border border-slate-300 px-3 text-sm dark:border-slate-700 dark:bg-slate-800";
const LABEL: &str = "block text-sm font-medium";
const BUTTON: &str = "h-9 rounded-lg bg-indigo-600 px-3 text-sm font-medium text-white hover:bg-indigo-500 disabled:opacity-50";
const ERROR: &str = "mt-1 text-sm text-rose-700 dark:text-rose-300";
