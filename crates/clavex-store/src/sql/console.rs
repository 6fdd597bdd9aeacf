//! Admin Console accounts' rights and console sessions.

use async_trait::async_trait;
use sqlx::{Row, any::AnyRow};

use super::{SqlStore, insert_event, users::insert_user};
use crate::{
    ConsoleRights, ConsoleSessionRecord, ConsoleStore, Event, StoreError, User, contract::Result,
};

fn console_session(row: &AnyRow) -> Result<ConsoleSessionRecord> {
    Ok(ConsoleSessionRecord {
        id_hash: row.try_get("id_hash")?,
        user_id: row.try_get("user_id")?,
        sso_sid: row.try_get("sso_sid")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
    })
}

async fn require_row(conn: &mut sqlx::AnyConnection, sql: &'static str, id: &str) -> Result<()> {
    let found = sqlx::query(sql).bind(id).fetch_optional(&mut *conn).await?;
    if found.is_none() {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

#[async_trait]
impl ConsoleStore for SqlStore {
    async fn create_console_account(
        &self,
        user: &User,
        superadmin: bool,
        grants: &[(String, Event)],
        event: &Event,
    ) -> Result<()> {
        let _timer = self.timed("create_console_account");
        let mut tx = self.write_tx().await?;
        insert_user(&mut tx, user).await?;
        if superadmin {
            sqlx::query("INSERT INTO console_superadmins (user_id, created_at) VALUES ($1, $2)")
                .bind(&user.id)
                .bind(user.created_at)
                .execute(&mut *tx)
                .await?;
        }
        insert_event(&mut tx, event).await?;
        for (org_id, grant_event) in grants {
            require_row(
                &mut tx,
                "SELECT id FROM organizations WHERE id = $1",
                org_id,
            )
            .await?;
            sqlx::query(
                "INSERT INTO org_admins (user_id, org_id, created_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (user_id, org_id) DO NOTHING",
            )
            .bind(&user.id)
            .bind(org_id)
            .bind(user.created_at)
            .execute(&mut *tx)
            .await?;
            insert_event(&mut tx, grant_event).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn set_superadmin(
        &self,
        user_id: &str,
        superadmin: bool,
        now: i64,
        event: &Event,
    ) -> Result<bool> {
        let _timer = self.timed("set_superadmin");
        let mut tx = self.write_tx().await?;
        require_row(&mut tx, "SELECT id FROM users WHERE id = $1", user_id).await?;
        let done = if superadmin {
            sqlx::query(
                "INSERT INTO console_superadmins (user_id, created_at) VALUES ($1, $2) \
                 ON CONFLICT (user_id) DO NOTHING",
            )
            .bind(user_id)
            .bind(now)
            .execute(&mut *tx)
            .await?
        } else {
            sqlx::query("DELETE FROM console_superadmins WHERE user_id = $1")
                .bind(user_id)
                .execute(&mut *tx)
                .await?
        };
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        insert_event(&mut tx, event).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn grant_org_admin(
        &self,
        user_id: &str,
        org_id: &str,
        now: i64,
        event: &Event,
    ) -> Result<bool> {
        let _timer = self.timed("grant_org_admin");
        let mut tx = self.write_tx().await?;
        require_row(&mut tx, "SELECT id FROM users WHERE id = $1", user_id).await?;
        require_row(
            &mut tx,
            "SELECT id FROM organizations WHERE id = $1",
            org_id,
        )
        .await?;
        let done = sqlx::query(
            "INSERT INTO org_admins (user_id, org_id, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id, org_id) DO NOTHING",
        )
        .bind(user_id)
        .bind(org_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        insert_event(&mut tx, event).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn revoke_org_admin(&self, user_id: &str, org_id: &str, event: &Event) -> Result<bool> {
        let _timer = self.timed("revoke_org_admin");
        let mut tx = self.write_tx().await?;
        let done = sqlx::query("DELETE FROM org_admins WHERE user_id = $1 AND org_id = $2")
            .bind(user_id)
            .bind(org_id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        insert_event(&mut tx, event).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn console_rights(&self, user_id: &str) -> Result<ConsoleRights> {
        let _timer = self.timed("console_rights");
        let superadmin = sqlx::query("SELECT user_id FROM console_superadmins WHERE user_id = $1")
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?
            .is_some();
        let org_ids = sqlx::query("SELECT org_id FROM org_admins WHERE user_id = $1 ORDER BY seq")
            .bind(user_id)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| r.try_get::<String, _>("org_id").map_err(StoreError::from))
            .collect::<Result<Vec<_>>>()?;
        Ok(ConsoleRights {
            superadmin,
            org_ids,
        })
    }

    async fn list_org_admins(&self, org_id: &str) -> Result<Vec<String>> {
        let _timer = self.timed("list_org_admins");
        sqlx::query("SELECT user_id FROM org_admins WHERE org_id = $1 ORDER BY seq")
            .bind(org_id)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| r.try_get::<String, _>("user_id").map_err(StoreError::from))
            .collect()
    }

    async fn create_console_session(&self, session: &ConsoleSessionRecord) -> Result<()> {
        let _timer = self.timed("create_console_session");
        let _lane = self.lane().await;
        sqlx::query(
            "INSERT INTO console_sessions (id_hash, user_id, sso_sid, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&session.id_hash)
        .bind(&session.user_id)
        .bind(&session.sso_sid)
        .bind(session.created_at)
        .bind(session.expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn get_console_session(
        &self,
        id_hash: &str,
        now: i64,
    ) -> Result<Option<ConsoleSessionRecord>> {
        let _timer = self.timed("get_console_session");
        sqlx::query(
            "SELECT id_hash, user_id, sso_sid, created_at, expires_at FROM console_sessions \
             WHERE id_hash = $1 AND expires_at > $2",
        )
        .bind(id_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(console_session)
        .transpose()
    }

    async fn delete_console_session(&self, id_hash: &str) -> Result<bool> {
        let _timer = self.timed("delete_console_session");
        let _lane = self.lane().await;
        let done = sqlx::query("DELETE FROM console_sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }
}
