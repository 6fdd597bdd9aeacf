//! Settings: flags, CLAVEX_* variables, TOML file and defaults, validated.
//!
//! `Settings::load` takes each setting from the first of: a command-line flag (`FlagOverrides`), its
//! `CLAVEX_*` environment variable, the TOML file named by `--config` or `CLAVEX_CONFIG`, its default.
//! `describe()` lists every setting with its names and default; it is the table the loader itself reads.

mod catalog;
mod error;
mod metrics;
mod proxies;
mod settings;
mod sources;
mod values;

#[cfg(test)]
mod tests;

pub use catalog::{CONFIG_ENV, CONFIG_FLAG, ENV_PREFIX, SettingDoc, describe};
pub use error::{ConfigError, Origin};
pub use metrics::{MetricsOrgs, MetricsSettings, parse_orgs, parse_switch};
pub use proxies::{IpNetwork, TrustedProxies};
pub use settings::Settings;
pub use sources::FlagOverrides;
pub use values::{
    DatabaseUrl, InvalidValue, LogFormat, MASTER_KEY_LEN, MIN_BOOTSTRAP_TOKEN_CHARS, PublicUrl,
    Secret, TlsFiles, check_log_filter, decode_master_key, parse_listen,
};
