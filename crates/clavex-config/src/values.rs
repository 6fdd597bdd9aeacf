//! The validated value types of settings (`Secret`, `PublicUrl`, `DatabaseUrl`, `LogFormat`, `TlsFiles`)
//! and their parsers. Each parser's error says what was expected, so that the loader only has to add
//! which setting it was and where the value came from.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use url::Url;

/// Why a value was refused: what was expected, without the setting's name (the loader adds that).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidValue(pub String);

impl InvalidValue {
    fn new(text: impl Into<String>) -> Self {
        Self(text.into())
    }
}

/// A secret string (token, password, key). `Debug` never shows it, so a `{:?}` of `Settings` is safe
/// to log; there is deliberately no `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"[redacted]\"")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

/// Parses `listen`: an IP address and port. Host names are refused rather than resolved, because a
/// name that resolves to several addresses would make the bound address a guess.
pub fn parse_listen(text: &str) -> Result<SocketAddr, InvalidValue> {
    text.parse().map_err(|_| {
        InvalidValue::new(
            "expected an IP address and port such as 127.0.0.1:8080, 0.0.0.0:8080 or [::]:8080 \
             (host names are not resolved)",
        )
    })
}

/// The public base URL `P`: absolute http(s), no query or fragment, never ending in `/`.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicUrl {
    url: Url,
    /// `url` as text without its trailing slash: issuers are built from this and must match byte for byte.
    text: String,
}

impl PublicUrl {
    pub fn parse(text: &str) -> Result<Self, InvalidValue> {
        const EXAMPLE: &str = "an absolute http:// or https:// URL such as https://id.example.com";
        let url =
            Url::parse(text).map_err(|e| InvalidValue(format!("expected {EXAMPLE} ({e})")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(InvalidValue(format!(
                "expected {EXAMPLE}, not a {}: URL",
                url.scheme()
            )));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(InvalidValue(format!("expected {EXAMPLE}, with a host")));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(InvalidValue::new(
                "expected a public URL without user name or password",
            ));
        }
        if url.query().is_some() {
            return Err(InvalidValue::new(
                "expected a public URL without query (`?...`)",
            ));
        }
        if url.fragment().is_some() {
            return Err(InvalidValue::new(
                "expected a public URL without fragment (`#...`)",
            ));
        }
        let mut normal = url.as_str().to_owned();
        if normal.ends_with('/') {
            normal.pop();
        }
        // Only one slash is forgiven: `P//` would give issuers such as `P//o`, which is surely a typo.
        if normal.ends_with('/') {
            return Err(InvalidValue::new(
                "expected a public URL ending in at most one `/`",
            ));
        }
        Ok(Self { url, text: normal })
    }

    /// The URL without trailing slash, e.g. `https://id.acme.eu` or `https://acme.eu/id`.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn is_https(&self) -> bool {
        self.url.scheme() == "https"
    }

    /// The parsed URL (its path is at least `/`, as URLs with a host always have one).
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The path prefix under which Clavex is served, without trailing slash: `""` for `https://id.acme.eu`,
    /// `"/id"` for `https://acme.eu/id/`. Routes and cookie paths live under it.
    pub fn base_path(&self) -> &str {
        let path = self.url.path();
        path.strip_suffix('/').unwrap_or(path)
    }

    /// `P/path`, with exactly one slash between, e.g. `join("acme")` is the issuer of org `acme`.
    pub fn join(&self, path: &str) -> String {
        format!("{}/{}", self.text, path.trim_start_matches('/'))
    }
}

impl fmt::Display for PublicUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for PublicUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PublicUrl").field(&self.text).finish()
    }
}

impl FromStr for PublicUrl {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// Where the data lives. `url` is what was configured, to be handed to the database driver unchanged.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// `sqlite://PATH` or `sqlite:PATH` (query parameters such as `?mode=rwc` stay in `url`, not `path`).
    /// `sqlite::memory:` gives the path `:memory:`.
    Sqlite { path: PathBuf, url: String },
    /// `postgres://...` or `postgresql://...`.
    Postgres { url: String },
}

impl DatabaseUrl {
    pub fn parse(text: &str) -> Result<Self, InvalidValue> {
        const EXPECTED: &str =
            "expected sqlite://PATH, sqlite:PATH, postgres://... or postgresql://...";
        if let Some(rest) = text
            .strip_prefix("sqlite://")
            .or_else(|| text.strip_prefix("sqlite:"))
        {
            let path = rest.split_once('?').map_or(rest, |(path, _query)| path);
            if path.is_empty() {
                return Err(InvalidValue(format!(
                    "{EXPECTED}: the SQLite file path is missing, e.g. sqlite://./clavex-data/clavex.db"
                )));
            }
            return Ok(Self::Sqlite {
                path: PathBuf::from(path),
                url: text.to_owned(),
            });
        }
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            // The parser's own message never quotes the URL, so it cannot leak a password.
            Url::parse(text)
                .map_err(|e| InvalidValue(format!("{EXPECTED}: not a valid URL ({e})")))?;
            return Ok(Self::Postgres {
                url: text.to_owned(),
            });
        }
        Err(InvalidValue::new(EXPECTED))
    }

    /// The URL as configured, for the driver. May hold a password: log `redacted()` instead.
    pub fn url(&self) -> &str {
        match self {
            Self::Sqlite { url, .. } | Self::Postgres { url } => url,
        }
    }

    pub fn is_sqlite(&self) -> bool {
        matches!(self, Self::Sqlite { .. })
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, Self::Postgres { .. })
    }

    /// The URL with any password replaced by `REDACTED`, fit for logs and error messages.
    pub fn redacted(&self) -> String {
        match self {
            Self::Sqlite { url, .. } => url.clone(),
            Self::Postgres { url } => {
                redact_url(url).unwrap_or_else(|| "postgres://[unparsable URL]".to_owned())
            }
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite { path, url } => f
                .debug_struct("Sqlite")
                .field("path", path)
                .field("url", url)
                .finish(),
            Self::Postgres { .. } => f
                .debug_struct("Postgres")
                .field("url", &self.redacted())
                .finish(),
        }
    }
}

impl FromStr for DatabaseUrl {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// `text` with the password of its authority and any `password=` query parameter (libpq accepts both)
/// replaced; `None` when it is not a URL, as then nothing can be said about where a password would be.
pub(crate) fn redact_url(text: &str) -> Option<String> {
    const MASK: &str = "REDACTED";
    let mut url = Url::parse(text).ok()?;
    if url.password().is_some() {
        url.set_password(Some(MASK)).ok()?;
    }
    let has_password_param = url
        .query_pairs()
        .any(|(k, _)| k.eq_ignore_ascii_case("password"));
    if has_password_param {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let v = if k.eq_ignore_ascii_case("password") {
                    MASK.to_owned()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    Some(url.into())
}

/// Format of log lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

impl LogFormat {
    pub fn parse(text: &str) -> Result<Self, InvalidValue> {
        if text.eq_ignore_ascii_case("text") {
            Ok(Self::Text)
        } else if text.eq_ignore_ascii_case("json") {
            Ok(Self::Json)
        } else {
            Err(InvalidValue::new("expected `text` or `json`"))
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Json => "json",
        }
    }
}

impl FromStr for LogFormat {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// Checks a log filter with the same parser the server installs, so a typo stops start-up instead of
/// silently logging nothing.
pub fn check_log_filter(text: &str) -> Result<(), InvalidValue> {
    tracing_subscriber::EnvFilter::try_new(text)
        .map(drop)
        .map_err(|e| {
            InvalidValue(format!(
                "expected a tracing filter such as `info`, `clavex=debug` or `warn,clavex=info` ({e})"
            ))
        })
}

/// Certificate chain and private key, both PEM, for serving HTTPS directly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Length of the master key in bytes.
pub const MASTER_KEY_LEN: usize = 32;

/// Decodes a master key: base64 of exactly 32 bytes, standard or URL-safe alphabet, padded or not,
/// surrounding whitespace ignored (a key pasted from `openssl rand -base64 32 > file` ends in a newline).
/// Also meant for the key file created beside a SQLite database, so that both follow one rule.
pub fn decode_master_key(text: &str) -> Result<[u8; MASTER_KEY_LEN], InvalidValue> {
    const EXPECTED: &str = "expected base64 of exactly 32 random bytes (44 characters, e.g. from \
                            `openssl rand -base64 32`)";
    let config =
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
    let engines = [
        GeneralPurpose::new(&alphabet::STANDARD, config),
        GeneralPurpose::new(&alphabet::URL_SAFE, config),
    ];
    let text = text.trim();
    let bytes = engines
        .iter()
        .find_map(|engine| engine.decode(text).ok())
        .ok_or_else(|| InvalidValue(format!("{EXPECTED}; this is not base64")))?;
    let len = bytes.len();
    <[u8; MASTER_KEY_LEN]>::try_from(bytes)
        .map_err(|_| InvalidValue(format!("{EXPECTED}; this decodes to {len} bytes")))
}

/// Shortest bootstrap admin token accepted: it is a superadmin credential, often set by hand.
pub const MIN_BOOTSTRAP_TOKEN_CHARS: usize = 16;

pub(crate) fn check_bootstrap_token(text: &str) -> Result<(), InvalidValue> {
    let chars = text.chars().count();
    if chars < MIN_BOOTSTRAP_TOKEN_CHARS {
        return Err(InvalidValue(format!(
            "expected at least {MIN_BOOTSTRAP_TOKEN_CHARS} characters, got {chars}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_debug_is_redacted() {
        let s = Secret::new("hunter2hunter2hunter2");
        assert_eq!(format!("{s:?}"), "\"[redacted]\"");
        assert_eq!(s.expose(), "hunter2hunter2hunter2");
    }

    #[test]
    fn public_url_normalises_one_trailing_slash() {
        let p = PublicUrl::parse("https://id.acme.eu/").unwrap();
        assert_eq!(p.as_str(), "https://id.acme.eu");
        assert!(p.is_https());
        assert_eq!(p.base_path(), "");
        assert_eq!(p.join("acme"), "https://id.acme.eu/acme");
        assert_eq!(p.to_string(), "https://id.acme.eu");

        let p = PublicUrl::parse("http://acme.eu:8443/id/").unwrap();
        assert_eq!(p.as_str(), "http://acme.eu:8443/id");
        assert!(!p.is_https());
        assert_eq!(p.base_path(), "/id");
        assert_eq!(p.join("/o/token"), "http://acme.eu:8443/id/o/token");

        assert_eq!(
            PublicUrl::parse("http://localhost:8080").unwrap().as_str(),
            "http://localhost:8080"
        );
    }

    #[test]
    fn public_url_refusals() {
        for bad in [
            "id.acme.eu",
            "/relative",
            "ftp://id.acme.eu",
            "https://id.acme.eu/?a=b",
            "https://id.acme.eu/#x",
            "https://user:pw@id.acme.eu",
            "https://id.acme.eu//",
            "mailto:x@y",
        ] {
            assert!(PublicUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn database_urls() {
        assert_eq!(
            DatabaseUrl::parse("sqlite://./data/c.db").unwrap(),
            DatabaseUrl::Sqlite {
                path: "./data/c.db".into(),
                url: "sqlite://./data/c.db".into()
            }
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:c.db?mode=rwc").unwrap(),
            DatabaseUrl::Sqlite {
                path: "c.db".into(),
                url: "sqlite:c.db?mode=rwc".into()
            }
        );
        let abs = DatabaseUrl::parse("sqlite:///var/lib/clavex/c.db").unwrap();
        assert!(
            matches!(&abs, DatabaseUrl::Sqlite { path, .. } if path == std::path::Path::new("/var/lib/clavex/c.db"))
        );
        let mem = DatabaseUrl::parse("sqlite::memory:").unwrap();
        assert!(
            matches!(&mem, DatabaseUrl::Sqlite { path, .. } if path == std::path::Path::new(":memory:"))
        );

        let pg = DatabaseUrl::parse("postgresql://clavex:s3cret@db:5432/clavex").unwrap();
        assert!(pg.is_postgres() && !pg.is_sqlite());
        assert_eq!(pg.url(), "postgresql://clavex:s3cret@db:5432/clavex");
        assert!(!pg.redacted().contains("s3cret"));
        assert!(!format!("{pg:?}").contains("s3cret"));
        let pg = DatabaseUrl::parse("postgres://db/clavex?user=c&password=s3cret").unwrap();
        assert!(!pg.redacted().contains("s3cret"), "{}", pg.redacted());
        assert!(pg.redacted().contains("user=c"));

        for bad in [
            "mysql://db/x",
            "sqlite://",
            "sqlite:",
            "clavex.db",
            "postgres://[bad",
        ] {
            assert!(DatabaseUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn master_key_alphabets_and_length() {
        let bytes: Vec<u8> = (0u8..32)
            .map(|i| i.wrapping_mul(37).wrapping_add(250))
            .collect();
        let std = base64::engine::general_purpose::STANDARD.encode(&bytes);
        let url = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&bytes);
        assert_ne!(
            std.trim_end_matches('='),
            url,
            "test needs a key where the alphabets differ"
        );
        assert_eq!(decode_master_key(&std).unwrap().to_vec(), bytes);
        assert_eq!(decode_master_key(&url).unwrap().to_vec(), bytes);
        assert_eq!(
            decode_master_key(&format!("{std}\n")).unwrap().to_vec(),
            bytes
        );

        let short = base64::engine::general_purpose::STANDARD.encode([1u8; 31]);
        let err = decode_master_key(&short).unwrap_err();
        assert!(err.0.contains("31 bytes"), "{err}");
        assert!(decode_master_key("not base64 at all!").is_err());
    }

    #[test]
    fn log_filters_and_formats() {
        assert!(check_log_filter("info").is_ok());
        assert!(check_log_filter("warn,clavex=debug,tower_http=info").is_ok());
        assert!(check_log_filter("clavex=loud").is_err());
        assert_eq!(LogFormat::parse("JSON").unwrap(), LogFormat::Json);
        assert_eq!(LogFormat::parse("text").unwrap().as_str(), "text");
        assert!(LogFormat::parse("yaml").is_err());
    }

    #[test]
    fn listen_refuses_host_names() {
        assert!(parse_listen("[::]:8080").is_ok());
        assert!(parse_listen("localhost:8080").is_err());
        assert!(parse_listen("127.0.0.1").is_err());
    }
}
