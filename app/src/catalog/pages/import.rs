use crate::catalog::api::ImportYaml;
use crate::catalog::types::{ImportReport, Outcome};
use crate::ui::{Badge, Card, DataTable, ErrorBox, PageHeader, Tone};
use leptos::prelude::*;
use leptos_meta::Title;

/// Paste Backstage descriptors, see what an import would do, then import.
#[component]
pub fn ImportPage() -> impl IntoView {
    let import = ServerAction::<ImportYaml>::new();
    view! {
        <Title text="Import"/>
        <PageHeader title="Import Backstage descriptors"
            subtitle="Paste catalog-info.yaml documents. An admin's import applies at once; anyone else's becomes one approval request. Several files with Locations: POST them to /api/v1/catalog/import."/>
        <Card>
            <ActionForm action=import attr:class="space-y-3 p-4">
                <label for="import-content" class="block text-sm font-medium">"Descriptor YAML (required)"</label>
                <textarea id="import-content" name="content" required rows="14" spellcheck="false"
                    class="w-full rounded-lg border border-slate-300 px-3 py-2 font-mono text-xs dark:border-slate-700 dark:bg-slate-800"
                    placeholder="apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: card-vault\nspec:\n  type: service\n  lifecycle: production\n  owner: payments"></textarea>
                <div class="flex flex-wrap items-center gap-4">
                    <label class="flex items-center gap-2 text-sm"><input type="checkbox" name="dry_run" value="on"/>"Only report what would change (dry run)"</label>
                    <button type="submit" class="h-9 rounded-lg bg-indigo-600 px-4 text-sm font-medium text-white hover:bg-indigo-500">"Import"</button>
                </div>
            </ActionForm>
        </Card>
        <div class="mt-6">
            {move || import.value().get().map(|r| match r {
                Ok(report) => view! { <Report report/> }.into_any(),
                Err(e) => view! { <ErrorBox error=e/> }.into_any(),
            })}
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
    let headline = if report.refused() {
        format!("Nothing was imported: {} document(s) refused.", report.count(Outcome::Refused))
    } else if report.dry_run {
        "Dry run: nothing was written.".to_owned()
    } else if let Some(id) = report.approval_id {
        format!("Sent for approval (request {id}).")
    } else if report.applied {
        "Imported.".to_owned()
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
