use crate::iam::api::{CreateToken, RevokeToken};
use crate::iam::types::TokenView;
use crate::ui::form::{Submit, INPUT, LABEL_SMALL};
use crate::ui::{Badge, DataTable, ErrorBox, Tone};
use leptos::prelude::*;

/// Creating a token: name, the scopes one holds, lifetime, and (admins) a team for a service
/// token; the new secret is shown once, below the form.
#[component]
pub fn TokenForm(everyone: bool, create: ServerAction<CreateToken>, revoke: ServerAction<RevokeToken>) -> impl IntoView {
    // only the scopes one holds are offered: a token has at most its owner's rights (ingest and
    // network-state are for a team's service token, which admins make)
    let me = crate::ui::layout::CurrentUser::get();
    let admin = me.as_ref().is_some_and(|m| m.is_admin());
    let writes = admin || me.as_ref().is_some_and(|m| !m.teams.is_empty());
    // a token made: the form starts empty again, for the next
    let form = NodeRef::<leptos::html::Form>::new();
    Effect::new(move |_| {
        if let Some(Ok(_)) = create.value().get() {
            #[cfg(feature = "hydrate")]
            if let Some(f) = form.get() {
                f.reset();
            }
        }
    });
    view! {
        <ActionForm action=create node_ref=form attr:class="flex flex-wrap items-end gap-3 p-4" attr:data-testid="token-form">
            <label class="min-w-48 flex-1">
                <span class=LABEL_SMALL>"Name"</span>
                <input name="name" required maxlength="100" placeholder="e.g. ci-pipeline" class=INPUT/>
            </label>
            {everyone.then(|| view! {
                <label class="w-40">
                    <span class=LABEL_SMALL>"Team (service token)"</span>
                    <input name="team" placeholder="slug, e.g. payments" class=INPUT/>
                </label>
            })}
            <fieldset class="flex flex-wrap items-center gap-3 text-sm" data-testid="token-scopes">
                <legend class=LABEL_SMALL>"Scopes"</legend>
                <label class="flex items-center gap-1"><input type="checkbox" name="read" checked/>"read"</label>
                {writes.then(|| view! {
                    <label class="flex items-center gap-1"><input type="checkbox" name="write"/>"write"</label>
                    <label class="flex items-center gap-1"><input type="checkbox" name="deploy"/>"deploy"</label>
                })}
                {admin.then(|| view! { <label class="flex items-center gap-1"><input type="checkbox" name="admin"/>"admin"</label> })}
                {everyone.then(|| view! {
                    <label class="flex items-center gap-1" title="Pushing integration run events (OpenLineage); service tokens only">
                        <input type="checkbox" name="ingest"/>"ingest"
                    </label>
                    <label class="flex items-center gap-1" title="Reporting BGP session and interface states (a collector); service tokens only">
                        <input type="checkbox" name="network_state"/>"network-state"
                    </label>
                })}
                {(!writes).then(|| view! {
                    <span class="text-xs text-slate-500" data-testid="token-scopes-why">"A token has at most your rights: you read. Writing and deploying come with a team's membership."</span>
                })}
            </fieldset>
            <label class="w-32">
                <span class=LABEL_SMALL>"Expires in"</span>
                <select name="days" class=INPUT>
                    <option value="30">"30 days"</option>
                    <option value="90" selected>"90 days"</option>
                    <option value="365">"1 year"</option>
                </select>
            </label>
            <Submit label="Create token"/>
        </ActionForm>
        {move || create.value().get().map(|r| match r {
            Ok(new) => view! {
                <div role="status" class="mx-4 mb-4 rounded-lg border border-amber-300 bg-amber-50 p-3 text-sm dark:border-amber-800 dark:bg-amber-950">
                    <p class="font-medium">"Copy this token now. It will not be shown again."</p>
                    <code class="mt-2 block break-all rounded bg-white p-2 font-mono text-xs dark:bg-slate-900" data-testid="token-secret">{new.secret}</code>
                </div>
            }.into_any(),
            Err(e) => view! { <div class="mx-4 mb-4"><ErrorBox error=e/></div> }.into_any(),
        })}
        {move || revoke.value().get().and_then(Result::err).map(|e| view! { <div class="mx-4 mb-4"><ErrorBox error=e/></div> })}
    }
}

/// API tokens with a revoke button each.
#[component]
pub fn TokenList(list: Vec<TokenView>, revoke: ServerAction<RevokeToken>) -> impl IntoView {
    if list.is_empty() {
        return view! { <p class="border-t border-slate-200 p-4 text-sm text-slate-600 dark:border-slate-800 dark:text-slate-400">"No tokens yet."</p> }.into_any();
    }
    view! {
                        <div class="border-t border-slate-200 dark:border-slate-800">
                        <DataTable testid="token-table" columns=vec!["Name", "For", "Scopes", "Expires", "Last used", ""]>
                                    {list.into_iter().map(|t| {
                                        let whom = t.team.clone().map(|team| format!("team {team}")).or(t.owner.clone()).unwrap_or_default();
                                        view! {
                                            <tr>
                                                <td class="px-4 py-2.5">{t.name.clone()} <span class="ml-1 font-mono text-xs text-slate-500">{format!("{}…", t.prefix)}</span></td>
                                                <td class="px-4 py-2.5">{whom}</td>
                                                <td class="px-4 py-2.5">{t.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")}</td>
                                                <td class="px-4 py-2.5 tabular-nums">{t.expires_at.format("%Y-%m-%d").to_string()}</td>
                                                <td class="px-4 py-2.5 tabular-nums">{t.last_used_at.map(|d| d.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_else(|| "never".into())}</td>
                                                <td class="px-4 py-2.5 text-right">
                                                    {if t.revoked_at.is_some() {
                                                        view! { <Badge tone=Tone::Neutral>"revoked"</Badge> }.into_any()
                                                    } else {
                                                        view! {
                                                            <ActionForm action=revoke>
                                                                <input type="hidden" name="id" value=t.id.to_string()/>
                                                                <button type="submit" class="rounded-md px-2 py-1 text-sm font-medium text-rose-700 hover:bg-rose-50 dark:text-rose-300 dark:hover:bg-rose-950">"Revoke"</button>
                                                            </ActionForm>
                                                        }.into_any()
                                                    }}
                                                </td>
                                            </tr>
                                        }
                                    }).collect_view()}
                        </DataTable>
                        </div>
    }.into_any()
}
