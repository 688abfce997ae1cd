//! Switchyard's design system: the shell, and the small pieces every page is built from.
pub mod form;
pub mod graph;
pub mod icons;
pub mod layout;
pub mod widgets;

pub use layout::AppShell;
pub use widgets::*;

/// A card's read that a page starts beside its own data (a component's cards on its page). On
/// the server it runs with a response of its own, so the card's error, which the card shows,
/// cannot set the page's status: the page's own data decides that. In the browser it is the
/// read itself.
pub fn card_read<F: std::future::Future>(read: F) -> impl std::future::Future<Output = F::Output> {
    #[cfg(feature = "ssr")]
    {
        use leptos::prelude::{provide_context, Owner};
        let scope = Owner::current().map(|o| o.child()).unwrap_or_default();
        scope.with(|| {
            provide_context(leptos_axum::ResponseOptions::default());
            leptos::reactive::computed::ScopedFuture::new(read)
        })
    }
    #[cfg(not(feature = "ssr"))]
    read
}
