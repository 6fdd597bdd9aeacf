//! The audit trail: events read back whole, filters narrow, and each mutation leaves its event.

use std::sync::Arc;

use super::support::*;
use crate::{Event, EventFilter, Store};

/// Appended events read back field for field, including JSON details and missing parts.
pub async fn event_append_round_trip(store: Arc<dyn Store>) {
    let s = &*store;
    let org = new_org(s, "events").await;
    let full = event(&org.id, "user.signin_failed", "alice");
    let bare = Event {
        source_ip: None,
        outcome: "failure".to_string(),
        details: serde_json::json!({}),
        ..event(&org.id, "user.signin_failed", "bob")
    };
    let scalar = Event {
        details: serde_json::json!([]),
        ..event(&org.id, "user.signin_failed", "carol")
    };
    for e in [&full, &bare, &scalar] {
        s.append_event(e).await.unwrap();
    }
    let listed = events_of_kind(s, &org.id, "user.signin_failed").await;
    assert_eq!(listed, vec![full, bare, scalar]);
}

/// Each filter (kind, actor, target, since, until) narrows the list, and they combine.
pub async fn event_filters_narrow_the_list(store: Arc<dyn Store>) {
    let s = &*store;
    let org = new_org(s, "event-filters").await;
    let other = new_org(s, "event-filters-other").await;
    let mk = |kind: &str, actor: &str, target: &str, time: i64| Event {
        actor: actor.to_string(),
        time,
        ..event(&org.id, kind, target)
    };
    let e1 = mk("client.created", "token:ci", "grafana", NOW + 100);
    let e2 = mk("user.created", "token:ci", "u1", NOW + 200);
    let e3 = mk("user.created", "cli", "u2", NOW + 300);
    let e4 = mk("user.deleted", "token:ci", "u1", NOW + 400);
    for e in [&e1, &e2, &e3, &e4] {
        s.append_event(e).await.unwrap();
    }
    // The same kind, actor and target in another org is never listed.
    let foreign = Event {
        actor: "token:ci".to_string(),
        time: NOW + 200,
        ..event(&other.id, "user.created", "u1")
    };
    s.append_event(&foreign).await.unwrap();

    // Only the four events above (the org's creation event has its own kind, actor and time).
    let f = |kind: Option<&str>,
             actor: Option<&str>,
             target: Option<&str>,
             since: Option<i64>,
             until: Option<i64>| EventFilter {
        kind: kind.map(str::to_string),
        actor: actor.map(str::to_string),
        target: target.map(str::to_string),
        since,
        until,
    };
    let cases: Vec<(EventFilter, Vec<&Event>)> = vec![
        (
            f(Some("user.created"), None, None, None, None),
            vec![&e2, &e3],
        ),
        (f(None, Some("cli"), None, None, None), vec![&e3]),
        (
            f(None, Some("token:ci"), None, Some(NOW + 50), None),
            vec![&e1, &e2, &e4],
        ),
        (f(None, None, Some("u1"), None, None), vec![&e2, &e4]),
        (
            f(None, None, None, Some(NOW + 150), Some(NOW + 350)),
            vec![&e2, &e3],
        ),
        (f(None, None, None, Some(NOW + 350), None), vec![&e4]),
        (
            f(
                Some("user.created"),
                Some("token:ci"),
                Some("u1"),
                None,
                None,
            ),
            vec![&e2],
        ),
        (
            f(Some("user.created"), None, None, Some(NOW + 250), None),
            vec![&e3],
        ),
        (
            f(Some("user.created"), Some("nobody"), None, None, None),
            vec![],
        ),
        (f(Some("no.such.kind"), None, None, None, None), vec![]),
        (f(None, None, None, Some(NOW + 1000), None), vec![]),
    ];
    for (filter, expected) in cases {
        let got = events_where(s, &org.id, filter.clone()).await;
        let expected: Vec<Event> = expected.into_iter().cloned().collect();
        assert_eq!(got, expected, "filter {filter:?}");
    }
    // `until` alone (the creation event at NOW is before e1).
    let until = events_where(s, &org.id, f(None, None, None, None, Some(NOW + 150))).await;
    assert_eq!(until.len(), 2, "the org's creation event and e1");
    assert_eq!(until[1], e1);
}

/// The event handed to each mutation is in the trail after it succeeds.
pub async fn event_written_with_each_mutation(store: Arc<dyn Store>) {
    let s = &*store;
    let org = new_org(s, "mutation-events").await;
    let o = org.id.as_str();

    let e = event(o, "org.updated", &org.slug);
    s.update_org(&org, &e).await.unwrap();
    assert_event_recorded(s, &e).await;

    let client = client_record(o, "grafana");
    let e = event(o, "client.created", "grafana");
    s.create_client(&client, Some(&secret_record(NOW)), &e)
        .await
        .unwrap();
    assert_event_recorded(s, &e).await;
    let e = event(o, "client.updated", "grafana");
    s.update_client(&client, &e).await.unwrap();
    assert_event_recorded(s, &e).await;
    let e = event(o, "client.secret_rotated", "grafana");
    s.rotate_client_secret(o, "grafana", &secret_record(NOW + 1), NOW + 1, &e)
        .await
        .unwrap();
    assert_event_recorded(s, &e).await;

    let user = user_record(o, "quinn", "quinn@example.org");
    let e = event(o, "user.created", &user.id);
    s.create_user(&user, &e).await.unwrap();
    assert_event_recorded(s, &e).await;
    let e = event(o, "user.updated", &user.id);
    s.update_user(&user, &e).await.unwrap();
    assert_event_recorded(s, &e).await;

    let e = event(o, "group.created", "admins");
    s.create_group(&group_record(o, "admins"), &e)
        .await
        .unwrap();
    assert_event_recorded(s, &e).await;
    let e = event(o, "group.member_added", "admins");
    assert!(
        s.add_group_member(o, "admins", &user.id, NOW, &e)
            .await
            .unwrap()
    );
    assert_event_recorded(s, &e).await;
    let e = event(o, "group.member_removed", "admins");
    assert!(
        s.remove_group_member(o, "admins", &user.id, &e)
            .await
            .unwrap()
    );
    assert_event_recorded(s, &e).await;
    let e = event(o, "group.deleted", "admins");
    assert!(s.delete_group(o, "admins", &e).await.unwrap());
    assert_event_recorded(s, &e).await;

    let e = event(o, "key.rotated", "k");
    s.rotate_signing_key(&key_record(o, NOW + 5), NOW + 100, &e)
        .await
        .unwrap();
    assert_event_recorded(s, &e).await;

    let e = event(o, "user.deleted", &user.id);
    assert!(s.delete_user(o, &user.id, &e).await.unwrap());
    assert_event_recorded(s, &e).await;
    let e = event(o, "client.deleted", "grafana");
    assert!(s.delete_client(o, "grafana", &e).await.unwrap());
    assert_event_recorded(s, &e).await;
}
