//! Userinfo on GET and POST (header or form body); every bad token is 401 with
//! `WWW-Authenticate: Bearer error="invalid_token"`; disabled users and deleted orgs are cut off
//! at once.

use clavex_testkit::{TestResponse, TestServer};
use serde_json::json;

use super::{rp::*, support::*};

const ALL: &str = "openid profile email groups";

fn assert_claims(r: &TestResponse, user_id: &str) {
    assert_eq!(r.status, 200, "{}", r.text);
    let info = r.json();
    assert_eq!(info["sub"], json!(user_id), "{info}");
    assert_eq!(info["preferred_username"], "alice");
    assert_eq!(info["email"], "alice@acme.test");
    assert_eq!(info["email_verified"], true);
    assert_eq!(info["groups"], json!(["grafana-admins"]));
    assert_eq!(info["org_id"], json!(["acme"]));
}

#[tokio::test]
async fn get_with_a_bearer_header() {
    let server = TestServer::start().await;
    let secret = seed_acme(&server).await;
    let alice = user_id(&server, "acme", "alice").await;
    let tokens = grafana_tokens(&server, &secret, "alice", ALL).await;
    let r = userinfo(&server, "acme", &tokens.access_token).await;
    assert_claims(&r, &alice);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    // The same claims as the ID token.
    let id = tokens.id_claims();
    for c in [
        "sub",
        "name",
        "preferred_username",
        "email",
        "groups",
        "org_id",
        "updated_at",
    ] {
        assert_eq!(r.json()[c], id[c], "{c}");
    }
}

#[tokio::test]
async fn post_with_a_bearer_header() {
    let server = TestServer::start().await;
    let secret = seed_acme(&server).await;
    let alice = user_id(&server, "acme", "alice").await;
    let tokens = grafana_tokens(&server, &secret, "alice", ALL).await;
    let r = TestServer::read(
        server
            .http
            .post(server.url("/acme/userinfo"))
            .bearer_auth(&tokens.access_token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_claims(&r, &alice);
}

#[tokio::test]
async fn post_with_the_token_in_the_form_body() {
    let server = TestServer::start().await;
    let secret = seed_acme(&server).await;
    let alice = user_id(&server, "acme", "alice").await;
    let tokens = grafana_tokens(&server, &secret, "alice", ALL).await;
    let r = TestServer::read(
        server
            .http
            .post(server.url("/acme/userinfo"))
            .form(&[("access_token", tokens.access_token.as_str())])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_claims(&r, &alice);
    // Header and body at once is one too many.
    let r = TestServer::read(
        server
            .http
            .post(server.url("/acme/userinfo"))
            .bearer_auth(&tokens.access_token)
            .form(&[("access_token", tokens.access_token.as_str())])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.text);
}

#[tokio::test]
async fn missing_token_is_401_with_a_bearer_challenge() {
    let server = TestServer::start().await;
    seed_acme(&server).await;
    for method in ["GET", "POST"] {
        let r = server.call(method, "/acme/userinfo", None, None).await;
        assert_eq!(r.status, 401, "{method}: {}", r.text);
        let challenge = r.header("www-authenticate").expect("WWW-Authenticate");
        assert!(challenge.starts_with("Bearer"), "{challenge}");
    }
    // Another scheme is no token either.
    let r = TestServer::read(
        server
            .http
            .get(server.url("/acme/userinfo"))
            .basic_auth("alice", Some("alice-password-1"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 401, "{}", r.text);
    assert!(
        r.header("www-authenticate")
            .is_some_and(|c| c.starts_with("Bearer"))
    );
}

#[tokio::test]
async fn garbage_token_is_invalid_token() {
    let server = TestServer::start().await;
    let secret = seed_acme(&server).await;
    let tokens = grafana_tokens(&server, &secret, "alice", ALL).await;
    // A tampered signature, an unsigned copy, and plain junk.
    let mut parts: Vec<String> = tokens.access_token.split('.').map(str::to_string).collect();
    let tampered = {
        let mut sig = parts[2].clone().into_bytes();
        sig[10] = if sig[10] == b'A' { b'B' } else { b'A' };
        format!(
            "{}.{}.{}",
            parts[0],
            parts[1],
            String::from_utf8(sig).unwrap()
        )
    };
    parts[0] = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        br#"{"alg":"none","typ":"at+jwt"}"#,
    );
    let unsigned = format!("{}.{}.", parts[0], parts[1]);
    for bad in [tampered.as_str(), unsigned.as_str(), "garbage", "a.b.c"] {
        assert_invalid_token(&userinfo(&server, "acme", bad).await);
    }
    // An ID token is not an access token.
    assert_invalid_token(&userinfo(&server, "acme", tokens.id_token.as_deref().unwrap()).await);
}

#[tokio::test]
async fn expired_token_is_invalid_token() {
    let server = TestServer::start().await;
    let secret = seed_acme(&server).await;
    let tokens = grafana_tokens(&server, &secret, "alice", ALL).await;
    let lifetime = tokens.body["expires_in"].as_i64().unwrap();
    server.clock.advance(lifetime - 1);
    assert_eq!(
        userinfo(&server, "acme", &tokens.access_token).await.status,
        200
    );
    server.clock.advance(2);
    assert_invalid_token(&userinfo(&server, "acme", &tokens.access_token).await);
}

#[tokio::test]
async fn revoked_token_is_invalid_token() {
    let server = TestServer::start().await;
    let secret = seed_acme(&server).await;
    let tokens = grafana_tokens(&server, &secret, "alice", ALL).await;
    assert_eq!(
        userinfo(&server, "acme", &tokens.access_token).await.status,
        200
    );
    revoke(
        &server,
        "acme",
        Auth::Basic("grafana", &secret),
        &tokens.access_token,
    )
    .await;
    assert_invalid_token(&userinfo(&server, "acme", &tokens.access_token).await);
}

#[tokio::test]
async fn disabling_the_user_cuts_its_token_off() {
    let server = TestServer::start().await;
    let secret = seed_acme(&server).await;
    let tokens = grafana_tokens(&server, &secret, "bob", ALL).await;
    assert_eq!(
        userinfo(&server, "acme", &tokens.access_token).await.status,
        200
    );
    let bob = user_id(&server, "acme", "bob").await;
    patch_user(&server, "acme", &bob, json!({ "disabled": true })).await;
    assert_invalid_token(&userinfo(&server, "acme", &tokens.access_token).await);
}

#[tokio::test]
async fn deleting_the_user_cuts_its_token_off() {
    let server = TestServer::start().await;
    let secret = seed_acme(&server).await;
    let tokens = grafana_tokens(&server, &secret, "bob", ALL).await;
    let bob = user_id(&server, "acme", "bob").await;
    let r = server
        .admin(
            "DELETE",
            &format!("/api/v1/organizations/acme/users/{bob}"),
            None,
        )
        .await;
    assert!(r.status == 204 || r.status == 200, "{}", r.text);
    assert_invalid_token(&userinfo(&server, "acme", &tokens.access_token).await);
}

#[tokio::test]
async fn deleting_the_org_cuts_its_token_off() {
    let server = TestServer::start().await;
    let secret = seed_acme(&server).await;
    let tokens = grafana_tokens(&server, &secret, "alice", ALL).await;
    assert_eq!(
        userinfo(&server, "acme", &tokens.access_token).await.status,
        200
    );
    let r = server
        .admin("DELETE", "/api/v1/organizations/acme", None)
        .await;
    assert!(r.status == 204 || r.status == 200, "{}", r.text);
    let r = userinfo(&server, "acme", &tokens.access_token).await;
    assert!(
        r.status == 401 || r.status == 404,
        "{} {}",
        r.status,
        r.text
    );

    // An org created again under the same slug does not honour the old token.
    server.create_org("acme").await;
    let r = userinfo(&server, "acme", &tokens.access_token).await;
    assert_eq!(r.status, 401, "{}", r.text);
}

#[tokio::test]
async fn token_without_openid_is_refused_at_userinfo() {
    let server = TestServer::start().await;
    let secret = seed_acme(&server).await;
    let tokens = grafana_tokens(&server, &secret, "alice", "profile").await;
    assert_eq!(tokens.id_token, None, "no openid, no ID token");
    let r = userinfo(&server, "acme", &tokens.access_token).await;
    assert!(
        r.status == 401 || r.status == 403,
        "{} {}",
        r.status,
        r.text
    );
}

#[tokio::test]
async fn deleting_the_client_cuts_its_tokens_off() {
    let server = TestServer::start().await;
    seed_acme(&server).await;
    add_spa(&server).await;
    let (verifier, challenge) = pkce();
    let url = authorize_url(
        &server,
        "acme",
        &[
            ("client_id", SPA),
            ("response_type", "code"),
            ("redirect_uri", SPA_REDIRECT),
            ("scope", "openid email"),
            ("state", "s"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    );
    let back = sign_in(&Browser::new(), &url, "alice", "alice-password-1").await;
    let code = code_from(&server, "acme", &back, "s");
    let tokens = Tokens::from_response(
        &token(
            &server,
            "acme",
            Auth::Public(SPA),
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", SPA_REDIRECT),
                ("code_verifier", &verifier),
            ],
        )
        .await,
    );
    assert_eq!(
        userinfo(&server, "acme", &tokens.access_token).await.status,
        200
    );
    let r = server
        .admin(
            "DELETE",
            &format!("/api/v1/organizations/acme/clients/{SPA}"),
            None,
        )
        .await;
    assert!(r.status == 204 || r.status == 200, "{}", r.text);
    assert_invalid_token(&userinfo(&server, "acme", &tokens.access_token).await);

    // A client registered again under the same id (a second later: creation times have
    // one-second resolution) inherits nothing: a public client needs no secret to try.
    server.clock.advance(1);
    add_spa(&server).await;
    assert_invalid_token(&userinfo(&server, "acme", &tokens.access_token).await);
    let r = token(
        &server,
        "acme",
        Auth::Public(SPA),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", tokens.refresh()),
        ],
    )
    .await;
    assert_oauth_error(&r, 400, "invalid_grant");
}
