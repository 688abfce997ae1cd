//! The readable reference page's data, taken from the OpenAPI document.
use app::apidocs::types::{ApiReference, Endpoint, Param};
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::{OpenApi, RefOr, Required};

fn ref_name<T>(r: &RefOr<T>) -> Option<String> {
    match r {
        RefOr::Ref(r) => r.ref_location.rsplit('/').next().map(str::to_owned),
        RefOr::T(_) => None,
    }
}

fn schema_of_json(content: Option<&utoipa::openapi::Content>) -> Option<String> {
    content.and_then(|c| c.schema.as_ref()).and_then(|s| match s {
        RefOr::T(utoipa::openapi::schema::Schema::Array(a)) => match &a.items {
            utoipa::openapi::schema::ArrayItems::RefOrSchema(item) => ref_name(item).map(|n| format!("[{n}]")),
            _ => None,
        },
        other => ref_name(other),
    })
}

/// Markdown as HTML. The document's text is the code's own, but raw HTML in it is escaped
/// all the same: the page shows it as text.
pub fn markdown(text: &str) -> String {
    use pulldown_cmark::{html, Event, Parser};
    let events = Parser::new(text).map(|e| match e {
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
        other => other,
    });
    let mut out = String::new();
    html::push_html(&mut out, events);
    out
}

/// A line of Markdown as HTML, without the paragraph around it.
pub fn inline(text: &str) -> String {
    let html = markdown(text);
    let trimmed = html.trim_end();
    match trimmed.strip_prefix("<p>").and_then(|t| t.strip_suffix("</p>")) {
        Some(one) if !one.contains("<p>") => one.to_owned(),
        _ => html,
    }
}

/// A `curl` command that calls the operation: the token from `$SWITCHYARD_TOKEN`, the server
/// from `$SWITCHYARD`, each required query parameter as a placeholder, a JSON body from a file.
fn example(method: &str, path: &str, op: &Operation) -> String {
    let params = op.parameters.iter().flatten();
    let query: Vec<String> = params
        .clone()
        .filter(|p| matches!(p.parameter_in, ParameterIn::Query) && matches!(p.required, Required::True))
        .map(|p| format!("{0}=<{0}>", p.name))
        .collect();
    let url = if query.is_empty() { path.to_owned() } else { format!("{path}?{}", query.join("&")) };
    let mut cmd = String::from("curl -sS -H \"Authorization: Bearer $SWITCHYARD_TOKEN\"");
    if method != "GET" {
        cmd.push_str(&format!(" -X {method}"));
    }
    if params.clone().any(|p| p.name.eq_ignore_ascii_case("idempotency-key")) {
        cmd.push_str(" -H \"Idempotency-Key: $(uuidgen)\"");
    }
    if op.request_body.is_some() {
        cmd.push_str(" -H \"Content-Type: application/json\" --data @body.json");
    }
    cmd.push_str(&format!(" \"$SWITCHYARD{url}\""));
    cmd
}

fn endpoint(method: &str, path: &str, op: &Operation) -> Endpoint {
    let description = op.description.clone().unwrap_or_default();
    Endpoint {
        description_html: markdown(&description),
        example: example(method, path, op),
        method: method.to_owned(),
        path: path.to_owned(),
        tag: op.tags.as_ref().and_then(|t| t.first().cloned()).unwrap_or_default(),
        summary: op.summary.clone().unwrap_or_default(),
        description,
        params: op
            .parameters
            .iter()
            .flatten()
            .map(|p| Param {
                name: p.name.clone(),
                location: match p.parameter_in {
                    ParameterIn::Path => "path",
                    ParameterIn::Query => "query",
                    ParameterIn::Header => "header",
                    ParameterIn::Cookie => "cookie",
                }
                .to_owned(),
                required: matches!(p.required, Required::True),
                description: inline(p.description.as_deref().unwrap_or_default()),
            })
            .collect(),
        body: op.request_body.as_ref().and_then(|b| schema_of_json(b.content.get("application/json"))),
        responses: op
            .responses
            .responses
            .iter()
            .map(|(status, r)| match r {
                RefOr::T(resp) => (status.clone(), inline(&resp.description), schema_of_json(resp.content.get("application/json"))),
                RefOr::Ref(r) => (status.clone(), String::new(), Some(r.ref_location.clone())),
            })
            .collect(),
    }
}

/// Every operation of the document, in path order, and its named schemas.
pub fn reference(doc: &OpenApi) -> ApiReference {
    let mut endpoints = Vec::new();
    for (path, item) in &doc.paths.paths {
        for (method, op) in [("GET", &item.get), ("POST", &item.post), ("PUT", &item.put), ("PATCH", &item.patch), ("DELETE", &item.delete)] {
            if let Some(op) = op {
                endpoints.push(endpoint(method, path, op));
            }
        }
    }
    let schemas = doc
        .components
        .iter()
        .flat_map(|c| c.schemas.iter())
        .map(|(name, schema)| (name.clone(), serde_json::to_string_pretty(schema).unwrap_or_default()))
        .collect();
    let description = doc.info.description.clone().unwrap_or_default();
    ApiReference {
        title: doc.info.title.clone(),
        description_html: markdown(&description),
        description,
        endpoints,
        schemas,
    }
}

#[cfg(test)]
mod tests {
    use super::markdown;

    #[test]
    fn markdown_renders_and_raw_html_stays_text() {
        let html = markdown("Pages by `after`; see *the list*.\n\n<script>alert(1)</script>");
        assert!(html.contains("<code>after</code>"), "{html}");
        assert!(html.contains("<em>the list</em>"), "{html}");
        assert!(!html.contains("<script>"), "raw HTML is escaped: {html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
        assert_eq!(super::inline("`waiting_for_me` (default)"), "<code>waiting_for_me</code> (default)");
    }
}
