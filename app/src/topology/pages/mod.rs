//! The topology's pages: the view (an interactive WebGL drawing, with a server-drawn overview
//! and tables under it that read without a script), a device, a site, a partner, a circuit,
//! the devices list and the paths between two places.
mod blast;
mod changes;
mod detail;
mod overview;
mod sync;

pub use detail::{CircuitPage, DevicePage, DevicesPage, PartnerPage, PathsPage, SitePage};
pub use blast::{network_needs_data, NetworkNeedsCard, NetworkNeedsData};
pub use overview::TopologyPage;

use crate::ui::{Badge, Tone};
use leptos::prelude::*;
use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};

/// What a name must escape to be one segment of a path.
const SEGMENT: &AsciiSet = &CONTROLS.add(b' ').add(b'"').add(b'#').add(b'%').add(b'/').add(b'<').add(b'>').add(b'?').add(b'`').add(b'{').add(b'}').add(b'\\');

pub(crate) fn seg(name: &str) -> String {
    utf8_percent_encode(name, SEGMENT).to_string()
}

pub(crate) fn device_href(name: &str) -> String {
    format!("/topology/devices/{}", seg(name))
}

pub(crate) fn site_href(name: &str) -> String {
    format!("/topology/sites/{}", seg(name))
}

pub(crate) fn partner_href(name: &str) -> String {
    format!("/topology/partners/{}", seg(name))
}

pub(crate) fn circuit_href(provider: &str, cid: &str) -> String {
    format!("/topology/circuits/{}/{}", seg(provider), seg(cid))
}

/// The words people use for a site's kind.
pub(crate) fn site_kind(kind: &str) -> &'static str {
    match kind {
        "data_center" => "Data center",
        "colocation" => "Colocation",
        "cloud_region" => "Cloud region",
        "office" => "Office",
        _ => "Site",
    }
}

pub(crate) fn partner_kind(kind: &str) -> &'static str {
    match kind {
        "bank" => "Bank",
        "card_network" => "Card network",
        "cloud" => "Cloud",
        "carrier" => "Carrier",
        _ => "Partner",
    }
}

/// A BGP session's state, green only when established.
#[component]
pub(crate) fn SessionState(state: String) -> impl IntoView {
    let tone = match state.as_str() {
        "established" => Tone::Good,
        "idle" => Tone::Bad,
        _ => Tone::Warn,
    };
    let shown = state.clone();
    view! { <span data-testid="session-state" data-state=state><Badge tone>{shown}</Badge></span> }
}

/// A speed in kbit/s as people say it.
pub(crate) fn speed(kbps: Option<i64>) -> String {
    match kbps {
        None => "—".into(),
        Some(k) if k >= 1_000_000 && k % 1_000_000 == 0 => format!("{} Gbit/s", k / 1_000_000),
        Some(k) if k >= 1_000_000 => format!("{:.1} Gbit/s", k as f64 / 1e6),
        Some(k) if k >= 1_000 => format!("{} Mbit/s", k / 1_000),
        Some(k) => format!("{k} kbit/s"),
    }
}

pub(crate) const LINK: &str = "font-medium text-indigo-700 hover:underline dark:text-indigo-300";
pub(crate) const TD: &str = "px-4 py-2 text-sm";
pub(crate) const DT: &str = "text-xs font-medium uppercase tracking-wide text-slate-500 dark:text-slate-400";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_one_path_segment() {
        assert_eq!(seg("fra1-core-1"), "fra1-core-1");
        assert_eq!(seg("Bank X / EU"), "Bank%20X%20%2F%20EU");
        assert_eq!(device_href("a?b#c"), "/topology/devices/a%3Fb%23c");
    }

    #[test]
    fn speeds_read_as_people_say_them() {
        assert_eq!(speed(Some(10_000_000)), "10 Gbit/s");
        assert_eq!(speed(Some(2_500_000)), "2.5 Gbit/s");
        assert_eq!(speed(Some(100_000)), "100 Mbit/s");
        assert_eq!(speed(None), "—");
    }
}
