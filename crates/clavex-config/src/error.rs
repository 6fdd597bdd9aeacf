//! `ConfigError` and `Origin`: every refusal names the setting (its variable and TOML key), where its
//! value came from, and what was expected, because the operator reads it once, at start-up, and must be
//! able to fix the right place without reading code.

use std::fmt;
use std::path::PathBuf;

/// Where a value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A command-line flag, e.g. `--listen`.
    Flag(&'static str),
    /// An environment variable, e.g. `CLAVEX_LISTEN`.
    Env(&'static str),
    /// The TOML file at this path (as it was named, relative paths being relative to the working directory).
    File(PathBuf),
    /// The built-in default.
    Default,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Flag(flag) => write!(f, "flag {flag}"),
            Self::Env(var) => write!(f, "environment variable {var}"),
            Self::File(path) => write!(f, "config file {}", path.display()),
            Self::Default => f.write_str("the built-in default"),
        }
    }
}

/// Why settings could not be loaded. Display texts are complete sentences for the operator.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A value that does not parse or is out of range. `value` is `None` for secrets, which are never
    /// repeated, and for URLs that might hold a password that cannot be located.
    #[error("invalid {env} (TOML key `{key}`) from {origin}{}: {expected}", shown(.value))]
    Invalid {
        key: &'static str,
        env: &'static str,
        origin: Origin,
        value: Option<String>,
        expected: String,
    },

    /// One of two settings that only work together is set, the other is not.
    #[error(
        "{set_env} (TOML key `{set_key}`) is set, from {origin}, but {missing_env} (TOML key \
         `{missing_key}`) is not: set both or neither"
    )]
    Incomplete {
        set_key: &'static str,
        set_env: &'static str,
        origin: Origin,
        missing_key: &'static str,
        missing_env: &'static str,
    },

    /// PostgreSQL is shared by many nodes, so a key file on one node's disk cannot serve; the key must be
    /// given.
    #[error(
        "CLAVEX_MASTER_KEY (TOML key `master_key`) is required because CLAVEX_DATABASE_URL (from \
         {database_origin}) is PostgreSQL: every node of the installation needs the same key; generate \
         one with `openssl rand -base64 32`"
    )]
    MasterKeyRequired { database_origin: Origin },

    /// A key in the TOML file that is not a setting (likely a typo, which must not be silently ignored).
    #[error("unknown key `{key}` in config file {}; known keys: {known}", .path.display())]
    UnknownKey {
        key: String,
        path: PathBuf,
        known: String,
    },

    /// The named config file cannot be read (missing, unreadable, not UTF-8).
    #[error("cannot read config file {} (named by {named_by}): {reason}", .path.display())]
    ConfigFileUnreadable {
        path: PathBuf,
        named_by: Origin,
        reason: String,
    },

    /// The named config file is not valid TOML.
    #[error("config file {} (named by {named_by}) is not valid TOML: {reason}", .path.display())]
    ConfigFileSyntax {
        path: PathBuf,
        named_by: Origin,
        reason: String,
    },

    /// A variable Clavex reads holds bytes that are not UTF-8.
    #[error("environment variable {env} is not valid UTF-8")]
    NotUnicode { env: String },
}

fn shown(value: &Option<String>) -> String {
    value
        .as_ref()
        .map(|v| format!(", value `{v}`"))
        .unwrap_or_default()
}
