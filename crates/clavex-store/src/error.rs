//! What a storage operation can report. Uniqueness violations name the field so that the API can
//! answer 409 with it; a backend that cannot be reached is `Unavailable` (503), never a 500.

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule was violated; `field` is the API field that collided (e.g. `username`).
    #[error("{field} is already taken")]
    Conflict { field: &'static str },
    /// The row to update or attach to does not exist (any more).
    #[error("not found")]
    NotFound,
    /// The database cannot be reached or is busy beyond its timeout.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// Anything else: a bug or a corrupt row. The message is for logs, not users.
    #[error("storage error: {0}")]
    Internal(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        match &err {
            sqlx::Error::Database(db) => {
                if db.is_unique_violation() {
                    return StoreError::Conflict {
                        field: conflict_field(db.message(), db.constraint()),
                    };
                }
                let msg = db.message().to_ascii_lowercase();
                if msg.contains("database is locked") || msg.contains("busy") {
                    return StoreError::Unavailable(db.message().to_string());
                }
                StoreError::Internal(err.to_string())
            }
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed => StoreError::Unavailable(err.to_string()),
            _ => StoreError::Internal(err.to_string()),
        }
    }
}

/// Maps a unique-constraint failure to the API field it protects. SQLite names the columns
/// (`users.org_id, users.username_norm`), PostgreSQL the constraint (`users_org_id_username_norm_key`);
/// both contain the table and column names chosen in the migrations.
fn conflict_field(message: &str, constraint: Option<&str>) -> &'static str {
    let text = format!("{message} {}", constraint.unwrap_or_default());
    const FIELDS: &[(&str, &str)] = &[
        ("username_norm", "username"),
        ("email_norm", "email"),
        ("slug", "slug"),
        ("client_id", "client_id"),
        ("user_groups", "name"),
        ("admin_tokens", "name"),
        ("kid", "kid"),
    ];
    FIELDS
        .iter()
        .find(|(needle, _)| text.contains(needle))
        .map(|(_, field)| *field)
        .unwrap_or("id")
}

#[cfg(test)]
mod tests {
    use super::conflict_field;

    #[test]
    fn names_the_field_for_both_dialects() {
        assert_eq!(
            conflict_field(
                "UNIQUE constraint failed: users.org_id, users.email_norm",
                None
            ),
            "email"
        );
        assert_eq!(
            conflict_field(
                "duplicate key value violates unique constraint",
                Some("users_org_id_username_norm_key")
            ),
            "username"
        );
        assert_eq!(
            conflict_field(
                "UNIQUE constraint failed: user_groups.org_id, user_groups.name",
                None
            ),
            "name"
        );
    }
}
