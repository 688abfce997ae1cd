//! The document shell and the route table.
use crate::audit::pages::AuditPage;
use crate::catalog::pages::{CatalogPage, EditPage, EntityPage, ImportPage, RegisterPage, TeamPage};
use crate::iam::pages::{ProfilePage, TeamsPage};
use crate::pages::home::HomePage;
use crate::pages::not_found::NotFound;
use crate::apidocs::page::ApiDocsPage;
use crate::approvals::pages::{ApprovalPage, InboxPage};
use crate::deploys::pages::{DeployDetailPage, DeploysPage, FreezeCalendarPage, NewDeployPage, ServiceDeploysPage};
use crate::pages::section::{AdminPage, IntegrationsPage, TopologyPage};
use crate::ui::AppShell;
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, MetaTags, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{path, SsrMode};

/// The HTML document the server renders around the app.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <link rel="icon" type="image/svg+xml" href="/favicon.svg"/>
                <AutoReload options=options.clone()/>
                <HashedStylesheet options=options.clone() id="leptos"/>
                {bundle_failure_script()}
                <HydrationScripts options/>
                <MetaTags/>
                {crate::ui::layout::me_script()}
            </head>
            <body class="antialiased">
                <App/>
            </body>
        </html>
    }
}

/// Tells the reader, in a banner, when the page's script bundle could not be loaded or started
/// (a missing or mismatched file, a panic while hydrating): the page still works as it would
/// without JavaScript, but silently falling back hides a broken deploy. After hydration, a WASM
/// trap (a panic) says the page stopped responding. Text only, no markup from outside.
fn bundle_failure_script() -> impl IntoView {
    const SCRIPT: &str = r#"(function () {
  function show(message) {
    if (document.getElementById('bundle-failed')) return;
    var box = document.createElement('div');
    box.id = 'bundle-failed';
    box.setAttribute('role', 'alert');
    box.className = 'fixed inset-x-0 bottom-0 z-50 border-t border-amber-300 bg-amber-50 px-4 py-3 text-sm text-amber-950 dark:border-amber-700 dark:bg-amber-950 dark:text-amber-100';
    box.textContent = message;
    (document.body || document.documentElement).appendChild(box);
  }
  function failed(reason) {
    var hydrated = document.body && document.body.getAttribute('data-hydrated') === 'true';
    var trap = typeof WebAssembly !== 'undefined' && reason instanceof WebAssembly.RuntimeError;
    if (!hydrated) {
      show('This page’s script could not be loaded, so it works only as a plain page: links and forms still work. Reload to try again; if this persists, the site may be mid-deploy.');
    } else if (trap) {
      show('This page’s script stopped with an error. Reload the page to continue.');
    }
  }
  addEventListener('unhandledrejection', function (e) { failed(e.reason); });
  addEventListener('error', function (e) { failed(e.error); });
})();"#;
    view! { <script inner_html=SCRIPT></script> }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Effects run only in the browser, after hydration: mark the page as live (tests wait on it).
    Effect::new(|_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
    view! {
        <Title formatter=|page: String| format!("{page} · Switchyard")/>
        // Pages stream in order (SsrMode::InOrder): they read complete without JavaScript. (Async
        // mode hung about one response in a thousand under parallel load in our tests, in
        // Leptos's Suspense machinery; InOrder did not in ten full runs.)
        <Router>
            <AppShell>
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=HomePage ssr=SsrMode::InOrder/>
                    <Route path=path!("/catalog") view=CatalogPage ssr=SsrMode::InOrder/>
                    <Route path=path!("/catalog/new") view=RegisterPage ssr=SsrMode::InOrder/>
                    <Route path=path!("/catalog/import") view=ImportPage ssr=SsrMode::InOrder/>
                    <Route path=path!("/catalog/component/default/:name/edit") view=EditPage ssr=SsrMode::InOrder/>
                    <Route path=path!("/catalog/:kind/:namespace/:name") view=EntityPage ssr=SsrMode::InOrder/>
                    <Route path=path!("/teams/:slug") view=TeamPage ssr=SsrMode::InOrder/>
                    <Route path=path!("/integrations") view=IntegrationsPage ssr=SsrMode::InOrder/>
                    <Route path=path!("/topology") view=TopologyPage ssr=SsrMode::InOrder/>
                    <Route path=path!("/deploys") view=DeploysPage ssr=SsrMode::InOrder/>
                    <Route path=path!("/deploys/new") view=NewDeployPage ssr=SsrMode::InOrder/>
                    <Route path=path!("/deploys/freezes") view=FreezeCalendarPage ssr=SsrMode::InOrder/>
                    <Route path=path!("/deploys/service/:name") view=ServiceDeploysPage ssr=SsrMode::InOrder/>
                    <Route path=path!("/deploys/:id") view=DeployDetailPage ssr=SsrMode::InOrder/>
                    <Route path=path!("/approvals") view=InboxPage ssr=SsrMode::InOrder/>
                    <Route path=path!("/approvals/:id") view=ApprovalPage ssr=SsrMode::InOrder/>
                    <Route path=path!("/admin") view=AdminPage ssr=SsrMode::InOrder/>
                    <Route path=path!("/admin/audit") view=AuditPage ssr=SsrMode::InOrder/>
                    <Route path=path!("/admin/teams") view=TeamsPage ssr=SsrMode::InOrder/>
                    <Route path=path!("/me") view=ProfilePage ssr=SsrMode::InOrder/>
                    <Route path=path!("/docs/api") view=ApiDocsPage ssr=SsrMode::InOrder/>
                </Routes>
            </AppShell>
        </Router>
    }
}
