//! The authorization endpoint: client and redirect URI first (error page, never a redirect), then
//! every other problem redirected with `error`, `state` and `iss`; prompt, max_age, SSO, POST.

use clavex_testkit::TestServer;

use super::{rp::*, support::*};

/// Asserts a redirect back to Grafana carrying `error`, its description, `state` and `iss`.
fn assert_error_redirect(server: &TestServer, r: &clavex_testkit::TestResponse, error: &str) {
    assert_eq!(r.status, 302, "{}", r.text);
    let back = location(r);
    assert!(back.starts_with(GRAFANA_REDIRECT), "{back}");
    assert_eq!(param(&back, "error").as_deref(), Some(error), "{back}");
    assert!(param(&back, "error_description").is_some(), "{back}");
    assert_eq!(param(&back, "state").as_deref(), Some("st4te="), "{back}");
    assert_eq!(param(&back, "iss"), Some(server.url("/acme")), "{back}");
    assert_eq!(param(&back, "code"), None, "{back}");
}

/// Grafana's usual request with `params` replaced or added.
fn grafana_with(server: &TestServer, changes: &[(&str, &str)]) -> String {
    let (_, challenge) = pkce();
    let mut params: Vec<(&str, &str)> = vec![
        ("client_id", "grafana"),
        ("response_type", "code"),
        ("redirect_uri", GRAFANA_REDIRECT),
        ("scope", "openid profile"),
        ("state", "st4te="),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
    ];
    for &(k, v) in changes {
        if let Some(p) = params.iter_mut().find(|p| p.0 == k) {
            p.1 = v;
        } else {
            params.push((k, v));
        }
    }
    params.retain(|(_, v)| !v.is_empty());
    authorize_url(server, "acme", &params)
}

#[tokio::test]
async fn unknown_client_gets_an_error_page() {
    let server = TestServer::start().await;
    seed_acme(&server).await;
    let browser = Browser::new();
    let r = browser
        .get(&grafana_with(&server, &[("client_id", "nope")]))
        .await;
    assert_error_page(&r);
    assert!(
        r.text.contains("nope") || r.text.contains("client"),
        "{}",
        r.text
    );
    let r = browser
        .get(&grafana_with(&server, &[("client_id", "")]))
        .await;
    assert_error_page(&r);
}

#[tokio::test]
async fn unregistered_redirect_uri_gets_an_error_page() {
    let server = TestServer::start().await;
    seed_acme(&server).await;
    let browser = Browser::new();
    let trailing = format!("{GRAFANA_REDIRECT}/");
    let with_query = format!("{GRAFANA_REDIRECT}?next=/");
    let upper = GRAFANA_REDIRECT.replace("grafana.acme.eu", "GRAFANA.acme.eu");
    for uri in [
        "https://evil.example/login/generic_oauth",
        trailing.as_str(),
        with_query.as_str(),
        upper.as_str(),
        "",
    ] {
        let r = browser
            .get(&grafana_with(&server, &[("redirect_uri", uri)]))
            .await;
        assert_error_page(&r);
    }
    // Even with another error that would otherwise be redirected.
    let r = browser
        .get(&grafana_with(
            &server,
            &[
                ("redirect_uri", "https://evil.example/cb"),
                ("response_type", "token"),
            ],
        ))
        .await;
    assert_error_page(&r);
}

#[tokio::test]
async fn response_type_token_is_unsupported_response_type() {
    let server = TestServer::start().await;
    seed_acme(&server).await;
    let browser = Browser::new();
    for rt in ["token", "id_token", "code id_token"] {
        let r = browser
            .get(&grafana_with(&server, &[("response_type", rt)]))
            .await;
        assert_error_redirect(&server, &r, "unsupported_response_type");
    }
}

#[tokio::test]
async fn scope_not_allowed_for_the_client_is_invalid_scope() {
    let server = TestServer::start().await;
    seed_acme(&server).await;
    let r = Browser::new()
        .get(&grafana_with(&server, &[("scope", "openid admin")]))
        .await;
    assert_error_redirect(&server, &r, "invalid_scope");
}

#[tokio::test]
async fn plain_pkce_is_refused() {
    let server = TestServer::start().await;
    seed_acme(&server).await;
    let browser = Browser::new();
    let r = browser
        .get(&grafana_with(
            &server,
            &[("code_challenge_method", "plain")],
        ))
        .await;
    assert_error_redirect(&server, &r, "invalid_request");
    // Without a method the challenge would be plain (RFC 7636 §4.3): refused as well.
    let r = browser
        .get(&grafana_with(&server, &[("code_challenge_method", "")]))
        .await;
    assert_error_redirect(&server, &r, "invalid_request");
    // A challenge that cannot be a S256 digest (43 base64url characters).
    for challenge in [
        "too-short",
        &"A".repeat(44),
        &format!("{}+", "A".repeat(42)),
    ] {
        let r = browser
            .get(&grafana_with(&server, &[("code_challenge", challenge)]))
            .await;
        assert_error_redirect(&server, &r, "invalid_request");
    }
}

#[tokio::test]
async fn prompt_none_cannot_be_combined() {
    let server = TestServer::start().await;
    seed_acme(&server).await;
    let r = Browser::new()
        .get(&grafana_with(&server, &[("prompt", "none login")]))
        .await;
    assert_error_redirect(&server, &r, "invalid_request");
}

#[tokio::test]
async fn sso_session_ends_after_its_lifetime() {
    let server = TestServer::start().await;
    seed_acme(&server).await;
    let browser = Browser::new();
    grafana_code(&server, &browser, "alice", "openid").await;
    let ttl = i64::from(server.settings.session_ttl_seconds);
    server.clock.advance(ttl - 10);
    let (back, _) = grafana_prompt_none(&server, &browser).await;
    assert!(param(&back, "code").is_some(), "still signed in: {back}");
    server.clock.advance(11);
    let (back, _) = grafana_prompt_none(&server, &browser).await;
    assert_eq!(
        param(&back, "error").as_deref(),
        Some("login_required"),
        "{back}"
    );
}

#[tokio::test]
async fn public_client_without_pkce_is_refused() {
    let server = TestServer::start().await;
    seed_acme(&server).await;
    add_spa(&server).await;
    let browser = Browser::new();
    let base = [
        ("client_id", SPA),
        ("response_type", "code"),
        ("redirect_uri", SPA_REDIRECT),
        ("scope", "openid"),
        ("state", "s1"),
    ];
    let r = browser.get(&authorize_url(&server, "acme", &base)).await;
    assert_eq!(r.status, 302, "{}", r.text);
    let back = location(&r);
    assert!(back.starts_with(SPA_REDIRECT), "{back}");
    assert_eq!(param(&back, "error").as_deref(), Some("invalid_request"));
    assert_eq!(param(&back, "state").as_deref(), Some("s1"));
    assert_eq!(param(&back, "iss"), Some(server.url("/acme")));

    // With PKCE the same request goes to the sign-in page.
    let (_, challenge) = pkce();
    let mut with_pkce = base.to_vec();
    with_pkce.push(("code_challenge", &challenge));
    with_pkce.push(("code_challenge_method", "S256"));
    let r = browser
        .get(&authorize_url(&server, "acme", &with_pkce))
        .await;
    assert_eq!(r.status, 302, "{}", r.text);
    assert!(
        location(&r).contains("/acme/login?request="),
        "{}",
        location(&r)
    );
}

#[tokio::test]
async fn prompt_none_without_session_is_login_required() {
    let server = TestServer::start().await;
    seed_acme(&server).await;
    let browser = Browser::new();
    let r = browser
        .get(&grafana_with(&server, &[("prompt", "none")]))
        .await;
    assert_error_redirect(&server, &r, "login_required");
    assert!(r.text.is_empty() || !r.text.contains("<form"), "no page");
}

#[tokio::test]
async fn prompt_none_with_a_session_returns_a_code() {
    let server = TestServer::start().await;
    let secret = seed_acme(&server).await;
    let browser = Browser::new();
    let (code, verifier) = grafana_code(&server, &browser, "alice", "openid").await;
    let first =
        Tokens::from_response(&redeem_grafana(&server, &secret, &code, Some(&verifier)).await);

    server.clock.advance(30);
    let (back, verifier) = grafana_prompt_none(&server, &browser).await;
    let code = code_from(&server, "acme", &back, "st4te=");
    let second =
        Tokens::from_response(&redeem_grafana(&server, &secret, &code, Some(&verifier)).await);
    let (a, b) = (first.id_claims(), second.id_claims());
    assert_eq!(a["sub"], b["sub"]);
    assert_eq!(a["sid"], b["sid"], "the same SSO session");
    assert_eq!(a["auth_time"], b["auth_time"], "no new authentication");
}

#[tokio::test]
async fn second_client_signs_in_without_a_password() {
    let server = TestServer::start().await;
    seed_acme(&server).await;
    let wiki_secret = add_wiki(&server).await;
    let browser = Browser::new();
    grafana_code(&server, &browser, "alice", "openid").await;

    let r = browser
        .get(&authorize_url(
            &server,
            "acme",
            &[
                ("client_id", WIKI),
                ("response_type", "code"),
                ("redirect_uri", WIKI_REDIRECT),
                ("scope", "openid profile"),
                ("state", "w"),
            ],
        ))
        .await;
    assert_eq!(r.status, 302, "{}", r.text);
    let back = location(&r);
    assert!(
        back.starts_with(WIKI_REDIRECT),
        "straight back, no sign-in page: {back}"
    );
    let code = code_from(&server, "acme", &back, "w");
    let tokens = Tokens::from_response(
        &token(
            &server,
            "acme",
            Auth::Post(WIKI, &wiki_secret),
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", WIKI_REDIRECT),
            ],
        )
        .await,
    );
    let claims = tokens.id_claims();
    assert_eq!(claims["preferred_username"], "alice");
    assert_eq!(claims["aud"], WIKI);
}

#[tokio::test]
async fn prompt_login_asks_for_the_password_again() {
    let server = TestServer::start().await;
    let secret = seed_acme(&server).await;
    let browser = Browser::new();
    let (code, verifier) = grafana_code(&server, &browser, "alice", "openid").await;
    let first =
        Tokens::from_response(&redeem_grafana(&server, &secret, &code, Some(&verifier)).await);

    server.clock.advance(20);
    let (verifier, challenge) = pkce();
    let url = grafana_authorize(&server, &challenge, "openid", &[("prompt", "login")]);
    let r = browser.get(&url).await;
    assert_eq!(r.status, 302, "{}", r.text);
    assert!(
        location(&r).contains("/acme/login?request="),
        "{}",
        location(&r)
    );
    let back = sign_in(&browser, &url, "alice", "alice-password-1").await;
    let code = code_from(&server, "acme", &back, "st4te=");
    let second =
        Tokens::from_response(&redeem_grafana(&server, &secret, &code, Some(&verifier)).await);
    assert!(
        second.id_claims()["auth_time"].as_i64().unwrap()
            >= first.id_claims()["auth_time"].as_i64().unwrap() + 20,
        "a fresh auth_time"
    );
}

#[tokio::test]
async fn max_age_exceeded_asks_for_the_password_again() {
    let server = TestServer::start().await;
    seed_acme(&server).await;
    let browser = Browser::new();
    grafana_code(&server, &browser, "alice", "openid").await;
    server.clock.advance(10);

    let (_, challenge) = pkce();
    // A generous max_age: the session is recent enough.
    let r = browser
        .get(&grafana_authorize(
            &server,
            &challenge,
            "openid",
            &[("max_age", "3600")],
        ))
        .await;
    assert_eq!(r.status, 302, "{}", r.text);
    assert!(param(&location(&r), "code").is_some(), "{}", location(&r));
    // max_age=0 (or shorter than the session's age): sign in again.
    for max_age in ["0", "5"] {
        let r = browser
            .get(&grafana_authorize(
                &server,
                &challenge,
                "openid",
                &[("max_age", max_age)],
            ))
            .await;
        assert_eq!(r.status, 302, "{}", r.text);
        assert!(
            location(&r).contains("/acme/login?request="),
            "max_age={max_age}: {}",
            location(&r)
        );
    }
    // With prompt=none that is login_required.
    let r = browser
        .get(&grafana_authorize(
            &server,
            &challenge,
            "openid",
            &[("max_age", "0"), ("prompt", "none")],
        ))
        .await;
    assert_eq!(r.status, 302);
    assert_eq!(
        param(&location(&r), "error").as_deref(),
        Some("login_required")
    );
}

#[tokio::test]
async fn post_to_authorize_works_like_get() {
    let server = TestServer::start().await;
    let secret = seed_acme(&server).await;
    let browser = Browser::new();
    let (verifier, challenge) = pkce();
    let form = [
        ("client_id", "grafana"),
        ("response_type", "code"),
        ("redirect_uri", GRAFANA_REDIRECT),
        ("scope", "openid profile"),
        ("state", "p0st"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let endpoint = server.url("/acme/authorize");
    let r = browser.post_form(&endpoint, &form).await;
    assert!(matches!(r.status, 302 | 303), "{} {}", r.status, r.text);
    let login_url = location(&r);
    assert!(login_url.contains("/acme/login?request="), "{login_url}");
    let page = browser.get(&login_url).await;
    let login = LoginForm {
        action: login_url.split('?').next().unwrap().to_string(),
        request: hidden_input(&page.text, "request"),
        csrf: hidden_input(&page.text, "csrf"),
        page,
    };
    let r = submit_login(&browser, &login, "alice", "alice-password-1").await;
    assert_eq!(r.status, 303, "{}", r.text);
    let code = code_from(&server, "acme", &location(&r), "p0st");
    Tokens::from_response(&redeem_grafana(&server, &secret, &code, Some(&verifier)).await);

    // With the session, a POST gets the code at once; errors are redirected as for GET.
    let r = browser.post_form(&endpoint, &form).await;
    assert!(matches!(r.status, 302 | 303), "{} {}", r.status, r.text);
    code_from(&server, "acme", &location(&r), "p0st");
    let mut bad = form.to_vec();
    bad[1] = ("response_type", "token");
    let r = browser.post_form(&endpoint, &bad).await;
    assert!(matches!(r.status, 302 | 303), "{} {}", r.status, r.text);
    assert_eq!(
        param(&location(&r), "error").as_deref(),
        Some("unsupported_response_type")
    );
    // And a bad client is an error page on POST too.
    let mut bad = form.to_vec();
    bad[0] = ("client_id", "nope");
    assert_error_page(&browser.post_form(&endpoint, &bad).await);
}

#[tokio::test]
async fn unknown_parameters_are_ignored() {
    let server = TestServer::start().await;
    seed_acme(&server).await;
    let browser = Browser::new();
    let r = browser
        .get(&grafana_with(
            &server,
            &[
                ("access_type", "offline"),
                ("x-custom", "1"),
                ("ui_locales", "de en"),
                ("login_hint", "alice"),
            ],
        ))
        .await;
    assert_eq!(r.status, 302, "{}", r.text);
    let login_url = location(&r);
    assert!(login_url.contains("/acme/login?request="), "{login_url}");
    // login_hint fills the username in.
    let page = browser.get(&login_url).await;
    assert!(page.text.contains("value=\"alice\""), "{}", page.text);
}

#[tokio::test]
async fn repeated_parameter_is_an_error() {
    let server = TestServer::start().await;
    seed_acme(&server).await;
    let browser = Browser::new();
    let (_, challenge) = pkce();
    let base = [
        ("client_id", "grafana"),
        ("response_type", "code"),
        ("redirect_uri", GRAFANA_REDIRECT),
        ("scope", "openid"),
        ("state", "st4te="),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let mut scope_twice = base.to_vec();
    scope_twice.push(("scope", "openid profile"));
    let r = browser
        .get(&authorize_url(&server, "acme", &scope_twice))
        .await;
    assert_error_redirect(&server, &r, "invalid_request");

    // A repeated client_id or redirect_uri cannot be trusted: an error page.
    for (k, v) in [("client_id", "grafana"), ("redirect_uri", GRAFANA_REDIRECT)] {
        let mut twice = base.to_vec();
        twice.push((k, v));
        assert_error_page(&browser.get(&authorize_url(&server, "acme", &twice)).await);
    }
}

#[tokio::test]
async fn unknown_org_is_an_error_page() {
    let server = TestServer::start().await;
    seed_acme(&server).await;
    let (_, challenge) = pkce();
    let url = grafana_authorize(&server, &challenge, "openid", &[]).replace("/acme/", "/nope/");
    let r = Browser::new().get(&url).await;
    assert_eq!(r.status, 404, "{}", r.text);
    assert!(r.header("location").is_none());
}
