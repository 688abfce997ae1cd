use super::api::get_api_reference;
use super::types::{ApiReference, Endpoint};
use crate::ui::{Badge, Card, ErrorBox, Loading, PageHeader, Tone};
use leptos::prelude::*;
use leptos_meta::Title;

/// `/docs/api`: every endpoint with its parameters, body and answers; the schemas; a link to
/// the OpenAPI document itself.
#[component]
pub fn ApiDocsPage() -> impl IntoView {
    let reference = Resource::new(|| (), |_| get_api_reference());
    view! {
        <Title text="API reference"/>
        <PageHeader title="API reference" subtitle="The REST API under /api/v1, generated from the code.">
            <a href="/api/openapi.json" rel="external" class="rounded-lg px-3 py-2 text-sm font-medium ring-1 ring-slate-300 hover:bg-slate-100 dark:ring-slate-700 dark:hover:bg-slate-800">"OpenAPI 3.1 JSON"</a>
        </PageHeader>
        <Suspense fallback=|| view! { <Loading rows=5/> }>
            {move || Suspend::new(async move {
                match reference.await {
                    Ok(r) => view! { <Reference reference=r/> }.into_any(),
                    Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Reference(reference: ApiReference) -> impl IntoView {
    let ApiReference { description, endpoints, schemas, .. } = reference;
    view! {
        <p class="mb-6 max-w-3xl text-sm text-slate-700 dark:text-slate-300">{description}</p>
        <div class="space-y-4" data-testid="endpoints">
            {endpoints.into_iter().map(|e| view! { <EndpointCard endpoint=e/> }).collect_view()}
        </div>
        <h2 class="mb-3 mt-8 text-lg font-semibold">"Schemas"</h2>
        <div class="space-y-2">
            {schemas.into_iter().map(|(name, json)| view! {
                <details class="rounded-lg border border-slate-200 bg-white px-4 py-2 dark:border-slate-800 dark:bg-slate-900">
                    <summary class="cursor-pointer font-mono text-sm">{name}</summary>
                    <pre class="mt-2 overflow-x-auto text-xs">{json}</pre>
                </details>
            }).collect_view()}
        </div>
    }
}

#[component]
fn EndpointCard(endpoint: Endpoint) -> impl IntoView {
    let Endpoint { method, path, tag, summary, description, params, body, responses } = endpoint;
    let tone = if method == "GET" { Tone::Info } else { Tone::Good };
    view! {
        <Card>
            <div class="p-4">
                <div class="flex flex-wrap items-center gap-2">
                    <Badge tone>{method}</Badge>
                    <code class="font-mono text-sm">{path}</code>
                    <span class="text-xs text-slate-500">{tag}</span>
                </div>
                <p class="mt-2 text-sm font-medium">{summary}</p>
                {(!description.is_empty()).then(|| view! { <p class="mt-1 text-sm text-slate-600 dark:text-slate-400">{description}</p> })}
                {(!params.is_empty()).then(|| view! {
                    <h3 class="mt-3 text-xs font-semibold uppercase tracking-wide text-slate-500">"Parameters"</h3>
                    <ul class="mt-1 space-y-1 text-sm">
                        {params.into_iter().map(|p| view! {
                            <li>
                                <code class="font-mono">{p.name}</code>
                                <span class="ml-2 text-xs text-slate-500">{format!("{}{}", p.location, if p.required { ", required" } else { "" })}</span>
                                <span class="ml-2">{p.description}</span>
                            </li>
                        }).collect_view()}
                    </ul>
                })}
                {body.map(|b| view! {
                    <p class="mt-3 text-sm"><span class="text-xs font-semibold uppercase tracking-wide text-slate-500">"Body "</span><code class="font-mono">{b}</code></p>
                })}
                <h3 class="mt-3 text-xs font-semibold uppercase tracking-wide text-slate-500">"Answers"</h3>
                <ul class="mt-1 space-y-1 text-sm">
                    {responses.into_iter().map(|(status, text, schema)| view! {
                        <li><code class="font-mono">{status}</code> <span class="ml-2">{text}</span>
                            {schema.map(|s| view! { <code class="ml-2 font-mono text-xs text-slate-500">{s}</code> })}
                        </li>
                    }).collect_view()}
                </ul>
            </div>
        </Card>
    }
}
