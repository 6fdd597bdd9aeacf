//! Rows as the store keeps them. Times are UTC unix seconds; ids are opaque strings chosen by the
//! caller. Secrets appear here only as hashes or sealed blobs.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Org {
    pub id: String,
    pub slug: String,
    pub name: String,
    /// Algorithm of the keys this org signs with: `RS256`, `ES256` or `EdDSA`.
    pub signing_alg: String,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Clone, PartialEq, Eq)]
pub struct AdminToken {
    pub id: String,
    pub name: String,
    /// `None` for a superadmin token; otherwise the only org it reaches.
    pub org_id: Option<String>,
    pub token_hash: String,
    pub created_at: i64,
}

impl std::fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminToken")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("org_id", &self.org_id)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Client {
    /// Internal row id; never shown.
    pub id: String,
    pub org_id: String,
    pub client_id: String,
    pub client_name: String,
    pub grant_types: Vec<String>,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub scopes: Vec<String>,
    pub token_endpoint_auth_method: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A hash of one client secret. Several may be valid at once during a rotation's grace period.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientSecret {
    pub secret_hash: String,
    pub created_at: i64,
    /// After this time the secret no longer authenticates; `None` while it is the current one.
    pub expires_at: Option<i64>,
}

impl std::fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientSecret")
            .field("created_at", &self.created_at)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, PartialEq, Eq)]
pub struct User {
    /// The stable `sub`; never reused.
    pub id: String,
    pub org_id: String,
    pub username: String,
    pub email: String,
    pub email_verified: bool,
    pub name: String,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    /// Argon2id PHC string, `None` when the user has no password.
    pub password_hash: Option<String>,
    pub disabled: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("org_id", &self.org_id)
            .field("username", &self.username)
            .field("disabled", &self.disabled)
            .finish_non_exhaustive()
    }
}

/// Case-folds a username or email for uniqueness and look-up; the record keeps the spelling given.
pub fn normalize_login(value: &str) -> String {
    value.trim().to_lowercase()
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    pub id: String,
    pub org_id: String,
    pub name: String,
    pub description: String,
    pub created_at: i64,
}

#[derive(Clone, PartialEq, Eq)]
pub struct SigningKeyRecord {
    pub kid: String,
    pub org_id: String,
    pub alg: String,
    pub public_jwk: serde_json::Value,
    /// PKCS#8 private key sealed under the master key, bound to `kid`.
    pub private_sealed: String,
    pub created_at: i64,
    /// From this time on the key signs (it is published in the JWKS from `created_at`).
    pub active_from: i64,
    /// From this time on the key no longer signs; `None` while it is current.
    pub retired_at: Option<i64>,
    /// After this time the key leaves the JWKS: every token it signed has expired.
    pub expires_at: Option<i64>,
}

impl std::fmt::Debug for SigningKeyRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKeyRecord")
            .field("kid", &self.kid)
            .field("org_id", &self.org_id)
            .field("alg", &self.alg)
            .field("active_from", &self.active_from)
            .field("retired_at", &self.retired_at)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// One entry of the audit trail, written in the same transaction as the change it records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub id: String,
    /// The org the event belongs to; `None` for installation-wide events.
    pub org_id: Option<String>,
    pub time: i64,
    /// Dotted name, e.g. `client.created`, `user.deleted`.
    pub kind: String,
    /// Who acted: `token:<name>`, `cli`, `system`, or a user id.
    pub actor: String,
    /// What was acted on: a slug, client_id, user id or group name.
    pub target: String,
    /// `success` or `failure`.
    pub outcome: String,
    pub source_ip: Option<String>,
    pub details: serde_json::Value,
}

/// Filters for the audit trail; every field narrows the result.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    pub kind: Option<String>,
    pub actor: Option<String>,
    pub target: Option<String>,
    pub since: Option<i64>,
    pub until: Option<i64>,
}

/// What a console account may manage.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConsoleRights {
    pub superadmin: bool,
    /// Orgs (by id) the account administers, oldest grant first.
    pub org_ids: Vec<String>,
}

/// A signed-in Admin Console browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleSessionRecord {
    /// Hash of the cookie value.
    pub id_hash: String,
    /// The console account (a user of the console org).
    pub user_id: String,
    /// The SSO session of the console org it came from, ended with it at sign-out.
    pub sso_sid: String,
    pub created_at: i64,
    pub expires_at: i64,
}

/// Slug of the internal org whose users are the Admin Console's accounts. User orgs can never
/// take it (it is a reserved top-level path), and org listings never show it.
pub const CONSOLE_ORG_SLUG: &str = "admin";

/// Counts of what an org holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OrgContents {
    pub users: i64,
    pub groups: i64,
    pub clients: i64,
}
