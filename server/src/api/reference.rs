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

fn endpoint(method: &str, path: &str, op: &Operation) -> Endpoint {
    Endpoint {
        method: method.to_owned(),
        path: path.to_owned(),
        tag: op.tags.as_ref().and_then(|t| t.first().cloned()).unwrap_or_default(),
        summary: op.summary.clone().unwrap_or_default(),
        description: op.description.clone().unwrap_or_default(),
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
                description: p.description.clone().unwrap_or_default(),
            })
            .collect(),
        body: op.request_body.as_ref().and_then(|b| schema_of_json(b.content.get("application/json"))),
        responses: op
            .responses
            .responses
            .iter()
            .map(|(status, r)| match r {
                RefOr::T(resp) => (status.clone(), resp.description.clone(), schema_of_json(resp.content.get("application/json"))),
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
    ApiReference {
        title: doc.info.title.clone(),
        description: doc.info.description.clone().unwrap_or_default(),
        endpoints,
        schemas,
    }
}
