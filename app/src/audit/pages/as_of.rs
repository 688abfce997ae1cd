//! A subject as it was at a past moment, beside how it is now: the card entity, integration and
//! system pages share. The moment is the page's `as_of` query parameter, so a review can link to
//! exactly what it looked at.
use crate::audit::types::AsOf;
use crate::error::AppError;
use crate::ui::form::{BUTTON, INPUT, LABEL_SMALL};
use crate::ui::{Badge, Card, DataTable, ErrorBox, Loading, Tone};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// The moment the page asks about, if any.
pub fn asked_moment() -> Memo<Option<String>> {
    let query = use_query_map();
    Memo::new(move |_| query.with(|q| q.get("as_of")).filter(|s| !s.trim().is_empty()))
}

/// Long values (an API definition) are cut for the table.
fn cut(s: &str) -> String {
    const MAX: usize = 240;
    if s.chars().count() > MAX {
        format!("{}…", s.chars().take(MAX).collect::<String>())
    } else {
        s.to_owned()
    }
}

/// `noun` is what the changes since are changes of ("change", "network change").
fn answer(a: AsOf, noun: &'static str) -> impl IntoView {
    let at = a.at.format("%Y-%m-%d %H:%M:%S UTC").to_string();
    if !a.existed {
        return view! {
            <p class="p-4 text-sm text-slate-600 dark:text-slate-400" data-testid="as-of-absent">
                {format!("At {at} it did not exist: it was registered later, or had been removed.")}
            </p>
        }
        .into_any();
    }
    let differ = a.fields.iter().filter(|f| f.changed).count();
    let last = a
        .last_change
        .map(|c| {
            let by = if c.actor.is_empty() { String::new() } else { format!(" by {}", c.actor) };
            format!(", last changed {}{by} ({})", c.at.format("%Y-%m-%d %H:%M:%S UTC"), c.action)
        })
        .unwrap_or_default();
    let plural = |n: usize, one: &str, many: &str| if n == 1 { format!("1 {one}") } else { format!("{n} {many}") };
    let since = plural(usize::try_from(a.changes_since).unwrap_or(0), noun, &format!("{noun}s"));
    let summary = match (differ, a.changes_since) {
        (_, 0) => format!("As it was at {at}{last}. Nothing has changed since."),
        (0, _) => format!("As it was at {at}{last}. Since then: {since}, none to these fields."),
        (d, _) => format!("As it was at {at}{last}. Since then: {since}; {} from now.", plural(d, "field differs", "fields differ")),
    };
    view! {
        <p class="px-4 pt-3 text-sm" data-testid="as-of-summary">{summary}</p>
        <DataTable testid="as-of" columns=vec!["Field", "Then", "Now"]>
            {a.fields.into_iter().map(|f| {
                let row = if f.changed { "bg-amber-50 dark:bg-amber-950/40" } else { "" };
                view! {
                    <tr class=row data-field=f.name.clone() data-changed=f.changed.to_string()>
                        <td class="px-4 py-2 font-mono text-xs">
                            {f.name.clone()}
                            {f.changed.then(|| view! { <span class="ml-2"><Badge tone=Tone::Warn>"changed"</Badge></span> })}
                        </td>
                        <td class="max-w-xs break-words px-4 py-2 text-sm">{cut(&f.then)}</td>
                        <td class="max-w-xs break-words px-4 py-2 text-sm text-slate-600 dark:text-slate-400">{cut(&f.now)}</td>
                    </tr>
                }
            }).collect_view()}
        </DataTable>
    }
    .into_any()
}

/// Asks for a moment and shows the subject then, beside now. `data` answers for the page's
/// `as_of` (see [`asked_moment`]); `None` while none is asked. `blurb` says where the past comes
/// from, `noun` what the changes since are changes of.
#[component]
pub fn AsOfCard(
    data: Resource<Option<Result<AsOf, AppError>>>,
    #[prop(default = "Rebuilt from the audit log: pick a past moment to see every field as it was then, beside how it is now.")] blurb: &'static str,
    #[prop(default = "change")] noun: &'static str,
) -> impl IntoView {
    let asked = asked_moment();
    // a browser's date-and-time field takes YYYY-MM-DDTHH:MM
    let value = move || asked.get().map(|s| s.chars().take(16).collect::<String>()).unwrap_or_default();
    view! {
        <Card title="As it was at a moment">
            <form method="get" class="flex flex-wrap items-end gap-3 p-4" data-testid="as-of-form">
                <div>
                    <label for="as-of" class=LABEL_SMALL>"Moment (UTC)"</label>
                    <input id="as-of" type="datetime-local" name="as_of" required value=value class=INPUT/>
                </div>
                <button type="submit" class=BUTTON>"Show it then"</button>
                {move || asked.get().map(|_| view! { <a class="text-sm text-indigo-700 hover:underline dark:text-indigo-300" href="?">"Back to now"</a> })}
            </form>
            <Suspense fallback=|| view! { <Loading rows=3/> }>
                {move || Suspend::new(async move {
                    match data.await {
                        None => view! {
                            <p class="px-4 pb-4 text-sm text-slate-500">{blurb}</p>
                        }.into_any(),
                        Some(Ok(a)) => answer(a, noun).into_any(),
                        Some(Err(e)) => view! { <div class="px-4 pb-4" data-testid="as-of-error"><ErrorBox error=e/></div> }.into_any(),
                    }
                })}
            </Suspense>
        </Card>
    }
}
