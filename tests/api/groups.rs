//! `/api/v1/organizations/{org}/groups`: names unique per org, idempotent membership, and members
//! only from the same org.

use serde_json::json;

use super::common::{
    assert_error, assert_field_error, create_group, create_user, items, server_with_org, strings,
};

const GROUPS: &str = "/api/v1/organizations/acme/groups";

fn member_path(group: &str, user: &serde_json::Value) -> String {
    format!("{GROUPS}/{group}/members/{}", user["id"].as_str().unwrap())
}

#[tokio::test]
async fn create_returns_201_with_name_and_description() {
    let server = server_with_org("acme").await;
    let r = server
        .admin(
            "POST",
            GROUPS,
            Some(json!({"name": "grafana-admins", "description": "Grafana Admin role"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let g = r.json();
    assert_eq!(g["name"], "grafana-admins");
    assert_eq!(g["description"], "Grafana Admin role");
    let r = server
        .admin("GET", &format!("{GROUPS}/grafana-admins"), None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json(), g);
}

#[tokio::test]
async fn description_is_optional() {
    let server = server_with_org("acme").await;
    let r = server
        .admin("POST", GROUPS, Some(json!({"name": "viewers"})))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json()["description"], "");
}

#[tokio::test]
async fn list_returns_groups_oldest_first() {
    let server = server_with_org("acme").await;
    for g in ["grafana-admins", "grafana-editors", "grafana-viewers"] {
        create_group(&server, "acme", g).await;
    }
    let r = server.admin("GET", GROUPS, None).await;
    assert_eq!(
        strings(&items(&r), "name"),
        ["grafana-admins", "grafana-editors", "grafana-viewers"]
    );
}

#[tokio::test]
async fn duplicate_name_is_409() {
    let server = server_with_org("acme").await;
    create_group(&server, "acme", "grafana-admins").await;
    let r = server
        .admin("POST", GROUPS, Some(json!({"name": "grafana-admins"})))
        .await;
    assert_field_error(&r, 409, "name");
    assert_eq!(r.json()["error"], "conflict");
}

#[tokio::test]
async fn same_name_in_another_org_is_fine() {
    let server = server_with_org("acme").await;
    server.create_org("beta").await;
    create_group(&server, "acme", "staff").await;
    create_group(&server, "beta", "staff").await;
}

#[tokio::test]
async fn invalid_name_is_400() {
    let server = server_with_org("acme").await;
    for name in ["", "has space", "a/b", "-x"] {
        let r = server
            .admin("POST", GROUPS, Some(json!({"name": name})))
            .await;
        assert_eq!(r.status, 400, "{name:?}: {}", r.text);
        assert_field_error(&r, 400, "name");
    }
    let r = server.admin("POST", GROUPS, Some(json!({}))).await;
    assert_field_error(&r, 400, "name");
    let r = server
        .admin("POST", GROUPS, Some(json!({"name": "ok", "members": []})))
        .await;
    assert_field_error(&r, 400, "members");
}

#[tokio::test]
async fn delete_is_204_then_404_and_drops_memberships() {
    let server = server_with_org("acme").await;
    create_group(&server, "acme", "staff").await;
    let alice = create_user(&server, "acme", "alice").await;
    let r = server
        .admin("PUT", &member_path("staff", &alice), None)
        .await;
    assert_eq!(r.status, 204);
    let r = server
        .admin("DELETE", &format!("{GROUPS}/staff"), None)
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let r = server.admin("GET", &format!("{GROUPS}/staff"), None).await;
    assert_error(&r, 404);
    let r = server
        .admin("DELETE", &format!("{GROUPS}/staff"), None)
        .await;
    assert_error(&r, 404);
    let r = server
        .admin(
            "GET",
            &format!(
                "/api/v1/organizations/acme/users/{}",
                alice["id"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(r.json()["groups"], json!([]));
    // Recreated, the group starts empty.
    create_group(&server, "acme", "staff").await;
    let r = server
        .admin("GET", &format!("{GROUPS}/staff/members"), None)
        .await;
    assert!(items(&r).is_empty());
}

#[tokio::test]
async fn put_member_is_204_and_idempotent() {
    let server = server_with_org("acme").await;
    create_group(&server, "acme", "staff").await;
    let alice = create_user(&server, "acme", "alice").await;
    for _ in 0..2 {
        let r = server
            .admin("PUT", &member_path("staff", &alice), None)
            .await;
        assert_eq!(r.status, 204, "{}", r.text);
        assert!(r.text.is_empty());
    }
    let r = server
        .admin("GET", &format!("{GROUPS}/staff/members"), None)
        .await;
    let members = items(&r);
    assert_eq!(strings(&members, "id"), [alice["id"].as_str().unwrap()]);
    assert_eq!(members[0]["username"], "alice");
    assert!(!r.text.contains("password_hash"), "{}", r.text);
}

#[tokio::test]
async fn members_lists_every_member_in_order_added() {
    let server = server_with_org("acme").await;
    create_group(&server, "acme", "staff").await;
    let bob = create_user(&server, "acme", "bob").await;
    let alice = create_user(&server, "acme", "alice").await;
    create_user(&server, "acme", "carol").await;
    for u in [&alice, &bob] {
        let r = server.admin("PUT", &member_path("staff", u), None).await;
        assert_eq!(r.status, 204);
    }
    let r = server
        .admin("GET", &format!("{GROUPS}/staff/members"), None)
        .await;
    assert_eq!(strings(&items(&r), "username"), ["alice", "bob"]);
    let r = server
        .admin("GET", &format!("{GROUPS}/staff/members?limit=1"), None)
        .await;
    let page = r.json();
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    let cursor = page["next_cursor"].as_str().unwrap();
    let r = server
        .admin(
            "GET",
            &format!("{GROUPS}/staff/members?limit=1&cursor={cursor}"),
            None,
        )
        .await;
    assert_eq!(strings(&items(&r), "username"), ["bob"]);
}

#[tokio::test]
async fn delete_member_is_204_then_404() {
    let server = server_with_org("acme").await;
    create_group(&server, "acme", "staff").await;
    let alice = create_user(&server, "acme", "alice").await;
    server
        .admin("PUT", &member_path("staff", &alice), None)
        .await;
    let r = server
        .admin("DELETE", &member_path("staff", &alice), None)
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let r = server
        .admin("GET", &format!("{GROUPS}/staff/members"), None)
        .await;
    assert!(items(&r).is_empty());
    let r = server
        .admin("DELETE", &member_path("staff", &alice), None)
        .await;
    assert_error(&r, 404);
    // The user itself is untouched.
    let r = server
        .admin(
            "GET",
            &format!(
                "/api/v1/organizations/acme/users/{}",
                alice["id"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["groups"], json!([]));
}

#[tokio::test]
async fn unknown_group_is_404() {
    let server = server_with_org("acme").await;
    let alice = create_user(&server, "acme", "alice").await;
    let r = server.admin("GET", &format!("{GROUPS}/nosuch"), None).await;
    assert_eq!(assert_error(&r, 404)["error"], "not_found");
    let r = server
        .admin("GET", &format!("{GROUPS}/nosuch/members"), None)
        .await;
    assert_error(&r, 404);
    let r = server
        .admin("PUT", &member_path("nosuch", &alice), None)
        .await;
    assert_error(&r, 404);
    let r = server
        .admin("DELETE", &member_path("nosuch", &alice), None)
        .await;
    assert_error(&r, 404);
}

#[tokio::test]
async fn unknown_user_is_404() {
    let server = server_with_org("acme").await;
    create_group(&server, "acme", "staff").await;
    let ghost = json!({"id": "00000000-0000-0000-0000-000000000000"});
    let r = server
        .admin("PUT", &member_path("staff", &ghost), None)
        .await;
    assert_error(&r, 404);
    let r = server
        .admin("DELETE", &member_path("staff", &ghost), None)
        .await;
    assert_error(&r, 404);
    let r = server
        .admin("GET", &format!("{GROUPS}/staff/members"), None)
        .await;
    assert!(items(&r).is_empty());
}

#[tokio::test]
async fn user_of_another_org_cannot_be_added() {
    let server = server_with_org("acme").await;
    server.create_org("beta").await;
    create_group(&server, "acme", "staff").await;
    let bob = create_user(&server, "beta", "bob").await;
    let r = server.admin("PUT", &member_path("staff", &bob), None).await;
    assert_error(&r, 404);
    let r = server
        .admin("GET", &format!("{GROUPS}/staff/members"), None)
        .await;
    assert!(items(&r).is_empty());
    let r = server
        .admin(
            "GET",
            &format!(
                "/api/v1/organizations/beta/users/{}",
                bob["id"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(r.json()["groups"], json!([]));
}

#[tokio::test]
async fn group_of_another_org_is_404_here() {
    let server = server_with_org("acme").await;
    server.create_org("beta").await;
    create_group(&server, "beta", "staff").await;
    let alice = create_user(&server, "acme", "alice").await;
    let r = server.admin("GET", &format!("{GROUPS}/staff"), None).await;
    assert_error(&r, 404);
    let r = server
        .admin("PUT", &member_path("staff", &alice), None)
        .await;
    assert_error(&r, 404);
    let r = server
        .admin("DELETE", &format!("{GROUPS}/staff"), None)
        .await;
    assert_error(&r, 404);
    let r = server
        .admin("GET", "/api/v1/organizations/beta/groups/staff", None)
        .await;
    assert_eq!(r.status, 200, "beta's group is untouched: {}", r.text);
}
