//! Seeding through the Admin API: an org per run with a random slug, its clients and a user.

use anyhow::{Context, bail};
use serde_json::{Value, json};

pub struct Target {
    pub base: String,
    pub admin_token: String,
    pub http: reqwest::Client,
}

impl Target {
    pub fn new(base: &str, admin_token: &str) -> anyhow::Result<Target> {
        Ok(Target {
            base: base.trim_end_matches('/').to_string(),
            admin_token: admin_token.to_string(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .pool_max_idle_per_host(256)
                .build()?,
        })
    }

    pub async fn admin(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        let r = self
            .http
            .post(format!("{}/api/v1{path}", self.base))
            .bearer_auth(&self.admin_token)
            .json(&body)
            .send()
            .await
            .with_context(|| format!("POST {path}"))?;
        let status = r.status();
        let text = r.text().await?;
        if !status.is_success() {
            bail!("POST {path}: {status}: {text}");
        }
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}

pub struct Fixture {
    pub org: String,
    pub client_id: String,
    pub client_secret: String,
    pub redirect_uri: String,
    pub username: String,
    pub password: String,
}

fn slug(prefix: &str) -> String {
    format!(
        "{prefix}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    )
}

/// An org with a confidential client for the code flow and refresh, and one user.
pub async fn signin_fixture(target: &Target, alg: &str) -> anyhow::Result<Fixture> {
    let org = slug("bench");
    target
        .admin(
            "/organizations",
            json!({ "slug": org, "name": "Bench", "signing_alg": alg }),
        )
        .await?;
    let redirect_uri = "http://127.0.0.1:9/callback".to_string();
    let client = target
        .admin(
            &format!("/organizations/{org}/clients"),
            json!({
                "client_id": "app",
                "grant_types": ["authorization_code", "refresh_token"],
                "redirect_uris": [redirect_uri],
                "scopes": ["openid", "profile", "email", "groups"],
            }),
        )
        .await?;
    let password = "bench-password-1".to_string();
    target
        .admin(
            &format!("/organizations/{org}/users"),
            json!({ "username": "bench", "email": "bench@bench.test", "name": "Bench", "password": password }),
        )
        .await?;
    Ok(Fixture {
        org,
        client_id: "app".into(),
        client_secret: client["client_secret"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        redirect_uri,
        username: "bench".into(),
        password,
    })
}

/// An org signing with `alg` and a client_credentials client; returns (org, client_id, secret).
pub async fn machine_client(
    target: &Target,
    alg: &str,
) -> anyhow::Result<(String, String, String)> {
    let org = slug("bench");
    target
        .admin(
            "/organizations",
            json!({ "slug": org, "name": "Bench", "signing_alg": alg }),
        )
        .await?;
    let client = target
        .admin(
            &format!("/organizations/{org}/clients"),
            json!({ "client_id": "svc", "grant_types": ["client_credentials"], "scopes": ["api"] }),
        )
        .await?;
    let secret = client["client_secret"]
        .as_str()
        .context("no client_secret in the registration response")?
        .to_string();
    Ok((org, "svc".into(), secret))
}
