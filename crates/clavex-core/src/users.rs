//! Users of an org. Passwords are hashed with Argon2id off the async runtime and never leave here.

use clavex_crypto::password;
use clavex_store::{StoreError, User};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{
    Actor, Core, CoreError, CoreResult,
    pagination::{Listing, PageParams},
    validate,
    views::rfc3339,
};

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    /// Unique within the org (case-insensitive); becomes `preferred_username`.
    pub username: String,
    /// Unique within the org (case-insensitive).
    pub email: String,
    pub name: String,
    /// At least 8 characters; without one the user cannot sign in with a password.
    pub password: Option<String>,
    pub email_verified: Option<bool>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub disabled: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    pub username: Option<String>,
    pub email: Option<String>,
    pub name: Option<String>,
    /// A new password; the old one stops working.
    pub password: Option<String>,
    pub email_verified: Option<bool>,
    /// An empty string removes it.
    pub given_name: Option<String>,
    /// An empty string removes it.
    pub family_name: Option<String>,
    pub disabled: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserSearch {
    /// Case-insensitive substring of username, email or name.
    pub q: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserView {
    /// Stable and never reused: the `sub` claim.
    pub id: String,
    pub username: String,
    pub email: String,
    pub email_verified: bool,
    pub name: String,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub disabled: bool,
    pub has_password: bool,
    /// Group names; only in single-user responses.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<String>>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<User> for UserView {
    fn from(u: User) -> Self {
        UserView {
            id: u.id,
            username: u.username,
            email: u.email,
            email_verified: u.email_verified,
            name: u.name,
            given_name: u.given_name,
            family_name: u.family_name,
            disabled: u.disabled,
            has_password: u.password_hash.is_some(),
            groups: None,
            created_at: rfc3339(u.created_at),
            updated_at: rfc3339(u.updated_at),
        }
    }
}

impl Core {
    /// Waits for an Argon2id slot (the gate bounds password work to the cores), recording the
    /// wait under `op` (`verify` or `hash`). Move the permit into the blocking task that does the
    /// work: a request whose client went away drops its future, but its hash runs on, and must
    /// keep its slot until it ends.
    pub(crate) async fn password_slot(
        &self,
        op: &'static str,
    ) -> CoreResult<tokio::sync::OwnedSemaphorePermit> {
        let queued = std::time::Instant::now();
        let permit = self
            .password_gate
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| CoreError::Internal(format!("password gate closed: {e}")))?;
        self.metrics.password_queue_wait(op, queued.elapsed());
        Ok(permit)
    }

    /// `hash_password` in an Argon2id slot, so that hashing (user creation, password changes)
    /// queues with sign-ins instead of adding CPU work beside them.
    pub(crate) async fn hash_password_queued(&self, plain: String) -> CoreResult<String> {
        let permit = self.password_slot("hash").await?;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            password::hash_password(&plain)
        })
        .await
        .map_err(|e| CoreError::Internal(format!("password hashing task failed: {e}")))?
        .map_err(CoreError::from)
    }
}

fn optional_name(field: &str, value: Option<String>) -> CoreResult<Option<String>> {
    match value {
        Some(v) if v.trim().is_empty() => Ok(None),
        Some(v) => {
            validate::display_name(field, &v, 200)?;
            Ok(Some(v.trim().to_string()))
        }
        None => Ok(None),
    }
}

fn user_not_found(e: StoreError) -> CoreError {
    match e {
        StoreError::NotFound => CoreError::not_found("user"),
        other => other.into(),
    }
}

impl Core {
    pub async fn create_user(
        &self,
        actor: &Actor,
        slug: &str,
        input: CreateUser,
    ) -> CoreResult<UserView> {
        let org = self.authorize_org(actor, slug).await?;
        validate::username(&input.username)?;
        validate::email(&input.email)?;
        validate::display_name("name", &input.name, 200)?;
        if let Some(p) = &input.password {
            validate::password(p)?;
        }
        let given_name = optional_name("given_name", input.given_name)?;
        let family_name = optional_name("family_name", input.family_name)?;
        let password_hash = match input.password {
            Some(p) => Some(self.hash_password_queued(p).await?),
            None => None,
        };
        let now = self.now();
        let user = User {
            id: crate::new_id(),
            org_id: org.id.clone(),
            username: input.username,
            email: input.email,
            email_verified: input.email_verified.unwrap_or(false),
            name: input.name.trim().to_string(),
            given_name,
            family_name,
            password_hash,
            disabled: input.disabled.unwrap_or(false),
            created_at: now,
            updated_at: now,
        };
        let event = self.event(
            actor,
            Some(&org.id),
            "user.created",
            &user.id,
            serde_json::json!({ "username": user.username }),
        );
        self.store.create_user(&user, &event).await?;
        let mut view = UserView::from(user);
        view.groups = Some(Vec::new());
        Ok(view)
    }

    pub async fn get_user(&self, actor: &Actor, slug: &str, id: &str) -> CoreResult<UserView> {
        let org = self.authorize_org(actor, slug).await?;
        let user = self
            .store
            .get_user(&org.id, id)
            .await?
            .ok_or(CoreError::not_found("user"))?;
        let groups = self.store.user_group_names(&org.id, &user.id).await?;
        let mut view = UserView::from(user);
        view.groups = Some(groups);
        Ok(view)
    }

    pub async fn list_users(
        &self,
        actor: &Actor,
        slug: &str,
        search: &UserSearch,
        page: &PageParams,
    ) -> CoreResult<Listing<UserView>> {
        let org = self.authorize_org(actor, slug).await?;
        let q = search.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
        if q.is_some_and(|q| q.chars().count() > 200) {
            return Err(CoreError::invalid("q", "must be at most 200 characters"));
        }
        let found = self.store.list_users(&org.id, q, page.request()?).await?;
        Ok(Listing::from_page(found.map(UserView::from)))
    }

    pub async fn update_user(
        &self,
        actor: &Actor,
        slug: &str,
        id: &str,
        input: UpdateUser,
    ) -> CoreResult<UserView> {
        let org = self.authorize_org(actor, slug).await?;
        let mut user = self
            .store
            .get_user(&org.id, id)
            .await?
            .ok_or(CoreError::not_found("user"))?;
        let mut changed = Vec::new();
        if let Some(v) = input.username {
            validate::username(&v)?;
            user.username = v;
            changed.push("username");
        }
        if let Some(v) = input.email {
            validate::email(&v)?;
            user.email = v;
            changed.push("email");
        }
        if let Some(v) = input.name {
            validate::display_name("name", &v, 200)?;
            user.name = v.trim().to_string();
            changed.push("name");
        }
        if let Some(v) = input.email_verified {
            user.email_verified = v;
            changed.push("email_verified");
        }
        if input.given_name.is_some() {
            user.given_name = optional_name("given_name", input.given_name)?;
            changed.push("given_name");
        }
        if input.family_name.is_some() {
            user.family_name = optional_name("family_name", input.family_name)?;
            changed.push("family_name");
        }
        if let Some(v) = input.disabled {
            user.disabled = v;
            changed.push("disabled");
        }
        if let Some(p) = input.password {
            validate::password(&p)?;
            user.password_hash = Some(self.hash_password_queued(p).await?);
            changed.push("password");
        }
        user.updated_at = self.now();
        let event = self.event(
            actor,
            Some(&org.id),
            "user.updated",
            &user.id,
            serde_json::json!({ "fields": changed }),
        );
        self.store
            .update_user(&user, &event)
            .await
            .map_err(user_not_found)?;
        let groups = self.store.user_group_names(&org.id, &user.id).await?;
        let mut view = UserView::from(user);
        view.groups = Some(groups);
        Ok(view)
    }

    /// Deletes the user and its memberships; its id is never reused.
    pub async fn delete_user(&self, actor: &Actor, slug: &str, id: &str) -> CoreResult<()> {
        let org = self.authorize_org(actor, slug).await?;
        let event = self.event(
            actor,
            Some(&org.id),
            "user.deleted",
            id,
            serde_json::json!({}),
        );
        if self.store.delete_user(&org.id, id, &event).await? {
            Ok(())
        } else {
            Err(CoreError::not_found("user"))
        }
    }
}
