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

/// An operation's anchor on the page: `get-api-v1-catalog-entities`.
fn anchor(method: &str, path: &str) -> String {
    let mut id = method.to_lowercase();
    for c in path.chars() {
        id.push(if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' });
    }
    id.split('-').filter(|p| !p.is_empty()).collect::<Vec<_>>().join("-")
}

#[component]
fn Reference(reference: ApiReference) -> impl IntoView {
    let ApiReference { description_html, endpoints, schemas, .. } = reference;
    // the contents: each tag with its operations, in the document's order
    let mut tags: Vec<(String, Vec<(String, String, String)>)> = Vec::new();
    for e in &endpoints {
        let item = (anchor(&e.method, &e.path), e.method.clone(), e.path.clone());
        match tags.iter_mut().find(|(t, _)| *t == e.tag) {
            Some((_, items)) => items.push(item),
            None => tags.push((e.tag.clone(), vec![item])),
        }
    }
    view! {
        // the server made this HTML from the OpenAPI document's Markdown, raw HTML escaped
        <div class="prose-doc mb-6 max-w-3xl space-y-2 text-sm text-slate-700 dark:text-slate-300" data-testid="api-description" inner_html=description_html></div>
        <div class="grid grid-cols-1 gap-6 lg:grid-cols-[16rem_minmax(0,1fr)]">
            <nav aria-label="Contents" class="text-sm lg:sticky lg:top-20 lg:max-h-[calc(100vh-6rem)] lg:self-start lg:overflow-y-auto" data-testid="api-contents">
                <h2 class="mb-2 text-xs font-semibold uppercase tracking-wide text-slate-500">"Contents"</h2>
                <ul class="space-y-3">
                    {tags.into_iter().map(|(tag, items)| view! {
                        <li>
                            <p class="font-medium">{if tag.is_empty() { "other".to_owned() } else { tag }}</p>
                            <ul class="mt-1 space-y-0.5">
                                {items.into_iter().map(|(id, method, path)| view! {
                                    <li><a class="block truncate font-mono text-xs text-indigo-700 hover:underline dark:text-indigo-300" href=format!("#{id}")>{format!("{method} {path}")}</a></li>
                                }).collect_view()}
                            </ul>
                        </li>
                    }).collect_view()}
                    <li><a class="font-medium text-indigo-700 hover:underline dark:text-indigo-300" href="#schemas">"Schemas"</a></li>
                </ul>
            </nav>
            <div class="min-w-0">
                <div class="space-y-4" data-testid="endpoints">
                    {endpoints.into_iter().map(|e| view! { <EndpointCard endpoint=e/> }).collect_view()}
                </div>
                <h2 id="schemas" class="mb-3 mt-8 text-lg font-semibold">"Schemas"</h2>
                <div class="space-y-2">
                    {schemas.into_iter().map(|(name, json)| view! {
                        <details class="rounded-lg border border-slate-200 bg-white px-4 py-2 dark:border-slate-800 dark:bg-slate-900">
                            <summary class="cursor-pointer font-mono text-sm">{name}</summary>
                            <pre class="mt-2 overflow-x-auto text-xs">{json}</pre>
                        </details>
                    }).collect_view()}
                </div>
            </div>
        </div>
    }
}

#[component]
fn EndpointCard(endpoint: Endpoint) -> impl IntoView {
    let Endpoint { method, path, tag, summary, description_html, example, params, body, responses, .. } = endpoint;
    let tone = if method == "GET" { Tone::Info } else { Tone::Good };
    let id = anchor(&method, &path);
    view! {
        <Card>
            <div class="scroll-mt-20 p-4" id=id data-testid="endpoint">
                <div class="flex flex-wrap items-center gap-2">
                    <Badge tone>{method}</Badge>
                    <code class="font-mono text-sm">{path}</code>
                    <span class="text-xs text-slate-500">{tag}</span>
                </div>
                <p class="mt-2 text-sm font-medium">{summary}</p>
                // Markdown the server rendered from the document (raw HTML escaped)
                {(!description_html.is_empty()).then(|| view! { <div class="prose-doc mt-1 space-y-2 text-sm text-slate-600 dark:text-slate-400" inner_html=description_html></div> })}
                <details class="mt-3 text-sm">
                    <summary class="cursor-pointer text-xs font-semibold uppercase tracking-wide text-slate-500">"Example"</summary>
                    <pre class="mt-1 overflow-x-auto rounded-lg bg-slate-100 p-3 font-mono text-xs dark:bg-slate-800" data-testid="example">{example}</pre>
                </details>
                {(!params.is_empty()).then(|| view! {
                    <h3 class="mt-3 text-xs font-semibold uppercase tracking-wide text-slate-500">"Parameters"</h3>
                    <ul class="mt-1 space-y-1 text-sm">
                        {params.into_iter().map(|p| view! {
                            <li>
                                <code class="font-mono">{p.name}</code>
                                <span class="ml-2 text-xs text-slate-500">{format!("{}{}", p.location, if p.required { ", required" } else { "" })}</span>
                                // Markdown the server rendered (raw HTML escaped)
                                <span class="prose-doc ml-2" inner_html=p.description></span>
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
                        <li><code class="font-mono">{status}</code> <span class="prose-doc ml-2" inner_html=text></span>
                            {schema.map(|s| view! { <code class="ml-2 font-mono text-xs text-slate-500">{s}</code> })}
                        </li>
                    }).collect_view()}
                </ul>
            </div>
        </Card>
    }
}
