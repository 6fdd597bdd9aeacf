//! Signing keys: rotation retires the signing key, and a retired key stays published until it
//! expires.

use std::sync::Arc;

use super::support::*;
use crate::{SigningKeyRecord, Store};

/// The key given to `create_org` is listed with every field as written.
pub async fn signing_key_first_key_round_trip(store: Arc<dyn Store>) {
    let s = &*store;
    let org = org_record("first-key");
    let key = SigningKeyRecord {
        alg: "EdDSA".to_string(),
        public_jwk: serde_json::json!({ "kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo" }),
        ..key_record(&org.id, NOW)
    };
    s.create_org(&org, &key, &event(&org.id, "org.created", &org.slug))
        .await
        .unwrap();
    assert_eq!(
        s.list_signing_keys(&org.id, NOW).await.unwrap(),
        vec![key.clone()]
    );
    assert_eq!(
        s.list_signing_keys(&org.id, NOW + 10 * 365 * 86_400)
            .await
            .unwrap(),
        vec![key],
        "a key that was never retired never expires"
    );
}

/// Rotation inserts the new key and retires the old one at the new key's `active_from`, with
/// the given expiry; the old key is listed (after the new one) until it expires.
pub async fn signing_key_rotation_retires_and_expires_old_key(store: Arc<dyn Store>) {
    let s = &*store;
    let org = org_record("rotation");
    let old = key_record(&org.id, NOW);
    s.create_org(&org, &old, &event(&org.id, "org.created", &org.slug))
        .await
        .unwrap();
    let now = NOW + 1000;
    let new = key_record(&org.id, now);
    let expires = now + 3600;
    let rotated = event(&org.id, "key.rotated", &new.kid);
    s.rotate_signing_key(&new, expires, &rotated).await.unwrap();

    let old_retired = SigningKeyRecord {
        retired_at: Some(new.active_from),
        expires_at: Some(expires),
        ..old
    };
    assert_eq!(
        s.list_signing_keys(&org.id, now).await.unwrap(),
        vec![new.clone(), old_retired.clone()],
        "newest first, the retired key still published"
    );
    assert_eq!(
        s.list_signing_keys(&org.id, expires - 1).await.unwrap(),
        vec![new.clone(), old_retired]
    );
    assert_eq!(
        s.list_signing_keys(&org.id, expires + 1).await.unwrap(),
        vec![new],
        "an expired key leaves the list"
    );
    assert_event_recorded(s, &rotated).await;
}

/// A second rotation retires only the key that still signs: a key retired earlier keeps its
/// own retirement and expiry.
pub async fn signing_key_rotation_keeps_earlier_retirements(store: Arc<dyn Store>) {
    let s = &*store;
    let org = org_record("double-key-rotation");
    let k1 = key_record(&org.id, NOW);
    s.create_org(&org, &k1, &event(&org.id, "org.created", &org.slug))
        .await
        .unwrap();
    let t2 = NOW + 100;
    let k2 = key_record(&org.id, t2);
    s.rotate_signing_key(&k2, t2 + 500, &event(&org.id, "key.rotated", &k2.kid))
        .await
        .unwrap();
    let t3 = NOW + 200;
    let k3 = key_record(&org.id, t3);
    s.rotate_signing_key(&k3, t3 + 5000, &event(&org.id, "key.rotated", &k3.kid))
        .await
        .unwrap();

    let k1_retired = SigningKeyRecord {
        retired_at: Some(k2.active_from),
        expires_at: Some(t2 + 500),
        ..k1
    };
    let k2_retired = SigningKeyRecord {
        retired_at: Some(k3.active_from),
        expires_at: Some(t3 + 5000),
        ..k2
    };
    assert_eq!(
        s.list_signing_keys(&org.id, t3).await.unwrap(),
        vec![k3.clone(), k2_retired.clone(), k1_retired]
    );
    assert_eq!(
        s.list_signing_keys(&org.id, t2 + 501).await.unwrap(),
        vec![k3, k2_retired]
    );
}
