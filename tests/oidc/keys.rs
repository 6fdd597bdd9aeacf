//! Signing keys: the JWKS publishes each org's public keys only; RS256 by default, ES256 and EdDSA
//! per org; a rotated key is published before it signs, and the old key stays published while
//! tokens it signed are in date.

use clavex_core::{Clock, keys::PUBLISH_LEAD_SECONDS};
use clavex_testkit::TestServer;
use serde_json::{Value, json};

use super::{rp::*, support::*};

const PRIVATE_MEMBERS: &[&str] = &["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

fn assert_public_only(key: &Value) {
    for m in PRIVATE_MEMBERS {
        assert!(
            key.get(*m).is_none(),
            "private member {m} in the JWKS: {key}"
        );
    }
}

#[tokio::test]
async fn jwks_publishes_the_org_key_and_no_private_part() {
    let server = TestServer::start().await;
    let secret = setup_org(&server, "acme", None).await;
    let set = jwks(&server, "acme").await;
    let keys = set["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1, "{set}");
    let key = &keys[0];
    assert_eq!(key["kty"], "RSA", "{key}");
    assert_eq!(key["alg"], "RS256", "{key}");
    assert!(key["kid"].as_str().is_some_and(|k| !k.is_empty()), "{key}");
    assert!(key["n"].is_string() && key["e"].is_string(), "{key}");
    if let Some(u) = key.get("use") {
        assert_eq!(u, "sig");
    }
    assert_public_only(key);

    // The ID token and the access token name that key and verify against the JWKS.
    let tokens = app_tokens(&server, &Browser::new(), "acme", &secret, None).await;
    let id_token = tokens.id_token.as_deref().unwrap();
    for jwt in [id_token, tokens.access_token.as_str()] {
        let header = jwt_header(jwt);
        assert_eq!(header["alg"], "RS256");
        assert_eq!(header["kid"], key["kid"]);
        verify_with_jwks(&server, "acme", jwt).await;
    }
}

#[tokio::test]
async fn each_org_has_its_own_keys() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    server.create_org("beta").await;
    let a = jwks_kids(&server, "acme").await;
    let b = jwks_kids(&server, "beta").await;
    assert_eq!((a.len(), b.len()), (1, 1));
    assert_ne!(a, b);
}

async fn check_alg(alg: &str, kty: &str, crv: &str) {
    let server = TestServer::start().await;
    let secret = setup_org(&server, "curvy", Some(alg)).await;
    let set = jwks(&server, "curvy").await;
    let keys = set["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1, "{set}");
    let key = &keys[0];
    assert_eq!(
        (&key["kty"], &key["crv"], &key["alg"]),
        (&json!(kty), &json!(crv), &json!(alg)),
        "{key}"
    );
    assert!(key["x"].is_string(), "{key}");
    assert_public_only(key);
    let doc = TestServer::read(
        server
            .http
            .get(server.url("/curvy/.well-known/openid-configuration"))
            .send()
            .await
            .unwrap(),
    )
    .await
    .json();
    assert_eq!(doc["id_token_signing_alg_values_supported"], json!([alg]));

    let tokens = app_tokens(&server, &Browser::new(), "curvy", &secret, None).await;
    let id_token = tokens.id_token.as_deref().unwrap();
    let header = jwt_header(id_token);
    assert_eq!(header["alg"], alg, "{header}");
    assert_eq!(header["kid"], key["kid"]);
    let claims = verify_with_jwks(&server, "curvy", id_token).await;
    assert_eq!(claims["iss"], json!(server.url("/curvy")));
    assert_eq!(jwt_header(&tokens.access_token)["alg"], alg);
    // The access token it signed works.
    let r = userinfo(&server, "curvy", &tokens.access_token).await;
    assert_eq!(r.status, 200, "{}", r.text);
}

#[tokio::test]
async fn es256_org_signs_with_es256() {
    check_alg("ES256", "EC", "P-256").await;
}

#[tokio::test]
async fn eddsa_org_signs_with_eddsa() {
    check_alg("EdDSA", "OKP", "Ed25519").await;
}

async fn rotate(server: &TestServer, org: &str) -> Value {
    let r = server
        .admin(
            "POST",
            &format!("/api/v1/organizations/{org}/keys/rotate"),
            None,
        )
        .await;
    assert!(
        r.status == 200 || r.status == 201,
        "rotate: {} {}",
        r.status,
        r.text
    );
    r.json()
}

#[tokio::test]
async fn rotated_key_is_published_before_it_signs() {
    let server = TestServer::start().await;
    let secret = setup_org(&server, "acme", None).await;
    let old_kid = jwks_kids(&server, "acme").await.remove(0);

    let rotated = rotate(&server, "acme").await;
    let new_kid = rotated["kid"].as_str().unwrap().to_string();
    assert_ne!(new_kid, old_kid);
    let kids = jwks_kids(&server, "acme").await;
    assert!(
        kids.contains(&old_kid) && kids.contains(&new_kid),
        "both keys published: {kids:?}"
    );

    // Until PUBLISH_LEAD_SECONDS have passed, the old key still signs.
    server.clock.advance(PUBLISH_LEAD_SECONDS - 1);
    let before = app_tokens(&server, &Browser::new(), "acme", &secret, None).await;
    assert_eq!(
        jwt_header(before.id_token.as_deref().unwrap())["kid"],
        json!(old_kid)
    );
    assert_eq!(jwt_header(&before.access_token)["kid"], json!(old_kid));

    // Then the new one.
    server.clock.advance(1);
    let after = app_tokens(&server, &Browser::new(), "acme", &secret, None).await;
    assert_eq!(
        jwt_header(after.id_token.as_deref().unwrap())["kid"],
        json!(new_kid)
    );
    assert_eq!(jwt_header(&after.access_token)["kid"], json!(new_kid));
    verify_with_jwks(&server, "acme", after.id_token.as_deref().unwrap()).await;

    // The old key stays while tokens it signed are in date; they keep working.
    let exp = jwt_claims(before.id_token.as_deref().unwrap())["exp"]
        .as_i64()
        .unwrap();
    let access_exp = jwt_claims(&before.access_token)["exp"].as_i64().unwrap();
    let now = server.clock.now();
    server.clock.advance(exp.min(access_exp) - now - 1);
    let kids = jwks_kids(&server, "acme").await;
    assert!(kids.contains(&old_kid), "old key still published: {kids:?}");
    verify_with_jwks(&server, "acme", before.id_token.as_deref().unwrap()).await;
    let r = userinfo(&server, "acme", &before.access_token).await;
    assert_eq!(
        r.status, 200,
        "a token of the old key still in date: {}",
        r.text
    );

    // Long after every token of the old key expired, it leaves the JWKS; the new one stays.
    server.clock.advance(3600);
    let kids = jwks_kids(&server, "acme").await;
    assert_eq!(kids, vec![new_kid], "only the current key is left");
}

#[tokio::test]
async fn rotation_keeps_the_orgs_algorithm() {
    let server = TestServer::start().await;
    let secret = setup_org(&server, "curvy", Some("ES256")).await;
    let rotated = rotate(&server, "curvy").await;
    assert_eq!(rotated["alg"], "ES256", "{rotated}");
    server.clock.advance(PUBLISH_LEAD_SECONDS);
    let tokens = app_tokens(&server, &Browser::new(), "curvy", &secret, None).await;
    let header = jwt_header(tokens.id_token.as_deref().unwrap());
    assert_eq!(
        (&header["alg"], &header["kid"]),
        (&json!("ES256"), &rotated["kid"])
    );
}
