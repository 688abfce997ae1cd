//! Systems and integrations declared in YAML beside the catalog's descriptors, under
//! Switchyard's own `apiVersion` (`switchyard.dev/v1alpha1`, kinds `IntegrationSystem` and
//! `Integration`). Each document is read into the same form the pages send and parsed by the
//! same rules, so a declaration is refused for exactly what the form refuses, the field named
//! by its place in the document (`spec.platformRef`). No database here: the catalog's importer
//! reads the files, the integrations registry plans and writes them.
use super::types::{IntegrationDraft, IntegrationForm, SystemDraft, SystemForm};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The `apiVersion` of Switchyard's own documents.
pub const API_VERSION: &str = "switchyard.dev/v1alpha1";

/// A system or an integration as a document declares it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Declaration {
    System(SystemDraft),
    Integration(Box<IntegrationDraft>),
}

impl Declaration {
    /// How the import report names it: `integrationsystem:name` or `integration:name`.
    pub fn label(&self) -> String {
        match self {
            Declaration::System(s) => label("IntegrationSystem", &s.name),
            Declaration::Integration(i) => label("Integration", &i.name),
        }
    }
}

fn label(kind: &str, name: &str) -> String {
    format!("{}:{name}", kind.to_ascii_lowercase())
}

/// Where each form field sits in a document.
const SYSTEM_PLACES: [(&str, &str); 13] = [
    ("/metadata/name", "name"),
    ("/metadata/title", "title"),
    ("/metadata/description", "description"),
    ("/spec/kind", "kind"),
    ("/spec/vendor", "vendor"),
    ("/spec/environment", "environment"),
    ("/spec/external", "external"),
    ("/spec/owner", "owner"),
    ("/spec/classification", "classification"),
    ("/spec/contacts", "contacts"),
    ("/spec/component", "component"),
    ("/spec/hostedBy", "hosted_by"),
    ("/spec/reachedVia", "reached_via"),
];

const INTEGRATION_PLACES: [(&str, &str); 26] = [
    ("/metadata/name", "name"),
    ("/metadata/title", "title"),
    ("/metadata/description", "description"),
    ("/metadata/tags", "tags"),
    ("/spec/sources", "sources"),
    ("/spec/targets", "targets"),
    ("/spec/platform", "platform"),
    ("/spec/platformRef", "platform_ref"),
    ("/spec/trigger", "trigger"),
    ("/spec/schedule", "schedule"),
    ("/spec/timeZone", "time_zone"),
    ("/spec/dataFormat", "data_format"),
    ("/spec/transport", "transport"),
    ("/spec/auth", "auth"),
    ("/spec/owner", "owner"),
    ("/spec/coOwners", "co_owners"),
    ("/spec/classification", "classification"),
    ("/spec/lifecycle", "lifecycle"),
    ("/spec/runbook", "runbook"),
    ("/spec/onCall", "on_call"),
    ("/spec/serviceLevels/graceMinutes", "grace_mins"),
    ("/spec/serviceLevels/maxDurationMinutes", "max_duration_mins"),
    ("/spec/serviceLevels/freshnessHours", "freshness_hours"),
    ("/spec/serviceLevels/successTarget", "success_target"),
    ("/spec/job/namespace", "job_namespace"),
    ("/spec/job/name", "job_name"),
];

/// A JSON pointer as a reader writes the place: `spec.serviceLevels.graceMinutes`.
fn dotted(pointer: &str) -> String {
    pointer.trim_start_matches('/').replace('/', ".")
}

/// A scalar, or a list of scalars joined as the form joins them; anything else is a problem.
fn text_of(v: &Value) -> Result<String, String> {
    let scalar = |v: &Value| match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(if *b { "yes" } else { "no" }.to_owned()),
        Value::Null => Ok(String::new()),
        _ => Err("must be text, a number or a list of them".to_owned()),
    };
    match v {
        Value::Array(items) => Ok(items.iter().map(scalar).collect::<Result<Vec<_>, _>>()?.join(", ")),
        other => scalar(other),
    }
}

/// Every key under `value` that is not one of `places` (nor a parent of one), as a dotted place.
fn unknown_keys(value: &Value, at: &str, places: &[&str]) -> Vec<String> {
    let Value::Object(map) = value else { return vec![] };
    let mut out = Vec::new();
    for (key, child) in map {
        let here = format!("{at}/{key}");
        if places.contains(&here.as_str()) {
            continue;
        }
        if places.iter().any(|p| p.starts_with(&format!("{here}/"))) {
            out.extend(unknown_keys(child, &here, places));
        } else {
            out.push(dotted(&here));
        }
    }
    out
}

/// Fills a form from a document's places; problems name the place.
fn fill(value: &Value, places: &[(&str, &str)], mut set: impl FnMut(&str, &str)) -> Vec<String> {
    let mut problems = Vec::new();
    for (pointer, field) in places {
        if let Some(v) = value.pointer(pointer) {
            match text_of(v) {
                Ok(text) => set(field, &text),
                Err(why) => problems.push(format!("{}: {why}", dotted(pointer))),
            }
        }
    }
    let known: Vec<&str> = places.iter().map(|(p, _)| *p).chain(["/apiVersion", "/kind", "/metadata/namespace", "/metadata/annotations", "/metadata/labels", "/metadata/links"]).collect();
    for key in unknown_keys(value, "", &known) {
        problems.push(format!("{key} is not a field Switchyard reads here"));
    }
    problems
}

fn place_of(places: &[(&'static str, &'static str)], field: &str) -> String {
    places.iter().find(|(_, f)| *f == field).map_or_else(|| field.to_owned(), |(p, _)| dotted(p))
}

/// Whether a document is one of Switchyard's own (it has Switchyard's `apiVersion` family).
pub fn is_ours(value: &Value) -> bool {
    value.get("apiVersion").and_then(Value::as_str).is_some_and(|v| v.starts_with("switchyard.dev/"))
}

/// Reads one of Switchyard's documents. Refused: the label it goes by (or `None` when it has
/// no readable name) and every problem, each naming its place.
pub fn read(value: &Value) -> Result<Declaration, (Option<String>, Vec<String>)> {
    let kind = value.get("kind").and_then(Value::as_str).unwrap_or_default();
    let name = value.pointer("/metadata/name").and_then(Value::as_str).filter(|n| !n.is_empty());
    let named = |kind: &str| name.map(|n| label(kind, n));
    let mut problems = Vec::new();
    if value.get("apiVersion").and_then(Value::as_str) != Some(API_VERSION) {
        problems.push(format!("apiVersion \"{}\" is not supported: use {API_VERSION}", value.get("apiVersion").and_then(Value::as_str).unwrap_or_default()));
    }
    if value.pointer("/metadata/namespace").and_then(Value::as_str).is_some_and(|ns| ns != "default") {
        problems.push("metadata.namespace: systems and integrations live in the default namespace".into());
    }
    match kind {
        "IntegrationSystem" => {
            let mut form = SystemForm::default();
            problems.extend(fill(value, &SYSTEM_PLACES, |field, text| {
                form.set(field, text);
            }));
            if form.title.trim().is_empty() {
                form.title.clone_from(&form.name); // as in Backstage, the title is optional
            }
            match form.parse() {
                Ok(d) if problems.is_empty() => Ok(Declaration::System(d)),
                Ok(_) => Err((named(kind), problems)),
                Err(fields) => {
                    problems.extend(fields.into_iter().map(|p| format!("{}: {}", place_of(&SYSTEM_PLACES, &p.field), p.message)));
                    Err((named(kind), problems))
                }
            }
        }
        "Integration" => {
            let mut form = IntegrationForm::default();
            problems.extend(fill(value, &INTEGRATION_PLACES, |field, text| {
                form.set(field, text);
            }));
            if form.title.trim().is_empty() {
                form.title.clone_from(&form.name);
            }
            match form.parse() {
                Ok(d) if problems.is_empty() => Ok(Declaration::Integration(Box::new(d))),
                Ok(_) => Err((named(kind), problems)),
                Err(fields) => {
                    problems.extend(fields.into_iter().map(|p| format!("{}: {}", place_of(&INTEGRATION_PLACES, &p.field), p.message)));
                    Err((named(kind), problems))
                }
            }
        }
        other => {
            problems.insert(0, format!("kind \"{other}\" is not one of {API_VERSION}: use IntegrationSystem or Integration"));
            Err((named(other), problems))
        }
    }
}

/// The top-level fields in which two declarations of the same thing differ.
pub fn changed_fields(before: &Declaration, after: &Declaration) -> Vec<String> {
    let fields = |d: &Declaration| match serde_json::to_value(d) {
        Ok(Value::Object(m)) => m.into_iter().next().map(|(_, v)| v).unwrap_or(Value::Null),
        _ => Value::Null,
    };
    match (fields(before), fields(after)) {
        (Value::Object(b), Value::Object(a)) => a.iter().filter(|(k, v)| b.get(*k) != Some(v)).map(|(k, _)| k.clone()).collect(),
        _ => vec!["kind".into()],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn integration() -> Value {
        json!({
            "apiVersion": API_VERSION,
            "kind": "Integration",
            "metadata": { "name": "sfdc-to-netsuite", "title": "Opportunities to sales orders", "tags": ["sales", "erp"] },
            "spec": {
                "sources": ["salesforce"], "targets": ["netsuite"], "platform": "mulesoft", "platformRef": "sfdc-ns-app",
                "trigger": "schedule", "schedule": "*/15 * * * *", "timeZone": "Europe/London", "dataFormat": "json",
                "transport": "https", "auth": "oauth2-client-credentials", "owner": "revops", "classification": "confidential",
                "lifecycle": "stable", "serviceLevels": { "graceMinutes": 10, "maxDurationMinutes": 30, "successTarget": 99.5 },
                "job": { "namespace": "mulesoft", "name": "sfdc-ns" }
            }
        })
    }

    #[test]
    fn an_integration_reads_into_the_forms_draft() {
        let Ok(Declaration::Integration(d)) = read(&integration()) else { panic!("refused: {:?}", read(&integration())) };
        assert_eq!(d.name, "sfdc-to-netsuite");
        assert_eq!(d.tags, vec!["sales", "erp"]);
        assert_eq!(d.sources, vec!["salesforce"]);
        assert_eq!(d.levels.grace_mins, 10);
        assert!((d.levels.success_target - 0.995).abs() < 1e-9);
        assert_eq!((d.job_namespace.as_str(), d.job_name.as_str()), ("mulesoft", "sfdc-ns"));
    }

    #[test]
    fn problems_name_their_place_in_the_document() {
        let mut doc = integration();
        doc["spec"]["schedule"] = json!("every day");
        doc["spec"]["serviceLevels"]["graceMinutes"] = json!("soon");
        doc["spec"]["colour"] = json!("blue");
        doc["spec"]["platformRef"] = json!({ "nested": true });
        let Err((label, problems)) = read(&doc) else { panic!("accepted") };
        assert_eq!(label.as_deref(), Some("integration:sfdc-to-netsuite"));
        for place in ["spec.schedule:", "spec.serviceLevels.graceMinutes:", "spec.colour is not a field", "spec.platformRef: must be text"] {
            assert!(problems.iter().any(|p| p.starts_with(place)), "{place} not in {problems:?}");
        }
    }

    #[test]
    fn a_system_reads_and_an_unknown_kind_is_refused_by_name() {
        let doc = json!({ "apiVersion": API_VERSION, "kind": "IntegrationSystem", "metadata": { "name": "bank-sftp" },
                          "spec": { "kind": "bank", "vendor": "Barclays", "owner": "treasury", "classification": "pci", "contacts": ["ops@bank.example"] } });
        let Ok(Declaration::System(s)) = read(&doc) else { panic!("refused: {:?}", read(&doc)) };
        assert!(s.external, "a bank is outside the company by default");
        assert_eq!(s.contacts, vec!["ops@bank.example"]);
        let mut other = doc.clone();
        other["kind"] = json!("Partner");
        let Err((label, problems)) = read(&other) else { panic!("accepted") };
        assert_eq!(label.as_deref(), Some("partner:bank-sftp"));
        assert!(problems[0].contains("IntegrationSystem or Integration"), "{problems:?}");
    }

    #[test]
    fn changed_fields_lists_what_differs() {
        let Ok(a) = read(&integration()) else { panic!() };
        let mut doc = integration();
        doc["metadata"]["title"] = json!("Renamed");
        doc["spec"]["schedule"] = json!("0 * * * *");
        let Ok(b) = read(&doc) else { panic!() };
        assert_eq!(changed_fields(&a, &b), vec!["schedule".to_owned(), "title".to_owned()]);
        assert!(changed_fields(&a, &a).is_empty());
    }
}
