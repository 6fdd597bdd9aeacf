//! The audit trail: appended, filtered, never updated.

use async_trait::async_trait;
use sqlx::AssertSqlSafe;

use super::{INSERT_EVENT_SQL, SqlStore, event_args, fetch_limit, rows};
use crate::{Event, EventFilter, EventStore, Page, PageRequest, contract::Result};

#[async_trait]
impl EventStore for SqlStore {
    async fn append_event(&self, event: &Event) -> Result<()> {
        let _timer = self.timed("append_event");
        let details = event.details.to_string();
        self.write_one(INSERT_EVENT_SQL, &event_args(event, &details))
            .await?;
        Ok(())
    }

    async fn list_events(
        &self,
        org_id: &str,
        filter: &EventFilter,
        page: PageRequest,
    ) -> Result<Page<Event>> {
        let _timer = self.timed("list_events");
        self.select_events(Some(org_id), filter, page).await
    }

    async fn list_all_events(
        &self,
        filter: &EventFilter,
        page: PageRequest,
    ) -> Result<Page<Event>> {
        let _timer = self.timed("list_all_events");
        self.select_events(None, filter, page).await
    }
}

impl SqlStore {
    /// One org's events, or everyone's with `None`.
    async fn select_events(
        &self,
        org_id: Option<&str>,
        filter: &EventFilter,
        page: PageRequest,
    ) -> Result<Page<Event>> {
        // Empty strings and 0/i64::MAX stand for "no filter" so that each statement stays
        // static. The org condition is left out rather than made optional, so that the org's
        // index serves the org listing on PostgreSQL's generic plans too.
        let org_condition = if org_id.is_some() {
            "org_id = $1"
        } else {
            "$1 = ''"
        };
        let sql = format!(
            "SELECT {} FROM events WHERE {org_condition} AND seq > $2 \
             AND ($3 = '' OR kind = $3) AND ($4 = '' OR actor = $4) AND ($5 = '' OR target = $5) \
             AND time >= $6 AND time <= $7 ORDER BY seq LIMIT $8",
            rows::EVENT_COLUMNS
        );
        let found = sqlx::query(AssertSqlSafe(sql))
            .bind(org_id.unwrap_or(""))
            .bind(page.after.unwrap_or(0))
            .bind(filter.kind.clone().unwrap_or_default())
            .bind(filter.actor.clone().unwrap_or_default())
            .bind(filter.target.clone().unwrap_or_default())
            .bind(filter.since.unwrap_or(i64::MIN))
            .bind(filter.until.unwrap_or(i64::MAX))
            .bind(fetch_limit(page.limit))
            .fetch_all(&self.pool)
            .await?;
        let rows = found
            .iter()
            .map(|r| Ok((rows::seq(r)?, rows::event(r)?)))
            .collect::<Result<Vec<_>>>()?;
        Ok(Page::from_rows(rows, page.limit))
    }
}
