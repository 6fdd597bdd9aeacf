//! Which claims each scope releases. The ID token and userinfo use the same function, so Grafana's
//! `role_attribute_path`, which reads the ID token first, sees exactly what userinfo shows.

use clavex_store::User;
use serde_json::{Map, Value, json};

/// Claims about `user` for the granted `scopes`. `groups` is always an array when the scope is
/// granted (`[]` when none): Grafana's JMESPath `contains(groups[*], ...)` fails on a missing one.
pub fn user_claims(
    org_slug: &str,
    user: &User,
    groups: &[String],
    scopes: &[String],
) -> Map<String, Value> {
    let has = |s: &str| scopes.iter().any(|x| x == s);
    let mut claims = Map::new();
    claims.insert("sub".into(), json!(user.id));
    if has("profile") {
        claims.insert("name".into(), json!(user.name));
        claims.insert("preferred_username".into(), json!(user.username));
        claims.insert("updated_at".into(), json!(user.updated_at));
        if let Some(v) = &user.given_name {
            claims.insert("given_name".into(), json!(v));
        }
        if let Some(v) = &user.family_name {
            claims.insert("family_name".into(), json!(v));
        }
    }
    if has("email") {
        claims.insert("email".into(), json!(user.email));
        claims.insert("email_verified".into(), json!(user.email_verified));
    }
    if has("groups") {
        claims.insert("groups".into(), json!(groups));
    }
    // An array: Grafana's org_attribute_path only maps arrays.
    claims.insert("org_id".into(), json!([org_slug]));
    claims
}

/// Every claim name this provider can release, for discovery.
pub const CLAIMS_SUPPORTED: &[&str] = &[
    "sub",
    "iss",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "at_hash",
    "sid",
    "azp",
    "name",
    "given_name",
    "family_name",
    "preferred_username",
    "updated_at",
    "email",
    "email_verified",
    "groups",
    "org_id",
];

/// Scopes this provider understands.
pub const SCOPES_SUPPORTED: &[&str] = &["openid", "profile", "email", "groups", "offline_access"];
