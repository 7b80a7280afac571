//! `/costs.csv?days=N`: exactly the figures `/costs` shows for that range, as CSV.
//! Cost viewers and admins.

use crate::http::error_page::for_error;
use crate::state::AppState;
use app::domain::CurrentUser;
use app::domain::costs::parse_range;
use app::error::AppError;
use axum::Extension;
use axum::extract::{Query, State};
use axum::response::Response;
use std::collections::HashMap;

pub async fn costs_csv(
    State(state): State<AppState>,
    user: Option<Extension<CurrentUser>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let Some(Extension(user)) = user else { return for_error(&AppError::NotSignedIn) };
    let days = match parse_range(query.get("days").map(String::as_str)) {
        Ok(days) => days,
        Err(message) => return for_error(&AppError::BadRequest(message)),
    };
    match state.services.costs.dashboard(&user, days, None).await {
        Ok(dashboard) => super::csv_download(&format!("atrium-costs-{days}-days.csv"), dashboard.to_csv()),
        Err(error) => for_error(&error),
    }
}
