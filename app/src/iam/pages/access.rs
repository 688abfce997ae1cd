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
    let lists = Resource::new(
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
                            Ok(list) => view! { <SessionList list everyone end/> }.into_any(),
                            Err(e) => view! { <div class="p-4"><ErrorBox error=e/></div> }.into_any(),
                        }}
                    </Card>
                    <div class="mt-6">
                        <Card title=tokens_title>
                            <TokenForm everyone create revoke/>
                            {match tokens {
                                Ok(list) => view! { <TokenList list revoke/> }.into_any(),
                                Err(e) => view! { <div class="p-4"><ErrorBox error=e/></div> }.into_any(),
                            }}
                        </Card>
                    </div>
                }
            })}
        </Suspense>
    }
}
