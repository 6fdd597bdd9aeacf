//! The reads behind every token check and every refresh, each one query: a round trip costs more
//! than the rows it brings (on SQLite most of it is the hand-over to sqlx's connection thread),
//! and these run on every userinfo, introspection and refresh request.
//!
//! A grant, its user and the user's groups come back as one row per group (one row without
//! groups), through LEFT JOINs, so that a missing grant or user reads as NULL columns rather
//! than as no row.

use std::{cell::RefCell, sync::LazyLock};

use super::{
    SqlStore, args,
    exec::{Columns, int},
    rows,
};
use crate::{GrantHolder, RefreshTokenRecord, contract::Result};

/// `t.a AS p_a, t.b AS p_b, ...` for the columns of `rows` (`a, b` or `x.a, x.b`), so that the
/// record's own column list, and so its decoder, serves here too.
fn aliased(table: &str, prefix: &str, columns: &str) -> String {
    columns
        .split(',')
        .map(|c| c.trim().rsplit('.').next().unwrap_or_default())
        .map(|c| format!("{table}.{c} AS {prefix}{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The columns and joins shared by both queries: the grant as `gr`, its user as `u`, and the
/// user's groups (`group_name`). `$1` is the org id; `gr` must be joined by the caller.
fn holder_select() -> String {
    format!(
        "{}, {}, ug.name AS group_name",
        aliased("gr", "g_", rows::GRANT_COLUMNS),
        aliased("u", "u_", rows::USER_COLUMNS)
    )
}

const HOLDER_JOINS: &str = "LEFT JOIN users u ON u.org_id = $1 AND u.id = gr.user_id \
     LEFT JOIN group_members m ON m.user_id = u.id \
     LEFT JOIN user_groups ug ON ug.id = m.group_id AND ug.org_id = $1";

/// Columns `prefix` + name of a row, as the columns of `rows::user` and `rows::grant`. The name
/// is put together in one buffer, reused for every column.
struct Prefixed<'r> {
    row: &'r dyn Columns,
    prefix: &'static str,
    name: RefCell<String>,
}

impl<'r> Prefixed<'r> {
    fn new(row: &'r dyn Columns, prefix: &'static str) -> Self {
        Prefixed {
            row,
            prefix,
            name: RefCell::new(String::with_capacity(32)),
        }
    }

    fn with_name<T>(&self, name: &str, f: impl FnOnce(&str) -> T) -> T {
        let mut full = self.name.borrow_mut();
        full.clear();
        full.push_str(self.prefix);
        full.push_str(name);
        f(&full)
    }
}

impl Columns for Prefixed<'_> {
    fn text(&self, name: &str) -> Result<Option<String>> {
        self.with_name(name, |full| self.row.text(full))
    }
    fn int(&self, name: &str) -> Result<Option<i64>> {
        self.with_name(name, |full| self.row.int(full))
    }
}

/// Collects a grant's holder from its rows (one per group).
#[derive(Default)]
pub(super) struct HolderRows {
    holder: Option<GrantHolder>,
}

impl HolderRows {
    /// Reads one row: the grant and user from the first, a group name from each.
    pub(super) fn add(&mut self, row: &dyn Columns) -> Result<()> {
        if self.holder.is_none() {
            if row.text("g_id")?.is_none() {
                return Ok(());
            }
            let user = match row.text("u_id")? {
                Some(_) => Some(rows::user(&Prefixed::new(row, "u_"))?),
                None => None,
            };
            self.holder = Some(GrantHolder {
                grant: rows::grant(&Prefixed::new(row, "g_"))?,
                user,
                groups: Vec::new(),
            });
        }
        if let (Some(holder), Some(group)) = (self.holder.as_mut(), row.text("group_name")?) {
            holder.groups.push(group);
        }
        Ok(())
    }

    pub(super) fn finish(self) -> Option<GrantHolder> {
        self.holder.map(|mut h| {
            // Sorted here, as in `user_group_names`: the claim must not depend on a collation.
            h.groups.sort_unstable();
            h
        })
    }
}

/// The refresh token columns of `REFRESH_STATE_SQL`.
fn refresh_at(row: &dyn Columns) -> Result<RefreshTokenRecord> {
    rows::refresh_token(&Prefixed::new(row, "rt_"))
}

/// `$1` org id, `$2` jti, `$3` grant id (or NULL).
pub(super) static ACCESS_STATE_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT (SELECT COUNT(*) FROM revoked_access_tokens WHERE jti = $2) AS jti_revoked, \
         {} FROM (SELECT 1 AS one) base \
         LEFT JOIN grants gr ON gr.org_id = $1 AND gr.id = $3 {HOLDER_JOINS}",
        holder_select()
    )
});

/// `$1` org id, `$2` refresh token hash.
pub(super) static REFRESH_STATE_SQL: LazyLock<String> = LazyLock::new(|| {
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

impl SqlStore {
    pub(super) async fn select_access_token_state(
        &self,
        org_id: &str,
        jti: &str,
        grant_id: Option<&str>,
    ) -> Result<(bool, Option<GrantHolder>)> {
        let mut holder = HolderRows::default();
        let revoked = self
            .read_all(&ACCESS_STATE_SQL, args![org_id, jti, grant_id], |row| {
                holder.add(row)?;
                int(row, "jti_revoked")
            })
            .await?;
        // One row at least (the join starts from a constant one).
        let revoked = revoked.first().is_some_and(|count| *count > 0);
        Ok((revoked, holder.finish()))
    }

    pub(super) async fn select_refresh_token_state(
        &self,
        org_id: &str,
        token_hash: &str,
    ) -> Result<Option<(RefreshTokenRecord, Option<GrantHolder>)>> {
        let mut holder = HolderRows::default();
        let mut token = None;
        self.read_all(&REFRESH_STATE_SQL, args![org_id, token_hash], |row| {
            if token.is_none() {
                token = Some(refresh_at(row)?);
            }
            holder.add(row)
        })
        .await?;
        Ok(token.map(|token| (token, holder.finish())))
    }
}
