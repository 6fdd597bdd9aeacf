//! Errors of the domain. The web layer maps each variant to one status and SPEC's error body;
//! the CLI prints the message and exits non-zero.

use clavex_store::StoreError;

pub type CoreResult<T> = Result<T, CoreError>;

#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// `what` names the resource kind, e.g. "organization".
    #[error("{what} not found")]
    NotFound { what: &'static str },
    #[error("{field} is already taken")]
    Conflict { field: &'static str },
    #[error("invalid {field}: {reason}")]
    Invalid { field: String, reason: String },
    #[error("authentication required")]
    Unauthenticated,
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("service unavailable: {0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl CoreError {
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        CoreError::Invalid {
            field: field.into(),
            reason: reason.into(),
        }
    }

    pub fn not_found(what: &'static str) -> Self {
        CoreError::NotFound { what }
    }
}

impl From<StoreError> for CoreError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Conflict { field } => CoreError::Conflict { field },
            StoreError::NotFound => CoreError::NotFound { what: "resource" },
            StoreError::Unavailable(msg) => CoreError::Unavailable(msg),
            StoreError::Internal(msg) => CoreError::Internal(msg),
        }
    }
}

impl From<clavex_crypto::CryptoError> for CoreError {
    fn from(err: clavex_crypto::CryptoError) -> Self {
        CoreError::Internal(format!("crypto: {err}"))
    }
}
