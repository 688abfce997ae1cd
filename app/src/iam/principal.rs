//! Who is asking, and the one place that answers what they may do. Deny by default: every
//! check returns `Forbidden` unless a rule below allows it.
pub use super::types::Scope;
use super::types::{Me, Role, TeamId, TeamMembership, TeamRole, UserId};
use crate::error::Refusal;
use uuid::Uuid;

/// How the principal proved who they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    Session { session_id: Uuid },
    Token { token_id: Uuid, scopes: Vec<Scope> },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user_id: UserId,
    pub username: String,
    pub name: String,
    pub email: String,
    pub roles: Vec<Role>,
    pub teams: Vec<TeamMembership>,
    pub via: Via,
}

impl Principal {
    /// Tokens are limited to their scopes; `admin` implies every other scope.
    fn scope_allows(&self, needed: Scope) -> bool {
        match &self.via {
            Via::Session { .. } => true,
            Via::Token { scopes, .. } => scopes.contains(&needed) || scopes.contains(&Scope::Admin),
        }
    }

    fn check(&self, allowed: bool) -> Result<(), Refusal> {
        if allowed {
            Ok(())
        } else {
            Err(Refusal::Forbidden)
        }
    }

    pub fn is_admin(&self) -> bool {
        self.roles.contains(&Role::Admin) && self.scope_allows(Scope::Admin)
    }

    pub fn team_role(&self, team: TeamId) -> Option<TeamRole> {
        self.teams.iter().find(|m| m.team_id == team).map(|m| m.role)
    }

    pub fn is_lead_of(&self, team: TeamId) -> bool {
        self.team_role(team) == Some(TeamRole::Lead)
    }

    /// Reading the portal: every signed-in employee.
    pub fn require_read(&self) -> Result<(), Refusal> {
        self.check(self.scope_allows(Scope::Read))
    }

    /// Writing at all (a session, or a token with the write scope); what may be written is
    /// checked by the rule of the thing written.
    pub fn require_write(&self) -> Result<(), Refusal> {
        self.check(self.scope_allows(Scope::Write))
    }

    /// Administering: admins only.
    pub fn require_admin(&self) -> Result<(), Refusal> {
        self.check(self.is_admin())
    }

    /// Changing what a team owns: its members, or an admin.
    pub fn require_team_change(&self, team: TeamId) -> Result<(), Refusal> {
        let member = self.team_role(team).is_some() && self.scope_allows(Scope::Write);
        self.check(member || self.is_admin())
    }

    /// Acting with one scope (a session has them all; a token only those it was given).
    pub fn require_scope(&self, needed: Scope) -> Result<(), Refusal> {
        self.check(self.scope_allows(needed))
    }

    /// Deploying a service: a member of one of its owning teams (a token needs the deploy
    /// scope), or an admin.
    pub fn require_deploy(&self, owners: &[TeamId]) -> Result<(), Refusal> {
        let member = owners.iter().any(|t| self.team_role(*t).is_some()) && self.scope_allows(Scope::Deploy);
        self.check(member || self.is_admin())
    }

    /// Acting on one's own things (sessions, personal tokens), or an admin on anyone's.
    pub fn require_self_or_admin(&self, user: UserId) -> Result<(), Refusal> {
        self.check((self.user_id == user && self.scope_allows(Scope::Write)) || self.is_admin())
    }

    /// Only a browser session (not a token) may manage sessions and tokens.
    pub fn require_session(&self) -> Result<(), Refusal> {
        self.check(matches!(self.via, Via::Session { .. }))
    }

    pub fn session_id(&self) -> Option<Uuid> {
        match self.via {
            Via::Session { session_id } => Some(session_id),
            Via::Token { .. } => None,
        }
    }

    /// The caller as pages and `/api/v1/me` show them, with the roles in effect: an admin's token
    /// without the admin scope does not administer, so it is no admin here either.
    pub fn me(&self) -> Me {
        let admin = self.is_admin();
        Me {
            id: self.user_id,
            username: self.username.clone(),
            name: self.name.clone(),
            email: self.email.clone(),
            roles: self.roles.iter().copied().filter(|r| *r != Role::Admin || admin).collect(),
            teams: self.teams.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(roles: &[Role], teams: &[(TeamId, TeamRole)], via: Via) -> Principal {
        Principal {
            user_id: UserId(Uuid::from_u128(1)),
            username: "u".into(),
            name: "U".into(),
            email: String::new(),
            roles: roles.to_vec(),
            teams: teams
                .iter()
                .map(|(id, role)| TeamMembership { team_id: *id, slug: "t".into(), name: "T".into(), role: *role })
                .collect(),
            via,
        }
    }

    const SESSION: Via = Via::Session { session_id: Uuid::nil() };

    #[test]
    fn members_change_their_team_and_no_other() {
        let (mine, other) = (TeamId(Uuid::from_u128(10)), TeamId(Uuid::from_u128(11)));
        let p = principal(&[Role::Viewer], &[(mine, TeamRole::Member)], SESSION);
        assert!(p.require_team_change(mine).is_ok());
        assert_eq!(p.require_team_change(other), Err(Refusal::Forbidden.into()));
        assert_eq!(p.require_admin(), Err(Refusal::Forbidden.into()));
    }

    #[test]
    fn a_token_is_held_to_its_scopes() {
        let team = TeamId(Uuid::from_u128(10));
        let read_only = Via::Token { token_id: Uuid::nil(), scopes: vec![Scope::Read] };
        let p = principal(&[Role::Viewer, Role::Admin], &[(team, TeamRole::Lead)], read_only);
        assert!(p.require_read().is_ok());
        assert!(p.require_team_change(team).is_err());
        assert!(!p.is_admin(), "an admin's read token must not administer");
        assert!(p.require_session().is_err());
    }
}
