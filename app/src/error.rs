//! The one error type server functions return. Each variant is something the user can be
//! told; internal detail is logged on the server and never reaches this type.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

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
    Invalid(Vec<crate::domain::configurations::FieldError>),
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

impl AppError {
    /// The HTTP status a page showing this error answers with.
    pub fn status(&self) -> u16 {
        match self {
            AppError::NotSignedIn => 401,
            AppError::Forbidden => 403,
            AppError::NotFound(_) => 404,
            AppError::BadRequest(_) | AppError::Invalid(_) => 400,
            AppError::Conflict(_) => 409,
            AppError::Unavailable(_) => 503,
            AppError::Internal | AppError::Transport(_) => 500,
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
        AppError::Invalid(vec![crate::domain::configurations::FieldError::new(field, message)])
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Transport(value.to_string())
    }
}
