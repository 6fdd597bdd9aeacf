//! `/api/v1/organizations/{org}/events`: the audit trail records changes, filters by type, actor,
//! target and time, paginates, and stays within its org.

use clavex_core::Clock;
use clavex_testkit::TestServer;
use serde_json::{Value, json};

use super::common::{
    assert_error, assert_field_error, create_client, create_group, create_user, items, org_token,
    server_with_org, strings,
};

const EVENTS: &str = "/api/v1/organizations/acme/events";

async fn events(server: &TestServer, query: &str) -> Vec<Value> {
    let r = server.admin("GET", &format!("{EVENTS}{query}"), None).await;
    items(&r)
}

/// org.created, client.created, user.created, group.created, group.member_added.
async fn some_changes(server: &TestServer) -> Value {
    create_client(server, "acme", "grafana").await;
    let alice = create_user(server, "acme", "alice").await;
    create_group(server, "acme", "grafana-admins").await;
    let r = server
        .admin(
            "PUT",
            &format!(
                "/api/v1/organizations/acme/groups/grafana-admins/members/{}",
                alice["id"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(r.status, 204);
    alice
}

#[tokio::test]
async fn changes_are_listed_oldest_first_with_their_types() {
    let server = server_with_org("acme").await;
    let alice = some_changes(&server).await;
    let list = events(&server, "").await;
    assert_eq!(
        strings(&list, "type"),
        [
            "org.created",
            "client.created",
            "user.created",
            "group.created",
            "group.member_added"
        ]
    );
    assert_eq!(
        strings(&list, "target"),
        [
            "acme",
            "grafana",
            alice["id"].as_str().unwrap(),
            "grafana-admins",
            "grafana-admins"
        ]
    );
    for e in &list {
        assert_eq!(e["actor"], "token:bootstrap", "{e}");
        assert_eq!(e["outcome"], "success", "{e}");
        assert!(e["id"].is_string() && e["time"].is_string(), "{e}");
        assert!(e["details"].is_object(), "{e}");
    }
    assert_eq!(list[4]["details"]["user_id"], alice["id"]);
}

#[tokio::test]
async fn updates_deletes_and_rotations_are_recorded() {
    let server = server_with_org("acme").await;
    create_client(&server, "acme", "grafana").await;
    let base = "/api/v1/organizations/acme";
    server
        .admin(
            "PATCH",
            &format!("{base}/clients/grafana"),
            Some(json!({"client_name": "G"})),
        )
        .await;
    server
        .admin("POST", &format!("{base}/clients/grafana/secret"), None)
        .await;
    server
        .admin("POST", &format!("{base}/keys/rotate"), None)
        .await;
    server
        .admin("DELETE", &format!("{base}/clients/grafana"), None)
        .await;
    server
        .admin("PATCH", base, Some(json!({"name": "Acme Corp"})))
        .await;
    let list = events(&server, "").await;
    assert_eq!(
        strings(&list, "type"),
        [
            "org.created",
            "client.created",
            "client.updated",
            "client.secret_rotated",
            "key.rotated",
            "client.deleted",
            "org.updated"
        ]
    );
    assert!(
        !server.admin("GET", EVENTS, None).await.text.contains("cs_"),
        "no secrets in events"
    );
}

#[tokio::test]
async fn failed_changes_are_not_recorded_as_success() {
    let server = server_with_org("acme").await;
    create_client(&server, "acme", "grafana").await;
    let r = server
        .admin(
            "POST",
            "/api/v1/organizations/acme/clients",
            Some(super::common::client_body("grafana")),
        )
        .await;
    assert_eq!(r.status, 409);
    let list = events(&server, "?type=client.created").await;
    assert_eq!(list.len(), 1, "{list:?}");
}

#[tokio::test]
async fn filter_by_type() {
    let server = server_with_org("acme").await;
    some_changes(&server).await;
    create_user(&server, "acme", "bob").await;
    let list = events(&server, "?type=user.created").await;
    assert_eq!(list.len(), 2, "{list:?}");
    assert!(list.iter().all(|e| e["type"] == "user.created"));
    assert!(events(&server, "?type=nothing.happened").await.is_empty());
}

#[tokio::test]
async fn filter_by_actor() {
    let server = server_with_org("acme").await;
    some_changes(&server).await;
    let token = org_token(&server, "ci", "acme").await;
    let r = server
        .call(
            "POST",
            "/api/v1/organizations/acme/users",
            Some(&token),
            Some(json!({"username": "bob", "email": "bob@example.com", "name": "Bob"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let list = events(&server, "?actor=token:ci").await;
    assert_eq!(strings(&list, "type"), ["user.created"]);
    assert_eq!(list[0]["actor"], "token:ci");
    assert!(
        list[0]["source_ip"].is_string(),
        "the API records the caller's address"
    );
    let list = events(&server, "?actor=token:bootstrap").await;
    assert_eq!(list.len(), 5, "{list:?}");
}

#[tokio::test]
async fn filter_by_target() {
    let server = server_with_org("acme").await;
    some_changes(&server).await;
    let list = events(&server, "?target=grafana-admins").await;
    assert_eq!(
        strings(&list, "type"),
        ["group.created", "group.member_added"]
    );
    let list = events(&server, "?target=grafana&type=client.created").await;
    assert_eq!(list.len(), 1);
}

#[tokio::test]
async fn filter_by_since_and_until() {
    let server = server_with_org("acme").await;
    let t0 = server.clock.now();
    create_client(&server, "acme", "grafana").await;
    server.clock.advance(100);
    create_user(&server, "acme", "alice").await;
    server.clock.advance(100);
    create_group(&server, "acme", "staff").await;

    let list = events(&server, &format!("?since={}", t0 + 50)).await;
    assert_eq!(strings(&list, "type"), ["user.created", "group.created"]);
    let list = events(&server, &format!("?until={}", t0 + 50)).await;
    assert_eq!(strings(&list, "type"), ["org.created", "client.created"]);
    let list = events(&server, &format!("?since={}&until={}", t0 + 50, t0 + 150)).await;
    assert_eq!(strings(&list, "type"), ["user.created"]);
    // Bounds are inclusive.
    let list = events(&server, &format!("?since={}&until={}", t0 + 100, t0 + 100)).await;
    assert_eq!(strings(&list, "type"), ["user.created"]);

    // RFC 3339 works as well as unix seconds.
    let user_time = list[0]["time"].as_str().unwrap().to_string();
    let list = events(
        &server,
        &format!("?since={}", user_time.replace('+', "%2B")),
    )
    .await;
    assert_eq!(strings(&list, "type"), ["user.created", "group.created"]);
}

#[tokio::test]
async fn bad_time_filter_is_400() {
    let server = server_with_org("acme").await;
    let r = server
        .admin("GET", &format!("{EVENTS}?since=yesterday"), None)
        .await;
    assert_field_error(&r, 400, "since");
    let r = server
        .admin("GET", &format!("{EVENTS}?until=2024-13-40"), None)
        .await;
    assert_field_error(&r, 400, "until");
}

#[tokio::test]
async fn unknown_filter_is_400_naming_it() {
    let server = server_with_org("acme").await;
    let r = server.admin("GET", &format!("{EVENTS}?kind=x"), None).await;
    assert_field_error(&r, 400, "kind");
}

#[tokio::test]
async fn paginates_without_gaps_or_duplicates() {
    let server = server_with_org("acme").await;
    some_changes(&server).await;
    for name in ["b1", "b2", "b3"] {
        create_user(&server, "acme", name).await;
    }
    let all = events(&server, "").await;
    assert_eq!(all.len(), 8);
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let query = match &cursor {
            Some(c) => format!("?limit=3&cursor={c}"),
            None => "?limit=3".to_string(),
        };
        let r = server.admin("GET", &format!("{EVENTS}{query}"), None).await;
        let body = r.json();
        let page = body["items"].as_array().unwrap();
        assert!(page.len() <= 3);
        seen.extend(page.iter().cloned());
        pages += 1;
        match body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
        assert!(pages < 10, "pagination does not end");
    }
    assert_eq!(pages, 3);
    assert_eq!(strings(&seen, "id"), strings(&all, "id"));

    // Filters and paging combine.
    let r = server
        .admin("GET", &format!("{EVENTS}?type=user.created&limit=2"), None)
        .await;
    let body = r.json();
    assert_eq!(body["items"].as_array().unwrap().len(), 2);
    let c = body["next_cursor"].as_str().unwrap();
    let r = server
        .admin(
            "GET",
            &format!("{EVENTS}?type=user.created&limit=2&cursor={c}"),
            None,
        )
        .await;
    let rest = items(&r);
    assert_eq!(rest.len(), 2);
    assert!(rest.iter().all(|e| e["type"] == "user.created"));
}

#[tokio::test]
async fn events_stay_within_their_org() {
    let server = server_with_org("acme").await;
    server.create_org("beta").await;
    some_changes(&server).await;
    create_client(&server, "beta", "beta-app").await;
    create_user(&server, "beta", "bob").await;

    let list = events(&server, "").await;
    assert!(
        list.iter()
            .all(|e| e["target"] != "beta" && e["target"] != "beta-app")
    );
    assert_eq!(list.len(), 5);

    let token = org_token(&server, "acme-ci", "acme").await;
    let r = server.call("GET", EVENTS, Some(&token), None).await;
    let own = items(&r);
    // The token's own creation is recorded in its org's trail.
    assert_eq!(
        strings(&own, "type"),
        [
            "org.created",
            "client.created",
            "user.created",
            "group.created",
            "group.member_added",
            "admin_token.created"
        ]
    );
    let r = server
        .call(
            "GET",
            "/api/v1/organizations/beta/events",
            Some(&token),
            None,
        )
        .await;
    assert_error(&r, 403);
    let r = server
        .admin("GET", "/api/v1/organizations/beta/events", None)
        .await;
    assert_eq!(
        strings(&items(&r), "type"),
        ["org.created", "client.created", "user.created"]
    );
}
