//! Each node keeps orgs and clients it has read for one second (`clavex_core::cache`): a new
//! secret made at node A works at node B at once, and a client deleted or a secret ended at A
//! stops working at B within that second (docs/operations/several-nodes.md).

use std::time::Duration;

use super::support::*;

/// Introspection authenticates the client and then answers 200 for any token: a cheap way to
/// ask a node whether it accepts a client secret.
async fn accepts(cluster: &Cluster, i: usize, secret: &str) -> bool {
    let r = cluster
        .grafana_post(i, secret, "introspect", &[("token", "not-a-token")])
        .await;
    match r.status {
        200 => true,
        401 => false,
        other => panic!("introspect at node {i}: {other} {}", r.text),
    }
}

/// The longest a node may keep a client, with room for a slow machine.
const WITHIN: Duration = Duration::from_secs(3);

#[tokio::test]
async fn secret_rotated_at_a_works_at_b_at_once_and_the_old_one_stops_within_a_second() {
    let cluster = Cluster::start(2).await;
    let old = cluster.seed_acme().await;
    // B has the client, with only the old secret, in its cache.
    assert!(accepts(&cluster, 1, &old).await);
    let r = cluster
        .admin(
            0,
            "POST",
            "/api/v1/organizations/acme/clients/grafana/secret",
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let new = r.json()["client_secret"].as_str().unwrap().to_owned();
    assert!(
        accepts(&cluster, 1, &new).await,
        "the new secret is refused at B"
    );
    eventually(WITHIN, "the old secret refused at B", || async {
        (!accepts(&cluster, 1, &old).await).then_some(())
    })
    .await;
}

#[tokio::test]
async fn client_deleted_at_a_is_refused_by_b_within_a_second() {
    let cluster = Cluster::start(2).await;
    let secret = cluster.seed_acme().await;
    assert!(accepts(&cluster, 1, &secret).await);
    let r = cluster
        .admin(
            0,
            "DELETE",
            "/api/v1/organizations/acme/clients/grafana",
            None,
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    eventually(WITHIN, "the deleted client refused at B", || async {
        (!accepts(&cluster, 1, &secret).await).then_some(())
    })
    .await;
    // And at A, where it was deleted, at once.
    assert!(!accepts(&cluster, 0, &secret).await);
    let r = cluster
        .admin(0, "GET", "/api/v1/organizations/acme/clients/grafana", None)
        .await;
    assert_eq!(r.status, 404, "{}", r.text);
}
