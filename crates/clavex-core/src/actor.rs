//! Who is acting, and what they may touch. API tokens, the CLI and console sessions all become an
//! `Actor`, so one permission model serves every entry point.

use clavex_store::{CONSOLE_ORG_SLUG, Org};

use crate::{Core, CoreError, CoreResult};

/// The rights an actor holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// Every org, and creating orgs.
    Superadmin,
    /// Only these orgs (by id): one for an org-scoped token, those granted for a console account.
    OrgAdmin { org_ids: Vec<String> },
}

/// An authenticated caller, with what the audit trail records about it.
#[derive(Debug, Clone)]
pub struct Actor {
    pub principal: Principal,
    /// How the audit trail names it: `token:<name>`, `cli`, `system`.
    pub label: String,
    pub source_ip: Option<String>,
}

impl Actor {
    /// The local command line: whoever can read the database file or URL already owns everything.
    pub fn cli() -> Self {
        Actor {
            principal: Principal::Superadmin,
            label: "cli".into(),
            source_ip: None,
        }
    }

    /// Clavex itself (bootstrap, background work).
    pub fn system() -> Self {
        Actor {
            principal: Principal::Superadmin,
            label: "system".into(),
            source_ip: None,
        }
    }

    pub fn require_superadmin(&self) -> CoreResult<()> {
        match self.principal {
            Principal::Superadmin => Ok(()),
            Principal::OrgAdmin { .. } => Err(CoreError::Forbidden(
                "only a superadmin may do this; these credentials are limited to some organizations",
            )),
        }
    }

    /// The org ids this actor is limited to, if any.
    pub fn only_orgs(&self) -> Option<&[String]> {
        match &self.principal {
            Principal::Superadmin => None,
            Principal::OrgAdmin { org_ids } => Some(org_ids),
        }
    }

    pub fn is_superadmin(&self) -> bool {
        self.principal == Principal::Superadmin
    }
}

impl Core {
    /// Finds the org `slug` for `actor`. An org-scoped actor gets 403 for every other slug, existing
    /// or not, so that it cannot probe which orgs exist. The console org is not a tenant: it is
    /// managed through the console-account functions only, and is unknown here.
    pub async fn authorize_org(&self, actor: &Actor, slug: &str) -> CoreResult<Org> {
        let org = if slug == CONSOLE_ORG_SLUG {
            None
        } else {
            self.store.get_org_by_slug(slug).await?
        };
        match (&actor.principal, org) {
            (Principal::Superadmin, Some(org)) => Ok(org),
            (Principal::Superadmin, None) => Err(CoreError::not_found("organization")),
            (Principal::OrgAdmin { org_ids }, Some(org)) if org_ids.contains(&org.id) => Ok(org),
            (Principal::OrgAdmin { .. }, _) => Err(CoreError::Forbidden(
                "these credentials have no rights to that organization",
            )),
        }
    }
}
