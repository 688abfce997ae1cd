use super::sessions::SessionList;
use super::tokens::{TokenForm, TokenList};
use crate::iam::api::{list_sessions, list_tokens, CreateToken, EndSession, RevokeToken};
use crate::ui::{Card, ErrorBox, Loading};
use leptos::prelude::*;

/// Sessions and API tokens: one's own, or with `everyone` (admins) all of them. Both lists load
/// as one resource under one `<Suspense>`: sibling Suspenses can leave an SSR response
/// hanging (leptos-rs/leptos#4851).
#[component]
pub fn AccessPanels(everyone: bool) -> impl IntoView {
    let end = ServerAction::<EndSession>::new();
    let create = ServerAction::<CreateToken>::new();
    let revoke = ServerAction::<RevokeToken>::new();
    let query = leptos_router::hooks::use_query_map();
    let lists = Resource::new(
        // a change of page re-slices the lists already read (below), without asking again
        move || (end.version().get(), create.version().get(), revoke.version().get()),
        move |_| async move { (list_sessions(everyone).await, list_tokens(everyone).await) },
    );
    let (sessions_title, tokens_title) = if everyone {
        ("Signed-in sessions, everyone's", "API tokens, everyone's (and service tokens for teams)")
    } else {
        ("Your sessions", "Your API tokens")
    };
    view! {
        {move || end.value().get().and_then(Result::err).map(|e| view! { <div class="mb-4"><ErrorBox error=e/></div> })}
        <Suspense fallback=|| view! { <Loading rows=4/> }>
            {move || Suspend::new(async move {
                let (sessions, tokens) = lists.await;
                view! {
                    <Card title=sessions_title>
                        {match sessions {
                            Ok(all) => (move || {
                                let (list, pager) = page_of(all.clone(), "sessions_page", query.read().get("sessions_page"));
                                view! { <SessionList list everyone end/> {pager} }
                            }).into_any(),
                            Err(e) => view! { <div class="p-4"><ErrorBox error=e/></div> }.into_any(),
                        }}
                    </Card>
                    <div class="mt-6">
                        <Card title=tokens_title>
                            <TokenForm everyone create revoke/>
                            {match tokens {
                                Ok(all) => (move || {
                                    let (list, pager) = page_of(all.clone(), "tokens_page", query.read().get("tokens_page"));
                                    view! { <TokenList list revoke/> {pager} }
                                }).into_any(),
                                Err(e) => view! { <div class="p-4"><ErrorBox error=e/></div> }.into_any(),
                            }}
                        </Card>
                    </div>
                }
            })}
        </Suspense>
    }
}

/// Rows a list shows per page.
const PAGE_ROWS: usize = 20;

/// The `page`th (from 1, by the query's `key`) `PAGE_ROWS` of `list`, and the links to the
/// pages before and after it (plain links: they work without JavaScript).
fn page_of<T>(list: Vec<T>, key: &'static str, page: Option<String>) -> (Vec<T>, Option<impl IntoView>) {
    let total = list.len();
    let pages = total.div_ceil(PAGE_ROWS).max(1);
    let page = page.and_then(|p| p.parse::<usize>().ok()).unwrap_or(1).clamp(1, pages);
    let rows: Vec<T> = list.into_iter().skip((page - 1) * PAGE_ROWS).take(PAGE_ROWS).collect();
    let link = "font-medium text-indigo-700 hover:underline dark:text-indigo-300";
    let pager = (pages > 1).then(|| {
        let (first, last) = ((page - 1) * PAGE_ROWS + 1, ((page - 1) * PAGE_ROWS + rows.len()));
        view! {
            <nav class="flex items-center justify-between border-t border-slate-200 px-4 py-3 text-sm dark:border-slate-800" aria-label="Pages" data-testid=format!("{key}-pager")>
                <span class="text-slate-600 dark:text-slate-400">{format!("{first}–{last} of {total}")}</span>
                <span class="flex gap-4">
                    {(page > 1).then(|| view! { <a class=link href=format!("?{key}={}", page - 1)>"← Previous"</a> })}
                    {(page < pages).then(|| view! { <a class=link href=format!("?{key}={}", page + 1)>"Next →"</a> })}
                </span>
            </nav>
        }
    });
    (rows, pager)
}
