//! Authorization codes, grants, refresh tokens and revoked access tokens. Single use is enforced
//! by conditional updates (`... WHERE used_at IS NULL`) inside write transactions, so the database
//! decides which of two racing redemptions wins.

use async_trait::async_trait;
use sqlx::{Row, any::AnyRow};

use super::{SqlStore, insert_event};
use crate::{
    CodeRecord, CodeRedemption, Event, GrantHolder, GrantRecord, GrantStore, RefreshRotation,
    RefreshTokenRecord, contract::Result,
};

fn code(row: &AnyRow) -> Result<CodeRecord> {
    Ok(CodeRecord {
        code_hash: row.try_get("code_hash")?,
        org_id: row.try_get("org_id")?,
        client_id: row.try_get("client_id")?,
        user_id: row.try_get("user_id")?,
        redirect_uri: row.try_get("redirect_uri")?,
        scope: row.try_get("scope")?,
        nonce: row.try_get("nonce")?,
        code_challenge: row.try_get("code_challenge")?,
        auth_time: row.try_get("auth_time")?,
        sid: row.try_get("sid")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        used_at: row.try_get("used_at")?,
        grant_id: row.try_get("grant_id")?,
    })
}

fn grant(row: &AnyRow) -> Result<GrantRecord> {
    Ok(GrantRecord {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        client_id: row.try_get("client_id")?,
        user_id: row.try_get("user_id")?,
        scope: row.try_get("scope")?,
        auth_time: row.try_get("auth_time")?,
        sid: row.try_get("sid")?,
        nonce: row.try_get("nonce")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

fn refresh(row: &AnyRow) -> Result<RefreshTokenRecord> {
    Ok(RefreshTokenRecord {
        token_hash: row.try_get("token_hash")?,
        grant_id: row.try_get("grant_id")?,
        scope: row.try_get("scope")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        used_at: row.try_get("used_at")?,
    })
}

async fn insert_grant(conn: &mut sqlx::AnyConnection, g: &GrantRecord) -> Result<()> {
    sqlx::query(
        "INSERT INTO grants (id, org_id, client_id, user_id, scope, auth_time, sid, nonce, \
         created_at, expires_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(&g.id)
    .bind(&g.org_id)
    .bind(&g.client_id)
    .bind(&g.user_id)
    .bind(&g.scope)
    .bind(g.auth_time)
    .bind(&g.sid)
    .bind(&g.nonce)
    .bind(g.created_at)
    .bind(g.expires_at)
    .bind(g.revoked_at)
    .execute(conn)
    .await?;
    Ok(())
}

// The rotation's statements, shared with the direct SQLite path (`direct`).
pub(super) const INSERT_REFRESH_SQL: &str = "INSERT INTO refresh_tokens \
     (token_hash, grant_id, scope, created_at, expires_at, used_at) VALUES ($1, $2, $3, $4, $5, $6)";
pub(super) const USE_REFRESH_SQL: &str =
    "UPDATE refresh_tokens SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL";
pub(super) const REFRESH_USE_SQL: &str =
    "SELECT grant_id, used_at FROM refresh_tokens WHERE token_hash = $1";
pub(super) const REVOKE_GRANT_SQL: &str =
    "UPDATE grants SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL";

async fn insert_refresh(conn: &mut sqlx::AnyConnection, r: &RefreshTokenRecord) -> Result<()> {
    sqlx::query(INSERT_REFRESH_SQL)
        .bind(&r.token_hash)
        .bind(&r.grant_id)
        .bind(&r.scope)
        .bind(r.created_at)
        .bind(r.expires_at)
        .bind(r.used_at)
        .execute(conn)
        .await?;
    Ok(())
}

async fn revoke_grant_in(conn: &mut sqlx::AnyConnection, grant_id: &str, now: i64) -> Result<u64> {
    let done = sqlx::query(REVOKE_GRANT_SQL)
        .bind(now)
        .bind(grant_id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}

const CODE_COLUMNS: &str = "code_hash, org_id, client_id, user_id, redirect_uri, scope, nonce, \
     code_challenge, auth_time, sid, created_at, expires_at, used_at, grant_id";
const GRANT_COLUMNS: &str = "id, org_id, client_id, user_id, scope, auth_time, sid, nonce, \
     created_at, expires_at, revoked_at";

#[async_trait]
impl GrantStore for SqlStore {
    async fn create_code(&self, c: &CodeRecord) -> Result<()> {
        let _timer = self.timed("create_code");
        let _lane = self.lane().await;
        sqlx::query(
            "INSERT INTO auth_codes (code_hash, org_id, client_id, user_id, redirect_uri, scope, \
             nonce, code_challenge, auth_time, sid, created_at, expires_at, used_at, grant_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, NULL, NULL)",
        )
        .bind(&c.code_hash)
        .bind(&c.org_id)
        .bind(&c.client_id)
        .bind(&c.user_id)
        .bind(&c.redirect_uri)
        .bind(&c.scope)
        .bind(&c.nonce)
        .bind(&c.code_challenge)
        .bind(c.auth_time)
        .bind(&c.sid)
        .bind(c.created_at)
        .bind(c.expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn get_code(&self, code_hash: &str) -> Result<Option<CodeRecord>> {
        let _timer = self.timed("get_code");
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {CODE_COLUMNS} FROM auth_codes WHERE code_hash = $1"
        )))
        .bind(code_hash)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(code).transpose()
    }

    async fn redeem_code(
        &self,
        code_hash: &str,
        now: i64,
        grant: &GrantRecord,
        refresh: Option<&RefreshTokenRecord>,
        event: &Event,
    ) -> Result<CodeRedemption> {
        let _timer = self.timed("redeem_code");
        let mut tx = self.write_tx().await?;
        let won = sqlx::query(
            "UPDATE auth_codes SET used_at = $1, grant_id = $2 \
             WHERE code_hash = $3 AND used_at IS NULL",
        )
        .bind(now)
        .bind(&grant.id)
        .bind(code_hash)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if won {
            insert_grant(&mut tx, grant).await?;
            if let Some(r) = refresh {
                insert_refresh(&mut tx, r).await?;
            }
            tx.commit().await?;
            return Ok(CodeRedemption::Redeemed);
        }
        let previous = sqlx::query("SELECT grant_id FROM auth_codes WHERE code_hash = $1")
            .bind(code_hash)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(previous) = previous else {
            return Ok(CodeRedemption::NotFound);
        };
        if let Some(grant_id) = previous.try_get::<Option<String>, _>("grant_id")? {
            revoke_grant_in(&mut tx, &grant_id, now).await?;
        }
        insert_event(&mut tx, event).await?;
        tx.commit().await?;
        Ok(CodeRedemption::Replayed)
    }

    async fn create_grant(&self, g: &GrantRecord) -> Result<()> {
        let _timer = self.timed("create_grant");
        let _lane = self.lane().await;
        let mut conn = self.pool.acquire().await?;
        insert_grant(&mut conn, g).await
    }

    async fn get_grant(&self, org_id: &str, id: &str) -> Result<Option<GrantRecord>> {
        let _timer = self.timed("get_grant");
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {GRANT_COLUMNS} FROM grants WHERE org_id = $1 AND id = $2"
        )))
        .bind(org_id)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(grant).transpose()
    }

    async fn revoke_grant(&self, org_id: &str, id: &str, now: i64, event: &Event) -> Result<bool> {
        let _timer = self.timed("revoke_grant");
        let mut tx = self.write_tx().await?;
        let done = sqlx::query(
            "UPDATE grants SET revoked_at = $1 WHERE org_id = $2 AND id = $3 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(org_id)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        insert_event(&mut tx, event).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn get_refresh_token(&self, token_hash: &str) -> Result<Option<RefreshTokenRecord>> {
        let _timer = self.timed("get_refresh_token");
        let row = sqlx::query(
            "SELECT token_hash, grant_id, scope, created_at, expires_at, used_at \
             FROM refresh_tokens WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(refresh).transpose()
    }

    async fn rotate_refresh_token(
        &self,
        old_hash: &str,
        now: i64,
        race_since: i64,
        next: &RefreshTokenRecord,
        event_on_reuse: &Event,
    ) -> Result<RefreshRotation> {
        let _timer = self.timed("rotate_refresh_token");
        if let Some(direct) = &self.direct {
            // In place, holding the turn: the transaction is a few tens of microseconds (WAL,
            // no fsync per commit). Handed to the blocking pool it waited there behind RSA
            // signatures for the CPU, with every other writer waiting for the turn.
            let _lane = self.lane().await;
            // In place only if SQLite's lock is free (it is, unless another process writes):
            // waiting for it in SQLite's busy handler would stall this async worker. Otherwise
            // the same transaction waits on the blocking pool, up to the busy timeout.
            match direct.rotate_refresh_token(
                old_hash,
                now,
                race_since,
                next,
                event_on_reuse,
                false,
            ) {
                Err(crate::StoreError::Unavailable(_)) => {}
                done => return done,
            }
            let (direct, old_hash, next, event) = (
                direct.clone(),
                old_hash.to_string(),
                next.clone(),
                event_on_reuse.clone(),
            );
            return tokio::task::spawn_blocking(move || {
                direct.rotate_refresh_token(&old_hash, now, race_since, &next, &event, true)
            })
            .await
            .map_err(|e| crate::StoreError::Internal(format!("the rotation task failed: {e}")))?;
        }
        let mut tx = self.write_tx().await?;
        let won = sqlx::query(USE_REFRESH_SQL)
            .bind(now)
            .bind(old_hash)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            == 1;
        if won {
            insert_refresh(&mut tx, next).await?;
            tx.commit().await?;
            return Ok(RefreshRotation::Rotated);
        }
        let row = sqlx::query(REFRESH_USE_SQL)
            .bind(old_hash)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(row) = row else {
            return Ok(RefreshRotation::NotFound);
        };
        let used_at: Option<i64> = row.try_get("used_at")?;
        if used_at.is_some_and(|t| t >= race_since) {
            return Ok(RefreshRotation::Raced);
        }
        let grant_id: String = row.try_get("grant_id")?;
        revoke_grant_in(&mut tx, &grant_id, now).await?;
        insert_event(&mut tx, event_on_reuse).await?;
        tx.commit().await?;
        Ok(RefreshRotation::Reused { grant_id })
    }

    async fn revoke_access_token(
        &self,
        org_id: &str,
        jti: &str,
        expires_at: i64,
        event: &Event,
    ) -> Result<bool> {
        let _timer = self.timed("revoke_access_token");
        let mut tx = self.write_tx().await?;
        let inserted = sqlx::query(
            "INSERT INTO revoked_access_tokens (jti, org_id, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (jti) DO NOTHING",
        )
        .bind(jti)
        .bind(org_id)
        .bind(expires_at)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            > 0;
        if inserted {
            insert_event(&mut tx, event).await?;
        }
        tx.commit().await?;
        Ok(inserted)
    }

    async fn is_access_token_revoked(&self, jti: &str) -> Result<bool> {
        let _timer = self.timed("is_access_token_revoked");
        let row = sqlx::query("SELECT jti FROM revoked_access_tokens WHERE jti = $1")
            .bind(jti)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }

    async fn access_token_state(
        &self,
        org_id: &str,
        jti: &str,
        grant_id: Option<&str>,
    ) -> Result<(bool, Option<GrantHolder>)> {
        let _timer = self.timed("access_token_state");
        self.select_access_token_state(org_id, jti, grant_id).await
    }

    async fn refresh_token_state(
        &self,
        org_id: &str,
        token_hash: &str,
    ) -> Result<Option<(RefreshTokenRecord, Option<GrantHolder>)>> {
        let _timer = self.timed("refresh_token_state");
        self.select_refresh_token_state(org_id, token_hash).await
    }
}
