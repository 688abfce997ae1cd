//! A device, a site, a partner, a circuit; the devices list; the paths between two places.
use super::{circuit_href, device_href, partner_href, partner_kind, site_href, site_kind, speed, SessionState, DT, LINK, TD};
use crate::integrations::pages::When;
use super::blast::BlastCard;
use super::changes::{interface_changes, Changed, DeviceEditCard, MaintenanceCard, On, RemoveLinkButton, RemoveSessionButton};
use crate::audit::pages::AsOfCard;
use crate::topology::api::{find_paths, get_circuit, get_device, get_network_as_of, get_partner, get_site, list_devices, may_change_network};
use crate::topology::types::WeakPoint;
use crate::ui::form::INPUT;
use crate::ui::icons::Icon;
use crate::ui::{Badge, Card, DataTable, EmptyState, ErrorBox, Loading, PageHeader, Tone};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

fn param(name: &'static str) -> impl Fn() -> String + Copy + Send + Sync + 'static {
    let params = use_params_map();
    move || params.read().get(name).unwrap_or_default()
}

/// A page's heading: what it is, its name, a line about it.
fn heading(what: &'static str, name: String, line: String) -> impl IntoView {
    view! {
        <Title text=name.clone()/>
        <div class="mb-6">
            <p class="text-xs text-slate-500"><a class="hover:underline" href="/topology">"Topology"</a>" · "{what}</p>
            <h1 class="text-2xl font-semibold tracking-tight" data-testid="topology-heading">{name}</h1>
            <p class="mt-1 text-sm text-slate-600 dark:text-slate-400">{line}</p>
        </div>
    }
}

fn about(rows: Vec<(&'static str, Option<String>)>) -> impl IntoView {
    view! {
        <dl class="grid gap-3 p-4">
            {rows.into_iter().filter_map(|(k, v)| v.filter(|v| !v.is_empty()).map(|v| view! { <div><dt class=DT>{k}</dt><dd class="text-sm">{v}</dd></div> })).collect_view()}
        </dl>
    }
}

fn none(text: &'static str) -> AnyView {
    view! { <p class="p-4 text-sm text-slate-500">{text}</p> }.into_any()
}

/// A single point of failure, as a finding on a page.
fn finding(w: WeakPoint) -> impl IntoView {
    view! {
        <div role="note" data-testid="spof-finding" class="mb-6 rounded-xl border border-rose-200 bg-rose-50 p-4 text-rose-900 dark:border-rose-900 dark:bg-rose-950 dark:text-rose-200">
            <p class="font-medium">"Single point of failure: " {w.summary.clone()}</p>
            <p class="mt-1 text-sm">{format!("Its loss cuts off {} device{} and partner{}", w.cuts_off, if w.cuts_off == 1 { "" } else { "s" }, if w.cuts_off == 1 { "" } else { "s" })}
                {(!w.partners.is_empty()).then(|| format!(", among them {}", w.partners.join(", ")))}
                {(!w.devices_cut_off.is_empty()).then(|| format!(" (devices: {}{})", w.devices_cut_off.join(", "), if (w.devices_cut_off.len() as u32) < w.cuts_off { ", …" } else { "" }))}
                "."</p>
        </div>
    }
}

#[component]
pub fn DevicePage() -> impl IntoView {
    let name = param("name");
    let changed = Changed::new();
    // blocking: the page's status (404 for a device not there) is known before it streams
    let data = Resource::new_blocking(move || (name(), changed.count.get()), |(n, _)| get_device(n));
    let may = Resource::new(|| (), |_| may_change_network());
    view! {
        <Suspense fallback=|| view! { <Loading rows=6/> }>
            {move || Suspend::new(async move {
                let may_change = may.await.unwrap_or(false);
                match data.await {
                    Ok(d) => {
                        let line = format!("{}{}{}", d.role, d.site.as_ref().map(|s| format!(" at {s}")).unwrap_or_default(), if d.pci_scope { " · in PCI scope" } else { "" });
                        let site = d.site.clone();
                        let (for_links, for_sessions, for_card) = (d.name.clone(), d.name.clone(), d.name.clone());
                        let (windows, seen, for_edit) = (d.maintenance.clone(), d.interface_changes.clone(), d.clone());
                        let model = match (&d.manufacturer, &d.model) { (Some(m), Some(x)) => Some(format!("{m} {x}")), (m, x) => m.clone().or(x.clone()) };
                        view! {
                            {heading("Device", d.name.clone(), line)}
                            {changed.banner()}
                            {d.weak_point.clone().map(finding)}
                            <div class="grid grid-cols-1 gap-6 lg:grid-cols-3">
                                <div class="space-y-6 lg:col-span-2">
                                    <Card title="Interfaces">
                                        {if d.interfaces.is_empty() { none("No interfaces.") } else { view! {
                                            <DataTable testid="interfaces" columns=vec!["Interface", "Kind", "Speed", "State", "LAG", "Reaches"]>
                                                {d.interfaces.iter().map(|i| view! {
                                                    <tr>
                                                        <td class=format!("{TD} font-mono")>{i.name.clone()}</td>
                                                        <td class=TD>{i.kind.clone()}</td>
                                                        <td class=TD>{speed(i.speed_kbps)}</td>
                                                        <td class=TD>{match (i.enabled, i.oper_up) {
                                                            (false, _) => view! { <Badge tone=Tone::Neutral>"disabled"</Badge> }.into_any(),
                                                            (true, Some(true)) => view! { <Badge tone=Tone::Good>"up"</Badge> }.into_any(),
                                                            (true, Some(false)) => view! { <Badge tone=Tone::Bad>"down"</Badge> }.into_any(),
                                                            (true, None) => view! { <span class="text-slate-400">"—"</span> }.into_any(),
                                                        }}</td>
                                                        <td class=format!("{TD} font-mono")>{i.lag.clone().unwrap_or_default()}</td>
                                                        <td class=TD>{i.reaches.clone().unwrap_or_default()}</td>
                                                    </tr>
                                                }).collect_view()}
                                            </DataTable>
                                        }.into_any() }}
                                    </Card>
                                    <Card title="Links">
                                        {if d.links.is_empty() { none("No links.") } else { view! {
                                            <DataTable testid="device-links" columns=if may_change { vec!["Link", "To", "Partner", ""] } else { vec!["Link", "To", "Partner"] }>
                                                {d.links.iter().map(|l| { let dev = for_links.clone(); view! {
                                                    <tr>
                                                        <td class=TD>{l.label.clone()}</td>
                                                        <td class=TD><a class=LINK href=match &l.circuit { Some(c) => circuit_href(&c.provider, &c.cid), None => device_href(&l.to) }>{l.to.clone()}</a></td>
                                                        <td class=TD>{l.partner.clone().map(|p| view! { <a class=LINK href=partner_href(&p)>{p.clone()}</a> })}</td>
                                                        {(may_change && l.id.is_some()).then(|| view! {
                                                            <td class=TD><RemoveLinkButton device=dev id=l.id.unwrap_or_default() partner=l.partner.clone() changed/></td>
                                                        })}
                                                    </tr>
                                                }}).collect_view()}
                                            </DataTable>
                                        }.into_any() }}
                                    </Card>
                                    <Card title="BGP sessions">
                                        {if d.sessions.is_empty() { none("No BGP sessions.") } else { view! {
                                            <DataTable testid="device-sessions" columns=if may_change { vec!["Session", "Remote", "Partner", "State", "Since", ""] } else { vec!["Session", "Remote", "Partner", "State", "Since"] }>
                                                {d.sessions.iter().map(|s| { let dev = for_sessions.clone(); view! {
                                                    <tr>
                                                        <td class=TD>{s.name.clone()}</td>
                                                        <td class=format!("{TD} font-mono")>{format!("{} AS{}", s.remote_address, s.remote_asn)}</td>
                                                        <td class=TD>{s.partner.clone().map(|p| view! { <a class=LINK href=partner_href(&p)>{p.clone()}</a> })}</td>
                                                        <td class=TD><SessionState state=s.state.clone()/></td>
                                                        <td class=TD><When at=s.state_changed_at/></td>
                                                        {may_change.then(|| view! {
                                                            <td class=TD><RemoveSessionButton device=dev name=s.name.clone() partner=s.partner.clone() changed/></td>
                                                        })}
                                                    </tr>
                                                }}).collect_view()}
                                            </DataTable>
                                        }.into_any() }}
                                    </Card>
                                </div>
                                <Card title="About">
                                    {about(vec![
                                        ("Status", Some(d.status.clone())),
                                        ("Model", model),
                                        ("Platform", d.platform.clone()),
                                        ("Serial", d.serial.clone()),
                                        ("Rack", d.rack.clone().map(|r| match d.position { Some(p) => format!("{r}, U{p}"), None => r })),
                                        ("IPv4", d.primary_ip4.clone()),
                                        ("IPv6", d.primary_ip6.clone()),
                                        ("Source", Some(d.source.clone())),
                                    ])}
                                    <div class="flex flex-wrap gap-3 border-t border-slate-200 p-4 text-sm dark:border-slate-800">
                                        {site.map(|s| view! { <a class=LINK href=site_href(&s)>{format!("Site {s}")}</a> })}
                                        <a class=LINK href=format!("/topology/paths?from={}", super::seg(&d.name))>"Paths from here"</a>
                                    </div>
                                </Card>
                            </div>
                            <div class="mt-6 grid gap-6 lg:grid-cols-3">
                                <div class="space-y-6 lg:col-span-2">
                                    <BlastCard kind="device" name=for_card.clone()/>
                                    <NetworkAsOf kind="device" name=for_card.clone()/>
                                    <MaintenanceCard windows=windows on=On::Device(for_card.clone()) back=device_href(&for_card) may_change changed/>
                                </div>
                                <div class="space-y-6">
                                    {interface_changes(seen)}
                                    {may_change.then(|| view! { <DeviceEditCard d=for_edit changed/> })}
                                </div>
                            </div>
                        }.into_any()
                    }
                    Err(e) => view! { <Title text="Device"/><ErrorBox error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
pub fn SitePage() -> impl IntoView {
    let name = param("name");
    let changed = Changed::new();
    let data = Resource::new_blocking(move || (name(), changed.count.get()), |(n, _)| get_site(n));
    let may = Resource::new(|| (), |_| may_change_network());
    view! {
        <Suspense fallback=|| view! { <Loading rows=6/> }>
            {move || Suspend::new(async move {
                let may_change = may.await.unwrap_or(false);
                match data.await {
                    Ok(s) => {
                        let line = format!("{}{}", site_kind(&s.kind), s.region.as_ref().map(|r| format!(" in {r}")).unwrap_or_default());
                        view! {
                            {heading("Site", s.name.clone(), line)}
                            {changed.banner()}
                            <div class="grid grid-cols-1 gap-6 lg:grid-cols-3">
                                <div class="space-y-6 lg:col-span-2">
                                    <Card title="Devices">
                                        {if s.devices.is_empty() { none("No devices.") } else { view! {
                                            <DataTable testid="site-devices" columns=vec!["Device", "Role", "Status", "PCI"]>
                                                {s.devices.iter().map(|d| view! {
                                                    <tr>
                                                        <td class=TD><a class=LINK href=device_href(&d.name)>{d.name.clone()}</a></td>
                                                        <td class=TD>{d.role.clone()}</td>
                                                        <td class=TD>{d.status.clone()}</td>
                                                        <td class=TD>{d.pci_scope.then(|| view! { <Badge tone=Tone::Warn>"PCI"</Badge> })}</td>
                                                    </tr>
                                                }).collect_view()}
                                            </DataTable>
                                        }.into_any() }}
                                    </Card>
                                    <Card title="Links out of the site">
                                        {if s.links_out.is_empty() { none("No link leaves this site.") } else { view! {
                                            <DataTable testid="links-out" columns=vec!["From", "Link", "To", "At"]>
                                                {s.links_out.iter().map(|l| view! {
                                                    <tr>
                                                        <td class=TD><a class=LINK href=device_href(&l.from)>{l.from.clone()}</a></td>
                                                        <td class=TD>{l.label.clone()}</td>
                                                        <td class=TD><a class=LINK href=device_href(&l.to)>{l.to.clone()}</a></td>
                                                        <td class=TD>{l.to_site.clone().map(|t| view! { <a class=LINK href=site_href(&t)>{t.clone()}</a> })}</td>
                                                    </tr>
                                                }).collect_view()}
                                            </DataTable>
                                        }.into_any() }}
                                    </Card>
                                    <Card title="Circuits that end here">
                                        {if s.circuits.is_empty() { none("No circuits.") } else { view! {
                                            <DataTable testid="site-circuits" columns=vec!["Circuit", "Provider", "Status"]>
                                                {s.circuits.iter().map(|c| view! {
                                                    <tr>
                                                        <td class=TD><a class=LINK href=circuit_href(&c.provider, &c.cid)>{c.cid.clone()}</a></td>
                                                        <td class=TD>{c.provider.clone()}</td>
                                                        <td class=TD>{c.status.clone()}</td>
                                                    </tr>
                                                }).collect_view()}
                                            </DataTable>
                                        }.into_any() }}
                                    </Card>
                                </div>
                                <div class="space-y-6">
                                    <BlastCard kind="site" name=s.name.clone()/>
                                    <Card title="Services that run here">
                                        {if s.services.is_empty() {
                                            view! { <p class="p-4 text-sm text-slate-600 dark:text-slate-400">"No service's form says it runs here (its owners add the site under Runs at)."</p> }.into_any()
                                        } else {
                                            view! {
                                                <ul class="divide-y divide-slate-200 text-sm dark:divide-slate-800" data-testid="site-services">
                                                    {s.services.iter().map(|x| {
                                                        let (kind, rest) = x.entity.split_once(':').unwrap_or(("component", x.entity.as_str()));
                                                        let (ns, name) = rest.split_once('/').unwrap_or(("default", rest));
                                                        let only = !x.runs_at.contains(',');
                                                        view! {
                                                            <li class="px-4 py-2">
                                                                <a class=LINK href=format!("/catalog/{}/{}/{}", super::seg(kind), super::seg(ns), super::seg(name))>{x.title.clone()}</a>
                                                                <span class="ml-2 text-xs text-slate-500">{if only { "only here".to_owned() } else { format!("runs at {}", x.runs_at) }}</span>
                                                            </li>
                                                        }
                                                    }).collect_view()}
                                                </ul>
                                            }.into_any()
                                        }}
                                    </Card>
                                    <MaintenanceCard windows=s.maintenance.clone() on=On::Site(s.name.clone()) back=site_href(&s.name) may_change changed/>
                                    <Card title="About">
                                        {about(vec![
                                            ("Status", Some(s.status.clone())),
                                            ("Facility", s.facility.clone()),
                                            ("Address", s.address.clone()),
                                            ("Coordinates", s.latitude.zip(s.longitude).map(|(a, b)| format!("{a:.4}, {b:.4}"))),
                                            ("Time zone", s.time_zone.clone()),
                                            ("Description", Some(s.description.clone())),
                                        ])}
                                    </Card>
                                    <Card title="Racks">
                                        {if s.racks.is_empty() { none("No racks.") } else { view! {
                                            <DataTable testid="racks" columns=vec!["Rack", "Location", "Devices"]>
                                                {s.racks.iter().map(|r| view! {
                                                    <tr><td class=TD>{r.name.clone()}</td><td class=TD>{r.location.clone().unwrap_or_default()}</td><td class=format!("{TD} tabular-nums")>{r.devices}</td></tr>
                                                }).collect_view()}
                                            </DataTable>
                                        }.into_any() }}
                                    </Card>
                                </div>
                            </div>
                        }.into_any()
                    }
                    Err(e) => view! { <Title text="Site"/><ErrorBox error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The maintenance of the coming weeks that cuts a partner off or leaves it one path.
fn partner_maintenance(windows: &[crate::topology::types::PartnerWindow]) -> impl IntoView {
    if windows.is_empty() {
        return view! { <p class="p-4 text-sm text-slate-500" data-testid="partner-maintenance-none">"No maintenance on its path in the next 30 days."</p> }.into_any();
    }
    view! {
        <ul class="divide-y divide-slate-200 text-sm dark:divide-slate-800" data-testid="partner-maintenance">
            {windows.iter().map(|w| {
                let (tone, effect) = if w.effect == "cut_off" { (Tone::Bad, "cuts it off") } else { (Tone::Warn, "leaves it one path") };
                let subject = match (w.window.subject_kind.as_str(), &w.window.circuit) {
                    ("circuit", Some(c)) => view! { <a class=LINK href=circuit_href(&c.provider, &c.cid)>{format!("{} {}", c.provider, c.cid)}</a> }.into_any(),
                    ("site", _) => view! { <a class=LINK href=site_href(&w.window.subject)>{w.window.subject.clone()}</a> }.into_any(),
                    _ => view! { <a class=LINK href=device_href(&w.window.subject)>{w.window.subject.clone()}</a> }.into_any(),
                };
                view! {
                    <li class="space-y-1 px-4 py-3">
                        <div class="flex flex-wrap items-center gap-2">
                            <span class="font-medium">{w.window.title.clone()}</span>
                            {w.window.reference.clone().map(|r| view! { <span class="font-mono text-xs text-slate-500">{r}</span> })}
                            <Badge tone>{effect}</Badge>
                        </div>
                        <div class="text-slate-600 dark:text-slate-400">
                            <When at=Some(w.window.starts_at)/>" – "<When at=Some(w.window.ends_at)/>" · on "{subject}
                        </div>
                        <div class="text-xs text-slate-500">{w.why.clone()}</div>
                    </li>
                }
            }).collect_view()}
        </ul>
    }
    .into_any()
}

/// The change history of a partner and what hangs off it.
#[component]
fn PartnerHistory(name: String) -> impl IntoView {
    let data = Resource::new(move || name.clone(), crate::topology::api::partner_history);
    view! {
        <Card title="Changes to it and what hangs off it">
            <Suspense fallback=|| view! { <div class="p-4"><Loading rows=3/></div> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(h) => view! { <div data-testid="partner-history"><crate::audit::pages::AuditTable entries=h.entries labels=h.labels/></div> }.into_any(),
                        Err(e) => view! { <div class="p-4"><ErrorBox error=e/></div> }.into_any(),
                    }
                })}
            </Suspense>
        </Card>
    }
}

/// A device or a partner as the network held it at the page's `as_of` moment, beside now.
#[component]
fn NetworkAsOf(kind: &'static str, name: String) -> impl IntoView {
    let asked = crate::audit::pages::asked_moment();
    let then = Resource::new(move || (name.clone(), asked.get()), move |(name, at)| async move {
        match at {
            Some(at) => Some(get_network_as_of(kind.to_owned(), name, at).await),
            None => None,
        }
    });
    view! {
        <div data-testid="network-as-of">
            <AsOfCard
                data=then
                blurb="From the network's kept versions: pick a past moment to see it as the network held it then, beside now; the page's \"If this fails\" answers for that moment too."
                noun="network change"
            />
        </div>
    }
}

#[component]
pub fn PartnerPage() -> impl IntoView {
    let name = param("name");
    let data = Resource::new_blocking(name, get_partner);
    view! {
        <Suspense fallback=|| view! { <Loading rows=6/> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(p) => {
                        let line = format!("{} · {}", partner_kind(&p.kind), p.asns.iter().map(|a| format!("AS{a}")).collect::<Vec<_>>().join(", "));
                        view! {
                            {heading("Partner", p.name.clone(), line)}
                            {(!p.findings.is_empty()).then(|| view! {
                                <div role="note" data-testid="partner-finding" class="mb-6 rounded-xl border border-amber-300 bg-amber-50 p-4 text-amber-950 dark:border-amber-800 dark:bg-amber-950 dark:text-amber-100">
                                    <p class="font-medium">"Not redundant"</p>
                                    <ul class="mt-1 list-disc pl-5 text-sm">{p.findings.iter().map(|f| view! { <li>{f.clone()}</li> }).collect_view()}</ul>
                                </div>
                            })}
                            <div class="grid grid-cols-1 gap-6 lg:grid-cols-3">
                                <div class="space-y-6 lg:col-span-2">
                                    <Card title="BGP sessions">
                                        {if p.sessions.is_empty() { none("No BGP sessions.") } else { view! {
                                            <DataTable testid="partner-sessions" columns=vec!["Device", "Site", "Remote", "State", "Since", "Prefixes in"]>
                                                {p.sessions.iter().map(|s| view! {
                                                    <tr>
                                                        <td class=TD><a class=LINK href=device_href(&s.device)>{s.device.clone()}</a></td>
                                                        <td class=TD>{s.site.clone().unwrap_or_default()}</td>
                                                        <td class=format!("{TD} font-mono")>{format!("{} AS{}", s.remote_address, s.remote_asn)}</td>
                                                        <td class=TD><SessionState state=s.state.clone()/></td>
                                                        <td class=TD><When at=s.state_changed_at/></td>
                                                        <td class=format!("{TD} tabular-nums")>{s.prefixes_received.map(|n| n.to_string()).unwrap_or_else(|| "—".into())}</td>
                                                    </tr>
                                                }).collect_view()}
                                            </DataTable>
                                        }.into_any() }}
                                    </Card>
                                    <Card title="Independent paths from each data center">
                                        {if p.redundancy.is_empty() { none("No data center or colocation has devices yet.") } else { view! {
                                            <DataTable testid="redundancy" columns=vec!["From", "Independent paths", ""]>
                                                {p.redundancy.iter().map(|r| {
                                                    let (tone, text) = match r.paths { 0 => (Tone::Bad, "none"), 1 => (Tone::Warn, "one: a finding"), _ => (Tone::Good, "redundant") };
                                                    view! {
                                                        <tr>
                                                            <td class=TD><a class=LINK href=site_href(&r.site)>{r.site.clone()}</a></td>
                                                            <td class=format!("{TD} tabular-nums")>{r.paths}</td>
                                                            <td class=TD><Badge tone>{text}</Badge></td>
                                                        </tr>
                                                    }
                                                }).collect_view()}
                                            </DataTable>
                                        }.into_any() }}
                                    </Card>
                                    <BlastCard kind="partner" name=p.name.clone()/>
                                    <Card title="Circuits that reach it">
                                        {if p.circuits.is_empty() { none("No circuit is known to reach it.") } else { view! {
                                            <DataTable testid="partner-circuits" columns=vec!["Circuit", "Provider", "Status"]>
                                                {p.circuits.iter().map(|c| view! {
                                                    <tr>
                                                        <td class=TD><a class=LINK href=circuit_href(&c.provider, &c.cid)>{c.cid.clone()}</a></td>
                                                        <td class=TD>{c.provider.clone()}</td>
                                                        <td class=TD>{c.status.clone()}</td>
                                                    </tr>
                                                }).collect_view()}
                                            </DataTable>
                                        }.into_any() }}
                                    </Card>
                                    <Card title="Session state changes">
                                        {if p.state_history.is_empty() { none("No state change is recorded for its sessions.") } else { view! {
                                            <DataTable testid="partner-state-history" columns=vec!["When (UTC)", "Session", "Change"]>
                                                {p.state_history.iter().map(|c| view! {
                                                    <tr>
                                                        <td class=TD><When at=Some(c.at)/></td>
                                                        <td class=TD><a class=LINK href=device_href(&c.device)>{c.device.clone()}</a>" "<span class="font-mono text-xs text-slate-500">{c.session.clone()}</span></td>
                                                        <td class=TD>{c.previous.clone().map(|p| view! { <SessionState state=p/>" → " })}<SessionState state=c.state.clone()/></td>
                                                    </tr>
                                                }).collect_view()}
                                            </DataTable>
                                        }.into_any() }}
                                    </Card>
                                    <Card title="Maintenance on its path">{partner_maintenance(&p.maintenance)}</Card>
                                    <crate::integrations::pages::PartnerIntegrations name=p.name.clone()/>
                                    <PartnerHistory name=p.name.clone()/>
                                    <NetworkAsOf kind="partner" name=p.name.clone()/>
                                </div>
                                <div class="space-y-6">
                                    <Card title="About">
                                        {about(vec![
                                            ("Peers at", Some(p.sites.join(", "))),
                                            ("Description", Some(p.description.clone())),
                                        ])}
                                    </Card>
                                    <Card title="Contacts">
                                        {if p.contacts.is_empty() { none("No contact is known.") } else { view! {
                                            <ul class="divide-y divide-slate-200 text-sm dark:divide-slate-800" data-testid="partner-contacts">
                                                {p.contacts.iter().map(|c| view! {
                                                    <li class="px-4 py-2">
                                                        <div class="font-medium">{c.name.clone()}{c.role.clone().map(|r| view! { <span class="ml-2 text-xs font-normal text-slate-500">{r}</span> })}</div>
                                                        {c.title.clone().map(|t| view! { <div class="text-slate-600 dark:text-slate-400">{t}</div> })}
                                                        <div class="flex flex-wrap gap-3">
                                                            {c.email.clone().map(|e| view! { <a class=LINK href=format!("mailto:{e}")>{e.clone()}</a> })}
                                                            {c.phone.clone().map(|ph| view! { <span class="tabular-nums">{ph}</span> })}
                                                        </div>
                                                    </li>
                                                }).collect_view()}
                                            </ul>
                                        }.into_any() }}
                                    </Card>
                                    <Card title="Integration systems behind it">
                                        {if p.systems.is_empty() { none("No integration system says it is hosted by this partner or reached through it.") } else { view! {
                                            <ul class="divide-y divide-slate-200 text-sm dark:divide-slate-800" data-testid="partner-systems">
                                                {p.systems.iter().map(|y| view! {
                                                    <li class="flex items-center justify-between gap-2 px-4 py-2">
                                                        <a class=LINK href=format!("/integrations/systems/{}", super::seg(&y.name))>{y.title.clone()}</a>
                                                        <span class="text-xs text-slate-500">{format!("{} · {}", if y.relation == "reached_via" { "reached through it" } else { "hosted by it" }, y.kind)}</span>
                                                    </li>
                                                }).collect_view()}
                                            </ul>
                                        }.into_any() }}
                                    </Card>
                                </div>
                            </div>
                        }.into_any()
                    }
                    Err(e) => view! { <Title text="Partner"/><ErrorBox error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
pub fn CircuitPage() -> impl IntoView {
    let (provider, cid) = (param("provider"), param("cid"));
    let changed = Changed::new();
    let data = Resource::new_blocking(move || (provider(), cid(), changed.count.get()), |(p, c, _)| get_circuit(p, c));
    let may = Resource::new(|| (), |_| may_change_network());
    view! {
        <Suspense fallback=|| view! { <Loading rows=4/> }>
            {move || Suspend::new(async move {
                let may_change = may.await.unwrap_or(false);
                match data.await {
                    Ok(c) => {
                        let line = format!("{} circuit{}{}", c.provider, c.kind.as_ref().map(|k| format!(" · {k}")).unwrap_or_default(),
                            c.commit_rate_kbps.map(|r| format!(" · commit {}", speed(Some(r)))).unwrap_or_default());
                        view! {
                            {heading("Circuit", c.cid.clone(), line)}
                            {changed.banner()}
                            <Card title="Ends">
                                <DataTable testid="circuit-ends" columns=vec!["Side", "Where", "Port", "Cabled to"]>
                                    {c.ends.iter().map(|e| view! {
                                        <tr>
                                            <td class=TD>{e.side.clone()}</td>
                                            <td class=TD>{match (&e.site, &e.partner, &e.provider_network) {
                                                (Some(s), _, _) => view! { <a class=LINK href=site_href(s)>{s.clone()}</a> }.into_any(),
                                                (None, Some(p), _) => view! { <a class=LINK href=partner_href(p)>{p.clone()}</a> }.into_any(),
                                                (None, None, Some(n)) => n.clone().into_any(),
                                                _ => "—".into_any(),
                                            }}</td>
                                            <td class=TD>{speed(e.port_speed_kbps)}</td>
                                            <td class=TD>{e.device.clone().map(|d| view! { <a class=LINK href=device_href(&d)>{d.clone()}</a>" "<span class="font-mono">{e.interface.clone().unwrap_or_default()}</span> })}</td>
                                        </tr>
                                    }).collect_view()}
                                </DataTable>
                                <p class="p-4 text-sm">{format!("Status: {}", c.status)}{(!c.description.is_empty()).then(|| format!(" · {}", c.description))}</p>
                            </Card>
                            <div class="mt-6 space-y-6">
                                <BlastCard kind="circuit" name=format!("{}/{}", c.provider, c.cid)/>
                                <MaintenanceCard windows=c.maintenance.clone() on=On::Circuit(c.provider.clone(), c.cid.clone()) back=circuit_href(&c.provider, &c.cid) may_change changed/>
                            </div>
                        }.into_any()
                    }
                    Err(e) => view! { <Title text="Circuit"/><ErrorBox error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
pub fn DevicesPage() -> impl IntoView {
    let query = use_query_map();
    let data = Resource::new(move || query.read().to_query_string().trim_start_matches('?').to_owned(), list_devices);
    let value = move |k: &str| query.with_untracked(|q| q.get(k).unwrap_or_default());
    view! {
        <Title text="Devices"/>
        <PageHeader title="Devices" subtitle="Every device of the network, by name."/>
        <Card>
            <form method="get" action="/topology/devices" class="flex flex-wrap items-end gap-2 border-b border-slate-200 p-3 dark:border-slate-800">
                <div><label for="dev-q" class="block text-xs text-slate-500">"Name contains"</label><input id="dev-q" name="q" value=value("q") maxlength="100" class=INPUT/></div>
                <div><label for="dev-site" class="block text-xs text-slate-500">"Site"</label><input id="dev-site" name="site" value=value("site") maxlength="100" class=INPUT/></div>
                <div><label for="dev-role" class="block text-xs text-slate-500">"Role"</label><input id="dev-role" name="role" value=value("role") maxlength="100" class=INPUT/></div>
                <button class="rounded-lg bg-indigo-600 px-3 py-2 text-sm font-medium text-white hover:bg-indigo-500">"Filter"</button>
            </form>
            <Suspense fallback=|| view! { <div class="p-4"><Loading rows=6/></div> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(page) if page.items.is_empty() => view! { <div class="p-4"><EmptyState icon=Icon::Topology title="No devices match">"Try part of a name, or clear the filters."</EmptyState></div> }.into_any(),
                        Ok(page) => {
                            let next = page.next.clone().map(|after| {
                                let mut q = query.get_untracked();
                                q.replace("after", after);
                                format!("/topology/devices{}", q.to_query_string())
                            });
                            view! {
                                <DataTable testid="devices" columns=vec!["Device", "Role", "Site", "Status", "Model", "IPv4", "PCI"]>
                                    {page.items.into_iter().map(|d| view! {
                                        <tr>
                                            <td class=TD><a class=LINK href=device_href(&d.name)>{d.name.clone()}</a></td>
                                            <td class=TD>{d.role.clone()}</td>
                                            <td class=TD>{d.site.clone().map(|s| view! { <a class="hover:underline" href=site_href(&s)>{s.clone()}</a> })}</td>
                                            <td class=TD>{d.status.clone()}</td>
                                            <td class=TD>{d.model.clone().unwrap_or_default()}</td>
                                            <td class=format!("{TD} font-mono")>{d.primary_ip4.clone().unwrap_or_default()}</td>
                                            <td class=TD>{d.pci_scope.then(|| view! { <Badge tone=Tone::Warn>"PCI"</Badge> })}</td>
                                        </tr>
                                    }).collect_view()}
                                </DataTable>
                                {next.map(|href| view! { <div class="border-t border-slate-200 p-3 text-right dark:border-slate-800"><a class=LINK href=href>"Next page →"</a></div> })}
                            }.into_any()
                        }
                        Err(e) => view! { <div class="p-4"><ErrorBox error=e/></div> }.into_any(),
                    }
                })}
            </Suspense>
        </Card>
    }
}

#[component]
pub fn PathsPage() -> impl IntoView {
    let query = use_query_map();
    let from = move || query.read().get("from").unwrap_or_default();
    let to = move || query.read().get("to").unwrap_or_default();
    let data = Resource::new(move || (from(), to()), |(f, t)| async move {
        if f.trim().is_empty() || t.trim().is_empty() { None } else { Some(find_paths(f, t).await) }
    });
    view! {
        <Title text="Paths"/>
        <PageHeader title="Paths" subtitle="The paths between two devices, or a device and a partner, fewest hops first, with the links and circuits on each."/>
        <Card>
            <form method="get" action="/topology/paths" class="grid gap-2 p-4 sm:grid-cols-[1fr_1fr_auto]">
                <div><label for="paths-from" class="block text-xs text-slate-500">"From (a device)"</label><input id="paths-from" name="from" value=from maxlength="100" required class=INPUT/></div>
                <div><label for="paths-to" class="block text-xs text-slate-500">"To (a device or partner)"</label><input id="paths-to" name="to" value=to maxlength="100" required class=INPUT/></div>
                <button class="self-end rounded-lg bg-indigo-600 px-3 py-2 text-sm font-medium text-white hover:bg-indigo-500">"Show paths"</button>
            </form>
        </Card>
        <div class="mt-6">
            <Suspense fallback=|| view! { <Loading rows=4/> }>
                {move || Suspend::new(async move {
                    match data.await {
                        None => view! { <p class="text-sm text-slate-500">"Name two places to see the paths between them."</p> }.into_any(),
                        Some(Ok(p)) if p.paths.is_empty() => view! {
                            <EmptyState icon=Icon::Topology title="No path">{format!("Nothing joins {} and {}: they are in parts of the network that do not meet.", p.from, p.to)}</EmptyState>
                        }.into_any(),
                        Some(Ok(p)) => {
                            let target = p.to.clone();
                            let href_of = move |name: &str| if p.to_partner && name == target { partner_href(name) } else { device_href(name) };
                            view! {
                            <ol class="space-y-4" data-testid="paths">
                                {p.paths.into_iter().enumerate().map(|(i, path)| {
                                    let count = path.hops.len();
                                    // (from, its page, the links, to, its page)
                                    let hops: Vec<(String, String, Vec<String>, String, String)> = path.hops.into_iter()
                                        .map(|h| (href_of(&h.from), h.from, h.links, href_of(&h.to), h.to)).map(|(fh, f, l, th, t)| (f, fh, l, t, th)).collect();
                                    view! {
                                        <li><Card>
                                            <div class="border-b border-slate-200 px-4 py-2 text-sm font-semibold dark:border-slate-800">
                                                {format!("Path {} · {} hop{}", i + 1, count, if count == 1 { "" } else { "s" })}
                                            </div>
                                            <ol class="flex flex-wrap items-center gap-x-2 gap-y-1 p-4 text-sm">
                                                {hops.into_iter().enumerate().map(|(j, (from, from_href, links, to, to_href))| view! {
                                                    {(j == 0).then(|| view! { <li><a class=LINK href=from_href>{from}</a></li> })}
                                                    <li class="text-xs text-slate-500" title=links.join(", ")>{format!("— {} →", links.first().cloned().unwrap_or_default())}{(links.len() > 1).then(|| format!(" (+{})", links.len() - 1))}</li>
                                                    <li><a class=LINK href=to_href>{to}</a></li>
                                                }).collect_view()}
                                            </ol>
                                        </Card></li>
                                    }
                                }).collect_view()}
                            </ol>
                        }.into_any()
                        }
                        Some(Err(e)) => view! { <ErrorBox error=e/> }.into_any(),
                    }
                })}
            </Suspense>
        </div>
    }
}
