//! No secret in any log line, at any level: a real `clavex serve` logging everything
//! (`CLAVEX_LOG=trace`), in both formats, goes through every path that handles a secret —
//! passwords right and wrong, client secrets right and wrong, codes (redeemed and replayed),
//! access, refresh and ID tokens, CSRF fields, cookies, rotated secrets, logout hints — and then
//! its whole stderr is searched for each of them. The full suite gets the same search over every
//! log it writes, in `.ci/run` (`CLAVEX_TEST_LOG_DIR`, `check-log-secrets`).

use clavex_testkit::{TestResponse, TestServer, log_capture::leaks_in};
use serde_json::json;

use super::support::*;
use crate::oidc::{rp::*, support::*};

#[tokio::test]
async fn no_secret_reaches_the_text_log() {
    walk_and_search("text").await;
}

#[tokio::test]
async fn no_secret_reaches_the_json_log() {
    walk_and_search("json").await;
}

/// Every secret the walk handled, to be searched for in the log.
#[derive(Default)]
struct Secrets(Vec<String>);

impl Secrets {
    fn add(&mut self, s: &str) {
        assert!(
            s.len() >= 8,
            "a secret this short could match by chance: {s:?}"
        );
        self.0.push(s.to_owned());
    }

    fn add_cookies(&mut self, r: &TestResponse) {
        for c in r.headers.get_all("set-cookie") {
            let pair = c.to_str().unwrap().split(';').next().unwrap();
            let value = pair.split_once('=').unwrap().1;
            if value.len() >= 8 {
                self.add(value);
            }
        }
    }
}

async fn walk_and_search(format: &str) {
    let mut cluster = Cluster::start(0).await;
    cluster
        .add_node(&[("CLAVEX_LOG", "trace"), ("CLAVEX_LOG_FORMAT", format)])
        .await;
    let mut secrets = Secrets::default();
    secrets.add(ADMIN_TOKEN);
    secrets.add("alice-password-1");
    let secret = cluster.seed_acme().await;
    secrets.add(&secret);
    secrets.add(basic_header("grafana", &secret).trim_start_matches("Basic "));

    // A wrong password, then the right one; the form's hidden fields and the cookies too.
    let browser = Browser::new();
    let (form, _) = cluster.open_login(&browser, 0).await;
    secrets.add(&form.request);
    secrets.add(&form.csrf);
    secrets.add_cookies(&form.page);
    let wrong_password = "not-alices-password-7";
    secrets.add(wrong_password);
    let r = submit_login(&browser, &form, "alice", wrong_password).await;
    assert_ne!(
        r.status, 303,
        "a wrong password signs nobody in: {}",
        r.text
    );
    let (form, verifier) = cluster.open_login(&browser, 0).await;
    secrets.add(&form.request);
    secrets.add(&form.csrf);
    secrets.add(&verifier);
    let r = submit_login(&browser, &form, "alice", "alice-password-1").await;
    assert_eq!(r.status, 303, "{}", r.text);
    secrets.add_cookies(&r);
    let code = grafana_code_of(&location(&r));
    secrets.add(&code);

    // A wrong client secret first: it must not use the code up, nor be logged.
    let wrong_secret = "cs_wrong-secret-0123456789abcdefghijklmnop";
    secrets.add(wrong_secret);
    let r = cluster.redeem(0, wrong_secret, &code, &verifier).await;
    assert_eq!(r.status, 401, "{}", r.text);
    let tokens = Tokens::from_response(&cluster.redeem(0, &secret, &code, &verifier).await);
    let id_token = tokens.id_token.clone().expect("an ID token");
    let refresh = tokens.refresh_token.clone().expect("a refresh token");
    for t in [&tokens.access_token, &id_token, &refresh] {
        secrets.add(t);
    }
    // The replayed code (a security event, with its own log line).
    let r = cluster.redeem(0, &secret, &code, &verifier).await;
    assert_eq!(r.status, 400, "{}", r.text);

    // An SSO sign-in (the replay above revoked the first grant), refresh, userinfo,
    // introspection.
    let sso = cluster.sso_tokens(&browser, &secret, 0, 0).await;
    let sso_refresh = sso.refresh_token.clone().expect("a refresh token");
    secrets.add(&sso.access_token);
    secrets.add(&sso_refresh);
    let rotated = Tokens::from_response(&cluster.refresh(0, &secret, &sso_refresh).await);
    let new_refresh = rotated.refresh_token.clone().expect("a new refresh token");
    secrets.add(&new_refresh);
    secrets.add(&rotated.access_token);
    let r = cluster.userinfo(0, &rotated.access_token).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = cluster.userinfo(0, "not-a-valid-access-token-xyz").await;
    assert_eq!(r.status, 401, "{}", r.text);
    secrets.add("not-a-valid-access-token-xyz");
    assert_eq!(
        cluster.introspect(0, &secret, &new_refresh).await["active"],
        true
    );
    cluster.revoke(0, &secret, &sso.access_token, None).await;

    // Reuse of a rotated refresh token, after the race window, revokes the family (logged as
    // a security event).
    tokio::time::sleep(std::time::Duration::from_millis(3_100)).await;
    let r = cluster.refresh(0, &secret, &sso_refresh).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(
        cluster.introspect(0, &secret, &new_refresh).await["active"],
        false,
        "the reuse revoked the family"
    );

    // client_credentials with its own client, and a rotated secret with a grace period.
    let r = cluster
        .admin(
            0,
            "POST",
            "/api/v1/organizations/acme/clients",
            Some(json!({
                "client_id": "batch",
                "client_name": "Batch",
                "grant_types": ["client_credentials"],
                "scopes": ["api"],
            })),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let batch_secret = r.json()["client_secret"].as_str().unwrap().to_owned();
    secrets.add(&batch_secret);
    let r = cluster
        .admin(
            0,
            "POST",
            "/api/v1/organizations/acme/clients/batch/secret",
            Some(json!({ "grace_period_seconds": 60 })),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let rotated_secret = r.json()["client_secret"].as_str().unwrap().to_owned();
    secrets.add(&rotated_secret);
    let r = TestServer::read(
        cluster
            .http
            .post(cluster.url(0, "/acme/token"))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", "batch"),
                ("client_secret", rotated_secret.as_str()),
            ])
            .send()
            .await
            .expect("token request"),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    secrets.add(r.json()["access_token"].as_str().unwrap());

    // A password change through the API, and logout with the ID token as the hint.
    let alice = cluster.user_id(0, "alice").await;
    let new_password = "alice-new-password-2";
    secrets.add(new_password);
    let r = cluster
        .admin(
            0,
            "PATCH",
            &format!("/api/v1/organizations/acme/users/{alice}"),
            Some(json!({ "password": new_password })),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let logout = format!("/acme/logout?id_token_hint={id_token}");
    let r = browser.get(&cluster.url(0, &logout)).await;
    assert!(r.status < 500, "{}", r.text);
    let last_request_id = r.header("x-request-id").expect("a request id").to_owned();

    // The search can find what is in the log: the last request's id is, once its line (written
    // as the response leaves) has come through the pipe.
    let log = eventually(
        std::time::Duration::from_secs(10),
        "the last request's log line",
        || async {
            let log = cluster.node(0).stderr();
            (!leaks_in(&log, std::slice::from_ref(&last_request_id)).is_empty()).then_some(log)
        },
    )
    .await;
    assert!(
        log.lines().count() > 100,
        "trace logging should have written much more:\n{log}"
    );
    let leaks = leaks_in(&log, &secrets.0);
    assert!(
        leaks.is_empty(),
        "{} secret(s) in the {format} log, e.g. {:?}",
        leaks.len(),
        leaks.first()
    );
}
