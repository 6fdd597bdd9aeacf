//! Helpers shared by the Admin API tests: error-body checks, org-scoped tokens, quick fixtures.

use clavex_testkit::{TestResponse, TestServer};
use serde_json::{Value, json};

/// A server with one org already created.
pub async fn server_with_org(slug: &str) -> TestServer {
    let server = TestServer::start().await;
    server.create_org(slug).await;
    server
}

/// A fresh admin token limited to `slug`.
pub async fn org_token(server: &TestServer, name: &str, slug: &str) -> String {
    server
        .core
        .create_admin_token(&clavex_core::Actor::cli(), name, Some(slug))
        .await
        .unwrap()
        .token
}

/// Checks SPEC's error body: the status, `error` and `error_description` strings, and nothing
/// else besides `field`. Returns the body.
pub fn assert_error(r: &TestResponse, status: u16) -> Value {
    assert_eq!(r.status, status, "{}", r.text);
    let body = r.json();
    let obj = body
        .as_object()
        .unwrap_or_else(|| panic!("error body is not an object: {}", r.text));
    assert!(
        obj.get("error")
            .and_then(Value::as_str)
            .is_some_and(|s| !s.is_empty()),
        "{}",
        r.text
    );
    assert!(
        obj.get("error_description")
            .and_then(Value::as_str)
            .is_some_and(|s| !s.is_empty()),
        "{}",
        r.text
    );
    for key in obj.keys() {
        assert!(
            ["error", "error_description", "field", "request_id"].contains(&key.as_str()),
            "unexpected key {key} in {}",
            r.text
        );
    }
    assert!(
        r.header("content-type")
            .is_some_and(|t| t.starts_with("application/json")),
        "{:?}",
        r.headers
    );
    assert_eq!(
        obj.get("request_id").and_then(Value::as_str),
        r.header("x-request-id"),
        "the body names the response's request id: {}",
        r.text
    );
    body
}

/// A 400 (or 409) naming `field`.
pub fn assert_field_error(r: &TestResponse, status: u16, field: &str) {
    let body = assert_error(r, status);
    assert_eq!(body["field"], field, "{}", r.text);
}

/// Creates a user through the API and returns its JSON.
pub async fn create_user(server: &TestServer, org: &str, username: &str) -> Value {
    let r = server
        .admin(
            "POST",
            &format!("/api/v1/organizations/{org}/users"),
            Some(json!({
                "username": username,
                "email": format!("{username}@example.com"),
                "name": format!("User {username}"),
            })),
        )
        .await;
    assert_eq!(r.status, 201, "create user {username}: {}", r.text);
    r.json()
}

/// Creates a group through the API.
pub async fn create_group(server: &TestServer, org: &str, name: &str) {
    let r = server
        .admin(
            "POST",
            &format!("/api/v1/organizations/{org}/groups"),
            Some(json!({ "name": name })),
        )
        .await;
    assert_eq!(r.status, 201, "create group {name}: {}", r.text);
}

/// A valid confidential client body with the given id.
pub fn client_body(client_id: &str) -> Value {
    json!({
        "client_id": client_id,
        "client_name": "App",
        "grant_types": ["authorization_code", "refresh_token"],
        "redirect_uris": ["https://app.example.com/callback"],
        "scopes": ["openid", "profile", "email", "groups"],
        "token_endpoint_auth_method": "client_secret_basic"
    })
}

/// Creates a client through the API and returns its JSON (with the secret).
pub async fn create_client(server: &TestServer, org: &str, client_id: &str) -> Value {
    let r = server
        .admin(
            "POST",
            &format!("/api/v1/organizations/{org}/clients"),
            Some(client_body(client_id)),
        )
        .await;
    assert_eq!(r.status, 201, "create client {client_id}: {}", r.text);
    r.json()
}

/// The `items` of a list response, after checking its shape.
pub fn items(r: &TestResponse) -> Vec<Value> {
    assert_eq!(r.status, 200, "{}", r.text);
    let body = r.json();
    assert!(body.get("next_cursor").is_some(), "{}", r.text);
    body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items array: {}", r.text))
        .clone()
}

/// The values of `key` in each item, as strings.
pub fn strings(items: &[Value], key: &str) -> Vec<String> {
    items
        .iter()
        .map(|i| i[key].as_str().unwrap_or_default().to_string())
        .collect()
}
