//! Statements that run on either path: in place on a direct SQLite connection (`direct`), or
//! through sqlx (PostgreSQL, or SQLite where direct connections are unavailable). One SQL text and
//! one row decoder serve both, so the paths cannot drift apart; the conformance suite runs SQLite
//! through the direct path and PostgreSQL through sqlx.
//!
//! The operations of the sign-in, token, userinfo, revocation and logout paths use this; the
//! Admin API's, which are rare and often longer, stay on sqlx alone.

use sqlx::{Any, Row, any::AnyArguments, any::AnyRow, query::Query};

use std::sync::Arc;

use super::{
    SqlStore,
    direct::{self, DirectSqlite, Lease},
};
use crate::{StoreError, contract::Result};

/// A value for a `$N` placeholder: the two types every column here is stored as.
#[derive(Debug, Clone, Copy)]
pub(super) enum Arg<'a> {
    Text(Option<&'a str>),
    Int(Option<i64>),
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(v: &'a str) -> Self {
        Arg::Text(Some(v))
    }
}

impl<'a> From<&'a String> for Arg<'a> {
    fn from(v: &'a String) -> Self {
        Arg::Text(Some(v))
    }
}

impl<'a> From<Option<&'a str>> for Arg<'a> {
    fn from(v: Option<&'a str>) -> Self {
        Arg::Text(v)
    }
}

impl<'a> From<&'a Option<String>> for Arg<'a> {
    fn from(v: &'a Option<String>) -> Self {
        Arg::Text(v.as_deref())
    }
}

impl From<i64> for Arg<'_> {
    fn from(v: i64) -> Self {
        Arg::Int(Some(v))
    }
}

impl From<Option<i64>> for Arg<'_> {
    fn from(v: Option<i64>) -> Self {
        Arg::Int(v)
    }
}

/// `args![a, b]`: the values for `$1`, `$2`.
macro_rules! args {
    ($($arg:expr),* $(,)?) => {
        &[$($crate::sql::exec::Arg::from($arg)),*][..]
    };
}
pub(super) use args;

/// Binds `args` in order to a sqlx query (`$1` is the first).
pub(super) fn bind<'q>(
    mut query: Query<'q, Any, AnyArguments>,
    args: &[Arg<'_>],
) -> Query<'q, Any, AnyArguments> {
    for arg in args {
        query = match *arg {
            Arg::Text(v) => query.bind(v),
            Arg::Int(v) => query.bind(v),
        };
    }
    query
}

/// Column access by name for sqlx's rows and rusqlite's alike, so that a row is decoded by one
/// piece of code on both paths. sqlx's `AnyRow` implements it below; rusqlite's rows are wrapped
/// in `direct::Named`, which finds a column without comparing every name.
pub(super) trait Columns {
    fn text(&self, name: &str) -> Result<Option<String>>;
    fn int(&self, name: &str) -> Result<Option<i64>>;
}

impl Columns for AnyRow {
    fn text(&self, name: &str) -> Result<Option<String>> {
        Ok(self.try_get(name)?)
    }
    fn int(&self, name: &str) -> Result<Option<i64>> {
        Ok(self.try_get(name)?)
    }
}

/// A column that must not be NULL.
pub(super) fn text(row: &dyn Columns, name: &str) -> Result<String> {
    row.text(name)?
        .ok_or_else(|| StoreError::Internal(format!("column {name} is NULL")))
}

/// A column that must not be NULL.
pub(super) fn int(row: &dyn Columns, name: &str) -> Result<i64> {
    row.int(name)?
        .ok_or_else(|| StoreError::Internal(format!("column {name} is NULL")))
}

/// A 0/1 column.
pub(super) fn flag(row: &dyn Columns, name: &str) -> Result<bool> {
    Ok(int(row, name)? != 0)
}

/// A direct connection, or `None` (use sqlx) if none can be opened, e.g. when the process is
/// out of file descriptors: sqlx's connections may still be there.
fn lease(set: &DirectSqlite) -> Option<Lease<'_>> {
    match set.lease() {
        Ok(lease) => Some(lease),
        Err(err) => {
            tracing::warn!(error = %err, "no direct SQLite connection; using sqlx");
            None
        }
    }
}

/// After a commit on a direct connection: starts a checkpoint on the blocking pool when one is
/// due (it fsyncs, so it must not run on an async worker).
fn committed(set: &Arc<DirectSqlite>) {
    if set.checkpoint_due() {
        let set = Arc::clone(set);
        tokio::task::spawn_blocking(move || {
            if let Err(err) = set.checkpoint() {
                tracing::warn!(error = %err, "WAL checkpoint failed");
            }
        });
    }
}

impl SqlStore {
    /// Every row of a read, decoded by `decode` (called once per row, in order).
    pub(super) async fn read_all<T: Send>(
        &self,
        sql: &'static str,
        args: &[Arg<'_>],
        mut decode: impl FnMut(&dyn Columns) -> Result<T> + Send,
    ) -> Result<Vec<T>> {
        if let Some(lease) = self.direct.as_deref().and_then(lease) {
            let mut found = Vec::new();
            direct::query(lease.conn()?, sql, args, |row| {
                found.push(decode(row)?);
                Ok(true)
            })?;
            return Ok(found);
        }
        let rows = bind(sqlx::query(sql), args).fetch_all(&self.pool).await?;
        rows.iter().map(|row| decode(row)).collect()
    }

    /// The first row of a read, decoded by `decode`.
    pub(super) async fn read_one<T: Send>(
        &self,
        sql: &'static str,
        args: &[Arg<'_>],
        decode: impl FnOnce(&dyn Columns) -> Result<T> + Send,
    ) -> Result<Option<T>> {
        if let Some(lease) = self.direct.as_deref().and_then(lease) {
            return direct::first(lease.conn()?, sql, args, decode);
        }
        let row = bind(sqlx::query(sql), args)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(|row| decode(row)).transpose()
    }

    /// One statement that writes, on its own (autocommit), in this process's turn to write.
    /// Returns the rows it changed (for `RETURNING`, [`SqlStore::write_returning`]).
    pub(super) async fn write_one(&self, sql: &'static str, args: &[Arg<'_>]) -> Result<u64> {
        let _lane = self.lane().await;
        if let Some(set) = &self.direct
            && let Some(lease) = lease(set)
        {
            match direct::execute_now(lease.conn()?, sql, args) {
                // Another process holds SQLite's lock: wait for it on sqlx's thread instead of
                // stalling this async worker in SQLite's busy handler.
                Err(StoreError::Unavailable(_)) => {}
                done => {
                    if done.is_ok() {
                        committed(set);
                    }
                    return done;
                }
            }
        }
        let done = bind(sqlx::query(sql), args).execute(&self.pool).await?;
        Ok(done.rows_affected())
    }

    /// One statement that writes and answers a row (`RETURNING`), on its own, in this process's
    /// turn to write: the row, decoded.
    pub(super) async fn write_returning<T: Send>(
        &self,
        sql: &'static str,
        args: &[Arg<'_>],
        decode: impl FnOnce(&dyn Columns) -> Result<T> + Send,
    ) -> Result<Option<T>> {
        let _lane = self.lane().await;
        let mut decode = Some(decode);
        if let Some(set) = &self.direct
            && let Some(lease) = lease(set)
        {
            // `decode` is taken only once the statement ran; refused for the lock, it is left
            // for sqlx.
            let attempt = direct::first_now(lease.conn()?, sql, args, |row| match decode.take() {
                Some(decode) => decode(row),
                None => Err(StoreError::Internal("a row decoded twice".into())),
            });
            match attempt {
                Err(StoreError::Unavailable(_)) => {}
                done => {
                    if done.is_ok() {
                        committed(set);
                    }
                    return done;
                }
            }
        }
        let row = bind(sqlx::query(sql), args)
            .fetch_optional(&self.pool)
            .await?;
        match (row, decode) {
            (Some(row), Some(decode)) => decode(&row).map(Some),
            (None, _) => Ok(None),
            (Some(_), None) => Err(StoreError::Internal("a row decoded twice".into())),
        }
    }

    /// Starts a write transaction: in this process's turn to write, taken before a connection
    /// so that writers waiting for it hold none. On SQLite it begins `IMMEDIATE`, in place on a
    /// direct connection when SQLite's lock is free (as it is unless another process writes).
    pub(super) async fn writer(&self) -> Result<Writer<'_>> {
        let lane = self.lane().await;
        if let Some(set) = &self.direct
            && let Some(conn) = lease(set)
        {
            match direct::begin_now(conn.conn()?) {
                Ok(()) => {
                    return Ok(Writer {
                        tx: WriterTx::Direct(set, conn),
                        _lane: lane,
                    });
                }
                // As in `write_one`: the wait for another process happens on sqlx's thread.
                Err(StoreError::Unavailable(_)) => {}
                Err(err) => return Err(err),
            }
        }
        Ok(Writer {
            tx: WriterTx::Sqlx(self.begin_sqlx().await?),
            _lane: lane,
        })
    }
}

/// A write transaction from [`SqlStore::writer`], holding the turn to write until it ends.
/// Dropped without [`Writer::commit`], it rolls back.
pub(super) struct Writer<'s> {
    tx: WriterTx<'s>,
    _lane: Option<tokio::sync::OwnedMutexGuard<()>>,
}

enum WriterTx<'s> {
    Direct(&'s Arc<DirectSqlite>, Lease<'s>),
    Sqlx(sqlx::Transaction<'static, Any>),
}

impl Writer<'_> {
    /// Runs one statement; returns the rows it changed. A statement with `RETURNING` goes through
    /// [`Writer::read_one`] (or [`SqlStore::write_returning`] on its own): rusqlite refuses to
    /// execute a statement that answers rows.
    pub(super) async fn execute(&mut self, sql: &'static str, args: &[Arg<'_>]) -> Result<u64> {
        match &mut self.tx {
            WriterTx::Direct(_, conn) => direct::execute(conn.conn()?, sql, args),
            WriterTx::Sqlx(tx) => Ok(bind(sqlx::query(sql), args)
                .execute(&mut **tx)
                .await?
                .rows_affected()),
        }
    }

    /// The first row of a read inside the transaction.
    pub(super) async fn read_one<T: Send>(
        &mut self,
        sql: &'static str,
        args: &[Arg<'_>],
        decode: impl FnOnce(&dyn Columns) -> Result<T> + Send,
    ) -> Result<Option<T>> {
        match &mut self.tx {
            WriterTx::Direct(_, conn) => direct::first(conn.conn()?, sql, args, decode),
            WriterTx::Sqlx(tx) => {
                let row = bind(sqlx::query(sql), args)
                    .fetch_optional(&mut **tx)
                    .await?;
                row.as_ref().map(|row| decode(row)).transpose()
            }
        }
    }

    pub(super) async fn commit(self) -> Result<()> {
        match self.tx {
            WriterTx::Direct(set, conn) => {
                direct::commit(conn.conn()?)?;
                committed(set);
                Ok(())
            }
            WriterTx::Sqlx(tx) => Ok(tx.commit().await?),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::{future::Future, path::PathBuf, time::Duration};

    use super::super::SqlStore;

    /// Runs `test` with a store over a fresh SQLite file (and the file's path), on a
    /// current-thread runtime: a statement that blocked its one thread would stall everything.
    fn on_a_sqlite_file<F: Future<Output = ()>>(test: impl FnOnce(SqlStore, PathBuf) -> F) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.db");
        runtime.block_on(async {
            let store = SqlStore::connect(&format!("sqlite://{}", path.display()))
                .await
                .unwrap();
            assert!(store.direct.is_some(), "a file gets direct connections");
            test(store, path.clone()).await;
        });
    }

    /// Writes on direct connections never checkpoint in place (automatic checkpoints are off
    /// there); every few hundred commits a checkpoint runs on the blocking pool and copies the
    /// WAL into the database file. Without it the file would stay at its first page.
    #[test]
    fn direct_writes_are_checkpointed_off_the_workers() {
        on_a_sqlite_file(|store, path| async move {
            rusqlite::Connection::open(&path)
                .unwrap()
                .execute_batch("CREATE TABLE t (k TEXT NOT NULL)")
                .unwrap();
            let size = || std::fs::metadata(&path).unwrap().len();
            let before = size();
            let row = "x".repeat(1000);
            for _ in 0..super::super::direct::COMMITS_PER_CHECKPOINT {
                store
                    .write_one("INSERT INTO t (k) VALUES ($1)", args![&row])
                    .await
                    .unwrap();
            }
            // The checkpoint runs on the blocking pool; give it a moment.
            for _ in 0..100 {
                if size() > before + 200_000 {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            panic!(
                "no checkpoint: the database file is {} bytes (was {before})",
                size()
            );
        });
    }

    /// Another process (here a separate connection) holds SQLite's write lock. The store's
    /// writes (on their own, in a transaction, with `RETURNING`) wait for it on sqlx's thread, not in SQLite's busy handler on the async worker: on
    /// a current-thread runtime that would hold the only thread, and the release below could not
    /// run until the busy timeout (10 s) had passed.
    #[test]
    fn writes_wait_for_another_process_without_stalling_the_runtime() {
        on_a_sqlite_file(|store, path| async move {
            let other = rusqlite::Connection::open(&path).unwrap();
            other
                .execute_batch("CREATE TABLE t (k TEXT NOT NULL); BEGIN IMMEDIATE;")
                .unwrap();
            let writes = async {
                let three = store
                    .write_returning(
                        "INSERT INTO t (k) VALUES ($1) RETURNING k",
                        args!["three"],
                        |row| super::text(row, "k"),
                    )
                    .await?;
                assert_eq!(three.as_deref(), Some("three"));
                let one = store
                    .write_one("INSERT INTO t (k) VALUES ($1)", args!["one"])
                    .await?;
                let mut w = store.writer().await?;
                let two = w
                    .execute("INSERT INTO t (k) VALUES ($1)", args!["two"])
                    .await?;
                w.commit().await?;
                crate::contract::Result::Ok(one + two)
            };
            let release = async {
                tokio::time::sleep(Duration::from_millis(300)).await;
                other.execute_batch("COMMIT").unwrap();
            };
            let started = std::time::Instant::now();
            let (written, ()) = tokio::join!(writes, release);
            assert_eq!(written.unwrap(), 2);
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "a write held the runtime for {:?}",
                started.elapsed()
            );
            let rows = store
                .read_all("SELECT k FROM t ORDER BY k", &[], |row| {
                    super::text(row, "k")
                })
                .await
                .unwrap();
            assert_eq!(rows, ["one", "three", "two"]);
        });
    }
}
