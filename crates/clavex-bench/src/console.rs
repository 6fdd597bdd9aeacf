//! `console`: how fast the Admin Console's users page renders for a large org (issue #4).
//!
//! Seeds org `bench-console` with N users through the Admin API (no passwords, so no Argon2),
//! makes a console superadmin `bench-root`, signs it in through the real console flow with a
//! cookie-keeping browser, then times GETs of the users page one after another: the first page,
//! a deep page (reached by following "Next" links), and three searches. It also reports the bytes
//! of each page and of the console's stylesheet and script.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::{ms, seed::Target};

/// The org the console benchmark seeds and reads.
pub const ORG: &str = "bench-console";
/// The console superadmin the benchmark signs in as.
const ADMIN_USERNAME: &str = "bench-root";
const ADMIN_PASSWORD: &str = "bench-root-password-1";

#[rustfmt::skip]
const GIVEN: [&str; 24] = [
    "Ada", "Alan", "Barbara", "Claude", "Donald", "Edsger", "Frances", "Grace", "Hedy", "Ivan",
    "Jean", "Ken", "Leslie", "Margaret", "Niklaus", "Ole", "Peter", "Radia", "Shafi", "Tim",
    "Ursula", "Vint", "Whitfield", "Yukihiro",
];
#[rustfmt::skip]
const FAMILY: [&str; 25] = [
    "Allen", "Backus", "Codd", "Dijkstra", "Engelbart", "Floyd", "Goldwasser", "Hamilton",
    "Hopper", "Iverson", "Jones", "Kay", "Lamport", "Liskov", "Martin", "Naur", "Ousterhout",
    "Perlman", "Ritchie", "Sammet", "Thompson", "Ullman", "Wirth", "Yao", "Zuse",
];

/// The surname most searches in the "many" case hit: one user in 25 has it.
const COMMON_FAMILY: &str = "Martin";

pub struct Options {
    pub seed_users: usize,
    pub seed_concurrency: usize,
    pub runs: usize,
    pub deep_pages: usize,
}

/// Username, email and display name of seeded user `i`.
fn seeded(i: usize) -> (String, String, String, &'static str, &'static str) {
    let username = format!("user{i:06}");
    let email = format!("{username}@example.com");
    let given = GIVEN[i % GIVEN.len()];
    let family = FAMILY[(i / GIVEN.len()) % FAMILY.len()];
    (username, email, format!("{given} {family}"), given, family)
}

/// One Admin API call: (status, JSON body or Null).
async fn api(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> anyhow::Result<(StatusCode, Value)> {
    let mut req = http
        .request(method.clone(), format!("{base}/api/v1{path}"))
        .bearer_auth(token);
    if let Some(body) = body {
        req = req.json(&body);
    }
    let r = req
        .send()
        .await
        .with_context(|| format!("{method} {path}"))?;
    let status = r.status();
    let text = r.text().await?;
    Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
}

async fn api_ok(
    target: &Target,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> anyhow::Result<Value> {
    let (status, value) = api(
        &target.http,
        &target.base,
        &target.admin_token,
        method.clone(),
        path,
        body,
    )
    .await?;
    if !status.is_success() {
        bail!("{method} {path}: {status}: {value}");
    }
    Ok(value)
}

/// How many users of the org match `q` through the Admin API, counting at most `cap`.
async fn api_matches(target: &Target, q: &str, cap: usize) -> anyhow::Result<usize> {
    let mut url = url::Url::parse("http://x/")?;
    url.query_pairs_mut()
        .append_pair("q", q)
        .append_pair("limit", "200");
    let mut cursor: Option<String> = None;
    let mut count = 0;
    loop {
        let mut query = url.query().unwrap_or_default().to_string();
        if let Some(c) = &cursor {
            query.push_str("&cursor=");
            query.push_str(c);
        }
        let page = api_ok(
            target,
            Method::GET,
            &format!("/organizations/{ORG}/users?{query}"),
            None,
        )
        .await?;
        count += page["items"].as_array().map_or(0, Vec::len);
        match page["next_cursor"].as_str() {
            Some(c) if count < cap => cursor = Some(c.to_string()),
            _ => return Ok(count),
        }
    }
}

async fn ensure_org(target: &Target) -> anyhow::Result<()> {
    let (status, value) = api(
        &target.http,
        &target.base,
        &target.admin_token,
        Method::GET,
        &format!("/organizations/{ORG}"),
        None,
    )
    .await?;
    match status.as_u16() {
        200 => Ok(()),
        404 => {
            api_ok(
                target,
                Method::POST,
                "/organizations",
                Some(json!({ "slug": ORG, "name": "Bench console", "signing_alg": "ES256" })),
            )
            .await?;
            Ok(())
        }
        _ => bail!("GET /organizations/{ORG}: {status}: {value}"),
    }
}

/// Creates users `0..n` unless the first and last already exist. Duplicates (409) from an
/// interrupted earlier run count as done.
async fn seed_users(target: &Target, n: usize, concurrency: usize) -> anyhow::Result<()> {
    if n == 0 {
        return Ok(());
    }
    let first = seeded(0).0;
    let last = seeded(n - 1).0;
    if api_matches(target, &first, 1).await? == 1 && api_matches(target, &last, 1).await? == 1 {
        println!("seed: {ORG} already has {first}..{last}, skipping");
        return Ok(());
    }
    let start = Instant::now();
    let next = Arc::new(AtomicUsize::new(0));
    let created = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::with_capacity(concurrency);
    for _ in 0..concurrency.max(1) {
        let next = next.clone();
        let created = created.clone();
        let http = target.http.clone();
        let base = target.base.clone();
        let token = target.admin_token.clone();
        tasks.push(tokio::spawn(async move {
            let path = format!("/organizations/{ORG}/users");
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return anyhow::Ok(());
                }
                let (username, email, name, given, family) = seeded(i);
                let body = json!({
                    "username": username,
                    "email": email,
                    "name": name,
                    "given_name": given,
                    "family_name": family,
                    "email_verified": !i.is_multiple_of(3),
                    "disabled": i.is_multiple_of(97),
                });
                let (status, value) =
                    api(&http, &base, &token, Method::POST, &path, Some(body)).await?;
                if !(status.is_success() || status == StatusCode::CONFLICT) {
                    bail!("POST {path} ({username}): {status}: {value}");
                }
                let done = created.fetch_add(1, Ordering::Relaxed) + 1;
                if done.is_multiple_of(10_000) {
                    println!("seed: {done}/{n} users");
                }
            }
        }));
    }
    for task in tasks {
        task.await??;
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "seed: {n} users in {secs:.1} s ({:.0} users/s, {concurrency} connections)",
        n as f64 / secs
    );
    Ok(())
}

/// Makes `bench-root` a console superadmin with the benchmark's password.
async fn ensure_admin(target: &Target) -> anyhow::Result<()> {
    let list = api_ok(target, Method::GET, "/admins", None).await?;
    let existing = list["items"].as_array().and_then(|items| {
        items
            .iter()
            .find(|a| a["username"] == ADMIN_USERNAME)
            .and_then(|a| a["id"].as_str().map(str::to_string))
    });
    match existing {
        // Reset the password so that a repeated run can sign in whatever happened before.
        Some(id) => {
            api_ok(
                target,
                Method::PATCH,
                &format!("/admins/{id}"),
                Some(json!({ "password": ADMIN_PASSWORD, "superadmin": true, "disabled": false })),
            )
            .await?;
        }
        None => {
            api_ok(
                target,
                Method::POST,
                "/admins",
                Some(json!({
                    "username": ADMIN_USERNAME,
                    "password": ADMIN_PASSWORD,
                    "superadmin": true,
                })),
            )
            .await?;
        }
    }
    Ok(())
}

fn location(r: &reqwest::Response, from: &url::Url) -> anyhow::Result<url::Url> {
    let to = r
        .headers()
        .get("location")
        .context("no Location header")?
        .to_str()?;
    Ok(from.join(to)?)
}

fn hidden(html: &str, name: &str) -> anyhow::Result<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .with_context(|| format!("hidden input {name} missing"))?
        + marker.len();
    let end = html[start..].find('"').context("unterminated input")? + start;
    Ok(html[start..end].to_string())
}

/// GETs `url` expecting `status`; returns the response's Location resolved against `url`.
async fn expect_redirect(
    browser: &reqwest::Client,
    url: &url::Url,
    status: u16,
) -> anyhow::Result<url::Url> {
    let r = browser.get(url.clone()).send().await?;
    if r.status().as_u16() != status {
        bail!("GET {url}: expected {status}, got {}", r.status());
    }
    location(&r, url)
}

/// A browser signed in to the console through `/admin` → `/admin/signin` → the console org's
/// authorize and login pages → `/admin/callback` → `/admin`.
async fn sign_in(target: &Target) -> anyhow::Result<reqwest::Client> {
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let home = url::Url::parse(&format!("{}/admin", target.base))?;
    let signin = expect_redirect(&browser, &home, 303).await?;
    if !signin.path().ends_with("/admin/signin") {
        bail!("/admin redirected to {signin}, not the console sign-in");
    }
    let authorize = expect_redirect(&browser, &signin, 303).await?;
    let login = expect_redirect(&browser, &authorize, 302).await?;
    let page = browser.get(login.clone()).send().await?;
    if page.status() != StatusCode::OK {
        bail!("GET {login}: {}", page.status());
    }
    let page = page.text().await?;
    let mut action = login.clone();
    action.set_query(None);
    let r = browser
        .post(action.clone())
        .form(&[
            ("request", hidden(&page, "request")?.as_str()),
            ("csrf", hidden(&page, "csrf")?.as_str()),
            ("username", ADMIN_USERNAME),
            ("password", ADMIN_PASSWORD),
        ])
        .send()
        .await?;
    if r.status().as_u16() != 303 {
        bail!("console sign-in answered {}", r.status());
    }
    let callback = location(&r, &action)?;
    let back = expect_redirect(&browser, &callback, 303).await?;
    if !back.path().ends_with("/admin") {
        bail!("the console callback redirected to {back}, not /admin");
    }
    Ok(browser)
}

/// GETs a page and returns its body, failing unless it is 200.
async fn fetch(browser: &reqwest::Client, url: &str) -> anyhow::Result<String> {
    let r = browser.get(url).send().await?;
    let status = r.status();
    let body = r.text().await?;
    if status != StatusCode::OK {
        bail!("GET {url}: {status}");
    }
    Ok(body)
}

/// The cursor of the page's "Next" link: the first `cursor=` inside an `href`.
fn next_cursor(html: &str) -> Option<String> {
    let mut rest = html;
    while let Some(at) = rest.find("href=\"") {
        let after = &rest[at + 6..];
        let end = after.find('"')?;
        let href = after[..end].replace("&amp;", "&");
        if let Some(c) = href.find("cursor=") {
            let value = &href[c + 7..];
            let value = value.split('&').next().unwrap_or_default();
            if !value.is_empty() {
                return Some(value.to_string());
            }
        }
        rest = &after[end..];
    }
    None
}

/// Median, p95 and max of the samples (nearest rank).
struct Summary {
    p50: Duration,
    p95: Duration,
    max: Duration,
}

impl Summary {
    fn of(samples: &mut [Duration]) -> Summary {
        samples.sort_unstable();
        let at = |q: f64| -> Duration {
            if samples.is_empty() {
                return Duration::ZERO;
            }
            let rank = ((q * samples.len() as f64).ceil() as usize).clamp(1, samples.len());
            samples[rank - 1]
        };
        Summary {
            p50: at(0.50),
            p95: at(0.95),
            max: at(1.0),
        }
    }
}

struct Case {
    name: String,
    path: String,
    matches: Option<String>,
    summary: Summary,
    bytes: usize,
}

pub async fn run(target: &Target, opts: &Options) -> anyhow::Result<()> {
    ensure_org(target).await?;
    seed_users(target, opts.seed_users, opts.seed_concurrency).await?;
    ensure_admin(target).await?;
    let browser = sign_in(target).await?;

    let users = format!("{}/admin/orgs/{ORG}/users", target.base);
    // Follow "Next" `deep_pages` times, untimed, to reach a deep page.
    let mut deep = users.clone();
    let mut depth = 0;
    for _ in 0..opts.deep_pages {
        let page = fetch(&browser, &deep).await?;
        match next_cursor(&page) {
            Some(cursor) => {
                deep = format!("{users}?cursor={cursor}");
                depth += 1;
            }
            None => break,
        }
    }
    if depth < opts.deep_pages {
        println!(
            "note: the users page had only {} pages of Next links",
            depth + 1
        );
    }

    let one = seeded(opts.seed_users.saturating_sub(1) * 11 / 20).0;
    let searches = [
        ("search, 1 match", one),
        ("search, many", COMMON_FAMILY.to_string()),
        ("search, no match", "zz-no-such-user".to_string()),
    ];
    let mut cases = vec![
        ("first page".to_string(), users.clone(), None),
        (format!("page {} (deep)", depth + 1), deep, None),
    ];
    for (name, q) in &searches {
        let mut url = url::Url::parse(&users)?;
        url.query_pairs_mut().append_pair("q", q);
        let matches = api_matches(target, q, 1000).await?;
        let matches = if matches >= 1000 {
            "1000+".to_string()
        } else {
            matches.to_string()
        };
        cases.push((format!("{name} (q={q})"), url.to_string(), Some(matches)));
    }

    let mut results = Vec::new();
    for (name, url, matches) in cases {
        // One untimed request first, so every case starts with warm caches.
        let body = fetch(&browser, &url).await?;
        let mut times = Vec::with_capacity(opts.runs);
        for _ in 0..opts.runs {
            let start = Instant::now();
            let body = fetch(&browser, &url).await?;
            times.push(start.elapsed());
            std::hint::black_box(body);
        }
        results.push(Case {
            path: url.trim_start_matches(&target.base).to_string(),
            name,
            matches,
            summary: Summary::of(&mut times),
            bytes: body.len(),
        });
    }

    let css = fetch(&browser, &format!("{}/static/console.css", target.base))
        .await?
        .len();
    let js = fetch(&browser, &format!("{}/static/console.js", target.base))
        .await?
        .len();

    println!(
        "console users page, org {ORG} ({} users seeded), {} runs per case, one after another:",
        opts.seed_users, opts.runs
    );
    println!("| case | matches | median | p95 | max | HTML bytes |\n|---|---|---|---|---|---|");
    for c in &results {
        println!(
            "| {} | {} | {:.1} ms | {:.1} ms | {:.1} ms | {} |",
            c.name,
            c.matches.as_deref().unwrap_or("-"),
            ms(c.summary.p50),
            ms(c.summary.p95),
            ms(c.summary.max),
            c.bytes
        );
    }
    for c in &results {
        println!("  {}: GET {}", c.name, c.path);
    }
    let heaviest = results.iter().max_by_key(|c| c.bytes).context("no cases")?;
    println!("console.css: {css} bytes; console.js: {js} bytes");
    println!(
        "heaviest page: {} = {} HTML + {css} CSS + {js} JS = {} bytes (uncompressed)",
        heaviest.name,
        heaviest.bytes,
        heaviest.bytes + css + js
    );
    let slowest = results
        .iter()
        .map(|c| c.summary.p95)
        .max()
        .unwrap_or(Duration::ZERO);
    println!(
        "slowest p95: {:.1} ms ({} the 200 ms budget of issue #4)",
        ms(slowest),
        if slowest < Duration::from_millis(200) {
            "within"
        } else {
            "OVER"
        }
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_cursor_reads_the_pager_link() {
        let html = r#"<a href="/admin/orgs/x/users/1">u</a>
            <p class="pager"><a href="/admin/orgs/x/users?q=a&amp;cursor=abc_-1">Next page</a></p>"#;
        assert_eq!(next_cursor(html).as_deref(), Some("abc_-1"));
        assert_eq!(next_cursor("<a href=\"/admin\">x</a>"), None);
    }

    #[test]
    fn seeded_users_are_varied() {
        let (u, e, n, _, _) = seeded(123);
        assert_eq!(u, "user000123");
        assert_eq!(e, "user000123@example.com");
        assert_ne!(n, seeded(124).2);
        let martins = (0..100_000)
            .filter(|&i| seeded(i).2.contains(COMMON_FAMILY))
            .count();
        assert!((3_900..4_100).contains(&martins), "{martins}");
    }
}
