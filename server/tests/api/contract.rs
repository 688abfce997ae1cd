//! The REST API is what its OpenAPI document says: every refusal an operation can answer is in
//! the document, with the API's error body.
use crate::helpers::{Persona, spawn_app};
use serde_json::Value;

#[tokio::test]
async fn every_operation_documents_the_refusals_it_can_answer_with_the_error_body() {
    let app = spawn_app().await;
    let dave = app.login_as(Persona::Viewer).await;
    let doc: Value = dave.get("/api/openapi.json").await.json().await.expect("json");
    assert!(doc["components"]["schemas"]["ErrorBody"].is_object(), "the error body is a schema");
    let paths = doc["paths"].as_object().expect("paths");
    let mut operations = 0;
    for (path, item) in paths {
        for (method, op) in item.as_object().expect("a path item") {
            operations += 1;
            let signed = path.ends_with("/events");
            let expected: &[&str] = if signed { &["400", "401", "408", "500"] } else { &["400", "401", "403", "408", "500"] };
            for status in expected {
                let response = &op["responses"][*status];
                assert_eq!(
                    response["content"]["application/json"]["schema"]["$ref"], "#/components/schemas/ErrorBody",
                    "{method} {path} documents {status} with the error body: {response}"
                );
            }
        }
    }
    assert!(operations >= 15, "{operations} operations");
    // and every reference in it resolves
    fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref") {
                    out.push(r);
                }
                m.values().for_each(|x| refs(x, out));
            }
            Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    refs(&doc, &mut all);
    let dangling: Vec<&&str> = all
        .iter()
        .filter(|r| r.strip_prefix("#/components/schemas/").is_none_or(|name| !doc["components"]["schemas"][name].is_object()))
        .collect();
    assert!(dangling.is_empty(), "references that resolve to nothing: {dangling:?}");
}

#[tokio::test]
async fn every_path_parameter_is_in_its_path_and_the_list_filters_are_query_parameters() {
    let app = spawn_app().await;
    let dave = app.login_as(Persona::Viewer).await;
    let doc: Value = dave.get("/api/openapi.json").await.json().await.expect("json");
    let mut misplaced = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("a path item") {
            for p in op["parameters"].as_array().into_iter().flatten() {
                let name = p["name"].as_str().unwrap_or_default();
                if p["in"] == "path" && !path.contains(&format!("{{{name}}}")) {
                    misplaced.push(format!("{method} {path}: {name}"));
                }
            }
        }
    }
    assert!(misplaced.is_empty(), "path parameters that are not in their path (generated clients build wrong URLs): {misplaced:?}");
    // the filters of the lists generated clients call most
    for (path, filter) in [("/api/v1/approvals", "inbox"), ("/api/v1/deploys", "environment"), ("/api/v1/integrations", "platform")] {
        let params = doc["paths"][path]["get"]["parameters"].as_array().cloned().unwrap_or_default();
        let p = params.iter().find(|p| p["name"] == filter).unwrap_or_else(|| panic!("{path} documents {filter}"));
        assert_eq!((p["in"].as_str(), p["required"].as_bool().unwrap_or(false)), (Some("query"), false), "{path} {filter}");
    }
}
