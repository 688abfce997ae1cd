//! Systems and integrations declared in YAML, as the catalog's importer brings them: planned
//! against what is stored (created, updated, unchanged, or refused with the reasons), then
//! written inside the import's transaction through the registry, each with its audit row. A
//! declared integration that needs approval waits for it as one registered by its form does.
use super::registry::{change_in, register_in, write_system, By};
use super::IntegrationError;
use crate::catalog::types::{ImportItem, Outcome};
use crate::context::RequestMeta;
use crate::integrations::declared::{changed_fields, Declaration};
use crate::integrations::repo;
use crate::integrations::types::IntegrationDraft;
use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use std::collections::{BTreeSet, HashMap};

/// What the rest of the import brings that a declaration may name.
pub struct Batch<'a> {
    /// Teams written by the same import.
    pub teams: &'a BTreeSet<String>,
    /// Components written by the same import.
    pub components: &'a BTreeSet<String>,
}

/// The declarations to write, in order (systems before the integrations that name them).
#[derive(Debug, Default)]
pub struct DeclaredPlan {
    writes: Vec<Write>,
}

#[derive(Debug)]
struct Write {
    file: String,
    declaration: Declaration,
    /// There is one of that name already: change it.
    update: bool,
}

impl DeclaredPlan {
    pub fn is_empty(&self) -> bool {
        self.writes.is_empty()
    }
}

/// Success targets compare to a millionth (a stored `0.995` reads back as `99.5` %).
fn normalised(d: Declaration) -> Declaration {
    match d {
        Declaration::Integration(mut i) => {
            i.levels.success_target = (i.levels.success_target * 1e6).round() / 1e6;
            i.reason.clear();
            Declaration::Integration(i)
        }
        other => other,
    }
}

/// Compares declarations with what is stored and checks what they name (teams, systems,
/// components) is stored or comes in the same import.
#[tracing::instrument(level = "debug", name = "integrations.service.plan_declared", skip_all, fields(declarations = declared.len()), err)]
pub async fn plan_declared(conn: &mut PgConnection, declared: Vec<(String, Declaration)>, batch: Batch<'_>) -> Result<(Vec<ImportItem>, DeclaredPlan), IntegrationError> {
    let names = |system: bool| -> Vec<String> {
        declared
            .iter()
            .filter_map(|(_, d)| match (d, system) {
                (Declaration::System(s), true) => Some(s.name.clone()),
                (Declaration::Integration(i), false) => Some(i.name.clone()),
                _ => None,
            })
            .collect()
    };
    let stored_systems: HashMap<String, Declaration> = repo::system_forms(&mut *conn, &names(true))
        .await?
        .into_iter()
        .filter_map(|(f, _)| f.parse().ok().map(|d| (f.name, Declaration::System(d))))
        .collect();
    let stored_integrations: HashMap<String, (Declaration, String)> = repo::integration_forms(&mut *conn, &names(false))
        .await?
        .into_iter()
        .filter_map(|(f, status)| f.parse().ok().map(|d| (f.name, (normalised(Declaration::Integration(Box::new(d))), status))))
        .collect();
    // what the declarations name
    let mut teams: Vec<String> = Vec::new();
    let mut systems: Vec<String> = Vec::new();
    let mut components: Vec<String> = Vec::new();
    let mut partners: Vec<String> = Vec::new();
    for (_, d) in &declared {
        match d {
            Declaration::System(s) => {
                teams.push(s.owner.clone());
                components.extend(s.component.clone());
                partners.extend(s.hosted_by.iter().chain(&s.reached_via).cloned());
            }
            Declaration::Integration(i) => {
                teams.push(i.owner.clone());
                teams.extend(i.co_owners.iter().cloned());
                systems.extend(i.sources.iter().chain(&i.targets).cloned());
            }
        }
    }
    let teams_here: BTreeSet<String> = repo::team_ids(&mut *conn, &teams).await?.into_iter().map(|(slug, _)| slug).collect();
    let systems_here: BTreeSet<String> = repo::system_ids(&mut *conn, &systems).await?.into_iter().map(|(name, _, _)| name).collect();
    let components_here: BTreeSet<String> = repo::component_names(&mut *conn, &components).await?.into_iter().collect();
    let partners_here: BTreeSet<String> = repo::partner_ids(&mut *conn, &partners).await?.into_iter().map(|(name, _)| name).collect();
    let team_known = |t: &String| teams_here.contains(t) || batch.teams.contains(t);

    let mut items = Vec::new();
    let mut writes = Vec::new();
    let mut systems_written: BTreeSet<String> = BTreeSet::new();
    // systems first: integrations may name the ones this import brings
    let (system_decls, integration_decls): (Vec<_>, Vec<_>) = declared.into_iter().partition(|(_, d)| matches!(d, Declaration::System(_)));
    for (file, d) in system_decls.into_iter().chain(integration_decls) {
        let label = d.label();
        let mut problems = Vec::new();
        let stored = match &d {
            Declaration::System(s) => {
                if !team_known(&s.owner) {
                    problems.push(format!("spec.owner: no team named \"{}\" here, nor in the files", s.owner));
                }
                if let Some(c) = s.component.as_ref().filter(|c| !components_here.contains(*c) && !batch.components.contains(*c)) {
                    problems.push(format!("spec.component: no component named \"{c}\" in the catalog, nor in the files"));
                }
                for (place, p) in [("spec.hostedBy", &s.hosted_by), ("spec.reachedVia", &s.reached_via)] {
                    if let Some(p) = p.as_ref().filter(|p| !partners_here.contains(*p)) {
                        problems.push(format!("{place}: no partner named \"{p}\" in the topology"));
                    }
                }
                stored_systems.get(&s.name)
            }
            Declaration::Integration(i) => {
                for t in std::iter::once(&i.owner).chain(&i.co_owners).filter(|t| !team_known(t)) {
                    let place = if *t == i.owner { "spec.owner" } else { "spec.coOwners" };
                    problems.push(format!("{place}: no team named \"{t}\" here, nor in the files"));
                }
                for (place, names) in [("spec.sources", &i.sources), ("spec.targets", &i.targets)] {
                    for n in names.iter().filter(|n| !systems_here.contains(*n) && !systems_written.contains(*n)) {
                        problems.push(format!("{place}: no system named \"{n}\" here, nor accepted in the files"));
                    }
                }
                match stored_integrations.get(&i.name) {
                    Some((_, status)) if status == "pending" => {
                        problems.push("this integration waits for approval of its registration; import it once that is decided".into());
                        None
                    }
                    Some((stored, _)) => Some(stored),
                    None => None,
                }
            }
        };
        if !problems.is_empty() {
            items.push(ImportItem { entity: label, file, outcome: Outcome::Refused, messages: problems });
            continue;
        }
        if let Declaration::System(s) = &d {
            systems_written.insert(s.name.clone());
        }
        let d = normalised(d);
        match stored {
            None => {
                items.push(ImportItem { entity: label, file: file.clone(), outcome: Outcome::Created, messages: vec![] });
                writes.push(Write { file, declaration: d, update: false });
            }
            Some(old) => {
                let changed = changed_fields(old, &d);
                if changed.is_empty() {
                    items.push(ImportItem { entity: label, file, outcome: Outcome::Unchanged, messages: vec![] });
                } else {
                    items.push(ImportItem { entity: label, file: file.clone(), outcome: Outcome::Updated, messages: vec![format!("changed: {}", changed.join(", "))] });
                    writes.push(Write { file, declaration: d, update: true });
                }
            }
        }
    }
    Ok((items, DeclaredPlan { writes }))
}

/// Writes a plan inside the import's transaction as `by`; answers, per entity, what more the
/// report should say (an approval it waits for). A declaration refused now (its job taken by
/// another integration, say) fails the import with the entity named.
#[tracing::instrument(level = "debug", name = "integrations.service.apply_declared", skip_all, fields(writes = plan.writes.len()), err)]
pub async fn apply_declared(conn: &mut PgConnection, by: By<'_>, plan: &DeclaredPlan, meta: &RequestMeta, now: DateTime<Utc>) -> Result<Vec<(String, String)>, IntegrationError> {
    let mut notes = Vec::new();
    for w in &plan.writes {
        let label = w.declaration.label();
        let named = |e: IntegrationError| match e {
            IntegrationError::Refused(r) => IntegrationError::Refused(crate::error::Refusal::invalid("files", format!("{label} ({}): {r}", w.file))),
            other => other,
        };
        match &w.declaration {
            Declaration::System(s) => {
                write_system(&mut *conn, by, s, w.update, meta).await.map_err(named)?;
            }
            Declaration::Integration(i) => {
                let draft = IntegrationDraft { reason: format!("declared in {}", w.file), ..(**i).clone() };
                let approval = if w.update {
                    change_in(&mut *conn, by, &draft, None, meta, now).await.map_err(named)?
                } else {
                    register_in(&mut *conn, by, &draft, meta, now).await.map_err(named)?.approval
                };
                if let Some(id) = approval {
                    notes.push((label.clone(), format!("waits for approval (request {id}) before it takes effect")));
                }
            }
        }
    }
    Ok(notes)
}
