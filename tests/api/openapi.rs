//! `GET /api/v1/openapi.json`: a valid OpenAPI 3 document that describes every Admin API route,
//! snapshotted so that every change to the contract shows up in review.

use std::collections::BTreeMap;

use clavex_testkit::TestServer;
use serde_json::Value;

/// Every Admin API route of the route table (`crates/clavex-web/src/router.rs`) with its methods,
/// except the description itself.
const ROUTES: &[(&str, &[&str])] = &[
    ("/api/v1/admins", &["get", "post"]),
    ("/api/v1/admins/{id}", &["delete", "get", "patch"]),
    ("/api/v1/organizations/{org}/admins", &["get"]),
    (
        "/api/v1/organizations/{org}/admins/{id}",
        &["delete", "put"],
    ),
    ("/api/v1/organizations", &["get", "post"]),
    ("/api/v1/organizations/{org}", &["delete", "get", "patch"]),
    ("/api/v1/organizations/{org}/clients", &["get", "post"]),
    (
        "/api/v1/organizations/{org}/clients/{client_id}",
        &["delete", "get", "patch"],
    ),
    (
        "/api/v1/organizations/{org}/clients/{client_id}/secret",
        &["post"],
    ),
    ("/api/v1/organizations/{org}/users", &["get", "post"]),
    (
        "/api/v1/organizations/{org}/users/{id}",
        &["delete", "get", "patch"],
    ),
    ("/api/v1/organizations/{org}/groups", &["get", "post"]),
    (
        "/api/v1/organizations/{org}/groups/{name}",
        &["delete", "get"],
    ),
    (
        "/api/v1/organizations/{org}/groups/{name}/members",
        &["get"],
    ),
    (
        "/api/v1/organizations/{org}/groups/{name}/members/{user_id}",
        &["delete", "put"],
    ),
    ("/api/v1/organizations/{org}/keys", &["get"]),
    ("/api/v1/organizations/{org}/keys/rotate", &["post"]),
    ("/api/v1/organizations/{org}/events", &["get"]),
    ("/api/v1/events", &["get"]),
];

const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

async fn document() -> Value {
    let server = TestServer::start().await;
    let r = server.admin("GET", "/api/v1/openapi.json", None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(
        r.header("content-type")
            .is_some_and(|t| t.starts_with("application/json")),
        "{:?}",
        r.headers
    );
    r.json()
}

#[tokio::test]
async fn is_openapi_3() {
    let doc = document().await;
    let version = doc["openapi"].as_str().unwrap();
    assert!(version.starts_with("3."), "{version}");
    assert_eq!(doc["info"]["title"], "Clavex Admin API");
    assert!(doc["info"]["version"].is_string());
}

#[tokio::test]
async fn describes_every_route_of_the_route_table() {
    let doc = document().await;
    let paths = doc["paths"].as_object().unwrap();
    let described: BTreeMap<String, Vec<String>> = paths
        .iter()
        .map(|(path, item)| {
            let mut methods: Vec<String> = item
                .as_object()
                .unwrap()
                .keys()
                .filter(|k| METHODS.contains(&k.as_str()))
                .cloned()
                .collect();
            methods.sort();
            (path.clone(), methods)
        })
        .collect();
    let expected: BTreeMap<String, Vec<String>> = ROUTES
        .iter()
        .map(|(path, methods)| {
            (
                path.to_string(),
                methods.iter().map(|m| m.to_string()).collect(),
            )
        })
        .collect();
    assert_eq!(described, expected);
}

#[tokio::test]
async fn every_operation_requires_the_bearer_token_and_documents_errors() {
    let doc = document().await;
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if !METHODS.contains(&method.as_str()) {
                continue;
            }
            assert!(
                op["security"]
                    .as_array()
                    .is_some_and(|s| s.iter().any(|r| r.get("bearer").is_some())),
                "{method} {path} has no bearer security"
            );
            let responses = op["responses"].as_object().unwrap();
            assert!(
                responses.keys().any(|k| k.starts_with('2')),
                "{method} {path} documents no success"
            );
        }
    }
}

#[tokio::test]
async fn schemas_never_describe_password_or_secret_material_in_views() {
    let doc = document().await;
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for view in ["UserView", "ClientView", "KeyView"] {
        let props = schemas[view]["properties"].as_object().unwrap();
        for key in props.keys() {
            assert!(
                !key.contains("password") || key == "has_password",
                "{view}.{key}"
            );
            assert!(
                !key.contains("secret") || key == "client_secret_expires_at",
                "{view}.{key}"
            );
            assert!(!key.contains("private"), "{view}.{key}");
        }
    }
}

#[tokio::test]
async fn snapshot() {
    let doc = document().await;
    insta::assert_json_snapshot!("openapi", doc);
}
