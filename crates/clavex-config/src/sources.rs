//! The four layers a value can come from — flags, `CLAVEX_*` variables, the TOML file, defaults — and the
//! lookup that takes each setting from the highest layer that has it. Parsing into types happens in
//! `settings`; here values are only found, typed as text or integer, and tagged with their origin.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};

use figment::providers::{Format as _, Toml};
use figment::value::{Dict, Value};

use crate::catalog::{self, CONFIG_ENV, CONFIG_FLAG, ENV_PREFIX, Kind, SETTINGS, SettingId, Spec};
use crate::error::{ConfigError, Origin};
use crate::values::redact_url;

/// Values given on the command line; `None` where the flag was not given. One field per setting, named
/// like the TOML key, so the CLI can fill it from its own flags (see `SettingDoc::flag` for names).
#[derive(Clone, Default)]
pub struct FlagOverrides {
    /// `--config FILE`; wins over `CLAVEX_CONFIG`.
    pub config_file: Option<PathBuf>,
    pub listen: Option<String>,
    pub public_url: Option<String>,
    pub database_url: Option<String>,
    pub database_max_connections: Option<String>,
    pub bootstrap_admin_token: Option<String>,
    pub bootstrap_admin_username: Option<String>,
    pub bootstrap_admin_password: Option<String>,
    pub master_key: Option<String>,
    pub log: Option<String>,
    pub log_format: Option<String>,
    pub tls_cert: Option<String>,
    pub tls_key: Option<String>,
    pub trusted_proxies: Option<String>,
    pub access_token_ttl_seconds: Option<String>,
    pub id_token_ttl_seconds: Option<String>,
    pub refresh_token_ttl_seconds: Option<String>,
    pub session_ttl_seconds: Option<String>,
    pub max_body_bytes: Option<String>,
    pub audit_retention_days: Option<String>,
    pub audit_token_events: Option<String>,
    pub metrics: Option<String>,
    pub metrics_listen: Option<String>,
    pub metrics_orgs: Option<String>,
}

impl FlagOverrides {
    /// The flag value of `key`; the match is exhaustive, so a new setting cannot be forgotten here.
    fn get(&self, key: SettingId) -> Option<&str> {
        let value = match key {
            SettingId::Listen => &self.listen,
            SettingId::PublicUrl => &self.public_url,
            SettingId::DatabaseUrl => &self.database_url,
            SettingId::DatabaseMaxConnections => &self.database_max_connections,
            SettingId::BootstrapAdminToken => &self.bootstrap_admin_token,
            SettingId::BootstrapAdminUsername => &self.bootstrap_admin_username,
            SettingId::BootstrapAdminPassword => &self.bootstrap_admin_password,
            SettingId::MasterKey => &self.master_key,
            SettingId::Log => &self.log,
            SettingId::LogFormat => &self.log_format,
            SettingId::TlsCert => &self.tls_cert,
            SettingId::TlsKey => &self.tls_key,
            SettingId::TrustedProxies => &self.trusted_proxies,
            SettingId::AccessTokenTtlSeconds => &self.access_token_ttl_seconds,
            SettingId::IdTokenTtlSeconds => &self.id_token_ttl_seconds,
            SettingId::RefreshTokenTtlSeconds => &self.refresh_token_ttl_seconds,
            SettingId::SessionTtlSeconds => &self.session_ttl_seconds,
            SettingId::MaxBodyBytes => &self.max_body_bytes,
            SettingId::AuditRetentionDays => &self.audit_retention_days,
            SettingId::AuditTokenEvents => &self.audit_token_events,
            SettingId::Metrics => &self.metrics,
            SettingId::MetricsListen => &self.metrics_listen,
            SettingId::MetricsOrgs => &self.metrics_orgs,
        };
        value.as_deref()
    }
}

// Hand-written so that secrets given as flags do not end up in a debug log of the parsed command line.
impl fmt::Debug for FlagOverrides {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("FlagOverrides");
        s.field("config_file", &self.config_file);
        for spec in &SETTINGS {
            match self.get(spec.key) {
                Some(_) if spec.secret => s.field(spec.name, &Some("[redacted]")),
                value => s.field(spec.name, &value),
            };
        }
        s.finish()
    }
}

/// A value as found in a layer, before the setting's parser sees it.
#[derive(Debug, Clone, PartialEq)]
enum Raw {
    Text(String),
    Integer(i128),
    /// A TOML value of another type; the text names the type for the error message.
    Other(&'static str),
}

/// The config file, read and split into its keys.
struct FileLayer {
    path: PathBuf,
    values: BTreeMap<String, Value>,
}

/// All layers of one load.
pub(crate) struct Layers<'a> {
    flags: &'a FlagOverrides,
    env: HashMap<String, String>,
    file: Option<FileLayer>,
}

/// A found value of a text setting, with where it came from.
pub(crate) struct Found {
    pub text: String,
    pub origin: Origin,
}

impl<'a> Layers<'a> {
    /// Collects the layers: keeps only the variables Clavex reads (other `CLAVEX_*` variables, such as test
    /// switches, are none of its business), then finds and reads the config file.
    pub(crate) fn new(
        flags: &'a FlagOverrides,
        env: &[(String, String)],
    ) -> Result<Self, ConfigError> {
        let mut vars = HashMap::new();
        for (name, value) in env {
            // An empty variable counts as unset: `FOO=${FOO:-}` in compose files and unit files means that.
            if name.starts_with(ENV_PREFIX) && catalog::is_known_env(name) && !value.is_empty() {
                // Later entries win, as with repeated assignments in a shell.
                vars.insert(name.clone(), value.clone());
            }
        }
        let file = match config_file_name(flags, &vars) {
            Some((path, named_by)) => Some(read_file(path, named_by)?),
            None => None,
        };
        Ok(Self {
            flags,
            env: vars,
            file,
        })
    }

    pub(crate) fn config_file(&self) -> Option<&Path> {
        self.file.as_ref().map(|f| f.path.as_path())
    }

    /// The value of `spec` from the highest layer that has one, the default included. Empty strings in
    /// any layer count as unset.
    fn raw(&self, spec: &'static Spec) -> Option<(Raw, Origin)> {
        if let Some(v) = self.flags.get(spec.key).filter(|v| !v.is_empty()) {
            return Some((Raw::Text(v.to_owned()), Origin::Flag(spec.flag)));
        }
        if let Some(v) = self.env.get(spec.env) {
            return Some((Raw::Text(v.clone()), Origin::Env(spec.env)));
        }
        if let Some(file) = &self.file
            && let Some(value) = file.values.get(spec.name)
        {
            let raw = toml_raw(value);
            if raw != Raw::Text(String::new()) {
                return Some((raw, Origin::File(file.path.clone())));
            }
        }
        spec.default
            .map(|d| (Raw::Text(d.to_owned()), Origin::Default))
    }

    /// A text setting, `None` when no layer sets it and it has no default.
    pub(crate) fn text(&self, key: SettingId) -> Result<Option<Found>, ConfigError> {
        let spec = catalog::spec(key);
        let Some((raw, origin)) = self.raw(spec) else {
            return Ok(None);
        };
        match raw {
            Raw::Text(text) => Ok(Some(Found { text, origin })),
            Raw::Integer(_) => Err(invalid(
                spec,
                origin,
                None,
                "expected a string in quotes, found an integer",
            )),
            Raw::Other(what) => Err(invalid(
                spec,
                origin,
                None,
                &format!("expected a string in quotes, found {what}"),
            )),
        }
    }

    /// A text setting passed through `parse`, whose error becomes a `ConfigError` naming the setting.
    pub(crate) fn parsed<T>(
        &self,
        key: SettingId,
        parse: impl FnOnce(&str) -> Result<T, crate::values::InvalidValue>,
    ) -> Result<Option<(T, Origin)>, ConfigError> {
        let Some(found) = self.text(key)? else {
            return Ok(None);
        };
        match parse(&found.text) {
            Ok(value) => Ok(Some((value, found.origin))),
            Err(e) => {
                let spec = catalog::spec(key);
                Err(invalid(spec, found.origin, Some(&found.text), &e.0))
            }
        }
    }

    /// A setting that must have a value (all such settings have defaults, so only a catalogue mistake
    /// could make it missing; that is reported like any missing value rather than panicking).
    pub(crate) fn required<T>(
        &self,
        key: SettingId,
        parse: impl FnOnce(&str) -> Result<T, crate::values::InvalidValue>,
    ) -> Result<(T, Origin), ConfigError> {
        self.parsed(key, parse)?.ok_or_else(|| {
            invalid(
                catalog::spec(key),
                Origin::Default,
                None,
                "a value is required",
            )
        })
    }

    /// An integer setting, checked against its range from the catalogue.
    pub(crate) fn integer<T: TryFrom<u64>>(&self, key: SettingId) -> Result<T, ConfigError> {
        let spec = catalog::spec(key);
        let (min, max, unit) = match spec.kind {
            Kind::Integer { min, max, unit } => (min, max, unit),
            Kind::Text => (0, u64::MAX, "units"),
        };
        let expected = format!("expected a whole number of {unit} from {min} to {max}");
        let Some((raw, origin)) = self.raw(spec) else {
            return Err(invalid(spec, Origin::Default, None, "a value is required"));
        };
        let (number, shown) = match raw {
            Raw::Integer(n) => (Some(n), n.to_string()),
            Raw::Text(text) => (text.parse::<i128>().ok(), text),
            Raw::Other(what) => {
                return Err(invalid(
                    spec,
                    origin,
                    None,
                    &format!("{expected}, found {what}"),
                ));
            }
        };
        number
            .and_then(|n| u64::try_from(n).ok())
            .filter(|n| (min..=max).contains(n))
            .and_then(|n| T::try_from(n).ok())
            .ok_or_else(|| invalid(spec, origin, Some(&shown), &expected))
    }
}

/// Builds the error for a refused value, repeating the value only where that cannot leak a secret.
fn invalid(
    spec: &'static Spec,
    origin: Origin,
    value: Option<&str>,
    expected: &str,
) -> ConfigError {
    let value = value.and_then(|v| {
        if spec.secret {
            None
        } else if spec.key == SettingId::DatabaseUrl {
            // A PostgreSQL URL may carry a password: show it masked, or not at all if it cannot be parsed
            // and looks like it has credentials.
            redact_url(v).or_else(|| (!v.contains('@')).then(|| v.to_owned()))
        } else {
            Some(v.to_owned())
        }
    });
    ConfigError::Invalid {
        key: spec.name,
        env: spec.env,
        origin,
        value,
        expected: expected.to_owned(),
    }
}

/// The config file to read, if any, and what named it: the flag wins over the variable.
fn config_file_name(
    flags: &FlagOverrides,
    env: &HashMap<String, String>,
) -> Option<(PathBuf, Origin)> {
    if let Some(path) = flags
        .config_file
        .as_ref()
        .filter(|p| !p.as_os_str().is_empty())
    {
        return Some((path.clone(), Origin::Flag(CONFIG_FLAG)));
    }
    env.get(CONFIG_ENV)
        .map(|path| (PathBuf::from(path), Origin::Env(CONFIG_ENV)))
}

/// Reads and parses the file. A named file that is missing is an error: silently running on defaults
/// after a typo in the path would be worse than not starting.
fn read_file(path: PathBuf, named_by: Origin) -> Result<FileLayer, ConfigError> {
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) => {
            return Err(ConfigError::ConfigFileUnreadable {
                path,
                named_by,
                reason: e.to_string(),
            });
        }
    };
    let values: Dict = match Toml::from_str(&text) {
        Ok(values) => values,
        Err(e) => {
            return Err(ConfigError::ConfigFileSyntax {
                path,
                named_by,
                reason: e.to_string().trim_end().to_owned(),
            });
        }
    };
    if let Some(key) = values.keys().find(|k| catalog::spec_by_name(k).is_none()) {
        let known = SETTINGS
            .iter()
            .map(|s| s.name)
            .collect::<Vec<_>>()
            .join(", ");
        return Err(ConfigError::UnknownKey {
            key: key.clone(),
            path,
            known,
        });
    }
    Ok(FileLayer { path, values })
}

fn toml_raw(value: &Value) -> Raw {
    match value {
        Value::String(_, s) => Raw::Text(s.clone()),
        Value::Char(_, c) => Raw::Text(c.to_string()),
        Value::Num(_, n) => match n
            .to_i128()
            .or_else(|| n.to_u128().and_then(|u| i128::try_from(u).ok()))
        {
            Some(i) => Raw::Integer(i),
            None => Raw::Other("a non-integer number"),
        },
        Value::Bool(..) => Raw::Other("a boolean"),
        Value::Dict(..) => Raw::Other("a table"),
        Value::Array(..) => Raw::Other("an array"),
        Value::Empty(..) => Raw::Other("an empty value"),
    }
}
