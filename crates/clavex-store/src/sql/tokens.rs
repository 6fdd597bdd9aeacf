//! Admin API tokens, stored only as hashes.

use async_trait::async_trait;
use sqlx::Row;

use super::{SqlStore, insert_event};
use crate::{AdminToken, AdminTokenStore, Event, contract::Result};

#[async_trait]
impl AdminTokenStore for SqlStore {
    async fn create_admin_token(&self, token: &AdminToken, event: &Event) -> Result<()> {
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
        let mut tx = self.write_tx().await?;
        let existing = sqlx::query("SELECT token_hash, org_id FROM admin_tokens WHERE name = $1")
            .bind(&token.name)
            .fetch_optional(&mut *tx)
            .await?;
        if let Some(row) = existing {
            let hash: String = row.try_get("token_hash")?;
            let org: Option<String> = row.try_get("org_id")?;
            if hash == token.token_hash && org.is_none() {
                return Ok(false);
            }
            sqlx::query("UPDATE admin_tokens SET token_hash = $1, org_id = NULL WHERE name = $2")
                .bind(&token.token_hash)
                .bind(&token.name)
                .execute(&mut *tx)
                .await?;
        } else {
            sqlx::query(
                "INSERT INTO admin_tokens (id, name, org_id, token_hash, created_at) \
                 VALUES ($1, $2, NULL, $3, $4)",
            )
            .bind(&token.id)
            .bind(&token.name)
            .bind(&token.token_hash)
            .bind(token.created_at)
            .execute(&mut *tx)
            .await?;
        }
        insert_event(&mut tx, event).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn find_admin_token_by_hash(&self, token_hash: &str) -> Result<Option<AdminToken>> {
        let row = sqlx::query(
            "SELECT id, name, org_id, token_hash, created_at FROM admin_tokens \
             WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(AdminToken {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
                org_id: r.try_get("org_id")?,
                token_hash: r.try_get("token_hash")?,
                created_at: r.try_get("created_at")?,
            })
        })
        .transpose()
    }
}
