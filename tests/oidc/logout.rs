//! RP-initiated logout: back only to a registered `post_logout_redirect_uri` (with `state`), an
//! expired hint is fine but a foreign one is not, and the SSO session ends on the server.

use clavex_testkit::{TestResponse, TestServer};
use serde_json::json;

use super::{rp::*, support::*};

const DONE: &str = "https://grafana.acme.eu/logged-out";

async fn register_logout_uri(server: &TestServer) {
    patch_client(
        server,
        "acme",
        "grafana",
        json!({ "post_logout_redirect_uris": [DONE] }),
    )
    .await;
}

fn logout_url(server: &TestServer, org: &str, params: &[(&str, &str)]) -> String {
    let mut url = url::Url::parse(&server.url(&format!("/{org}/logout"))).unwrap();
    {
        let mut q = url.query_pairs_mut();
        for (k, v) in params {
            q.append_pair(k, v);
        }
    }
    url.to_string()
}

/// A browser signed in to Grafana, and the ID token it got.
async fn signed_in(server: &TestServer, secret: &str) -> (Browser, String) {
    let browser = Browser::new();
    let (code, verifier) = grafana_code(server, &browser, "alice", "openid profile").await;
    let tokens =
        Tokens::from_response(&redeem_grafana(server, secret, &code, Some(&verifier)).await);
    (browser, tokens.id_token.unwrap())
}

fn assert_signed_in_still(back: &str) {
    assert!(
        param(back, "code").is_some(),
        "the session is still there: {back}"
    );
}

fn assert_signed_out(back: &str) {
    assert_eq!(
        param(back, "error").as_deref(),
        Some("login_required"),
        "the session ended: {back}"
    );
}

fn clears_session_cookie(r: &TestResponse) -> bool {
    set_cookie(r, "clavex_sso_acme").is_some_and(|c| {
        let lower = c.to_ascii_lowercase();
        cookie_value(c).is_empty() || lower.contains("max-age=0") || lower.contains("expires=")
    })
}

/// Logout without a hint: the confirmation page first, then its form posted.
async fn confirm_logout(server: &TestServer, browser: &Browser) -> TestResponse {
    let page = browser.get(&logout_url(server, "acme", &[])).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.text.contains("Sign out?"), "{}", page.text);
    let confirm = hidden_input(&page.text, "confirm");
    let r = browser
        .post_form(&server.url("/acme/logout"), &[("confirm", &confirm)])
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r
}

#[tokio::test]
async fn logout_without_a_hint_asks_first() {
    let server = TestServer::start().await;
    let secret = seed_acme(&server).await;
    let (browser, _) = signed_in(&server, &secret).await;
    // Another site can send the browser here; that alone must not end the session.
    let page = browser.get(&logout_url(&server, "acme", &[])).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.text.contains("Sign out?"), "{}", page.text);
    assert!(!clears_session_cookie(&page));
    assert_signed_in_still(&grafana_prompt_none(&server, &browser).await.0);
    // A forged confirmation is refused and changes nothing.
    let r = browser
        .post_form(&server.url("/acme/logout"), &[("confirm", "forged")])
        .await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert_signed_in_still(&grafana_prompt_none(&server, &browser).await.0);
    // The real confirmation ends it.
    let r = confirm_logout(&server, &browser).await;
    assert!(clears_session_cookie(&r));
    assert_signed_out(&grafana_prompt_none(&server, &browser).await.0);
}

#[tokio::test]
async fn logout_redirects_to_the_registered_uri_with_state() {
    let server = TestServer::start().await;
    let secret = seed_acme(&server).await;
    register_logout_uri(&server).await;
    let (browser, id_token) = signed_in(&server, &secret).await;
    assert_signed_in_still(&grafana_prompt_none(&server, &browser).await.0);

    let r = browser
        .get(&logout_url(
            &server,
            "acme",
            &[
                ("id_token_hint", &id_token),
                ("post_logout_redirect_uri", DONE),
                ("state", "bye=1"),
            ],
        ))
        .await;
    assert!(matches!(r.status, 302 | 303), "{} {}", r.status, r.text);
    let back = location(&r);
    assert!(back.starts_with(DONE), "{back}");
    assert_eq!(param(&back, "state").as_deref(), Some("bye=1"));
    assert!(clears_session_cookie(&r), "{:?}", r.headers);
    assert_signed_out(&grafana_prompt_none(&server, &browser).await.0);
}

#[tokio::test]
async fn logout_ends_the_session_on_the_server() {
    let server = TestServer::start().await;
    let secret = seed_acme(&server).await;
    let (browser, _) = signed_in(&server, &secret).await;
    // A second browser signs in; a thief copies its session cookie's value.
    let (victim, stolen) = {
        let (_, challenge) = pkce();
        let b = Browser::new();
        let form = open_login(&b, &grafana_authorize(&server, &challenge, "openid", &[])).await;
        let r = submit_login(&b, &form, "alice", "alice-password-1").await;
        (b, cookie_value(set_cookie(&r, "clavex_sso_acme").unwrap()))
    };
    let r = confirm_logout(&server, &victim).await;
    assert!(r.text.contains("Signed out"), "{}", r.text);

    // The cookie value, sent again by hand, no longer signs anyone in.
    let (_, challenge) = pkce();
    let r = TestServer::read(
        server
            .http
            .get(grafana_authorize(
                &server,
                &challenge,
                "openid",
                &[("prompt", "none")],
            ))
            .header("Cookie", format!("clavex_sso_acme={stolen}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_signed_out(&location(&r));
    // The other browser's session is its own and still alive.
    assert_signed_in_still(&grafana_prompt_none(&server, &browser).await.0);
}

#[tokio::test]
async fn unregistered_post_logout_redirect_uri_is_an_error_page() {
    let server = TestServer::start().await;
    let secret = seed_acme(&server).await;
    register_logout_uri(&server).await;
    let (browser, id_token) = signed_in(&server, &secret).await;
    let trailing = format!("{DONE}/");
    for uri in [
        "https://evil.example/bye",
        trailing.as_str(),
        GRAFANA_REDIRECT,
    ] {
        let r = browser
            .get(&logout_url(
                &server,
                "acme",
                &[
                    ("id_token_hint", &id_token),
                    ("post_logout_redirect_uri", uri),
                    ("state", "s"),
                ],
            ))
            .await;
        assert_error_page(&r);
    }
    // Without a hint or client_id the redirect cannot be checked: refused as well.
    let r = browser
        .get(&logout_url(
            &server,
            "acme",
            &[("post_logout_redirect_uri", DONE)],
        ))
        .await;
    assert_error_page(&r);
    // The session was left alone.
    assert_signed_in_still(&grafana_prompt_none(&server, &browser).await.0);
}

#[tokio::test]
async fn expired_hint_still_redirects() {
    let server = TestServer::start().await;
    let secret = seed_acme(&server).await;
    register_logout_uri(&server).await;
    let (browser, id_token) = signed_in(&server, &secret).await;
    server.clock.advance(3600);
    let r = browser
        .get(&logout_url(
            &server,
            "acme",
            &[
                ("id_token_hint", &id_token),
                ("post_logout_redirect_uri", DONE),
            ],
        ))
        .await;
    assert!(matches!(r.status, 302 | 303), "{} {}", r.status, r.text);
    assert!(location(&r).starts_with(DONE));
}

#[tokio::test]
async fn hint_signed_by_another_org_is_an_error_page() {
    let server = TestServer::start().await;
    let secret = seed_acme(&server).await;
    register_logout_uri(&server).await;
    let beta_secret = setup_org(&server, "beta", None).await;
    let foreign = app_tokens(&server, &Browser::new(), "beta", &beta_secret, None)
        .await
        .id_token
        .unwrap();
    let (browser, _) = signed_in(&server, &secret).await;
    for params in [
        vec![("id_token_hint", foreign.as_str())],
        vec![
            ("id_token_hint", foreign.as_str()),
            ("post_logout_redirect_uri", DONE),
        ],
        vec![("id_token_hint", "not-a-jwt")],
    ] {
        let r = browser.get(&logout_url(&server, "acme", &params)).await;
        assert_error_page(&r);
    }
    assert_signed_in_still(&grafana_prompt_none(&server, &browser).await.0);
}

#[tokio::test]
async fn logout_by_post_works_too() {
    let server = TestServer::start().await;
    let secret = seed_acme(&server).await;
    register_logout_uri(&server).await;
    let (browser, id_token) = signed_in(&server, &secret).await;
    let r = browser
        .post_form(
            &server.url("/acme/logout"),
            &[
                ("id_token_hint", &id_token),
                ("post_logout_redirect_uri", DONE),
                ("state", "p"),
            ],
        )
        .await;
    assert!(matches!(r.status, 302 | 303), "{} {}", r.status, r.text);
    assert_eq!(param(&location(&r), "state").as_deref(), Some("p"));
    assert_signed_out(&grafana_prompt_none(&server, &browser).await.0);
}

#[tokio::test]
async fn client_id_must_match_the_hint() {
    let server = TestServer::start().await;
    let secret = seed_acme(&server).await;
    register_logout_uri(&server).await;
    add_wiki(&server).await;
    let (browser, id_token) = signed_in(&server, &secret).await;
    let r = browser
        .get(&logout_url(
            &server,
            "acme",
            &[
                ("id_token_hint", &id_token),
                ("client_id", WIKI),
                ("post_logout_redirect_uri", DONE),
            ],
        ))
        .await;
    assert_error_page(&r);
    // With the hint's own client_id it goes through.
    let r = browser
        .get(&logout_url(
            &server,
            "acme",
            &[
                ("id_token_hint", &id_token),
                ("client_id", "grafana"),
                ("post_logout_redirect_uri", DONE),
            ],
        ))
        .await;
    assert!(matches!(r.status, 302 | 303), "{} {}", r.status, r.text);
}

/// Sign-in and sign-out are in the audit trail, attributed to the user, never to an admin.
#[tokio::test]
async fn sign_in_and_logout_are_audited_as_the_user() {
    let server = TestServer::start().await;
    let secret = seed_acme(&server).await;
    let (browser, _) = signed_in(&server, &secret).await;
    confirm_logout(&server, &browser).await;
    let events = server
        .admin("GET", "/api/v1/organizations/acme/events", None)
        .await
        .json();
    let find = |kind: &str| {
        events["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["type"] == kind)
            .unwrap_or_else(|| panic!("no {kind} event in {events}"))
            .clone()
    };
    let signin = find("signin.succeeded");
    let logout = find("logout");
    let user = signin["target"].as_str().unwrap();
    assert_eq!(signin["actor"], format!("user:{user}"));
    assert_eq!(signin["outcome"], "success");
    assert_eq!(logout["actor"], format!("user:{user}"));
    assert_eq!(logout["target"], user);
}
