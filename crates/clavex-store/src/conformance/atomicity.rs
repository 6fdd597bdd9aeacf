//! Each method is one transaction: a mutation that fails anywhere (on its own row, on a
//! dependent row, or on writing its audit event) leaves no trace.

use std::sync::Arc;

use super::support::*;
use crate::{ClientSecret, Event, EventFilter, SessionRecord, SigningKeyRecord, Store, User};

/// Uniqueness failures of every create write no row and no event: the org's trail holds exactly
/// the events of the creations that succeeded.
pub async fn failed_create_writes_no_event(store: Arc<dyn Store>) {
    let s = &*store;
    let org = org_record("atomic-create");
    let created = event(&org.id, "org.created", &org.slug);
    s.create_org(&org, &key_record(&org.id, NOW), &created)
        .await
        .unwrap();
    let o = org.id.as_str();
    let mut expected = vec![created];

    let user = user_record(o, "uma", "uma@example.org");
    let e = event(o, "user.created", &user.id);
    s.create_user(&user, &e).await.unwrap();
    expected.push(e);
    let client = client_record(o, "grafana");
    let e = event(o, "client.created", "grafana");
    s.create_client(&client, Some(&secret_record(NOW)), &e)
        .await
        .unwrap();
    expected.push(e);
    let e = event(o, "group.created", "admins");
    s.create_group(&group_record(o, "admins"), &e)
        .await
        .unwrap();
    expected.push(e);
    let token = admin_token_record(&unique("token"), Some(o));
    let e = event(o, "admin_token.created", &token.name);
    s.create_admin_token(&token, &e).await.unwrap();
    expected.push(e);

    // Each of these collides; its event names this org so that the trail below would show it.
    let dup_user = user_record(o, "UMA", "other@example.org");
    expect_conflict(
        s.create_user(&dup_user, &event(o, "user.created", &dup_user.id))
            .await,
        "username",
    );
    let dup_email = user_record(o, "other", "Uma@Example.org");
    expect_conflict(
        s.create_user(&dup_email, &event(o, "user.created", &dup_email.id))
            .await,
        "email",
    );
    expect_conflict(
        s.create_client(
            &client_record(o, "grafana"),
            Some(&secret_record(NOW)),
            &event(o, "client.created", "grafana"),
        )
        .await,
        "client_id",
    );
    expect_conflict(
        s.create_group(
            &group_record(o, "admins"),
            &event(o, "group.created", "admins"),
        )
        .await,
        "name",
    );
    let dup_token = admin_token_record(&token.name, None);
    expect_conflict(
        s.create_admin_token(&dup_token, &event(o, "admin_token.created", &token.name))
            .await,
        "name",
    );
    let dup_org = crate::Org {
        slug: org.slug.clone(),
        ..org_record("dup")
    };
    expect_conflict(
        s.create_org(
            &dup_org,
            &key_record(&dup_org.id, NOW),
            &event(o, "org.created", &dup_org.slug),
        )
        .await,
        "slug",
    );

    assert_eq!(events_where(s, o, EventFilter::default()).await, expected);
    assert_eq!(s.get_user(o, &dup_user.id).await.unwrap(), None);
    assert_eq!(s.get_user(o, &dup_email.id).await.unwrap(), None);
    assert_eq!(
        s.find_admin_token_by_hash(&dup_token.token_hash)
            .await
            .unwrap(),
        None
    );
    assert_eq!(s.get_org(&dup_org.id).await.unwrap(), None);
    assert!(
        s.list_signing_keys(&dup_org.id, NOW)
            .await
            .unwrap()
            .is_empty()
    );
}

/// An update that collides changes none of the fields it carried, not only the colliding one.
pub async fn failed_update_changes_nothing(store: Arc<dyn Store>) {
    let s = &*store;
    let org = new_org(s, "atomic-update").await;
    let victor = new_user(s, &org.id, "victor").await;
    let wendy = new_user(s, &org.id, "wendy").await;
    let everything = User {
        username: "Victor2".to_string(),
        name: "Changed".to_string(),
        email: wendy.email.to_uppercase(),
        email_verified: false,
        given_name: None,
        family_name: None,
        password_hash: None,
        disabled: true,
        updated_at: NOW + 900,
        ..victor.clone()
    };
    let failed = event(&org.id, "user.updated", &victor.id);
    expect_conflict(s.update_user(&everything, &failed).await, "email");
    assert_eq!(s.get_user(&org.id, &victor.id).await.unwrap(), Some(victor));
    assert_eq!(
        s.find_user_by_login(&org.id, "victor2").await.unwrap(),
        None
    );
    assert_event_absent(s, &org.id, &failed.id).await;
}

/// When a mutation's audit event cannot be written (here: its id is already taken), the whole
/// mutation is rolled back.
pub async fn mutation_whose_event_fails_is_rolled_back(store: Arc<dyn Store>) {
    let s = &*store;
    let org = new_org(s, "atomic-event").await;
    let o = org.id.as_str();
    let taken = event(o, "taken", "taken");
    s.append_event(&taken).await.unwrap();
    // An event that cannot be inserted: same id as one already in the trail.
    let bad = |kind: &str| Event {
        kind: kind.to_string(),
        ..taken.clone()
    };

    // Rows to act on.
    let user = new_user(s, o, "xena").await;
    let (client, secret) = new_client(s, o, "grafana").await;
    new_group(s, o, "admins").await;
    new_group(s, o, "editors").await;
    add_member(s, o, "admins", &user.id).await;
    let keys = s.list_signing_keys(o, NOW).await.unwrap();
    let grant = grant_for(o, "grafana", &user.id);
    s.create_grant(&grant).await.unwrap();
    let session = SessionRecord {
        id_hash: unique("session"),
        sid: unique("sid"),
        org_id: o.to_string(),
        user_id: user.id.clone(),
        auth_time: NOW,
        created_at: NOW,
        expires_at: NOW + 3600,
    };
    s.create_session(&session, &event(o, "user.signed_in", &user.id))
        .await
        .unwrap();
    let trail = events_where(s, o, EventFilter::default()).await;

    // Orgs.
    let new = org_record("never");
    assert!(
        s.create_org(&new, &key_record(&new.id, NOW), &bad("org.created"))
            .await
            .is_err()
    );
    assert_eq!(s.get_org(&new.id).await.unwrap(), None);
    assert_eq!(s.get_org_by_slug(&new.slug).await.unwrap(), None);
    assert!(s.list_signing_keys(&new.id, NOW).await.unwrap().is_empty());
    let renamed = crate::Org {
        name: "renamed".to_string(),
        ..org.clone()
    };
    assert!(s.update_org(&renamed, &bad("org.updated")).await.is_err());
    assert!(s.delete_org(o, &bad("org.deleted")).await.is_err());
    assert_eq!(s.get_org(o).await.unwrap(), Some(org.clone()));

    // Admin tokens.
    let token = admin_token_record(&unique("token"), Some(o));
    assert!(
        s.create_admin_token(&token, &bad("admin_token.created"))
            .await
            .is_err()
    );
    let boot = admin_token_record(&unique("boot"), None);
    assert!(
        s.ensure_admin_token(&boot, &bad("admin_token.bootstrapped"))
            .await
            .is_err()
    );
    for hash in [&token.token_hash, &boot.token_hash] {
        assert_eq!(s.find_admin_token_by_hash(hash).await.unwrap(), None);
    }

    // Clients.
    let other = client_record(o, "other");
    assert!(
        s.create_client(&other, Some(&secret_record(NOW)), &bad("client.created"))
            .await
            .is_err()
    );
    assert_eq!(s.get_client(o, "other").await.unwrap(), None);
    assert_eq!(s.client_secrets(o, "other", NOW).await.unwrap(), vec![]);
    let renamed = crate::Client {
        client_name: "renamed".to_string(),
        ..client.clone()
    };
    assert!(
        s.update_client(&renamed, &bad("client.updated"))
            .await
            .is_err()
    );
    assert!(
        s.rotate_client_secret(
            o,
            "grafana",
            &secret_record(NOW + 1),
            NOW + 1,
            &bad("rotated")
        )
        .await
        .is_err()
    );
    assert!(
        s.delete_client(o, "grafana", &bad("client.deleted"))
            .await
            .is_err()
    );
    assert_eq!(s.get_client(o, "grafana").await.unwrap(), Some(client));
    let secrets: Vec<ClientSecret> = s.client_secrets(o, "grafana", NOW + 2).await.unwrap();
    assert_eq!(secrets, vec![secret], "neither rotated nor expired");

    // Users.
    let newcomer = user_record(o, "yuri", "yuri@example.org");
    assert!(
        s.create_user(&newcomer, &bad("user.created"))
            .await
            .is_err()
    );
    assert_eq!(s.get_user(o, &newcomer.id).await.unwrap(), None);
    assert_eq!(s.find_user_by_login(o, "yuri").await.unwrap(), None);
    let renamed = User {
        username: "renamed".to_string(),
        ..user.clone()
    };
    assert!(s.update_user(&renamed, &bad("user.updated")).await.is_err());
    assert!(
        s.delete_user(o, &user.id, &bad("user.deleted"))
            .await
            .is_err()
    );
    assert_eq!(s.get_user(o, &user.id).await.unwrap(), Some(user.clone()));

    // Groups and memberships.
    assert!(
        s.create_group(&group_record(o, "viewers"), &bad("group.created"))
            .await
            .is_err()
    );
    assert_eq!(s.get_group(o, "viewers").await.unwrap(), None);
    assert!(
        s.delete_group(o, "admins", &bad("group.deleted"))
            .await
            .is_err()
    );
    assert!(
        s.add_group_member(o, "editors", &user.id, NOW, &bad("group.member_added"))
            .await
            .is_err()
    );
    assert!(
        s.remove_group_member(o, "admins", &user.id, &bad("group.member_removed"))
            .await
            .is_err()
    );
    assert_eq!(
        s.user_group_names(o, &user.id).await.unwrap(),
        vec!["admins".to_string()]
    );

    // Keys.
    let next: SigningKeyRecord = key_record(o, NOW + 10);
    assert!(
        s.rotate_signing_key(&next, NOW + 100, &bad("key.rotated"))
            .await
            .is_err()
    );
    assert_eq!(s.list_signing_keys(o, NOW).await.unwrap(), keys);

    // Grants and sessions.
    assert!(
        s.revoke_grant(o, &grant.id, NOW + 1, &bad("grant.revoked"))
            .await
            .is_err()
    );
    assert_eq!(s.get_grant(o, &grant.id).await.unwrap(), Some(grant));
    let other_session = SessionRecord {
        id_hash: unique("session"),
        sid: unique("sid"),
        ..session.clone()
    };
    assert!(
        s.create_session(&other_session, &bad("user.signed_in"))
            .await
            .is_err()
    );
    assert_eq!(
        s.get_session(o, &other_session.id_hash, NOW).await.unwrap(),
        None
    );
    assert!(
        s.delete_session(o, &session.sid, &bad("session.ended"))
            .await
            .is_err()
    );
    assert_eq!(
        s.get_session(o, &session.id_hash, NOW).await.unwrap(),
        Some(session)
    );

    assert_eq!(
        events_where(s, o, EventFilter::default()).await,
        trail,
        "no failed mutation left an event"
    );
}

/// `create_org` stores the org and its first key together: when the key cannot be stored, the
/// org is not stored either.
pub async fn create_org_whose_key_fails_is_rolled_back(store: Arc<dyn Store>) {
    let s = &*store;
    let existing = org_record("existing");
    let existing_key = key_record(&existing.id, NOW);
    s.create_org(
        &existing,
        &existing_key,
        &event(&existing.id, "org.created", &existing.slug),
    )
    .await
    .unwrap();

    // A key that collides with the existing org's key (same org and kid).
    let org = org_record("half");
    let created = event(&org.id, "org.created", &org.slug);
    let result = s.create_org(&org, &existing_key, &created).await;
    assert!(result.is_err(), "got {result:?}");
    assert_eq!(s.get_org(&org.id).await.unwrap(), None);
    assert_eq!(s.get_org_by_slug(&org.slug).await.unwrap(), None);
    assert_event_absent(s, &org.id, &created.id).await;
    assert_eq!(
        s.list_signing_keys(&existing.id, NOW).await.unwrap(),
        vec![existing_key]
    );
}
