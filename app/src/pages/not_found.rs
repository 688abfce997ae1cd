use crate::ui::{Card, PageHeader};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_location;

/// Any path no route claims. Answers HTTP 404 when rendered on the server.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    let path = use_location().pathname;
    crate::app::mark_hydrated();
    view! {
        <Title text="Page not found"/>
        <PageHeader title="Page not found"/>
        <Card>
            <div class="p-6 text-sm">
                <p>"Nothing lives at " <code class="rounded bg-slate-100 px-1 font-mono dark:bg-slate-800">{move || path.get()}</code> "."</p>
                <p class="mt-2 text-slate-600 dark:text-slate-400">"The link may be old, or the thing it pointed at was renamed."</p>
                <div class="mt-4 flex gap-4">
                    <A href="/" attr:class="font-medium text-indigo-600 hover:underline dark:text-indigo-400">"Go to the home page"</A>
                    <A href="/catalog" attr:class="font-medium text-indigo-600 hover:underline dark:text-indigo-400">"Browse the catalog"</A>
                </div>
            </div>
        </Card>
    }
}
