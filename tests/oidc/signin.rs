//! The sign-in page and the SSO session: the form, its headers, one message for every wrong
//! credential, CSRF and Origin checks, throttling that ends, and the session cookie.

use clavex_core::oidc::signin::{LOGIN_FAILURES_BEFORE_LOCK, MAX_LOCK_SECONDS};
use clavex_testkit::{TestResponse, TestServer};
use serde_json::json;

use super::{rp::*, support::*};

fn grafana_login_url(server: &TestServer) -> String {
    let (_, challenge) = pkce();
    grafana_authorize(server, &challenge, "openid profile", &[])
}

fn assert_page_headers(r: &TestResponse) {
    let csp = r
        .header("content-security-policy")
        .unwrap_or_else(|| panic!("no CSP ({}): {}", r.status, r.text));
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert!(!csp.contains("unsafe-eval"), "{csp}");
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    assert!(r.header("referrer-policy").is_some(), "a Referrer-Policy");
}

/// A sign-in that failed with the generic answer: 401, the form again, the generic message.
fn generic_failure(r: &TestResponse) -> String {
    assert_eq!(r.status, 401, "{}", r.text);
    assert!(set_cookie(r, "clavex_sso_acme").is_none(), "no session");
    assert!(r.text.contains("name=\"password\""), "the form again");
    form_error(&r.text).unwrap_or_else(|| panic!("no error message: {}", r.text))
}

#[tokio::test]
async fn login_page_has_the_form_and_security_headers() {
    let server = TestServer::start().await;
    seed_acme(&server).await;
    let browser = Browser::new();
    let form = open_login(&browser, &grafana_login_url(&server)).await;
    let html = &form.page.text;
    assert!(
        form.page
            .header("content-type")
            .is_some_and(|c| c.starts_with("text/html")),
        "{:?}",
        form.page.header("content-type")
    );
    for input in [
        "name=\"username\"",
        "name=\"password\"",
        "type=\"password\"",
    ] {
        assert!(html.contains(input), "{input} in {html}");
    }
    for hidden in ["csrf", "request"] {
        assert!(
            html.contains(&format!("type=\"hidden\" name=\"{hidden}\""))
                || html.contains(&format!("name=\"{hidden}\" type=\"hidden\"")),
            "hidden {hidden} in {html}"
        );
    }
    assert!(!form.csrf.is_empty() && !form.request.is_empty());
    assert!(html.contains("ACME"), "the org's name: {html}");
    assert!(html.contains("Clavex"), "branded: {html}");
    assert!(html.contains("method=\"post\""), "{html}");
    assert_page_headers(&form.page);

    // Error pages and the refused form carry the same headers.
    let r = submit_login(&browser, &form, "alice", "wrong-password").await;
    assert_page_headers(&r);
    let (_, challenge) = pkce();
    let bad = grafana_authorize(&server, &challenge, "openid", &[]).replace("grafana&", "nope&");
    let r = browser.get(&bad).await;
    assert_error_page(&r);
    assert_page_headers(&r);
}

#[tokio::test]
async fn wrong_password_and_unknown_user_look_the_same() {
    let server = TestServer::start().await;
    seed_acme(&server).await;
    let browser = Browser::new();
    let form = open_login(&browser, &grafana_login_url(&server)).await;
    let wrong_password =
        generic_failure(&submit_login(&browser, &form, "alice", "nope-nope-1").await);
    let unknown_user =
        generic_failure(&submit_login(&browser, &form, "mallory", "alice-password-1").await);
    let empty = generic_failure(&submit_login(&browser, &form, "", "").await);
    assert_eq!(wrong_password, unknown_user);
    assert_eq!(wrong_password, empty);
    assert!(
        !wrong_password.to_lowercase().contains("unknown"),
        "{wrong_password}"
    );
    assert!(!wrong_password.contains("alice"), "{wrong_password}");
    // The form still works afterwards with the right password.
    let r = submit_login(&browser, &form, "alice", "alice-password-1").await;
    assert_eq!(r.status, 303, "{}", r.text);
}

#[tokio::test]
async fn email_signs_in_like_the_username() {
    let server = TestServer::start().await;
    let secret = seed_acme(&server).await;
    for login in ["bob@acme.test", "BOB@Acme.Test", "Bob"] {
        let browser = Browser::new();
        let (verifier, challenge) = pkce();
        let back = sign_in(
            &browser,
            &grafana_authorize(&server, &challenge, "openid profile", &[]),
            login,
            "bob-password-1",
        )
        .await;
        let code = code_from(&server, "acme", &back, "st4te=");
        let tokens =
            Tokens::from_response(&redeem_grafana(&server, &secret, &code, Some(&verifier)).await);
        assert_eq!(tokens.id_claims()["preferred_username"], "bob", "{login}");
    }
}

#[tokio::test]
async fn post_without_the_csrf_cookie_is_forbidden() {
    let server = TestServer::start().await;
    seed_acme(&server).await;
    let browser = Browser::new();
    let form = open_login(&browser, &grafana_login_url(&server)).await;
    // Another browser (no cookies) replays the form with its csrf value.
    let other = Browser {
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
    };
    let r = submit_login(&other, &form, "alice", "alice-password-1").await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert!(set_cookie(&r, "clavex_sso_acme").is_none(), "no session");
    assert!(r.header("location").is_none());
    // Another browser with its own csrf cookie but this form's token: refused as well.
    let third = Browser::new();
    open_login(&third, &grafana_login_url(&server)).await;
    let r = submit_login(&third, &form, "alice", "alice-password-1").await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert!(set_cookie(&r, "clavex_sso_acme").is_none(), "no session");
}

#[tokio::test]
async fn wrong_csrf_is_forbidden() {
    let server = TestServer::start().await;
    seed_acme(&server).await;
    let browser = Browser::new();
    let mut form = open_login(&browser, &grafana_login_url(&server)).await;
    let good = form.csrf.clone();
    for bad in [String::new(), format!("{good}x"), "A".repeat(good.len())] {
        form.csrf = bad;
        let r = submit_login(&browser, &form, "alice", "alice-password-1").await;
        assert_eq!(r.status, 403, "{}", r.text);
        assert!(set_cookie(&r, "clavex_sso_acme").is_none(), "no session");
    }
    // No session was started: prompt=none still needs a sign-in.
    let (back, _) = grafana_prompt_none(&server, &browser).await;
    assert_eq!(param(&back, "error").as_deref(), Some("login_required"));
    // The csrf of another pending request does not fit this one.
    let second = open_login(&browser, &grafana_login_url(&server)).await;
    form.csrf = second.csrf.clone();
    let r = submit_login(&browser, &form, "alice", "alice-password-1").await;
    assert_eq!(r.status, 403, "{}", r.text);
    // The right one works.
    form.csrf = good;
    let r = submit_login(&browser, &form, "alice", "alice-password-1").await;
    assert_eq!(r.status, 303, "{}", r.text);
}

#[tokio::test]
async fn cross_origin_post_is_forbidden() {
    let server = TestServer::start().await;
    seed_acme(&server).await;
    let browser = Browser::new();
    let form = open_login(&browser, &grafana_login_url(&server)).await;
    let post = |origin: String| {
        browser
            .http
            .post(&form.action)
            .header("Origin", origin)
            .form(&[
                ("request", form.request.as_str()),
                ("csrf", form.csrf.as_str()),
                ("username", "alice"),
                ("password", "alice-password-1"),
            ])
            .send()
    };
    let r = TestServer::read(post("https://evil.example".into()).await.unwrap()).await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert!(set_cookie(&r, "clavex_sso_acme").is_none(), "no session");
    let r = TestServer::read(post("null".into()).await.unwrap()).await;
    assert_eq!(r.status, 403, "{}", r.text);
    // The server's own origin is fine.
    let r = TestServer::read(post(server.base_url.clone()).await.unwrap()).await;
    assert_eq!(r.status, 303, "{}", r.text);
}

#[tokio::test]
async fn repeated_failures_lock_the_account_for_a_bounded_while() {
    let server = TestServer::start().await;
    seed_acme(&server).await;
    let browser = Browser::new();
    let form = open_login(&browser, &grafana_login_url(&server)).await;
    let mut message = None;
    for _ in 0..LOGIN_FAILURES_BEFORE_LOCK {
        let text = generic_failure(&submit_login(&browser, &form, "alice", "guess-guess-1").await);
        message = Some(text);
    }
    // Refused now, even with the right password.
    let r = submit_login(&browser, &form, "alice", "alice-password-1").await;
    assert_eq!(r.status, 429, "{}", r.text);
    assert!(set_cookie(&r, "clavex_sso_acme").is_none(), "no session");
    let retry: i64 = r
        .header("retry-after")
        .expect("a Retry-After header")
        .parse()
        .unwrap();
    assert!(retry > 0 && retry <= MAX_LOCK_SECONDS, "bounded: {retry}");
    assert_ne!(form_error(&r.text), message, "says it is throttled");

    // Another user is not affected.
    let other = Browser::new();
    let other_form = open_login(&other, &grafana_login_url(&server)).await;
    let r = submit_login(&other, &other_form, "bob", "bob-password-1").await;
    assert_eq!(r.status, 303, "{}", r.text);

    // Once the lock is over the right password works again.
    server.clock.advance(16 * 60);
    let r = submit_login(&browser, &form, "alice", "alice-password-1").await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert!(set_cookie(&r, "clavex_sso_acme").is_some());
}

#[tokio::test]
async fn lock_holds_for_every_spelling_of_the_account() {
    let server = TestServer::start().await;
    seed_acme(&server).await;
    let browser = Browser::new();
    let form = open_login(&browser, &grafana_login_url(&server)).await;
    for _ in 0..LOGIN_FAILURES_BEFORE_LOCK {
        generic_failure(&submit_login(&browser, &form, "alice", "guess-guess-1").await);
    }
    for login in ["ALICE", " alice ", "alice@acme.test"] {
        let r = submit_login(&browser, &form, login, "alice-password-1").await;
        assert_eq!(r.status, 429, "{login:?}: {}", r.text);
    }
}

#[tokio::test]
async fn unknown_users_are_throttled_like_known_ones() {
    let server = TestServer::start().await;
    seed_acme(&server).await;
    let browser = Browser::new();
    let form = open_login(&browser, &grafana_login_url(&server)).await;
    let mut statuses = Vec::new();
    for _ in 0..=LOGIN_FAILURES_BEFORE_LOCK {
        statuses.push(
            submit_login(&browser, &form, "mallory", "guess-guess-1")
                .await
                .status,
        );
    }
    let mut expected = vec![401; LOGIN_FAILURES_BEFORE_LOCK as usize];
    expected.push(429);
    assert_eq!(statuses, expected, "no way to tell who exists");
}

#[tokio::test]
async fn session_cookie_attributes() {
    let server = TestServer::start().await;
    seed_acme(&server).await;
    let browser = Browser::new();
    let form = open_login(&browser, &grafana_login_url(&server)).await;
    let r = submit_login(&browser, &form, "alice", "alice-password-1").await;
    assert_eq!(r.status, 303, "{}", r.text);
    let cookie = set_cookie(&r, "clavex_sso_acme")
        .unwrap_or_else(|| panic!("no clavex_sso_acme cookie: {:?}", r.headers));
    let attrs: Vec<String> = cookie
        .split(';')
        .skip(1)
        .map(|a| a.trim().to_ascii_lowercase())
        .collect();
    for want in ["httponly", "samesite=lax", "path=/"] {
        assert!(attrs.iter().any(|a| a == want), "{want} in {cookie}");
    }
    assert!(
        !attrs.iter().any(|a| a == "secure"),
        "no Secure over http: {cookie}"
    );
    assert!(
        !attrs.iter().any(|a| a.starts_with("domain=")),
        "host-only: {cookie}"
    );
    let value = cookie_value(cookie);
    assert!(value.len() >= 32, "an unguessable value: {cookie}");
    // The CSRF cookie is HttpOnly too.
    let csrf = set_cookie(&form.page, "clavex_csrf").expect("a CSRF cookie");
    assert!(csrf.to_ascii_lowercase().contains("httponly"), "{csrf}");

    // A second sign-in in the same browser gets a fresh value, never the old one.
    let (_, challenge) = pkce();
    let again = open_login(
        &browser,
        &grafana_authorize(&server, &challenge, "openid", &[("prompt", "login")]),
    )
    .await;
    let r = submit_login(&browser, &again, "alice", "alice-password-1").await;
    assert_eq!(r.status, 303, "{}", r.text);
    let second = cookie_value(set_cookie(&r, "clavex_sso_acme").unwrap());
    assert_ne!(second, value);
}

#[tokio::test]
async fn disabled_user_cannot_sign_in() {
    let server = TestServer::start().await;
    seed_acme(&server).await;
    let carol = user_id(&server, "acme", "carol").await;
    let browser = Browser::new();
    let form = open_login(&browser, &grafana_login_url(&server)).await;
    let generic = generic_failure(&submit_login(&browser, &form, "carol", "wrong-pass-1").await);
    patch_user(&server, "acme", &carol, json!({ "disabled": true })).await;
    let disabled =
        generic_failure(&submit_login(&browser, &form, "carol", "carol-password-1").await);
    assert_eq!(generic, disabled, "the same generic message");
    patch_user(&server, "acme", &carol, json!({ "disabled": false })).await;
    let r = submit_login(&browser, &form, "carol", "carol-password-1").await;
    assert_eq!(r.status, 303, "{}", r.text);
}

#[tokio::test]
async fn disabling_a_user_ends_its_sso_session() {
    let server = TestServer::start().await;
    seed_acme(&server).await;
    let browser = Browser::new();
    grafana_code(&server, &browser, "carol", "openid").await;
    let (back, _) = grafana_prompt_none(&server, &browser).await;
    assert!(param(&back, "code").is_some(), "{back}");
    let carol = user_id(&server, "acme", "carol").await;
    patch_user(&server, "acme", &carol, json!({ "disabled": true })).await;
    let (back, _) = grafana_prompt_none(&server, &browser).await;
    assert_eq!(param(&back, "error").as_deref(), Some("login_required"));
}

#[tokio::test]
async fn a_sign_in_form_is_used_once() {
    let server = TestServer::start().await;
    seed_acme(&server).await;
    let browser = Browser::new();
    let form = open_login(&browser, &grafana_login_url(&server)).await;
    let r = submit_login(&browser, &form, "alice", "alice-password-1").await;
    assert_eq!(r.status, 303, "{}", r.text);
    let r = submit_login(&browser, &form, "alice", "alice-password-1").await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.header("location").is_none());
    assert!(set_cookie(&r, "clavex_sso_acme").is_none());
}

#[tokio::test]
async fn a_sign_in_form_expires() {
    let server = TestServer::start().await;
    seed_acme(&server).await;
    let browser = Browser::new();
    let form = open_login(&browser, &grafana_login_url(&server)).await;
    server
        .clock
        .advance(clavex_core::oidc::AUTH_REQUEST_TTL_SECONDS + 1);
    let r = submit_login(&browser, &form, "alice", "alice-password-1").await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.header("location").is_none());
    assert!(set_cookie(&r, "clavex_sso_acme").is_none());
}

#[tokio::test]
async fn what_the_user_typed_is_escaped() {
    let server = TestServer::start().await;
    seed_acme(&server).await;
    let browser = Browser::new();
    let evil = "\"><script>alert(1)</script>";
    let (_, challenge) = pkce();
    let form = open_login(
        &browser,
        &grafana_authorize(&server, &challenge, "openid", &[("login_hint", evil)]),
    )
    .await;
    assert!(!form.page.text.contains("<script>"), "{}", form.page.text);
    let r = submit_login(&browser, &form, evil, "whatever-1").await;
    assert_eq!(r.status, 401, "{}", r.text);
    assert!(!r.text.contains("<script>"), "{}", r.text);
    assert!(
        r.text.contains("&lt;script&gt;") || r.text.contains("&#60;script&#62;"),
        "{}",
        r.text
    );
}

/// Many wrong passwords sent at once with one valid form must not slip past the lockout: each
/// attempt checks the lock and counts its failure while holding an Argon2id slot.
#[tokio::test]
async fn parallel_guesses_do_not_bypass_the_lockout() {
    let server = clavex_testkit::TestServer::start().await;
    super::support::seed_acme(&server).await;
    let browser = super::support::Browser::new();
    let (_, challenge) = super::support::pkce();
    let mut auth = url::Url::parse(&server.url("/acme/authorize")).unwrap();
    auth.query_pairs_mut()
        .append_pair("client_id", "grafana")
        .append_pair("redirect_uri", super::support::GRAFANA_REDIRECT)
        .append_pair("response_type", "code")
        .append_pair("scope", "openid")
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256");
    let r = browser.get(auth.as_str()).await;
    let login = super::support::location(&r);
    let page = browser.get(&login).await;
    let request = super::support::hidden_input(&page.text, "request");
    let csrf = super::support::hidden_input(&page.text, "csrf");
    let action = login.split('?').next().unwrap().to_string();
    let mut tasks = Vec::new();
    for i in 0..16 {
        let http = browser.http.clone();
        let (action, request, csrf) = (action.clone(), request.clone(), csrf.clone());
        tasks.push(tokio::spawn(async move {
            http.post(&action)
                .form(&[
                    ("request", request.as_str()),
                    ("csrf", csrf.as_str()),
                    ("username", "alice"),
                    ("password", &format!("wrong-guess-{i}")),
                ])
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    let mut verified = 0;
    for t in tasks {
        match t.await.unwrap() {
            401 => verified += 1,
            429 => {}
            other => panic!("unexpected status {other}"),
        }
    }
    let slots = std::thread::available_parallelism().map_or(2, |n| n.get());
    let limit = clavex_core::oidc::signin::LOGIN_FAILURES_BEFORE_LOCK as usize;
    assert!(
        verified <= limit + slots,
        "{verified} of 16 parallel guesses were checked; the lock allows {limit} (+{slots} in flight)"
    );
    assert!(verified >= 1);
}
