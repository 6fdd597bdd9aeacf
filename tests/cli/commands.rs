//! The administrative subcommands, run as processes against the database of a live server: what
//! they write must be what the server's Admin API then shows.

use clavex_store::{OrgStore as _, SqlStore};
use clavex_testkit::{Backend, TestServer};
use serde_json::Value;

use super::support::{clavex, cli, cli_stdin, run};

/// The body of the seed's Step 1 curl, byte for byte.
const SEED_BODY: &str = r#"{
"client_id": "grafana",
"client_name": "Grafana",
"grant_types": ["authorization_code", "refresh_token"],
"redirect_uris": ["https://grafana.acme.eu/login/generic_oauth"],
"scopes": ["openid", "profile", "email", "groups"],
"token_endpoint_auth_method": "client_secret_basic"
}"#;

async fn cli_org(server: &TestServer, slug: &str, name: &str) -> Value {
    let out = cli(server, &["org", "create", "--slug", slug, "--name", name]).await;
    out.assert_ok();
    out.json()
}

fn names(listing: &Value, field: &str) -> Vec<String> {
    listing["items"]
        .as_array()
        .unwrap_or_else(|| panic!("not a listing: {listing}"))
        .iter()
        .map(|item| item[field].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn org_create_prints_json_and_the_server_sees_the_org() {
    let server = TestServer::start().await;
    let org = cli_org(&server, "acme", "Acme").await;
    assert_eq!(org["slug"], "acme");
    assert_eq!(org["name"], "Acme");
    assert_eq!(org["signing_alg"], "RS256");
    assert!(org["id"].as_str().is_some_and(|id| !id.is_empty()), "{org}");
    // The CLI was not given a public URL: the issuer is built from the default one.
    assert_eq!(org["issuer"], "http://localhost:8080/acme");

    let r = server
        .admin("GET", "/api/v1/organizations/acme", None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let body = r.json();
    assert_eq!(body["id"], org["id"]);
    assert_eq!(body["name"], "Acme");
    assert_eq!(body["issuer"], format!("{}/acme", server.base_url));

    let out = cli(
        &server,
        &[
            "org",
            "create",
            "--slug",
            "ec",
            "--name",
            "EC",
            "--signing-alg",
            "ES256",
        ],
    )
    .await;
    out.assert_ok();
    assert_eq!(out.json()["signing_alg"], "ES256");
}

#[tokio::test]
async fn admin_token_create_prints_one_working_token_line() {
    let server = TestServer::start().await;
    cli_org(&server, "acme", "Acme").await;

    let out = cli(&server, &["admin-token", "create", "--name", "ci"]).await;
    out.assert_ok();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 1, "exactly one line on stdout: {out}");
    let token = lines[0].trim();
    assert!(token.starts_with("cxa_"), "{out}");
    assert!(token.len() >= 4 + 43, "{out}");
    assert!(
        !out.stderr.contains(token),
        "the token is printed once, on stdout: {out}"
    );
    assert!(out.stderr.contains("superadmin"), "{out}");

    // A superadmin token: it lists and creates organizations.
    let r = server
        .call("GET", "/api/v1/organizations", Some(token), None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = server
        .call(
            "POST",
            "/api/v1/organizations",
            Some(token),
            Some(serde_json::json!({"slug": "globex", "name": "Globex"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);

    // The same name twice is refused.
    let out = cli(&server, &["admin-token", "create", "--name", "ci"]).await;
    out.assert_failed().assert_stderr_has(&["name"]);

    // An org-scoped token reaches its org only.
    let out = cli(
        &server,
        &[
            "admin-token",
            "create",
            "--name",
            "acme-ci",
            "--org",
            "acme",
        ],
    )
    .await;
    out.assert_ok();
    assert_eq!(out.stdout.lines().count(), 1, "{out}");
    let scoped = out.stdout.trim();
    assert!(scoped.starts_with("cxa_"), "{out}");
    assert!(out.stderr.contains("acme"), "{out}");
    let r = server
        .call("GET", "/api/v1/organizations/acme", Some(scoped), None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = server
        .call("GET", "/api/v1/organizations/globex", Some(scoped), None)
        .await;
    assert_eq!(r.status, 403, "{}", r.text);
    let r = server
        .call(
            "GET",
            "/api/v1/organizations/globex/clients",
            Some(scoped),
            None,
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.text);
    let r = server
        .call(
            "POST",
            "/api/v1/organizations",
            Some(scoped),
            Some(serde_json::json!({"slug": "initech", "name": "Initech"})),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.text);
}

#[tokio::test]
async fn client_create_takes_the_seed_json_or_flags() {
    let server = TestServer::start().await;
    cli_org(&server, "acme", "Acme").await;

    let out = cli(
        &server,
        &["client", "create", "--org", "acme", "--json", SEED_BODY],
    )
    .await;
    out.assert_ok();
    let client = out.json();
    assert_eq!(client["client_id"], "grafana");
    assert_eq!(client["client_name"], "Grafana");
    assert_eq!(
        client["redirect_uris"],
        serde_json::json!(["https://grafana.acme.eu/login/generic_oauth"])
    );
    assert_eq!(client["token_endpoint_auth_method"], "client_secret_basic");
    let secret = client["client_secret"].as_str().unwrap_or_default();
    assert!(secret.starts_with("cs_") && secret.len() >= 3 + 43, "{out}");

    let r = server
        .admin("GET", "/api/v1/organizations/acme/clients/grafana", None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.json()["scopes"],
        serde_json::json!(["openid", "profile", "email", "groups"])
    );
    assert!(
        !r.text.contains(secret),
        "the secret is shown once: {}",
        r.text
    );

    // `--json -` reads the registration from stdin.
    let body = SEED_BODY.replace("\"grafana\"", "\"grafana-stdin\"");
    let out = cli_stdin(
        &server,
        &["client", "create", "--org", "acme", "--json", "-"],
        Some(&body),
    )
    .await;
    out.assert_ok();
    assert_eq!(out.json()["client_id"], "grafana-stdin");

    // The flag form.
    let out = cli(
        &server,
        &[
            "client",
            "create",
            "--org",
            "acme",
            "--client-id",
            "x",
            "--grant-type",
            "client_credentials",
            "--scope",
            "openid",
        ],
    )
    .await;
    out.assert_ok();
    let client = out.json();
    assert_eq!(client["client_id"], "x");
    assert_eq!(
        client["grant_types"],
        serde_json::json!(["client_credentials"])
    );
    assert_eq!(client["scopes"], serde_json::json!(["openid"]));
    assert!(
        client["client_secret"]
            .as_str()
            .is_some_and(|s| s.starts_with("cs_")),
        "{out}"
    );
    let r = server
        .admin("GET", "/api/v1/organizations/acme/clients/x", None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.json()["grant_types"],
        serde_json::json!(["client_credentials"])
    );

    // Invalid JSON is refused with a message naming --json; flags cannot be mixed with it.
    let out = cli(
        &server,
        &["client", "create", "--org", "acme", "--json", "{nope"],
    )
    .await;
    out.assert_failed().assert_stderr_has(&["--json"]);
    let out = cli(
        &server,
        &[
            "client",
            "create",
            "--org",
            "acme",
            "--json",
            SEED_BODY,
            "--client-id",
            "y",
        ],
    )
    .await;
    out.assert_failed().assert_stderr_has(&["--client-id"]);
    // The same client id twice is refused.
    let out = cli(
        &server,
        &["client", "create", "--org", "acme", "--json", SEED_BODY],
    )
    .await;
    out.assert_failed()
        .assert_stderr_has(&["client_id", "taken"]);
}

#[tokio::test]
async fn user_create_reads_the_password_from_stdin() {
    let server = TestServer::start().await;
    cli_org(&server, "acme", "Acme").await;
    let password = "correct horse battery staple";

    let out = cli_stdin(
        &server,
        &[
            "user",
            "create",
            "--org",
            "acme",
            "--username",
            "alice",
            "--email",
            "a@x.io",
            "--name",
            "Alice",
            "--password-stdin",
        ],
        Some(&format!("{password}\n")),
    )
    .await;
    out.assert_ok();
    let user = out.json();
    assert_eq!(user["username"], "alice");
    assert_eq!(user["email"], "a@x.io");
    assert_eq!(user["name"], "Alice");
    assert_eq!(user["has_password"], true);
    assert_eq!(user["email_verified"], false);
    assert!(
        !out.stdout.contains(password) && !out.stderr.contains(password),
        "{out}"
    );

    let id = user["id"].as_str().unwrap_or_default();
    let r = server
        .admin(
            "GET",
            &format!("/api/v1/organizations/acme/users/{id}"),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["username"], "alice");

    // The stored hash is of the line read, without its newline.
    let org = server
        .core
        .store
        .get_org_by_slug("acme")
        .await
        .unwrap()
        .unwrap();
    let stored = server
        .core
        .store
        .get_user(&org.id, id)
        .await
        .unwrap()
        .unwrap();
    let hash = stored.password_hash.expect("a password hash");
    assert!(clavex_crypto::password::verify_password(password, &hash).unwrap());
    assert!(!clavex_crypto::password::verify_password(&format!("{password}\n"), &hash).unwrap());

    // Without --password-stdin the user has no password; --email-verified is taken.
    let out = cli(
        &server,
        &[
            "user",
            "create",
            "--org",
            "acme",
            "--username",
            "bob",
            "--email",
            "b@x.io",
            "--name",
            "Bob",
            "--email-verified",
        ],
    )
    .await;
    out.assert_ok();
    assert_eq!(out.json()["has_password"], false);
    assert_eq!(out.json()["email_verified"], true);

    // An empty stdin is refused before anything is written.
    let out = cli_stdin(
        &server,
        &[
            "user",
            "create",
            "--org",
            "acme",
            "--username",
            "carol",
            "--email",
            "c@x.io",
            "--name",
            "Carol",
            "--password-stdin",
        ],
        Some(""),
    )
    .await;
    out.assert_failed().assert_stderr_has(&["--password-stdin"]);
    let r = server
        .admin("GET", "/api/v1/organizations/acme/users", None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let usernames = names(&r.json(), "username");
    assert!(!usernames.contains(&"carol".to_owned()), "{usernames:?}");

    // A username taken is refused.
    let out = cli(
        &server,
        &[
            "user",
            "create",
            "--org",
            "acme",
            "--username",
            "alice",
            "--email",
            "a2@x.io",
            "--name",
            "Alice 2",
        ],
    )
    .await;
    out.assert_failed().assert_stderr_has(&["taken"]);
}

#[tokio::test]
async fn group_create_and_add_member_by_username() {
    let server = TestServer::start().await;
    cli_org(&server, "acme", "Acme").await;
    let out = cli_stdin(
        &server,
        &[
            "user",
            "create",
            "--org",
            "acme",
            "--username",
            "alice",
            "--email",
            "a@x.io",
            "--name",
            "Alice",
            "--password-stdin",
        ],
        Some("s3cret-passw0rd\n"),
    )
    .await;
    out.assert_ok();
    let alice_id = out.json()["id"].as_str().unwrap_or_default().to_owned();

    let out = cli(
        &server,
        &[
            "group",
            "create",
            "--org",
            "acme",
            "--name",
            "grafana-admins",
            "--description",
            "Grafana administrators",
        ],
    )
    .await;
    out.assert_ok();
    assert_eq!(out.json()["name"], "grafana-admins");
    let r = server
        .admin(
            "GET",
            "/api/v1/organizations/acme/groups/grafana-admins",
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);

    let out = cli(
        &server,
        &[
            "group",
            "add-member",
            "--org",
            "acme",
            "--group",
            "grafana-admins",
            "--user",
            "alice",
        ],
    )
    .await;
    out.assert_ok();
    let members_path = "/api/v1/organizations/acme/groups/grafana-admins/members";
    let r = server.admin("GET", members_path, None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(names(&r.json(), "username"), vec!["alice".to_owned()]);
    assert_eq!(names(&r.json(), "id"), vec![alice_id.clone()]);

    // By email and by id: the same user, and adding again is no error.
    for user in ["a@x.io", "A@X.IO", alice_id.as_str()] {
        let out = cli(
            &server,
            &[
                "group",
                "add-member",
                "--org",
                "acme",
                "--group",
                "grafana-admins",
                "--user",
                user,
            ],
        )
        .await;
        out.assert_ok();
    }
    let r = server.admin("GET", members_path, None).await;
    assert_eq!(names(&r.json(), "username"), vec!["alice".to_owned()]);

    // Unknown user and unknown group are named.
    let out = cli(
        &server,
        &[
            "group",
            "add-member",
            "--org",
            "acme",
            "--group",
            "grafana-admins",
            "--user",
            "mallory",
        ],
    )
    .await;
    out.assert_failed()
        .assert_stderr_has(&["user", "not found", "mallory"]);
    let out = cli(
        &server,
        &[
            "group",
            "add-member",
            "--org",
            "acme",
            "--group",
            "grafana-nobody",
            "--user",
            "alice",
        ],
    )
    .await;
    out.assert_failed()
        .assert_stderr_has(&["group", "not found"]);

    // A group name taken is refused.
    let out = cli(
        &server,
        &[
            "group",
            "create",
            "--org",
            "acme",
            "--name",
            "grafana-admins",
        ],
    )
    .await;
    out.assert_failed().assert_stderr_has(&["taken"]);
}

#[tokio::test]
async fn keys_rotate_publishes_a_second_key() {
    let server = TestServer::start().await;
    cli_org(&server, "acme", "Acme").await;
    let keys_path = "/api/v1/organizations/acme/keys";
    let r = server.admin("GET", keys_path, None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let before = names(&r.json(), "kid");
    assert_eq!(before.len(), 1, "{}", r.text);

    let out = cli(&server, &["keys", "rotate", "--org", "acme"]).await;
    out.assert_ok();
    let key = out.json();
    let kid = key["kid"].as_str().unwrap_or_default().to_owned();
    assert_eq!(key["alg"], "RS256");
    assert!(!kid.is_empty() && kid != before[0], "{out}");
    assert!(
        key.get("d").is_none() && !out.stdout.contains("private"),
        "{out}"
    );

    let r = server.admin("GET", keys_path, None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let after = names(&r.json(), "kid");
    assert_eq!(after.len(), 2, "{}", r.text);
    assert!(
        after.contains(&kid) && after.contains(&before[0]),
        "{}",
        r.text
    );
}

#[tokio::test]
async fn migrate_exits_zero_on_a_live_database() {
    let server = TestServer::start().await;
    let out = cli(&server, &["migrate"]).await;
    out.assert_ok().assert_stderr_has(&["up to date"]);
    assert!(out.stdout.trim().is_empty(), "{out}");
    // Twice is the same.
    cli(&server, &["migrate"]).await.assert_ok();
    let r = server.call("GET", "/readyz", None, None).await;
    assert_eq!(r.status, 200, "{}", r.text);
}

#[tokio::test]
async fn backup_writes_a_usable_sqlite_copy_or_points_postgres_at_pg_dump() {
    let server = TestServer::start().await;
    cli_org(&server, "acme", "Acme").await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("backup.db");
    let file_arg = file.display().to_string();

    let out = cli(&server, &["backup", "--output", &file_arg]).await;
    match server.db.backend {
        Backend::Postgres => {
            out.assert_failed().assert_stderr_has(&["pg_dump"]);
            assert!(!file.exists());
        }
        Backend::Sqlite => {
            out.assert_ok();
            assert!(out.stdout.trim().is_empty(), "{out}");
            assert!(out.stderr.contains(&file_arg), "{out}");
            assert!(file.is_file());

            // The copy is a database of its own with the org in it.
            let copy = SqlStore::connect(&format!("sqlite://{file_arg}"))
                .await
                .unwrap();
            let org = copy.get_org_by_slug("acme").await.unwrap();
            assert_eq!(org.map(|o| o.name).as_deref(), Some("Acme"));
            copy.close().await;

            // An existing file is never overwritten.
            let size = std::fs::metadata(&file).unwrap().len();
            let out = cli(&server, &["backup", "--output", &file_arg]).await;
            out.assert_failed()
                .assert_stderr_has(&[&file_arg, "already exists"]);
            assert_eq!(std::fs::metadata(&file).unwrap().len(), size);
        }
    }
}

#[tokio::test]
async fn version_names_the_build() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = clavex(dir.path());
    cmd.arg("--version");
    let out = run(cmd, None).await;
    out.assert_ok();
    let line = out.stdout.trim();
    assert!(
        line.starts_with(&format!("clavex {} (commit ", env!("CARGO_PKG_VERSION"))),
        "{line}"
    );
    assert!(line.contains(std::env::consts::ARCH), "{line}");
}

/// `admin-token list` shows names and scopes, never values; `revoke` makes the token fail at
/// once, records who revoked it, and an unknown name fails cleanly.
#[tokio::test]
async fn admin_tokens_are_listed_and_revoked() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    let out = cli(
        &server,
        &[
            "admin-token",
            "create",
            "--name",
            "acme-ci",
            "--org",
            "acme",
        ],
    )
    .await;
    out.assert_ok();
    let token = out.stdout.trim().to_owned();
    let r = server
        .call("GET", "/api/v1/organizations/acme", Some(&token), None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);

    let out = cli(&server, &["admin-token", "list"]).await;
    out.assert_ok();
    let rows: Vec<Vec<&str>> = out
        .stdout
        .lines()
        .map(|l| l.split('\t').collect())
        .collect();
    assert!(
        rows.iter().any(|r| r[..2] == ["bootstrap", "(superadmin)"]),
        "{out}"
    );
    let ci = rows
        .iter()
        .find(|r| r[0] == "acme-ci")
        .unwrap_or_else(|| panic!("{out}"));
    assert_eq!(ci[1], "acme", "{out}");
    assert!(ci[2].ends_with('Z'), "an RFC 3339 time: {out}");
    assert!(!out.stdout.contains(&token), "never the value: {out}");

    let out = cli(&server, &["admin-token", "revoke", "--name", "acme-ci"]).await;
    out.assert_ok();
    let r = server
        .call("GET", "/api/v1/organizations/acme", Some(&token), None)
        .await;
    assert_eq!(r.status, 401, "{}", r.text);
    let out = cli(&server, &["admin-token", "list"]).await;
    assert!(!out.stdout.contains("acme-ci"), "{out}");
    let r = server
        .admin(
            "GET",
            "/api/v1/organizations/acme/events?type=admin_token.revoked",
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let events = r.json()["items"].as_array().unwrap().clone();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["target"], "acme-ci");
    assert_eq!(events[0]["actor"], "cli");

    let out = cli(&server, &["admin-token", "revoke", "--name", "acme-ci"]).await;
    out.assert_failed().assert_stderr_has(&["admin token"]);
}
