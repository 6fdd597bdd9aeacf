//! The storage contract: every operation Clavex needs from a database.
//!
//! Rules every implementation keeps (the conformance suite checks them):
//! - Each method is one transaction: it happens whole or not at all. Mutations take the audit
//!   `Event` that records them and write it in that same transaction.
//! - Look-ups return `Ok(None)` for a missing row; a uniqueness violation is
//!   `StoreError::Conflict { field }`.
//! - Every call below the org level takes the org id, and a row of another org is never found,
//!   updated or deleted through it.
//! - Lists are ordered oldest first and paginated by `PageRequest`.
//! - Times are UTC unix seconds supplied by the caller; the store never reads a clock.

use async_trait::async_trait;

use crate::{
    AdminToken, AuthRequestRecord, Client, ClientSecret, CodeRecord, CodeRedemption, ConsoleRights,
    ConsoleSessionRecord, Event, EventFilter, GrantHolder, GrantRecord, Group, Org, OrgContents,
    Page, PageRequest, PurgeCounts, PurgeCutoffs, RefreshRotation, RefreshTokenRecord,
    SessionRecord, SigningKeyRecord, StoreError, ThrottleState, User,
};

pub type Result<T> = std::result::Result<T, StoreError>;

/// Everything Clavex stores, one area per trait so that each backend module implements one.
#[async_trait]
pub trait Store:
    OrgStore
    + AdminTokenStore
    + ClientStore
    + UserStore
    + GroupStore
    + KeyStore
    + EventStore
    + SignInStore
    + GrantStore
    + ConsoleStore
    + MaintenanceStore
{
    /// Succeeds when the database answers a trivial query.
    async fn ping(&self) -> Result<()>;
    /// The connection pool's state, for metrics; `None` for a store without one.
    fn pool_status(&self) -> Option<crate::PoolStatus> {
        None
    }
}

#[async_trait]
pub trait OrgStore: Send + Sync + 'static {
    /// Inserts the org together with its first signing key.
    async fn create_org(&self, org: &Org, key: &SigningKeyRecord, event: &Event) -> Result<()>;
    async fn get_org(&self, id: &str) -> Result<Option<Org>>;
    async fn get_org_by_slug(&self, slug: &str) -> Result<Option<Org>>;
    /// Lists tenant orgs (never the console org); with `only`, just those of these ids (for
    /// callers limited to some orgs).
    async fn list_orgs(&self, only: Option<&[String]>, page: PageRequest) -> Result<Page<Org>>;
    /// Replaces the mutable fields (name, signing_alg, updated_at). `NotFound` if it is gone.
    async fn update_org(&self, org: &Org, event: &Event) -> Result<()>;
    /// Deletes the org and everything under it. `Ok(false)` if it did not exist.
    async fn delete_org(&self, id: &str, event: &Event) -> Result<bool>;
    /// How many users, groups and clients the org holds (what deleting it would remove).
    async fn org_contents(&self, id: &str) -> Result<OrgContents>;
}

#[async_trait]
pub trait AdminTokenStore: Send + Sync + 'static {
    async fn create_admin_token(&self, token: &AdminToken, event: &Event) -> Result<()>;
    /// Makes a superadmin token named `token.name` exist with exactly this hash (bootstrap).
    /// Returns true when anything changed.
    async fn ensure_admin_token(&self, token: &AdminToken, event: &Event) -> Result<bool>;
    async fn find_admin_token_by_hash(&self, token_hash: &str) -> Result<Option<AdminToken>>;
    /// Every token, oldest first (an installation has few).
    async fn list_admin_tokens(&self) -> Result<Vec<AdminToken>>;
    /// Deletes the token named `name` with `event`, in one transaction; `false` when none has
    /// that name.
    async fn delete_admin_token(&self, name: &str, event: &Event) -> Result<bool>;
}

#[async_trait]
pub trait ClientStore: Send + Sync + 'static {
    /// Inserts a client and, for confidential clients, its first secret.
    async fn create_client(
        &self,
        client: &Client,
        secret: Option<&ClientSecret>,
        event: &Event,
    ) -> Result<()>;
    async fn get_client(&self, org_id: &str, client_id: &str) -> Result<Option<Client>>;
    async fn list_clients(&self, org_id: &str, page: PageRequest) -> Result<Page<Client>>;
    /// Replaces every mutable field of the client. `NotFound` if it is gone.
    async fn update_client(&self, client: &Client, event: &Event) -> Result<()>;
    /// Deletes the client with its secrets; revokes its grants and drops its pending codes.
    async fn delete_client(&self, org_id: &str, client_id: &str, event: &Event) -> Result<bool>;
    /// Adds `secret` as the current secret; every other secret of the client expires at
    /// `old_expires_at` (or earlier if it already did). `NotFound` if the client is gone.
    async fn rotate_client_secret(
        &self,
        org_id: &str,
        client_id: &str,
        secret: &ClientSecret,
        old_expires_at: i64,
        event: &Event,
    ) -> Result<()>;
    /// The secrets of a client that are still valid at `now`.
    async fn client_secrets(
        &self,
        org_id: &str,
        client_id: &str,
        now: i64,
    ) -> Result<Vec<ClientSecret>>;
}

#[async_trait]
pub trait UserStore: Send + Sync + 'static {
    async fn create_user(&self, user: &User, event: &Event) -> Result<()>;
    async fn get_user(&self, org_id: &str, id: &str) -> Result<Option<User>>;
    /// Finds a user by normalized username or email (see `normalize_login`).
    async fn find_user_by_login(&self, org_id: &str, login_norm: &str) -> Result<Option<User>>;
    /// Lists users; `search` matches a case-insensitive substring of username, email or name.
    async fn list_users(
        &self,
        org_id: &str,
        search: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<User>>;
    /// Replaces every mutable field of the user. `NotFound` if it is gone. When the password
    /// hash changes or the user becomes disabled, its SSO and console sessions end with it.
    async fn update_user(&self, user: &User, event: &Event) -> Result<()>;
    /// Deletes the user and its group memberships.
    async fn delete_user(&self, org_id: &str, id: &str, event: &Event) -> Result<bool>;
}

#[async_trait]
pub trait GroupStore: Send + Sync + 'static {
    async fn create_group(&self, group: &Group, event: &Event) -> Result<()>;
    async fn get_group(&self, org_id: &str, name: &str) -> Result<Option<Group>>;
    async fn list_groups(&self, org_id: &str, page: PageRequest) -> Result<Page<Group>>;
    /// Deletes the group and its memberships.
    async fn delete_group(&self, org_id: &str, name: &str, event: &Event) -> Result<bool>;
    /// Adds a member; `Ok(false)` when it already was one (no event is written then).
    /// `NotFound` when the group or the user is not in this org.
    async fn add_group_member(
        &self,
        org_id: &str,
        group_name: &str,
        user_id: &str,
        now: i64,
        event: &Event,
    ) -> Result<bool>;
    /// Removes a member; `Ok(false)` when it was not one.
    async fn remove_group_member(
        &self,
        org_id: &str,
        group_name: &str,
        user_id: &str,
        event: &Event,
    ) -> Result<bool>;
    async fn list_group_members(
        &self,
        org_id: &str,
        group_name: &str,
        page: PageRequest,
    ) -> Result<Page<User>>;
    /// Names of the user's groups, sorted.
    async fn user_group_names(&self, org_id: &str, user_id: &str) -> Result<Vec<String>>;
}

#[async_trait]
pub trait KeyStore: Send + Sync + 'static {
    /// Every key of the org that has not expired at `now`, newest first.
    async fn list_signing_keys(&self, org_id: &str, now: i64) -> Result<Vec<SigningKeyRecord>>;
    /// Inserts `key`; every other key that still signs is retired at `key.active_from` and
    /// expires at `old_expires_at`.
    async fn rotate_signing_key(
        &self,
        key: &SigningKeyRecord,
        old_expires_at: i64,
        event: &Event,
    ) -> Result<()>;
}

#[async_trait]
pub trait EventStore: Send + Sync + 'static {
    /// Records an event that is not part of another change (e.g. a failed sign-in).
    async fn append_event(&self, event: &Event) -> Result<()>;
    async fn list_events(
        &self,
        org_id: &str,
        filter: &EventFilter,
        page: PageRequest,
    ) -> Result<Page<Event>>;
    /// Every org's events and those of no org (admin tokens, console accounts), oldest first.
    async fn list_all_events(&self, filter: &EventFilter, page: PageRequest)
    -> Result<Page<Event>>;
}

/// Sign-in state: pending authorization requests, SSO sessions and throttling counters.
#[async_trait]
pub trait SignInStore: Send + Sync + 'static {
    async fn create_auth_request(&self, request: &AuthRequestRecord) -> Result<()>;
    /// The request if it exists in this org and has not expired at `now`.
    async fn get_auth_request(
        &self,
        org_id: &str,
        id_hash: &str,
        now: i64,
    ) -> Result<Option<AuthRequestRecord>>;
    /// Consumes a pending request; `Ok(false)` when it was already gone (used or expired).
    async fn delete_auth_request(&self, id_hash: &str) -> Result<bool>;

    /// Creates a session; `event` records the sign-in in the same transaction.
    async fn create_session(&self, session: &SessionRecord, event: &Event) -> Result<()>;
    /// The session if it exists in this org and has not expired at `now`.
    async fn get_session(
        &self,
        org_id: &str,
        id_hash: &str,
        now: i64,
    ) -> Result<Option<SessionRecord>>;
    /// Ends a session by its public id; returns whether one was ended.
    async fn delete_session(&self, org_id: &str, sid: &str, event: &Event) -> Result<bool>;

    async fn get_throttle(&self, key: &str) -> Result<Option<ThrottleState>>;
    async fn put_throttle(&self, key: &str, org_id: &str, state: &ThrottleState) -> Result<()>;
    /// Counts one failure atomically (a new window starts when the last began `window` seconds
    /// before `now` or earlier) and returns the counter after it.
    async fn bump_throttle(
        &self,
        key: &str,
        org_id: &str,
        now: i64,
        window: i64,
    ) -> Result<ThrottleState>;
    /// Locks until `until`, never shortening a lock already in place.
    async fn lock_throttle(&self, key: &str, until: i64) -> Result<()>;
    async fn clear_throttle(&self, key: &str) -> Result<()>;
}

/// Codes, grants and tokens. Redemption and rotation are decided by the database, so two nodes
/// racing on one code or one refresh token cannot both win.
#[async_trait]
pub trait GrantStore: Send + Sync + 'static {
    async fn create_code(&self, code: &CodeRecord) -> Result<()>;
    async fn get_code(&self, code_hash: &str) -> Result<Option<CodeRecord>>;
    /// Marks the code used and stores `grant` and `refresh` in one transaction. If the code was
    /// used before, revokes the grant issued from it instead (`Replayed`).
    async fn redeem_code(
        &self,
        code_hash: &str,
        now: i64,
        grant: &GrantRecord,
        refresh: Option<&RefreshTokenRecord>,
        event: &Event,
    ) -> Result<CodeRedemption>;
    /// Stores a grant without a code (client_credentials).
    async fn create_grant(&self, grant: &GrantRecord) -> Result<()>;
    async fn get_grant(&self, org_id: &str, id: &str) -> Result<Option<GrantRecord>>;
    /// Revokes a grant and with it every token issued under it.
    async fn revoke_grant(&self, org_id: &str, id: &str, now: i64, event: &Event) -> Result<bool>;

    async fn get_refresh_token(&self, token_hash: &str) -> Result<Option<RefreshTokenRecord>>;
    /// Uses `old_hash` and stores `next` in one transaction. A token used before `race_since`
    /// revokes its grant (`Reused`); one used at or after it lost a race (`Raced`) and changes
    /// nothing.
    async fn rotate_refresh_token(
        &self,
        old_hash: &str,
        now: i64,
        race_since: i64,
        next: &RefreshTokenRecord,
        event_on_reuse: &Event,
    ) -> Result<RefreshRotation>;

    /// Records a revoked access token with `event`, in one transaction; `false` (and no event)
    /// when it was revoked already.
    async fn revoke_access_token(
        &self,
        org_id: &str,
        jti: &str,
        expires_at: i64,
        event: &Event,
    ) -> Result<bool>;
    async fn is_access_token_revoked(&self, jti: &str) -> Result<bool>;
    /// In one query: whether `jti` was revoked, and the grant `grant_id` of `org_id` (when given
    /// and found) with its holder.
    async fn access_token_state(
        &self,
        org_id: &str,
        jti: &str,
        grant_id: Option<&str>,
    ) -> Result<(bool, Option<GrantHolder>)>;
    /// In one query: a refresh token and, when it belongs to a grant of `org_id`, that grant with
    /// its holder.
    async fn refresh_token_state(
        &self,
        org_id: &str,
        token_hash: &str,
    ) -> Result<Option<(RefreshTokenRecord, Option<GrantHolder>)>>;
}

/// Admin Console accounts (users of the console org), their rights and their sessions.
#[async_trait]
pub trait ConsoleStore: Send + Sync + 'static {
    /// Inserts a console account, its superadmin right when `superadmin`, and org-admin grants
    /// (org id with the event that records each), all in one transaction. `NotFound` (and
    /// nothing written) if one of the orgs is gone.
    async fn create_console_account(
        &self,
        user: &User,
        superadmin: bool,
        grants: &[(String, Event)],
        event: &Event,
    ) -> Result<()>;
    /// Gives or takes the superadmin right. Returns whether anything changed; `event` is written
    /// only then. `NotFound` if the user is gone.
    async fn set_superadmin(
        &self,
        user_id: &str,
        superadmin: bool,
        now: i64,
        event: &Event,
    ) -> Result<bool>;
    /// Grants org-admin rights on `org_id`; `Ok(false)` (and no event) when already held.
    /// `NotFound` if the user or the org is gone.
    async fn grant_org_admin(
        &self,
        user_id: &str,
        org_id: &str,
        now: i64,
        event: &Event,
    ) -> Result<bool>;
    /// Removes that grant; `Ok(false)` (and no event) when it was not held.
    async fn revoke_org_admin(&self, user_id: &str, org_id: &str, event: &Event) -> Result<bool>;
    async fn console_rights(&self, user_id: &str) -> Result<ConsoleRights>;
    /// Ids of the accounts that administer `org_id`, oldest grant first.
    async fn list_org_admins(&self, org_id: &str) -> Result<Vec<String>>;

    async fn create_console_session(&self, session: &ConsoleSessionRecord) -> Result<()>;
    /// The session if it exists and has not expired at `now`.
    async fn get_console_session(
        &self,
        id_hash: &str,
        now: i64,
    ) -> Result<Option<ConsoleSessionRecord>>;
    /// Returns whether a session was ended.
    async fn delete_console_session(&self, id_hash: &str) -> Result<bool>;
}

/// Background clean-up of rows nothing can use any more.
#[async_trait]
pub trait MaintenanceStore: Send + Sync + 'static {
    /// Deletes what expired before `cutoffs`, at most `batch` rows per statement, so that no
    /// statement holds locks for long. Unlike every other method this is many short transactions:
    /// each deletes only rows no request can use, so stopping half-way loses nothing and running
    /// it on several nodes at once is harmless.
    async fn purge_expired(&self, cutoffs: &PurgeCutoffs, batch: u32) -> Result<PurgeCounts>;
}
