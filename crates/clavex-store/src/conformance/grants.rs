//! Authorization codes, grants, refresh tokens and revoked access tokens: single use is decided
//! by the store, and a replay revokes the whole grant.

use std::sync::Arc;

use super::support::*;
use crate::{CodeRecord, CodeRedemption, GrantRecord, RefreshRotation, RefreshTokenRecord, Store};

/// A code (with and without its optional parts) reads back as created, unused.
pub async fn code_round_trip(store: Arc<dyn Store>) {
    let s = &*store;
    let org = new_org(s, "codes").await;
    let user = new_user(s, &org.id, "bea").await;
    let full = code_for(&org.id, "grafana", &user.id);
    let bare = CodeRecord {
        nonce: None,
        code_challenge: None,
        ..code_for(&org.id, "grafana", &user.id)
    };
    s.create_code(&full).await.unwrap();
    s.create_code(&bare).await.unwrap();
    assert_eq!(s.get_code(&full.code_hash).await.unwrap(), Some(full));
    assert_eq!(s.get_code(&bare.code_hash).await.unwrap(), Some(bare));
    assert_eq!(s.get_code(&unique("code")).await.unwrap(), None);
}

/// The first redemption stores the grant and refresh token and marks the code used; a second one
/// is `Replayed`, revokes that grant and writes the replay event; an unknown code is `NotFound`.
pub async fn code_redeem_then_replay_revokes_grant(store: Arc<dyn Store>) {
    let s = &*store;
    let org = new_org(s, "redeem").await;
    let user = new_user(s, &org.id, "cleo").await;
    let code = code_for(&org.id, "grafana", &user.id);
    s.create_code(&code).await.unwrap();

    let grant = grant_for(&org.id, "grafana", &user.id);
    let refresh = refresh_for(&grant.id);
    let first = event(&org.id, "code.replayed", "grafana");
    assert_eq!(
        s.redeem_code(&code.code_hash, NOW + 3, &grant, Some(&refresh), &first)
            .await
            .unwrap(),
        CodeRedemption::Redeemed
    );
    assert_eq!(
        s.get_code(&code.code_hash).await.unwrap(),
        Some(CodeRecord {
            used_at: Some(NOW + 3),
            grant_id: Some(grant.id.clone()),
            ..code.clone()
        })
    );
    assert_eq!(
        s.get_grant(&org.id, &grant.id).await.unwrap(),
        Some(grant.clone())
    );
    assert_eq!(
        s.get_refresh_token(&refresh.token_hash).await.unwrap(),
        Some(refresh.clone())
    );
    assert_event_absent(s, &org.id, &first.id).await;

    // The replay: its own grant and token are not stored, the first grant is revoked.
    let second_grant = grant_for(&org.id, "grafana", &user.id);
    let second_refresh = refresh_for(&second_grant.id);
    let replay = event(&org.id, "code.replayed", "grafana");
    assert_eq!(
        s.redeem_code(
            &code.code_hash,
            NOW + 9,
            &second_grant,
            Some(&second_refresh),
            &replay
        )
        .await
        .unwrap(),
        CodeRedemption::Replayed
    );
    assert_eq!(
        s.get_grant(&org.id, &grant.id).await.unwrap(),
        Some(GrantRecord {
            revoked_at: Some(NOW + 9),
            ..grant.clone()
        })
    );
    assert_eq!(s.get_grant(&org.id, &second_grant.id).await.unwrap(), None);
    assert_eq!(
        s.get_refresh_token(&second_refresh.token_hash)
            .await
            .unwrap(),
        None
    );
    assert_event_recorded(s, &replay).await;

    // Without a refresh token, and an unknown code.
    let other = code_for(&org.id, "grafana", &user.id);
    s.create_code(&other).await.unwrap();
    let plain = grant_for(&org.id, "grafana", &user.id);
    assert_eq!(
        s.redeem_code(
            &other.code_hash,
            NOW,
            &plain,
            None,
            &event(&org.id, "code.replayed", "g")
        )
        .await
        .unwrap(),
        CodeRedemption::Redeemed
    );
    assert_eq!(s.get_grant(&org.id, &plain.id).await.unwrap(), Some(plain));
    let unknown = grant_for(&org.id, "grafana", &user.id);
    let unknown_event = event(&org.id, "code.replayed", "grafana");
    assert_eq!(
        s.redeem_code(&unique("code"), NOW, &unknown, None, &unknown_event)
            .await
            .unwrap(),
        CodeRedemption::NotFound
    );
    assert_eq!(s.get_grant(&org.id, &unknown.id).await.unwrap(), None);
    assert_event_absent(s, &org.id, &unknown_event.id).await;
}

/// A grant without a user (client_credentials) reads back as created; revoking it sets
/// `revoked_at` once.
pub async fn grant_round_trip_and_revoke(store: Arc<dyn Store>) {
    let s = &*store;
    let org = new_org(s, "grants").await;
    let grant = GrantRecord {
        user_id: None,
        auth_time: None,
        sid: None,
        nonce: None,
        scope: "api:read".to_string(),
        ..grant_for(&org.id, "machine", "unused")
    };
    s.create_grant(&grant).await.unwrap();
    assert_eq!(
        s.get_grant(&org.id, &grant.id).await.unwrap(),
        Some(grant.clone())
    );

    let revoked = event(&org.id, "grant.revoked", &grant.id);
    assert!(
        s.revoke_grant(&org.id, &grant.id, NOW + 7, &revoked)
            .await
            .unwrap()
    );
    assert_event_recorded(s, &revoked).await;
    let expected = GrantRecord {
        revoked_at: Some(NOW + 7),
        ..grant.clone()
    };
    assert_eq!(
        s.get_grant(&org.id, &grant.id).await.unwrap(),
        Some(expected.clone())
    );

    let again = event(&org.id, "grant.revoked", &grant.id);
    assert!(
        !s.revoke_grant(&org.id, &grant.id, NOW + 8, &again)
            .await
            .unwrap()
    );
    assert_event_absent(s, &org.id, &again.id).await;
    assert_eq!(
        s.get_grant(&org.id, &grant.id).await.unwrap(),
        Some(expected),
        "the first revocation time stays"
    );
    assert!(
        !s.revoke_grant(
            &org.id,
            "missing",
            NOW,
            &event(&org.id, "grant.revoked", "m")
        )
        .await
        .unwrap()
    );
}

/// A current refresh token rotates once (`Rotated`: it is used, its successor stored); presenting
/// it again is `Reused`, revokes the grant and writes the reuse event; an unknown token is
/// `NotFound`.
pub async fn refresh_rotation_then_reuse_revokes_grant(store: Arc<dyn Store>) {
    let s = &*store;
    let org = new_org(s, "refresh").await;
    let user = new_user(s, &org.id, "dina").await;
    let code = code_for(&org.id, "grafana", &user.id);
    s.create_code(&code).await.unwrap();
    let grant = grant_for(&org.id, "grafana", &user.id);
    let first = refresh_for(&grant.id);
    s.redeem_code(
        &code.code_hash,
        NOW,
        &grant,
        Some(&first),
        &event(&org.id, "code.replayed", "grafana"),
    )
    .await
    .unwrap();

    let second = RefreshTokenRecord {
        created_at: NOW + 10,
        scope: "openid".to_string(),
        ..refresh_for(&grant.id)
    };
    let not_reused = event(&org.id, "refresh_token.reused", "grafana");
    assert_eq!(
        s.rotate_refresh_token(&first.token_hash, NOW + 10, NOW + 8, &second, &not_reused)
            .await
            .unwrap(),
        RefreshRotation::Rotated
    );
    assert_event_absent(s, &org.id, &not_reused.id).await;
    assert_eq!(
        s.get_refresh_token(&first.token_hash).await.unwrap(),
        Some(RefreshTokenRecord {
            used_at: Some(NOW + 10),
            ..first.clone()
        })
    );
    assert_eq!(
        s.get_refresh_token(&second.token_hash).await.unwrap(),
        Some(second.clone())
    );
    assert_eq!(
        s.get_grant(&org.id, &grant.id)
            .await
            .unwrap()
            .unwrap()
            .revoked_at,
        None
    );

    // The old token again, within the race window: it loses, and nothing changes.
    let raced = refresh_for(&grant.id);
    let not_reused_either = event(&org.id, "refresh_token.reused", "grafana");
    assert_eq!(
        s.rotate_refresh_token(
            &first.token_hash,
            NOW + 11,
            NOW + 9,
            &raced,
            &not_reused_either
        )
        .await
        .unwrap(),
        RefreshRotation::Raced
    );
    assert_event_absent(s, &org.id, &not_reused_either.id).await;
    assert_eq!(s.get_refresh_token(&raced.token_hash).await.unwrap(), None);
    assert_eq!(
        s.get_refresh_token(&second.token_hash).await.unwrap(),
        Some(second.clone()),
        "the winner's successor stays"
    );
    assert_eq!(
        s.get_grant(&org.id, &grant.id).await.unwrap(),
        Some(grant.clone())
    );

    // The old token again, after the race window: reuse.
    let third = refresh_for(&grant.id);
    let reused = event(&org.id, "refresh_token.reused", "grafana");
    assert_eq!(
        s.rotate_refresh_token(&first.token_hash, NOW + 20, NOW + 18, &third, &reused)
            .await
            .unwrap(),
        RefreshRotation::Reused {
            grant_id: grant.id.clone()
        }
    );
    assert_event_recorded(s, &reused).await;
    assert_eq!(s.get_refresh_token(&third.token_hash).await.unwrap(), None);
    assert_eq!(
        s.get_grant(&org.id, &grant.id).await.unwrap(),
        Some(GrantRecord {
            revoked_at: Some(NOW + 20),
            ..grant.clone()
        })
    );

    let unknown = event(&org.id, "refresh_token.reused", "grafana");
    assert_eq!(
        s.rotate_refresh_token(
            &unique("refresh"),
            NOW,
            NOW,
            &refresh_for(&grant.id),
            &unknown
        )
        .await
        .unwrap(),
        RefreshRotation::NotFound
    );
    assert_event_absent(s, &org.id, &unknown.id).await;
}

/// A revoked access token is reported revoked (revoking twice is fine, and records one event);
/// others are not.
pub async fn access_token_revocation(store: Arc<dyn Store>) {
    let s = &*store;
    let org = new_org(s, "access-tokens").await;
    let jti = unique("jti");
    let other = unique("jti");
    assert!(!s.is_access_token_revoked(&jti).await.unwrap());
    let revoked = event(&org.id, "token.revoked", "grafana");
    assert!(
        s.revoke_access_token(&org.id, &jti, NOW + 300, &revoked)
            .await
            .unwrap()
    );
    let again = event(&org.id, "token.revoked", "grafana");
    assert!(
        !s.revoke_access_token(&org.id, &jti, NOW + 300, &again)
            .await
            .unwrap(),
        "already revoked"
    );
    assert!(s.is_access_token_revoked(&jti).await.unwrap());
    let filter = crate::EventFilter {
        kind: Some("token.revoked".into()),
        ..crate::EventFilter::default()
    };
    let events = s
        .list_events(&org.id, &filter, crate::PageRequest::first(10))
        .await
        .unwrap();
    assert_eq!(
        events.items,
        [revoked],
        "one event, with the first revocation"
    );
    assert!(!s.is_access_token_revoked(&other).await.unwrap());
}

/// The one-query reads behind token checks agree with the single reads: revocation of the jti,
/// the grant of this org only, its user (or none once deleted) and the user's sorted groups.
pub async fn token_state_reads_grant_user_and_groups(store: Arc<dyn Store>) {
    let s = &*store;
    let org = new_org(s, "token-state").await;
    let other = new_org(s, "token-state-other").await;
    let user = new_user(s, &org.id, "dora").await;
    let loner = new_user(s, &org.id, "lone").await;
    new_group(s, &org.id, "viewers").await;
    new_group(s, &org.id, "Admins").await;
    add_member(s, &org.id, "viewers", &user.id).await;
    add_member(s, &org.id, "Admins", &user.id).await;
    let grant = grant_for(&org.id, "grafana", &user.id);
    let refresh = refresh_for(&grant.id);
    let code = code_for(&org.id, "grafana", &user.id);
    s.create_code(&code).await.unwrap();
    let replay = event(&org.id, "code.replayed", "grafana");
    s.redeem_code(&code.code_hash, NOW, &grant, Some(&refresh), &replay)
        .await
        .unwrap();
    let groups = vec!["Admins".to_string(), "viewers".to_string()];

    let jti = unique("jti");
    let (revoked, holder) = s
        .access_token_state(&org.id, &jti, Some(&grant.id))
        .await
        .unwrap();
    assert!(!revoked);
    let holder = holder.expect("the grant is found");
    assert_eq!(holder.grant, grant);
    assert_eq!(holder.user.as_ref(), Some(&user));
    assert_eq!(holder.groups, groups);
    let (token, by_refresh) = s
        .refresh_token_state(&org.id, &refresh.token_hash)
        .await
        .unwrap()
        .expect("the refresh token is found");
    assert_eq!(token, refresh);
    assert_eq!(by_refresh, Some(holder));

    // Another org sees neither the grant nor, through its token, the grant.
    let (_, elsewhere) = s
        .access_token_state(&other.id, &jti, Some(&grant.id))
        .await
        .unwrap();
    assert_eq!(elsewhere, None);
    let (_, elsewhere) = s
        .refresh_token_state(&other.id, &refresh.token_hash)
        .await
        .unwrap()
        .expect("the token row itself is found");
    assert_eq!(elsewhere, None);
    assert_eq!(
        s.refresh_token_state(&org.id, &unique("rt")).await.unwrap(),
        None
    );

    // Without a grant (client_credentials) only the jti counts.
    let revoked_event = event(&org.id, "token.revoked", "grafana");
    s.revoke_access_token(&org.id, &jti, NOW + 300, &revoked_event)
        .await
        .unwrap();
    assert_eq!(
        s.access_token_state(&org.id, &jti, None).await.unwrap(),
        (true, None)
    );

    // A user without groups; a disabled user; a revoked grant; an unknown grant; a deleted user.
    let lone_grant = grant_for(&org.id, "grafana", &loner.id);
    s.create_grant(&lone_grant).await.unwrap();
    let state = |grant_id: String| {
        let org_id = org.id.clone();
        let store = store.clone();
        async move {
            store
                .access_token_state(&org_id, &unique("jti"), Some(&grant_id))
                .await
                .unwrap()
                .1
        }
    };
    let lone = state(lone_grant.id.clone())
        .await
        .expect("the grant is found");
    assert_eq!(lone.user.as_ref(), Some(&loner));
    assert!(lone.groups.is_empty());

    let disabled = crate::User {
        disabled: true,
        ..loner.clone()
    };
    let updated = event(&org.id, "user.updated", &loner.id);
    s.update_user(&disabled, &updated).await.unwrap();
    let lone = state(lone_grant.id.clone())
        .await
        .expect("the grant is found");
    assert!(
        lone.user
            .expect("a disabled user is still returned")
            .disabled
    );

    let revoked = event(&org.id, "grant.revoked", "grafana");
    assert!(
        s.revoke_grant(&org.id, &lone_grant.id, NOW + 7, &revoked)
            .await
            .unwrap()
    );
    let lone = state(lone_grant.id.clone())
        .await
        .expect("the grant is found");
    assert_eq!(lone.grant.revoked_at, Some(NOW + 7));

    assert_eq!(state(unique("grant")).await, None);

    // Deleting the user deletes their grants (and with them the holder).
    let deleted = event(&org.id, "user.deleted", &user.id);
    assert!(s.delete_user(&org.id, &user.id, &deleted).await.unwrap());
    assert_eq!(state(grant.id.clone()).await, None);
    assert_eq!(
        s.refresh_token_state(&org.id, &refresh.token_hash)
            .await
            .unwrap(),
        None,
        "the grant's refresh tokens go with it"
    );
}
