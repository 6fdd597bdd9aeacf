//! Keyset pagination: N rows over pages of k list every row exactly once, oldest first; only the
//! last page has no `next_after`; and a position never leads into another org.

use std::{fmt::Debug, sync::Arc};

use super::support::*;
use crate::{Event, EventFilter, Page, PageRequest, Store};

/// Pages of `limit` hold exactly `expected`, in order: every page but the last is full and
/// points on, the last one does not.
fn assert_pages<T: PartialEq + Debug + Clone>(pages: &[Page<T>], limit: u32, expected: &[T]) {
    let n = expected.len();
    let want_pages = n.div_ceil(limit as usize).max(1);
    assert_eq!(pages.len(), want_pages, "{n} rows in pages of {limit}");
    for (i, page) in pages.iter().enumerate() {
        let last = i + 1 == pages.len();
        if last {
            assert_eq!(page.next_after, None, "the last page points nowhere");
        } else {
            assert_eq!(page.items.len(), limit as usize, "page {i} is full");
            assert!(page.next_after.is_some(), "page {i} points on");
        }
    }
    let all: Vec<T> = pages.iter().flat_map(|p| p.items.clone()).collect();
    assert_eq!(all, expected, "every row exactly once, oldest first");
}

/// Lists 7 orgs over pages of 2 (the store may hold others), and one org over pages of 1.
pub async fn pagination_orgs(store: Arc<dyn Store>) {
    let s = &*store;
    let mut ours = Vec::new();
    for _ in 0..7 {
        ours.push(new_org(s, "paged").await);
    }
    // The store may hold other orgs (from other cases): keep ours, in the order listed.
    let pages = collect_pages!(2, |page| s.list_orgs(None, page));
    let listed: Vec<_> = pages
        .iter()
        .flat_map(|p| p.items.iter())
        .filter(|o| ours.contains(o))
        .cloned()
        .collect();
    assert_eq!(listed, ours, "every org exactly once, oldest first");
    assert_eq!(pages.last().unwrap().next_after, None);
    for page in &pages[..pages.len() - 1] {
        assert_eq!(page.items.len(), 2);
    }

    // Listing one org pages too.
    let only = collect_pages!(1, |page| s
        .list_orgs(Some(std::slice::from_ref(&ours[3].id)), page));
    assert_pages(&only, 1, &ours[3..4]);
}

pub async fn pagination_clients(store: Arc<dyn Store>) {
    let s = &*store;
    let org = new_org(s, "paged-clients").await;
    let mut clients = Vec::new();
    for i in 0..7 {
        clients.push(new_client(s, &org.id, &format!("client-{i}")).await.0);
    }
    for limit in [1, 3, 7, 10] {
        let pages = collect_pages!(limit, |page| s.list_clients(&org.id, page));
        assert_pages(&pages, limit, &clients);
    }
}

pub async fn pagination_users(store: Arc<dyn Store>) {
    let s = &*store;
    let org = new_org(s, "paged-users").await;
    let mut users = Vec::new();
    for i in 0..6 {
        users.push(new_user(s, &org.id, &format!("user-{i}")).await);
    }
    for limit in [1, 2, 3, 4, 6, 50] {
        let pages = collect_pages!(limit, |page| s.list_users(&org.id, None, page));
        assert_pages(&pages, limit, &users);
    }
}

/// Pagination of a search lists every match once and nothing else.
pub async fn pagination_users_with_search(store: Arc<dyn Store>) {
    let s = &*store;
    let org = new_org(s, "paged-search").await;
    let mut matching = Vec::new();
    for i in 0..7 {
        matching.push(new_user(s, &org.id, &format!("Match-{i}")).await);
        new_user(s, &org.id, &format!("other-{i}")).await;
    }
    for limit in [2, 3, 7] {
        let pages = collect_pages!(limit, |page| s.list_users(&org.id, Some("MATCH"), page));
        assert_pages(&pages, limit, &matching);
    }
}

pub async fn pagination_groups(store: Arc<dyn Store>) {
    let s = &*store;
    let org = new_org(s, "paged-groups").await;
    let mut groups = Vec::new();
    for i in 0..7 {
        groups.push(new_group(s, &org.id, &format!("group-{i}")).await);
    }
    for limit in [2, 3, 7] {
        let pages = collect_pages!(limit, |page| s.list_groups(&org.id, page));
        assert_pages(&pages, limit, &groups);
    }
}

pub async fn pagination_group_members(store: Arc<dyn Store>) {
    let s = &*store;
    let org = new_org(s, "paged-members").await;
    new_group(s, &org.id, "big").await;
    new_group(s, &org.id, "other").await;
    let mut users = Vec::new();
    for i in 0..7 {
        users.push(new_user(s, &org.id, &format!("member-{i}")).await);
    }
    // Joined in reverse order of creation, with memberships of another group in between.
    let mut members = Vec::new();
    for user in users.iter().rev() {
        add_member(s, &org.id, "big", &user.id).await;
        add_member(s, &org.id, "other", &user.id).await;
        members.push(user.clone());
    }
    for limit in [2, 3, 7] {
        let pages = collect_pages!(limit, |page| s.list_group_members(&org.id, "big", page));
        assert_pages(&pages, limit, &members);
    }
}

pub async fn pagination_events(store: Arc<dyn Store>) {
    let s = &*store;
    let org = new_org(s, "paged-events").await;
    let mut events = Vec::new();
    for i in 0..6 {
        let e = Event {
            time: NOW + 100 - i,
            ..event(&org.id, "paged.event", &format!("t{i}"))
        };
        s.append_event(&e).await.unwrap();
        s.append_event(&event(&org.id, "noise.event", "n"))
            .await
            .unwrap();
        events.push(e);
    }
    let filter = EventFilter {
        kind: Some("paged.event".to_string()),
        ..EventFilter::default()
    };
    for limit in [1, 2, 3, 4, 6] {
        let pages = collect_pages!(limit, |page| s.list_events(&org.id, &filter, page));
        assert_pages(&pages, limit, &events);
    }
}

/// A page position taken from org A's list and used on org B's list lists only org B's rows.
pub async fn pagination_position_from_another_org(store: Arc<dyn Store>) {
    let s = &*store;
    let a = new_org(s, "position-a").await;
    let b = new_org(s, "position-b").await;
    new_group(s, &a.id, "members").await;
    new_group(s, &b.id, "members").await;
    let mut b_users = Vec::new();
    // Interleaved, so that A's positions fall between B's rows.
    for i in 0..4 {
        for org in [&a, &b] {
            let user = new_user(s, &org.id, &format!("u{i}")).await;
            new_client(s, &org.id, &format!("c{i}")).await;
            new_group(s, &org.id, &format!("g{i}")).await;
            add_member(s, &org.id, "members", &user.id).await;
            s.append_event(&event(&org.id, "position.event", &format!("e{i}")))
                .await
                .unwrap();
            if org.id == b.id {
                b_users.push(user);
            }
        }
    }
    let first = PageRequest::first(2);
    let after = |next_after: Option<i64>| PageRequest {
        after: Some(next_after.expect("org A has a second page")),
        limit: 100,
    };

    let pos = after(s.list_users(&a.id, None, first).await.unwrap().next_after);
    let users = s.list_users(&b.id, None, pos).await.unwrap().items;
    assert!(!users.is_empty(), "B has users after A's second user");
    assert!(
        users
            .iter()
            .all(|u| u.org_id == b.id && b_users.contains(u))
    );

    let pos = after(s.list_clients(&a.id, first).await.unwrap().next_after);
    let clients = s.list_clients(&b.id, pos).await.unwrap().items;
    assert!(!clients.is_empty());
    assert!(clients.iter().all(|c| c.org_id == b.id));

    let pos = after(s.list_groups(&a.id, first).await.unwrap().next_after);
    let groups = s.list_groups(&b.id, pos).await.unwrap().items;
    assert!(!groups.is_empty());
    assert!(groups.iter().all(|g| g.org_id == b.id));

    let pos = after(
        s.list_group_members(&a.id, "members", first)
            .await
            .unwrap()
            .next_after,
    );
    let members = s
        .list_group_members(&b.id, "members", pos)
        .await
        .unwrap()
        .items;
    assert!(!members.is_empty());
    assert!(
        members
            .iter()
            .all(|u| u.org_id == b.id && b_users.contains(u))
    );

    let filter = EventFilter {
        kind: Some("position.event".to_string()),
        ..EventFilter::default()
    };
    let pos = after(
        s.list_events(&a.id, &filter, first)
            .await
            .unwrap()
            .next_after,
    );
    let events = s.list_events(&b.id, &filter, pos).await.unwrap().items;
    assert!(!events.is_empty());
    assert!(
        events
            .iter()
            .all(|e| e.org_id.as_deref() == Some(b.id.as_str()))
    );
}
