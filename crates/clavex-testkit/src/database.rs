//! Fresh databases for tests: a SQLite file in a temporary folder, or a PostgreSQL database created
//! for one test and dropped after it.

use std::path::PathBuf;

use sqlx::{Connection, Executor};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The backend this test run uses (`CLAVEX_TEST_BACKEND`).
    pub fn from_env() -> Backend {
        match std::env::var("CLAVEX_TEST_BACKEND").as_deref() {
            Ok("postgres") => Backend::Postgres,
            Ok("sqlite") | Err(_) => Backend::Sqlite,
            Ok(other) => panic!("CLAVEX_TEST_BACKEND must be sqlite or postgres, not {other:?}"),
        }
    }
}

fn postgres_admin_url() -> String {
    std::env::var("CLAVEX_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

/// A database that exists for as long as this value does.
pub struct TestDatabase {
    pub backend: Backend,
    /// The URL to hand to Clavex.
    pub url: String,
    /// Folder for SQLite files (and anything else a test wants to write).
    pub dir: tempfile::TempDir,
    pg_name: Option<String>,
}

impl TestDatabase {
    pub async fn new() -> TestDatabase {
        Self::with_backend(Backend::from_env()).await
    }

    pub async fn with_backend(backend: Backend) -> TestDatabase {
        let dir = tempfile::tempdir().expect("create a temporary folder");
        match backend {
            Backend::Sqlite => {
                let path = dir.path().join("clavex.db");
                TestDatabase {
                    backend,
                    url: format!("sqlite://{}", path.display()),
                    dir,
                    pg_name: None,
                }
            }
            Backend::Postgres => {
                let name = format!("clavex_test_{}", uuid::Uuid::new_v4().simple());
                let admin = postgres_admin_url();
                let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap_or_else(|e| {
                    panic!(
                        "PostgreSQL tests need a server at {admin} (CLAVEX_TEST_POSTGRES_URL): {e}"
                    )
                });
                conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .await
                    .expect("create the test database");
                let _ = conn.close().await;
                let url = match admin.rfind('/') {
                    Some(i) if i > "postgres://".len() => format!("{}/{name}", &admin[..i]),
                    _ => format!("{admin}/{name}"),
                };
                TestDatabase {
                    backend,
                    url,
                    dir,
                    pg_name: Some(name),
                }
            }
        }
    }

    /// The SQLite file, for tests that look at it directly.
    pub fn sqlite_path(&self) -> Option<PathBuf> {
        (self.backend == Backend::Sqlite).then(|| self.dir.path().join("clavex.db"))
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some(name) = self.pg_name.take() else {
            return;
        };
        // Drop runs outside async context (or inside one we must not block): use a fresh runtime on
        // its own thread. FORCE ends connections a server under test may still hold.
        let admin = postgres_admin_url();
        let handle = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async {
                if let Ok(mut conn) = sqlx::PgConnection::connect(&admin).await {
                    let _ = conn
                        .execute(sqlx::AssertSqlSafe(format!(
                            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                        )))
                        .await;
                    let _ = conn.close().await;
                }
            });
        });
        let _ = handle.join();
    }
}

impl TestDatabase {
    /// A database that already exists and that the caller owns, such as one in a private
    /// PostgreSQL instance a fault test runs: used as it is, and not dropped with this value.
    pub fn existing(backend: Backend, url: String) -> TestDatabase {
        TestDatabase {
            backend,
            url,
            dir: tempfile::tempdir().expect("create a temporary folder"),
            pg_name: None,
        }
    }
}
