//! `/api/v1/admins` (console accounts) and `/api/v1/organizations/{org}/admins` (org-admin
//! grants): status codes, generated passwords, field errors, superadmin-only calls, idempotent
//! grants, the last-superadmin rule (console accounts only), and the console org staying hidden.

use clavex_core::oidc::signin::SignInOutcome;
use clavex_testkit::{TestResponse, TestServer};
use serde_json::{Value, json};

use super::common::{assert_error, assert_field_error, org_token, server_with_org};

/// Whether the console org's sign-in accepts these credentials.
async fn password_works(server: &TestServer, username: &str, password: &str) -> bool {
    let org = server
        .core
        .store
        .get_org_by_slug("admin")
        .await
        .unwrap()
        .expect("the console org");
    matches!(
        server
            .core
            .sign_in(&org, username, password, None)
            .await
            .unwrap(),
        SignInOutcome::Success(_)
    )
}

async fn create(server: &TestServer, body: Value) -> TestResponse {
    server.admin("POST", "/api/v1/admins", Some(body)).await
}

/// Creates an account with a password and returns its JSON.
async fn create_ok(server: &TestServer, username: &str, superadmin: bool, orgs: &[&str]) -> Value {
    let r = create(
        server,
        json!({
            "username": username,
            "password": "a-good-password",
            "superadmin": superadmin,
            "orgs": orgs,
        }),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.json()
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

/// The usernames in a `{"items": [...]}` answer, sorted.
fn usernames(r: &TestResponse) -> Vec<String> {
    assert_eq!(r.status, 200, "{}", r.text);
    let mut names: Vec<String> = r.json()["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items: {}", r.text))
        .iter()
        .map(|a| a["username"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn create_without_a_password_returns_201_with_a_generated_one_that_works() {
    let server = server_with_org("acme").await;
    let r = create(&server, json!({"username": "root", "superadmin": true})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let body = r.json();
    let password = body["password"].as_str().expect("a generated password");
    assert!(password.len() >= 24, "{password}");
    assert_eq!(body["username"], "root");
    assert_eq!(body["email"], "root@console.invalid");
    assert_eq!(body["name"], "root");
    assert_eq!(body["superadmin"], true);
    assert_eq!(body["disabled"], false);
    assert_eq!(body["orgs"], json!([]));
    assert!(body["created_at"].is_string());
    assert!(password_works(&server, "root", password).await);

    // Shown once: never in a later answer.
    let got = server
        .admin("GET", &format!("/api/v1/admins/{}", id(&body)), None)
        .await;
    assert_eq!(got.status, 200);
    assert!(got.json().get("password").is_none());
    assert!(!got.text.contains(password));
    let list = server.admin("GET", "/api/v1/admins", None).await;
    assert!(!list.text.contains(password));

    // With a password: no password field in the answer.
    let r = create(
        &server,
        json!({"username": "ann", "password": "ann-password-1", "email": "ann@example.com",
               "name": "Ann", "orgs": ["acme"]}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let ann = r.json();
    assert!(ann.get("password").is_none(), "{}", r.text);
    assert_eq!(ann["superadmin"], false, "superadmin defaults to false");
    assert_eq!(ann["orgs"], json!(["acme"]));
    assert_eq!(ann["email"], "ann@example.com");
    assert_eq!(ann["name"], "Ann");
    assert!(password_works(&server, "ann", "ann-password-1").await);

    let list = server.admin("GET", "/api/v1/admins", None).await;
    assert_eq!(usernames(&list), ["ann", "root"]);
    let got = server
        .admin("GET", &format!("/api/v1/admins/{}", id(&ann)), None)
        .await;
    assert_eq!(got.status, 200);
    assert_eq!(got.json(), ann);
}

#[tokio::test]
async fn create_refuses_bad_fields_with_400_naming_them() {
    let server = server_with_org("acme").await;
    let cases = [
        (json!({"username": "a b"}), "username"),
        (json!({"username": ""}), "username"),
        (json!({"username": "x".repeat(129)}), "username"),
        (json!({"username": "bob", "password": "short"}), "password"),
        (json!({"username": "bob", "email": "nope"}), "email"),
        (json!({"username": "bob", "name": "x".repeat(201)}), "name"),
        (json!({"username": "bob", "orgs": ["nope"]}), "orgs"),
        (
            json!({"username": "bob", "orgs": ["acme", "admin"]}),
            "orgs",
        ),
        (json!({"username": "bob", "role": "superadmin"}), "role"),
        (
            json!({"username": "bob", "superadmin": "yes"}),
            "superadmin",
        ),
        (json!({"password": "a-good-password"}), "username"),
    ];
    for (body, field) in cases {
        let r = create(&server, body).await;
        assert_field_error(&r, 400, field);
        assert!(
            !r.text.contains("a-good-password"),
            "the password is never echoed"
        );
    }
    let r = create(&server, json!({"username": "bob", "orgs": ["nope"]})).await;
    assert!(r.text.contains("nope"), "names the org: {}", r.text);
    let list = server.admin("GET", "/api/v1/admins", None).await;
    assert!(usernames(&list).is_empty(), "nothing was created");
}

#[tokio::test]
async fn a_duplicate_username_is_409_whatever_its_case() {
    let server = TestServer::start().await;
    create_ok(&server, "root", true, &[]).await;
    for username in ["root", "ROOT", "Root"] {
        let r = create(&server, json!({"username": username})).await;
        assert_field_error(&r, 409, "username");
    }
    // Also with a distinct email, where only the username collides.
    let r = create(
        &server,
        json!({"username": "root", "email": "other@example.com"}),
    )
    .await;
    assert_field_error(&r, 409, "username");
    let list = server.admin("GET", "/api/v1/admins", None).await;
    assert_eq!(usernames(&list), ["root"]);
}

#[tokio::test]
async fn an_org_scoped_token_gets_403_on_every_admins_call_and_on_grants() {
    let server = server_with_org("acme").await;
    server.create_org("globex").await;
    let ann = create_ok(&server, "ann", false, &["acme"]).await;
    let ann_id = id(&ann);
    let token = org_token(&server, "acme-token", "acme").await;
    let calls: Vec<(&str, String, Option<Value>)> = vec![
        (
            "POST",
            "/api/v1/admins".into(),
            Some(json!({"username": "eve", "superadmin": true})),
        ),
        ("GET", "/api/v1/admins".into(), None),
        ("GET", format!("/api/v1/admins/{ann_id}"), None),
        (
            "PATCH",
            format!("/api/v1/admins/{ann_id}"),
            Some(json!({"superadmin": true})),
        ),
        ("DELETE", format!("/api/v1/admins/{ann_id}"), None),
        ("GET", "/api/v1/admins/no-such-id".into(), None),
        (
            "PUT",
            format!("/api/v1/organizations/acme/admins/{ann_id}"),
            None,
        ),
        (
            "DELETE",
            format!("/api/v1/organizations/acme/admins/{ann_id}"),
            None,
        ),
        (
            "PUT",
            format!("/api/v1/organizations/globex/admins/{ann_id}"),
            None,
        ),
        ("GET", "/api/v1/organizations/globex/admins".into(), None),
    ];
    for (method, path, body) in calls {
        let r = server.call(method, &path, Some(&token), body).await;
        assert_error(&r, 403);
    }
    // Its own org's admins it may read.
    let r = server
        .call(
            "GET",
            "/api/v1/organizations/acme/admins",
            Some(&token),
            None,
        )
        .await;
    assert_eq!(usernames(&r), ["ann"]);

    let list = server.admin("GET", "/api/v1/admins", None).await;
    assert_eq!(usernames(&list), ["ann"], "nothing was created");
    let now = server
        .admin("GET", &format!("/api/v1/admins/{ann_id}"), None)
        .await
        .json();
    assert_eq!(now, ann, "nothing changed");
}

#[tokio::test]
async fn unknown_ids_and_orgs_are_404() {
    let server = server_with_org("acme").await;
    let ann = id(&create_ok(&server, "ann", false, &[]).await);
    let calls: Vec<(&str, String, Option<Value>)> = vec![
        ("GET", "/api/v1/admins/no-such-id".into(), None),
        (
            "PATCH",
            "/api/v1/admins/no-such-id".into(),
            Some(json!({"name": "x"})),
        ),
        ("DELETE", "/api/v1/admins/no-such-id".into(), None),
        (
            "PUT",
            "/api/v1/organizations/acme/admins/no-such-id".into(),
            None,
        ),
        (
            "DELETE",
            "/api/v1/organizations/acme/admins/no-such-id".into(),
            None,
        ),
        (
            "PUT",
            format!("/api/v1/organizations/nope/admins/{ann}"),
            None,
        ),
        (
            "DELETE",
            format!("/api/v1/organizations/nope/admins/{ann}"),
            None,
        ),
        ("GET", "/api/v1/organizations/nope/admins".into(), None),
    ];
    for (method, path, body) in calls {
        let r = server.admin(method, &path, body).await;
        assert_error(&r, 404);
    }
    // An id of a user of another org is not a console account.
    let user = super::common::create_user(&server, "acme", "alice").await;
    let r = server
        .admin("GET", &format!("/api/v1/admins/{}", id(&user)), None)
        .await;
    assert_error(&r, 404);
    let r = server
        .admin(
            "PUT",
            &format!("/api/v1/organizations/acme/admins/{}", id(&user)),
            None,
        )
        .await;
    assert_error(&r, 404);
}

#[tokio::test]
async fn grants_and_revocations_are_idempotent() {
    let server = server_with_org("acme").await;
    server.create_org("globex").await;
    let ann = id(&create_ok(&server, "ann", false, &[]).await);
    create_ok(&server, "root", true, &[]).await;
    let path = format!("/api/v1/organizations/acme/admins/{ann}");

    let list = server
        .admin("GET", "/api/v1/organizations/acme/admins", None)
        .await;
    assert!(usernames(&list).is_empty(), "superadmins are not listed");
    for _ in 0..2 {
        let r = server.admin("PUT", &path, None).await;
        assert_eq!(r.status, 204, "{}", r.text);
        assert!(r.text.is_empty());
    }
    let list = server
        .admin("GET", "/api/v1/organizations/acme/admins", None)
        .await;
    assert_eq!(usernames(&list), ["ann"]);
    let list = server
        .admin("GET", "/api/v1/organizations/globex/admins", None)
        .await;
    assert!(usernames(&list).is_empty());
    let got = server
        .admin("GET", &format!("/api/v1/admins/{ann}"), None)
        .await;
    assert_eq!(got.json()["orgs"], json!(["acme"]));

    for _ in 0..2 {
        let r = server.admin("DELETE", &path, None).await;
        assert_eq!(r.status, 204, "{}", r.text);
    }
    let list = server
        .admin("GET", "/api/v1/organizations/acme/admins", None)
        .await;
    assert!(usernames(&list).is_empty());
    let got = server
        .admin("GET", &format!("/api/v1/admins/{ann}"), None)
        .await;
    assert_eq!(got.json()["orgs"], json!([]));

    // The console org takes no grants.
    let r = server
        .admin(
            "PUT",
            &format!("/api/v1/organizations/admin/admins/{ann}"),
            None,
        )
        .await;
    assert_error(&r, 404);
}

#[tokio::test]
async fn patch_changes_each_field_and_refuses_bad_values() {
    let server = TestServer::start().await;
    let ann = id(&create_ok(&server, "ann", false, &[]).await);
    let path = format!("/api/v1/admins/{ann}");

    let r = server
        .admin(
            "PATCH",
            &path,
            Some(json!({"name": "Ann Smith", "email": "ann@example.com", "superadmin": true})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let body = r.json();
    assert_eq!(body["name"], "Ann Smith");
    assert_eq!(body["email"], "ann@example.com");
    assert_eq!(body["superadmin"], true);
    assert!(body.get("password").is_none());

    let r = server
        .admin(
            "PATCH",
            &path,
            Some(json!({"password": "another-password"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(!password_works(&server, "ann", "a-good-password").await);
    assert!(password_works(&server, "ann", "another-password").await);

    // Disabling is allowed while another enabled superadmin exists.
    create_ok(&server, "root", true, &[]).await;
    let r = server
        .admin(
            "PATCH",
            &path,
            Some(json!({"disabled": true, "superadmin": false})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["disabled"], true);
    assert_eq!(r.json()["superadmin"], false);
    assert!(!password_works(&server, "ann", "another-password").await);

    for (body, field) in [
        (json!({"password": "short"}), "password"),
        (json!({"email": "nope"}), "email"),
        (json!({"name": " "}), "name"),
        (json!({"username": "renamed"}), "username"),
        (json!({"orgs": ["acme"]}), "orgs"),
        (json!({"disabled": "no"}), "disabled"),
    ] {
        let r = server.admin("PATCH", &path, Some(body)).await;
        assert_field_error(&r, 400, field);
    }
    let got = server.admin("GET", &path, None).await.json();
    assert_eq!(got["name"], "Ann Smith");
    assert_eq!(got["email"], "ann@example.com");
}

#[tokio::test]
async fn the_last_enabled_console_superadmin_cannot_be_removed_disabled_or_demoted() {
    let server = TestServer::start().await;
    // The bootstrap API token is a superadmin, but not a console account: it does not count.
    let root = id(&create_ok(&server, "root", true, &[]).await);
    let path = format!("/api/v1/admins/{root}");
    for (method, body) in [
        ("PATCH", Some(json!({"disabled": true}))),
        ("PATCH", Some(json!({"superadmin": false}))),
        (
            "PATCH",
            Some(json!({"name": "Still Root", "superadmin": false})),
        ),
        ("DELETE", None),
    ] {
        let r = server.admin(method, &path, body.clone()).await;
        let err = assert_error(&r, 403);
        assert!(
            err["error_description"]
                .as_str()
                .unwrap()
                .contains("last enabled superadmin"),
            "{}",
            r.text
        );
    }
    let got = server.admin("GET", &path, None).await.json();
    assert_eq!(got["superadmin"], true);
    assert_eq!(got["disabled"], false);
    assert_eq!(got["name"], "root", "a refused PATCH changes nothing");

    // Other changes to it are fine; so are changes that keep it a superadmin.
    let r = server
        .admin(
            "PATCH",
            &path,
            Some(json!({"name": "Root", "superadmin": true, "disabled": false})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);

    // A disabled superadmin does not count; an enabled one does.
    let second = id(&create_ok(&server, "root2", true, &[]).await);
    let r = server
        .admin(
            "PATCH",
            &format!("/api/v1/admins/{second}"),
            Some(json!({"disabled": true})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_error(&server.admin("DELETE", &path, None).await, 403);
    let r = server
        .admin(
            "PATCH",
            &format!("/api/v1/admins/{second}"),
            Some(json!({"disabled": false})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = server.admin("DELETE", &path, None).await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_error(&server.admin("GET", &path, None).await, 404);
    assert_error(
        &server
            .admin("DELETE", &format!("/api/v1/admins/{second}"), None)
            .await,
        403,
    );

    // Org admins are not subject to the rule, even with no superadmin around them.
    let ann = id(&create_ok(&server, "ann", false, &[]).await);
    let r = server
        .admin(
            "PATCH",
            &format!("/api/v1/admins/{ann}"),
            Some(json!({"disabled": true})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = server
        .admin("DELETE", &format!("/api/v1/admins/{ann}"), None)
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
}

#[tokio::test]
async fn the_console_org_is_hidden_from_the_organizations_api() {
    let server = server_with_org("acme").await;
    create_ok(&server, "root", true, &[]).await;
    let r = server.admin("GET", "/api/v1/organizations", None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let slugs: Vec<String> = r.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["slug"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(slugs, ["acme"]);
    for (method, path, body) in [
        ("GET", "/api/v1/organizations/admin", None),
        (
            "PATCH",
            "/api/v1/organizations/admin",
            Some(json!({"name": "Mine"})),
        ),
        ("DELETE", "/api/v1/organizations/admin", None),
        ("GET", "/api/v1/organizations/admin/users", None),
        ("GET", "/api/v1/organizations/admin/clients", None),
        ("GET", "/api/v1/organizations/admin/admins", None),
    ] {
        let r = server.admin(method, path, body).await;
        assert_error(&r, 404);
    }
    // It still works: its accounts sign in.
    assert!(password_works(&server, "root", "a-good-password").await);
    let r = server
        .admin("GET", "/admin/.well-known/openid-configuration", None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}
