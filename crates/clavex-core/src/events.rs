//! The audit trail: building events for changes, and reading them back with filters.

use clavex_store::{Event, EventFilter};
use serde::Serialize;
use utoipa::ToSchema;

use crate::{
    Actor, Core, CoreResult,
    pagination::{Listing, PageParams},
    views::rfc3339,
};

impl Core {
    /// An event for a change `actor` makes now; the store writes it with the change.
    pub fn event(
        &self,
        actor: &Actor,
        org_id: Option<&str>,
        kind: &str,
        target: &str,
        details: serde_json::Value,
    ) -> Event {
        self.event_as(
            &actor.label,
            actor.source_ip.clone(),
            org_id,
            kind,
            target,
            details,
        )
    }

    /// An event by someone who is not an administrator: `user:<id>` signing in or out, or
    /// `client:<id>` revoking a token.
    pub fn event_as(
        &self,
        label: &str,
        source_ip: Option<String>,
        org_id: Option<&str>,
        kind: &str,
        target: &str,
        details: serde_json::Value,
    ) -> Event {
        Event {
            id: crate::new_id(),
            org_id: org_id.map(str::to_string),
            time: self.now(),
            kind: kind.to_string(),
            actor: label.to_string(),
            target: target.to_string(),
            outcome: "success".to_string(),
            source_ip,
            details,
        }
    }

    pub async fn list_events(
        &self,
        actor: &Actor,
        slug: &str,
        filter: &EventFilter,
        page: &PageParams,
    ) -> CoreResult<Listing<EventView>> {
        let org = self.authorize_org(actor, slug).await?;
        let found = self
            .store
            .list_events(&org.id, filter, page.request()?)
            .await?;
        Ok(Listing::from_page(found.map(EventView::from)))
    }

    /// The whole installation's trail, including events of deleted orgs and of no org (admin
    /// tokens, console accounts): superadmins only.
    pub async fn list_all_events(
        &self,
        actor: &Actor,
        filter: &EventFilter,
        page: &PageParams,
    ) -> CoreResult<Listing<EventView>> {
        actor.require_superadmin()?;
        let found = self.store.list_all_events(filter, page.request()?).await?;
        Ok(Listing::from_page(found.map(EventView::from)))
    }
}

/// An audit event as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventView {
    pub id: String,
    /// RFC 3339 UTC.
    pub time: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// The org the event belongs to; `null` for installation-wide events.
    pub org_id: Option<String>,
    pub actor: String,
    pub target: String,
    pub outcome: String,
    pub source_ip: Option<String>,
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

impl From<Event> for EventView {
    fn from(e: Event) -> Self {
        EventView {
            id: e.id,
            time: rfc3339(e.time),
            kind: e.kind,
            org_id: e.org_id,
            actor: e.actor,
            target: e.target,
            outcome: e.outcome,
            source_ip: e.source_ip,
            details: e.details,
        }
    }
}
