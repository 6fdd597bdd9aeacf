//! Browser flows as a relying party and a browser would run them, against any provider: follow
//! redirects from the authorization endpoint, fill in the first sign-in form met (its hidden
//! fields plus `username` and `password`), stop at the redirect URI, then exchange the code.
//!
//! A [`Browser`] is only a cookie jar: every request goes through the connection's own
//! `reqwest::Client` (keep-alive), so a "fresh browser" costs the load generator no new TLS
//! config or connection pool.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use sha2::{Digest, Sha256};

use crate::seed::{Fixture, Target};

/// Redirects and forms followed before a flow is declared lost.
const MAX_STEPS: usize = 10;

/// Cookies by name; paths and domains are ignored (every flow stays on one host).
#[derive(Default, Clone)]
pub struct Browser {
    cookies: Vec<(String, String)>,
}

impl Browser {
    fn header(&self) -> Option<String> {
        (!self.cookies.is_empty()).then(|| {
            self.cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ")
        })
    }

    fn absorb(&mut self, resp: &reqwest::Response) {
        for value in resp.headers().get_all(SET_COOKIE) {
            let Ok(value) = value.to_str() else { continue };
            let mut parts = value.split(';');
            let Some((name, val)) = parts.next().and_then(|p| p.split_once('=')) else {
                continue;
            };
            let name = name.trim().to_string();
            let expired = parts.any(|a| {
                let a = a.trim().to_ascii_lowercase();
                a == "max-age=0" || a.starts_with("expires=thu, 01 jan 1970")
            });
            self.cookies.retain(|(k, _)| *k != name);
            if !expired && !val.is_empty() {
                self.cookies.push((name, val.trim().to_string()));
            }
        }
    }

    fn send(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match self.header() {
            Some(c) => req.header(COOKIE, c),
            None => req,
        }
    }
}

/// Tokens from a code exchange or a refresh.
pub struct Tokens {
    pub access_token: String,
    pub refresh_token: String,
}

/// A PKCE verifier and its S256 challenge.
struct Pkce {
    verifier: String,
    challenge: String,
}

impl Pkce {
    fn new() -> Pkce {
        let verifier = format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        Pkce {
            verifier,
            challenge,
        }
    }
}

/// A code and the HTTP requests it took to get it.
pub struct Authorized {
    code: String,
    verifier: String,
    pub requests: u32,
}

/// authorize → … → the redirect URI with a code. With `sign_in`, the first HTML form met is
/// filled in with the fixture's credentials; without it (an SSO session in `browser`), a form is
/// an error.
pub async fn authorize(
    target: &Target,
    http: &reqwest::Client,
    conn: usize,
    f: &Fixture,
    browser: &mut Browser,
    sign_in: bool,
) -> anyhow::Result<Authorized> {
    let pkce = Pkce::new();
    let mut url = url::Url::parse(&target.via(conn, &f.endpoints.authorize))?;
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &f.client_id)
        .append_pair("redirect_uri", &f.redirect_uri)
        .append_pair("scope", &f.scope)
        .append_pair("state", "bench")
        .append_pair("code_challenge", &pkce.challenge)
        .append_pair("code_challenge_method", "S256");
    let mut form: Option<Vec<(String, String)>> = None;
    let mut submitted = false;
    for step in 1..=MAX_STEPS {
        let req = match form.take() {
            Some(fields) => http.post(url.clone()).form(&fields),
            None => http.get(url.clone()),
        };
        let resp = browser
            .send(req)
            .send()
            .await
            .with_context(|| format!("step {step}: {}", url.path()))?;
        browser.absorb(&resp);
        let status = resp.status();
        if status.is_redirection() {
            let location = resp
                .headers()
                .get(LOCATION)
                .context("a redirect without Location")?
                .to_str()?;
            let next = url.join(location)?;
            if next.as_str().starts_with(&f.redirect_uri) {
                let code = next
                    .query_pairs()
                    .find(|(k, _)| k == "code")
                    .map(|(_, v)| v.into_owned());
                let Some(code) = code else {
                    let error: Vec<String> = next
                        .query_pairs()
                        .filter(|(k, _)| k == "error" || k == "error_description")
                        .map(|(_, v)| v.into_owned())
                        .collect();
                    bail!("redirected back without a code: {}", error.join(": "));
                };
                return Ok(Authorized {
                    code,
                    verifier: pkce.verifier,
                    requests: step as u32,
                });
            }
            url = url::Url::parse(&target.via(conn, next.as_str()))?;
            continue;
        }
        let body = resp.text().await?;
        if !status.is_success() {
            bail!("{} answered {status}: {}", url.path(), snippet(&body));
        }
        if !sign_in {
            bail!(
                "{} showed a page although the browser has a session",
                url.path()
            );
        }
        if submitted {
            bail!("the sign-in form came back after submitting it (wrong credentials?)");
        }
        let (action, mut fields) = parse_form(&body).context("no sign-in form on the page")?;
        fields.push(("username".into(), f.username.clone()));
        fields.push(("password".into(), f.password.clone()));
        url = url::Url::parse(&target.via(conn, url.join(&action)?.as_str()))?;
        form = Some(fields);
        submitted = true;
    }
    bail!("no code after {MAX_STEPS} redirects and forms")
}

/// The code exchange at the token endpoint (client_secret_basic, PKCE).
pub async fn redeem(
    target: &Target,
    http: &reqwest::Client,
    conn: usize,
    f: &Fixture,
    auth: &Authorized,
) -> anyhow::Result<Tokens> {
    let resp = http
        .post(target.via(conn, &f.endpoints.token))
        .basic_auth(&f.client_id, Some(&f.client_secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", auth.code.as_str()),
            ("redirect_uri", f.redirect_uri.as_str()),
            ("code_verifier", auth.verifier.as_str()),
        ])
        .send()
        .await?;
    tokens(resp).await
}

/// Reads a token response; any status but 200 is an error that quotes the body.
pub async fn tokens(resp: reqwest::Response) -> anyhow::Result<Tokens> {
    let status = resp.status();
    let body = resp.bytes().await?;
    token_answer(status, &body)
}

/// A token endpoint answer's tokens, or its error (both HTTP clients of the bench share
/// `http::StatusCode`).
pub fn token_answer(status: reqwest::StatusCode, body: &[u8]) -> anyhow::Result<Tokens> {
    if !status.is_success() {
        bail!(
            "token endpoint answered {status}: {}",
            snippet(&String::from_utf8_lossy(body))
        );
    }
    let json: serde_json::Value =
        serde_json::from_slice(body).context("the token response is not JSON")?;
    Ok(Tokens {
        access_token: json["access_token"]
            .as_str()
            .context("no access_token")?
            .to_string(),
        refresh_token: json["refresh_token"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    })
}

/// A whole password sign-in in a fresh browser: authorize → form → code → token. Returns the
/// tokens, the browser (now holding the SSO session) and the HTTP requests made.
pub async fn sign_in(
    target: &Target,
    http: &reqwest::Client,
    conn: usize,
    f: &Fixture,
) -> anyhow::Result<(Tokens, Browser, u32)> {
    let mut browser = Browser::default();
    let auth = authorize(target, http, conn, f, &mut browser, true).await?;
    let tokens = redeem(target, http, conn, f, &auth).await?;
    Ok((tokens, browser, auth.requests + 1))
}

/// One whole sign-in's wall time (the `signin` command).
pub async fn timed_sign_in(target: &Target, f: &Fixture) -> anyhow::Result<Duration> {
    let start = Instant::now();
    sign_in(target, &target.http, 0, f).await?;
    Ok(start.elapsed())
}

/// The action and hidden fields of the first `<form>` in `html`.
fn parse_form(html: &str) -> Option<(String, Vec<(String, String)>)> {
    let start = html.find("<form")?;
    let form = &html[start..];
    let end = form.find("</form>").unwrap_or(form.len());
    let form = &form[..end];
    let tag_end = form.find('>')?;
    let action = attribute(&form[..tag_end], "action").unwrap_or_default();
    let mut fields = Vec::new();
    let mut rest = form;
    while let Some(i) = rest.find("<input") {
        rest = &rest[i..];
        let close = rest.find('>').unwrap_or(rest.len());
        let tag = &rest[..close];
        if attribute(tag, "type").as_deref() == Some("hidden")
            && let Some(name) = attribute(tag, "name")
        {
            fields.push((name, attribute(tag, "value").unwrap_or_default()));
        }
        rest = &rest[close..];
    }
    Some((action, fields))
}

/// A double-quoted attribute of one tag, with the entities templates emit decoded.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let marker = format!(" {name}=\"");
    let start = tag.find(&marker)? + marker.len();
    let end = tag[start..].find('"')? + start;
    Some(unescape(&tag[start..end]))
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&#60;", "<")
        .replace("&gt;", ">")
        .replace("&#62;", ">")
        .replace("&amp;", "&")
        .replace("&#38;", "&")
}

/// The start of a response body, for error messages.
pub fn snippet(body: &str) -> String {
    let flat: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    flat.chars().take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_form_action_and_hidden_fields() {
        let html = r#"<p>x</p><form method="post" action="/acme/login?x=1&amp;y=2" novalidate>
<input type="hidden" name="request" value="r&#39;1">
<input type="hidden" name="csrf" value="c2">
<input id="username" name="username" type="text" value="">
</form><form action="/other"><input type="hidden" name="no" value="no"></form>"#;
        let (action, fields) = parse_form(html).expect("a form");
        assert_eq!(action, "/acme/login?x=1&y=2");
        assert_eq!(
            fields,
            vec![
                ("request".to_string(), "r'1".to_string()),
                ("csrf".to_string(), "c2".to_string())
            ]
        );
        assert!(parse_form("<p>no form</p>").is_none());
    }
}
