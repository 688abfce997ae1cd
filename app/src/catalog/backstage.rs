//! Backstage descriptor files, read and written: `catalog-info.yaml` documents become the
//! desired state of catalog entities, and entities become documents again. No database here;
//! `import.rs` compares and applies.
use super::types::{
    parse_description, parse_entity_name, parse_imported_type, parse_link, parse_name, parse_tags, parse_title, Classification, EntityRef, Kind,
    Lifecycle, Link, Tier,
};
use crate::integrations::declared;
use crate::untrusted::{self, Deadline, Limits};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// One uploaded file: its path relative to the others, and its text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceFile {
    pub path: String,
    pub content: String,
}

/// Annotations Switchyard reads its own fields from (and writes them to on export).
pub const TIER: &str = "switchyard.dev/tier";
pub const LANGUAGE: &str = "switchyard.dev/language";
pub const CLASSIFICATION: &str = "switchyard.dev/data-classification";
pub const CO_OWNERS: &str = "switchyard.dev/co-owners";
pub const SOURCE_LOCATION: &str = "backstage.io/source-location";

/// The desired state of one catalog entity, as a descriptor states it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Desired {
    pub entity: EntityRef,
    pub title: String,
    pub description: String,
    pub entity_type: Option<String>,
    pub lifecycle: Option<Lifecycle>,
    pub tier: Option<Tier>,
    /// Team slugs; the first is the primary owner.
    pub owners: Vec<String>,
    pub language: Option<String>,
    pub repository_url: Option<String>,
    pub runbook_url: Option<String>,
    pub oncall_url: Option<String>,
    pub dashboards: Vec<String>,
    pub links: Vec<Link>,
    pub tags: Vec<String>,
    pub classification: Classification,
    pub annotations: BTreeMap<String, String>,
    pub definition: Option<String>,
    /// Where the definition lives when the descriptor points at a URL (`$text: https://…`):
    /// kept as its source and shown as a link, never fetched.
    #[serde(default)]
    pub definition_url: Option<String>,
    /// (relation type, target), sorted.
    pub relations: BTreeSet<(String, EntityRef)>,
}

/// A Group descriptor: one of our teams.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DesiredTeam {
    pub slug: String,
    pub name: String,
    pub description: String,
}

/// What one document turned out to be.
#[derive(Debug, Clone, PartialEq)]
pub enum Document {
    Entity(Box<Desired>),
    Team(DesiredTeam),
    /// A system or an integration, under Switchyard's own `apiVersion`.
    Declared(Box<crate::integrations::declared::Declaration>),
    /// Accepted and not stored (users come from sign-in; locations point at files).
    Skipped { entity: String, why: String },
    Refused { entity: String, problems: Vec<String> },
}

/// A document and the file it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    pub file: String,
    pub document: Document,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEntity {
    api_version: Option<String>,
    kind: Option<String>,
    #[serde(default)]
    metadata: RawMetadata,
    #[serde(default)]
    spec: RawSpec,
}

#[derive(Debug, Default, Deserialize)]
struct RawMetadata {
    name: Option<String>,
    namespace: Option<String>,
    title: Option<String>,
    description: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    links: Vec<RawLink>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
struct RawLink {
    url: String,
    title: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawSpec {
    #[serde(rename = "type")]
    kind: Option<String>,
    lifecycle: Option<String>,
    owner: Option<String>,
    system: Option<String>,
    domain: Option<String>,
    subcomponent_of: Option<String>,
    #[serde(default)]
    provides_apis: Vec<String>,
    #[serde(default)]
    consumes_apis: Vec<String>,
    #[serde(default)]
    depends_on: Vec<String>,
    definition: Option<RawDefinition>,
    /// An MCP server's endpoints (`type: mcp-server` APIs have these instead of a definition).
    #[serde(default)]
    remotes: Vec<serde_json::Value>,
    target: Option<String>,
    #[serde(default)]
    targets: Vec<String>,
    profile: Option<RawProfile>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawDefinition {
    Inline(String),
    Substitution {
        #[serde(rename = "$text")]
        text: String,
    },
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawProfile {
    display_name: Option<String>,
}

/// Whether a `$text` or location target is a URL rather than a path among the files.
fn is_url(target: &str) -> bool {
    let t = target.trim();
    t.contains("://") || t.starts_with("url:")
}

/// A `$text` URL as it is looked up among fetched definitions (`url:` dropped, trimmed).
fn definition_url(text: &str) -> String {
    let t = text.trim();
    t.strip_prefix("url:").unwrap_or(t).trim().to_owned()
}

/// The URLs the files' APIs take their definitions from (`$text: https://…`), each once, for
/// fetching from allowed hosts before the import reads the files. A file that is not YAML, or
/// crosses `limits`, names none here: the import itself refuses it.
pub fn definition_urls(files: &[SourceFile], limits: &Limits) -> Vec<String> {
    let mut used = untrusted::Used::default();
    let mut urls = BTreeSet::new();
    for file in files.iter().filter(|f| !is_url(&f.path)) {
        let Ok(Ok(values)) = untrusted::yaml_documents(&file.path, &file.content, limits, &mut used) else { continue };
        for v in &values {
            if let Some(text) = v.pointer("/spec/definition/$text").and_then(|t| t.as_str()).filter(|t| is_url(t)) {
                urls.insert(definition_url(text));
            }
        }
    }
    urls.into_iter().collect()
}

/// Resolves `target` relative to the directory of `from` (`./a.yaml`, `../b/c.yaml`).
pub fn resolve(from: &str, target: &str) -> Result<String, String> {
    let target = target.trim();
    if is_url(target) {
        return Err(format!("\"{target}\" is a URL; an import reads only the files given to it"));
    }
    let target = target.strip_prefix("file:").unwrap_or(target);
    if target.starts_with('/') {
        return Err(format!("\"{target}\" is an absolute path; use a path relative to {from}"));
    }
    let mut parts: Vec<&str> = from.split('/').collect();
    parts.pop();
    for segment in target.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err(format!("\"{target}\" leaves the uploaded files"));
                }
            }
            s => parts.push(s),
        }
    }
    Ok(parts.join("/"))
}

/// Normalises an uploaded file's path (no leading `./` or `/`).
pub fn normalise(path: &str) -> String {
    resolve("", path.trim_start_matches('/')).unwrap_or_else(|_| path.to_owned())
}

/// Reads every descriptor document in `files`, within `limits` (a limit crossed refuses the
/// whole batch; a file that is not YAML is refused on its own). Files only referenced by
/// `$text` are data, not descriptors. References are checked for form here, and for existence
/// by the importer.
/// A file named by a URL is a definition fetched from there (`$text: https://…`), kept under its
/// URL as written.
pub fn parse_files(files: &[SourceFile], limits: &Limits, deadline: &Deadline) -> Result<Vec<Parsed>, untrusted::ReadError> {
    let by_path: HashMap<String, &SourceFile> =
        files.iter().map(|f| (if is_url(&f.path) { definition_url(&f.path) } else { normalise(&f.path) }, f)).collect();
    // first pass: which files are `$text` data
    let mut docs: Vec<(String, usize, Result<serde_json::Value, String>)> = Vec::new();
    let mut used = untrusted::Used::default();
    for file in files.iter().filter(|f| !is_url(&f.path)) {
        let path = normalise(&file.path);
        deadline.check(&path)?;
        match untrusted::yaml_documents(&path, &file.content, limits, &mut used)? {
            Ok(values) => docs.extend(values.into_iter().enumerate().map(|(i, v)| (path.clone(), i + 1, Ok(v)))),
            Err(e) => docs.push((path.clone(), 1, Err(e))),
        }
    }
    let text_targets: BTreeSet<String> = docs
        .iter()
        .filter_map(|(path, _, v)| {
            let text = v.as_ref().ok()?.pointer("/spec/definition/$text")?.as_str()?;
            resolve(path, text).ok()
        })
        .collect();

    let mut out = Vec::new();
    let mut seen: BTreeSet<EntityRef> = BTreeSet::new();
    let mut seen_declared: BTreeSet<String> = BTreeSet::new();
    for (path, index, value) in docs {
        if text_targets.contains(&path) {
            continue;
        }
        let position = format!("document {index} of {path}");
        let document = match value {
            Err(e) => Document::Refused { entity: position, problems: vec![format!("not valid YAML: {e}")] },
            Ok(serde_json::Value::Null) => continue, // an empty document (a trailing `---`)
            Ok(value) => read_document(&path, &position, value, &by_path),
        };
        let document = match document {
            Document::Entity(d) if !seen.insert(d.entity.clone()) => Document::Refused {
                entity: d.entity.to_string(),
                problems: vec!["this entity is described twice in the files".into()],
            },
            Document::Declared(d) if !seen_declared.insert(d.label()) => Document::Refused {
                entity: d.label(),
                problems: vec!["this entity is described twice in the files".into()],
            },
            other => other,
        };
        out.push(Parsed { file: path, document });
    }
    Ok(out)
}

fn read_document(
    path: &str,
    position: &str,
    value: serde_json::Value,
    files: &HashMap<String, &SourceFile>,
) -> Document {
    if declared::is_ours(&value) {
        return match declared::read(&value) {
            Ok(d) => Document::Declared(Box::new(d)),
            Err((label, problems)) => Document::Refused { entity: label.unwrap_or_else(|| position.to_owned()), problems },
        };
    }
    let raw: RawEntity = match serde_json::from_value(value) {
        Ok(r) => r,
        Err(e) => return Document::Refused { entity: position.to_owned(), problems: vec![format!("not a Backstage entity: {e}")] },
    };
    let mut problems = Vec::new();
    let namespace = match parse_name("namespace", raw.metadata.namespace.as_deref().unwrap_or("default")) {
        Ok(ns) => ns,
        Err(e) => {
            problems.push(e);
            "default".to_owned()
        }
    };
    let kind_text = raw.kind.clone().unwrap_or_default();
    let name = raw.metadata.name.clone().unwrap_or_default();
    let label = if name.is_empty() {
        position.to_owned()
    } else {
        format!("{}:{namespace}/{name}", kind_text.to_ascii_lowercase())
    };
    match raw.api_version.as_deref() {
        Some("backstage.io/v1alpha1" | "backstage.io/v1beta1") => {}
        Some(other) => problems.push(format!("apiVersion \"{other}\" is not supported: use backstage.io/v1alpha1")),
        None => problems.push("apiVersion is missing".into()),
    }
    let name_rule = if kind_text.eq_ignore_ascii_case("group") { parse_name("name", &name) } else { parse_entity_name(&name) };
    if let Err(e) = name_rule {
        problems.push(format!("metadata.name: {e}"));
    }
    let refuse = |problems: Vec<String>| Document::Refused { entity: label.clone(), problems };
    match kind_text.to_ascii_lowercase().as_str() {
        "location" => {
            let mut targets = raw.spec.targets.clone();
            targets.extend(raw.spec.target.clone());
            if targets.is_empty() {
                problems.push("spec.target is missing".into());
            }
            for t in &targets {
                match resolve(path, t) {
                    Ok(p) if files.contains_key(&p) => {}
                    Ok(p) => problems.push(format!("spec.target \"{t}\" ({p}) is not among the uploaded files")),
                    Err(e) => problems.push(format!("spec.target {e}")),
                }
            }
            if problems.is_empty() {
                Document::Skipped { entity: label, why: format!("location of {}", targets.join(", ")) }
            } else {
                refuse(problems)
            }
        }
        "user" => {
            if problems.is_empty() {
                Document::Skipped { entity: label, why: "users are created when they first sign in".into() }
            } else {
                refuse(problems)
            }
        }
        "group" => {
            if namespace != "default" {
                problems.push("groups (teams) live in the default namespace".into());
            }
            let display = raw.spec.profile.as_ref().and_then(|p| p.display_name.clone());
            let team_name = display.or(raw.metadata.title.clone()).unwrap_or_else(|| name.clone());
            if team_name.trim().is_empty() || team_name.chars().count() > 100 {
                problems.push("spec.profile.displayName must be 1 to 100 characters".into());
            }
            if problems.is_empty() {
                Document::Team(DesiredTeam {
                    slug: name,
                    name: team_name.trim().to_owned(),
                    description: raw.metadata.description.unwrap_or_default().trim().to_owned(),
                })
            } else {
                refuse(problems)
            }
        }
        other => match Kind::parse(other) {
            // as Backstage does with a kind no processor knows: left out, the rest imported
            Err(_) if problems.is_empty() => Document::Skipped {
                entity: label,
                why: format!("kind {kind_text} is not one Switchyard keeps (Component, API, System, Domain, Resource, Group, User, Location): skipped"),
            },
            Err(_) => {
                problems.insert(0, format!("unknown kind \"{kind_text}\": Switchyard takes Component, API, System, Domain, Resource, Group, User and Location"));
                refuse(problems)
            }
            Ok(kind) => match read_entity(kind, &namespace, &name, path, raw, files) {
                Ok(d) if problems.is_empty() => Document::Entity(Box::new(d)),
                Ok(_) => refuse(problems),
                Err(more) => {
                    problems.extend(more);
                    refuse(problems)
                }
            },
        },
    }
}

fn read_entity(
    kind: Kind,
    namespace: &str,
    name: &str,
    path: &str,
    raw: RawEntity,
    files: &HashMap<String, &SourceFile>,
) -> Result<Desired, Vec<String>> {
    let mut problems: Vec<String> = Vec::new();
    fn keep<T>(problems: &mut Vec<String>, field: &str, r: Result<T, String>) -> Option<T> {
        r.map_err(|e| problems.push(format!("{field}: {e}"))).ok()
    }
    macro_rules! ok {
        ($field:expr, $r:expr $(,)?) => {
            keep(&mut problems, $field, $r)
        };
    }
    let meta = raw.metadata;
    let spec = raw.spec;
    let title = ok!("metadata.title", parse_title(meta.title.as_deref().unwrap_or(name)));
    let description = ok!("metadata.description", parse_description(meta.description.as_deref().unwrap_or("")));
    let tags = ok!("metadata.tags", parse_tags(&meta.tags.join(",")));
    let entity_type = ok!("spec.type", parse_imported_type(kind, spec.kind.as_deref()));
    let lifecycle = match (kind, spec.lifecycle.as_deref()) {
        (Kind::Component | Kind::Api, None) => ok!("spec.lifecycle", Err("is required".into())),
        (_, None) => Some(None),
        (_, Some(l)) => ok!("spec.lifecycle", Lifecycle::parse(l).map(Some)),
    };
    let mut annotations = meta.annotations;
    let tier = match (kind, annotations.remove(TIER)) {
        (Kind::Component, None) => Some(Tier::parse(3).ok()),
        (Kind::Component, Some(t)) => ok!(
            &format!("metadata.annotations.{TIER}"),
            t.trim().parse::<i64>().map_err(|_| format!("\"{t}\" is not 0, 1, 2 or 3")).and_then(Tier::parse).map(Some),
        ),
        (_, Some(_)) => ok!(&format!("metadata.annotations.{TIER}"), Err("only components have a tier".into())),
        (_, None) => Some(None),
    };
    let language = annotations.remove(LANGUAGE).map(|l| l.trim().to_owned()).filter(|l| !l.is_empty());
    let classification = match annotations.remove(CLASSIFICATION) {
        None => Some(Classification::Internal),
        Some(c) => ok!(&format!("metadata.annotations.{CLASSIFICATION}"), Classification::parse(&c)),
    };
    let repository_url = match annotations.remove(SOURCE_LOCATION) {
        None => Some(None),
        Some(loc) => ok!(
            &format!("metadata.annotations.{SOURCE_LOCATION}"),
            parse_link("source location", loc.trim().strip_prefix("url:").unwrap_or(&loc)),
        ),
    };
    let group = |field: &str, r: &str| {
        EntityRef::parse(r, "group", "default", &["group"]).map(|g| g.name).map_err(|e| {
            if r.trim().starts_with("user:") {
                format!("{field}: owners must be groups (teams), not users")
            } else {
                format!("{field}: {e}")
            }
        })
    };
    let mut owners = Vec::new();
    // the owner may be a group or a person (`user:guest`), as in Backstage: kept as declared,
    // a team in the default namespace by its slug alone
    match spec.owner.as_deref() {
        None => problems.push("spec.owner: is required".into()),
        Some(o) => match EntityRef::parse(o, "group", "default", &["group", "user"]) {
            Ok(r) if r.kind == "group" && r.namespace == "default" => owners.push(r.name),
            Ok(r) => owners.push(r.short()),
            Err(e) => problems.push(format!("spec.owner: {e}")),
        },
    }
    for co in annotations.remove(CO_OWNERS).unwrap_or_default().split(',').map(str::trim).filter(|s| !s.is_empty()) {
        match group(&format!("metadata.annotations.{CO_OWNERS}"), co) {
            Ok(g) if !owners.contains(&g) => owners.push(g),
            Ok(_) => {}
            Err(e) => problems.push(e),
        }
    }
    let (mut runbook_url, mut oncall_url, mut dashboards, mut links) = (None, None, Vec::new(), Vec::new());
    for l in meta.links {
        let url = match parse_link("link", &l.url) {
            Ok(Some(u)) => u,
            Ok(None) => {
                problems.push("metadata.links: a link has an empty url".into());
                continue;
            }
            Err(e) => {
                problems.push(format!("metadata.links: {e}"));
                continue;
            }
        };
        match l.kind.as_deref().unwrap_or("").to_ascii_lowercase().as_str() {
            "runbook" if runbook_url.is_none() => runbook_url = Some(url),
            "oncall" | "on-call" if oncall_url.is_none() => oncall_url = Some(url),
            "dashboard" => dashboards.push(url),
            other => links.push(Link { url, title: l.title.unwrap_or_default(), kind: other.to_owned() }),
        }
    }

    let mut relations = BTreeSet::new();
    // a target of another kind than the field's (`consumesApis: [component:x]`) is kept as
    // declared, as Backstage keeps it
    let mut relate = |field: &str, rel: &str, raw: &str, default_kind: &str, problems: &mut Vec<String>| {
        match EntityRef::parse(raw, default_kind, namespace, &["component", "api", "system", "domain", "resource"]) {
            Ok(r) => {
                relations.insert((rel.to_owned(), r));
            }
            Err(e) => problems.push(format!("{field}: {e}")),
        }
    };
    let allowed = |field: &str, kinds: &[Kind], problems: &mut Vec<String>| {
        if !kinds.contains(&kind) {
            problems.push(format!("{field}: a {} cannot have it", kind.as_str()));
        }
    };
    if let Some(s) = spec.system.as_deref() {
        allowed("spec.system", &[Kind::Component, Kind::Api, Kind::Resource], &mut problems);
        relate("spec.system", "part_of", s, "system", &mut problems);
    }
    if let Some(d) = spec.domain.as_deref() {
        allowed("spec.domain", &[Kind::System], &mut problems);
        relate("spec.domain", "part_of", d, "domain", &mut problems);
    }
    if let Some(c) = spec.subcomponent_of.as_deref() {
        allowed("spec.subcomponentOf", &[Kind::Component], &mut problems);
        relate("spec.subcomponentOf", "subcomponent_of", c, "component", &mut problems);
    }
    if !spec.provides_apis.is_empty() {
        allowed("spec.providesApis", &[Kind::Component], &mut problems);
    }
    for a in &spec.provides_apis {
        relate("spec.providesApis", "provides_api", a, "api", &mut problems);
    }
    if !spec.consumes_apis.is_empty() {
        allowed("spec.consumesApis", &[Kind::Component], &mut problems);
    }
    for a in &spec.consumes_apis {
        relate("spec.consumesApis", "consumes_api", a, "api", &mut problems);
    }
    if !spec.depends_on.is_empty() {
        allowed("spec.dependsOn", &[Kind::Component, Kind::Resource], &mut problems);
    }
    for d in &spec.depends_on {
        relate("spec.dependsOn", "depends_on", d, "component", &mut problems);
    }
    let self_ref = EntityRef::new(kind.as_str(), namespace, name);
    if relations.iter().any(|(_, r)| *r == self_ref) {
        problems.push("an entity cannot relate to itself".into());
    }
    let mut definition_url = None;
    let definition = match (kind, spec.definition) {
        // Backstage's MCP server APIs name their endpoints instead of a definition
        (Kind::Api, None) if entity_type.as_ref().is_some_and(|t| t.as_deref() == Some("mcp-server")) => {
            if spec.remotes.is_empty() {
                problems.push("spec.remotes: is required for an mcp-server API".into());
            }
            None
        }
        (Kind::Api, None) => {
            problems.push("spec.definition: is required for an API".into());
            None
        }
        (Kind::Api, Some(RawDefinition::Inline(text))) => Some(text),
        // kept as a link, with the text when it was fetched (an allowed host)
        (Kind::Api, Some(RawDefinition::Substitution { text })) if is_url(&text) => match parse_link("$text", &self::definition_url(&text)) {
            Ok(url) => {
                definition_url = url;
                files.get(&self::definition_url(&text)).map(|f| f.content.clone())
            }
            Err(e) => {
                problems.push(format!("spec.definition: {e}"));
                None
            }
        },
        (Kind::Api, Some(RawDefinition::Substitution { text })) => match resolve(path, &text) {
            Ok(p) => match files.get(&p) {
                Some(f) => Some(f.content.clone()),
                None => {
                    problems.push(format!("spec.definition: $text \"{text}\" ({p}) is not among the uploaded files"));
                    None
                }
            },
            Err(e) => {
                problems.push(format!("spec.definition: $text {e}"));
                None
            }
        },
        (_, Some(_)) => {
            problems.push(format!("spec.definition: a {} has no definition", kind.as_str()));
            None
        }
        (_, None) => None,
    };
    if definition.as_ref().is_some_and(|d| d.len() > 1_000_000) {
        problems.push("spec.definition: longer than 1 MB".into());
    }
    match (title, description, tags, entity_type, lifecycle, tier, classification, repository_url) {
        (Some(title), Some(description), Some(tags), Some(entity_type), Some(lifecycle), Some(tier), Some(classification), Some(repository_url))
            if problems.is_empty() =>
        {
            Ok(Desired {
                entity: self_ref,
                title,
                description,
                entity_type,
                lifecycle,
                tier,
                owners,
                language,
                repository_url,
                runbook_url,
                oncall_url,
                dashboards,
                links,
                tags,
                classification,
                annotations,
                definition,
                definition_url,
                relations,
            })
        }
        _ => Err(problems),
    }
}

/// A declared owner as a full reference: a bare slug is a team (`group:default/<slug>`).
pub fn owner_ref(declared: &str) -> EntityRef {
    EntityRef::parse(declared, "group", "default", &["group", "user"]).unwrap_or_else(|_| EntityRef::new("group", "default", declared))
}

/// The descriptor document of an entity, in Backstage's shape, as YAML.
pub fn to_yaml(d: &Desired) -> String {
    serde_yaml_ng::to_string(&to_document(d)).unwrap_or_default()
}

/// The descriptor document of an entity, in Backstage's shape.
pub fn to_document(d: &Desired) -> serde_json::Value {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Out<'a> {
        api_version: &'a str,
        kind: &'a str,
        metadata: OutMeta<'a>,
        spec: BTreeMap<&'a str, serde_json::Value>,
    }
    #[derive(Serialize)]
    struct OutMeta<'a> {
        name: &'a str,
        namespace: &'a str,
        title: &'a str,
        #[serde(skip_serializing_if = "str::is_empty")]
        description: &'a str,
        #[serde(skip_serializing_if = "<[String]>::is_empty")]
        tags: &'a [String],
        #[serde(skip_serializing_if = "Vec::is_empty")]
        links: Vec<BTreeMap<&'a str, String>>,
        #[serde(skip_serializing_if = "BTreeMap::is_empty")]
        annotations: BTreeMap<String, String>,
    }
    use serde_json::Value;
    // a kind this build does not know is written as it is stored, never as another kind
    let kind = Kind::parse(&d.entity.kind).ok();
    let mut annotations = d.annotations.clone();
    if let Some(t) = d.tier {
        annotations.insert(TIER.into(), t.get().to_string());
    }
    if let Some(l) = &d.language {
        annotations.insert(LANGUAGE.into(), l.clone());
    }
    if kind == Some(Kind::Component) || d.classification != Classification::Internal {
        annotations.insert(CLASSIFICATION.into(), d.classification.as_str().into());
    }
    if d.owners.len() > 1 {
        annotations.insert(CO_OWNERS.into(), d.owners[1..].iter().map(|o| format!("group:{o}")).collect::<Vec<_>>().join(","));
    }
    if let Some(r) = &d.repository_url {
        annotations.insert(SOURCE_LOCATION.into(), format!("url:{r}"));
    }
    let link = |url: &str, title: &str, kind: &str| {
        let mut m = BTreeMap::new();
        m.insert("url", url.to_owned());
        if !title.is_empty() {
            m.insert("title", title.to_owned());
        }
        if !kind.is_empty() {
            m.insert("type", kind.to_owned());
        }
        m
    };
    let mut links = Vec::new();
    if let Some(u) = &d.runbook_url {
        links.push(link(u, "Runbook", "runbook"));
    }
    if let Some(u) = &d.oncall_url {
        links.push(link(u, "On-call", "oncall"));
    }
    for u in &d.dashboards {
        links.push(link(u, "Dashboard", "dashboard"));
    }
    for l in &d.links {
        links.push(link(&l.url, &l.title, &l.kind));
    }
    let mut spec: BTreeMap<&str, Value> = BTreeMap::new();
    if let Some(t) = &d.entity_type {
        spec.insert("type", Value::String(t.clone()));
    }
    if let Some(l) = &d.lifecycle {
        spec.insert("lifecycle", Value::String(l.as_str().into()));
    }
    if let Some(o) = d.owners.first() {
        spec.insert("owner", Value::String(owner_ref(o).to_string()));
    }
    let refs = |rel: &str| -> Vec<Value> {
        d.relations.iter().filter(|(r, _)| r == rel).map(|(_, e)| Value::String(e.to_string())).collect()
    };
    for (key, rel, many) in [
        ("system", "part_of", false),
        ("subcomponentOf", "subcomponent_of", false),
        ("providesApis", "provides_api", true),
        ("consumesApis", "consumes_api", true),
        ("dependsOn", "depends_on", true),
    ] {
        let mut values = refs(rel);
        if key == "system" && kind == Some(Kind::System) {
            if let Some(v) = values.pop() {
                spec.insert("domain", v);
            }
            continue;
        }
        if many && !values.is_empty() {
            spec.insert(key, Value::Array(values));
        } else if !many {
            if let Some(v) = values.pop() {
                spec.insert(key, v);
            }
        }
    }
    if let Some(def) = &d.definition {
        spec.insert("definition", Value::String(def.clone()));
    } else if let Some(url) = &d.definition_url {
        spec.insert("definition", serde_json::json!({ "$text": url }));
    }
    let out = Out {
        api_version: "backstage.io/v1alpha1",
        kind: kind.map_or(d.entity.kind.as_str(), |k| k.backstage()),
        metadata: OutMeta {
            name: &d.entity.name,
            namespace: &d.entity.namespace,
            title: &d.title,
            description: &d.description,
            tags: &d.tags,
            links,
            annotations,
        },
        spec,
    };
    serde_json::to_value(&out).unwrap_or_default()
}

/// A Group document for a team.
pub fn team_yaml(t: &DesiredTeam) -> String {
    let doc = serde_json::json!({
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Group",
        "metadata": { "name": t.slug, "description": t.description },
        "spec": { "type": "team", "profile": { "displayName": t.name }, "children": [] },
    });
    serde_yaml_ng::to_string(&doc).unwrap_or_default()
}

/// Keeps only the dotted paths in `fields` (Backstage's `fields=metadata.name,kind`).
pub fn select(doc: serde_json::Value, fields: &[String]) -> serde_json::Value {
    if fields.is_empty() {
        return doc;
    }
    let mut out = serde_json::Map::new();
    for f in fields {
        let mut src = &doc;
        let parts: Vec<&str> = f.split('.').collect();
        let mut found = true;
        for p in &parts {
            match src.get(p) {
                Some(v) => src = v,
                None => {
                    found = false;
                    break;
                }
            }
        }
        if !found {
            continue;
        }
        let mut dst = &mut out;
        for p in &parts[..parts.len() - 1] {
            dst = dst
                .entry((*p).to_owned())
                .or_insert_with(|| serde_json::Value::Object(Default::default()))
                .as_object_mut()
                .expect("inserted as an object");
        }
        dst.insert(parts[parts.len() - 1].to_owned(), src.clone());
    }
    serde_json::Value::Object(out)
}

/// An entity in Backstage's shape, with `metadata.uid` and `relations` both ways added.
pub fn entity_json(s: &super::repo::Stored) -> serde_json::Value {
    let mut doc = to_document(&s.desired);
    doc["metadata"]["uid"] = serde_json::Value::String(s.id.to_string());
    let relations: Vec<serde_json::Value> = s
        .desired
        .relations
        .iter()
        .map(|(t, r)| serde_json::json!({ "type": backstage_relation(t), "targetRef": r.to_string() }))
        .chain(s.desired.owners.iter().map(|o| serde_json::json!({ "type": "ownedBy", "targetRef": owner_ref(o).to_string() })))
        .collect();
    doc["relations"] = serde_json::Value::Array(relations);
    doc
}

fn backstage_relation(t: &str) -> &str {
    match t {
        "depends_on" => "dependsOn",
        "provides_api" => "providesApi",
        "consumes_api" => "consumesApi",
        "part_of" => "partOf",
        "subcomponent_of" => "subcomponentOf",
        other => other,
    }
}


#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, content: &str) -> SourceFile {
        SourceFile { path: path.into(), content: content.into() }
    }

    fn parse_files(files: &[SourceFile]) -> Vec<Parsed> {
        let limits = &untrusted::DESCRIPTORS;
        super::parse_files(files, limits, &Deadline::from_now(limits)).expect("within the limits")
    }

    #[test]
    fn paths_resolve_relative_to_the_file() {
        assert_eq!(resolve("catalog-info.yaml", "./apis/a.yaml").as_deref(), Ok("apis/a.yaml"));
        assert_eq!(resolve("apis/a.yaml", "../specs/a.json").as_deref(), Ok("specs/a.json"));
        assert!(resolve("a.yaml", "../../x.yaml").is_err());
        assert!(resolve("a.yaml", "https://example.com/x.yaml").is_err());
    }

    #[test]
    fn a_component_with_every_relation_reads_back_the_same_after_export() {
        let files = [
            file("svc/catalog-info.yaml", "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: card-vault\n  title: Card Vault\n  tags: [pci]\n  annotations:\n    switchyard.dev/tier: '0'\n    switchyard.dev/co-owners: group:ledger\n  links:\n    - url: https://runbooks.example.com/card-vault\n      type: runbook\nspec:\n  type: service\n  lifecycle: production\n  owner: team-a\n  system: cards\n  subcomponentOf: payment-gateway\n  providesApis: [vault-api]\n  consumesApis: ['api:other/ledger-api']\n  dependsOn: ['resource:vault-db', ledger-core]\n"),
        ];
        let parsed = parse_files(&files);
        let Document::Entity(d) = &parsed[0].document else { panic!("{parsed:?}") };
        assert_eq!(d.owners, vec!["team-a", "ledger"]);
        assert_eq!(d.tier.map(Tier::get), Some(0));
        assert!(d.relations.contains(&("consumes_api".into(), EntityRef::new("api", "other", "ledger-api"))));
        assert_eq!(d.relations.len(), 6);
        let again = parse_files(&[file("x.yaml", &to_yaml(d))]);
        assert_eq!(again[0].document, Document::Entity(d.clone()));
    }

    #[test]
    fn a_stored_kind_this_build_does_not_know_is_written_as_it_is_not_as_a_component() {
        let files = [file("c.yaml", "apiVersion: backstage.io/v1alpha1\nkind: Resource\nmetadata: {name: ledger-db}\nspec: {type: database, owner: team-a}\n")];
        let parsed = parse_files(&files);
        let Document::Entity(d) = &parsed[0].document else { panic!("{parsed:?}") };
        assert_eq!(to_document(d)["kind"], "Resource");
        let mut unknown = (**d).clone();
        unknown.entity.kind = "template".into();
        assert_eq!(to_document(&unknown)["kind"], "template");
        assert!(to_document(&unknown)["metadata"]["annotations"].get(CLASSIFICATION).is_none());
    }

    #[test]
    fn problems_are_named_per_document_and_an_unknown_kind_is_left_out() {
        let files = [file("a.yaml", "apiVersion: backstage.io/v1alpha1\nkind: Widget\nmetadata: {name: x}\n---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: Bad Name}\nspec: {type: service, lifecycle: production, owner: 'user:bob'}\n---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: Odd_Name.v2}\nspec: {type: worker, lifecycle: sandbox, owner: team-a}\n")];
        let parsed = parse_files(&files);
        let Document::Skipped { why, .. } = &parsed[0].document else { panic!("{parsed:?}") };
        assert!(why.contains("kind Widget is not one Switchyard keeps"), "{why}");
        let Document::Entity(d) = &parsed[2].document else { panic!("{parsed:?}") };
        assert_eq!((d.entity.name.as_str(), d.entity_type.as_deref()), ("Odd_Name.v2", Some("worker")));
        assert_eq!(d.lifecycle, Some(Lifecycle::Other("sandbox".into())));
        let Document::Refused { problems, .. } = &parsed[1].document else { panic!() };
        assert!(problems.iter().any(|p| p.contains("metadata.name") && p.contains("Bad Name")), "{problems:?}");
    }
}
