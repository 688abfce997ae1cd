//! The API's caller extractor and its error shape.
use app::context::RequestMeta;
use app::error::AppError;
use app::iam::principal::Principal;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

/// An API error: `{error: {code, message, request_id}}` with the matching status.
#[derive(Debug)]
pub struct ApiError {
    pub error: AppError,
    pub request_id: String,
    /// Set when the status is not the error's own (a refused signature is a 401 that says why).
    pub status: Option<StatusCode>,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// `invalid`, `too_large`, `not_found`, `conflict`, `unauthenticated`, `forbidden`, `cross_site_request`, `internal`.
    pub code: String,
    pub message: String,
    /// For `invalid`: the input that is wrong.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub request_id: String,
}

impl ApiError {
    pub fn new(error: AppError, meta: &RequestMeta) -> Self {
        ApiError { error, request_id: meta.request_id.clone(), status: None }
    }
}

impl ApiError {
    /// A 401 for a request whose own credential (a signature) failed; says why.
    pub fn unauthorized(reason: &str, meta: &RequestMeta) -> Self {
        ApiError {
            error: AppError::Invalid { field: "signature".into(), message: reason.into() },
            request_id: meta.request_id.clone(),
            status: Some(StatusCode::UNAUTHORIZED),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let code = match &self.error {
            _ if self.status == Some(StatusCode::UNAUTHORIZED) => "bad_signature",
            AppError::Invalid { .. } | AppError::InvalidFields(_) => "invalid",
            AppError::TooLarge { .. } => "too_large",
            AppError::NotFound(_) => "not_found",
            AppError::Conflict(_) => "conflict",
            AppError::Unauthenticated => "unauthenticated",
            AppError::Forbidden | AppError::NotAllowed(_) => "forbidden",
            AppError::Internal { .. } | AppError::Transport(_) => "internal",
        };
        let field = match &self.error {
            AppError::Invalid { field, .. } | AppError::TooLarge { field, .. } => Some(field.clone()),
            AppError::InvalidFields(list) => list.first().map(|p| p.field.clone()),
            _ => None,
        };
        let status = self.status.unwrap_or_else(|| StatusCode::from_u16(self.error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR));
        let body = ErrorBody {
            error: ErrorDetail { code: code.into(), message: self.error.to_string(), field, request_id: self.request_id },
        };
        (status, Json(body)).into_response()
    }
}

/// The authenticated caller of an API route, and where the request came from.
pub struct Caller {
    pub principal: Principal,
    pub meta: RequestMeta,
}

impl Caller {
    /// Wraps a domain error for this request (an internal error gets this request's id: the
    /// REST handlers run outside the Leptos context the error would read it from).
    pub fn fail(&self, error: impl Into<AppError>) -> ApiError {
        let error = match error.into() {
            AppError::Internal { .. } => AppError::Internal { request_id: self.meta.request_id.clone() },
            other => other,
        };
        ApiError::new(error, &self.meta)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let meta = RequestMeta::from_parts(parts);
        match parts.extensions.get::<Principal>().cloned() {
            Some(principal) => Ok(Caller { principal, meta }),
            None => Err(ApiError::new(AppError::Unauthenticated, &meta)),
        }
    }
}

/// A rejection of axum's own extractors (a path segment, a query or a JSON body that does not
/// parse) as the documented error body, with the rejection's status and text.
fn rejected(parts_meta: &RequestMeta, field: &str, status: StatusCode, text: String) -> ApiError {
    ApiError { error: AppError::Invalid { field: field.into(), message: text }, request_id: parts_meta.request_id.clone(), status: Some(status) }
}

/// An extractor of axum's that reads the request's parts (`Path`, `Query`), refusing with the
/// API's JSON error body (`field` names where the input was).
macro_rules! refusing_as_json {
    ($(#[$doc:meta])* $name:ident wraps $inner:ident as $field:literal) => {
        $(#[$doc])*
        pub struct $name<T>(pub T);

        impl<S: Send + Sync, T: serde::de::DeserializeOwned + Send> FromRequestParts<S> for $name<T> {
            type Rejection = ApiError;

            async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
                match axum::extract::$inner::<T>::from_request_parts(parts, state).await {
                    Ok(axum::extract::$inner(value)) => Ok($name(value)),
                    Err(r) => Err(rejected(&RequestMeta::from_parts(parts), $field, r.status(), r.body_text())),
                }
            }
        }
    };
}

refusing_as_json!(
    /// `axum::extract::Path`, refusing with the API's JSON error body.
    ApiPath wraps Path as "path"
);
refusing_as_json!(
    /// `axum::extract::Query`, refusing with the API's JSON error body.
    ApiQuery wraps Query as "query"
);

/// `axum::Json` as a request body, refusing with the API's JSON error body.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> axum::extract::FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        let (parts, body) = request.into_parts();
        let meta = RequestMeta::from_parts(&parts);
        match Json::<T>::from_request(axum::extract::Request::from_parts(parts, body), state).await {
            Ok(Json(value)) => Ok(ApiJson(value)),
            Err(r) => Err(rejected(&meta, "body", r.status(), r.body_text())),
        }
    }
}

/// `axum::extract::Multipart`, refusing a body that is not multipart with the API's JSON error body.
pub struct ApiMultipart(pub axum::extract::Multipart);

impl<S: Send + Sync> axum::extract::FromRequest<S> for ApiMultipart {
    type Rejection = ApiError;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        let (parts, body) = request.into_parts();
        let meta = RequestMeta::from_parts(&parts);
        match axum::extract::Multipart::from_request(axum::extract::Request::from_parts(parts, body), state).await {
            Ok(multipart) => Ok(ApiMultipart(multipart)),
            Err(r) => Err(rejected(&meta, "body", r.status(), r.body_text())),
        }
    }
}
