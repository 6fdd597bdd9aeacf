//! What the workloads talk to: a Clavex server, seeded through the Admin API (an org per fixture
//! with a random slug), or a peer provider described by a fixture file (`--peer`). Either way the
//! endpoints come from the issuer's discovery document, so one driver serves both.

use anyhow::{Context, bail};
use serde::Deserialize;
use serde_json::{Value, json};

pub struct Target {
    /// The installation's public URL (its issuers live under it).
    pub base: String,
    /// Where requests go: the public URL, or each node of a cluster (`--node`), in turn.
    pub nodes: Vec<String>,
    /// A superadmin API token (Clavex only; empty for a peer).
    pub admin_token: String,
    /// Set when the target is a peer provider rather than Clavex.
    pub peer: Option<PeerFixture>,
    pub http: reqwest::Client,
}

/// The peer's clients and user, as bench/peer/server.mjs writes them.
#[derive(Debug, Clone, Deserialize)]
pub struct PeerFixture {
    pub issuer: String,
    pub machine: PeerMachine,
    pub signin: PeerSignin,
    pub userinfo: PeerClient,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub struct PeerMachine {
    pub rs256: PeerClient,
    pub es256: PeerClient,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PeerClient {
    pub client_id: String,
    pub client_secret: String,
    #[serde(default)]
    pub scope: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PeerSignin {
    pub client_id: String,
    pub client_secret: String,
    pub redirect_uri: String,
    pub username: String,
    pub password: String,
}

impl PeerFixture {
    pub fn load(path: &std::path::Path) -> anyhow::Result<PeerFixture> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the peer fixture {}", path.display()))?;
        serde_json::from_str(&text)
            .with_context(|| format!("parsing the peer fixture {}", path.display()))
    }
}

/// An issuer's endpoints, from its discovery document (under the public URL).
#[derive(Debug, Clone)]
pub struct Endpoints {
    pub discovery: String,
    pub authorize: String,
    pub token: String,
    pub userinfo: String,
    pub jwks: String,
}

/// A `client_credentials` client.
pub struct MachineClient {
    pub endpoints: Endpoints,
    pub client_id: String,
    pub client_secret: String,
    pub scope: String,
}

/// A confidential code-flow client and a user who can sign in to it.
pub struct Fixture {
    pub endpoints: Endpoints,
    pub client_id: String,
    pub client_secret: String,
    pub redirect_uri: String,
    pub scope: String,
    pub username: String,
    pub password: String,
}

/// The scopes the code-flow workloads ask for (Clavex's seeded client allows exactly these).
const SIGNIN_SCOPE: &str = "openid profile email groups";

impl Target {
    pub fn new(
        base: &str,
        nodes: &[String],
        admin_token: Option<&str>,
        peer: Option<PeerFixture>,
    ) -> anyhow::Result<Target> {
        if peer.is_none() && admin_token.is_none_or(str::is_empty) {
            bail!("--admin-token (or CLAVEX_BENCH_ADMIN_TOKEN) is required unless --peer is given");
        }
        let base = match &peer {
            Some(p) => p.issuer.trim_end_matches('/').to_string(),
            None => base.trim_end_matches('/').to_string(),
        };
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
            admin_token: admin_token.unwrap_or_default().to_string(),
            peer,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .pool_max_idle_per_host(256)
                .timeout(std::time::Duration::from_secs(30))
                .build()?,
        })
    }

    /// The node that connection `i` talks to.
    pub fn node(&self, i: usize) -> &str {
        &self.nodes[i % self.nodes.len()]
    }

    /// `url` under the public URL (from a `Location` header or a discovery document), sent to
    /// connection `i`'s node.
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

    /// Reads `issuer`'s discovery document.
    pub async fn discover(&self, issuer: &str) -> anyhow::Result<Endpoints> {
        let discovery = format!("{issuer}/.well-known/openid-configuration");
        let doc: Value = self
            .http
            .get(self.via(0, &discovery))
            .send()
            .await
            .with_context(|| format!("GET {discovery}"))?
            .error_for_status()
            .with_context(|| format!("GET {discovery}"))?
            .json()
            .await
            .with_context(|| format!("{discovery} is not JSON"))?;
        let field = |name: &str| -> anyhow::Result<String> {
            doc[name]
                .as_str()
                .map(str::to_string)
                .with_context(|| format!("{discovery} has no {name}"))
        };
        Ok(Endpoints {
            discovery: discovery.clone(),
            authorize: field("authorization_endpoint")?,
            token: field("token_endpoint")?,
            userinfo: field("userinfo_endpoint")?,
            jwks: field("jwks_uri")?,
        })
    }

    /// A `client_credentials` client whose access tokens are signed with `alg` (RS256 or ES256).
    pub async fn machine_client(&self, alg: &str) -> anyhow::Result<MachineClient> {
        if let Some(peer) = &self.peer {
            let c = match alg {
                "RS256" => &peer.machine.rs256,
                "ES256" => &peer.machine.es256,
                other => bail!("the peer has no {other} client"),
            };
            return Ok(MachineClient {
                endpoints: self.discover(&self.base).await?,
                client_id: c.client_id.clone(),
                client_secret: c.client_secret.clone(),
                scope: c.scope.clone().unwrap_or_else(|| "api".into()),
            });
        }
        let org = self.new_org(alg).await?;
        let client = self
            .admin(
                &format!("/organizations/{org}/clients"),
                json!({ "client_id": "svc", "grant_types": ["client_credentials"], "scopes": ["api"] }),
            )
            .await?;
        let secret = client["client_secret"]
            .as_str()
            .context("no client_secret in the registration response")?
            .to_string();
        Ok(MachineClient {
            endpoints: self.discover(&format!("{}/{org}", self.base)).await?,
            client_id: "svc".into(),
            client_secret: secret,
            scope: "api".into(),
        })
    }

    /// A code-flow client (ID and access tokens RS256) and its user.
    pub async fn signin_fixture(&self) -> anyhow::Result<Fixture> {
        if let Some(peer) = &self.peer {
            let s = &peer.signin;
            return Ok(Fixture {
                endpoints: self.discover(&self.base).await?,
                client_id: s.client_id.clone(),
                client_secret: s.client_secret.clone(),
                redirect_uri: s.redirect_uri.clone(),
                scope: SIGNIN_SCOPE.into(),
                username: s.username.clone(),
                password: s.password.clone(),
            });
        }
        let org = self.new_org("RS256").await?;
        let redirect_uri = "http://127.0.0.1:9/callback".to_string();
        let client = self
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
        self.admin(
            &format!("/organizations/{org}/users"),
            json!({ "username": "bench", "email": "bench@bench.test", "name": "Bench", "password": password }),
        )
        .await?;
        Ok(Fixture {
            endpoints: self.discover(&format!("{}/{org}", self.base)).await?,
            client_id: "app".into(),
            client_secret: client["client_secret"]
                .as_str()
                .context("no client_secret in the registration response")?
                .to_string(),
            redirect_uri,
            scope: SIGNIN_SCOPE.into(),
            username: "bench".into(),
            password,
        })
    }

    /// The fixture whose access tokens userinfo accepts. On Clavex that is any code-flow client;
    /// the peer's userinfo takes only opaque tokens, which its client `app-ui` gets.
    pub async fn userinfo_fixture(&self) -> anyhow::Result<Fixture> {
        let mut f = self.signin_fixture().await?;
        if let Some(peer) = &self.peer {
            f.client_id = peer.userinfo.client_id.clone();
            f.client_secret = peer.userinfo.client_secret.clone();
        }
        Ok(f)
    }

    /// A fresh org signing with `alg`; returns its slug.
    async fn new_org(&self, alg: &str) -> anyhow::Result<String> {
        let org = format!("bench-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
        self.admin(
            "/organizations",
            json!({ "slug": org, "name": "Bench", "signing_alg": alg }),
        )
        .await?;
        Ok(org)
    }
}
