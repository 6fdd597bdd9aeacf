//! Log output: human-readable lines by default, JSON with `CLAVEX_LOG_FORMAT=json`, on stderr so
//! that stdout stays free for what subcommands print.

use clavex_config::{LogFormat, Settings};
use tracing_subscriber::{EnvFilter, fmt};

pub fn init(settings: &Settings) {
    // The filter was validated with the settings; fall back to `info` all the same.
    let filter = EnvFilter::try_new(&settings.log).unwrap_or_else(|_| EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi);
    let _ = match settings.log_format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.try_init(),
    };
}
