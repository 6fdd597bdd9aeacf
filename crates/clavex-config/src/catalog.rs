//! The catalogue of settings: for each one its name, variable, flag, TOML key, default, accepted range and
//! description. `describe()` publishes it; the loader reads names and defaults from the same table, so the
//! documentation, the CLI flags and the behaviour cannot drift apart.

/// One setting as documented for operators (docs/configuration.md is checked against `describe()`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SettingDoc {
    /// Identifier of the setting; the same as the TOML key and the `FlagOverrides` field.
    pub name: &'static str,
    /// Environment variable, e.g. `CLAVEX_LISTEN`.
    pub env: &'static str,
    /// Long command-line flag, e.g. `--listen`.
    pub flag: &'static str,
    /// Key in the TOML file; `None` only for the file's own path (`CLAVEX_CONFIG`).
    pub toml_key: Option<&'static str>,
    /// Default as the operator would write it; `None` when the setting is unset by default.
    pub default: Option<&'static str>,
    /// What the setting does and which values it accepts.
    pub description: &'static str,
}

/// Every setting, with the config file's own path first.
pub fn describe() -> Vec<SettingDoc> {
    let mut docs = Vec::with_capacity(SETTINGS.len() + 1);
    docs.push(CONFIG_FILE);
    docs.extend(SETTINGS.iter().map(Spec::doc));
    docs
}

/// Variable naming the TOML file when no `--config` flag is given.
pub const CONFIG_ENV: &str = "CLAVEX_CONFIG";
/// Flag naming the TOML file.
pub const CONFIG_FLAG: &str = "--config";
/// Prefix of every Clavex environment variable.
pub const ENV_PREFIX: &str = "CLAVEX_";

const CONFIG_FILE: SettingDoc = SettingDoc {
    name: "config",
    env: CONFIG_ENV,
    flag: CONFIG_FLAG,
    toml_key: None,
    default: None,
    description: "Path of an optional TOML file of settings; its keys are the variable names below in lower \
                  case without `CLAVEX_`. A file named here must exist, and an unknown key in it is an error. \
                  Flags win over variables, variables over the file, the file over defaults.",
};

/// The settings read from flags, environment and file. The order of variants is the order of `SETTINGS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SettingId {
    Listen,
    PublicUrl,
    DatabaseUrl,
    DatabaseMaxConnections,
    BootstrapAdminToken,
    BootstrapAdminUsername,
    BootstrapAdminPassword,
    MasterKey,
    Log,
    LogFormat,
    TlsCert,
    TlsKey,
    TrustedProxies,
    AccessTokenTtlSeconds,
    IdTokenTtlSeconds,
    RefreshTokenTtlSeconds,
    SessionTtlSeconds,
    MaxBodyBytes,
    AuditRetentionDays,
    AuditTokenEvents,
    Metrics,
    MetricsListen,
    MetricsOrgs,
}

/// How a raw value is read before the setting's own parser sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A string; in TOML it must be quoted.
    Text,
    /// A whole number within `min..=max`; in TOML a bare integer (a quoted one is accepted too, as variables
    /// are always text).
    Integer {
        min: u64,
        max: u64,
        unit: &'static str,
    },
}

/// A setting as the loader needs it: the published doc plus how to read it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Spec {
    pub key: SettingId,
    pub name: &'static str,
    pub env: &'static str,
    pub flag: &'static str,
    pub default: Option<&'static str>,
    pub description: &'static str,
    pub kind: Kind,
    /// Secret values are never repeated in error messages.
    pub secret: bool,
}

impl Spec {
    fn doc(&self) -> SettingDoc {
        SettingDoc {
            name: self.name,
            env: self.env,
            flag: self.flag,
            toml_key: Some(self.name),
            default: self.default,
            description: self.description,
        }
    }
}

/// The spec of `key`. `SETTINGS` is ordered like `SettingId` (a unit test holds it to that).
pub(crate) fn spec(key: SettingId) -> &'static Spec {
    &SETTINGS[key as usize]
}

/// The spec whose TOML key is `name`.
pub(crate) fn spec_by_name(name: &str) -> Option<&'static Spec> {
    SETTINGS.iter().find(|s| s.name == name)
}

/// Whether `var` is one of the variables Clavex reads (other `CLAVEX_*` variables are ignored).
pub(crate) fn is_known_env(var: &str) -> bool {
    var == CONFIG_ENV || SETTINGS.iter().any(|s| s.env == var)
}

const fn text(
    key: SettingId,
    name: &'static str,
    env: &'static str,
    flag: &'static str,
    default: Option<&'static str>,
    description: &'static str,
) -> Spec {
    Spec {
        key,
        name,
        env,
        flag,
        default,
        description,
        kind: Kind::Text,
        secret: false,
    }
}

const fn secret(spec: Spec) -> Spec {
    Spec {
        secret: true,
        ..spec
    }
}

const fn integer(
    key: SettingId,
    name: &'static str,
    env: &'static str,
    flag: &'static str,
    default: &'static str,
    (min, max, unit): (u64, u64, &'static str),
    description: &'static str,
) -> Spec {
    Spec {
        key,
        name,
        env,
        flag,
        default: Some(default),
        description,
        kind: Kind::Integer { min, max, unit },
        secret: false,
    }
}

pub(crate) static SETTINGS: [Spec; 23] = [
    text(
        SettingId::Listen,
        "listen",
        "CLAVEX_LISTEN",
        "--listen",
        Some("127.0.0.1:8080"),
        "IP address and port to bind, e.g. `0.0.0.0:8080` or `[::]:8080` (host names are not resolved).",
    ),
    text(
        SettingId::PublicUrl,
        "public_url",
        "CLAVEX_PUBLIC_URL",
        "--public-url",
        Some("http://localhost:8080"),
        "Public base URL `P` under which browsers and applications reach Clavex: an absolute http:// or \
         https:// URL without query or fragment; one trailing `/` is removed. The issuer of org `o` is `P/o`.",
    ),
    text(
        SettingId::DatabaseUrl,
        "database_url",
        "CLAVEX_DATABASE_URL",
        "--database-url",
        Some("sqlite://./clavex-data/clavex.db"),
        "`sqlite://PATH` (or `sqlite:PATH`) for an embedded SQLite file, created with its directory on first \
         start; `postgres://...` or `postgresql://...` for a PostgreSQL database shared by many nodes.",
    ),
    integer(
        SettingId::DatabaseMaxConnections,
        "database_max_connections",
        "CLAVEX_DATABASE_MAX_CONNECTIONS",
        "--database-max-connections",
        "16",
        (1, 1_000, "connections"),
        "Most database connections one node holds (1 to 1000). On PostgreSQL keep the sum over all nodes, plus \
         what backups and other clients need, below the server's `max_connections` (100 by default). Connections \
         are opened on demand and a request waits up to 5 seconds for one before answering 503. On a SQLite file, \
         sign-ins, token requests and token checks use a few direct connections of their own besides these \
         (about one per core, opened when first needed).",
    ),
    secret(text(
        SettingId::BootstrapAdminToken,
        "bootstrap_admin_token",
        "CLAVEX_BOOTSTRAP_ADMIN_TOKEN",
        "--bootstrap-admin-token",
        None,
        "If set, a superadmin API token with exactly this value exists after start-up (idempotent; for \
         automation). At least 16 characters.",
    )),
    text(
        SettingId::BootstrapAdminUsername,
        "bootstrap_admin_username",
        "CLAVEX_BOOTSTRAP_ADMIN_USERNAME",
        "--bootstrap-admin-username",
        None,
        "With `CLAVEX_BOOTSTRAP_ADMIN_PASSWORD`: a console superadmin with these credentials exists after \
         start-up (idempotent). Set both or neither.",
    ),
    secret(text(
        SettingId::BootstrapAdminPassword,
        "bootstrap_admin_password",
        "CLAVEX_BOOTSTRAP_ADMIN_PASSWORD",
        "--bootstrap-admin-password",
        None,
        "Password of the console superadmin named by `CLAVEX_BOOTSTRAP_ADMIN_USERNAME`. Set both or neither.",
    )),
    secret(text(
        SettingId::MasterKey,
        "master_key",
        "CLAVEX_MASTER_KEY",
        "--master-key",
        None,
        "Base64 (standard or URL-safe alphabet, padding optional) of 32 random bytes, e.g. from \
         `openssl rand -base64 32`, that seal private keys and cookie keys at rest; every node of one \
         installation has the same. Unset on SQLite: a key file is created beside the database on first \
         start. Unset on PostgreSQL: start-up stops with a message.",
    )),
    text(
        SettingId::Log,
        "log",
        "CLAVEX_LOG",
        "--log",
        Some("info"),
        "Log filter in tracing `EnvFilter` syntax, e.g. `info`, `clavex=debug` or `warn,clavex=info`.",
    ),
    text(
        SettingId::LogFormat,
        "log_format",
        "CLAVEX_LOG_FORMAT",
        "--log-format",
        Some("text"),
        "Log output format: `text` (human-readable lines) or `json` (one JSON object per line).",
    ),
    text(
        SettingId::TlsCert,
        "tls_cert",
        "CLAVEX_TLS_CERT",
        "--tls-cert",
        None,
        "PEM file with the certificate chain (server certificate first, then intermediates). With \
         `CLAVEX_TLS_KEY`, Clavex serves HTTPS itself on `CLAVEX_LISTEN` (TLS 1.2 and 1.3, HTTP/1.1) and \
         no plain HTTP there; both files are checked every 2 seconds and a changed, valid pair is used for \
         new connections without a restart. Set both or neither.",
    ),
    text(
        SettingId::TlsKey,
        "tls_key",
        "CLAVEX_TLS_KEY",
        "--tls-key",
        None,
        "PEM file with the private key of `CLAVEX_TLS_CERT`: PKCS#8 (`BEGIN PRIVATE KEY`), RSA (`BEGIN RSA \
         PRIVATE KEY`) or SEC1 (`BEGIN EC PRIVATE KEY`), not encrypted. Set both or neither.",
    ),
    text(
        SettingId::TrustedProxies,
        "trusted_proxies",
        "CLAVEX_TRUSTED_PROXIES",
        "--trusted-proxies",
        None,
        "Comma-separated IP addresses and CIDR networks of reverse proxies, e.g. `127.0.0.1, 10.0.0.0/8`. \
         Only from a peer in this list is `X-Forwarded-For` believed (the client is its right-most address \
         that is not itself a trusted proxy) and an incoming `X-Request-Id` reused. Unset: the TCP peer is \
         the client. Forwarded host and proto headers are never used: links come from `CLAVEX_PUBLIC_URL`.",
    ),
    integer(
        SettingId::AccessTokenTtlSeconds,
        "access_token_ttl_seconds",
        "CLAVEX_ACCESS_TOKEN_TTL_SECONDS",
        "--access-token-ttl-seconds",
        "300",
        (30, 86_400, "seconds"),
        "Lifetime of access tokens, in seconds (30 to 86400).",
    ),
    integer(
        SettingId::IdTokenTtlSeconds,
        "id_token_ttl_seconds",
        "CLAVEX_ID_TOKEN_TTL_SECONDS",
        "--id-token-ttl-seconds",
        "300",
        (30, 86_400, "seconds"),
        "Lifetime of ID tokens, in seconds (30 to 86400).",
    ),
    integer(
        SettingId::RefreshTokenTtlSeconds,
        "refresh_token_ttl_seconds",
        "CLAVEX_REFRESH_TOKEN_TTL_SECONDS",
        "--refresh-token-ttl-seconds",
        "2592000",
        (60, 31_536_000, "seconds"),
        "Lifetime of refresh tokens, in seconds (60 to 31536000); the default is 30 days.",
    ),
    integer(
        SettingId::SessionTtlSeconds,
        "session_ttl_seconds",
        "CLAVEX_SESSION_TTL_SECONDS",
        "--session-ttl-seconds",
        "36000",
        (60, 2_592_000, "seconds"),
        "Lifetime of a browser's sign-in (SSO) session, in seconds (60 to 2592000); the default is 10 hours.",
    ),
    integer(
        SettingId::MaxBodyBytes,
        "max_body_bytes",
        "CLAVEX_MAX_BODY_BYTES",
        "--max-body-bytes",
        "65536",
        (1_024, 16_777_216, "bytes"),
        "Largest request body accepted, in bytes (1024 to 16777216); larger requests get 413.",
    ),
    integer(
        SettingId::AuditRetentionDays,
        "audit_retention_days",
        "CLAVEX_AUDIT_RETENTION_DAYS",
        "--audit-retention-days",
        "365",
        (0, 36_500, "days"),
        "How long audit events are kept, in days (0 to 36500); the background clean-up deletes older ones. \
         `0` keeps them forever. Every node of an installation should use the same value.",
    ),
    text(
        SettingId::AuditTokenEvents,
        "audit_token_events",
        "CLAVEX_AUDIT_TOKEN_EVENTS",
        "--audit-token-events",
        Some("off"),
        "`on` or `off`. On: every token the token endpoint issues is recorded in the audit trail as \
         `token.issued` (client, grant type, scope, subject, token id), one row per grant: much more \
         audit data on a busy installation. Off: only refusals (code replay, refresh-token reuse) are.",
    ),
    text(
        SettingId::Metrics,
        "metrics",
        "CLAVEX_METRICS",
        "--metrics",
        Some("on"),
        "`on` or `off`. Off: no `/metrics` on any listener and nothing is recorded (see \
         docs/operations/metrics.md).",
    ),
    text(
        SettingId::MetricsListen,
        "metrics_listen",
        "CLAVEX_METRICS_LISTEN",
        "--metrics-listen",
        None,
        "IP address and port of a separate listener for `/metrics`, e.g. `127.0.0.1:9464`, so that metrics \
         need not be public; the main listener then answers 404 for `/metrics`. Unset: `/metrics` is served \
         on `CLAVEX_LISTEN`. Refused when metrics are off or when equal to `CLAVEX_LISTEN`.",
    ),
    text(
        SettingId::MetricsOrgs,
        "metrics_orgs",
        "CLAVEX_METRICS_ORGS",
        "--metrics-orgs",
        None,
        "Orgs whose slug becomes the `org` label of sign-in and token metrics: slugs separated by commas, \
         e.g. `acme,globex`, or `*` for every org. Other orgs are counted as `org=\"other\"`, which keeps the \
         number of series bounded. Unset: every org is `other`.",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_ordered_like_key() {
        for (i, s) in SETTINGS.iter().enumerate() {
            assert_eq!(s.key as usize, i, "{} is out of order", s.name);
            assert_eq!(spec(s.key).name, s.name);
        }
    }

    #[test]
    fn names_follow_one_rule() {
        for d in describe() {
            assert_eq!(d.env, format!("CLAVEX_{}", d.name.to_uppercase()));
            assert_eq!(d.flag, format!("--{}", d.name.replace('_', "-")));
            assert!(d.toml_key.is_none() || d.toml_key == Some(d.name));
            assert!(!d.description.is_empty());
        }
    }

    #[test]
    fn descriptions_state_the_integer_ranges() {
        for s in &SETTINGS {
            if let Kind::Integer { min, max, .. } = s.kind {
                let range = format!("({min} to {max}");
                assert!(s.description.contains(&range), "{}: {range}", s.name);
            }
        }
    }

    #[test]
    fn describe_lists_every_setting_once() {
        let docs = describe();
        assert_eq!(docs.len(), SETTINGS.len() + 1);
        let mut names: Vec<_> = docs.iter().map(|d| d.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), docs.len());
        assert!(is_known_env("CLAVEX_CONFIG"));
        assert!(is_known_env("CLAVEX_LISTEN"));
        assert!(!is_known_env("CLAVEX_TEST_BACKEND"));
    }
}
