//! The one error type server functions return. Each variant is something the user can be
//! told; internal detail is logged on the server and never reaches this type.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// One refused field of a form or request body, and why, in words for the person.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError { field: field.into(), message: message.into() }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    #[error("Please sign in to continue.")]
    NotSignedIn,
    #[error("You do not have access to this page.")]
    Forbidden,
    #[error("{0} does not exist.")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("Please correct the form: {}", .0.iter().map(|e| e.message.as_str()).collect::<Vec<_>>().join(" "))]
    Invalid(Vec<FieldError>),
    /// The request clashes with the current state (a team that still has workspaces…).
    #[error("{0}")]
    Conflict(String),
    #[error("{0} is unavailable right now. Please try again in a minute.")]
    Unavailable(String),
    #[error("Something went wrong on our side. It has been logged.")]
    Internal,
    #[error("Could not reach Atrium: {0}")]
    Transport(String),
}

/// Where an error is answered: a page or server function, or the REST API (`/api/v1`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Door {
    Page,
    Api,
}

impl AppError {
    /// The one status map, for both doors. They differ in one place only: invalid fields are
    /// 400 on a page (a form to correct) and 422 in the API (a body that parsed but does not
    /// validate, as JSON APIs answer it).
    pub fn status_at(&self, door: Door) -> u16 {
        match self {
            AppError::NotSignedIn => 401,
            AppError::Forbidden => 403,
            AppError::NotFound(_) => 404,
            AppError::Invalid(_) if door == Door::Api => 422,
            AppError::BadRequest(_) | AppError::Invalid(_) => 400,
            AppError::Conflict(_) => 409,
            AppError::Unavailable(_) => 503,
            AppError::Internal | AppError::Transport(_) => 500,
        }
    }

    /// The HTTP status a page or server function answers this error with.
    pub fn status(&self) -> u16 {
        self.status_at(Door::Page)
    }

    /// A stable code for scripts (the API's `error.code`).
    pub fn code(&self) -> &'static str {
        match self {
            AppError::NotSignedIn => "unauthorized",
            AppError::Forbidden => "forbidden",
            AppError::NotFound(_) => "not_found",
            AppError::BadRequest(_) => "bad_request",
            AppError::Invalid(_) => "invalid",
            AppError::Conflict(_) => "conflict",
            AppError::Unavailable(_) => "unavailable",
            AppError::Internal | AppError::Transport(_) => "internal",
        }
    }

    pub fn title(&self) -> &'static str {
        match self {
            AppError::NotSignedIn => "Sign-in needed",
            AppError::Forbidden => "No access",
            AppError::NotFound(_) => "Not found",
            AppError::BadRequest(_) | AppError::Invalid(_) | AppError::Conflict(_) => "That did not work",
            AppError::Unavailable(_) => "Temporarily unavailable",
            AppError::Internal | AppError::Transport(_) => "Something went wrong",
        }
    }
}

impl AppError {
    /// The message for one form field, when this is a field-level refusal.
    pub fn field_message(&self, field: &str) -> Option<String> {
        match self {
            AppError::Invalid(errors) => errors.iter().find(|e| e.field == field).map(|e| e.message.clone()),
            _ => None,
        }
    }

    /// One invalid field.
    pub fn invalid(field: &str, message: impl Into<String>) -> AppError {
        AppError::Invalid(vec![FieldError::new(field, message)])
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Transport(value.to_string())
    }
}
