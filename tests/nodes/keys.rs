//! A key rotated through node A, seen by node B: published at once (B's keyring re-reads the keys
//! after one second), used for signing only from its active time (`PUBLISH_LEAD_SECONDS` after the
//! rotation), and the old key still verifies the tokens it signed.

use std::time::{Duration, Instant};

use clavex_core::keys::PUBLISH_LEAD_SECONDS;
use serde_json::json;

use super::support::*;
use crate::oidc::{rp::*, support::*};

/// Seconds since the epoch of a UTC time as the API writes it (`2025-01-31T12:00:00Z`).
fn unix_time(rfc3339: &str) -> i64 {
    let text = rfc3339
        .strip_suffix('Z')
        .unwrap_or_else(|| panic!("not UTC: {rfc3339}"));
    let (date, time) = text.split_once('T').expect("a T");
    let num = |s: &str| {
        s.parse::<i64>()
            .unwrap_or_else(|e| panic!("{rfc3339}: {e}"))
    };
    let d: Vec<i64> = date.split('-').map(num).collect();
    let t: Vec<i64> = time
        .split(':')
        .map(|s| num(s.split('.').next().unwrap_or(s)))
        .collect();
    // Days from the civil date (H. Hinnant's algorithm), March-based years.
    let (y, m) = if d[1] <= 2 {
        (d[0] - 1, d[1] + 9)
    } else {
        (d[0], d[1] - 3)
    };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + d[2] - 1;
    let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468;
    days * 86_400 + t[0] * 3600 + t[1] * 60 + t[2]
}

#[test]
fn unix_time_reads_the_api_format() {
    assert_eq!(unix_time("1970-01-01T00:00:00Z"), 0);
    assert_eq!(unix_time("2000-03-01T00:00:01Z"), 951_868_801);
    assert_eq!(unix_time("2024-02-29T23:59:59Z"), 1_709_251_199);
}

/// The kid and `iat` of a JWT.
fn kid_iat(jwt: &str) -> (String, i64) {
    let kid = jwt_header(jwt)["kid"].as_str().expect("kid").to_owned();
    (kid, jwt_claims(jwt)["iat"].as_i64().expect("iat"))
}

#[tokio::test]
async fn rotation_on_a_is_published_then_signed_with_on_b() {
    let cluster = Cluster::start(2).await;
    let secret = cluster.seed_acme().await;
    let browser = Browser::new();
    let before = cluster.alice_tokens(&browser, &secret, 1).await;
    let old_kids = cluster.jwks_kids(1).await;
    assert_eq!(old_kids.len(), 1, "{old_kids:?}");
    let old_kid = old_kids[0].clone();
    let before_id = before.id_token.clone().expect("an ID token");
    assert_eq!(kid_iat(&before_id).0, old_kid);

    let r = cluster
        .admin(0, "POST", "/api/v1/organizations/acme/keys/rotate", None)
        .await;
    assert_eq!(r.status, 200, "rotate at A: {}", r.text);
    let published = Instant::now();
    let rotated = r.json();
    let new_kid = rotated["kid"].as_str().expect("kid").to_owned();
    assert_ne!(new_kid, old_kid);
    let active_from = unix_time(rotated["active_from"].as_str().expect("active_from"));
    let created_at = unix_time(rotated["created_at"].as_str().expect("created_at"));
    assert_eq!(active_from - created_at, PUBLISH_LEAD_SECONDS, "{rotated}");

    // B's keyring re-reads an org's keys once the second it loaded them in has passed: a JWKS
    // request sent more than one second after the rotation committed must show the new key.
    let kids = eventually(
        Duration::from_secs(5),
        "B publishes the key rotated on A",
        || async {
            let sent = published.elapsed();
            let kids = cluster.jwks_kids(1).await;
            if kids.contains(&new_kid) {
                return Some(kids);
            }
            assert!(
                sent <= Duration::from_secs(1),
                "B still publishes only {kids:?} in a request sent {sent:?} after the rotation"
            );
            None
        },
    )
    .await;
    let publish_delay = published.elapsed();
    assert!(kids.contains(&old_kid), "the old key stays: {kids:?}");

    // B signs (refresh grants at B) with the old key until active_from, then with the new one.
    // A token's iat and the key choice read the clock separately, so a new-key token may carry
    // the second before active_from; an old-key token never reaches active_from.
    let mut latest = before.clone();
    let mut old_after_publish = 0;
    let deadline = Instant::now() + Duration::from_secs(PUBLISH_LEAD_SECONDS.unsigned_abs() + 5);
    let switched = loop {
        assert!(
            Instant::now() < deadline,
            "B never signed with {new_kid} (active from {active_from})"
        );
        let next = Tokens::from_response(&cluster.refresh(1, &secret, latest.refresh()).await);
        let id_token = next.id_token.clone().expect("an ID token");
        let mut all_new = true;
        for jwt in [id_token.as_str(), next.access_token.as_str()] {
            let (kid, iat) = kid_iat(jwt);
            if kid == old_kid {
                assert!(iat < active_from, "old key after {active_from}: iat {iat}");
                old_after_publish += 1;
                all_new = false;
            } else {
                assert_eq!(kid, new_kid, "an unknown key");
                assert!(
                    iat >= active_from - 1,
                    "new key before {active_from}: iat {iat}"
                );
            }
        }
        latest = next;
        if all_new {
            break latest.clone();
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let switch_after = published.elapsed();
    assert!(
        old_after_publish > 0,
        "B signed with the old key for a while after publishing the new one"
    );

    // The old key's tokens stay good at B; both generations verify against B's JWKS.
    let r = cluster.userinfo(1, &before.access_token).await;
    assert_eq!(r.status, 200, "an old-key access token at B: {}", r.text);
    let jwks = cluster.jwks(1).await;
    let switched_id = switched.id_token.clone().expect("an ID token");
    for jwt in [
        before_id.as_str(),
        before.access_token.as_str(),
        switched_id.as_str(),
        switched.access_token.as_str(),
    ] {
        let claims = verify_with(&jwks, jwt);
        assert_eq!(claims["iss"], json!(acme_issuer()));
    }
    // A, which rotated, signs with the new key as well.
    let at_a = cluster.sso_tokens(&browser, &secret, 0, 0).await;
    assert_eq!(kid_iat(&at_a.access_token).0, new_kid);

    eprintln!(
        "key rotation: B published the new key {:.0} ms after the rotation, signed with it {:.1} s after (lead {PUBLISH_LEAD_SECONDS} s), {old_after_publish} old-key tokens in between",
        publish_delay.as_secs_f64() * 1000.0,
        switch_after.as_secs_f64()
    );
}
