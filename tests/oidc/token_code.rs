//! The token endpoint's authorization_code grant: single-use codes with a 60-second life, bound to
//! client, redirect URI and PKCE; client authentication rules; errors per RFC 6749 §5.2.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use clavex_core::oidc::CODE_TTL_SECONDS;
use clavex_testkit::TestServer;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::{rp::*, support::*};

#[tokio::test]
async fn code_is_single_use_and_a_replay_revokes_its_tokens() {
    let server = TestServer::start().await;
    let secret = seed_acme(&server).await;
    let (code, verifier) = grafana_code(&server, &Browser::new(), "alice", "openid profile").await;
    let first =
        Tokens::from_response(&redeem_grafana(&server, &secret, &code, Some(&verifier)).await);
    assert_eq!(
        userinfo(&server, "acme", &first.access_token).await.status,
        200
    );

    let replay = redeem_grafana(&server, &secret, &code, Some(&verifier)).await;
    assert_oauth_error(&replay, 400, "invalid_grant");
    assert_invalid_token(&userinfo(&server, "acme", &first.access_token).await);
    let r = refresh_grafana(&server, &secret, first.refresh(), None).await;
    assert_oauth_error(&r, 400, "invalid_grant");
    assert_eq!(
        introspect(
            &server,
            "acme",
            Auth::Basic("grafana", &secret),
            &first.access_token
        )
        .await,
        json!({ "active": false })
    );
}

#[tokio::test]
async fn code_expires_after_sixty_seconds() {
    let server = TestServer::start().await;
    let secret = seed_acme(&server).await;
    let browser = Browser::new();
    let (early, early_verifier) = grafana_code(&server, &browser, "alice", "openid").await;
    let (back, late_verifier) = grafana_prompt_none(&server, &browser).await;
    let late = code_from(&server, "acme", &back, "st4te=");

    server.clock.advance(CODE_TTL_SECONDS - 1);
    let r = redeem_grafana(&server, &secret, &early, Some(&early_verifier)).await;
    assert_eq!(r.status, 200, "still valid at 59 s: {}", r.text);
    server.clock.advance(2);
    let r = redeem_grafana(&server, &secret, &late, Some(&late_verifier)).await;
    assert_oauth_error(&r, 400, "invalid_grant");
}

#[tokio::test]
async fn wrong_redirect_uri_is_invalid_grant() {
    let server = TestServer::start().await;
    let secret = seed_acme(&server).await;
    let (code, verifier) = grafana_code(&server, &Browser::new(), "alice", "openid").await;
    let other = format!("{GRAFANA_REDIRECT}/");
    for uri in [Some("https://evil.example/cb"), Some(other.as_str()), None] {
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("code_verifier", verifier.as_str()),
        ];
        if let Some(uri) = uri {
            form.push(("redirect_uri", uri));
        }
        let r = token(&server, "acme", Auth::Basic("grafana", &secret), &form).await;
        assert_oauth_error(&r, 400, "invalid_grant");
    }
}

#[tokio::test]
async fn wrong_code_verifier_is_invalid_grant() {
    let server = TestServer::start().await;
    let secret = seed_acme(&server).await;
    let (code, verifier) = grafana_code(&server, &Browser::new(), "alice", "openid").await;
    let (other, _) = pkce();
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    for bad in [
        other.as_str(),
        &verifier[..127],
        "short",
        challenge.as_str(),
    ] {
        let r = redeem_grafana(&server, &secret, &code, Some(bad)).await;
        assert_oauth_error(&r, 400, "invalid_grant");
    }
}

#[tokio::test]
async fn missing_verifier_for_a_pkce_code_is_invalid_grant() {
    let server = TestServer::start().await;
    let secret = seed_acme(&server).await;
    let (code, _) = grafana_code(&server, &Browser::new(), "alice", "openid").await;
    let r = redeem_grafana(&server, &secret, &code, None).await;
    assert_oauth_error(&r, 400, "invalid_grant");
}

/// A code issued without a challenge (a confidential client may skip PKCE).
async fn code_without_pkce(server: &TestServer) -> String {
    let url = authorize_url(
        server,
        "acme",
        &[
            ("client_id", "grafana"),
            ("response_type", "code"),
            ("redirect_uri", GRAFANA_REDIRECT),
            ("scope", "openid"),
            ("state", "np"),
        ],
    );
    let back = sign_in(&Browser::new(), &url, "alice", "alice-password-1").await;
    code_from(server, "acme", &back, "np")
}

#[tokio::test]
async fn verifier_for_a_code_without_challenge_is_refused() {
    let server = TestServer::start().await;
    let secret = seed_acme(&server).await;
    // PKCE downgrade: a verifier sent for a code that was issued without a challenge.
    let code = code_without_pkce(&server).await;
    let (verifier, _) = pkce();
    let r = redeem_grafana(&server, &secret, &code, Some(&verifier)).await;
    assert_oauth_error(&r, 400, "invalid_grant");
    // Without a verifier such a code is fine.
    let code = code_without_pkce(&server).await;
    let r = redeem_grafana(&server, &secret, &code, None).await;
    assert_eq!(r.status, 200, "{}", r.text);
}

#[tokio::test]
async fn code_of_one_client_is_worthless_to_another() {
    let server = TestServer::start().await;
    seed_acme(&server).await;
    let wiki_secret = add_wiki(&server).await;
    let (code, verifier) = grafana_code(&server, &Browser::new(), "alice", "openid").await;
    for redirect in [GRAFANA_REDIRECT, WIKI_REDIRECT] {
        let r = token(
            &server,
            "acme",
            Auth::Post(WIKI, &wiki_secret),
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", redirect),
                ("code_verifier", &verifier),
            ],
        )
        .await;
        assert_oauth_error(&r, 400, "invalid_grant");
    }
}

#[tokio::test]
async fn wrong_secret_is_invalid_client_and_keeps_the_code() {
    let server = TestServer::start().await;
    let secret = seed_acme(&server).await;
    let (code, verifier) = grafana_code(&server, &Browser::new(), "alice", "openid").await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", GRAFANA_REDIRECT),
        ("code_verifier", verifier.as_str()),
    ];
    let wrong = format!("{secret}x");
    let r = token(&server, "acme", Auth::Basic("grafana", &wrong), &form).await;
    assert_oauth_error(&r, 401, "invalid_client");
    let challenge = r
        .header("www-authenticate")
        .expect("WWW-Authenticate for Basic");
    assert!(
        challenge.to_ascii_lowercase().starts_with("basic"),
        "{challenge}"
    );
    // Unknown client, secret in the body, no credentials at all: 401 invalid_client too.
    for auth in [
        Auth::Basic("nobody", &secret),
        Auth::Post("grafana", &wrong),
        Auth::Public("grafana"),
        Auth::Nothing,
    ] {
        let r = token(&server, "acme", auth, &form).await;
        assert_oauth_error(&r, 401, "invalid_client");
    }
    // None of that used up the code.
    let r = token(&server, "acme", Auth::Basic("grafana", &secret), &form).await;
    assert_eq!(r.status, 200, "{}", r.text);
}

#[tokio::test]
async fn basic_credentials_are_form_decoded() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    let secret = create_client(
        &server,
        "acme",
        json!({
            "client_id": "my:app",
            "grant_types": ["client_credentials"],
            "scopes": ["api"],
        }),
    )
    .await
    .unwrap();
    let form = [("grant_type", "client_credentials")];
    // basic_header form-encodes: "my%3Aapp:<secret>".
    let r = token(&server, "acme", Auth::Basic("my:app", &secret), &form).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        jwt_claims(r.json()["access_token"].as_str().unwrap())["sub"],
        "my:app"
    );
    // Every character percent-encoded decodes the same.
    let encoded_secret: String = secret.bytes().map(|b| format!("%{b:02X}")).collect();
    let raw = format!("my%3Aapp:{encoded_secret}");
    let header = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    );
    let r = TestServer::read(
        server
            .http
            .post(server.url("/acme/token"))
            .header("Authorization", header)
            .form(&form)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    // Sent raw, the first ':' splits id from secret: "my" / "app:<secret>" is not a client.
    let raw = format!("my:app:{secret}");
    let header = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    );
    let r = TestServer::read(
        server
            .http
            .post(server.url("/acme/token"))
            .header("Authorization", header)
            .form(&form)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_oauth_error(&r, 401, "invalid_client");
}

#[tokio::test]
async fn basic_and_body_secret_together_is_invalid_request() {
    let server = TestServer::start().await;
    let secret = seed_acme(&server).await;
    let (code, verifier) = grafana_code(&server, &Browser::new(), "alice", "openid").await;
    let r = token(
        &server,
        "acme",
        Auth::Basic("grafana", &secret),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", GRAFANA_REDIRECT),
            ("code_verifier", &verifier),
            ("client_id", "grafana"),
            ("client_secret", &secret),
        ],
    )
    .await;
    assert_oauth_error(&r, 400, "invalid_request");
}

#[tokio::test]
async fn unsupported_grant_type() {
    let server = TestServer::start().await;
    let secret = seed_acme(&server).await;
    for grant in [
        "password",
        "implicit",
        "urn:ietf:params:oauth:grant-type:device_code",
    ] {
        let r = token(
            &server,
            "acme",
            Auth::Basic("grafana", &secret),
            &[
                ("grant_type", grant),
                ("username", "alice"),
                ("password", "alice-password-1"),
            ],
        )
        .await;
        assert_oauth_error(&r, 400, "unsupported_grant_type");
    }
    let r = token(&server, "acme", Auth::Basic("grafana", &secret), &[]).await;
    assert_oauth_error(&r, 400, "invalid_request");
}

#[tokio::test]
async fn repeated_token_parameter_is_invalid_request() {
    let server = TestServer::start().await;
    let secret = seed_acme(&server).await;
    let (code, verifier) = grafana_code(&server, &Browser::new(), "alice", "openid").await;
    let r = token(
        &server,
        "acme",
        Auth::Basic("grafana", &secret),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("code", &code),
            ("redirect_uri", GRAFANA_REDIRECT),
            ("code_verifier", &verifier),
        ],
    )
    .await;
    assert_oauth_error(&r, 400, "invalid_request");
}

#[tokio::test]
async fn token_response_and_id_token_claims() {
    let server = TestServer::start().await;
    let secret = seed_acme(&server).await;
    let alice = user_id(&server, "acme", "alice").await;
    let (verifier, challenge) = pkce();
    let url = grafana_authorize(
        &server,
        &challenge,
        "openid profile email groups",
        &[("nonce", "n-0S6_WzA2Mj")],
    );
    let back = sign_in(&Browser::new(), &url, "alice", "alice-password-1").await;
    let code = code_from(&server, "acme", &back, "st4te=");
    let r = redeem_grafana(&server, &secret, &code, Some(&verifier)).await;
    assert_eq!(r.header("pragma"), Some("no-cache"));
    let tokens = Tokens::from_response(&r);
    assert_eq!(tokens.scope, "openid profile email groups");
    assert!(tokens.refresh_token.is_some());

    let claims = verify_with_jwks(&server, "acme", tokens.id_token.as_deref().unwrap()).await;
    assert_eq!(claims["iss"], json!(server.url("/acme")));
    assert_eq!(claims["sub"], json!(alice));
    assert_eq!(claims["aud"], "grafana");
    assert_eq!(claims["nonce"], "n-0S6_WzA2Mj");
    let (iat, exp) = (
        claims["iat"].as_i64().unwrap(),
        claims["exp"].as_i64().unwrap(),
    );
    assert!(exp > iat);
    assert!(claims["auth_time"].as_i64().unwrap() <= iat);
    assert!(claims["sid"].is_string());
    // at_hash: the left half of SHA-256 of the access token (RS256).
    let digest = Sha256::digest(tokens.access_token.as_bytes());
    assert_eq!(
        claims["at_hash"],
        json!(URL_SAFE_NO_PAD.encode(&digest[..16]))
    );
    for c in [
        "name",
        "preferred_username",
        "updated_at",
        "email",
        "email_verified",
    ] {
        assert!(claims.get(c).is_some(), "{c} in {claims}");
    }
    assert_eq!(claims["groups"], json!(["grafana-admins"]));
    assert_eq!(claims["org_id"], json!(["acme"]));

    // The access token is an RFC 9068 JWT.
    assert_eq!(jwt_header(&tokens.access_token)["typ"], "at+jwt");
    let access = verify_with_jwks(&server, "acme", &tokens.access_token).await;
    assert_eq!(access["sub"], json!(alice));
    assert_eq!(access["client_id"], "grafana");
    assert_eq!(access["iss"], json!(server.url("/acme")));
    assert_eq!(
        access["exp"].as_i64().unwrap() - access["iat"].as_i64().unwrap(),
        tokens.body["expires_in"].as_i64().unwrap()
    );
}

#[tokio::test]
async fn public_client_redeems_with_pkce_and_no_secret() {
    let server = TestServer::start().await;
    seed_acme(&server).await;
    add_spa(&server).await;
    let browser = Browser::new();
    let spa_code = |verifier_challenge: (String, String)| {
        let (verifier, challenge) = verifier_challenge;
        let url = authorize_url(
            &server,
            "acme",
            &[
                ("client_id", SPA),
                ("response_type", "code"),
                ("redirect_uri", SPA_REDIRECT),
                ("scope", "openid email"),
                ("state", "spa"),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ],
        );
        (url, verifier)
    };
    let (url, _) = spa_code(pkce());
    let back = sign_in(&browser, &url, "alice", "alice-password-1").await;
    let code = code_from(&server, "acme", &back, "spa");
    let form = |code: &str, verifier: Option<&str>| {
        let mut form = vec![
            ("grant_type".to_string(), "authorization_code".to_string()),
            ("code".to_string(), code.to_string()),
            ("redirect_uri".to_string(), SPA_REDIRECT.to_string()),
        ];
        if let Some(v) = verifier {
            form.push(("code_verifier".to_string(), v.to_string()));
        }
        form
    };
    let f = form(&code, None);
    let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let r = token(&server, "acme", Auth::Public(SPA), &pairs).await;
    assert_oauth_error(&r, 400, "invalid_grant");

    // The SSO session gives a second code; with its verifier and no secret it is redeemed.
    let (url, verifier) = spa_code(pkce());
    let r = browser.get(&url).await;
    assert_eq!(r.status, 302, "{}", r.text);
    let code = code_from(&server, "acme", &location(&r), "spa");
    let f = form(&code, Some(&verifier));
    let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let tokens = Tokens::from_response(&token(&server, "acme", Auth::Public(SPA), &pairs).await);
    assert_eq!(tokens.id_claims()["email"], "alice@acme.test");
}

#[tokio::test]
async fn concurrent_redemptions_of_one_code_have_one_winner() {
    let server = TestServer::start().await;
    let secret = seed_acme(&server).await;
    let (code, verifier) = grafana_code(&server, &Browser::new(), "alice", "openid").await;
    let (a, b) = tokio::join!(
        redeem_grafana(&server, &secret, &code, Some(&verifier)),
        redeem_grafana(&server, &secret, &code, Some(&verifier)),
    );
    let mut statuses = [a.status, b.status];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 400], "{} / {}", a.text, b.text);
    // The loser was a replay: what the winner got is revoked.
    let winner = if a.status == 200 { &a } else { &b };
    let tokens = Tokens::from_response(winner);
    assert_invalid_token(&userinfo(&server, "acme", &tokens.access_token).await);
}
