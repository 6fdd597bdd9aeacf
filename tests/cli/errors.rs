//! Failures of the subcommands: a non-zero exit, nothing on stdout and a message on stderr that
//! names what went wrong; and `--help` on each command.

use clavex_testkit::TestServer;

use super::support::{clavex, cli, run};

#[tokio::test]
async fn unknown_org_is_named_on_stderr() {
    let server = TestServer::start().await;
    let cases: &[&[&str]] = &[
        &["client", "create", "--org", "nope", "--client-id", "x"],
        &[
            "user",
            "create",
            "--org",
            "nope",
            "--username",
            "alice",
            "--email",
            "a@x.io",
            "--name",
            "Alice",
        ],
        &["group", "create", "--org", "nope", "--name", "g"],
        &[
            "group",
            "add-member",
            "--org",
            "nope",
            "--group",
            "g",
            "--user",
            "alice",
        ],
        &["keys", "rotate", "--org", "nope"],
        &["admin-token", "create", "--name", "t", "--org", "nope"],
    ];
    for args in cases {
        let out = cli(&server, args).await;
        out.assert_failed()
            .assert_stderr_has(&["error", "organization", "not found"]);
    }
    // Nothing was created on the way.
    let r = server.admin("GET", "/api/v1/organizations", None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["items"], serde_json::json!([]));
}

#[tokio::test]
async fn duplicate_and_invalid_slugs_are_refused() {
    let server = TestServer::start().await;
    cli(
        &server,
        &["org", "create", "--slug", "acme", "--name", "Acme"],
    )
    .await
    .assert_ok();

    let out = cli(
        &server,
        &["org", "create", "--slug", "acme", "--name", "Acme 2"],
    )
    .await;
    out.assert_failed().assert_stderr_has(&["slug", "taken"]);

    for bad in [
        "Acme",
        "acme_corp",
        "-acme",
        "acme-",
        "a b",
        "api",
        "admin",
        "healthz",
    ] {
        // `--slug=VALUE`, so that a value starting with '-' reaches the check rather than clap.
        let slug = format!("--slug={bad}");
        let out = cli(&server, &["org", "create", &slug, "--name", "X"]).await;
        out.assert_failed().assert_stderr_has(&["slug"]);
    }
    let out = cli(
        &server,
        &[
            "org",
            "create",
            "--slug",
            "ok",
            "--name",
            "X",
            "--signing-alg",
            "HS256",
        ],
    )
    .await;
    out.assert_failed()
        .assert_stderr_has(&["signing_alg", "HS256"]);

    let r = server.admin("GET", "/api/v1/organizations", None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let slugs: Vec<_> = r.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["slug"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(slugs, vec!["acme".to_owned()]);
}

#[tokio::test]
async fn malformed_settings_stop_subcommands_too() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = clavex(dir.path());
    cmd.args(["org", "create", "--slug", "acme", "--name", "Acme"])
        .env("CLAVEX_DATABASE_URL", "mysql://db/clavex");
    let out = run(cmd, None).await;
    out.assert_failed()
        .assert_stderr_has(&["CLAVEX_DATABASE_URL"]);

    let mut cmd = clavex(dir.path());
    cmd.args(["--database-url", "mysql://db/clavex", "migrate"]);
    let out = run(cmd, None).await;
    out.assert_failed()
        .assert_stderr_has(&["CLAVEX_DATABASE_URL", "--database-url"]);

    // Nothing was created in the working directory.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[tokio::test]
async fn usage_errors_exit_non_zero_with_usage() {
    let dir = tempfile::tempdir().unwrap();
    for (args, needle) in [
        (&[][..], "Usage"),
        (&["org", "create", "--name", "Acme"][..], "--slug"),
        (&["frobnicate"][..], "frobnicate"),
        (
            &["group", "add-member", "--org", "acme", "--group", "g"][..],
            "--user",
        ),
    ] {
        let mut cmd = clavex(dir.path());
        cmd.args(args);
        let out = run(cmd, None).await;
        out.assert_failed().assert_stderr_has(&[needle]);
    }
}

#[tokio::test]
async fn help_explains_each_command() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&[&str], &[&str])] = &[
        (
            &["--help"],
            &[
                "serve",
                "migrate",
                "admin-token",
                "org",
                "client",
                "user",
                "group",
                "keys",
                "backup",
                "--config",
                "--database-url",
                "CLAVEX_CONFIG",
            ],
        ),
        (
            &["serve", "--help"],
            &["--listen", "--public-url", "--config"],
        ),
        (
            &["org", "create", "--help"],
            &["--slug", "--name", "--signing-alg"],
        ),
        (
            &["client", "create", "--help"],
            &[
                "--org",
                "--json",
                "--client-id",
                "--grant-type",
                "--redirect-uri",
                "--scope",
                "--auth-method",
            ],
        ),
        (&["admin-token", "create", "--help"], &["--name", "--org"]),
        (
            &["user", "create", "--help"],
            &["--username", "--password-stdin"],
        ),
        (
            &["group", "add-member", "--help"],
            &["--org", "--group", "--user"],
        ),
        (&["keys", "rotate", "--help"], &["--org"]),
        (&["backup", "--help"], &["--output"]),
        (&["migrate", "--help"], &["migrations"]),
        (&["help", "backup"], &["--output"]),
    ];
    for (args, needles) in cases {
        let mut cmd = clavex(dir.path());
        cmd.args(*args);
        let out = run(cmd, None).await;
        out.assert_ok();
        for needle in *needles {
            assert!(
                out.stdout.contains(needle),
                "{args:?}: no {needle:?} in {out}"
            );
        }
    }
    let mut cmd = clavex(dir.path());
    cmd.arg("--version");
    let out = run(cmd, None).await;
    out.assert_ok();
    assert!(out.stdout.contains(env!("CARGO_PKG_VERSION")), "{out}");
    // Help never touches a database.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[tokio::test]
async fn backup_refuses_a_database_that_does_not_exist() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("typo").join("clavex.db");
    let output = dir.path().join("backup.db");
    let mut cmd = clavex(dir.path());
    cmd.args(["backup", "--output", &output.display().to_string()])
        .env(
            "CLAVEX_DATABASE_URL",
            format!("sqlite://{}", missing.display()),
        );
    let out = run(cmd, None).await;
    out.assert_failed()
        .assert_stderr_has(&[&missing.display().to_string(), "nothing to back up"]);
    // Neither an empty source database nor a copy of one was made.
    assert!(!output.exists());
    assert!(!dir.path().join("typo").exists());
}
