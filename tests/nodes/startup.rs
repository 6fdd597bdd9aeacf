//! Nodes started at the same moment on an empty database: one runs the migrations (under
//! PostgreSQL's advisory lock, or the lock file beside a SQLite database) and every node comes up
//! ready, with each migration recorded once.

use std::path::Path;

use clavex_testkit::{Backend, TestDatabase, TestServer};
use serde_json::json;

use super::support::{self, ADMIN_TOKEN};
use crate::cli::support::ServeProcess;

/// The migration versions shipped for `backend` (file names `0001_init.sql` → 1).
fn shipped_versions(backend: Backend) -> Vec<i64> {
    let folder = match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("crates/clavex-store/migrations")
        .join(folder);
    let mut versions: Vec<i64> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            entry
                .expect("a directory entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| name.ends_with(".sql"))
        .map(|name| {
            name.split('_')
                .next()
                .expect("a version")
                .parse()
                .expect("a numeric version")
        })
        .collect();
    versions.sort_unstable();
    versions
}

/// `(version, success)` of every row of sqlx's `_sqlx_migrations`, read through the database URL.
async fn recorded_migrations(db: &TestDatabase) -> Vec<(i64, bool)> {
    use sqlx::Connection;
    const SQL: &str = "SELECT version, success FROM _sqlx_migrations ORDER BY version";
    match db.backend {
        Backend::Postgres => {
            let mut conn = sqlx::PgConnection::connect(&db.url).await.expect("connect");
            let rows = sqlx::query_as(SQL)
                .fetch_all(&mut conn)
                .await
                .expect("read");
            let _ = conn.close().await;
            rows
        }
        Backend::Sqlite => {
            let mut conn = sqlx::SqliteConnection::connect(&db.url)
                .await
                .expect("connect");
            let rows = sqlx::query_as(SQL)
                .fetch_all(&mut conn)
                .await
                .expect("read");
            let _ = conn.close().await;
            rows
        }
    }
}

#[tokio::test]
async fn three_nodes_started_at_once_all_become_ready() {
    let db = TestDatabase::new().await;
    let (a, b, c) = tokio::join!(
        ServeProcess::start(support::node_command(&db, &[])),
        ServeProcess::start(support::node_command(&db, &[])),
        ServeProcess::start(support::node_command(&db, &[])),
    );
    let nodes = [a, b, c];
    let http = crate::cli::support::http();
    for (i, node) in nodes.iter().enumerate() {
        let r = TestServer::read(http.get(node.url("/readyz")).send().await.expect("readyz")).await;
        assert_eq!(r.status, 200, "node {i}: {}\n{}", r.text, node.stderr());
        assert_eq!(r.json()["status"], "ready", "node {i}");
    }

    let expected: Vec<(i64, bool)> = shipped_versions(db.backend)
        .into_iter()
        .map(|v| (v, true))
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(
        recorded_migrations(&db).await,
        expected,
        "each migration once, all successful"
    );

    // The bootstrap state every node wrote at once is whole: each accepts the admin token, and
    // what one node creates the others see.
    let r = TestServer::read(
        http.post(nodes[2].url("/api/v1/organizations"))
            .bearer_auth(ADMIN_TOKEN)
            .json(&json!({ "slug": "acme", "name": "Acme" }))
            .send()
            .await
            .expect("create org"),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    for (i, node) in nodes.iter().enumerate() {
        let r = TestServer::read(
            http.get(node.url("/acme/.well-known/openid-configuration"))
                .send()
                .await
                .expect("discovery"),
        )
        .await;
        assert_eq!(r.status, 200, "node {i}: {}", r.text);
        let r = TestServer::read(
            http.get(node.url("/api/v1/organizations/acme"))
                .bearer_auth(ADMIN_TOKEN)
                .send()
                .await
                .expect("get org"),
        )
        .await;
        assert_eq!(r.status, 200, "node {i}: {}", r.text);
    }
}
