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

use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OpenFlags};

use rusqlite::{TransactionBehavior, named_params, params};

use super::token_state::{ACCESS_STATE_SQL, HolderRows, REFRESH_STATE_SQL, int, refresh_at};
use crate::{Event, GrantHolder, RefreshRotation, RefreshTokenRecord, contract::Result};

/// At most this many idle connections are kept; more may exist while busy.
const IDLE_CONNECTIONS: usize = 8;

/// A small set of connections to one SQLite file.
pub(super) struct Lite {
    path: String,
    idle: Mutex<Vec<Connection>>,
}

impl Lite {
    /// The file behind a `sqlite:` URL, or `None` where separate connections would not share one
    /// database (in memory).
    pub(super) fn for_url(url: &str) -> Option<Arc<Lite>> {
        let rest = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))?;
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        if path.is_empty() || path == ":memory:" || query.contains("mode=memory") {
            return None;
        }
        Some(Arc::new(Lite {
            path: path.to_string(),
            idle: Mutex::new(Vec::new()),
        }))
    }

    fn open(&self) -> Result<Connection> {
        // The file exists: sqlx created and migrated it before this is first used.
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        // As the sqlx connections are set up (`SqlStore::connect_with`).
        conn.execute_batch(
            "PRAGMA busy_timeout = 10000; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
        )?;
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

impl Lite {
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
    ) -> Result<RefreshRotation> {
        use super::{
            INSERT_EVENT_SQL,
            grants::{INSERT_REFRESH_SQL, REFRESH_USE_SQL, REVOKE_GRANT_SQL, USE_REFRESH_SQL},
        };
        self.with(|conn| {
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
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Lite;

    #[test]
    fn only_files_get_direct_connections() {
        for url in [
            "sqlite:///var/lib/clavex/clavex.db?mode=rwc",
            "sqlite://./clavex-data/clavex.db",
            "sqlite:clavex.db",
        ] {
            assert!(Lite::for_url(url).is_some(), "{url}");
        }
        for url in [
            "sqlite::memory:",
            "sqlite://shared.db?mode=memory&cache=shared",
            "sqlite://",
            "postgres://u@localhost/clavex",
        ] {
            assert!(Lite::for_url(url).is_none(), "{url}");
        }
    }
}
