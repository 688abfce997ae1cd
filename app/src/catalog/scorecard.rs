//! Scorecards: rules evaluated on an entity's data. Bronze rules are the basics, silver the
//! operational ones, gold the hardening; a level is reached when it and every level below pass.
use super::backstage::Desired;
use super::types::{Check, Level, Lifecycle, Scorecard};

/// What the rules need beyond the entity itself.
pub struct Facts<'a> {
    pub entity: &'a Desired,
    /// People in the owning teams (all owners together).
    pub owner_members: usize,
    /// Names (`kind:ns/name`) of what it depends on that is deprecated.
    pub deprecated_dependencies: Vec<String>,
}

fn check(rule: &str, level: Level, passed: bool, detail: impl Into<String>) -> Check {
    Check { rule: rule.into(), level, passed, detail: detail.into(), applies: true }
}

/// A rule that does not apply to this entity, and why.
fn not_applicable(rule: &str, level: Level, why: &str) -> Check {
    Check { rule: rule.into(), level, passed: false, detail: format!("does not apply: {why}"), applies: false }
}

/// Evaluates the rules for one component (other kinds get the ownership rules only).
pub fn evaluate(f: &Facts<'_>) -> Scorecard {
    let d = f.entity;
    let production = d.lifecycle == Some(Lifecycle::Production);
    let critical = d.tier.is_some_and(|t| t.get() <= 1);
    let mut checks = vec![
        match d.owners.first() {
            // Backstage allows a person to own an entity; on-call and approvals need a team
            Some(person) if person.starts_with("user:") => {
                check("Has an owner", Level::Bronze, false, format!("owned by a person ({person}): give it to a team"))
            }
            _ => check("Has an owner", Level::Bronze, !d.owners.is_empty(), format!("owned by {}", d.owners.join(", "))),
        },
        check(
            "Has a description",
            Level::Bronze,
            !d.description.is_empty(),
            if d.description.is_empty() { "add a sentence saying what it does" } else { "described" },
        ),
    ];
    if d.entity.kind == "component" {
        checks.extend([
            check(
                "Has a runbook",
                Level::Silver,
                d.runbook_url.is_some(),
                if d.runbook_url.is_some() { "runbook linked" } else { "link the runbook on-call staff follow" },
            ),
            check(
                "Has on-call",
                Level::Silver,
                d.oncall_url.is_some(),
                if d.oncall_url.is_some() { "on-call rota linked" } else { "link the on-call rota" },
            ),
            if production {
                check(
                    "Production services have at least two people in their owning teams",
                    Level::Silver,
                    f.owner_members >= 2,
                    format!("{} people in the owning teams", f.owner_members),
                )
            } else {
                not_applicable("Production services have at least two people in their owning teams", Level::Silver, "not in production")
            },
            if critical {
                check("Tier 0–1 services have a dashboard", Level::Gold, !d.dashboards.is_empty(), format!("{} dashboard(s)", d.dashboards.len()))
            } else {
                not_applicable("Tier 0–1 services have a dashboard", Level::Gold, "not tier 0 or 1")
            },
            check(
                "No dependency on a deprecated service",
                Level::Gold,
                f.deprecated_dependencies.is_empty(),
                if f.deprecated_dependencies.is_empty() {
                    "none".to_owned()
                } else {
                    format!("depends on {}", f.deprecated_dependencies.join(", "))
                },
            ),
            check(
                "Has a repository",
                Level::Gold,
                d.repository_url.is_some(),
                if d.repository_url.is_some() { "source linked" } else { "link the source repository" },
            ),
        ]);
    }
    // a level is reached when every rule of it that applies is met (a rule that does not apply
    // is not counted as met: it is not counted at all)
    let passes = |level: Level| checks.iter().filter(|c| c.level == level && c.applies).all(|c| c.passed);
    let level = [Level::Bronze, Level::Silver, Level::Gold].into_iter().take_while(|l| passes(*l)).last();
    Scorecard { level, checks }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::types::{Classification, EntityRef, Tier};

    fn entity() -> Desired {
        Desired {
            entity: EntityRef::new("component", "default", "x"),
            title: "X".into(),
            description: "does x".into(),
            entity_type: Some("service".into()),
            lifecycle: Some(Lifecycle::Production),
            tier: Tier::parse(0).ok(),
            owners: vec!["payments".into()],
            language: None,
            repository_url: Some("https://git.example.com/x".into()),
            runbook_url: Some("https://runbooks.example.com/x".into()),
            oncall_url: Some("https://oncall.example.com/x".into()),
            dashboards: vec!["https://grafana.example.com/d/x".into()],
            links: vec![],
            tags: vec![],
            classification: Classification::Internal,
            annotations: Default::default(),
            definition: None,
            definition_url: None,
            relations: Default::default(),
        }
    }

    #[test]
    fn levels_need_every_rule_of_their_level_and_below() {
        let e = entity();
        let facts = Facts { entity: &e, owner_members: 3, deprecated_dependencies: vec![] };
        assert_eq!(evaluate(&facts).level, Some(Level::Gold));
        let facts = Facts { entity: &e, owner_members: 3, deprecated_dependencies: vec!["component:default/old".into()] };
        assert_eq!(evaluate(&facts).level, Some(Level::Silver));
        let facts = Facts { entity: &e, owner_members: 1, deprecated_dependencies: vec![] };
        assert_eq!(evaluate(&facts).level, Some(Level::Bronze), "one person cannot run a production service");
        let bare = Desired { description: String::new(), ..entity() };
        assert_eq!(evaluate(&Facts { entity: &bare, owner_members: 3, deprecated_dependencies: vec![] }).level, None);
    }

    #[test]
    fn a_rule_that_does_not_apply_is_neither_passed_nor_failed() {
        let e = Desired { lifecycle: Some(Lifecycle::Experimental), tier: Tier::parse(3).ok(), ..entity() };
        let card = evaluate(&Facts { entity: &e, owner_members: 1, deprecated_dependencies: vec![] });
        let shown: Vec<(&str, bool, bool)> = card.checks.iter().map(|c| (c.rule.as_str(), c.applies, c.passed)).collect();
        assert!(shown.contains(&("Production services have at least two people in their owning teams", false, false)), "{shown:?}");
        assert!(shown.contains(&("Tier 0–1 services have a dashboard", false, false)), "{shown:?}");
        // one person is no finding for an experimental service: the rule does not apply to it
        assert_eq!(card.level, Some(Level::Gold));
        // a production tier 0 service with the same one person misses silver on that rule
        let e = entity();
        let card = evaluate(&Facts { entity: &e, owner_members: 1, deprecated_dependencies: vec![] });
        assert_eq!(card.level, Some(Level::Bronze));
        assert!(card.checks.iter().all(|c| c.applies));
    }
}
