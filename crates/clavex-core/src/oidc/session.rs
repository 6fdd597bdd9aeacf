//! SSO sessions: the cookie holds a random value, the database its hash. A session is valid only
//! for its org, until it expires, and while its user exists and is enabled.

use clavex_crypto::secret;
use clavex_store::{Org, SessionRecord, User};

use crate::{Core, CoreResult};

/// A live session with its user.
#[derive(Debug, Clone)]
pub struct ActiveSession {
    pub record: SessionRecord,
    pub user: User,
}

/// A session just created: `cookie_value` goes to the browser and nowhere else.
pub struct NewSession {
    pub cookie_value: String,
    pub record: SessionRecord,
}

impl Core {
    pub async fn session_from_cookie(
        &self,
        org: &Org,
        cookie_value: Option<&str>,
    ) -> CoreResult<Option<ActiveSession>> {
        let Some(value) = cookie_value.filter(|v| !v.is_empty() && v.len() <= 128) else {
            return Ok(None);
        };
        let now = self.now();
        let Some(record) = self
            .store
            .get_session(&org.id, &secret::hash_token(value), now)
            .await?
        else {
            return Ok(None);
        };
        let user = self
            .store
            .get_user(&org.id, &record.user_id)
            .await?
            .filter(|u| !u.disabled);
        Ok(user.map(|user| ActiveSession { record, user }))
    }

    /// Starts a fresh session (never reusing an earlier cookie value, so a planted cookie cannot
    /// be promoted to a signed-in one).
    pub async fn start_session(
        &self,
        org: &Org,
        user: &User,
        source_ip: Option<String>,
    ) -> CoreResult<NewSession> {
        let now = self.now();
        let cookie_value = secret::generate_token("");
        let record = SessionRecord {
            id_hash: secret::hash_token(&cookie_value),
            sid: crate::new_id(),
            org_id: org.id.clone(),
            user_id: user.id.clone(),
            auth_time: now,
            created_at: now,
            expires_at: now + self.settings.session_ttl_seconds,
        };
        let event = self.event_as(
            &format!("user:{}", user.id),
            source_ip,
            Some(&org.id),
            "signin.succeeded",
            &user.id,
            serde_json::json!({ "username": user.username }),
        );
        self.store.create_session(&record, &event).await?;
        Ok(NewSession {
            cookie_value,
            record,
        })
    }
}
