//! The Content-Security-Policy header of every response.

/// The pages' Content-Security-Policy: scripts only from this site or carrying the response's
/// nonce (Leptos puts it on each of its inline scripts), never other inline scripts.
#[derive(Clone, Debug)]
pub struct ContentSecurityPolicy {
    /// Every directive but `script-src`.
    other_directives: String,
}

impl ContentSecurityPolicy {
    pub fn new(other_directives: impl Into<String>) -> Self {
        ContentSecurityPolicy { other_directives: other_directives.into() }
    }

    /// For a page whose inline scripts carry `nonce`.
    pub fn with_nonce(&self, nonce: &str) -> String {
        format!("script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; {}", self.other_directives)
    }

    /// For every other response: no inline script runs.
    pub fn without_inline_scripts(&self) -> String {
        format!("script-src 'self' 'wasm-unsafe-eval'; {}", self.other_directives)
    }
}
