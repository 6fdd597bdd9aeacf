//! Console pages for groups: the list with its create form, a group's page with its members, the
//! "Add member" picker and Remove buttons, deleting; the seed's Step 3 done entirely in the
//! console; who may do it, CSRF refusals, and validation errors next to their fields. Effects are
//! checked through the Admin API, and the groups claim through a real Grafana sign-in.

use clavex_testkit::TestServer;
use serde_json::{Value, json};

use super::support::{
    ConsoleUser, api_get, create_account, field_error, input_value, marked_invalid,
};
use crate::oidc::{
    rp::{grafana_tokens, user_id},
    support::{create_user, location, seed_acme},
};

const GROUPS: &str = "/admin/orgs/acme/groups";
const GROUPS_API: &str = "/api/v1/organizations/acme/groups";

/// Usernames of a group's members, through the Admin API.
async fn members(server: &TestServer, group: &str) -> Vec<String> {
    let listing = api_get(server, &format!("{GROUPS_API}/{group}/members")).await;
    listing["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap().to_string())
        .collect()
}

async fn group_names(server: &TestServer) -> Vec<String> {
    let listing = api_get(server, GROUPS_API).await;
    listing["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap().to_string())
        .collect()
}

async fn api_group(server: &TestServer, name: &str) {
    let r = server
        .admin("POST", GROUPS_API, Some(json!({ "name": name })))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
}

/// The seed's Step 3 entirely in the console, as an org admin: three groups, alice in
/// grafana-admins and bob in grafana-editors through the picker; Grafana then sees the groups.
#[tokio::test]
async fn the_seed_step_3_in_the_console_gives_grafana_its_roles() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    let r = server
        .admin(
            "POST",
            "/api/v1/organizations/acme/clients",
            Some(serde_json::from_str::<Value>(crate::oidc::support::SEED_CLIENT).unwrap()),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let secret = r.json()["client_secret"].as_str().unwrap().to_string();
    for name in ["alice", "bob", "carol"] {
        create_user(&server, "acme", name, None).await;
    }
    create_account(&server, "ada", &["acme"]).await;
    let ada = ConsoleUser::sign_in(&server, "ada").await;

    let list = ada.get(GROUPS).await;
    assert_eq!(list.status, 200, "{}", list.text);
    assert!(list.text.contains("No groups yet"), "{}", list.text);
    assert!(list.text.contains("for=\"name\""));
    assert!(list.text.contains("for=\"description\""));
    for (name, description) in [
        ("grafana-admins", "Grafana Admin role"),
        ("grafana-editors", "Grafana Editor role"),
        ("grafana-viewers", ""),
    ] {
        let r = ada
            .post(GROUPS, &[("name", name), ("description", description)])
            .await;
        assert_eq!(r.status, 303, "{}", r.text);
        assert_eq!(location(&r), format!("{GROUPS}/{name}?done=group-created"));
    }
    assert_eq!(
        group_names(&server).await,
        ["grafana-admins", "grafana-editors", "grafana-viewers"]
    );
    let g = api_get(&server, &format!("{GROUPS_API}/grafana-admins")).await;
    assert_eq!(g["description"], "Grafana Admin role");
    let list = ada.get(GROUPS).await;
    assert!(list.text.contains("Grafana Editor role"));
    assert!(
        list.text
            .contains("href=\"/admin/orgs/acme/groups/grafana-viewers\"")
    );

    // The group page: no members yet, and the picker.
    let admins = format!("{GROUPS}/grafana-admins");
    let page = ada.get(&format!("{admins}?done=group-created")).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.text.contains("The group was created."));
    assert!(page.text.contains("No members yet"));
    assert!(page.text.contains("for=\"q\""));

    // Find alice by email, add her; the search stays for the next one.
    let page = ada.get(&format!("{admins}?q=alice%40acme")).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.text.contains("alice@acme.test"), "{}", page.text);
    assert!(page.text.contains("Add alice"));
    assert!(!page.text.contains("Add bob"));
    let alice = user_id(&server, "acme", "alice").await;
    let r = ada
        .post(
            &format!("{admins}/members"),
            &[("user_id", &alice), ("q", "alice@acme")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(
        location(&r),
        format!("{admins}?q=alice%40acme&done=member-added")
    );
    assert_eq!(members(&server, "grafana-admins").await, ["alice"]);
    let page = ada.get(&location(&r)).await;
    assert!(page.text.contains("The member was added."));
    assert!(page.text.contains("Remove alice"), "{}", page.text);
    assert!(
        !page.text.contains("Add alice"),
        "alice is a member already"
    );

    // Bob, found by name, into the editors.
    let editors = format!("{GROUPS}/grafana-editors");
    let page = ada.get(&format!("{editors}?q=BOB+example")).await;
    assert!(page.text.contains("Add bob"), "{}", page.text);
    let bob = user_id(&server, "acme", "bob").await;
    let r = ada
        .post(&format!("{editors}/members"), &[("user_id", &bob)])
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(location(&r), format!("{editors}?done=member-added"));
    assert_eq!(members(&server, "grafana-editors").await, ["bob"]);

    // A search that finds nobody says so.
    let page = ada.get(&format!("{editors}?q=zzz")).await;
    assert!(page.text.contains("No user matches"), "{}", page.text);

    // Grafana receives the groups.
    let tokens = grafana_tokens(&server, &secret, "alice", "openid profile email groups").await;
    assert_eq!(tokens.id_claims()["groups"], json!(["grafana-admins"]));
    let tokens = grafana_tokens(&server, &secret, "bob", "openid profile email groups").await;
    assert_eq!(tokens.id_claims()["groups"], json!(["grafana-editors"]));
    server.stop().await;
}

#[tokio::test]
async fn the_picker_shows_at_most_20_users() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    api_group(&server, "staff").await;
    for i in 0..25 {
        let r = server
            .admin(
                "POST",
                "/api/v1/organizations/acme/users",
                Some(json!({
                    "username": format!("worker{i:02}"),
                    "email": format!("w{i:02}@acme.test"),
                    "name": format!("Worker {i:02}"),
                })),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
    }
    create_account(&server, "root", &[]).await;
    let root = ConsoleUser::sign_in(&server, "root").await;
    let page = root.get(&format!("{GROUPS}/staff?q=worker")).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert_eq!(page.text.matches(">Add worker").count(), 20);
    assert!(page.text.contains("narrow the search"), "{}", page.text);
    server.stop().await;
}

#[tokio::test]
async fn removing_members_and_deleting_groups() {
    let server = TestServer::start().await;
    seed_acme(&server).await;
    create_account(&server, "root", &[]).await;
    let root = ConsoleUser::sign_in(&server, "root").await;
    let admins = format!("{GROUPS}/grafana-admins");
    let alice = user_id(&server, "acme", "alice").await;

    let page = root.get(&admins).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.text.contains("alice@acme.test"));
    assert!(page.text.contains("ALICE Example"));
    let r = root
        .post(&format!("{admins}/members/remove"), &[("user_id", &alice)])
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(location(&r), format!("{admins}?done=member-removed"));
    assert!(members(&server, "grafana-admins").await.is_empty());
    // Removing again: not a member any more.
    let r = root
        .post(&format!("{admins}/members/remove"), &[("user_id", &alice)])
        .await;
    assert_eq!(r.status, 404, "{}", r.text);

    let page = root.get(&admins).await;
    assert!(
        page.text
            .contains("data-confirm=\"Delete the group grafana-admins?")
    );
    let r = root.post(&format!("{admins}/delete"), &[]).await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(location(&r), format!("{GROUPS}?done=group-deleted"));
    assert_eq!(
        server
            .admin("GET", &format!("{GROUPS_API}/grafana-admins"), None)
            .await
            .status,
        404
    );
    let list = root.get(&location(&r)).await;
    assert!(list.text.contains("The group was deleted."));
    assert!(
        !list
            .text
            .contains("href=\"/admin/orgs/acme/groups/grafana-admins\"")
    );
    assert_eq!(root.get(&admins).await.status, 404);
    // Bob's membership of another group is untouched.
    assert_eq!(members(&server, "grafana-editors").await, ["bob"]);
    server.stop().await;
}

#[tokio::test]
async fn create_errors_come_back_next_to_their_fields() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    api_group(&server, "staff").await;
    create_account(&server, "root", &[]).await;
    let root = ConsoleUser::sign_in(&server, "root").await;

    let page = root
        .post(
            GROUPS,
            &[("name", "has space"), ("description", "typed description")],
        )
        .await;
    assert_eq!(page.status, 400, "{}", page.text);
    assert!(field_error(&page, "name").starts_with("name"));
    assert_eq!(
        input_value(&page.text, "name").as_deref(),
        Some("has space")
    );
    assert_eq!(
        input_value(&page.text, "description").as_deref(),
        Some("typed description")
    );
    assert!(
        page.text.contains(">staff</code>"),
        "the list is still shown"
    );

    let page = root.post(GROUPS, &[("name", "staff")]).await;
    assert_eq!(page.status, 409, "{}", page.text);
    assert!(field_error(&page, "name").contains("already taken"));

    let long = "d".repeat(1001);
    let page = root
        .post(GROUPS, &[("name", "ok"), ("description", &long)])
        .await;
    assert_eq!(page.status, 400, "{}", page.text);
    assert!(field_error(&page, "description").contains("1000"));
    assert!(!marked_invalid(&page, "name"));

    assert_eq!(group_names(&server).await, ["staff"]);
    server.stop().await;
}

#[tokio::test]
async fn an_admin_of_another_org_gets_403_and_nothing_changes() {
    let server = TestServer::start().await;
    seed_acme(&server).await;
    server.create_org("globex").await;
    create_account(&server, "gus", &["globex"]).await;
    let gus = ConsoleUser::sign_in(&server, "gus").await;
    let alice = user_id(&server, "acme", "alice").await;
    let carol = user_id(&server, "acme", "carol").await;
    let admins = format!("{GROUPS}/grafana-admins");

    for path in [
        GROUPS.to_string(),
        admins.clone(),
        format!("{admins}?q=carol"),
        format!("{GROUPS}/no-such-group"),
    ] {
        let r = gus.get(&path).await;
        assert_eq!(r.status, 403, "GET {path}: {}", r.text);
        assert!(!r.text.contains("alice@acme.test"), "{path}");
    }
    let cases: [(String, Vec<(&str, &str)>); 4] = [
        (GROUPS.to_string(), vec![("name", "intruders")]),
        (format!("{admins}/members"), vec![("user_id", &carol)]),
        (
            format!("{admins}/members/remove"),
            vec![("user_id", &alice)],
        ),
        (format!("{admins}/delete"), vec![]),
    ];
    for (path, form) in &cases {
        let r = gus.post(path, form).await;
        assert_eq!(r.status, 403, "POST {path}: {}", r.text);
    }
    assert_eq!(
        group_names(&server).await,
        ["grafana-admins", "grafana-editors", "grafana-viewers"]
    );
    assert_eq!(members(&server, "grafana-admins").await, ["alice"]);

    // The org's own admin may.
    create_account(&server, "ada", &["acme"]).await;
    let ada = ConsoleUser::sign_in(&server, "ada").await;
    assert_eq!(ada.get(GROUPS).await.status, 200);
    let r = ada
        .post(&format!("{admins}/members"), &[("user_id", &carol)])
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(members(&server, "grafana-admins").await, ["alice", "carol"]);
    server.stop().await;
}

#[tokio::test]
async fn posts_without_the_csrf_token_are_refused_and_change_nothing() {
    let server = TestServer::start().await;
    seed_acme(&server).await;
    create_account(&server, "root", &[]).await;
    let root = ConsoleUser::sign_in(&server, "root").await;
    let alice = user_id(&server, "acme", "alice").await;
    let carol = user_id(&server, "acme", "carol").await;
    let admins = format!("{GROUPS}/grafana-admins");

    let cases: [(String, Vec<(&str, &str)>); 4] = [
        (GROUPS.to_string(), vec![("name", "intruders")]),
        (format!("{admins}/members"), vec![("user_id", &carol)]),
        (
            format!("{admins}/members/remove"),
            vec![("user_id", &alice)],
        ),
        (format!("{admins}/delete"), vec![]),
    ];
    for (path, form) in &cases {
        let r = root.post_raw(path, form).await;
        assert_eq!(r.status, 403, "no token, {path}: {}", r.text);
        let mut with_wrong: Vec<(&str, &str)> = vec![("csrf", "not-the-token")];
        with_wrong.extend_from_slice(form);
        let r = root.post_raw(path, &with_wrong).await;
        assert_eq!(r.status, 403, "wrong token, {path}: {}", r.text);
    }
    assert_eq!(
        group_names(&server).await,
        ["grafana-admins", "grafana-editors", "grafana-viewers"]
    );
    assert_eq!(members(&server, "grafana-admins").await, ["alice"]);
    server.stop().await;
}
