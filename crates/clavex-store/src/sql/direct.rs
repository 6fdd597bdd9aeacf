//! Direct SQLite connections for the statements behind every token check and every refresh.
//!
//! sqlx runs each SQLite connection on a thread of its own, so every statement is a hand-over to
//! that thread and back: about 60-70 µs of CPU per statement on the benchmark machine, mostly
//! thread wake-ups, against 5-15 µs for the statement itself (docs/performance.md). Userinfo,
//! introspection and refresh are one or two reads and one short write transaction, so on them
//! the hand-overs were most of the server's work. Here those few statements run on connections
//! of this module's own, in place on the calling thread: reads (WAL readers never wait for a
//! lock), and the rotation's write transaction while the process's write turn is held, so that
//! it does not wait either. Both take tens of microseconds; a commit does not fsync (WAL with
//! `synchronous = NORMAL`).
//!
//! The SQL text is the same as on the sqlx path (shared constants), and the conformance suite runs
//! every method against SQLite through this path and against PostgreSQL through sqlx.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use rusqlite::{Connection, OpenFlags};

use rusqlite::{TransactionBehavior, named_params, params};

use super::token_state::{ACCESS_STATE_SQL, HolderRows, REFRESH_STATE_SQL, int, refresh_at};
use crate::{Event, GrantHolder, RefreshRotation, RefreshTokenRecord, contract::Result};

/// As the sqlx connections' `PRAGMA busy_timeout = 10000`.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// At most this many idle connections are kept; more may exist while busy.
const IDLE_CONNECTIONS: usize = 8;

/// A small set of connections to one SQLite file.
pub(super) struct DirectSqlite {
    path: String,
    idle: Mutex<Vec<Connection>>,
}

impl DirectSqlite {
    /// The file behind a `sqlite:` URL, or `None` where separate connections would not share one
    /// database (in memory).
    pub(super) fn for_url(url: &str) -> Option<Arc<DirectSqlite>> {
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
        Some(Arc::new(DirectSqlite {
            path: path.to_string(),
            idle: Mutex::new(Vec::new()),
        }))
    }

    /// Whether a connection opens (at start-up, after sqlx created the file): if not, the
    /// store keeps to sqlx rather than failing every token check later. The connection is
    /// closed again: direct connections are opened when first needed.
    pub(super) fn usable(&self) -> bool {
        self.open().is_ok()
    }

    fn open(&self) -> Result<Connection> {
        // The file exists: sqlx created and migrated it before this is first used.
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        // As the sqlx connections are set up (`SqlStore::connect_with`).
        conn.busy_timeout(BUSY_TIMEOUT)?;
        conn.execute_batch("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")?;
        Ok(conn)
    }

    /// Runs `f` on a connection of the set, on the calling thread.
    pub(super) fn with<T>(&self, f: impl FnOnce(&mut Connection) -> Result<T>) -> Result<T> {
        let taken = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        let mut conn = match taken {
            Some(conn) => conn,
            None => self.open()?,
        };
        let result = f(&mut conn);
        // A connection left inside a transaction (an error between BEGIN and COMMIT) is closed,
        // which rolls it back, rather than handed to the next caller.
        if conn.is_autocommit()
            && let Ok(mut idle) = self.idle.lock()
            && idle.len() < IDLE_CONNECTIONS
        {
            idle.push(conn);
        }
        result
    }
}

impl DirectSqlite {
    pub(super) fn access_token_state(
        &self,
        org_id: &str,
        jti: &str,
        grant_id: Option<&str>,
    ) -> Result<(bool, Option<GrantHolder>)> {
        self.with(|conn| {
            let mut stmt = conn.prepare_cached(&ACCESS_STATE_SQL)?;
            let mut rows = stmt.query(named_params! { "$1": org_id, "$2": jti, "$3": grant_id })?;
            let mut revoked = false;
            let mut holder = HolderRows::default();
            while let Some(row) = rows.next()? {
                revoked = int(row, "jti_revoked")? > 0;
                holder.add(row)?;
            }
            Ok((revoked, holder.finish()))
        })
    }

    pub(super) fn refresh_token_state(
        &self,
        org_id: &str,
        token_hash: &str,
    ) -> Result<Option<(RefreshTokenRecord, Option<GrantHolder>)>> {
        self.with(|conn| {
            let mut stmt = conn.prepare_cached(&REFRESH_STATE_SQL)?;
            let mut rows = stmt.query(named_params! { "$1": org_id, "$2": token_hash })?;
            let mut token = None;
            let mut holder = HolderRows::default();
            while let Some(row) = rows.next()? {
                if token.is_none() {
                    token = Some(refresh_at(row)?);
                }
                holder.add(row)?;
            }
            Ok(token.map(|t| (t, holder.finish())))
        })
    }

    /// `GrantStore::rotate_refresh_token` in one transaction, with the statements of the sqlx
    /// path. The caller holds the write turn, so `BEGIN IMMEDIATE` waits only for another
    /// process (the CLI), up to the busy timeout.
    pub(super) fn rotate_refresh_token(
        &self,
        old_hash: &str,
        now: i64,
        race_since: i64,
        next: &RefreshTokenRecord,
        event_on_reuse: &Event,
        wait: bool,
    ) -> Result<RefreshRotation> {
        self.with(|conn| {
            // Without `wait`, a lock held by another process is `Unavailable` at once.
            conn.busy_timeout(if wait { BUSY_TIMEOUT } else { Duration::ZERO })?;
            let result = rotate_in(conn, old_hash, now, race_since, next, event_on_reuse);
            conn.busy_timeout(BUSY_TIMEOUT)?;
            result
        })
    }
}

fn rotate_in(
    conn: &mut Connection,
    old_hash: &str,
    now: i64,
    race_since: i64,
    next: &RefreshTokenRecord,
    event_on_reuse: &Event,
) -> Result<RefreshRotation> {
    use super::{
        INSERT_EVENT_SQL,
        grants::{INSERT_REFRESH_SQL, REFRESH_USE_SQL, REVOKE_GRANT_SQL, USE_REFRESH_SQL},
    };
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let won = tx
        .prepare_cached(USE_REFRESH_SQL)?
        .execute(params![now, old_hash])?
        == 1;
    if won {
        tx.prepare_cached(INSERT_REFRESH_SQL)?.execute(params![
            next.token_hash,
            next.grant_id,
            next.scope,
            next.created_at,
            next.expires_at,
            next.used_at
        ])?;
        tx.commit()?;
        return Ok(RefreshRotation::Rotated);
    }
    // Dropping `tx` without a commit rolls it back.
    let used: Option<(String, Option<i64>)> = {
        let mut stmt = tx.prepare_cached(REFRESH_USE_SQL)?;
        let mut rows = stmt.query(params![old_hash])?;
        match rows.next()? {
            Some(row) => Some((row.get(0)?, row.get(1)?)),
            None => None,
        }
    };
    let Some((grant_id, used_at)) = used else {
        return Ok(RefreshRotation::NotFound);
    };
    if used_at.is_some_and(|t| t >= race_since) {
        return Ok(RefreshRotation::Raced);
    }
    tx.prepare_cached(REVOKE_GRANT_SQL)?
        .execute(params![now, grant_id])?;
    let e = event_on_reuse;
    tx.prepare_cached(INSERT_EVENT_SQL)?.execute(params![
        e.id,
        e.org_id,
        e.time,
        e.kind,
        e.actor,
        e.target,
        e.outcome,
        e.source_ip,
        e.details.to_string()
    ])?;
    tx.commit()?;
    Ok(RefreshRotation::Reused { grant_id })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::DirectSqlite;
    use crate::{Event, RefreshRotation, RefreshTokenRecord, StoreError};

    fn token(hash: &str) -> RefreshTokenRecord {
        RefreshTokenRecord {
            token_hash: hash.into(),
            grant_id: "g1".into(),
            scope: "openid".into(),
            created_at: 1,
            expires_at: 1_000,
            used_at: None,
        }
    }

    /// Another process holding SQLite's write lock: the in-place attempt gives up at once
    /// (`Unavailable`, so the caller moves to the blocking pool), the waiting one gets through
    /// once the lock is released.
    #[test]
    fn rotation_in_place_never_waits_for_another_writer() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lock.db");
        let other = rusqlite::Connection::open(&path).unwrap();
        other
            .execute_batch(
                "PRAGMA journal_mode = WAL; CREATE TABLE refresh_tokens (token_hash TEXT PRIMARY KEY, \
                 grant_id TEXT, scope TEXT, created_at BIGINT, expires_at BIGINT, used_at BIGINT); \
                 INSERT INTO refresh_tokens VALUES ('old', 'g1', 'openid', 1, 1000, NULL);",
            )
            .unwrap();
        let direct = DirectSqlite::for_url(&format!("sqlite://{}", path.display())).unwrap();
        let event = Event {
            id: "e1".into(),
            org_id: None,
            time: 5,
            kind: "refresh_token.reused".into(),
            actor: "anonymous".into(),
            target: "c".into(),
            outcome: "failure".into(),
            source_ip: None,
            details: serde_json::json!({}),
        };
        other.execute_batch("BEGIN IMMEDIATE").unwrap();
        let quick = direct.rotate_refresh_token("old", 5, 3, &token("new"), &event, false);
        assert!(
            matches!(quick, Err(StoreError::Unavailable(_))),
            "{quick:?}"
        );
        let release = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            other.execute_batch("COMMIT").unwrap();
        });
        let waited = direct.rotate_refresh_token("old", 5, 3, &token("new"), &event, true);
        assert_eq!(waited.unwrap(), RefreshRotation::Rotated);
        release.join().unwrap();
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
