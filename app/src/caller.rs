//! The caller of a server function: the signed-in user from the request, the role checks
//! every server function and service makes, and the status an error sets on the page.

use crate::domain::CurrentUser;
use crate::error::AppError;

/// The signed-in user, put into the request's extensions by the server's session middleware.
pub fn signed_in_user() -> Option<CurrentUser> {
    let parts = leptos::prelude::use_context::<http::request::Parts>()?;
    parts.extensions.get::<CurrentUser>().cloned()
}

pub fn require_user() -> Result<CurrentUser, AppError> {
    signed_in_user().ok_or(AppError::NotSignedIn)
}

/// The signed-in user if they are an admin; `Forbidden` for everyone else.
pub fn require_admin() -> Result<CurrentUser, AppError> {
    let user = require_user()?;
    must_be_admin(&user)?;
    Ok(user)
}

/// Services check again what server functions checked, so that no other caller can skip it.
pub fn must_be_admin(user: &CurrentUser) -> Result<(), AppError> {
    if user.is_admin() { Ok(()) } else { Err(AppError::Forbidden) }
}

/// The shape of a server function: the signed-in caller (or `NotSignedIn`), then its work,
/// with the status of an error set on the response.
pub async fn as_user<T, Work, Done>(work: Work) -> Result<T, AppError>
where
    Work: FnOnce(CurrentUser) -> Done,
    Done: std::future::Future<Output = Result<T, AppError>>,
{
    with_status(async { work(require_user()?).await }.await)
}

/// As [`as_user`], for admins only (`Forbidden` for everyone else).
pub async fn as_admin<T, Work, Done>(work: Work) -> Result<T, AppError>
where
    Work: FnOnce(CurrentUser) -> Done,
    Done: std::future::Future<Output = Result<T, AppError>>,
{
    with_status(async { work(require_admin()?).await }.await)
}

/// A server function's result, with the HTTP status of its error set on the response
/// (403 for Forbidden, 503 for Unavailable…) instead of a blanket 500.
pub fn with_status<T>(result: Result<T, AppError>) -> Result<T, AppError> {
    if let Err(error) = &result {
        set_page_status(error.status());
    }
    result
}

/// Sets the status of the page being rendered on the server.
pub fn set_page_status(status: u16) {
    if let (Some(options), Ok(code)) = (leptos::prelude::use_context::<leptos_axum::ResponseOptions>(), http::StatusCode::from_u16(status))
    {
        options.set_status(code);
    }
}
