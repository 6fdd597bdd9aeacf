//! OAuth clients and the rotation of their secrets.

use std::sync::Arc;

use super::support::*;
use crate::{Client, ClientSecret, CodeRecord, CodeRedemption, GrantRecord, Store};

/// Sorts secrets by hash: the contract does not order `client_secrets`.
fn sorted(mut secrets: Vec<ClientSecret>) -> Vec<ClientSecret> {
    secrets.sort_by(|a, b| a.secret_hash.cmp(&b.secret_hash));
    secrets
}

/// A confidential client (with lists of several entries) and a public one (empty lists, no
/// secret) read back field for field.
pub async fn client_round_trip(store: Arc<dyn Store>) {
    let s = &*store;
    let org = new_org(s, "clients").await;
    let (confidential, secret) = new_client(s, &org.id, "grafana").await;
    let public = Client {
        redirect_uris: vec![],
        post_logout_redirect_uris: vec![],
        scopes: vec!["openid".to_string()],
        grant_types: vec!["client_credentials".to_string()],
        token_endpoint_auth_method: "none".to_string(),
        ..client_record(&org.id, "spa")
    };
    let created = event(&org.id, "client.created", "spa");
    s.create_client(&public, None, &created).await.unwrap();

    assert_eq!(
        s.get_client(&org.id, "grafana").await.unwrap(),
        Some(confidential.clone())
    );
    assert_eq!(
        s.get_client(&org.id, "spa").await.unwrap(),
        Some(public.clone())
    );
    assert_eq!(
        s.list_clients(&org.id, ALL).await.unwrap().items,
        vec![confidential, public]
    );
    assert_eq!(
        s.client_secrets(&org.id, "grafana", NOW).await.unwrap(),
        vec![secret]
    );
    assert_eq!(s.client_secrets(&org.id, "spa", NOW).await.unwrap(), vec![]);
    assert_event_recorded(s, &created).await;
}

pub async fn client_missing_lookups_are_none(store: Arc<dyn Store>) {
    let s = &*store;
    let org = new_org(s, "no-clients").await;
    assert_eq!(s.get_client(&org.id, "nobody").await.unwrap(), None);
    assert_eq!(s.list_clients(&org.id, ALL).await.unwrap().items, vec![]);
    assert_eq!(
        s.client_secrets(&org.id, "nobody", NOW).await.unwrap(),
        vec![]
    );
    let deleted = event(&org.id, "client.deleted", "nobody");
    assert!(!s.delete_client(&org.id, "nobody", &deleted).await.unwrap());
    assert_event_absent(s, &org.id, &deleted.id).await;
}

/// `client_id` is unique within an org.
pub async fn client_id_conflict_within_org(store: Arc<dyn Store>) {
    let s = &*store;
    let org = new_org(s, "client-ids").await;
    let (first, secret) = new_client(s, &org.id, "grafana").await;
    let second = Client {
        client_name: "Impostor".to_string(),
        ..client_record(&org.id, "grafana")
    };
    let failed = event(&org.id, "client.created", "grafana");
    expect_conflict(
        s.create_client(&second, Some(&secret_record(NOW)), &failed)
            .await,
        "client_id",
    );
    assert_eq!(s.get_client(&org.id, "grafana").await.unwrap(), Some(first));
    assert_eq!(
        s.client_secrets(&org.id, "grafana", NOW).await.unwrap(),
        vec![secret],
        "the loser's secret is not attached to the winner"
    );
    assert_event_absent(s, &org.id, &failed.id).await;
}

/// `update_client` replaces every mutable field.
pub async fn client_update_round_trip(store: Arc<dyn Store>) {
    let s = &*store;
    let org = new_org(s, "client-update").await;
    let (client, secret) = new_client(s, &org.id, "grafana").await;
    let changed = Client {
        client_name: "Grafana (prod)".to_string(),
        grant_types: vec!["client_credentials".to_string()],
        redirect_uris: vec![],
        post_logout_redirect_uris: vec![
            "https://a.example.org/bye".to_string(),
            "https://b.example.org/bye".to_string(),
        ],
        scopes: vec!["openid".to_string(), "groups".to_string()],
        token_endpoint_auth_method: "client_secret_post".to_string(),
        updated_at: NOW + 500,
        ..client.clone()
    };
    let updated = event(&org.id, "client.updated", "grafana");
    s.update_client(&changed, &updated).await.unwrap();
    assert_eq!(
        s.get_client(&org.id, "grafana").await.unwrap(),
        Some(changed.clone())
    );
    assert_eq!(
        s.list_clients(&org.id, ALL).await.unwrap().items,
        vec![changed]
    );
    assert_eq!(
        s.client_secrets(&org.id, "grafana", NOW).await.unwrap(),
        vec![secret],
        "an update leaves the secrets alone"
    );
    assert_event_recorded(s, &updated).await;
}

pub async fn client_update_missing_is_not_found(store: Arc<dyn Store>) {
    let s = &*store;
    let org = new_org(s, "client-update-missing").await;
    let ghost = client_record(&org.id, "ghost");
    let updated = event(&org.id, "client.updated", "ghost");
    expect_not_found(s.update_client(&ghost, &updated).await);
    assert_eq!(s.get_client(&org.id, "ghost").await.unwrap(), None);
    assert_event_absent(s, &org.id, &updated.id).await;
}

/// `delete_client` answers whether it existed and takes the secrets with it; the client_id is
/// free again afterwards.
pub async fn client_delete_removes_client_and_secrets(store: Arc<dyn Store>) {
    let s = &*store;
    let org = new_org(s, "client-delete").await;
    let (_, _) = new_client(s, &org.id, "grafana").await;
    let (other, other_secret) = new_client(s, &org.id, "other").await;
    let deleted = event(&org.id, "client.deleted", "grafana");
    assert!(s.delete_client(&org.id, "grafana", &deleted).await.unwrap());
    assert_eq!(s.get_client(&org.id, "grafana").await.unwrap(), None);
    assert_eq!(
        s.client_secrets(&org.id, "grafana", NOW).await.unwrap(),
        vec![]
    );
    assert_eq!(
        s.list_clients(&org.id, ALL).await.unwrap().items,
        vec![other]
    );
    assert_eq!(
        s.client_secrets(&org.id, "other", NOW).await.unwrap(),
        vec![other_secret]
    );
    assert_event_recorded(s, &deleted).await;
    assert!(
        !s.delete_client(
            &org.id,
            "grafana",
            &event(&org.id, "client.deleted", "grafana")
        )
        .await
        .unwrap()
    );

    // A new client under the old client_id starts without the old secrets.
    let (_, fresh_secret) = new_client(s, &org.id, "grafana").await;
    assert_eq!(
        s.client_secrets(&org.id, "grafana", NOW).await.unwrap(),
        vec![fresh_secret]
    );
}

/// What `client_delete_revokes_grants_and_drops_codes` issues under one client.
struct IssuedUnder {
    pending: CodeRecord,
    /// A grant from a redeemed code and a client_credentials grant, both live.
    live: Vec<GrantRecord>,
    /// A grant revoked before the client is deleted.
    revoked: GrantRecord,
}

async fn issue_under(s: &dyn Store, org_id: &str, client_id: &str) -> IssuedUnder {
    let user = new_user(s, org_id, &unique("u")).await;
    new_client(s, org_id, client_id).await;
    let pending = code_for(org_id, client_id, &user.id);
    s.create_code(&pending).await.unwrap();
    let redeemed = code_for(org_id, client_id, &user.id);
    s.create_code(&redeemed).await.unwrap();
    let from_code = grant_for(org_id, client_id, &user.id);
    let outcome = s
        .redeem_code(
            &redeemed.code_hash,
            NOW,
            &from_code,
            Some(&refresh_for(&from_code.id)),
            &event(org_id, "code.replayed", client_id),
        )
        .await
        .unwrap();
    assert_eq!(outcome, CodeRedemption::Redeemed);
    let machine = GrantRecord {
        user_id: None,
        auth_time: None,
        sid: None,
        nonce: None,
        ..grant_for(org_id, client_id, "unused")
    };
    s.create_grant(&machine).await.unwrap();
    let revoked = grant_for(org_id, client_id, &user.id);
    s.create_grant(&revoked).await.unwrap();
    let revoke = event(org_id, "grant.revoked", &revoked.id);
    assert!(
        s.revoke_grant(org_id, &revoked.id, NOW + 1, &revoke)
            .await
            .unwrap()
    );
    IssuedUnder {
        pending,
        live: vec![from_code, machine],
        revoked: GrantRecord {
            revoked_at: Some(NOW + 1),
            ..revoked
        },
    }
}

/// Deleting a client revokes its grants and drops its pending codes, in its org only; a grant
/// revoked before stays as it was, and other clients' rows (also the same client_id in another
/// org) are untouched.
pub async fn client_delete_revokes_grants_and_drops_codes(store: Arc<dyn Store>) {
    let s = &*store;
    let org = new_org(s, "client-delete-grants").await;
    let twin = new_org(s, "client-delete-grants-twin").await;
    let doomed = issue_under(s, &org.id, "grafana").await;
    let sibling = issue_under(s, &org.id, "other").await;
    let twin_issued = issue_under(s, &twin.id, "grafana").await;

    let deleted = crate::Event {
        time: NOW + 50,
        ..event(&org.id, "client.deleted", "grafana")
    };
    assert!(s.delete_client(&org.id, "grafana", &deleted).await.unwrap());
    assert_event_recorded(s, &deleted).await;

    assert_eq!(
        s.get_code(&doomed.pending.code_hash).await.unwrap(),
        None,
        "the pending code is dropped"
    );
    for grant in &doomed.live {
        // Revoked (or gone): never still live.
        if let Some(found) = s.get_grant(&org.id, &grant.id).await.unwrap() {
            assert!(found.revoked_at.is_some(), "grant {} is revoked", grant.id);
            assert_eq!(
                GrantRecord {
                    revoked_at: None,
                    ..found
                },
                *grant
            );
        }
    }
    assert_eq!(
        s.get_grant(&org.id, &doomed.revoked.id).await.unwrap(),
        Some(doomed.revoked.clone()),
        "an earlier revocation keeps its time"
    );
    for (org_id, issued) in [(&org.id, &sibling), (&twin.id, &twin_issued)] {
        assert_eq!(
            s.get_code(&issued.pending.code_hash).await.unwrap(),
            Some(issued.pending.clone())
        );
        for grant in issued.live.iter().chain([&issued.revoked]) {
            assert_eq!(
                s.get_grant(org_id, &grant.id).await.unwrap(),
                Some(grant.clone())
            );
        }
    }
}

/// With a grace period both secrets authenticate until it ends, then only the new one.
pub async fn client_secret_rotation_with_grace(store: Arc<dyn Store>) {
    let s = &*store;
    let org = new_org(s, "grace").await;
    let (_, old) = new_client(s, &org.id, "grafana").await;
    let now = NOW + 1000;
    let new = secret_record(now);
    let rotated = event(&org.id, "client.secret_rotated", "grafana");
    s.rotate_client_secret(&org.id, "grafana", &new, now + 60, &rotated)
        .await
        .unwrap();

    let old_in_grace = ClientSecret {
        expires_at: Some(now + 60),
        ..old.clone()
    };
    assert_eq!(
        sorted(s.client_secrets(&org.id, "grafana", now).await.unwrap()),
        sorted(vec![new.clone(), old_in_grace.clone()])
    );
    assert_eq!(
        sorted(
            s.client_secrets(&org.id, "grafana", now + 59)
                .await
                .unwrap()
        ),
        sorted(vec![new.clone(), old_in_grace])
    );
    assert_eq!(
        s.client_secrets(&org.id, "grafana", now + 61)
            .await
            .unwrap(),
        vec![new]
    );
    assert_event_recorded(s, &rotated).await;
}

/// Without a grace period (the old secret expires now) only the new secret is valid.
pub async fn client_secret_rotation_without_grace(store: Arc<dyn Store>) {
    let s = &*store;
    let org = new_org(s, "no-grace").await;
    let (_, _old) = new_client(s, &org.id, "grafana").await;
    let now = NOW + 1000;
    let new = secret_record(now);
    s.rotate_client_secret(
        &org.id,
        "grafana",
        &new,
        now,
        &event(&org.id, "client.secret_rotated", "grafana"),
    )
    .await
    .unwrap();
    assert_eq!(
        s.client_secrets(&org.id, "grafana", now).await.unwrap(),
        vec![new]
    );
}

/// A second rotation within the grace of the first never extends the oldest secret's expiry
/// ("or earlier if it already did").
pub async fn client_secret_rotation_never_extends_an_earlier_expiry(store: Arc<dyn Store>) {
    let s = &*store;
    let org = new_org(s, "double-rotation").await;
    let (_, first) = new_client(s, &org.id, "grafana").await;
    let t1 = NOW + 1000;
    let second = secret_record(t1);
    s.rotate_client_secret(
        &org.id,
        "grafana",
        &second,
        t1 + 60,
        &event(&org.id, "client.secret_rotated", "grafana"),
    )
    .await
    .unwrap();
    let t2 = t1 + 10;
    let third = secret_record(t2);
    s.rotate_client_secret(
        &org.id,
        "grafana",
        &third,
        t2 + 300,
        &event(&org.id, "client.secret_rotated", "grafana"),
    )
    .await
    .unwrap();

    let first_expiring = ClientSecret {
        expires_at: Some(t1 + 60),
        ..first
    };
    let second_expiring = ClientSecret {
        expires_at: Some(t2 + 300),
        ..second
    };
    assert_eq!(
        sorted(s.client_secrets(&org.id, "grafana", t2).await.unwrap()),
        sorted(vec![first_expiring, second_expiring.clone(), third.clone()])
    );
    assert_eq!(
        sorted(s.client_secrets(&org.id, "grafana", t1 + 61).await.unwrap()),
        sorted(vec![second_expiring, third.clone()])
    );
    assert_eq!(
        s.client_secrets(&org.id, "grafana", t2 + 301)
            .await
            .unwrap(),
        vec![third]
    );
}

pub async fn client_secret_rotation_of_missing_client_is_not_found(store: Arc<dyn Store>) {
    let s = &*store;
    let org = new_org(s, "rotate-missing").await;
    let rotated = event(&org.id, "client.secret_rotated", "ghost");
    expect_not_found(
        s.rotate_client_secret(&org.id, "ghost", &secret_record(NOW), NOW, &rotated)
            .await,
    );
    assert_eq!(
        s.client_secrets(&org.id, "ghost", NOW).await.unwrap(),
        vec![]
    );
    assert_event_absent(s, &org.id, &rotated.id).await;
}
