//! `clavex admin create|grant|revoke|list` (console accounts) run as processes against a live
//! server's database, and `CLAVEX_BOOTSTRAP_ADMIN_USERNAME`/`PASSWORD` applied by `clavex serve`
//! on every start. Passwords are checked by signing in to the console of the live server.

use clavex_testkit::TestServer;
use serde_json::{Value, json};

use super::support::{ServeProcess, clavex, cli, cli_stdin, db_env};
use crate::oidc::support::{Browser, hidden_input, location};

/// Signs in to the console of `server` as `username`: the login form's status (303 accepted, 401
/// refused).
async fn console_login(server: &TestServer, username: &str, password: &str) -> u16 {
    let browser = Browser::new();
    let r = browser.get(&server.url("/admin/signin")).await;
    assert_eq!(r.status, 303, "{}", r.text);
    let r = browser.get(&server.url(&location(&r))).await;
    assert_eq!(r.status, 302, "authorize: {}", r.text);
    let login_url = location(&r);
    let page = browser.get(&login_url).await;
    assert_eq!(page.status, 200, "{}", page.text);
    let action = login_url.split('?').next().unwrap().to_string();
    let r = browser
        .post_form(
            &action,
            &[
                ("request", &hidden_input(&page.text, "request")),
                ("csrf", &hidden_input(&page.text, "csrf")),
                ("username", username),
                ("password", password),
            ],
        )
        .await;
    if r.status == 303 {
        // Finish it: the console takes the account.
        let r = browser.get(&location(&r)).await;
        assert_eq!(r.status, 303, "callback: {}", r.text);
        assert_eq!(browser.get(&server.url("/admin")).await.status, 200);
        return 303;
    }
    r.status
}

/// `clavex admin list`, parsed.
async fn list(server: &TestServer) -> Vec<Value> {
    let out = cli(server, &["admin", "list"]).await;
    out.assert_ok();
    out.json()
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {out}"))
        .clone()
}

async fn find(server: &TestServer, username: &str) -> Option<Value> {
    list(server)
        .await
        .into_iter()
        .find(|a| a["username"] == username)
}

fn sorted_orgs(account: &Value) -> Vec<String> {
    let mut orgs: Vec<String> = account["orgs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o.as_str().unwrap().to_string())
        .collect();
    orgs.sort();
    orgs
}

#[tokio::test]
async fn admin_create_without_a_terminal_prints_a_generated_password_that_works() {
    let server = TestServer::start().await;
    let out = cli(&server, &["admin", "create", "--username", "root"]).await;
    out.assert_ok();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 1, "only the password on stdout: {out}");
    let password = lines[0];
    assert!(password.len() >= 24, "{out}");
    assert!(
        out.stderr.contains("'root' (superadmin)") && out.stderr.contains("shown only now"),
        "{out}"
    );

    let root = find(&server, "root").await.expect("root is listed");
    assert_eq!(root["superadmin"], true);
    assert_eq!(root["disabled"], false);
    assert_eq!(root["orgs"], json!([]));
    assert!(
        !list(&server)
            .await
            .iter()
            .any(|a| a.get("password").is_some())
    );
    let r = server
        .admin(
            "GET",
            &format!("/api/v1/admins/{}", root["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "the server sees it: {}", r.text);
    assert_eq!(console_login(&server, "root", password).await, 303);
    assert_eq!(
        console_login(&server, "root", "not-the-password").await,
        401
    );
}

#[tokio::test]
async fn admin_create_reads_the_password_from_stdin() {
    let server = TestServer::start().await;
    let out = cli_stdin(
        &server,
        &[
            "admin",
            "create",
            "--username",
            "root",
            "--email",
            "root@example.com",
            "--name",
            "Root Admin",
            "--password-stdin",
        ],
        Some("stdin-password-1\n"),
    )
    .await;
    out.assert_ok();
    assert!(out.stdout.trim().is_empty(), "no password printed: {out}");
    let root = find(&server, "root").await.unwrap();
    assert_eq!(root["email"], "root@example.com");
    assert_eq!(root["name"], "Root Admin");
    assert_eq!(
        console_login(&server, "root", "stdin-password-1").await,
        303
    );

    // Too short, or nothing on stdin: refused, nothing created.
    let out = cli_stdin(
        &server,
        &["admin", "create", "--username", "ann", "--password-stdin"],
        Some("short\n"),
    )
    .await;
    out.assert_failed()
        .assert_stderr_has(&["password", "at least 8"]);
    let out = cli_stdin(
        &server,
        &["admin", "create", "--username", "ann", "--password-stdin"],
        Some(""),
    )
    .await;
    out.assert_failed().assert_stderr_has(&["--password-stdin"]);
    assert!(find(&server, "ann").await.is_none());
}

#[tokio::test]
async fn admin_create_with_org_makes_an_org_admin_and_names_an_unknown_org() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    server.create_org("globex").await;
    let out = cli_stdin(
        &server,
        &[
            "admin",
            "create",
            "--username",
            "ann",
            "--org",
            "acme",
            "--password-stdin",
        ],
        Some("ann-password-1\n"),
    )
    .await;
    out.assert_ok();
    assert!(out.stderr.contains("admin of acme"), "{out}");
    let ann = find(&server, "ann").await.unwrap();
    assert_eq!(ann["superadmin"], false);
    assert_eq!(sorted_orgs(&ann), ["acme"]);
    let r = server
        .admin("GET", "/api/v1/organizations/acme/admins", None)
        .await;
    assert_eq!(r.json()["items"][0]["username"], "ann", "{}", r.text);
    assert_eq!(console_login(&server, "ann", "ann-password-1").await, 303);

    let out = cli(
        &server,
        &[
            "admin",
            "create",
            "--username",
            "two",
            "--org",
            "acme",
            "--org",
            "globex",
        ],
    )
    .await;
    out.assert_ok();
    assert_eq!(
        sorted_orgs(&find(&server, "two").await.unwrap()),
        ["acme", "globex"]
    );

    for slug in ["nope", "admin"] {
        let out = cli(
            &server,
            &["admin", "create", "--username", "bob", "--org", slug],
        )
        .await;
        out.assert_failed()
            .assert_stderr_has(&[&format!("'{slug}'")]);
    }
    assert!(find(&server, "bob").await.is_none());
}

#[tokio::test]
async fn a_duplicate_username_fails_with_a_clear_message() {
    let server = TestServer::start().await;
    cli(&server, &["admin", "create", "--username", "root"])
        .await
        .assert_ok();
    for username in ["root", "ROOT"] {
        let out = cli(&server, &["admin", "create", "--username", username]).await;
        out.assert_failed()
            .assert_stderr_has(&["username is already taken", username]);
    }
    assert_eq!(list(&server).await.len(), 1);
}

#[tokio::test]
async fn grant_revoke_and_list() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    server.create_org("globex").await;
    cli(
        &server,
        &["admin", "create", "--username", "bob", "--org", "acme"],
    )
    .await
    .assert_ok();

    for _ in 0..2 {
        let out = cli(
            &server,
            &["admin", "grant", "--username", "bob", "--org", "globex"],
        )
        .await;
        out.assert_ok()
            .assert_stderr_has(&["bob is an admin of globex"]);
        assert!(out.stdout.trim().is_empty(), "{out}");
    }
    assert_eq!(
        sorted_orgs(&find(&server, "bob").await.unwrap()),
        ["acme", "globex"]
    );
    let r = server
        .admin("GET", "/api/v1/organizations/globex/admins", None)
        .await;
    assert_eq!(r.json()["items"][0]["username"], "bob", "{}", r.text);

    for _ in 0..2 {
        let out = cli(
            &server,
            &["admin", "revoke", "--username", "BOB", "--org", "acme"],
        )
        .await;
        out.assert_ok();
    }
    assert_eq!(
        sorted_orgs(&find(&server, "bob").await.unwrap()),
        ["globex"]
    );

    // Unknown org, the console org, unknown account: refused, naming what is wrong.
    for slug in ["nope", "admin"] {
        for verb in ["grant", "revoke"] {
            let out = cli(
                &server,
                &["admin", verb, "--username", "bob", "--org", slug],
            )
            .await;
            out.assert_failed()
                .assert_stderr_has(&[slug, "organization not found"]);
        }
    }
    let out = cli(
        &server,
        &["admin", "grant", "--username", "nobody", "--org", "acme"],
    )
    .await;
    out.assert_failed()
        .assert_stderr_has(&["nobody", "console admin not found"]);
    assert_eq!(
        sorted_orgs(&find(&server, "bob").await.unwrap()),
        ["globex"]
    );

    // The list holds every account with its rights.
    cli(&server, &["admin", "create", "--username", "root"])
        .await
        .assert_ok();
    let mut names: Vec<(String, bool)> = list(&server)
        .await
        .iter()
        .map(|a| {
            (
                a["username"].as_str().unwrap().to_string(),
                a["superadmin"].as_bool().unwrap(),
            )
        })
        .collect();
    names.sort();
    assert_eq!(
        names,
        [("bob".to_string(), false), ("root".to_string(), true)]
    );
}

/// Starts `clavex serve` on `server`'s database with the bootstrap variables, lets it apply them
/// (it does so before it listens), and stops it.
async fn serve_once(server: &TestServer, username: &str, password: &str) {
    let mut cmd = clavex(server.db.dir.path());
    cmd.args(["serve", "--listen", "127.0.0.1:0"])
        .envs(db_env(server))
        // The live server's URL: the console client's redirect URI stays the one it uses.
        .env("CLAVEX_PUBLIC_URL", &server.base_url)
        .env("CLAVEX_BOOTSTRAP_ADMIN_USERNAME", username)
        .env("CLAVEX_BOOTSTRAP_ADMIN_PASSWORD", password);
    let process = ServeProcess::start(cmd).await;
    // Ready means serving, with its SIGTERM handler in place.
    let ready = super::support::http()
        .get(process.url("/readyz"))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200, "{}", process.stderr());
    let stderr = process.stderr();
    assert!(!stderr.contains(password), "the password is never logged");
    let (status, stderr) = process.terminate().await;
    assert!(status.success(), "{status}\n{stderr}");
}

#[tokio::test]
async fn bootstrap_admin_variables_keep_one_superadmin_with_the_current_password() {
    let server = TestServer::start().await;
    serve_once(&server, "boot", "first-password-1").await;
    let accounts = list(&server).await;
    assert_eq!(accounts.len(), 1, "{accounts:?}");
    assert_eq!(accounts[0]["username"], "boot");
    assert_eq!(accounts[0]["superadmin"], true);
    assert_eq!(accounts[0]["disabled"], false);
    let id = accounts[0]["id"].clone();
    assert_eq!(
        console_login(&server, "boot", "first-password-1").await,
        303
    );

    // The same variables again: nothing new.
    serve_once(&server, "boot", "first-password-1").await;
    let accounts = list(&server).await;
    assert_eq!(accounts.len(), 1, "{accounts:?}");
    assert_eq!(accounts[0]["id"], id);
    assert_eq!(accounts[0]["superadmin"], true);

    // Disabled and demoted in between (another superadmin exists), then a new password in the
    // variable: the next start restores the account and the new password replaces the old one.
    cli(&server, &["admin", "create", "--username", "other"])
        .await
        .assert_ok();
    let path = format!("/api/v1/admins/{}", id.as_str().unwrap());
    let r = server
        .admin(
            "PATCH",
            &path,
            Some(json!({"disabled": true, "superadmin": false})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    serve_once(&server, "boot", "second-password-2").await;
    let boot = find(&server, "boot").await.unwrap();
    assert_eq!(boot["id"], id);
    assert_eq!(boot["superadmin"], true);
    assert_eq!(boot["disabled"], false);
    assert_eq!(list(&server).await.len(), 2);
    assert_eq!(
        console_login(&server, "boot", "first-password-1").await,
        401
    );
    assert_eq!(
        console_login(&server, "boot", "second-password-2").await,
        303
    );
}
