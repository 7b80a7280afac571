//! The boundary every request crosses before any handler: canonical paths (a trailing slash is
//! a 308 to the path without it) and text without control characters (NUL and the like are a
//! 400 naming the field, never a value that reaches Postgres and comes back as a 500).

use crate::http::error_page::error_page;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The largest form body read here to be checked; larger forms are refused.
const FORM_LIMIT: usize = 1024 * 1024;

/// `/teams/` → 308 `/teams` (with the query kept). Leading slashes collapse to one, so that
/// `//elsewhere.example/` cannot become a redirect to another site.
pub async fn redirect_trailing_slash(request: Request, next: Next) -> Response {
    let path = request.uri().path();
    // A backslash is left to routing (a 404): some browsers read `/\\host` as `//host`.
    if path.len() > 1 && path.ends_with('/') && !path.contains('\\') {
        let canonical = format!("/{}", path.trim_matches('/'));
        let location = match request.uri().query() {
            Some(query) => format!("{canonical}?{query}"),
            None => canonical,
        };
        if let Ok(location) = HeaderValue::from_str(&location) {
            return (StatusCode::PERMANENT_REDIRECT, [(header::LOCATION, location)]).into_response();
        }
    }
    next.run(request).await
}

/// Control characters but the white space a text area may hold (tab, line breaks).
fn has_control(text: &str) -> bool {
    text.chars().any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
}

/// The first field (or "the address") with a control character.
fn field_with_control<'a>(pairs: impl Iterator<Item = (std::borrow::Cow<'a, str>, std::borrow::Cow<'a, str>)>) -> Option<String> {
    pairs
        .into_iter()
        .find(|(key, value)| has_control(key) || has_control(value))
        .map(|(key, _)| key.chars().filter(|c| !c.is_control()).take(60).collect())
}

fn refuse(path: &str, status: StatusCode, message: String) -> Response {
    if path.starts_with(crate::http::API_BASE) {
        crate::http::api_error::ApiError::new(status, "bad_request", message).into_response()
    } else if path.starts_with("/api/") {
        // A server function's caller reads the body as the error's text.
        (status, message).into_response()
    } else {
        error_page(status, "That did not work", &message)
    }
}

/// Refuses control characters in the path, the query string and form fields.
pub async fn reject_control_characters(request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let decoded = percent_encoding::percent_decode_str(&path).decode_utf8_lossy();
    if has_control(&decoded) {
        return refuse(&path, StatusCode::BAD_REQUEST, "The address contains a control character (such as NUL).".into());
    }
    if let Some(query) = request.uri().query()
        && let Some(field) = field_with_control(form_urlencoded::parse(query.as_bytes()))
    {
        return refuse(
            &path,
            StatusCode::BAD_REQUEST,
            format!("The field \"{field}\" contains a control character (such as NUL); remove it and try again."),
        );
    }
    // Forms go to server functions and the sign-in routes; the body of anything else is not
    // read here (the API reads JSON with its own limit).
    let form_route = (path.starts_with("/api/") && !path.starts_with(crate::http::API_BASE)) || path.starts_with("/auth/");
    let is_form = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !form_route || !is_form {
        return next.run(request).await;
    }
    let declared = request.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|length| length > FORM_LIMIT) {
        return refuse(&path, StatusCode::PAYLOAD_TOO_LARGE, "This form is too large.".into());
    }
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, FORM_LIMIT).await else {
        return refuse(&path, StatusCode::BAD_REQUEST, "The form could not be read whole (too large, or cut off).".into());
    };
    if let Some(field) = field_with_control(form_urlencoded::parse(&bytes)) {
        return refuse(
            &path,
            StatusCode::BAD_REQUEST,
            format!("The field \"{field}\" contains a control character (such as NUL); remove it and try again."),
        );
    }
    next.run(Request::from_parts(parts, Body::from(bytes))).await
}

/// Leptos answers each error of its own in a server function (arguments that do not decode, a
/// missing field) with a 500, before our code runs; they are the request's fault. Our own
/// failures are `Internal`, never `Transport`, which only the framework's errors become
/// (`AppError::from_server_fn_error`): those become a 400 saying what did not decode.
pub async fn arguments_that_do_not_decode_are_a_400(request: Request, next: Next) -> Response {
    let server_function = request.uri().path().starts_with("/api/") && !request.uri().path().starts_with(crate::http::API_BASE);
    let response = next.run(request).await;
    if !server_function || response.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, FORM_LIMIT).await else {
        parts.headers.remove(header::CONTENT_LENGTH);
        return Response::from_parts(parts, Body::empty());
    };
    let Ok(app::error::AppError::Transport(message)) = serde_json::from_slice::<app::error::AppError>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    let refusal = app::error::AppError::BadRequest(format!("The request's fields are not what this action takes: {message}"));
    parts.status = StatusCode::BAD_REQUEST;
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(serde_json::to_vec(&refusal).unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use super::has_control;

    #[test]
    fn line_breaks_and_tabs_are_text_but_nul_and_escapes_are_not() {
        assert!(!has_control("key=value\r\nother=1\tx"));
        assert!(has_control("a\0b"));
        assert!(has_control("\u{1b}[31m"));
        assert!(has_control("\u{85}"));
        assert!(!has_control("Zoë 🦀 \u{202E}"));
    }
}
