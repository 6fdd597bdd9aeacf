//! `/api/v1/organizations/{org}/keys`: public parts only, rotation that publishes the new key
//! before it signs and retires the old one, per-org algorithms.

use clavex_core::keys::PUBLISH_LEAD_SECONDS;
use clavex_testkit::TestServer;
use serde_json::{Value, json};

use super::common::{assert_error, assert_field_error, server_with_org};

const KEYS: &str = "/api/v1/organizations/acme/keys";
const PRIVATE_MEMBERS: &[&str] = &["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

async fn keys(server: &TestServer, path: &str) -> Vec<Value> {
    let r = server.admin("GET", path, None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json()["items"].as_array().unwrap().clone()
}

fn assert_public_only(key: &Value) {
    let jwk = key["public_jwk"].as_object().unwrap();
    for member in PRIVATE_MEMBERS {
        assert!(
            !jwk.contains_key(*member),
            "private member {member} in {key}"
        );
    }
    assert!(key.get("private_sealed").is_none(), "{key}");
    assert!(key.get("private_der").is_none(), "{key}");
    assert_eq!(jwk["kid"], key["kid"]);
    assert_eq!(jwk["alg"], key["alg"]);
    assert_eq!(jwk["use"], "sig");
}

#[tokio::test]
async fn new_org_has_one_active_rs256_key_with_a_public_jwk() {
    let server = server_with_org("acme").await;
    let list = keys(&server, KEYS).await;
    assert_eq!(list.len(), 1, "{list:?}");
    let key = &list[0];
    assert_eq!(key["alg"], "RS256");
    assert_eq!(key["status"], "active");
    assert!(!key["kid"].as_str().unwrap().is_empty());
    assert!(key["retired_at"].is_null());
    let jwk = &key["public_jwk"];
    assert_eq!(jwk["kty"], "RSA");
    assert!(
        jwk["n"].as_str().unwrap().len() >= 342,
        "at least 2048 bits: {jwk}"
    );
    assert_eq!(jwk["e"], "AQAB");
    assert_public_only(key);
}

#[tokio::test]
async fn rotate_publishes_a_new_key_and_retires_the_old_one() {
    let server = server_with_org("acme").await;
    let before = keys(&server, KEYS).await;
    let old_kid = before[0]["kid"].clone();

    let r = server.admin("POST", &format!("{KEYS}/rotate"), None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let new = r.json();
    assert_ne!(new["kid"], old_kid);
    assert_eq!(new["alg"], "RS256");
    assert_public_only(&new);

    // Published at once, newest first; the old key keeps signing until the new one takes over.
    let list = keys(&server, KEYS).await;
    assert_eq!(list.len(), 2, "{list:?}");
    assert_eq!(list[0]["kid"], new["kid"]);
    assert_eq!(list[0]["status"], "next");
    assert_eq!(list[1]["kid"], old_kid);
    assert!(list[1]["retired_at"].is_string(), "{list:?}");
    assert!(list[1]["expires_at"].is_string(), "{list:?}");

    server.clock.advance(PUBLISH_LEAD_SECONDS);
    let list = keys(&server, KEYS).await;
    assert_eq!(list.len(), 2, "{list:?}");
    assert_eq!(list[0]["kid"], new["kid"]);
    assert_eq!(list[0]["status"], "active");
    assert_eq!(list[1]["kid"], old_kid);
    assert_eq!(list[1]["status"], "retired");
    for key in &list {
        assert_public_only(key);
    }
}

#[tokio::test]
async fn retired_key_leaves_the_list_after_it_expires() {
    let server = server_with_org("acme").await;
    let r = server.admin("POST", &format!("{KEYS}/rotate"), None).await;
    let new_kid = r.json()["kid"].clone();
    let retention = server.core.settings.key_retention_seconds();
    server.clock.advance(PUBLISH_LEAD_SECONDS + retention + 1);
    let list = keys(&server, KEYS).await;
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["kid"], new_kid);
    assert_eq!(list[0]["status"], "active");
}

#[tokio::test]
async fn org_created_with_es256_has_an_ec_key() {
    let server = TestServer::start().await;
    let r = server
        .admin(
            "POST",
            "/api/v1/organizations",
            Some(json!({"slug": "ec", "name": "EC", "signing_alg": "ES256"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let list = keys(&server, "/api/v1/organizations/ec/keys").await;
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["alg"], "ES256");
    assert_eq!(list[0]["status"], "active");
    let jwk = &list[0]["public_jwk"];
    assert_eq!(jwk["kty"], "EC");
    assert_eq!(jwk["crv"], "P-256");
    assert!(jwk["x"].is_string() && jwk["y"].is_string(), "{jwk}");
    assert_public_only(&list[0]);

    let r = server
        .admin("POST", "/api/v1/organizations/ec/keys/rotate", None)
        .await;
    assert_eq!(
        r.json()["alg"],
        "ES256",
        "rotation keeps the org's algorithm"
    );
}

#[tokio::test]
async fn org_created_with_eddsa_has_an_okp_key() {
    let server = TestServer::start().await;
    let r = server
        .admin(
            "POST",
            "/api/v1/organizations",
            Some(json!({"slug": "ed", "name": "Ed", "signing_alg": "EdDSA"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let list = keys(&server, "/api/v1/organizations/ed/keys").await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["alg"], "EdDSA");
    assert_eq!(list[0]["public_jwk"]["kty"], "OKP");
    assert_eq!(list[0]["public_jwk"]["crv"], "Ed25519");
    assert_public_only(&list[0]);
}

#[tokio::test]
async fn changing_the_org_algorithm_rotates_to_a_key_of_that_algorithm() {
    let server = server_with_org("acme").await;
    let r = server
        .admin(
            "PATCH",
            "/api/v1/organizations/acme",
            Some(json!({"signing_alg": "ES256"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["signing_alg"], "ES256");
    let list = keys(&server, KEYS).await;
    assert_eq!(list.len(), 2, "{list:?}");
    assert_eq!(list[0]["alg"], "ES256");
    assert_eq!(list[1]["alg"], "RS256");

    let r = server
        .admin(
            "PATCH",
            "/api/v1/organizations/acme",
            Some(json!({"signing_alg": "HS256"})),
        )
        .await;
    assert_field_error(&r, 400, "signing_alg");
}

#[tokio::test]
async fn keys_are_per_org() {
    let server = server_with_org("acme").await;
    server.create_org("beta").await;
    let a = keys(&server, KEYS).await;
    let b = keys(&server, "/api/v1/organizations/beta/keys").await;
    assert_ne!(a[0]["kid"], b[0]["kid"]);
    assert_ne!(a[0]["public_jwk"]["n"], b[0]["public_jwk"]["n"]);
    server.admin("POST", &format!("{KEYS}/rotate"), None).await;
    assert_eq!(
        keys(&server, "/api/v1/organizations/beta/keys").await.len(),
        1
    );
}

#[tokio::test]
async fn keys_of_unknown_org_are_404() {
    let server = TestServer::start().await;
    let r = server
        .admin("GET", "/api/v1/organizations/nosuch/keys", None)
        .await;
    assert_error(&r, 404);
    let r = server
        .admin("POST", "/api/v1/organizations/nosuch/keys/rotate", None)
        .await;
    assert_error(&r, 404);
}
