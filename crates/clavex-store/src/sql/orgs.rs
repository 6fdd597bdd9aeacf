//! Organizations: each delete cascades (foreign keys) to everything under the org.

use async_trait::async_trait;
use sqlx::AssertSqlSafe;

use super::{SqlStore, fetch_limit, insert_event, keys::insert_key, rows};
use crate::{
    CONSOLE_ORG_SLUG, Event, Org, OrgContents, OrgStore, Page, PageRequest, SigningKeyRecord,
    StoreError, contract::Result,
};

#[async_trait]
impl OrgStore for SqlStore {
    async fn create_org(&self, org: &Org, key: &SigningKeyRecord, event: &Event) -> Result<()> {
        let _timer = self.timed("create_org");
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
        let _timer = self.timed("get_org");
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
        let _timer = self.timed("get_org_by_slug");
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

    async fn list_orgs(&self, only: Option<&[String]>, page: PageRequest) -> Result<Page<Org>> {
        let _timer = self.timed("list_orgs");
        // `only` becomes one placeholder per id; an empty list matches nothing.
        let only_clause = match only {
            None => String::new(),
            Some([]) => " AND 1 = 0".to_string(),
            Some(ids) => {
                let marks: Vec<String> = (0..ids.len()).map(|i| format!("${}", i + 4)).collect();
                format!(" AND id IN ({})", marks.join(", "))
            }
        };
        let sql = format!(
            "SELECT {} FROM organizations WHERE seq > $1 AND slug <> $2{only_clause} \
             ORDER BY seq LIMIT $3",
            rows::ORG_COLUMNS
        );
        let mut query = sqlx::query(AssertSqlSafe(sql))
            .bind(page.after.unwrap_or(0))
            .bind(CONSOLE_ORG_SLUG)
            .bind(fetch_limit(page.limit));
        for id in only.unwrap_or(&[]) {
            query = query.bind(id);
        }
        let found = query.fetch_all(&self.pool).await?;
        let rows = found
            .iter()
            .map(|r| Ok((rows::seq(r)?, rows::org(r)?)))
            .collect::<Result<Vec<_>>>()?;
        Ok(Page::from_rows(rows, page.limit))
    }

    async fn update_org(&self, org: &Org, event: &Event) -> Result<()> {
        let _timer = self.timed("update_org");
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
        let _timer = self.timed("delete_org");
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

    async fn org_contents(&self, id: &str) -> Result<OrgContents> {
        let _timer = self.timed("org_contents");
        let count = |table: &'static str| {
            let sql = format!("SELECT COUNT(*) AS n FROM {table} WHERE org_id = $1");
            async move {
                let row = sqlx::query(AssertSqlSafe(sql))
                    .bind(id)
                    .fetch_one(&self.pool)
                    .await?;
                Ok::<i64, StoreError>(sqlx::Row::try_get(&row, "n")?)
            }
        };
        Ok(OrgContents {
            users: count("users").await?,
            groups: count("user_groups").await?,
            clients: count("clients").await?,
        })
    }
}
