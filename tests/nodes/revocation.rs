//! Revocation through node A honoured by node B on its very next request: B has just seen the
//! tokens as valid, A revokes (or disables the user), and B's first answer after that refuses.
//! Nothing of it is cached in a node: grants, revoked jtis, users and sessions are read from the
//! database on every request.

use serde_json::json;

use super::support::*;
use crate::oidc::{rp::*, support::*};

/// B sees the tokens as valid (and so would have them in any cache it kept).
async fn warm(cluster: &Cluster, secret: &str, tokens: &Tokens) {
    let r = cluster.userinfo(1, &tokens.access_token).await;
    assert_eq!(r.status, 200, "{}", r.text);
    for token in [tokens.access_token.as_str(), tokens.refresh()] {
        let info = cluster.introspect(1, secret, token).await;
        assert_eq!(info["active"], true, "{info}");
    }
}

#[tokio::test]
async fn refresh_token_revoked_at_a_is_refused_by_b() {
    let cluster = Cluster::start(2).await;
    let secret = cluster.seed_acme().await;
    let browser = Browser::new();
    cluster.sign_in_alice(&browser, 0, 0).await;
    // One grant per kind of first request at B.
    let grants = [
        cluster.sso_tokens(&browser, &secret, 0, 1).await,
        cluster.sso_tokens(&browser, &secret, 1, 0).await,
        cluster.sso_tokens(&browser, &secret, 0, 0).await,
    ];
    for g in &grants {
        warm(&cluster, &secret, g).await;
        cluster.revoke(0, &secret, g.refresh(), None).await;
    }
    let r = cluster.refresh(1, &secret, grants[0].refresh()).await;
    assert_oauth_error(&r, 400, "invalid_grant");
    let info = cluster.introspect(1, &secret, grants[1].refresh()).await;
    assert_eq!(info, json!({ "active": false }));
    // Revoking the refresh token ends the grant's access tokens too (revoke.md).
    assert_invalid_token(&cluster.userinfo(1, &grants[2].access_token).await);
    for g in &grants {
        let info = cluster.introspect(1, &secret, &g.access_token).await;
        assert_eq!(info, json!({ "active": false }));
    }
}

#[tokio::test]
async fn access_token_revoked_at_a_is_refused_by_b() {
    let cluster = Cluster::start(2).await;
    let secret = cluster.seed_acme().await;
    let browser = Browser::new();
    let first = cluster.alice_tokens(&browser, &secret, 0).await;
    let second = cluster.sso_tokens(&browser, &secret, 1, 1).await;
    for (tokens, hint) in [(&first, Some("access_token")), (&second, None)] {
        warm(&cluster, &secret, tokens).await;
        cluster.revoke(0, &secret, &tokens.access_token, hint).await;
    }
    assert_invalid_token(&cluster.userinfo(1, &first.access_token).await);
    let info = cluster.introspect(1, &secret, &second.access_token).await;
    assert_eq!(info, json!({ "active": false }));
    // An access token is revoked by its jti alone: the grant's refresh token still works.
    let r = cluster.refresh(1, &secret, first.refresh()).await;
    let next = Tokens::from_response(&r);
    assert_eq!(cluster.userinfo(1, &next.access_token).await.status, 200);
}

/// alice's grant and SSO session, both seen working at B, then alice disabled through A.
async fn disabled_after_use() -> (Cluster, String, Browser, Tokens) {
    let cluster = Cluster::start(2).await;
    let secret = cluster.seed_acme().await;
    let browser = Browser::new();
    let tokens = cluster.alice_tokens(&browser, &secret, 0).await;
    warm(&cluster, &secret, &tokens).await;
    cluster.sso_code(&browser, 1).await;
    let alice = cluster.user_id(0, "alice").await;
    let r = cluster
        .admin(
            0,
            "PATCH",
            &format!("/api/v1/organizations/acme/users/{alice}"),
            Some(json!({ "disabled": true })),
        )
        .await;
    assert_eq!(r.status, 200, "disable alice at A: {}", r.text);
    (cluster, secret, browser, tokens)
}

#[tokio::test]
async fn user_disabled_at_a_is_refused_by_b() {
    let (cluster, secret, browser, tokens) = disabled_after_use().await;
    let r = cluster.refresh(1, &secret, tokens.refresh()).await;
    assert_oauth_error(&r, 400, "invalid_grant");
    assert_invalid_token(&cluster.userinfo(1, &tokens.access_token).await);
    let info = cluster.introspect(1, &secret, &tokens.access_token).await;
    assert_eq!(info, json!({ "active": false }));
    // The SSO session ended with the account: B shows the sign-in form again.
    let (_, challenge) = pkce();
    let r = browser
        .get(&cluster.at(1, &grafana_authorize_url(&challenge, GRAFANA_SCOPE)))
        .await;
    assert_eq!(r.status, 302, "{}", r.text);
    assert!(
        location(&r).contains("/acme/login?request="),
        "a disabled user's session gave a code: {:?}",
        r.header("location")
    );
}

#[tokio::test]
async fn disabled_users_refresh_token_introspects_inactive() {
    let (cluster, secret, _, tokens) = disabled_after_use().await;
    // The token endpoint refuses this refresh token (user_disabled_at_a_is_refused_by_b), so
    // introspection must not call it active (RFC 7662 §2.2).
    let info = cluster.introspect(1, &secret, tokens.refresh()).await;
    assert_eq!(info, json!({ "active": false }));
}
