//! Relying-party helpers for the OIDC rule tests: more clients for org `acme`, the token,
//! userinfo, introspection and revocation calls, the sign-in form step by step, and JWT/JWKS
//! reading. Every call goes over HTTP to the real server.

use base64::{
    Engine,
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
};
use clavex_testkit::{TestResponse, TestServer};
use serde_json::{Value, json};

use super::support::*;

/// A second confidential client of `acme`, authenticating with `client_secret_post`.
pub const WIKI: &str = "wiki";
pub const WIKI_REDIRECT: &str = "https://wiki.acme.eu/oauth/callback";
/// A public client (`token_endpoint_auth_method: none`) of `acme`.
pub const SPA: &str = "spa";
pub const SPA_REDIRECT: &str = "http://127.0.0.1:5173/callback";
/// A machine client of `acme` with only `client_credentials`.
pub const MACHINE: &str = "machine";
/// The redirect URI of the client `app` that `setup_org` registers.
pub const APP_REDIRECT: &str = "https://app.example.com/cb";

/// How a request authenticates its client at the token, revocation and introspection endpoints.
#[derive(Clone, Copy)]
pub enum Auth<'a> {
    /// `client_secret_basic`, the id and secret form-encoded as RFC 6749 §2.3.1 asks.
    Basic(&'a str, &'a str),
    /// `client_secret_post`.
    Post(&'a str, &'a str),
    /// A public client: `client_id` in the body, no secret.
    Public(&'a str),
    /// No client authentication at all.
    Nothing,
}

/// Registers a client in `org` and returns its secret (`None` for a public client).
pub async fn create_client(server: &TestServer, org: &str, body: Value) -> Option<String> {
    let r = server
        .admin(
            "POST",
            &format!("/api/v1/organizations/{org}/clients"),
            Some(body),
        )
        .await;
    assert_eq!(r.status, 201, "create client: {}", r.text);
    r.json()["client_secret"].as_str().map(str::to_string)
}

/// `PATCH`es a client.
pub async fn patch_client(server: &TestServer, org: &str, client_id: &str, body: Value) {
    let r = server
        .admin(
            "PATCH",
            &format!("/api/v1/organizations/{org}/clients/{client_id}"),
            Some(body),
        )
        .await;
    assert_eq!(r.status, 200, "patch client: {}", r.text);
}

/// `PATCH`es a user.
pub async fn patch_user(server: &TestServer, org: &str, user_id: &str, body: Value) {
    let r = server
        .admin(
            "PATCH",
            &format!("/api/v1/organizations/{org}/users/{user_id}"),
            Some(body),
        )
        .await;
    assert_eq!(r.status, 200, "patch user: {}", r.text);
}

/// The id (`sub`) of a user of `org`, by username.
pub async fn user_id(server: &TestServer, org: &str, username: &str) -> String {
    let r = server
        .admin(
            "GET",
            &format!("/api/v1/organizations/{org}/users?limit=100"),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == username)
        .unwrap_or_else(|| panic!("no user {username} in {org}"))["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Adds the `wiki` client (confidential, `client_secret_post`) to `acme`; returns its secret.
pub async fn add_wiki(server: &TestServer) -> String {
    create_client(
        server,
        "acme",
        json!({
            "client_id": WIKI,
            "client_name": "Wiki",
            "grant_types": ["authorization_code", "refresh_token"],
            "redirect_uris": [WIKI_REDIRECT],
            "scopes": ["openid", "profile", "email", "groups"],
            "token_endpoint_auth_method": "client_secret_post",
        }),
    )
    .await
    .unwrap()
}

/// Adds the public `spa` client to `acme`.
pub async fn add_spa(server: &TestServer) {
    let secret = create_client(
        server,
        "acme",
        json!({
            "client_id": SPA,
            "client_name": "Single-page app",
            "grant_types": ["authorization_code", "refresh_token"],
            "redirect_uris": [SPA_REDIRECT],
            "scopes": ["openid", "profile", "email"],
            "token_endpoint_auth_method": "none",
        }),
    )
    .await;
    assert_eq!(secret, None, "a public client has no secret");
}

/// Adds the `machine` client (client_credentials only) to `acme`; returns its secret.
pub async fn add_machine(server: &TestServer) -> String {
    create_client(
        server,
        "acme",
        json!({
            "client_id": MACHINE,
            "client_name": "Machine",
            "grant_types": ["client_credentials"],
            "scopes": ["api.read", "api.write"],
        }),
    )
    .await
    .unwrap()
}

/// An org with `signing_alg`, a confidential client `app` (Basic, code + refresh) and a user
/// `alice`. Returns the client's secret.
pub async fn setup_org(server: &TestServer, slug: &str, signing_alg: Option<&str>) -> String {
    let mut body = json!({ "slug": slug, "name": slug.to_uppercase() });
    if let Some(alg) = signing_alg {
        body["signing_alg"] = json!(alg);
    }
    let r = server
        .admin("POST", "/api/v1/organizations", Some(body))
        .await;
    assert_eq!(r.status, 201, "create org {slug}: {}", r.text);
    let secret = create_client(
        server,
        slug,
        json!({
            "client_id": "app",
            "grant_types": ["authorization_code", "refresh_token"],
            "redirect_uris": [APP_REDIRECT],
            "scopes": ["openid", "profile", "email", "groups"],
        }),
    )
    .await
    .unwrap();
    create_user(server, slug, "alice", None).await;
    secret
}

/// `P/{org}/authorize?...` with exactly these parameters, in this order.
pub fn authorize_url(server: &TestServer, org: &str, params: &[(&str, &str)]) -> String {
    let mut url = url::Url::parse(&server.url(&format!("/{org}/authorize"))).unwrap();
    {
        let mut q = url.query_pairs_mut();
        for (k, v) in params {
            q.append_pair(k, v);
        }
    }
    url.to_string()
}

/// A code request as Grafana sends it (with its PKCE challenge), plus `extra` parameters.
pub fn grafana_authorize(
    server: &TestServer,
    challenge: &str,
    scope: &str,
    extra: &[(&str, &str)],
) -> String {
    let mut params = vec![
        ("client_id", "grafana"),
        ("response_type", "code"),
        ("redirect_uri", GRAFANA_REDIRECT),
        ("scope", scope),
        ("state", "st4te="),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ];
    params.extend_from_slice(extra);
    authorize_url(server, "acme", &params)
}

/// The `code` of a redirect back to a client, checking `state` and `iss` came with it.
pub fn code_from(server: &TestServer, org: &str, redirect: &str, state: &str) -> String {
    assert_eq!(
        param(redirect, "error"),
        None,
        "an error came back: {redirect}"
    );
    assert_eq!(
        param(redirect, "state").as_deref(),
        Some(state),
        "{redirect}"
    );
    assert_eq!(
        param(redirect, "iss"),
        Some(server.url(&format!("/{org}"))),
        "{redirect}"
    );
    param(redirect, "code").unwrap_or_else(|| panic!("no code in {redirect}"))
}

/// Calls `P/{org}/token`. Every answer, success or error, must carry `Cache-Control: no-store`.
pub async fn token(
    server: &TestServer,
    org: &str,
    auth: Auth<'_>,
    form: &[(&str, &str)],
) -> TestResponse {
    client_call(server, org, "token", auth, form).await
}

/// `P/{org}/{endpoint}` (token, revoke, introspect) with client authentication `auth`.
pub async fn client_call(
    server: &TestServer,
    org: &str,
    endpoint: &str,
    auth: Auth<'_>,
    form: &[(&str, &str)],
) -> TestResponse {
    let mut form: Vec<(&str, &str)> = form.to_vec();
    let mut req = server.http.post(server.url(&format!("/{org}/{endpoint}")));
    match auth {
        Auth::Basic(id, secret) => {
            req = req.header("Authorization", basic_header(id, secret));
        }
        Auth::Post(id, secret) => {
            form.push(("client_id", id));
            form.push(("client_secret", secret));
        }
        Auth::Public(id) => form.push(("client_id", id)),
        Auth::Nothing => {}
    }
    let r = TestServer::read(req.form(&form).send().await.unwrap()).await;
    if endpoint == "token" {
        assert_eq!(
            r.header("cache-control"),
            Some("no-store"),
            "token responses are never cached ({}): {}",
            r.status,
            r.text
        );
    }
    r
}

/// `Basic base64(urlencode(id):urlencode(secret))`.
pub fn basic_header(id: &str, secret: &str) -> String {
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    format!(
        "Basic {}",
        STANDARD.encode(format!("{}:{}", enc(id), enc(secret)))
    )
}

/// Asserts an OAuth error answer: status and `error` code.
pub fn assert_oauth_error(r: &TestResponse, status: u16, code: &str) {
    assert_eq!(
        (r.status, r.json()["error"].as_str()),
        (status, Some(code)),
        "{}",
        r.text
    );
    assert!(
        r.json()["error_description"].is_string(),
        "an error_description: {}",
        r.text
    );
}

/// A token response, checked to be a success.
#[derive(Debug, Clone)]
pub struct Tokens {
    pub access_token: String,
    pub id_token: Option<String>,
    pub refresh_token: Option<String>,
    pub scope: String,
    pub body: Value,
}

impl Tokens {
    pub fn from_response(r: &TestResponse) -> Tokens {
        assert_eq!(r.status, 200, "token: {}", r.text);
        let body = r.json();
        assert_eq!(body["token_type"], "Bearer", "{body}");
        assert!(body["expires_in"].as_i64().unwrap() > 0, "{body}");
        let text = |k: &str| body[k].as_str().map(str::to_string);
        Tokens {
            access_token: text("access_token").unwrap(),
            id_token: text("id_token"),
            refresh_token: text("refresh_token"),
            scope: text("scope").unwrap_or_default(),
            body: body.clone(),
        }
    }

    pub fn id_claims(&self) -> Value {
        jwt_claims(self.id_token.as_deref().expect("an id_token"))
    }

    pub fn refresh(&self) -> &str {
        self.refresh_token.as_deref().expect("a refresh_token")
    }
}

/// Redeems a Grafana code with Basic auth.
pub async fn redeem_grafana(
    server: &TestServer,
    secret: &str,
    code: &str,
    verifier: Option<&str>,
) -> TestResponse {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", GRAFANA_REDIRECT),
    ];
    if let Some(v) = verifier {
        form.push(("code_verifier", v));
    }
    token(server, "acme", Auth::Basic("grafana", secret), &form).await
}

/// Signs `user` in to Grafana in `browser` (PKCE, `scope`) and returns the code and verifier.
pub async fn grafana_code(
    server: &TestServer,
    browser: &Browser,
    user: &str,
    scope: &str,
) -> (String, String) {
    let (verifier, challenge) = pkce();
    let back = sign_in(
        browser,
        &grafana_authorize(server, &challenge, scope, &[]),
        user,
        &format!("{user}-password-1"),
    )
    .await;
    (code_from(server, "acme", &back, "st4te="), verifier)
}

/// Signs `user` in to Grafana in a fresh browser and exchanges the code.
pub async fn grafana_tokens(server: &TestServer, secret: &str, user: &str, scope: &str) -> Tokens {
    let browser = Browser::new();
    let (code, verifier) = grafana_code(server, &browser, user, scope).await;
    Tokens::from_response(&redeem_grafana(server, secret, &code, Some(&verifier)).await)
}

/// Signs alice in to `app` of an org made by `setup_org`, in `browser`, and exchanges the code.
pub async fn app_tokens(
    server: &TestServer,
    browser: &Browser,
    org: &str,
    secret: &str,
    nonce: Option<&str>,
) -> Tokens {
    let (verifier, challenge) = pkce();
    let mut params = vec![
        ("client_id", "app"),
        ("response_type", "code"),
        ("redirect_uri", APP_REDIRECT),
        ("scope", "openid profile email groups"),
        ("state", "app-state"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    if let Some(n) = nonce {
        params.push(("nonce", n));
    }
    let back = sign_in(
        browser,
        &authorize_url(server, org, &params),
        "alice",
        "alice-password-1",
    )
    .await;
    let code = code_from(server, org, &back, "app-state");
    Tokens::from_response(
        &token(
            server,
            org,
            Auth::Basic("app", secret),
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", APP_REDIRECT),
                ("code_verifier", &verifier),
            ],
        )
        .await,
    )
}

/// `GET P/{org}/userinfo` with a bearer token.
pub async fn userinfo(server: &TestServer, org: &str, access_token: &str) -> TestResponse {
    TestServer::read(
        server
            .http
            .get(server.url(&format!("/{org}/userinfo")))
            .bearer_auth(access_token)
            .send()
            .await
            .unwrap(),
    )
    .await
}

/// Asserts a userinfo refusal: 401, `invalid_token`, and a `Bearer` challenge naming it.
pub fn assert_invalid_token(r: &TestResponse) {
    assert_eq!(r.status, 401, "{}", r.text);
    let challenge = r
        .header("www-authenticate")
        .unwrap_or_else(|| panic!("no WWW-Authenticate: {}", r.text));
    assert!(challenge.starts_with("Bearer"), "{challenge}");
    assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
}

/// `POST P/{org}/introspect` and the JSON answer (asserting 200).
pub async fn introspect(server: &TestServer, org: &str, auth: Auth<'_>, tok: &str) -> Value {
    let r = client_call(server, org, "introspect", auth, &[("token", tok)]).await;
    assert_eq!(r.status, 200, "introspect: {}", r.text);
    r.json()
}

/// `POST P/{org}/revoke`, asserting 200 (RFC 7009 answers 200 even for unknown tokens).
pub async fn revoke(server: &TestServer, org: &str, auth: Auth<'_>, tok: &str) {
    let r = client_call(server, org, "revoke", auth, &[("token", tok)]).await;
    assert_eq!(r.status, 200, "revoke: {}", r.text);
}

/// The refresh grant for Grafana (Basic), optionally with a `scope`.
pub async fn refresh_grafana(
    server: &TestServer,
    secret: &str,
    refresh_token: &str,
    scope: Option<&str>,
) -> TestResponse {
    let mut form = vec![
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
    ];
    if let Some(s) = scope {
        form.push(("scope", s));
    }
    token(server, "acme", Auth::Basic("grafana", secret), &form).await
}

/// The protected header of a JWT, read without verifying.
pub fn jwt_header(token: &str) -> Value {
    let header = token.split('.').next().unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap()
}

/// `GET P/{org}/jwks`, asserting 200.
pub async fn jwks(server: &TestServer, org: &str) -> Value {
    let r = TestServer::read(
        server
            .http
            .get(server.url(&format!("/{org}/jwks")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 200, "jwks: {}", r.text);
    r.json()
}

/// The kids the JWKS of `org` publishes now.
pub async fn jwks_kids(server: &TestServer, org: &str) -> Vec<String> {
    jwks(server, org).await["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_string())
        .collect()
}

/// Verifies a JWT's signature against the JWKS the org publishes now, as a relying party does;
/// returns its claims.
pub async fn verify_with_jwks(server: &TestServer, org: &str, jwt: &str) -> Value {
    let set = jwks(server, org).await;
    let keys: Vec<_> = set["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| clavex_crypto::signing::VerifyingKey::from_jwk(k).unwrap())
        .collect();
    clavex_crypto::signing::verify_jwt(jwt, &keys)
        .unwrap_or_else(|e| panic!("the token does not verify against the JWKS: {e}"))
}

/// The sign-in form as a browser sees it.
pub struct LoginForm {
    pub action: String,
    pub request: String,
    pub csrf: String,
    pub page: TestResponse,
}

/// Follows an authorization request to the sign-in page and reads its form.
pub async fn open_login(browser: &Browser, authorize_url: &str) -> LoginForm {
    let r = browser.get(authorize_url).await;
    assert_eq!(r.status, 302, "authorize: {}", r.text);
    let login_url = location(&r);
    assert!(login_url.contains("/login?request="), "{login_url}");
    let page = browser.get(&login_url).await;
    assert_eq!(page.status, 200, "{}", page.text);
    LoginForm {
        action: login_url.split('?').next().unwrap().to_string(),
        request: hidden_input(&page.text, "request"),
        csrf: hidden_input(&page.text, "csrf"),
        page,
    }
}

/// Submits the sign-in form in `browser`.
pub async fn submit_login(
    browser: &Browser,
    form: &LoginForm,
    username: &str,
    password: &str,
) -> TestResponse {
    browser
        .post_form(
            &form.action,
            &[
                ("request", &form.request),
                ("csrf", &form.csrf),
                ("username", username),
                ("password", password),
            ],
        )
        .await
}

/// The text of the sign-in form's error message, if the page shows one.
pub fn form_error(html: &str) -> Option<String> {
    let start = html.find("id=\"form-error\">")? + "id=\"form-error\">".len();
    let end = html[start..].find("</p>")? + start;
    Some(html[start..end].trim().to_string())
}

/// The `Set-Cookie` header that sets cookie `name`, if any.
pub fn set_cookie<'a>(r: &'a TestResponse, name: &str) -> Option<&'a str> {
    r.headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
}

/// The value a `Set-Cookie` header sets.
pub fn cookie_value(set_cookie: &str) -> String {
    let pair = set_cookie.split(';').next().unwrap();
    pair.split_once('=').unwrap().1.to_string()
}

/// Asserts an HTML error page that does not redirect.
pub fn assert_error_page(r: &TestResponse) {
    assert!(
        (400..500).contains(&r.status),
        "an error status: {} {}",
        r.status,
        r.text
    );
    assert!(
        r.header("location").is_none(),
        "an error page never redirects, got Location {:?}",
        r.header("location")
    );
    assert!(
        r.header("content-type")
            .is_some_and(|c| c.starts_with("text/html")),
        "an HTML page: {:?}",
        r.header("content-type")
    );
}

/// `prompt=none` for Grafana in `browser`: the redirect it answers with (never a page), and the
/// PKCE verifier of the request.
pub async fn grafana_prompt_none(server: &TestServer, browser: &Browser) -> (String, String) {
    let (verifier, challenge) = pkce();
    let r = browser
        .get(&grafana_authorize(
            server,
            &challenge,
            "openid",
            &[("prompt", "none")],
        ))
        .await;
    assert_eq!(
        r.status, 302,
        "prompt=none answers with a redirect: {}",
        r.text
    );
    let back = location(&r);
    assert!(back.starts_with(GRAFANA_REDIRECT), "{back}");
    (back, verifier)
}
