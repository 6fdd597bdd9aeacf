//! Lists: `?limit=&cursor=`, `{"items","next_cursor"}`, newest last, and cursors that cannot reach
//! another org's rows.

use clavex_testkit::TestServer;
use serde_json::Value;

use super::common::{create_group, create_user, items, server_with_org, strings};

/// Follows `next_cursor` from the first page; returns the pages.
async fn all_pages(server: &TestServer, path: &str, limit: u32) -> Vec<Vec<Value>> {
    let mut pages = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(c) => format!("{path}?limit={limit}&cursor={c}"),
            None => format!("{path}?limit={limit}"),
        };
        let r = server.admin("GET", &url, None).await;
        assert_eq!(r.status, 200, "{url}: {}", r.text);
        let body = r.json();
        pages.push(body["items"].as_array().unwrap().clone());
        match &body["next_cursor"] {
            Value::Null => break,
            Value::String(c) => cursor = Some(c.clone()),
            other => panic!("next_cursor is {other}"),
        }
        assert!(pages.len() < 20, "pagination does not end");
    }
    pages
}

#[tokio::test]
async fn seven_users_in_pages_of_three() {
    let server = server_with_org("acme").await;
    let names: Vec<String> = (0..7).map(|i| format!("user{i}")).collect();
    for n in &names {
        create_user(&server, "acme", n).await;
    }
    let pages = all_pages(&server, "/api/v1/organizations/acme/users", 3).await;
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [3, 3, 1]);
    let flat: Vec<Value> = pages.into_iter().flatten().collect();
    assert_eq!(
        strings(&flat, "username"),
        names,
        "every user once, newest last"
    );
    let mut ids = strings(&flat, "id");
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 7, "no duplicates");
}

#[tokio::test]
async fn exact_multiple_ends_with_null_cursor() {
    let server = server_with_org("acme").await;
    for i in 0..6 {
        create_user(&server, "acme", &format!("u{i}")).await;
    }
    let pages = all_pages(&server, "/api/v1/organizations/acme/users", 3).await;
    let sizes: Vec<usize> = pages.iter().map(Vec::len).collect();
    assert_eq!(sizes, [3, 3], "no empty page after a full last page");
}

#[tokio::test]
async fn last_page_has_null_next_cursor() {
    let server = server_with_org("acme").await;
    create_user(&server, "acme", "only").await;
    let r = server
        .admin("GET", "/api/v1/organizations/acme/users", None)
        .await;
    let body = r.json();
    assert_eq!(body["items"].as_array().unwrap().len(), 1);
    assert!(
        body.get("next_cursor").is_some_and(Value::is_null),
        "{body}"
    );
}

#[tokio::test]
async fn empty_list_has_empty_items_and_null_cursor() {
    let server = server_with_org("acme").await;
    for sub in ["users", "clients", "groups"] {
        let r = server
            .admin("GET", &format!("/api/v1/organizations/acme/{sub}"), None)
            .await;
        assert!(items(&r).is_empty());
        assert!(r.json()["next_cursor"].is_null());
    }
}

#[tokio::test]
async fn rows_created_after_a_page_appear_on_the_next_page() {
    let server = server_with_org("acme").await;
    for i in 0..4 {
        create_user(&server, "acme", &format!("u{i}")).await;
    }
    let r = server
        .admin("GET", "/api/v1/organizations/acme/users?limit=3", None)
        .await;
    let cursor = r.json()["next_cursor"].as_str().unwrap().to_string();
    create_user(&server, "acme", "late").await;
    let r = server
        .admin(
            "GET",
            &format!("/api/v1/organizations/acme/users?limit=3&cursor={cursor}"),
            None,
        )
        .await;
    assert_eq!(strings(&items(&r), "username"), ["u3", "late"]);
}

#[tokio::test]
async fn cursor_from_one_org_cannot_reach_another_orgs_rows() {
    let server = server_with_org("acme").await;
    server.create_org("beta").await;
    let mut beta_ids = Vec::new();
    for i in 0..4 {
        create_user(&server, "acme", &format!("a{i}")).await;
        let b = create_user(&server, "beta", &format!("b{i}")).await;
        beta_ids.push(b["id"].as_str().unwrap().to_string());
    }
    for i in 4..7 {
        create_user(&server, "acme", &format!("a{i}")).await;
    }
    let r = server
        .admin("GET", "/api/v1/organizations/acme/users?limit=3", None)
        .await;
    let cursor = r.json()["next_cursor"].as_str().unwrap().to_string();
    let r = server
        .admin(
            "GET",
            &format!("/api/v1/organizations/beta/users?limit=50&cursor={cursor}"),
            None,
        )
        .await;
    let got = items(&r);
    assert!(!got.is_empty());
    for u in &got {
        let id = u["id"].as_str().unwrap().to_string();
        assert!(beta_ids.contains(&id), "a row from another org: {u}");
        assert!(u["username"].as_str().unwrap().starts_with('b'), "{u}");
    }
}

#[tokio::test]
async fn groups_clients_and_orgs_paginate_too() {
    let server = server_with_org("acme").await;
    server.create_org("beta").await;
    server.create_org("gamma").await;
    for g in ["g1", "g2", "g3"] {
        create_group(&server, "acme", g).await;
    }
    for id in ["c1", "c2", "c3"] {
        super::common::create_client(&server, "acme", id).await;
    }
    let pages = all_pages(&server, "/api/v1/organizations/acme/groups", 2).await;
    let flat: Vec<Value> = pages.into_iter().flatten().collect();
    assert_eq!(strings(&flat, "name"), ["g1", "g2", "g3"]);
    let pages = all_pages(&server, "/api/v1/organizations/acme/clients", 2).await;
    let flat: Vec<Value> = pages.into_iter().flatten().collect();
    assert_eq!(strings(&flat, "client_id"), ["c1", "c2", "c3"]);
    let pages = all_pages(&server, "/api/v1/organizations", 1).await;
    let flat: Vec<Value> = pages.into_iter().flatten().collect();
    assert_eq!(strings(&flat, "slug"), ["acme", "beta", "gamma"]);
}

#[tokio::test]
async fn default_page_size_is_fifty() {
    let server = server_with_org("acme").await;
    for i in 0..51 {
        create_group(&server, "acme", &format!("g{i:02}")).await;
    }
    let r = server
        .admin("GET", "/api/v1/organizations/acme/groups", None)
        .await;
    let body = r.json();
    assert_eq!(body["items"].as_array().unwrap().len(), 50);
    assert!(body["next_cursor"].is_string());
}
