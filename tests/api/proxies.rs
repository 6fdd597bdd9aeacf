//! Behind a reverse proxy: `X-Forwarded-For` names the client only when the TCP peer is one of
//! `CLAVEX_TRUSTED_PROXIES`, and then everywhere a client address is used (audit events of the API
//! and of sign-in, sign-in throttling by address, the reused request id). Forwarded host and proto
//! never change the issuer or any link.

use clavex_config::TrustedProxies;
use clavex_core::oidc::signin::ADDRESS_FAILURES_BEFORE_LOCK;
use clavex_testkit::{TestDatabase, TestResponse, TestServer};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{Value, json};

use super::common::items;
use crate::oidc::{
    rp::{grafana_authorize, open_login, submit_login},
    support::{Browser, location, pkce, seed_acme},
};

async fn server_trusting(proxies: &str) -> TestServer {
    let proxies = TrustedProxies::parse(proxies).unwrap();
    TestServer::start_with(TestDatabase::new().await, |s| s.trusted_proxies = proxies).await
}

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    pairs
        .iter()
        .map(|(k, v)| {
            (
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            )
        })
        .collect()
}

/// A browser whose every request carries `extra` headers, as if a proxy had added them.
fn browser_with(extra: &[(&str, &str)]) -> Browser {
    Browser {
        http: reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .default_headers(headers(extra))
            .build()
            .unwrap(),
    }
}

/// Creates an org through the Admin API with `extra` headers.
async fn create_org_with(server: &TestServer, slug: &str, extra: &[(&str, &str)]) -> TestResponse {
    let resp = server
        .http
        .post(server.url("/api/v1/organizations"))
        .bearer_auth(&server.admin_token)
        .headers(headers(extra))
        .json(&json!({"slug": slug, "name": slug}))
        .send()
        .await
        .unwrap();
    let r = TestServer::read(resp).await;
    assert_eq!(r.status, 201, "{}", r.text);
    r
}

async fn events(server: &TestServer, org: &str, kind: &str) -> Vec<Value> {
    let r = server
        .admin(
            "GET",
            &format!("/api/v1/organizations/{org}/events?type={kind}"),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    items(&r)
}

fn source_ips(events: &[Value]) -> Vec<&str> {
    events
        .iter()
        .map(|e| e["source_ip"].as_str().unwrap_or("(none)"))
        .collect()
}

/// One failed sign-in at org `acme` with `extra` headers on every request of the browser.
async fn failed_sign_in(server: &TestServer, login: &str, extra: &[(&str, &str)]) -> u16 {
    let browser = browser_with(extra);
    let (_, challenge) = pkce();
    let form = open_login(
        &browser,
        &grafana_authorize(server, &challenge, "openid", &[]),
    )
    .await;
    submit_login(&browser, &form, login, "not-the-password")
        .await
        .status
}

const FORGED: [(&str, &str); 2] = [
    ("X-Forwarded-For", "203.0.113.9"),
    ("X-Request-Id", "forged-request-id-1"),
];

#[tokio::test]
async fn forwarded_for_from_an_untrusted_peer_is_ignored() {
    // Nobody trusted (the default), and a list that does not hold the test's own address.
    for trusted in ["", "10.0.0.0/8, ::1"] {
        let server = server_trusting(trusted).await;
        seed_acme(&server).await;
        create_org_with(&server, "beta", &FORGED).await;
        let created = events(&server, "beta", "org.created").await;
        assert_eq!(source_ips(&created), ["127.0.0.1"], "trusted: {trusted:?}");

        assert_eq!(failed_sign_in(&server, "alice", &FORGED).await, 401);
        let failed = events(&server, "acme", "signin.failed").await;
        assert_eq!(source_ips(&failed), ["127.0.0.1"], "trusted: {trusted:?}");
    }
}

#[tokio::test]
async fn a_trusted_proxy_forwards_the_client_address() {
    let server = server_trusting("127.0.0.1, 10.0.0.0/8").await;
    seed_acme(&server).await;
    // The client forged the first entry; the trusted proxy 10.0.0.5 appended the real client.
    let forwarded = [("X-Forwarded-For", "198.51.100.1, 203.0.113.9, 10.0.0.5")];
    create_org_with(&server, "beta", &forwarded).await;
    let created = events(&server, "beta", "org.created").await;
    assert_eq!(source_ips(&created), ["203.0.113.9"]);

    assert_eq!(failed_sign_in(&server, "alice", &forwarded).await, 401);
    let failed = events(&server, "acme", "signin.failed").await;
    assert_eq!(source_ips(&failed), ["203.0.113.9"]);

    // IPv6 clients too; without the header the proxy itself is the client.
    create_org_with(&server, "gamma", &[("X-Forwarded-For", "2001:db8::7")]).await;
    create_org_with(&server, "delta", &[]).await;
    for (org, ip) in [("gamma", "2001:db8::7"), ("delta", "127.0.0.1")] {
        let created = events(&server, org, "org.created").await;
        assert_eq!(source_ips(&created), [ip], "{org}");
    }
}

#[tokio::test]
async fn sign_in_throttling_counts_the_forwarded_address() {
    let server = server_trusting("127.0.0.1").await;
    seed_acme(&server).await;
    let attacker = [("X-Forwarded-For", "203.0.113.66")];
    // A new login name each time, so that only the address counter can reach its limit.
    for i in 0..ADDRESS_FAILURES_BEFORE_LOCK {
        let status = failed_sign_in(&server, &format!("nobody-{i}"), &attacker).await;
        assert_eq!(status, 401, "attempt {i}");
    }
    assert_eq!(failed_sign_in(&server, "nobody-x", &attacker).await, 429);
    // Another client behind the same proxy is not locked out with the attacker.
    let neighbour = [("X-Forwarded-For", "203.0.113.67")];
    assert_eq!(failed_sign_in(&server, "nobody-y", &neighbour).await, 401);
    let locked = events(&server, "acme", "signin.locked").await;
    assert!(
        locked
            .iter()
            .any(|e| e["target"] == "address:203.0.113.66" && e["source_ip"] == "203.0.113.66"),
        "{locked:?}"
    );
}

#[tokio::test]
async fn request_ids_are_taken_only_from_trusted_proxies_once_configured() {
    let id = "lb-7f3a9c21d4e5";
    let get = |server: &TestServer| {
        server
            .http
            .get(server.url("/healthz"))
            .header("X-Request-Id", id)
            .send()
    };
    // Unset: anyone's plain id is reused, as before the setting existed.
    let server = server_trusting("").await;
    let r = get(&server).await.unwrap();
    assert_eq!(r.headers()["x-request-id"], id);
    // Set, and the test is not a trusted peer: a fresh id.
    let server = server_trusting("10.0.0.0/8").await;
    let r = get(&server).await.unwrap();
    assert_ne!(r.headers()["x-request-id"], id);
    // Set, and the test is a trusted peer: reused.
    let server = server_trusting("127.0.0.1").await;
    let r = get(&server).await.unwrap();
    assert_eq!(r.headers()["x-request-id"], id);
}

#[tokio::test]
async fn forwarded_host_and_proto_never_change_the_issuer_or_links() {
    let server = server_trusting("127.0.0.1").await;
    seed_acme(&server).await;
    let spoof = [
        ("X-Forwarded-Host", "evil.example"),
        ("X-Forwarded-Proto", "https"),
        ("X-Forwarded-Port", "8443"),
        ("X-Forwarded-Prefix", "/evil"),
        ("Forwarded", "for=203.0.113.9;host=evil.example;proto=https"),
        ("X-Forwarded-For", "203.0.113.9"),
    ];
    let discovery = "/acme/.well-known/openid-configuration";
    let plain = server.call("GET", discovery, None, None).await;
    let spoofed = TestServer::read(
        server
            .http
            .get(server.url(discovery))
            .headers(headers(&spoof))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(spoofed.status, 200, "{}", spoofed.text);
    assert_eq!(spoofed.json(), plain.json());
    let issuer = format!("{}/acme", server.base_url);
    assert_eq!(spoofed.json()["issuer"], issuer.as_str());
    assert!(!spoofed.text.contains("evil"), "{}", spoofed.text);
    // RFC 8414's location too.
    let r = TestServer::read(
        server
            .http
            .get(server.url("/.well-known/oauth-authorization-server/acme"))
            .headers(headers(&spoof))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.json()["issuer"], issuer.as_str());

    // The redirect to the sign-in page, and the `iss` of an error redirect.
    let browser = browser_with(&spoof);
    let (_, challenge) = pkce();
    let r = browser
        .get(&grafana_authorize(&server, &challenge, "openid", &[]))
        .await;
    let login = location(&r);
    assert!(!login.contains("evil"), "{login}");
    assert!(
        login.starts_with('/') || login.starts_with(&server.base_url),
        "{login}"
    );
    let r = browser
        .get(&grafana_authorize(
            &server,
            &challenge,
            "openid",
            &[("prompt", "none")],
        ))
        .await;
    let back = location(&r);
    assert!(!back.contains("evil"), "{back}");
    let iss = url::Url::parse(&back)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "iss")
        .map(|(_, v)| v.into_owned());
    assert_eq!(iss.as_deref(), Some(issuer.as_str()), "{back}");
}
