//! The audit trail beyond one org's changes: the installation-wide trail (events of no org and of
//! deleted orgs), retention, lockouts and access-token revocations.

use clavex_core::oidc::signin::LOGIN_FAILURES_BEFORE_LOCK;
use clavex_testkit::{TestDatabase, TestServer};
use serde_json::Value;

use super::common::{assert_error, create_user, items, org_token, server_with_org, strings};
use crate::oidc::{rp::*, support::*};

const ALL_EVENTS: &str = "/api/v1/events";

async fn org_events(server: &TestServer, slug: &str, query: &str) -> Vec<Value> {
    let r = server
        .admin(
            "GET",
            &format!("/api/v1/organizations/{slug}/events{query}"),
            None,
        )
        .await;
    items(&r)
}

#[tokio::test]
async fn the_installation_trail_keeps_deleted_orgs_and_events_of_no_org() {
    let server = server_with_org("acme").await;
    let beta = server.create_org("beta").await;
    let beta_id = beta["id"].as_str().unwrap().to_owned();
    create_user(&server, "beta", "bob").await;
    let r = server
        .admin("DELETE", "/api/v1/organizations/beta", None)
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    // beta's own trail is out of reach now; the installation's still has it.
    let r = server
        .admin("GET", "/api/v1/organizations/beta/events", None)
        .await;
    assert_error(&r, 404);

    let all = items(&server.admin("GET", ALL_EVENTS, None).await);
    let of_beta: Vec<Value> = all
        .iter()
        .filter(|e| e["org_id"] == beta_id.as_str())
        .cloned()
        .collect();
    assert_eq!(
        strings(&of_beta, "type"),
        ["org.created", "user.created", "org.deleted"]
    );
    assert!(
        all.iter()
            .any(|e| e["org_id"].is_null() && e["type"] == "admin_token.bootstrapped"),
        "the bootstrap token, which belongs to no org: {all:?}"
    );
    assert!(
        all.iter()
            .any(|e| e["type"] == "org.created" && e["target"] == "acme"),
        "{all:?}"
    );

    // The same filters as an org's trail.
    let r = server
        .admin("GET", &format!("{ALL_EVENTS}?type=org.deleted"), None)
        .await;
    let deleted = items(&r);
    assert_eq!(strings(&deleted, "target"), ["beta"]);
    assert_eq!(
        deleted[0]["actor"],
        format!("token:{}", clavex_core::admin_tokens::BOOTSTRAP_TOKEN_NAME)
    );
    let r = server
        .admin("GET", &format!("{ALL_EVENTS}?colour=red"), None)
        .await;
    assert_error(&r, 400);

    // Only superadmins: an org's token would otherwise read other orgs' trails.
    let token = org_token(&server, "acme-ci", "acme").await;
    let r = server.call("GET", ALL_EVENTS, Some(&token), None).await;
    assert_error(&r, 403);
}

#[tokio::test]
async fn events_older_than_the_retention_are_purged() {
    let server = TestServer::start_with(TestDatabase::new().await, |s| {
        s.audit_retention_days = 2;
    })
    .await;
    server.create_org("acme").await;
    server.clock.advance(86_400);
    create_user(&server, "acme", "alice").await;
    let counts = server.core.purge_expired().await.unwrap();
    assert_eq!(
        counts.events, 0,
        "a day later nothing is older than two days"
    );

    // Two and a half days after the org was made: its events go, alice's (a day and a half
    // old) stay.
    server.clock.advance(86_400 + 43_200);
    let counts = server.core.purge_expired().await.unwrap();
    assert!(counts.events >= 1, "{counts:?}");
    let left = org_events(&server, "acme", "").await;
    assert_eq!(strings(&left, "type"), ["user.created"]);

    // A day later, alice's too.
    server.clock.advance(86_400);
    server.core.purge_expired().await.unwrap();
    assert!(org_events(&server, "acme", "").await.is_empty());
    let metrics = server.call("GET", "/metrics", None, None).await;
    assert!(
        metrics.text.contains("kind=\"event\""),
        "the purge is counted: {}",
        metrics.text
    );
}

#[tokio::test]
async fn retention_zero_keeps_every_event() {
    let server = TestServer::start_with(TestDatabase::new().await, |s| {
        s.audit_retention_days = 0;
    })
    .await;
    server.create_org("acme").await;
    server.clock.advance(100 * 365 * 86_400);
    let counts = server.core.purge_expired().await.unwrap();
    assert_eq!(counts.events, 0);
    assert_eq!(
        strings(&org_events(&server, "acme", "").await, "type"),
        ["org.created"]
    );
}

#[tokio::test]
async fn a_lockout_is_recorded_with_the_failures_that_caused_it() {
    let server = TestServer::start().await;
    seed_acme(&server).await;
    let alice = server
        .admin("GET", "/api/v1/organizations/acme/users?limit=100", None)
        .await
        .json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "alice")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let browser = Browser::new();
    let (_, challenge) = pkce();
    let form = open_login(
        &browser,
        &grafana_authorize(&server, &challenge, "openid", &[]),
    )
    .await;
    for _ in 0..LOGIN_FAILURES_BEFORE_LOCK {
        let r = submit_login(&browser, &form, "alice", "guess-guess-1").await;
        assert_eq!(r.status, 401, "{}", r.text);
    }
    let r = submit_login(&browser, &form, "alice", "alice-password-1").await;
    assert_eq!(r.status, 429, "{}", r.text);

    let locked = org_events(&server, "acme", "?type=signin.locked").await;
    assert_eq!(locked.len(), 1, "one event for the account: {locked:?}");
    assert_eq!(locked[0]["target"], alice.as_str());
    assert_eq!(locked[0]["outcome"], "failure");
    assert_eq!(locked[0]["source_ip"], "127.0.0.1");
    assert_eq!(locked[0]["details"]["scope"], "account");
    assert_eq!(locked[0]["details"]["failures"], LOGIN_FAILURES_BEFORE_LOCK);
    assert!(locked[0]["details"]["locked_until"].is_string());
    let failed = org_events(&server, "acme", "?type=signin.failed").await;
    let reasons: Vec<&str> = failed
        .iter()
        .map(|e| e["details"]["reason"].as_str().unwrap())
        .collect();
    let mut expected = vec!["bad_credentials"; LOGIN_FAILURES_BEFORE_LOCK as usize];
    expected.push("throttled");
    assert_eq!(reasons, expected);
}

#[tokio::test]
async fn revoking_an_access_token_is_recorded_once() {
    let server = TestServer::start().await;
    let secret = seed_acme(&server).await;
    let tokens = grafana_tokens(&server, &secret, "alice", "openid profile").await;
    for _ in 0..2 {
        let r = client_call(
            &server,
            "acme",
            "revoke",
            Auth::Basic("grafana", &secret),
            &[("token", tokens.access_token.as_str())],
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
    let revoked = org_events(&server, "acme", "?type=token.revoked").await;
    assert_eq!(revoked.len(), 1, "{revoked:?}");
    assert_eq!(revoked[0]["actor"], "client:grafana");
    assert_eq!(revoked[0]["details"]["token_type"], "access_token");
    let jti = jwt_claims(&tokens.access_token)["jti"].clone();
    assert_eq!(revoked[0]["details"]["jti"], jti);
}

/// With `CLAVEX_AUDIT_TOKEN_EVENTS=on` every issued token has its `token.issued` event (client,
/// grant type, scope, subject, token id, never the token); off (the default) records none.
#[tokio::test]
async fn issued_tokens_are_recorded_only_when_asked() {
    for on in [true, false] {
        let server = TestServer::start_with(TestDatabase::new().await, |s| {
            s.audit_token_events = on;
        })
        .await;
        let secret = seed_acme(&server).await;
        let machine_secret = add_machine(&server).await;
        let r = token(
            &server,
            "acme",
            Auth::Basic(MACHINE, &machine_secret),
            &[("grant_type", "client_credentials")],
        )
        .await;
        let machine = Tokens::from_response(&r);
        let user = grafana_tokens(&server, &secret, "alice", "openid profile").await;

        let issued = org_events(&server, "acme", "?type=token.issued").await;
        if !on {
            assert!(issued.is_empty(), "off by default: {issued:?}");
            continue;
        }
        assert_eq!(issued.len(), 2, "{issued:?}");
        let cc = &issued[0];
        assert_eq!(cc["actor"], format!("client:{MACHINE}"));
        assert_eq!(cc["target"], MACHINE);
        assert_eq!(cc["details"]["grant_type"], "client_credentials");
        assert_eq!(cc["details"]["sub"], MACHINE);
        assert_eq!(
            cc["details"]["jti"],
            jwt_claims(&machine.access_token)["jti"]
        );
        assert_eq!(cc["source_ip"], "127.0.0.1");
        let code = &issued[1];
        assert_eq!(code["details"]["grant_type"], "authorization_code");
        assert_eq!(
            code["details"]["sub"],
            jwt_claims(&user.access_token)["sub"]
        );
        assert_eq!(code["details"]["id_token"], true);
        assert_eq!(code["details"]["scope"], "openid profile");
        let text = serde_json::to_string(&issued).unwrap();
        for t in [&machine.access_token, &user.access_token] {
            assert!(!text.contains(t.as_str()), "never the token itself");
        }
    }
}
