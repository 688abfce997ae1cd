//! The application shell: top bar (product, search, user menu) and side navigation.
use super::icons::{Icon, IconSvg};
use crate::iam::types::Me;
use leptos::prelude::*;
use leptos_router::components::{Form, A};
use leptos_router::hooks::use_query_map;

/// The sections of the portal, in navigation order, and whether only admins see them.
pub const SECTIONS: &[(&str, &str, Icon, bool)] = &[
    ("/catalog", "Catalog", Icon::Catalog, false),
    ("/integrations", "Integrations", Icon::Integrations, false),
    ("/topology", "Topology", Icon::Topology, false),
    ("/deploys", "Deploys", Icon::Deploys, false),
    ("/calendar", "Calendar", Icon::Calendar, false),
    ("/approvals", "Approvals", Icon::Approvals, false),
    ("/admin", "Admin", Icon::Admin, true),
];

/// The element in `<head>` that carries the signed-in person to the browser.
pub const ME_SCRIPT_ID: &str = "switchyard-me";

/// The signed-in person, known without waiting: on the server from the request, in the browser
/// from the JSON the server put in `<head>`. No resource and no `<Suspense>`: every page's shell
/// renders at once, and one fewer Suspense per page stays clear of leptos-rs/leptos#4851.
pub fn current_user() -> Option<Me> {
    #[cfg(feature = "ssr")]
    {
        crate::context::maybe_principal().map(|p| p.me())
    }
    #[cfg(not(feature = "ssr"))]
    {
        let text = document().get_element_by_id(ME_SCRIPT_ID)?.text_content()?;
        serde_json::from_str(&text).ok()
    }
}

/// The `<script type="application/json">` for `<head>` (rendered by the server's shell; `<` is
/// escaped so the JSON cannot close the script element).
pub fn me_script() -> impl IntoView {
    let json = current_user()
        .and_then(|me| serde_json::to_string(&me).ok())
        .unwrap_or_else(|| "null".into())
        .replace('<', "\\u003c");
    view! { <script id=ME_SCRIPT_ID type="application/json" inner_html=json></script> }
}

#[component]
pub fn AppShell(children: Children) -> impl IntoView {
    // every page is for readers: anyone else is refused before the page streams
    #[cfg(feature = "ssr")]
    crate::context::deny_unless_reader();
    let nav_open = RwSignal::new(false);
    let me = current_user();
    let admin = me.as_ref().is_some_and(Me::is_admin);
    provide_context(CurrentUser(me.clone()));
    view! {
        <a href="#main" class="sr-only focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:z-50 focus:rounded focus:bg-white focus:px-3 focus:py-2 focus:text-sm">
            "Skip to content"
        </a>
        <div class="min-h-screen bg-slate-50 text-slate-900 lg:grid lg:grid-cols-[15rem_minmax(0,1fr)] lg:grid-rows-[auto_1fr] dark:bg-slate-950 dark:text-slate-100">
            <TopBar nav_open me/>
            <SideNav nav_open admin/>
            <main id="main" class="min-w-0 px-4 py-6 sm:px-6 lg:col-start-2 lg:row-start-2 lg:px-10">{children()}</main>
        </div>
    }
}

/// The signed-in person, for pages (provided by the shell).
#[derive(Debug, Clone, PartialEq)]
pub struct CurrentUser(pub Option<Me>);

impl CurrentUser {
    pub fn get() -> Option<Me> {
        use_context::<CurrentUser>().and_then(|u| u.0)
    }
}

/// How long typing pauses before the search box asks for matches.
const SEARCH_PAUSE_MS: u64 = 150;

#[component]
fn TopBar(nav_open: RwSignal<bool>, me: Option<Me>) -> impl IntoView {
    let search = NodeRef::<leptos::html::Input>::new();
    let query = use_query_map();
    // The current catalog query stays in the box, so a search can be refined.
    let current = move || query.read().get("q").unwrap_or_default();

    // `/` anywhere outside a text field jumps to search, as in most developer tools.
    let handle = window_event_listener(leptos::ev::keydown, move |ev| {
        if ev.key() != "/" || ev.ctrl_key() || ev.meta_key() || ev.alt_key() {
            return;
        }
        let typing = document().active_element().is_some_and(|el| {
            matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT") || el.has_attribute("contenteditable")
        });
        if !typing {
            if let Some(input) = search.get_untracked() {
                ev.prevent_default();
                let _ = input.focus();
            }
        }
    });
    on_cleanup(move || handle.remove());

    // results as you type (in the browser only; without JavaScript the box submits to /catalog),
    // asked once typing pauses
    let typed = RwSignal::new(String::new());
    let asked = RwSignal::new(String::new());
    let open = RwSignal::new(false);
    // the hit the arrow keys are on
    let active = RwSignal::new(None::<usize>);
    let results = LocalResource::new(move || {
        let text = asked.get();
        async move {
            if text.trim().chars().count() < 2 {
                return None;
            }
            Some((text.clone(), crate::catalog::api::search_entities(text).await.unwrap_or_default()))
        }
    });
    let location = leptos_router::hooks::use_location();
    Effect::new(move |_| {
        // read the path, not just track it: a memo that is only tracked is not recomputed, so
        // the effect never heard of a navigation and the list stayed open on the new page
        let _path = location.pathname.get();
        open.set(false);
        active.set(None);
    });
    // The list is keyed: an answer that arrives while the pointer is on a result (each pause in
    // typing asks again) keeps the elements it shares with the last one, so the click is not lost
    // on a node swapped out between mouse-down and mouse-up.
    let answer = move || results.get().flatten();
    let found = move || answer().map(|(_, hits)| hits).unwrap_or_default();
    let navigate = leptos_router::hooks::use_navigate();
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        let hits = found();
        match ev.key().as_str() {
            "Escape" => {
                open.set(false);
                active.set(None);
            }
            "ArrowDown" | "ArrowUp" if !hits.is_empty() => {
                ev.prevent_default();
                open.set(true);
                let last = hits.len() - 1;
                active.update(|a| {
                    *a = Some(match (*a, ev.key().as_str()) {
                        (None, "ArrowDown") => 0,
                        (None, _) => last,
                        (Some(i), "ArrowDown") => (i + 1).min(last),
                        (Some(i), _) => i.saturating_sub(1),
                    })
                });
            }
            "Enter" => {
                // a chosen hit opens; otherwise the form goes to the catalog page
                if let (true, Some(hit)) = (open.get_untracked(), active.get_untracked().and_then(|i| hits.get(i))) {
                    ev.prevent_default();
                    open.set(false);
                    navigate(&hit.entity_ref().href(), Default::default());
                }
            }
            _ => {}
        }
    };
    let hit_id = |i: usize| format!("search-hit-{i}");
    let numbered = move || found().into_iter().enumerate().collect::<Vec<_>>();
    let suggestions = view! {
        <Show when=move || open.get() && answer().is_some()>
            <ul role="listbox" id="search-results" data-testid="search-results" aria-label="Matches"
                class="absolute left-0 right-0 top-11 z-40 max-h-96 overflow-auto rounded-lg border border-slate-200 bg-white py-1 text-sm shadow-lg dark:border-slate-700 dark:bg-slate-900">
                <For
                    each=numbered
                    key=|(i, e)| (*i, e.entity_ref().href(), e.title.clone(), e.description.clone())
                    children=move |(i, e)| {
                    let href = e.entity_ref().href();
                    let on = move || active.get() == Some(i);
                    view! {
                    <li role="option" id=hit_id(i) aria-selected=move || on().to_string()>
                        <a href=href tabindex="-1"
                           class=move || format!("block px-3 py-2 hover:bg-slate-100 focus:outline-none dark:hover:bg-slate-800 {}", if on() { "bg-indigo-50 dark:bg-indigo-950" } else { "" })>
                            <span class="font-medium">{e.title}</span>
                            <span class="ml-2 text-xs text-slate-500">{format!("{} · {}", e.kind.as_str(), e.owner_name)}</span>
                            <span class="block truncate text-xs text-slate-500">{e.description}</span>
                        </a>
                    </li>
                    }
                    }
                />
                {move || answer().filter(|(_, hits)| hits.is_empty()).map(|(text, _)| view! {
                    <li class="px-3 py-2 text-slate-600 dark:text-slate-400" data-testid="search-none">{format!("No matches for “{}”", text.trim())}</li>
                })}
            </ul>
        </Show>
    };

    view! {
        <header class="sticky top-0 z-30 border-b border-slate-200 bg-white/90 backdrop-blur lg:col-span-2 dark:border-slate-800 dark:bg-slate-900/90">
            <div class="flex h-14 items-center gap-3 px-4 sm:px-6">
                // a link to the navigation, so it opens without JavaScript too (the drawer shows
                // while it is the page's target); with JavaScript it toggles in place
                <a
                    href="#sidenav"
                    role="button"
                    class="-ml-1 rounded-md p-2 text-slate-600 hover:bg-slate-100 lg:hidden dark:text-slate-300 dark:hover:bg-slate-800"
                    aria-label="Navigation"
                    aria-controls="sidenav"
                    aria-expanded=move || nav_open.get().to_string()
                    data-testid="nav-toggle"
                    on:click=move |ev| {
                        ev.prevent_default();
                        nav_open.update(|open| *open = !*open);
                    }
                >
                    <IconSvg icon=Icon::Menu/>
                </a>
                <A href="/" attr:class="flex items-center gap-2 font-semibold tracking-tight">
                    <span class="grid h-8 w-8 place-items-center rounded-lg bg-indigo-600 text-white">
                        <IconSvg icon=Icon::Logo class="h-5 w-5"/>
                    </span>
                    <span class="hidden sm:inline">"Switchyard"</span>
                </A>
                <Form method="GET" action="/catalog" attr:role="search" attr:class="relative ml-2 max-w-xl flex-1 sm:ml-6">
                    <label for="global-search" class="sr-only">"Search the catalog"</label>
                    <span class="pointer-events-none absolute inset-y-0 left-3 flex items-center text-slate-400">
                        <IconSvg icon=Icon::Search class="h-4 w-4"/>
                    </span>
                    <input
                        id="global-search"
                        node_ref=search
                        name="q"
                        type="search"
                        autocomplete="off"
                        value=current
                        prop:value=current
                        placeholder="Search the catalog"
                        role="combobox"
                        aria-autocomplete="list"
                        aria-controls="search-results"
                        aria-expanded=move || (open.get() && answer().is_some()).to_string()
                        aria-activedescendant=move || active.get().map(hit_id)
                        on:input=move |ev| {
                            let text = event_target_value(&ev);
                            typed.set(text.clone());
                            open.set(true);
                            active.set(None);
                            // ask once typing pauses
                            set_timeout(move || if typed.get_untracked() == text { asked.set(text) }, std::time::Duration::from_millis(SEARCH_PAUSE_MS));
                        }
                        on:focus=move |_| open.set(true)
                        on:keydown=on_key
                        class="h-9 w-full rounded-lg border border-slate-300 bg-slate-50 pl-9 pr-10 text-sm placeholder:text-slate-400 focus:border-indigo-500 focus:bg-white focus:outline-none focus:ring-2 focus:ring-indigo-500/30 dark:border-slate-700 dark:bg-slate-800 dark:focus:bg-slate-900"
                    />
                    <kbd class="pointer-events-none absolute inset-y-0 right-2 my-auto hidden h-5 items-center rounded border border-slate-300 px-1.5 font-mono text-xs text-slate-500 sm:flex dark:border-slate-600">
                        "/"
                    </kbd>
                    {suggestions}
                </Form>
                <div class="ml-auto">
                    {match me {
                        Some(me) => view! { <UserMenu me/> }.into_any(),
                        None => view! {
                            <a href="/auth/login" rel="external" class="rounded-lg bg-indigo-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-indigo-500">"Sign in"</a>
                        }.into_any(),
                    }}
                </div>
            </div>
        </header>
    }
}

/// The user menu. A `<details>` element, so it opens with or without JavaScript; sign-out is a
/// form POST (CSRF-checked), not a link.
#[component]
fn UserMenu(me: Me) -> impl IntoView {
    let item = "block w-full rounded-md px-3 py-2 text-left text-sm hover:bg-slate-100 dark:hover:bg-slate-800";
    view! {
        <details class="group relative" data-testid="user-menu">
            <summary class="flex cursor-pointer list-none items-center gap-2 rounded-full p-1 pr-3 text-sm hover:bg-slate-100 dark:hover:bg-slate-800 [&::-webkit-details-marker]:hidden">
                <span class="grid h-8 w-8 place-items-center rounded-full bg-indigo-100 font-medium text-indigo-800 dark:bg-indigo-900 dark:text-indigo-200">{me.initials()}</span>
                <span class="hidden sm:inline" data-testid="user-name">{me.name.clone()}</span>
            </summary>
            <div class="absolute right-0 z-40 mt-2 w-64 rounded-xl border border-slate-200 bg-white p-2 text-sm shadow-lg dark:border-slate-700 dark:bg-slate-900">
                <div class="px-3 py-2">
                    <p class="font-medium">{me.name.clone()}</p>
                    <p class="truncate text-slate-500 dark:text-slate-400">{me.email.clone()}</p>
                    {me.is_admin().then(|| view! { <p class="mt-1 text-xs font-medium text-rose-700 dark:text-rose-300">"Administrator"</p> })}
                </div>
                <hr class="my-1 border-slate-200 dark:border-slate-700"/>
                <A href="/me" attr:class=item>"Your profile and sessions"</A>
                <form method="post" action="/auth/logout">
                    <button type="submit" class=item>"Sign out"</button>
                </form>
            </div>
        </details>
    }
}

const NAV_LINK: &str = "flex items-center gap-3 rounded-lg px-3 py-2 text-sm font-medium text-slate-700 hover:bg-slate-100 hover:text-slate-900 aria-[current=page]:bg-indigo-50 aria-[current=page]:text-indigo-700 dark:text-slate-300 dark:hover:bg-slate-800 dark:hover:text-white dark:aria-[current=page]:bg-indigo-950 dark:aria-[current=page]:text-indigo-300";

#[component]
fn NavItem(href: &'static str, label: &'static str, icon: Icon) -> impl IntoView {
    view! {
        <li>
            <A href=href attr:class=NAV_LINK>
                <IconSvg icon=icon/>
                {label}
                {(href == "/approvals").then(|| view! { <WaitingBadge/> })}
            </A>
        </li>
    }
}

/// How many approvals wait for the viewer, beside "Approvals": asked by the browser after the
/// page is up (and again after each navigation), so no page's first load waits for it.
#[component]
fn WaitingBadge() -> impl IntoView {
    let location = leptos_router::hooks::use_location();
    let count = LocalResource::new(move || {
        location.pathname.track();
        crate::approvals::api::waiting_count()
    });
    move || {
        count.get().and_then(Result::ok).filter(|n| *n > 0).map(|n| view! {
            <span class="ml-auto rounded-full bg-rose-600 px-2 py-0.5 text-xs font-semibold tabular-nums text-white" data-testid="approvals-badge">
                {n}<span class="sr-only">" waiting for you"</span>
            </span>
        })
    }
}

const NAV_CLASS: &str = "target:block fixed inset-y-14 left-0 z-20 w-60 shrink-0 overflow-y-auto border-r border-slate-200 bg-white p-3 lg:sticky lg:top-14 lg:col-start-1 lg:row-start-2 lg:w-auto lg:block lg:h-[calc(100vh-3.5rem)] lg:bg-transparent dark:border-slate-800 dark:bg-slate-900 lg:dark:bg-transparent";

#[component]
fn SideNav(nav_open: RwSignal<bool>, admin: bool) -> impl IntoView {
    view! {
        <nav
            id="sidenav"
            aria-label="Sections"
            // one reactive class string: a static `class` beside `class:hidden` loses the
            // directive when hydrating
            class=move || {
                let shown = if nav_open.get() { "" } else { " hidden" };
                format!("{NAV_CLASS}{shown}")
            }
        >
            // following a link closes the drawer on a small screen (the click bubbles up here)
            <ul class="space-y-1" on:click=move |_| nav_open.set(false)>
                <li>
                    <A href="/" exact=true attr:class=NAV_LINK>
                        <IconSvg icon=Icon::Home/>
                        "Home"
                    </A>
                </li>
                {SECTIONS
                    .iter()
                    .filter(|(.., admin_only)| !admin_only || admin)
                    .map(|(href, label, icon, _)| view! { <NavItem href=*href label=*label icon=*icon/> })
                    .collect_view()}
            </ul>
            <div class="mt-6 space-y-1 px-3 text-xs text-slate-500 dark:text-slate-400">
                <A href="/docs/api" attr:class="block hover:text-slate-900 dark:hover:text-white">"API reference"</A>
                <p>"Switchyard · internal developer platform"</p>
            </div>
        </nav>
    }
}
