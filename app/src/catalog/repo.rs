//! Catalog SQL. The list's filters are built once (`push_filters`) and shared by the page and
//! its facet counts, so those two queries are assembled with `QueryBuilder`; every fixed query
//! is compile-checked.
use super::backstage::{Desired, DesiredTeam};
use super::types::{
    Classification, EntityId, EntityRef, EntitySummary, FacetCount, Facets, ImportJob, ImportReport, JobState, Kind, Lifecycle, Link,
    ListQuery, OwnerMember, Related, Sort, TeamSummary, Tier,
};
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor, Postgres, QueryBuilder};
use std::collections::{BTreeMap, HashMap};
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

/// Appends the entities the facets count, as `e`: every entity, or with an owner filter those
/// the owner owns first-hand and those it co-owns.
fn push_from<'a>(b: &mut QueryBuilder<'a, Postgres>, q: &'a ListQuery) {
    match &q.owner {
        None => b.push(" entities e"),
        Some(o) => b
            .push(" (SELECT * FROM entities WHERE owner_ref = ")
            .push_bind(o.as_str())
            .push(" UNION ALL SELECT x.* FROM entity_co_owners c JOIN teams ct ON ct.id = c.team_id JOIN entities x ON x.id = c.entity_id WHERE ct.slug = ")
            .push_bind(o.as_str())
            .push(" AND x.owner_ref <> ")
            .push_bind(o.as_str())
            .push(") e"),
    };
}

/// Appends ` AND …` for every filter of `q` but the owner, after a `WHERE` the caller wrote.
fn push_filters<'a>(b: &mut QueryBuilder<'a, Postgres>, q: &'a ListQuery) {
    if !q.text.is_empty() {
        let text = q.text.as_str();
        // the words, a part of the name or title, or a name or title word a typo away (trigram
        // similarity, as the search box's quick search): what the box finds, the list finds
        b.push(" AND (e.search @@ websearch_to_tsquery('english', ")
            .push_bind(text)
            .push(") OR e.name ILIKE ")
            .push_bind(like_pattern(text))
            .push(" OR e.title ILIKE ")
            .push_bind(like_pattern(text))
            .push(" OR e.name % ")
            .push_bind(text)
            .push(" OR ")
            .push_bind(text)
            .push(" <% e.title)");
    }
    if let Some(k) = q.kind {
        b.push(" AND e.kind = ").push_bind(k.as_str());
    }
    if let Some(t) = &q.entity_type {
        b.push(" AND e.type = ").push_bind(t.as_str());
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
    /// Best match first: how many came before (a rank is no key to resume from).
    Offset(u32),
}

impl Cursor {
    pub fn encode(&self) -> String {
        hex::encode(serde_json::to_vec(self).unwrap_or_default())
    }

    pub fn decode(s: &str) -> Option<Cursor> {
        serde_json::from_slice(&hex::decode(s).ok()?).ok()
    }

    /// Where the next page starts, after a page of `shown` ending at `last` that started at
    /// `previous`.
    pub fn after(sort: Sort, last: &EntitySummary, previous: Option<&Cursor>, shown: usize) -> Cursor {
        match sort {
            Sort::Name => Cursor::Name(last.name.clone(), last.id.0),
            Sort::Updated => Cursor::Updated(last.updated_at, last.id.0),
            Sort::Tier => Cursor::Tier(last.tier.map(|t| i16::from(t.get())), last.name.clone(), last.id.0),
            Sort::Relevance => {
                let before = match previous {
                    Some(Cursor::Offset(n)) => *n,
                    _ => 0,
                };
                Cursor::Offset(before.saturating_add(u32::try_from(shown).unwrap_or(u32::MAX)))
            }
        }
    }
}

/// Appends a page's conditions on `e` (every filter but the owner, and where the previous page
/// ended), its order and its limit: `limit + 1` rows, so the caller knows whether more follow.
fn push_page<'a>(b: &mut QueryBuilder<'a, Postgres>, q: &'a ListQuery, cursor: Option<&'a Cursor>, whole: bool) {
    push_filters(b, q);
    // tiers: NULL (no tier) sorts last, as 4
    match cursor {
        None => {}
        Some(Cursor::Name(name, id)) => {
            b.push(" AND (e.name, e.id) > (").push_bind(name.as_str()).push(", ").push_bind(*id).push(")");
        }
        Some(Cursor::Updated(at, id)) => {
            b.push(" AND (e.updated_at, e.id) < (").push_bind(*at).push(", ").push_bind(*id).push(")");
        }
        Some(Cursor::Tier(tier, name, id)) => {
            b.push(" AND (coalesce(e.tier, 4::smallint), e.name, e.id) > (")
                .push_bind(tier.unwrap_or(4))
                .push(", ")
                .push_bind(name.as_str())
                .push(", ")
                .push_bind(*id)
                .push(")");
        }
        // an offset applies once the page is ordered (below)
        Some(Cursor::Offset(_)) => {}
    }
    push_order(b, q);
    push_limit(b, q, cursor, whole);
}

/// ` LIMIT n` with the page's size written in (a number the query parsed, at most 201): with a
/// bound limit the planner cannot cost a generic plan, and plans every execution anew. For the
/// best matches first, the rows before the page are skipped too (` LIMIT n OFFSET m`).
/// A part of a page (`whole` false: an owner's own or co-owned entities, merged after) keeps the
/// skipped rows too, for the merge to skip.
fn push_limit(b: &mut QueryBuilder<'_, Postgres>, q: &ListQuery, cursor: Option<&Cursor>, whole: bool) {
    let skip = match (q.sort, cursor) {
        (Sort::Relevance, Some(Cursor::Offset(n))) => *n,
        _ => 0,
    };
    if whole {
        b.push(format!(" LIMIT {}", u32::from(q.limit) + 1));
        if skip > 0 {
            b.push(format!(" OFFSET {skip}"));
        }
    } else {
        b.push(format!(" LIMIT {}", u32::from(q.limit) + 1 + skip));
    }
}

/// The list's order; for the best matches first, the search box's rank (full-text rank, and how
/// close the name and the title are).
fn push_order<'a>(b: &mut QueryBuilder<'a, Postgres>, q: &'a ListQuery) {
    match q.sort {
        Sort::Name => b.push(" ORDER BY e.name, e.id"),
        Sort::Updated => b.push(" ORDER BY e.updated_at DESC, e.id DESC"),
        Sort::Tier => b.push(" ORDER BY coalesce(e.tier, 4::smallint), e.name, e.id"),
        Sort::Relevance => b
            .push(" ORDER BY ts_rank(e.search, websearch_to_tsquery('english', ")
            .push_bind(q.text.as_str())
            .push(")) + similarity(e.name, ")
            .push_bind(q.text.as_str())
            .push(") + word_similarity(")
            .push_bind(q.text.as_str())
            .push(", coalesce(e.title, '')) DESC, e.name, e.id"),
    };
}

/// One page of the list. Keyset pagination: the cost of a page does not grow with how deep it
/// is. An owner's page is the first page of what it owns first-hand (read in index order) merged
/// with the first page of what it co-owns: it reads a page, not everything the owner has.
#[tracing::instrument(level = "debug", name = "catalog.repo.list", skip_all)]
pub async fn list(conn: &mut PgConnection, q: &ListQuery, cursor: Option<&Cursor>) -> Result<Vec<EntitySummary>, sqlx::Error> {
    let mut b = QueryBuilder::new(format!("SELECT {SUMMARY_COLUMNS} FROM "));
    match &q.owner {
        None => {
            b.push("entities e");
        }
        Some(owner) => {
            b.push("((SELECT e.* FROM entities e WHERE e.owner_ref = ").push_bind(owner.as_str());
            push_page(&mut b, q, cursor, false);
            b.push(") UNION ALL (SELECT e.* FROM entities e JOIN entity_co_owners c ON c.entity_id = e.id JOIN teams ct ON ct.id = c.team_id WHERE ct.slug = ")
                .push_bind(owner.as_str())
                .push(" AND e.owner_ref <> ")
                .push_bind(owner.as_str());
            push_page(&mut b, q, cursor, false);
            b.push(")) e");
        }
    }
    b.push(" LEFT JOIN teams t ON t.id = e.owner_team_id LEFT JOIN users ou ON ou.id = e.owner_user_id WHERE true");
    if q.owner.is_none() {
        push_page(&mut b, q, cursor, true);
    } else {
        push_order(&mut b, q);
        push_limit(&mut b, q, cursor, true);
    }
    let rows: Vec<SummaryRow> = b.build_query_as().fetch_all(&mut *conn).await?;
    rows.into_iter().map(SummaryRow::into_summary).collect()
}

/// Counts per facet value among the entities matching the query: the ten-odd most common owners
/// and tags, every value of the other facets. With no filter but the kind and the owner, the
/// kept counts answer (`catalog_facet_counts`, or the owner's in `catalog_owner_facet_counts`
/// plus a count of the few it co-owns): a few dozen rows whatever the catalog's size.
/// Otherwise one grouped pass over the matching entities.
#[tracing::instrument(level = "debug", name = "catalog.repo.facets", skip_all)]
pub async fn facets(conn: &mut PgConnection, q: &ListQuery) -> Result<Facets, sqlx::Error> {
    let kept = q.text.is_empty()
        && q.entity_type.is_none()
        && q.lifecycle.is_none()
        && q.tier.is_none()
        && q.tag.is_none()
        && q.classification.is_none();
    let kinds: Vec<&str> = match q.kind {
        Some(k) => vec![k.as_str()],
        None => Kind::ALL.iter().map(|k| k.as_str()).collect(),
    };
    let rows: Vec<(String, String, i64)> = if kept && q.owner.is_none() {
        sqlx::query!(
            r#"SELECT CASE WHEN facet = 'total' THEN 'kind' ELSE facet END AS "facet!",
                      CASE WHEN facet = 'total' THEN kind ELSE value END AS "value!", sum(n)::bigint AS "n!"
               FROM catalog_facet_counts WHERE kind = ANY($1) GROUP BY 1, 2
               UNION ALL
               SELECT 'total', '', coalesce(sum(n), 0)::bigint FROM catalog_facet_counts
               WHERE facet = 'total' AND kind = ANY($1)"#,
            &kinds as &[&str]
        )
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .map(|r| (r.facet, r.value, r.n))
        .collect()
    } else if let (true, Some(owner)) = (kept, &q.owner) {
        sqlx::query!(
            r#"WITH co AS MATERIALIZED (
                   SELECT x.kind, x.type, x.owner_ref, x.lifecycle, x.tier, x.classification, x.tags
                   FROM entity_co_owners c JOIN teams ct ON ct.id = c.team_id JOIN entities x ON x.id = c.entity_id
                   WHERE ct.slug = $2 AND x.owner_ref <> $2 AND x.kind = ANY($1)),
               counted AS (
                   SELECT o.kind, o.facet, o.value, o.n FROM catalog_owner_facet_counts o WHERE o.owner_ref = $2 AND o.kind = ANY($1)
                   UNION ALL
                   SELECT co.kind, f.facet, f.value, count(*)
                   FROM co CROSS JOIN LATERAL catalog_facet_values(co.type, co.owner_ref, co.lifecycle, co.tier, co.classification, co.tags) f
                   GROUP BY 1, 2, 3)
               SELECT CASE WHEN facet = 'total' THEN 'kind' ELSE facet END AS "facet!",
                      CASE WHEN facet = 'total' THEN kind ELSE value END AS "value!", sum(n)::bigint AS "n!"
               FROM counted GROUP BY 1, 2
               UNION ALL
               SELECT 'total', '', coalesce(sum(n), 0)::bigint FROM counted WHERE facet = 'total'"#,
            &kinds as &[&str],
            owner.as_str()
        )
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .map(|r| (r.facet, r.value, r.n))
        .collect()
    } else {
        let mut b = QueryBuilder::new(
            "WITH m AS MATERIALIZED (SELECT e.kind, e.type, e.owner_ref, e.lifecycle, e.tier, e.classification, e.tags FROM",
        );
        push_from(&mut b, q);
        b.push(" WHERE true");
        push_filters(&mut b, q);
        // GROUPING sets a bit for each column *not* grouped in a row: 0b011111 = kind alone
        b.push(
            ") SELECT CASE GROUPING(kind, type, owner_ref, lifecycle, tier, classification) \
                  WHEN 31 THEN 'kind' WHEN 47 THEN 'type' WHEN 55 THEN 'owner' WHEN 59 THEN 'lifecycle' \
                  WHEN 61 THEN 'tier' WHEN 62 THEN 'classification' ELSE 'total' END, \
                  coalesce(kind, type, owner_ref, lifecycle, tier::text, classification, ''), count(*) \
             FROM m GROUP BY GROUPING SETS ((kind), (type), (owner_ref), (lifecycle), (tier), (classification), ()) \
             UNION ALL \
             (SELECT 'tag', tag, count(*) FROM m CROSS JOIN LATERAL unnest(m.tags) AS tag GROUP BY tag ORDER BY 3 DESC, 2 LIMIT 15)",
        );
        b.build_query_as().fetch_all(&mut *conn).await?
    };
    let mut f = Facets::default();
    for (facet, value, count) in rows {
        let list = match facet.as_str() {
            "total" => {
                f.total = count;
                continue;
            }
            _ if value.is_empty() => continue, // the group of entities without a value
            "kind" => &mut f.kind,
            "type" => &mut f.entity_type,
            "owner" => &mut f.owner,
            "lifecycle" => &mut f.lifecycle,
            "tier" => &mut f.tier,
            "classification" => &mut f.classification,
            "tag" => &mut f.tag,
            _ => continue,
        };
        list.push(FacetCount { value, count, label: None });
    }
    for list in [&mut f.kind, &mut f.entity_type, &mut f.owner, &mut f.lifecycle, &mut f.classification, &mut f.tag] {
        list.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
    }
    f.owner.truncate(15);
    f.tag.truncate(15);
    f.tier.sort_by(|a, b| a.value.cmp(&b.value));
    Ok(f)
}

/// The names of the teams among `slugs` (owners as the facets count them).
#[tracing::instrument(level = "debug", name = "catalog.repo.team_names", skip_all)]
pub async fn team_names(conn: &mut PgConnection, slugs: &[String]) -> Result<Vec<(String, String)>, sqlx::Error> {
    let rows = sqlx::query!("SELECT slug, name FROM teams WHERE slug = ANY($1)", slugs).fetch_all(conn).await?;
    Ok(rows.into_iter().map(|r| (r.slug, r.name)).collect())
}

/// The best matches for `text`, ranked: candidates from the full-text index (best ranked
/// first), from substring matches on name or title and from trigram similarity of the name
/// (typos), each branch bounded and index-driven; then full-text rank plus name and title
/// similarity orders the few candidates. For the search box's results as you type.
#[tracing::instrument(level = "debug", name = "catalog.repo.quick_search", skip_all)]
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

/// The eight most recently changed components (the limit written in: a bound limit is planned
/// anew on every execution).
#[tracing::instrument(level = "debug", name = "catalog.repo.recently_changed", skip_all)]
pub async fn recently_changed(db: impl PgExecutor<'_>) -> Result<Vec<EntitySummary>, sqlx::Error> {
    let rows = sqlx::query_as!(
        SummaryRow,
        r#"SELECT e.id AS "id: EntityId", e.kind, e.namespace, e.name, e.title, e.description, e.type AS entity_type,
                  e.owner_ref AS owner_slug, coalesce(t.name, ou.name, e.owner_ref) AS "owner_name!", e.tier, e.lifecycle, e.language, e.tags,
                  e.classification, e.status, e.updated_at
           FROM entities e LEFT JOIN teams t ON t.id = e.owner_team_id LEFT JOIN users ou ON ou.id = e.owner_user_id
           WHERE e.kind = 'component'
           ORDER BY e.updated_at DESC, e.id DESC
           LIMIT 8"#
    )
    .fetch_all(db)
    .await?;
    rows.into_iter().map(SummaryRow::into_summary).collect()
}

/// The first hundred entities a team owns, primarily or as a co-owner, by kind and name:
/// its own in index order merged with those it co-owns, so the cost is a page's, not the team's.
#[tracing::instrument(level = "debug", name = "catalog.repo.owned_by", skip_all)]
pub async fn owned_by(db: impl PgExecutor<'_>, team: Uuid, slug: &str) -> Result<Vec<EntitySummary>, sqlx::Error> {
    let rows = sqlx::query_as!(
        SummaryRow,
        r#"SELECT e.id AS "id!: EntityId", e.kind AS "kind!", e.namespace AS "namespace!", e.name AS "name!", e.title AS "title!",
                  e.description AS "description!", e.type AS entity_type, e.owner_ref AS "owner_slug!",
                  coalesce(t.name, ou.name, e.owner_ref) AS "owner_name!", e.tier, e.lifecycle, e.language, e.tags AS "tags!",
                  e.classification AS "classification!", e.status AS "status!", e.updated_at AS "updated_at!"
           FROM ((SELECT o.* FROM entities o WHERE o.owner_ref = $2 ORDER BY o.kind, o.name, o.id LIMIT 100)
                 UNION ALL
                 (SELECT x.* FROM entity_co_owners c JOIN entities x ON x.id = c.entity_id
                  WHERE c.team_id = $1 AND x.owner_ref <> $2 ORDER BY x.kind, x.name, x.id LIMIT 100)) e
           LEFT JOIN teams t ON t.id = e.owner_team_id LEFT JOIN users ou ON ou.id = e.owner_user_id
           ORDER BY e.kind, e.name, e.id
           LIMIT 100"#,
        team,
        slug
    )
    .fetch_all(db)
    .await?;
    rows.into_iter().map(SummaryRow::into_summary).collect()
}

#[derive(sqlx::FromRow)]
struct TeamSummaryRow {
    team: String,
    #[sqlx(flatten)]
    summary: SummaryRow,
}

/// The first `per_team` components (by name) each of `teams` owns, primarily or as a
/// co-owner, in the order the teams are given: (team slug, its components). One statement;
/// each team's part is two index ranges of `per_team` rows. The limit is written into the SQL
/// (a number): bound, it cannot be costed, and Postgres planned the statement anew on every call.
#[tracing::instrument(level = "debug", name = "catalog.repo.components_of_teams", skip_all)]
pub async fn components_of_teams(db: impl PgExecutor<'_>, teams: &[(Uuid, String)], per_team: i64) -> Result<Vec<(String, EntitySummary)>, sqlx::Error> {
    let (ids, slugs): (Vec<Uuid>, Vec<String>) = teams.iter().cloned().unzip();
    let rows: Vec<TeamSummaryRow> = sqlx::query_as(&format!(
        "SELECT m.slug AS team, {SUMMARY_COLUMNS}
         FROM unnest($1::uuid[], $2::text[]) WITH ORDINALITY AS m(team_id, slug, n)
         CROSS JOIN LATERAL (
             SELECT x.* FROM ((SELECT o.* FROM entities o WHERE o.owner_ref = m.slug AND o.kind = 'component'
                               ORDER BY o.name, o.id LIMIT {per_team})
                              UNION ALL
                              (SELECT y.* FROM entity_co_owners c JOIN entities y ON y.id = c.entity_id
                               WHERE c.team_id = m.team_id AND y.owner_ref <> m.slug AND y.kind = 'component'
                               ORDER BY y.name, y.id LIMIT {per_team})) x
             ORDER BY x.name, x.id LIMIT {per_team}) e
         LEFT JOIN teams t ON t.id = e.owner_team_id LEFT JOIN users ou ON ou.id = e.owner_user_id
         ORDER BY m.n, e.name, e.id"
    ))
    .bind(&ids)
    .bind(&slugs)
    .fetch_all(db)
    .await?;
    rows.into_iter().map(|r| Ok((r.team, r.summary.into_summary()?))).collect()
}

/// How many entities a team owns, primarily (the kept counts) or as a co-owner.
#[tracing::instrument(level = "debug", name = "catalog.repo.owned_count", skip_all)]
pub async fn owned_count(db: impl PgExecutor<'_>, team: Uuid, slug: &str) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT (SELECT coalesce(sum(n), 0) FROM catalog_facet_counts WHERE facet = 'owner' AND value = $2)::bigint
                + (SELECT count(*) FROM entity_co_owners c JOIN entities x ON x.id = c.entity_id
                   WHERE c.team_id = $1 AND x.owner_ref <> $2) AS "n!""#,
        team,
        slug
    )
    .fetch_one(db)
    .await
}

/// A team by slug: its id and how it describes itself.
#[tracing::instrument(level = "debug", name = "catalog.repo.team", skip_all)]
pub async fn team(db: impl PgExecutor<'_>, slug: &str) -> Result<Option<(Uuid, DesiredTeam)>, sqlx::Error> {
    let row = sqlx::query!("SELECT id, slug, name, description FROM teams WHERE slug = $1", slug).fetch_optional(db).await?;
    Ok(row.map(|r| (r.id, DesiredTeam { slug: r.slug, name: r.name, description: r.description })))
}

pub struct ServiceCounts {
    pub services: i64,
    pub production: i64,
    pub tier_zero: i64,
}

/// Home-page counts of components, from the kept counts (not recounted).
#[tracing::instrument(level = "debug", name = "catalog.repo.service_counts", skip_all)]
pub async fn service_counts(db: impl PgExecutor<'_>) -> Result<ServiceCounts, sqlx::Error> {
    sqlx::query_as!(
        ServiceCounts,
        r#"SELECT coalesce(sum(n) FILTER (WHERE facet = 'total'), 0)::bigint AS "services!",
                  coalesce(sum(n) FILTER (WHERE facet = 'lifecycle' AND value = 'production'), 0)::bigint AS "production!",
                  coalesce(sum(n) FILTER (WHERE facet = 'tier' AND value = '0'), 0)::bigint AS "tier_zero!"
           FROM catalog_facet_counts WHERE kind = 'component'"#
    )
    .fetch_one(db)
    .await
}

/// Every team with the number of components it owns (kept counts), by name.
#[tracing::instrument(level = "debug", name = "catalog.repo.teams", skip_all)]
pub async fn teams(db: impl PgExecutor<'_>) -> Result<Vec<TeamSummary>, sqlx::Error> {
    sqlx::query_as!(
        TeamSummary,
        r#"SELECT t.slug, t.name, t.description,
                  coalesce((SELECT c.n FROM catalog_facet_counts c
                            WHERE c.kind = 'component' AND c.facet = 'owner' AND c.value = t.slug), 0) AS "services!"
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
    co_owners: Vec<String>,
    relations: serde_json::Value,
}

/// The stored state of the entities with these ids, co-owners and outgoing relations
/// included: one statement whatever the number of entities.
#[tracing::instrument(level = "debug", name = "catalog.repo.load", skip_all)]
pub async fn load(conn: &mut PgConnection, ids: &[EntityId]) -> Result<Vec<Stored>, sqlx::Error> {
    load_where(conn, ids, None).await
}

/// The stored state of the entity `r` names, when it is here: one statement.
#[tracing::instrument(level = "debug", name = "catalog.repo.load_named", skip_all)]
pub async fn load_named(conn: &mut PgConnection, r: &EntityRef) -> Result<Option<Stored>, sqlx::Error> {
    Ok(load_where(conn, &[], Some(r)).await?.pop())
}

/// The entities with these ids, or (no ids) the one `named` names: one statement, written so
/// that its generic plan is the good one (an index scan of ids), planned once per connection.
#[tracing::instrument(level = "debug", name = "catalog.repo.load_where", skip_all)]
async fn load_where(conn: &mut PgConnection, ids: &[EntityId], named: Option<&EntityRef>) -> Result<Vec<Stored>, sqlx::Error> {
    let ids: Option<Vec<Uuid>> = named.is_none().then(|| ids.iter().map(|i| i.0).collect());
    let rows = sqlx::query_as!(
        StoredRow,
        r#"SELECT e.id AS "id: EntityId", e.kind, e.namespace, e.name, e.title, e.description, e.type AS entity_type,
                  e.lifecycle, e.tier, e.owner_ref AS owner, e.language, e.repository_url, e.runbook_url,
                  e.oncall_url, e.dashboards, e.links, e.tags, e.classification, e.annotations,
                  e.definition, e.definition_url, e.status, e.version, e.created_at, e.updated_at,
                  array(SELECT t.slug FROM entity_co_owners c JOIN teams t ON t.id = c.team_id
                        WHERE c.entity_id = e.id ORDER BY t.slug) AS "co_owners!",
                  coalesce((SELECT jsonb_agg(jsonb_build_array(r.type, r.target_kind, r.target_namespace, r.target_name))
                            FROM entity_relations r WHERE r.source_id = e.id), '[]') AS "relations!"
           FROM entities e
           WHERE e.id = ANY(coalesce($1, ARRAY(SELECT x.id FROM entities x WHERE x.kind = $2 AND x.namespace = $3 AND x.name = $4)))
           ORDER BY e.kind, e.namespace, e.name"#,
        ids.as_deref(),
        named.map(|r| r.kind.as_str()),
        named.map(|r| r.namespace.as_str()),
        named.map(|r| r.name.as_str()),
    )
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter()
        .map(|r| {
            let mut owners = vec![r.owner];
            owners.extend(r.co_owners);
            let annotations: BTreeMap<String, String> = serde_json::from_value(r.annotations).map_err(|e| sqlx::Error::Decode(e.into()))?;
            let links: Vec<Link> = serde_json::from_value(r.links).map_err(|e| sqlx::Error::Decode(e.into()))?;
            let relations: Vec<(String, String, String, String)> =
                serde_json::from_value(r.relations).map_err(|e| sqlx::Error::Decode(e.into()))?;
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
                    relations: relations.into_iter().map(|(t, kind, ns, name)| (t, EntityRef::new(&kind, &ns, &name))).collect(),
                },
            })
        })
        .collect()
}

/// Ids of the entities these references name (those that exist).
#[tracing::instrument(level = "debug", name = "catalog.repo.resolve", skip_all)]
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
#[tracing::instrument(level = "debug", name = "catalog.repo.team_ids", skip_all)]
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
#[tracing::instrument(level = "debug", name = "catalog.repo.owner_id", skip_all)]
pub async fn owner_id(db: impl PgExecutor<'_>, declared: &str) -> Result<OwnerId, sqlx::Error> {
    let found = owner_ids(db, &[declared.to_owned()]).await?;
    Ok(found.get(declared).copied().unwrap_or(OwnerId::NotHere))
}

/// Resolves declared owners, all in one statement (an import's): declared → who it is here.
#[tracing::instrument(level = "debug", name = "catalog.repo.owner_ids", skip_all)]
pub async fn owner_ids(db: impl PgExecutor<'_>, declared: &[String]) -> Result<HashMap<String, OwnerId>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT d.declared AS "declared!",
                  (SELECT id FROM teams WHERE slug = d.declared) AS team,
                  (SELECT id FROM users WHERE kind = 'person' AND d.declared LIKE 'user:%' AND username = substr(d.declared, 6)
                   ORDER BY last_login_at DESC LIMIT 1) AS person
           FROM (SELECT DISTINCT unnest($1::text[]) AS declared) d"#,
        declared
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let who = match (r.team, r.person) {
                (Some(t), _) => OwnerId::Team(t),
                (None, Some(p)) => OwnerId::Person(p),
                (None, None) => OwnerId::NotHere,
            };
            (r.declared, who)
        })
        .collect())
}

/// Resolves the owners that were waiting for a team or a person of their name; how many.
#[tracing::instrument(level = "debug", name = "catalog.repo.resolve_waiting_owners", skip_all)]
pub async fn resolve_waiting_owners(conn: &mut PgConnection) -> Result<u64, sqlx::Error> {
    let done = sqlx::query!(
        r#"UPDATE entities e SET owner_team_id = o.team, owner_user_id = o.person
           FROM (SELECT w.id,
                        (SELECT t.id FROM teams t WHERE t.slug = w.owner_ref) AS team,
                        (SELECT u.id FROM users u WHERE u.kind = 'person' AND w.owner_ref LIKE 'user:%'
                           AND u.username = substr(w.owner_ref, 6) ORDER BY u.last_login_at DESC LIMIT 1) AS person
                 FROM entities w WHERE w.owner_team_id IS NULL AND w.owner_user_id IS NULL) AS o
           WHERE e.id = o.id AND (o.team IS NOT NULL OR o.person IS NOT NULL)"#
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// Inserts or replaces an entity's own fields; returns its id. Relations and co-owners are
/// written by `set_links` once every entity of a batch has an id.
#[tracing::instrument(level = "debug", name = "catalog.repo.upsert", skip_all)]
pub async fn upsert(conn: &mut PgConnection, d: &Desired, owner: OwnerId, status: &str) -> Result<EntityId, sqlx::Error> {
    let ids = upsert_many(conn, &[(d, owner)], status).await?;
    ids.get(&d.entity).copied().ok_or_else(|| sqlx::Error::RowNotFound)
}

/// Inserts or replaces the own fields of many entities (each named once) in one statement;
/// returns their ids.
#[tracing::instrument(level = "debug", name = "catalog.repo.upsert_many", skip_all)]
pub async fn upsert_many(conn: &mut PgConnection, batch: &[(&Desired, OwnerId)], status: &str) -> Result<HashMap<EntityRef, EntityId>, sqlx::Error> {
    let rows: Vec<serde_json::Value> = batch
        .iter()
        .map(|(d, owner)| {
            serde_json::json!({
                "kind": d.entity.kind, "namespace": d.entity.namespace, "name": d.entity.name,
                "title": d.title, "description": d.description, "type": d.entity_type,
                "lifecycle": d.lifecycle.as_ref().map(Lifecycle::as_str), "tier": d.tier.map(|t| t.get()),
                "owner_team_id": owner.team(), "owner_user_id": owner.person(),
                "owner_ref": d.owners.first().map(String::as_str).unwrap_or_default(),
                "language": d.language, "repository_url": d.repository_url, "runbook_url": d.runbook_url,
                "oncall_url": d.oncall_url, "dashboards": d.dashboards, "links": d.links, "tags": d.tags,
                "classification": d.classification.as_str(), "annotations": d.annotations,
                "definition": d.definition, "definition_url": d.definition_url,
            })
        })
        .collect();
    let rows = sqlx::query!(
        r#"INSERT INTO entities (kind, namespace, name, title, description, type, lifecycle, tier, owner_team_id,
                                 language, repository_url, runbook_url, oncall_url, dashboards, links, tags,
                                 classification, annotations, definition, status, definition_url,
                                 owner_ref, owner_user_id)
           SELECT kind, namespace, name, title, description, type, lifecycle, tier, owner_team_id,
                  language, repository_url, runbook_url, oncall_url, coalesce(dashboards, '{}'), links, coalesce(tags, '{}'),
                  classification, annotations, definition, $2, definition_url, owner_ref, owner_user_id
           FROM jsonb_to_recordset($1) AS x(kind text, namespace text, name text, title text, description text, type text,
                lifecycle text, tier smallint, owner_team_id uuid, language text, repository_url text, runbook_url text,
                oncall_url text, dashboards text[], links jsonb, tags text[], classification text, annotations jsonb,
                definition text, definition_url text, owner_ref text, owner_user_id uuid)
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
           RETURNING id AS "id: EntityId", kind, namespace, name"#,
        serde_json::Value::Array(rows),
        status
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows.into_iter().map(|r| (EntityRef::new(&r.kind, &r.namespace, &r.name), r.id)).collect())
}

/// An entity's links as written: its co-owning teams and its outgoing relations (type, target
/// as declared, the target's id when it is in the catalog).
pub struct Links {
    pub id: EntityId,
    pub co_owners: Vec<Uuid>,
    pub relations: Vec<(String, EntityRef, Option<EntityId>)>,
}

/// Replaces the co-owners and outgoing relations of many entities: four statements whatever
/// their number.
#[tracing::instrument(level = "debug", name = "catalog.repo.set_links", skip_all)]
pub async fn set_links(conn: &mut PgConnection, batch: &[Links]) -> Result<(), sqlx::Error> {
    let ids: Vec<Uuid> = batch.iter().map(|l| l.id.0).collect();
    let (co_entities, co_teams): (Vec<Uuid>, Vec<Uuid>) = batch.iter().flat_map(|l| l.co_owners.iter().map(|t| (l.id.0, *t))).unzip();
    sqlx::query!("DELETE FROM entity_co_owners WHERE entity_id = ANY($1)", &ids).execute(&mut *conn).await?;
    sqlx::query!(
        "INSERT INTO entity_co_owners (entity_id, team_id) SELECT * FROM UNNEST($1::uuid[], $2::uuid[]) ON CONFLICT DO NOTHING",
        &co_entities,
        &co_teams
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!("DELETE FROM entity_relations WHERE source_id = ANY($1)", &ids).execute(&mut *conn).await?;
    let relations = batch.iter().flat_map(|l| l.relations.iter().map(move |r| (l.id, r)));
    let (mut sources, mut types, mut kinds, mut namespaces, mut names, mut targets) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::<Option<Uuid>>::new());
    for (source, (t, r, target)) in relations {
        sources.push(source.0);
        types.push(t.clone());
        kinds.push(r.kind.clone());
        namespaces.push(r.namespace.clone());
        names.push(r.name.clone());
        targets.push(target.map(|i| i.0));
    }
    sqlx::query!(
        "INSERT INTO entity_relations (source_id, type, target_kind, target_namespace, target_name, target_id)
         SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::uuid[])
         ON CONFLICT DO NOTHING",
        &sources,
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

#[tracing::instrument(level = "debug", name = "catalog.repo.set_status", skip_all)]
pub async fn set_status(conn: &mut PgConnection, id: EntityId, status: &str) -> Result<(), sqlx::Error> {
    sqlx::query!("UPDATE entities SET status = $2, updated_at = now(), version = version + 1 WHERE id = $1", id.0, status)
        .execute(conn)
        .await?;
    Ok(())
}

/// Resolves the relations that were waiting for these entities (declared before they arrived),
/// in one statement.
#[tracing::instrument(level = "debug", name = "catalog.repo.resolve_waiting", skip_all)]
pub async fn resolve_waiting(conn: &mut PgConnection, arrived: &[(EntityId, &EntityRef)]) -> Result<u64, sqlx::Error> {
    let ids: Vec<Uuid> = arrived.iter().map(|(id, _)| id.0).collect();
    let kinds: Vec<&str> = arrived.iter().map(|(_, r)| r.kind.as_str()).collect();
    let namespaces: Vec<&str> = arrived.iter().map(|(_, r)| r.namespace.as_str()).collect();
    let names: Vec<&str> = arrived.iter().map(|(_, r)| r.name.as_str()).collect();
    let done = sqlx::query!(
        "UPDATE entity_relations r SET target_id = a.id
         FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::text[]) AS a(id, kind, namespace, name)
         WHERE r.target_id IS NULL AND r.target_kind = a.kind AND r.target_namespace = a.namespace
           AND r.target_name = a.name AND r.source_id <> a.id",
        &ids,
        &kinds as &[&str],
        &namespaces as &[&str],
        &names as &[&str]
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// References kept as declared whose target is not here: relations, then owners; at most `limit`.
#[tracing::instrument(level = "debug", name = "catalog.repo.unresolved", skip_all)]
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
#[tracing::instrument(level = "debug", name = "catalog.repo.lock", skip_all)]
pub async fn lock(conn: &mut PgConnection, id: EntityId) -> Result<Option<i32>, sqlx::Error> {
    sqlx::query_scalar!("SELECT version FROM entities WHERE id = $1 FOR UPDATE", id.0).fetch_optional(conn).await
}

#[tracing::instrument(level = "debug", name = "catalog.repo.delete", skip_all)]
pub async fn delete(conn: &mut PgConnection, id: EntityId) -> Result<(), sqlx::Error> {
    sqlx::query!("DELETE FROM entities WHERE id = $1", id.0).execute(conn).await?;
    Ok(())
}

/// An entity's relations both ways (outgoing, incoming), each with the title and lifecycle of
/// the entity at the other end, by relation then name: one statement.
#[tracing::instrument(level = "debug", name = "catalog.repo.relations", skip_all)]
pub async fn relations(db: impl PgExecutor<'_>, id: EntityId) -> Result<(Vec<Related>, Vec<Related>), sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT false AS "incoming!", r.type AS "type!", r.target_kind AS "kind!", r.target_namespace AS "namespace!",
                  r.target_name AS "name!", o.title AS "title?", o.lifecycle AS "lifecycle?"
           FROM entity_relations r LEFT JOIN entities o ON o.id = r.target_id
           WHERE r.source_id = $1
           UNION ALL
           SELECT true, r.type, o.kind, o.namespace, o.name, o.title, o.lifecycle
           FROM entity_relations r JOIN entities o ON o.id = r.source_id
           WHERE r.target_id = $1
           ORDER BY 1, 2, 5"#,
        id.0,
    )
    .fetch_all(db)
    .await?;
    let (mut outgoing, mut incoming) = (Vec::new(), Vec::new());
    for r in rows {
        let related = Related {
            relation: r.r#type,
            entity: EntityRef::new(&r.kind, &r.namespace, &r.name),
            in_catalog: r.title.is_some(),
            title: r.title.unwrap_or_else(|| r.name.clone()),
            lifecycle: r.lifecycle.map(Lifecycle::from),
        };
        if r.incoming { incoming.push(related) } else { outgoing.push(related) }
    }
    Ok((outgoing, incoming))
}

/// What the entities with these ids depend on that is deprecated: (entity, dependency).
#[tracing::instrument(level = "debug", name = "catalog.repo.deprecated_dependencies", skip_all)]
pub async fn deprecated_dependencies(db: impl PgExecutor<'_>, ids: &[EntityId]) -> Result<Vec<(EntityId, EntityRef)>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT r.source_id AS "source_id: EntityId", t.kind, t.namespace, t.name
           FROM entity_relations r JOIN entities t ON t.id = r.target_id
           WHERE r.source_id = ANY($1) AND r.type = 'depends_on' AND t.lifecycle = 'deprecated'
           ORDER BY t.name"#,
        ids as _
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.source_id, EntityRef::new(&r.kind, &r.namespace, &r.name))).collect())
}

/// A declared owner as it is here: who, the name to show, and (a team's) its people.
pub struct OwnerHere {
    pub id: OwnerId,
    pub name: String,
    pub members: Vec<OwnerMember>,
}

/// Resolves declared owners with their names and their teams' members: one statement.
#[tracing::instrument(level = "debug", name = "catalog.repo.owners_here", skip_all)]
pub async fn owners_here(db: impl PgExecutor<'_>, declared: &[String]) -> Result<HashMap<String, OwnerHere>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT d.declared AS "declared!", t.id AS "team?", p.id AS "person?", coalesce(t.name, p.name, d.declared) AS "name!",
                  coalesce((SELECT jsonb_agg(jsonb_build_object('username', u.username, 'name', u.name, 'lead', m.role = 'lead')
                                             ORDER BY m.role DESC, u.name)
                            FROM team_members m JOIN users u ON u.id = m.user_id WHERE m.team_id = t.id), '[]') AS "members!"
           FROM (SELECT DISTINCT unnest($1::text[]) AS declared) d
           LEFT JOIN teams t ON t.slug = d.declared
           LEFT JOIN LATERAL (SELECT u.id, u.name FROM users u
                              WHERE t.id IS NULL AND u.kind = 'person' AND d.declared LIKE 'user:%' AND u.username = substr(d.declared, 6)
                              ORDER BY u.last_login_at DESC LIMIT 1) p ON true"#,
        declared
    )
    .fetch_all(db)
    .await?;
    rows.into_iter()
        .map(|r| {
            let id = match (r.team, r.person) {
                (Some(t), _) => OwnerId::Team(t),
                (None, Some(p)) => OwnerId::Person(p),
                (None, None) => OwnerId::NotHere,
            };
            let members = serde_json::from_value(r.members).map_err(|e| sqlx::Error::Decode(e.into()))?;
            Ok((r.declared, OwnerHere { id, name: r.name, members }))
        })
        .collect()
}

/// The id of the entity a reference names.
#[tracing::instrument(level = "debug", name = "catalog.repo.find", skip_all)]
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

/// Inserts or renames a team from a Group descriptor; true when something changed.
#[tracing::instrument(level = "debug", name = "catalog.repo.upsert_team", skip_all)]
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
#[tracing::instrument(level = "debug", name = "catalog.repo.teams_desired", skip_all)]
pub async fn teams_desired(db: impl PgExecutor<'_>) -> Result<Vec<DesiredTeam>, sqlx::Error> {
    sqlx::query_as!(DesiredTeam, "SELECT slug, name, description FROM teams ORDER BY slug").fetch_all(db).await
}

/// All entity ids, in a stable order (export of the whole catalog).
#[tracing::instrument(level = "debug", name = "catalog.repo.all_ids", skip_all)]
pub async fn all_ids(db: impl PgExecutor<'_>) -> Result<Vec<EntityId>, sqlx::Error> {
    sqlx::query_scalar!(r#"SELECT id AS "id: EntityId" FROM entities WHERE status = 'active' ORDER BY kind, namespace, name"#).fetch_all(db).await
}

/// Edges around a set of entities: (source, type, target) in both directions.
#[tracing::instrument(level = "debug", name = "catalog.repo.edges_touching", skip_all)]
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
#[tracing::instrument(level = "debug", name = "catalog.repo.labels", skip_all)]
pub async fn labels(db: impl PgExecutor<'_>, ids: &[EntityId]) -> Result<HashMap<EntityId, (EntityRef, String)>, sqlx::Error> {
    let rows = sqlx::query!(r#"SELECT id AS "id: EntityId", kind, namespace, name, title FROM entities WHERE id = ANY($1)"#, ids as _).fetch_all(db).await?;
    Ok(rows.into_iter().map(|r| (r.id, (EntityRef::new(&r.kind, &r.namespace, &r.name), r.title))).collect())
}

impl Stored {
    /// The entity's list row, with its owner's name as shown.
    pub fn summary(&self, owner_name: String) -> Result<EntitySummary, sqlx::Error> {
        let d = &self.desired;
        Ok(EntitySummary {
            id: self.id,
            kind: decode(Kind::parse(&d.entity.kind))?,
            namespace: d.entity.namespace.clone(),
            name: d.entity.name.clone(),
            title: d.title.clone(),
            description: d.description.clone(),
            entity_type: d.entity_type.clone(),
            owner_slug: d.owners.first().cloned().unwrap_or_default(),
            owner_name,
            tier: d.tier,
            lifecycle: d.lifecycle.clone(),
            language: d.language.clone(),
            tags: d.tags.clone(),
            classification: d.classification,
            pending: self.status == "pending",
            updated_at: self.updated_at,
        })
    }
}

/// Records an import job, running.
#[tracing::instrument(level = "debug", name = "catalog.repo.insert_job", skip_all)]
pub async fn insert_job(db: impl PgExecutor<'_>, id: Uuid, requested_by: Uuid, step: &str) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO catalog_import_jobs (id, requested_by, state, step) VALUES ($1, $2, 'running', $3)",
        id,
        requested_by,
        step
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Records how far a running import job is.
#[tracing::instrument(level = "debug", name = "catalog.repo.job_progress", skip_all)]
pub async fn job_progress(db: impl PgExecutor<'_>, id: Uuid, step: &str, entities: i32, written: i32) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE catalog_import_jobs SET step = $2, entities = $3, written = $4, updated_at = now() WHERE id = $1 AND state = 'running'",
        id,
        step,
        entities,
        written
    )
    .execute(db)
    .await?;
    Ok(())
}

/// The channel on which an import job's id is announced when it ends.
pub const JOB_ENDED: &str = "catalog_import_job_ended";

/// Ends an import job: done with its report, or failed with why; announces its id on
/// [`JOB_ENDED`] (when the row commits).
#[tracing::instrument(level = "debug", name = "catalog.repo.finish_job", skip_all)]
pub async fn finish_job(db: impl PgExecutor<'_>, id: Uuid, outcome: Result<&ImportReport, &str>) -> Result<(), sqlx::Error> {
    let (state, step, report, error) = match outcome {
        Ok(r) => ("done", "finished", Some(serde_json::to_value(r).map_err(|e| sqlx::Error::Encode(e.into()))?), None),
        Err(e) => ("failed", "failed: nothing was written", None, Some(e)),
    };
    sqlx::query!(
        "WITH ended AS (
             UPDATE catalog_import_jobs SET state = $2, step = $3, report = $4, error = $5, updated_at = now(), finished_at = now()
             WHERE id = $1 AND state = 'running' RETURNING id)
         SELECT pg_notify($6, id::text) FROM ended",
        id,
        state,
        step,
        report,
        error,
        JOB_ENDED
    )
    .execute(db)
    .await?;
    Ok(())
}

/// A running job reports progress at least this often (seconds); one silent for longer stopped
/// with the server that ran it, and its transaction with it.
pub const JOB_SILENT_AFTER_SECS: f64 = 300.0;

/// An import job and who asked for it.
#[tracing::instrument(level = "debug", name = "catalog.repo.job", skip_all)]
pub async fn job(db: impl PgExecutor<'_>, id: Uuid) -> Result<Option<(ImportJob, Uuid)>, sqlx::Error> {
    let Some(r) = sqlx::query!(
        r#"SELECT id, requested_by, state, step, entities, written, report, error, created_at, finished_at,
                  updated_at < now() - make_interval(secs => $2) AS "silent!"
           FROM catalog_import_jobs WHERE id = $1"#,
        id,
        JOB_SILENT_AFTER_SECS
    )
    .fetch_optional(db)
    .await?
    else {
        return Ok(None);
    };
    let (state, step, written, error) = match r.state.as_str() {
        "running" if r.silent => (
            JobState::Failed,
            "failed: nothing was written".to_owned(),
            0,
            Some("the import stopped reporting progress (the server running it stopped); nothing of it was written: send it again".to_owned()),
        ),
        "running" => (JobState::Running, r.step, r.written, r.error),
        "done" => (JobState::Done, r.step, r.written, r.error),
        "failed" => (JobState::Failed, r.step, r.written, r.error),
        other => return Err(sqlx::Error::Decode(format!("unknown import job state {other:?}").into())),
    };
    let report: Option<ImportReport> = r.report.map(serde_json::from_value).transpose().map_err(|e| sqlx::Error::Decode(e.into()))?;
    let job = ImportJob { id: r.id, state, step, entities: r.entities, written, created_at: r.created_at, finished_at: r.finished_at, report, error };
    Ok(Some((job, r.requested_by)))
}
