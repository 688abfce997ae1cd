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
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
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
        <Stylesheet id="leptos" href="/pkg/switchyard.css"/>
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
