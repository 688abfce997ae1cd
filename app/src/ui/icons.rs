//! Inline SVG icons (stroke style, 24×24 grid, `currentColor`).
use leptos::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Icon {
    Home,
    Catalog,
    Integrations,
    Topology,
    Deploys,
    Calendar,
    Approvals,
    Admin,
    Menu,
    Search,
    Alert,
    Logo,
}

impl Icon {
    fn paths(self) -> &'static [&'static str] {
        match self {
            Icon::Home => &["M3 11l9-7 9 7", "M5 10v10h5v-6h4v6h5V10"],
            Icon::Catalog => &["M4 5h16v4H4z", "M4 11h16v4H4z", "M4 17h16v3H4z", "M7 7h.01", "M7 13h.01"],
            Icon::Integrations => &["M4 7h9", "M10 4l3 3-3 3", "M20 17h-9", "M14 14l-3 3 3 3", "M18 7h2", "M4 17h2"],
            Icon::Topology => &["M12 3v5", "M12 16v5", "M5 12H3", "M21 12h-2", "M9 9h6v6H9z", "M5 5l3 3", "M19 19l-3-3", "M19 5l-3 3", "M5 19l3-3"],
            Icon::Deploys => &["M12 3l4 4h-3v7h-2V7H8z", "M5 14v5h14v-5"],
            Icon::Calendar => &["M4 6h16v14H4z", "M4 10h16", "M8 3v4", "M16 3v4"],
            Icon::Approvals => &["M9 12l2 2 4-4", "M12 3l7 3v5c0 5-3 8-7 10-4-2-7-5-7-10V6z"],
            Icon::Admin => &["M12 15a3 3 0 100-6 3 3 0 000 6z", "M19 12h2", "M3 12h2", "M12 3v2", "M12 19v2", "M17 7l1.5-1.5", "M5.5 18.5L7 17", "M17 17l1.5 1.5", "M5.5 5.5L7 7"],
            Icon::Menu => &["M4 6h16", "M4 12h16", "M4 18h16"],
            Icon::Search => &["M11 18a7 7 0 100-14 7 7 0 000 14z", "M20 20l-4-4"],
            Icon::Alert => &["M12 9v4", "M12 17h.01", "M10.3 4.2L2.6 18a2 2 0 001.7 3h15.4a2 2 0 001.7-3L13.7 4.2a2 2 0 00-3.4 0z"],
            Icon::Logo => &["M3 17h7l4-10h7", "M3 7h7l1.6 4", "M14 17h7"],
        }
    }
}

#[component]
pub fn IconSvg(icon: Icon, #[prop(default = "h-5 w-5")] class: &'static str) -> impl IntoView {
    view! {
        <svg
            class=class
            viewBox="0 0 24 24"
            fill="none"
            stroke="currentColor"
            stroke-width="1.8"
            stroke-linecap="round"
            stroke-linejoin="round"
            aria-hidden="true"
        >
            {icon.paths().iter().map(|d| view! { <path d=*d></path> }).collect_view()}
        </svg>
    }
}
