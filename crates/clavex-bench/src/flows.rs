//! One whole browser sign-in, as a relying party and a browser would do it.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use sha2::{Digest, Sha256};

use crate::seed::{Fixture, Target};

fn hidden(html: &str, name: &str) -> anyhow::Result<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).context("hidden input missing")? + marker.len();
    let end = html[start..].find('"').context("unterminated input")? + start;
    Ok(html[start..end].to_string())
}

fn location(r: &reqwest::Response) -> anyhow::Result<String> {
    Ok(r.headers()
        .get("location")
        .context("no Location header")?
        .to_str()?
        .to_string())
}

/// Tokens from a completed code flow, for the refresh and userinfo workloads.
pub struct Tokens {
    pub access_token: String,
    pub refresh_token: String,
}

/// authorize → sign-in form → POST credentials → code → token → userinfo; returns the wall time.
pub async fn whole_signin(target: &Target, f: &Fixture) -> anyhow::Result<Duration> {
    let start = Instant::now();
    code_flow(target, f, 0).await?;
    Ok(start.elapsed())
}

/// One whole sign-in, every request sent to connection `conn`'s node.
pub async fn code_flow(target: &Target, f: &Fixture, conn: usize) -> anyhow::Result<Tokens> {
    let node = target.node(conn);
    // A fresh browser each time: no SSO session, so every run checks a password.
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let verifier = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let mut auth = url::Url::parse(&format!("{node}/{}/authorize", f.org))?;
    auth.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &f.client_id)
        .append_pair("redirect_uri", &f.redirect_uri)
        .append_pair("scope", "openid profile email groups")
        .append_pair("state", "bench")
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256");
    let r = browser.get(auth).send().await?;
    let login = target.via(conn, &location(&r)?);
    let page = browser.get(&login).send().await?.text().await?;
    let action = login.split('?').next().unwrap_or_default().to_string();
    let r = browser
        .post(&action)
        .form(&[
            ("request", hidden(&page, "request")?),
            ("csrf", hidden(&page, "csrf")?),
            ("username", f.username.clone()),
            ("password", f.password.clone()),
        ])
        .send()
        .await?;
    if r.status().as_u16() != 303 {
        bail!("sign-in answered {}", r.status());
    }
    let back = url::Url::parse(&location(&r)?)?;
    let code = back
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .context("no code in the redirect")?;
    let tokens: serde_json::Value = target
        .http
        .post(format!("{node}/{}/token", f.org))
        .basic_auth(&f.client_id, Some(&f.client_secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", f.redirect_uri.as_str()),
            ("code_verifier", verifier.as_str()),
        ])
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let access = tokens["access_token"].as_str().context("no access_token")?;
    target
        .http
        .get(format!("{node}/{}/userinfo", f.org))
        .bearer_auth(access)
        .send()
        .await?
        .error_for_status()?;
    Ok(Tokens {
        access_token: access.to_string(),
        refresh_token: tokens["refresh_token"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    })
}
