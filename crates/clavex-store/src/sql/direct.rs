//! Direct SQLite connections for the statements on the sign-in, token and userinfo paths.
//!
//! sqlx runs each SQLite connection on a thread of its own, so every statement is a hand-over to
//! that thread and back: about 60-70 µs of CPU per statement on the benchmark machine, mostly
//! thread wake-ups, against 5-15 µs for the statement itself (docs/performance.md). A sign-in
//! is some twenty statements, a refresh three, so the hand-overs were much of the server's work
//! besides the password hash and the signatures. Here those statements run on connections of this
//! module's own, in place on the calling thread: reads (WAL readers never wait for a lock), and
//! writes while the process's write turn is held and SQLite's lock is free, so that they do not
//! wait either. A commit does not fsync (WAL with `synchronous = NORMAL`); the checkpoints that
//! do (copying the WAL into the database file) run on the blocking pool, never in place
//! (`checkpoint_due`).
//!
//! What runs here is chosen in `exec`, which also runs the same SQL text through sqlx on
//! PostgreSQL and whenever a write would have to wait for another process.

use std::{
    cell::Cell,
    sync::{
        Mutex,
        atomic::{AtomicBool, AtomicU32, Ordering},
    },
    time::Duration,
};

use rusqlite::{Connection, OpenFlags, Row};

use super::exec::{Arg, Columns};
use crate::{StoreError, contract::Result};

/// As the sqlx connections' `PRAGMA busy_timeout = 10000`.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Prepared statements kept per connection (more than the direct path has).
const STATEMENT_CACHE: usize = 64;

/// At most this many idle connections are kept; more may exist while busy.
const IDLE_CONNECTIONS: usize = 8;

/// Commits on direct connections between two checkpoints. SQLite's own automatic checkpoint
/// comes after 1000 WAL pages; a small write transaction here adds two to four.
pub(super) const COMMITS_PER_CHECKPOINT: u32 = 300;

/// A small set of connections to one SQLite file.
pub(super) struct DirectSqlite {
    path: String,
    idle: Mutex<Vec<Connection>>,
    /// Commits since the last checkpoint was started.
    commits: AtomicU32,
    /// A checkpoint is running.
    checkpointing: AtomicBool,
}

impl DirectSqlite {
    /// The file behind a `sqlite:` URL, or `None` where separate connections would not share one
    /// database (in memory).
    pub(super) fn for_url(url: &str) -> Option<DirectSqlite> {
        let rest = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))?;
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        // Any URL option but the create mode (read-only, immutable, a VFS, in memory...) is
        // left to sqlx alone rather than imitated here.
        let plain = query
            .split('&')
            .all(|option| matches!(option, "" | "mode=rwc" | "mode=rw"));
        if path.is_empty() || path == ":memory:" || !plain {
            return None;
        }
        Some(DirectSqlite {
            path: path.to_string(),
            idle: Mutex::new(Vec::new()),
            commits: AtomicU32::new(0),
            checkpointing: AtomicBool::new(false),
        })
    }

    /// Whether a connection opens (at start-up, after sqlx created the file and set WAL mode):
    /// if not, the store keeps to sqlx rather than failing every token check later. WAL is
    /// required, because only in WAL mode a writer never waits for readers, and a direct write
    /// must not wait on an async worker. The connection is closed again: direct connections are
    /// opened when first needed.
    pub(super) fn usable(&self) -> bool {
        self.open()
            .and_then(|conn| {
                Ok(conn.query_row("PRAGMA journal_mode", [], |row| row.get::<_, String>(0))?)
            })
            .is_ok_and(|mode| mode.eq_ignore_ascii_case("wal"))
    }

    fn open(&self) -> Result<Connection> {
        // The file exists: sqlx created and migrated it before this is first used.
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        // As the sqlx connections are set up (`SqlStore::connect_with`).
        conn.busy_timeout(BUSY_TIMEOUT)?;
        // No automatic checkpoint: it would copy pages and fsync on the async worker whose
        // commit crossed the threshold, holding the write turn. `checkpoint_due` starts one on
        // the blocking pool instead.
        conn.execute_batch(
            "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA wal_autocheckpoint = 0;",
        )?;
        // Every statement of the direct path stays prepared: a sign-in cycles through about
        // twenty, more than rusqlite's default cache of 16 keeps.
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        Ok(conn)
    }

    /// A connection of the set, for the calling thread, until the lease is dropped.
    pub(super) fn lease(&self) -> Result<Lease<'_>> {
        let taken = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        let conn = match taken {
            Some(conn) => conn,
            None => self.open()?,
        };
        Ok(Lease {
            set: self,
            conn: Some(conn),
        })
    }
}

impl DirectSqlite {
    /// Counts a commit; true when a checkpoint should start now (none is running and enough
    /// commits went by). The caller then runs [`DirectSqlite::checkpoint`] off the async workers.
    pub(super) fn checkpoint_due(&self) -> bool {
        self.commits.fetch_add(1, Ordering::Relaxed) + 1 >= COMMITS_PER_CHECKPOINT
            && !self.checkpointing.swap(true, Ordering::AcqRel)
    }

    /// A passive checkpoint: copies what the WAL holds into the database file as far as readers
    /// allow, without waiting for any lock and without blocking writers. Blocking (it fsyncs).
    pub(super) fn checkpoint(&self) -> Result<()> {
        let result = self.lease().and_then(|lease| {
            let conn = lease.conn()?;
            // The pragma answers one row (busy, WAL pages, pages copied).
            conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))?;
            Ok(())
        });
        self.commits.store(0, Ordering::Relaxed);
        self.checkpointing.store(false, Ordering::Release);
        result
    }
}

/// A connection taken from a [`DirectSqlite`]; back to the set when dropped.
pub(super) struct Lease<'s> {
    set: &'s DirectSqlite,
    conn: Option<Connection>,
}

impl Lease<'_> {
    pub(super) fn conn(&self) -> Result<&Connection> {
        // Only `drop` takes the connection out.
        self.conn.as_ref().ok_or_else(|| {
            StoreError::Internal("a lease used after its connection went back".into())
        })
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else {
            return;
        };
        // A transaction left open (an error or an early return before COMMIT) is rolled back
        // here, so that nothing half-written stays and the next caller starts clean. If even
        // that fails, the connection is closed, which rolls back too.
        if !conn.is_autocommit() && conn.execute_batch("ROLLBACK").is_err() {
            return;
        }
        if let Ok(mut idle) = self.set.idle.lock()
            && idle.len() < IDLE_CONNECTIONS
        {
            idle.push(conn);
        }
    }
}

/// Binds `args` to the `$N` placeholders of a prepared statement, by number: SQLite treats `$1`
/// as a name, so a placeholder used twice is one parameter.
fn bind(stmt: &mut rusqlite::Statement<'_>, args: &[Arg<'_>]) -> Result<()> {
    for index in 1..=stmt.parameter_count() {
        let arg = stmt
            .parameter_name(index)
            .and_then(|name| name.strip_prefix('$'))
            .and_then(|n| n.parse::<usize>().ok())
            .and_then(|n| args.get(n.checked_sub(1)?))
            .ok_or_else(|| {
                StoreError::Internal(format!(
                    "statement parameter {index} has no value ({} given)",
                    args.len()
                ))
            })?;
        match *arg {
            Arg::Text(v) => stmt.raw_bind_parameter(index, v)?,
            Arg::Int(v) => stmt.raw_bind_parameter(index, v)?,
        }
    }
    Ok(())
}

/// Runs a read, handing each row to `each` until it returns `false`.
pub(super) fn query(
    conn: &Connection,
    sql: &str,
    args: &[Arg<'_>],
    mut each: impl FnMut(&dyn Columns) -> Result<bool>,
) -> Result<()> {
    let mut stmt = conn.prepare_cached(sql)?;
    bind(&mut stmt, args)?;
    let mut rows = stmt.raw_query();
    while let Some(row) = rows.next()? {
        if !each(&Named::new(row))? {
            break;
        }
    }
    Ok(())
}

/// A row whose columns are found by name, trying the column after the last one read before
/// searching: decoders read the columns in the order of the SELECT, so a lookup is one
/// comparison. rusqlite's own `get(name)` compares the name with every column's, through
/// SQLite, which showed at 2-4 % of the server's CPU on userinfo (a token-state row has some
/// twenty columns). Column names within a statement are unique (the queries alias them).
struct Named<'r, 's> {
    row: &'r Row<'s>,
    next: Cell<usize>,
}

impl<'r, 's> Named<'r, 's> {
    fn new(row: &'r Row<'s>) -> Self {
        Named {
            row,
            next: Cell::new(0),
        }
    }

    fn index(&self, name: &str) -> Result<usize> {
        let stmt = self.row.as_ref();
        let guess = self.next.get();
        let index = if stmt.column_name(guess).is_ok_and(|found| found == name) {
            guess
        } else {
            stmt.column_index(name)?
        };
        self.next.set(index + 1);
        Ok(index)
    }
}

impl Columns for Named<'_, '_> {
    fn text(&self, name: &str) -> Result<Option<String>> {
        Ok(self.row.get(self.index(name)?)?)
    }
    fn int(&self, name: &str) -> Result<Option<i64>> {
        Ok(self.row.get(self.index(name)?)?)
    }
}

/// The first row of a read, decoded.
pub(super) fn first<T>(
    conn: &Connection,
    sql: &str,
    args: &[Arg<'_>],
    decode: impl FnOnce(&dyn Columns) -> Result<T>,
) -> Result<Option<T>> {
    let mut decode = Some(decode);
    let mut found = None;
    query(conn, sql, args, |row| {
        if let Some(decode) = decode.take() {
            found = Some(decode(row)?);
        }
        Ok(false)
    })?;
    Ok(found)
}

/// Runs a statement; returns the rows it changed.
pub(super) fn execute(conn: &Connection, sql: &str, args: &[Arg<'_>]) -> Result<u64> {
    let mut stmt = conn.prepare_cached(sql)?;
    bind(&mut stmt, args)?;
    Ok(stmt.raw_execute()? as u64)
}

/// Runs `f` without waiting for SQLite's lock: held by another process, it is `Unavailable`
/// at once, so that no async worker sleeps in SQLite's busy handler.
fn without_waiting<T>(conn: &Connection, f: impl FnOnce() -> Result<T>) -> Result<T> {
    conn.busy_timeout(Duration::ZERO)?;
    let result = f();
    conn.busy_timeout(BUSY_TIMEOUT)?;
    result
}

/// A write on its own (autocommit), without waiting for the lock.
pub(super) fn execute_now(conn: &Connection, sql: &str, args: &[Arg<'_>]) -> Result<u64> {
    without_waiting(conn, || execute(conn, sql, args))
}

/// A write that answers a row (`RETURNING`) on its own, without waiting for the lock.
pub(super) fn first_now<T>(
    conn: &Connection,
    sql: &str,
    args: &[Arg<'_>],
    decode: impl FnOnce(&dyn Columns) -> Result<T>,
) -> Result<Option<T>> {
    without_waiting(conn, || first(conn, sql, args, decode))
}

/// `BEGIN IMMEDIATE` (the write lock, taken now), without waiting for it. Once it is held,
/// nothing in the transaction waits: in WAL mode readers never block a writer.
pub(super) fn begin_now(conn: &Connection) -> Result<()> {
    without_waiting(conn, || Ok(conn.execute_batch("BEGIN IMMEDIATE")?))
}

pub(super) fn commit(conn: &Connection) -> Result<()> {
    Ok(conn.execute_batch("COMMIT")?)
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::{DirectSqlite, begin_now, execute, first};
    use crate::{
        StoreError,
        sql::exec::{args, int, text},
    };

    fn set_with_table() -> (tempfile::TempDir, DirectSqlite, rusqlite::Connection) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("direct.db");
        let other = rusqlite::Connection::open(&path).unwrap();
        other
            .execute_batch(
                "PRAGMA journal_mode = WAL; CREATE TABLE t (k TEXT PRIMARY KEY, v BIGINT);",
            )
            .unwrap();
        let set = DirectSqlite::for_url(&format!("sqlite://{}", path.display())).unwrap();
        (dir, set, other)
    }

    /// Another process holding SQLite's write lock: the in-place attempt gives up at once
    /// (`Unavailable`, so that the store moves the write to sqlx's thread) instead of sleeping
    /// in the busy handler for up to 10 s; once the lock is free it gets through.
    #[test]
    fn begin_never_waits_for_another_writer() {
        let (_dir, set, other) = set_with_table();
        other.execute_batch("BEGIN IMMEDIATE").unwrap();
        let lease = set.lease().unwrap();
        let conn = lease.conn().unwrap();
        let started = Instant::now();
        let refused = begin_now(conn);
        assert!(
            matches!(refused, Err(StoreError::Unavailable(_))),
            "{refused:?}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "it waited for the lock"
        );
        other.execute_batch("COMMIT").unwrap();
        begin_now(conn).unwrap();
        assert!(!conn.is_autocommit());
    }

    /// A transaction left open when its lease is dropped is rolled back, and the connection goes
    /// back to the set clean.
    #[test]
    fn a_dropped_lease_rolls_back() {
        let (_dir, set, _other) = set_with_table();
        {
            let lease = set.lease().unwrap();
            let conn = lease.conn().unwrap();
            begin_now(conn).unwrap();
            execute(conn, "INSERT INTO t (k, v) VALUES ($1, $2)", args!["a", 1]).unwrap();
        }
        let lease = set.lease().unwrap();
        let conn = lease.conn().unwrap();
        assert!(conn.is_autocommit());
        let count = first(conn, "SELECT COUNT(*) AS n FROM t", &[], |row| {
            int(row, "n")
        })
        .unwrap();
        assert_eq!(count, Some(0));
    }

    /// Columns are found by name whatever the order they are read in; the guess of the next
    /// column only saves the search. A name the row lacks is an error, not another column.
    #[test]
    fn columns_are_found_by_name_in_any_order() {
        let (_dir, set, _other) = set_with_table();
        let lease = set.lease().unwrap();
        let conn = lease.conn().unwrap();
        execute(
            conn,
            "INSERT INTO t (k, v) VALUES ($1, $2)",
            args!["key", 5],
        )
        .unwrap();
        let sql = "SELECT k, v, v + 1 AS w, NULL AS z FROM t";
        let read = |order: &'static [&'static str]| {
            first(conn, sql, &[], |row| {
                let mut seen = Vec::new();
                for name in order {
                    seen.push(match *name {
                        "k" => text(row, "k")?,
                        "z" => format!("{:?}", row.text("z")?),
                        other => int(row, other)?.to_string(),
                    });
                }
                Ok(seen.join(","))
            })
            .unwrap()
            .unwrap()
        };
        assert_eq!(read(&["k", "v", "w", "z"]), "key,5,6,None");
        assert_eq!(read(&["z", "w", "k", "v"]), "None,6,key,5");
        assert_eq!(read(&["w", "w", "v", "v"]), "6,6,5,5");
        let missing = first(conn, sql, &[], |row| int(row, "x"));
        assert!(missing.is_err(), "{missing:?}");
    }

    /// `$N` is bound by number wherever it appears, also out of order and twice.
    #[test]
    fn placeholders_bind_by_number() {
        let (_dir, set, _other) = set_with_table();
        let lease = set.lease().unwrap();
        let conn = lease.conn().unwrap();
        execute(conn, "INSERT INTO t (v, k) VALUES ($2, $1)", args!["b", 7]).unwrap();
        let found = first(
            conn,
            "SELECT v FROM t WHERE k = $1 AND v = $2 AND k = $1",
            args!["b", 7],
            |row| int(row, "v"),
        )
        .unwrap();
        assert_eq!(found, Some(7));
        let missing = execute(conn, "INSERT INTO t (k, v) VALUES ($1, $2)", args!["c"]);
        assert!(
            matches!(missing, Err(StoreError::Internal(_))),
            "{missing:?}"
        );
    }

    /// Only in WAL mode does a writer never wait for readers; without it the store keeps to sqlx.
    #[test]
    fn direct_connections_need_wal() {
        let (dir, set, other) = set_with_table();
        assert!(set.usable());
        drop(other);
        let path = dir.path().join("rollback.db");
        rusqlite::Connection::open(&path)
            .unwrap()
            .execute_batch("PRAGMA journal_mode = DELETE; CREATE TABLE t (k TEXT);")
            .unwrap();
        let rollback = DirectSqlite::for_url(&format!("sqlite://{}", path.display())).unwrap();
        assert!(!rollback.usable());
    }

    #[test]
    fn only_files_get_direct_connections() {
        for url in [
            "sqlite:///var/lib/clavex/clavex.db?mode=rwc",
            "sqlite://./clavex-data/clavex.db",
            "sqlite:clavex.db",
        ] {
            assert!(DirectSqlite::for_url(url).is_some(), "{url}");
        }
        for url in [
            "sqlite::memory:",
            "sqlite://shared.db?mode=memory&cache=shared",
            "sqlite://clavex.db?mode=ro",
            "sqlite://clavex.db?immutable=1",
            "sqlite://",
            "postgres://u@localhost/clavex",
        ] {
            assert!(DirectSqlite::for_url(url).is_none(), "{url}");
        }
    }
}
