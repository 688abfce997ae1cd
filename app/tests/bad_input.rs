//! Bad input, generated: every parser of outside input — the Backstage YAML importer, the
//! GraphML importer, the OpenLineage event parser, cron schedules, the forms and query strings,
//! and the NetBox sync's JSON mapping — fed arbitrary input and mutated valid input. None may
//! panic, and a refusal says what is wrong and where (a field, a pointer, a document).
//! Case counts are bounded so the suite stays quick; `PROPTEST_CASES` raises them.
#![cfg(feature = "ssr")]

mod mutate;

use app::error::FieldProblem;
use mutate::mutated;
use proptest::prelude::*;
use serde_json::{json, Map, Value};

fn cases(n: u32) -> ProptestConfig {
    ProptestConfig { cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(n), ..ProptestConfig::default() }
}

/// A text a person or a client might send in one field: anything printable, control
/// characters, long runs, or something close to valid.
fn field_text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "\\PC{0,40}",
        1 => "[\\x00-\\x1f\\x7f]{0,6}",
        1 => "[ \\t\\n]{0,4}",
        1 => "[a-z0-9-]{1,70}",
        1 => "[0-9]{1,25}",
        1 => "https?://[a-z.]{0,20}/?\\PC{0,10}",
        1 => ".{3000,5000}",
    ]
}

/// An arbitrary JSON value, a few levels deep.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| json!(f)),
        field_text().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[a-zA-Z_$]{1,12}", inner, 0..6).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A form of `fields` (all text) holding `values`, read through serde as the server reads it.
fn form_of<F: serde::de::DeserializeOwned>(fields: &[&str], values: &[String]) -> F {
    let map: Map<String, Value> = fields.iter().zip(values.iter().cycle()).map(|(f, v)| ((*f).to_owned(), Value::String(v.clone()))).collect();
    serde_json::from_value(Value::Object(map)).expect("a form of text fields")
}

/// Every problem names one of the form's fields and says something.
fn names_its_fields(problems: &[FieldProblem], fields: &[&str]) -> Result<(), TestCaseError> {
    prop_assert!(!problems.is_empty(), "a refusal lists its problems");
    for p in problems {
        prop_assert!(fields.contains(&p.field.as_str()), "the problem {p:?} names no field of the form");
        prop_assert!(!p.message.trim().is_empty(), "the problem with {} says nothing", p.field);
    }
    Ok(())
}

// ------------------------------------------------------------------------------ Backstage

const CATALOG: &str = r#"apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: refunds
  title: Refunds
  annotations:
    switchyard.dev/tier: '1'
  tags: [money, java]
spec:
  type: service
  lifecycle: production
  owner: group:default/payments
  system: payments
  dependsOn: [component:ledger-core]
  providesApis: [refunds-api]
---
apiVersion: backstage.io/v1alpha1
kind: API
metadata:
  name: refunds-api
spec:
  type: openapi
  lifecycle: production
  owner: payments
  definition: |
    openapi: 3.0.0
    info: {title: Refunds, version: 1.0.0}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: payments
spec:
  type: team
  children: []
"#;

fn import(text: String) -> Result<Vec<app::catalog::backstage::Parsed>, app::untrusted::ReadError> {
    let files = vec![app::catalog::backstage::SourceFile { path: "catalog-info.yaml".into(), content: text }];
    let limits = app::untrusted::DESCRIPTORS;
    app::catalog::backstage::parse_files(&files, &limits, &app::untrusted::Deadline::from_now(&limits))
}

fn backstage_refusals_say_where(result: Result<Vec<app::catalog::backstage::Parsed>, app::untrusted::ReadError>) -> Result<(), TestCaseError> {
    use app::catalog::backstage::Document;
    match result {
        Ok(docs) => {
            for d in docs {
                if let Document::Refused { entity, problems } = d.document {
                    prop_assert!(!entity.is_empty(), "a refused document is named");
                    prop_assert!(!problems.is_empty() && problems.iter().all(|p| !p.trim().is_empty()), "{entity} is refused saying why");
                }
            }
        }
        Err(e) => prop_assert!(!e.to_string().trim().is_empty(), "a refused file says why"),
    }
    Ok(())
}

proptest! {
    #![proptest_config(cases(192))]

    #[test]
    fn a_mutated_backstage_catalog_never_panics_and_refusals_say_where(text in mutated(CATALOG)) {
        backstage_refusals_say_where(import(text))?;
    }

    #[test]
    fn arbitrary_yaml_text_never_panics_the_importer(text in "\\PC{0,300}") {
        backstage_refusals_say_where(import(text))?;
    }

    #[test]
    fn a_catalog_document_of_arbitrary_json_is_taken_or_refused_by_field(spec in json_value(), metadata in json_value()) {
        let doc = json!({ "apiVersion": "backstage.io/v1alpha1", "kind": "Component", "metadata": metadata, "spec": spec });
        let text = serde_yaml_ng::to_string(&doc).expect("YAML");
        backstage_refusals_say_where(import(text))?;
    }
}

// ------------------------------------------------------------------------------ GraphML

const GRAPHML: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<graphml xmlns="http://graphml.graphdrawing.org/xmlns">
  <key attr.name="label" attr.type="string" for="node" id="d1"/>
  <key attr.name="LinkSpeed" attr.type="string" for="edge" id="d2"/>
  <graph edgedefault="undirected">
    <data key="d0">Example</data>
    <node id="0"><data key="d1">Frankfurt</data></node>
    <node id="1"><data key="d1">London</data></node>
    <node id="2"><data key="d1">Paris</data></node>
    <edge source="0" target="1"><data key="d2">10</data></edge>
    <edge source="1" target="2"/>
  </graph>
</graphml>"#;

proptest! {
    #![proptest_config(cases(256))]

    #[test]
    fn a_mutated_graphml_file_never_panics_and_a_refusal_says_why(text in mutated(GRAPHML)) {
        match app::topology::graphml::parse(&text) {
            Ok(g) => {
                for (what, why) in &g.problems {
                    prop_assert!(!what.is_empty() && !why.is_empty(), "each element left out is named, with why");
                }
                let ids: std::collections::HashSet<&str> = g.nodes.iter().map(|n| n.id.as_str()).collect();
                for e in &g.edges {
                    prop_assert!(ids.contains(e.source.as_str()) && ids.contains(e.target.as_str()), "an edge read joins nodes read");
                }
            }
            Err(why) => prop_assert!(!why.trim().is_empty(), "a refused file says why"),
        }
    }
}

// ------------------------------------------------------------------------------ OpenLineage

const EVENT: &str = r#"{"eventType":"COMPLETE","eventTime":"2026-12-01T06:00:05Z","run":{"runId":"0193a3b0-4c1e-7d2a-9f00-1234567890ab","facets":{"errorMessage":{"message":"x","programmingLanguage":"java"}}},"job":{"namespace":"boomi","name":"sf-to-netsuite"},"producer":"https://github.com/OpenLineage/OpenLineage","schemaURL":"https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"}"#;

fn lineage_refusal_says_where(value: &Value) -> Result<(), TestCaseError> {
    if let Err(r) = app::integrations::lineage::parse(value) {
        prop_assert!(r.pointer.is_empty() || r.pointer.starts_with('/'), "the refusal points at a field: {:?}", r.pointer);
        prop_assert!(!r.message.trim().is_empty(), "the refusal says why");
        if !r.pointer.is_empty() && value.pointer(&r.pointer).is_none() {
            // a missing field is named by where it should be: its parent is there
            let parent = &r.pointer[..r.pointer.rfind('/').unwrap_or(0)];
            prop_assert!(parent.is_empty() || value.pointer(parent).is_some(), "{} points nowhere in the event", r.pointer);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(cases(256))]

    #[test]
    fn a_mutated_run_event_never_panics_and_a_refusal_points_at_the_field(text in mutated(EVENT)) {
        if let Ok(value) = serde_json::from_str::<Value>(&text) {
            lineage_refusal_says_where(&value)?;
        }
    }

    #[test]
    fn a_run_event_with_an_arbitrary_part_never_panics(part in prop::sample::select(vec!["/eventType", "/eventTime", "/run", "/run/runId", "/run/facets", "/job", "/job/name", "/job/namespace", "/producer", "/schemaURL", "/inputs"]), value in json_value()) {
        let mut event: Value = serde_json::from_str(EVENT).expect("the valid event");
        let (parent, key) = part.rsplit_once('/').expect("a pointer");
        if let Some(Value::Object(m)) = event.pointer_mut(parent) {
            m.insert(key.to_owned(), value);
        }
        lineage_refusal_says_where(&event)?;
    }

    #[test]
    fn arbitrary_json_never_panics_the_run_event_parser(value in json_value()) {
        lineage_refusal_says_where(&value)?;
    }
}

// ------------------------------------------------------------------------------ cron

proptest! {
    #![proptest_config(cases(256))]

    #[test]
    fn a_schedule_parses_or_says_why_and_its_slots_are_in_order(raw in prop_oneof![mutated("0 6 * * *"), mutated("*/15 8-18 * * 1-5"), mutated("0 0 1 1 *"), "\\PC{0,40}"]) {
        match app::integrations::types::CronSchedule::parse(&raw) {
            Ok(s) => {
                let from = chrono::DateTime::parse_from_rfc3339("2026-12-07T10:00:00Z").expect("a time").with_timezone(&chrono::Utc);
                let until = from + chrono::Duration::days(2);
                let slots = s.slots(&chrono_tz::Europe::London, from, until, 500);
                prop_assert!(slots.windows(2).all(|w| w[0] < w[1]), "slots come in order");
                prop_assert!(slots.iter().all(|t| *t > from && *t <= until), "slots fall in the span asked for");
            }
            Err(why) => prop_assert!(!why.trim().is_empty()),
        }
    }
}

// ------------------------------------------------------------------------------ forms

const SERVICE_FIELDS: &[&str] = &[
    "name", "title", "description", "entity_type", "lifecycle", "tier", "owner", "co_owners", "system", "language", "repository_url",
    "runbook_url", "oncall_url", "dashboards", "tags", "classification", "depends_on", "sites",
];
const DEPLOY_FIELDS: &[&str] = &["service", "environment", "version", "reason", "idempotency_key", "freeze_override"];
const FREEZE_FIELDS: &[&str] = &["environment", "reason", "kind", "starts_at", "ends_at", "schedule", "duration_mins"];
const SYSTEM_FIELDS: &[&str] =
    &["name", "title", "description", "kind", "vendor", "environment", "external", "owner", "classification", "contacts", "component", "hosted_by", "reached_via"];
const INTEGRATION_FIELDS: &[&str] = &[
    "name", "title", "description", "sources", "targets", "platform", "platform_ref", "trigger", "schedule", "time_zone", "data_format", "transport",
    "auth", "owner", "co_owners", "classification", "lifecycle", "runbook", "on_call", "tags", "grace_mins", "max_duration_mins", "freshness_hours",
    "success_target", "job_namespace", "job_name", "reason",
];

proptest! {
    #![proptest_config(cases(128))]

    #[test]
    fn the_service_form_takes_anything_and_names_each_wrong_field(values in prop::collection::vec(field_text(), 1..8)) {
        let form: app::catalog::draft::ServiceForm = form_of(SERVICE_FIELDS, &values);
        if let Err(problems) = app::catalog::draft::ServiceDraft::parse(&form) {
            names_its_fields(&problems, SERVICE_FIELDS)?;
        }
    }

    #[test]
    fn the_deploy_form_takes_anything_and_names_each_wrong_field(values in prop::collection::vec(field_text(), 1..6)) {
        let form: app::deploys::types::DeployForm = form_of(DEPLOY_FIELDS, &values);
        if let Err(problems) = form.parse() {
            names_its_fields(&problems, DEPLOY_FIELDS)?;
        }
    }

    #[test]
    fn the_freeze_form_takes_anything_and_names_each_wrong_field(values in prop::collection::vec(field_text(), 1..7)) {
        let form: app::deploys::types::FreezeForm = form_of(FREEZE_FIELDS, &values);
        if let Err(problems) = form.parse() {
            names_its_fields(&problems, FREEZE_FIELDS)?;
        }
    }

    #[test]
    fn the_system_form_takes_anything_and_names_each_wrong_field(values in prop::collection::vec(field_text(), 1..8)) {
        let form: app::integrations::types::SystemForm = form_of(SYSTEM_FIELDS, &values);
        if let Err(problems) = form.parse() {
            names_its_fields(&problems, SYSTEM_FIELDS)?;
        }
    }

    #[test]
    fn the_integration_form_takes_anything_and_names_each_wrong_field(values in prop::collection::vec(field_text(), 1..10)) {
        let form: app::integrations::types::IntegrationForm = form_of(INTEGRATION_FIELDS, &values);
        if let Err(problems) = form.parse() {
            names_its_fields(&problems, INTEGRATION_FIELDS)?;
        }
    }

    #[test]
    fn query_strings_take_anything_and_name_the_wrong_parameter(values in prop::collection::vec(field_text(), 1..6)) {
        let get = |name: &str| -> Option<String> {
            let h = name.bytes().fold(0usize, |h, b| h.wrapping_mul(31).wrapping_add(b as usize));
            values.get(h % (values.len() + 1)).cloned()
        };
        let problems = [
            app::catalog::types::ListQuery::parse(get).err(),
            app::integrations::types::IntegrationQuery::parse(get).err(),
            app::integrations::types::RunQuery::parse(get).err(),
            app::topology::types::DeviceQuery::parse(get).err(),
            app::topology::types::PageQuery::parse_up_to(get, 1000).err(),
        ];
        for p in problems.into_iter().flatten() {
            prop_assert!(!p.field.is_empty() && !p.message.trim().is_empty(), "{p:?} names the parameter and says why");
        }
    }

    #[test]
    fn single_fields_take_anything(raw in field_text()) {
        use app::catalog::types as c;
        for r in [
            c::parse_name("name", &raw).err(),
            c::parse_entity_name(&raw).err(),
            c::parse_tags(&raw).err(),
            c::parse_link("link", &raw).err(),
            c::parse_title(&raw).err(),
            c::parse_description(&raw).err(),
            app::approvals::types::parse_reason(&raw).err(),
            app::iam::types::parse_token_name(&raw).err(),
            app::iam::types::parse_team_slug(&raw).err(),
            app::integrations::types::parse_time_zone(&raw).err(),
            app::integrations::types::parse_success_target(&raw).err(),
            app::deploys::types::Version::parse(&raw).err(),
            app::deploys::types::IdempotencyKey::parse(&raw).err(),
        ]
        .into_iter()
        .flatten()
        {
            prop_assert!(!r.trim().is_empty(), "a refusal of {raw:?} says why");
        }
    }
}

// ------------------------------------------------------------------------------ NetBox

proptest! {
    #![proptest_config(cases(128))]

    #[test]
    fn netbox_objects_of_any_shape_map_to_rows_without_panicking(
        kind in prop::sample::select(vec!["partners", "bgp_sessions", "sites", "racks", "devices", "interfaces", "providers", "circuits", "circuit_ends", "links", "unknown"]),
        objects in prop::collection::vec(json_value(), 0..8),
    ) {
        let rows = app::topology::netbox::rows(kind, &objects);
        prop_assert!(rows.is_array(), "rows are a JSON array for jsonb_to_recordset: {rows}");
    }
}
