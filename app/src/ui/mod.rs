//! Switchyard's design system: the shell, and the small pieces every page is built from.
pub mod form;
pub mod graph;
pub mod icons;
pub mod layout;
pub mod widgets;

pub use layout::AppShell;
pub use widgets::*;
