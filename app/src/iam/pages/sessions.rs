use crate::iam::api::EndSession;
use crate::iam::types::SessionInfo;
use crate::ui::DataTable;
use leptos::prelude::*;

/// Live sessions with a button to end each; `everyone` adds the user column (admins' view).
#[component]
pub fn SessionList(list: Vec<SessionInfo>, everyone: bool, end: ServerAction<EndSession>) -> impl IntoView {
    view! {
                        <DataTable testid="session-table" columns=if everyone {
                            vec!["User", "Browser", "From", "Signed in", "Last seen", ""]
                        } else {
                            vec!["Browser", "From", "Signed in", "Last seen", ""]
                        }>
                                    {list.into_iter().map(|s| view! {
                                        <tr>
                                            {everyone.then(|| view! { <td class="px-4 py-2.5 font-mono">{s.username.clone()}</td> })}
                                            <td class="max-w-xs truncate px-4 py-2.5" title=s.user_agent.clone()>{short_agent(&s.user_agent)}</td>
                                            <td class="px-4 py-2.5 font-mono text-xs">{s.ip.clone()}</td>
                                            <td class="px-4 py-2.5 tabular-nums">{s.created_at.format("%Y-%m-%d %H:%M UTC").to_string()}</td>
                                            <td class="px-4 py-2.5 tabular-nums">{s.last_seen_at.format("%Y-%m-%d %H:%M UTC").to_string()}</td>
                                            <td class="px-4 py-2.5 text-right">
                                                {if s.current {
                                                    view! { <span class="text-xs text-slate-500">"this browser"</span> }.into_any()
                                                } else {
                                                    view! {
                                                        <ActionForm action=end>
                                                            <input type="hidden" name="id" value=s.id.to_string()/>
                                                            <button type="submit" class="rounded-md px-2 py-1 text-sm font-medium text-rose-700 hover:bg-rose-50 dark:text-rose-300 dark:hover:bg-rose-950">"End session"</button>
                                                        </ActionForm>
                                                    }.into_any()
                                                }}
                                            </td>
                                        </tr>
                                    }).collect_view()}
                        </DataTable>
    }
}

/// "Chrome on Linux" from a user agent string, or the string itself.
fn short_agent(ua: &str) -> String {
    let browser = ["Firefox", "Edg", "Chrome", "Safari", "curl"]
        .into_iter()
        .find(|b| ua.contains(b))
        .map(|b| if b == "Edg" { "Edge" } else { b });
    let os = ["Windows", "Mac OS", "Linux", "Android", "iPhone"].into_iter().find(|o| ua.contains(o));
    match (browser, os) {
        (Some(b), Some(o)) => format!("{b} on {o}"),
        (Some(b), None) => b.to_owned(),
        _ if ua.is_empty() => "unknown".to_owned(),
        _ => ua.chars().take(40).collect(),
    }
}
