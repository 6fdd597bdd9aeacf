//! Orgs are separate providers: tokens, codes and sessions of one are worthless at another, even
//! with the same client id and the same username.

use clavex_testkit::TestServer;
use serde_json::json;

use super::{rp::*, support::*};

const ALL: &str = "openid profile email groups";

/// Org `beta` with Grafana registered under the same client_id as in `acme`, and its own alice.
/// Returns beta's Grafana secret.
async fn seed_beta(server: &TestServer) -> String {
    server.create_org("beta").await;
    let r = server
        .http
        .post(server.url("/api/v1/organizations/beta/clients"))
        .bearer_auth(&server.admin_token)
        .header("Content-Type", "application/json")
        .body(SEED_CLIENT)
        .send()
        .await
        .unwrap();
    let r = TestServer::read(r).await;
    assert_eq!(r.status, 201, "{}", r.text);
    create_user(server, "beta", "alice", None).await;
    r.json()["client_secret"].as_str().unwrap().to_string()
}

/// Signs alice in to beta's Grafana in `browser`; returns the tokens.
async fn beta_tokens(server: &TestServer, browser: &Browser, secret: &str) -> Tokens {
    let (verifier, challenge) = pkce();
    let url = grafana_authorize(server, &challenge, ALL, &[]).replace("/acme/", "/beta/");
    let back = sign_in(browser, &url, "alice", "alice-password-1").await;
    let code = code_from(server, "beta", &back, "st4te=");
    Tokens::from_response(
        &token(
            server,
            "beta",
            Auth::Basic("grafana", secret),
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", GRAFANA_REDIRECT),
                ("code_verifier", &verifier),
            ],
        )
        .await,
    )
}

#[tokio::test]
async fn tokens_of_one_org_are_worthless_at_another() {
    let server = TestServer::start().await;
    let acme_secret = seed_acme(&server).await;
    let beta_secret = seed_beta(&server).await;
    let acme = grafana_tokens(&server, &acme_secret, "alice", ALL).await;
    let beta_auth = Auth::Basic("grafana", &beta_secret);

    assert_invalid_token(&userinfo(&server, "beta", &acme.access_token).await);
    for t in [acme.access_token.as_str(), acme.refresh()] {
        assert_eq!(
            introspect(&server, "beta", beta_auth, t).await,
            json!({ "active": false })
        );
    }
    let r = token(
        &server,
        "beta",
        beta_auth,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", acme.refresh()),
        ],
    )
    .await;
    assert_oauth_error(&r, 400, "invalid_grant");
    // Revoking at beta does nothing to acme's grant.
    revoke(&server, "beta", beta_auth, acme.refresh()).await;
    revoke(&server, "beta", beta_auth, &acme.access_token).await;
    assert_eq!(
        userinfo(&server, "acme", &acme.access_token).await.status,
        200
    );
    let r = refresh_grafana(&server, &acme_secret, acme.refresh(), None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    // Nor does acme's secret authenticate beta's client of the same id.
    let r = token(
        &server,
        "beta",
        Auth::Basic("grafana", &acme_secret),
        &[("grant_type", "refresh_token"), ("refresh_token", "x")],
    )
    .await;
    assert_oauth_error(&r, 401, "invalid_client");
}

#[tokio::test]
async fn codes_of_one_org_are_worthless_at_another() {
    let server = TestServer::start().await;
    seed_acme(&server).await;
    let beta_secret = seed_beta(&server).await;
    let (code, verifier) = grafana_code(&server, &Browser::new(), "alice", ALL).await;
    let r = token(
        &server,
        "beta",
        Auth::Basic("grafana", &beta_secret),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", GRAFANA_REDIRECT),
            ("code_verifier", &verifier),
        ],
    )
    .await;
    assert_oauth_error(&r, 400, "invalid_grant");
}

#[tokio::test]
async fn session_of_one_org_does_not_sign_in_at_another() {
    let server = TestServer::start().await;
    seed_acme(&server).await;
    seed_beta(&server).await;
    let browser = Browser::new();
    let (_, challenge) = pkce();
    let form = open_login(
        &browser,
        &grafana_authorize(&server, &challenge, "openid", &[]),
    )
    .await;
    let r = submit_login(&browser, &form, "alice", "alice-password-1").await;
    assert_eq!(r.status, 303, "{}", r.text);
    let acme_cookie = cookie_value(set_cookie(&r, "clavex_sso_acme").unwrap());

    let beta_url = |prompt: Option<&str>| {
        let mut extra = vec![];
        if let Some(p) = prompt {
            extra.push(("prompt", p));
        }
        grafana_authorize(&server, &challenge, "openid", &extra).replace("/acme/", "/beta/")
    };
    // The same browser is asked to sign in at beta.
    let r = browser.get(&beta_url(None)).await;
    assert_eq!(r.status, 302, "{}", r.text);
    assert!(
        location(&r).contains("/beta/login?request="),
        "{}",
        location(&r)
    );
    let r = browser.get(&beta_url(Some("none"))).await;
    assert_eq!(
        param(&location(&r), "error").as_deref(),
        Some("login_required")
    );
    // Even acme's session value planted under beta's cookie name.
    let r = TestServer::read(
        server
            .http
            .get(beta_url(Some("none")))
            .header(
                "Cookie",
                format!("clavex_sso_beta={acme_cookie}; clavex_sso_acme={acme_cookie}"),
            )
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        param(&location(&r), "error").as_deref(),
        Some("login_required")
    );
}

#[tokio::test]
async fn same_username_in_two_orgs_are_different_subjects() {
    let server = TestServer::start().await;
    let acme_secret = seed_acme(&server).await;
    let beta_secret = seed_beta(&server).await;
    let a = grafana_tokens(&server, &acme_secret, "alice", ALL).await;
    let b = beta_tokens(&server, &Browser::new(), &beta_secret).await;
    let (ca, cb) = (a.id_claims(), b.id_claims());
    assert_eq!(ca["preferred_username"], cb["preferred_username"]);
    assert_ne!(ca["sub"], cb["sub"]);
    assert_eq!(ca["iss"], json!(server.url("/acme")));
    assert_eq!(cb["iss"], json!(server.url("/beta")));
    assert_eq!(ca["org_id"], json!(["acme"]));
    assert_eq!(cb["org_id"], json!(["beta"]));
    assert_eq!(cb["groups"], json!([]), "beta's alice is in no group");
    // Each token works only at its own org.
    assert_eq!(userinfo(&server, "beta", &b.access_token).await.status, 200);
    assert_invalid_token(&userinfo(&server, "acme", &b.access_token).await);
}

#[tokio::test]
async fn users_of_one_org_cannot_sign_in_at_another() {
    let server = TestServer::start().await;
    seed_acme(&server).await;
    seed_beta(&server).await;
    let browser = Browser::new();
    let (_, challenge) = pkce();
    let url = grafana_authorize(&server, &challenge, "openid", &[]).replace("/acme/", "/beta/");
    let form = open_login(&browser, &url).await;
    // bob exists only in acme.
    let r = submit_login(&browser, &form, "bob", "bob-password-1").await;
    assert_eq!(r.status, 401, "{}", r.text);
}
