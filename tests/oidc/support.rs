//! A browser and a relying party for OIDC tests, speaking plain HTTP to the real server.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use clavex_testkit::{TestResponse, TestServer};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// The seed's client registration, byte for byte.
pub const SEED_CLIENT: &str = r#"{
"client_id": "grafana",
"client_name": "Grafana",
"grant_types": ["authorization_code", "refresh_token"],
"redirect_uris": ["https://grafana.acme.eu/login/generic_oauth"],
"scopes": ["openid", "profile", "email", "groups"],
"token_endpoint_auth_method": "client_secret_basic"
}"#;

pub const GRAFANA_REDIRECT: &str = "https://grafana.acme.eu/login/generic_oauth";

/// The seed's role expression.
pub const ROLE_PATH: &str = "contains(groups[*], 'grafana-admins') && 'Admin' || contains(groups[*], 'grafana-editors') && 'Editor' || 'Viewer'";

/// Org `acme` as the seed sets it up: the Grafana client, three groups, alice (admins), bob
/// (editors), carol (no group). Returns the client secret.
pub async fn seed_acme(server: &TestServer) -> String {
    server.create_org("acme").await;
    let resp = server
        .http
        .post(server.url("/api/v1/organizations/acme/clients"))
        .bearer_auth(&server.admin_token)
        .header("Content-Type", "application/json")
        .body(SEED_CLIENT)
        .send()
        .await
        .unwrap();
    let r = TestServer::read(resp).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let secret = r.json()["client_secret"].as_str().unwrap().to_string();
    for g in ["grafana-admins", "grafana-editors", "grafana-viewers"] {
        let r = server
            .admin(
                "POST",
                "/api/v1/organizations/acme/groups",
                Some(json!({ "name": g })),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
    }
    for (user, group) in [
        ("alice", Some("grafana-admins")),
        ("bob", Some("grafana-editors")),
        ("carol", None),
    ] {
        create_user(server, "acme", user, group).await;
    }
    secret
}

/// Creates `name` with password `{name}-password-1` and optionally adds it to `group`.
pub async fn create_user(
    server: &TestServer,
    org: &str,
    name: &str,
    group: Option<&str>,
) -> String {
    let r = server
        .admin(
            "POST",
            &format!("/api/v1/organizations/{org}/users"),
            Some(json!({
                "username": name,
                "email": format!("{name}@acme.test"),
                "name": format!("{} Example", name.to_uppercase()),
                "password": format!("{name}-password-1"),
                "email_verified": true,
            })),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.json()["id"].as_str().unwrap().to_string();
    if let Some(group) = group {
        let r = server
            .admin(
                "PUT",
                &format!("/api/v1/organizations/{org}/groups/{group}/members/{id}"),
                None,
            )
            .await;
        assert_eq!(r.status, 204, "{}", r.text);
    }
    id
}

/// A PKCE pair as Grafana makes it: a 128-character verifier and its S256 challenge.
pub fn pkce() -> (String, String) {
    let verifier: String = (0..4)
        .map(|_| clavex_crypto::secret::generate_token(""))
        .collect::<String>()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(128)
        .collect();
    let verifier = format!("{verifier:A<128}");
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

/// A browser: keeps cookies, follows no redirects by itself.
pub struct Browser {
    pub http: reqwest::Client,
}

impl Default for Browser {
    fn default() -> Self {
        Self::new()
    }
}

impl Browser {
    pub fn new() -> Self {
        Browser {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
        }
    }

    pub async fn get(&self, url: &str) -> TestResponse {
        TestServer::read(self.http.get(url).send().await.unwrap()).await
    }

    pub async fn post_form(&self, url: &str, form: &[(&str, &str)]) -> TestResponse {
        clavex_testkit::log_capture::record_form(form);
        TestServer::read(self.http.post(url).form(form).send().await.unwrap()).await
    }
}

/// The value of a hidden input in an HTML page.
pub fn hidden_input(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no input {name} in {html}"))
        + marker.len();
    let end = html[start..].find('"').unwrap() + start;
    html[start..end].to_string()
}

pub fn location(r: &TestResponse) -> String {
    r.header("location")
        .unwrap_or_else(|| panic!("no Location header ({}): {}", r.status, r.text))
        .to_string()
}

/// The query parameters of a URL.
pub fn query(url: &str) -> Vec<(String, String)> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

pub fn param(url: &str, name: &str) -> Option<String> {
    query(url)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// Signs in through the real form: authorize → login page → POST credentials. Returns the final
/// redirect (to the client) as a URL.
pub async fn sign_in(
    browser: &Browser,
    authorize_url: &str,
    username: &str,
    password: &str,
) -> String {
    let r = browser.get(authorize_url).await;
    assert_eq!(r.status, 302, "authorize: {}", r.text);
    let login_url = location(&r);
    assert!(login_url.contains("/login?request="), "{login_url}");
    let page = browser.get(&login_url).await;
    assert_eq!(page.status, 200, "{}", page.text);
    let request = hidden_input(&page.text, "request");
    let csrf = hidden_input(&page.text, "csrf");
    let action = login_url.split('?').next().unwrap().to_string();
    let r = browser
        .post_form(
            &action,
            &[
                ("request", &request),
                ("csrf", &csrf),
                ("username", username),
                ("password", password),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "login: {}", r.text);
    location(&r)
}

/// The claims of a JWT, read without verifying (as Grafana does).
pub fn jwt_claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

/// Evaluates a JMESPath expression on claims, as Grafana's role mapping does.
pub fn jmespath_str(expr: &str, claims: &Value) -> String {
    let expr = jmespath::compile(expr).unwrap();
    let data = jmespath::Variable::from_json(&claims.to_string()).unwrap();
    let result = expr.search(data).unwrap();
    result
        .as_string()
        .cloned()
        .unwrap_or_else(|| panic!("not a string: {result:?}"))
}
