//! `clavex serve` as a process: first start with no configuration, the bootstrap token, refusals of
//! malformed settings, the precedence of flags, variables and the TOML file, and SIGTERM.

use std::{path::Path, time::Instant};

use clavex_testkit::{Backend, TestDatabase};
use tokio::process::Command;

use super::support::{ServeProcess, TEST_MASTER_KEY, clavex, http, run, serve_to_exit};

/// Environment variables for a child process.
pub(super) type Env = Vec<(&'static str, String)>;

/// The run's backend for a `clavex serve` process: on SQLite nothing (the default file under the
/// working directory), on PostgreSQL a fresh database and a master key. Keep the database alive
/// as long as the process runs.
pub(super) async fn backend_env() -> (Option<TestDatabase>, Env) {
    match Backend::from_env() {
        Backend::Sqlite => (None, Vec::new()),
        Backend::Postgres => {
            let db = TestDatabase::with_backend(Backend::Postgres).await;
            let env = vec![
                ("CLAVEX_DATABASE_URL", db.url.clone()),
                ("CLAVEX_MASTER_KEY", TEST_MASTER_KEY.to_owned()),
            ];
            (Some(db), env)
        }
    }
}

pub(super) fn serve(cwd: &Path, env: &[(&'static str, String)], args: &[&str]) -> Command {
    let mut cmd = clavex(cwd);
    cmd.arg("serve").args(args);
    for (name, value) in env {
        cmd.env(name, value);
    }
    cmd
}

fn is_empty_dir(dir: &Path) -> bool {
    std::fs::read_dir(dir)
        .map(|mut d| d.next().is_none())
        .unwrap_or(false)
}

async fn get(url: &str, token: Option<&str>) -> (u16, String) {
    let mut req = http().get(url);
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    let resp = req
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let status = resp.status().as_u16();
    (status, resp.text().await.unwrap_or_default())
}

#[tokio::test]
async fn first_start_without_configuration_creates_the_data_folder() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServeProcess::start(serve(dir.path(), &[], &["--listen", "127.0.0.1:0"])).await;
    assert!(server.addr.ip().is_loopback());
    let (status, body) = get(&server.url("/readyz"), None).await;
    assert_eq!(status, 200, "{body}\n{}", server.stderr());
    let (status, _) = get(&server.url("/healthz"), None).await;
    assert_eq!(status, 200);

    let data = dir.path().join("clavex-data");
    assert!(data.join("clavex.db").is_file(), "{}", server.stderr());
    let key_file = data.join("master.key");
    let key = std::fs::read_to_string(&key_file).unwrap();
    assert!(clavex_config::decode_master_key(&key).is_ok(), "{key:?}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "the key file is private: {mode:o}");
    }
    assert!(
        server.stderr().contains("clavex-data"),
        "{}",
        server.stderr()
    );

    let (status, stderr) = server.terminate().await;
    assert!(status.success(), "{status}\n{stderr}");

    // A subcommand in the same folder, unconfigured too, works on the same installation.
    let mut cmd = clavex(dir.path());
    cmd.args(["org", "create", "--slug", "acme", "--name", "Acme"]);
    run(cmd, None).await.assert_ok();

    // A second start reuses the key file and sees the org.
    let token = "bootstrap-token-0123456789";
    let env = [("CLAVEX_BOOTSTRAP_ADMIN_TOKEN", token.to_owned())];
    let server = ServeProcess::start(serve(dir.path(), &env, &["--listen", "127.0.0.1:0"])).await;
    let (status, body) = get(&server.url("/api/v1/organizations/acme"), Some(token)).await;
    assert_eq!(status, 200, "{body}\n{}", server.stderr());
    assert_eq!(std::fs::read_to_string(&key_file).unwrap(), key);
    let (status, stderr) = server.terminate().await;
    assert!(status.success(), "{status}\n{stderr}");
}

#[tokio::test]
async fn bootstrap_admin_token_works_and_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (_db, mut env) = backend_env().await;
    let token = "cxa_bootstrap-for-automation-42";
    env.push(("CLAVEX_BOOTSTRAP_ADMIN_TOKEN", token.to_owned()));
    let args = ["--listen", "127.0.0.1:0"];

    let server = ServeProcess::start(serve(dir.path(), &env, &args)).await;
    assert!(
        !server.stderr().contains(token),
        "the token is never logged"
    );
    let orgs = server.url("/api/v1/organizations");
    let (status, body) = get(&orgs, Some(token)).await;
    assert_eq!(status, 200, "{body}\n{}", server.stderr());
    let (status, _) = get(&orgs, None).await;
    assert_eq!(status, 401);
    let (status, _) = get(&orgs, Some("cxa_bootstrap-for-automation-43")).await;
    assert_eq!(status, 401);
    let resp = http()
        .post(&orgs)
        .bearer_auth(token)
        .json(&serde_json::json!({"slug": "acme", "name": "Acme"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 201, "superadmin creates orgs");
    let (status, stderr) = server.terminate().await;
    assert!(status.success(), "{status}\n{stderr}");

    // Same value again: nothing to change, still valid, data kept.
    for _ in 0..2 {
        let server = ServeProcess::start(serve(dir.path(), &env, &args)).await;
        let (status, body) = get(&server.url("/api/v1/organizations/acme"), Some(token)).await;
        assert_eq!(status, 200, "{body}\n{}", server.stderr());
        let (status, stderr) = server.terminate().await;
        assert!(status.success(), "{status}\n{stderr}");
        assert!(!stderr.contains(token), "the token is never logged");
    }

    // A new value replaces the old one: "exactly this value", so a leaked token can be rotated.
    let new_token = "cxa_bootstrap-rotated-after-a-leak";
    let env: Vec<_> = env
        .into_iter()
        .map(|(name, value)| match name {
            "CLAVEX_BOOTSTRAP_ADMIN_TOKEN" => (name, new_token.to_owned()),
            _ => (name, value),
        })
        .collect();
    let server = ServeProcess::start(serve(dir.path(), &env, &args)).await;
    let acme = server.url("/api/v1/organizations/acme");
    let (status, body) = get(&acme, Some(new_token)).await;
    assert_eq!(status, 200, "{body}\n{}", server.stderr());
    let (status, _) = get(&acme, Some(token)).await;
    assert_eq!(status, 401, "the replaced value no longer works");
    let (status, stderr) = server.terminate().await;
    assert!(status.success(), "{status}\n{stderr}");
}

#[tokio::test]
async fn malformed_settings_stop_start_up_naming_the_variable() {
    // (variable, value, whether the message repeats the value: never for secrets)
    let cases: &[(&str, &str, bool)] = &[
        ("CLAVEX_LISTEN", "nonsense", true),
        ("CLAVEX_PUBLIC_URL", "ftp://x", true),
        ("CLAVEX_DATABASE_URL", "mysql://x", true),
        ("CLAVEX_MASTER_KEY", "short", false),
        ("CLAVEX_MASTER_KEY", "bm90LWEta2V5LWF0LWFsbA==", false),
        ("CLAVEX_LOG_FORMAT", "xml", true),
        ("CLAVEX_LOG", "clavex=loud", true),
        ("CLAVEX_BOOTSTRAP_ADMIN_TOKEN", "too-short", false),
        ("CLAVEX_ACCESS_TOKEN_TTL_SECONDS", "5m", true),
        // Half of a pair: the message names the other half.
        ("CLAVEX_BOOTSTRAP_ADMIN_USERNAME", "root", false),
    ];
    for (var, value, shown) in cases {
        let dir = tempfile::tempdir().unwrap();
        // Pin the address unless it is the setting under test, so that a wrong start binds nothing
        // that matters.
        let args: &[&str] = if *var == "CLAVEX_LISTEN" {
            &[]
        } else {
            &["--listen", "127.0.0.1:0"]
        };
        let out = serve_to_exit(serve(dir.path(), &[(var, (*value).to_owned())], args)).await;
        out.assert_failed().assert_stderr_has(&["error", var]);
        if *shown {
            assert!(
                out.stderr.contains(&format!("`{value}`")),
                "the value is shown: {out}"
            );
        } else {
            assert!(
                !out.stderr.contains(&format!("`{value}`")),
                "the value is repeated: {out}"
            );
        }
        assert!(is_empty_dir(dir.path()), "{var}={value} created files");
    }
    let dir = tempfile::tempdir().unwrap();
    let env = [("CLAVEX_BOOTSTRAP_ADMIN_USERNAME", "root".to_owned())];
    let out = serve_to_exit(serve(dir.path(), &env, &["--listen", "127.0.0.1:0"])).await;
    out.assert_failed()
        .assert_stderr_has(&["CLAVEX_BOOTSTRAP_ADMIN_PASSWORD"]);

    // The same from a flag names the flag.
    let dir = tempfile::tempdir().unwrap();
    let out = serve_to_exit(serve(dir.path(), &[], &["--listen", "localhost:8080"])).await;
    out.assert_failed()
        .assert_stderr_has(&["CLAVEX_LISTEN", "--listen", "localhost:8080"]);
    let out = serve_to_exit(serve(
        dir.path(),
        &[],
        &["--public-url", "ftp://x", "--listen", "127.0.0.1:0"],
    ))
    .await;
    out.assert_failed()
        .assert_stderr_has(&["CLAVEX_PUBLIC_URL", "--public-url"]);
    assert!(is_empty_dir(dir.path()));
}

#[tokio::test]
async fn unknown_key_in_the_toml_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let conf = tempfile::tempdir().unwrap();
    let file = conf.path().join("clavex.toml");
    std::fs::write(
        &file,
        "listen = \"127.0.0.1:0\"\nlisten_adress = \"127.0.0.1:0\"\n",
    )
    .unwrap();
    let path = file.display().to_string();

    let out = serve_to_exit(serve(dir.path(), &[], &["--config", &path])).await;
    out.assert_failed()
        .assert_stderr_has(&["`listen_adress`", &path]);

    let out = serve_to_exit(serve(dir.path(), &[("CLAVEX_CONFIG", path.clone())], &[])).await;
    out.assert_failed()
        .assert_stderr_has(&["`listen_adress`", &path]);

    // A missing file named by --config is an error too, not a silent default.
    let missing = conf.path().join("missing.toml").display().to_string();
    let out = serve_to_exit(serve(dir.path(), &[], &["--config", &missing])).await;
    out.assert_failed().assert_stderr_has(&[&missing]);

    // A bad value in the file names the variable and the file.
    std::fs::write(&file, "log_format = \"xml\"\n").unwrap();
    let out = serve_to_exit(serve(
        dir.path(),
        &[],
        &["--config", &path, "--listen", "127.0.0.1:0"],
    ))
    .await;
    out.assert_failed()
        .assert_stderr_has(&["CLAVEX_LOG_FORMAT", &path]);
    assert!(is_empty_dir(dir.path()));
}

#[tokio::test]
async fn flag_beats_variable_beats_toml_file() {
    // Every 127.x.y.z is loopback on Linux: the address bound tells which layer won, race-free.
    let conf = tempfile::tempdir().unwrap();
    let file = conf.path().join("clavex.toml");
    std::fs::write(
        &file,
        "listen = \"127.0.0.4:0\"\npublic_url = \"https://id.file.example\"\n",
    )
    .unwrap();
    let path = file.display().to_string();
    let (_db, base_env) = backend_env().await;
    let with_var = |mut env: Env| {
        env.push(("CLAVEX_LISTEN", "127.0.0.2:0".to_owned()));
        env.push(("CLAVEX_PUBLIC_URL", "https://id.env.example".to_owned()));
        env
    };
    let cases: Vec<(Env, Vec<&str>, &str, &str)> = vec![
        (
            base_env.clone(),
            vec!["--config", &path],
            "127.0.0.4",
            "https://id.file.example",
        ),
        (
            with_var(base_env.clone()),
            vec!["--config", &path],
            "127.0.0.2",
            "https://id.env.example",
        ),
        (
            with_var(base_env.clone()),
            vec![
                "--config",
                &path,
                "--listen",
                "127.0.0.3:0",
                "--public-url",
                "https://id.flag.example",
            ],
            "127.0.0.3",
            "https://id.flag.example",
        ),
    ];
    for (env, args, ip, public_url) in cases {
        let dir = tempfile::tempdir().unwrap();
        let server = ServeProcess::start(serve(dir.path(), &env, &args)).await;
        assert_eq!(server.addr.ip().to_string(), ip, "{}", server.stderr());
        assert!(server.stderr().contains(public_url), "{}", server.stderr());
        let (status, body) = get(&server.url("/readyz"), None).await;
        assert_eq!(status, 200, "{body}");
        let (status, stderr) = server.terminate().await;
        assert!(status.success(), "{status}\n{stderr}");
    }
}

#[tokio::test]
async fn postgres_without_master_key_stops_start_up() {
    let db = match Backend::from_env() {
        Backend::Postgres => Some(TestDatabase::with_backend(Backend::Postgres).await),
        Backend::Sqlite => None,
    };
    // On a SQLite run no server is needed: the check happens before any connection.
    let url = db
        .as_ref()
        .map_or("postgres://clavex@127.0.0.1:1/clavex".to_owned(), |db| {
            db.url.clone()
        });
    let dir = tempfile::tempdir().unwrap();
    let env = [("CLAVEX_DATABASE_URL", url)];
    let out = serve_to_exit(serve(dir.path(), &env, &["--listen", "127.0.0.1:0"])).await;
    out.assert_failed()
        .assert_stderr_has(&["CLAVEX_MASTER_KEY", "PostgreSQL"]);
    assert!(is_empty_dir(dir.path()));

    // The administrative subcommands need it as well.
    let mut cmd = clavex(dir.path());
    cmd.args(["org", "create", "--slug", "acme", "--name", "Acme"])
        .envs(env.iter().cloned());
    run(cmd, None)
        .await
        .assert_failed()
        .assert_stderr_has(&["CLAVEX_MASTER_KEY"]);
}

#[tokio::test]
async fn sigterm_stops_the_server_gracefully() {
    let dir = tempfile::tempdir().unwrap();
    let (_db, env) = backend_env().await;
    let server = ServeProcess::start(serve(dir.path(), &env, &["--listen", "127.0.0.1:0"])).await;
    let (status, body) = get(&server.url("/readyz"), None).await;
    assert_eq!(status, 200, "{body}");
    let addr = server.addr;

    let started = Instant::now();
    let (status, stderr) = server.terminate().await;
    let took = started.elapsed();
    assert_eq!(status.code(), Some(0), "{status}\n{stderr}");
    assert!(took.as_secs() < 10, "took {took:?} to stop\n{stderr}");
    assert!(stderr.contains("shutting down"), "{stderr}");
    assert!(stderr.contains("stopped"), "{stderr}");
    assert!(!stderr.contains("ERROR"), "{stderr}");
    // The port is closed.
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn json_logs_are_one_object_per_line() {
    let dir = tempfile::tempdir().unwrap();
    let (_db, mut env) = backend_env().await;
    env.push(("CLAVEX_LOG_FORMAT", "json".to_owned()));
    let server = ServeProcess::start(serve(dir.path(), &env, &["--listen", "127.0.0.1:0"])).await;
    let (status, _) = get(&server.url("/readyz"), None).await;
    assert_eq!(status, 200);
    let (status, stderr) = server.terminate().await;
    assert!(status.success(), "{status}\n{stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(!lines.is_empty());
    for line in lines {
        let value: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {line}\n{stderr}"));
        assert!(value.get("level").is_some(), "{line}");
    }
}

/// `CLAVEX_DATABASE_MAX_CONNECTIONS` caps the pool: thirty concurrent requests all succeed (they
/// wait for a connection) while the process never holds more than two. Counted by the database
/// (PostgreSQL) or by the process's open handles on the database file (SQLite).
#[tokio::test]
async fn database_max_connections_caps_the_pool() {
    let dir = tempfile::tempdir().unwrap();
    let token = "bootstrap-token-0123456789";
    let (db, mut env) = backend_env().await;
    env.push(("CLAVEX_BOOTSTRAP_ADMIN_TOKEN", token.to_owned()));
    env.push(("CLAVEX_DATABASE_MAX_CONNECTIONS", "2".to_owned()));
    let server = ServeProcess::start(serve(dir.path(), &env, &["--listen", "127.0.0.1:0"])).await;
    let held = || async {
        match &db {
            Some(db) => {
                let name = db.url.rsplit('/').next().unwrap().to_owned();
                use sqlx::Connection;
                let mut conn =
                    sqlx::PgConnection::connect("postgres://postgres@127.0.0.1:5432/postgres")
                        .await
                        .unwrap();
                let n: i64 =
                    sqlx::query_scalar("SELECT count(*) FROM pg_stat_activity WHERE datname = $1")
                        .bind(&name)
                        .fetch_one(&mut conn)
                        .await
                        .unwrap();
                n as usize
            }
            None => {
                let file = dir.path().join("clavex-data").join("clavex.db");
                std::fs::read_dir(format!("/proc/{}/fd", server.pid()))
                    .unwrap()
                    .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
                    .filter(|target| *target == file)
                    .count()
            }
        }
    };
    let mut most = 0;
    for _ in 0..3 {
        let mut requests = tokio::task::JoinSet::new();
        for _ in 0..30 {
            let url = server.url("/api/v1/organizations");
            requests.spawn(async move { get(&url, Some(token)).await });
        }
        let during = held().await;
        while let Some(answer) = requests.join_next().await {
            let (status, body) = answer.unwrap();
            assert_eq!(status, 200, "{body}");
        }
        most = most.max(during).max(held().await);
    }
    assert!(most >= 1, "the count sees the pool's connections");
    assert!(most <= 2, "{most} connections held with a cap of 2");
}

/// One log line per request, with its status and the id the client saw; probes are not logged at
/// `info` (the default, set here all the same so that a run capturing everything at `trace` for
/// the secrets check does not change what this test sees), and query strings (which can carry
/// codes) never are.
#[tokio::test]
async fn each_request_is_logged_once_with_its_id() {
    let dir = tempfile::tempdir().unwrap();
    let (_db, mut env) = backend_env().await;
    env.push(("CLAVEX_LOG_FORMAT", "json".to_owned()));
    env.push(("CLAVEX_LOG", "info".to_owned()));
    let server = ServeProcess::start(serve(dir.path(), &env, &["--listen", "127.0.0.1:0"])).await;
    let resp = http()
        .get(server.url("/nowhere?code=secret-looking-code"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    let id = resp.headers()["x-request-id"].to_str().unwrap().to_owned();
    let (status, _) = get(&server.url("/readyz"), None).await;
    assert_eq!(status, 200);
    let (_, stderr) = server.terminate().await;
    let lines: Vec<serde_json::Value> = stderr
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .filter(|v: &serde_json::Value| v["message"] == "request")
        .collect();
    assert_eq!(
        lines.len(),
        1,
        "one request line (not the probe):\n{stderr}"
    );
    let line = &lines[0];
    assert_eq!(line["status"], 404, "{line}");
    assert_eq!(line["span"]["request_id"], id.as_str(), "{line}");
    assert_eq!(line["span"]["path"], "/nowhere", "{line}");
    assert!(!stderr.contains("secret-looking-code"), "{stderr}");
}

/// HSTS is sent, on every kind of response, exactly when the public URL is https.
#[tokio::test]
async fn hsts_follows_the_public_url_scheme() {
    for (public_url, expected) in [
        ("https://id.example.com", Some("max-age=31536000")),
        ("http://127.0.0.1:9", None),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let (_db, mut env) = backend_env().await;
        env.push(("CLAVEX_PUBLIC_URL", public_url.to_owned()));
        let server =
            ServeProcess::start(serve(dir.path(), &env, &["--listen", "127.0.0.1:0"])).await;
        for path in ["/readyz", "/api/v1/organizations", "/nowhere", "/admin"] {
            let resp = http().get(server.url(path)).send().await.unwrap();
            let hsts = resp
                .headers()
                .get("strict-transport-security")
                .map(|v| v.to_str().unwrap().to_owned());
            assert_eq!(hsts.as_deref(), expected, "{public_url}{path}");
        }
    }
}
