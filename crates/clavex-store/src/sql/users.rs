//! Users. Uniqueness of username and email is on their case-folded forms.

use std::sync::LazyLock;

use async_trait::async_trait;
use sqlx::AssertSqlSafe;

use super::{SqlStore, args, fetch_limit, insert_event, rows};
use crate::{
    Event, Page, PageRequest, StoreError, User, UserStore, contract::Result, normalize_login,
};

static GET_USER_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {} FROM users u WHERE u.org_id = $1 AND u.id = $2",
        rows::USER_COLUMNS
    )
});

// A username may look like another user's email; the username wins.
static USER_BY_LOGIN_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {} FROM users u WHERE u.org_id = $1 AND (u.username_norm = $2 OR u.email_norm = $2) \
         ORDER BY CASE WHEN u.username_norm = $2 THEN 0 ELSE 1 END LIMIT 1",
        rows::USER_COLUMNS
    )
});

#[async_trait]
impl UserStore for SqlStore {
    async fn create_user(&self, user: &User, event: &Event) -> Result<()> {
        let _timer = self.timed("create_user");
        let mut tx = self.write_tx().await?;
        insert_user(&mut tx, user).await?;
        insert_event(&mut tx, event).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn get_user(&self, org_id: &str, id: &str) -> Result<Option<User>> {
        let _timer = self.timed("get_user");
        self.read_one(&GET_USER_SQL, args![org_id, id], rows::user)
            .await
    }

    async fn find_user_by_login(&self, org_id: &str, login_norm: &str) -> Result<Option<User>> {
        let _timer = self.timed("find_user_by_login");
        self.read_one(&USER_BY_LOGIN_SQL, args![org_id, login_norm], rows::user)
            .await
    }

    async fn list_users(
        &self,
        org_id: &str,
        search: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<User>> {
        let _timer = self.timed("list_users");
        let pattern = search
            .map(|s| format!("%{}%", escape_like(&s.to_lowercase())))
            .unwrap_or_default();
        let sql = format!(
            "SELECT {} FROM users u WHERE u.org_id = $1 AND u.seq > $2 AND ($3 = '' OR \
             u.username_norm LIKE $3 ESCAPE '\\' OR u.email_norm LIKE $3 ESCAPE '\\' OR \
             u.name_norm LIKE $3 ESCAPE '\\') ORDER BY u.seq LIMIT $4",
            rows::USER_COLUMNS
        );
        let found = sqlx::query(AssertSqlSafe(sql))
            .bind(org_id)
            .bind(page.after.unwrap_or(0))
            .bind(pattern)
            .bind(fetch_limit(page.limit))
            .fetch_all(&self.pool)
            .await?;
        let rows = found
            .iter()
            .map(|r| Ok((rows::seq(r)?, rows::user(r)?)))
            .collect::<Result<Vec<_>>>()?;
        Ok(Page::from_rows(rows, page.limit))
    }

    async fn update_user(&self, user: &User, event: &Event) -> Result<()> {
        let _timer = self.timed("update_user");
        let mut tx = self.write_tx().await?;
        // A new password or a disabled account ends the user's sessions, in this transaction:
        // whoever held them may be the reason for the change.
        let before =
            sqlx::query("SELECT password_hash, disabled FROM users WHERE org_id = $1 AND id = $2")
                .bind(&user.org_id)
                .bind(&user.id)
                .fetch_optional(&mut *tx)
                .await?;
        let end_sessions = match &before {
            Some(row) => {
                let old_hash: Option<String> = sqlx::Row::try_get(row, "password_hash")?;
                let was_disabled: i64 = sqlx::Row::try_get(row, "disabled")?;
                old_hash != user.password_hash || (user.disabled && was_disabled == 0)
            }
            None => false,
        };
        let done = sqlx::query(
            "UPDATE users SET username = $1, username_norm = $2, email = $3, email_norm = $4, \
             email_verified = $5, name = $6, given_name = $7, family_name = $8, \
             password_hash = $9, disabled = $10, updated_at = $11, name_norm = $14 \
             WHERE org_id = $12 AND id = $13",
        )
        .bind(&user.username)
        .bind(normalize_login(&user.username))
        .bind(&user.email)
        .bind(normalize_login(&user.email))
        .bind(i64::from(user.email_verified))
        .bind(&user.name)
        .bind(&user.given_name)
        .bind(&user.family_name)
        .bind(&user.password_hash)
        .bind(i64::from(user.disabled))
        .bind(user.updated_at)
        .bind(&user.org_id)
        .bind(&user.id)
        .bind(normalize_login(&user.name))
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        if end_sessions {
            for sql in [
                "DELETE FROM sso_sessions WHERE user_id = $1",
                "DELETE FROM console_sessions WHERE user_id = $1",
            ] {
                sqlx::query(sql).bind(&user.id).execute(&mut *tx).await?;
            }
        }
        insert_event(&mut tx, event).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn delete_user(&self, org_id: &str, id: &str, event: &Event) -> Result<bool> {
        let _timer = self.timed("delete_user");
        let mut tx = self.write_tx().await?;
        let done = sqlx::query("DELETE FROM users WHERE org_id = $1 AND id = $2")
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
}

/// Escapes LIKE wildcards so that a search for `a_b` matches only `a_b`.
fn escape_like(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Inserts a user row (shared with console accounts, which are users of the console org).
pub(super) async fn insert_user(conn: &mut sqlx::AnyConnection, user: &User) -> Result<()> {
    sqlx::query(
        "INSERT INTO users (id, org_id, username, username_norm, email, email_norm, \
         email_verified, name, given_name, family_name, password_hash, disabled, created_at, \
         updated_at, name_norm) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
    )
    .bind(&user.id)
    .bind(&user.org_id)
    .bind(&user.username)
    .bind(normalize_login(&user.username))
    .bind(&user.email)
    .bind(normalize_login(&user.email))
    .bind(i64::from(user.email_verified))
    .bind(&user.name)
    .bind(&user.given_name)
    .bind(&user.family_name)
    .bind(&user.password_hash)
    .bind(i64::from(user.disabled))
    .bind(user.created_at)
    .bind(user.updated_at)
    .bind(normalize_login(&user.name))
    .execute(&mut *conn)
    .await?;
    Ok(())
}
