use axum::extract::Request;
use axum::http::HeaderName;
use tower_http::request_id::RequestId;
use tracing_subscriber::{EnvFilter, fmt};

/// Logs to stderr; `RUST_LOG` chooses the level (default: info for Atrium, warn for the rest).
/// `ATRIUM_LOG_FORMAT=json` writes one JSON object per line (with the request id of the span
/// each event happened in), for a log collector.
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn,atrium=info,server=info"));
    let builder = fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match std::env::var("ATRIUM_LOG_FORMAT").as_deref() {
        Ok("json") => builder.json().with_current_span(true).with_span_list(false).try_init(),
        _ => builder.try_init(),
    };
}

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

tokio::task_local! {
    /// The request being answered, for pages that show it (error pages).
    pub static CURRENT_REQUEST_ID: String;
}

/// The span every request's logs belong to: method, path and the request id (set before by
/// `SetRequestIdLayer`, from the client or the load balancer, or made here).
pub fn request_span(request: &Request) -> tracing::Span {
    let id = request_id(request).unwrap_or_default();
    tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), request_id = %id)
}

fn request_id(request: &Request) -> Option<String> {
    let id = request.extensions().get::<RequestId>()?;
    id.header_value().to_str().ok().map(str::to_owned)
}

/// Makes the request id available to whatever answers the request (see `CURRENT_REQUEST_ID`).
pub async fn with_request_id(request: Request, next: axum::middleware::Next) -> axum::response::Response {
    let id = request_id(&request).unwrap_or_default();
    CURRENT_REQUEST_ID.scope(id, next.run(request)).await
}

/// The id of the request being answered, if any.
pub fn current_request_id() -> Option<String> {
    CURRENT_REQUEST_ID.try_with(Clone::clone).ok().filter(|id| !id.is_empty())
}
