//! Deploy pages: the list, the kick-off form, one deploy (live), a service's history per
//! environment, and the freeze calendar.
mod detail;
mod freezes;
mod history;
mod list;
mod new;

pub use detail::DeployDetailPage;
pub use freezes::FreezeCalendarPage;
pub use history::{runs_where_data, RunsWhereCard, RunsWhereData, ServiceDeploysPage};
pub use list::DeploysPage;
pub use new::NewDeployPage;

use super::types::DeployState;
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

fn when(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

