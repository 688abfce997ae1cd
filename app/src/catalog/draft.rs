//! The service form: what a person types, and the one parse both the browser (live, as they
//! type) and the server (before anything is written) run on it, so both say the same thing.
use super::types::{
    parse_description, parse_entity_name, parse_imported_type, parse_link, parse_name, parse_tags, parse_title, parse_type, Classification, EntityRef,
    FieldProblem, Kind, Lifecycle, Tier,
};
use serde::{Deserialize, Serialize};

/// The form's fields as typed (every value a string, as a form posts them).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ServiceForm {
    pub name: String,
    pub title: String,
    pub description: String,
    pub entity_type: String,
    pub lifecycle: String,
    pub tier: String,
    pub owner: String,
    pub co_owners: String,
    pub system: String,
    pub language: String,
    pub repository_url: String,
    pub runbook_url: String,
    pub oncall_url: String,
    pub dashboards: String,
    pub tags: String,
    pub classification: String,
    pub depends_on: String,
    /// The network sites it runs at (`switchyard.dev/sites`), separated by commas.
    #[serde(default)]
    pub sites: String,
}

/// The annotation that says where a component runs: network site names, separated by commas.
pub const SITES_ANNOTATION: &str = "switchyard.dev/sites";

/// The sites a component runs at, as its annotation says them.
pub fn sites_of(annotation: Option<&String>) -> Vec<String> {
    annotation.map(|a| list(a).map(str::to_owned).collect()).unwrap_or_default()
}

/// Where a component runs: site names (as the network names them: letters, digits, `-`, `_`
/// and `.`), at most 20.
fn parse_sites(raw: &str) -> Result<Vec<String>, String> {
    let mut sites = Vec::new();
    for s in list(raw) {
        let shaped = s.chars().count() <= 100 && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
        if !shaped {
            return Err(format!("\"{}\" is not a site's name: use the names the network gives its sites, like fra1, ldn-eq", s.chars().take(40).collect::<String>()));
        }
        sites.push(s.to_owned());
    }
    sites.sort();
    sites.dedup();
    if sites.len() > 20 {
        return Err("at most 20 sites".into());
    }
    Ok(sites)
}

impl ServiceForm {
    /// The form's field names, in the order they are shown (also the query-string keys that
    /// prefill it).
    pub const FIELDS: [&'static str; 18] = [
        "name", "title", "description", "entity_type", "lifecycle", "tier", "owner", "co_owners", "system",
        "language", "repository_url", "runbook_url", "oncall_url", "dashboards", "tags", "classification",
        "depends_on", "sites",
    ];

    pub fn get(&self, field: &str) -> &str {
        match field {
            "name" => &self.name,
            "title" => &self.title,
            "description" => &self.description,
            "entity_type" => &self.entity_type,
            "lifecycle" => &self.lifecycle,
            "tier" => &self.tier,
            "owner" => &self.owner,
            "co_owners" => &self.co_owners,
            "system" => &self.system,
            "language" => &self.language,
            "repository_url" => &self.repository_url,
            "runbook_url" => &self.runbook_url,
            "oncall_url" => &self.oncall_url,
            "dashboards" => &self.dashboards,
            "tags" => &self.tags,
            "classification" => &self.classification,
            "depends_on" => &self.depends_on,
            "sites" => &self.sites,
            _ => "",
        }
    }

    pub fn set(&mut self, field: &str, value: String) {
        let slot = match field {
            "name" => &mut self.name,
            "title" => &mut self.title,
            "description" => &mut self.description,
            "entity_type" => &mut self.entity_type,
            "lifecycle" => &mut self.lifecycle,
            "tier" => &mut self.tier,
            "owner" => &mut self.owner,
            "co_owners" => &mut self.co_owners,
            "system" => &mut self.system,
            "language" => &mut self.language,
            "repository_url" => &mut self.repository_url,
            "runbook_url" => &mut self.runbook_url,
            "oncall_url" => &mut self.oncall_url,
            "dashboards" => &mut self.dashboards,
            "tags" => &mut self.tags,
            "classification" => &mut self.classification,
            "depends_on" => &mut self.depends_on,
            "sites" => &mut self.sites,
            _ => return,
        };
        *slot = value;
    }

    /// Builds a form from query-string style pairs (unknown keys ignored).
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, String)>) -> Self {
        let mut form = ServiceForm::default();
        for (k, v) in pairs {
            form.set(k, v);
        }
        form
    }

    /// The form as a query string, to carry typed values across a redirect (no-JS errors).
    pub fn to_query_string(&self) -> String {
        Self::FIELDS
            .iter()
            .filter(|f| !self.get(f).is_empty())
            .map(|f| format!("{f}={}", super::types::encode_query_value(self.get(f))))
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// A component as the catalog stores it, parsed from the form. Owners are team slugs, checked
/// against the database by the service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceDraft {
    pub name: String,
    pub title: String,
    pub description: String,
    pub entity_type: String,
    pub lifecycle: Lifecycle,
    pub tier: Tier,
    pub owner: String,
    pub co_owners: Vec<String>,
    pub system: Option<EntityRef>,
    pub language: Option<String>,
    pub repository_url: Option<String>,
    pub runbook_url: Option<String>,
    pub oncall_url: Option<String>,
    pub dashboards: Vec<String>,
    pub tags: Vec<String>,
    pub classification: Classification,
    pub depends_on: Vec<EntityRef>,
    /// The network sites it runs at, sorted.
    #[serde(default)]
    pub sites: Vec<String>,
}

/// A team's name as Backstage takes it (a team may have come from an imported Group).
fn parse_team(raw: &str) -> Result<String, String> {
    parse_entity_name(raw).map_err(|e| e.replacen("the name", "the team", 1))
}

/// The owner: a team (`payments`, `group:payments`) or, as Backstage allows and an imported
/// entity may have, a person (`user:guest`).
fn parse_owner(raw: &str) -> Result<String, String> {
    match raw.strip_prefix("user:") {
        Some(person) => parse_entity_name(person).map(|n| format!("user:{n}")).map_err(|e| e.replacen("the name", "the user name", 1)),
        None => parse_team(raw.trim_start_matches("group:")),
    }
}

fn list(raw: &str) -> impl Iterator<Item = &str> {
    raw.split([',', '\n', '\r', ' ']).map(str::trim).filter(|s| !s.is_empty())
}

impl ServiceDraft {
    /// Parses every field and reports every problem at once, each naming its field.
    pub fn parse(form: &ServiceForm) -> Result<ServiceDraft, Vec<FieldProblem>> {
        let mut problems = Vec::new();
        fn keep<T>(problems: &mut Vec<FieldProblem>, field: &str, r: Result<T, String>) -> Option<T> {
            r.map_err(|message| problems.push(FieldProblem { field: field.into(), message })).ok()
        }
        macro_rules! check {
            ($field:expr, $r:expr $(,)?) => {
                keep(&mut problems, $field, $r)
            };
        }
        let name = check!("name", parse_name("name", &form.name));
        let title = check!("title", parse_title(&form.title));
        let description = check!("description", parse_description(&form.description));
        // the form offers the well-known types and lifecycles, and keeps an imported entity's own
        // (`worker`, `sandbox`): any word Backstage takes
        let entity_type = check!(
            "entity_type",
            match parse_type(Kind::Component, &form.entity_type) {
                Err(_) if !form.entity_type.trim().is_empty() => parse_imported_type(Kind::Component, Some(&form.entity_type)),
                well_known => well_known,
            }
        );
        let lifecycle = check!(
            "lifecycle",
            if form.lifecycle.trim().is_empty() { Err("choose a lifecycle".into()) } else { Lifecycle::parse(form.lifecycle.trim()) },
        );
        let tier = check!(
            "tier",
            form.tier
                .trim()
                .parse::<i64>()
                .map_err(|_| if form.tier.trim().is_empty() { "choose a tier".to_owned() } else { format!("tier must be 0, 1, 2 or 3, not \"{}\"", form.tier.trim()) })
                .and_then(Tier::parse),
        );
        let owner = check!(
            "owner",
            if form.owner.trim().is_empty() { Err("choose the owning team".into()) } else { parse_owner(form.owner.trim()) },
        );
        let co_owners = check!(
            "co_owners",
            list(&form.co_owners).map(|o| parse_team(o.trim_start_matches("group:"))).collect::<Result<Vec<_>, _>>(),
        );
        let system = check!(
            "system",
            Some(form.system.trim())
                .filter(|s| !s.is_empty())
                .map(|s| EntityRef::parse(s, "system", "default", &["system"]))
                .transpose(),
        );
        let language = check!("language", {
            let l = form.language.trim();
            if l.chars().count() > 40 { Err("the language is longer than 40 characters".to_owned()) } else { Ok(Some(l.to_owned()).filter(|l| !l.is_empty())) }
        });
        let repository_url = check!("repository_url", parse_link("repository link", &form.repository_url));
        let runbook_url = check!("runbook_url", parse_link("runbook link", &form.runbook_url));
        let oncall_url = check!("oncall_url", parse_link("on-call link", &form.oncall_url));
        let dashboards = check!(
            "dashboards",
            list(&form.dashboards)
                .map(|d| parse_link("dashboard link", d).map(|u| u.unwrap_or_default()))
                .collect::<Result<Vec<_>, _>>()
                .and_then(|v| if v.len() > 10 { Err("at most 10 dashboards".into()) } else { Ok(v) }),
        );
        let tags = check!("tags", parse_tags(&form.tags));
        let classification = check!(
            "classification",
            if form.classification.trim().is_empty() { Ok(Classification::Internal) } else { Classification::parse(&form.classification) },
        );
        let depends_on = check!(
            "depends_on",
            list(&form.depends_on)
                .map(|d| EntityRef::parse(d, "component", "default", &["component", "resource"]))
                .collect::<Result<Vec<_>, _>>()
                .and_then(|v| if v.len() > 50 { Err("at most 50 dependencies".into()) } else { Ok(v) }),
        );
        let sites = check!("sites", parse_sites(&form.sites));
        if let (Some(Some(name)), Some(deps)) = (name.as_ref().map(|n| Some(n.clone())), depends_on.as_ref()) {
            if deps.iter().any(|d| d.kind == "component" && d.namespace == "default" && d.name == name) {
                problems.push(FieldProblem { field: "depends_on".into(), message: "a service cannot depend on itself".into() });
            }
        }
        match (
            name, title, description, entity_type, lifecycle, tier, owner, co_owners, system, language, repository_url,
            runbook_url, oncall_url, dashboards, tags, classification, depends_on, sites,
        ) {
            (
                Some(name), Some(title), Some(description), Some(Some(entity_type)), Some(lifecycle), Some(tier), Some(owner),
                Some(mut co_owners), Some(system), Some(language), Some(repository_url), Some(runbook_url), Some(oncall_url),
                Some(dashboards), Some(tags), Some(classification), Some(depends_on), Some(sites),
            ) if problems.is_empty() => {
                co_owners.retain(|c| *c != owner);
                co_owners.dedup();
                Ok(ServiceDraft {
                    name, title, description, entity_type, lifecycle, tier, owner, co_owners, system, language,
                    repository_url, runbook_url, oncall_url, dashboards, tags, classification, depends_on, sites,
                })
            }
            _ => Err(problems),
        }
    }

    /// The form that shows this draft (for editing).
    pub fn to_form(&self) -> ServiceForm {
        ServiceForm {
            name: self.name.clone(),
            title: self.title.clone(),
            description: self.description.clone(),
            entity_type: self.entity_type.clone(),
            lifecycle: self.lifecycle.as_str().into(),
            tier: self.tier.get().to_string(),
            owner: self.owner.clone(),
            co_owners: self.co_owners.join(", "),
            system: self.system.as_ref().map(|s| s.short()).unwrap_or_default(),
            language: self.language.clone().unwrap_or_default(),
            repository_url: self.repository_url.clone().unwrap_or_default(),
            runbook_url: self.runbook_url.clone().unwrap_or_default(),
            oncall_url: self.oncall_url.clone().unwrap_or_default(),
            dashboards: self.dashboards.join("\n"),
            tags: self.tags.join(", "),
            classification: self.classification.as_str().into(),
            depends_on: self.depends_on.iter().map(EntityRef::short).collect::<Vec<_>>().join(", "),
            sites: self.sites.join(", "),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> ServiceForm {
        ServiceForm {
            name: "card-vault".into(),
            title: "Card Vault".into(),
            entity_type: "service".into(),
            lifecycle: "production".into(),
            tier: "1".into(),
            owner: "payments".into(),
            co_owners: "ledger, payments".into(),
            dashboards: "https://grafana.example.com/d/abc\nhttps://grafana.example.com/d/def".into(),
            tags: "pci, Cards".into(),
            depends_on: "ledger-core, resource:payments-db".into(),
            ..ServiceForm::default()
        }
    }

    #[test]
    fn a_complete_form_parses_and_round_trips() {
        let draft = ServiceDraft::parse(&good()).expect("valid");
        assert_eq!(draft.tags, vec!["pci", "cards"]);
        assert_eq!(draft.co_owners, vec!["ledger"], "the primary owner is not also a co-owner");
        assert_eq!(draft.depends_on[1], EntityRef::new("resource", "default", "payments-db"));
        assert_eq!(draft.dashboards.len(), 2);
        assert_eq!(ServiceDraft::parse(&draft.to_form()), Ok(draft));
    }

    #[test]
    fn every_problem_is_reported_with_its_field() {
        let form = ServiceForm {
            name: "Card_Vault".into(),
            tier: "7".into(),
            repository_url: "ftp://x".into(),
            depends_on: "group:payments".into(),
            ..good()
        };
        let problems = ServiceDraft::parse(&form).expect_err("every field of this draft is wrong");
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, vec!["name", "tier", "repository_url", "depends_on"]);
        assert!(problems[0].message.contains("Card_Vault"), "{:?}", problems[0]);
    }

    #[test]
    fn an_imported_owner_keeps_its_backstage_name_and_a_person_may_own() {
        let person = ServiceForm {
            owner: "user:breanna.davison".into(),
            co_owners: "Team_A".into(),
            entity_type: "worker".into(),
            lifecycle: "sandbox".into(),
            ..good()
        };
        let draft = ServiceDraft::parse(&person).expect("a person owner, a Backstage team name, its own type and lifecycle are kept");
        assert_eq!((draft.owner.as_str(), draft.co_owners.as_slice()), ("user:breanna.davison", &["Team_A".to_owned()][..]));
        assert_eq!((draft.entity_type.as_str(), draft.lifecycle.as_str()), ("worker", "sandbox"));
        let bad = ServiceForm { owner: "user:no one".into(), ..good() };
        let problems = ServiceDraft::parse(&bad).expect_err("a user name with a space");
        assert_eq!(problems[0].field, "owner");
        assert!(problems[0].message.contains("user name \"no one\""), "{:?}", problems[0]);
    }

    #[test]
    fn the_form_survives_a_query_string() {
        let form = good();
        let qs = form.to_query_string();
        let pairs = url::form_urlencoded::parse(qs.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect::<Vec<_>>();
        let back = ServiceForm::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.clone())));
        assert_eq!(back, form);
    }
}
