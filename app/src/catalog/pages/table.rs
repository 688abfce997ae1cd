use crate::catalog::types::{Lifecycle, ServiceSummary};
use crate::ui::{Badge, Tone};
use leptos::prelude::*;

pub fn lifecycle_tone(l: Lifecycle) -> Tone {
    match l {
        Lifecycle::Production => Tone::Good,
        Lifecycle::Experimental => Tone::Info,
        Lifecycle::Deprecated => Tone::Warn,
    }
}

pub fn tier_tone(tier: u8) -> Tone {
    match tier {
        0 => Tone::Bad,
        1 => Tone::Warn,
        _ => Tone::Neutral,
    }
}

/// Services as a table: name and title, owner, tier, lifecycle, language.
#[component]
pub fn ServiceTable(services: Vec<ServiceSummary>) -> impl IntoView {
    let th = "px-4 py-2 text-left text-xs font-semibold uppercase tracking-wide text-slate-500 dark:text-slate-400";
    view! {
        <div class="overflow-x-auto">
            <table class="min-w-full text-sm" data-testid="service-table">
                <thead class="bg-slate-50 dark:bg-slate-900/60">
                    <tr>
                        <th scope="col" class=th>"Service"</th>
                        <th scope="col" class=th>"Owner"</th>
                        <th scope="col" class=th>"Tier"</th>
                        <th scope="col" class=th>"Lifecycle"</th>
                        <th scope="col" class=format!("{th} hidden md:table-cell")>"Language"</th>
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-200 dark:divide-slate-800">
                    {services.into_iter().map(|s| {
                        let tier = s.tier.get();
                        view! {
                            <tr class="hover:bg-slate-50 dark:hover:bg-slate-800/50">
                                <td class="px-4 py-2.5">
                                    <div class="font-medium">{s.title}</div>
                                    <div class="font-mono text-xs text-slate-500 dark:text-slate-400">{s.name}</div>
                                </td>
                                <td class="px-4 py-2.5 text-slate-700 dark:text-slate-300">{s.owner_name}</td>
                                <td class="px-4 py-2.5"><Badge tone=tier_tone(tier)>{format!("Tier {tier}")}</Badge></td>
                                <td class="px-4 py-2.5"><Badge tone=lifecycle_tone(s.lifecycle)>{s.lifecycle.as_str()}</Badge></td>
                                <td class="hidden px-4 py-2.5 text-slate-600 md:table-cell dark:text-slate-400">{s.language.unwrap_or_else(|| "—".into())}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}
