//! Decoding rows into records. Booleans are stored as 0/1 BIGINT and lists as JSON text, the forms
//! the `Any` driver carries identically on both backends. The records read on both paths
//! (`exec`) are decoded through `Columns`; the Admin API's, read through sqlx alone, from `AnyRow`.

use sqlx::{Row, any::AnyRow};

use super::exec::{Columns, flag, int, text};
use crate::{
    Client, Event, GrantRecord, Group, Org, RefreshTokenRecord, SigningKeyRecord, StoreError, User,
    contract::Result,
};

fn json<T: serde::de::DeserializeOwned>(row: &AnyRow, column: &str) -> Result<T> {
    let text: String = row.try_get(column)?;
    serde_json::from_str(&text)
        .map_err(|e| StoreError::Internal(format!("corrupt JSON in column {column}: {e}")))
}

pub(super) fn to_json<T: serde::Serialize>(value: &T) -> String {
    // Serializing plain strings and lists cannot fail.
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_string())
}

pub(super) fn seq(row: &AnyRow) -> Result<i64> {
    Ok(row.try_get("seq")?)
}

pub(super) const ORG_COLUMNS: &str = "seq, id, slug, name, signing_alg, created_at, updated_at";

pub(super) fn org(row: &AnyRow) -> Result<Org> {
    Ok(Org {
        id: row.try_get("id")?,
        slug: row.try_get("slug")?,
        name: row.try_get("name")?,
        signing_alg: row.try_get("signing_alg")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

pub(super) const CLIENT_COLUMNS: &str = "seq, id, org_id, client_id, client_name, grant_types, \
     redirect_uris, post_logout_redirect_uris, scopes, token_endpoint_auth_method, created_at, \
     updated_at";

pub(super) fn client(row: &AnyRow) -> Result<Client> {
    Ok(Client {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        client_id: row.try_get("client_id")?,
        client_name: row.try_get("client_name")?,
        grant_types: json(row, "grant_types")?,
        redirect_uris: json(row, "redirect_uris")?,
        post_logout_redirect_uris: json(row, "post_logout_redirect_uris")?,
        scopes: json(row, "scopes")?,
        token_endpoint_auth_method: row.try_get("token_endpoint_auth_method")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

pub(super) const USER_COLUMNS: &str = "u.seq, u.id, u.org_id, u.username, u.email, \
     u.email_verified, u.name, u.given_name, u.family_name, u.password_hash, u.disabled, \
     u.created_at, u.updated_at";

pub(super) fn user(row: &dyn Columns) -> Result<User> {
    Ok(User {
        id: text(row, "id")?,
        org_id: text(row, "org_id")?,
        username: text(row, "username")?,
        email: text(row, "email")?,
        email_verified: flag(row, "email_verified")?,
        name: text(row, "name")?,
        given_name: row.text("given_name")?,
        family_name: row.text("family_name")?,
        password_hash: row.text("password_hash")?,
        disabled: flag(row, "disabled")?,
        created_at: int(row, "created_at")?,
        updated_at: int(row, "updated_at")?,
    })
}

pub(super) const GRANT_COLUMNS: &str = "id, org_id, client_id, user_id, scope, auth_time, sid, \
     nonce, created_at, expires_at, revoked_at";

pub(super) fn grant(row: &dyn Columns) -> Result<GrantRecord> {
    Ok(GrantRecord {
        id: text(row, "id")?,
        org_id: text(row, "org_id")?,
        client_id: text(row, "client_id")?,
        user_id: row.text("user_id")?,
        scope: text(row, "scope")?,
        auth_time: row.int("auth_time")?,
        sid: row.text("sid")?,
        nonce: row.text("nonce")?,
        created_at: int(row, "created_at")?,
        expires_at: int(row, "expires_at")?,
        revoked_at: row.int("revoked_at")?,
    })
}

pub(super) fn refresh_token(row: &dyn Columns) -> Result<RefreshTokenRecord> {
    Ok(RefreshTokenRecord {
        token_hash: text(row, "token_hash")?,
        grant_id: text(row, "grant_id")?,
        scope: text(row, "scope")?,
        created_at: int(row, "created_at")?,
        expires_at: int(row, "expires_at")?,
        used_at: row.int("used_at")?,
    })
}

pub(super) const GROUP_COLUMNS: &str = "seq, id, org_id, name, description, created_at";

pub(super) fn group(row: &AnyRow) -> Result<Group> {
    Ok(Group {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        created_at: row.try_get("created_at")?,
    })
}

pub(super) const KEY_COLUMNS: &str = "kid, org_id, alg, public_jwk, private_sealed, created_at, \
     active_from, retired_at, expires_at";

pub(super) fn signing_key(row: &AnyRow) -> Result<SigningKeyRecord> {
    Ok(SigningKeyRecord {
        kid: row.try_get("kid")?,
        org_id: row.try_get("org_id")?,
        alg: row.try_get("alg")?,
        public_jwk: json(row, "public_jwk")?,
        private_sealed: row.try_get("private_sealed")?,
        created_at: row.try_get("created_at")?,
        active_from: row.try_get("active_from")?,
        retired_at: row.try_get("retired_at")?,
        expires_at: row.try_get("expires_at")?,
    })
}

pub(super) const EVENT_COLUMNS: &str =
    "seq, id, org_id, time, kind, actor, target, outcome, source_ip, details";

pub(super) fn event(row: &AnyRow) -> Result<Event> {
    Ok(Event {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        time: row.try_get("time")?,
        kind: row.try_get("kind")?,
        actor: row.try_get("actor")?,
        target: row.try_get("target")?,
        outcome: row.try_get("outcome")?,
        source_ip: row.try_get("source_ip")?,
        details: json(row, "details")?,
    })
}
