//! Fixtures and checks shared by the cases: records with every field set, unique names, and
//! helpers that read back through the trait.

use std::{
    collections::hash_map::RandomState,
    hash::{BuildHasher, Hasher},
    sync::{
        OnceLock,
        atomic::{AtomicU64, Ordering},
    },
};

use serde_json::json;

use crate::{
    AdminToken, Client, ClientSecret, CodeRecord, Event, EventFilter, GrantRecord, Group, Org,
    PageRequest, RefreshTokenRecord, SigningKeyRecord, Store, StoreError, User, contract::Result,
};

/// "Now" for every case: the store never reads a clock, so any fixed time will do.
pub(super) const NOW: i64 = 1_700_000_000;

/// Large enough to list everything a case creates in one page.
pub(super) const ALL: PageRequest = PageRequest {
    after: None,
    limit: 1000,
};

/// A name no other case (and no earlier run against the same store) uses: a per-process random
/// seed plus a counter. Lower-case hex and dashes, so it is also a valid slug.
pub(super) fn unique(prefix: &str) -> String {
    static SEED: OnceLock<u64> = OnceLock::new();
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let seed = *SEED.get_or_init(|| {
        let mut hasher = RandomState::new().build_hasher();
        hasher.write_u64(0x636c_6176_6578);
        hasher.finish()
    });
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}-{seed:016x}-{n}")
}

pub(super) fn org_record(prefix: &str) -> Org {
    Org {
        id: unique("org-id"),
        slug: unique(prefix),
        name: format!("Org {prefix} \u{e9}t\u{e9}"),
        signing_alg: "RS256".to_string(),
        created_at: NOW,
        updated_at: NOW + 1,
    }
}

pub(super) fn key_record(org_id: &str, created_at: i64) -> SigningKeyRecord {
    let kid = unique("kid");
    SigningKeyRecord {
        public_jwk: json!({
            "kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig",
            "n": "sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1Wl", "e": "AQAB",
        }),
        kid,
        org_id: org_id.to_string(),
        alg: "RS256".to_string(),
        private_sealed: format!("sealed:{}", unique("private")),
        created_at,
        active_from: created_at + 5,
        retired_at: None,
        expires_at: None,
    }
}

/// An event of `org_id` with every optional part filled in.
pub(super) fn event(org_id: &str, kind: &str, target: &str) -> Event {
    Event {
        id: unique("event"),
        org_id: Some(org_id.to_string()),
        time: NOW,
        kind: kind.to_string(),
        actor: "token:conformance".to_string(),
        target: target.to_string(),
        outcome: "success".to_string(),
        source_ip: Some("2001:db8::7".to_string()),
        details: json!({
            "target": target,
            "changes": { "name": ["old", "new \u{2603} \"quoted\""] },
            "count": 3,
            "ratio": 0.5,
            "ok": true,
            "none": null,
            "list": [1, "two", { "three": [] }],
        }),
    }
}

/// Creates an org (with its first key) and returns it.
pub(super) async fn new_org(store: &dyn Store, prefix: &str) -> Org {
    let org = org_record(prefix);
    let key = key_record(&org.id, NOW);
    store
        .create_org(&org, &key, &event(&org.id, "org.created", &org.slug))
        .await
        .expect("create_org");
    org
}

pub(super) fn user_record(org_id: &str, username: &str, email: &str) -> User {
    User {
        id: unique("user"),
        org_id: org_id.to_string(),
        username: username.to_string(),
        email: email.to_string(),
        email_verified: true,
        name: format!("Name of {username}"),
        given_name: Some("Given".to_string()),
        family_name: Some("Family".to_string()),
        password_hash: Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_string()),
        disabled: false,
        created_at: NOW,
        updated_at: NOW + 2,
    }
}

pub(super) async fn new_user(store: &dyn Store, org_id: &str, username: &str) -> User {
    let user = user_record(org_id, username, &format!("{username}@example.org"));
    store
        .create_user(&user, &event(org_id, "user.created", &user.id))
        .await
        .expect("create_user");
    user
}

pub(super) fn client_record(org_id: &str, client_id: &str) -> Client {
    Client {
        id: unique("client-pk"),
        org_id: org_id.to_string(),
        client_id: client_id.to_string(),
        client_name: format!("Client {client_id}"),
        grant_types: vec![
            "authorization_code".to_string(),
            "refresh_token".to_string(),
        ],
        redirect_uris: vec![
            "https://grafana.example.org/login/generic_oauth".to_string(),
            "http://127.0.0.1:3000/login/generic_oauth".to_string(),
        ],
        post_logout_redirect_uris: vec!["https://grafana.example.org/login".to_string()],
        scopes: vec![
            "openid".to_string(),
            "profile".to_string(),
            "email".to_string(),
            "groups".to_string(),
        ],
        token_endpoint_auth_method: "client_secret_basic".to_string(),
        created_at: NOW,
        updated_at: NOW + 3,
    }
}

pub(super) fn secret_record(created_at: i64) -> ClientSecret {
    ClientSecret {
        secret_hash: unique("secret-hash"),
        created_at,
        expires_at: None,
    }
}

/// Creates a confidential client with its first secret.
pub(super) async fn new_client(
    store: &dyn Store,
    org_id: &str,
    client_id: &str,
) -> (Client, ClientSecret) {
    let client = client_record(org_id, client_id);
    let secret = secret_record(NOW);
    store
        .create_client(
            &client,
            Some(&secret),
            &event(org_id, "client.created", client_id),
        )
        .await
        .expect("create_client");
    (client, secret)
}

pub(super) fn group_record(org_id: &str, name: &str) -> Group {
    Group {
        id: unique("group"),
        org_id: org_id.to_string(),
        name: name.to_string(),
        description: format!("The {name} group"),
        created_at: NOW,
    }
}

pub(super) async fn new_group(store: &dyn Store, org_id: &str, name: &str) -> Group {
    let group = group_record(org_id, name);
    store
        .create_group(&group, &event(org_id, "group.created", name))
        .await
        .expect("create_group");
    group
}

pub(super) async fn add_member(store: &dyn Store, org_id: &str, group: &str, user_id: &str) {
    let added = store
        .add_group_member(
            org_id,
            group,
            user_id,
            NOW,
            &event(org_id, "group.member_added", group),
        )
        .await
        .expect("add_group_member");
    assert!(added, "{user_id} was not yet a member of {group}");
}

pub(super) fn admin_token_record(name: &str, org_id: Option<&str>) -> AdminToken {
    AdminToken {
        id: unique("admin-token"),
        name: name.to_string(),
        org_id: org_id.map(str::to_string),
        token_hash: unique("token-hash"),
        created_at: NOW,
    }
}

/// Every event of the org that matches `filter`, in one page.
pub(super) async fn events_where(
    store: &dyn Store,
    org_id: &str,
    filter: EventFilter,
) -> Vec<Event> {
    let page = store
        .list_events(org_id, &filter, ALL)
        .await
        .expect("list_events");
    assert_eq!(
        page.next_after, None,
        "a page of {} holds every event",
        ALL.limit
    );
    page.items
}

/// Every event of the org of kind `kind`.
pub(super) async fn events_of_kind(store: &dyn Store, org_id: &str, kind: &str) -> Vec<Event> {
    events_where(
        store,
        org_id,
        EventFilter {
            kind: Some(kind.to_string()),
            ..EventFilter::default()
        },
    )
    .await
}

/// The event was stored exactly once, exactly as given.
pub(super) async fn assert_event_recorded(store: &dyn Store, event: &Event) {
    let org_id = event
        .org_id
        .as_deref()
        .expect("test events belong to an org");
    let found: Vec<Event> = events_where(store, org_id, EventFilter::default())
        .await
        .into_iter()
        .filter(|e| e.id == event.id)
        .collect();
    assert_eq!(
        found,
        vec![event.clone()],
        "event {} as written",
        event.kind
    );
}

/// The org has no event of this id.
pub(super) async fn assert_event_absent(store: &dyn Store, org_id: &str, event_id: &str) {
    let all = events_where(store, org_id, EventFilter::default()).await;
    assert!(
        all.iter().all(|e| e.id != event_id),
        "event {event_id} must not have been written"
    );
}

/// The result is exactly `Conflict { field }`.
pub(super) fn expect_conflict<T: std::fmt::Debug>(result: Result<T>, field: &str) {
    match result {
        Err(StoreError::Conflict { field: got }) => {
            assert_eq!(got, field, "Conflict names the colliding field");
        }
        other => panic!("expected Conflict {{ field: {field:?} }}, got {other:?}"),
    }
}

/// The result is exactly `NotFound`.
pub(super) fn expect_not_found<T: std::fmt::Debug>(result: Result<T>) {
    match result {
        Err(StoreError::NotFound) => {}
        other => panic!("expected NotFound, got {other:?}"),
    }
}

/// An unused authorization code with every optional part filled in.
pub(super) fn code_for(org_id: &str, client_id: &str, user_id: &str) -> CodeRecord {
    CodeRecord {
        code_hash: unique("code"),
        org_id: org_id.to_string(),
        client_id: client_id.to_string(),
        user_id: user_id.to_string(),
        redirect_uri: "https://grafana.example.org/login/generic_oauth".to_string(),
        scope: "openid profile email groups".to_string(),
        nonce: Some("n-0S6_WzA2Mj".to_string()),
        code_challenge: Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".to_string()),
        auth_time: NOW - 5,
        sid: unique("sid"),
        created_at: NOW,
        expires_at: NOW + 60,
        used_at: None,
        grant_id: None,
    }
}

/// A grant of a user (authorization code flow), not revoked.
pub(super) fn grant_for(org_id: &str, client_id: &str, user_id: &str) -> GrantRecord {
    GrantRecord {
        id: unique("grant"),
        org_id: org_id.to_string(),
        client_id: client_id.to_string(),
        user_id: Some(user_id.to_string()),
        scope: "openid profile email groups".to_string(),
        auth_time: Some(NOW - 5),
        sid: Some(unique("sid")),
        nonce: Some("n-0S6_WzA2Mj".to_string()),
        created_at: NOW,
        expires_at: NOW + 86_400,
        revoked_at: None,
    }
}

/// An unused refresh token under `grant_id`.
pub(super) fn refresh_for(grant_id: &str) -> RefreshTokenRecord {
    RefreshTokenRecord {
        token_hash: unique("refresh"),
        grant_id: grant_id.to_string(),
        scope: "openid profile".to_string(),
        created_at: NOW,
        expires_at: NOW + 86_400,
        used_at: None,
    }
}

/// Collects every page of a list, following `next_after` from the first page of `$limit` rows.
/// `$call` is an expression using `$page` (a `PageRequest`) that returns `Result<Page<_>>`.
macro_rules! collect_pages {
    ($limit:expr, |$page:ident| $call:expr) => {{
        let limit: u32 = $limit;
        let mut pages = Vec::new();
        let mut $page = $crate::PageRequest::first(limit);
        loop {
            let got = $call.await.expect("list a page");
            assert!(
                got.items.len() <= limit as usize,
                "a page holds at most its limit"
            );
            let next = got.next_after;
            pages.push(got);
            match next {
                Some(after) => {
                    $page = $crate::PageRequest {
                        after: Some(after),
                        limit,
                    }
                }
                None => break,
            }
            assert!(pages.len() <= 1000, "pagination never ends");
        }
        pages
    }};
}
