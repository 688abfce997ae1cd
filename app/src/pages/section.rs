use crate::error::AppError;
use crate::iam::pages::AccessPanels;
use crate::ui::layout::CurrentUser;
use crate::ui::{ErrorBox, PageHeader};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn AdminPage() -> impl IntoView {
    let admin = CurrentUser::get().is_some_and(|m| m.is_admin());
    view! {
        <Title text="Admin"/>
        <PageHeader title="Admin" subtitle="Teams, roles, sessions, API tokens and the audit log."/>
        {
                if admin {
                    view! {
                        <div class="mb-6 grid gap-4 sm:grid-cols-2 lg:grid-cols-3">
                            <a href="/admin/audit" class="rounded-xl border border-slate-200 bg-white p-4 shadow-sm hover:border-indigo-300 dark:border-slate-800 dark:bg-slate-900">
                                <div class="font-medium">"Audit log"</div>
                                <div class="mt-1 text-sm text-slate-600 dark:text-slate-400">"Every change, filterable, exportable, verifiable."</div>
                            </a>
                            <a href="/admin/teams" class="rounded-xl border border-slate-200 bg-white p-4 shadow-sm hover:border-indigo-300 dark:border-slate-800 dark:bg-slate-900">
                                <div class="font-medium">"Teams"</div>
                                <div class="mt-1 text-sm text-slate-600 dark:text-slate-400">"Create teams, add members and leads."</div>
                            </a>
                            <a href="/admin/catalog-references" class="rounded-xl border border-slate-200 bg-white p-4 shadow-sm hover:border-indigo-300 dark:border-slate-800 dark:bg-slate-900">
                                <div class="font-medium">"References not in the catalog"</div>
                                <div class="mt-1 text-sm text-slate-600 dark:text-slate-400">"Imported relations and owners waiting for their target."</div>
                            </a>
                            <a href="/approvals?inbox=all" class="rounded-xl border border-slate-200 bg-white p-4 shadow-sm hover:border-indigo-300 dark:border-slate-800 dark:bg-slate-900">
                                <div class="font-medium">"All approval requests"</div>
                                <div class="mt-1 text-sm text-slate-600 dark:text-slate-400">"The history of every decision."</div>
                            </a>
                        </div>
                        <AccessPanels everyone=true/>
                    }.into_any()
                } else {
                    #[cfg(feature = "ssr")]
                    crate::context::respond(AppError::Forbidden);
                    view! { <ErrorBox error=AppError::Forbidden/> }.into_any()
                }
        }
    }
}
