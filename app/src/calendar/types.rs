//! The change calendar's shapes: one timeline of what changes or must not be disturbed —
//! deploy freezes, the network's maintenance windows and the scheduled runs of critical
//! integrations — and the clashes between them.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Days the calendar shows unless asked otherwise.
pub const DEFAULT_DAYS: i64 = 28;
/// The longest span one read may cover.
pub const MAX_DAYS: i64 = 92;
/// The most events one read returns (the soonest).
pub const MAX_EVENTS: usize = 3_000;

/// One thing on the change calendar.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CalendarEvent {
    /// Stable from one read to the next: what a calendar app keys the event by.
    pub uid: String,
    /// `freeze`, `maintenance`, or `integration` (a critical integration's scheduled run).
    pub kind: String,
    pub title: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// What it is on: the environment frozen, the device, circuit or site, the integration.
    pub on: String,
    /// The page of what it is on.
    pub href: String,
    /// A line more: the freeze's schedule, the change ticket, why the integration's runs are critical.
    pub detail: String,
    /// The teams, catalog components (`kind:namespace/name`), sites and partners it touches:
    /// a freeze touches every team and component; maintenance what its blast radius reaches;
    /// an integration's run its owner, the components at its ends, the partners hosting its
    /// systems and the sites where those partners' BGP sessions land.
    pub teams: Vec<String>,
    pub services: Vec<String>,
    pub sites: Vec<String>,
    pub partners: Vec<String>,
    /// Maintenance: the partners cut off while it lasts.
    pub cuts_off: Vec<String>,
    /// What clashes with it, each said in a line: maintenance that cuts off a partner during
    /// a critical integration's run with it (on both).
    pub clashes: Vec<String>,
}

/// What the calendar is narrowed to (each empty when not).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema, utoipa::IntoParams))]
#[cfg_attr(feature = "ssr", into_params(parameter_in = Query))]
#[serde(default)]
pub struct CalendarQuery {
    /// The first day (`YYYY-MM-DD`, UTC) or moment (RFC 3339); today by default.
    pub from: String,
    /// The last day (`YYYY-MM-DD`, included) or the moment it ends (RFC 3339); four weeks on by default, at most 92 days after `from`.
    pub to: String,
    /// A team's name: what its services and integrations are touched by (and every freeze).
    pub team: String,
    /// A catalog component, by name or `kind:namespace/name` (and every freeze).
    pub service: String,
    /// A site's name.
    pub site: String,
    /// A partner's name.
    pub partner: String,
}

/// The change calendar over a span of time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ChangeCalendar {
    pub from: DateTime<Utc>,
    pub until: DateTime<Utc>,
    /// The query as read (trimmed).
    pub query: CalendarQuery,
    /// Soonest first.
    pub events: Vec<CalendarEvent>,
    /// More events matched than `MAX_EVENTS`: the latest were left off.
    pub truncated: bool,
    /// What the filters offer: every team, component, site and partner touched in the span.
    pub teams: Vec<String>,
    pub services: Vec<String>,
    pub sites: Vec<String>,
    pub partners: Vec<String>,
}

impl ChangeCalendar {
    /// How many events are flagged with a clash.
    pub fn clashing(&self) -> usize {
        self.events.iter().filter(|e| !e.clashes.is_empty()).count()
    }
}
