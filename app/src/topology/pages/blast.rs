//! "If this fails": the blast radius of what a page shows (a device, a site, a partner, a
//! circuit), layer by layer, each item with why and a link to its page; and the reverse on a
//! component's page: what it needs from the network.
use super::{partner_href, seg, LINK};
use crate::integrations::pages::When;
use crate::topology::api::{get_blast_radius, get_service_network};
use crate::topology::types::{BlastItem, BlastRadius, NetworkThen, ServiceNetwork};
use crate::ui::{Badge, Card, ErrorBox, Loading, Tone};
use leptos::prelude::*;

/// The card, for `kind` and `name` (a circuit as `provider/cid`).
#[component]
pub fn BlastCard(kind: &'static str, name: String) -> impl IntoView {
    // the page's `as_of`: the network as it was then
    let asked = crate::audit::pages::asked_moment();
    let data = Resource::new(move || (name.clone(), asked.get()), move |(n, at)| get_blast_radius(kind.to_owned(), n, at));
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

/// Says which network an answer asked "as of" a moment was read from; `beyond` says what was
/// not read as it was then.
fn as_of_note(then: Option<&NetworkThen>, version: i64, beyond: &'static str, testid: &'static str) -> Option<impl IntoView> {
    let at = |d: chrono::DateTime<chrono::Utc>| d.format("%Y-%m-%d %H:%M UTC").to_string();
    then.map(|t| {
        let since = match t.versions_since {
            0 => "it has not changed since".to_owned(),
            1 => "1 change since".to_owned(),
            n => format!("{n} changes since"),
        };
        view! {
            <p class="border-b border-amber-200 bg-amber-50 px-4 py-2 text-sm text-amber-950 dark:border-amber-900 dark:bg-amber-950/40 dark:text-amber-100" data-testid=testid>
                {format!("As the network was at {} (version {version}, in place from {}; {since}). {beyond}", at(t.at), at(t.taken_at))}
                " "<a class=LINK href="?">"Back to now"</a>
            </p>
        }
    })
}

fn answer(b: BlastRadius) -> impl IntoView {
    let note = as_of_note(b.as_of.as_ref(), b.version, "The systems, integrations, services and deploys beyond it are as they are now.", "blast-as-of");
    view! { {note} {inner(b)} }
}

fn inner(b: BlastRadius) -> impl IntoView {
    let nothing = b.partners.is_empty() && b.sessions.is_empty() && b.devices_cut_off.is_empty() && b.services.is_empty();
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
    // the topology view greys out what is cut off, for a device or a partner
    // (the view draws the network as it is: not offered for an answer about the past)
    let on_view = (b.as_of.is_none() && matches!(b.kind.as_str(), "device" | "partner")).then(|| format!("/topology?fail={}#topology-view", url::form_urlencoded::byte_serialize(b.name.as_bytes()).collect::<String>()));
    view! {
        <div class="divide-y divide-slate-200 text-sm dark:divide-slate-800">
            {on_view.map(|href| view! {
                <p class="px-4 py-2 text-xs"><a class=LINK href=href data-testid="blast-on-view">"Grey it out on the topology view"</a></p>
            })}
            {(!b.sites_lost.is_empty()).then(|| view! {
                <Layer title="Sites lost" count=b.sites_lost.len()>
                    <p class="text-slate-700 dark:text-slate-300" data-testid="blast-sites-lost">
                        {b.sites_lost.iter().map(|s| view! { <a class=LINK href=super::site_href(s)>{s.clone()}</a>" " }).collect_view()}
                    </p>
                </Layer>
            })}
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

/// What the component `component()` names (namespace, name) needs from the network, as the
/// network was at the page's `as_of` (nothing asked while it names none), for
/// [`NetworkNeedsCard`]: the component's page makes it beside its own data.
pub type NetworkNeedsData = Resource<Option<Result<ServiceNetwork, crate::error::AppError>>>;

pub fn network_needs_data(component: impl Fn() -> Option<(String, String)> + Send + Sync + 'static) -> NetworkNeedsData {
    let asked = crate::audit::pages::asked_moment();
    Resource::new(move || component().map(|c| (c, asked.get())), |key| async move {
        match key {
            Some(((ns, n), at)) => Some(crate::ui::card_read(get_service_network(ns, n, at)).await),
            None => None,
        }
    })
}

/// On a component's page: the partners its integrations reach, the paths the data centers have
/// to each, and what every one of those paths goes through.
#[component]
pub fn NetworkNeedsCard(data: NetworkNeedsData) -> impl IntoView {
    view! {
        <div data-testid="network-needs">
            <Card title="What it needs from the network">
                <Suspense fallback=|| view! { <Loading rows=2/> }>
                    {move || Suspend::new(async move {
                        match data.await {
                            Some(Ok(n)) => needs(n).into_any(),
                            Some(Err(e)) => view! { <ErrorBox error=e/> }.into_any(),
                            None => ().into_any(),
                        }
                    })}
                </Suspense>
            </Card>
        </div>
    }
}

fn needs(n: ServiceNetwork) -> impl IntoView {
    let note = as_of_note(n.as_of.as_ref(), n.version, "Its integrations and the systems they reach are as they are now.", "network-needs-as-of");
    // where it runs, as its owners say on its form
    let runs_at = view! {
        {note}
        <p class="border-b border-slate-200 px-4 py-2 text-sm dark:border-slate-800" data-testid="network-runs-at">
            {if n.runs_at.is_empty() {
                view! { <span class="text-slate-600 dark:text-slate-400">"Where it runs is not said: its owners add the sites on its form (Runs at)."</span> }.into_any()
            } else {
                view! {
                    <span>"Runs at "</span>
                    {n.runs_at.iter().map(|s| view! { <a class=LINK href=super::site_href(s)>{s.clone()}</a>" " }).collect_view()}
                    <span class="text-slate-500">{if n.runs_at.len() == 1 { "(losing that site takes it down)" } else { "(losing all of them takes it down)" }}</span>
                }.into_any()
            }}
        </p>
    };
    if n.partners.is_empty() {
        let text = if n.systems.is_empty() {
            "Nothing through a partner: it is no integration system's service, so no integration reaches a partner for it."
        } else {
            "Nothing through a partner: none of its integrations reaches a system a partner hosts."
        };
        return view! { {runs_at}<p class="p-4 text-sm text-slate-600 dark:text-slate-400" data-testid="network-needs-none">{text}</p> }.into_any();
    }
    let integrations = n.integrations;
    view! {
        {runs_at}
        <ul class="divide-y divide-slate-200 text-sm dark:divide-slate-800" data-testid="network-needs-partners">
            {n.partners.into_iter().map(|p| {
                let (tone, paths) = match p.paths {
                    0 => (Tone::Bad, "cut off".to_owned()),
                    1 => (Tone::Warn, "one path".to_owned()),
                    k => (Tone::Good, format!("{k} independent paths")),
                };
                let via: Vec<(String, String, String)> = integrations.iter().filter(|i| i.partner.as_deref() == Some(p.name.as_str()))
                    .map(|i| (i.name.clone(), i.title.clone(), format!("{} {}", if i.direction == "from" { "from" } else { "to" }, i.system))).collect();
                view! {
                    <li class="space-y-1 p-4" data-partner=p.name.clone()>
                        <p class="flex flex-wrap items-baseline gap-2">
                            <a class=LINK href=partner_href(&p.name)>{p.name.clone()}</a>
                            <Badge tone>{paths}</Badge>
                            <span class="text-slate-500">{format!("hosts {}", p.systems.join(", "))}</span>
                        </p>
                        <p class="text-slate-600 dark:text-slate-400">
                            {via.into_iter().map(|(name, title, what)| view! {
                                <a class=LINK href=format!("/integrations/{}", seg(&name))>{title}</a>
                                <span class="text-slate-500">{format!(" ({what}) ")}</span>
                            }).collect_view()}
                        </p>
                        {(!p.single_points.is_empty()).then(|| view! {
                            <p data-testid="network-needs-spof">
                                <span class="font-medium text-rose-700 dark:text-rose-300">"Every path goes through: "</span>
                                {p.single_points.into_iter().enumerate().map(|(i, s)| {
                                    let step = if s.kind == "device" {
                                        view! { <a class=LINK href=super::device_href(&s.name)>{s.name.clone()}</a> }.into_any()
                                    } else if s.kind == "partner" {
                                        view! { <a class=LINK href=partner_href(&s.name)>{s.name.clone()}</a> }.into_any()
                                    } else {
                                        view! { <span class="font-mono text-xs">{s.name.clone()}</span> }.into_any()
                                    };
                                    view! { {(i > 0).then(|| " → ")}{step} }
                                }).collect_view()}
                            </p>
                        })}
                    </li>
                }
            }).collect_view()}
        </ul>
    }
    .into_any()
}
