//! Sign-in state: pending authorization requests and SSO sessions (found only in their org and
//! before they expire) and throttling counters.

use std::sync::Arc;

use super::support::*;
use crate::{AuthRequestRecord, SessionRecord, Store, ThrottleState};

/// A pending request reads back (JSON params intact) until it expires, and is gone once
/// deleted.
pub async fn auth_request_round_trip_and_expiry(store: Arc<dyn Store>) {
    let s = &*store;
    let org = new_org(s, "requests").await;
    let request = AuthRequestRecord {
        id_hash: unique("request"),
        org_id: org.id.clone(),
        params: serde_json::json!({
            "client_id": "grafana",
            "redirect_uri": "https://grafana.example.org/login/generic_oauth",
            "scope": ["openid", "profile"],
            "state": "xyz \u{2603}",
            "max_age": null,
            "pkce": { "method": "S256", "challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM" },
        }),
        created_at: NOW,
        expires_at: NOW + 600,
    };
    let other = AuthRequestRecord {
        id_hash: unique("request"),
        ..request.clone()
    };
    s.create_auth_request(&request).await.unwrap();
    s.create_auth_request(&other).await.unwrap();
    assert_eq!(
        s.get_auth_request(&org.id, &request.id_hash, NOW)
            .await
            .unwrap(),
        Some(request.clone())
    );
    assert_eq!(
        s.get_auth_request(&org.id, &request.id_hash, NOW + 599)
            .await
            .unwrap(),
        Some(request.clone())
    );
    assert_eq!(
        s.get_auth_request(&org.id, &request.id_hash, NOW + 601)
            .await
            .unwrap(),
        None,
        "an expired request is not found"
    );
    s.delete_auth_request(&request.id_hash).await.unwrap();
    assert_eq!(
        s.get_auth_request(&org.id, &request.id_hash, NOW)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        s.get_auth_request(&org.id, &other.id_hash, NOW)
            .await
            .unwrap(),
        Some(other),
        "deleting one request leaves the others"
    );
}

/// A session reads back until it expires; `delete_session` by its public `sid` ends it once and
/// records the event.
pub async fn session_round_trip_expiry_and_delete(store: Arc<dyn Store>) {
    let s = &*store;
    let org = new_org(s, "sessions").await;
    let user = new_user(s, &org.id, "edna").await;
    let session = SessionRecord {
        id_hash: unique("session"),
        sid: unique("sid"),
        org_id: org.id.clone(),
        user_id: user.id.clone(),
        auth_time: NOW - 30,
        created_at: NOW,
        expires_at: NOW + 3600,
    };
    let signed_in = event(&org.id, "user.signed_in", &user.id);
    s.create_session(&session, &signed_in).await.unwrap();
    assert_event_recorded(s, &signed_in).await;
    assert_eq!(
        s.get_session(&org.id, &session.id_hash, NOW).await.unwrap(),
        Some(session.clone())
    );
    assert_eq!(
        s.get_session(&org.id, &session.id_hash, NOW + 3601)
            .await
            .unwrap(),
        None,
        "an expired session is not found"
    );
    assert_eq!(
        s.get_session(&org.id, &session.sid, NOW).await.unwrap(),
        None,
        "sessions are found by the cookie's hash, not by sid"
    );

    let ended = event(&org.id, "session.ended", &session.sid);
    assert!(
        s.delete_session(&org.id, &session.sid, &ended)
            .await
            .unwrap()
    );
    assert_event_recorded(s, &ended).await;
    assert_eq!(
        s.get_session(&org.id, &session.id_hash, NOW).await.unwrap(),
        None
    );
    let again = event(&org.id, "session.ended", &session.sid);
    assert!(
        !s.delete_session(&org.id, &session.sid, &again)
            .await
            .unwrap()
    );
    assert_event_absent(s, &org.id, &again.id).await;
}

/// Throttle counters are stored, replaced and cleared by key.
pub async fn throttle_put_get_clear(store: Arc<dyn Store>) {
    let s = &*store;
    let org = new_org(s, "throttle").await;
    let key = unique("login:alice");
    let other = unique("ip:192.0.2.1");
    let first = ThrottleState {
        failures: 1,
        window_start: NOW,
        locked_until: 0,
    };
    let second = ThrottleState {
        failures: 5,
        window_start: NOW + 10,
        locked_until: NOW + 900,
    };
    assert_eq!(s.get_throttle(&key).await.unwrap(), None);
    s.put_throttle(&key, &org.id, &first).await.unwrap();
    s.put_throttle(&other, &org.id, &first).await.unwrap();
    assert_eq!(s.get_throttle(&key).await.unwrap(), Some(first));
    s.put_throttle(&key, &org.id, &second).await.unwrap();
    assert_eq!(s.get_throttle(&key).await.unwrap(), Some(second));
    s.clear_throttle(&key).await.unwrap();
    assert_eq!(s.get_throttle(&key).await.unwrap(), None);
    assert_eq!(s.get_throttle(&other).await.unwrap(), Some(first));
    s.clear_throttle(&key).await.unwrap();
}
