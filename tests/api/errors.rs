//! The error policy of the whole API: 413, 415, 400 for malformed JSON and query strings, JSON 404
//! and 405 for unknown paths and methods, always `{"error","error_description"}`.

use clavex_testkit::{TestResponse, TestServer};
use serde_json::json;

use super::common::{assert_error, assert_field_error, server_with_org};

const USERS: &str = "/api/v1/organizations/acme/users";

async fn post_raw(
    server: &TestServer,
    path: &str,
    content_type: Option<&str>,
    body: impl Into<reqwest::Body>,
) -> TestResponse {
    let mut req = server
        .http
        .post(server.url(path))
        .bearer_auth(&server.admin_token)
        .body(body);
    if let Some(t) = content_type {
        req = req.header("Content-Type", t);
    }
    TestServer::read(req.send().await.unwrap()).await
}

#[tokio::test]
async fn the_default_body_limit_is_64_kib() {
    let server = TestServer::start().await;
    assert_eq!(server.settings.max_body_bytes, 64 * 1024);
}

#[tokio::test]
async fn body_over_the_limit_is_413() {
    let server = server_with_org("acme").await;
    let filler = "x".repeat(64 * 1024);
    let body = json!({"username": "alice", "email": "a@example.com", "name": filler}).to_string();
    assert!(body.len() > 64 * 1024);
    let r = post_raw(&server, USERS, Some("application/json"), body).await;
    let err = assert_error(&r, 413);
    assert_eq!(err["error"], "payload_too_large");
    let r = server.admin("GET", USERS, None).await;
    assert!(r.json()["items"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn body_within_the_limit_is_read() {
    let server = server_with_org("acme").await;
    // Just under the limit: read and validated (the name is too long), not refused as too large.
    let filler = "x".repeat(60 * 1024);
    let body = json!({"username": "alice", "email": "a@example.com", "name": filler}).to_string();
    let r = post_raw(&server, USERS, Some("application/json"), body).await;
    assert_field_error(&r, 400, "name");
}

#[tokio::test]
async fn text_plain_is_415() {
    let server = server_with_org("acme").await;
    let body = json!({"username": "alice", "email": "a@example.com", "name": "A"}).to_string();
    let r = post_raw(&server, USERS, Some("text/plain"), body.clone()).await;
    assert_eq!(assert_error(&r, 415)["error"], "unsupported_media_type");
    let r = post_raw(
        &server,
        USERS,
        Some("application/x-www-form-urlencoded"),
        "a=b",
    )
    .await;
    assert_error(&r, 415);
    let r = server.admin("GET", USERS, None).await;
    assert!(r.json()["items"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn missing_content_type_with_a_body_is_415() {
    let server = server_with_org("acme").await;
    let body = json!({"username": "alice", "email": "a@example.com", "name": "A"}).to_string();
    let r = post_raw(&server, USERS, None, body).await;
    assert_error(&r, 415);
}

#[tokio::test]
async fn missing_body_where_one_is_required_is_an_error() {
    let server = server_with_org("acme").await;
    let r = post_raw(&server, USERS, None, "").await;
    assert_error(&r, 415);
    let r = post_raw(&server, USERS, Some("application/json"), "").await;
    assert_error(&r, 400);
}

#[tokio::test]
async fn json_with_charset_is_accepted() {
    let server = server_with_org("acme").await;
    let body = json!({"username": "alice", "email": "a@example.com", "name": "A"}).to_string();
    let r = post_raw(
        &server,
        USERS,
        Some("application/json; charset=utf-8"),
        body,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
}

#[tokio::test]
async fn malformed_json_is_400() {
    let server = server_with_org("acme").await;
    for body in ["{", "{\"username\": }", "not json", "[1,2", "{\"a\":1}}"] {
        let r = post_raw(&server, USERS, Some("application/json"), body).await;
        assert_eq!(r.status, 400, "{body:?}: {}", r.text);
        assert_error(&r, 400);
    }
    let r = post_raw(&server, USERS, Some("application/json"), "[]").await;
    assert_error(&r, 400);
}

#[tokio::test]
async fn limit_zero_is_400() {
    let server = server_with_org("acme").await;
    let r = server.admin("GET", &format!("{USERS}?limit=0"), None).await;
    assert_field_error(&r, 400, "limit");
    let r = server
        .admin("GET", "/api/v1/organizations?limit=0", None)
        .await;
    assert_field_error(&r, 400, "limit");
}

#[tokio::test]
async fn limit_above_the_maximum_is_400() {
    let server = server_with_org("acme").await;
    let r = server
        .admin("GET", &format!("{USERS}?limit=201"), None)
        .await;
    assert_field_error(&r, 400, "limit");
    let r = server
        .admin("GET", &format!("{USERS}?limit=200"), None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

#[tokio::test]
async fn non_numeric_limit_is_400_naming_limit() {
    let server = server_with_org("acme").await;
    for path in [
        format!("{USERS}?limit=abc"),
        format!("{USERS}?limit=-1"),
        "/api/v1/organizations?limit=abc".to_string(),
        "/api/v1/organizations/acme/clients?limit=1.5".to_string(),
        "/api/v1/organizations/acme/events?limit=abc".to_string(),
    ] {
        let r = server.admin("GET", &path, None).await;
        assert_eq!(r.status, 400, "{path}: {}", r.text);
        assert_field_error(&r, 400, "limit");
    }
}

#[tokio::test]
async fn bad_cursor_is_400() {
    let server = server_with_org("acme").await;
    for cursor in ["garbage!", "djE6LTU", "eHl6", "%FF"] {
        let r = server
            .admin("GET", &format!("{USERS}?cursor={cursor}"), None)
            .await;
        assert_eq!(r.status, 400, "{cursor}: {}", r.text);
        assert_field_error(&r, 400, "cursor");
    }
}

#[tokio::test]
async fn unknown_query_parameter_on_a_list_is_400() {
    let server = server_with_org("acme").await;
    let r = server
        .admin("GET", &format!("{USERS}?sort=name"), None)
        .await;
    assert_field_error(&r, 400, "sort");
}

#[tokio::test]
async fn unknown_path_is_404_json() {
    let server = TestServer::start().await;
    for path in [
        "/api/v1/nothing",
        "/api/v2/organizations",
        "/api/v1/organizations/acme/widgets",
        "/no/such/page",
    ] {
        let r = server.admin("GET", path, None).await;
        assert_eq!(r.status, 404, "{path}: {}", r.text);
        assert_eq!(assert_error(&r, 404)["error"], "not_found");
    }
}

#[tokio::test]
async fn wrong_method_is_405_json() {
    let server = server_with_org("acme").await;
    let r = server
        .admin("PUT", "/api/v1/organizations/acme", None)
        .await;
    assert_error(&r, 405);
    let r = server.admin("DELETE", "/api/v1/organizations", None).await;
    assert_error(&r, 405);
}

#[tokio::test]
async fn errors_are_not_cached() {
    let server = TestServer::start().await;
    let r = server
        .call("GET", "/api/v1/organizations", None, None)
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.header("cache-control"), Some("no-store"));
}
