//! The refresh_token grant: rotation, scopes narrow but never widen, bound to its client, a fresh
//! ID token with each refresh when `openid` was granted, replay revokes the family.

use clavex_testkit::TestServer;
use serde_json::json;

use super::{rp::*, support::*};

const ALL: &str = "openid profile email groups";

#[tokio::test]
async fn refresh_can_narrow_the_scope() {
    let server = TestServer::start().await;
    let secret = seed_acme(&server).await;
    let first = grafana_tokens(&server, &secret, "alice", ALL).await;
    assert!(first.id_claims().get("email").is_some());

    let r = refresh_grafana(&server, &secret, first.refresh(), Some("openid")).await;
    let narrowed = Tokens::from_response(&r);
    assert_eq!(narrowed.scope, "openid");
    let claims = narrowed.id_claims();
    assert_eq!(claims["sub"], first.id_claims()["sub"]);
    for gone in ["email", "preferred_username", "groups"] {
        assert!(claims.get(gone).is_none(), "{gone} not in {claims}");
    }
    let info = userinfo(&server, "acme", &narrowed.access_token).await;
    assert_eq!(info.status, 200, "{}", info.text);
    assert!(info.json().get("email").is_none(), "{}", info.text);
    assert_eq!(jwt_claims(&narrowed.access_token)["scope"], "openid");
}

#[tokio::test]
async fn refresh_cannot_widen_the_scope() {
    let server = TestServer::start().await;
    let secret = seed_acme(&server).await;
    let first = grafana_tokens(&server, &secret, "alice", "openid email").await;
    for wider in [
        "openid email groups",
        "profile",
        "openid email offline_access",
    ] {
        let r = refresh_grafana(&server, &secret, first.refresh(), Some(wider)).await;
        assert_oauth_error(&r, 400, "invalid_scope");
    }
}

#[tokio::test]
async fn refresh_by_another_client_is_invalid_grant() {
    let server = TestServer::start().await;
    let secret = seed_acme(&server).await;
    let wiki_secret = add_wiki(&server).await;
    let first = grafana_tokens(&server, &secret, "alice", ALL).await;
    let r = token(
        &server,
        "acme",
        Auth::Post(WIKI, &wiki_secret),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", first.refresh()),
        ],
    )
    .await;
    assert_oauth_error(&r, 400, "invalid_grant");
}

#[tokio::test]
async fn refresh_returns_a_fresh_id_token_and_rotates() {
    let server = TestServer::start().await;
    let secret = seed_acme(&server).await;
    let first = grafana_tokens(&server, &secret, "bob", ALL).await;
    server.clock.advance(30);
    // Grafana refreshes with only grant_type and refresh_token.
    let next =
        Tokens::from_response(&refresh_grafana(&server, &secret, first.refresh(), None).await);
    assert_eq!(next.scope, ALL, "the granted scope by default");
    assert_ne!(next.refresh(), first.refresh(), "a new refresh token");
    assert_ne!(next.access_token, first.access_token);
    let (a, b) = (first.id_claims(), next.id_claims());
    assert!(
        b["exp"].as_i64().unwrap() >= a["exp"].as_i64().unwrap() + 30,
        "{a} {b}"
    );
    assert!(b["iat"].as_i64().unwrap() > a["iat"].as_i64().unwrap());
    for same in ["sub", "aud", "iss", "auth_time", "sid", "groups", "org_id"] {
        assert_eq!(a[same], b[same], "{same}");
    }
    verify_with_jwks(&server, "acme", next.id_token.as_deref().unwrap()).await;
    let info = userinfo(&server, "acme", &next.access_token).await;
    assert_eq!(info.status, 200, "{}", info.text);
}

#[tokio::test]
async fn replayed_refresh_token_revokes_the_family() {
    let server = TestServer::start().await;
    let secret = seed_acme(&server).await;
    let first = grafana_tokens(&server, &secret, "alice", ALL).await;
    let second =
        Tokens::from_response(&refresh_grafana(&server, &secret, first.refresh(), None).await);
    assert_eq!(
        userinfo(&server, "acme", &second.access_token).await.status,
        200
    );

    // Past the race window, a second use of a used token is a replay.
    server
        .clock
        .advance(clavex_core::oidc::token::REFRESH_RACE_SECONDS + 1);
    let replay = refresh_grafana(&server, &secret, first.refresh(), None).await;
    assert_oauth_error(&replay, 400, "invalid_grant");
    // Everything of that grant is dead: the latest refresh token and the access tokens.
    let r = refresh_grafana(&server, &secret, second.refresh(), None).await;
    assert_oauth_error(&r, 400, "invalid_grant");
    assert_invalid_token(&userinfo(&server, "acme", &second.access_token).await);
    assert_invalid_token(&userinfo(&server, "acme", &first.access_token).await);
}

#[tokio::test]
async fn client_without_the_refresh_grant_gets_no_refresh_token() {
    let server = TestServer::start().await;
    let secret = seed_acme(&server).await;
    let code_only = create_client(
        &server,
        "acme",
        json!({
            "client_id": "code-only",
            "grant_types": ["authorization_code"],
            "redirect_uris": ["https://code-only.acme.eu/cb"],
            "scopes": ["openid", "profile"],
        }),
    )
    .await
    .unwrap();
    let url = authorize_url(
        &server,
        "acme",
        &[
            ("client_id", "code-only"),
            ("response_type", "code"),
            ("redirect_uri", "https://code-only.acme.eu/cb"),
            ("scope", "openid profile"),
            ("state", "c"),
        ],
    );
    let back = sign_in(&Browser::new(), &url, "alice", "alice-password-1").await;
    let code = code_from(&server, "acme", &back, "c");
    let tokens = Tokens::from_response(
        &token(
            &server,
            "acme",
            Auth::Basic("code-only", &code_only),
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", "https://code-only.acme.eu/cb"),
            ],
        )
        .await,
    );
    assert_eq!(tokens.refresh_token, None, "{}", tokens.body);
    assert!(tokens.id_token.is_some());

    // Nor may it use someone else's refresh token.
    let grafana = grafana_tokens(&server, &secret, "alice", ALL).await;
    let r = token(
        &server,
        "acme",
        Auth::Basic("code-only", &code_only),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", grafana.refresh()),
        ],
    )
    .await;
    assert!(
        r.status == 400
            && matches!(
                r.json()["error"].as_str(),
                Some("unauthorized_client" | "invalid_grant")
            ),
        "{}",
        r.text
    );
}

#[tokio::test]
async fn refresh_stops_when_the_user_is_disabled() {
    let server = TestServer::start().await;
    let secret = seed_acme(&server).await;
    let first = grafana_tokens(&server, &secret, "carol", ALL).await;
    let carol = user_id(&server, "acme", "carol").await;
    patch_user(&server, "acme", &carol, json!({ "disabled": true })).await;
    let r = refresh_grafana(&server, &secret, first.refresh(), None).await;
    assert_oauth_error(&r, 400, "invalid_grant");
}

#[tokio::test]
async fn garbage_refresh_token_is_invalid_grant() {
    let server = TestServer::start().await;
    let secret = seed_acme(&server).await;
    let first = grafana_tokens(&server, &secret, "alice", ALL).await;
    for bad in ["rt_garbage", first.access_token.as_str()] {
        let r = refresh_grafana(&server, &secret, bad, None).await;
        assert_oauth_error(&r, 400, "invalid_grant");
    }
}

#[tokio::test]
async fn concurrent_refreshes_have_one_winner() {
    let server = TestServer::start().await;
    let secret = seed_acme(&server).await;
    let first = grafana_tokens(&server, &secret, "alice", ALL).await;
    let (a, b) = tokio::join!(
        refresh_grafana(&server, &secret, first.refresh(), None),
        refresh_grafana(&server, &secret, first.refresh(), None),
    );
    let mut statuses = [a.status, b.status];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 400], "{} / {}", a.text, b.text);
    // The loser lost a race, not a theft: the winner's tokens keep working.
    let winner = Tokens::from_response(if a.status == 200 { &a } else { &b });
    assert_eq!(
        userinfo(&server, "acme", &winner.access_token).await.status,
        200
    );
    let next = refresh_grafana(&server, &secret, winner.refresh(), None).await;
    assert_eq!(next.status, 200, "{}", next.text);
}

#[tokio::test]
async fn second_use_within_the_race_window_fails_without_revoking() {
    let server = TestServer::start().await;
    let secret = seed_acme(&server).await;
    let first = grafana_tokens(&server, &secret, "alice", ALL).await;
    let second =
        Tokens::from_response(&refresh_grafana(&server, &secret, first.refresh(), None).await);
    server
        .clock
        .advance(clavex_core::oidc::token::REFRESH_RACE_SECONDS);
    let late = refresh_grafana(&server, &secret, first.refresh(), None).await;
    assert_oauth_error(&late, 400, "invalid_grant");
    assert!(late.text.contains("just used"), "{}", late.text);
    assert_eq!(
        userinfo(&server, "acme", &second.access_token).await.status,
        200
    );
    let r = refresh_grafana(&server, &secret, second.refresh(), None).await;
    assert_eq!(r.status, 200, "{}", r.text);
}

#[tokio::test]
async fn refresh_token_expires() {
    let server = TestServer::start().await;
    let secret = seed_acme(&server).await;
    let first = grafana_tokens(&server, &secret, "alice", ALL).await;
    let ttl = i64::from(server.settings.refresh_token_ttl_seconds);
    server.clock.advance(ttl - 10);
    let second =
        Tokens::from_response(&refresh_grafana(&server, &secret, first.refresh(), None).await);
    server.clock.advance(ttl + 1);
    let r = refresh_grafana(&server, &secret, second.refresh(), None).await;
    assert_oauth_error(&r, 400, "invalid_grant");
}
