//! OAuth clients: registration with RFC 7591-style fields, secrets shown once and stored as hashes,
//! rotation with an optional grace period.

use clavex_crypto::secret;
use clavex_store::{Client, ClientSecret, StoreError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    Actor, Core, CoreError, CoreResult,
    pagination::{Listing, PageParams},
    validate,
};

pub const GRANT_TYPES: &[&str] = &["authorization_code", "refresh_token", "client_credentials"];
pub const AUTH_METHODS: &[&str] = &["client_secret_basic", "client_secret_post", "none"];
/// Scopes a client gets when the registration names none.
pub const DEFAULT_SCOPES: &[&str] = &["openid", "profile", "email"];
/// How long an old secret may stay valid after a rotation, at most (30 days).
pub const MAX_GRACE_SECONDS: i64 = 30 * 24 * 3600;

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateClient {
    /// Unique within the org; generated when absent.
    pub client_id: Option<String>,
    pub client_name: Option<String>,
    /// Default `["authorization_code"]`.
    pub grant_types: Option<Vec<String>>,
    pub redirect_uris: Option<Vec<String>>,
    pub post_logout_redirect_uris: Option<Vec<String>>,
    /// What the client may ask for; default `["openid","profile","email"]`.
    pub scopes: Option<Vec<String>>,
    /// `client_secret_basic` (default), `client_secret_post` or `none` (public client, PKCE).
    pub token_endpoint_auth_method: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateClient {
    pub client_name: Option<String>,
    pub grant_types: Option<Vec<String>>,
    pub redirect_uris: Option<Vec<String>>,
    pub post_logout_redirect_uris: Option<Vec<String>>,
    pub scopes: Option<Vec<String>>,
    pub token_endpoint_auth_method: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateSecret {
    /// Keep the previous secret valid this many seconds (0 to 2592000). Default 0.
    pub grace_period_seconds: Option<i64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClientView {
    pub client_id: String,
    pub client_name: String,
    pub grant_types: Vec<String>,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub scopes: Vec<String>,
    pub token_endpoint_auth_method: String,
    /// RFC 7591: unix seconds of registration.
    pub client_id_issued_at: i64,
    /// RFC 7591: 0, secrets do not expire by themselves.
    pub client_secret_expires_at: i64,
}

/// A client with its new secret: only in the create and rotate responses.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClientWithSecret {
    #[serde(flatten)]
    pub client: ClientView,
    /// `cs_` and 43 base64url characters; absent for public clients. Shown only once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    /// After a rotation with a grace period: when the previous secret stops working (unix seconds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_secret_expires_at: Option<i64>,
}

impl From<Client> for ClientView {
    fn from(c: Client) -> Self {
        ClientView {
            client_id: c.client_id,
            client_name: c.client_name,
            grant_types: c.grant_types,
            redirect_uris: c.redirect_uris,
            post_logout_redirect_uris: c.post_logout_redirect_uris,
            scopes: c.scopes,
            token_endpoint_auth_method: c.token_endpoint_auth_method,
            client_id_issued_at: c.created_at,
            client_secret_expires_at: 0,
        }
    }
}

/// Checks the fields of a client together (rules that join fields, such as redirect URIs being
/// required for the code flow).
fn validate_client(c: &Client) -> CoreResult<()> {
    validate::identifier("client_id", &c.client_id, 128)?;
    validate::display_name("client_name", &c.client_name, 200)?;
    if c.grant_types.is_empty() {
        return Err(CoreError::invalid(
            "grant_types",
            "must name at least one grant type",
        ));
    }
    for g in &c.grant_types {
        if !GRANT_TYPES.contains(&g.as_str()) {
            return Err(CoreError::invalid(
                "grant_types",
                format!("'{g}' is not one of {}", GRANT_TYPES.join(", ")),
            ));
        }
    }
    if !AUTH_METHODS.contains(&c.token_endpoint_auth_method.as_str()) {
        return Err(CoreError::invalid(
            "token_endpoint_auth_method",
            format!(
                "'{}' is not one of {}",
                c.token_endpoint_auth_method,
                AUTH_METHODS.join(", ")
            ),
        ));
    }
    let has = |g: &str| c.grant_types.iter().any(|x| x == g);
    if c.token_endpoint_auth_method == "none" && has("client_credentials") {
        return Err(CoreError::invalid(
            "grant_types",
            "a public client (token_endpoint_auth_method none) cannot use client_credentials",
        ));
    }
    if has("refresh_token") && !has("authorization_code") {
        return Err(CoreError::invalid(
            "grant_types",
            "refresh_token needs authorization_code: refresh tokens come from the code exchange",
        ));
    }
    if has("authorization_code") && c.redirect_uris.is_empty() {
        return Err(CoreError::invalid(
            "redirect_uris",
            "at least one redirect URI is required for authorization_code",
        ));
    }
    for uri in &c.redirect_uris {
        validate::redirect_uri("redirect_uris", uri)?;
    }
    for uri in &c.post_logout_redirect_uris {
        validate::redirect_uri("post_logout_redirect_uris", uri)?;
    }
    for s in &c.scopes {
        validate::scope_token(s)?;
    }
    for (field, list) in [
        ("grant_types", &c.grant_types),
        ("redirect_uris", &c.redirect_uris),
        ("post_logout_redirect_uris", &c.post_logout_redirect_uris),
        ("scopes", &c.scopes),
    ] {
        if list.len() > 100 {
            return Err(CoreError::invalid(field, "must have at most 100 entries"));
        }
        let mut seen = std::collections::HashSet::new();
        if let Some(dup) = list.iter().find(|x| !seen.insert(x.as_str())) {
            return Err(CoreError::invalid(
                field,
                format!("'{dup}' is listed twice"),
            ));
        }
    }
    Ok(())
}

fn new_secret(now: i64) -> (String, ClientSecret) {
    let plain = secret::generate_token("cs_");
    let record = ClientSecret {
        secret_hash: secret::hash_token(&plain),
        created_at: now,
        expires_at: None,
    };
    (plain, record)
}

fn client_not_found(e: StoreError) -> CoreError {
    match e {
        StoreError::NotFound => CoreError::not_found("client"),
        other => other.into(),
    }
}

impl Core {
    pub async fn create_client(
        &self,
        actor: &Actor,
        slug: &str,
        input: CreateClient,
    ) -> CoreResult<ClientWithSecret> {
        let org = self.authorize_org(actor, slug).await?;
        let now = self.now();
        // Only letters and digits: a base64url id may start with '-' or '_', which client ids
        // must not (and which would fail validation below about once in 32 registrations).
        let client_id = input.client_id.unwrap_or_else(|| {
            secret::generate_token("")
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .take(22)
                .collect()
        });
        let client = Client {
            id: crate::new_id(),
            org_id: org.id.clone(),
            client_name: input.client_name.unwrap_or_else(|| client_id.clone()),
            client_id,
            grant_types: input
                .grant_types
                .unwrap_or_else(|| vec!["authorization_code".into()]),
            redirect_uris: input.redirect_uris.unwrap_or_default(),
            post_logout_redirect_uris: input.post_logout_redirect_uris.unwrap_or_default(),
            scopes: input
                .scopes
                .unwrap_or_else(|| DEFAULT_SCOPES.iter().map(|s| s.to_string()).collect()),
            token_endpoint_auth_method: input
                .token_endpoint_auth_method
                .unwrap_or_else(|| "client_secret_basic".into()),
            created_at: now,
            updated_at: now,
        };
        validate_client(&client)?;
        let secret = (client.token_endpoint_auth_method != "none").then(|| new_secret(now));
        let event = self.event(
            actor,
            Some(&org.id),
            "client.created",
            &client.client_id,
            serde_json::json!({ "grant_types": client.grant_types }),
        );
        self.store
            .create_client(&client, secret.as_ref().map(|(_, r)| r), &event)
            .await?;
        Ok(ClientWithSecret {
            client: client.into(),
            client_secret: secret.map(|(plain, _)| plain),
            previous_secret_expires_at: None,
        })
    }

    pub async fn get_client(
        &self,
        actor: &Actor,
        slug: &str,
        client_id: &str,
    ) -> CoreResult<ClientView> {
        let org = self.authorize_org(actor, slug).await?;
        let client = self
            .store
            .get_client(&org.id, client_id)
            .await?
            .ok_or(CoreError::not_found("client"))?;
        Ok(client.into())
    }

    pub async fn list_clients(
        &self,
        actor: &Actor,
        slug: &str,
        page: &PageParams,
    ) -> CoreResult<Listing<ClientView>> {
        let org = self.authorize_org(actor, slug).await?;
        let found = self.store.list_clients(&org.id, page.request()?).await?;
        Ok(Listing::from_page(found.map(ClientView::from)))
    }

    pub async fn update_client(
        &self,
        actor: &Actor,
        slug: &str,
        client_id: &str,
        input: UpdateClient,
    ) -> CoreResult<ClientView> {
        let org = self.authorize_org(actor, slug).await?;
        let mut client = self
            .store
            .get_client(&org.id, client_id)
            .await?
            .ok_or(CoreError::not_found("client"))?;
        let was_public = client.token_endpoint_auth_method == "none";
        if let Some(v) = input.client_name {
            client.client_name = v;
        }
        if let Some(v) = input.grant_types {
            client.grant_types = v;
        }
        if let Some(v) = input.redirect_uris {
            client.redirect_uris = v;
        }
        if let Some(v) = input.post_logout_redirect_uris {
            client.post_logout_redirect_uris = v;
        }
        if let Some(v) = input.scopes {
            client.scopes = v;
        }
        if let Some(v) = input.token_endpoint_auth_method {
            client.token_endpoint_auth_method = v;
        }
        validate_client(&client)?;
        if was_public && client.token_endpoint_auth_method != "none" {
            // A confidential client needs a secret, and a secret is only handed out by a rotation.
            return Err(CoreError::invalid(
                "token_endpoint_auth_method",
                "a public client cannot become confidential; register a new client",
            ));
        }
        client.updated_at = self.now();
        let event = self.event(
            actor,
            Some(&org.id),
            "client.updated",
            &client.client_id,
            serde_json::json!({}),
        );
        let updated = self.store.update_client(&client, &event).await;
        self.cache.forget_client(&org.id, &client.client_id);
        updated.map_err(client_not_found)?;
        Ok(client.into())
    }

    pub async fn delete_client(
        &self,
        actor: &Actor,
        slug: &str,
        client_id: &str,
    ) -> CoreResult<()> {
        let org = self.authorize_org(actor, slug).await?;
        let event = self.event(
            actor,
            Some(&org.id),
            "client.deleted",
            client_id,
            serde_json::json!({}),
        );
        let deleted = self.store.delete_client(&org.id, client_id, &event).await;
        self.cache.forget_client(&org.id, client_id);
        if deleted? {
            Ok(())
        } else {
            Err(CoreError::not_found("client"))
        }
    }

    /// Issues a new secret. With a grace period the previous secret keeps working that long;
    /// without one it stops at once.
    pub async fn rotate_client_secret(
        &self,
        actor: &Actor,
        slug: &str,
        client_id: &str,
        input: RotateSecret,
    ) -> CoreResult<ClientWithSecret> {
        let org = self.authorize_org(actor, slug).await?;
        let grace = input.grace_period_seconds.unwrap_or(0);
        if !(0..=MAX_GRACE_SECONDS).contains(&grace) {
            return Err(CoreError::invalid(
                "grace_period_seconds",
                format!("must be between 0 and {MAX_GRACE_SECONDS}"),
            ));
        }
        let client = self
            .store
            .get_client(&org.id, client_id)
            .await?
            .ok_or(CoreError::not_found("client"))?;
        if client.token_endpoint_auth_method == "none" {
            return Err(CoreError::invalid(
                "client_id",
                "a public client (token_endpoint_auth_method none) has no secret",
            ));
        }
        let now = self.now();
        let (plain, record) = new_secret(now);
        let event = self.event(
            actor,
            Some(&org.id),
            "client.secret_rotated",
            client_id,
            serde_json::json!({ "grace_period_seconds": grace }),
        );
        let rotated = self
            .store
            .rotate_client_secret(&org.id, client_id, &record, now + grace, &event)
            .await;
        self.cache.forget_client(&org.id, client_id);
        rotated.map_err(client_not_found)?;
        Ok(ClientWithSecret {
            client: client.into(),
            client_secret: Some(plain),
            previous_secret_expires_at: (grace > 0).then_some(now + grace),
        })
    }

    /// Checks a client's secret against every secret valid now, in constant time per candidate.
    /// Returns the client when it matches. Used by the token endpoint.
    pub async fn authenticate_client_secret(
        &self,
        org_id: &str,
        client_id: &str,
        presented: &str,
    ) -> CoreResult<Option<Client>> {
        let now = self.now();
        // Check every candidate, not just until the first match, so timing says nothing.
        let matches = |c: &crate::cache::CachedClient| {
            c.secrets
                .iter()
                .filter(|s| s.expires_at.is_none_or(|t| t > now))
                .fold(false, |acc, s| {
                    secret::verify_token_hash(presented, &s.secret_hash) | acc
                })
        };
        let key = (org_id.to_string(), client_id.to_string());
        if let Some(cached) = self.cache.clients.get(&key) {
            if matches(&cached) {
                return Ok(Some(cached.client.clone()));
            }
            // Perhaps a secret rotated in through another node or the CLI: a new secret works
            // everywhere at once, only an old one may linger for the cache's second.
            self.cache.clients.remove(&key);
        }
        let Some(fresh) = self.protocol_client(org_id, client_id).await? else {
            return Ok(None);
        };
        Ok(matches(&fresh).then(|| fresh.client.clone()))
    }
}
