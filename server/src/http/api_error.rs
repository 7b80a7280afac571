//! The API's one error shape, `{"error": {"code": "...", "message": "..."}}`, with the status
//! that says what went wrong. Every refusal of `/api/v1` passes through here: service errors,
//! bad JSON, bad paths and queries, tokens and rate limits.

use app::error::FieldError;
use app::error::{AppError, Door};
use axum::extract::rejection::{BytesRejection, JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    fields: Vec<FieldError>,
    retry_after_seconds: Option<u64>,
}

/// The body of every error answer.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable, for scripts: `unauthorized`, `forbidden`, `not_found`, `bad_request`,
    /// `invalid`, `conflict`, `payload_too_large`, `unsupported_media_type`,
    /// `method_not_allowed`, `rate_limited`, `unavailable`, `internal`.
    code: String,
    /// For people.
    message: String,
    /// Each invalid field, for `invalid`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    fields: Vec<FieldError>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError { status, code, message: message.into(), fields: Vec::new(), retry_after_seconds: None }
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn rate_limited(retry_after_seconds: u64) -> Self {
        ApiError {
            retry_after_seconds: Some(retry_after_seconds),
            ..ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!("Too many requests with this token; try again in {retry_after_seconds} s."),
            )
        }
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl From<AppError> for ApiError {
    /// The status and code are `AppError`'s own (`status_at(Door::Api)`); only the messages of
    /// two errors are the API's: how to send a token, and no internal detail.
    fn from(error: AppError) -> Self {
        let status = StatusCode::from_u16(error.status_at(Door::Api)).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let message = match &error {
            AppError::NotSignedIn => "Send a token: Authorization: Bearer <token>.".to_owned(),
            AppError::Transport(_) => AppError::Internal.to_string(),
            other => other.to_string(),
        };
        let code = error.code();
        let fields = match error {
            AppError::Invalid(fields) => fields,
            _ => Vec::new(),
        };
        ApiError { fields, ..ApiError::new(status, code, message) }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        let status = rejection.status();
        let code = match status {
            StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
            StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
            StatusCode::UNPROCESSABLE_ENTITY => "invalid",
            _ => "bad_request",
        };
        let message = match &rejection {
            JsonRejection::MissingJsonContentType(_) => "Send the body as JSON, with Content-Type: application/json.".to_owned(),
            other => other.body_text(),
        };
        ApiError::new(status, code, message)
    }
}

impl From<BytesRejection> for ApiError {
    fn from(rejection: BytesRejection) -> Self {
        let code = if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE { "payload_too_large" } else { "bad_request" };
        ApiError::new(rejection.status(), code, rejection.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        ApiError::bad_request(rejection.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        ApiError::bad_request(rejection.body_text())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody { error: ErrorDetail { code: self.code.to_owned(), message: self.message, fields: self.fields } };
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(seconds) = self.retry_after_seconds {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
