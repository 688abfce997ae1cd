use serde::{Deserialize, Serialize};

/// The REST API as people read it: the server builds this from the OpenAPI document.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiReference {
    pub title: String,
    pub description: String,
    /// The description's Markdown as HTML, made by the server from the document (raw HTML in it
    /// is escaped, never passed through).
    pub description_html: String,
    pub endpoints: Vec<Endpoint>,
    /// Named schemas and their JSON Schema text.
    pub schemas: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoint {
    pub method: String,
    pub path: String,
    pub tag: String,
    pub summary: String,
    pub description: String,
    /// The description's Markdown as HTML (raw HTML escaped).
    pub description_html: String,
    /// How to call it: a `curl` command line.
    pub example: String,
    pub params: Vec<Param>,
    /// The schema name of a JSON body, if the endpoint takes one.
    pub body: Option<String>,
    /// Status, description (Markdown as HTML, on one line), schema name.
    pub responses: Vec<(String, String, Option<String>)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Param {
    pub name: String,
    /// `path`, `query` or `header`.
    pub location: String,
    pub required: bool,
    /// Markdown as HTML, on one line (raw HTML escaped).
    pub description: String,
}
