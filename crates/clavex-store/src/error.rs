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
                // PostgreSQL reports a lost connection or a shutdown as a database error of its
                // own (e.g. 57P01 when it stops): the server is going away, not a bug here.
                if db.code().is_some_and(|code| unavailable_sqlstate(&code)) {
                    return StoreError::Unavailable(err.to_string());
                }
                StoreError::Internal(err.to_string())
            }
            // A connection cut in the middle of a response (the server shutting down while rows
            // stream) surfaces as unexpected protocol data: the database went away.
            sqlx::Error::Protocol(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed => StoreError::Unavailable(err.to_string()),
            _ => StoreError::Internal(err.to_string()),
        }
    }
}

/// The direct SQLite connections (`sql::direct`) map errors as sqlx's SQLite errors are mapped.
impl From<rusqlite::Error> for StoreError {
    fn from(err: rusqlite::Error) -> Self {
        match err.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
                StoreError::Unavailable(err.to_string())
            }
            Some(rusqlite::ErrorCode::ConstraintViolation)
                if err.to_string().contains("UNIQUE constraint failed") =>
            {
                StoreError::Conflict {
                    field: conflict_field(&err.to_string(), None),
                }
            }
            _ => StoreError::Internal(format!("sqlite: {err}")),
        }
    }
}

/// Whether a PostgreSQL SQLSTATE means "the database cannot serve now": class 08 (connection
/// exception, but not 08P01, a protocol violation: that is a bug), 53 (insufficient resources,
/// e.g. too many connections), 57P01-57P03 (shutting down, crashed, starting up), 25006 (read-only,
/// e.g. a standby during a failover). SQLSTATEs have five characters; SQLite's codes never do.
fn unavailable_sqlstate(code: &str) -> bool {
    code.len() == 5
        && ((code.starts_with("08") && code != "08P01")
            || code.starts_with("53")
            || matches!(code, "57P01" | "57P02" | "57P03" | "25006"))
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
    use std::borrow::Cow;

    use super::{StoreError, conflict_field};

    /// A database error with a code, as a driver would report it.
    #[derive(Debug)]
    struct CodedError {
        code: &'static str,
        message: &'static str,
    }

    impl std::fmt::Display for CodedError {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "{} ({})", self.message, self.code)
        }
    }

    impl std::error::Error for CodedError {}

    impl sqlx::error::DatabaseError for CodedError {
        fn message(&self) -> &str {
            self.message
        }
        fn code(&self) -> Option<Cow<'_, str>> {
            Some(Cow::Borrowed(self.code))
        }
        fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
            self
        }
        fn kind(&self) -> sqlx::error::ErrorKind {
            sqlx::error::ErrorKind::Other
        }
    }

    fn map(code: &'static str, message: &'static str) -> StoreError {
        StoreError::from(sqlx::Error::Database(Box::new(CodedError {
            code,
            message,
        })))
    }

    #[test]
    fn a_database_going_away_is_unavailable() {
        for (code, message) in [
            (
                "57P01",
                "terminating connection due to administrator command",
            ),
            (
                "57P02",
                "terminating connection due to crash of another server process",
            ),
            ("57P03", "the database system is starting up"),
            ("08006", "connection failure"),
            ("08003", "connection does not exist"),
            ("53300", "sorry, too many clients already"),
            ("53100", "could not extend file: No space left on device"),
            ("25006", "cannot execute INSERT in a read-only transaction"),
        ] {
            assert!(
                matches!(map(code, message), StoreError::Unavailable(_)),
                "{code} must be Unavailable"
            );
        }
    }

    #[test]
    fn a_connection_cut_mid_response_is_unavailable() {
        let err = sqlx::Error::Protocol("unexpected end of stream".to_owned());
        assert!(matches!(StoreError::from(err), StoreError::Unavailable(_)));
    }

    #[test]
    fn other_database_errors_stay_internal() {
        for (code, message) in [
            ("42P01", "relation \"users\" does not exist"),
            (
                "23502",
                "null value in column \"name\" violates not-null constraint",
            ),
            ("57014", "canceling statement due to statement timeout"),
            ("08P01", "protocol violation"),
            // SQLite's extended codes are numbers: 531 is a constraint error, not class 53.
            ("531", "constraint failed"),
            ("1", "SQL logic error"),
        ] {
            assert!(
                matches!(map(code, message), StoreError::Internal(_)),
                "{code} must stay Internal"
            );
        }
    }

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
