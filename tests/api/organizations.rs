//! `/api/v1/organizations`: create, read, rename, delete (with everything under it), slug rules.

use clavex_testkit::TestServer;
use serde_json::json;

use super::common::{
    assert_error, assert_field_error, create_client, create_group, create_user, items, org_token,
    server_with_org,
};

#[tokio::test]
async fn create_returns_201_with_id_slug_name_issuer_and_rs256() {
    let server = TestServer::start().await;
    let r = server
        .admin(
            "POST",
            "/api/v1/organizations",
            Some(json!({"slug": "acme", "name": "Acme"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let org = r.json();
    assert!(!org["id"].as_str().unwrap().is_empty());
    assert_eq!(org["slug"], "acme");
    assert_eq!(org["name"], "Acme");
    assert_eq!(org["issuer"], format!("{}/acme", server.base_url));
    assert_eq!(org["signing_alg"], "RS256");
    assert!(org["created_at"].is_string());
}

#[tokio::test]
async fn create_accepts_es256_and_eddsa() {
    let server = TestServer::start().await;
    for (slug, alg) in [("ec", "ES256"), ("ed", "EdDSA"), ("rsa", "RS256")] {
        let r = server
            .admin(
                "POST",
                "/api/v1/organizations",
                Some(json!({"slug": slug, "name": slug, "signing_alg": alg})),
            )
            .await;
        assert_eq!(r.status, 201, "{alg}: {}", r.text);
        assert_eq!(r.json()["signing_alg"], alg);
    }
}

#[tokio::test]
async fn create_rejects_unknown_signing_alg() {
    let server = TestServer::start().await;
    for alg in ["HS256", "none", "rs256", ""] {
        let r = server
            .admin(
                "POST",
                "/api/v1/organizations",
                Some(json!({"slug": "acme", "name": "Acme", "signing_alg": alg})),
            )
            .await;
        assert_field_error(&r, 400, "signing_alg");
    }
}

#[tokio::test]
async fn duplicate_slug_is_409_naming_slug() {
    let server = server_with_org("acme").await;
    let r = server
        .admin(
            "POST",
            "/api/v1/organizations",
            Some(json!({"slug": "acme", "name": "Another"})),
        )
        .await;
    assert_field_error(&r, 409, "slug");
    assert_eq!(r.json()["error"], "conflict");
}

#[tokio::test]
async fn bad_slugs_are_400_naming_slug() {
    let server = TestServer::start().await;
    let long = "a".repeat(64);
    for slug in [
        "Acme",
        "ACME",
        "-acme",
        "acme-",
        "a_b",
        "a b",
        "a.b",
        "é",
        long.as_str(),
        "",
        "api",
        "admin",
        "healthz",
        "readyz",
        "metrics",
        "static",
        "assets",
        ".well-known",
    ] {
        let r = server
            .admin(
                "POST",
                "/api/v1/organizations",
                Some(json!({"slug": slug, "name": "X"})),
            )
            .await;
        assert_eq!(r.status, 400, "slug {slug:?}: {}", r.text);
        assert_field_error(&r, 400, "slug");
    }
    let r = server.admin("GET", "/api/v1/organizations", None).await;
    assert!(items(&r).is_empty(), "{}", r.text);
}

#[tokio::test]
async fn slug_of_63_characters_and_single_character_are_accepted() {
    let server = TestServer::start().await;
    for slug in ["a".repeat(63), "7".to_string(), "a-1".to_string()] {
        let r = server
            .admin(
                "POST",
                "/api/v1/organizations",
                Some(json!({"slug": slug, "name": "X"})),
            )
            .await;
        assert_eq!(r.status, 201, "slug {slug}: {}", r.text);
    }
}

#[tokio::test]
async fn missing_or_empty_name_is_400_naming_name() {
    let server = TestServer::start().await;
    let r = server
        .admin(
            "POST",
            "/api/v1/organizations",
            Some(json!({"slug": "acme"})),
        )
        .await;
    assert_field_error(&r, 400, "name");
    let r = server
        .admin(
            "POST",
            "/api/v1/organizations",
            Some(json!({"slug": "acme", "name": "   "})),
        )
        .await;
    assert_field_error(&r, 400, "name");
}

#[tokio::test]
async fn unknown_field_is_400_naming_it() {
    let server = TestServer::start().await;
    let r = server
        .admin(
            "POST",
            "/api/v1/organizations",
            Some(json!({"slug": "acme", "name": "Acme", "colour": "red"})),
        )
        .await;
    assert_field_error(&r, 400, "colour");
}

#[tokio::test]
async fn get_returns_the_org() {
    let server = TestServer::start().await;
    let created = server.create_org("acme").await;
    let r = server
        .admin("GET", "/api/v1/organizations/acme", None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json(), created);
}

#[tokio::test]
async fn patch_changes_the_name_only() {
    let server = TestServer::start().await;
    let created = server.create_org("acme").await;
    server.clock.advance(10);
    let r = server
        .admin(
            "PATCH",
            "/api/v1/organizations/acme",
            Some(json!({"name": "Acme Corp"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let patched = r.json();
    assert_eq!(patched["name"], "Acme Corp");
    assert_eq!(patched["id"], created["id"]);
    assert_eq!(patched["slug"], "acme");
    assert_eq!(patched["issuer"], created["issuer"]);
    assert_eq!(patched["signing_alg"], "RS256");
    assert_ne!(patched["updated_at"], created["updated_at"]);
    let r = server
        .admin("GET", "/api/v1/organizations/acme", None)
        .await;
    assert_eq!(r.json(), patched);
}

#[tokio::test]
async fn patch_cannot_change_the_slug() {
    let server = server_with_org("acme").await;
    let r = server
        .admin(
            "PATCH",
            "/api/v1/organizations/acme",
            Some(json!({"slug": "other"})),
        )
        .await;
    assert_field_error(&r, 400, "slug");
}

#[tokio::test]
async fn patch_rejects_empty_name() {
    let server = server_with_org("acme").await;
    let r = server
        .admin(
            "PATCH",
            "/api/v1/organizations/acme",
            Some(json!({"name": ""})),
        )
        .await;
    assert_field_error(&r, 400, "name");
}

#[tokio::test]
async fn unknown_org_is_404() {
    let server = TestServer::start().await;
    let r = server
        .admin("GET", "/api/v1/organizations/nosuch", None)
        .await;
    assert_eq!(assert_error(&r, 404)["error"], "not_found");
    let r = server
        .admin(
            "PATCH",
            "/api/v1/organizations/nosuch",
            Some(json!({"name": "X"})),
        )
        .await;
    assert_error(&r, 404);
    let r = server
        .admin("DELETE", "/api/v1/organizations/nosuch", None)
        .await;
    assert_error(&r, 404);
    for sub in ["clients", "users", "groups", "keys", "events"] {
        let r = server
            .admin("GET", &format!("/api/v1/organizations/nosuch/{sub}"), None)
            .await;
        assert_error(&r, 404);
    }
}

#[tokio::test]
async fn delete_is_204_then_404() {
    let server = server_with_org("acme").await;
    let r = server
        .admin("DELETE", "/api/v1/organizations/acme", None)
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert!(r.text.is_empty());
    let r = server
        .admin("GET", "/api/v1/organizations/acme", None)
        .await;
    assert_error(&r, 404);
    let r = server
        .admin("DELETE", "/api/v1/organizations/acme", None)
        .await;
    assert_error(&r, 404);
    let r = server.admin("GET", "/api/v1/organizations", None).await;
    assert!(items(&r).is_empty());
}

#[tokio::test]
async fn delete_cascades_so_a_recreated_slug_is_empty() {
    let server = server_with_org("acme").await;
    let old = server
        .admin("GET", "/api/v1/organizations/acme", None)
        .await
        .json();
    create_client(&server, "acme", "grafana").await;
    let user = create_user(&server, "acme", "alice").await;
    create_group(&server, "acme", "grafana-admins").await;
    let r = server
        .admin(
            "PUT",
            &format!(
                "/api/v1/organizations/acme/groups/grafana-admins/members/{}",
                user["id"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(r.status, 204);

    let r = server
        .admin("DELETE", "/api/v1/organizations/acme", None)
        .await;
    assert_eq!(r.status, 204, "{}", r.text);

    let new = server.create_org("acme").await;
    assert_ne!(new["id"], old["id"], "a recreated org is a new org");
    for sub in ["clients", "users", "groups"] {
        let r = server
            .admin("GET", &format!("/api/v1/organizations/acme/{sub}"), None)
            .await;
        assert!(items(&r).is_empty(), "{sub}: {}", r.text);
    }
    let r = server
        .admin("GET", "/api/v1/organizations/acme/clients/grafana", None)
        .await;
    assert_error(&r, 404);
    let r = server
        .admin(
            "GET",
            &format!(
                "/api/v1/organizations/acme/users/{}",
                user["id"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_error(&r, 404);
    // The recreated org has one fresh key of its own, not the old org's keys.
    let r = server
        .admin("GET", "/api/v1/organizations/acme/keys", None)
        .await;
    assert_eq!(r.json()["items"].as_array().unwrap().len(), 1, "{}", r.text);
    // The same names can be used again.
    create_client(&server, "acme", "grafana").await;
    create_user(&server, "acme", "alice").await;
    create_group(&server, "acme", "grafana-admins").await;
}

#[tokio::test]
async fn delete_revokes_the_org_scoped_tokens() {
    let server = server_with_org("acme").await;
    let token = org_token(&server, "acme-ci", "acme").await;
    let r = server
        .call("GET", "/api/v1/organizations/acme", Some(&token), None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);

    let r = server
        .admin("DELETE", "/api/v1/organizations/acme", None)
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    server.create_org("acme").await;

    for path in ["/api/v1/organizations", "/api/v1/organizations/acme"] {
        let r = server.call("GET", path, Some(&token), None).await;
        assert_eq!(r.status, 401, "{path}: {}", r.text);
        assert!(r.header("www-authenticate").is_some());
    }
}
