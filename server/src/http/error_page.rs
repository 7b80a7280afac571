//! Plain error pages for failures before Leptos renders (database down while loading the
//! session, the identity provider unreachable during sign-in).

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

pub fn error_page(status: StatusCode, title: &str, message: &str) -> Response {
    // Messages may quote what the user sent: escaped, never markup.
    let (title, message) = (escape(title), escape(message));
    let html = format!(
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · Atrium</title><link rel="stylesheet" href="{stylesheet}"></head>
<body class="min-h-screen bg-slate-50 text-slate-900"><main class="mx-auto max-w-xl px-4 py-16">
<section class="rounded-lg border border-slate-200 bg-white p-8 text-center shadow-sm" data-testid="error-page">
<p class="text-sm font-medium text-slate-500">Error {code}</p><h1 class="mt-2 text-2xl font-semibold">{title}</h1>
<p class="mt-3 text-slate-600">{message}</p>{reference}<p class="mt-6"><a class="text-indigo-700 underline" href="/">Back to Atrium</a></p>
</section></main></body></html>"#,
        code = status.as_u16(),
        // What to quote when asking for help: the same id is in the logs.
        reference = crate::telemetry::current_request_id()
            .map(|id| format!(
                r#"<p class="mt-3 text-sm text-slate-500">Reference: <code data-testid="request-id">{}</code></p>"#,
                escape(&id)
            ))
            .unwrap_or_default(),
        stylesheet = app::stylesheet_href(&crate::http::leptos_options("")),
    );
    (status, Html(html)).into_response()
}

/// The page for an error a service returned, with its status.
pub fn for_error(error: &app::error::AppError) -> Response {
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    error_page(status, error.title(), &error.to_string())
}

pub fn unavailable(what: &str) -> Response {
    error_page(
        StatusCode::SERVICE_UNAVAILABLE,
        "Temporarily unavailable",
        &format!("{what} is unavailable right now. Atrium keeps trying; please try again in a minute."),
    )
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}
