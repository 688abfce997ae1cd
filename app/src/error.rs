//! The error every server function returns: a safe message for people, a status for HTTP.
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// A problem with one field of a form, query or descriptor: which, and what is wrong with it.
/// Domains refuse input with it; it names no HTTP status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[error("{field}: {message}")]
pub struct FieldProblem {
    pub field: String,
    pub message: String,
}

impl FieldProblem {
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        FieldProblem { field: field.into(), message: message.into() }
    }
}

/// What every domain refuses with before its own words: the caller may not, the input is
/// wrong, the thing is not there. Each domain's error carries it as it is (`Refused`); the edge
/// maps it once (`From<Refusal> for AppError`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("You do not have permission to do that.")]
    Forbidden,
    /// Not allowed, and what it would take.
    #[error("{0}")]
    NotAllowed(String),
    #[error(transparent)]
    Invalid(FieldProblem),
    /// A whole form's problems, each with its field.
    #[error("{} problem(s) in the form", .0.len())]
    InvalidFields(Vec<FieldProblem>),
    /// What was not found, as a person would name it ("That deploy").
    #[error("{0} was not found")]
    NotFound(String),
}

impl Refusal {
    /// Input that is refused: which field, and why.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Refusal::Invalid(FieldProblem::new(field, message))
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        Refusal::NotFound(what.into())
    }
}

impl From<FieldProblem> for Refusal {
    fn from(p: FieldProblem) -> Self {
        Refusal::Invalid(p)
    }
}

/// The error at the edges (server functions and REST handlers): what a domain's error becomes
/// for people and HTTP. Services speak their own domain's errors; each domain maps them here
/// once, in its `api` module.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// Input that does not parse; names the field and what is wrong with it.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// Several fields that do not parse (a whole form), each with what is wrong.
    #[error("{}", .0.iter().map(|p| format!("{}: {}", p.field, p.message)).collect::<Vec<_>>().join("; "))]
    InvalidFields(Vec<FieldProblem>),
    /// Input over one of the limits on what a request may carry (its size, or what reading it
    /// would cost); names the input and the limit.
    #[error("{field}: {message}")]
    TooLarge { field: String, message: String },
    #[error("{0} was not found.")]
    NotFound(String),
    /// The request clashes with what is there already (an idempotency key reused with other
    /// parameters, a deploy that ended); says what.
    #[error("{0}")]
    Conflict(String),
    #[error("Please sign in to continue.")]
    Unauthenticated,
    #[error("You do not have permission to do that.")]
    Forbidden,
    /// Not allowed, and why (what the caller would need): a 403 that a form can explain.
    #[error("{0}")]
    NotAllowed(String),
    /// Something failed on the server; the details are in the log under this request id.
    #[error("Something went wrong on our side. Quote request id {request_id} if you report it.")]
    Internal { request_id: String },
    /// The request never reached the server function, or its answer could not be read.
    #[error("The server could not be reached ({0}). Check your connection and try again.")]
    Transport(String),
}

impl AppError {
    /// The HTTP status this error answers with.
    pub fn status(&self) -> u16 {
        match self {
            AppError::Invalid { .. } | AppError::InvalidFields(_) => 422,
            AppError::TooLarge { .. } => 413,
            AppError::NotFound(_) => 404,
            AppError::Conflict(_) => 409,
            AppError::Unauthenticated => 401,
            AppError::Forbidden | AppError::NotAllowed(_) => 403,
            AppError::Internal { .. } => 500,
            AppError::Transport(_) => 502,
        }
    }

    pub fn request_id(&self) -> Option<&str> {
        match self {
            AppError::Internal { request_id } => Some(request_id),
            _ => None,
        }
    }

    /// Logs `source` once, in the request's span (which carries its id), and returns an error
    /// that reveals nothing of it. A REST handler's caller puts the request id in (its handlers
    /// run outside the Leptos context this reads it from).
    #[cfg(feature = "ssr")]
    pub fn internal(source: impl std::fmt::Display) -> Self {
        tracing::error!(error = %source, "internal error");
        AppError::Internal { request_id: crate::context::request_id() }
    }
}

impl From<Refusal> for AppError {
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::Forbidden => AppError::Forbidden,
            Refusal::NotAllowed(why) => AppError::NotAllowed(why),
            Refusal::Invalid(p) => p.into(),
            Refusal::InvalidFields(list) => AppError::InvalidFields(list),
            Refusal::NotFound(what) => AppError::NotFound(what),
        }
    }
}

impl From<FieldProblem> for AppError {
    fn from(p: FieldProblem) -> Self {
        AppError::Invalid { field: p.field, message: p.message }
    }
}

#[cfg(feature = "ssr")]
impl From<crate::untrusted::ReadError> for AppError {
    fn from(e: crate::untrusted::ReadError) -> Self {
        use crate::untrusted::ReadError as E;
        match e {
            E::TooLarge(p) => AppError::TooLarge { field: p.field, message: p.message },
            E::OverLimit(p) => p.into(),
            e @ E::Failed(_) => AppError::internal(e),
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Transport(value.to_string())
    }
}

/// A message as a sentence for a page: its first letter a capital, a full stop at the end
/// ("choose the owning team" reads "Choose the owning team.").
pub fn sentence(message: &str) -> String {
    let m = message.trim();
    let mut chars = m.chars();
    let Some(first) = chars.next() else { return String::new() };
    let mut out: String = first.to_uppercase().chain(chars).collect();
    if !out.ends_with(['.', '!', '?', '…', ')', '"', '”']) {
        out.push('.');
    }
    out
}

impl AppError {
    /// What a page says of this error: a problem with one field as a sentence (the field is
    /// named where the page shows it), the rest as they read.
    pub fn sentence(&self) -> String {
        match self {
            AppError::Invalid { message, .. } | AppError::TooLarge { message, .. } => sentence(message),
            AppError::InvalidFields(list) if list.len() == 1 => sentence(&list[0].message),
            AppError::InvalidFields(list) => {
                format!("{} problems: {}", list.len(), list.iter().map(|p| sentence(&p.message)).collect::<Vec<_>>().join(" "))
            }
            other => other.to_string(),
        }
    }
}

#[cfg(test)]
mod sentence_tests {
    use super::{sentence, AppError};

    #[test]
    fn a_problem_reads_as_a_sentence() {
        assert_eq!(sentence("choose the owning team"), "Choose the owning team.");
        assert_eq!(sentence("\"Vault_1\" is not a name."), "\"Vault_1\" is not a name.");
        assert_eq!(sentence(""), "");
        let e = AppError::Invalid { field: "owner".into(), message: "choose the owning team".into() };
        assert_eq!(e.sentence(), "Choose the owning team.");
        assert_eq!(e.to_string(), "owner: choose the owning team", "the API keeps naming the field");
    }
}
