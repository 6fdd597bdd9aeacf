//! Organizations: round trips, slug uniqueness, updates, deletes and the cascade under an org.

use std::sync::Arc;

use super::support::*;
use crate::{
    AuthRequestRecord, CodeRecord, PageRequest, SessionRecord, Store, ThrottleState,
    normalize_login,
};

/// `create_org` stores the org and its first key as given; both read back field for field.
pub async fn org_create_get_list_round_trip(store: Arc<dyn Store>) {
    let s = &*store;
    let org = org_record("round-trip");
    let key = key_record(&org.id, NOW);
    let created = event(&org.id, "org.created", &org.slug);
    s.create_org(&org, &key, &created).await.unwrap();

    assert_eq!(s.get_org(&org.id).await.unwrap(), Some(org.clone()));
    assert_eq!(
        s.get_org_by_slug(&org.slug).await.unwrap(),
        Some(org.clone())
    );
    let listed = s.list_orgs(None, PageRequest::first(1000)).await.unwrap();
    assert_eq!(
        listed
            .items
            .iter()
            .filter(|o| o.id == org.id)
            .collect::<Vec<_>>(),
        vec![&org]
    );
    assert_eq!(s.list_signing_keys(&org.id, NOW).await.unwrap(), vec![key]);
    assert_event_recorded(s, &created).await;
}

/// Look-ups of rows that do not exist are `Ok(None)` (or empty), never an error.
pub async fn org_missing_lookups_are_none(store: Arc<dyn Store>) {
    let s = &*store;
    let missing = unique("missing");
    assert_eq!(s.get_org(&missing).await.unwrap(), None);
    assert_eq!(s.get_org_by_slug(&missing).await.unwrap(), None);
    assert_eq!(s.find_admin_token_by_hash(&missing).await.unwrap(), None);
    assert_eq!(
        s.list_orgs(Some(std::slice::from_ref(&missing)), PageRequest::first(10))
            .await
            .unwrap()
            .items,
        vec![]
    );
    assert!(s.list_signing_keys(&missing, NOW).await.unwrap().is_empty());
    assert_eq!(s.get_code(&missing).await.unwrap(), None);
    assert_eq!(s.get_refresh_token(&missing).await.unwrap(), None);
    assert_eq!(s.get_grant(&missing, &missing).await.unwrap(), None);
    assert_eq!(
        s.get_auth_request(&missing, &missing, NOW).await.unwrap(),
        None
    );
    assert_eq!(s.get_session(&missing, &missing, NOW).await.unwrap(), None);
    assert_eq!(s.get_throttle(&missing).await.unwrap(), None);
    assert!(!s.is_access_token_revoked(&missing).await.unwrap());
}

/// Two orgs cannot share a slug; the loser is not stored.
pub async fn org_slug_conflict(store: Arc<dyn Store>) {
    let s = &*store;
    let first = new_org(s, "slug").await;
    let mut second = org_record("other");
    second.slug = first.slug.clone();
    let key = key_record(&second.id, NOW);
    expect_conflict(
        s.create_org(
            &second,
            &key,
            &event(&second.id, "org.created", &second.slug),
        )
        .await,
        "slug",
    );
    assert_eq!(s.get_org(&second.id).await.unwrap(), None);
    assert_eq!(s.get_org_by_slug(&first.slug).await.unwrap(), Some(first));
    assert!(
        s.list_signing_keys(&second.id, NOW)
            .await
            .unwrap()
            .is_empty()
    );
}

/// `update_org` replaces name, signing_alg and updated_at, and nothing else (the slug is the
/// issuer path and never changes).
pub async fn org_update_replaces_only_mutable_fields(store: Arc<dyn Store>) {
    let s = &*store;
    let org = new_org(s, "update").await;
    let mut changed = org.clone();
    changed.name = "Renamed".to_string();
    changed.signing_alg = "ES256".to_string();
    changed.updated_at = NOW + 100;
    changed.slug = unique("new-slug");
    changed.created_at = NOW - 100;
    let updated = event(&org.id, "org.updated", &org.slug);
    s.update_org(&changed, &updated).await.unwrap();

    let expected = crate::Org {
        name: "Renamed".to_string(),
        signing_alg: "ES256".to_string(),
        updated_at: NOW + 100,
        ..org.clone()
    };
    assert_eq!(s.get_org(&org.id).await.unwrap(), Some(expected.clone()));
    assert_eq!(s.get_org_by_slug(&org.slug).await.unwrap(), Some(expected));
    assert_eq!(s.get_org_by_slug(&changed.slug).await.unwrap(), None);
    assert_event_recorded(s, &updated).await;
}

pub async fn org_update_missing_is_not_found(store: Arc<dyn Store>) {
    let s = &*store;
    let org = org_record("never-created");
    let updated = event(&org.id, "org.updated", &org.slug);
    expect_not_found(s.update_org(&org, &updated).await);
    assert_eq!(s.get_org(&org.id).await.unwrap(), None);
    assert_event_absent(s, &org.id, &updated.id).await;
}

/// `delete_org` answers whether the org existed; afterwards every look-up misses and the slug is
/// free again.
pub async fn org_delete_then_missing(store: Arc<dyn Store>) {
    let s = &*store;
    let org = new_org(s, "delete").await;
    let deleted = event(&org.id, "org.deleted", &org.slug);
    assert!(s.delete_org(&org.id, &deleted).await.unwrap());
    assert_eq!(s.get_org(&org.id).await.unwrap(), None);
    assert_eq!(s.get_org_by_slug(&org.slug).await.unwrap(), None);
    assert_event_recorded(s, &deleted).await;

    let again = event(&org.id, "org.deleted", &org.slug);
    assert!(!s.delete_org(&org.id, &again).await.unwrap());
    assert_event_absent(s, &org.id, &again.id).await;

    let mut reborn = org_record("reborn");
    reborn.slug = org.slug.clone();
    let key = key_record(&reborn.id, NOW);
    s.create_org(
        &reborn,
        &key,
        &event(&reborn.id, "org.created", &reborn.slug),
    )
    .await
    .unwrap();
    assert_eq!(s.get_org_by_slug(&org.slug).await.unwrap(), Some(reborn));
}

/// `list_orgs(Some(id))` lists that org only (or nothing for an unknown id).
pub async fn org_list_only_returns_that_org(store: Arc<dyn Store>) {
    let s = &*store;
    let a = new_org(s, "only-a").await;
    let b = new_org(s, "only-b").await;
    let c = new_org(s, "only-c").await;

    let only_b = s
        .list_orgs(Some(std::slice::from_ref(&b.id)), PageRequest::first(10))
        .await
        .unwrap();
    assert_eq!(only_b.items, vec![b.clone()]);
    assert_eq!(only_b.next_after, None);

    let unknown = unique("unknown");
    let none = s
        .list_orgs(Some(std::slice::from_ref(&unknown)), PageRequest::first(10))
        .await
        .unwrap();
    assert_eq!(none.items, vec![]);

    let ours: Vec<_> = s
        .list_orgs(None, PageRequest::first(1000))
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|o| [&a.id, &b.id, &c.id].contains(&&o.id))
        .collect();
    assert_eq!(ours, vec![a, b, c], "all orgs, oldest first");
}

/// Deleting an org removes its clients and their secrets, users, groups, memberships, keys,
/// org-scoped admin tokens, codes, grants, refresh tokens, sessions, pending requests and
/// throttling counters; another org and superadmin tokens stay untouched.
pub async fn org_delete_cascades_to_everything_under_it(store: Arc<dyn Store>) {
    let s = &*store;
    let doomed = new_org(s, "doomed").await;
    let kept = new_org(s, "kept").await;

    let mut seeded = Vec::new();
    for org in [&doomed, &kept] {
        let (client, secret) = new_client(s, &org.id, "grafana").await;
        let user = new_user(s, &org.id, "alice").await;
        new_group(s, &org.id, "admins").await;
        add_member(s, &org.id, "admins", &user.id).await;
        let next_key = key_record(&org.id, NOW + 10);
        s.rotate_signing_key(&next_key, NOW + 1000, &event(&org.id, "key.rotated", "k"))
            .await
            .unwrap();
        let token = admin_token_record(&unique("org-token"), Some(&org.id));
        s.create_admin_token(&token, &event(&org.id, "admin_token.created", &token.name))
            .await
            .unwrap();

        let code = code_for(&org.id, &client.client_id, &user.id);
        s.create_code(&code).await.unwrap();
        let grant = grant_for(&org.id, &client.client_id, &user.id);
        let refresh = refresh_for(&grant.id);
        let redeemed = s
            .redeem_code(
                &code.code_hash,
                NOW,
                &grant,
                Some(&refresh),
                &event(&org.id, "code.replayed", "c"),
            )
            .await
            .unwrap();
        assert_eq!(redeemed, crate::CodeRedemption::Redeemed);
        let request = AuthRequestRecord {
            id_hash: unique("request"),
            org_id: org.id.clone(),
            params: serde_json::json!({ "client_id": client.client_id }),
            created_at: NOW,
            expires_at: NOW + 600,
        };
        s.create_auth_request(&request).await.unwrap();
        let session = SessionRecord {
            id_hash: unique("session"),
            sid: unique("sid"),
            org_id: org.id.clone(),
            user_id: user.id.clone(),
            auth_time: NOW,
            created_at: NOW,
            expires_at: NOW + 3600,
        };
        s.create_session(&session, &event(&org.id, "user.signed_in", &user.id))
            .await
            .unwrap();
        let throttle_key = unique("throttle");
        let throttle = ThrottleState {
            failures: 2,
            window_start: NOW,
            locked_until: 0,
        };
        s.put_throttle(&throttle_key, &org.id, &throttle)
            .await
            .unwrap();
        seeded.push(Seeded {
            client,
            secret,
            user,
            token,
            code,
            grant,
            refresh,
            request,
            session,
            throttle_key,
        });
    }
    let superadmin = admin_token_record(&unique("super"), None);
    s.create_admin_token(
        &superadmin,
        &event(&kept.id, "admin_token.created", "super"),
    )
    .await
    .unwrap();

    let deleted = event(&doomed.id, "org.deleted", &doomed.slug);
    assert!(s.delete_org(&doomed.id, &deleted).await.unwrap());
    assert_event_recorded(s, &deleted).await;

    for (i, org) in [&doomed, &kept].into_iter().enumerate() {
        let gone = i == 0;
        let Seeded {
            client,
            secret,
            user,
            token,
            code,
            grant,
            refresh,
            request,
            session,
            throttle_key,
        } = &seeded[i];
        let present = |found: bool, what: &str| {
            assert_eq!(
                found, !gone,
                "{what} of org {} after deleting {}",
                org.slug, doomed.slug
            );
        };
        present(s.get_org(&org.id).await.unwrap().is_some(), "the org");
        present(
            s.get_client(&org.id, &client.client_id)
                .await
                .unwrap()
                .is_some(),
            "the client",
        );
        present(
            !s.list_clients(&org.id, ALL).await.unwrap().items.is_empty(),
            "the client list",
        );
        present(
            s.client_secrets(&org.id, &client.client_id, NOW)
                .await
                .unwrap()
                == vec![secret.clone()],
            "the client secret",
        );
        present(
            s.get_user(&org.id, &user.id).await.unwrap().is_some(),
            "the user",
        );
        present(
            s.find_user_by_login(&org.id, &normalize_login(&user.username))
                .await
                .unwrap()
                .is_some(),
            "the user by login",
        );
        present(
            !s.list_users(&org.id, None, ALL)
                .await
                .unwrap()
                .items
                .is_empty(),
            "the user list",
        );
        present(
            s.get_group(&org.id, "admins").await.unwrap().is_some(),
            "the group",
        );
        present(
            !s.list_groups(&org.id, ALL).await.unwrap().items.is_empty(),
            "the group list",
        );
        present(
            s.user_group_names(&org.id, &user.id).await.unwrap() == vec!["admins".to_string()],
            "the membership",
        );
        present(
            !s.list_group_members(&org.id, "admins", ALL)
                .await
                .unwrap()
                .items
                .is_empty(),
            "the member list",
        );
        present(
            s.list_signing_keys(&org.id, NOW).await.unwrap().len() == 2,
            "the signing keys",
        );
        present(
            s.find_admin_token_by_hash(&token.token_hash)
                .await
                .unwrap()
                .is_some(),
            "the org-scoped admin token",
        );
        present(
            s.get_code(&code.code_hash).await.unwrap().is_some(),
            "the code",
        );
        present(
            s.get_grant(&org.id, &grant.id).await.unwrap().is_some(),
            "the grant",
        );
        present(
            s.get_refresh_token(&refresh.token_hash)
                .await
                .unwrap()
                .is_some(),
            "the refresh token",
        );
        present(
            s.get_auth_request(&org.id, &request.id_hash, NOW)
                .await
                .unwrap()
                .is_some(),
            "the pending request",
        );
        present(
            s.get_session(&org.id, &session.id_hash, NOW)
                .await
                .unwrap()
                .is_some(),
            "the session",
        );
        present(
            s.get_throttle(throttle_key).await.unwrap().is_some(),
            "the throttle counter",
        );
    }
    assert_eq!(
        s.find_admin_token_by_hash(&superadmin.token_hash)
            .await
            .unwrap(),
        Some(superadmin),
        "superadmin tokens belong to no org and survive"
    );

    // Nothing of the old org lingers under the reused names.
    let mut reborn = org_record("reborn");
    reborn.slug = doomed.slug.clone();
    s.create_org(
        &reborn,
        &key_record(&reborn.id, NOW),
        &event(&reborn.id, "org.created", "r"),
    )
    .await
    .unwrap();
    assert!(
        s.list_users(&reborn.id, None, ALL)
            .await
            .unwrap()
            .items
            .is_empty()
    );
}

/// What `org_delete_cascades_to_everything_under_it` puts under each org.
struct Seeded {
    client: crate::Client,
    secret: crate::ClientSecret,
    user: crate::User,
    token: crate::AdminToken,
    code: CodeRecord,
    grant: crate::GrantRecord,
    refresh: crate::RefreshTokenRecord,
    request: AuthRequestRecord,
    session: SessionRecord,
    throttle_key: String,
}

/// `ping` succeeds on a live store.
pub async fn ping_answers(store: Arc<dyn Store>) {
    store.ping().await.unwrap();
}
