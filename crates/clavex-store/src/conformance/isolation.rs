//! Tenant isolation: names are unique per org only, and no call made with one org's id ever
//! finds, changes or deletes another org's row.

use std::sync::Arc;

use super::support::*;
use crate::{
    AuthRequestRecord, CodeRedemption, EventFilter, SessionRecord, Store, User, normalize_login,
};

/// The same username, email, client_id and group name can exist in two orgs, each its own row.
pub async fn same_names_in_two_orgs_succeed(store: Arc<dyn Store>) {
    let s = &*store;
    let a = new_org(s, "twin-a").await;
    let b = new_org(s, "twin-b").await;
    let mut rows = Vec::new();
    for org in [&a, &b] {
        let user = user_record(&org.id, "Alice", "Alice@Example.org");
        s.create_user(&user, &event(&org.id, "user.created", &user.id))
            .await
            .unwrap();
        let (client, secret) = new_client(s, &org.id, "grafana").await;
        let group = new_group(s, &org.id, "admins").await;
        add_member(s, &org.id, "admins", &user.id).await;
        rows.push((user, client, secret, group));
    }
    for (org, (user, client, secret, group)) in [&a, &b].into_iter().zip(&rows) {
        assert_eq!(
            s.get_user(&org.id, &user.id).await.unwrap().as_ref(),
            Some(user)
        );
        assert_eq!(
            s.find_user_by_login(&org.id, "alice")
                .await
                .unwrap()
                .as_ref(),
            Some(user)
        );
        assert_eq!(
            s.find_user_by_login(&org.id, "alice@example.org")
                .await
                .unwrap()
                .as_ref(),
            Some(user)
        );
        assert_eq!(
            s.get_client(&org.id, "grafana").await.unwrap().as_ref(),
            Some(client)
        );
        assert_eq!(
            s.client_secrets(&org.id, "grafana", NOW).await.unwrap(),
            vec![secret.clone()]
        );
        assert_eq!(
            s.get_group(&org.id, "admins").await.unwrap().as_ref(),
            Some(group)
        );
        assert_eq!(
            s.list_group_members(&org.id, "admins", ALL)
                .await
                .unwrap()
                .items,
            vec![user.clone()]
        );
    }
    assert_ne!(rows[0].0.id, rows[1].0.id);
}

/// Clients of org A cannot be read, listed, updated, deleted or rotated through org B.
pub async fn clients_of_another_org_are_untouchable(store: Arc<dyn Store>) {
    let s = &*store;
    let a = new_org(s, "clients-a").await;
    let b = new_org(s, "clients-b").await;
    let (client, secret) = new_client(s, &a.id, "grafana").await;

    assert_eq!(s.get_client(&b.id, "grafana").await.unwrap(), None);
    assert_eq!(s.list_clients(&b.id, ALL).await.unwrap().items, vec![]);
    assert_eq!(
        s.client_secrets(&b.id, "grafana", NOW).await.unwrap(),
        vec![]
    );
    let hijack = crate::Client {
        org_id: b.id.clone(),
        client_name: "hijacked".to_string(),
        ..client.clone()
    };
    expect_not_found(
        s.update_client(&hijack, &event(&b.id, "client.updated", "grafana"))
            .await,
    );
    assert!(
        !s.delete_client(&b.id, "grafana", &event(&b.id, "client.deleted", "grafana"))
            .await
            .unwrap()
    );
    expect_not_found(
        s.rotate_client_secret(
            &b.id,
            "grafana",
            &secret_record(NOW + 1),
            NOW + 1,
            &event(&b.id, "client.secret_rotated", "grafana"),
        )
        .await,
    );

    assert_eq!(s.get_client(&a.id, "grafana").await.unwrap(), Some(client));
    assert_eq!(
        s.client_secrets(&a.id, "grafana", NOW + 2).await.unwrap(),
        vec![secret]
    );
    assert_eq!(
        events_where(s, &b.id, EventFilter::default()).await.len(),
        1,
        "org B holds only its own creation event"
    );
}

/// Users of org A cannot be read, found, listed, updated or deleted through org B.
pub async fn users_of_another_org_are_untouchable(store: Arc<dyn Store>) {
    let s = &*store;
    let a = new_org(s, "users-a").await;
    let b = new_org(s, "users-b").await;
    let user = new_user(s, &a.id, "rita").await;
    new_group(s, &a.id, "admins").await;
    add_member(s, &a.id, "admins", &user.id).await;

    assert_eq!(s.get_user(&b.id, &user.id).await.unwrap(), None);
    assert_eq!(
        s.find_user_by_login(&b.id, &normalize_login(&user.username))
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        s.find_user_by_login(&b.id, &normalize_login(&user.email))
            .await
            .unwrap(),
        None
    );
    assert_eq!(s.list_users(&b.id, None, ALL).await.unwrap().items, vec![]);
    assert_eq!(
        s.list_users(&b.id, Some("rita"), ALL).await.unwrap().items,
        vec![]
    );
    assert_eq!(
        s.user_group_names(&b.id, &user.id).await.unwrap(),
        Vec::<String>::new()
    );
    let hijack = User {
        org_id: b.id.clone(),
        disabled: true,
        ..user.clone()
    };
    expect_not_found(
        s.update_user(&hijack, &event(&b.id, "user.updated", &user.id))
            .await,
    );
    assert!(
        !s.delete_user(&b.id, &user.id, &event(&b.id, "user.deleted", &user.id))
            .await
            .unwrap()
    );

    assert_eq!(
        s.get_user(&a.id, &user.id).await.unwrap(),
        Some(user.clone())
    );
    assert_eq!(
        s.user_group_names(&a.id, &user.id).await.unwrap(),
        vec!["admins".to_string()]
    );
    assert_eq!(
        events_where(s, &b.id, EventFilter::default()).await.len(),
        1
    );
}

/// Groups and memberships of org A cannot be read, listed, deleted or changed through org B,
/// even when org B has a group of the same name.
pub async fn groups_of_another_org_are_untouchable(store: Arc<dyn Store>) {
    let s = &*store;
    let a = new_org(s, "groups-a").await;
    let b = new_org(s, "groups-b").await;
    let user = new_user(s, &a.id, "sam").await;
    let group = new_group(s, &a.id, "admins").await;
    new_group(s, &a.id, "a-only").await;
    add_member(s, &a.id, "admins", &user.id).await;
    add_member(s, &a.id, "a-only", &user.id).await;
    let b_admins = new_group(s, &b.id, "admins").await;

    assert_eq!(s.get_group(&b.id, "a-only").await.unwrap(), None);
    assert_eq!(
        s.get_group(&b.id, "admins").await.unwrap(),
        Some(b_admins.clone())
    );
    assert_eq!(
        s.list_groups(&b.id, ALL).await.unwrap().items,
        vec![b_admins]
    );
    assert_eq!(
        s.list_group_members(&b.id, "admins", ALL)
            .await
            .unwrap()
            .items,
        vec![]
    );
    assert_eq!(
        s.list_group_members(&b.id, "a-only", ALL)
            .await
            .unwrap()
            .items,
        vec![]
    );
    assert!(
        !s.delete_group(&b.id, "a-only", &event(&b.id, "group.deleted", "a-only"))
            .await
            .unwrap()
    );
    // Removing A's member through B's same-named group (or B's missing group) removes nothing.
    let through_twin = s
        .remove_group_member(
            &b.id,
            "admins",
            &user.id,
            &event(&b.id, "group.member_removed", "admins"),
        )
        .await;
    assert!(matches!(through_twin, Ok(false)), "got {through_twin:?}");
    let through_missing = s
        .remove_group_member(
            &b.id,
            "a-only",
            &user.id,
            &event(&b.id, "group.member_removed", "a-only"),
        )
        .await;
    assert!(
        matches!(
            through_missing,
            Ok(false) | Err(crate::StoreError::NotFound)
        ),
        "got {through_missing:?}"
    );
    expect_not_found(
        s.add_group_member(
            &b.id,
            "admins",
            &user.id,
            NOW,
            &event(&b.id, "group.member_added", "admins"),
        )
        .await,
    );

    assert_eq!(s.get_group(&a.id, "admins").await.unwrap(), Some(group));
    assert_eq!(
        s.list_group_members(&a.id, "admins", ALL)
            .await
            .unwrap()
            .items,
        vec![user.clone()]
    );
    assert_eq!(
        s.user_group_names(&a.id, &user.id).await.unwrap(),
        vec!["a-only".to_string(), "admins".to_string()]
    );
    assert_eq!(
        events_where(s, &b.id, EventFilter::default()).await.len(),
        2,
        "org B holds only its creation and its group's creation"
    );
}

/// Rotating org B's key leaves org A's keys alone; org A's events are not listed under org B,
/// whatever the filter.
pub async fn keys_and_events_of_another_org_are_untouchable(store: Arc<dyn Store>) {
    let s = &*store;
    let a = new_org(s, "keys-a").await;
    let b = new_org(s, "keys-b").await;
    let a_keys = s.list_signing_keys(&a.id, NOW).await.unwrap();
    assert_eq!(a_keys.len(), 1);
    let b_next = key_record(&b.id, NOW + 10);
    s.rotate_signing_key(&b_next, NOW + 20, &event(&b.id, "key.rotated", "k"))
        .await
        .unwrap();
    assert_eq!(s.list_signing_keys(&a.id, NOW + 30).await.unwrap(), a_keys);
    let b_keys = s.list_signing_keys(&b.id, NOW + 30).await.unwrap();
    assert_eq!(b_keys, vec![b_next]);

    let a_event = event(&a.id, "user.signin_failed", "shared-target");
    s.append_event(&a_event).await.unwrap();
    let by_target = EventFilter {
        target: Some("shared-target".to_string()),
        ..EventFilter::default()
    };
    assert_eq!(events_where(s, &b.id, by_target.clone()).await, vec![]);
    assert_eq!(events_where(s, &a.id, by_target).await, vec![a_event]);
}

/// Grants, refresh tokens, sessions and pending requests of org A are not reached through org B.
pub async fn grants_and_sessions_of_another_org_are_untouchable(store: Arc<dyn Store>) {
    let s = &*store;
    let a = new_org(s, "grants-a").await;
    let b = new_org(s, "grants-b").await;
    let user = new_user(s, &a.id, "tess").await;
    let (client, _) = new_client(s, &a.id, "grafana").await;
    let code = code_for(&a.id, &client.client_id, &user.id);
    s.create_code(&code).await.unwrap();
    let grant = grant_for(&a.id, &client.client_id, &user.id);
    let redeemed = s
        .redeem_code(
            &code.code_hash,
            NOW,
            &grant,
            Some(&refresh_for(&grant.id)),
            &event(&a.id, "code.replayed", "grafana"),
        )
        .await
        .unwrap();
    assert_eq!(redeemed, CodeRedemption::Redeemed);

    assert_eq!(s.get_grant(&b.id, &grant.id).await.unwrap(), None);
    assert!(
        !s.revoke_grant(
            &b.id,
            &grant.id,
            NOW + 1,
            &event(&b.id, "grant.revoked", "g")
        )
        .await
        .unwrap()
    );
    assert_eq!(s.get_grant(&a.id, &grant.id).await.unwrap(), Some(grant));

    let request = AuthRequestRecord {
        id_hash: unique("request"),
        org_id: a.id.clone(),
        params: serde_json::json!({ "scope": "openid" }),
        created_at: NOW,
        expires_at: NOW + 600,
    };
    s.create_auth_request(&request).await.unwrap();
    assert_eq!(
        s.get_auth_request(&b.id, &request.id_hash, NOW)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        s.get_auth_request(&a.id, &request.id_hash, NOW)
            .await
            .unwrap(),
        Some(request)
    );

    let session = SessionRecord {
        id_hash: unique("session"),
        sid: unique("sid"),
        org_id: a.id.clone(),
        user_id: user.id.clone(),
        auth_time: NOW,
        created_at: NOW,
        expires_at: NOW + 3600,
    };
    s.create_session(&session, &event(&a.id, "user.signed_in", &user.id))
        .await
        .unwrap();
    assert_eq!(
        s.get_session(&b.id, &session.id_hash, NOW).await.unwrap(),
        None
    );
    assert!(
        !s.delete_session(&b.id, &session.sid, &event(&b.id, "session.ended", "s"))
            .await
            .unwrap()
    );
    assert_eq!(
        s.get_session(&a.id, &session.id_hash, NOW).await.unwrap(),
        Some(session)
    );
    assert_eq!(
        events_where(s, &b.id, EventFilter::default()).await.len(),
        1
    );
}
