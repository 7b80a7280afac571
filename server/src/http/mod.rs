//! What the pages' routes and the REST API share at the HTTP boundary, below both: the
//! client's address, the input checks every request passes, the error pages and the API's
//! JSON error shape. Nothing here imports `routes` or `api`.

pub mod api_error;
pub mod client;
pub mod error_page;
pub mod input;

/// Where the REST API is mounted.
pub const API_BASE: &str = "/api/v1";
