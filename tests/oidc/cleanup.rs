//! The background clean-up as a server runs it: after a sign-in, nothing live is purged; once the
//! clock passes every lifetime, the rows go, the tokens stop working, and the metrics count them.

use clavex_core::maintenance::PURGE_MARGIN_SECONDS;
use clavex_testkit::TestServer;

use super::rp::{Auth, grafana_code, grafana_tokens, redeem_grafana, token};
use super::support::{Browser, seed_acme};

#[tokio::test]
async fn expired_sign_in_state_is_purged_and_live_state_is_kept() {
    let server = TestServer::start().await;
    let secret = seed_acme(&server).await;
    let tokens = grafana_tokens(&server, &secret, "alice", "openid profile groups").await;
    // A code that was never redeemed, and the SSO session of its browser.
    let browser = Browser::new();
    let (unused_code, verifier) = grafana_code(&server, &browser, "bob", "openid").await;

    // Nothing has expired yet: a purge deletes nothing and everything still works.
    let counts = server.core.purge_expired().await.unwrap();
    assert_eq!(counts.total(), 0, "{counts:?}");
    let refreshed = token(
        &server,
        "acme",
        Auth::Basic("grafana", &secret),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", tokens.refresh()),
        ],
    )
    .await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.text);
    let refresh = refreshed.json()["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();

    // Past every lifetime (refresh tokens and sessions are the longest).
    let settings = &server.core.settings;
    server.clock.advance(
        settings
            .refresh_token_ttl_seconds
            .max(settings.session_ttl_seconds)
            + settings.access_token_ttl_seconds
            + PURGE_MARGIN_SECONDS
            + 1,
    );
    let counts = server.core.purge_expired().await.unwrap();
    assert!(counts.codes >= 1, "the unused code is purged: {counts:?}");
    assert!(counts.sessions >= 2, "both browsers' sessions: {counts:?}");
    assert!(counts.grants >= 1, "alice's grant: {counts:?}");
    assert!(
        counts.refresh_tokens >= 2,
        "the used and the current refresh token: {counts:?}"
    );
    assert_eq!(server.core.purge_expired().await.unwrap().total(), 0);

    // The purged rows are really gone: the code and the refresh token are unknown now.
    let r = redeem_grafana(&server, &secret, &unused_code, Some(&verifier)).await;
    assert_eq!(r.status, 400, "{}", r.text);
    let r = token(
        &server,
        "acme",
        Auth::Basic("grafana", &secret),
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.text);

    let metrics = server
        .http
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap();
    let text = metrics.text().await.unwrap();
    assert!(
        text.contains("clavex_purged_rows_total{kind=\"code\"}"),
        "purges are counted:\n{text}"
    );
}

/// A used code outlives its expiry and the purges after it while its grant may exist, so that a
/// late replay still revokes what the code gave (RFC 6749 §4.1.2).
#[tokio::test]
async fn a_used_code_replayed_after_a_purge_still_revokes_its_grant() {
    let server = TestServer::start().await;
    let secret = seed_acme(&server).await;
    let browser = Browser::new();
    let (code, verifier) = grafana_code(&server, &browser, "alice", "openid").await;
    let first = redeem_grafana(&server, &secret, &code, Some(&verifier)).await;
    assert_eq!(first.status, 200, "{}", first.text);
    let refresh = first.json()["refresh_token"].as_str().unwrap().to_owned();

    // Long past the code's own expiry (and the margin), but within the refresh token's life.
    server.clock.advance(PURGE_MARGIN_SECONDS + 3_600);
    let counts = server.core.purge_expired().await.unwrap();
    assert_eq!(counts.codes, 0, "{counts:?}");

    let replay = redeem_grafana(&server, &secret, &code, Some(&verifier)).await;
    assert_eq!(replay.status, 400, "{}", replay.text);
    let r = token(
        &server,
        "acme",
        Auth::Basic("grafana", &secret),
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
    )
    .await;
    assert_eq!(r.status, 400, "the replay revoked the grant: {}", r.text);
}
