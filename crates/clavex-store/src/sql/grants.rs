//! Authorization codes, grants, refresh tokens and revoked access tokens. Single use is enforced
//! by conditional updates (`... WHERE used_at IS NULL`) inside write transactions, so the database
//! decides which of two racing redemptions wins.

use std::sync::LazyLock;

use async_trait::async_trait;

use super::{
    SqlStore, args,
    exec::{Arg, Columns, Writer, int, text},
    rows,
};
use crate::{
    CodeRecord, CodeRedemption, Event, GrantHolder, GrantRecord, GrantStore, RefreshRotation,
    RefreshTokenRecord, contract::Result,
};

fn code(row: &dyn Columns) -> Result<CodeRecord> {
    Ok(CodeRecord {
        code_hash: text(row, "code_hash")?,
        org_id: text(row, "org_id")?,
        client_id: text(row, "client_id")?,
        user_id: text(row, "user_id")?,
        redirect_uri: text(row, "redirect_uri")?,
        scope: text(row, "scope")?,
        nonce: row.text("nonce")?,
        code_challenge: row.text("code_challenge")?,
        auth_time: int(row, "auth_time")?,
        sid: text(row, "sid")?,
        created_at: int(row, "created_at")?,
        expires_at: int(row, "expires_at")?,
        used_at: row.int("used_at")?,
        grant_id: row.text("grant_id")?,
    })
}

const INSERT_GRANT_SQL: &str = "INSERT INTO grants (id, org_id, client_id, user_id, scope, \
     auth_time, sid, nonce, created_at, expires_at, revoked_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";

fn grant_args(g: &GrantRecord) -> [Arg<'_>; 11] {
    [
        Arg::from(&g.id),
        Arg::from(&g.org_id),
        Arg::from(&g.client_id),
        Arg::from(&g.user_id),
        Arg::from(&g.scope),
        Arg::from(g.auth_time),
        Arg::from(&g.sid),
        Arg::from(&g.nonce),
        Arg::from(g.created_at),
        Arg::from(g.expires_at),
        Arg::from(g.revoked_at),
    ]
}

const INSERT_REFRESH_SQL: &str = "INSERT INTO refresh_tokens \
     (token_hash, grant_id, scope, created_at, expires_at, used_at) VALUES ($1, $2, $3, $4, $5, $6)";

fn refresh_args(r: &RefreshTokenRecord) -> [Arg<'_>; 6] {
    [
        Arg::from(&r.token_hash),
        Arg::from(&r.grant_id),
        Arg::from(&r.scope),
        Arg::from(r.created_at),
        Arg::from(r.expires_at),
        Arg::from(r.used_at),
    ]
}

const REVOKE_GRANT_SQL: &str =
    "UPDATE grants SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL";

const CODE_COLUMNS: &str = "code_hash, org_id, client_id, user_id, redirect_uri, scope, nonce, \
     code_challenge, auth_time, sid, created_at, expires_at, used_at, grant_id";

static GET_CODE_SQL: LazyLock<String> =
    LazyLock::new(|| format!("SELECT {CODE_COLUMNS} FROM auth_codes WHERE code_hash = $1"));

static GET_GRANT_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {} FROM grants WHERE org_id = $1 AND id = $2",
        rows::GRANT_COLUMNS
    )
});

/// Redeems `code_hash` in `w`: the code's first use creates the grant (and its first refresh
/// token); a second use revokes what the first one created.
async fn redeem_in(
    w: &mut Writer<'_>,
    code_hash: &str,
    now: i64,
    grant: &GrantRecord,
    refresh: Option<&RefreshTokenRecord>,
    event: &Event,
) -> Result<CodeRedemption> {
    let won = w
        .execute(
            "UPDATE auth_codes SET used_at = $1, grant_id = $2 \
             WHERE code_hash = $3 AND used_at IS NULL",
            args![now, &grant.id, code_hash],
        )
        .await?
        == 1;
    if won {
        w.execute(INSERT_GRANT_SQL, &grant_args(grant)).await?;
        if let Some(r) = refresh {
            w.execute(INSERT_REFRESH_SQL, &refresh_args(r)).await?;
        }
        return Ok(CodeRedemption::Redeemed);
    }
    let previous = w
        .read_one(
            "SELECT grant_id FROM auth_codes WHERE code_hash = $1",
            args![code_hash],
            |row| row.text("grant_id"),
        )
        .await?;
    let Some(previous) = previous else {
        return Ok(CodeRedemption::NotFound);
    };
    if let Some(grant_id) = previous {
        w.execute(REVOKE_GRANT_SQL, args![now, &grant_id]).await?;
    }
    w.event(event).await?;
    Ok(CodeRedemption::Replayed)
}

/// Rotates `old_hash` in `w`; see `GrantStore::rotate_refresh_token`.
async fn rotate_in(
    w: &mut Writer<'_>,
    old_hash: &str,
    now: i64,
    race_since: i64,
    next: &RefreshTokenRecord,
    event_on_reuse: &Event,
) -> Result<RefreshRotation> {
    let won = w
        .execute(
            "UPDATE refresh_tokens SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL",
            args![now, old_hash],
        )
        .await?
        == 1;
    if won {
        w.execute(INSERT_REFRESH_SQL, &refresh_args(next)).await?;
        return Ok(RefreshRotation::Rotated);
    }
    let used = w
        .read_one(
            "SELECT grant_id, used_at FROM refresh_tokens WHERE token_hash = $1",
            args![old_hash],
            |row| Ok((text(row, "grant_id")?, row.int("used_at")?)),
        )
        .await?;
    let Some((grant_id, used_at)) = used else {
        return Ok(RefreshRotation::NotFound);
    };
    if used_at.is_some_and(|t| t >= race_since) {
        return Ok(RefreshRotation::Raced);
    }
    w.execute(REVOKE_GRANT_SQL, args![now, &grant_id]).await?;
    w.event(event_on_reuse).await?;
    Ok(RefreshRotation::Reused { grant_id })
}

#[async_trait]
impl GrantStore for SqlStore {
    async fn create_code(&self, c: &CodeRecord) -> Result<()> {
        let _timer = self.timed("create_code");
        self.write_one(
            "INSERT INTO auth_codes (code_hash, org_id, client_id, user_id, redirect_uri, scope, \
             nonce, code_challenge, auth_time, sid, created_at, expires_at, used_at, grant_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, NULL, NULL)",
            args![
                &c.code_hash,
                &c.org_id,
                &c.client_id,
                &c.user_id,
                &c.redirect_uri,
                &c.scope,
                &c.nonce,
                &c.code_challenge,
                c.auth_time,
                &c.sid,
                c.created_at,
                c.expires_at
            ],
        )
        .await?;
        Ok(())
    }

    async fn get_code(&self, code_hash: &str) -> Result<Option<CodeRecord>> {
        let _timer = self.timed("get_code");
        self.read_one(&GET_CODE_SQL, args![code_hash], code).await
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
        let mut w = self.writer().await?;
        let redemption = redeem_in(&mut w, code_hash, now, grant, refresh, event).await?;
        w.commit().await?;
        Ok(redemption)
    }

    async fn create_grant(&self, g: &GrantRecord) -> Result<()> {
        let _timer = self.timed("create_grant");
        self.write_one(INSERT_GRANT_SQL, &grant_args(g)).await?;
        Ok(())
    }

    async fn get_grant(&self, org_id: &str, id: &str) -> Result<Option<GrantRecord>> {
        let _timer = self.timed("get_grant");
        self.read_one(&GET_GRANT_SQL, args![org_id, id], rows::grant)
            .await
    }

    async fn revoke_grant(&self, org_id: &str, id: &str, now: i64, event: &Event) -> Result<bool> {
        let _timer = self.timed("revoke_grant");
        let mut w = self.writer().await?;
        let revoked = w
            .execute(
                "UPDATE grants SET revoked_at = $1 WHERE org_id = $2 AND id = $3 \
                 AND revoked_at IS NULL",
                args![now, org_id, id],
            )
            .await?
            == 1;
        if revoked {
            w.event(event).await?;
            w.commit().await?;
        }
        Ok(revoked)
    }

    async fn get_refresh_token(&self, token_hash: &str) -> Result<Option<RefreshTokenRecord>> {
        let _timer = self.timed("get_refresh_token");
        self.read_one(
            "SELECT token_hash, grant_id, scope, created_at, expires_at, used_at \
             FROM refresh_tokens WHERE token_hash = $1",
            args![token_hash],
            rows::refresh_token,
        )
        .await
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
        let mut w = self.writer().await?;
        let rotation = rotate_in(&mut w, old_hash, now, race_since, next, event_on_reuse).await?;
        w.commit().await?;
        Ok(rotation)
    }

    async fn revoke_access_token(
        &self,
        org_id: &str,
        jti: &str,
        expires_at: i64,
        event: &Event,
    ) -> Result<bool> {
        let _timer = self.timed("revoke_access_token");
        let mut w = self.writer().await?;
        let inserted = w
            .execute(
                "INSERT INTO revoked_access_tokens (jti, org_id, expires_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (jti) DO NOTHING",
                args![jti, org_id, expires_at],
            )
            .await?
            > 0;
        if inserted {
            w.event(event).await?;
            w.commit().await?;
        }
        Ok(inserted)
    }

    async fn is_access_token_revoked(&self, jti: &str) -> Result<bool> {
        let _timer = self.timed("is_access_token_revoked");
        let found = self
            .read_one(
                "SELECT jti FROM revoked_access_tokens WHERE jti = $1",
                args![jti],
                |_| Ok(()),
            )
            .await?;
        Ok(found.is_some())
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
