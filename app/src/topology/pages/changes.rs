//! The network team's forms on the topology's pages: maintenance windows on a device, a site or a
//! circuit; a device's edit; links and sessions removed. Each shows what the server said (made,
//! or waiting for approval, or the problems by field) and keeps what was typed.
use crate::error::FieldProblem;
use crate::integrations::pages::When;
use crate::topology::api::{CancelMaintenance, EditDevice, PlanMaintenance, RemoveLink, RemoveSession};
use crate::topology::types::{ChangeOutcome, DeviceDetail, InterfaceChange, MaintenanceWindow, DEVICE_STATUSES};
use crate::error::AppError;
use crate::ui::form::{problem_of, returned_problems, Field, FieldError, Submit, INPUT, LABEL};
use crate::ui::{Badge, Card, Tone};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::hooks::use_query_map;

const SMALL_BUTTON: &str = "h-8 rounded-lg px-2 text-xs font-medium text-rose-700 ring-1 ring-rose-300 hover:bg-rose-50 dark:text-rose-300";

/// A change made on a page: the page reads its data again (a count its resource follows) and
/// says what happened (also after a post without JavaScript, from the address's `done`).
#[derive(Clone, Copy)]
pub struct Changed {
    pub count: RwSignal<u32>,
    said: RwSignal<Option<String>>,
}

impl Changed {
    pub fn new() -> Self {
        let query = use_query_map();
        Changed { count: RwSignal::new(0), said: RwSignal::new(query.with_untracked(|q| q.get("done"))) }
    }

    fn note(&self, message: String) {
        self.said.set(Some(message));
        self.count.update(|c| *c += 1);
    }

    /// The line the last change left: made, or waiting for approval.
    pub fn banner(self) -> impl IntoView {
        move || {
            self.said.get().map(|m| {
                view! { <p role="status" data-testid="change-outcome" class="mb-6 rounded-lg bg-emerald-50 p-3 text-sm text-emerald-900 dark:bg-emerald-950 dark:text-emerald-200">{m}" · "<a class="underline" href="/approvals">"Approvals"</a></p> }
            })
        }
    }
}

/// A form's problems (from its action; from the address after a post without JavaScript when
/// `from_address`), and the page told when it goes through.
fn told<S>(action: ServerAction<S>, changed: Changed, from_address: bool, form: Option<NodeRef<leptos::html::Form>>) -> RwSignal<Vec<FieldProblem>>
where
    S: ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    S::Output: Clone + Send + Sync + 'static,
    S::Output: Said,
{
    let query = use_query_map();
    let problems = RwSignal::new(if from_address { query.with_untracked(returned_problems) } else { Vec::new() });
    Effect::new(move |_| match action.value().get() {
        Some(Err(e)) => problems.set(e.problems()),
        Some(Ok(o)) => {
            // a form that went through starts empty again (the page's data is read anew)
            #[cfg(feature = "hydrate")]
            if let Some(f) = form.and_then(|f| f.get()) {
                f.reset();
            }
            #[cfg(not(feature = "hydrate"))]
            let _ = form;
            changed.note(o.said())
        }
        None => {}
    });
    problems
}

/// What a server function's answer says, on the page.
pub trait Said {
    fn said(&self) -> String;
}

impl Said for ChangeOutcome {
    fn said(&self) -> String {
        self.message.clone()
    }
}

impl Said for uuid::Uuid {
    fn said(&self) -> String {
        "The window is planned: it is on the freeze calendar.".into()
    }
}

impl Said for () {
    fn said(&self) -> String {
        "The window is cancelled.".into()
    }
}

/// What a window is on, for its form's hidden fields.
#[derive(Clone, Debug)]
pub enum On {
    Device(String),
    Site(String),
    Circuit(String, String),
}

/// A subject's maintenance windows; the network team cancels them and plans new ones here.
#[component]
pub fn MaintenanceCard(windows: Vec<MaintenanceWindow>, on: On, back: String, may_change: bool, changed: Changed) -> impl IntoView {
    let plan = ServerAction::<PlanMaintenance>::new();
    let form = NodeRef::new();
    let problems = told(plan, changed, true, Some(form));
    let query = use_query_map();
    let typed = |k: &str| query.with_untracked(|q| q.get(k).unwrap_or_default());
    let (kind0, title0, reference0, starts0, ends0) = (typed("kind"), typed("title"), typed("reference"), typed("starts_at"), typed("ends_at"));
    let (device, site, provider, cid) = match on {
        On::Device(d) => (d, String::new(), String::new(), String::new()),
        On::Site(s) => (String::new(), s, String::new(), String::new()),
        On::Circuit(p, c) => (String::new(), String::new(), p, c),
    };
    view! {
        <Card title="Maintenance">
            {if windows.is_empty() {
                view! { <p class="p-4 text-sm text-slate-500" data-testid="no-maintenance">"No maintenance planned."</p> }.into_any()
            } else {
                view! {
                    <ul class="divide-y divide-slate-200 text-sm dark:divide-slate-800" data-testid="maintenance-list">
                        {windows.into_iter().map(|m| view! { <MaintenanceRow m back=back.clone() may_change changed/> }).collect_view()}
                    </ul>
                }.into_any()
            }}
            {may_change.then(|| view! {
                <ActionForm action=plan node_ref=form attr:class="space-y-3 border-t border-slate-200 p-4 dark:border-slate-800" attr:data-testid="maintenance-form">
                    <p class="text-sm font-medium">"Plan maintenance"</p>
                    <FieldError field="device" problems=problems/>
                    <FieldError field="circuit" problems=problems/>
                    <input type="hidden" name="back" value=back.clone()/>
                    <input type="hidden" name="device" value=device.clone()/>
                    <input type="hidden" name="site" value=site.clone()/>
                    <input type="hidden" name="provider" value=provider.clone()/>
                    <input type="hidden" name="cid" value=cid.clone()/>
                    <Field id="mw-title" label="What" field="title" required=true error=problem_of("title", problems)>
                        <input id="mw-title" name="title" value=title0 maxlength="200" class=INPUT placeholder="Line card swap"/>
                    </Field>
                    <div class="grid grid-cols-1 gap-3 sm:grid-cols-2">
                        <div>
                            <label for="mw-kind" class=LABEL>"Kind"</label>
                            <select id="mw-kind" name="kind" class=INPUT>
                                <option value="planned" selected=kind0 != "carrier_notice">"Planned work"</option>
                                <option value="carrier_notice" selected=kind0 == "carrier_notice">"Carrier's notice"</option>
                            </select>
                        </div>
                        <Field id="mw-ref" label="Reference" field="reference" error=problem_of("reference", problems)>
                            <input id="mw-ref" name="reference" value=reference0 maxlength="100" class=INPUT placeholder="CHG-1234"/>
                        </Field>
                        <Field id="mw-start" label="Starts (UTC)" field="starts_at" required=true error=problem_of("starts_at", problems)>
                            <input id="mw-start" type="datetime-local" name="starts_at" value=starts0 class=INPUT/>
                        </Field>
                        <Field id="mw-end" label="Ends (UTC)" field="ends_at" required=true error=problem_of("ends_at", problems)>
                            <input id="mw-end" type="datetime-local" name="ends_at" value=ends0 class=INPUT/>
                        </Field>
                    </div>
                    <Submit label="Plan window"/>
                </ActionForm>
            })}
        </Card>
    }
}

#[component]
fn MaintenanceRow(m: MaintenanceWindow, back: String, may_change: bool, changed: Changed) -> impl IntoView {
    let cancel = ServerAction::<CancelMaintenance>::new();
    let problems = told(cancel, changed, false, None);
    let notice = m.kind == "carrier_notice";
    view! {
        <li class="flex flex-wrap items-start justify-between gap-2 p-4">
            <div>
                <div class="flex flex-wrap items-center gap-2">
                    <span class="font-medium">{m.title.clone()}</span>
                    <Badge tone=if notice { Tone::Warn } else { Tone::Neutral }>{if notice { "carrier notice" } else { "planned" }}</Badge>
                    {m.reference.clone().map(|r| view! { <span class="font-mono text-xs text-slate-500">{r}</span> })}
                </div>
                <p class="mt-1 text-slate-600 dark:text-slate-400">
                    {format!("{} → {} · on {} {} · by {}", m.starts_at.format("%a %d %b %H:%M"), m.ends_at.format("%a %d %b %H:%M UTC"), m.subject_kind, m.subject, m.created_by)}
                </p>
            </div>
            {may_change.then(|| view! {
                <ActionForm action=cancel>
                    <input type="hidden" name="back" value=back/>
                    <input type="hidden" name="id" value=m.id.to_string()/>
                    <button type="submit" class=SMALL_BUTTON data-confirm="Take this window off the calendar?">"Cancel window"</button>
                    <FieldError field="form" problems=problems/>
                </ActionForm>
            })}
        </li>
    }
}

/// A device's latest interface changes, newest first.
pub fn interface_changes(changes: Vec<InterfaceChange>) -> impl IntoView {
    let state = |up: bool| if up { view! { <Badge tone=Tone::Good>"up"</Badge> } } else { view! { <Badge tone=Tone::Bad>"down"</Badge> } };
    view! {
        <Card title="Interface changes">
            {if changes.is_empty() {
                view! { <p class="p-4 text-sm text-slate-500">"No collector has reported a change."</p> }.into_any()
            } else {
                view! {
                    <ul class="divide-y divide-slate-200 text-sm dark:divide-slate-800" data-testid="interface-changes">
                        {changes.into_iter().map(|c| view! {
                            <li class="flex items-center justify-between gap-2 px-4 py-2">
                                <span class="font-mono">{c.interface}</span>
                                <span class="flex items-center gap-2">{state(c.up)}<When at=Some(c.at)/></span>
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </Card>
    }
}

/// A device's edit: status, role, PCI scope, and why. A device in PCI scope waits for approval.
#[component]
pub fn DeviceEditCard(d: DeviceDetail, changed: Changed) -> impl IntoView {
    let edit = ServerAction::<EditDevice>::new();
    let form = NodeRef::new();
    let problems = told(edit, changed, true, Some(form));
    let query = use_query_map();
    let typed = |k: &str, or: String| query.with_untracked(|q| q.get(k)).unwrap_or(or);
    let status0 = typed("status", d.status.clone());
    let role0 = typed("role", d.role.clone());
    let pci0 = typed("pci_scope", if d.pci_scope { "yes".into() } else { "no".into() });
    let reason0 = typed("reason", String::new());
    view! {
        <Card title="Edit">
            <ActionForm action=edit node_ref=form attr:class="space-y-3 p-4" attr:data-testid="device-edit">
                <input type="hidden" name="name" value=d.name.clone()/>
                <Field id="de-status" label="Status" field="status" error=problem_of("status", problems)>
                    <select id="de-status" name="status" class=INPUT>
                        {DEVICE_STATUSES.iter().map(|s| view! { <option value=*s selected=*s == status0>{*s}</option> }).collect_view()}
                    </select>
                </Field>
                <Field id="de-role" label="Role" field="role" error=problem_of("role", problems)>
                    <input id="de-role" name="role" value=role0 maxlength="50" class=INPUT/>
                </Field>
                <Field id="de-pci" label="In PCI scope" field="pci_scope" error=problem_of("pci_scope", problems)>
                    <select id="de-pci" name="pci_scope" class=INPUT>
                        <option value="no" selected=pci0 != "yes">"No"</option>
                        <option value="yes" selected=pci0 == "yes">"Yes"</option>
                    </select>
                </Field>
                <Field id="de-reason" label="Why" field="reason" error=problem_of("reason", problems) hint="Required for a device in PCI scope: the edit waits for approval.">
                    <input id="de-reason" name="reason" value=reason0 maxlength="1000" class=INPUT/>
                </Field>
                <Submit label="Save"/>
            </ActionForm>
        </Card>
    }
}

/// The button that removes a link; a link to a partner asks why (its removal waits for approval).
#[component]
pub fn RemoveLinkButton(device: String, id: uuid::Uuid, partner: Option<String>, changed: Changed) -> impl IntoView {
    let remove = ServerAction::<RemoveLink>::new();
    let problems = told(remove, changed, false, None);
    let confirm = match &partner {
        Some(p) => format!("Ask to remove this link to {p}? It waits for approval."),
        None => "Remove this link?".to_owned(),
    };
    view! {
        <ActionForm action=remove attr:class="flex flex-wrap items-center justify-end gap-2">
            <input type="hidden" name="device" value=device/>
            <input type="hidden" name="id" value=id.to_string()/>
            {match partner {
                Some(_) => view! { <input name="reason" maxlength="1000" placeholder="Why (needs approval)" aria-label="Why remove this link" class="h-8 w-40 rounded-lg border border-slate-300 px-2 text-xs dark:border-slate-700 dark:bg-slate-800"/> }.into_any(),
                None => view! { <input type="hidden" name="reason" value=""/> }.into_any(),
            }}
            <button type="submit" class=SMALL_BUTTON data-confirm=confirm>"Remove"</button>
            <FieldError field="reason" problems=problems/>
        </ActionForm>
    }
}

/// The button that removes a BGP session; a session to a partner asks why (it waits for approval).
#[component]
pub fn RemoveSessionButton(device: String, name: String, partner: Option<String>, changed: Changed) -> impl IntoView {
    let remove = ServerAction::<RemoveSession>::new();
    let problems = told(remove, changed, false, None);
    let confirm = match &partner {
        Some(p) => format!("Ask to remove this session to {p}? It waits for approval."),
        None => "Remove this session?".to_owned(),
    };
    view! {
        <ActionForm action=remove attr:class="flex flex-wrap items-center justify-end gap-2">
            <input type="hidden" name="device" value=device/>
            <input type="hidden" name="name" value=name/>
            {match partner {
                Some(_) => view! { <input name="reason" maxlength="1000" placeholder="Why (needs approval)" aria-label="Why remove this session" class="h-8 w-40 rounded-lg border border-slate-300 px-2 text-xs dark:border-slate-700 dark:bg-slate-800"/> }.into_any(),
                None => view! { <input type="hidden" name="reason" value=""/> }.into_any(),
            }}
            <button type="submit" class=SMALL_BUTTON data-confirm=confirm>"Remove"</button>
            <FieldError field="reason" problems=problems/>
        </ActionForm>
    }
}
