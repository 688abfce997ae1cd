use super::table::ServiceTable;
use crate::catalog::api::search_services;
use crate::ui::icons::Icon;
use crate::ui::{Card, EmptyState, ErrorBox, Loading, PageHeader};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// The catalog: every service, or those matching `?q=`.
#[component]
pub fn CatalogPage() -> impl IntoView {
    let query = use_query_map();
    let text = move || query.read().get("q").unwrap_or_default();
    let services = Resource::new(text, search_services);
    view! {
        <Title text="Catalog"/>
        <PageHeader title="Catalog" subtitle="Services, who owns them, and how critical they are."/>
        <Card>
            <Suspense fallback=|| view! { <div class="p-4"><Loading rows=6/></div> }>
                {move || Suspend::new(async move {
                    let text = text();
                    match services.await {
                        Ok(list) if list.is_empty() && text.is_empty() => view! {
                            <EmptyState icon=Icon::Catalog title="The catalog is empty">
                                "Services appear here once they are registered."
                            </EmptyState>
                        }.into_any(),
                        Ok(list) if list.is_empty() => view! {
                            <div class="p-6 text-sm" data-testid="no-results">
                                "No service matches “" {text} "”. Try a shorter or different word."
                            </div>
                        }.into_any(),
                        Ok(list) => {
                            let summary = if text.is_empty() {
                                format!("{} services", list.len())
                            } else {
                                format!("{} services match “{}”", list.len(), text)
                            };
                            view! {
                                <p class="border-b border-slate-200 px-4 py-2 text-xs text-slate-500 dark:border-slate-800 dark:text-slate-400" data-testid="result-count">{summary}</p>
                                <ServiceTable services=list/>
                            }.into_any()
                        }
                        Err(e) => view! { <div class="p-4"><ErrorBox error=e/></div> }.into_any(),
                    }
                })}
            </Suspense>
        </Card>
    }
}
