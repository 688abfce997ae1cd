//! References kept as declared that wait for their target: relations to entities not in the
//! catalog, owners that are no team or person here (admins).
use crate::catalog::api::list_unresolved;
use crate::catalog::types::UnresolvedRef;
use crate::ui::icons::Icon;
use crate::ui::{Card, DataTable, EmptyState, ErrorBox, Loading, PageHeader};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn UnresolvedPage() -> impl IntoView {
    // decided before anything streams, so the status is 403 (not a 200 with the refusal inside,
    // as it would be if the list's own refusal came after the first chunk)
    if !crate::ui::layout::CurrentUser::get().is_some_and(|m| m.is_admin()) {
        #[cfg(feature = "ssr")]
        crate::context::respond(crate::error::AppError::Forbidden);
        return view! { <Title text="References not in the catalog"/><ErrorBox error=crate::error::AppError::Forbidden/> }.into_any();
    }
    let refs = Resource::new(|| (), |_| list_unresolved());
    view! {
        <Title text="References not in the catalog"/>
        <PageHeader
            title="References not in the catalog"
            subtitle="Imported relations and owners whose target is not here yet. Each resolves by itself when an entity, team or person of that name arrives."/>
        <Suspense fallback=|| view! { <Loading rows=6/> }>
            {move || Suspend::new(async move {
                match refs.await {
                    Ok(list) if list.is_empty() => view! {
                        <EmptyState icon=Icon::Catalog title="Every reference resolves">"No imported relation or owner is waiting for its target."</EmptyState>
                    }.into_any(),
                    Ok(list) => view! { <Unresolved list/> }.into_any(),
                    Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
    .into_any()
}

#[component]
fn Unresolved(list: Vec<UnresolvedRef>) -> impl IntoView {
    let shown = list.len();
    view! {
        <Card title="Waiting for their target">
            <p class="px-4 pt-3 text-sm text-slate-600 dark:text-slate-400" data-testid="unresolved-count">
                {format!("{shown} reference(s){}", if shown >= 1000 { ", the first 1,000" } else { "" })}
            </p>
            <DataTable testid="unresolved" columns=vec!["Waiting for", "Declared by", "As"]>
                {list.into_iter().map(|u| view! {
                    <tr class="align-top">
                        <td class="px-4 py-2 font-mono text-xs">{u.target}</td>
                        <td class="px-4 py-2 text-sm">
                            <a class="text-indigo-700 hover:underline dark:text-indigo-300" href=u.entity.href()>{u.entity.short()}</a>
                        </td>
                        <td class="px-4 py-2 text-xs text-slate-600 dark:text-slate-400">{u.relation.replace('_', " ")}</td>
                    </tr>
                }).collect_view()}
            </DataTable>
        </Card>
    }
}
