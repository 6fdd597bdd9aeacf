//! Console pages for users: the list with search and pagination, creating one, the user's page
//! (edit, disable and enable, set password, groups, delete); who may do it, CSRF refusals, and
//! validation errors next to their fields. Effects are checked through the Admin API, and a set
//! password by signing in with it.

use clavex_testkit::{TestResponse, TestServer};
use serde_json::{Value, json};

use super::support::{
    ConsoleUser, api_get, create_account, field_error, input_value, marked_invalid,
};
use crate::oidc::{
    rp::grafana_authorize,
    support::{Browser, create_user, location, param, pkce, seed_acme, sign_in},
};

const USERS: &str = "/admin/orgs/acme/users";
const USERS_API: &str = "/api/v1/organizations/acme/users";

/// Rows of a users list page (each shows its creation time).
fn rows(page: &TestResponse) -> usize {
    page.text.matches("<time datetime=").count()
}

/// The "Next page" link of a list page, unescaped.
fn next_link(page: &TestResponse) -> Option<String> {
    let at = page.text.find("rel=\"next\"")?;
    let start = page.text[..at].rfind("href=\"")? + "href=\"".len();
    let end = start + page.text[start..].find('"')?;
    Some(
        page.text[start..end]
            .replace("&amp;", "&")
            .replace("&#38;", "&"),
    )
}

/// The full form of the create and edit pages.
fn user_form<'a>(username: &'a str, email: &'a str, name: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("username", username),
        ("email", email),
        ("email_verified", "false"),
        ("email_verified", "true"),
        ("name", name),
        ("given_name", "Dana"),
        ("family_name", "Scully"),
    ]
}

async fn user(server: &TestServer, id: &str) -> Value {
    api_get(server, &format!("{USERS_API}/{id}")).await
}

async fn user_count(server: &TestServer) -> usize {
    let listing = api_get(server, &format!("{USERS_API}?limit=200")).await;
    listing["items"].as_array().unwrap().len()
}

/// Creates a user through the API without a password (fast: no hashing). Returns its id.
async fn api_user(server: &TestServer, username: &str, email: &str, name: &str) -> String {
    let r = server
        .admin(
            "POST",
            USERS_API,
            Some(json!({ "username": username, "email": email, "name": name })),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.json()["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn the_list_searches_and_pages_through_users() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    create_account(&server, "root", &[]).await;
    let root = ConsoleUser::sign_in(&server, "root").await;

    let empty = root.get(USERS).await;
    assert_eq!(empty.status, 200, "{}", empty.text);
    assert!(empty.text.contains("No users yet"), "{}", empty.text);
    assert!(empty.text.contains("href=\"/admin/orgs/acme/users/new\""));

    for i in 0..60 {
        api_user(
            &server,
            &format!("user{i:02}"),
            &format!("u{i:02}@example.org"),
            &format!("Person Number{i:02}"),
        )
        .await;
    }
    api_user(&server, "zed", "zed@elsewhere.test", "Zoe Quartermaine").await;

    // 61 users: 50, then 11.
    let first = root.get(USERS).await;
    assert_eq!(first.status, 200, "{}", first.text);
    assert_eq!(rows(&first), 50);
    assert!(first.text.contains(">user00</a>"));
    assert!(first.text.contains("u00@example.org"));
    assert!(first.text.contains("Person Number00"));
    assert!(first.text.contains("Enabled"));
    assert!(!first.text.contains(">zed</a>"));
    let next = next_link(&first).expect("a Next page link");
    assert!(next.starts_with("/admin/orgs/acme/users?cursor="), "{next}");
    let second = root.get(&next).await;
    assert_eq!(second.status, 200, "{}", second.text);
    assert_eq!(rows(&second), 11);
    assert!(second.text.contains(">user50</a>"));
    assert!(second.text.contains(">zed</a>"));
    assert!(!second.text.contains(">user00</a>"));
    assert!(next_link(&second).is_none());
    assert!(second.text.contains("First page"));

    // Search by email, by name, by username; case-insensitive.
    let page = root.get(&format!("{USERS}?q=ELSEWHERE.test")).await;
    assert_eq!(page.status, 200);
    assert_eq!(rows(&page), 1);
    assert!(page.text.contains(">zed</a>"), "{}", page.text);
    assert_eq!(
        input_value(&page.text, "q").as_deref(),
        Some("ELSEWHERE.test")
    );
    let page = root.get(&format!("{USERS}?q=quarter")).await;
    assert_eq!(rows(&page), 1);
    assert!(page.text.contains(">zed</a>"));
    let page = root.get(&format!("{USERS}?q=Number07")).await;
    assert_eq!(rows(&page), 1);
    assert!(page.text.contains(">user07</a>"));
    let page = root.get(&format!("{USERS}?q=nobody-like-this")).await;
    assert_eq!(rows(&page), 0);
    assert!(page.text.contains("No user matches"), "{}", page.text);

    // A search with more than a page of matches keeps the search in its Next link.
    let page = root.get(&format!("{USERS}?q=example.org")).await;
    assert_eq!(rows(&page), 50);
    let next = next_link(&page).expect("a Next page link");
    assert!(next.contains("q=example.org"), "{next}");
    let page = root.get(&next).await;
    assert_eq!(page.status, 200);
    assert_eq!(rows(&page), 10);
    assert!(!page.text.contains(">zed</a>"));

    // Nonsense cursors and over-long searches are explained, not a crash.
    let page = root.get(&format!("{USERS}?cursor=garbage!")).await;
    assert_eq!(page.status, 400, "{}", page.text);
    assert!(page.text.contains("cursor"));
    let page = root.get(&format!("{USERS}?q={}", "a".repeat(201))).await;
    assert_eq!(page.status, 400, "{}", page.text);
    server.stop().await;
}

#[tokio::test]
async fn creating_a_user_and_errors_next_to_their_fields() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    create_account(&server, "ada", &["acme"]).await;
    let ada = ConsoleUser::sign_in(&server, "ada").await;

    let form = ada.get(&format!("{USERS}/new")).await;
    assert_eq!(form.status, 200, "{}", form.text);
    for field in [
        "username",
        "email",
        "email_verified",
        "name",
        "given_name",
        "family_name",
        "password",
    ] {
        assert!(
            form.text.contains(&format!("for=\"{field}\"")),
            "label for {field}"
        );
    }

    let mut fields = user_form("dana", "dana@acme.test", "Dana Scully");
    fields.push(("password", "dana-password-1"));
    let r = ada.post(USERS, &fields).await;
    assert_eq!(r.status, 303, "{}", r.text);
    let to = location(&r);
    assert!(to.ends_with("?done=user-created"), "{to}");
    let id = to
        .strip_prefix("/admin/orgs/acme/users/")
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let dana = user(&server, &id).await;
    assert_eq!(dana["username"], "dana");
    assert_eq!(dana["email"], "dana@acme.test");
    assert_eq!(dana["email_verified"], true);
    assert_eq!(dana["name"], "Dana Scully");
    assert_eq!(dana["given_name"], "Dana");
    assert_eq!(dana["family_name"], "Scully");
    assert_eq!(dana["has_password"], true);
    assert_eq!(dana["disabled"], false);
    let page = ada.get(&to).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.text.contains("The user was created."));
    assert!(page.text.contains(&id));

    // Without a password, unverified and without the optional names.
    let r = ada
        .post(
            USERS,
            &[
                ("username", "eve"),
                ("email", "eve@acme.test"),
                ("email_verified", "false"),
                ("name", "Eve"),
                ("given_name", ""),
                ("family_name", ""),
                ("password", ""),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let listing = api_get(&server, &format!("{USERS_API}?q=eve")).await;
    let eve = &listing["items"][0];
    assert_eq!(eve["has_password"], false);
    assert_eq!(eve["email_verified"], false);
    assert_eq!(eve["given_name"], Value::Null);

    // A taken username: 409 next to the username, what was typed kept, the password not.
    let mut fields = user_form("DANA", "other@acme.test", "Another Dana");
    fields.push(("password", "typed-password-1"));
    let page = ada.post(USERS, &fields).await;
    assert_eq!(page.status, 409, "{}", page.text);
    assert!(field_error(&page, "username").contains("already taken"));
    assert_eq!(input_value(&page.text, "username").as_deref(), Some("DANA"));
    assert_eq!(
        input_value(&page.text, "email").as_deref(),
        Some("other@acme.test")
    );
    assert_eq!(
        input_value(&page.text, "name").as_deref(),
        Some("Another Dana")
    );
    assert!(page.text.contains("value=\"true\" checked"));
    assert!(!page.text.contains("typed-password-1"));
    assert!(page.text.contains("Type the password again"));

    // A taken email.
    let page = ada
        .post(USERS, &user_form("dana2", "Dana@ACME.test", "Dana"))
        .await;
    assert_eq!(page.status, 409, "{}", page.text);
    assert!(field_error(&page, "email").contains("already taken"));

    // An invalid email, an invalid username, a short password, an empty name.
    let page = ada
        .post(USERS, &user_form("frank", "not-an-email", "Frank"))
        .await;
    assert_eq!(page.status, 400, "{}", page.text);
    assert!(field_error(&page, "email").contains("email address"));
    assert_eq!(
        input_value(&page.text, "email").as_deref(),
        Some("not-an-email")
    );
    assert!(!marked_invalid(&page, "username"));
    let page = ada
        .post(USERS, &user_form("frank smith", "frank@acme.test", "Frank"))
        .await;
    assert_eq!(page.status, 400, "{}", page.text);
    assert!(field_error(&page, "username").contains("letters"));
    let mut fields = user_form("frank", "frank@acme.test", "Frank");
    fields.push(("password", "short"));
    let page = ada.post(USERS, &fields).await;
    assert_eq!(page.status, 400, "{}", page.text);
    assert!(field_error(&page, "password").contains("at least 8"));
    let page = ada
        .post(USERS, &user_form("frank", "frank@acme.test", ""))
        .await;
    assert_eq!(page.status, 400, "{}", page.text);
    assert!(field_error(&page, "name").starts_with("name"));

    assert_eq!(user_count(&server).await, 2);
    server.stop().await;
}

#[tokio::test]
async fn editing_disabling_setting_a_password_and_deleting() {
    let server = TestServer::start().await;
    seed_acme(&server).await;
    create_account(&server, "root", &[]).await;
    let root = ConsoleUser::sign_in(&server, "root").await;
    let id = api_user(&server, "dave", "dave@acme.test", "Dave Lister").await;
    let page_path = format!("{USERS}/{id}");

    let page = root.get(&page_path).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert_eq!(input_value(&page.text, "username").as_deref(), Some("dave"));
    assert!(page.text.contains("Dave Lister"));
    assert!(page.text.contains("Not set"), "no password yet");
    for button in [
        "Save changes",
        "Disable user",
        "Set password",
        "Delete user",
    ] {
        assert!(page.text.contains(button), "{button}");
    }
    assert!(page.text.contains("data-confirm=\"Delete the user dave?"));

    // Edit: every field, the checkbox left unticked, given_name emptied.
    let r = root
        .post(
            &format!("{page_path}/edit"),
            &[
                ("username", "dlister"),
                ("email", "lister@acme.test"),
                ("email_verified", "false"),
                ("name", "David Lister"),
                ("given_name", "David"),
                ("family_name", ""),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(location(&r), format!("{page_path}?done=user-updated"));
    let dave = user(&server, &id).await;
    assert_eq!(dave["username"], "dlister");
    assert_eq!(dave["email"], "lister@acme.test");
    assert_eq!(dave["name"], "David Lister");
    assert_eq!(dave["given_name"], "David");
    assert_eq!(dave["family_name"], Value::Null);
    assert_eq!(dave["email_verified"], false);
    let r = root
        .post(
            &format!("{page_path}/edit"),
            &[
                ("username", "dlister"),
                ("email", "lister@acme.test"),
                ("email_verified", "false"),
                ("email_verified", "true"),
                ("name", "David Lister"),
                ("given_name", ""),
                ("family_name", ""),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let dave = user(&server, &id).await;
    assert_eq!(dave["email_verified"], true);
    assert_eq!(dave["given_name"], Value::Null);

    // Edit errors: alice's username is taken; the page keeps what was typed.
    let page = root
        .post(
            &format!("{page_path}/edit"),
            &[
                ("username", "alice"),
                ("email", "typed@acme.test"),
                ("email_verified", "false"),
                ("name", "Typed Name"),
                ("given_name", ""),
                ("family_name", ""),
            ],
        )
        .await;
    assert_eq!(page.status, 409, "{}", page.text);
    assert!(field_error(&page, "username").contains("already taken"));
    assert_eq!(
        input_value(&page.text, "username").as_deref(),
        Some("alice")
    );
    assert_eq!(
        input_value(&page.text, "email").as_deref(),
        Some("typed@acme.test")
    );
    let page = root
        .post(
            &format!("{page_path}/edit"),
            &[
                ("username", "dlister"),
                ("email", "lister@"),
                ("email_verified", "false"),
                ("name", "David Lister"),
            ],
        )
        .await;
    assert_eq!(page.status, 400, "{}", page.text);
    assert!(field_error(&page, "email").contains("email address"));
    assert_eq!(user(&server, &id).await["email"], "lister@acme.test");

    // Disable, then enable.
    let r = root
        .post(&format!("{page_path}/status"), &[("disabled", "true")])
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(location(&r), format!("{page_path}?done=user-disabled"));
    assert_eq!(user(&server, &id).await["disabled"], true);
    let page = root.get(&location(&r)).await;
    assert!(page.text.contains("Enable user"), "{}", page.text);
    assert!(page.text.contains("Disabled"));
    let list = root.get(USERS).await;
    assert!(list.text.contains("status-off"), "{}", list.text);
    let r = root
        .post(&format!("{page_path}/status"), &[("disabled", "false")])
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(location(&r), format!("{page_path}?done=user-enabled"));
    assert_eq!(user(&server, &id).await["disabled"], false);

    // Set a password: too short is refused next to the field; then dave can sign in with it.
    let page = root
        .post(&format!("{page_path}/password"), &[("password", "short")])
        .await;
    assert_eq!(page.status, 400, "{}", page.text);
    assert!(field_error(&page, "password").contains("at least 8"));
    assert_eq!(user(&server, &id).await["has_password"], false);
    let r = root
        .post(
            &format!("{page_path}/password"),
            &[("password", "a new password 1")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(location(&r), format!("{page_path}?done=password-set"));
    assert_eq!(user(&server, &id).await["has_password"], true);
    let (_, challenge) = pkce();
    let back = sign_in(
        &Browser::new(),
        &grafana_authorize(&server, &challenge, "openid", &[]),
        "dlister",
        "a new password 1",
    )
    .await;
    assert!(param(&back, "code").is_some(), "{back}");

    // Delete.
    let r = root.post(&format!("{page_path}/delete"), &[]).await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(location(&r), format!("{USERS}?done=user-deleted"));
    assert_eq!(
        server
            .admin("GET", &format!("{USERS_API}/{id}"), None)
            .await
            .status,
        404
    );
    let list = root.get(&location(&r)).await;
    assert!(list.text.contains("The user was deleted."));
    assert!(!list.text.contains("dlister"));
    assert_eq!(root.get(&page_path).await.status, 404);
    server.stop().await;
}

#[tokio::test]
async fn the_user_page_shows_and_changes_its_groups() {
    let server = TestServer::start().await;
    seed_acme(&server).await;
    create_account(&server, "root", &[]).await;
    let root = ConsoleUser::sign_in(&server, "root").await;
    let alice = crate::oidc::rp::user_id(&server, "acme", "alice").await;
    let page_path = format!("{USERS}/{alice}");

    let page = root.get(&page_path).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(
        page.text
            .contains("href=\"/admin/orgs/acme/groups/grafana-admins\""),
        "{}",
        page.text
    );
    assert!(page.text.contains("Remove from grafana-admins"));
    // The select offers only the groups alice is not in.
    assert!(page.text.contains("<option value=\"grafana-viewers\""));
    assert!(!page.text.contains("<option value=\"grafana-admins\""));

    let r = root
        .post(
            &format!("{page_path}/groups"),
            &[("group", "grafana-viewers")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(location(&r), format!("{page_path}?done=member-added"));
    assert_eq!(
        user(&server, &alice).await["groups"],
        json!(["grafana-admins", "grafana-viewers"])
    );
    let page = root
        .post(&format!("{page_path}/groups"), &[("group", "no-such")])
        .await;
    assert_eq!(page.status, 400, "{}", page.text);
    assert!(field_error(&page, "group").contains("does not exist"));

    let r = root
        .post(
            &format!("{page_path}/groups/remove"),
            &[("group", "grafana-admins")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(location(&r), format!("{page_path}?done=member-removed"));
    assert_eq!(
        user(&server, &alice).await["groups"],
        json!(["grafana-viewers"])
    );
    server.stop().await;
}

#[tokio::test]
async fn an_admin_of_another_org_gets_403_and_nothing_changes() {
    let server = TestServer::start().await;
    seed_acme(&server).await;
    server.create_org("globex").await;
    create_account(&server, "gus", &["globex"]).await;
    let gus = ConsoleUser::sign_in(&server, "gus").await;
    let carol = crate::oidc::rp::user_id(&server, "acme", "carol").await;
    let before = user(&server, &carol).await;
    let count = user_count(&server).await;
    let carol_page = format!("{USERS}/{carol}");

    for path in [
        USERS.to_string(),
        format!("{USERS}?q=carol"),
        format!("{USERS}/new"),
        carol_page.clone(),
    ] {
        let r = gus.get(&path).await;
        assert_eq!(r.status, 403, "GET {path}: {}", r.text);
        assert!(!r.text.contains("carol@acme.test"), "{path}");
    }
    let form = user_form("mallory", "mallory@acme.test", "Mallory");
    let edit = user_form("carol", "hacked@acme.test", "Hacked");
    let cases: [(String, &[(&str, &str)]); 7] = [
        (USERS.to_string(), &form),
        (format!("{carol_page}/edit"), &edit),
        (format!("{carol_page}/status"), &[("disabled", "true")]),
        (
            format!("{carol_page}/password"),
            &[("password", "hijacked-password")],
        ),
        (
            format!("{carol_page}/groups"),
            &[("group", "grafana-admins")],
        ),
        // An empty group is a form error for an allowed user: not a way to see the page.
        (format!("{carol_page}/groups"), &[("group", "")]),
        (format!("{carol_page}/delete"), &[]),
    ];
    for (path, form) in &cases {
        let r = gus.post(path, form).await;
        assert_eq!(r.status, 403, "POST {path}: {}", r.text);
        assert!(!r.text.contains("carol@acme.test"), "{path}");
    }
    assert_eq!(user(&server, &carol).await, before);
    assert_eq!(user_count(&server).await, count);

    // The org's own admin may.
    create_account(&server, "ada", &["acme"]).await;
    let ada = ConsoleUser::sign_in(&server, "ada").await;
    assert_eq!(ada.get(USERS).await.status, 200);
    assert_eq!(ada.get(&carol_page).await.status, 200);
    let r = ada
        .post(&format!("{carol_page}/status"), &[("disabled", "true")])
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(user(&server, &carol).await["disabled"], true);
    server.stop().await;
}

#[tokio::test]
async fn posts_without_the_csrf_token_are_refused_and_change_nothing() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    create_account(&server, "root", &[]).await;
    let root = ConsoleUser::sign_in(&server, "root").await;
    let id = create_user(&server, "acme", "carol", None).await;
    server
        .admin(
            "POST",
            "/api/v1/organizations/acme/groups",
            Some(json!({ "name": "staff" })),
        )
        .await;
    let before = user(&server, &id).await;
    let page = format!("{USERS}/{id}");

    let form = user_form("mallory", "mallory@acme.test", "Mallory");
    let edit = user_form("carol", "hacked@acme.test", "Hacked");
    let cases: [(String, &[(&str, &str)]); 6] = [
        (USERS.to_string(), &form),
        (format!("{page}/edit"), &edit),
        (format!("{page}/status"), &[("disabled", "true")]),
        (
            format!("{page}/password"),
            &[("password", "hijacked-password")],
        ),
        (format!("{page}/groups"), &[("group", "staff")]),
        (format!("{page}/delete"), &[]),
    ];
    for (path, form) in &cases {
        let r = root.post_raw(path, form).await;
        assert_eq!(r.status, 403, "no token, {path}: {}", r.text);
        let mut with_wrong: Vec<(&str, &str)> = vec![("csrf", "not-the-token")];
        with_wrong.extend_from_slice(form);
        let r = root.post_raw(path, &with_wrong).await;
        assert_eq!(r.status, 403, "wrong token, {path}: {}", r.text);
    }
    assert_eq!(user(&server, &id).await, before);
    assert_eq!(user_count(&server).await, 1);
    server.stop().await;
}
