//! What the pages' routes and the REST API share at the HTTP boundary, below both: the
//! client's address, the input checks every request passes, the error pages and the API's
//! JSON error shape. Nothing here imports `routes` or `api`.

pub mod api_error;
pub mod client;
pub mod error_page;
pub mod input;

/// Where the REST API is mounted.
pub const API_BASE: &str = "/api/v1";

/// Where cargo-leptos put the compiled site; it sets these variables when it runs the server.
pub fn leptos_options(listen: &str) -> leptos::config::LeptosOptions {
    let env = |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.to_owned());
    leptos::config::LeptosOptions::builder()
        .output_name(env("LEPTOS_OUTPUT_NAME", "atrium"))
        .site_root(env("LEPTOS_SITE_ROOT", "target/site"))
        .site_pkg_dir(env("LEPTOS_SITE_PKG_DIR", "pkg"))
        // cargo-leptos (`hash-files`) names /pkg files by their content and writes the names
        // beside the binary; a binary without them (a test) serves the plain names.
        .hash_files(app::hash_file().is_some_and(|file| file.exists()))
        .site_addr(listen.parse::<std::net::SocketAddr>().unwrap_or_else(|_| ([127, 0, 0, 1], 3000).into()))
        .build()
}
