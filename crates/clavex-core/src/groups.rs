//! Groups of an org and their members; group names are what the `groups` claim carries.

use clavex_store::{Group, StoreError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    Actor, Core, CoreError, CoreResult,
    pagination::{Listing, PageParams},
    users::UserView,
    validate,
    views::rfc3339,
};

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateGroup {
    /// Unique within the org: ASCII letters, digits, '-', '_', '.', ':'.
    pub name: String,
    pub description: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GroupView {
    pub name: String,
    pub description: String,
    pub created_at: String,
}

impl From<Group> for GroupView {
    fn from(g: Group) -> Self {
        GroupView {
            name: g.name,
            description: g.description,
            created_at: rfc3339(g.created_at),
        }
    }
}

impl Core {
    pub async fn create_group(
        &self,
        actor: &Actor,
        slug: &str,
        input: CreateGroup,
    ) -> CoreResult<GroupView> {
        let org = self.authorize_org(actor, slug).await?;
        validate::identifier("name", &input.name, 128)?;
        let description = input.description.unwrap_or_default();
        if description.chars().count() > 1000 {
            return Err(CoreError::invalid(
                "description",
                "must be at most 1000 characters",
            ));
        }
        let group = Group {
            id: crate::new_id(),
            org_id: org.id.clone(),
            name: input.name,
            description,
            created_at: self.now(),
        };
        let event = self.event(
            actor,
            Some(&org.id),
            "group.created",
            &group.name,
            serde_json::json!({}),
        );
        self.store.create_group(&group, &event).await?;
        Ok(group.into())
    }

    pub async fn get_group(&self, actor: &Actor, slug: &str, name: &str) -> CoreResult<GroupView> {
        let org = self.authorize_org(actor, slug).await?;
        self.store
            .get_group(&org.id, name)
            .await?
            .map(GroupView::from)
            .ok_or(CoreError::not_found("group"))
    }

    pub async fn list_groups(
        &self,
        actor: &Actor,
        slug: &str,
        page: &PageParams,
    ) -> CoreResult<Listing<GroupView>> {
        let org = self.authorize_org(actor, slug).await?;
        let found = self.store.list_groups(&org.id, page.request()?).await?;
        Ok(Listing::from_page(found.map(GroupView::from)))
    }

    pub async fn delete_group(&self, actor: &Actor, slug: &str, name: &str) -> CoreResult<()> {
        let org = self.authorize_org(actor, slug).await?;
        let event = self.event(
            actor,
            Some(&org.id),
            "group.deleted",
            name,
            serde_json::json!({}),
        );
        if self.store.delete_group(&org.id, name, &event).await? {
            Ok(())
        } else {
            Err(CoreError::not_found("group"))
        }
    }

    /// Idempotent: adding an existing member succeeds and changes nothing.
    pub async fn add_group_member(
        &self,
        actor: &Actor,
        slug: &str,
        group: &str,
        user_id: &str,
    ) -> CoreResult<()> {
        let org = self.authorize_org(actor, slug).await?;
        let event = self.event(
            actor,
            Some(&org.id),
            "group.member_added",
            group,
            serde_json::json!({ "user_id": user_id }),
        );
        match self
            .store
            .add_group_member(&org.id, group, user_id, self.now(), &event)
            .await
        {
            Ok(_) => Ok(()),
            Err(StoreError::NotFound) => Err(self.missing_group_or_user(&org.id, group).await),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn remove_group_member(
        &self,
        actor: &Actor,
        slug: &str,
        group: &str,
        user_id: &str,
    ) -> CoreResult<()> {
        let org = self.authorize_org(actor, slug).await?;
        let event = self.event(
            actor,
            Some(&org.id),
            "group.member_removed",
            group,
            serde_json::json!({ "user_id": user_id }),
        );
        match self
            .store
            .remove_group_member(&org.id, group, user_id, &event)
            .await
        {
            Ok(true) => Ok(()),
            Ok(false) => match self.store.get_user(&org.id, user_id).await? {
                Some(_) => Err(CoreError::not_found("membership")),
                None => Err(CoreError::not_found("user")),
            },
            Err(StoreError::NotFound) => Err(CoreError::not_found("group")),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn list_group_members(
        &self,
        actor: &Actor,
        slug: &str,
        group: &str,
        page: &PageParams,
    ) -> CoreResult<Listing<UserView>> {
        let org = self.authorize_org(actor, slug).await?;
        let request = page.request()?;
        if self.store.get_group(&org.id, group).await?.is_none() {
            return Err(CoreError::not_found("group"));
        }
        let found = self
            .store
            .list_group_members(&org.id, group, request)
            .await?;
        Ok(Listing::from_page(found.map(UserView::from)))
    }

    async fn missing_group_or_user(&self, org_id: &str, group: &str) -> CoreError {
        match self.store.get_group(org_id, group).await {
            Ok(Some(_)) => CoreError::not_found("user"),
            Ok(None) => CoreError::not_found("group"),
            Err(e) => e.into(),
        }
    }
}
