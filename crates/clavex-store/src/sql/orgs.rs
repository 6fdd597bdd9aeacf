//! Organizations: each delete cascades (foreign keys) to everything under the org.

use async_trait::async_trait;
use sqlx::AssertSqlSafe;

use super::{SqlStore, fetch_limit, insert_event, keys::insert_key, rows};
use crate::{
    Event, Org, OrgStore, Page, PageRequest, SigningKeyRecord, StoreError, contract::Result,
};

#[async_trait]
impl OrgStore for SqlStore {
    async fn create_org(&self, org: &Org, key: &SigningKeyRecord, event: &Event) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO organizations (id, slug, name, signing_alg, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&org.id)
        .bind(&org.slug)
        .bind(&org.name)
        .bind(&org.signing_alg)
        .bind(org.created_at)
        .bind(org.updated_at)
        .execute(&mut *tx)
        .await?;
        insert_key(&mut tx, key).await?;
        insert_event(&mut tx, event).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn get_org(&self, id: &str) -> Result<Option<Org>> {
        let sql = format!(
            "SELECT {} FROM organizations WHERE id = $1",
            rows::ORG_COLUMNS
        );
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(rows::org).transpose()
    }

    async fn get_org_by_slug(&self, slug: &str) -> Result<Option<Org>> {
        let sql = format!(
            "SELECT {} FROM organizations WHERE slug = $1",
            rows::ORG_COLUMNS
        );
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(slug)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(rows::org).transpose()
    }

    async fn list_orgs(&self, only: Option<&str>, page: PageRequest) -> Result<Page<Org>> {
        let sql = format!(
            "SELECT {} FROM organizations WHERE seq > $1 AND ($2 = '' OR id = $2) \
             ORDER BY seq LIMIT $3",
            rows::ORG_COLUMNS
        );
        let found = sqlx::query(AssertSqlSafe(sql))
            .bind(page.after.unwrap_or(0))
            .bind(only.unwrap_or(""))
            .bind(fetch_limit(page.limit))
            .fetch_all(&self.pool)
            .await?;
        let rows = found
            .iter()
            .map(|r| Ok((rows::seq(r)?, rows::org(r)?)))
            .collect::<Result<Vec<_>>>()?;
        Ok(Page::from_rows(rows, page.limit))
    }

    async fn update_org(&self, org: &Org, event: &Event) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query(
            "UPDATE organizations SET name = $1, signing_alg = $2, updated_at = $3 WHERE id = $4",
        )
        .bind(&org.name)
        .bind(&org.signing_alg)
        .bind(org.updated_at)
        .bind(&org.id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        insert_event(&mut tx, event).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn delete_org(&self, id: &str, event: &Event) -> Result<bool> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query("DELETE FROM organizations WHERE id = $1")
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
}
