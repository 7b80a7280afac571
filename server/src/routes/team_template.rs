//! `/admin/teams/{team}/team-account.yaml`: the team account's stack template with the team's
//! values as defaults, for an admin to upload to CloudFormation. Admins only (the service checks).

use crate::http::error_page::for_error;
use crate::state::AppState;
use app::domain::CurrentUser;
use app::features::team_slug;
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

pub async fn team_template(State(state): State<AppState>, Extension(admin): Extension<CurrentUser>, Path(team): Path<String>) -> Response {
    let slug = match team_slug(&team) {
        Ok(slug) => slug,
        Err(error) => return for_error(&error),
    };
    match state.services.team_admin.account_template(&admin, &slug).await {
        Ok(template) => {
            let disposition = format!("attachment; filename=\"atrium-team-{slug}.yaml\"");
            ([(header::CONTENT_TYPE, "application/yaml; charset=utf-8".to_owned()), (header::CONTENT_DISPOSITION, disposition)], template)
                .into_response()
        }
        Err(error) => for_error(&error),
    }
}
