//! Loader tests: defaults, precedence of the four layers, and that every refusal names the setting and
//! where its value came from. Environments are explicit lists, files are temporary.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use base64::Engine as _;

use crate::*;

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn load(flags: &FlagOverrides, pairs: &[(&str, &str)]) -> Result<Settings, ConfigError> {
    Settings::load_from(flags, &env(pairs))
}

fn ok(flags: &FlagOverrides, pairs: &[(&str, &str)]) -> Settings {
    load(flags, pairs).unwrap_or_else(|e| panic!("expected settings, got: {e}"))
}

fn err(flags: &FlagOverrides, pairs: &[(&str, &str)]) -> String {
    match load(flags, pairs) {
        Ok(s) => panic!("expected an error, got {s:?}"),
        Err(e) => e.to_string(),
    }
}

fn toml(contents: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::Builder::new().suffix(".toml").tempfile().unwrap();
    file.write_all(contents.as_bytes()).unwrap();
    file
}

fn with_file(path: &Path) -> FlagOverrides {
    FlagOverrides {
        config_file: Some(path.to_owned()),
        ..FlagOverrides::default()
    }
}

fn key_b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn none() -> FlagOverrides {
    FlagOverrides::default()
}

#[test]
fn defaults() {
    let s = ok(&none(), &[]);
    assert_eq!(s.listen, "127.0.0.1:8080".parse::<SocketAddr>().unwrap());
    assert_eq!(s.public_url.as_str(), "http://localhost:8080");
    assert!(!s.public_url.is_https());
    assert_eq!(
        s.database,
        DatabaseUrl::Sqlite {
            path: PathBuf::from("./clavex-data/clavex.db"),
            url: "sqlite://./clavex-data/clavex.db".to_owned(),
        }
    );
    assert_eq!(s.bootstrap_admin_token, None);
    assert_eq!(s.bootstrap_admin, None);
    assert_eq!(s.master_key_base64, None);
    assert_eq!(s.master_key_bytes(), None);
    assert_eq!(s.log, "info");
    assert_eq!(s.log_format, LogFormat::Text);
    assert_eq!(s.tls, None);
    assert_eq!(s.access_token_ttl_seconds, 300);
    assert_eq!(s.id_token_ttl_seconds, 300);
    assert_eq!(s.refresh_token_ttl_seconds, 2_592_000);
    assert_eq!(s.session_ttl_seconds, 36_000);
    assert_eq!(s.max_body_bytes, 65_536);
    assert_eq!(s.config_file, None);
}

#[test]
fn defaults_are_the_ones_describe_publishes() {
    let s = ok(&none(), &[]);
    let actual = |name: &str| -> Option<String> {
        match name {
            "config" => None,
            "listen" => Some(s.listen.to_string()),
            "public_url" => Some(s.public_url.to_string()),
            "database_url" => Some(s.database.url().to_owned()),
            "database_max_connections" => Some(s.database_max_connections.to_string()),
            "log" => Some(s.log.clone()),
            "log_format" => Some(s.log_format.as_str().to_owned()),
            "access_token_ttl_seconds" => Some(s.access_token_ttl_seconds.to_string()),
            "id_token_ttl_seconds" => Some(s.id_token_ttl_seconds.to_string()),
            "refresh_token_ttl_seconds" => Some(s.refresh_token_ttl_seconds.to_string()),
            "session_ttl_seconds" => Some(s.session_ttl_seconds.to_string()),
            "max_body_bytes" => Some(s.max_body_bytes.to_string()),
            "audit_retention_days" => Some(s.audit_retention_days.to_string()),
            "audit_token_events" => {
                Some(if s.audit_token_events { "on" } else { "off" }.to_owned())
            }
            "metrics" => Some(if s.metrics.enabled { "on" } else { "off" }.to_owned()),
            "metrics_listen" => s.metrics.listen.map(|a| a.to_string()),
            "metrics_orgs" => Some(s.metrics.orgs.to_string()).filter(|o| !o.is_empty()),
            "bootstrap_admin_token"
            | "bootstrap_admin_username"
            | "bootstrap_admin_password"
            | "master_key"
            | "tls_cert"
            | "tls_key"
            | "trusted_proxies" => None,
            other => panic!("setting {other} is not covered by this test"),
        }
    };
    for doc in describe() {
        assert_eq!(
            doc.default.map(str::to_owned),
            actual(doc.name),
            "{}",
            doc.name
        );
    }
}

#[test]
fn precedence_flag_over_env_over_file_over_default() {
    let file = toml("listen = \"127.0.0.1:1001\"\naccess_token_ttl_seconds = 601\n");
    let env_list = [
        ("CLAVEX_LISTEN", "127.0.0.1:1002"),
        ("CLAVEX_ACCESS_TOKEN_TTL_SECONDS", "602"),
    ];
    let mut flags = with_file(file.path());
    flags.listen = Some("127.0.0.1:1003".to_owned());
    flags.access_token_ttl_seconds = Some("603".to_owned());

    let s = ok(&flags, &env_list);
    assert_eq!(s.listen.port(), 1003);
    assert_eq!(s.access_token_ttl_seconds, 603);

    let s = ok(&with_file(file.path()), &env_list);
    assert_eq!(s.listen.port(), 1002);
    assert_eq!(s.access_token_ttl_seconds, 602);

    let s = ok(&with_file(file.path()), &[]);
    assert_eq!(s.listen.port(), 1001);
    assert_eq!(s.access_token_ttl_seconds, 601);
    assert_eq!(s.config_file.as_deref(), Some(file.path()));

    let s = ok(&none(), &[]);
    assert_eq!(s.listen.port(), 8080);
    assert_eq!(s.access_token_ttl_seconds, 300);
}

#[test]
fn every_setting_is_read_from_every_layer() {
    let cert = tempfile::NamedTempFile::new().unwrap();
    let key = tempfile::NamedTempFile::new().unwrap();
    let master = key_b64(&[9u8; 32]);
    let values: Vec<(&str, String)> = vec![
        ("listen", "0.0.0.0:9000".into()),
        ("public_url", "https://id.acme.eu".into()),
        ("database_url", "sqlite:/tmp/x.db".into()),
        ("bootstrap_admin_token", "0123456789abcdef".into()),
        ("bootstrap_admin_username", "root".into()),
        ("bootstrap_admin_password", "pw".into()),
        ("master_key", master.clone()),
        ("log", "debug".into()),
        ("log_format", "json".into()),
        ("tls_cert", cert.path().display().to_string()),
        ("tls_key", key.path().display().to_string()),
        ("trusted_proxies", "10.0.0.0/8, ::1".into()),
        ("access_token_ttl_seconds", "31".into()),
        ("id_token_ttl_seconds", "32".into()),
        ("refresh_token_ttl_seconds", "61".into()),
        ("session_ttl_seconds", "62".into()),
        ("max_body_bytes", "2048".into()),
        ("audit_retention_days", "30".into()),
        ("audit_token_events", "on".into()),
        ("metrics", "on".into()),
        ("metrics_listen", "127.0.0.1:9464".into()),
        ("metrics_orgs", "acme, globex".into()),
        ("database_max_connections", "40".into()),
    ];
    assert_eq!(
        values.len() + 1,
        describe().len(),
        "a setting is missing here"
    );
    let check = |s: &Settings| {
        assert_eq!(s.listen.port(), 9000);
        assert_eq!(s.public_url.as_str(), "https://id.acme.eu");
        assert_eq!(s.database.url(), "sqlite:/tmp/x.db");
        assert_eq!(
            s.bootstrap_admin_token.as_ref().unwrap().expose(),
            "0123456789abcdef"
        );
        let (user, pw) = s.bootstrap_admin.as_ref().unwrap();
        assert_eq!((user.as_str(), pw.expose()), ("root", "pw"));
        assert_eq!(s.master_key_bytes(), Some([9u8; 32]));
        assert_eq!(s.log, "debug");
        assert_eq!(s.log_format, LogFormat::Json);
        let tls = s.tls.as_ref().unwrap();
        assert_eq!(
            (tls.cert.as_path(), tls.key.as_path()),
            (cert.path(), key.path())
        );
        assert_eq!(s.trusted_proxies.to_string(), "10.0.0.0/8, ::1");
        assert_eq!(
            s.metrics,
            crate::MetricsSettings {
                enabled: true,
                listen: Some("127.0.0.1:9464".parse().unwrap()),
                orgs: crate::MetricsOrgs::Listed(vec!["acme".into(), "globex".into()]),
            }
        );
        assert_eq!(
            (
                s.access_token_ttl_seconds,
                s.id_token_ttl_seconds,
                s.refresh_token_ttl_seconds,
                s.session_ttl_seconds,
                s.max_body_bytes
            ),
            (31, 32, 61, 62, 2048)
        );
        assert_eq!(s.database_max_connections, 40);
    };

    let docs = describe();
    let doc = |name: &str| *docs.iter().find(|d| d.name == name).unwrap();

    // Environment.
    let vars: Vec<(String, String)> = values
        .iter()
        .map(|(name, v)| (doc(name).env.to_owned(), v.clone()))
        .collect();
    check(&Settings::load_from(&none(), &vars).unwrap());

    // File (integers written as TOML integers).
    let mut text = String::new();
    for (name, v) in &values {
        if name.ends_with("_seconds") || name.ends_with("_bytes") {
            text.push_str(&format!("{name} = {v}\n"));
        } else {
            text.push_str(&format!("{name} = {v:?}\n"));
        }
    }
    let file = toml(&text);
    check(&ok(&with_file(file.path()), &[]));

    // Flags.
    let get = |name: &str| Some(values.iter().find(|(n, _)| *n == name).unwrap().1.clone());
    let flags = FlagOverrides {
        config_file: None,
        listen: get("listen"),
        public_url: get("public_url"),
        database_url: get("database_url"),
        database_max_connections: get("database_max_connections"),
        bootstrap_admin_token: get("bootstrap_admin_token"),
        bootstrap_admin_username: get("bootstrap_admin_username"),
        bootstrap_admin_password: get("bootstrap_admin_password"),
        master_key: get("master_key"),
        log: get("log"),
        log_format: get("log_format"),
        tls_cert: get("tls_cert"),
        tls_key: get("tls_key"),
        trusted_proxies: get("trusted_proxies"),
        access_token_ttl_seconds: get("access_token_ttl_seconds"),
        id_token_ttl_seconds: get("id_token_ttl_seconds"),
        refresh_token_ttl_seconds: get("refresh_token_ttl_seconds"),
        session_ttl_seconds: get("session_ttl_seconds"),
        max_body_bytes: get("max_body_bytes"),
        audit_retention_days: get("audit_retention_days"),
        audit_token_events: get("audit_token_events"),
        metrics: get("metrics"),
        metrics_listen: get("metrics_listen"),
        metrics_orgs: get("metrics_orgs"),
    };
    check(&ok(&flags, &[]));

    let debug = format!("{flags:?}");
    for secret in ["0123456789abcdef", "\"pw\"", master.as_str()] {
        assert!(!debug.contains(secret), "{secret} leaks in {debug}");
    }
    assert!(debug.contains("root"));
}

#[test]
fn malformed_values_name_the_variable_key_and_origin() {
    let cases = [
        ("CLAVEX_LISTEN", "listen", "localhost"),
        ("CLAVEX_PUBLIC_URL", "public_url", "id.acme.eu"),
        ("CLAVEX_PUBLIC_URL", "public_url", "https://id.acme.eu/?x=1"),
        ("CLAVEX_DATABASE_URL", "database_url", "mysql://db/clavex"),
        ("CLAVEX_MASTER_KEY", "master_key", "c2hvcnQ="),
        ("CLAVEX_LOG", "log", "clavex=loud"),
        ("CLAVEX_LOG_FORMAT", "log_format", "yaml"),
        (
            "CLAVEX_ACCESS_TOKEN_TTL_SECONDS",
            "access_token_ttl_seconds",
            "29",
        ),
        (
            "CLAVEX_ACCESS_TOKEN_TTL_SECONDS",
            "access_token_ttl_seconds",
            "86401",
        ),
        (
            "CLAVEX_ACCESS_TOKEN_TTL_SECONDS",
            "access_token_ttl_seconds",
            "5m",
        ),
        ("CLAVEX_ID_TOKEN_TTL_SECONDS", "id_token_ttl_seconds", "-1"),
        (
            "CLAVEX_REFRESH_TOKEN_TTL_SECONDS",
            "refresh_token_ttl_seconds",
            "0",
        ),
        (
            "CLAVEX_SESSION_TTL_SECONDS",
            "session_ttl_seconds",
            "99999999999",
        ),
        ("CLAVEX_MAX_BODY_BYTES", "max_body_bytes", "1"),
        (
            "CLAVEX_DATABASE_MAX_CONNECTIONS",
            "database_max_connections",
            "0",
        ),
        (
            "CLAVEX_BOOTSTRAP_ADMIN_TOKEN",
            "bootstrap_admin_token",
            "short",
        ),
        ("CLAVEX_TLS_CERT", "tls_cert", "/nonexistent/cert.pem"),
        ("CLAVEX_TRUSTED_PROXIES", "trusted_proxies", "10.0.0.1/8"),
        ("CLAVEX_METRICS", "metrics", "maybe"),
        ("CLAVEX_METRICS_LISTEN", "metrics_listen", "localhost:9464"),
        ("CLAVEX_METRICS_ORGS", "metrics_orgs", "acme,Globex"),
    ];
    for (var, key, value) in cases {
        let e = err(&none(), &[(var, value)]);
        assert!(e.contains(var), "{var}={value}: {e}");
        assert!(e.contains(&format!("`{key}`")), "{var}={value}: {e}");
        assert!(e.contains("environment variable"), "{var}={value}: {e}");
        assert!(e.contains("expected"), "{var}={value}: {e}");
    }
}

#[test]
fn errors_say_which_flag_or_file_the_value_came_from() {
    let flags = FlagOverrides {
        log_format: Some("xml".to_owned()),
        ..none()
    };
    let e = err(&flags, &[]);
    assert!(e.contains("flag --log-format"), "{e}");
    assert!(
        e.contains("CLAVEX_LOG_FORMAT") && e.contains("`xml`"),
        "{e}"
    );

    let file = toml("public_url = \"ftp://id.acme.eu\"\n");
    let e = err(&with_file(file.path()), &[]);
    assert!(e.contains("CLAVEX_PUBLIC_URL"), "{e}");
    assert!(e.contains(&file.path().display().to_string()), "{e}");
    assert!(e.contains("http"), "{e}");
}

#[test]
fn secrets_are_not_repeated_in_errors() {
    let e = err(
        &none(),
        &[("CLAVEX_BOOTSTRAP_ADMIN_TOKEN", "tooshort-secret")],
    );
    assert!(!e.contains("tooshort-secret"), "{e}");
    assert!(e.contains("16 characters"), "{e}");

    let e = err(
        &none(),
        &[("CLAVEX_MASTER_KEY", "bm90LWEta2V5LWF0LWFsbA==")],
    );
    assert!(!e.contains("bm90LWEta2V5LWF0LWFsbA"), "{e}");
    assert!(e.contains("16 bytes"), "{e}");
}

#[test]
fn toml_types_are_checked() {
    let file = toml("listen = 8080\n");
    let e = err(&with_file(file.path()), &[]);
    assert!(
        e.contains("CLAVEX_LISTEN") && e.contains("found an integer"),
        "{e}"
    );

    let file = toml("session_ttl_seconds = 1.5\n");
    let e = err(&with_file(file.path()), &[]);
    assert!(
        e.contains("CLAVEX_SESSION_TTL_SECONDS") && e.contains("non-integer"),
        "{e}"
    );

    let file = toml("max_body_bytes = 10\n");
    let e = err(&with_file(file.path()), &[]);
    assert!(
        e.contains("CLAVEX_MAX_BODY_BYTES") && e.contains("1024 to 16777216"),
        "{e}"
    );

    // Quoted numbers are fine: variables are always text, files may mirror them.
    let file = toml("session_ttl_seconds = \"120\"\n");
    assert_eq!(ok(&with_file(file.path()), &[]).session_ttl_seconds, 120);

    let file = toml("listen = [\n");
    let e = err(&with_file(file.path()), &[]);
    assert!(
        e.contains("not valid TOML") && e.contains(&file.path().display().to_string()),
        "{e}"
    );
}

#[test]
fn unknown_toml_key_is_named() {
    let file = toml("listen = \"127.0.0.1:1\"\nlisten_adress = \"x\"\n");
    let e = err(&with_file(file.path()), &[]);
    assert!(e.contains("`listen_adress`"), "{e}");
    assert!(e.contains(&file.path().display().to_string()), "{e}");

    let file = toml("[server]\nlisten = \"127.0.0.1:1\"\n");
    let e = err(&with_file(file.path()), &[]);
    assert!(e.contains("`server`"), "{e}");
}

#[test]
fn unknown_clavex_variables_are_ignored() {
    let s = ok(
        &none(),
        &[
            ("CLAVEX_TEST_BACKEND", "postgres"),
            ("CLAVEX_SOMETHING_ELSE", "!!"),
            ("PATH", "/bin"),
        ],
    );
    assert_eq!(s.listen.port(), 8080);
}

#[test]
fn empty_variables_count_as_unset() {
    let file = toml("log = \"warn\"\n");
    let mut vars = vec![
        ("CLAVEX_LISTEN", ""),
        ("CLAVEX_MASTER_KEY", ""),
        ("CLAVEX_LOG", ""),
    ];
    let path = file.path().display().to_string();
    vars.push(("CLAVEX_CONFIG", &path));
    let s = ok(&none(), &vars);
    assert_eq!(s.listen.port(), 8080);
    assert_eq!(s.master_key_base64, None);
    assert_eq!(s.log, "warn");
}

#[test]
fn later_duplicates_in_the_environment_win() {
    let s = ok(
        &none(),
        &[
            ("CLAVEX_LISTEN", "127.0.0.1:1"),
            ("CLAVEX_LISTEN", "127.0.0.1:2"),
        ],
    );
    assert_eq!(s.listen.port(), 2);
}

#[test]
fn file_named_by_clavex_config() {
    let file = toml("log_format = \"json\"\n");
    let path = file.path().display().to_string();
    let s = ok(&none(), &[("CLAVEX_CONFIG", &path)]);
    assert_eq!(s.log_format, LogFormat::Json);
    assert_eq!(s.config_file.as_deref(), Some(file.path()));

    // --config wins over CLAVEX_CONFIG.
    let other = toml("log_format = \"text\"\n");
    let s = ok(&with_file(other.path()), &[("CLAVEX_CONFIG", &path)]);
    assert_eq!(s.log_format, LogFormat::Text);
    assert_eq!(s.config_file.as_deref(), Some(other.path()));
}

#[test]
fn missing_config_file_is_an_error_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.toml");
    let e = err(&with_file(&missing), &[]);
    assert!(e.contains(&missing.display().to_string()), "{e}");
    assert!(e.contains("--config"), "{e}");

    let path = missing.display().to_string();
    let e = err(&none(), &[("CLAVEX_CONFIG", &path)]);
    assert!(e.contains(&path) && e.contains("CLAVEX_CONFIG"), "{e}");

    // The real-environment loader reads the file before any variable, so this holds whatever is set.
    let e = Settings::load(&with_file(&missing))
        .unwrap_err()
        .to_string();
    assert!(e.contains(&path), "{e}");
}

#[test]
fn bootstrap_admin_needs_both_or_neither() {
    let e = err(&none(), &[("CLAVEX_BOOTSTRAP_ADMIN_USERNAME", "root")]);
    assert!(e.contains("CLAVEX_BOOTSTRAP_ADMIN_USERNAME"), "{e}");
    assert!(e.contains("CLAVEX_BOOTSTRAP_ADMIN_PASSWORD"), "{e}");
    assert!(e.contains("both or neither"), "{e}");

    let file = toml("bootstrap_admin_password = \"pw\"\n");
    let e = err(&with_file(file.path()), &[]);
    assert!(e.contains("CLAVEX_BOOTSTRAP_ADMIN_USERNAME"), "{e}");
    assert!(e.contains(&file.path().display().to_string()), "{e}");

    // The two halves may come from different layers.
    let s = ok(
        &with_file(file.path()),
        &[("CLAVEX_BOOTSTRAP_ADMIN_USERNAME", "root")],
    );
    let (user, pw) = s.bootstrap_admin.unwrap();
    assert_eq!((user.as_str(), pw.expose()), ("root", "pw"));
}

#[test]
fn tls_needs_both_or_neither() {
    let cert = tempfile::NamedTempFile::new().unwrap();
    let cert_path = cert.path().display().to_string();
    let e = err(&none(), &[("CLAVEX_TLS_CERT", &cert_path)]);
    assert!(
        e.contains("CLAVEX_TLS_CERT") && e.contains("CLAVEX_TLS_KEY"),
        "{e}"
    );
    let e = err(&none(), &[("CLAVEX_TLS_KEY", &cert_path)]);
    assert!(
        e.contains("CLAVEX_TLS_CERT") && e.contains("CLAVEX_TLS_KEY"),
        "{e}"
    );
    let s = ok(
        &none(),
        &[
            ("CLAVEX_TLS_CERT", &cert_path),
            ("CLAVEX_TLS_KEY", &cert_path),
        ],
    );
    assert_eq!(s.tls.unwrap().key, cert.path());
}

#[test]
fn public_url_loses_one_trailing_slash() {
    let s = ok(&none(), &[("CLAVEX_PUBLIC_URL", "https://id.acme.eu/")]);
    assert_eq!(s.public_url.as_str(), "https://id.acme.eu");
    assert!(s.public_url.is_https());
    let s = ok(&none(), &[("CLAVEX_PUBLIC_URL", "https://acme.eu/id/")]);
    assert_eq!(s.public_url.as_str(), "https://acme.eu/id");
    assert_eq!(s.public_url.join("o"), "https://acme.eu/id/o");
}

#[test]
fn master_key_is_checked_and_postgres_requires_it() {
    let url_safe = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([0xfb; 32]);
    let s = ok(&none(), &[("CLAVEX_MASTER_KEY", &url_safe)]);
    assert_eq!(s.master_key_bytes(), Some([0xfb; 32]));

    let pg = "postgres://clavex:pg-s3cret@db/clavex";
    let e = err(&none(), &[("CLAVEX_DATABASE_URL", pg)]);
    assert!(
        e.contains("CLAVEX_MASTER_KEY") && e.contains("PostgreSQL"),
        "{e}"
    );
    let s = ok(
        &none(),
        &[
            ("CLAVEX_DATABASE_URL", pg),
            ("CLAVEX_MASTER_KEY", &url_safe),
        ],
    );
    assert!(s.database.is_postgres());
}

#[test]
fn debug_shows_no_secret() {
    let master = key_b64(&[0x42; 32]);
    let s = ok(
        &none(),
        &[
            (
                "CLAVEX_DATABASE_URL",
                "postgresql://clavex:pg-s3cret@db/clavex",
            ),
            ("CLAVEX_MASTER_KEY", &master),
            ("CLAVEX_BOOTSTRAP_ADMIN_TOKEN", "tok-0123456789abcdef"),
            ("CLAVEX_BOOTSTRAP_ADMIN_USERNAME", "root"),
            ("CLAVEX_BOOTSTRAP_ADMIN_PASSWORD", "pw-hunter2"),
        ],
    );
    let debug = format!("{s:?}");
    for secret in [
        "pg-s3cret",
        master.as_str(),
        "tok-0123456789abcdef",
        "pw-hunter2",
    ] {
        assert!(!debug.contains(secret), "{secret} leaks in {debug}");
    }
    assert!(
        debug.contains("[redacted]") && debug.contains("root"),
        "{debug}"
    );
}

#[test]
fn database_password_is_masked_in_errors() {
    let e = err(
        &none(),
        &[("CLAVEX_DATABASE_URL", "postgres://u:pg-s3cret@[bad/clavex")],
    );
    assert!(e.contains("CLAVEX_DATABASE_URL"), "{e}");
    assert!(!e.contains("pg-s3cret"), "{e}");
}

#[test]
fn for_tests_settings() {
    let s = Settings::for_tests("sqlite:///tmp/clavex-test.db");
    assert_eq!(s.listen, "127.0.0.1:0".parse::<SocketAddr>().unwrap());
    assert!(s.database.is_sqlite());
    assert_eq!(s.master_key_base64, None);
    assert_eq!(s.access_token_ttl_seconds, 300);

    let s = Settings::for_tests("postgres://clavex@localhost/clavex_test");
    assert!(s.database.is_postgres());
    assert!(s.master_key_bytes().is_some());
}
