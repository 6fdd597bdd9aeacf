//! Admin Console accounts and their rights.
//!
//! Console accounts are the users of the internal org `admin` (`CONSOLE_ORG_SLUG`), whose issuer is
//! `P/admin`: the console signs its users in through that issuer like any other application, so
//! they get the same sign-in page, throttling and sessions as everyone. An account is a superadmin
//! (every org), an org admin of some orgs, or both; what it may do is decided by the same
//! `Principal` that API tokens carry.

use clavex_crypto::{password, secret};
use clavex_store::{CONSOLE_ORG_SLUG, Client, ConsoleSessionRecord, Org, StoreError, User};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    Actor, Core, CoreError, CoreResult, Principal, keys::parse_algorithm, validate, views::rfc3339,
};

/// The console's own OAuth client in the console org: public, PKCE, code flow only.
pub const CONSOLE_CLIENT_ID: &str = "clavex-console";
/// Where the console receives the authorization response, below `P`.
pub const CONSOLE_CALLBACK_PATH: &str = "/admin/callback";
/// Where the console sends browsers after signing out, below `P`.
pub const CONSOLE_HOME_PATH: &str = "/admin";

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateConsoleAdmin {
    /// Unique among console accounts (case-insensitive); what the account signs in with.
    pub username: String,
    /// Optional; defaults to `USERNAME@console.invalid`.
    pub email: Option<String>,
    /// Display name; defaults to the username.
    pub name: Option<String>,
    /// At least 8 characters. When absent a random one is generated and returned once.
    pub password: Option<String>,
    /// Manages every org. Default false.
    pub superadmin: Option<bool>,
    /// Slugs of the orgs this account administers.
    pub orgs: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateConsoleAdmin {
    pub name: Option<String>,
    pub email: Option<String>,
    /// A new password; the old one stops working.
    pub password: Option<String>,
    pub superadmin: Option<bool>,
    pub disabled: Option<bool>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConsoleAdminView {
    pub id: String,
    pub username: String,
    pub email: String,
    pub name: String,
    pub disabled: bool,
    pub superadmin: bool,
    /// Slugs of the orgs it administers.
    pub orgs: Vec<String>,
    pub created_at: String,
}

/// A created account, with the password when Clavex generated it (shown this once).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CreatedConsoleAdmin {
    #[serde(flatten)]
    pub admin: ConsoleAdminView,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
}

/// A signed-in console user, resolved from a console session cookie.
#[derive(Debug, Clone)]
pub struct ConsoleUser {
    pub actor: Actor,
    pub user: User,
    pub superadmin: bool,
    /// The orgs it administers (all orgs for a superadmin are not listed here).
    pub org_ids: Vec<String>,
    /// Hash of the session cookie: the key of the session row and of its CSRF tokens.
    pub session_hash: String,
    pub sso_sid: String,
}

/// A started console session: `cookie_value` goes to the browser and nowhere else.
pub struct NewConsoleSession {
    pub cookie_value: String,
    pub expires_at: i64,
}

fn generated_password() -> String {
    // 24 random bytes, base64url: 32 characters, no ambiguity about what to type.
    secret::generate_token("")[..32].to_string()
}

impl Core {
    /// The console org, created on first use, and its console client with redirect URIs that
    /// follow this server's public URL. The server calls it at start-up; safe from several nodes.
    pub async fn ensure_console(&self) -> CoreResult<Org> {
        let org = self.ensure_console_org().await?;
        self.ensure_console_client(&org).await?;
        Ok(org)
    }

    /// The console org, created on first use (with an RS256 key). The CLI uses this one: its
    /// public URL setting may not be the server's, so it never touches the console client.
    pub async fn ensure_console_org(&self) -> CoreResult<Org> {
        let org = match self.store.get_org_by_slug(CONSOLE_ORG_SLUG).await? {
            Some(org) => org,
            None => {
                let now = self.now();
                let alg = parse_algorithm("signing_alg", "RS256")?;
                let org = Org {
                    id: crate::new_id(),
                    slug: CONSOLE_ORG_SLUG.to_string(),
                    name: "Clavex Admin Console".to_string(),
                    signing_alg: alg.as_str().to_string(),
                    created_at: now,
                    updated_at: now,
                };
                let key = self.generate_signing_key(&org.id, alg, now).await?;
                let event = self.event(
                    &Actor::system(),
                    None,
                    "console.initialized",
                    &org.id,
                    serde_json::json!({}),
                );
                match self.store.create_org(&org, &key, &event).await {
                    Ok(()) => org,
                    // Another node created it first.
                    Err(StoreError::Conflict { .. }) => self
                        .store
                        .get_org_by_slug(CONSOLE_ORG_SLUG)
                        .await?
                        .ok_or_else(|| CoreError::Internal("console org vanished".into()))?,
                    Err(e) => return Err(e.into()),
                }
            }
        };
        Ok(org)
    }

    async fn ensure_console_client(&self, org: &Org) -> CoreResult<()> {
        let base = &self.settings.public_url;
        let redirect_uris = vec![format!("{base}{CONSOLE_CALLBACK_PATH}")];
        let post_logout = vec![format!("{base}{CONSOLE_HOME_PATH}")];
        let now = self.now();
        let wanted = |id: String, created_at: i64| Client {
            id,
            org_id: org.id.clone(),
            client_id: CONSOLE_CLIENT_ID.to_string(),
            client_name: "Clavex Admin Console".to_string(),
            grant_types: vec!["authorization_code".to_string()],
            redirect_uris: redirect_uris.clone(),
            post_logout_redirect_uris: post_logout.clone(),
            scopes: vec!["openid".to_string(), "profile".to_string()],
            token_endpoint_auth_method: "none".to_string(),
            created_at,
            updated_at: now,
        };
        match self.store.get_client(&org.id, CONSOLE_CLIENT_ID).await? {
            Some(existing) => {
                let client = wanted(existing.id.clone(), existing.created_at);
                let same = existing.redirect_uris == client.redirect_uris
                    && existing.post_logout_redirect_uris == client.post_logout_redirect_uris
                    && existing.grant_types == client.grant_types
                    && existing.scopes == client.scopes
                    && existing.token_endpoint_auth_method == client.token_endpoint_auth_method;
                if !same {
                    let event = self.event(
                        &Actor::system(),
                        Some(&org.id),
                        "client.updated",
                        CONSOLE_CLIENT_ID,
                        serde_json::json!({ "redirect_uris": client.redirect_uris }),
                    );
                    self.store.update_client(&client, &event).await?;
                }
            }
            None => {
                let client = wanted(crate::new_id(), now);
                let event = self.event(
                    &Actor::system(),
                    Some(&org.id),
                    "client.created",
                    CONSOLE_CLIENT_ID,
                    serde_json::json!({}),
                );
                match self.store.create_client(&client, None, &event).await {
                    Ok(()) | Err(StoreError::Conflict { .. }) => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
        Ok(())
    }

    async fn console_org(&self) -> CoreResult<Org> {
        self.ensure_console_org().await
    }

    async fn admin_view(&self, user: User) -> CoreResult<ConsoleAdminView> {
        let rights = self.store.console_rights(&user.id).await?;
        let mut orgs = Vec::with_capacity(rights.org_ids.len());
        for id in &rights.org_ids {
            if let Some(org) = self.store.get_org(id).await? {
                orgs.push(org.slug);
            }
        }
        Ok(ConsoleAdminView {
            id: user.id,
            username: user.username,
            email: user.email,
            name: user.name,
            disabled: user.disabled,
            superadmin: rights.superadmin,
            orgs,
            created_at: rfc3339(user.created_at),
        })
    }

    async fn console_account(&self, console: &Org, id: &str) -> CoreResult<User> {
        self.store
            .get_user(&console.id, id)
            .await?
            .ok_or(CoreError::not_found("console admin"))
    }

    /// Finds a console account by username (for the CLI).
    pub async fn find_console_admin(&self, username: &str) -> CoreResult<ConsoleAdminView> {
        let console = self.console_org().await?;
        let user = self
            .store
            .find_user_by_login(&console.id, &clavex_store::normalize_login(username))
            .await?
            .filter(|u| u.username.eq_ignore_ascii_case(username))
            .ok_or(CoreError::not_found("console admin"))?;
        self.admin_view(user).await
    }

    pub async fn create_console_admin(
        &self,
        actor: &Actor,
        input: CreateConsoleAdmin,
    ) -> CoreResult<CreatedConsoleAdmin> {
        actor.require_superadmin()?;
        let console = self.ensure_console_org().await?;
        validate::username(&input.username)?;
        let email = match input.email.filter(|e| !e.trim().is_empty()) {
            Some(e) => e,
            None => format!("{}@console.invalid", input.username.to_lowercase()),
        };
        validate::email(&email)?;
        let name = input
            .name
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| input.username.clone());
        validate::display_name("name", &name, 200)?;
        if let Some(p) = &input.password {
            validate::password(p)?;
        }
        let mut orgs = Vec::new();
        for slug in input.orgs.unwrap_or_default() {
            orgs.push(self.tenant_org("orgs", &slug).await?);
        }
        // A taken username also collides through its default email, which SQLite may report
        // first: name the username on every backend.
        let taken = self
            .store
            .find_user_by_login(&console.id, &clavex_store::normalize_login(&input.username))
            .await?
            .is_some_and(|u| u.username.eq_ignore_ascii_case(&input.username));
        if taken {
            return Err(CoreError::Conflict { field: "username" });
        }
        let generated = input.password.is_none().then(generated_password);
        let plain = input
            .password
            .or_else(|| generated.clone())
            .unwrap_or_default();
        let now = self.now();
        let user = User {
            id: crate::new_id(),
            org_id: console.id.clone(),
            username: input.username,
            email,
            email_verified: false,
            name: name.trim().to_string(),
            given_name: None,
            family_name: None,
            password_hash: Some(self.hash_password_queued(plain).await?),
            disabled: false,
            created_at: now,
            updated_at: now,
        };
        let superadmin = input.superadmin.unwrap_or(false);
        let event = self.event(
            actor,
            None,
            "console_admin.created",
            &user.id,
            serde_json::json!({ "username": user.username, "superadmin": superadmin }),
        );
        let grants: Vec<(String, clavex_store::Event)> = orgs
            .iter()
            .map(|org| (org.id.clone(), self.grant_event(actor, org, &user)))
            .collect();
        self.store
            .create_console_account(&user, superadmin, &grants, &event)
            .await
            .map_err(|e| match e {
                StoreError::NotFound => {
                    CoreError::invalid("orgs", "an organization was deleted meanwhile")
                }
                other => other.into(),
            })?;
        Ok(CreatedConsoleAdmin {
            admin: self.admin_view(user).await?,
            password: generated,
        })
    }

    /// Makes a superadmin with these credentials exist (the `CLAVEX_BOOTSTRAP_ADMIN_*`
    /// settings): creates it, or gives an existing account the superadmin right, enables it and
    /// sets this password if it has another. Returns true when anything changed.
    pub async fn ensure_bootstrap_console_admin(
        &self,
        username: &str,
        plain_password: &str,
    ) -> CoreResult<bool> {
        let actor = Actor::system();
        let console = self.ensure_console_org().await?;
        let existing = self
            .store
            .find_user_by_login(&console.id, &clavex_store::normalize_login(username))
            .await?
            .filter(|u| u.username.eq_ignore_ascii_case(username));
        let Some(mut user) = existing else {
            self.create_console_admin(
                &actor,
                CreateConsoleAdmin {
                    username: username.to_string(),
                    email: None,
                    name: None,
                    password: Some(plain_password.to_string()),
                    superadmin: Some(true),
                    orgs: None,
                },
            )
            .await?;
            return Ok(true);
        };
        let mut changed = false;
        let stored = user.password_hash.clone();
        let plain = plain_password.to_string();
        let matches = {
            // Released before hashing below, which takes a slot of its own.
            let permit = self.password_slot("verify").await?;
            tokio::task::spawn_blocking(move || {
                let _permit = permit;
                stored.is_some_and(|h| password::verify_password(&plain, &h).unwrap_or(false))
            })
            .await
            .map_err(|e| CoreError::Internal(format!("password check failed: {e}")))?
        };
        if !matches || user.disabled {
            validate::password(plain_password)?;
            user.password_hash = Some(
                self.hash_password_queued(plain_password.to_string())
                    .await?,
            );
            user.disabled = false;
            user.updated_at = self.now();
            let event = self.event(
                &actor,
                None,
                "console_admin.updated",
                &user.id,
                serde_json::json!({ "fields": ["password", "disabled"], "bootstrap": true }),
            );
            self.store.update_user(&user, &event).await?;
            changed = true;
        }
        let event = self.event(
            &actor,
            None,
            "console_admin.updated",
            &user.id,
            serde_json::json!({ "fields": ["superadmin"], "bootstrap": true }),
        );
        changed |= self
            .store
            .set_superadmin(&user.id, true, self.now(), &event)
            .await?;
        Ok(changed)
    }

    pub async fn list_console_admins(&self, actor: &Actor) -> CoreResult<Vec<ConsoleAdminView>> {
        actor.require_superadmin()?;
        let console = self.ensure_console_org().await?;
        let mut out = Vec::new();
        let mut page = clavex_store::PageRequest::first(500);
        loop {
            let found = self.store.list_users(&console.id, None, page).await?;
            for user in found.items {
                out.push(self.admin_view(user).await?);
            }
            match found.next_after {
                Some(after) => page.after = Some(after),
                None => break,
            }
        }
        Ok(out)
    }

    pub async fn get_console_admin(&self, actor: &Actor, id: &str) -> CoreResult<ConsoleAdminView> {
        actor.require_superadmin()?;
        let console = self.console_org().await?;
        let user = self.console_account(&console, id).await?;
        self.admin_view(user).await
    }

    pub async fn update_console_admin(
        &self,
        actor: &Actor,
        id: &str,
        input: UpdateConsoleAdmin,
    ) -> CoreResult<ConsoleAdminView> {
        actor.require_superadmin()?;
        let console = self.console_org().await?;
        let mut user = self.console_account(&console, id).await?;
        let mut changed = Vec::new();
        if let Some(v) = input.name {
            validate::display_name("name", &v, 200)?;
            user.name = v.trim().to_string();
            changed.push("name");
        }
        if let Some(v) = input.email {
            validate::email(&v)?;
            user.email = v;
            changed.push("email");
        }
        if let Some(v) = input.disabled {
            if v {
                self.refuse_last_superadmin(actor, &user).await?;
            }
            user.disabled = v;
            changed.push("disabled");
        }
        if let Some(p) = input.password {
            validate::password(&p)?;
            user.password_hash = Some(self.hash_password_queued(p).await?);
            changed.push("password");
        }
        if input.superadmin == Some(false) {
            self.refuse_last_superadmin(actor, &user).await?;
        }
        if !changed.is_empty() {
            user.updated_at = self.now();
            let event = self.event(
                actor,
                None,
                "console_admin.updated",
                &user.id,
                serde_json::json!({ "fields": changed }),
            );
            self.store
                .update_user(&user, &event)
                .await
                .map_err(|e| match e {
                    StoreError::NotFound => CoreError::not_found("console admin"),
                    other => other.into(),
                })?;
        }
        if let Some(v) = input.superadmin {
            let event = self.event(
                actor,
                None,
                "console_admin.updated",
                &user.id,
                serde_json::json!({ "fields": ["superadmin"], "superadmin": v }),
            );
            self.store
                .set_superadmin(&user.id, v, self.now(), &event)
                .await?;
        }
        self.admin_view(user).await
    }

    /// Deletes a console account, its rights and its console sessions.
    pub async fn delete_console_admin(&self, actor: &Actor, id: &str) -> CoreResult<()> {
        actor.require_superadmin()?;
        let console = self.console_org().await?;
        let user = self.console_account(&console, id).await?;
        self.refuse_last_superadmin(actor, &user).await?;
        let event = self.event(
            actor,
            None,
            "console_admin.deleted",
            &user.id,
            serde_json::json!({ "username": user.username }),
        );
        if self.store.delete_user(&console.id, id, &event).await? {
            Ok(())
        } else {
            Err(CoreError::not_found("console admin"))
        }
    }

    /// Nobody could manage the installation from the console if its last enabled superadmin
    /// were removed, disabled or demoted (`clavex admin create` would still recover it).
    async fn refuse_last_superadmin(&self, actor: &Actor, user: &User) -> CoreResult<()> {
        if !self.store.console_rights(&user.id).await?.superadmin {
            return Ok(());
        }
        let others = self
            .list_console_admins(actor)
            .await?
            .into_iter()
            .filter(|a| a.superadmin && !a.disabled && a.id != user.id)
            .count();
        if others == 0 {
            return Err(CoreError::Forbidden(
                "this is the last enabled superadmin; create another one first",
            ));
        }
        Ok(())
    }

    /// A user org by slug for console-account operations (never the console org itself).
    async fn tenant_org(&self, field: &str, slug: &str) -> CoreResult<Org> {
        if slug == CONSOLE_ORG_SLUG {
            return Err(CoreError::invalid(
                field,
                format!("no organization '{slug}'"),
            ));
        }
        self.store
            .get_org_by_slug(slug)
            .await?
            .ok_or_else(|| CoreError::invalid(field, format!("no organization '{slug}'")))
    }

    fn grant_event(&self, actor: &Actor, org: &Org, user: &User) -> clavex_store::Event {
        self.event(
            actor,
            Some(&org.id),
            "org_admin.granted",
            &user.id,
            serde_json::json!({ "username": user.username }),
        )
    }

    async fn grant_org_admin_to(&self, actor: &Actor, org: &Org, user: &User) -> CoreResult<bool> {
        let event = self.grant_event(actor, org, user);
        self.store
            .grant_org_admin(&user.id, &org.id, self.now(), &event)
            .await
            .map_err(|e| match e {
                StoreError::NotFound => CoreError::not_found("console admin"),
                other => other.into(),
            })
    }

    /// Gives console account `admin_id` the right to manage org `slug` (idempotent).
    pub async fn grant_org_admin(
        &self,
        actor: &Actor,
        slug: &str,
        admin_id: &str,
    ) -> CoreResult<()> {
        actor.require_superadmin()?;
        let org = self.authorize_org(actor, slug).await?;
        let console = self.console_org().await?;
        let user = self.console_account(&console, admin_id).await?;
        self.grant_org_admin_to(actor, &org, &user).await?;
        Ok(())
    }

    /// Takes that right away (idempotent).
    pub async fn revoke_org_admin(
        &self,
        actor: &Actor,
        slug: &str,
        admin_id: &str,
    ) -> CoreResult<()> {
        actor.require_superadmin()?;
        let org = self.authorize_org(actor, slug).await?;
        let console = self.console_org().await?;
        let user = self.console_account(&console, admin_id).await?;
        let event = self.event(
            actor,
            Some(&org.id),
            "org_admin.revoked",
            &user.id,
            serde_json::json!({ "username": user.username }),
        );
        self.store
            .revoke_org_admin(&user.id, &org.id, &event)
            .await?;
        Ok(())
    }

    /// The console accounts that administer org `slug` (superadmins, who manage every org, are
    /// not listed). Org admins of that org may see this list.
    pub async fn list_org_admins(
        &self,
        actor: &Actor,
        slug: &str,
    ) -> CoreResult<Vec<ConsoleAdminView>> {
        let org = self.authorize_org(actor, slug).await?;
        let console = self.console_org().await?;
        // An org admin may see who else administers this org, but not which other orgs they
        // administer: that would reveal other tenants.
        let visible: Option<Vec<String>> = match actor.only_orgs() {
            None => None,
            Some(ids) => {
                let mut slugs = Vec::new();
                for id in ids {
                    if let Some(o) = self.store.get_org(id).await? {
                        slugs.push(o.slug);
                    }
                }
                Some(slugs)
            }
        };
        let mut out = Vec::new();
        for id in self.store.list_org_admins(&org.id).await? {
            if let Some(user) = self.store.get_user(&console.id, &id).await? {
                let mut view = self.admin_view(user).await?;
                if let Some(visible) = &visible {
                    view.orgs.retain(|s| visible.contains(s));
                }
                out.push(view);
            }
        }
        Ok(out)
    }

    /// Starts a console session for `user` (a console account) after it signed in through the
    /// console org's issuer; `sso_sid` is that sign-in's SSO session.
    pub async fn start_console_session(
        &self,
        user_id: &str,
        sso_sid: &str,
    ) -> CoreResult<NewConsoleSession> {
        let now = self.now();
        let cookie_value = secret::generate_token("");
        let expires_at = now + self.settings.session_ttl_seconds;
        self.store
            .create_console_session(&ConsoleSessionRecord {
                id_hash: secret::hash_token(&cookie_value),
                user_id: user_id.to_string(),
                sso_sid: sso_sid.to_string(),
                created_at: now,
                expires_at,
            })
            .await?;
        Ok(NewConsoleSession {
            cookie_value,
            expires_at,
        })
    }

    /// The signed-in console user behind a session cookie, with rights read afresh on every
    /// request (a revoked right or a disabled account takes effect at once).
    pub async fn console_user(
        &self,
        cookie_value: &str,
        source_ip: Option<String>,
    ) -> CoreResult<Option<ConsoleUser>> {
        if cookie_value.is_empty() || cookie_value.len() > 128 {
            return Ok(None);
        }
        let hash = secret::hash_token(cookie_value);
        let Some(session) = self.store.get_console_session(&hash, self.now()).await? else {
            return Ok(None);
        };
        let console = self.console_org().await?;
        let Some(user) = self
            .store
            .get_user(&console.id, &session.user_id)
            .await?
            .filter(|u| !u.disabled)
        else {
            return Ok(None);
        };
        let rights = self.store.console_rights(&user.id).await?;
        let principal = if rights.superadmin {
            Principal::Superadmin
        } else {
            Principal::OrgAdmin {
                org_ids: rights.org_ids.clone(),
            }
        };
        Ok(Some(ConsoleUser {
            actor: Actor {
                principal,
                label: format!("console:{}", user.username),
                source_ip,
            },
            superadmin: rights.superadmin,
            org_ids: rights.org_ids,
            user,
            session_hash: hash,
            sso_sid: session.sso_sid,
        }))
    }

    /// Ends a console session and the console org SSO session it came from.
    pub async fn end_console_session(&self, who: &ConsoleUser) -> CoreResult<()> {
        self.store.delete_console_session(&who.session_hash).await?;
        let console = self.console_org().await?;
        let event = self.event_as(
            &format!("user:{}", who.user.id),
            who.actor.source_ip.clone(),
            Some(&console.id),
            "logout",
            &who.user.id,
            serde_json::json!({ "sid": who.sso_sid, "console": true }),
        );
        self.store
            .delete_session(&console.id, &who.sso_sid, &event)
            .await?;
        Ok(())
    }
}
