//! Admin API tokens: found by hash only, unique by name, and the idempotent bootstrap token.

use std::sync::Arc;

use super::support::*;
use crate::Store;

/// Both kinds of token (superadmin and org-scoped) read back as written.
pub async fn admin_token_round_trip(store: Arc<dyn Store>) {
    let s = &*store;
    let org = new_org(s, "tokens").await;
    let superadmin = admin_token_record(&unique("super"), None);
    let scoped = admin_token_record(&unique("scoped"), Some(&org.id));
    let created_super = event(&org.id, "admin_token.created", &superadmin.name);
    let created_scoped = event(&org.id, "admin_token.created", &scoped.name);
    s.create_admin_token(&superadmin, &created_super)
        .await
        .unwrap();
    s.create_admin_token(&scoped, &created_scoped)
        .await
        .unwrap();

    assert_eq!(
        s.find_admin_token_by_hash(&superadmin.token_hash)
            .await
            .unwrap(),
        Some(superadmin)
    );
    assert_eq!(
        s.find_admin_token_by_hash(&scoped.token_hash)
            .await
            .unwrap(),
        Some(scoped)
    );
    assert_eq!(
        s.find_admin_token_by_hash(&unique("other-hash"))
            .await
            .unwrap(),
        None
    );
    assert_event_recorded(s, &created_super).await;
    assert_event_recorded(s, &created_scoped).await;
}

/// Token names are unique across the installation.
pub async fn admin_token_name_conflict(store: Arc<dyn Store>) {
    let s = &*store;
    let org = new_org(s, "token-names").await;
    let first = admin_token_record(&unique("ci"), None);
    s.create_admin_token(&first, &event(&org.id, "admin_token.created", &first.name))
        .await
        .unwrap();
    let second = admin_token_record(&first.name, Some(&org.id));
    let failed = event(&org.id, "admin_token.created", &second.name);
    expect_conflict(s.create_admin_token(&second, &failed).await, "name");
    assert_eq!(
        s.find_admin_token_by_hash(&second.token_hash)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        s.find_admin_token_by_hash(&first.token_hash).await.unwrap(),
        Some(first)
    );
    assert_event_absent(s, &org.id, &failed.id).await;
}

/// `ensure_admin_token` creates the superadmin token once, changes nothing (and writes no event)
/// when called again with the same value, and replaces the hash (and drops any org scope) when the
/// value changes.
pub async fn ensure_admin_token_is_idempotent_and_replaces_hash(store: Arc<dyn Store>) {
    let s = &*store;
    let org = new_org(s, "bootstrap").await;
    let kind = "admin_token.bootstrapped";
    let name = unique("bootstrap");
    let token = admin_token_record(&name, None);

    assert!(
        s.ensure_admin_token(&token, &event(&org.id, kind, &name))
            .await
            .unwrap()
    );
    assert_eq!(
        s.find_admin_token_by_hash(&token.token_hash).await.unwrap(),
        Some(token.clone())
    );
    assert_eq!(events_of_kind(s, &org.id, kind).await.len(), 1);

    // Same value again (a restart): nothing changes, no event.
    let restart = crate::AdminToken {
        id: unique("admin-token"),
        created_at: NOW + 50,
        ..token.clone()
    };
    assert!(
        !s.ensure_admin_token(&restart, &event(&org.id, kind, &name))
            .await
            .unwrap()
    );
    assert_eq!(
        s.find_admin_token_by_hash(&token.token_hash).await.unwrap(),
        Some(token.clone()),
        "the token row is left as it was"
    );
    assert_eq!(events_of_kind(s, &org.id, kind).await.len(), 1);

    // A new value replaces the hash under the same name.
    let replaced = crate::AdminToken {
        token_hash: unique("token-hash"),
        ..token.clone()
    };
    assert!(
        s.ensure_admin_token(&replaced, &event(&org.id, kind, &name))
            .await
            .unwrap()
    );
    assert_eq!(
        s.find_admin_token_by_hash(&token.token_hash).await.unwrap(),
        None
    );
    let found = s
        .find_admin_token_by_hash(&replaced.token_hash)
        .await
        .unwrap()
        .expect("the new hash authenticates");
    assert_eq!((found.name.as_str(), found.org_id), (name.as_str(), None));
    assert_eq!(events_of_kind(s, &org.id, kind).await.len(), 2);

    // A token of that name scoped to an org becomes the superadmin token.
    let scoped_name = unique("was-scoped");
    let scoped = admin_token_record(&scoped_name, Some(&org.id));
    s.create_admin_token(
        &scoped,
        &event(&org.id, "admin_token.created", &scoped_name),
    )
    .await
    .unwrap();
    let promote = crate::AdminToken {
        org_id: None,
        ..scoped.clone()
    };
    assert!(
        s.ensure_admin_token(&promote, &event(&org.id, kind, &scoped_name))
            .await
            .unwrap()
    );
    let found = s
        .find_admin_token_by_hash(&scoped.token_hash)
        .await
        .unwrap()
        .expect("same hash still authenticates");
    assert_eq!(found.org_id, None, "ensure_admin_token makes a superadmin");
}
