//! The store calls on the token and sign-in paths (`cargo bench -p clavex-store --bench lookups`),
//! on SQLite (a temporary file) and on PostgreSQL when it answers: at `CLAVEX_BENCH_POSTGRES`
//! (a server URL without a database, default `postgres://postgres@127.0.0.1:5432`), in a database
//! created for the run and dropped after it.
//!
//! Each backend gets the same fixture through the store's own API: 10 orgs with 10 clients and 100
//! users each, 100 revoked access tokens and one grant with a refresh token. Each iteration is one
//! store call awaited to completion, through the connection pool as the server makes it.

#![expect(
    clippy::expect_used,
    reason = "a benchmark whose fixture cannot be built has nothing to measure"
)]

use std::hint::black_box;
use std::time::Duration;

use clavex_store::{
    Client, ClientSecret, ClientStore as _, CodeRecord, CodeRedemption, Event, GrantRecord,
    GrantStore as _, KeyStore as _, Org, OrgStore as _, RefreshRotation, RefreshTokenRecord,
    SigningKeyRecord, SqlStore, Store as _, User, UserStore as _, normalize_login,
};
use criterion::{Criterion, criterion_group, criterion_main};
use sqlx::{Connection as _, Executor as _};
use tokio::runtime::Runtime;

/// The store never reads a clock: every time is this one.
const NOW: i64 = 1_800_000_000;
const ORGS: usize = 10;
const CLIENTS_PER_ORG: usize = 10;
const USERS_PER_ORG: usize = 100;
const REVOKED_TOKENS: usize = 100;

/// What the look-ups look up: the last org created, one of its clients and users.
struct Fixture {
    org_id: String,
    slug: String,
    client_id: String,
    login_norm: String,
    refresh_hash: String,
}

fn id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A 64-hex-digit stand-in for a SHA-256 token hash.
fn token_hash() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

fn event(org_id: &str, kind: &str) -> Event {
    Event {
        id: id(),
        org_id: Some(org_id.to_string()),
        time: NOW,
        kind: kind.to_string(),
        actor: "bench".into(),
        target: String::new(),
        outcome: "success".into(),
        source_ip: None,
        details: serde_json::json!({}),
    }
}

async fn fixture(store: &SqlStore) -> Fixture {
    store.migrate().await.expect("migrate");
    let mut last = None;
    for o in 0..ORGS {
        let org = Org {
            id: id(),
            slug: format!("bench-{o}-{}", &id()[..8]),
            name: format!("Bench {o}"),
            signing_alg: "RS256".into(),
            created_at: NOW,
            updated_at: NOW,
        };
        // The store neither parses the key nor opens the sealed blob.
        let key = SigningKeyRecord {
            kid: format!("kid-{o}"),
            org_id: org.id.clone(),
            alg: "RS256".into(),
            public_jwk: serde_json::json!({"kty": "RSA", "kid": format!("kid-{o}"), "n": "AQAB", "e": "AQAB"}),
            private_sealed: "x".repeat(1600),
            created_at: NOW,
            active_from: NOW,
            retired_at: None,
            expires_at: None,
        };
        store
            .create_org(&org, &key, &event(&org.id, "org.created"))
            .await
            .expect("create org");
        for c in 0..CLIENTS_PER_ORG {
            let client = Client {
                id: id(),
                org_id: org.id.clone(),
                client_id: format!("client-{c}"),
                client_name: format!("Client {c}"),
                grant_types: vec!["authorization_code".into(), "refresh_token".into()],
                redirect_uris: vec![format!("https://app-{c}.example.com/callback")],
                post_logout_redirect_uris: vec![],
                scopes: vec!["openid".into(), "profile".into(), "email".into()],
                token_endpoint_auth_method: "client_secret_basic".into(),
                created_at: NOW,
                updated_at: NOW,
            };
            let secret = ClientSecret {
                secret_hash: token_hash(),
                created_at: NOW,
                expires_at: None,
            };
            store
                .create_client(&client, Some(&secret), &event(&org.id, "client.created"))
                .await
                .expect("create client");
        }
        let mut user_id = String::new();
        for u in 0..USERS_PER_ORG {
            let user = User {
                id: id(),
                org_id: org.id.clone(),
                username: format!("User{o}x{u}"),
                email: format!("user{o}x{u}@example.com"),
                email_verified: true,
                name: format!("User {u}"),
                given_name: None,
                family_name: None,
                password_hash: Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA".into()),
                disabled: false,
                created_at: NOW,
                updated_at: NOW,
            };
            user_id.clone_from(&user.id);
            store
                .create_user(&user, &event(&org.id, "user.created"))
                .await
                .expect("create user");
        }
        last = Some((org, user_id));
    }
    let (org, user_id) = last.expect("at least one org");
    for _ in 0..REVOKED_TOKENS {
        store
            .revoke_access_token(
                &org.id,
                &token_hash(),
                NOW + 3600,
                &event(&org.id, "token.revoked"),
            )
            .await
            .expect("revoke a token");
    }
    // A code redeemed for a grant with a refresh token, as the token endpoint does.
    let code_hash = token_hash();
    let code = CodeRecord {
        code_hash: code_hash.clone(),
        org_id: org.id.clone(),
        client_id: "client-0".into(),
        user_id: user_id.clone(),
        redirect_uri: "https://app-0.example.com/callback".into(),
        scope: "openid profile email".into(),
        nonce: None,
        code_challenge: None,
        auth_time: NOW,
        sid: id(),
        created_at: NOW,
        expires_at: NOW + 60,
        used_at: None,
        grant_id: None,
    };
    store.create_code(&code).await.expect("create code");
    let grant = GrantRecord {
        id: id(),
        org_id: org.id.clone(),
        client_id: "client-0".into(),
        user_id: Some(user_id),
        scope: code.scope.clone(),
        auth_time: Some(NOW),
        sid: Some(code.sid.clone()),
        nonce: None,
        created_at: NOW,
        expires_at: NOW + 30 * 86_400,
        revoked_at: None,
    };
    let refresh_hash = token_hash();
    let refresh = refresh_record(&refresh_hash, &grant.id);
    let redeemed = store
        .redeem_code(
            &code_hash,
            NOW,
            &grant,
            Some(&refresh),
            &event(&org.id, "code.redeemed"),
        )
        .await
        .expect("redeem code");
    assert_eq!(redeemed, CodeRedemption::Redeemed);
    Fixture {
        slug: org.slug,
        org_id: org.id,
        client_id: "client-5".into(),
        login_norm: normalize_login(&format!("User{}x50", ORGS - 1)),
        refresh_hash,
    }
}

fn refresh_record(hash: &str, grant_id: &str) -> RefreshTokenRecord {
    RefreshTokenRecord {
        token_hash: hash.to_string(),
        grant_id: grant_id.to_string(),
        scope: "openid profile email".into(),
        created_at: NOW,
        expires_at: NOW + 30 * 86_400,
        used_at: None,
    }
}

fn bench_backend(c: &mut Criterion, rt: &Runtime, backend: &str, store: &SqlStore) {
    let f = rt.block_on(fixture(store));
    let mut group = c.benchmark_group(format!("store/{backend}"));
    // `SELECT 1`: the floor under every call below (pool, driver, round trip), no table read.
    group.bench_function("ping", |b| {
        b.iter(|| rt.block_on(store.ping()).expect("ping"));
    });
    group.bench_function("get_org_by_slug", |b| {
        b.iter(|| {
            rt.block_on(store.get_org_by_slug(black_box(&f.slug)))
                .expect("get_org_by_slug")
                .expect("org exists")
        });
    });
    group.bench_function("get_client", |b| {
        b.iter(|| {
            rt.block_on(store.get_client(&f.org_id, black_box(&f.client_id)))
                .expect("get_client")
                .expect("client exists")
        });
    });
    group.bench_function("client_secrets", |b| {
        b.iter(|| {
            rt.block_on(store.client_secrets(&f.org_id, black_box(&f.client_id), NOW))
                .expect("client_secrets")
        });
    });
    group.bench_function("find_user_by_login", |b| {
        b.iter(|| {
            rt.block_on(store.find_user_by_login(&f.org_id, black_box(&f.login_norm)))
                .expect("find_user_by_login")
                .expect("user exists")
        });
    });
    group.bench_function("list_signing_keys", |b| {
        b.iter(|| {
            rt.block_on(store.list_signing_keys(black_box(&f.org_id), NOW))
                .expect("list_signing_keys")
        });
    });
    let unrevoked = token_hash();
    group.bench_function("is_access_token_revoked", |b| {
        b.iter(|| {
            rt.block_on(store.is_access_token_revoked(black_box(&unrevoked)))
                .expect("is_access_token_revoked")
        });
    });
    group.bench_function("get_refresh_token", |b| {
        b.iter(|| {
            rt.block_on(store.get_refresh_token(black_box(&f.refresh_hash)))
                .expect("get_refresh_token")
                .expect("refresh token exists")
        });
    });
    // Each iteration uses the current token and stores its successor, as a refresh grant does.
    let grant_id = rt
        .block_on(store.get_refresh_token(&f.refresh_hash))
        .expect("get_refresh_token")
        .expect("refresh token exists")
        .grant_id;
    let mut current = f.refresh_hash.clone();
    let reuse = event(&f.org_id, "refresh_token.reused");
    group.bench_function("rotate_refresh_token", |b| {
        b.iter(|| {
            let next = refresh_record(&token_hash(), &grant_id);
            let outcome = rt
                .block_on(store.rotate_refresh_token(&current, NOW, NOW - 2, &next, &reuse))
                .expect("rotate_refresh_token");
            assert_eq!(outcome, RefreshRotation::Rotated);
            current = next.token_hash;
        });
    });
    group.finish();
}

fn sqlite(c: &mut Criterion) {
    let rt = Runtime::new().expect("tokio runtime");
    let dir = tempfile::tempdir().expect("temporary folder");
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let store = rt.block_on(SqlStore::connect(&url)).expect("open SQLite");
    bench_backend(c, &rt, "sqlite", &store);
    rt.block_on(store.close());
}

fn postgres(c: &mut Criterion) {
    let rt = Runtime::new().expect("tokio runtime");
    let server = std::env::var("CLAVEX_BENCH_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_string());
    let server = server.trim_end_matches('/');
    let name = format!("clavex_bench_{}", uuid::Uuid::new_v4().simple());
    let admin = format!("{server}/postgres");
    let created = rt.block_on(async {
        let mut conn =
            tokio::time::timeout(Duration::from_secs(3), sqlx::PgConnection::connect(&admin))
                .await
                .map_err(|_| "timed out".to_string())?
                .map_err(|e| e.to_string())?;
        conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .await
            .map_err(|e| e.to_string())?;
        conn.close().await.map_err(|e| e.to_string())
    });
    if let Err(e) = created {
        eprintln!("PostgreSQL benches skipped: no server at {server} (CLAVEX_BENCH_POSTGRES): {e}");
        return;
    }
    let store = rt
        .block_on(SqlStore::connect(&format!("{server}/{name}")))
        .expect("open PostgreSQL");
    bench_backend(c, &rt, "postgres", &store);
    rt.block_on(async {
        store.close().await;
        if let Ok(mut conn) = sqlx::PgConnection::connect(&admin).await {
            let dropped = conn
                .execute(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .await;
            if let Err(e) = dropped {
                eprintln!("could not drop the bench database {name}: {e}");
            }
        }
    });
}

criterion_group!(benches, sqlite, postgres);
criterion_main!(benches);
