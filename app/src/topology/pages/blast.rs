//! "If this fails": the blast radius of what a page shows (a device, a site, a partner, a
//! circuit), layer by layer, each item with why and a link to its page.
use super::{partner_href, seg, LINK};
use crate::integrations::pages::When;
use crate::topology::api::get_blast_radius;
use crate::topology::types::{BlastItem, BlastRadius};
use crate::ui::{Badge, Card, ErrorBox, Loading, Tone};
use leptos::prelude::*;

/// The card, for `kind` and `name` (a circuit as `provider/cid`).
#[component]
pub fn BlastCard(kind: &'static str, name: String) -> impl IntoView {
    let data = Resource::new(move || name.clone(), move |n| get_blast_radius(kind.to_owned(), n));
    view! {
        <div id="if-this-fails" data-testid="blast-radius">
            <Card title="If this fails">
                <Suspense fallback=|| view! { <Loading rows=3/> }>
                    {move || Suspend::new(async move {
                        match data.await {
                            Ok(b) => answer(b).into_any(),
                            Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                        }
                    })}
                </Suspense>
            </Card>
        </div>
    }
}

fn answer(b: BlastRadius) -> impl IntoView {
    let nothing = b.partners.is_empty() && b.sessions.is_empty() && b.devices_cut_off.is_empty();
    if nothing {
        return view! {
            <p class="p-4 text-sm text-slate-600 dark:text-slate-400" data-testid="blast-nothing">
                "Nothing is cut off: every partner keeps at least two paths from the data centers, and no BGP session is lost."
            </p>
        }
        .into_any();
    }
    let entity_href = |entity: &str| {
        // kind:namespace/name
        let (kind, rest) = entity.split_once(':').unwrap_or(("component", entity));
        let (ns, name) = rest.split_once('/').unwrap_or(("default", rest));
        format!("/catalog/{}/{}/{}", seg(kind), seg(ns), seg(name))
    };
    view! {
        <div class="divide-y divide-slate-200 text-sm dark:divide-slate-800">
            {(!b.devices_cut_off.is_empty()).then(|| view! {
                <Layer title="Devices cut off" count=b.devices_cut_off.len()>
                    <p class="text-slate-700 dark:text-slate-300">{b.devices_cut_off.join(", ")}</p>
                </Layer>
            })}
            {(!b.partners.is_empty()).then(|| view! {
                <Layer title="Partners" count=b.partners.len()>
                    <ul class="space-y-1" data-testid="blast-partners">
                        {b.partners.into_iter().map(|p| item(p, partner_href)).collect_view()}
                    </ul>
                </Layer>
            })}
            {(!b.sessions.is_empty()).then(|| view! {
                <Layer title="BGP sessions lost" count=b.sessions.len()>
                    <ul class="space-y-1" data-testid="blast-sessions">
                        {b.sessions.into_iter().map(|s| view! { <li><span class="font-mono">{s.name}</span>" — "<span class="text-slate-500">{s.why}</span></li> }).collect_view()}
                    </ul>
                </Layer>
            })}
            {(!b.systems.is_empty()).then(|| view! {
                <Layer title="Integration systems unreachable" count=b.systems.len()>
                    <ul class="space-y-1" data-testid="blast-systems">
                        {b.systems.into_iter().map(|s| item(s, |n: &str| format!("/integrations/systems/{}", seg(n)))).collect_view()}
                    </ul>
                </Layer>
            })}
            {(!b.integrations.is_empty()).then(|| view! {
                <Layer title="Integrations affected" count=b.integrations.len()>
                    <ul class="space-y-2" data-testid="blast-integrations">
                        {b.integrations.into_iter().map(|i| view! {
                            <li>
                                <a class=LINK href=format!("/integrations/{}", seg(&i.name))>{i.title}</a>
                                <span class="text-slate-500">{format!(" — {}; owner {}", i.why, i.owner)}</span>
                                {(!i.on_call.is_empty()).then(|| view! { <span class="text-slate-500">{format!(", on call {}", i.on_call)}</span> })}
                                {i.next_run.map(|t| view! { <span class="text-slate-500">", next run "<When at=Some(t)/></span> })}
                            </li>
                        }).collect_view()}
                    </ul>
                </Layer>
            })}
            {(!b.services.is_empty()).then(|| view! {
                <Layer title="Services affected" count=b.services.len()>
                    <ul class="space-y-1" data-testid="blast-services">
                        {b.services.into_iter().map(|s| view! {
                            <li>
                                <a class=LINK href=entity_href(&s.entity)>{s.title}</a>
                                <span class="text-slate-500">{format!(" — {}; owner {}", s.why, s.owner)}</span>
                                {s.on_call.map(|o| view! { " · " <a class=LINK href=o rel="noopener noreferrer">"on call"</a> })}
                            </li>
                        }).collect_view()}
                    </ul>
                </Layer>
            })}
            {(!b.deploys.is_empty()).then(|| view! {
                <Layer title="Deploys waiting or running" count=b.deploys.len()>
                    <ul class="space-y-1" data-testid="blast-deploys">
                        {b.deploys.into_iter().map(|d| view! {
                            <li><a class=LINK href=format!("/deploys/{}", d.id)>{format!("{} to {}", d.service, d.environment)}</a>" "<Badge tone=Tone::Warn>{d.state.replace('_', " ")}</Badge></li>
                        }).collect_view()}
                    </ul>
                </Layer>
            })}
        </div>
    }
    .into_any()
}

#[component]
fn Layer(title: &'static str, count: usize, children: Children) -> impl IntoView {
    view! {
        <section class="p-4">
            <h3 class="mb-2 text-xs font-semibold uppercase tracking-wide text-slate-500">{format!("{title} ({count})")}</h3>
            {children()}
        </section>
    }
}

fn item(i: BlastItem, href: impl Fn(&str) -> String) -> impl IntoView {
    let (tone, label) = match i.effect.as_str() {
        "cut_off" => (Tone::Bad, "cut off"),
        "single_path" => (Tone::Warn, "one path left"),
        "unreachable" => (Tone::Bad, "unreachable"),
        _ => (Tone::Neutral, "lost"),
    };
    view! {
        <li class="flex flex-wrap items-baseline gap-2">
            <a class=LINK href=href(&i.name)>{i.name.clone()}</a>
            <Badge tone>{label}</Badge>
            <span class="text-slate-500">{i.why}</span>
        </li>
    }
}
