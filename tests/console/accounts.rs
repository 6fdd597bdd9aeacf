//! Console accounts in the console (superadmins only): the list, creating an account (a generated
//! password shown once, and it signs in), an account's page (settings, password, org grants,
//! delete), the last-superadmin rule, and each org's Admins tab. Who may do what, CSRF refusals,
//! and validation errors next to their fields. Effects are checked through the Admin API and by
//! signing in.

use clavex_testkit::{TestResponse, TestServer};
use serde_json::{Value, json};

use super::support::{
    ConsoleUser, PASSWORD, api_get, create_account, field_error, input_tag, input_value,
    password_accepted,
};
use crate::oidc::support::location;

/// Form fields as posted.
type Fields<'a> = &'a [(&'a str, &'a str)];

/// Every console account, by the Admin API.
async fn accounts(server: &TestServer) -> Vec<Value> {
    api_get(server, "/api/v1/admins").await["items"]
        .as_array()
        .unwrap()
        .clone()
}

/// One console account by username, by the Admin API.
async fn account(server: &TestServer, username: &str) -> Option<Value> {
    accounts(server)
        .await
        .into_iter()
        .find(|a| a["username"] == username)
}

async fn account_id(server: &TestServer, username: &str) -> String {
    account(server, username)
        .await
        .unwrap_or_else(|| panic!("no account {username}"))["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The slugs of the orgs `username` administers, sorted.
async fn orgs_of(server: &TestServer, username: &str) -> Vec<String> {
    let mut orgs: Vec<String> = account(server, username).await.unwrap()["orgs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o.as_str().unwrap().to_string())
        .collect();
    orgs.sort();
    orgs
}

/// The usernames the org's admins list shows through the API, sorted.
async fn org_admins(server: &TestServer, org: &str) -> Vec<String> {
    let mut names: Vec<String> = api_get(server, &format!("/api/v1/organizations/{org}/admins"))
        .await["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["username"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    names
}

#[track_caller]
fn assert_redirect(r: &TestResponse, to: &str) {
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(location(r), to);
}

/// A server with orgs acme and globex and the console superadmin `root`, signed in.
async fn setup(server: &TestServer) -> ConsoleUser<'_> {
    server.create_org("acme").await;
    server.create_org("globex").await;
    create_account(server, "root", &[]).await;
    ConsoleUser::sign_in(server, "root").await
}

#[tokio::test]
async fn a_generated_password_is_shown_once_and_signs_the_new_account_in() {
    let server = TestServer::start().await;
    let root = setup(&server).await;

    let list = root.get("/admin/accounts").await;
    assert_eq!(list.status, 200, "{}", list.text);
    assert!(list.text.contains("<h1>Console accounts</h1>"));
    assert!(list.text.contains(">root</a> (you)"), "{}", list.text);
    assert!(list.text.contains("superadmin"));
    assert!(list.text.contains("href=\"/admin/accounts/new\""));
    assert!(list.text.contains("aria-current=\"page\">Console accounts"));

    let form = root.get("/admin/accounts/new").await;
    assert_eq!(form.status, 200, "{}", form.text);
    for field in [
        "username",
        "email",
        "name",
        "password",
        "superadmin",
        "orgs-acme",
        "orgs-globex",
    ] {
        assert!(form.text.contains(&format!("for=\"{field}\"")), "{field}");
        assert!(input_tag(&form.text, field).is_some(), "{field}");
    }
    assert!(
        !form.text.contains("orgs-admin\""),
        "the console org is not offered"
    );

    let page = root
        .post(
            "/admin/accounts",
            &[
                ("username", "ann"),
                ("email", ""),
                ("name", "Ann Admin"),
                ("password", ""),
                ("orgs", "acme"),
            ],
        )
        .await;
    assert_eq!(page.status, 201, "{}", page.text);
    let password = input_value(&page.text, "account-password")
        .unwrap_or_else(|| panic!("no password shown: {}", page.text));
    assert!(password.len() >= 16, "{password}");
    let tag = input_tag(&page.text, "account-password").unwrap();
    assert!(tag.contains(" readonly"), "{tag}");
    let secret_box = page.text.find("class=\"secret-box\"").unwrap();
    assert!(secret_box < page.text.find("id=\"account-password\"").unwrap());
    assert!(page.text.contains("data-copy=\"account-password\""));
    assert!(page.text.contains("will not be shown again"));

    let ann = account(&server, "ann").await.unwrap();
    assert_eq!(ann["superadmin"], false);
    assert_eq!(ann["orgs"], json!(["acme"]));
    assert_eq!(ann["name"], "Ann Admin");
    assert_eq!(ann["email"], "ann@console.invalid");
    let id = ann["id"].as_str().unwrap();

    // Shown once: no other page has it.
    for path in [
        "/admin/accounts".to_string(),
        format!("/admin/accounts/{id}"),
    ] {
        let other = root.get(&path).await;
        assert_eq!(other.status, 200);
        assert!(!other.text.contains(&password), "{path} shows the password");
        assert!(other.text.contains("ann"));
    }
    let list = root.get("/admin/accounts").await;
    assert!(
        list.text.contains("admin of <a href=\"/admin/orgs/acme\">"),
        "{}",
        list.text
    );

    // It works: ann signs in and sees acme only.
    let ann = ConsoleUser::sign_in_with(&server, "ann", &password).await;
    let home = ann.get("/admin").await;
    assert!(home.text.contains("/admin/orgs/acme"));
    assert!(!home.text.contains("globex"));
    assert!(!home.text.contains("/admin/accounts"), "no accounts link");
    server.stop().await;
}

#[tokio::test]
async fn an_account_with_a_typed_password_goes_to_its_page_and_signs_in() {
    let server = TestServer::start().await;
    let root = setup(&server).await;
    let r = root
        .post(
            "/admin/accounts",
            &[
                ("username", "sue"),
                ("email", "sue@example.com"),
                ("name", ""),
                ("password", "typed-password-1"),
                ("superadmin", "true"),
                ("orgs", "acme"),
                ("orgs", "globex"),
            ],
        )
        .await;
    let sue = account(&server, "sue").await.unwrap();
    let id = sue["id"].as_str().unwrap();
    assert_redirect(&r, &format!("/admin/accounts/{id}?done=account-created"));
    assert_eq!(sue["superadmin"], true);
    assert_eq!(sue["email"], "sue@example.com");
    assert_eq!(sue["name"], "sue");
    assert_eq!(orgs_of(&server, "sue").await, ["acme", "globex"]);
    let page = root.get(&location(&r)).await;
    assert_eq!(page.status, 200);
    assert!(page.text.contains("The console account was created."));
    assert!(!page.text.contains("typed-password-1"));
    assert!(password_accepted(&server, "sue", "typed-password-1").await);
    server.stop().await;
}

#[tokio::test]
async fn create_errors_come_back_next_to_their_field_with_the_values_typed() {
    let server = TestServer::start().await;
    let root = setup(&server).await;
    create_account(&server, "ann", &["acme"]).await;
    let before = accounts(&server).await.len();

    let cases: &[(Fields, u16, &str, &str)] = &[
        (&[("username", "ANN")], 409, "username", "already taken"),
        (&[("username", "a b")], 400, "username", "username"),
        (&[("username", "")], 400, "username", "username"),
        (
            &[("username", "bob"), ("email", "not-an-email")],
            400,
            "email",
            "email",
        ),
        (
            &[("username", "bob"), ("password", "short")],
            400,
            "password",
            "at least 8",
        ),
    ];
    for (form, status, field, says) in cases {
        let mut fields = vec![("name", "Typed Name"), ("orgs", "globex")];
        fields.extend_from_slice(form);
        let page = root.post("/admin/accounts", &fields).await;
        assert_eq!(page.status, *status, "{form:?}: {}", page.text);
        let error = field_error(&page, field);
        assert!(error.contains(says), "{form:?}: {error}");
        // What was typed is kept (never the password), the checked org stays checked.
        assert_eq!(input_value(&page.text, "name").unwrap(), "Typed Name");
        assert!(
            input_tag(&page.text, "orgs-globex")
                .unwrap()
                .contains(" checked"),
            "{form:?}"
        );
        assert!(
            !input_tag(&page.text, "orgs-acme")
                .unwrap()
                .contains(" checked")
        );
        assert!(!page.text.contains("value=\"short\""));
    }

    // An org that does not exist (or the console org) is an error on the orgs fieldset.
    for slug in ["nope", "admin"] {
        let page = root
            .post("/admin/accounts", &[("username", "bob"), ("orgs", slug)])
            .await;
        assert_eq!(page.status, 400, "{}", page.text);
        let marker = "<p class=\"field-error\" id=\"orgs-error\">";
        let at = page
            .text
            .find(marker)
            .unwrap_or_else(|| panic!("{}", page.text))
            + marker.len();
        let error = &page.text[at..at + page.text[at..].find("</p>").unwrap()];
        assert!(
            error.contains("no organization") && error.contains(slug),
            "{error}"
        );
        assert!(page.text.contains("aria-describedby=\"orgs-error\""));
    }
    assert_eq!(accounts(&server).await.len(), before, "nothing was created");
    server.stop().await;
}

#[tokio::test]
async fn editing_an_account_saves_its_settings_and_shows_errors_next_to_fields() {
    let server = TestServer::start().await;
    let root = setup(&server).await;
    let id = create_account(&server, "ann", &["acme"]).await;
    let path = format!("/admin/accounts/{id}");

    let page = root.get(&path).await;
    assert_eq!(page.status, 200, "{}", page.text);
    for field in ["name", "email", "superadmin", "disabled", "password", "org"] {
        assert!(page.text.contains(&format!("for=\"{field}\"")), "{field}");
    }
    assert!(
        page.text
            .contains(&format!("action=\"{path}/delete\" data-confirm="))
    );

    let r = root
        .post(
            &format!("{path}/edit"),
            &[
                ("name", "Ann Smith"),
                ("email", "ann@example.com"),
                ("superadmin", "true"),
            ],
        )
        .await;
    assert_redirect(&r, &format!("{path}?done=account-updated"));
    let ann = api_get(&server, &format!("/api/v1/admins/{id}")).await;
    assert_eq!(ann["name"], "Ann Smith");
    assert_eq!(ann["email"], "ann@example.com");
    assert_eq!(ann["superadmin"], true);
    assert_eq!(ann["disabled"], false);
    let page = root.get(&location(&r)).await;
    assert!(page.text.contains("The console account was saved."));
    assert!(
        input_tag(&page.text, "superadmin")
            .unwrap()
            .contains(" checked")
    );

    // Back to org admin, and disabled.
    let r = root
        .post(
            &format!("{path}/edit"),
            &[
                ("name", "Ann Smith"),
                ("email", "ann@example.com"),
                ("disabled", "true"),
            ],
        )
        .await;
    assert_redirect(&r, &format!("{path}?done=account-updated"));
    let ann = api_get(&server, &format!("/api/v1/admins/{id}")).await;
    assert_eq!(ann["superadmin"], false);
    assert_eq!(ann["disabled"], true);
    assert!(!password_accepted(&server, "ann", PASSWORD).await);

    // Errors: next to the field, with what was typed; nothing saved.
    let page = root
        .post(
            &format!("{path}/edit"),
            &[("name", "Changed"), ("email", "nope"), ("disabled", "true")],
        )
        .await;
    assert_eq!(page.status, 400, "{}", page.text);
    assert!(field_error(&page, "email").contains("email"));
    assert_eq!(input_value(&page.text, "email").unwrap(), "nope");
    assert_eq!(input_value(&page.text, "name").unwrap(), "Changed");
    let page = root
        .post(
            &format!("{path}/edit"),
            &[("name", "  "), ("email", "ann@example.com")],
        )
        .await;
    assert_eq!(page.status, 400, "{}", page.text);
    assert!(field_error(&page, "name").contains("must not be empty"));
    let ann = api_get(&server, &format!("/api/v1/admins/{id}")).await;
    assert_eq!(ann["name"], "Ann Smith");
    assert_eq!(ann["email"], "ann@example.com");
    assert_eq!(ann["disabled"], true);

    // Re-enabled, it signs in again.
    let r = root
        .post(
            &format!("{path}/edit"),
            &[("name", "Ann Smith"), ("email", "ann@example.com")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert!(password_accepted(&server, "ann", PASSWORD).await);

    assert_eq!(root.get("/admin/accounts/no-such-id").await.status, 404);
    let r = root
        .post("/admin/accounts/no-such-id/edit", &[("name", "x")])
        .await;
    assert_eq!(r.status, 404, "{}", r.text);
    server.stop().await;
}

#[tokio::test]
async fn setting_a_password_replaces_the_old_one() {
    let server = TestServer::start().await;
    let root = setup(&server).await;
    let id = create_account(&server, "ann", &["acme"]).await;
    let path = format!("/admin/accounts/{id}");

    let page = root
        .post(&format!("{path}/password"), &[("password", "short")])
        .await;
    assert_eq!(page.status, 400, "{}", page.text);
    assert!(field_error(&page, "password").contains("at least 8"));
    assert!(!page.text.contains("value=\"short\""));
    assert!(password_accepted(&server, "ann", PASSWORD).await);

    let r = root
        .post(
            &format!("{path}/password"),
            &[("password", "a-new-password-2")],
        )
        .await;
    assert_redirect(&r, &format!("{path}?done=password-set"));
    assert!(
        root.get(&location(&r))
            .await
            .text
            .contains("The password was set.")
    );
    assert!(!password_accepted(&server, "ann", PASSWORD).await);
    assert!(password_accepted(&server, "ann", "a-new-password-2").await);
    server.stop().await;
}

#[tokio::test]
async fn the_last_enabled_superadmin_cannot_be_deleted_disabled_or_demoted() {
    let server = TestServer::start().await;
    let root = setup(&server).await;
    let root_id = account_id(&server, "root").await;
    let path = format!("/admin/accounts/{root_id}");

    // The bootstrap API token is a superadmin too, but not a console account: it does not count.
    let attempts: [(&str, &[(&str, &str)]); 3] = [
        ("delete", &[]),
        (
            "edit",
            &[
                ("name", "root"),
                ("email", "root@console.invalid"),
                ("superadmin", "true"),
                ("disabled", "true"),
            ],
        ),
        (
            "edit",
            &[("name", "root"), ("email", "root@console.invalid")],
        ),
    ];
    for (action, form) in attempts {
        let page = root.post(&format!("{path}/{action}"), form).await;
        assert_eq!(page.status, 403, "{action} {form:?}: {}", page.text);
        assert!(
            page.text.contains("this is the last enabled superadmin"),
            "{}",
            page.text
        );
        assert!(page.text.contains("<p class=\"error\" role=\"alert\">"));
        let me = api_get(&server, &format!("/api/v1/admins/{root_id}")).await;
        assert_eq!(me["superadmin"], true);
        assert_eq!(me["disabled"], false);
    }
    assert_eq!(root.get("/admin").await.status, 200, "still signed in");

    // With another superadmin, root may disable it; then root is the last one again.
    let other = create_account(&server, "root2", &[]).await;
    let other_path = format!("/admin/accounts/{other}");
    let r = root
        .post(
            &format!("{other_path}/edit"),
            &[
                ("name", "root2"),
                ("email", "root2@console.invalid"),
                ("superadmin", "true"),
                ("disabled", "true"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let page = root
        .post(
            &format!("{path}/edit"),
            &[("name", "root"), ("email", "root@console.invalid")],
        )
        .await;
    assert_eq!(
        page.status, 403,
        "a disabled superadmin does not count: {}",
        page.text
    );

    // Deleting root2 works.
    let r = root.post(&format!("{other_path}/delete"), &[]).await;
    assert_redirect(&r, "/admin/accounts?done=account-deleted");
    assert!(
        root.get(&location(&r))
            .await
            .text
            .contains("The console account was deleted.")
    );
    let gone = server
        .admin("GET", &format!("/api/v1/admins/{other}"), None)
        .await;
    assert_eq!(gone.status, 404);

    // With another enabled superadmin, root may demote itself, and then lands on its orgs.
    create_account(&server, "root3", &[]).await;
    let r = root
        .post(
            &format!("{path}/edit"),
            &[("name", "root"), ("email", "root@console.invalid")],
        )
        .await;
    assert_redirect(&r, "/admin?done=account-updated");
    assert_eq!(account(&server, "root").await.unwrap()["superadmin"], false);
    assert_eq!(root.get("/admin/accounts").await.status, 403);
    server.stop().await;
}

#[tokio::test]
async fn a_deleted_account_is_signed_out_at_once() {
    let server = TestServer::start().await;
    let root = setup(&server).await;
    let id = create_account(&server, "ann", &["acme"]).await;
    let ann = ConsoleUser::sign_in(&server, "ann").await;
    assert_eq!(ann.get("/admin/orgs/acme").await.status, 200);
    let r = root
        .post(&format!("/admin/accounts/{id}/delete"), &[])
        .await;
    assert_redirect(&r, "/admin/accounts?done=account-deleted");
    assert!(account(&server, "ann").await.is_none());
    let r = ann.get("/admin/orgs/acme").await;
    assert_eq!(r.status, 303);
    assert!(location(&r).starts_with("/admin/signin"));
    assert!(org_admins(&server, "acme").await.is_empty());
    server.stop().await;
}

#[tokio::test]
async fn granting_and_revoking_on_the_account_page_take_effect_on_the_next_request() {
    let server = TestServer::start().await;
    let root = setup(&server).await;
    let id = create_account(&server, "bob", &["globex"]).await;
    let path = format!("/admin/accounts/{id}");
    let bob = ConsoleUser::sign_in(&server, "bob").await;
    assert_eq!(bob.get("/admin/orgs/acme").await.status, 403);

    let page = root.get(&path).await;
    assert!(
        page.text.contains("<option value=\"acme\">"),
        "{}",
        page.text
    );
    assert!(
        !page.text.contains("<option value=\"globex\">"),
        "already granted"
    );
    assert!(page.text.contains("Revoke globex"));

    let r = root
        .post(&format!("{path}/grant"), &[("org", "acme")])
        .await;
    assert_redirect(&r, &format!("{path}?done=admin-granted"));
    assert!(
        root.get(&location(&r))
            .await
            .text
            .contains("Admin rights were granted.")
    );
    assert_eq!(orgs_of(&server, "bob").await, ["acme", "globex"]);
    assert_eq!(bob.get("/admin/orgs/acme").await.status, 200);
    assert!(bob.get("/admin").await.text.contains("/admin/orgs/acme"));

    let r = root
        .post(&format!("{path}/revoke"), &[("org", "acme")])
        .await;
    assert_redirect(&r, &format!("{path}?done=admin-revoked"));
    assert_eq!(orgs_of(&server, "bob").await, ["globex"]);
    assert_eq!(bob.get("/admin/orgs/acme").await.status, 403);

    let page = root.post(&format!("{path}/grant"), &[("org", "")]).await;
    assert_eq!(page.status, 400);
    assert!(page.text.contains("choose an organization"));
    let r = root
        .post(&format!("{path}/grant"), &[("org", "nope")])
        .await;
    assert_eq!(r.status, 404, "{}", r.text);
    let r = root
        .post(&format!("{path}/grant"), &[("org", "admin")])
        .await;
    assert_eq!(r.status, 404, "the console org is not an org: {}", r.text);
    assert_eq!(orgs_of(&server, "bob").await, ["globex"]);
    server.stop().await;
}

#[tokio::test]
async fn the_org_admins_tab_lists_them_and_superadmins_grant_and_revoke() {
    let server = TestServer::start().await;
    let root = setup(&server).await;
    create_account(&server, "ann", &["acme"]).await;
    create_account(&server, "gary", &["globex"]).await;
    let bob_id = create_account(&server, "bob", &[]).await;
    // bob starts as a superadmin; make it an org admin of nothing.
    let r = server
        .admin(
            "PATCH",
            &format!("/api/v1/admins/{bob_id}"),
            Some(json!({"superadmin": false})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let bob = ConsoleUser::sign_in(&server, "bob").await;

    let page = root.get("/admin/orgs/acme/admins").await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.text.contains("aria-current=\"page\">Admins</a>"));
    assert!(page.text.contains(">ann</a>"), "{}", page.text);
    assert!(!page.text.contains(">gary</a>"));
    assert!(page.text.contains("Revoke ann"));
    assert!(page.text.contains("for=\"id\""));
    assert!(
        page.text
            .contains(&format!("<option value=\"{bob_id}\">bob")),
        "{}",
        page.text
    );

    assert_eq!(bob.get("/admin/orgs/acme").await.status, 403);
    let r = root
        .post("/admin/orgs/acme/admins", &[("id", &bob_id)])
        .await;
    assert_redirect(&r, "/admin/orgs/acme/admins?done=admin-granted");
    assert_eq!(org_admins(&server, "acme").await, ["ann", "bob"]);
    assert_eq!(
        bob.get("/admin/orgs/acme").await.status,
        200,
        "granting acme lets bob see it"
    );
    assert!(root.get(&location(&r)).await.text.contains("Revoke bob"));

    let r = root
        .post(&format!("/admin/orgs/acme/admins/{bob_id}/revoke"), &[])
        .await;
    assert_redirect(&r, "/admin/orgs/acme/admins?done=admin-revoked");
    assert_eq!(org_admins(&server, "acme").await, ["ann"]);
    assert_eq!(
        bob.get("/admin/orgs/acme").await.status,
        403,
        "revoked on the next request"
    );

    let page = root.post("/admin/orgs/acme/admins", &[("id", "")]).await;
    assert_eq!(page.status, 400);
    assert!(page.text.contains("choose an account"));
    let r = root
        .post("/admin/orgs/acme/admins", &[("id", "no-such-id")])
        .await;
    assert_eq!(r.status, 404, "{}", r.text);
    assert_eq!(root.get("/admin/orgs/nope/admins").await.status, 404);

    // ann, an org admin of acme, sees the list but cannot change it.
    let ann = ConsoleUser::sign_in(&server, "ann").await;
    let page = ann.get("/admin/orgs/acme/admins").await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.text.contains("ann"));
    assert!(!page.text.contains("Revoke"));
    assert!(!page.text.contains("action=\"/admin/orgs/acme/admins\""));
    assert!(!page.text.contains("/admin/accounts/"));
    assert_eq!(ann.get("/admin/orgs/globex/admins").await.status, 403);
    server.stop().await;
}

#[tokio::test]
async fn an_org_admin_gets_403_for_accounts_and_grants_and_nothing_changes() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    server.create_org("globex").await;
    let root_id = create_account(&server, "root", &[]).await;
    let ann_id = create_account(&server, "ann", &["acme"]).await;
    let bob_id = create_account(&server, "bob", &["globex"]).await;
    let before = accounts(&server).await;
    let ann = ConsoleUser::sign_in(&server, "ann").await;

    for path in [
        "/admin/accounts".to_string(),
        "/admin/accounts/new".to_string(),
        format!("/admin/accounts/{root_id}"),
        format!("/admin/accounts/{ann_id}"),
    ] {
        let r = ann.get(&path).await;
        assert_eq!(r.status, 403, "{path}: {}", r.text);
    }
    let posts: Vec<(String, Vec<(&str, &str)>)> = vec![
        (
            "/admin/accounts".into(),
            vec![("username", "eve"), ("superadmin", "true")],
        ),
        (
            format!("/admin/accounts/{ann_id}/edit"),
            vec![
                ("name", "x"),
                ("email", "x@example.com"),
                ("superadmin", "true"),
            ],
        ),
        (
            format!("/admin/accounts/{root_id}/edit"),
            vec![
                ("name", "x"),
                ("email", "x@example.com"),
                ("disabled", "true"),
            ],
        ),
        (
            format!("/admin/accounts/{root_id}/password"),
            vec![("password", "hijacked-password")],
        ),
        (
            format!("/admin/accounts/{ann_id}/grant"),
            vec![("org", "globex")],
        ),
        (
            format!("/admin/accounts/{bob_id}/revoke"),
            vec![("org", "globex")],
        ),
        (format!("/admin/accounts/{bob_id}/delete"), vec![]),
        ("/admin/orgs/acme/admins".into(), vec![("id", &bob_id)]),
        (format!("/admin/orgs/acme/admins/{ann_id}/revoke"), vec![]),
        ("/admin/orgs/globex/admins".into(), vec![("id", &ann_id)]),
        (format!("/admin/orgs/globex/admins/{bob_id}/revoke"), vec![]),
    ];
    for (path, form) in &posts {
        let r = ann.post(path, form).await;
        assert_eq!(r.status, 403, "{path}: {}", r.text);
    }
    assert_eq!(accounts(&server).await, before, "nothing changed");
    assert!(password_accepted(&server, "root", PASSWORD).await);
    assert_eq!(ann.get("/admin/orgs/acme").await.status, 200);
    server.stop().await;
}

#[tokio::test]
async fn posts_without_or_with_a_wrong_csrf_token_are_refused() {
    let server = TestServer::start().await;
    let root = setup(&server).await;
    let ann_id = create_account(&server, "ann", &["acme"]).await;
    let before = accounts(&server).await;
    let posts: Vec<(String, Vec<(&str, &str)>)> = vec![
        ("/admin/accounts".into(), vec![("username", "eve")]),
        (
            format!("/admin/accounts/{ann_id}/edit"),
            vec![
                ("name", "x"),
                ("email", "x@example.com"),
                ("superadmin", "true"),
            ],
        ),
        (
            format!("/admin/accounts/{ann_id}/password"),
            vec![("password", "hijacked-password")],
        ),
        (
            format!("/admin/accounts/{ann_id}/grant"),
            vec![("org", "globex")],
        ),
        (
            format!("/admin/accounts/{ann_id}/revoke"),
            vec![("org", "acme")],
        ),
        (format!("/admin/accounts/{ann_id}/delete"), vec![]),
        ("/admin/orgs/globex/admins".into(), vec![("id", &ann_id)]),
        (format!("/admin/orgs/acme/admins/{ann_id}/revoke"), vec![]),
    ];
    for (path, form) in &posts {
        let r = root.post_raw(path, form).await;
        assert_eq!(r.status, 403, "no token, {path}: {}", r.text);
        assert!(r.text.contains("This form has expired"), "{}", r.text);
        let mut wrong = vec![("csrf", "not-the-token")];
        wrong.extend_from_slice(form);
        let r = root.post_raw(path, &wrong).await;
        assert_eq!(r.status, 403, "wrong token, {path}: {}", r.text);
    }
    // Another session's token does not work either.
    let other = ConsoleUser::sign_in(&server, "root").await;
    let foreign = other.csrf().await;
    let r = root
        .post_raw(
            &format!("/admin/accounts/{ann_id}/delete"),
            &[("csrf", &foreign)],
        )
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(accounts(&server).await, before, "nothing changed");
    assert!(password_accepted(&server, "ann", PASSWORD).await);
    server.stop().await;
}
