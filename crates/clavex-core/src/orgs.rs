//! Organizations (tenants): each has its own issuer, users, groups, clients and signing keys.

use clavex_store::Org;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    Actor, Core, CoreError, CoreResult,
    keys::parse_algorithm,
    pagination::{Listing, PageParams},
    validate,
    views::rfc3339,
};

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrg {
    /// Lowercase letters, digits and '-'; becomes the issuer path `P/{slug}`. Cannot change later.
    pub slug: String,
    pub name: String,
    /// `RS256` (default), `ES256` or `EdDSA`.
    pub signing_alg: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateOrg {
    pub name: Option<String>,
    /// Changing it rotates the org's key to the new algorithm at once.
    pub signing_alg: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrgView {
    pub id: String,
    pub slug: String,
    pub name: String,
    pub issuer: String,
    pub signing_alg: String,
    pub created_at: String,
    pub updated_at: String,
}

/// An org with counts of what it holds (shown before deleting it).
#[derive(Debug, Clone, Serialize)]
pub struct OrgSummary {
    pub org: OrgView,
    pub users: i64,
    pub groups: i64,
    pub clients: i64,
}

impl Core {
    pub async fn org_summary(&self, actor: &Actor, slug: &str) -> CoreResult<OrgSummary> {
        let org = self.authorize_org(actor, slug).await?;
        let contents = self.store.org_contents(&org.id).await?;
        Ok(OrgSummary {
            org: self.org_view(org),
            users: contents.users,
            groups: contents.groups,
            clients: contents.clients,
        })
    }

    fn org_view(&self, org: Org) -> OrgView {
        OrgView {
            issuer: self.issuer(&org.slug),
            id: org.id,
            slug: org.slug,
            name: org.name,
            signing_alg: org.signing_alg,
            created_at: rfc3339(org.created_at),
            updated_at: rfc3339(org.updated_at),
        }
    }

    pub async fn create_org(&self, actor: &Actor, input: CreateOrg) -> CoreResult<OrgView> {
        actor.require_superadmin()?;
        validate::slug(&input.slug)?;
        validate::display_name("name", &input.name, 200)?;
        let alg = parse_algorithm(
            "signing_alg",
            input.signing_alg.as_deref().unwrap_or("RS256"),
        )?;
        let now = self.now();
        let org = Org {
            id: crate::new_id(),
            slug: input.slug,
            name: input.name.trim().to_string(),
            signing_alg: alg.as_str().to_string(),
            created_at: now,
            updated_at: now,
        };
        let key = self.generate_signing_key(&org.id, alg, now).await?;
        let event = self.event(
            actor,
            Some(&org.id),
            "org.created",
            &org.slug,
            serde_json::json!({ "name": org.name, "signing_alg": org.signing_alg }),
        );
        self.store.create_org(&org, &key, &event).await?;
        Ok(self.org_view(org))
    }

    pub async fn get_org(&self, actor: &Actor, slug: &str) -> CoreResult<OrgView> {
        let org = self.authorize_org(actor, slug).await?;
        Ok(self.org_view(org))
    }

    pub async fn list_orgs(
        &self,
        actor: &Actor,
        page: &PageParams,
    ) -> CoreResult<Listing<OrgView>> {
        let found = self
            .store
            .list_orgs(actor.only_orgs(), page.request()?)
            .await?;
        Ok(Listing::from_page(found.map(|o| self.org_view(o))))
    }

    pub async fn update_org(
        &self,
        actor: &Actor,
        slug: &str,
        input: UpdateOrg,
    ) -> CoreResult<OrgView> {
        let mut org = self.authorize_org(actor, slug).await?;
        if let Some(name) = input.name {
            validate::display_name("name", &name, 200)?;
            org.name = name.trim().to_string();
        }
        let new_alg = match input.signing_alg {
            Some(alg) => {
                let alg = parse_algorithm("signing_alg", &alg)?;
                (alg.as_str() != org.signing_alg).then_some(alg)
            }
            None => None,
        };
        if let Some(alg) = new_alg {
            org.signing_alg = alg.as_str().to_string();
        }
        org.updated_at = self.now();
        let event = self.event(
            actor,
            Some(&org.id),
            "org.updated",
            &org.slug,
            serde_json::json!({ "name": org.name, "signing_alg": org.signing_alg }),
        );
        let updated = self.store.update_org(&org, &event).await;
        self.cache.forget_org(&org.slug);
        updated.map_err(|e| match e {
            clavex_store::StoreError::NotFound => CoreError::not_found("organization"),
            other => other.into(),
        })?;
        if let Some(alg) = new_alg {
            self.rotate_org_key(actor, &org.id, &org.slug, alg).await?;
        }
        Ok(self.org_view(org))
    }

    /// Deletes the org with its users, groups, clients, keys and tokens.
    pub async fn delete_org(&self, actor: &Actor, slug: &str) -> CoreResult<()> {
        actor.require_superadmin()?;
        let org = self.authorize_org(actor, slug).await?;
        let event = self.event(
            actor,
            Some(&org.id),
            "org.deleted",
            &org.slug,
            serde_json::json!({ "name": org.name }),
        );
        let deleted = self.store.delete_org(&org.id, &event).await;
        self.cache.forget_org(&org.slug);
        self.keyring.invalidate(&org.id);
        if deleted? {
            Ok(())
        } else {
            Err(CoreError::not_found("organization"))
        }
    }
}
