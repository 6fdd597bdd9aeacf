//! Discovery: OIDC Discovery 1.0 at `P/o/.well-known/openid-configuration` and RFC 8414 at
//! `P/.well-known/oauth-authorization-server/o`, listing exactly what the provider supports.

use std::collections::BTreeSet;

use clavex_testkit::{TestResponse, TestServer};
use serde_json::{Value, json};

async fn get(server: &TestServer, path: &str) -> TestResponse {
    TestServer::read(server.http.get(server.url(path)).send().await.unwrap()).await
}

fn set(v: &Value) -> BTreeSet<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect()
}

fn strings(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn check_document(server: &TestServer, doc: &Value) {
    let issuer = server.url("/acme");
    assert_eq!(doc["issuer"], json!(issuer), "issuer exactly P/o: {doc}");
    assert!(!issuer.ends_with('/'));
    for (field, path) in [
        ("authorization_endpoint", "authorize"),
        ("token_endpoint", "token"),
        ("userinfo_endpoint", "userinfo"),
        ("jwks_uri", "jwks"),
        ("revocation_endpoint", "revoke"),
        ("introspection_endpoint", "introspect"),
        ("end_session_endpoint", "logout"),
    ] {
        assert_eq!(doc[field], json!(format!("{issuer}/{path}")), "{field}");
    }
    assert_eq!(doc["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(doc["response_types_supported"], json!(["code"]));
    assert_eq!(
        set(&doc["grant_types_supported"]),
        strings(&["authorization_code", "refresh_token", "client_credentials"])
    );
    assert_eq!(
        set(&doc["token_endpoint_auth_methods_supported"]),
        strings(&["client_secret_basic", "client_secret_post", "none"])
    );
    assert_eq!(
        doc["id_token_signing_alg_values_supported"],
        json!(["RS256"])
    );
    assert_eq!(doc["subject_types_supported"], json!(["public"]));
    let scopes = set(&doc["scopes_supported"]);
    for s in ["openid", "profile", "email", "groups"] {
        assert!(scopes.contains(s), "scope {s} in {scopes:?}");
    }
    let claims = set(&doc["claims_supported"]);
    for c in ["sub", "groups", "org_id", "preferred_username", "email"] {
        assert!(claims.contains(c), "claim {c} in {claims:?}");
    }
    assert_eq!(doc["authorization_response_iss_parameter_supported"], true);
    // Nothing that is not implemented.
    if let Some(modes) = doc.get("response_modes_supported") {
        assert_eq!(modes, &json!(["query"]));
    }
    assert!(
        doc.get("request_parameter_supported").is_none()
            || doc["request_parameter_supported"] == false
    );
}

#[tokio::test]
async fn openid_configuration_names_every_endpoint() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    let r = get(&server, "/acme/.well-known/openid-configuration").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(
        r.header("content-type")
            .is_some_and(|c| c.starts_with("application/json"))
    );
    check_document(&server, &r.json());
}

#[tokio::test]
async fn rfc8414_metadata_is_served_too() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    let r = get(&server, "/.well-known/oauth-authorization-server/acme").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let rfc8414 = r.json();
    check_document(&server, &rfc8414);
    let oidc = get(&server, "/acme/.well-known/openid-configuration")
        .await
        .json();
    assert_eq!(rfc8414, oidc, "the same metadata at both addresses");
}

#[tokio::test]
async fn each_org_has_its_own_issuer() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    server.create_org("beta").await;
    let doc = get(&server, "/beta/.well-known/openid-configuration")
        .await
        .json();
    assert_eq!(doc["issuer"], json!(server.url("/beta")));
    assert_eq!(doc["token_endpoint"], json!(server.url("/beta/token")));
    let doc = get(&server, "/.well-known/oauth-authorization-server/beta")
        .await
        .json();
    assert_eq!(doc["issuer"], json!(server.url("/beta")));
}

#[tokio::test]
async fn unknown_org_is_404() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    for path in [
        "/nope/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server/nope",
        "/nope/jwks",
    ] {
        let r = get(&server, path).await;
        assert_eq!(r.status, 404, "{path}: {}", r.text);
    }
}
