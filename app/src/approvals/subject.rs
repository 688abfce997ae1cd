//! The seam between the approval engine and the domains whose changes wait for approval.
//!
//! A domain that wants a change approved implements [`Subject`] for it, in its own module, and
//! the server registers that implementation once (`app::approval_subjects`). The engine then
//! opens, decides, expires and cancels requests without knowing any domain: it finds the
//! subject by the kind stored with the request, asks it what a token needs to decide and what
//! an approver should see, and calls it to perform or abandon the change inside the decision's
//! transaction.
use super::types::{ApprovalState, Fact, FactGroup};
use crate::context::RequestMeta;
use crate::iam::principal::{Principal, Scope};
use serde_json::Value;
use sqlx::PgConnection;
use std::sync::Arc;

/// What a subject is told about the request it acts on.
#[derive(Debug, Clone)]
pub struct Request {
    pub id: super::types::ApprovalId,
    pub subject_id: String,
    pub action: String,
    /// What the subject stored when it opened the request (`Value::Null` when a list left out
    /// a large payload).
    pub payload: Value,
}

/// Why a subject could not perform or abandon its change. A refusal rolls back the decision
/// and is shown to the approver; a failure is logged.
#[derive(Debug, thiserror::Error)]
pub enum SubjectError {
    /// The change no longer fits (the subject changed since the request): says which part and why.
    #[error("{field}: {message}")]
    Refused { field: String, message: String },
    #[error(transparent)]
    Failed(Box<dyn std::error::Error + Send + Sync>),
}

impl SubjectError {
    pub fn refused(field: &str, message: impl Into<String>) -> Self {
        SubjectError::Refused { field: field.into(), message: message.into() }
    }

    pub fn failed(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        SubjectError::Failed(Box::new(e))
    }
}

impl From<sqlx::Error> for SubjectError {
    fn from(e: sqlx::Error) -> Self {
        crate::telemetry::db_error("approvals", &e);
        SubjectError::failed(e)
    }
}

/// A kind of change that can wait for approval.
#[async_trait::async_trait]
pub trait Subject: Send + Sync {
    /// The kind stored with its requests; unique among the registered subjects.
    fn kind(&self) -> &'static str;

    /// The scope a token needs to decide on it: the scope the change itself needs.
    fn scope_to_decide(&self) -> Scope;

    /// What an approver sees besides the summary and reason, read from the stored payload.
    fn facts(&self, _request: &Request) -> Vec<Fact> {
        Vec::new()
    }

    /// What an approver should know now, read while the request waits (a pre-flight card): a
    /// fixed, small number of statements. Nothing by default.
    async fn preflight(&self, _conn: &mut PgConnection, _request: &Request) -> Result<Vec<FactGroup>, SubjectError> {
        Ok(Vec::new())
    }

    /// Makes the change: called by the decision that completes the policy, inside its
    /// transaction (a refusal rolls the decision back).
    async fn perform(
        &self,
        conn: &mut PgConnection,
        request: &Request,
        approver: &Principal,
        meta: &RequestMeta,
    ) -> Result<(), SubjectError>;

    /// Undoes what the change set up for itself when the request ends without approval
    /// (`outcome`: rejected, expired or cancelled). Nothing by default.
    async fn abandon(
        &self,
        _conn: &mut PgConnection,
        _request: &Request,
        _outcome: ApprovalState,
        _meta: &RequestMeta,
    ) -> Result<(), SubjectError> {
        Ok(())
    }
}

/// The registered subjects. A request of a kind not registered can be read but not decided
/// (deny by default).
#[derive(Clone, Default)]
pub struct Subjects(Arc<Vec<Box<dyn Subject>>>);

impl Subjects {
    /// Panics when two subjects claim one kind: a wiring mistake, found at startup.
    pub fn new(subjects: Vec<Box<dyn Subject>>) -> Self {
        for (i, s) in subjects.iter().enumerate() {
            assert!(
                subjects[..i].iter().all(|t| t.kind() != s.kind()),
                "two approval subjects claim the kind {:?}",
                s.kind()
            );
        }
        Subjects(Arc::new(subjects))
    }

    pub fn get(&self, kind: &str) -> Option<&dyn Subject> {
        self.0.iter().find(|s| s.kind() == kind).map(AsRef::as_ref)
    }

    pub fn kinds(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.0.iter().map(|s| s.kind())
    }
}

impl std::fmt::Debug for Subjects {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.kinds()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Named(&'static str);

    #[async_trait::async_trait]
    impl Subject for Named {
        fn kind(&self) -> &'static str {
            self.0
        }

        fn scope_to_decide(&self) -> Scope {
            Scope::Admin
        }

        async fn perform(&self, _: &mut PgConnection, _: &Request, _: &Principal, _: &RequestMeta) -> Result<(), SubjectError> {
            Ok(())
        }
    }

    #[test]
    fn a_kind_is_found_by_its_name_and_only_then() {
        let subjects = Subjects::new(vec![Box::new(Named("a")), Box::new(Named("b"))]);
        assert_eq!(subjects.get("b").map(|s| s.kind()), Some("b"));
        assert!(subjects.get("c").is_none());
        assert_eq!(subjects.kinds().collect::<Vec<_>>(), ["a", "b"]);
    }

    #[test]
    #[should_panic(expected = "two approval subjects claim the kind")]
    fn two_subjects_cannot_claim_one_kind() {
        Subjects::new(vec![Box::new(Named("a")), Box::new(Named("a"))]);
    }
}
