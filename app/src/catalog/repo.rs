//! Catalog SQL. The list's filters are built once (`push_filters`) and shared by the page and
//! its facet counts, so those two queries are assembled with `QueryBuilder`; every fixed query
//! is compile-checked.
use super::backstage::{Desired, DesiredTeam};
use super::types::{
    Classification, EntityId, EntityRef, EntitySummary, FacetCount, Facets, Kind, Lifecycle, Link, ListQuery, OwnerMember,
    Related, Sort, TeamSummary, Tier,
};
use crate::iam::types::TeamRole;
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor, Postgres, QueryBuilder};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use uuid::Uuid;

#[derive(sqlx::FromRow)]
pub struct SummaryRow {
    id: EntityId,
    kind: String,
    namespace: String,
    name: String,
    title: String,
    description: String,
    #[sqlx(rename = "type")]
    entity_type: Option<String>,
    owner_slug: String,
    owner_name: String,
    tier: Option<i16>,
    lifecycle: Option<String>,
    language: Option<String>,
    tags: Vec<String>,
    classification: String,
    status: String,
    updated_at: DateTime<Utc>,
}

fn decode<T>(r: Result<T, String>) -> Result<T, sqlx::Error> {
    r.map_err(|e| sqlx::Error::Decode(e.into()))
}

impl SummaryRow {
    pub fn into_summary(self) -> Result<EntitySummary, sqlx::Error> {
        Ok(EntitySummary {
            id: self.id,
            kind: decode(Kind::parse(&self.kind))?,
            namespace: self.namespace,
            name: self.name,
            title: self.title,
            description: self.description,
            entity_type: self.entity_type,
            owner_slug: self.owner_slug,
            owner_name: self.owner_name,
            tier: self.tier.map(|t| decode(Tier::parse(t.into()))).transpose()?,
            lifecycle: self.lifecycle.map(Lifecycle::from),
            language: self.language,
            tags: self.tags,
            classification: decode(Classification::parse(&self.classification))?,
            pending: self.status == "pending",
            updated_at: self.updated_at,
        })
    }
}

/// The select list every summary query shares (entities `e`, primary owner `t`).
const SUMMARY_COLUMNS: &str = "e.id, e.kind, e.namespace, e.name, e.title, e.description, e.type, \
     e.owner_ref AS owner_slug, coalesce(t.name, ou.name, e.owner_ref) AS owner_name, e.tier, e.lifecycle, e.language, e.tags, \
     e.classification, e.status, e.updated_at";

/// `%` and `_` match literally inside ILIKE patterns built from user text.
fn like_pattern(text: &str) -> String {
    let escaped = text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}

/// Appends ` WHERE …` for every filter of `q` (except those named in `skip`).
fn push_filters<'a>(b: &mut QueryBuilder<'a, Postgres>, q: &'a ListQuery) {
    b.push(" WHERE true");
    if !q.text.is_empty() {
        let text = q.text.as_str();
        b.push(" AND (e.search @@ websearch_to_tsquery('english', ")
            .push_bind(text)
            .push(") OR e.name ILIKE ")
            .push_bind(like_pattern(text))
            .push(" OR e.title ILIKE ")
            .push_bind(like_pattern(text))
            .push(")");
    }
    if let Some(k) = q.kind {
        b.push(" AND e.kind = ").push_bind(k.as_str());
    }
    if let Some(t) = &q.entity_type {
        b.push(" AND e.type = ").push_bind(t.as_str());
    }
    if let Some(o) = &q.owner {
        b.push(" AND (e.owner_ref = ")
            .push_bind(o.as_str())
            .push(" OR EXISTS (SELECT 1 FROM entity_co_owners c JOIN teams ct ON ct.id = c.team_id WHERE c.entity_id = e.id AND ct.slug = ")
            .push_bind(o.as_str())
            .push("))");
    }
    if let Some(l) = &q.lifecycle {
        b.push(" AND e.lifecycle = ").push_bind(l.as_str().to_owned());
    }
    if let Some(t) = q.tier {
        b.push(" AND e.tier = ").push_bind(i16::from(t.get()));
    }
    if let Some(t) = &q.tag {
        b.push(" AND e.tags @> ARRAY[").push_bind(t.as_str()).push("]::text[]");
    }
    if let Some(c) = q.classification {
        b.push(" AND e.classification = ").push_bind(c.as_str());
    }
}

/// Where the previous page ended, in the list's order.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Cursor {
    Name(String, Uuid),
    Updated(DateTime<Utc>, Uuid),
    Tier(Option<i16>, String, Uuid),
}

impl Cursor {
    pub fn encode(&self) -> String {
        hex::encode(serde_json::to_vec(self).unwrap_or_default())
    }

    pub fn decode(s: &str) -> Option<Cursor> {
        serde_json::from_slice(&hex::decode(s).ok()?).ok()
    }

    pub fn after(sort: Sort, last: &EntitySummary) -> Cursor {
        match sort {
            Sort::Name => Cursor::Name(last.name.clone(), last.id.0),
            Sort::Updated => Cursor::Updated(last.updated_at, last.id.0),
            Sort::Tier => Cursor::Tier(last.tier.map(|t| i16::from(t.get())), last.name.clone(), last.id.0),
        }
    }
}

/// One page of the list: `limit + 1` rows are read so the caller knows whether more follow.
/// Keyset pagination: the cost of a page does not grow with how deep it is.
pub async fn list(conn: &mut PgConnection, q: &ListQuery, cursor: Option<&Cursor>) -> Result<Vec<EntitySummary>, sqlx::Error> {
    let mut b = QueryBuilder::new(format!("SELECT {SUMMARY_COLUMNS} FROM entities e LEFT JOIN teams t ON t.id = e.owner_team_id LEFT JOIN users ou ON ou.id = e.owner_user_id"));
    push_filters(&mut b, q);
    // tiers: NULL (no tier) sorts last, as 4
    match cursor {
        None => {}
        Some(Cursor::Name(name, id)) => {
            b.push(" AND (e.name, e.id) > (").push_bind(name.clone()).push(", ").push_bind(*id).push(")");
        }
        Some(Cursor::Updated(at, id)) => {
            b.push(" AND (e.updated_at, e.id) < (").push_bind(*at).push(", ").push_bind(*id).push(")");
        }
        Some(Cursor::Tier(tier, name, id)) => {
            b.push(" AND (coalesce(e.tier, 4::smallint), e.name, e.id) > (")
                .push_bind(tier.unwrap_or(4))
                .push(", ")
                .push_bind(name.clone())
                .push(", ")
                .push_bind(*id)
                .push(")");
        }
    }
    b.push(match q.sort {
        Sort::Name => " ORDER BY e.name, e.id",
        Sort::Updated => " ORDER BY e.updated_at DESC, e.id DESC",
        Sort::Tier => " ORDER BY coalesce(e.tier, 4::smallint), e.name, e.id",
    });
    b.push(" LIMIT ").push_bind(i64::from(q.limit) + 1);
    let rows: Vec<SummaryRow> = b.build_query_as().fetch_all(&mut *conn).await?;
    rows.into_iter().map(SummaryRow::into_summary).collect()
}

/// Counts per facet value among the entities matching the query (one pass with grouping sets,
/// and one for tags; the ten most common tags and owners).
pub async fn facets(conn: &mut PgConnection, q: &ListQuery) -> Result<Facets, sqlx::Error> {
    let mut b = QueryBuilder::new(
        "SELECT GROUPING(e.kind, e.type, e.owner_ref, e.lifecycle, e.tier, e.classification) AS g, \
         e.kind, e.type, e.owner_ref, e.lifecycle, e.tier, e.classification, count(*) AS n \
         FROM entities e",
    );
    push_filters(&mut b, q);
    b.push(" GROUP BY GROUPING SETS ((e.kind), (e.type), (e.owner_ref), (e.lifecycle), (e.tier), (e.classification), ())");
    type Row = (i32, Option<String>, Option<String>, Option<String>, Option<String>, Option<i16>, Option<String>, i64);
    let rows: Vec<Row> = b.build_query_as().fetch_all(&mut *conn).await?;
    let mut f = Facets::default();
    for (g, kind, ty, owner, lifecycle, tier, class, n) in rows {
        // GROUPING: a bit is set for each column *not* grouped in this row; 0b011111 = only kind
        let count = |value: String| FacetCount { value, count: n };
        match g {
            0b011111 => f.kind.extend(kind.map(count)),
            0b101111 => f.entity_type.extend(ty.map(count)),
            0b110111 => f.owner.extend(owner.map(count)),
            0b111011 => f.lifecycle.extend(lifecycle.map(count)),
            0b111101 => f.tier.extend(tier.map(|t| count(t.to_string()))),
            0b111110 => f.classification.extend(class.map(count)),
            0b111111 => f.total = n,
            _ => {}
        }
    }
    let mut b = QueryBuilder::new("SELECT tag, count(*) AS n FROM entities e CROSS JOIN LATERAL unnest(e.tags) AS tag");
    push_filters(&mut b, q);
    b.push(" GROUP BY tag ORDER BY n DESC, tag LIMIT 15");
    let tags: Vec<(String, i64)> = b.build_query_as().fetch_all(&mut *conn).await?;
    f.tag = tags.into_iter().map(|(value, count)| FacetCount { value, count }).collect();
    for list in [&mut f.kind, &mut f.entity_type, &mut f.owner, &mut f.lifecycle, &mut f.classification] {
        list.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
    }
    f.owner.truncate(15);
    f.tier.sort_by(|a, b| a.value.cmp(&b.value));
    Ok(f)
}

/// The best matches for `text`, ranked: candidates from the full-text index (best ranked
/// first), from substring matches on name or title and from trigram similarity of the name
/// (typos), each branch bounded and index-driven; then full-text rank plus name and title
/// similarity orders the few candidates. For the search box's results as you type.
pub async fn quick_search(db: impl PgExecutor<'_>, text: &str, limit: i64) -> Result<Vec<EntitySummary>, sqlx::Error> {
    let rows = sqlx::query_as!(
        SummaryRow,
        r#"WITH q AS (SELECT websearch_to_tsquery('english', $1) AS query),
           candidates AS (
               (SELECT c.id FROM entities c, q WHERE c.search @@ q.query ORDER BY ts_rank(c.search, q.query) DESC LIMIT 50)
               UNION (SELECT c.id FROM entities c WHERE c.name ILIKE $2 OR c.title ILIKE $2 LIMIT 50)
               UNION (SELECT c.id FROM entities c WHERE c.name % $1 LIMIT 50)
           )
           SELECT e.id AS "id: EntityId", e.kind, e.namespace, e.name, e.title, e.description, e.type AS entity_type,
                  e.owner_ref AS owner_slug, coalesce(t.name, ou.name, e.owner_ref) AS "owner_name!", e.tier, e.lifecycle, e.language, e.tags,
                  e.classification, e.status, e.updated_at
           FROM candidates JOIN entities e ON e.id = candidates.id LEFT JOIN teams t ON t.id = e.owner_team_id LEFT JOIN users ou ON ou.id = e.owner_user_id, q
           ORDER BY ts_rank(e.search, q.query) + similarity(e.name, $1) + word_similarity($1, e.title) DESC, e.name
           LIMIT $3"#,
        text,
        like_pattern(text),
        limit
    )
    .fetch_all(db)
    .await?;
    rows.into_iter().map(SummaryRow::into_summary).collect()
}

/// The most recently changed entities.
pub async fn recently_changed(db: impl PgExecutor<'_>, limit: i64) -> Result<Vec<EntitySummary>, sqlx::Error> {
    let rows = sqlx::query_as!(
        SummaryRow,
        r#"SELECT e.id AS "id: EntityId", e.kind, e.namespace, e.name, e.title, e.description, e.type AS entity_type,
                  e.owner_ref AS owner_slug, coalesce(t.name, ou.name, e.owner_ref) AS "owner_name!", e.tier, e.lifecycle, e.language, e.tags,
                  e.classification, e.status, e.updated_at
           FROM entities e LEFT JOIN teams t ON t.id = e.owner_team_id LEFT JOIN users ou ON ou.id = e.owner_user_id
           WHERE e.kind = 'component'
           ORDER BY e.updated_at DESC, e.name
           LIMIT $1"#,
        limit
    )
    .fetch_all(db)
    .await?;
    rows.into_iter().map(SummaryRow::into_summary).collect()
}

/// Everything a team owns, primarily or as a co-owner, by kind and name.
pub async fn owned_by(db: impl PgExecutor<'_>, team: Uuid) -> Result<Vec<EntitySummary>, sqlx::Error> {
    let rows = sqlx::query_as!(
        SummaryRow,
        r#"SELECT e.id AS "id: EntityId", e.kind, e.namespace, e.name, e.title, e.description, e.type AS entity_type,
                  e.owner_ref AS owner_slug, coalesce(t.name, ou.name, e.owner_ref) AS "owner_name!", e.tier, e.lifecycle, e.language, e.tags,
                  e.classification, e.status, e.updated_at
           FROM entities e LEFT JOIN teams t ON t.id = e.owner_team_id LEFT JOIN users ou ON ou.id = e.owner_user_id
           WHERE e.owner_team_id = $1
              OR EXISTS (SELECT 1 FROM entity_co_owners c WHERE c.entity_id = e.id AND c.team_id = $1)
           ORDER BY e.kind, e.name"#,
        team
    )
    .fetch_all(db)
    .await?;
    rows.into_iter().map(SummaryRow::into_summary).collect()
}

pub struct ServiceCounts {
    pub services: i64,
    pub production: i64,
    pub tier_zero: i64,
}

/// Home-page counts of components (uses the kind index; the home page is not the list).
pub async fn service_counts(db: impl PgExecutor<'_>) -> Result<ServiceCounts, sqlx::Error> {
    sqlx::query_as!(
        ServiceCounts,
        r#"SELECT count(*) AS "services!",
                  count(*) FILTER (WHERE lifecycle = 'production') AS "production!",
                  count(*) FILTER (WHERE tier = 0) AS "tier_zero!"
           FROM entities WHERE kind = 'component'"#
    )
    .fetch_one(db)
    .await
}

/// Every team with the number of components it owns, by name.
pub async fn teams(db: impl PgExecutor<'_>) -> Result<Vec<TeamSummary>, sqlx::Error> {
    sqlx::query_as!(
        TeamSummary,
        r#"SELECT t.slug, t.name, t.description,
                  (SELECT count(*) FROM entities e WHERE e.owner_team_id = t.id AND e.kind = 'component') AS "services!"
           FROM teams t
           ORDER BY t.name"#
    )
    .fetch_all(db)
    .await
}

/// An entity's row: identity, state and the desired-state fields.
pub struct Stored {
    pub id: EntityId,
    pub status: String,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub desired: Desired,
}

struct StoredRow {
    id: EntityId,
    kind: String,
    namespace: String,
    name: String,
    title: String,
    description: String,
    entity_type: Option<String>,
    lifecycle: Option<String>,
    tier: Option<i16>,
    owner: String,
    language: Option<String>,
    repository_url: Option<String>,
    runbook_url: Option<String>,
    oncall_url: Option<String>,
    dashboards: Vec<String>,
    links: serde_json::Value,
    tags: Vec<String>,
    classification: String,
    annotations: serde_json::Value,
    definition: Option<String>,
    definition_url: Option<String>,
    status: String,
    version: i32,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

/// The stored state of the entities with these ids, co-owners and outgoing relations
/// included (three queries whatever the number of entities).
pub async fn load(conn: &mut PgConnection, ids: &[EntityId]) -> Result<Vec<Stored>, sqlx::Error> {
    let rows = sqlx::query_as!(
        StoredRow,
        r#"SELECT e.id AS "id: EntityId", e.kind, e.namespace, e.name, e.title, e.description, e.type AS entity_type,
                  e.lifecycle, e.tier, e.owner_ref AS owner, e.language, e.repository_url, e.runbook_url,
                  e.oncall_url, e.dashboards, e.links, e.tags, e.classification, e.annotations,
                  e.definition, e.definition_url, e.status, e.version, e.created_at, e.updated_at
           FROM entities e
           WHERE e.id = ANY($1)
           ORDER BY e.kind, e.namespace, e.name"#,
        ids as _
    )
    .fetch_all(&mut *conn)
    .await?;
    let co = sqlx::query!(
        r#"SELECT c.entity_id AS "entity_id: EntityId", t.slug FROM entity_co_owners c JOIN teams t ON t.id = c.team_id
           WHERE c.entity_id = ANY($1) ORDER BY t.slug"#,
        ids as _
    )
    .fetch_all(&mut *conn)
    .await?;
    let rels = sqlx::query!(
        r#"SELECT r.source_id AS "source_id: EntityId", r.type, r.target_kind AS kind, r.target_namespace AS namespace,
                  r.target_name AS name
           FROM entity_relations r
           WHERE r.source_id = ANY($1)"#,
        ids as _
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut co_by: HashMap<EntityId, Vec<String>> = HashMap::new();
    for c in co {
        co_by.entry(c.entity_id).or_default().push(c.slug);
    }
    let mut rel_by: HashMap<EntityId, BTreeSet<(String, EntityRef)>> = HashMap::new();
    for r in rels {
        rel_by.entry(r.source_id).or_default().insert((r.r#type, EntityRef::new(&r.kind, &r.namespace, &r.name)));
    }
    rows.into_iter()
        .map(|r| {
            let mut owners = vec![r.owner];
            owners.extend(co_by.remove(&r.id).unwrap_or_default());
            let annotations: BTreeMap<String, String> = serde_json::from_value(r.annotations).map_err(|e| sqlx::Error::Decode(e.into()))?;
            let links: Vec<Link> = serde_json::from_value(r.links).map_err(|e| sqlx::Error::Decode(e.into()))?;
            Ok(Stored {
                id: r.id,
                status: r.status,
                version: r.version,
                created_at: r.created_at,
                updated_at: r.updated_at,
                desired: Desired {
                    entity: EntityRef::new(&r.kind, &r.namespace, &r.name),
                    title: r.title,
                    description: r.description,
                    entity_type: r.entity_type,
                    lifecycle: r.lifecycle.map(Lifecycle::from),
                    tier: r.tier.map(|t| decode(Tier::parse(t.into()))).transpose()?,
                    owners,
                    language: r.language,
                    repository_url: r.repository_url,
                    runbook_url: r.runbook_url,
                    oncall_url: r.oncall_url,
                    dashboards: r.dashboards,
                    links,
                    tags: r.tags,
                    classification: decode(Classification::parse(&r.classification))?,
                    annotations,
                    definition: r.definition,
                    definition_url: r.definition_url,
                    relations: rel_by.remove(&r.id).unwrap_or_default(),
                },
            })
        })
        .collect()
}

/// Ids of the entities these references name (those that exist).
pub async fn resolve(db: impl PgExecutor<'_>, refs: &[EntityRef]) -> Result<HashMap<EntityRef, EntityId>, sqlx::Error> {
    let kinds: Vec<String> = refs.iter().map(|r| r.kind.clone()).collect();
    let namespaces: Vec<String> = refs.iter().map(|r| r.namespace.clone()).collect();
    let names: Vec<String> = refs.iter().map(|r| r.name.clone()).collect();
    let rows = sqlx::query!(
        r#"SELECT e.id AS "id: EntityId", e.kind, e.namespace, e.name
           FROM entities e
           JOIN UNNEST($1::text[], $2::text[], $3::text[]) AS r(kind, namespace, name)
             ON e.kind = r.kind AND e.namespace = r.namespace AND e.name = r.name"#,
        &kinds,
        &namespaces,
        &names
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (EntityRef::new(&r.kind, &r.namespace, &r.name), r.id)).collect())
}

/// Team ids by slug, for the slugs that exist.
pub async fn team_ids(db: impl PgExecutor<'_>, slugs: &[String]) -> Result<HashMap<String, Uuid>, sqlx::Error> {
    let rows = sqlx::query!(r#"SELECT id, slug FROM teams WHERE slug = ANY($1)"#, slugs).fetch_all(db).await?;
    Ok(rows.into_iter().map(|r| (r.slug, r.id)).collect())
}

/// Who an entity's primary owner, as declared (`Desired::owners[0]`: a team's slug,
/// `user:guest`, `group:other/x`), is here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnerId {
    Team(Uuid),
    Person(Uuid),
    /// No team or person of that name here (yet): kept as declared; only admins may change it.
    NotHere,
}

impl OwnerId {
    pub fn team(self) -> Option<Uuid> {
        match self {
            OwnerId::Team(t) => Some(t),
            _ => None,
        }
    }

    pub fn person(self) -> Option<Uuid> {
        match self {
            OwnerId::Person(p) => Some(p),
            _ => None,
        }
    }
}

/// Resolves a declared owner: a team by slug (`team-a`), a person by user name (`user:guest`).
pub async fn owner_id(db: impl PgExecutor<'_>, declared: &str) -> Result<OwnerId, sqlx::Error> {
    let row = sqlx::query!(
        r#"SELECT (SELECT id FROM teams WHERE slug = $1) AS team,
                  (SELECT id FROM users WHERE kind = 'person' AND 'user:' || username = $1
                   ORDER BY last_login_at DESC LIMIT 1) AS person"#,
        declared
    )
    .fetch_one(db)
    .await?;
    Ok(match (row.team, row.person) {
        (Some(t), _) => OwnerId::Team(t),
        (None, Some(p)) => OwnerId::Person(p),
        (None, None) => OwnerId::NotHere,
    })
}

/// Resolves the owners that were waiting for a team or a person of their name; how many.
pub async fn resolve_waiting_owners(conn: &mut PgConnection) -> Result<u64, sqlx::Error> {
    let done = sqlx::query!(
        r#"UPDATE entities e SET owner_team_id = o.team, owner_user_id = o.person
           FROM (SELECT w.id,
                        (SELECT t.id FROM teams t WHERE t.slug = w.owner_ref) AS team,
                        (SELECT u.id FROM users u WHERE u.kind = 'person' AND 'user:' || u.username = w.owner_ref
                         ORDER BY u.last_login_at DESC LIMIT 1) AS person
                 FROM entities w WHERE w.owner_team_id IS NULL AND w.owner_user_id IS NULL) AS o
           WHERE e.id = o.id AND (o.team IS NOT NULL OR o.person IS NOT NULL)"#
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// Inserts or replaces an entity's own fields; returns its id. Relations and co-owners are
/// written by `set_links` once every entity of a batch has an id.
pub async fn upsert(conn: &mut PgConnection, d: &Desired, owner: OwnerId, status: &str) -> Result<EntityId, sqlx::Error> {
    let links = serde_json::to_value(&d.links).unwrap_or_default();
    let annotations = serde_json::to_value(&d.annotations).unwrap_or_default();
    sqlx::query_scalar!(
        r#"INSERT INTO entities (kind, namespace, name, title, description, type, lifecycle, tier, owner_team_id,
                                 language, repository_url, runbook_url, oncall_url, dashboards, links, tags,
                                 classification, annotations, definition, status, definition_url,
                                 owner_ref, owner_user_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23)
           ON CONFLICT (kind, namespace, name) DO UPDATE SET
               title = EXCLUDED.title, description = EXCLUDED.description, type = EXCLUDED.type,
               lifecycle = EXCLUDED.lifecycle, tier = EXCLUDED.tier, owner_team_id = EXCLUDED.owner_team_id,
               language = EXCLUDED.language, repository_url = EXCLUDED.repository_url,
               runbook_url = EXCLUDED.runbook_url, oncall_url = EXCLUDED.oncall_url,
               dashboards = EXCLUDED.dashboards, links = EXCLUDED.links, tags = EXCLUDED.tags,
               classification = EXCLUDED.classification, annotations = EXCLUDED.annotations,
               definition = EXCLUDED.definition, status = EXCLUDED.status, definition_url = EXCLUDED.definition_url,
               owner_ref = EXCLUDED.owner_ref, owner_user_id = EXCLUDED.owner_user_id,
               version = entities.version + 1, updated_at = now()
           RETURNING id AS "id: EntityId""#,
        &d.entity.kind,
        &d.entity.namespace,
        &d.entity.name,
        &d.title,
        &d.description,
        d.entity_type.as_deref(),
        d.lifecycle.as_ref().map(Lifecycle::as_str),
        d.tier.map(|t| i16::from(t.get())),
        owner.team(),
        d.language.as_deref(),
        d.repository_url.as_deref(),
        d.runbook_url.as_deref(),
        d.oncall_url.as_deref(),
        &d.dashboards,
        links,
        &d.tags,
        d.classification.as_str(),
        annotations,
        d.definition.as_deref(),
        status,
        d.definition_url.as_deref(),
        d.owners.first().map(String::as_str).unwrap_or_default(),
        owner.person()
    )
    .fetch_one(&mut *conn)
    .await
}

/// Replaces an entity's co-owners and outgoing relations: (type, target as declared, the
/// target's id when it is in the catalog).
pub async fn set_links(conn: &mut PgConnection, id: EntityId, co_owners: &[Uuid], relations: &[(String, EntityRef, Option<EntityId>)]) -> Result<(), sqlx::Error> {
    sqlx::query!("DELETE FROM entity_co_owners WHERE entity_id = $1", id.0).execute(&mut *conn).await?;
    sqlx::query!(
        "INSERT INTO entity_co_owners (entity_id, team_id) SELECT $1, t FROM UNNEST($2::uuid[]) AS t ON CONFLICT DO NOTHING",
        id.0,
        co_owners
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!("DELETE FROM entity_relations WHERE source_id = $1", id.0).execute(&mut *conn).await?;
    let types: Vec<String> = relations.iter().map(|(t, _, _)| t.clone()).collect();
    let kinds: Vec<String> = relations.iter().map(|(_, r, _)| r.kind.clone()).collect();
    let namespaces: Vec<String> = relations.iter().map(|(_, r, _)| r.namespace.clone()).collect();
    let names: Vec<String> = relations.iter().map(|(_, r, _)| r.name.clone()).collect();
    let targets: Vec<Option<Uuid>> = relations.iter().map(|(_, _, id)| id.map(|i| i.0)).collect();
    sqlx::query!(
        "INSERT INTO entity_relations (source_id, type, target_kind, target_namespace, target_name, target_id)
         SELECT $1, r.type, r.kind, r.namespace, r.name, r.target
         FROM UNNEST($2::text[], $3::text[], $4::text[], $5::text[], $6::uuid[]) AS r(type, kind, namespace, name, target)
         ON CONFLICT DO NOTHING",
        id.0,
        &types,
        &kinds,
        &namespaces,
        &names,
        &targets as &[Option<Uuid>]
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn set_status(conn: &mut PgConnection, id: EntityId, status: &str) -> Result<(), sqlx::Error> {
    sqlx::query!("UPDATE entities SET status = $2, updated_at = now(), version = version + 1 WHERE id = $1", id.0, status)
        .execute(conn)
        .await?;
    Ok(())
}

/// Resolves the relations that were waiting for this entity (declared before it arrived).
pub async fn resolve_waiting(conn: &mut PgConnection, id: EntityId, r: &EntityRef) -> Result<u64, sqlx::Error> {
    let done = sqlx::query!(
        "UPDATE entity_relations SET target_id = $1
         WHERE target_id IS NULL AND target_kind = $2 AND target_namespace = $3 AND target_name = $4 AND source_id <> $1",
        id.0,
        &r.kind,
        &r.namespace,
        &r.name
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// References kept as declared whose target is not here: relations, then owners; at most `limit`.
pub async fn unresolved(db: impl PgExecutor<'_>, limit: i64) -> Result<Vec<(EntityRef, String, String)>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT kind AS "kind!", namespace AS "namespace!", name AS "name!", relation AS "relation!", target AS "target!"
           FROM (SELECT s.kind, s.namespace, s.name, r.type AS relation,
                        r.target_kind || ':' || r.target_namespace || '/' || r.target_name AS target
                 FROM entity_relations r JOIN entities s ON s.id = r.source_id
                 WHERE r.target_id IS NULL
                 UNION ALL
                 SELECT e.kind, e.namespace, e.name, 'owned_by', e.owner_ref
                 FROM entities e
                 WHERE e.owner_team_id IS NULL AND e.owner_user_id IS NULL) AS u
           ORDER BY target, kind, namespace, name
           LIMIT $1"#,
        limit
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (EntityRef::new(&r.kind, &r.namespace, &r.name), r.relation, r.target)).collect())
}

/// Locks an entity's row for a change, returning its version.
pub async fn lock(conn: &mut PgConnection, id: EntityId) -> Result<Option<i32>, sqlx::Error> {
    sqlx::query_scalar!("SELECT version FROM entities WHERE id = $1 FOR UPDATE", id.0).fetch_optional(conn).await
}

pub async fn delete(conn: &mut PgConnection, id: EntityId) -> Result<(), sqlx::Error> {
    sqlx::query!("DELETE FROM entities WHERE id = $1", id.0).execute(conn).await?;
    Ok(())
}

/// Which way a relation is read from an entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Relations that point at the entity (its dependents, its consumers).
    Incoming,
    /// Relations the entity points along (what it depends on, provides, consumes).
    Outgoing,
}

/// The entities at the other end of an entity's relations one way, with their titles and
/// lifecycles, by relation then name.
pub async fn related(db: impl PgExecutor<'_>, id: EntityId, direction: Direction) -> Result<Vec<Related>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT r.type AS "type!",
                  CASE WHEN $2 THEN o.kind ELSE r.target_kind END AS "kind!",
                  CASE WHEN $2 THEN o.namespace ELSE r.target_namespace END AS "namespace!",
                  CASE WHEN $2 THEN o.name ELSE r.target_name END AS "name!",
                  o.title AS "title?", o.lifecycle AS "lifecycle?"
           FROM entity_relations r
           LEFT JOIN entities o ON o.id = CASE WHEN $2 THEN r.source_id ELSE r.target_id END
           WHERE ($2 AND r.target_id = $1) OR (NOT $2 AND r.source_id = $1)
           ORDER BY 1, 4"#,
        id.0,
        direction == Direction::Incoming
    )
    .fetch_all(db)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(Related {
                relation: r.r#type,
                entity: EntityRef::new(&r.kind, &r.namespace, &r.name),
                in_catalog: r.title.is_some(),
                title: r.title.unwrap_or_else(|| r.name.clone()),
                lifecycle: r.lifecycle.map(Lifecycle::from),
            })
        })
        .collect()
}

/// The id of the entity a reference names.
pub async fn find(db: impl PgExecutor<'_>, r: &EntityRef) -> Result<Option<EntityId>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT id AS "id: EntityId" FROM entities WHERE kind = $1 AND namespace = $2 AND name = $3"#,
        &r.kind,
        &r.namespace,
        &r.name
    )
    .fetch_optional(db)
    .await
}

/// Members of the given teams (team id, username, name, lead?).
pub async fn members(db: impl PgExecutor<'_>, teams: &[Uuid]) -> Result<Vec<(Uuid, OwnerMember)>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT m.team_id, u.username, u.name, m.role AS "role: TeamRole"
           FROM team_members m JOIN users u ON u.id = m.user_id
           WHERE m.team_id = ANY($1)
           ORDER BY m.role DESC, u.name"#,
        teams
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.team_id, OwnerMember { username: r.username, name: r.name, lead: r.role == TeamRole::Lead }))
        .collect())
}

/// Inserts or renames a team from a Group descriptor; true when something changed.
pub async fn upsert_team(conn: &mut PgConnection, t: &DesiredTeam) -> Result<bool, sqlx::Error> {
    let changed = sqlx::query!(
        r#"INSERT INTO teams (slug, name, description) VALUES ($1, $2, $3)
           ON CONFLICT (slug) DO UPDATE SET name = EXCLUDED.name, description = EXCLUDED.description
           WHERE teams.name IS DISTINCT FROM EXCLUDED.name OR teams.description IS DISTINCT FROM EXCLUDED.description"#,
        &t.slug,
        &t.name,
        &t.description
    )
    .execute(conn)
    .await?
    .rows_affected();
    Ok(changed > 0)
}

/// Teams as Group descriptors, for export and for comparing an import.
pub async fn teams_desired(db: impl PgExecutor<'_>) -> Result<Vec<DesiredTeam>, sqlx::Error> {
    sqlx::query_as!(DesiredTeam, "SELECT slug, name, description FROM teams ORDER BY slug").fetch_all(db).await
}

/// All entity ids, in a stable order (export of the whole catalog).
pub async fn all_ids(db: impl PgExecutor<'_>) -> Result<Vec<EntityId>, sqlx::Error> {
    sqlx::query_scalar!(r#"SELECT id AS "id: EntityId" FROM entities WHERE status = 'active' ORDER BY kind, namespace, name"#).fetch_all(db).await
}

/// Edges around a set of entities: (source, type, target) in both directions.
pub async fn edges_touching(db: impl PgExecutor<'_>, ids: &[EntityId]) -> Result<Vec<(EntityId, String, EntityId)>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT source_id AS "source_id: EntityId", type, target_id AS "target_id!: EntityId" FROM entity_relations
           WHERE (source_id = ANY($1) OR target_id = ANY($1)) AND target_id IS NOT NULL
             AND type IN ('depends_on', 'consumes_api', 'provides_api')"#,
        ids as _
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.source_id, r.r#type, r.target_id)).collect())
}

/// Refs and titles for ids.
pub async fn labels(db: impl PgExecutor<'_>, ids: &[EntityId]) -> Result<HashMap<EntityId, (EntityRef, String)>, sqlx::Error> {
    let rows = sqlx::query!(r#"SELECT id AS "id: EntityId", kind, namespace, name, title FROM entities WHERE id = ANY($1)"#, ids as _).fetch_all(db).await?;
    Ok(rows.into_iter().map(|r| (r.id, (EntityRef::new(&r.kind, &r.namespace, &r.name), r.title))).collect())
}

/// One entity's list row.
pub async fn summary(db: impl PgExecutor<'_>, id: EntityId) -> Result<EntitySummary, sqlx::Error> {
    sqlx::query_as!(
        SummaryRow,
        r#"SELECT e.id AS "id: EntityId", e.kind, e.namespace, e.name, e.title, e.description, e.type AS entity_type,
                  e.owner_ref AS owner_slug, coalesce(t.name, ou.name, e.owner_ref) AS "owner_name!", e.tier, e.lifecycle, e.language, e.tags,
                  e.classification, e.status, e.updated_at
           FROM entities e LEFT JOIN teams t ON t.id = e.owner_team_id LEFT JOIN users ou ON ou.id = e.owner_user_id
           WHERE e.id = $1"#,
        id.0
    )
    .fetch_one(db)
    .await?
    .into_summary()
}
