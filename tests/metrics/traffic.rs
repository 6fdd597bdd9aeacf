//! Metrics after a scripted session on an in-process server: sign-ins (one succeeding, failing,
//! throttled), a code exchange, a refresh, a `client_credentials` grant and two replays, then
//! every family with its exact labels and counts.

use clavex_config::MetricsOrgs;
use clavex_core::oidc::signin::LOGIN_FAILURES_BEFORE_LOCK;
use clavex_testkit::{TestDatabase, TestServer};

use super::Scrape;
use crate::oidc::{rp::*, support::*};

async fn scrape(server: &TestServer) -> Scrape {
    let r = server.call("GET", "/metrics", None, None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    Scrape::parse(&r.text)
}

fn grafana_login_url(server: &TestServer) -> String {
    let (_, challenge) = pkce();
    grafana_authorize(server, &challenge, "openid profile", &[])
}

async fn client_credentials(server: &TestServer, secret: &str) {
    let r = token(
        server,
        "acme",
        Auth::Basic(MACHINE, secret),
        &[("grant_type", "client_credentials"), ("scope", "api.read")],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

#[tokio::test]
async fn a_scripted_session_shows_every_family_with_its_labels() {
    let server = TestServer::start_with(TestDatabase::new().await, |s| {
        s.metrics.orgs = MetricsOrgs::Listed(vec!["acme".into()]);
    })
    .await;
    let grafana_secret = seed_acme(&server).await;
    let machine_secret = add_machine(&server).await;
    // An org that is not listed: counted as "other".
    let globex_secret = setup_org(&server, "globex", None).await;

    // Sign-in, code exchange, refresh, client_credentials; then a replay of each kind.
    let browser = Browser::new();
    let (code, verifier) = grafana_code(&server, &browser, "alice", "openid profile").await;
    let tokens = Tokens::from_response(
        &redeem_grafana(&server, &grafana_secret, &code, Some(&verifier)).await,
    );
    let refresh = |refresh_token: String| {
        let secret = grafana_secret.clone();
        let server = &server;
        async move {
            token(
                server,
                "acme",
                Auth::Basic("grafana", &secret),
                &[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", &refresh_token),
                ],
            )
            .await
        }
    };
    let r = refresh(tokens.refresh().to_string()).await;
    assert_eq!(r.status, 200, "{}", r.text);
    client_credentials(&server, &machine_secret).await;
    // The first refresh token again, well after its use: reuse, not a race.
    server.clock.advance(60);
    let r = refresh(tokens.refresh().to_string()).await;
    assert_eq!(r.status, 400, "{}", r.text);
    let replayed = redeem_grafana(&server, &grafana_secret, &code, Some(&verifier)).await;
    assert_eq!(replayed.status, 400, "{}", replayed.text);
    app_tokens(&server, &Browser::new(), "globex", &globex_secret, None).await;

    // Wrong passwords until bob's account locks, then one more attempt: throttled.
    let failing = Browser::new();
    let form = open_login(&failing, &grafana_login_url(&server)).await;
    for _ in 0..LOGIN_FAILURES_BEFORE_LOCK {
        let r = submit_login(&failing, &form, "bob", "guess-guess-1").await;
        assert_eq!(r.status, 401, "{}", r.text);
    }
    let r = submit_login(&failing, &form, "bob", "bob-password-1").await;
    assert_eq!(r.status, 429, "{}", r.text);

    let m = scrape(&server).await;
    let failures = LOGIN_FAILURES_BEFORE_LOCK as f64;

    // Requests by route template, method and status, never by raw path.
    for (series, n) in [
        (r#"{route="/{org}/token",method="POST",status="200"}"#, 4.0),
        (r#"{route="/{org}/token",method="POST",status="400"}"#, 2.0),
        (
            r#"{route="/{org}/login",method="POST",status="401"}"#,
            failures,
        ),
        (r#"{route="/{org}/login",method="POST",status="429"}"#, 1.0),
        (r#"{route="/{org}/login",method="POST",status="303"}"#, 2.0),
    ] {
        assert_eq!(m.value(&format!("clavex_http_requests_total{series}")), n);
    }
    assert!(
        !m.text.contains("/acme/") && !m.text.contains("/globex/"),
        "{}",
        m.text
    );
    let token_latency =
        m.value(r#"clavex_http_request_duration_seconds_count{route="/{org}/token"}"#);
    assert_eq!(token_latency, 6.0);
    assert!(m.value(r#"clavex_http_request_duration_seconds_sum{route="/{org}/token"}"#) > 0.0);

    // Sign-ins by outcome and org: acme by name, globex (not listed) as "other".
    for (series, n) in [
        (r#"{outcome="success",org="acme"}"#, 1.0),
        (r#"{outcome="success",org="other"}"#, 1.0),
        (r#"{outcome="bad_credentials",org="acme"}"#, failures),
        (r#"{outcome="throttled",org="acme"}"#, 1.0),
    ] {
        assert_eq!(m.value(&format!("clavex_signins_total{series}")), n);
    }
    assert_eq!(m.series_of("clavex_signins_total").len(), 4, "{}", m.text);

    // Tokens by grant type and org.
    for (series, n) in [
        (r#"{grant_type="authorization_code",org="acme"}"#, 1.0),
        (r#"{grant_type="refresh_token",org="acme"}"#, 1.0),
        (r#"{grant_type="client_credentials",org="acme"}"#, 1.0),
        (r#"{grant_type="authorization_code",org="other"}"#, 1.0),
    ] {
        assert_eq!(m.value(&format!("clavex_tokens_issued_total{series}")), n);
    }
    assert_eq!(
        m.series_of("clavex_tokens_issued_total").len(),
        4,
        "{}",
        m.text
    );
    assert_eq!(m.value("clavex_code_replay_total"), 1.0);
    assert_eq!(m.value("clavex_refresh_token_reuse_total"), 1.0);
    assert_eq!(m.value("clavex_refresh_token_races_total"), 0.0);

    // Every password check and every hashing waited for an Argon2id slot: two successful
    // sign-ins and the failures (the throttled attempt is refused before any check); alice, bob
    // and carol of acme and alice of globex hashed on creation.
    assert_eq!(
        m.value(r#"clavex_password_queue_wait_seconds_count{op="verify"}"#),
        2.0 + failures
    );
    assert_eq!(
        m.value(r#"clavex_password_queue_wait_seconds_count{op="hash"}"#),
        4.0
    );

    // The database: the pool read at scrape time, and latency by store operation.
    let idle = m.value(r#"clavex_db_pool_connections{state="idle"}"#);
    let in_use = m.value(r#"clavex_db_pool_connections{state="in_use"}"#);
    let max = m.value("clavex_db_pool_max");
    assert_eq!(max, f64::from(server.settings.database_max_connections));
    assert!(idle + in_use >= 1.0 && idle + in_use <= max, "{}", m.text);
    // Protocol requests read clients through a one-second cache, so few reads reach the store.
    for (op, at_least) in [
        ("get_client", 1.0),
        ("refresh_token_state", 2.0),
        ("create_user", 4.0),
        ("redeem_code", 3.0),
        ("rotate_refresh_token", 2.0),
        ("find_user_by_login", 2.0 + failures),
        ("bump_throttle", 2.0 * failures),
    ] {
        let n = m.value(&format!(
            "clavex_db_query_duration_seconds_count{{op=\"{op}\"}}"
        ));
        assert!(n >= at_least, "{op}: {n} < {at_least}");
    }

    // Build information (the in-process server has no binary to tell it the commit).
    let build = m.series_of("clavex_build_info");
    assert_eq!(build.len(), 1, "{}", m.text);
    assert!(
        build[0].starts_with(&format!(
            "clavex_build_info{{version=\"{}\",commit=\"",
            env!("CARGO_PKG_VERSION")
        )) && build[0].contains(",target=\"")
            && build[0].contains(",profile=\""),
        "{}",
        build[0]
    );
    assert!(m.value("process_start_time_seconds") > 1.6e9);
}

#[tokio::test]
async fn orgs_are_other_unless_listed() {
    let server = TestServer::start().await;
    seed_acme(&server).await;
    let secret = add_machine(&server).await;
    client_credentials(&server, &secret).await;
    let m = scrape(&server).await;
    assert_eq!(
        m.value(r#"clavex_tokens_issued_total{grant_type="client_credentials",org="other"}"#),
        1.0
    );
    assert!(!m.text.contains("org=\"acme\""), "{}", m.text);

    let server = TestServer::start_with(TestDatabase::new().await, |s| {
        s.metrics.orgs = MetricsOrgs::All;
    })
    .await;
    seed_acme(&server).await;
    let secret = add_machine(&server).await;
    client_credentials(&server, &secret).await;
    let m = scrape(&server).await;
    assert_eq!(
        m.value(r#"clavex_tokens_issued_total{grant_type="client_credentials",org="acme"}"#),
        1.0
    );
}

#[tokio::test]
async fn off_serves_no_metrics_and_records_nothing() {
    let server = TestServer::start_with(TestDatabase::new().await, |s| {
        s.metrics.enabled = false;
    })
    .await;
    seed_acme(&server).await;
    let secret = add_machine(&server).await;
    client_credentials(&server, &secret).await;
    let r = server.call("GET", "/metrics", None, None).await;
    assert_eq!(r.status, 404, "{}", r.text);
    assert_eq!(r.json()["error"], "not_found");
    // What would have been served: nothing was recorded, not even the database operations.
    let text = server.core.render_metrics();
    for family in [
        "clavex_http_requests_total",
        "clavex_tokens_issued_total",
        "clavex_db_query_duration_seconds",
        "clavex_password_queue_wait_seconds",
    ] {
        assert!(!text.contains(family), "{family} in:\n{text}");
    }
}
