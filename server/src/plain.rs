//! Small self-contained pages for what happens outside the Leptos app: sign-in failures,
//! panics. Every piece of text is escaped.
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

fn escape(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '&' => "&amp;".to_owned(),
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '"' => "&quot;".to_owned(),
            '\'' => "&#39;".to_owned(),
            c => c.to_string(),
        })
        .collect()
}

/// A page with a heading, paragraphs, the request id, and links (text, href).
pub fn page(status: StatusCode, title: &str, paragraphs: &[&str], request_id: &str, links: &[(&str, &str)]) -> Response {
    let body: String = paragraphs.iter().map(|p| format!("<p>{}</p>", escape(p))).collect();
    let links: String = links
        .iter()
        .map(|(text, href)| format!(r#"<a href="{}">{}</a>"#, escape(href), escape(text)))
        .collect::<Vec<_>>()
        .join(" · ");
    let id = escape(request_id);
    let html = format!(
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title} · Switchyard</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><meta name="color-scheme" content="light dark">
<link rel="icon" type="image/svg+xml" href="/favicon.svg"></head>
<body style="font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;line-height:1.5">
<h1>{title}</h1>{body}<p>{links}</p>
<p style="color:#64748b;font-size:.875rem">Request id: <code data-testid="request-id">{id}</code></p></body></html>"#,
        title = escape(title),
    );
    (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CACHE_CONTROL, "no-store")], html).into_response()
}
