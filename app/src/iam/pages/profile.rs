use super::access::AccessPanels;
use crate::iam::api::RequestAdminRole;
use crate::iam::types::{Me, Role, TeamRole};
use crate::ui::layout::CurrentUser;
use crate::ui::{Badge, Card, ErrorBox, PageHeader, Tone};
use leptos::prelude::*;
use leptos_meta::Title;

/// The signed-in person: who they are to Switchyard, their teams, their sessions.
#[component]
pub fn ProfilePage() -> impl IntoView {
    let me = CurrentUser::get();
    view! {
        <Title text="Your profile"/>
        <PageHeader title="Your profile" subtitle="Who you are to Switchyard, as your company directory says."/>
        {match me {
            Some(me) => {
                let admin = me.is_admin();
                view! { <Profile me/> {(!admin).then(|| view! { <RequestAdmin/> })} }.into_any()
            }
            None => view! { <ErrorBox error=crate::error::AppError::Unauthenticated/> }.into_any(),
        }}
        <div class="mt-6">
            <AccessPanels everyone=false/>
        </div>
    }
}

#[component]
fn Profile(me: Me) -> impl IntoView {
    let dl = "grid grid-cols-[8rem_1fr] gap-x-4 gap-y-2 p-4 text-sm";
    view! {
        <div class="grid grid-cols-1 gap-6 lg:grid-cols-2">
            <Card title="Account">
                <dl class=dl data-testid="profile">
                    <dt class="text-slate-500 dark:text-slate-400">"Name"</dt><dd>{me.name.clone()}</dd>
                    <dt class="text-slate-500 dark:text-slate-400">"User name"</dt><dd class="font-mono">{me.username.clone()}</dd>
                    <dt class="text-slate-500 dark:text-slate-400">"Email"</dt><dd>{me.email.clone()}</dd>
                    <dt class="text-slate-500 dark:text-slate-400">"Roles"</dt>
                    <dd class="flex gap-2" data-testid="roles">
                        {me.roles.clone().into_iter().map(|r| {
                            let tone = if r == Role::Admin { Tone::Bad } else { Tone::Neutral };
                            view! { <Badge tone>{r.as_str()}</Badge> }
                        }).collect_view()}
                    </dd>
                </dl>
            </Card>
            <Card title="Teams">
                {if me.teams.is_empty() {
                    view! { <p class="p-4 text-sm text-slate-600 dark:text-slate-400">"You are in no team yet. Teams come from your directory groups, or an admin adds you."</p> }.into_any()
                } else {
                    view! {
                        <ul class="divide-y divide-slate-200 dark:divide-slate-800" data-testid="teams">
                            {me.teams.clone().into_iter().map(|t| view! {
                                <li class="flex items-center justify-between px-4 py-2.5 text-sm">
                                    <span>{t.name} <span class="ml-2 font-mono text-xs text-slate-500">{t.slug}</span></span>
                                    <Badge tone=if t.role == TeamRole::Lead { Tone::Info } else { Tone::Neutral }>{t.role.as_str()}</Badge>
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }}
            </Card>
        </div>
    }
}

/// Ask to be made an admin (an approval request any admin may decide); shown to non-admins.
#[component]
fn RequestAdmin() -> impl IntoView {
    let ask = ServerAction::<RequestAdminRole>::new();
    view! {
        <div class="mt-6">
            <Card title="Need admin rights?">
                <ActionForm action=ask attr:class="flex flex-wrap items-end gap-2 p-4">
                    <div class="min-w-64 flex-1">
                        <label for="admin-reason" class="block text-xs font-medium text-slate-600 dark:text-slate-400">"Why do you need them? (required)"</label>
                        <input id="admin-reason" name="reason" required maxlength="2000" class="mt-1 h-9 w-full rounded-lg border border-slate-300 px-3 text-sm dark:border-slate-700 dark:bg-slate-800"/>
                    </div>
                    <button type="submit" class="h-9 rounded-lg bg-indigo-600 px-3 text-sm font-medium text-white hover:bg-indigo-500">"Ask an admin"</button>
                </ActionForm>
                {move || ask.value().get().map(|r| match r {
                    Ok(id) => view! {
                        <p class="px-4 pb-4 text-sm" role="status">"Asked. Follow it on "
                            <a class="text-indigo-700 underline dark:text-indigo-300" href=format!("/approvals/{}", id.0)>"its approval page"</a>"."</p>
                    }.into_any(),
                    Err(e) => view! { <div class="px-4 pb-4"><ErrorBox error=e/></div> }.into_any(),
                })}
            </Card>
        </div>
    }
}
