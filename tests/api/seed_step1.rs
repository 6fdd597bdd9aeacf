//! The seed's Step 1, verbatim: register Grafana as `grafana-sso.txt` shows it.

use clavex_testkit::TestServer;
use serde_json::json;

/// The body of the seed's curl, byte for byte.
const SEED_BODY: &str = r#"{
"client_id": "grafana",
"client_name": "Grafana",
"grant_types": ["authorization_code", "refresh_token"],
"redirect_uris": ["https://grafana.acme.eu/login/generic_oauth"],
"scopes": ["openid", "profile", "email", "groups"],
"token_endpoint_auth_method": "client_secret_basic"
}"#;

#[tokio::test]
async fn seed_client_registration_returns_secret_once() {
    let server = TestServer::start().await;
    let r = server
        .admin(
            "POST",
            "/api/v1/organizations",
            Some(json!({"slug": "acme", "name": "Acme"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);

    let resp = server
        .http
        .post(server.url("/api/v1/organizations/acme/clients"))
        .header("Authorization", format!("Bearer {}", server.admin_token))
        .header("Content-Type", "application/json")
        .body(SEED_BODY)
        .send()
        .await
        .unwrap();
    let r = TestServer::read(resp).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let body = r.json();
    assert_eq!(body["client_id"], "grafana");
    let secret = body["client_secret"].as_str().unwrap();
    assert!(secret.starts_with("cs_"), "{secret}");
    assert!(secret.len() >= 3 + 43, "at least 32 random bytes: {secret}");
    assert_eq!(body["client_secret_expires_at"], 0);
    assert!(body["client_id_issued_at"].as_i64().unwrap() > 0);

    let r = server
        .admin("GET", "/api/v1/organizations/acme/clients/grafana", None)
        .await;
    assert_eq!(r.status, 200);
    assert!(r.json().get("client_secret").is_none());
    assert!(!r.text.contains(secret));
}
