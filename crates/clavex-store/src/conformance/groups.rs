//! Groups and memberships.

use std::sync::Arc;

use super::support::*;
use crate::{Group, Store};

/// Groups (with and without a description) read back field for field.
pub async fn group_round_trip(store: Arc<dyn Store>) {
    let s = &*store;
    let org = new_org(s, "groups").await;
    let admins = group_record(&org.id, "grafana-admins");
    let bare = Group {
        description: String::new(),
        created_at: NOW + 9,
        ..group_record(&org.id, "Editors Team")
    };
    let created = event(&org.id, "group.created", &admins.name);
    s.create_group(&admins, &created).await.unwrap();
    s.create_group(&bare, &event(&org.id, "group.created", &bare.name))
        .await
        .unwrap();

    assert_eq!(
        s.get_group(&org.id, "grafana-admins").await.unwrap(),
        Some(admins.clone())
    );
    assert_eq!(
        s.get_group(&org.id, "Editors Team").await.unwrap(),
        Some(bare.clone())
    );
    assert_eq!(s.get_group(&org.id, "missing").await.unwrap(), None);
    assert_eq!(
        s.list_groups(&org.id, ALL).await.unwrap().items,
        vec![admins, bare]
    );
    assert_event_recorded(s, &created).await;
}

/// Group names are unique within an org.
pub async fn group_name_conflict_within_org(store: Arc<dyn Store>) {
    let s = &*store;
    let org = new_org(s, "group-names").await;
    let first = new_group(s, &org.id, "admins").await;
    let second = Group {
        description: "impostor".to_string(),
        ..group_record(&org.id, "admins")
    };
    let failed = event(&org.id, "group.created", "admins");
    expect_conflict(s.create_group(&second, &failed).await, "name");
    assert_eq!(
        s.get_group(&org.id, "admins").await.unwrap(),
        Some(first.clone())
    );
    assert_eq!(
        s.list_groups(&org.id, ALL).await.unwrap().items,
        vec![first]
    );
    assert_event_absent(s, &org.id, &failed.id).await;
}

/// `delete_group` answers whether it existed and removes its memberships (the users stay); a
/// new group of the same name starts empty.
pub async fn group_delete_removes_group_and_memberships(store: Arc<dyn Store>) {
    let s = &*store;
    let org = new_org(s, "group-delete").await;
    let user = new_user(s, &org.id, "judy").await;
    new_group(s, &org.id, "admins").await;
    let editors = new_group(s, &org.id, "editors").await;
    add_member(s, &org.id, "admins", &user.id).await;
    add_member(s, &org.id, "editors", &user.id).await;

    let deleted = event(&org.id, "group.deleted", "admins");
    assert!(s.delete_group(&org.id, "admins", &deleted).await.unwrap());
    assert_event_recorded(s, &deleted).await;
    assert_eq!(s.get_group(&org.id, "admins").await.unwrap(), None);
    assert_eq!(
        s.list_groups(&org.id, ALL).await.unwrap().items,
        vec![editors]
    );
    assert_eq!(
        s.user_group_names(&org.id, &user.id).await.unwrap(),
        vec!["editors".to_string()]
    );
    assert_eq!(
        s.get_user(&org.id, &user.id).await.unwrap(),
        Some(user.clone()),
        "members outlive their group"
    );
    let again = event(&org.id, "group.deleted", "admins");
    assert!(!s.delete_group(&org.id, "admins", &again).await.unwrap());
    assert_event_absent(s, &org.id, &again.id).await;

    new_group(s, &org.id, "admins").await;
    assert_eq!(
        s.list_group_members(&org.id, "admins", ALL)
            .await
            .unwrap()
            .items,
        vec![]
    );
    assert_eq!(
        s.user_group_names(&org.id, &user.id).await.unwrap(),
        vec!["editors".to_string()]
    );
}

/// Members are added, listed (whole user records, in the order they joined) and removed;
/// removing a non-member is `Ok(false)` and writes no event.
pub async fn group_membership_add_remove_list(store: Arc<dyn Store>) {
    let s = &*store;
    let org = new_org(s, "members").await;
    // Created in one order, added in another: members list in the order they joined.
    let kate = new_user(s, &org.id, "kate").await;
    let leo = new_user(s, &org.id, "leo").await;
    let mia = new_user(s, &org.id, "mia").await;
    new_group(s, &org.id, "admins").await;

    let added = event(&org.id, "group.member_added", "admins");
    assert!(
        s.add_group_member(&org.id, "admins", &mia.id, NOW, &added)
            .await
            .unwrap()
    );
    assert_event_recorded(s, &added).await;
    add_member(s, &org.id, "admins", &kate.id).await;
    add_member(s, &org.id, "admins", &leo.id).await;
    assert_eq!(
        s.list_group_members(&org.id, "admins", ALL)
            .await
            .unwrap()
            .items,
        vec![mia.clone(), kate.clone(), leo.clone()]
    );

    let removed = event(&org.id, "group.member_removed", "admins");
    assert!(
        s.remove_group_member(&org.id, "admins", &kate.id, &removed)
            .await
            .unwrap()
    );
    assert_event_recorded(s, &removed).await;
    assert_eq!(
        s.list_group_members(&org.id, "admins", ALL)
            .await
            .unwrap()
            .items,
        vec![mia, leo]
    );
    assert_eq!(
        s.user_group_names(&org.id, &kate.id).await.unwrap(),
        Vec::<String>::new()
    );
    let again = event(&org.id, "group.member_removed", "admins");
    assert!(
        !s.remove_group_member(&org.id, "admins", &kate.id, &again)
            .await
            .unwrap()
    );
    assert_event_absent(s, &org.id, &again.id).await;
    assert_eq!(
        s.get_user(&org.id, &kate.id).await.unwrap(),
        Some(kate),
        "removing a member keeps the user"
    );
}

/// Adding an existing member is `Ok(false)` and writes no second event.
pub async fn group_membership_add_is_idempotent(store: Arc<dyn Store>) {
    let s = &*store;
    let org = new_org(s, "idempotent").await;
    let user = new_user(s, &org.id, "nina").await;
    new_group(s, &org.id, "admins").await;
    let kind = "group.member_added";
    assert!(
        s.add_group_member(
            &org.id,
            "admins",
            &user.id,
            NOW,
            &event(&org.id, kind, "admins")
        )
        .await
        .unwrap()
    );
    let second = event(&org.id, kind, "admins");
    assert!(
        !s.add_group_member(&org.id, "admins", &user.id, NOW + 1, &second)
            .await
            .unwrap()
    );
    assert_eq!(events_of_kind(s, &org.id, kind).await.len(), 1);
    assert_event_absent(s, &org.id, &second.id).await;
    assert_eq!(
        s.list_group_members(&org.id, "admins", ALL)
            .await
            .unwrap()
            .items,
        vec![user.clone()]
    );
    assert_eq!(
        s.user_group_names(&org.id, &user.id).await.unwrap(),
        vec!["admins".to_string()]
    );
}

/// A membership joins a group and a user of the same org only: anything else is `NotFound` and
/// leaves no trace.
pub async fn group_membership_across_orgs_is_not_found(store: Arc<dyn Store>) {
    let s = &*store;
    let a = new_org(s, "members-a").await;
    let b = new_org(s, "members-b").await;
    let user_a = new_user(s, &a.id, "olga").await;
    let user_b = new_user(s, &b.id, "olga").await;
    new_group(s, &a.id, "a-only").await;
    new_group(s, &b.id, "b-only").await;
    let kind = "group.member_added";

    // A user of org B into a group of org A, through either org id.
    expect_not_found(
        s.add_group_member(
            &a.id,
            "a-only",
            &user_b.id,
            NOW,
            &event(&a.id, kind, "a-only"),
        )
        .await,
    );
    expect_not_found(
        s.add_group_member(
            &b.id,
            "a-only",
            &user_b.id,
            NOW,
            &event(&b.id, kind, "a-only"),
        )
        .await,
    );
    // A group of org B through org A.
    expect_not_found(
        s.add_group_member(
            &a.id,
            "b-only",
            &user_a.id,
            NOW,
            &event(&a.id, kind, "b-only"),
        )
        .await,
    );
    // Missing group, missing user.
    expect_not_found(
        s.add_group_member(
            &a.id,
            "missing",
            &user_a.id,
            NOW,
            &event(&a.id, kind, "missing"),
        )
        .await,
    );
    expect_not_found(
        s.add_group_member(
            &a.id,
            "a-only",
            "missing-user",
            NOW,
            &event(&a.id, kind, "a-only"),
        )
        .await,
    );

    for (org, user, group) in [(&a, &user_a, "a-only"), (&b, &user_b, "b-only")] {
        assert_eq!(
            s.list_group_members(&org.id, group, ALL)
                .await
                .unwrap()
                .items,
            vec![]
        );
        assert_eq!(
            s.user_group_names(&org.id, &user.id).await.unwrap(),
            Vec::<String>::new()
        );
        assert_eq!(events_of_kind(s, &org.id, kind).await, vec![]);
    }
    assert_eq!(
        s.user_group_names(&a.id, &user_b.id).await.unwrap(),
        Vec::<String>::new()
    );
}

/// `user_group_names` lists exactly the user's groups, sorted by name (not by creation or
/// joining order).
pub async fn user_group_names_are_sorted(store: Arc<dyn Store>) {
    let s = &*store;
    let org = new_org(s, "group-names-sorted").await;
    let user = new_user(s, &org.id, "pat").await;
    for name in ["zeta", "alpha", "Mid", "beta", "not-mine"] {
        new_group(s, &org.id, name).await;
    }
    for name in ["beta", "zeta", "alpha", "Mid"] {
        add_member(s, &org.id, name, &user.id).await;
    }
    let mut expected = vec!["zeta", "alpha", "Mid", "beta"];
    expected.sort_unstable();
    assert_eq!(
        s.user_group_names(&org.id, &user.id).await.unwrap(),
        expected
    );
}
