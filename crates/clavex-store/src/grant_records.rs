//! Rows of the sign-in and token machinery: pending authorization requests, SSO sessions,
//! authorization codes, grants and refresh tokens, throttling counters. Secret values (codes,
//! tokens, session cookies, request ids) appear here only as hashes.

use serde::{Deserialize, Serialize};

/// An authorization request parked while the user signs in. `params` is the validated request as
/// the core serializes it; the store does not look inside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthRequestRecord {
    pub id_hash: String,
    pub org_id: String,
    pub params: serde_json::Value,
    pub created_at: i64,
    pub expires_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// Hash of the cookie value.
    pub id_hash: String,
    /// The public session id (`sid` claim); reveals nothing about the cookie.
    pub sid: String,
    pub org_id: String,
    pub user_id: String,
    pub auth_time: i64,
    pub created_at: i64,
    pub expires_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeRecord {
    pub code_hash: String,
    pub org_id: String,
    pub client_id: String,
    pub user_id: String,
    pub redirect_uri: String,
    pub scope: String,
    pub nonce: Option<String>,
    /// S256 challenge; `None` when the request had no PKCE.
    pub code_challenge: Option<String>,
    pub auth_time: i64,
    pub sid: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    /// The grant the code was exchanged for, once it was.
    pub grant_id: Option<String>,
}

/// What one authorization granted. Revoking it revokes every token issued under it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantRecord {
    pub id: String,
    pub org_id: String,
    pub client_id: String,
    /// `None` for client_credentials.
    pub user_id: Option<String>,
    pub scope: String,
    pub auth_time: Option<i64>,
    pub sid: Option<String>,
    pub nonce: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
}

/// A grant with its user and the user's group names, read in one round trip: checking an access
/// token, answering userinfo and refreshing need all three.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantHolder {
    pub grant: GrantRecord,
    /// `None` when the grant names no user (client_credentials) or the user was deleted.
    pub user: Option<crate::User>,
    /// The user's group names, sorted by bytes; empty without a user.
    pub groups: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshTokenRecord {
    pub token_hash: String,
    pub grant_id: String,
    /// The scope this token may refresh to (narrowed scopes stay narrow).
    pub scope: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

/// Outcome of redeeming an authorization code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeRedemption {
    /// The code was unused; it is now used and the grant (and refresh token) exist.
    Redeemed,
    /// The code had been redeemed before: the grant issued from it is now revoked.
    Replayed,
    NotFound,
}

/// Outcome of presenting a refresh token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshRotation {
    /// The token was current; it is now used and its successor exists.
    Rotated,
    /// The token had been used before: its whole grant is now revoked.
    Reused {
        grant_id: String,
    },
    /// The token was used moments ago (at or after `race_since`): two requests raced with it,
    /// as two tabs or two nodes of a client do. This one loses; the grant stays valid and the
    /// winner's successor keeps working.
    Raced,
    NotFound,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleState {
    pub failures: i64,
    pub window_start: i64,
    pub locked_until: i64,
}

/// What background clean-up may delete: rows whose expiry is at or before these times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PurgeCutoffs {
    /// Pending requests, sessions, codes, refresh tokens, revoked-token entries and retired
    /// client secrets that expired at or before this time.
    pub expired_before: i64,
    /// Grants that expired at or before this time (later than `expired_before` by the longest
    /// access-token lifetime, since an access token refreshed just before its grant expired
    /// still points at the grant).
    pub grants_before: i64,
    /// Throttle counters whose window began at or before this time and whose lock has ended.
    pub throttle_before: i64,
    /// Used codes that expired at or before this time. A used code is kept while the grant made
    /// from it may still exist, so that a late replay still finds it and revokes that grant.
    pub used_codes_before: i64,
    /// Audit events recorded at or before this time; `None` keeps every event.
    pub events_before: Option<i64>,
}

/// Rows deleted by one clean-up, per kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PurgeCounts {
    pub auth_requests: u64,
    pub sessions: u64,
    pub console_sessions: u64,
    pub codes: u64,
    pub grants: u64,
    pub refresh_tokens: u64,
    pub revoked_access_tokens: u64,
    pub throttles: u64,
    pub client_secrets: u64,
    /// Audit events older than the retention.
    pub events: u64,
}

impl PurgeCounts {
    pub fn total(&self) -> u64 {
        self.auth_requests
            + self.sessions
            + self.console_sessions
            + self.codes
            + self.grants
            + self.refresh_tokens
            + self.revoked_access_tokens
            + self.throttles
            + self.client_secrets
            + self.events
    }
}
