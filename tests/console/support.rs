//! A console user for tests: a cookie-keeping HTTP client that signed in through `/admin`.

use clavex_testkit::{TestResponse, TestServer};
use serde_json::{Value, json};

use crate::oidc::support::{Browser, hidden_input, location};

/// Password every console account made by these helpers gets.
pub const PASSWORD: &str = "console-password-1";

/// Creates a console account through the Admin API: a superadmin when `orgs` is empty, else an
/// admin of those orgs. Returns its id.
pub async fn create_account(server: &TestServer, username: &str, orgs: &[&str]) -> String {
    let r = server
        .admin(
            "POST",
            "/api/v1/admins",
            Some(json!({
                "username": username,
                "password": PASSWORD,
                "superadmin": orgs.is_empty(),
                "orgs": orgs,
            })),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.json()["id"].as_str().unwrap().to_string()
}

/// A browser signed in to the console.
pub struct ConsoleUser<'a> {
    pub server: &'a TestServer,
    pub browser: Browser,
}

impl<'a> ConsoleUser<'a> {
    /// Signs `username` in through the real flow: `/admin` → `/admin/signin` → the console org's
    /// authorize and login pages → `/admin/callback` → `/admin`.
    pub async fn sign_in(server: &'a TestServer, username: &str) -> ConsoleUser<'a> {
        Self::sign_in_with(server, username, PASSWORD).await
    }

    /// Like [`ConsoleUser::sign_in`], with `password` instead of [`PASSWORD`].
    pub async fn sign_in_with(
        server: &'a TestServer,
        username: &str,
        password: &str,
    ) -> ConsoleUser<'a> {
        let browser = Browser::new();
        let r = browser.get(&server.url("/admin")).await;
        assert_eq!(r.status, 303, "{}", r.text);
        let signin = location(&r);
        assert!(signin.starts_with("/admin/signin"), "{signin}");
        let r = browser.get(&server.url(&signin)).await;
        assert_eq!(r.status, 303, "{}", r.text);
        let authorize = location(&r);
        assert!(authorize.starts_with("/admin/authorize?"), "{authorize}");
        let r = browser.get(&server.url(&authorize)).await;
        assert_eq!(r.status, 302, "authorize: {}", r.text);
        let login_url = location(&r);
        let page = browser.get(&login_url).await;
        assert_eq!(page.status, 200, "{}", page.text);
        let action = login_url.split('?').next().unwrap().to_string();
        let r = browser
            .post_form(
                &action,
                &[
                    ("request", &hidden_input(&page.text, "request")),
                    ("csrf", &hidden_input(&page.text, "csrf")),
                    ("username", username),
                    ("password", password),
                ],
            )
            .await;
        assert_eq!(r.status, 303, "login: {}", r.text);
        let callback = location(&r);
        assert!(callback.contains("/admin/callback?"), "{callback}");
        let r = browser.get(&callback).await;
        assert_eq!(r.status, 303, "callback: {}", r.text);
        assert_eq!(location(&r), "/admin");
        ConsoleUser { server, browser }
    }

    pub async fn get(&self, path: &str) -> TestResponse {
        self.browser.get(&self.server.url(path)).await
    }

    /// This session's CSRF token, read from a page.
    pub async fn csrf(&self) -> String {
        let page = self.get("/admin").await;
        assert_eq!(page.status, 200, "{}", page.text);
        hidden_input(&page.text, "csrf")
    }

    /// Posts a form with this session's CSRF token added.
    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> TestResponse {
        let csrf = self.csrf().await;
        let mut fields: Vec<(&str, &str)> = vec![("csrf", &csrf)];
        fields.extend_from_slice(form);
        self.browser
            .post_form(&self.server.url(path), &fields)
            .await
    }

    /// Posts a form exactly as given (no CSRF token added).
    pub async fn post_raw(&self, path: &str, form: &[(&str, &str)]) -> TestResponse {
        self.browser.post_form(&self.server.url(path), form).await
    }
}

/// The JSON of an Admin API GET, asserting 200.
pub async fn api_get(server: &TestServer, path: &str) -> Value {
    let r = server.admin("GET", path, None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json()
}

/// Whether the console org's sign-in form accepts `username` and `password` (a fresh browser,
/// through `/admin/signin`): true when it redirects back to the console, false when it answers
/// 401 "incorrect".
pub async fn password_accepted(server: &TestServer, username: &str, password: &str) -> bool {
    let browser = Browser::new();
    let r = browser.get(&server.url("/admin/signin")).await;
    assert_eq!(r.status, 303, "{}", r.text);
    let r = browser.get(&server.url(&location(&r))).await;
    assert_eq!(r.status, 302, "authorize: {}", r.text);
    let login_url = location(&r);
    let page = browser.get(&login_url).await;
    assert_eq!(page.status, 200, "{}", page.text);
    let action = login_url.split('?').next().unwrap().to_string();
    let r = browser
        .post_form(
            &action,
            &[
                ("request", &hidden_input(&page.text, "request")),
                ("csrf", &hidden_input(&page.text, "csrf")),
                ("username", username),
                ("password", password),
            ],
        )
        .await;
    match r.status {
        303 => true,
        401 => false,
        other => panic!("login answered {other}: {}", r.text),
    }
}

/// The whole tag of the element with `id` on a page.
pub fn input_tag<'a>(html: &'a str, id: &str) -> Option<&'a str> {
    let at = html.find(&format!("id=\"{id}\""))?;
    let start = html[..at].rfind('<')?;
    let end = at + html[at..].find('>')?;
    Some(&html[start..=end])
}

/// The `value` of the input with `id` on a page.
pub fn input_value(html: &str, id: &str) -> Option<String> {
    let tag = input_tag(html, id)?;
    let v = tag.find("value=\"")? + "value=\"".len();
    let end = tag[v..].find('"')? + v;
    Some(tag[v..end].to_string())
}

/// Whether the element with `id` is marked `aria-invalid`.
pub fn marked_invalid(page: &TestResponse, id: &str) -> bool {
    input_tag(&page.text, id).is_some_and(|tag| tag.contains("aria-invalid=\"true\""))
}

/// The text of the error shown for `field` (`id="FIELD-error"`), which may be a group of inputs.
#[track_caller]
pub fn error_text(page: &TestResponse, field: &str) -> String {
    let marker = format!("id=\"{field}-error\">");
    let start = page
        .text
        .find(&marker)
        .unwrap_or_else(|| panic!("no error for {field}: {}", page.text))
        + marker.len();
    let end = page.text[start..].find('<').unwrap() + start;
    page.text[start..end].to_string()
}

/// The error shown next to the input `field`, asserting that the input is marked invalid and
/// points at it.
#[track_caller]
pub fn field_error(page: &TestResponse, field: &str) -> String {
    let text = error_text(page, field);
    let tag = input_tag(&page.text, field).unwrap_or_else(|| panic!("no input {field}"));
    assert!(
        tag.contains("aria-invalid=\"true\""),
        "{field} is aria-invalid: {tag}"
    );
    assert!(
        tag.contains(&format!("{field}-error")),
        "{field} points at its error: {tag}"
    );
    text
}
