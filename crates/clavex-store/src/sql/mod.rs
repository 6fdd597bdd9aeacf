//! The SQL backend: one portable code path through sqlx's `Any` driver for SQLite and PostgreSQL.
//!
//! SQL here is written once with `$1` placeholders, TEXT ids, BIGINT times and TEXT JSON, which both
//! dialects accept. Migrations differ per backend only where the dialects do (identity columns).
//! Write transactions on SQLite start with `BEGIN IMMEDIATE` so that two writers queue on the busy
//! timeout instead of failing with "database is locked" when a read lock would have to be upgraded.

mod clients;
mod console;
mod copy;
mod direct;
mod events;
mod exec;
mod grants;
mod groups;
mod keys;
mod maintenance;
mod orgs;
mod rows;
mod signin;
mod token_state;
mod tokens;
mod users;

use exec::args;

use std::{str::FromStr, sync::Arc, time::Duration};

use async_trait::async_trait;
use sqlx::{
    AnyPool, Executor,
    any::{AnyConnectOptions, AnyPoolOptions},
    migrate::Migrator,
};

use crate::{
    Event, PoolStatus, QueryObserver, Store, StoreError, contract::Result, observe::OpTimer,
};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// Which database a URL points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn of_url(url: &str) -> Option<Backend> {
        if url.starts_with("sqlite:") {
            Some(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Backend::Postgres)
        } else {
            None
        }
    }
}

/// The store over a connection pool. Cheap to clone.
#[derive(Clone)]
pub struct SqlStore {
    pool: AnyPool,
    backend: Backend,
    /// SQLite only: writers of this process take turns here before they ask SQLite for its write
    /// lock. SQLite lets one writer in at a time and makes the others poll with sleeps of up to
    /// 100 ms (its busy handler), which under load left refreshes waiting 100-300 ms at p99 while
    /// the lock was free most of the time. Queueing in a fair async mutex instead hands the lock
    /// over at once. Another process (the CLI) still meets the busy timeout, as before.
    write_lane: Option<Arc<tokio::sync::Mutex<()>>>,
    /// SQLite on a file: direct connections for the statements of the sign-in, token and
    /// userinfo paths (`direct`, chosen in `exec`).
    direct: Option<Arc<direct::DirectSqlite>>,
    /// Told how long each operation took (metrics), when set.
    observer: Option<std::sync::Arc<dyn QueryObserver>>,
}

impl std::fmt::Debug for SqlStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlStore")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

/// Connections per process when not configured (`CLAVEX_DATABASE_MAX_CONNECTIONS`).
pub const DEFAULT_MAX_CONNECTIONS: u32 = 16;

impl SqlStore {
    /// Connects to `url` (`sqlite://PATH` creates the file, not its folder) with the default pool
    /// size.
    pub async fn connect(url: &str) -> Result<SqlStore> {
        Self::connect_with(url, DEFAULT_MAX_CONNECTIONS).await
    }

    /// Connects to `url`, holding at most `max_connections` connections.
    pub async fn connect_with(url: &str, max_connections: u32) -> Result<SqlStore> {
        sqlx::any::install_default_drivers();
        let backend = Backend::of_url(url).ok_or_else(|| {
            StoreError::Internal(format!(
                "unsupported database URL (expected sqlite:// or postgres://): {}",
                redact_url(url)
            ))
        })?;
        let url = match backend {
            // Create the file on first start; WAL and the rest are set per connection below.
            Backend::Sqlite if !url.contains('?') => format!("{url}?mode=rwc"),
            _ => url.to_string(),
        };
        let options = AnyConnectOptions::from_str(&url).map_err(|e| {
            StoreError::Internal(format!("invalid database URL {}: {e}", redact_url(&url)))
        })?;
        let pool_options = AnyPoolOptions::new()
            .acquire_timeout(Duration::from_secs(5))
            .max_connections(max_connections.max(1))
            .min_connections(0);
        let pool = match backend {
            Backend::Sqlite => pool_options
                .after_connect(|conn, _meta| {
                    Box::pin(async move {
                        // busy_timeout first: the journal_mode switch itself needs a lock.
                        conn.execute("PRAGMA busy_timeout = 10000").await?;
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        conn.execute("PRAGMA synchronous = NORMAL").await?;
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                        Ok(())
                    })
                })
                .connect_with(options)
                .await
                .map_err(StoreError::from)?,
            Backend::Postgres => pool_options
                .connect_with(options)
                .await
                .map_err(StoreError::from)?,
        };
        Ok(SqlStore {
            pool,
            backend,
            write_lane: (backend == Backend::Sqlite).then(|| Arc::new(tokio::sync::Mutex::new(()))),
            direct: match backend {
                Backend::Sqlite => direct::DirectSqlite::for_url(&url)
                    .filter(|direct| {
                        let usable = direct.usable();
                        if !usable {
                            tracing::warn!(
                                "direct SQLite connections unavailable; using sqlx alone"
                            );
                        }
                        usable
                    })
                    .map(Arc::new),
                Backend::Postgres => None,
            },
            observer: None,
        })
    }

    /// Reports the duration of every store operation to `observer` from now on.
    pub fn observed_by(mut self, observer: std::sync::Arc<dyn QueryObserver>) -> Self {
        self.observer = Some(observer);
        self
    }

    /// Starts timing operation `op` (the method's name); reported when the result is dropped.
    /// Every method of the store traits begins with it (a unit test checks that).
    fn timed(&self, op: &'static str) -> Option<OpTimer<'_>> {
        OpTimer::start(self.observer.as_ref(), op)
    }

    /// Applies every pending migration. On PostgreSQL the migrator holds an advisory lock, so
    /// several nodes starting at once run them exactly once.
    pub async fn migrate(&self) -> Result<()> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator
            .run(&self.pool)
            .await
            .map_err(|e| StoreError::Internal(format!("migration failed: {e}")))?;
        self.fill_name_norm().await
    }

    /// Migration 0003 added `users.name_norm`; rows written before it get theirs here, because
    /// only Rust folds case beyond ASCII the same way on both backends.
    async fn fill_name_norm(&self) -> Result<()> {
        loop {
            let rows = sqlx::query(
                "SELECT id, name FROM users WHERE name_norm = '' AND name <> '' LIMIT 500",
            )
            .fetch_all(&self.pool)
            .await?;
            if rows.is_empty() {
                return Ok(());
            }
            let mut tx = self.write_tx().await?;
            for row in &rows {
                let id: String = sqlx::Row::try_get(row, "id")?;
                let name: String = sqlx::Row::try_get(row, "name")?;
                sqlx::query("UPDATE users SET name_norm = $1 WHERE id = $2")
                    .bind(crate::normalize_login(&name))
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Closes every connection (at shutdown, or before a test drops its database).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Waits for this process's turn to write (SQLite; nothing to wait for on PostgreSQL). A
    /// statement that writes outside `write_tx` holds the turn while it runs.
    async fn lane(&self) -> Option<tokio::sync::OwnedMutexGuard<()>> {
        match &self.write_lane {
            Some(lane) => Some(lane.clone().lock_owned().await),
            None => None,
        }
    }

    /// Starts a transaction that will write. The turn is taken before a connection, so that
    /// writers waiting for it do not hold connections that readers need.
    async fn write_tx(&self) -> Result<WriteTx> {
        let lane = self.lane().await;
        Ok(WriteTx {
            tx: self.begin_sqlx().await?,
            _lane: lane,
        })
    }

    /// A sqlx transaction that will write: `BEGIN IMMEDIATE` on SQLite, so that it takes the
    /// write lock at once (waiting for another process in the busy handler, on sqlx's thread).
    async fn begin_sqlx(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }

    /// A consistent copy of a SQLite database into `target` (online, safe while serving).
    pub async fn backup_sqlite_to(&self, target: &std::path::Path) -> Result<()> {
        if self.backend != Backend::Sqlite {
            return Err(StoreError::Internal(
                "backup to a file is only for SQLite; use pg_dump for PostgreSQL".into(),
            ));
        }
        let target = target.to_str().ok_or_else(|| {
            StoreError::Internal("the backup path is not valid UTF-8".to_string())
        })?;
        sqlx::query("VACUUM INTO $1")
            .bind(target)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

/// A write transaction holding this process's turn to write until it ends. Dereferences to the
/// connection, like `sqlx::Transaction`.
struct WriteTx {
    // An unfinished transaction is dropped, which only queues its ROLLBACK on sqlx's connection
    // thread: the next writer may briefly meet SQLite's lock and wait in the busy handler, as
    // every writer did before the lane. Only error paths get there.
    tx: sqlx::Transaction<'static, sqlx::Any>,
    _lane: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl WriteTx {
    async fn commit(self) -> Result<()> {
        self.tx.commit().await?;
        Ok(())
    }
}

impl std::ops::Deref for WriteTx {
    type Target = sqlx::AnyConnection;

    fn deref(&self) -> &sqlx::AnyConnection {
        &self.tx
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut sqlx::AnyConnection {
        &mut self.tx
    }
}

/// Hides a password in a database URL before it is shown anywhere.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme_end + 3],
                    &userinfo[..colon],
                    &url[at..]
                ),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[async_trait]
impl Store for SqlStore {
    async fn ping(&self) -> Result<()> {
        let _timer = self.timed("ping");
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    fn pool_status(&self) -> Option<PoolStatus> {
        Some(PoolStatus {
            size: self.pool.size(),
            idle: u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX),
            max: self.pool.options().get_max_connections(),
        })
    }
}

const INSERT_EVENT_SQL: &str = "INSERT INTO events \
     (id, org_id, time, kind, actor, target, outcome, source_ip, details) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";

/// The values of `INSERT_EVENT_SQL`; `details` is the event's details as JSON text.
fn event_args<'a>(e: &'a Event, details: &'a str) -> [exec::Arg<'a>; 9] {
    use exec::Arg;
    [
        Arg::from(&e.id),
        Arg::from(&e.org_id),
        Arg::from(e.time),
        Arg::from(&e.kind),
        Arg::from(&e.actor),
        Arg::from(&e.target),
        Arg::from(&e.outcome),
        Arg::from(&e.source_ip),
        Arg::from(details),
    ]
}

/// Writes an audit event inside the caller's transaction.
async fn insert_event(conn: &mut sqlx::AnyConnection, event: &Event) -> Result<()> {
    let details = event.details.to_string();
    exec::bind(sqlx::query(INSERT_EVENT_SQL), &event_args(event, &details))
        .execute(conn)
        .await?;
    Ok(())
}

impl exec::Writer<'_> {
    /// Writes an audit event in this transaction.
    async fn event(&mut self, event: &Event) -> Result<()> {
        let details = event.details.to_string();
        self.execute(INSERT_EVENT_SQL, &event_args(event, &details))
            .await?;
        Ok(())
    }
}

/// Lists fetch one row more than asked, to know whether another page follows.
fn fetch_limit(limit: u32) -> i64 {
    i64::from(limit) + 1
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn redacts_passwords_only() {
        assert_eq!(
            redact_url("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact_url("sqlite://./x.db"), "sqlite://./x.db");
    }
}
