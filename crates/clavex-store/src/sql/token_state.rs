//! The reads behind every token check and every refresh, each one query: a round trip costs more
//! than the rows it brings (on SQLite most of it is the hand-over to sqlx's connection thread),
//! and these run on every userinfo, introspection and refresh request.
//!
//! A grant, its user and the user's groups come back as one row per group (one row without
//! groups), through LEFT JOINs, so that a missing grant or user reads as NULL columns rather
//! than as no row.

use std::sync::LazyLock;

use sqlx::{Row, any::AnyRow};

use super::SqlStore;
use crate::{GrantHolder, GrantRecord, RefreshTokenRecord, User, contract::Result};

const GRANT_FIELDS: &[&str] = &[
    "id",
    "org_id",
    "client_id",
    "user_id",
    "scope",
    "auth_time",
    "sid",
    "nonce",
    "created_at",
    "expires_at",
    "revoked_at",
];

const USER_FIELDS: &[&str] = &[
    "id",
    "org_id",
    "username",
    "email",
    "email_verified",
    "name",
    "given_name",
    "family_name",
    "password_hash",
    "disabled",
    "created_at",
    "updated_at",
];

/// `t.a AS p_a, t.b AS p_b, ...`
fn aliased(table: &str, prefix: &str, fields: &[&str]) -> String {
    fields
        .iter()
        .map(|f| format!("{table}.{f} AS {prefix}{f}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The columns and joins shared by both queries: the grant as `gr`, its user as `u`, and the
/// user's groups (`group_name`). `$1` is the org id; `gr` must be joined by the caller.
fn holder_select() -> String {
    format!(
        "{}, {}, ug.name AS group_name",
        aliased("gr", "g_", GRANT_FIELDS),
        aliased("u", "u_", USER_FIELDS)
    )
}

const HOLDER_JOINS: &str = "LEFT JOIN users u ON u.org_id = $1 AND u.id = gr.user_id \
     LEFT JOIN group_members m ON m.user_id = u.id \
     LEFT JOIN user_groups ug ON ug.id = m.group_id AND ug.org_id = $1";

fn grant_at(row: &AnyRow) -> Result<GrantRecord> {
    Ok(GrantRecord {
        id: row.try_get("g_id")?,
        org_id: row.try_get("g_org_id")?,
        client_id: row.try_get("g_client_id")?,
        user_id: row.try_get("g_user_id")?,
        scope: row.try_get("g_scope")?,
        auth_time: row.try_get("g_auth_time")?,
        sid: row.try_get("g_sid")?,
        nonce: row.try_get("g_nonce")?,
        created_at: row.try_get("g_created_at")?,
        expires_at: row.try_get("g_expires_at")?,
        revoked_at: row.try_get("g_revoked_at")?,
    })
}

fn user_at(row: &AnyRow) -> Result<User> {
    Ok(User {
        id: row.try_get("u_id")?,
        org_id: row.try_get("u_org_id")?,
        username: row.try_get("u_username")?,
        email: row.try_get("u_email")?,
        email_verified: row.try_get::<i64, _>("u_email_verified")? != 0,
        name: row.try_get("u_name")?,
        given_name: row.try_get("u_given_name")?,
        family_name: row.try_get("u_family_name")?,
        password_hash: row.try_get("u_password_hash")?,
        disabled: row.try_get::<i64, _>("u_disabled")? != 0,
        created_at: row.try_get("u_created_at")?,
        updated_at: row.try_get("u_updated_at")?,
    })
}

/// The grant, user and groups spread over `rows`, if the grant was found.
fn holder(rows: &[AnyRow]) -> Result<Option<GrantHolder>> {
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    if first.try_get::<Option<String>, _>("g_id")?.is_none() {
        return Ok(None);
    }
    let grant = grant_at(first)?;
    let user = match first.try_get::<Option<String>, _>("u_id")? {
        Some(_) => Some(user_at(first)?),
        None => None,
    };
    let mut groups = rows
        .iter()
        .filter_map(|r| r.try_get::<Option<String>, _>("group_name").transpose())
        .collect::<std::result::Result<Vec<String>, _>>()?;
    // Sorted here, as in `user_group_names`: the claim must not depend on a collation.
    groups.sort_unstable();
    Ok(Some(GrantHolder {
        grant,
        user,
        groups,
    }))
}

impl SqlStore {
    pub(super) async fn select_access_token_state(
        &self,
        org_id: &str,
        jti: &str,
        grant_id: Option<&str>,
    ) -> Result<(bool, Option<GrantHolder>)> {
        static SQL: LazyLock<String> = LazyLock::new(|| {
            format!(
                "SELECT (SELECT COUNT(*) FROM revoked_access_tokens WHERE jti = $2) AS jti_revoked, \
                 {} FROM (SELECT 1 AS one) base \
                 LEFT JOIN grants gr ON gr.org_id = $1 AND gr.id = $3 {HOLDER_JOINS}",
                holder_select()
            )
        });
        let rows = sqlx::query(sqlx::AssertSqlSafe(SQL.as_str()))
            .bind(org_id)
            .bind(jti)
            .bind(grant_id)
            .fetch_all(&self.pool)
            .await?;
        let revoked = match rows.first() {
            Some(row) => row.try_get::<i64, _>("jti_revoked")? > 0,
            None => false,
        };
        Ok((revoked, holder(&rows)?))
    }

    pub(super) async fn select_refresh_token_state(
        &self,
        org_id: &str,
        token_hash: &str,
    ) -> Result<Option<(RefreshTokenRecord, Option<GrantHolder>)>> {
        static SQL: LazyLock<String> = LazyLock::new(|| {
            format!(
                "SELECT rt.token_hash AS rt_token_hash, rt.grant_id AS rt_grant_id, \
                 rt.scope AS rt_scope, rt.created_at AS rt_created_at, \
                 rt.expires_at AS rt_expires_at, rt.used_at AS rt_used_at, {} \
                 FROM refresh_tokens rt \
                 LEFT JOIN grants gr ON gr.org_id = $1 AND gr.id = rt.grant_id {HOLDER_JOINS} \
                 WHERE rt.token_hash = $2",
                holder_select()
            )
        });
        let rows = sqlx::query(sqlx::AssertSqlSafe(SQL.as_str()))
            .bind(org_id)
            .bind(token_hash)
            .fetch_all(&self.pool)
            .await?;
        let Some(first) = rows.first() else {
            return Ok(None);
        };
        let token = RefreshTokenRecord {
            token_hash: first.try_get("rt_token_hash")?,
            grant_id: first.try_get("rt_grant_id")?,
            scope: first.try_get("rt_scope")?,
            created_at: first.try_get("rt_created_at")?,
            expires_at: first.try_get("rt_expires_at")?,
            used_at: first.try_get("rt_used_at")?,
        };
        Ok(Some((token, holder(&rows)?)))
    }
}
