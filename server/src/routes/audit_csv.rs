//! `/admin/audit.csv`: the audit rows matching the page's filters, as CSV. Admins only.

use crate::http::error_page::for_error;
use crate::services::audit::AuditLog;
use crate::state::AppState;
use app::domain::audit::AuditFilter;
use app::domain::{CurrentUser, csv_cell};
use axum::Extension;
use axum::extract::{Query, State};
use axum::response::Response;

/// Enough for any audit question a page of filters can ask; more is a database export.
const MAX_ROWS: i64 = 100_000;

pub async fn audit_csv(
    State(state): State<AppState>,
    Extension(admin): Extension<CurrentUser>,
    Query(filter): Query<AuditFilter>,
) -> Response {
    let rows = match AuditLog::new(state.db.clone()).all(&admin, filter, MAX_ROWS).await {
        Ok(rows) => rows,
        Err(error) => return for_error(&error),
    };
    let mut csv = String::from("at_utc,actor,roles,action,object_type,object_id,team,client_ip,result,detail\n");
    for row in rows {
        let fields = [
            row.at,
            row.actor,
            row.actor_roles.join(" "),
            row.action,
            row.object_type.unwrap_or_default(),
            row.object_id.unwrap_or_default(),
            row.team.unwrap_or_default(),
            row.client_ip.unwrap_or_default(),
            row.result,
            row.detail.unwrap_or_default(),
        ];
        csv.push_str(&fields.iter().map(|f| csv_cell(f)).collect::<Vec<_>>().join(","));
        csv.push('\n');
    }
    super::csv_download("atrium-audit.csv", csv)
}
