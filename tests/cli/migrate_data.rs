//! `clavex migrate-data`: a whole SQLite installation copied into an empty database of the run's
//! backend (PostgreSQL in CI's PostgreSQL pass), after which tokens issued before the move work.

use base64::{Engine, engine::general_purpose::STANDARD};
use clavex_testkit::{Backend, TestDatabase, TestServer};

use super::support::{clavex, run};
use crate::oidc::support::{Browser, GRAFANA_REDIRECT, param, pkce, seed_acme, sign_in};

#[tokio::test]
async fn copies_everything_and_tokens_stay_valid() {
    let source = TestServer::start_on(TestDatabase::with_backend(Backend::Sqlite).await).await;
    let secret = seed_acme(&source).await;
    // A real sign-in before the move: its refresh and access tokens must survive it.
    let (verifier, challenge) = pkce();
    let mut auth = url::Url::parse(&source.url("/acme/authorize")).unwrap();
    auth.query_pairs_mut()
        .append_pair("client_id", "grafana")
        .append_pair("redirect_uri", GRAFANA_REDIRECT)
        .append_pair("response_type", "code")
        .append_pair("scope", "openid groups")
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256");
    let back = sign_in(&Browser::new(), auth.as_str(), "alice", "alice-password-1").await;
    let code = param(&back, "code").unwrap();
    let basic = format!("Basic {}", STANDARD.encode(format!("grafana:{secret}")));
    let tokens: serde_json::Value = source
        .http
        .post(source.url("/acme/token"))
        .header("Authorization", &basic)
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", GRAFANA_REDIRECT),
            ("code_verifier", &verifier),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_string();
    let access = tokens["access_token"].as_str().unwrap().to_string();

    let target = TestDatabase::new().await;
    let work = tempfile::tempdir().unwrap();
    let mut cmd = clavex(work.path());
    cmd.args([
        "migrate-data",
        "--from",
        &source.db.url,
        "--to",
        &target.url,
    ]);
    let out = run(cmd, None).await;
    out.assert_ok();
    assert!(out.stderr.contains("row counts verified"), "{}", out.stderr);
    assert!(out.stderr.contains("users: 3 rows"), "{}", out.stderr);

    // A second copy into the now non-empty target is refused and changes nothing.
    let mut again = clavex(work.path());
    again.args([
        "migrate-data",
        "--from",
        &source.db.url,
        "--to",
        &target.url,
    ]);
    let out = run(again, None).await;
    assert!(!out.success());
    assert!(out.stderr.contains("not empty"), "{}", out.stderr);

    // The new installation, with the old one's master key.
    let key_file = source.db.dir.path().join("master.key");
    let key = std::fs::read_to_string(key_file)
        .unwrap()
        .trim()
        .to_string();
    let moved = TestServer::start_with(target, |s| {
        s.master_key_base64 = Some(clavex_config::Secret::new(key));
    })
    .await;
    let r = moved
        .admin(
            "GET",
            "/api/v1/organizations/acme/groups/grafana-admins/members",
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["items"][0]["username"], "alice");
    let r = TestServer::read(
        moved
            .http
            .get(moved.url("/acme/userinfo"))
            .header("Authorization", format!("Bearer {access}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    // The issuer is the public URL, which differs between the two test servers; what matters is
    // that the signature verifies under the copied keys. Same URL in production.
    assert!(
        r.status == 200 || r.text.contains("another issuer"),
        "{}",
        r.text
    );
    let r = TestServer::read(
        moved
            .http
            .post(moved.url("/acme/token"))
            .header("Authorization", &basic)
            .form(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh.as_str()),
            ])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        r.status, 200,
        "the refresh token issued before the move works: {}",
        r.text
    );
    // New rows continue after the copied ones (identity sequences were advanced).
    let r = moved
        .admin(
            "POST",
            "/api/v1/organizations/acme/groups",
            Some(serde_json::json!({"name": "after-move"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
}

#[tokio::test]
async fn every_table_of_the_schema_is_copied() {
    let db = TestDatabase::new().await;
    let store = clavex_store::SqlStore::connect(&db.url).await.unwrap();
    store.migrate().await.unwrap();
    let mut schema = store.schema_tables().await.unwrap();
    let mut copied: Vec<String> = clavex_store::SqlStore::copied_tables()
        .into_iter()
        .map(str::to_string)
        .collect();
    schema.sort();
    copied.sort();
    assert_eq!(
        schema, copied,
        "a table was added without teaching migrate-data to copy it"
    );
    store.close().await;
}

#[tokio::test]
async fn refuses_a_missing_source() {
    let work = tempfile::tempdir().unwrap();
    let target = TestDatabase::new().await;
    let mut cmd = clavex(work.path());
    cmd.args([
        "migrate-data",
        "--from",
        "sqlite:///nonexistent/clavex.db",
        "--to",
        &target.url,
    ]);
    let out = run(cmd, None).await;
    assert!(!out.success());
    assert!(out.stderr.contains("no SQLite database"), "{}", out.stderr);
}
