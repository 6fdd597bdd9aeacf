//! One sign-in served by two nodes: any step may land on either node, because pending requests,
//! codes and SSO sessions live in the database and the form's CSRF key derives from the shared
//! master key.

use serde_json::json;

use super::support::*;
use crate::oidc::{rp::*, support::*};

#[tokio::test]
async fn signed_in_on_a_redeemed_on_b() {
    let cluster = Cluster::start(2).await;
    let secret = cluster.seed_acme().await;
    let alice = cluster.user_id(1, "alice").await;
    let browser = Browser::new();

    let (code, verifier) = cluster.sign_in_alice(&browser, 0, 0).await;
    let tokens = Tokens::from_response(&cluster.redeem(1, &secret, &code, &verifier).await);
    assert_eq!(tokens.scope, GRAFANA_SCOPE);
    let id_token = tokens.id_token.as_deref().expect("an ID token");
    let claims = tokens.id_claims();
    assert_eq!(claims["iss"], json!(acme_issuer()), "{claims}");
    assert_eq!(claims["aud"], "grafana", "{claims}");
    assert_eq!(claims["azp"], "grafana", "{claims}");
    assert_eq!(claims["sub"], json!(alice), "{claims}");
    assert_eq!(claims["email"], "alice@acme.test", "{claims}");
    assert_eq!(claims["preferred_username"], "alice", "{claims}");
    let access = jwt_claims(&tokens.access_token);
    assert_eq!(access["iss"], json!(acme_issuer()), "{access}");
    // Both nodes publish the key that signed them.
    for i in 0..2 {
        let jwks = cluster.jwks(i).await;
        verify_with(&jwks, id_token);
        verify_with(&jwks, &tokens.access_token);
    }
    for i in 0..2 {
        let r = cluster.userinfo(i, &tokens.access_token).await;
        assert_eq!(r.status, 200, "userinfo at node {i}: {}", r.text);
        assert_eq!(r.json()["sub"], json!(alice), "{}", r.text);
        assert_eq!(r.json()["email"], "alice@acme.test", "{}", r.text);
    }
    // The code is spent for both nodes.
    let again = cluster.redeem(0, &secret, &code, &verifier).await;
    assert_oauth_error(&again, 400, "invalid_grant");
}

#[tokio::test]
async fn sso_session_from_a_signs_in_on_b() {
    let cluster = Cluster::start(2).await;
    let secret = cluster.seed_acme().await;
    let browser = Browser::new();
    let (code, verifier) = cluster.sign_in_alice(&browser, 0, 0).await;
    let first = Tokens::from_response(&cluster.redeem(0, &secret, &code, &verifier).await);

    // The same browser at node B: a code at once, no form (sso_code asserts the redirect).
    let (code, verifier) = cluster.sso_code(&browser, 1).await;
    let second = Tokens::from_response(&cluster.redeem(1, &secret, &code, &verifier).await);
    let (a, b) = (first.id_claims(), second.id_claims());
    // The very session made on A: same sid, same sign-in time.
    for same in ["sub", "sid", "auth_time"] {
        assert_eq!(a[same], b[same], "{same}: {a} / {b}");
    }
    let r = cluster.userinfo(1, &second.access_token).await;
    assert_eq!(r.status, 200, "{}", r.text);

    // Another browser has no session on B: it gets the form.
    let (_, challenge) = pkce();
    let r = Browser::new()
        .get(&cluster.at(1, &grafana_authorize_url(&challenge, GRAFANA_SCOPE)))
        .await;
    assert_eq!(r.status, 302, "{}", r.text);
    assert!(
        location(&r).contains("/acme/login?request="),
        "{:?}",
        r.headers
    );
}

#[tokio::test]
async fn login_form_from_a_posts_to_b() {
    let cluster = Cluster::start(2).await;
    let secret = cluster.seed_acme().await;
    let browser = Browser::new();
    let (mut form, verifier) = cluster.open_login(&browser, 0).await;
    form.action = cluster.url(1, "/acme/login");

    // B checks the CSRF token, so it takes A's only because both derive the same key.
    let mut forged = form.csrf.clone();
    let last = if forged.ends_with('A') { "B" } else { "A" };
    forged.replace_range(forged.len() - 1.., last);
    let r = browser
        .post_form(
            &form.action,
            &[
                ("request", &form.request),
                ("csrf", &forged),
                ("username", "alice"),
                ("password", "alice-password-1"),
            ],
        )
        .await;
    assert_eq!(r.status, 403, "a wrong CSRF token at B: {}", r.text);

    let r = submit_login(&browser, &form, "alice", "alice-password-1").await;
    assert_eq!(r.status, 303, "A's form posted to B: {}", r.text);
    let code = grafana_code_of(&location(&r));
    let tokens = Tokens::from_response(&cluster.redeem(0, &secret, &code, &verifier).await);
    assert_eq!(tokens.id_claims()["preferred_username"], "alice");
    // B set the session cookie; A honours it.
    cluster.sso_code(&browser, 0).await;
}
