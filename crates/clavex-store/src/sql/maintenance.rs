//! Background clean-up: deletes expired rows in small batches.

use async_trait::async_trait;

use super::SqlStore;
use crate::{MaintenanceStore, PurgeCounts, PurgeCutoffs, contract::Result};

/// One kind of expired row: its table, its key column, and the condition (over `$1`) that makes
/// a row deletable.
struct Purge {
    table: &'static str,
    key: &'static str,
    expired: &'static str,
}

impl SqlStore {
    /// Deletes rows matching `p` with cutoff `before`, `batch` at a time, until none is left.
    async fn purge(&self, p: &Purge, before: i64, batch: u32) -> Result<u64> {
        // The sub-select keeps each statement short on both backends (neither PostgreSQL nor a
        // default SQLite build accepts DELETE ... LIMIT). The condition is repeated outside it so
        // that a row updated in between (a throttle counter bumped again) is left alone.
        let sql = format!(
            "DELETE FROM {table} WHERE {expired} AND {key} IN \
             (SELECT {key} FROM {table} WHERE {expired} LIMIT $2)",
            table = p.table,
            key = p.key,
            expired = p.expired,
        );
        let mut total = 0;
        loop {
            // One batch per turn, so that sign-ins and refreshes get theirs in between.
            let _lane = self.lane().await;
            let deleted = sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                .bind(before)
                .bind(i64::from(batch))
                .execute(&self.pool)
                .await?
                .rows_affected();
            total += deleted;
            if deleted < u64::from(batch) {
                return Ok(total);
            }
        }
    }
}

#[async_trait]
impl MaintenanceStore for SqlStore {
    async fn purge_expired(&self, cutoffs: &PurgeCutoffs, batch: u32) -> Result<PurgeCounts> {
        let _timer = self.timed("purge_expired");
        let batch = batch.max(1);
        let expired = |table, key| Purge {
            table,
            key,
            expired: "expires_at <= $1",
        };
        let at = cutoffs.expired_before;
        Ok(PurgeCounts {
            auth_requests: self
                .purge(&expired("auth_requests", "id_hash"), at, batch)
                .await?,
            sessions: self
                .purge(&expired("sso_sessions", "id_hash"), at, batch)
                .await?,
            console_sessions: self
                .purge(&expired("console_sessions", "id_hash"), at, batch)
                .await?,
            // A used code stays while its grant may exist: a late replay must still find it
            // and revoke that grant.
            codes: self
                .purge(
                    &Purge {
                        table: "auth_codes",
                        key: "code_hash",
                        expired: "used_at IS NULL AND expires_at <= $1",
                    },
                    at,
                    batch,
                )
                .await?
                + self
                    .purge(
                        &Purge {
                            table: "auth_codes",
                            key: "code_hash",
                            expired: "used_at IS NOT NULL AND expires_at <= $1",
                        },
                        cutoffs.used_codes_before,
                        batch,
                    )
                    .await?,
            // Before grants: a grant's own tokens go with it (ON DELETE CASCADE) and are not
            // counted, so count the ones that expired by themselves first.
            refresh_tokens: self
                .purge(&expired("refresh_tokens", "token_hash"), at, batch)
                .await?,
            grants: self
                .purge(&expired("grants", "id"), cutoffs.grants_before, batch)
                .await?,
            revoked_access_tokens: self
                .purge(&expired("revoked_access_tokens", "jti"), at, batch)
                .await?,
            client_secrets: self
                .purge(
                    &Purge {
                        table: "client_secrets",
                        key: "seq",
                        expired: "expires_at IS NOT NULL AND expires_at <= $1",
                    },
                    at,
                    batch,
                )
                .await?,
            throttles: self
                .purge(
                    &Purge {
                        table: "login_throttle",
                        key: "throttle_key",
                        // A counter whose window is over and whose lock (if any) has ended
                        // counts for nothing; `locked_until` is compared with the window cutoff
                        // too, which is earlier than now, so a live lock is never dropped.
                        expired: "window_start <= $1 AND locked_until <= $1",
                    },
                    cutoffs.throttle_before,
                    batch,
                )
                .await?,
            events: match cutoffs.events_before {
                Some(before) => {
                    self.purge(
                        &Purge {
                            table: "events",
                            key: "seq",
                            expired: "time <= $1",
                        },
                        before,
                        batch,
                    )
                    .await?
                }
                None => 0,
            },
        })
    }
}
