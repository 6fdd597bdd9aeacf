//! RFC 7009 revocation and RFC 7662 introspection, for authenticated clients, each about its own
//! tokens only.

use clavex_testkit::TestServer;
use serde_json::json;

use super::{rp::*, support::*};

const ALL: &str = "openid profile email groups";

#[tokio::test]
async fn introspect_an_active_access_token() {
    let server = TestServer::start().await;
    let secret = seed_acme(&server).await;
    let alice = user_id(&server, "acme", "alice").await;
    let tokens = grafana_tokens(&server, &secret, "alice", "openid email").await;
    let info = introspect(
        &server,
        "acme",
        Auth::Basic("grafana", &secret),
        &tokens.access_token,
    )
    .await;
    assert_eq!(info["active"], true, "{info}");
    assert_eq!(info["client_id"], "grafana");
    assert_eq!(info["sub"], json!(alice));
    assert_eq!(info["scope"], "openid email");
    assert_eq!(info["iss"], json!(server.url("/acme")));
    assert!(info["exp"].as_i64().unwrap() > info["iat"].as_i64().unwrap());
    // client_secret_post works as well, and so does the refresh token.
    let info = introspect(
        &server,
        "acme",
        Auth::Post("grafana", &secret),
        tokens.refresh(),
    )
    .await;
    assert_eq!(info["active"], true, "{info}");
    assert_eq!(info["client_id"], "grafana");
    assert_eq!(info["sub"], json!(alice));
}

#[tokio::test]
async fn another_clients_token_is_inactive() {
    let server = TestServer::start().await;
    let secret = seed_acme(&server).await;
    let wiki = add_wiki(&server).await;
    let tokens = grafana_tokens(&server, &secret, "alice", ALL).await;
    for t in [tokens.access_token.as_str(), tokens.refresh()] {
        let info = introspect(&server, "acme", Auth::Post(WIKI, &wiki), t).await;
        assert_eq!(info, json!({ "active": false }));
    }
}

#[tokio::test]
async fn garbage_is_inactive() {
    let server = TestServer::start().await;
    let secret = seed_acme(&server).await;
    let tokens = grafana_tokens(&server, &secret, "alice", ALL).await;
    for t in [
        "garbage",
        "rt_nothing",
        "a.b.c",
        tokens.id_token.as_deref().unwrap(),
    ] {
        let info = introspect(&server, "acme", Auth::Basic("grafana", &secret), t).await;
        assert_eq!(info, json!({ "active": false }), "{t}");
    }
}

#[tokio::test]
async fn expired_access_token_is_inactive() {
    let server = TestServer::start().await;
    let secret = seed_acme(&server).await;
    let tokens = grafana_tokens(&server, &secret, "alice", ALL).await;
    server
        .clock
        .advance(tokens.body["expires_in"].as_i64().unwrap() + 1);
    let info = introspect(
        &server,
        "acme",
        Auth::Basic("grafana", &secret),
        &tokens.access_token,
    )
    .await;
    assert_eq!(info, json!({ "active": false }));
}

#[tokio::test]
async fn revoking_the_refresh_token_ends_the_grant() {
    let server = TestServer::start().await;
    let secret = seed_acme(&server).await;
    let tokens = grafana_tokens(&server, &secret, "alice", ALL).await;
    revoke(
        &server,
        "acme",
        Auth::Basic("grafana", &secret),
        tokens.refresh(),
    )
    .await;
    let r = refresh_grafana(&server, &secret, tokens.refresh(), None).await;
    assert_oauth_error(&r, 400, "invalid_grant");
    let info = introspect(
        &server,
        "acme",
        Auth::Basic("grafana", &secret),
        &tokens.access_token,
    )
    .await;
    assert_eq!(info, json!({ "active": false }));
    let info = introspect(
        &server,
        "acme",
        Auth::Basic("grafana", &secret),
        tokens.refresh(),
    )
    .await;
    assert_eq!(info, json!({ "active": false }));
    assert_invalid_token(&userinfo(&server, "acme", &tokens.access_token).await);
}

#[tokio::test]
async fn revoking_the_access_token() {
    let server = TestServer::start().await;
    let secret = seed_acme(&server).await;
    let tokens = grafana_tokens(&server, &secret, "alice", ALL).await;
    // With the token_type_hint too (RFC 7009 §2.1).
    let r = client_call(
        &server,
        "acme",
        "revoke",
        Auth::Basic("grafana", &secret),
        &[
            ("token", tokens.access_token.as_str()),
            ("token_type_hint", "access_token"),
        ],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_invalid_token(&userinfo(&server, "acme", &tokens.access_token).await);
    let info = introspect(
        &server,
        "acme",
        Auth::Basic("grafana", &secret),
        &tokens.access_token,
    )
    .await;
    assert_eq!(info, json!({ "active": false }));
}

#[tokio::test]
async fn unknown_tokens_revoke_with_200() {
    let server = TestServer::start().await;
    let secret = seed_acme(&server).await;
    for t in ["garbage", "rt_nothing", "a.b.c"] {
        revoke(&server, "acme", Auth::Basic("grafana", &secret), t).await;
    }
}

#[tokio::test]
async fn another_client_cannot_revoke_my_tokens() {
    let server = TestServer::start().await;
    let secret = seed_acme(&server).await;
    let wiki = add_wiki(&server).await;
    let tokens = grafana_tokens(&server, &secret, "alice", ALL).await;
    revoke(&server, "acme", Auth::Post(WIKI, &wiki), tokens.refresh()).await;
    revoke(
        &server,
        "acme",
        Auth::Post(WIKI, &wiki),
        &tokens.access_token,
    )
    .await;
    assert_eq!(
        userinfo(&server, "acme", &tokens.access_token).await.status,
        200
    );
    let r = refresh_grafana(&server, &secret, tokens.refresh(), None).await;
    assert_eq!(r.status, 200, "{}", r.text);
}

#[tokio::test]
async fn both_endpoints_require_client_authentication() {
    let server = TestServer::start().await;
    let secret = seed_acme(&server).await;
    let tokens = grafana_tokens(&server, &secret, "alice", ALL).await;
    let wrong = format!("{secret}x");
    for endpoint in ["revoke", "introspect"] {
        for auth in [
            Auth::Nothing,
            Auth::Basic("grafana", &wrong),
            Auth::Post("grafana", &wrong),
            Auth::Public("grafana"),
        ] {
            let r = client_call(
                &server,
                "acme",
                endpoint,
                auth,
                &[("token", tokens.access_token.as_str())],
            )
            .await;
            assert_oauth_error(&r, 401, "invalid_client");
            assert!(!r.text.contains("\"active\""), "{}", r.text);
        }
        let r = client_call(
            &server,
            "acme",
            endpoint,
            Auth::Basic("grafana", &wrong),
            &[("token", tokens.access_token.as_str())],
        )
        .await;
        assert!(r.header("www-authenticate").is_some(), "Basic challenge");
    }
    // None of it revoked anything.
    assert_eq!(
        userinfo(&server, "acme", &tokens.access_token).await.status,
        200
    );
}

#[tokio::test]
async fn a_disabled_users_tokens_are_inactive() {
    let server = TestServer::start().await;
    let secret = seed_acme(&server).await;
    let alice = user_id(&server, "acme", "alice").await;
    let tokens = grafana_tokens(&server, &secret, "alice", "openid").await;
    let auth = || Auth::Basic("grafana", &secret);
    for token in [tokens.refresh(), tokens.access_token.as_str()] {
        let info = introspect(&server, "acme", auth(), token).await;
        assert_eq!(info["active"], true, "{info}");
    }
    patch_user(&server, "acme", &alice, json!({ "disabled": true })).await;
    for token in [tokens.refresh(), tokens.access_token.as_str()] {
        let info = introspect(&server, "acme", auth(), token).await;
        assert_eq!(info, json!({ "active": false }));
    }
}
