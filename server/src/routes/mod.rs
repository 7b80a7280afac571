//! The axum side: sign-in form and single sign-on handlers, health, and the middleware every request passes.

pub mod api_docs;
pub mod audit_csv;
pub mod auth;
pub mod connect;
pub mod costs_csv;
pub mod events;
pub mod health;
pub mod middleware;
pub mod sso;
pub mod study_download;
pub mod team_template;

/// A CSV file for the browser to save as `filename`.
pub fn csv_download(filename: &str, csv: String) -> axum::response::Response {
    use axum::http::header;
    use axum::response::IntoResponse;
    let disposition = format!("attachment; filename=\"{filename}\"");
    ([(header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()), (header::CONTENT_DISPOSITION, disposition)], csv).into_response()
}
