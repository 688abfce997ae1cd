use crate::catalog::types::{EntitySummary, Lifecycle};
use crate::ui::{Badge, Tone};
use leptos::prelude::*;

pub fn lifecycle_tone(l: &Lifecycle) -> Tone {
    match l {
        Lifecycle::Production => Tone::Good,
        Lifecycle::Experimental => Tone::Info,
        Lifecycle::Deprecated => Tone::Warn,
        Lifecycle::Other(_) => Tone::Neutral,
    }
}

pub fn tier_tone(tier: u8) -> Tone {
    match tier {
        0 => Tone::Bad,
        1 => Tone::Warn,
        _ => Tone::Neutral,
    }
}

/// Entities as a table: name and title (linking to the entity), kind, owner, tier, lifecycle.
#[component]
pub fn EntityTable(entities: Vec<EntitySummary>) -> impl IntoView {
    let th = "px-4 py-2 text-left text-xs font-semibold uppercase tracking-wide text-slate-500 dark:text-slate-400";
    view! {
        <div class="overflow-x-auto">
            <table class="min-w-full text-sm" data-testid="service-table">
                <thead class="bg-slate-50 dark:bg-slate-900/60">
                    <tr>
                        <th scope="col" class=th>"Name"</th>
                        <th scope="col" class=th>"Kind"</th>
                        <th scope="col" class=th>"Owner"</th>
                        <th scope="col" class=th>"Tier"</th>
                        <th scope="col" class=th>"Lifecycle"</th>
                        <th scope="col" class=format!("{th} hidden md:table-cell")>"Language"</th>
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-200 dark:divide-slate-800">
                    {entities.into_iter().map(|s| {
                        let href = s.entity_ref().href();
                        let kind = match &s.entity_type {
                            Some(t) => format!("{} · {t}", s.kind.label()),
                            None => s.kind.label().to_owned(),
                        };
                        view! {
                            <tr class="hover:bg-slate-50 dark:hover:bg-slate-800/50" data-testid="entity-row">
                                <td class="px-4 py-2.5">
                                    <a href=href class="font-medium text-indigo-700 hover:underline dark:text-indigo-300">{s.title}</a>
                                    {s.pending.then(|| view! { <span class="ml-2"><Badge tone=Tone::Info>"pending approval"</Badge></span> })}
                                    <div class="font-mono text-xs text-slate-500 dark:text-slate-400">{s.name}</div>
                                </td>
                                <td class="px-4 py-2.5 text-slate-700 dark:text-slate-300">{kind}</td>
                                <td class="px-4 py-2.5"><a class="text-slate-700 hover:underline dark:text-slate-300" href=format!("/teams/{}", s.owner_slug)>{s.owner_name}</a></td>
                                <td class="px-4 py-2.5">{s.tier.map(|t| view! { <Badge tone=tier_tone(t.get())>{format!("Tier {}", t.get())}</Badge> })}</td>
                                <td class="px-4 py-2.5">{s.lifecycle.map(|l| view! { <Badge tone=lifecycle_tone(&l)>{l.as_str().to_owned()}</Badge> })}</td>
                                <td class="hidden px-4 py-2.5 text-slate-600 md:table-cell dark:text-slate-400">{s.language.unwrap_or_else(|| "—".into())}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}
