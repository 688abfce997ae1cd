//! The document shell and the route table.
use crate::audit::pages::AuditPage;
use crate::catalog::pages::{CatalogPage, EditPage, EntityPage, ImportPage, RegisterPage, TeamPage, UnresolvedPage};
use crate::iam::pages::{ProfilePage, TeamsPage};
use crate::pages::home::HomePage;
use crate::pages::not_found::NotFound;
use crate::apidocs::page::ApiDocsPage;
use crate::approvals::pages::{ApprovalPage, InboxPage};
use crate::deploys::pages::{DeployDetailPage, DeploysPage, FreezeCalendarPage, NewDeployPage, ServiceDeploysPage};
use crate::calendar::pages::CalendarPage;
use crate::pages::section::AdminPage;
use crate::topology::pages::{CircuitPage, DevicePage, DevicesPage, PartnerPage, PathsPage, SitePage, TopologyPage};
use crate::integrations::pages::{EditIntegrationPage, IntegrationPage, IntegrationsPage, RegisterIntegrationPage, RunPage, SystemPage, SystemsPage, UnregisteredJobsPage};
use crate::ui::AppShell;
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, MetaTags, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{lazy_route, path, Lazy, LazyRoute, SsrMode};

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
                {content_security_policy()}
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

/// The page's Content-Security-Policy, as a response header: scripts only from the site and
/// inline ones carrying this response's nonce (Leptos's hydration script, the banner below),
/// WebAssembly compiled, styles from the site's stylesheet (and `style` attributes, which the
/// progress bars use), nothing framing it. Other responses get a stricter one from the server.
fn content_security_policy() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let (Some(nonce), Some(response)) = (leptos::nonce::use_nonce(), use_context::<leptos_axum::ResponseOptions>()) {
        let policy = format!(
            "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self'; \
             style-src-attr 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; object-src 'none'; \
             base-uri 'none'; frame-ancestors 'none'"
        );
        if let Ok(value) = http::HeaderValue::from_str(&policy) {
            response.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
        }
    }
}

/// The page's own script (it carries the response's nonce). It asks before a destructive button
/// acts, and tells the reader, in a banner, when the page's script bundle could not be loaded or started
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
  // a destructive button says `data-confirm="…"`: asked before anything else hears the click
  // (the policy runs no inline handlers, so this is how pages confirm)
  addEventListener('click', function (e) {
    var b = e.target && e.target.closest ? e.target.closest('[data-confirm]') : null;
    if (b && !confirm(b.getAttribute('data-confirm'))) { e.preventDefault(); e.stopImmediatePropagation(); }
  }, true);
})();"#;
    view! { <script nonce=leptos::nonce::use_nonce() inner_html=SCRIPT></script> }
}

/// Marks the page as live once the view around it has hydrated (tests wait on it). An effect runs
/// only in the browser, after the view it was made in: inside a lazy route, after that route's
/// chunk arrived and its page hydrated.
pub fn mark_hydrated() {
    Effect::new(|_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
}

/// Every page is a lazy route: its code is a WASM chunk of its own, fetched the first time the
/// page is shown or hydrated, so a first visit loads the shell and one page, not all of them.
/// (Code that several pages share lands in chunks they load together; the shell stays in the
/// main module.)
macro_rules! lazy_pages {
    ($($route:ident => $page:ident),* $(,)?) => {$(
        struct $route;
        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                $route
            }
            fn view(_this: Self) -> AnyView {
                mark_hydrated();
                view! { <$page/> }.into_any()
            }
        }
    )*};
}

lazy_pages! {
    HomeRoute => HomePage,
    CatalogRoute => CatalogPage,
    RegisterRoute => RegisterPage,
    ImportRoute => ImportPage,
    EditRoute => EditPage,
    EntityRoute => EntityPage,
    TeamRoute => TeamPage,
    IntegrationsRoute => IntegrationsPage,
    IntegrationRoute => IntegrationPage,
    NewIntegrationRoute => RegisterIntegrationPage,
    EditIntegrationRoute => EditIntegrationPage,
    IntegrationRunRoute => RunPage,
    SystemsRoute => SystemsPage,
    SystemRoute => SystemPage,
    UnregisteredJobsRoute => UnregisteredJobsPage,
    TopologyRoute => TopologyPage,
    DevicesRoute => DevicesPage,
    DeviceRoute => DevicePage,
    SiteRoute => SitePage,
    PartnerRoute => PartnerPage,
    CircuitRoute => CircuitPage,
    PathsRoute => PathsPage,
    DeploysRoute => DeploysPage,
    NewDeployRoute => NewDeployPage,
    FreezeCalendarRoute => FreezeCalendarPage,
    CalendarRoute => CalendarPage,
    ServiceDeploysRoute => ServiceDeploysPage,
    DeployDetailRoute => DeployDetailPage,
    InboxRoute => InboxPage,
    ApprovalRoute => ApprovalPage,
    AdminRoute => AdminPage,
    AuditRoute => AuditPage,
    TeamsRoute => TeamsPage,
    UnresolvedRoute => UnresolvedPage,
    ProfileRoute => ProfilePage,
    ApiDocsRoute => ApiDocsPage,
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Title formatter=|page: String| format!("{page} · Switchyard")/>
        // Pages stream in order (SsrMode::InOrder): they read complete without JavaScript. (Async
        // mode hung about one response in a thousand under parallel load in our tests, in
        // Leptos's Suspense machinery; InOrder did not in ten full runs.)
        <Router>
            <AppShell>
                <Routes fallback=NotFound>
                    <Route path=path!("/") view={Lazy::<HomeRoute>::new()} ssr=SsrMode::InOrder/>
                    <Route path=path!("/catalog") view={Lazy::<CatalogRoute>::new()} ssr=SsrMode::InOrder/>
                    <Route path=path!("/catalog/new") view={Lazy::<RegisterRoute>::new()} ssr=SsrMode::InOrder/>
                    <Route path=path!("/catalog/import") view={Lazy::<ImportRoute>::new()} ssr=SsrMode::InOrder/>
                    <Route path=path!("/catalog/component/default/:name/edit") view={Lazy::<EditRoute>::new()} ssr=SsrMode::InOrder/>
                    <Route path=path!("/catalog/:kind/:namespace/:name") view={Lazy::<EntityRoute>::new()} ssr=SsrMode::InOrder/>
                    <Route path=path!("/teams/:slug") view={Lazy::<TeamRoute>::new()} ssr=SsrMode::InOrder/>
                    <Route path=path!("/integrations") view={Lazy::<IntegrationsRoute>::new()} ssr=SsrMode::InOrder/>
                    <Route path=path!("/integrations/new") view={Lazy::<NewIntegrationRoute>::new()} ssr=SsrMode::InOrder/>
                    <Route path=path!("/integrations/unregistered-jobs") view={Lazy::<UnregisteredJobsRoute>::new()} ssr=SsrMode::InOrder/>
                    <Route path=path!("/integrations/systems") view={Lazy::<SystemsRoute>::new()} ssr=SsrMode::InOrder/>
                    <Route path=path!("/integrations/systems/:name") view={Lazy::<SystemRoute>::new()} ssr=SsrMode::InOrder/>
                    <Route path=path!("/integrations/runs/:id") view={Lazy::<IntegrationRunRoute>::new()} ssr=SsrMode::InOrder/>
                    <Route path=path!("/integrations/:name") view={Lazy::<IntegrationRoute>::new()} ssr=SsrMode::InOrder/>
                    <Route path=path!("/integrations/:name/edit") view={Lazy::<EditIntegrationRoute>::new()} ssr=SsrMode::InOrder/>
                    <Route path=path!("/topology") view={Lazy::<TopologyRoute>::new()} ssr=SsrMode::InOrder/>
                    <Route path=path!("/topology/devices") view={Lazy::<DevicesRoute>::new()} ssr=SsrMode::InOrder/>
                    <Route path=path!("/topology/devices/:name") view={Lazy::<DeviceRoute>::new()} ssr=SsrMode::InOrder/>
                    <Route path=path!("/topology/sites/:name") view={Lazy::<SiteRoute>::new()} ssr=SsrMode::InOrder/>
                    <Route path=path!("/topology/partners/:name") view={Lazy::<PartnerRoute>::new()} ssr=SsrMode::InOrder/>
                    <Route path=path!("/topology/circuits/:provider/:cid") view={Lazy::<CircuitRoute>::new()} ssr=SsrMode::InOrder/>
                    <Route path=path!("/topology/paths") view={Lazy::<PathsRoute>::new()} ssr=SsrMode::InOrder/>
                    <Route path=path!("/deploys") view={Lazy::<DeploysRoute>::new()} ssr=SsrMode::InOrder/>
                    <Route path=path!("/deploys/new") view={Lazy::<NewDeployRoute>::new()} ssr=SsrMode::InOrder/>
                    <Route path=path!("/deploys/freezes") view={Lazy::<FreezeCalendarRoute>::new()} ssr=SsrMode::InOrder/>
                    <Route path=path!("/deploys/service/:name") view={Lazy::<ServiceDeploysRoute>::new()} ssr=SsrMode::InOrder/>
                    <Route path=path!("/deploys/:id") view={Lazy::<DeployDetailRoute>::new()} ssr=SsrMode::InOrder/>
                    <Route path=path!("/calendar") view={Lazy::<CalendarRoute>::new()} ssr=SsrMode::InOrder/>
                    <Route path=path!("/approvals") view={Lazy::<InboxRoute>::new()} ssr=SsrMode::InOrder/>
                    <Route path=path!("/approvals/:id") view={Lazy::<ApprovalRoute>::new()} ssr=SsrMode::InOrder/>
                    <Route path=path!("/admin") view={Lazy::<AdminRoute>::new()} ssr=SsrMode::InOrder/>
                    <Route path=path!("/admin/audit") view={Lazy::<AuditRoute>::new()} ssr=SsrMode::InOrder/>
                    <Route path=path!("/admin/teams") view={Lazy::<TeamsRoute>::new()} ssr=SsrMode::InOrder/>
                    <Route path=path!("/admin/catalog-references") view={Lazy::<UnresolvedRoute>::new()} ssr=SsrMode::InOrder/>
                    <Route path=path!("/me") view={Lazy::<ProfileRoute>::new()} ssr=SsrMode::InOrder/>
                    <Route path=path!("/docs/api") view={Lazy::<ApiDocsRoute>::new()} ssr=SsrMode::InOrder/>
                </Routes>
            </AppShell>
        </Router>
    }
}
