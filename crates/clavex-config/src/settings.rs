//! `Settings`, the validated configuration of one Clavex process, and its loaders. All checks that can be
//! made without touching the database happen here, so that nothing starts half-configured.

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::catalog::{self, SettingId};
use crate::error::{ConfigError, Origin};
use crate::metrics::MetricsSettings;
use crate::proxies::TrustedProxies;
use crate::sources::{FlagOverrides, Layers};
use crate::values::{
    DatabaseUrl, InvalidValue, LogFormat, PublicUrl, Secret, TlsFiles, check_bootstrap_token,
    check_log_filter, decode_master_key, parse_listen,
};

/// The configuration of one process. `Debug` shows no secret (tokens, passwords, the master key and a
/// database password are redacted), so it may be logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub listen: SocketAddr,
    pub public_url: PublicUrl,
    pub database: DatabaseUrl,
    pub database_max_connections: u32,
    /// Token that must exist as a superadmin API token after start-up (at least 16 characters).
    pub bootstrap_admin_token: Option<Secret>,
    /// Username and password of a console superadmin that must exist after start-up.
    pub bootstrap_admin: Option<(String, Secret)>,
    /// The master key as configured; already checked to decode to 32 bytes (see `master_key_bytes`).
    pub master_key_base64: Option<Secret>,
    /// Log filter, already checked to parse as a tracing `EnvFilter`.
    pub log: String,
    pub log_format: LogFormat,
    pub tls: Option<TlsFiles>,
    /// Peers whose forwarding headers are believed; empty: nobody's.
    pub trusted_proxies: TrustedProxies,
    pub access_token_ttl_seconds: u32,
    pub id_token_ttl_seconds: u32,
    pub refresh_token_ttl_seconds: u32,
    pub session_ttl_seconds: u32,
    pub max_body_bytes: usize,
    /// Days audit events are kept; 0 keeps them forever.
    pub audit_retention_days: u32,
    /// Record every issued token as `token.issued`.
    pub audit_token_events: bool,
    pub metrics: MetricsSettings,
    /// The TOML file that was read, if any, for a start-up log line.
    pub config_file: Option<PathBuf>,
}

/// Master key `for_tests` uses with PostgreSQL, where one must be set. Fixed, so that test processes
/// sharing one database can open each other's sealed keys.
const TEST_MASTER_KEY: &str = "Y2xhdmV4LXRlc3QtbWFzdGVyLWtleS0zMi1ieXRlcyE=";

impl Settings {
    /// Loads settings from `flags`, the process environment and the config file, then defaults.
    pub fn load(flags: &FlagOverrides) -> Result<Settings, ConfigError> {
        let mut env = Vec::new();
        for (name, value) in std::env::vars_os() {
            let Some(name) = name.to_str() else { continue };
            if !catalog::is_known_env(name) {
                continue;
            }
            match value.into_string() {
                Ok(value) => env.push((name.to_owned(), value)),
                Err(_) => {
                    return Err(ConfigError::NotUnicode {
                        env: name.to_owned(),
                    });
                }
            }
        }
        Self::load_from(flags, &env)
    }

    /// Like `load`, with the environment given explicitly (`CLAVEX_CONFIG` is taken from it too).
    pub fn load_from(
        flags: &FlagOverrides,
        env: &[(String, String)],
    ) -> Result<Settings, ConfigError> {
        let layers = Layers::new(flags, env)?;

        let (listen, _) = layers.required(SettingId::Listen, parse_listen)?;
        let (public_url, _) = layers.required(SettingId::PublicUrl, PublicUrl::parse)?;
        let (database, database_origin) =
            layers.required(SettingId::DatabaseUrl, DatabaseUrl::parse)?;

        let bootstrap_admin_token = layers
            .parsed(SettingId::BootstrapAdminToken, |t| {
                check_bootstrap_token(t).map(|()| Secret::new(t))
            })?
            .map(|(token, _)| token);
        let username = layers.parsed(SettingId::BootstrapAdminUsername, |u| Ok(u.to_owned()))?;
        let password = layers.parsed(SettingId::BootstrapAdminPassword, |p| Ok(Secret::new(p)))?;
        let bootstrap_admin = both_or_neither(
            SettingId::BootstrapAdminUsername,
            username,
            SettingId::BootstrapAdminPassword,
            password,
        )?;

        let master_key_base64 = layers
            .parsed(SettingId::MasterKey, |k| {
                decode_master_key(k).map(|_| Secret::new(k))
            })?
            .map(|(key, _)| key);
        if database.is_postgres() && master_key_base64.is_none() {
            return Err(ConfigError::MasterKeyRequired { database_origin });
        }

        let (log, _) = layers.required(SettingId::Log, |l| {
            check_log_filter(l).map(|()| l.to_owned())
        })?;
        let (log_format, _) = layers.required(SettingId::LogFormat, LogFormat::parse)?;

        let cert = layers.parsed(SettingId::TlsCert, existing_file)?;
        let key = layers.parsed(SettingId::TlsKey, existing_file)?;
        let tls = both_or_neither(SettingId::TlsCert, cert, SettingId::TlsKey, key)?
            .map(|(cert, key)| TlsFiles { cert, key });
        let trusted_proxies = layers
            .parsed(SettingId::TrustedProxies, TrustedProxies::parse)?
            .map(|(proxies, _)| proxies)
            .unwrap_or_default();

        Ok(Settings {
            listen,
            public_url,
            database,
            database_max_connections: layers.integer(SettingId::DatabaseMaxConnections)?,
            bootstrap_admin_token,
            bootstrap_admin,
            master_key_base64,
            log,
            log_format,
            tls,
            trusted_proxies,
            access_token_ttl_seconds: layers.integer(SettingId::AccessTokenTtlSeconds)?,
            id_token_ttl_seconds: layers.integer(SettingId::IdTokenTtlSeconds)?,
            refresh_token_ttl_seconds: layers.integer(SettingId::RefreshTokenTtlSeconds)?,
            session_ttl_seconds: layers.integer(SettingId::SessionTtlSeconds)?,
            max_body_bytes: layers.integer(SettingId::MaxBodyBytes)?,
            audit_retention_days: layers.integer(SettingId::AuditRetentionDays)?,
            audit_token_events: layers
                .required(SettingId::AuditTokenEvents, crate::metrics::parse_switch)?
                .0,
            metrics: crate::metrics::load(&layers, listen)?,
            config_file: layers.config_file().map(PathBuf::from),
        })
    }

    /// Defaults, listening on `127.0.0.1:0`, with `database_url` (e.g. a SQLite file in a temporary
    /// directory, or the PostgreSQL of the test run, for which a fixed test master key is set).
    /// Ignores the process environment and any config file.
    ///
    /// # Panics
    /// If `database_url` is not a valid database URL: that is a mistake in the calling test.
    #[expect(
        clippy::panic,
        reason = "a test helper; returning a Result would only move the panic into every test"
    )]
    pub fn for_tests(database_url: &str) -> Settings {
        let mut flags = FlagOverrides {
            listen: Some("127.0.0.1:0".to_owned()),
            database_url: Some(database_url.to_owned()),
            ..FlagOverrides::default()
        };
        if DatabaseUrl::parse(database_url).is_ok_and(|d| d.is_postgres()) {
            flags.master_key = Some(TEST_MASTER_KEY.to_owned());
        }
        match Self::load_from(&flags, &[]) {
            Ok(settings) => settings,
            Err(e) => panic!("Settings::for_tests({database_url:?}): {e}"),
        }
    }

    /// The 32 bytes of the master key, if one is configured.
    pub fn master_key_bytes(&self) -> Option<[u8; crate::values::MASTER_KEY_LEN]> {
        // Validated at load; a value put into the field by hand that does not decode counts as absent.
        self.master_key_base64
            .as_ref()
            .and_then(|k| decode_master_key(k.expose()).ok())
    }
}

/// A TLS file path; it must exist now, so that a wrong path is reported with the variable that named it
/// rather than later as a bare I/O error.
fn existing_file(text: &str) -> Result<PathBuf, InvalidValue> {
    let path = PathBuf::from(text);
    if path.is_file() {
        Ok(path)
    } else {
        Err(InvalidValue(
            "expected the path of an existing PEM file (relative paths are relative to the working \
             directory)"
                .to_owned(),
        ))
    }
}

/// Pairs two settings that only make sense together.
fn both_or_neither<A, B>(
    a_key: SettingId,
    a: Option<(A, Origin)>,
    b_key: SettingId,
    b: Option<(B, Origin)>,
) -> Result<Option<(A, B)>, ConfigError> {
    let (a_spec, b_spec) = (catalog::spec(a_key), catalog::spec(b_key));
    match (a, b) {
        (Some((a, _)), Some((b, _))) => Ok(Some((a, b))),
        (None, None) => Ok(None),
        (Some((_, origin)), None) => Err(ConfigError::Incomplete {
            set_key: a_spec.name,
            set_env: a_spec.env,
            origin,
            missing_key: b_spec.name,
            missing_env: b_spec.env,
        }),
        (None, Some((_, origin))) => Err(ConfigError::Incomplete {
            set_key: b_spec.name,
            set_env: b_spec.env,
            origin,
            missing_key: a_spec.name,
            missing_env: a_spec.env,
        }),
    }
}
