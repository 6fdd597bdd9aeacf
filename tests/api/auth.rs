//! Who may call what: bearer tokens, 401 with `WWW-Authenticate`, and org-scoped tokens confined
//! to their org (403 everywhere else, existing org or not).

use clavex_testkit::{TestResponse, TestServer};
use serde_json::json;

use super::common::{assert_error, create_user, org_token, server_with_org, strings};

fn assert_unauthorized(r: &TestResponse) {
    let body = assert_error(r, 401);
    assert_eq!(body["error"], "unauthorized", "{}", r.text);
    let challenge = r
        .header("www-authenticate")
        .unwrap_or_else(|| panic!("no WWW-Authenticate on 401: {:?}", r.headers));
    assert!(challenge.starts_with("Bearer"), "{challenge}");
}

/// Endpoints of org `org` that any admin of it may call, with a body where one is needed.
fn org_endpoints(org: &str) -> Vec<(&'static str, String, Option<serde_json::Value>)> {
    let base = format!("/api/v1/organizations/{org}");
    vec![
        ("GET", base.clone(), None),
        ("PATCH", base.clone(), Some(json!({"name": "Renamed"}))),
        ("GET", format!("{base}/clients"), None),
        (
            "POST",
            format!("{base}/clients"),
            Some(json!({"client_id": "x", "grant_types": ["client_credentials"]})),
        ),
        ("GET", format!("{base}/clients/grafana"), None),
        ("PATCH", format!("{base}/clients/grafana"), Some(json!({}))),
        ("DELETE", format!("{base}/clients/grafana"), None),
        ("POST", format!("{base}/clients/grafana/secret"), None),
        ("GET", format!("{base}/users"), None),
        (
            "POST",
            format!("{base}/users"),
            Some(json!({"username": "eve", "email": "eve@example.com", "name": "Eve"})),
        ),
        ("GET", format!("{base}/users/some-id"), None),
        ("PATCH", format!("{base}/users/some-id"), Some(json!({}))),
        ("DELETE", format!("{base}/users/some-id"), None),
        ("GET", format!("{base}/groups"), None),
        ("POST", format!("{base}/groups"), Some(json!({"name": "g"}))),
        ("GET", format!("{base}/groups/admins"), None),
        ("DELETE", format!("{base}/groups/admins"), None),
        ("GET", format!("{base}/groups/admins/members"), None),
        ("PUT", format!("{base}/groups/admins/members/some-id"), None),
        (
            "DELETE",
            format!("{base}/groups/admins/members/some-id"),
            None,
        ),
        ("GET", format!("{base}/keys"), None),
        ("POST", format!("{base}/keys/rotate"), None),
        ("GET", format!("{base}/events"), None),
    ]
}

#[tokio::test]
async fn missing_token_is_401_with_www_authenticate() {
    let server = server_with_org("acme").await;
    let r = server
        .call("GET", "/api/v1/organizations", None, None)
        .await;
    assert_unauthorized(&r);
    let r = server
        .call(
            "POST",
            "/api/v1/organizations",
            None,
            Some(json!({"slug": "other", "name": "Other"})),
        )
        .await;
    assert_unauthorized(&r);
    for (method, path, body) in org_endpoints("acme") {
        let r = server.call(method, &path, None, body).await;
        assert_eq!(r.status, 401, "{method} {path}: {}", r.text);
        assert_unauthorized(&r);
    }
}

#[tokio::test]
async fn unknown_org_without_token_is_401_not_404() {
    let server = TestServer::start().await;
    let r = server
        .call("GET", "/api/v1/organizations/nosuch/users", None, None)
        .await;
    assert_unauthorized(&r);
}

#[tokio::test]
async fn wrong_token_is_401() {
    let server = server_with_org("acme").await;
    for token in [
        "cxa_not-a-real-token",
        "wrong",
        &format!("{}x", server.admin_token),
    ] {
        let r = server
            .call("GET", "/api/v1/organizations", Some(token), None)
            .await;
        assert_unauthorized(&r);
        let r = server
            .call("GET", "/api/v1/organizations/acme", Some(token), None)
            .await;
        assert_unauthorized(&r);
    }
}

#[tokio::test]
async fn malformed_authorization_header_is_401() {
    let server = server_with_org("acme").await;
    let token = server.admin_token.clone();
    for header in [
        format!("Basic {token}"),
        format!("Token {token}"),
        token.clone(),
        "Bearer".to_string(),
        "Bearer ".to_string(),
        "Bearer    ".to_string(),
        String::new(),
    ] {
        let resp = server
            .http
            .get(server.url("/api/v1/organizations"))
            .header("Authorization", &header)
            .send()
            .await
            .unwrap();
        let r = TestServer::read(resp).await;
        assert_eq!(r.status, 401, "header {header:?}: {}", r.text);
        assert_unauthorized(&r);
    }
}

#[tokio::test]
async fn bearer_scheme_is_case_insensitive() {
    let server = server_with_org("acme").await;
    let resp = server
        .http
        .get(server.url("/api/v1/organizations"))
        .header("Authorization", format!("bearer {}", server.admin_token))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn org_token_gets_403_on_other_existing_org() {
    let server = server_with_org("acme").await;
    server.create_org("other").await;
    create_user(&server, "other", "bob").await;
    let token = org_token(&server, "acme-ci", "acme").await;
    for (method, path, body) in org_endpoints("other") {
        let r = server.call(method, &path, Some(&token), body).await;
        assert_eq!(r.status, 403, "{method} {path}: {}", r.text);
        assert_eq!(assert_error(&r, 403)["error"], "forbidden");
    }
    let r = server
        .call("DELETE", "/api/v1/organizations/other", Some(&token), None)
        .await;
    assert_error(&r, 403);
    // Nothing changed in the other org.
    let r = server
        .admin("GET", "/api/v1/organizations/other", None)
        .await;
    assert_eq!(r.json()["name"], "OTHER");
}

#[tokio::test]
async fn org_token_gets_403_on_unknown_org_so_it_cannot_probe() {
    let server = server_with_org("acme").await;
    let token = org_token(&server, "acme-ci", "acme").await;
    for (method, path, body) in org_endpoints("nosuch") {
        let r = server.call(method, &path, Some(&token), body).await;
        assert_eq!(r.status, 403, "{method} {path}: {}", r.text);
        assert_error(&r, 403);
    }
}

#[tokio::test]
async fn org_token_cannot_create_orgs() {
    let server = server_with_org("acme").await;
    let token = org_token(&server, "acme-ci", "acme").await;
    let r = server
        .call(
            "POST",
            "/api/v1/organizations",
            Some(&token),
            Some(json!({"slug": "mine", "name": "Mine"})),
        )
        .await;
    assert_error(&r, 403);
    let r = server
        .admin("GET", "/api/v1/organizations/mine", None)
        .await;
    assert_eq!(r.status, 404, "{}", r.text);
}

#[tokio::test]
async fn org_token_cannot_delete_its_own_org() {
    let server = server_with_org("acme").await;
    let token = org_token(&server, "acme-ci", "acme").await;
    let r = server
        .call("DELETE", "/api/v1/organizations/acme", Some(&token), None)
        .await;
    assert_error(&r, 403);
    let r = server
        .admin("GET", "/api/v1/organizations/acme", None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

#[tokio::test]
async fn org_token_lists_only_its_own_org() {
    let server = server_with_org("acme").await;
    server.create_org("beta").await;
    server.create_org("gamma").await;
    let token = org_token(&server, "beta-ci", "beta").await;
    let r = server
        .call("GET", "/api/v1/organizations", Some(&token), None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let body = r.json();
    let items = body["items"].as_array().unwrap();
    assert_eq!(strings(items, "slug"), ["beta"]);
    assert!(body["next_cursor"].is_null());

    let r = server.admin("GET", "/api/v1/organizations", None).await;
    let all = r.json();
    assert_eq!(
        strings(all["items"].as_array().unwrap(), "slug"),
        ["acme", "beta", "gamma"]
    );
}

#[tokio::test]
async fn org_token_manages_its_own_org() {
    let server = server_with_org("acme").await;
    let token = org_token(&server, "acme-ci", "acme").await;
    let t = Some(token.as_str());
    let base = "/api/v1/organizations/acme";

    let r = server.call("GET", base, t, None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = server
        .call("PATCH", base, t, Some(json!({"name": "Acme Corp"})))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["name"], "Acme Corp");

    let r = server
        .call(
            "POST",
            &format!("{base}/clients"),
            t,
            Some(super::common::client_body("grafana")),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = server
        .call(
            "PATCH",
            &format!("{base}/clients/grafana"),
            t,
            Some(json!({"client_name": "Grafana"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = server
        .call("POST", &format!("{base}/clients/grafana/secret"), t, None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);

    let r = server
        .call(
            "POST",
            &format!("{base}/users"),
            t,
            Some(json!({"username": "alice", "email": "alice@example.com", "name": "Alice"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let user_id = r.json()["id"].as_str().unwrap().to_string();

    let r = server
        .call(
            "POST",
            &format!("{base}/groups"),
            t,
            Some(json!({"name": "grafana-admins"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = server
        .call(
            "PUT",
            &format!("{base}/groups/grafana-admins/members/{user_id}"),
            t,
            None,
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let r = server
        .call("GET", &format!("{base}/users/{user_id}"), t, None)
        .await;
    assert_eq!(r.json()["groups"], json!(["grafana-admins"]));

    for path in ["keys", "events", "clients", "users", "groups"] {
        let r = server.call("GET", &format!("{base}/{path}"), t, None).await;
        assert_eq!(r.status, 200, "GET {path}: {}", r.text);
    }
    let r = server
        .call("POST", &format!("{base}/keys/rotate"), t, None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);

    let r = server
        .call("DELETE", &format!("{base}/users/{user_id}"), t, None)
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let r = server
        .call("DELETE", &format!("{base}/clients/grafana"), t, None)
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
}

#[tokio::test]
async fn org_token_sees_404_for_unknown_resources_in_its_own_org() {
    let server = server_with_org("acme").await;
    let token = org_token(&server, "acme-ci", "acme").await;
    let r = server
        .call(
            "GET",
            "/api/v1/organizations/acme/clients/nosuch",
            Some(&token),
            None,
        )
        .await;
    assert_error(&r, 404);
}
