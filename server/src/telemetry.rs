//! Logging: structured JSON lines (or pretty for a terminal), filtered by `log.filter`.
use crate::config::{LogFormat, LogSettings};
use tracing_subscriber::{fmt, EnvFilter};

/// Installs the global subscriber. JSON lines carry every enclosing span, so each line of a
/// request has its `request_id` and `user`.
/// `RUST_LOG`, when set, overrides the configured filter.
pub fn init(settings: &LogSettings) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(&settings.filter));
    let builder = fmt().with_env_filter(filter).with_target(true);
    let result = match settings.format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(true)
            .try_init(),
        LogFormat::Pretty => builder.try_init(),
    };
    // A second init (several test apps in one process) keeps the first subscriber.
    drop(result);
}
