//! The seed's Grafana guide, end to end: a client that behaves as Grafana's generic_oauth does
//! signs alice, bob and carol in through the real form and maps their roles from the ID token.

use base64::{Engine, engine::general_purpose::STANDARD};
use clavex_testkit::TestServer;
use serde_json::Value;

use super::support::*;

struct Tokens {
    access_token: String,
    id_token: String,
    refresh_token: String,
}

/// Grafana's state: padded base64url (ends in '=').
fn grafana_state() -> String {
    let raw = clavex_crypto::secret::generate_token("");
    format!("{}=", &raw[..42])
}

async fn token_call(
    server: &TestServer,
    secret: &str,
    form: &[(&str, &str)],
    basic: bool,
) -> (u16, Value) {
    let mut req = server.http.post(server.url("/acme/token")).form(form);
    if basic {
        req = req.header(
            "Authorization",
            format!("Basic {}", STANDARD.encode(format!("grafana:{secret}"))),
        );
    }
    let r = TestServer::read(req.send().await.unwrap()).await;
    assert_eq!(r.header("cache-control"), Some("no-store"), "{}", r.text);
    (r.status, r.json())
}

async fn grafana_sign_in(server: &TestServer, secret: &str, user: &str) -> Tokens {
    let browser = Browser::new();
    let (verifier, challenge) = pkce();
    let state = grafana_state();
    let mut auth = url::Url::parse(&server.url("/acme/authorize")).unwrap();
    auth.query_pairs_mut()
        .append_pair("access_type", "offline")
        .append_pair("client_id", "grafana")
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256")
        .append_pair("redirect_uri", GRAFANA_REDIRECT)
        .append_pair("response_type", "code")
        .append_pair("scope", "openid profile email groups")
        .append_pair("state", &state);
    let back = sign_in(&browser, auth.as_str(), user, &format!("{user}-password-1")).await;
    assert!(back.starts_with(GRAFANA_REDIRECT), "{back}");
    assert_eq!(
        param(&back, "state").as_deref(),
        Some(state.as_str()),
        "state echoed byte for byte"
    );
    assert_eq!(param(&back, "iss"), Some(server.url("/acme")));
    let code = param(&back, "code").unwrap();

    let (status, body) = token_call(
        server,
        secret,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", GRAFANA_REDIRECT),
            ("code_verifier", &verifier),
        ],
        true,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    Tokens {
        access_token: body["access_token"].as_str().unwrap().into(),
        id_token: body["id_token"].as_str().unwrap().into(),
        refresh_token: body["refresh_token"].as_str().unwrap().into(),
    }
}

#[tokio::test]
async fn grafana_roles_from_the_id_token() {
    let server = TestServer::start().await;
    let secret = seed_acme(&server).await;
    for (user, role, groups) in [
        ("alice", "Admin", vec!["grafana-admins"]),
        ("bob", "Editor", vec!["grafana-editors"]),
        ("carol", "Viewer", vec![]),
    ] {
        let tokens = grafana_sign_in(&server, &secret, user).await;
        let claims = jwt_claims(&tokens.id_token);
        assert_eq!(jmespath_str(ROLE_PATH, &claims), role, "{user}: {claims}");
        assert_eq!(claims["preferred_username"], user);
        assert_eq!(claims["email"], format!("{user}@acme.test"));
        assert_eq!(claims["org_id"], serde_json::json!(["acme"]));
        assert_eq!(claims["groups"], serde_json::json!(groups));
        assert_eq!(claims["iss"], server.url("/acme"));
        assert_eq!(claims["aud"], "grafana");
        assert!(claims["at_hash"].is_string() && claims["sid"].is_string());

        // Then userinfo with the bearer token: the same claims.
        let r = TestServer::read(
            server
                .http
                .get(server.url("/acme/userinfo"))
                .bearer_auth(&tokens.access_token)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let info = r.json();
        assert_eq!(info["sub"], claims["sub"]);
        assert_eq!(info["groups"], claims["groups"]);
        assert_eq!(jmespath_str(ROLE_PATH, &info), role);
    }
}

#[tokio::test]
async fn grafana_refreshes_twice_then_logs_out() {
    let server = TestServer::start().await;
    let secret = seed_acme(&server).await;
    let first = grafana_sign_in(&server, &secret, "alice").await;
    let mut refresh = first.refresh_token.clone();
    let mut last_id_token = first.id_token.clone();
    for _ in 0..2 {
        server.clock.advance(10);
        let (status, body) = token_call(
            &server,
            &secret,
            &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
            true,
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let new_refresh = body["refresh_token"].as_str().unwrap().to_string();
        assert_ne!(new_refresh, refresh, "rotation gives a new refresh token");
        let id = body["id_token"].as_str().unwrap().to_string();
        assert!(
            jwt_claims(&id)["exp"].as_i64() > jwt_claims(&last_id_token)["exp"].as_i64(),
            "a fresh exp"
        );
        refresh = new_refresh;
        last_id_token = id;
    }
    // The first refresh token replayed: refused, and the whole family is revoked.
    let (status, body) = token_call(
        &server,
        &secret,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &first.refresh_token),
        ],
        true,
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (status, _) = token_call(
        &server,
        &secret,
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
        true,
    )
    .await;
    assert_eq!(
        status, 400,
        "the latest token of a revoked family is dead too"
    );

    // Logout with an expired id_token_hint still works.
    server.clock.advance(3600);
    let browser = Browser::new();
    let mut url = url::Url::parse(&server.url("/acme/logout")).unwrap();
    url.query_pairs_mut()
        .append_pair("id_token_hint", &last_id_token);
    let r = browser.get(url.as_str()).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.text.contains("Signed out"));
}

#[tokio::test]
async fn failed_basic_auth_does_not_use_up_the_code() {
    let server = TestServer::start().await;
    let secret = seed_acme(&server).await;
    let browser = Browser::new();
    let (verifier, challenge) = pkce();
    let mut auth = url::Url::parse(&server.url("/acme/authorize")).unwrap();
    auth.query_pairs_mut()
        .append_pair("client_id", "grafana")
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256")
        .append_pair("redirect_uri", GRAFANA_REDIRECT)
        .append_pair("response_type", "code")
        .append_pair("scope", "openid groups")
        .append_pair("state", "s=");
    let back = sign_in(&browser, auth.as_str(), "bob", "bob-password-1").await;
    let code = param(&back, "code").unwrap();
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", GRAFANA_REDIRECT),
        ("code_verifier", verifier.as_str()),
    ];
    let (status, body) = token_call(&server, "cs_wrong", &form, true).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    // Grafana retries with the credentials in the body.
    let mut with_body = form.to_vec();
    with_body.push(("client_id", "grafana"));
    with_body.push(("client_secret", secret.as_str()));
    let (status, body) = token_call(&server, &secret, &with_body, false).await;
    assert_eq!(status, 200, "{body}");
}
