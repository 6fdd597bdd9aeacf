//! Groups and memberships. A membership only joins a group and a user of the same org.

use async_trait::async_trait;
use sqlx::{AssertSqlSafe, Row};

use super::{SqlStore, args, exec::text, fetch_limit, insert_event, rows};
use crate::{Event, Group, GroupStore, Page, PageRequest, StoreError, User, contract::Result};

#[async_trait]
impl GroupStore for SqlStore {
    async fn create_group(&self, group: &Group, event: &Event) -> Result<()> {
        let _timer = self.timed("create_group");
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO user_groups (id, org_id, name, description, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&group.id)
        .bind(&group.org_id)
        .bind(&group.name)
        .bind(&group.description)
        .bind(group.created_at)
        .execute(&mut *tx)
        .await?;
        insert_event(&mut tx, event).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn get_group(&self, org_id: &str, name: &str) -> Result<Option<Group>> {
        let _timer = self.timed("get_group");
        let sql = format!(
            "SELECT {} FROM user_groups WHERE org_id = $1 AND name = $2",
            rows::GROUP_COLUMNS
        );
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(org_id)
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(rows::group).transpose()
    }

    async fn list_groups(&self, org_id: &str, page: PageRequest) -> Result<Page<Group>> {
        let _timer = self.timed("list_groups");
        let sql = format!(
            "SELECT {} FROM user_groups WHERE org_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
            rows::GROUP_COLUMNS
        );
        let found = sqlx::query(AssertSqlSafe(sql))
            .bind(org_id)
            .bind(page.after.unwrap_or(0))
            .bind(fetch_limit(page.limit))
            .fetch_all(&self.pool)
            .await?;
        let rows = found
            .iter()
            .map(|r| Ok((rows::seq(r)?, rows::group(r)?)))
            .collect::<Result<Vec<_>>>()?;
        Ok(Page::from_rows(rows, page.limit))
    }

    async fn delete_group(&self, org_id: &str, name: &str, event: &Event) -> Result<bool> {
        let _timer = self.timed("delete_group");
        let mut tx = self.write_tx().await?;
        let done = sqlx::query("DELETE FROM user_groups WHERE org_id = $1 AND name = $2")
            .bind(org_id)
            .bind(name)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        insert_event(&mut tx, event).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn add_group_member(
        &self,
        org_id: &str,
        group_name: &str,
        user_id: &str,
        now: i64,
        event: &Event,
    ) -> Result<bool> {
        let _timer = self.timed("add_group_member");
        let mut tx = self.write_tx().await?;
        let group_id = group_id_in(&mut tx, org_id, group_name).await?;
        let user = sqlx::query("SELECT id FROM users WHERE org_id = $1 AND id = $2")
            .bind(org_id)
            .bind(user_id)
            .fetch_optional(&mut *tx)
            .await?;
        if user.is_none() {
            return Err(StoreError::NotFound);
        }
        let done = sqlx::query(
            "INSERT INTO group_members (group_id, user_id, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (group_id, user_id) DO NOTHING",
        )
        .bind(&group_id)
        .bind(user_id)
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

    async fn remove_group_member(
        &self,
        org_id: &str,
        group_name: &str,
        user_id: &str,
        event: &Event,
    ) -> Result<bool> {
        let _timer = self.timed("remove_group_member");
        let mut tx = self.write_tx().await?;
        let group_id = group_id_in(&mut tx, org_id, group_name).await?;
        let done = sqlx::query("DELETE FROM group_members WHERE group_id = $1 AND user_id = $2")
            .bind(&group_id)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        insert_event(&mut tx, event).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn list_group_members(
        &self,
        org_id: &str,
        group_name: &str,
        page: PageRequest,
    ) -> Result<Page<User>> {
        let _timer = self.timed("list_group_members");
        let sql = format!(
            "SELECT m.seq AS member_seq, {} FROM group_members m \
             JOIN user_groups g ON g.id = m.group_id JOIN users u ON u.id = m.user_id \
             WHERE g.org_id = $1 AND g.name = $2 AND u.org_id = $1 AND m.seq > $3 \
             ORDER BY m.seq LIMIT $4",
            rows::USER_COLUMNS
        );
        let found = sqlx::query(AssertSqlSafe(sql))
            .bind(org_id)
            .bind(group_name)
            .bind(page.after.unwrap_or(0))
            .bind(fetch_limit(page.limit))
            .fetch_all(&self.pool)
            .await?;
        let rows = found
            .iter()
            .map(|r| Ok((r.try_get::<i64, _>("member_seq")?, rows::user(r)?)))
            .collect::<Result<Vec<_>>>()?;
        Ok(Page::from_rows(rows, page.limit))
    }

    async fn user_group_names(&self, org_id: &str, user_id: &str) -> Result<Vec<String>> {
        let _timer = self.timed("user_group_names");
        let mut names = self
            .read_all(
                "SELECT g.name FROM group_members m JOIN user_groups g ON g.id = m.group_id \
                 WHERE g.org_id = $1 AND m.user_id = $2",
                args![org_id, user_id],
                |row| text(row, "name"),
            )
            .await?;
        // Sorted here, not by ORDER BY: PostgreSQL would sort by the database's collation
        // (`Mid` after `alpha` under en_US), SQLite by bytes; the groups claim must not depend on it.
        names.sort_unstable();
        Ok(names)
    }
}

async fn group_id_in(conn: &mut sqlx::AnyConnection, org_id: &str, name: &str) -> Result<String> {
    let row = sqlx::query("SELECT id FROM user_groups WHERE org_id = $1 AND name = $2")
        .bind(org_id)
        .bind(name)
        .fetch_optional(conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    Ok(row.try_get("id")?)
}
