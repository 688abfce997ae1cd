use crate::catalog::api::{import_returned, ImportYaml};
use crate::catalog::types::{ImportReport, ImportReturn, Outcome};
use crate::ui::{Badge, Card, DataTable, ErrorBox, Loading, PageHeader, Tone};
use leptos::prelude::*;
use leptos_meta::Title;

/// Paste Backstage descriptors, see what an import would do, then import.
#[component]
pub fn ImportPage() -> impl IntoView {
    let import = ServerAction::<ImportYaml>::new();
    // without JavaScript the post comes back here, and what it typed and got is in the session
    let returned = Resource::new(|| (), |_| import_returned());
    view! {
        <Title text="Import"/>
        <PageHeader title="Import Backstage descriptors"
            subtitle="Paste catalog-info.yaml documents (and switchyard.dev/v1alpha1 IntegrationSystem and Integration declarations). An admin's import applies at once; anyone else's becomes one approval request. Several files with Locations: POST them to /api/v1/catalog/import."/>
        <Suspense fallback=|| view! { <Loading rows=4/> }>
            {move || Suspend::new(async move {
                let back = returned.await.ok().flatten().unwrap_or_default();
                view! { <ImportForm import back/> }
            })}
        </Suspense>
    }
}

#[component]
fn ImportForm(import: ServerAction<ImportYaml>, back: ImportReturn) -> impl IntoView {
    let ImportReturn { content: pasted, dry_run: dry, report: from_post, error: post_error } = back;
    view! {
        <Card>
            <ActionForm action=import attr:class="space-y-3 p-4">
                <FilePicker/>
                <label for="import-content" class="block text-sm font-medium">"Descriptor YAML"</label>
                <textarea id="import-content" name="content" rows="14" spellcheck="false" prop:value=pasted.clone()
                    class="w-full rounded-lg border border-slate-300 px-3 py-2 font-mono text-xs dark:border-slate-700 dark:bg-slate-800"
                    placeholder="apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: card-vault\nspec:\n  type: service\n  lifecycle: production\n  owner: payments">{pasted.clone()}</textarea>
                <div class="flex flex-wrap items-center gap-4">
                    <label class="flex items-center gap-2 text-sm"><input type="checkbox" name="dry_run" value="on" checked=dry/>"Only report what would change (dry run)"</label>
                    <button type="submit" class="h-9 rounded-lg bg-indigo-600 px-4 text-sm font-medium text-white hover:bg-indigo-500">"Import"</button>
                </div>
            </ActionForm>
        </Card>
        <div class="mt-6">
            {move || match import.value().get() {
                Some(Ok(report)) => view! { <Report report/> }.into_any(),
                Some(Err(e)) => view! { <ErrorBox error=e/> }.into_any(),
                None => match (from_post.clone(), post_error.clone()) {
                    (Some(report), _) => view! { <Report report/> }.into_any(),
                    (None, Some(message)) => view! { <p role="alert" class="rounded-lg bg-rose-50 p-3 text-sm text-rose-900 dark:bg-rose-950 dark:text-rose-200">{message}</p> }.into_any(),
                    (None, None) => ().into_any(),
                },
            }}
        </div>
    }
}

/// Choose descriptor files (with JavaScript): they are read in the browser and sent with their
/// names, so a Location or `$text` can point from one to another. Without JavaScript, paste.
#[component]
fn FilePicker() -> impl IntoView {
    let chosen = RwSignal::new(String::new());
    let names = RwSignal::new(Vec::<String>::new());
    #[allow(unused_variables)]
    let on_change = move |ev: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) else { return };
            let Some(list) = input.files() else { return };
            let files: Vec<web_sys::File> = (0..list.length()).filter_map(|i| list.get(i)).collect();
            leptos::task::spawn_local(async move {
                let mut read = Vec::new();
                for f in files {
                    let text = wasm_bindgen_futures::JsFuture::from(f.text()).await.ok().and_then(|v| v.as_string()).unwrap_or_default();
                    read.push(serde_json::json!({ "path": f.name(), "content": text }));
                }
                names.set(read.iter().filter_map(|f| f["path"].as_str().map(str::to_owned)).collect());
                chosen.set(serde_json::Value::Array(read).to_string());
            });
        }
    };
    view! {
        <div class="hidden js-only" data-testid="file-picker">
            <label for="import-files" class="block text-sm font-medium">"Descriptor files"</label>
            <input id="import-files" type="file" multiple accept=".yaml,.yml,.json,.graphql,.proto,text/*" on:change=on_change
                class="mt-1 block text-sm file:mr-3 file:rounded-lg file:border-0 file:bg-slate-100 file:px-3 file:py-1.5 file:text-sm dark:file:bg-slate-800"/>
            <input type="hidden" name="files" prop:value=move || chosen.get()/>
            <p class="mt-1 text-xs text-slate-500">
                {move || if names.get().is_empty() { "Or paste below.".to_owned() } else { format!("Chosen: {}. These are imported instead of the text below.", names.get().join(", ")) }}
            </p>
        </div>
    }
}

fn tone(o: Outcome) -> Tone {
    match o {
        Outcome::Created => Tone::Good,
        Outcome::Updated => Tone::Info,
        Outcome::Unchanged | Outcome::Skipped => Tone::Neutral,
        Outcome::Refused => Tone::Bad,
    }
}

#[component]
pub fn Report(report: ImportReport) -> impl IntoView {
    let refused = report.count(Outcome::Refused);
    let left_out = if refused > 0 { format!(" {refused} document(s) refused and left out.") } else { String::new() };
    let headline = if report.dry_run {
        format!(
            "Dry run: nothing was written. {} would be created, {} updated.{left_out}",
            report.count(Outcome::Created),
            report.count(Outcome::Updated)
        )
    } else if let Some(id) = report.approval_id {
        format!("Sent for approval (request {id}).{left_out}")
    } else if report.applied {
        format!("Imported: {} created, {} updated.{left_out}", report.count(Outcome::Created), report.count(Outcome::Updated))
    } else if refused > 0 {
        format!("Nothing was imported: {refused} document(s) refused.")
    } else {
        "Nothing to change: the catalog already matches.".to_owned()
    };
    view! {
        <Card title="Report">
            <p class="px-4 pt-3 text-sm font-medium" role="status" data-testid="import-headline">{headline}</p>
            <DataTable testid="import-report" columns=vec!["Entity", "File", "Outcome", "Details"]>
                {report.items.into_iter().map(|i| view! {
                    <tr class="align-top">
                        <td class="px-4 py-2 font-mono text-xs">{i.entity}</td>
                        <td class="px-4 py-2 font-mono text-xs">{i.file}</td>
                        <td class="px-4 py-2"><Badge tone=tone(i.outcome)>{i.outcome.as_str()}</Badge></td>
                        <td class="px-4 py-2 text-xs">{i.messages.join("; ")}</td>
                    </tr>
                }).collect_view()}
            </DataTable>
        </Card>
    }
}
