//! Copying a whole installation from one database to another (`clavex migrate-data`), e.g. from
//! SQLite to PostgreSQL. Rows keep their ids, sequences, hashes and sealed keys, so every token,
//! session and secret issued before the move stays valid after it.

use std::collections::BTreeMap;

use sqlx::{AssertSqlSafe, Row};

use super::{Backend, SqlStore};
use crate::{StoreError, contract::Result};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Col {
    Text,
    Int,
}
use Col::{Int, Text};

/// Every table, parents before children, with its columns and the key copied in order of.
/// `copy_covers_every_table` (a test) fails when a migration adds a table that is not here.
/// A table: its name, the column copied in order of, and its columns.
type TableSpec = (&'static str, &'static str, &'static [(&'static str, Col)]);

const TABLES: &[TableSpec] = &[
    (
        "organizations",
        "seq",
        &[
            ("seq", Int),
            ("id", Text),
            ("slug", Text),
            ("name", Text),
            ("signing_alg", Text),
            ("created_at", Int),
            ("updated_at", Int),
        ],
    ),
    (
        "admin_tokens",
        "seq",
        &[
            ("seq", Int),
            ("id", Text),
            ("name", Text),
            ("org_id", Text),
            ("token_hash", Text),
            ("created_at", Int),
        ],
    ),
    (
        "clients",
        "seq",
        &[
            ("seq", Int),
            ("id", Text),
            ("org_id", Text),
            ("client_id", Text),
            ("client_name", Text),
            ("grant_types", Text),
            ("redirect_uris", Text),
            ("post_logout_redirect_uris", Text),
            ("scopes", Text),
            ("token_endpoint_auth_method", Text),
            ("created_at", Int),
            ("updated_at", Int),
        ],
    ),
    (
        "client_secrets",
        "seq",
        &[
            ("seq", Int),
            ("client_pk", Text),
            ("secret_hash", Text),
            ("created_at", Int),
            ("expires_at", Int),
        ],
    ),
    (
        "users",
        "seq",
        &[
            ("seq", Int),
            ("id", Text),
            ("org_id", Text),
            ("username", Text),
            ("username_norm", Text),
            ("email", Text),
            ("email_norm", Text),
            ("email_verified", Int),
            ("name", Text),
            ("given_name", Text),
            ("family_name", Text),
            ("password_hash", Text),
            ("disabled", Int),
            ("created_at", Int),
            ("updated_at", Int),
            ("name_norm", Text),
        ],
    ),
    (
        "user_groups",
        "seq",
        &[
            ("seq", Int),
            ("id", Text),
            ("org_id", Text),
            ("name", Text),
            ("description", Text),
            ("created_at", Int),
        ],
    ),
    (
        "group_members",
        "seq",
        &[
            ("seq", Int),
            ("group_id", Text),
            ("user_id", Text),
            ("created_at", Int),
        ],
    ),
    (
        "signing_keys",
        "seq",
        &[
            ("seq", Int),
            ("kid", Text),
            ("org_id", Text),
            ("alg", Text),
            ("public_jwk", Text),
            ("private_sealed", Text),
            ("created_at", Int),
            ("active_from", Int),
            ("retired_at", Int),
            ("expires_at", Int),
        ],
    ),
    (
        "events",
        "seq",
        &[
            ("seq", Int),
            ("id", Text),
            ("org_id", Text),
            ("time", Int),
            ("kind", Text),
            ("actor", Text),
            ("target", Text),
            ("outcome", Text),
            ("source_ip", Text),
            ("details", Text),
        ],
    ),
    (
        "auth_requests",
        "id_hash",
        &[
            ("id_hash", Text),
            ("org_id", Text),
            ("params", Text),
            ("created_at", Int),
            ("expires_at", Int),
        ],
    ),
    (
        "sso_sessions",
        "id_hash",
        &[
            ("id_hash", Text),
            ("sid", Text),
            ("org_id", Text),
            ("user_id", Text),
            ("auth_time", Int),
            ("created_at", Int),
            ("expires_at", Int),
        ],
    ),
    (
        "grants",
        "id",
        &[
            ("id", Text),
            ("org_id", Text),
            ("client_id", Text),
            ("user_id", Text),
            ("scope", Text),
            ("auth_time", Int),
            ("sid", Text),
            ("nonce", Text),
            ("created_at", Int),
            ("expires_at", Int),
            ("revoked_at", Int),
        ],
    ),
    (
        "auth_codes",
        "code_hash",
        &[
            ("code_hash", Text),
            ("org_id", Text),
            ("client_id", Text),
            ("user_id", Text),
            ("redirect_uri", Text),
            ("scope", Text),
            ("nonce", Text),
            ("code_challenge", Text),
            ("auth_time", Int),
            ("sid", Text),
            ("created_at", Int),
            ("expires_at", Int),
            ("used_at", Int),
            ("grant_id", Text),
        ],
    ),
    (
        "refresh_tokens",
        "token_hash",
        &[
            ("token_hash", Text),
            ("grant_id", Text),
            ("scope", Text),
            ("created_at", Int),
            ("expires_at", Int),
            ("used_at", Int),
        ],
    ),
    (
        "revoked_access_tokens",
        "jti",
        &[("jti", Text), ("org_id", Text), ("expires_at", Int)],
    ),
    (
        "console_superadmins",
        "user_id",
        &[("user_id", Text), ("created_at", Int)],
    ),
    (
        "org_admins",
        "seq",
        &[
            ("seq", Int),
            ("user_id", Text),
            ("org_id", Text),
            ("created_at", Int),
        ],
    ),
    (
        "console_sessions",
        "id_hash",
        &[
            ("id_hash", Text),
            ("user_id", Text),
            ("sso_sid", Text),
            ("created_at", Int),
            ("expires_at", Int),
        ],
    ),
    (
        "login_throttle",
        "throttle_key",
        &[
            ("throttle_key", Text),
            ("org_id", Text),
            ("failures", Int),
            ("window_start", Int),
            ("locked_until", Int),
        ],
    ),
];

/// Rows copied per statement batch.
const BATCH: i64 = 500;

enum Value {
    Text(Option<String>),
    Int(Option<i64>),
}

impl SqlStore {
    /// Row counts of every table.
    pub async fn table_counts(&self) -> Result<BTreeMap<&'static str, i64>> {
        let mut counts = BTreeMap::new();
        for (table, _, _) in TABLES {
            let row = sqlx::query(AssertSqlSafe(format!("SELECT COUNT(*) AS n FROM {table}")))
                .fetch_one(&self.pool)
                .await?;
            counts.insert(*table, row.try_get::<i64, _>("n")?);
        }
        Ok(counts)
    }

    /// Names of the tables the schema has, for checking that `TABLES` covers them all.
    pub async fn schema_tables(&self) -> Result<Vec<String>> {
        let sql = match self.backend {
            Backend::Sqlite => {
                "SELECT name FROM sqlite_master WHERE type = 'table' \
                 AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx_%' ORDER BY name"
            }
            Backend::Postgres => {
                "SELECT CAST(table_name AS TEXT) AS name FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_name NOT LIKE '_sqlx_%' ORDER BY table_name"
            }
        };
        let rows = sqlx::query(sql).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| Ok(r.try_get::<String, _>("name")?))
            .collect()
    }

    /// The tables `copy_into` copies.
    pub fn copied_tables() -> Vec<&'static str> {
        TABLES.iter().map(|(t, _, _)| *t).collect()
    }

    /// Copies every row into `target`, which must be migrated and empty, in one transaction, then
    /// checks that every table has as many rows there as here. Returns the counts.
    pub async fn copy_into(&self, target: &SqlStore) -> Result<BTreeMap<&'static str, i64>> {
        let existing = target.table_counts().await?;
        if let Some((table, n)) = existing.iter().find(|(_, n)| **n > 0) {
            return Err(StoreError::Internal(format!(
                "the target database is not empty ({table} has {n} rows); migrate-data only fills an empty database"
            )));
        }
        let mut tx = target.write_tx().await?;
        for (table, key, columns) in TABLES {
            let names: Vec<&str> = columns.iter().map(|(c, _)| *c).collect();
            let key_col = columns
                .iter()
                .find(|(c, _)| c == key)
                .map(|(_, t)| *t)
                .unwrap_or(Text);
            let overriding = if target.backend == Backend::Postgres && names.contains(&"seq") {
                " OVERRIDING SYSTEM VALUE"
            } else {
                ""
            };
            let placeholders: Vec<String> = (1..=names.len()).map(|i| format!("${i}")).collect();
            let insert = format!(
                "INSERT INTO {table} ({}){overriding} VALUES ({})",
                names.join(", "),
                placeholders.join(", ")
            );
            let mut after_int = i64::MIN;
            let mut after_text = String::new();
            loop {
                let select = format!(
                    "SELECT {} FROM {table} WHERE {key} > $1 ORDER BY {key} LIMIT {BATCH}",
                    names.join(", ")
                );
                let query = sqlx::query(AssertSqlSafe(select));
                let query = match key_col {
                    Int => query.bind(after_int),
                    Text => query.bind(after_text.clone()),
                };
                let rows = query.fetch_all(&self.pool).await?;
                if rows.is_empty() {
                    break;
                }
                for row in &rows {
                    let values = columns
                        .iter()
                        .map(|(c, t)| {
                            Ok(match t {
                                Text => Value::Text(row.try_get::<Option<String>, _>(*c)?),
                                Int => Value::Int(row.try_get::<Option<i64>, _>(*c)?),
                            })
                        })
                        .collect::<Result<Vec<_>>>()?;
                    let mut q = sqlx::query(AssertSqlSafe(insert.clone()));
                    for v in values {
                        q = match v {
                            Value::Text(s) => q.bind(s),
                            Value::Int(n) => q.bind(n),
                        };
                    }
                    q.execute(&mut *tx).await?;
                }
                if let Some(last) = rows.last() {
                    match key_col {
                        Int => after_int = last.try_get::<i64, _>(*key)?,
                        Text => after_text = last.try_get::<String, _>(*key)?,
                    }
                }
            }
            if target.backend == Backend::Postgres && names.contains(&"seq") {
                // Identity columns continue after the copied rows.
                sqlx::query(AssertSqlSafe(format!(
                    "SELECT setval(pg_get_serial_sequence('{table}', 'seq'), \
                     COALESCE((SELECT MAX(seq) FROM {table}), 0) + 1, false)"
                )))
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        let source = self.table_counts().await?;
        let copied = target.table_counts().await?;
        if source != copied {
            return Err(StoreError::Internal(format!(
                "row counts differ after the copy: source {source:?}, target {copied:?}"
            )));
        }
        Ok(copied)
    }
}
