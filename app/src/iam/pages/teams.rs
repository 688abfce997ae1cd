use crate::iam::api::{list_teams, CreateTeam, RemoveTeamMember, SetTeamMember};
use crate::iam::types::{TeamDetail, TeamRole};
use crate::ui::{Badge, Card, ErrorBox, Loading, PageHeader, Tone};
use leptos::prelude::*;
use leptos_meta::Title;

use crate::ui::form::{Submit, INPUT, LABEL_SMALL as LABEL};

/// Teams and their members; admins create teams and manage members here. Memberships from
/// directory groups are shown but changed in the directory.
#[component]
pub fn TeamsPage() -> impl IntoView {
    let create = ServerAction::<CreateTeam>::new();
    let set = ServerAction::<SetTeamMember>::new();
    let remove = ServerAction::<RemoveTeamMember>::new();
    let teams = Resource::new(
        move || (create.version().get(), set.version().get(), remove.version().get()),
        |_| list_teams(),
    );
    let error = move || {
        [create.value().get().and_then(Result::err), set.value().get().and_then(Result::err), remove.value().get().and_then(Result::err)]
            .into_iter()
            .flatten()
            .next()
    };
    view! {
        <Title text="Teams"/>
        <PageHeader title="Teams" subtitle="Who owns what. Directory groups (team-<name>, lead-<name>) fill teams on sign-in; admins add the rest."/>
        {move || error().map(|e| view! { <div class="mb-4"><ErrorBox error=e/></div> })}
        <Card title="New team">
            <ActionForm action=create attr:class="flex flex-wrap items-end gap-3 p-4" attr:data-testid="create-team">
                <label class="w-48"><span class=LABEL>"Name in URLs"</span><input name="slug" required placeholder="payments-core" class=INPUT/></label>
                <label class="w-56"><span class=LABEL>"Display name"</span><input name="name" required maxlength="100" placeholder="Payments Core" class=INPUT/></label>
                <label class="min-w-64 flex-1"><span class=LABEL>"What the team does"</span><input name="description" class=INPUT/></label>
                <Submit label="Create team"/>
            </ActionForm>
        </Card>
        <Suspense fallback=|| view! { <div class="mt-6"><Loading rows=4/></div> }>
            {move || Suspend::new(async move {
                match teams.await {
                    Ok(list) => view! {
                        <div class="mt-6 grid gap-6 xl:grid-cols-2" data-testid="teams">
                            {list.into_iter().map(|t| view! { <TeamCard team=t set remove/> }).collect_view()}
                        </div>
                    }.into_any(),
                    Err(e) => view! { <div class="mt-6"><ErrorBox error=e/></div> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn TeamCard(team: TeamDetail, set: ServerAction<SetTeamMember>, remove: ServerAction<RemoveTeamMember>) -> impl IntoView {
    let TeamDetail { slug, name, description, members } = team;
    let empty = members.is_empty();
    let testid = format!("team-{slug}");
    let history = format!("/admin/audit?subject_kind=team&subject_id={slug}");
    let rows = members
        .into_iter()
        .map(|m| {
            let slug = slug.clone();
            view! {
                <li class="flex items-center justify-between gap-3 px-4 py-2 text-sm">
                    <span>{m.name} <span class="ml-1 font-mono text-xs text-slate-500">{m.username.clone()}</span></span>
                    <span class="flex items-center gap-2">
                        <Badge tone=if m.role == TeamRole::Lead { Tone::Info } else { Tone::Neutral }>{m.role.as_str()}</Badge>
                        {if m.source == "idp" {
                            view! { <span class="text-xs text-slate-500" title="from a directory group">"directory"</span> }.into_any()
                        } else {
                            view! {
                                <ActionForm action=remove>
                                    <input type="hidden" name="team" value=slug/>
                                    <input type="hidden" name="username" value=m.username/>
                                    <button type="submit" class="text-xs font-medium text-rose-700 hover:underline dark:text-rose-300">"Remove"</button>
                                </ActionForm>
                            }.into_any()
                        }}
                    </span>
                </li>
            }
        })
        .collect_view();
    view! {
        <section class="rounded-xl border border-slate-200 bg-white shadow-sm dark:border-slate-800 dark:bg-slate-900" data-testid=testid>
            <div class="border-b border-slate-200 px-4 py-3 dark:border-slate-800">
                <h2 class="text-sm font-semibold">{name} <span class="ml-1 font-mono text-xs font-normal text-slate-500">{slug.clone()}</span></h2>
                <p class="text-xs text-slate-600 dark:text-slate-400">{description}</p>
                <a href=history class="text-xs font-medium text-indigo-700 hover:underline dark:text-indigo-300">"History"</a>
            </div>
            {if empty {
                view! { <p class="px-4 py-3 text-sm text-slate-600 dark:text-slate-400">"No members yet."</p> }.into_any()
            } else {
                view! { <ul class="divide-y divide-slate-200 dark:divide-slate-800">{rows}</ul> }.into_any()
            }}
            <ActionForm action=set attr:class="flex flex-wrap items-end gap-2 border-t border-slate-200 p-4 dark:border-slate-800">
                <input type="hidden" name="team" value=slug.clone()/>
                <label class="min-w-40 flex-1"><span class=LABEL>"User name"</span><input name="username" required class=INPUT/></label>
                <label class="w-32"><span class=LABEL>"Role"</span>
                    <select name="role" class=INPUT><option value="member">"member"</option><option value="lead">"lead"</option></select>
                </label>
                <Submit label="Add or change"/>
            </ActionForm>
        </section>
    }
}
