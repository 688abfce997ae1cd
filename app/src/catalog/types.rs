//! Catalog data shared by server and browser.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

uuid_id!(EntityId);

/// Where an entity is in its life. In Backstage a lifecycle is a free word with three
/// well-known values: Switchyard's rules (the scorecard, deprecation) treat those specially and
/// keep any other as it is (`sandbox`, `retired`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum Lifecycle {
    Experimental,
    Production,
    Deprecated,
    Other(String),
}

impl Lifecycle {
    pub const WELL_KNOWN: [Lifecycle; 3] = [Lifecycle::Experimental, Lifecycle::Production, Lifecycle::Deprecated];

    pub fn as_str(&self) -> &str {
        match self {
            Lifecycle::Experimental => "experimental",
            Lifecycle::Production => "production",
            Lifecycle::Deprecated => "deprecated",
            Lifecycle::Other(s) => s,
        }
    }

    /// Parses a stored or imported lifecycle: any word Backstage takes (1 to 63 characters, no
    /// spaces or control characters), the well-known ones recognised.
    pub fn parse(s: &str) -> Result<Self, String> {
        let word = parse_word("lifecycle", s)?;
        Ok(Lifecycle::from(word))
    }

    /// Parses a lifecycle chosen in Switchyard's own form: one of the well-known three.
    pub fn parse_well_known(s: &str) -> Result<Self, String> {
        Lifecycle::WELL_KNOWN
            .into_iter()
            .find(|l| l.as_str() == s.trim())
            .ok_or_else(|| format!("unknown lifecycle \"{s}\": use experimental, production or deprecated"))
    }
}

impl From<String> for Lifecycle {
    fn from(s: String) -> Self {
        Lifecycle::WELL_KNOWN.into_iter().find(|l| l.as_str() == s).unwrap_or(Lifecycle::Other(s))
    }
}

impl From<Lifecycle> for String {
    fn from(l: Lifecycle) -> Self {
        l.as_str().to_owned()
    }
}

/// A free word as Backstage takes it in `spec.type` and `spec.lifecycle`: trimmed, 1 to 63
/// characters, no whitespace or control characters.
pub fn parse_word(what: &str, raw: &str) -> Result<String, String> {
    let word = raw.trim();
    if word.is_empty() {
        return Err(format!("the {what} is empty"));
    }
    if word.chars().count() > 63 {
        return Err(format!("the {what} \"{word}\" is longer than 63 characters"));
    }
    if word.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("the {what} \"{word}\" contains a space or a control character"));
    }
    Ok(word.to_owned())
}

/// Criticality, 0 (most critical: money stops if it stops) to 3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Tier(u8);

impl Tier {
    pub fn parse(n: i64) -> Result<Self, String> {
        u8::try_from(n)
            .ok()
            .filter(|t| *t <= 3)
            .map(Tier)
            .ok_or_else(|| format!("tier must be 0, 1, 2 or 3, not {n}"))
    }

    pub fn get(self) -> u8 {
        self.0
    }

    /// Tier 0: the services money moves through. Changes to them need two approvals
    /// (`catalog::approval::approvals_needed`).
    pub fn is_zero(self) -> bool {
        self.0 == 0
    }
}

/// The kinds of Backstage entity the catalog holds itself (Group is a team, User a user).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Component,
    Api,
    System,
    Domain,
    Resource,
}

impl Kind {
    pub const ALL: [Kind; 5] = [Kind::Component, Kind::Api, Kind::System, Kind::Domain, Kind::Resource];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Component => "component",
            Kind::Api => "api",
            Kind::System => "system",
            Kind::Domain => "domain",
            Kind::Resource => "resource",
        }
    }

    /// The spelling Backstage descriptors and people use (`kind: API`).
    pub fn backstage(self) -> &'static str {
        match self {
            Kind::Component => "Component",
            Kind::Api => "API",
            Kind::System => "System",
            Kind::Domain => "Domain",
            Kind::Resource => "Resource",
        }
    }

    pub fn label(self) -> &'static str {
        self.backstage()
    }

    /// Case-insensitive, as Backstage compares kinds.
    pub fn parse(s: &str) -> Result<Self, String> {
        let lower = s.trim().to_ascii_lowercase();
        Kind::ALL
            .into_iter()
            .find(|k| k.as_str() == lower)
            .ok_or_else(|| format!("unknown kind \"{s}\": use component, api, system, domain or resource"))
    }

    /// The well-known types of this kind (what the registration form offers); `None` when the
    /// kind has none. An imported entity may have any other type, kept as it is.
    pub fn types(self) -> Option<&'static [&'static str]> {
        match self {
            Kind::Component => Some(&["service", "website", "library", "job"]),
            Kind::Api => Some(&["openapi", "asyncapi", "graphql", "grpc"]),
            Kind::Resource => Some(&["database", "queue", "bucket", "cache", "topic"]),
            Kind::System | Kind::Domain => None,
        }
    }

    /// Whether Backstage requires a `spec.type` of this kind (System and Domain may have one).
    pub fn requires_type(self) -> bool {
        self.types().is_some()
    }
}

/// Checks a type chosen in Switchyard's own form: one of the kind's well-known types.
pub fn parse_type(kind: Kind, raw: &str) -> Result<Option<String>, String> {
    let t = raw.trim().to_ascii_lowercase();
    match kind.types() {
        None if t.is_empty() => Ok(None),
        None => Err(format!("a {} has no type", kind.as_str())),
        Some(_) if t.is_empty() => Err(format!("choose the {} type", kind.as_str())),
        Some(allowed) if allowed.contains(&t.as_str()) => Ok(Some(t)),
        Some(allowed) => Err(format!("unknown {} type \"{raw}\": use {}", kind.as_str(), allowed.join(", "))),
    }
}

/// Checks an imported entity's type as Backstage does: required where the kind requires one,
/// otherwise any word, kept as written (`trpc`, `mcp-server`, `worker`).
pub fn parse_imported_type(kind: Kind, raw: Option<&str>) -> Result<Option<String>, String> {
    match raw.map(str::trim).filter(|t| !t.is_empty()) {
        None if kind.requires_type() => Err("is required".into()),
        None => Ok(None),
        Some(t) => parse_word("type", t).map(Some),
    }
}

/// How sensitive the data a service handles is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Classification {
    Public,
    Internal,
    Confidential,
    Pci,
}

impl Classification {
    pub const ALL: [Classification; 4] =
        [Classification::Public, Classification::Internal, Classification::Confidential, Classification::Pci];

    pub fn as_str(self) -> &'static str {
        match self {
            Classification::Public => "public",
            Classification::Internal => "internal",
            Classification::Confidential => "confidential",
            Classification::Pci => "pci",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Classification::Public => "Public",
            Classification::Internal => "Internal",
            Classification::Confidential => "Confidential",
            Classification::Pci => "PCI (card data)",
        }
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        let lower = s.trim().to_ascii_lowercase();
        Classification::ALL
            .into_iter()
            .find(|c| c.as_str() == lower)
            .ok_or_else(|| format!("unknown data classification \"{s}\": use public, internal, confidential or pci"))
    }
}

/// A DNS-label name: 1 to 63 lowercase letters, digits and inner hyphens. Entity names and
/// namespaces follow it, so they can appear in host names and URLs.
pub fn parse_name(what: &str, raw: &str) -> Result<String, String> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(format!("the {what} is required"));
    }
    if name.len() > 63 {
        return Err(format!("the {what} \"{name}\" is longer than 63 characters"));
    }
    if let Some(c) = name.chars().find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-')) {
        return Err(format!(
            "the {what} \"{name}\" contains \"{c}\": use lowercase letters, digits and hyphens, like payment-gateway"
        ));
    }
    if name.starts_with('-') || name.ends_with('-') {
        return Err(format!("the {what} \"{name}\" must start and end with a letter or digit"));
    }
    Ok(name.to_owned())
}

/// An entity's name as Backstage takes it: runs of letters and digits joined by `-`, `_` or
/// `.`, at most 63 characters (`breanna.davison`, `Team_A`). Names in Switchyard's own form
/// follow the stricter [`parse_name`]; an imported entity keeps the name it has.
pub fn parse_entity_name(raw: &str) -> Result<String, String> {
    let name = raw.trim();
    if name.is_empty() {
        return Err("the name is required".into());
    }
    if name.len() > 63 {
        return Err(format!("the name \"{name}\" is longer than 63 characters"));
    }
    if let Some(c) = name.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))) {
        return Err(format!("the name \"{name}\" contains \"{c}\": use letters, digits and -, _ or . between them"));
    }
    let separator = |c: char| matches!(c, '-' | '_' | '.');
    if name.starts_with(separator) || name.ends_with(separator) || name.chars().zip(name.chars().skip(1)).any(|(a, b)| separator(a) && separator(b)) {
        return Err(format!("the name \"{name}\" must start and end with a letter or digit, with one -, _ or . between them"));
    }
    Ok(name.to_owned())
}

/// `kind:namespace/name`, Backstage's entity reference.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct EntityRef {
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

impl EntityRef {
    pub fn new(kind: &str, namespace: &str, name: &str) -> Self {
        EntityRef { kind: kind.to_owned(), namespace: namespace.to_owned(), name: name.to_owned() }
    }

    /// Parses a full or shorthand reference (`team-a`, `group:team-a`, `group:default/team-a`),
    /// filling in the kind and namespace the field implies. `kinds` lists the kinds allowed here.
    pub fn parse(raw: &str, default_kind: &str, default_namespace: &str, kinds: &[&str]) -> Result<Self, String> {
        let text = raw.trim();
        if text.is_empty() {
            return Err("the reference is empty".into());
        }
        let (kind, rest) = match text.split_once(':') {
            Some((k, rest)) => (k.trim().to_ascii_lowercase(), rest),
            None => (default_kind.to_owned(), text),
        };
        let (namespace, name) = match rest.split_once('/') {
            Some((ns, name)) => (ns, name),
            None => (default_namespace, rest),
        };
        if !kinds.contains(&kind.as_str()) {
            return Err(format!("\"{text}\" refers to a {kind}; here it must be a {}", kinds.join(" or ")));
        }
        let namespace = parse_name("namespace", namespace).map_err(|e| format!("in \"{text}\": {e}"))?;
        let name = parse_entity_name(name).map_err(|e| format!("in \"{text}\": {e}"))?;
        Ok(EntityRef { kind, namespace, name })
    }

    /// The short form when the namespace is the default one, for people.
    pub fn short(&self) -> String {
        if self.namespace == "default" {
            format!("{}:{}", self.kind, self.name)
        } else {
            self.to_string()
        }
    }

    /// The page of this reference.
    pub fn href(&self) -> String {
        if self.kind == "group" {
            format!("/teams/{}", self.name)
        } else {
            format!("/catalog/{}/{}/{}", self.kind, self.namespace, self.name)
        }
    }
}

impl std::fmt::Display for EntityRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}/{}", self.kind, self.namespace, self.name)
    }
}

/// Tags: lowercase words joined by hyphens (Backstage's rule), at most 20, each at most 63
/// characters; separated by commas or spaces. Duplicates are dropped, order kept.
pub fn parse_tags(raw: &str) -> Result<Vec<String>, String> {
    let mut tags: Vec<String> = Vec::new();
    for t in raw.split(|c: char| c == ',' || c.is_whitespace()).filter(|t| !t.is_empty()) {
        let t = t.to_ascii_lowercase();
        let ok = t.len() <= 63
            && t.split('-').all(|part| {
                !part.is_empty() && part.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || ":+#".contains(c))
            });
        if !ok {
            return Err(format!(
                "the tag \"{t}\" is not valid: use lowercase letters, digits and inner hyphens, at most 63 characters"
            ));
        }
        if !tags.contains(&t) {
            tags.push(t);
        }
    }
    if tags.len() > 20 {
        return Err(format!("{} tags given; at most 20", tags.len()));
    }
    Ok(tags)
}

/// An optional http(s) link.
pub fn parse_link(what: &str, raw: &str) -> Result<Option<String>, String> {
    let text = raw.trim();
    if text.is_empty() {
        return Ok(None);
    }
    if text.len() > 2000 {
        return Err(format!("the {what} is longer than 2000 characters"));
    }
    // the parser's own words ("relative URL without a base") mean nothing to a reader
    let url = url::Url::parse(text).map_err(|_| format!("the {what} \"{text}\" is not a whole link: write it as https://…"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(format!("the {what} \"{text}\" must be an http or https link"));
    }
    Ok(Some(url.to_string()))
}

/// A title: 1 to 200 characters.
pub fn parse_title(raw: &str) -> Result<String, String> {
    let t = raw.trim();
    match t.chars().count() {
        0 => Err("the title is required".into()),
        n if n > 200 => Err(format!("the title is {n} characters long; at most 200")),
        _ => Ok(t.to_owned()),
    }
}

/// A description: at most 2000 characters.
pub fn parse_description(raw: &str) -> Result<String, String> {
    let t = raw.trim();
    match t.chars().count() {
        n if n > 2000 => Err(format!("the description is {n} characters long; at most 2000")),
        _ => Ok(t.to_owned()),
    }
}

pub use crate::error::FieldProblem;

/// A link shown on an entity (besides repository, runbook, on-call and dashboards).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    pub url: String,
    pub title: String,
    pub kind: String,
}

/// One row of the catalog list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntitySummary {
    pub id: EntityId,
    pub kind: Kind,
    pub namespace: String,
    pub name: String,
    pub title: String,
    pub description: String,
    pub entity_type: Option<String>,
    pub owner_slug: String,
    pub owner_name: String,
    pub tier: Option<Tier>,
    pub lifecycle: Option<Lifecycle>,
    pub language: Option<String>,
    pub tags: Vec<String>,
    pub classification: Classification,
    pub pending: bool,
    pub updated_at: DateTime<Utc>,
}

impl EntitySummary {
    pub fn entity_ref(&self) -> EntityRef {
        EntityRef::new(self.kind.as_str(), &self.namespace, &self.name)
    }
}

/// A team and how many services it owns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TeamSummary {
    pub slug: String,
    pub name: String,
    pub description: String,
    pub services: i64,
}

/// The numbers and lists the home page opens with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CatalogOverview {
    pub services: i64,
    pub production: i64,
    pub tier_zero: i64,
    pub teams: Vec<TeamSummary>,
    pub recently_changed: Vec<EntitySummary>,
}

/// How the catalog list is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sort {
    #[default]
    Name,
    Updated,
    Tier,
    /// Best match first: the search text's full-text rank plus how close the name and title are
    /// (the default with a search text; by name without one).
    Relevance,
}

impl Sort {
    pub fn as_str(self) -> &'static str {
        match self {
            Sort::Name => "name",
            Sort::Updated => "updated",
            Sort::Tier => "tier",
            Sort::Relevance => "relevance",
        }
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "" | "name" => Ok(Sort::Name),
            "updated" => Ok(Sort::Updated),
            "tier" => Ok(Sort::Tier),
            "relevance" => Ok(Sort::Relevance),
            other => Err(format!("unknown sort \"{other}\": use relevance, name, updated or tier")),
        }
    }
}

/// A parsed catalog query: what the URL of the list page holds.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ListQuery {
    pub text: SearchText,
    pub kind: Option<Kind>,
    pub entity_type: Option<String>,
    pub owner: Option<String>,
    pub lifecycle: Option<Lifecycle>,
    pub tier: Option<Tier>,
    pub tag: Option<String>,
    pub classification: Option<Classification>,
    pub sort: Sort,
    /// Opaque keyset cursor from the previous page.
    pub after: Option<String>,
    pub limit: u16,
}

impl ListQuery {
    pub const DEFAULT_LIMIT: u16 = 50;
    pub const MAX_LIMIT: u16 = 200;

    /// Parses the query string's parameters (empty ones mean "any").
    pub fn parse(get: impl Fn(&str) -> Option<String>) -> Result<Self, FieldProblem> {
        let field = |name: &str| get(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let problem = |f: &str, message: String| FieldProblem { field: f.into(), message };
        let text = SearchText::parse(&field("q").unwrap_or_default()).map_err(|m| problem("q", m))?;
        let kind = field("kind").map(|k| Kind::parse(&k)).transpose().map_err(|m| problem("kind", m))?;
        let entity_type = field("type").map(|t| t.to_ascii_lowercase());
        let owner = field("owner").map(|o| o.trim_start_matches("group:").trim_start_matches("default/").to_owned());
        let lifecycle = field("lifecycle").map(|l| Lifecycle::parse(&l)).transpose().map_err(|m| problem("lifecycle", m))?;
        let tier = field("tier")
            .map(|t| t.parse::<i64>().map_err(|_| format!("tier must be 0, 1, 2 or 3, not \"{t}\"")).and_then(Tier::parse))
            .transpose()
            .map_err(|m| problem("tier", m))?;
        let tag = field("tag").map(|t| t.to_ascii_lowercase());
        let classification =
            field("classification").map(|c| Classification::parse(&c)).transpose().map_err(|m| problem("classification", m))?;
        // a search is best match first unless another order is asked for; without one there is
        // nothing to rank by, so relevance is by name
        let sort = match (Sort::parse(&field("sort").unwrap_or_default()).map_err(|m| problem("sort", m))?, text.is_empty(), field("sort").is_some()) {
            (_, false, false) => Sort::Relevance,
            (Sort::Relevance, true, _) => Sort::Name,
            (sort, _, _) => sort,
        };
        let limit = match field("limit") {
            None => Self::DEFAULT_LIMIT,
            Some(l) => l
                .parse::<u16>()
                .ok()
                .filter(|n| (1..=Self::MAX_LIMIT).contains(n))
                .ok_or_else(|| problem("limit", format!("limit must be 1 to {}, not \"{l}\"", Self::MAX_LIMIT)))?,
        };
        Ok(ListQuery { text, kind, entity_type, owner, lifecycle, tier, tag, classification, sort, after: field("after"), limit })
    }

    /// The query string for this query, for links (`after` only when `with_cursor`).
    pub fn to_query_string(&self, with_cursor: bool) -> String {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        if !self.text.is_empty() {
            pairs.push(("q", self.text.as_str().to_owned()));
        }
        if let Some(k) = self.kind {
            pairs.push(("kind", k.as_str().into()));
        }
        if let Some(t) = &self.entity_type {
            pairs.push(("type", t.clone()));
        }
        if let Some(o) = &self.owner {
            pairs.push(("owner", o.clone()));
        }
        if let Some(l) = &self.lifecycle {
            pairs.push(("lifecycle", l.as_str().into()));
        }
        if let Some(t) = self.tier {
            pairs.push(("tier", t.get().to_string()));
        }
        if let Some(t) = &self.tag {
            pairs.push(("tag", t.clone()));
        }
        if let Some(c) = self.classification {
            pairs.push(("classification", c.as_str().into()));
        }
        let default = if self.text.is_empty() { Sort::Name } else { Sort::Relevance };
        if self.sort != default {
            pairs.push(("sort", self.sort.as_str().into()));
        }
        if self.limit != Self::DEFAULT_LIMIT && self.limit != 0 {
            pairs.push(("limit", self.limit.to_string()));
        }
        if with_cursor {
            if let Some(a) = &self.after {
                pairs.push(("after", a.clone()));
            }
        }
        url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
    }
}

/// Percent-encodes a query-string value.
pub fn encode_query_value(v: &str) -> String {
    url::form_urlencoded::byte_serialize(v.as_bytes()).collect()
}

/// One page of the catalog list and the cursor of the next, if any.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntityPage {
    pub items: Vec<EntitySummary>,
    pub next: Option<String>,
}

/// How many entities have one value of one facet, among those matching the query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct FacetCount {
    pub value: String,
    pub count: i64,
    /// What people call the value, where it differs (an owner team's name for its slug).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// Counts per facet for the current query.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Facets {
    pub total: i64,
    pub kind: Vec<FacetCount>,
    pub entity_type: Vec<FacetCount>,
    pub owner: Vec<FacetCount>,
    pub lifecycle: Vec<FacetCount>,
    pub tier: Vec<FacetCount>,
    pub tag: Vec<FacetCount>,
    pub classification: Vec<FacetCount>,
    /// The name of the team the list is filtered to, when it is one.
    #[serde(default)]
    pub owner_label: Option<String>,
}

/// A related entity, as shown on an entity page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Related {
    pub relation: String,
    pub entity: EntityRef,
    /// False for a relation kept as declared whose target is not in the catalog (yet).
    pub in_catalog: bool,
    pub title: String,
    pub lifecycle: Option<Lifecycle>,
}

/// A reference kept as declared whose target is not in the catalog (yet): a relation, or an
/// owner (`owned_by`) that is no team or person here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnresolvedRef {
    pub entity: EntityRef,
    pub relation: String,
    pub target: String,
}

/// An owning team with its people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owner {
    /// As declared: a team's slug, or `user:guest` for a person.
    pub slug: String,
    pub name: String,
    pub primary: bool,
    pub kind: OwnerKind,
    pub members: Vec<OwnerMember>,
}

/// What an owner turned out to be here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OwnerKind {
    Team,
    /// A person (Backstage allows `owner: user:guest`): they edit and deploy as a team's members would.
    Person,
    /// No team or person of that name here (yet): kept as declared; only admins may change it.
    NotHere,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnerMember {
    pub username: String,
    pub name: String,
    pub lead: bool,
}

/// Bronze, silver or gold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Bronze,
    Silver,
    Gold,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Bronze => "bronze",
            Level::Silver => "silver",
            Level::Gold => "gold",
        }
    }
}

/// One scorecard rule's outcome for an entity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    pub rule: String,
    pub level: Level,
    /// Whether the rule is met; never for a rule that does not apply.
    pub passed: bool,
    pub detail: String,
    /// Whether the rule applies to this entity (a production rule to an experimental service
    /// does not): one that does not is neither passed nor failed, and counts for no level.
    #[serde(default = "applies")]
    pub applies: bool,
}

fn applies() -> bool {
    true
}

/// The rules' outcomes and the level reached (`None` when not even bronze).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scorecard {
    pub level: Option<Level>,
    pub checks: Vec<Check>,
}

/// Everything the entity page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntityDetail {
    pub summary: EntitySummary,
    pub repository_url: Option<String>,
    pub runbook_url: Option<String>,
    pub oncall_url: Option<String>,
    pub dashboards: Vec<String>,
    pub links: Vec<Link>,
    pub annotations: Vec<(String, String)>,
    pub definition: Option<String>,
    /// Where the definition lives, when the descriptor points at a URL.
    pub definition_url: Option<String>,
    pub owners: Vec<Owner>,
    /// What this entity points at (depends on, provides, consumes, part of …).
    pub outgoing: Vec<Related>,
    /// What points at this entity (depended on by, provided by …).
    pub incoming: Vec<Related>,
    pub scorecard: Scorecard,
    /// Pending approval requests about this entity: id and summary.
    pub pending_requests: Vec<(crate::approvals::types::ApprovalId, String)>,
    pub version: i32,
    pub can_edit: bool,
    pub created_at: DateTime<Utc>,
    /// Its audit history, newest first.
    pub history: Vec<crate::audit::types::AuditEntry>,
}

/// The dependency graph around one entity, laid out.
pub type DependencyGraph = crate::graph::LaidOut;

/// What an import did, or would do, to one entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum Outcome {
    Created,
    Updated,
    Unchanged,
    /// Accepted but not stored here (users come from sign-in, locations only point at files).
    Skipped,
    Refused,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Created => "created",
            Outcome::Updated => "updated",
            Outcome::Unchanged => "unchanged",
            Outcome::Skipped => "skipped",
            Outcome::Refused => "refused",
        }
    }
}

/// One entity (or one unreadable document) in an import report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ImportItem {
    /// `kind:namespace/name`, or the document's position when it has no readable name.
    pub entity: String,
    pub file: String,
    pub outcome: Outcome,
    /// Why it was refused, or which fields changed.
    pub messages: Vec<String>,
}

/// What the import page's form post without JavaScript comes back with, through the session:
/// the pasted text, the dry-run box, and the report or the error.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReturn {
    pub content: String,
    pub dry_run: bool,
    pub report: Option<ImportReport>,
    pub error: Option<String>,
}

/// What an import did: one item per entity, and whether anything was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ImportReport {
    pub dry_run: bool,
    /// Written to the catalog now (false for a dry run, a refused file, nothing to change, or a
    /// request for approval).
    pub applied: bool,
    /// When the import waits for approval: the request's id.
    pub approval_id: Option<Uuid>,
    pub items: Vec<ImportItem>,
}

impl ImportReport {
    pub fn count(&self, outcome: Outcome) -> usize {
        self.items.iter().filter(|i| i.outcome == outcome).count()
    }

    pub fn refused(&self) -> bool {
        self.count(Outcome::Refused) > 0
    }
}

/// Where an import sent to the background is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum JobState {
    Running,
    Done,
    Failed,
}

/// An import running in the background: its progress, then its report or why it failed (a
/// failed import wrote nothing).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ImportJob {
    pub id: Uuid,
    pub state: JobState,
    /// What it is doing now, in words ("writing 12,000 of 50,000 entities").
    pub step: String,
    /// Entities the files hold (known once they are read).
    pub entities: i32,
    /// Entities written so far.
    pub written: i32,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// When done: the same report an import answers at once.
    pub report: Option<ImportReport>,
    /// When failed: why.
    pub error: Option<String>,
}

/// A team's page: its people, what it owns, and each component's scorecard level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TeamPage {
    pub slug: String,
    pub name: String,
    pub description: String,
    pub members: Vec<OwnerMember>,
    /// The first entities it owns (at most a hundred), by kind and name.
    pub owned: Vec<EntitySummary>,
    /// How many it owns in all.
    pub total: i64,
    /// The scorecard level of each component in `owned`.
    pub levels: Vec<(String, Option<Level>)>,
}

/// A catalog search: trimmed text, at most 200 characters.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SearchText(String);

impl SearchText {
    pub const MAX_LEN: usize = 200;

    pub fn parse(raw: &str) -> Result<Self, String> {
        let text = raw.trim();
        if text.chars().count() > Self::MAX_LEN {
            return Err(format!(
                "search text is longer than {} characters",
                Self::MAX_LEN
            ));
        }
        Ok(SearchText(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tier_accepts_zero_to_three_only() {
        assert_eq!(Tier::parse(0).map(Tier::get), Ok(0));
        assert_eq!(Tier::parse(3).map(Tier::get), Ok(3));
        assert!(Tier::parse(4).is_err());
        assert!(Tier::parse(-1).is_err());
    }

    #[test]
    fn lifecycle_keeps_any_word_and_knows_the_well_known_three() {
        for l in Lifecycle::WELL_KNOWN {
            assert_eq!(Lifecycle::parse(l.as_str()), Ok(l.clone()));
            assert_eq!(Lifecycle::parse_well_known(l.as_str()), Ok(l));
        }
        assert_eq!(Lifecycle::parse(" sandbox "), Ok(Lifecycle::Other("sandbox".into())));
        assert_eq!(serde_json::to_string(&Lifecycle::Other("sandbox".into())).ok().as_deref(), Some("\"sandbox\""));
        assert_eq!(serde_json::from_str::<Lifecycle>("\"deprecated\"").ok(), Some(Lifecycle::Deprecated));
        let err = Lifecycle::parse_well_known("retired").expect_err("the form offers three");
        assert!(err.contains("retired"), "{err}");
        assert!(Lifecycle::parse("two words").is_err());
    }

    #[test]
    fn entity_names_follow_backstage_and_form_names_stay_dns_labels() {
        for ok in ["breanna.davison", "Team_A", "a", "x-1.b_2"] {
            assert_eq!(parse_entity_name(ok).as_deref(), Ok(ok));
        }
        for bad in ["invalid component", ".a", "a.", "a..b", "a-_b", ""] {
            assert!(parse_entity_name(bad).is_err(), "{bad}");
        }
        assert!(parse_entity_name(&"a".repeat(64)).is_err());
        assert!(parse_name("name", "breanna.davison").is_err());
    }

    #[test]
    fn imported_types_are_free_words_where_the_form_offers_a_list() {
        assert_eq!(parse_imported_type(Kind::Api, Some("trpc")), Ok(Some("trpc".into())));
        assert_eq!(parse_imported_type(Kind::System, Some("product")), Ok(Some("product".into())));
        assert_eq!(parse_imported_type(Kind::System, None), Ok(None));
        assert!(parse_imported_type(Kind::Component, None).is_err());
        assert!(parse_type(Kind::Component, "worker").is_err());
    }

    #[test]
    fn search_text_is_trimmed_and_bounded() {
        assert_eq!(SearchText::parse("  ledger ").map(|s| s.as_str().to_owned()), Ok("ledger".into()));
        assert!(SearchText::parse(&"x".repeat(201)).is_err());
    }
}
