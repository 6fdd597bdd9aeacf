//! Signing in to the console and what each kind of account sees; the redirect chain step by step,
//! refused callbacks, sessions of disabled accounts, signing out (the console session and the
//! console org's SSO session), the page headers, and `next` never leaving the console.

use clavex_testkit::{TestResponse, TestServer};
use serde_json::json;

use super::support::{ConsoleUser, PASSWORD, create_account};
use crate::oidc::support::{Browser, location, param, sign_in};

#[tokio::test]
async fn a_superadmin_signs_in_through_the_console_issuer_and_sees_every_org() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    server.create_org("globex").await;
    create_account(&server, "root", &[]).await;
    let root = ConsoleUser::sign_in(&server, "root").await;
    let page = root.get("/admin").await;
    assert_eq!(page.status, 200);
    assert!(page.text.contains("/admin/orgs/acme"), "{}", page.text);
    assert!(page.text.contains("/admin/orgs/globex"), "{}", page.text);
    assert!(
        !page.text.contains("/admin/orgs/admin\""),
        "the console org is not listed"
    );
    server.stop().await;
}

#[tokio::test]
async fn an_org_admin_sees_only_its_org_and_gets_403_for_another() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    server.create_org("globex").await;
    create_account(&server, "ann", &["acme"]).await;
    let ann = ConsoleUser::sign_in(&server, "ann").await;
    let page = ann.get("/admin").await;
    assert_eq!(page.status, 200);
    assert!(page.text.contains("/admin/orgs/acme"));
    assert!(!page.text.contains("globex"), "{}", page.text);
    assert_eq!(ann.get("/admin/orgs/acme").await.status, 200);
    assert_eq!(ann.get("/admin/orgs/globex").await.status, 403);
    assert_eq!(ann.get("/admin/orgs/no-such-org").await.status, 403);
    assert_eq!(ann.get("/admin/orgs/admin").await.status, 403);
    server.stop().await;
}

/// The `Set-Cookie` headers of a response.
fn set_cookies(r: &TestResponse) -> Vec<String> {
    r.headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect()
}

/// The value `name` is set to by a response, if it sets it.
fn cookie_set(r: &TestResponse, name: &str) -> Option<String> {
    set_cookies(r).into_iter().find_map(|c| {
        let rest = c.strip_prefix(&format!("{name}="))?;
        Some(rest.split(';').next().unwrap().to_string())
    })
}

/// Starts signing in at `signin` (a path) in `browser` and passes the console org's login form as
/// `username`: returns the callback URL the login answered with (not yet visited).
async fn to_callback(
    server: &TestServer,
    browser: &Browser,
    signin: &str,
    username: &str,
) -> String {
    let r = browser.get(&server.url(signin)).await;
    assert_eq!(r.status, 303, "{}", r.text);
    let authorize = location(&r);
    assert!(authorize.starts_with("/admin/authorize?"), "{authorize}");
    let callback = sign_in(browser, &server.url(&authorize), username, PASSWORD).await;
    assert!(
        callback.starts_with(&server.url("/admin/callback?")),
        "{callback}"
    );
    callback
}

/// Where `/admin/signin` then the console org's authorize endpoint send `browser`: the login page
/// (no SSO session) or straight back to the callback (signed in at `P/admin` already).
async fn authorize_step(server: &TestServer, browser: &Browser) -> String {
    let r = browser.get(&server.url("/admin/signin")).await;
    assert_eq!(r.status, 303, "{}", r.text);
    let r = browser.get(&server.url(&location(&r))).await;
    assert_eq!(r.status, 302, "{}", r.text);
    location(&r)
}

#[tokio::test]
async fn the_redirect_chain_signs_in_through_p_admin_with_pkce_and_returns_to_the_page_asked_for() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    create_account(&server, "root", &[]).await;
    let browser = Browser::new();

    // A page without a session: to the console's sign-in, remembering the page.
    let r = browser.get(&server.url("/admin/orgs/acme?x=1")).await;
    assert_eq!(r.status, 303, "{}", r.text);
    let signin = location(&r);
    assert_eq!(signin, "/admin/signin?next=%2Fadmin%2Forgs%2Facme%3Fx%3D1");

    // The sign-in start: an authorization request to P/admin, with PKCE, state and nonce kept in
    // a short-lived HttpOnly cookie.
    let r = browser.get(&server.url(&signin)).await;
    assert_eq!(r.status, 303, "{}", r.text);
    let authorize = server.url(&location(&r));
    assert!(
        authorize.starts_with(&server.url("/admin/authorize?")),
        "{authorize}"
    );
    assert_eq!(param(&authorize, "response_type").as_deref(), Some("code"));
    assert_eq!(
        param(&authorize, "client_id").as_deref(),
        Some("clavex-console")
    );
    assert_eq!(
        param(&authorize, "redirect_uri"),
        Some(server.url("/admin/callback"))
    );
    assert_eq!(
        param(&authorize, "code_challenge_method").as_deref(),
        Some("S256")
    );
    assert!(param(&authorize, "code_challenge").is_some_and(|c| c.len() == 43));
    let state = param(&authorize, "state").unwrap();
    assert!(param(&authorize, "nonce").is_some_and(|n| n.len() >= 32));
    let pending = set_cookies(&r)
        .into_iter()
        .find(|c| c.starts_with("clavex_console_pending="))
        .expect("the pending cookie");
    assert!(
        pending.contains("HttpOnly") && pending.contains("SameSite=Lax"),
        "{pending}"
    );
    assert!(
        !pending.contains(&state),
        "the state is sealed, not readable"
    );

    // P/admin's authorize endpoint: to its login page.
    let r = browser.get(&authorize).await;
    assert_eq!(r.status, 302, "{}", r.text);
    let login = location(&r);
    assert!(
        login.starts_with(&server.url("/admin/login?request=")),
        "{login}"
    );

    // The login form: back to the console's callback with a code and the same state.
    let callback = sign_in(&browser, &authorize, "root", PASSWORD).await;
    assert!(
        callback.starts_with(&server.url("/admin/callback?")),
        "{callback}"
    );
    assert_eq!(param(&callback, "state"), Some(state));
    assert!(param(&callback, "code").is_some());

    // The callback: a console session, the pending cookie cleared, and back to the page.
    let r = browser.get(&callback).await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(location(&r), "/admin/orgs/acme?x=1");
    let session = set_cookies(&r)
        .into_iter()
        .find(|c| c.starts_with("clavex_console="))
        .expect("the session cookie");
    assert!(
        session.contains("HttpOnly") && session.contains("SameSite=Lax"),
        "{session}"
    );
    assert!(cookie_set(&r, "clavex_console_pending").is_some_and(|v| v.is_empty()));
    let page = browser.get(&server.url("/admin/orgs/acme?x=1")).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.text.contains("root"));

    // The code was used once: the same callback again does nothing.
    let again = browser.get(&callback).await;
    assert_eq!(again.status, 400, "{}", again.text);
    server.stop().await;
}

#[tokio::test]
async fn a_callback_with_a_wrong_state_or_without_the_pending_cookie_starts_no_session() {
    let server = TestServer::start().await;
    create_account(&server, "root", &[]).await;
    let browser = Browser::new();
    let callback = to_callback(&server, &browser, "/admin/signin", "root").await;
    let state = param(&callback, "state").unwrap();

    let refused = |r: &TestResponse| {
        assert_eq!(r.status, 400, "{}", r.text);
        assert!(r.text.contains("Sign-in did not complete"), "{}", r.text);
        assert!(
            cookie_set(r, "clavex_console").is_none(),
            "no session: {:?}",
            set_cookies(r)
        );
    };

    // Another browser (no pending cookie) with a valid code and state.
    let other = Browser::new();
    let r = other.get(&callback).await;
    refused(&r);
    let r = other.get(&server.url("/admin")).await;
    assert_eq!(r.status, 303, "still signed out");

    // The right browser with a wrong state or none. (An error answer with the right state ends
    // the pending sign-in: it is checked in `an_error_answer_ends_the_pending_sign_in`.)
    let wrong = callback.replace(&format!("state={state}"), "state=not-the-state");
    assert_ne!(wrong, callback);
    refused(&browser.get(&wrong).await);
    let without = callback
        .replace(&format!("&state={state}"), "")
        .replace(&format!("state={state}&"), "");
    assert!(!without.contains("state="), "{without}");
    refused(&browser.get(&without).await);
    let r = browser.get(&server.url("/admin")).await;
    assert_eq!(r.status, 303, "no session was started");
    assert!(location(&r).starts_with("/admin/signin"));

    // Nothing was spent: the genuine callback in the right browser still works.
    let r = browser.get(&callback).await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(location(&r), "/admin");
    assert_eq!(browser.get(&server.url("/admin")).await.status, 200);
    server.stop().await;
}

#[tokio::test]
async fn a_disabled_accounts_console_session_stops_working() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    let id = create_account(&server, "ann", &["acme"]).await;
    let ann = ConsoleUser::sign_in(&server, "ann").await;
    let csrf = ann.csrf().await;
    assert_eq!(ann.get("/admin/orgs/acme").await.status, 200);

    let r = server
        .admin(
            "PATCH",
            &format!("/api/v1/admins/{id}"),
            Some(json!({"disabled": true})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    for path in ["/admin", "/admin/orgs/acme"] {
        let r = ann.get(path).await;
        assert_eq!(r.status, 303, "{path}: {}", r.text);
        assert!(
            location(&r).starts_with("/admin/signin?next="),
            "{}",
            location(&r)
        );
    }
    let r = ann
        .post_raw(
            "/admin/orgs/acme/rename",
            &[("csrf", &csrf), ("name", "Hijacked")],
        )
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(location(&r), "/admin/signin?next=%2Fadmin");
    assert_eq!(
        server
            .admin("GET", "/api/v1/organizations/acme", None)
            .await
            .json()["name"],
        "ACME"
    );
    server.stop().await;
}

#[tokio::test]
async fn signing_out_ends_the_console_session_and_the_admin_sso_session() {
    let server = TestServer::start().await;
    create_account(&server, "root", &[]).await;
    let browser = Browser::new();
    let callback = to_callback(&server, &browser, "/admin/signin", "root").await;
    let r = browser.get(&callback).await;
    assert_eq!(r.status, 303, "{}", r.text);
    let session = cookie_set(&r, "clavex_console").expect("a console session");

    // Signed in at P/admin: signing in again goes straight back, without the password.
    let step = authorize_step(&server, &browser).await;
    assert!(step.starts_with(&server.url("/admin/callback?")), "{step}");
    // (A fresh browser carrying only the SSO cookie would do the same; see below.)
    let page = browser.get(&server.url("/admin")).await;
    assert_eq!(page.status, 200);
    let csrf = crate::oidc::support::hidden_input(&page.text, "csrf");

    let r = browser
        .post_form(&server.url("/admin/signout"), &[("csrf", &csrf)])
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.text.contains("Signed out"));
    assert_eq!(cookie_set(&r, "clavex_console").as_deref(), Some(""));
    assert_eq!(cookie_set(&r, "clavex_sso_admin").as_deref(), Some(""));

    let r = browser.get(&server.url("/admin")).await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert!(location(&r).starts_with("/admin/signin"));
    // The next sign-in asks for the password again.
    let step = authorize_step(&server, &browser).await;
    assert!(
        step.starts_with(&server.url("/admin/login?request=")),
        "{step}"
    );

    // The old session cookie, replayed by hand, is dead on the server too.
    let r = server
        .http
        .get(server.url("/admin"))
        .header("cookie", format!("clavex_console={session}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    server.stop().await;
}

#[tokio::test]
async fn the_sso_session_is_ended_on_the_server_not_only_in_the_browser() {
    let server = TestServer::start().await;
    create_account(&server, "root", &[]).await;
    let browser = Browser::new();
    // Sign in by hand to see the SSO cookie the login form sets.
    let r = browser.get(&server.url("/admin/signin")).await;
    let authorize = server.url(&location(&r));
    let r = browser.get(&authorize).await;
    let login_url = location(&r);
    let page = browser.get(&login_url).await;
    let action = login_url.split('?').next().unwrap().to_string();
    let r = browser
        .post_form(
            &action,
            &[
                (
                    "request",
                    &crate::oidc::support::hidden_input(&page.text, "request"),
                ),
                (
                    "csrf",
                    &crate::oidc::support::hidden_input(&page.text, "csrf"),
                ),
                ("username", "root"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let sso = cookie_set(&r, "clavex_sso_admin").expect("an SSO cookie for P/admin");
    let r = browser.get(&location(&r)).await;
    assert_eq!(r.status, 303, "{}", r.text);

    // Before signing out, the SSO cookie alone skips the password.
    let replay = || async {
        let fresh = Browser::new();
        let r = fresh.get(&server.url("/admin/signin")).await;
        let authorize = server.url(&location(&r));
        let r = fresh
            .http
            .get(&authorize)
            .header("cookie", format!("clavex_sso_admin={sso}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 302);
        r.headers()["location"].to_str().unwrap().to_string()
    };
    assert!(replay().await.starts_with(&server.url("/admin/callback?")));

    let page = browser.get(&server.url("/admin")).await;
    let csrf = crate::oidc::support::hidden_input(&page.text, "csrf");
    let r = browser
        .post_form(&server.url("/admin/signout"), &[("csrf", &csrf)])
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(
        replay()
            .await
            .starts_with(&server.url("/admin/login?request=")),
        "the SSO session is gone"
    );
    server.stop().await;
}

#[tokio::test]
async fn signing_out_without_the_csrf_token_is_refused() {
    let server = TestServer::start().await;
    create_account(&server, "root", &[]).await;
    let root = ConsoleUser::sign_in(&server, "root").await;
    for form in [vec![], vec![("csrf", "forged")]] {
        let r = root.post_raw("/admin/signout", &form).await;
        assert_eq!(r.status, 403, "{}", r.text);
        assert!(cookie_set(&r, "clavex_console").is_none());
    }
    assert_eq!(root.get("/admin").await.status, 200, "still signed in");
    let r = root.post("/admin/signout", &[]).await;
    assert_eq!(r.status, 200);
    assert_eq!(root.get("/admin").await.status, 303);
    server.stop().await;
}

#[tokio::test]
async fn console_pages_carry_a_strict_csp_and_no_inline_script_or_style() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    create_account(&server, "root", &[]).await;
    let ann_id = create_account(&server, "ann", &["acme"]).await;
    let root = ConsoleUser::sign_in(&server, "root").await;
    let ann = ConsoleUser::sign_in(&server, "ann").await;
    let mut pages = Vec::new();
    for path in [
        "/admin".to_string(),
        "/admin/orgs/_new".to_string(),
        "/admin/orgs/acme".to_string(),
        "/admin/orgs/acme/admins".to_string(),
        "/admin/accounts".to_string(),
        "/admin/accounts/new".to_string(),
        format!("/admin/accounts/{ann_id}"),
        "/admin/orgs/nope".to_string(),
    ] {
        pages.push((path.clone(), root.get(&path).await));
    }
    pages.push((
        "accounts as ann (403)".into(),
        ann.get("/admin/accounts").await,
    ));
    pages.push((
        "created account (201)".into(),
        root.post("/admin/accounts", &[("username", "bob")]).await,
    ));
    pages.push((
        "signout without csrf (403)".into(),
        root.post_raw("/admin/signout", &[]).await,
    ));
    pages.push((
        "callback without pending (400)".into(),
        Browser::new()
            .get(&server.url("/admin/callback?code=x&state=y"))
            .await,
    ));
    for (what, r) in &pages {
        let csp = r
            .header("content-security-policy")
            .unwrap_or_else(|| panic!("{what}: no CSP ({})", r.status));
        assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
        assert!(csp.contains("default-src 'none'"), "{what}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{what}: {csp}");
        assert!(!csp.contains("unsafe-eval"), "{what}: {csp}");
        assert_eq!(r.header("x-frame-options"), Some("DENY"), "{what}");
        assert_eq!(r.header("cache-control"), Some("no-store"), "{what}");
        assert!(!r.text.contains(" style="), "{what}: inline style");
        assert!(!r.text.contains("<style"), "{what}: inline style");
        assert!(!r.text.contains(" onclick="), "{what}: inline handler");
        assert!(
            !r.text.contains("<script>") && !r.text.contains("javascript:"),
            "{what}: inline script"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn next_never_leaves_the_console() {
    let server = TestServer::start().await;
    create_account(&server, "root", &[]).await;
    for next in [
        "//evil.example",
        "//evil.example/admin",
        "https://evil.example/admin",
        "/\\evil.example",
        "/admin//evil.example",
        "/admin/..//evil.example",
        "/admin\\..\\evil.example",
        "/adminevil",
        "javascript:alert(1)",
        "",
    ] {
        let browser = Browser::new();
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("next", next)
            .finish();
        let callback =
            to_callback(&server, &browser, &format!("/admin/signin?{query}"), "root").await;
        let r = browser.get(&callback).await;
        assert_eq!(r.status, 303, "{next}: {}", r.text);
        assert_eq!(location(&r), "/admin", "next={next}");
    }
    // A console path is kept.
    let browser = Browser::new();
    let callback = to_callback(
        &server,
        &browser,
        "/admin/signin?next=%2Fadmin%2Faccounts",
        "root",
    )
    .await;
    let r = browser.get(&callback).await;
    assert_eq!(location(&r), "/admin/accounts");
    server.stop().await;
}

#[tokio::test]
async fn an_error_answer_ends_the_pending_sign_in() {
    let server = TestServer::start().await;
    create_account(&server, "root", &[]).await;
    let browser = Browser::new();
    let callback = to_callback(&server, &browser, "/admin/signin", "root").await;
    let state = param(&callback, "state").unwrap();
    let r = browser
        .get(&server.url(&format!(
            "/admin/callback?error=access_denied&state={state}"
        )))
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(
        set_cookies(&r)
            .iter()
            .any(|c| c.starts_with("clavex_console_pending=;") && c.contains("Max-Age=0")),
        "{:?}",
        set_cookies(&r)
    );
    // The pending sign-in is gone: even the genuine answer no longer completes it.
    let r = browser.get(&callback).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(browser.get(&server.url("/admin")).await.status, 303);
    server.stop().await;
}
