use tracing_subscriber::{fmt, EnvFilter};

/// Logs to stderr; `RUST_LOG` chooses the level (default: info for Atrium, warn for the rest).
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn,atrium=info,server=info"));
    let _ = fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}
