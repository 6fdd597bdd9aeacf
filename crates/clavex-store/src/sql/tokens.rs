//! Admin API tokens, stored only as hashes.

use async_trait::async_trait;
use sqlx::Row;

use super::{SqlStore, insert_event};
use crate::{AdminToken, AdminTokenStore, Event, StoreError, contract::Result};

#[async_trait]
impl AdminTokenStore for SqlStore {
    async fn create_admin_token(&self, token: &AdminToken, event: &Event) -> Result<()> {
        let _timer = self.timed("create_admin_token");
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO admin_tokens (id, name, org_id, token_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&token.id)
        .bind(&token.name)
        .bind(&token.org_id)
        .bind(&token.token_hash)
        .bind(token.created_at)
        .execute(&mut *tx)
        .await?;
        insert_event(&mut tx, event).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn ensure_admin_token(&self, token: &AdminToken, event: &Event) -> Result<bool> {
        let _timer = self.timed("ensure_admin_token");
        // ON CONFLICT arbitrates `name` only: on PostgreSQL a node racing another's first insert
        // can still fail on the token_hash index. That row is committed by then, so a second try
        // finds it and changes nothing (a genuine conflict fails the same way again).
        match ensure_admin_token_once(self, token, event).await {
            Err(StoreError::Conflict { .. }) => ensure_admin_token_once(self, token, event).await,
            other => other,
        }
    }

    async fn find_admin_token_by_hash(&self, token_hash: &str) -> Result<Option<AdminToken>> {
        let _timer = self.timed("find_admin_token_by_hash");
        let row = sqlx::query(
            "SELECT id, name, org_id, token_hash, created_at FROM admin_tokens \
             WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(admin_token).transpose()
    }

    async fn list_admin_tokens(&self) -> Result<Vec<AdminToken>> {
        let _timer = self.timed("list_admin_tokens");
        let rows = sqlx::query(
            "SELECT id, name, org_id, token_hash, created_at FROM admin_tokens ORDER BY seq",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(admin_token).collect()
    }

    async fn delete_admin_token(&self, name: &str, event: &Event) -> Result<bool> {
        let _timer = self.timed("delete_admin_token");
        let mut tx = self.write_tx().await?;
        let deleted = sqlx::query("DELETE FROM admin_tokens WHERE name = $1")
            .bind(name)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            > 0;
        if deleted {
            insert_event(&mut tx, event).await?;
            tx.commit().await?;
        }
        Ok(deleted)
    }
}

fn admin_token(r: &sqlx::any::AnyRow) -> Result<AdminToken> {
    Ok(AdminToken {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        org_id: r.try_get("org_id")?,
        token_hash: r.try_get("token_hash")?,
        created_at: r.try_get("created_at")?,
    })
}

/// Inserts the bootstrap token, or updates it when something differs, in one statement.
async fn ensure_admin_token_once(
    store: &SqlStore,
    token: &AdminToken,
    event: &Event,
) -> Result<bool> {
    let mut tx = store.write_tx().await?;
    let changed = sqlx::query(
        "INSERT INTO admin_tokens (id, name, org_id, token_hash, created_at) \
         VALUES ($1, $2, NULL, $3, $4) \
         ON CONFLICT (name) DO UPDATE SET token_hash = excluded.token_hash, org_id = NULL \
         WHERE admin_tokens.token_hash <> excluded.token_hash OR admin_tokens.org_id IS NOT NULL",
    )
    .bind(&token.id)
    .bind(&token.name)
    .bind(&token.token_hash)
    .bind(token.created_at)
    .execute(&mut *tx)
    .await?
    .rows_affected()
        > 0;
    if !changed {
        return Ok(false);
    }
    insert_event(&mut tx, event).await?;
    tx.commit().await?;
    Ok(true)
}
