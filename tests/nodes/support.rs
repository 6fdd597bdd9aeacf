//! A cluster: several real `clavex serve` processes on one database, as behind a load balancer.
//!
//! Every node gets the same database URL, master key and public URL. The public URL is the
//! address a load balancer would have (`PUBLIC_URL`, where nothing listens); tests pick the node
//! that serves each request with [`Cluster::at`], which rewrites that prefix to a node's address.

use std::time::Duration;

use clavex_testkit::{TestDatabase, TestResponse, TestServer};
use serde_json::{Value, json};

use crate::cli::support::{ServeProcess, TEST_MASTER_KEY, clavex};
use crate::oidc::support::SEED_CLIENT;

/// The installation's public URL. Port 9 (discard) on loopback: nothing answers there, so a
/// request a test forgot to route through [`Cluster::at`] fails loudly.
pub const PUBLIC_URL: &str = "http://127.0.0.1:9";

/// The superadmin API token every node is started with.
pub const ADMIN_TOKEN: &str = "cluster-bootstrap-token-0123456789";

/// Node processes over one database. Dropping it kills the nodes, then removes the database.
pub struct Cluster {
    pub nodes: Vec<ServeProcess>,
    /// Plain HTTP client: no cookies, no redirects followed.
    pub http: reqwest::Client,
    // Declared last: dropped after the nodes.
    pub db: TestDatabase,
}

impl Cluster {
    /// `n` nodes on a fresh database of the run's backend (on SQLite: processes sharing one file).
    pub async fn start(n: usize) -> Cluster {
        Self::start_on(TestDatabase::new().await, n).await
    }

    /// `n` nodes on `db`, started one after another (the first runs the migrations).
    pub async fn start_on(db: TestDatabase, n: usize) -> Cluster {
        let mut nodes = Vec::with_capacity(n);
        for _ in 0..n {
            nodes.push(ServeProcess::start(node_command(&db, &[])).await);
        }
        Cluster {
            nodes,
            http: crate::cli::support::http(),
            db,
        }
    }

    /// Starts one more node on the same database, with extra environment variables.
    pub async fn add_node(&mut self, env: &[(&str, &str)]) -> usize {
        self.nodes
            .push(ServeProcess::start(node_command(&self.db, env)).await);
        self.nodes.len() - 1
    }

    /// `path` (e.g. `/acme/token`) on node `i`.
    pub fn url(&self, i: usize, path: &str) -> String {
        self.nodes[i].url(path)
    }

    /// A URL under the public URL (as found in a `Location` header or a discovery document),
    /// sent to node `i` instead. Other URLs (a client's redirect URI) are returned unchanged.
    pub fn at(&self, i: usize, url: &str) -> String {
        match url.strip_prefix(PUBLIC_URL) {
            Some(rest) => self.url(i, rest),
            None => url.to_owned(),
        }
    }

    /// An Admin API call with the superadmin token, served by node `i`.
    pub async fn admin(
        &self,
        i: usize,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> TestResponse {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("HTTP method");
        let mut req = self
            .http
            .request(method, self.url(i, path))
            .bearer_auth(ADMIN_TOKEN);
        if let Some(body) = body {
            req = req.json(&body);
        }
        TestServer::read(req.send().await.expect("admin request")).await
    }

    /// Org `acme` with the seed's Grafana client and user `alice` (password `alice-password-1`),
    /// made through node 0. Returns the client secret.
    pub async fn seed_acme(&self) -> String {
        let r = self
            .admin(
                0,
                "POST",
                "/api/v1/organizations",
                Some(json!({"slug": "acme", "name": "Acme"})),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        let client: Value = serde_json::from_str(SEED_CLIENT).expect("seed client JSON");
        let r = self
            .admin(
                0,
                "POST",
                "/api/v1/organizations/acme/clients",
                Some(client),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        let secret = r.json()["client_secret"]
            .as_str()
            .expect("client_secret")
            .to_owned();
        let r = self
            .admin(
                0,
                "POST",
                "/api/v1/organizations/acme/users",
                Some(json!({
                    "username": "alice",
                    "email": "alice@acme.test",
                    "name": "Alice Example",
                    "password": "alice-password-1",
                    "email_verified": true,
                })),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        secret
    }

    /// Node `i`'s process (for its logs, or to stop it).
    pub fn node(&self, i: usize) -> &ServeProcess {
        &self.nodes[i]
    }
}

/// `clavex serve` for one node of `db`'s installation.
pub fn node_command(db: &TestDatabase, env: &[(&str, &str)]) -> tokio::process::Command {
    let mut cmd = clavex(db.dir.path());
    cmd.args(["serve", "--listen", "127.0.0.1:0"])
        .env("CLAVEX_DATABASE_URL", &db.url)
        .env("CLAVEX_MASTER_KEY", TEST_MASTER_KEY)
        .env("CLAVEX_PUBLIC_URL", PUBLIC_URL)
        .env("CLAVEX_BOOTSTRAP_ADMIN_TOKEN", ADMIN_TOKEN);
    for (name, value) in env {
        cmd.env(name, value);
    }
    cmd
}

/// Polls `check` every 50 ms until it returns `Some`, for at most `limit`; panics with `what`.
pub async fn eventually<T, F, Fut>(limit: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let start = tokio::time::Instant::now();
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(start.elapsed() < limit, "{what}: not seen within {limit:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

// OIDC across nodes: the seed's Grafana client and alice, each step sent to a chosen node.

use crate::oidc::{
    rp::{LoginForm, Tokens, basic_header, submit_login},
    support::{Browser, GRAFANA_REDIRECT, hidden_input, location, param, pkce},
};

/// The scope Grafana asks for.
pub const GRAFANA_SCOPE: &str = "openid profile email groups";

/// The issuer of org `acme`: the public URL, whichever node answers.
pub fn acme_issuer() -> String {
    format!("{PUBLIC_URL}/acme")
}

/// A Grafana authorization request (PKCE S256, state `st4te=`) under the public URL.
pub fn grafana_authorize_url(challenge: &str, scope: &str) -> String {
    let mut url = url::Url::parse(&format!("{PUBLIC_URL}/acme/authorize")).expect("URL");
    url.query_pairs_mut()
        .append_pair("client_id", "grafana")
        .append_pair("response_type", "code")
        .append_pair("redirect_uri", GRAFANA_REDIRECT)
        .append_pair("scope", scope)
        .append_pair("state", "st4te=")
        .append_pair("code_challenge", challenge)
        .append_pair("code_challenge_method", "S256");
    url.to_string()
}

/// The code of a redirect back to Grafana, checking that `state` and the issuer came with it.
pub fn grafana_code_of(redirect: &str) -> String {
    assert!(redirect.starts_with(GRAFANA_REDIRECT), "{redirect}");
    assert_eq!(param(redirect, "error"), None, "{redirect}");
    assert_eq!(
        param(redirect, "state").as_deref(),
        Some("st4te="),
        "{redirect}"
    );
    assert_eq!(param(redirect, "iss"), Some(acme_issuer()), "{redirect}");
    param(redirect, "code").unwrap_or_else(|| panic!("no code in {redirect}"))
}

/// Verifies a JWT against a JWKS document, as a relying party does; returns its claims.
pub fn verify_with(jwks: &Value, jwt: &str) -> Value {
    let keys: Vec<_> = jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|k| clavex_crypto::signing::VerifyingKey::from_jwk(k).expect("a JWK"))
        .collect();
    clavex_crypto::signing::verify_jwt(jwt, &keys)
        .unwrap_or_else(|e| panic!("the token does not verify against {jwks}: {e}"))
}

impl Cluster {
    /// A new Grafana request in `browser`: authorize at node `i`, then the sign-in form that node
    /// shows. Returns the form (posting to node `i`) and the PKCE verifier.
    pub async fn open_login(&self, browser: &Browser, i: usize) -> (LoginForm, String) {
        let (verifier, challenge) = pkce();
        let authorize = self.at(i, &grafana_authorize_url(&challenge, GRAFANA_SCOPE));
        let r = browser.get(&authorize).await;
        assert_eq!(r.status, 302, "authorize at node {i}: {}", r.text);
        let login = location(&r);
        assert!(login.contains("/acme/login?request="), "{login}");
        let page = browser.get(&self.at(i, &login)).await;
        assert_eq!(page.status, 200, "login page at node {i}: {}", page.text);
        let form = LoginForm {
            action: self.url(i, "/acme/login"),
            request: hidden_input(&page.text, "request"),
            csrf: hidden_input(&page.text, "csrf"),
            page,
        };
        (form, verifier)
    }

    /// Signs alice in with her password in `browser`: the form shown by node `show`, posted to
    /// node `post`. Returns Grafana's code and the PKCE verifier.
    pub async fn sign_in_alice(
        &self,
        browser: &Browser,
        show: usize,
        post: usize,
    ) -> (String, String) {
        let (mut form, verifier) = self.open_login(browser, show).await;
        form.action = self.url(post, "/acme/login");
        let r = submit_login(browser, &form, "alice", "alice-password-1").await;
        assert_eq!(r.status, 303, "sign-in posted to node {post}: {}", r.text);
        (grafana_code_of(&location(&r)), verifier)
    }

    /// A code from `browser`'s SSO session: authorize at node `i` redirects straight back to
    /// Grafana, without the sign-in form. Returns the code and the PKCE verifier.
    pub async fn sso_code(&self, browser: &Browser, i: usize) -> (String, String) {
        let (verifier, challenge) = pkce();
        let r = browser
            .get(&self.at(i, &grafana_authorize_url(&challenge, GRAFANA_SCOPE)))
            .await;
        assert_eq!(r.status, 302, "authorize at node {i}: {}", r.text);
        (grafana_code_of(&location(&r)), verifier)
    }

    /// `POST /acme/{endpoint}` at node `i`, authenticated as Grafana (Basic).
    pub async fn grafana_post(
        &self,
        i: usize,
        secret: &str,
        endpoint: &str,
        form: &[(&str, &str)],
    ) -> TestResponse {
        clavex_testkit::log_capture::record_form(form);
        let req = self
            .http
            .post(self.url(i, &format!("/acme/{endpoint}")))
            .header("Authorization", basic_header("grafana", secret))
            .form(form);
        TestServer::read(req.send().await.expect("request")).await
    }

    /// Redeems a Grafana code at node `i`.
    pub async fn redeem(&self, i: usize, secret: &str, code: &str, verifier: &str) -> TestResponse {
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", GRAFANA_REDIRECT),
            ("code_verifier", verifier),
        ];
        self.grafana_post(i, secret, "token", &form).await
    }

    /// The refresh grant for Grafana at node `i`.
    pub async fn refresh(&self, i: usize, secret: &str, refresh_token: &str) -> TestResponse {
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ];
        self.grafana_post(i, secret, "token", &form).await
    }

    /// Signs alice in on node `i` in `browser` and redeems the code there.
    pub async fn alice_tokens(&self, browser: &Browser, secret: &str, i: usize) -> Tokens {
        let (code, verifier) = self.sign_in_alice(browser, i, i).await;
        Tokens::from_response(&self.redeem(i, secret, &code, &verifier).await)
    }

    /// Tokens from `browser`'s SSO session (no password), the code made at node `i` and redeemed
    /// at node `redeem_at`.
    pub async fn sso_tokens(
        &self,
        browser: &Browser,
        secret: &str,
        i: usize,
        redeem_at: usize,
    ) -> Tokens {
        let (code, verifier) = self.sso_code(browser, i).await;
        Tokens::from_response(&self.redeem(redeem_at, secret, &code, &verifier).await)
    }

    /// Introspection at node `i` as Grafana; asserts 200.
    pub async fn introspect(&self, i: usize, secret: &str, token: &str) -> Value {
        let r = self
            .grafana_post(i, secret, "introspect", &[("token", token)])
            .await;
        assert_eq!(r.status, 200, "introspect at node {i}: {}", r.text);
        r.json()
    }

    /// Revocation at node `i` as Grafana, with an optional `token_type_hint`; asserts 200.
    pub async fn revoke(&self, i: usize, secret: &str, token: &str, hint: Option<&str>) {
        let mut form = vec![("token", token)];
        if let Some(hint) = hint {
            form.push(("token_type_hint", hint));
        }
        let r = self.grafana_post(i, secret, "revoke", &form).await;
        assert_eq!(r.status, 200, "revoke at node {i}: {}", r.text);
    }

    /// `GET /acme/userinfo` at node `i` with a bearer token.
    pub async fn userinfo(&self, i: usize, access_token: &str) -> TestResponse {
        let req = self
            .http
            .get(self.url(i, "/acme/userinfo"))
            .bearer_auth(access_token);
        TestServer::read(req.send().await.expect("userinfo request")).await
    }

    /// `GET /acme/jwks` at node `i`; asserts 200.
    pub async fn jwks(&self, i: usize) -> Value {
        let r = TestServer::read(
            self.http
                .get(self.url(i, "/acme/jwks"))
                .send()
                .await
                .expect("jwks request"),
        )
        .await;
        assert_eq!(r.status, 200, "jwks at node {i}: {}", r.text);
        r.json()
    }

    /// The kids node `i` publishes for `acme`.
    pub async fn jwks_kids(&self, i: usize) -> Vec<String> {
        self.jwks(i).await["keys"]
            .as_array()
            .expect("keys")
            .iter()
            .map(|k| k["kid"].as_str().expect("kid").to_owned())
            .collect()
    }

    /// The id of a user of `acme`, read through node `i`.
    pub async fn user_id(&self, i: usize, username: &str) -> String {
        let r = self
            .admin(i, "GET", "/api/v1/organizations/acme/users?limit=100", None)
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.json()["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|u| u["username"] == username)
            .unwrap_or_else(|| panic!("no user {username}: {}", r.text))["id"]
            .as_str()
            .expect("id")
            .to_owned()
    }
}
