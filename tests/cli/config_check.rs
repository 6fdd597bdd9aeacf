//! `clavex config check`: the settings `serve` would run with, from variables, a TOML file and
//! flags, shown with their origin and with secrets masked; invalid settings fail exactly as `serve`
//! fails; nothing is created, and the database is only opened with `--connect`.

use std::path::Path;

use clavex_testkit::{Backend, TestDatabase};
use tokio::process::Command;

use super::support::{Output, TEST_MASTER_KEY, clavex, run};

/// `clavex config check ARGS` in `cwd` with `env`.
pub(super) async fn check(cwd: &Path, env: &[(&str, String)], args: &[&str]) -> Output {
    let mut cmd = clavex(cwd);
    cmd.args(["config", "check"]).args(args);
    with_env(&mut cmd, env);
    run(cmd, None).await
}

/// `clavex serve ARGS` in `cwd` with `env`, expected to stop by itself.
async fn serve(cwd: &Path, env: &[(&str, String)], args: &[&str]) -> Output {
    let mut cmd = clavex(cwd);
    cmd.arg("serve").args(args);
    with_env(&mut cmd, env);
    run(cmd, None).await
}

fn with_env(cmd: &mut Command, env: &[(&str, String)]) {
    for (name, value) in env {
        cmd.env(name, value);
    }
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The row of setting `name` in the JSON report.
fn row(out: &Output, name: &str) -> serde_json::Value {
    let report = out.json();
    assert_eq!(report["valid"], true, "{out}");
    report["settings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == name)
        .cloned()
        .unwrap_or_else(|| panic!("no row for {name}: {out}"))
}

#[tokio::test]
async fn settings_from_variables_are_shown_with_their_origin() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("data").join("clavex.db");
    let env = [
        ("CLAVEX_LISTEN", "0.0.0.0:9123".to_owned()),
        ("CLAVEX_PUBLIC_URL", "https://id.example.com/".to_owned()),
        ("CLAVEX_DATABASE_URL", format!("sqlite://{}", db.display())),
        ("CLAVEX_LOG_FORMAT", "json".to_owned()),
    ];
    let out = check(dir.path(), &env, &[]).await;
    out.assert_ok();
    assert!(out.stdout.contains("The configuration is valid"), "{out}");
    for line in [
        "0.0.0.0:9123",
        // Normalised as serve normalises it.
        "https://id.example.com ",
        "(environment variable CLAVEX_LISTEN)",
        "(environment variable CLAVEX_DATABASE_URL)",
        "config file: none",
        "does not exist yet; `clavex serve` creates it and its folder",
        "creates the key file",
    ] {
        assert!(out.stdout.contains(line), "no {line:?}: {out}");
    }
    // Every setting of the catalogue is listed.
    for doc in clavex_config::describe()
        .iter()
        .filter(|d| d.toml_key.is_some())
    {
        assert!(
            out.stdout.contains(&format!("  {} ", doc.name)),
            "{} is not listed: {out}",
            doc.name
        );
    }
    assert!(!out.stdout.contains("not shown by this version"), "{out}");

    let out = check(dir.path(), &env, &["--json"]).await;
    out.assert_ok();
    let listen = row(&out, "listen");
    assert_eq!(listen["value"], "0.0.0.0:9123");
    assert_eq!(listen["variable"], "CLAVEX_LISTEN");
    assert_eq!(listen["from"], "environment variable CLAVEX_LISTEN");
    let ttl = row(&out, "access_token_ttl_seconds");
    assert_eq!(ttl["value"], "300");
    assert_eq!(ttl["from"], "the built-in default");
    assert_eq!(out.json()["config_file"], serde_json::Value::Null);

    // Nothing was created: no data folder, no key file.
    assert!(entries(dir.path()).is_empty(), "{:?}", entries(dir.path()));
}

#[tokio::test]
async fn settings_from_a_toml_file_lose_to_variables_and_flags() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("clavex.toml");
    std::fs::write(
        &file,
        "listen = \"127.0.0.4:9000\"\npublic_url = \"https://id.file.example\"\n\
         access_token_ttl_seconds = 600\nlog = \"warn\"\n",
    )
    .unwrap();
    let path = file.display().to_string();
    let from_file = format!("config file {path}");

    let out = check(dir.path(), &[], &["--config", &path, "--json"]).await;
    out.assert_ok();
    for (name, value) in [
        ("listen", "127.0.0.4:9000"),
        ("public_url", "https://id.file.example"),
        ("access_token_ttl_seconds", "600"),
        ("log", "warn"),
    ] {
        let r = row(&out, name);
        assert_eq!(r["value"], value, "{out}");
        assert_eq!(r["from"], from_file.as_str(), "{out}");
    }
    assert_eq!(row(&out, "log_format")["from"], "the built-in default");
    assert_eq!(
        out.json()["config_file"],
        format!("{path} (named by flag --config)")
    );

    // A variable beats the file, a flag (serve's own --listen) beats both; CLAVEX_CONFIG names it.
    let env = [
        ("CLAVEX_CONFIG", path.clone()),
        ("CLAVEX_LISTEN", "127.0.0.2:9000".to_owned()),
        ("CLAVEX_ACCESS_TOKEN_TTL_SECONDS", "900".to_owned()),
    ];
    let out = check(dir.path(), &env, &["--listen", "127.0.0.3:9000", "--json"]).await;
    out.assert_ok();
    let listen = row(&out, "listen");
    assert_eq!(listen["value"], "127.0.0.3:9000");
    assert_eq!(listen["from"], "flag --listen");
    let ttl = row(&out, "access_token_ttl_seconds");
    assert_eq!(ttl["value"], "900");
    assert_eq!(
        ttl["from"],
        "environment variable CLAVEX_ACCESS_TOKEN_TTL_SECONDS"
    );
    assert_eq!(row(&out, "public_url")["from"], from_file.as_str());
    assert_eq!(
        out.json()["config_file"],
        format!("{path} (named by environment variable CLAVEX_CONFIG)")
    );

    // The human table says the same.
    let out = check(dir.path(), &env, &["--listen", "127.0.0.3:9000"]).await;
    out.assert_ok();
    assert!(out.stdout.contains("(flag --listen)"), "{out}");
    assert!(out.stdout.contains(&format!("({from_file})")), "{out}");
    assert_eq!(entries(dir.path()), vec!["clavex.toml".to_owned()]);
}

/// Runs `config check` and `serve` with the same settings; both must fail, alike.
pub(super) async fn fails_like_serve(env: &[(&str, String)], args: &[&str]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let checked = check(dir.path(), env, args).await;
    let served = serve(dir.path(), env, args).await;
    checked.assert_failed();
    served.assert_failed();
    assert_eq!(
        checked.stderr, served.stderr,
        "config check: {checked}\nserve: {served}"
    );
    assert_eq!(checked.status.code(), served.status.code());
    // A settings error, not a usage error (clap's 2).
    assert_eq!(checked.status.code(), Some(1), "{checked}");
    assert!(entries(dir.path()).is_empty(), "{:?}", entries(dir.path()));
    checked
}

#[tokio::test]
async fn invalid_settings_fail_with_serves_message() {
    let cases: &[(&str, &str)] = &[
        ("CLAVEX_LISTEN", "nonsense"),
        ("CLAVEX_PUBLIC_URL", "ftp://x"),
        ("CLAVEX_LOG_FORMAT", "xml"),
        ("CLAVEX_ACCESS_TOKEN_TTL_SECONDS", "5m"),
        ("CLAVEX_DATABASE_URL", "mysql://db/clavex"),
    ];
    for (var, value) in cases {
        let env = [(*var, (*value).to_owned())];
        let out = fails_like_serve(&env, &[]).await;
        out.assert_stderr_has(&["error", var, &format!("`{value}`")]);
    }
    // From a flag, the flag is named.
    let out = fails_like_serve(&[], &["--listen", "localhost:8080"]).await;
    out.assert_stderr_has(&["CLAVEX_LISTEN", "--listen", "localhost:8080"]);
    // Half of a pair.
    let out = fails_like_serve(
        &[("CLAVEX_BOOTSTRAP_ADMIN_USERNAME", "root".to_owned())],
        &[],
    )
    .await;
    out.assert_stderr_has(&["CLAVEX_BOOTSTRAP_ADMIN_PASSWORD"]);
    // A bad file.
    let conf = tempfile::tempdir().unwrap();
    let file = conf.path().join("clavex.toml");
    std::fs::write(&file, "listen_adress = \"0.0.0.0:8080\"\n").unwrap();
    let path = file.display().to_string();
    let out = fails_like_serve(&[], &["--config", &path]).await;
    out.assert_stderr_has(&["`listen_adress`", &path]);
    // TLS files that exist but do not load (more cases in cli::tls).
    let cert = conf.path().join("cert.pem");
    let key = conf.path().join("key.pem");
    std::fs::write(&cert, "-----BEGIN CERTIFICATE-----\n").unwrap();
    std::fs::write(&key, "-----BEGIN PRIVATE KEY-----\n").unwrap();
    let cert = cert.display().to_string();
    let env = [
        ("CLAVEX_TLS_CERT", cert.clone()),
        ("CLAVEX_TLS_KEY", key.display().to_string()),
    ];
    let out = fails_like_serve(&env, &[]).await;
    out.assert_stderr_has(&["CLAVEX_TLS_CERT", &cert, "not valid PEM"]);
}

#[tokio::test]
async fn postgres_without_master_key_fails_like_serve() {
    // Port 1: nothing listens there, and neither command may try.
    let url = "postgres://clavex:pg-s3cret-pw@127.0.0.1:1/clavex".to_owned();
    let env = [("CLAVEX_DATABASE_URL", url.clone())];
    let out = fails_like_serve(&env, &[]).await;
    out.assert_stderr_has(&["CLAVEX_MASTER_KEY", "PostgreSQL"]);
    assert!(!out.stderr.contains("pg-s3cret-pw"), "{out}");

    // With the key it is valid, without touching the database...
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("CLAVEX_DATABASE_URL", url),
        ("CLAVEX_MASTER_KEY", TEST_MASTER_KEY.to_owned()),
    ];
    let out = check(dir.path(), &env, &[]).await;
    out.assert_ok();
    assert!(
        out.stdout
            .contains("postgres://clavex:REDACTED@127.0.0.1:1/clavex"),
        "{out}"
    );
    // ...and --connect tries it, failing with serve's wording and no password.
    let out = check(dir.path(), &env, &["--connect"]).await;
    out.assert_failed()
        .assert_stderr_has(&["cannot open the database postgres://clavex:REDACTED@127.0.0.1:1"]);
    assert!(!out.stderr.contains("pg-s3cret-pw"), "{out}");
    assert!(!out.stderr.contains(TEST_MASTER_KEY), "{out}");
    assert!(entries(dir.path()).is_empty());

    // On a PostgreSQL run, --connect reaches the run's server.
    if Backend::from_env() == Backend::Postgres {
        let db = TestDatabase::with_backend(Backend::Postgres).await;
        let env = [
            ("CLAVEX_DATABASE_URL", db.url.clone()),
            ("CLAVEX_MASTER_KEY", TEST_MASTER_KEY.to_owned()),
        ];
        let out = check(dir.path(), &env, &["--connect"]).await;
        out.assert_ok();
        assert!(
            out.stdout.contains("database: connected to postgres"),
            "{out}"
        );
    }
}

#[tokio::test]
async fn secrets_never_appear() {
    // Distinctive values, so that any echo of them is found.
    let master_key = "c2VjcmV0LW1hc3Rlci1rZXktb2YtMzItYnl0ZXMhIT8=";
    let token = "bootstrap-token-that-must-not-leak";
    let password = "console-password-that-must-not-leak";
    let pg_password = "pg-password-that-must-not-leak";
    let secrets = [master_key, token, password, pg_password];
    let dir = tempfile::tempdir().unwrap();

    let file = dir.path().join("clavex.toml");
    std::fs::write(
        &file,
        format!("master_key = \"{master_key}\"\nbootstrap_admin_token = \"{token}\"\n"),
    )
    .unwrap();
    let env = [
        (
            "CLAVEX_DATABASE_URL",
            format!("postgres://clavex:{pg_password}@db.internal/clavex?sslmode=require"),
        ),
        ("CLAVEX_BOOTSTRAP_ADMIN_USERNAME", "root".to_owned()),
        ("CLAVEX_BOOTSTRAP_ADMIN_PASSWORD", password.to_owned()),
    ];
    let path = file.display().to_string();
    let by_flag = ["--master-key", master_key, "--bootstrap-admin-token", token];
    // Secrets from the file, and from flags; as a table and as JSON.
    let cases = [
        vec!["--config", &path],
        vec!["--config", &path, "--json"],
        by_flag.to_vec(),
        [&by_flag[..], &["--json"]].concat(),
    ];
    for args in cases {
        let out = check(dir.path(), &env, &args).await;
        out.assert_ok();
        for secret in secrets {
            assert!(!out.stdout.contains(secret), "{secret} in stdout: {out}");
            assert!(!out.stderr.contains(secret), "{secret} in stderr: {out}");
        }
        assert!(out.stdout.contains("(set, hidden)"), "{out}");
        assert!(out.stdout.contains("REDACTED@db.internal"), "{out}");
        // Not a secret: the console user name is shown.
        assert!(out.stdout.contains("root"), "{out}");
    }

    // An invalid secret is not repeated either.
    let out = fails_like_serve(
        &[("CLAVEX_BOOTSTRAP_ADMIN_TOKEN", "short-secret".to_owned())],
        &[],
    )
    .await;
    out.assert_stderr_has(&["CLAVEX_BOOTSTRAP_ADMIN_TOKEN"]);
    assert!(!out.stderr.contains("short-secret"), "{out}");
}

#[tokio::test]
async fn sqlite_files_are_checked_without_being_created() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("clavex.db");
    let env = [("CLAVEX_DATABASE_URL", format!("sqlite://{}", db.display()))];

    // Not there yet: --connect says so and creates nothing.
    let out = check(dir.path(), &env, &["--connect"]).await;
    out.assert_ok();
    assert!(out.stdout.contains("does not exist yet"), "{out}");
    assert!(entries(dir.path()).is_empty(), "{:?}", entries(dir.path()));

    // A migrated database without its master.key: valid, with a warning, since serve would make a
    // new key that cannot open the existing signing keys.
    let mut cmd = clavex(dir.path());
    cmd.arg("migrate");
    with_env(&mut cmd, &env);
    run(cmd, None).await.assert_ok();
    let before = entries(dir.path());
    let out = check(dir.path(), &env, &["--connect"]).await;
    out.assert_ok();
    assert!(
        out.stdout
            .contains("is a SQLite database this user can read and write"),
        "{out}"
    );
    assert!(
        out.stderr.contains("warning:") && out.stderr.contains("master.key"),
        "{out}"
    );
    assert_eq!(
        entries(dir.path()),
        before,
        "config check changed the folder"
    );

    // Something else at the database path fails --connect.
    let other = dir.path().join("other.db");
    std::fs::write(&other, "not a database, but long enough for a header").unwrap();
    let other_env = [(
        "CLAVEX_DATABASE_URL",
        format!("sqlite://{}", other.display()),
    )];
    let out = check(dir.path(), &other_env, &["--connect"]).await;
    out.assert_failed()
        .assert_stderr_has(&["cannot open the database", "not a SQLite database"]);
    std::fs::remove_file(&other).unwrap();

    // A corrupt key file fails as serve fails.
    std::fs::write(dir.path().join("master.key"), "not a key\n").unwrap();
    let out = check(dir.path(), &env, &[]).await;
    out.assert_failed()
        .assert_stderr_has(&["master key file", "corrupt"]);
    let served = serve(dir.path(), &env, &["--listen", "127.0.0.1:0"]).await;
    served.assert_failed();
    let last = |o: &Output| o.stderr.lines().last().unwrap_or_default().to_owned();
    assert_eq!(last(&out), last(&served), "{out}\n{served}");

    // A valid key file is used and not shown.
    std::fs::write(
        dir.path().join("master.key"),
        format!("{TEST_MASTER_KEY}\n"),
    )
    .unwrap();
    let out = check(dir.path(), &env, &[]).await;
    out.assert_ok();
    assert!(out.stdout.contains("is used"), "{out}");
    assert!(!out.stderr.contains("warning"), "{out}");
    assert!(!out.stdout.contains(TEST_MASTER_KEY), "{out}");
}

#[tokio::test]
async fn plain_http_public_url_on_a_remote_host_is_warned_about() {
    let dir = tempfile::tempdir().unwrap();
    let env = [("CLAVEX_PUBLIC_URL", "http://id.example.com".to_owned())];
    let out = check(dir.path(), &env, &[]).await;
    out.assert_ok()
        .assert_stderr_has(&["warning:", "http://id.example.com"]);
    let env = [("CLAVEX_PUBLIC_URL", "http://localhost:8080".to_owned())];
    let out = check(dir.path(), &env, &[]).await;
    out.assert_ok();
    assert!(!out.stderr.contains("warning"), "{out}");
}
