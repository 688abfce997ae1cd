//! The error every server function returns: a safe message for people, a status for HTTP.
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// Input that does not parse; names the field and what is wrong with it.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// Several fields that do not parse (a whole form), each with what is wrong.
    #[error("{}", .0.iter().map(|p| format!("{}: {}", p.field, p.message)).collect::<Vec<_>>().join("; "))]
    InvalidFields(Vec<crate::catalog::types::FieldProblem>),
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

    /// Logs `source` once, with the request id, and returns an error that reveals nothing of it.
    #[cfg(feature = "ssr")]
    pub fn internal(source: impl std::fmt::Display) -> Self {
        let request_id = crate::context::request_id();
        tracing::error!(%request_id, error = %source, "internal error");
        AppError::Internal { request_id }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Transport(value.to_string())
    }
}
