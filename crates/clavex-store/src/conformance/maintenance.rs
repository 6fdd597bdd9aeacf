//! Background clean-up: expired rows go, live ones stay, batches repeat until nothing is left.

use std::sync::Arc;

use super::support::*;
use crate::{
    AuthRequestRecord, CodeRecord, ConsoleSessionRecord, Event, EventFilter, GrantRecord,
    PageRequest, PurgeCounts, PurgeCutoffs, RefreshTokenRecord, SessionRecord, Store,
    ThrottleState,
};

/// Far before every other case's rows: cases may share a store, and a purge is store-wide, so this
/// case works where nothing else lives and its cutoffs cannot touch other cases' rows.
const PAST: i64 = NOW - 300_000_000;

/// Each kind of expired row is deleted and counted; the same kind, still live, is kept; a grant
/// outlives its refresh tokens' expiry by the access-token grace; a used code outlives its expiry
/// until `used_codes_before`; a throttle counter goes only
/// when its window and its lock are both over; a batch of 2 still deletes all five codes.
pub async fn purge_removes_expired_rows_and_keeps_live_ones(store: Arc<dyn Store>) {
    let s = &*store;
    let org = new_org(s, "purge").await;
    let user = new_user(s, &org.id, "pia").await;
    let (client, first_secret) = new_client(s, &org.id, "grafana").await;

    // Pending requests and sessions: one expired, one live each.
    let request = |expires_at| AuthRequestRecord {
        id_hash: unique("request"),
        org_id: org.id.clone(),
        params: serde_json::json!({ "client_id": "grafana" }),
        created_at: PAST - 600,
        expires_at,
    };
    let (old_request, live_request) = (request(PAST - 1), request(PAST + 600));
    let session = |expires_at| SessionRecord {
        id_hash: unique("session"),
        sid: unique("sid"),
        org_id: org.id.clone(),
        user_id: user.id.clone(),
        auth_time: PAST - 600,
        created_at: PAST - 600,
        expires_at,
    };
    let (old_session, live_session) = (session(PAST), session(PAST + 1));
    let console = |expires_at| ConsoleSessionRecord {
        id_hash: unique("console-session"),
        user_id: user.id.clone(),
        sso_sid: unique("sso-sid"),
        created_at: PAST - 600,
        expires_at,
    };
    let (old_console, live_console) = (console(PAST - 5), console(PAST + 5));
    for r in [&old_request, &live_request] {
        s.create_auth_request(r).await.unwrap();
    }
    for r in [&old_session, &live_session] {
        s.create_session(r, &event(&org.id, "user.signed_in", &user.id))
            .await
            .unwrap();
    }
    for r in [&old_console, &live_console] {
        s.create_console_session(r).await.unwrap();
    }

    // Five expired codes (more than one batch) and one live.
    let code = |expires_at| CodeRecord {
        expires_at,
        created_at: PAST - 60,
        ..code_for(&org.id, "grafana", &user.id)
    };
    let old_codes: Vec<_> = (0..5).map(|i| code(PAST - i)).collect();
    let live_code = code(PAST + 60);
    for c in old_codes.iter().chain([&live_code]) {
        s.create_code(c).await.unwrap();
    }

    // Grants: one past even the grace, one expired but inside it (kept), one live. Each is stored
    // by redeeming a live code, with a refresh token; the live grant's token is then rotated, so it
    // also holds a used token that expired by itself.
    let grant = |expires_at| GrantRecord {
        expires_at,
        created_at: PAST - 86_400,
        ..grant_for(&org.id, "grafana", &user.id)
    };
    let grace = 300;
    let (gone_grant, graced_grant, live_grant) = (
        grant(PAST - grace - 1),
        grant(PAST - 10),
        grant(PAST + 86_400),
    );
    let refresh = |grant_id: &str, expires_at| RefreshTokenRecord {
        expires_at,
        created_at: PAST - 86_400,
        ..refresh_for(grant_id)
    };
    let gone_refresh = refresh(&gone_grant.id, gone_grant.expires_at);
    let graced_refresh = refresh(&graced_grant.id, graced_grant.expires_at);
    let old_refresh = refresh(&live_grant.id, PAST - 100);
    let live_refresh = refresh(&live_grant.id, PAST + 100);
    let mut grant_codes = Vec::new();
    for (g, t) in [
        (&gone_grant, &gone_refresh),
        (&graced_grant, &graced_refresh),
        (&live_grant, &old_refresh),
    ] {
        let c = code(PAST + 60);
        s.create_code(&c).await.unwrap();
        s.redeem_code(
            &c.code_hash,
            PAST - 86_400,
            g,
            Some(t),
            &event(&org.id, "code.replayed", "grafana"),
        )
        .await
        .unwrap();
        grant_codes.push(c.code_hash);
    }
    s.rotate_refresh_token(
        &old_refresh.token_hash,
        PAST - 200,
        PAST - 202,
        &live_refresh,
        &event(&org.id, "refresh_token.reused", "grafana"),
    )
    .await
    .unwrap();

    // Revoked access tokens, client secrets and throttle counters.
    let (old_jti, live_jti) = (unique("jti"), unique("jti"));
    s.revoke_access_token(
        &org.id,
        &old_jti,
        PAST - 1,
        &event(&org.id, "token.revoked", "grafana"),
    )
    .await
    .unwrap();
    s.revoke_access_token(
        &org.id,
        &live_jti,
        PAST + 1,
        &event(&org.id, "token.revoked", "grafana"),
    )
    .await
    .unwrap();
    // The first secret retires before the cutoff, the second inside its grace; the third is current.
    let (second, third) = (secret_record(PAST - 100), secret_record(PAST - 50));
    for (secret, old_expires_at) in [(&second, PAST - 1), (&third, PAST + 100)] {
        s.rotate_client_secret(
            &org.id,
            &client.client_id,
            secret,
            old_expires_at,
            &event(&org.id, "client.secret_rotated", &client.client_id),
        )
        .await
        .unwrap();
    }
    let window = 900;
    let throttle = |window_start, locked_until| ThrottleState {
        failures: 3,
        window_start,
        locked_until,
    };
    let (old_key, open_key, locked_key) = (unique("t"), unique("t"), unique("t"));
    s.put_throttle(&old_key, &org.id, &throttle(PAST - window - 1, 0))
        .await
        .unwrap();
    s.put_throttle(&open_key, &org.id, &throttle(PAST - 10, 0))
        .await
        .unwrap();
    s.put_throttle(
        &locked_key,
        &org.id,
        &throttle(PAST - window - 1, PAST + 60),
    )
    .await
    .unwrap();

    // Used codes, expired: one whose grant could still exist (kept, so that a replay still finds
    // it and revokes that grant) and one older than any grant made from it (deleted).
    let (used_recent, used_old) = (code(PAST - 10), code(PAST - 2_000));
    for c in [&used_recent, &used_old] {
        s.create_code(c).await.unwrap();
        let g = grant(PAST + 86_400);
        s.redeem_code(
            &c.code_hash,
            c.expires_at - 30,
            &g,
            None,
            &event(&org.id, "code.replayed", "grafana"),
        )
        .await
        .unwrap();
    }

    let cutoffs = PurgeCutoffs {
        expired_before: PAST,
        grants_before: PAST - grace,
        throttle_before: PAST - window,
        used_codes_before: PAST - 1_000,
        events_before: None,
    };
    let counts = s.purge_expired(&cutoffs, 2).await.unwrap();
    assert_eq!(
        counts,
        PurgeCounts {
            auth_requests: 1,
            sessions: 1,
            console_sessions: 1,
            codes: 6,
            // The gone grant's own token expired at the grant's expiry, before the cutoff, so it
            // is counted with the refresh tokens, like the live grant's expired one.
            refresh_tokens: 3,
            grants: 1,
            revoked_access_tokens: 1,
            throttles: 1,
            client_secrets: 1,
            events: 0,
        }
    );

    // What went is gone even when asked at a time it was still valid.
    let early = PAST - 1_000_000;
    assert_eq!(
        s.get_auth_request(&org.id, &old_request.id_hash, early)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        s.get_session(&org.id, &old_session.id_hash, early)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        s.get_console_session(&old_console.id_hash, early)
            .await
            .unwrap(),
        None
    );
    for c in old_codes.iter().chain([&used_old]) {
        assert_eq!(s.get_code(&c.code_hash).await.unwrap(), None);
    }
    assert!(
        s.get_code(&used_recent.code_hash).await.unwrap().is_some(),
        "a used code stays while its grant may exist"
    );
    assert_eq!(s.get_grant(&org.id, &gone_grant.id).await.unwrap(), None);
    for t in [&gone_refresh, &graced_refresh, &old_refresh] {
        assert_eq!(s.get_refresh_token(&t.token_hash).await.unwrap(), None);
    }
    assert!(!s.is_access_token_revoked(&old_jti).await.unwrap());
    assert_eq!(s.get_throttle(&old_key).await.unwrap(), None);

    // What is live stays, whole.
    assert_eq!(
        s.get_auth_request(&org.id, &live_request.id_hash, PAST)
            .await
            .unwrap(),
        Some(live_request)
    );
    assert_eq!(
        s.get_session(&org.id, &live_session.id_hash, PAST)
            .await
            .unwrap(),
        Some(live_session)
    );
    assert_eq!(
        s.get_console_session(&live_console.id_hash, PAST)
            .await
            .unwrap(),
        Some(live_console)
    );
    assert_eq!(
        s.get_code(&live_code.code_hash).await.unwrap(),
        Some(live_code)
    );
    assert_eq!(
        s.get_grant(&org.id, &graced_grant.id).await.unwrap(),
        Some(graced_grant)
    );
    assert_eq!(
        s.get_grant(&org.id, &live_grant.id).await.unwrap(),
        Some(live_grant)
    );
    assert_eq!(
        s.get_refresh_token(&live_refresh.token_hash).await.unwrap(),
        Some(live_refresh)
    );
    assert!(s.is_access_token_revoked(&live_jti).await.unwrap());
    let secrets = s
        .client_secrets(&org.id, &client.client_id, early)
        .await
        .unwrap();
    let hashes: Vec<&str> = secrets.iter().map(|x| x.secret_hash.as_str()).collect();
    assert!(
        !hashes.contains(&first_secret.secret_hash.as_str()),
        "the retired secret is gone"
    );
    assert!(hashes.contains(&second.secret_hash.as_str()));
    assert!(hashes.contains(&third.secret_hash.as_str()));
    for c in &grant_codes {
        assert!(s.get_code(c).await.unwrap().is_some(), "live codes stay");
    }
    assert!(s.get_throttle(&open_key).await.unwrap().is_some());
    assert!(s.get_throttle(&locked_key).await.unwrap().is_some());

    // A second pass finds nothing.
    assert_eq!(
        s.purge_expired(&cutoffs, 2).await.unwrap(),
        PurgeCounts::default()
    );
}

/// Audit retention: events recorded at or before `events_before` go, in batches, with the whole
/// of each; later ones stay; without a cutoff nothing goes.
pub async fn purge_removes_events_older_than_the_retention(store: Arc<dyn Store>) {
    let s = &*store;
    let org = new_org(s, "retention").await;
    let at = |time: i64| Event {
        time,
        ..event(&org.id, "user.updated", "someone")
    };
    let (old, edge, kept) = (at(PAST - 86_400), at(PAST), at(PAST + 1));
    for e in [&old, &edge, &kept] {
        s.append_event(e).await.unwrap();
    }
    // Everything else in the store is later than PAST, so only this case's rows can match.
    let cutoffs = |events_before| PurgeCutoffs {
        expired_before: PAST - 10_000_000,
        grants_before: PAST - 10_000_000,
        throttle_before: PAST - 10_000_000,
        used_codes_before: PAST - 10_000_000,
        events_before,
    };
    assert_eq!(
        s.purge_expired(&cutoffs(None), 1).await.unwrap(),
        PurgeCounts::default(),
        "no retention keeps every event"
    );
    assert_eq!(
        s.purge_expired(&cutoffs(Some(PAST)), 1).await.unwrap(),
        PurgeCounts {
            events: 2,
            ..PurgeCounts::default()
        }
    );
    let filter = EventFilter {
        since: Some(PAST - 1_000_000),
        until: Some(PAST + 1_000),
        ..EventFilter::default()
    };
    let left = s
        .list_events(&org.id, &filter, PageRequest::first(100))
        .await
        .unwrap();
    let ids: Vec<&str> = left.items.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, [kept.id.as_str()]);
    assert_eq!(left.items[0], kept, "the kept event is whole");
}
