//! OAuth clients and their secret hashes.

use async_trait::async_trait;
use sqlx::{AssertSqlSafe, Row};

use super::{SqlStore, fetch_limit, insert_event, rows};
use crate::{
    Client, ClientSecret, ClientStore, Event, Page, PageRequest, StoreError, contract::Result,
};

#[async_trait]
impl ClientStore for SqlStore {
    async fn create_client(
        &self,
        client: &Client,
        secret: Option<&ClientSecret>,
        event: &Event,
    ) -> Result<()> {
        let _timer = self.timed("create_client");
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO clients (id, org_id, client_id, client_name, grant_types, redirect_uris, \
             post_logout_redirect_uris, scopes, token_endpoint_auth_method, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(&client.id)
        .bind(&client.org_id)
        .bind(&client.client_id)
        .bind(&client.client_name)
        .bind(rows::to_json(&client.grant_types))
        .bind(rows::to_json(&client.redirect_uris))
        .bind(rows::to_json(&client.post_logout_redirect_uris))
        .bind(rows::to_json(&client.scopes))
        .bind(&client.token_endpoint_auth_method)
        .bind(client.created_at)
        .bind(client.updated_at)
        .execute(&mut *tx)
        .await?;
        if let Some(secret) = secret {
            insert_secret(&mut tx, &client.id, secret).await?;
        }
        insert_event(&mut tx, event).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn get_client(&self, org_id: &str, client_id: &str) -> Result<Option<Client>> {
        let _timer = self.timed("get_client");
        let sql = format!(
            "SELECT {} FROM clients WHERE org_id = $1 AND client_id = $2",
            rows::CLIENT_COLUMNS
        );
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(org_id)
            .bind(client_id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(rows::client).transpose()
    }

    async fn list_clients(&self, org_id: &str, page: PageRequest) -> Result<Page<Client>> {
        let _timer = self.timed("list_clients");
        let sql = format!(
            "SELECT {} FROM clients WHERE org_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
            rows::CLIENT_COLUMNS
        );
        let found = sqlx::query(AssertSqlSafe(sql))
            .bind(org_id)
            .bind(page.after.unwrap_or(0))
            .bind(fetch_limit(page.limit))
            .fetch_all(&self.pool)
            .await?;
        let rows = found
            .iter()
            .map(|r| Ok((rows::seq(r)?, rows::client(r)?)))
            .collect::<Result<Vec<_>>>()?;
        Ok(Page::from_rows(rows, page.limit))
    }

    async fn update_client(&self, client: &Client, event: &Event) -> Result<()> {
        let _timer = self.timed("update_client");
        let mut tx = self.write_tx().await?;
        let done = sqlx::query(
            "UPDATE clients SET client_name = $1, grant_types = $2, redirect_uris = $3, \
             post_logout_redirect_uris = $4, scopes = $5, token_endpoint_auth_method = $6, \
             updated_at = $7 WHERE org_id = $8 AND client_id = $9",
        )
        .bind(&client.client_name)
        .bind(rows::to_json(&client.grant_types))
        .bind(rows::to_json(&client.redirect_uris))
        .bind(rows::to_json(&client.post_logout_redirect_uris))
        .bind(rows::to_json(&client.scopes))
        .bind(&client.token_endpoint_auth_method)
        .bind(client.updated_at)
        .bind(&client.org_id)
        .bind(&client.client_id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        insert_event(&mut tx, event).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn delete_client(&self, org_id: &str, client_id: &str, event: &Event) -> Result<bool> {
        let _timer = self.timed("delete_client");
        let mut tx = self.write_tx().await?;
        let done = sqlx::query("DELETE FROM clients WHERE org_id = $1 AND client_id = $2")
            .bind(org_id)
            .bind(client_id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        // Grants and codes name the client by its id, not by a foreign key: end them here, so a
        // client registered again under the same id inherits nothing.
        sqlx::query(
            "UPDATE grants SET revoked_at = $1 \
             WHERE org_id = $2 AND client_id = $3 AND revoked_at IS NULL",
        )
        .bind(event.time)
        .bind(org_id)
        .bind(client_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM auth_codes WHERE org_id = $1 AND client_id = $2")
            .bind(org_id)
            .bind(client_id)
            .execute(&mut *tx)
            .await?;
        insert_event(&mut tx, event).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn rotate_client_secret(
        &self,
        org_id: &str,
        client_id: &str,
        secret: &ClientSecret,
        old_expires_at: i64,
        event: &Event,
    ) -> Result<()> {
        let _timer = self.timed("rotate_client_secret");
        let mut tx = self.write_tx().await?;
        let row = sqlx::query("SELECT id FROM clients WHERE org_id = $1 AND client_id = $2")
            .bind(org_id)
            .bind(client_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        let client_pk: String = row.try_get("id")?;
        sqlx::query(
            "UPDATE client_secrets SET expires_at = $1 \
             WHERE client_pk = $2 AND (expires_at IS NULL OR expires_at > $1)",
        )
        .bind(old_expires_at)
        .bind(&client_pk)
        .execute(&mut *tx)
        .await?;
        // Secrets past their grace are useless: drop them rather than keep hashes around.
        sqlx::query("DELETE FROM client_secrets WHERE client_pk = $1 AND expires_at <= $2")
            .bind(&client_pk)
            .bind(secret.created_at)
            .execute(&mut *tx)
            .await?;
        insert_secret(&mut tx, &client_pk, secret).await?;
        insert_event(&mut tx, event).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn client_secrets(
        &self,
        org_id: &str,
        client_id: &str,
        now: i64,
    ) -> Result<Vec<ClientSecret>> {
        let _timer = self.timed("client_secrets");
        let found = sqlx::query(
            "SELECT s.secret_hash, s.created_at, s.expires_at FROM client_secrets s \
             JOIN clients c ON c.id = s.client_pk \
             WHERE c.org_id = $1 AND c.client_id = $2 AND (s.expires_at IS NULL OR s.expires_at > $3) \
             ORDER BY s.seq DESC",
        )
        .bind(org_id)
        .bind(client_id)
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        found
            .iter()
            .map(|r| {
                Ok(ClientSecret {
                    secret_hash: r.try_get("secret_hash")?,
                    created_at: r.try_get("created_at")?,
                    expires_at: r.try_get("expires_at")?,
                })
            })
            .collect()
    }
}

async fn insert_secret(
    conn: &mut sqlx::AnyConnection,
    client_pk: &str,
    secret: &ClientSecret,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO client_secrets (client_pk, secret_hash, created_at, expires_at) \
         VALUES ($1, $2, $3, $4)",
    )
    .bind(client_pk)
    .bind(&secret.secret_hash)
    .bind(secret.created_at)
    .bind(secret.expires_at)
    .execute(conn)
    .await?;
    Ok(())
}
