//! Seeding through the Admin API: an org per run with a random slug, its clients and a user.

use anyhow::{Context, bail};
use serde_json::{Value, json};

pub struct Target {
    /// The installation's public URL (its issuers live under it).
    pub base: String,
    /// Where requests go: the public URL, or each node of a cluster (`--node`), in turn.
    pub nodes: Vec<String>,
    pub admin_token: String,
    pub http: reqwest::Client,
}

impl Target {
    pub fn new(base: &str, nodes: &[String], admin_token: &str) -> anyhow::Result<Target> {
        let base = base.trim_end_matches('/').to_string();
        let nodes = if nodes.is_empty() {
            vec![base.clone()]
        } else {
            nodes
                .iter()
                .map(|n| n.trim_end_matches('/').to_string())
                .collect()
        };
        Ok(Target {
            base,
            nodes,
            admin_token: admin_token.to_string(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .pool_max_idle_per_host(256)
                .build()?,
        })
    }

    /// The node that connection `i` talks to.
    pub fn node(&self, i: usize) -> &str {
        &self.nodes[i % self.nodes.len()]
    }

    /// `url` under the public URL (from a `Location` header), sent to connection `i`'s node.
    pub fn via(&self, i: usize, url: &str) -> String {
        match url.strip_prefix(&self.base) {
            Some(rest) => format!("{}{rest}", self.node(i)),
            None => url.to_string(),
        }
    }

    pub async fn admin(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        let r = self
            .http
            .post(format!("{}/api/v1{path}", self.node(0)))
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
