//! Admin API tokens: `cxa_` and 43 random characters, shown once, stored as a SHA-256 hash.

use clavex_crypto::secret;
use clavex_store::AdminToken;

use crate::{Actor, Core, CoreError, CoreResult, Principal, validate};

pub const TOKEN_PREFIX: &str = "cxa_";
/// The name under which `CLAVEX_BOOTSTRAP_ADMIN_TOKEN` is stored.
pub const BOOTSTRAP_TOKEN_NAME: &str = "bootstrap";

/// A token just created: the only time its value exists outside the caller's hands.
pub struct NewAdminToken {
    pub name: String,
    pub org: Option<String>,
    pub token: String,
}

impl std::fmt::Debug for NewAdminToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewAdminToken")
            .field("name", &self.name)
            .field("org", &self.org)
            .finish_non_exhaustive()
    }
}

/// A token as listed: never its value or hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminTokenView {
    pub name: String,
    /// The org slug it is limited to; `None` for a superadmin token.
    pub org: Option<String>,
    pub created_at: i64,
}

impl Core {
    /// Every admin token, oldest first. Superadmins only.
    pub async fn list_admin_tokens(&self, actor: &Actor) -> CoreResult<Vec<AdminTokenView>> {
        actor.require_superadmin()?;
        let mut views = Vec::new();
        for t in self.store.list_admin_tokens().await? {
            let org = match &t.org_id {
                Some(id) => self.store.get_org(id).await?.map(|o| o.slug),
                None => None,
            };
            views.push(AdminTokenView {
                name: t.name,
                org,
                created_at: t.created_at,
            });
        }
        Ok(views)
    }

    /// Deletes the token named `name`: the next request with it is 401. Superadmins only.
    pub async fn revoke_admin_token(&self, actor: &Actor, name: &str) -> CoreResult<()> {
        actor.require_superadmin()?;
        let token = self
            .store
            .list_admin_tokens()
            .await?
            .into_iter()
            .find(|t| t.name == name)
            .ok_or(CoreError::not_found("admin token"))?;
        let event = self.event(
            actor,
            token.org_id.as_deref(),
            "admin_token.revoked",
            name,
            serde_json::json!({}),
        );
        if !self.store.delete_admin_token(name, &event).await? {
            // Deleted by someone else in between.
            return Err(CoreError::not_found("admin token"));
        }
        Ok(())
    }

    /// Creates a token; with `org_slug` it reaches only that org.
    pub async fn create_admin_token(
        &self,
        actor: &Actor,
        name: &str,
        org_slug: Option<&str>,
    ) -> CoreResult<NewAdminToken> {
        actor.require_superadmin()?;
        validate::identifier("name", name, 64)?;
        let org = match org_slug {
            Some(slug) => Some(
                self.store
                    .get_org_by_slug(slug)
                    .await?
                    .ok_or(CoreError::not_found("organization"))?,
            ),
            None => None,
        };
        let token = secret::generate_token(TOKEN_PREFIX);
        let record = AdminToken {
            id: crate::new_id(),
            name: name.to_string(),
            org_id: org.as_ref().map(|o| o.id.clone()),
            token_hash: secret::hash_token(&token),
            created_at: self.now(),
        };
        let event = self.event(
            actor,
            org.as_ref().map(|o| o.id.as_str()),
            "admin_token.created",
            name,
            serde_json::json!({ "org": org_slug }),
        );
        self.store.create_admin_token(&record, &event).await?;
        Ok(NewAdminToken {
            name: name.to_string(),
            org: org_slug.map(str::to_string),
            token,
        })
    }

    /// Makes the bootstrap superadmin token exist with exactly this value (idempotent).
    pub async fn ensure_bootstrap_token(&self, value: &str) -> CoreResult<bool> {
        let record = AdminToken {
            id: crate::new_id(),
            name: BOOTSTRAP_TOKEN_NAME.to_string(),
            org_id: None,
            token_hash: secret::hash_token(value),
            created_at: self.now(),
        };
        let event = self.event(
            &Actor::system(),
            None,
            "admin_token.bootstrapped",
            BOOTSTRAP_TOKEN_NAME,
            serde_json::json!({}),
        );
        Ok(self.store.ensure_admin_token(&record, &event).await?)
    }

    /// Turns a presented bearer token into an actor, or `Unauthenticated`.
    pub async fn authenticate_admin_token(
        &self,
        presented: &str,
        source_ip: Option<String>,
    ) -> CoreResult<Actor> {
        let hash = secret::hash_token(presented);
        let found = self
            .store
            .find_admin_token_by_hash(&hash)
            .await?
            .ok_or(CoreError::Unauthenticated)?;
        // The look-up was by hash; compare again in constant time so that no code path ever
        // decides on a variable-time comparison.
        if !secret::verify_token_hash(presented, &found.token_hash) {
            return Err(CoreError::Unauthenticated);
        }
        let principal = match found.org_id {
            Some(org_id) => Principal::OrgAdmin {
                org_ids: vec![org_id],
            },
            None => Principal::Superadmin,
        };
        Ok(Actor {
            principal,
            label: format!("token:{}", found.name),
            source_ip,
        })
    }
}
