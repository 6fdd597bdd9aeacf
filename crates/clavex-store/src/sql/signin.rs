//! Pending authorization requests, SSO sessions and sign-in throttling.

use async_trait::async_trait;
use sqlx::{Row, any::AnyRow};

use super::{SqlStore, insert_event};
use crate::{
    AuthRequestRecord, Event, SessionRecord, SignInStore, StoreError, ThrottleState,
    contract::Result,
};

fn session(row: &AnyRow) -> Result<SessionRecord> {
    Ok(SessionRecord {
        id_hash: row.try_get("id_hash")?,
        sid: row.try_get("sid")?,
        org_id: row.try_get("org_id")?,
        user_id: row.try_get("user_id")?,
        auth_time: row.try_get("auth_time")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
    })
}

#[async_trait]
impl SignInStore for SqlStore {
    async fn create_auth_request(&self, request: &AuthRequestRecord) -> Result<()> {
        let _timer = self.timed("create_auth_request");
        let _lane = self.lane().await;
        sqlx::query(
            "INSERT INTO auth_requests (id_hash, org_id, params, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&request.id_hash)
        .bind(&request.org_id)
        .bind(request.params.to_string())
        .bind(request.created_at)
        .bind(request.expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn get_auth_request(
        &self,
        org_id: &str,
        id_hash: &str,
        now: i64,
    ) -> Result<Option<AuthRequestRecord>> {
        let _timer = self.timed("get_auth_request");
        let row = sqlx::query(
            "SELECT id_hash, org_id, params, created_at, expires_at FROM auth_requests \
             WHERE id_hash = $1 AND org_id = $2 AND expires_at > $3",
        )
        .bind(id_hash)
        .bind(org_id)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            let params: String = r.try_get("params")?;
            Ok(AuthRequestRecord {
                id_hash: r.try_get("id_hash")?,
                org_id: r.try_get("org_id")?,
                params: serde_json::from_str(&params)
                    .map_err(|e| StoreError::Internal(format!("corrupt auth request: {e}")))?,
                created_at: r.try_get("created_at")?,
                expires_at: r.try_get("expires_at")?,
            })
        })
        .transpose()
    }

    async fn delete_auth_request(&self, id_hash: &str) -> Result<bool> {
        let _timer = self.timed("delete_auth_request");
        let _lane = self.lane().await;
        let done = sqlx::query("DELETE FROM auth_requests WHERE id_hash = $1")
            .bind(id_hash)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn create_session(&self, s: &SessionRecord, event: &Event) -> Result<()> {
        let _timer = self.timed("create_session");
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO sso_sessions (id_hash, sid, org_id, user_id, auth_time, created_at, \
             expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&s.id_hash)
        .bind(&s.sid)
        .bind(&s.org_id)
        .bind(&s.user_id)
        .bind(s.auth_time)
        .bind(s.created_at)
        .bind(s.expires_at)
        .execute(&mut *tx)
        .await?;
        insert_event(&mut tx, event).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn get_session(
        &self,
        org_id: &str,
        id_hash: &str,
        now: i64,
    ) -> Result<Option<SessionRecord>> {
        let _timer = self.timed("get_session");
        let row = sqlx::query(
            "SELECT id_hash, sid, org_id, user_id, auth_time, created_at, expires_at \
             FROM sso_sessions WHERE id_hash = $1 AND org_id = $2 AND expires_at > $3",
        )
        .bind(id_hash)
        .bind(org_id)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(session).transpose()
    }

    async fn delete_session(&self, org_id: &str, sid: &str, event: &Event) -> Result<bool> {
        let _timer = self.timed("delete_session");
        let mut tx = self.write_tx().await?;
        let done = sqlx::query("DELETE FROM sso_sessions WHERE org_id = $1 AND sid = $2")
            .bind(org_id)
            .bind(sid)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        insert_event(&mut tx, event).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn get_throttle(&self, key: &str) -> Result<Option<ThrottleState>> {
        let _timer = self.timed("get_throttle");
        let row = sqlx::query(
            "SELECT failures, window_start, locked_until FROM login_throttle WHERE throttle_key = $1",
        )
        .bind(key)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(ThrottleState {
                failures: r.try_get("failures")?,
                window_start: r.try_get("window_start")?,
                locked_until: r.try_get("locked_until")?,
            })
        })
        .transpose()
    }

    async fn put_throttle(&self, key: &str, org_id: &str, state: &ThrottleState) -> Result<()> {
        let _timer = self.timed("put_throttle");
        let _lane = self.lane().await;
        sqlx::query(
            "INSERT INTO login_throttle (throttle_key, org_id, failures, window_start, locked_until) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (throttle_key) DO UPDATE SET \
             failures = excluded.failures, window_start = excluded.window_start, \
             locked_until = excluded.locked_until",
        )
        .bind(key)
        .bind(org_id)
        .bind(state.failures)
        .bind(state.window_start)
        .bind(state.locked_until)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn bump_throttle(
        &self,
        key: &str,
        org_id: &str,
        now: i64,
        window: i64,
    ) -> Result<ThrottleState> {
        let _timer = self.timed("bump_throttle");
        let _lane = self.lane().await;
        let row = sqlx::query(
            "INSERT INTO login_throttle (throttle_key, org_id, failures, window_start, locked_until) \
             VALUES ($1, $2, 1, $3, 0) ON CONFLICT (throttle_key) DO UPDATE SET \
             failures = CASE WHEN login_throttle.window_start <= $4 THEN 1 \
                             ELSE login_throttle.failures + 1 END, \
             window_start = CASE WHEN login_throttle.window_start <= $4 THEN $3 \
                                 ELSE login_throttle.window_start END \
             RETURNING failures, window_start, locked_until",
        )
        .bind(key)
        .bind(org_id)
        .bind(now)
        .bind(now - window)
        .fetch_one(&self.pool)
        .await?;
        Ok(ThrottleState {
            failures: row.try_get("failures")?,
            window_start: row.try_get("window_start")?,
            locked_until: row.try_get("locked_until")?,
        })
    }

    async fn lock_throttle(&self, key: &str, until: i64) -> Result<()> {
        let _timer = self.timed("lock_throttle");
        let _lane = self.lane().await;
        sqlx::query(
            "UPDATE login_throttle SET locked_until = \
             CASE WHEN locked_until < $1 THEN $1 ELSE locked_until END WHERE throttle_key = $2",
        )
        .bind(until)
        .bind(key)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn clear_throttle(&self, key: &str) -> Result<()> {
        let _timer = self.timed("clear_throttle");
        let _lane = self.lane().await;
        sqlx::query("DELETE FROM login_throttle WHERE throttle_key = $1")
            .bind(key)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
