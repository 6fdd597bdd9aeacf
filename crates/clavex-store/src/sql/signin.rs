//! Pending authorization requests, SSO sessions and sign-in throttling.

use async_trait::async_trait;

use super::{
    SqlStore, args,
    exec::{Columns, int, text},
};
use crate::{
    AuthRequestRecord, Event, SessionRecord, SignInStore, StoreError, ThrottleState,
    contract::Result,
};

fn session(row: &dyn Columns) -> Result<SessionRecord> {
    Ok(SessionRecord {
        id_hash: text(row, "id_hash")?,
        sid: text(row, "sid")?,
        org_id: text(row, "org_id")?,
        user_id: text(row, "user_id")?,
        auth_time: int(row, "auth_time")?,
        created_at: int(row, "created_at")?,
        expires_at: int(row, "expires_at")?,
    })
}

fn auth_request(row: &dyn Columns) -> Result<AuthRequestRecord> {
    let params = text(row, "params")?;
    Ok(AuthRequestRecord {
        id_hash: text(row, "id_hash")?,
        org_id: text(row, "org_id")?,
        params: serde_json::from_str(&params)
            .map_err(|e| StoreError::Internal(format!("corrupt auth request: {e}")))?,
        created_at: int(row, "created_at")?,
        expires_at: int(row, "expires_at")?,
    })
}

fn throttle(row: &dyn Columns) -> Result<ThrottleState> {
    Ok(ThrottleState {
        failures: int(row, "failures")?,
        window_start: int(row, "window_start")?,
        locked_until: int(row, "locked_until")?,
    })
}

#[async_trait]
impl SignInStore for SqlStore {
    async fn create_auth_request(&self, request: &AuthRequestRecord) -> Result<()> {
        let _timer = self.timed("create_auth_request");
        let params = request.params.to_string();
        self.write_one(
            "INSERT INTO auth_requests (id_hash, org_id, params, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
            args![
                &request.id_hash,
                &request.org_id,
                &params,
                request.created_at,
                request.expires_at
            ],
        )
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
        self.read_one(
            "SELECT id_hash, org_id, params, created_at, expires_at FROM auth_requests \
             WHERE id_hash = $1 AND org_id = $2 AND expires_at > $3",
            args![id_hash, org_id, now],
            auth_request,
        )
        .await
    }

    async fn delete_auth_request(&self, id_hash: &str) -> Result<bool> {
        let _timer = self.timed("delete_auth_request");
        let deleted = self
            .write_one(
                "DELETE FROM auth_requests WHERE id_hash = $1",
                args![id_hash],
            )
            .await?;
        Ok(deleted == 1)
    }

    async fn create_session(&self, s: &SessionRecord, event: &Event) -> Result<()> {
        let _timer = self.timed("create_session");
        let mut w = self.writer().await?;
        w.execute(
            "INSERT INTO sso_sessions (id_hash, sid, org_id, user_id, auth_time, created_at, \
             expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            args![
                &s.id_hash,
                &s.sid,
                &s.org_id,
                &s.user_id,
                s.auth_time,
                s.created_at,
                s.expires_at
            ],
        )
        .await?;
        w.event(event).await?;
        w.commit().await
    }

    async fn get_session(
        &self,
        org_id: &str,
        id_hash: &str,
        now: i64,
    ) -> Result<Option<SessionRecord>> {
        let _timer = self.timed("get_session");
        self.read_one(
            "SELECT id_hash, sid, org_id, user_id, auth_time, created_at, expires_at \
             FROM sso_sessions WHERE id_hash = $1 AND org_id = $2 AND expires_at > $3",
            args![id_hash, org_id, now],
            session,
        )
        .await
    }

    async fn delete_session(&self, org_id: &str, sid: &str, event: &Event) -> Result<bool> {
        let _timer = self.timed("delete_session");
        let mut w = self.writer().await?;
        let deleted = w
            .execute(
                "DELETE FROM sso_sessions WHERE org_id = $1 AND sid = $2",
                args![org_id, sid],
            )
            .await?
            > 0;
        if deleted {
            w.event(event).await?;
            w.commit().await?;
        }
        Ok(deleted)
    }

    async fn get_throttle(&self, key: &str) -> Result<Option<ThrottleState>> {
        let _timer = self.timed("get_throttle");
        self.read_one(
            "SELECT failures, window_start, locked_until FROM login_throttle WHERE throttle_key = $1",
            args![key],
            throttle,
        )
        .await
    }

    async fn put_throttle(&self, key: &str, org_id: &str, state: &ThrottleState) -> Result<()> {
        let _timer = self.timed("put_throttle");
        self.write_one(
            "INSERT INTO login_throttle (throttle_key, org_id, failures, window_start, locked_until) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (throttle_key) DO UPDATE SET \
             failures = excluded.failures, window_start = excluded.window_start, \
             locked_until = excluded.locked_until",
            args![
                key,
                org_id,
                state.failures,
                state.window_start,
                state.locked_until
            ],
        )
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
        let state = self
            .write_returning(
                "INSERT INTO login_throttle (throttle_key, org_id, failures, window_start, locked_until) \
                 VALUES ($1, $2, 1, $3, 0) ON CONFLICT (throttle_key) DO UPDATE SET \
                 failures = CASE WHEN login_throttle.window_start <= $4 THEN 1 \
                                 ELSE login_throttle.failures + 1 END, \
                 window_start = CASE WHEN login_throttle.window_start <= $4 THEN $3 \
                                     ELSE login_throttle.window_start END \
                 RETURNING failures, window_start, locked_until",
                args![key, org_id, now, now - window],
                throttle,
            )
            .await?
            .ok_or_else(|| StoreError::Internal("an upsert returned no row".into()))?;
        Ok(state)
    }

    async fn lock_throttle(&self, key: &str, until: i64) -> Result<()> {
        let _timer = self.timed("lock_throttle");
        self.write_one(
            "UPDATE login_throttle SET locked_until = \
             CASE WHEN locked_until < $1 THEN $1 ELSE locked_until END WHERE throttle_key = $2",
            args![until, key],
        )
        .await?;
        Ok(())
    }

    async fn clear_throttle(&self, key: &str) -> Result<()> {
        let _timer = self.timed("clear_throttle");
        self.write_one(
            "DELETE FROM login_throttle WHERE throttle_key = $1",
            args![key],
        )
        .await?;
        Ok(())
    }
}
