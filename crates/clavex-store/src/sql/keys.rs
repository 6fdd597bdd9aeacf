//! Signing keys: public JWK in clear, private key sealed by the caller under the master key.

use async_trait::async_trait;
use sqlx::AssertSqlSafe;

use super::{SqlStore, insert_event, rows};
use crate::{Event, KeyStore, SigningKeyRecord, contract::Result};

#[async_trait]
impl KeyStore for SqlStore {
    async fn list_signing_keys(&self, org_id: &str, now: i64) -> Result<Vec<SigningKeyRecord>> {
        let _timer = self.timed("list_signing_keys");
        let sql = format!(
            "SELECT {} FROM signing_keys WHERE org_id = $1 AND (expires_at IS NULL OR expires_at > $2) \
             ORDER BY seq DESC",
            rows::KEY_COLUMNS
        );
        let found = sqlx::query(AssertSqlSafe(sql))
            .bind(org_id)
            .bind(now)
            .fetch_all(&self.pool)
            .await?;
        found.iter().map(rows::signing_key).collect()
    }

    async fn rotate_signing_key(
        &self,
        key: &SigningKeyRecord,
        old_expires_at: i64,
        event: &Event,
    ) -> Result<()> {
        let _timer = self.timed("rotate_signing_key");
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "UPDATE signing_keys SET retired_at = $1, expires_at = $2 \
             WHERE org_id = $3 AND retired_at IS NULL",
        )
        .bind(key.active_from)
        .bind(old_expires_at)
        .bind(&key.org_id)
        .execute(&mut *tx)
        .await?;
        insert_key(&mut tx, key).await?;
        insert_event(&mut tx, event).await?;
        tx.commit().await?;
        Ok(())
    }
}

pub(super) async fn insert_key(
    conn: &mut sqlx::AnyConnection,
    key: &SigningKeyRecord,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO signing_keys (kid, org_id, alg, public_jwk, private_sealed, created_at, \
         active_from, retired_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&key.kid)
    .bind(&key.org_id)
    .bind(&key.alg)
    .bind(key.public_jwk.to_string())
    .bind(&key.private_sealed)
    .bind(key.created_at)
    .bind(key.active_from)
    .bind(key.retired_at)
    .bind(key.expires_at)
    .execute(conn)
    .await?;
    Ok(())
}
