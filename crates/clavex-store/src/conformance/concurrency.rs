//! Concurrent writers: independent writes all succeed (no "database is locked"), and races on
//! one row have exactly one winner, decided by the database.

use std::{future::Future, sync::Arc};

use super::support::*;
use crate::{CodeRedemption, RefreshRotation, Store};

/// How many tasks race in each case.
const TASKS: usize = 16;

/// Runs `TASKS` copies of `task` (given their index) as spawned tasks, all started before any is
/// awaited, and returns their results in index order.
async fn race<T, F, Fut>(store: &Arc<dyn Store>, task: F) -> Vec<T>
where
    T: Send + 'static,
    F: Fn(Arc<dyn Store>, usize) -> Fut,
    Fut: Future<Output = T> + Send + 'static,
{
    let start = Arc::new(tokio::sync::Barrier::new(TASKS));
    let handles: Vec<_> = (0..TASKS)
        .map(|i| {
            let work = task(Arc::clone(store), i);
            let start = Arc::clone(&start);
            tokio::spawn(async move {
                start.wait().await;
                work.await
            })
        })
        .collect();
    let mut results = Vec::with_capacity(TASKS);
    for handle in handles {
        results.push(handle.await.expect("a racing task panicked"));
    }
    results
}

/// Sixteen different users created at once in one org all succeed.
pub async fn concurrent_create_user_all_succeed(store: Arc<dyn Store>) {
    let org = new_org(&*store, "concurrent-users").await;
    let org_id = org.id.clone();
    let results = race(&store, |s, i| {
        let user = user_record(
            &org_id,
            &format!("user-{i}"),
            &format!("user-{i}@example.org"),
        );
        let e = event(&org_id, "user.created", &user.id);
        async move { s.create_user(&user, &e).await.map(|()| user) }
    })
    .await;
    let mut created = Vec::new();
    for result in results {
        match result {
            Ok(user) => created.push(user),
            Err(e) => panic!("a concurrent create_user failed: {e:?}"),
        }
    }
    let s = &*store;
    let mut listed = s.list_users(&org.id, None, ALL).await.unwrap().items;
    listed.sort_by(|a, b| a.username.cmp(&b.username));
    created.sort_by(|a, b| a.username.cmp(&b.username));
    assert_eq!(listed, created);
    assert_eq!(
        events_of_kind(s, &org.id, "user.created").await.len(),
        TASKS
    );
}

/// Sixteen creations of one username at once: exactly one succeeds, every other one is a
/// `Conflict` on `username`.
pub async fn concurrent_create_user_same_username_one_wins(store: Arc<dyn Store>) {
    let org = new_org(&*store, "concurrent-same-user").await;
    let org_id = org.id.clone();
    let results = race(&store, |s, i| {
        let user = user_record(&org_id, "contested", &format!("u{i}@example.org"));
        let e = event(&org_id, "user.created", &user.id);
        async move { s.create_user(&user, &e).await }
    })
    .await;
    let wins = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(wins, 1, "exactly one creation wins: {results:?}");
    for result in results.into_iter().filter(Result::is_err) {
        expect_conflict(result, "username");
    }
    let s = &*store;
    assert_eq!(
        s.list_users(&org.id, None, ALL).await.unwrap().items.len(),
        1
    );
    assert_eq!(events_of_kind(s, &org.id, "user.created").await.len(), 1);
}

/// Sixteen additions of one membership at once: exactly one `Ok(true)`, the rest `Ok(false)`,
/// and one event.
pub async fn concurrent_add_group_member_one_wins(store: Arc<dyn Store>) {
    let s = &*store;
    let org = new_org(s, "concurrent-member").await;
    let user = new_user(s, &org.id, "yan").await;
    new_group(s, &org.id, "admins").await;
    let (org_id, user_id) = (org.id.clone(), user.id.clone());
    let results = race(&store, |s, _| {
        let (org_id, user_id) = (org_id.clone(), user_id.clone());
        let e = event(&org_id, "group.member_added", "admins");
        async move {
            s.add_group_member(&org_id, "admins", &user_id, NOW, &e)
                .await
        }
    })
    .await;
    let added: Vec<bool> = results
        .into_iter()
        .map(|r| r.expect("add_group_member never fails on a race"))
        .collect();
    assert_eq!(added.iter().filter(|a| **a).count(), 1, "{added:?}");
    assert_eq!(
        s.list_group_members(&org.id, "admins", ALL)
            .await
            .unwrap()
            .items,
        vec![user]
    );
    assert_eq!(
        events_of_kind(s, &org.id, "group.member_added").await.len(),
        1
    );
}

/// Sixteen orgs with one slug at once: one is created, the rest are `Conflict` on `slug`.
pub async fn concurrent_create_org_same_slug_one_wins(store: Arc<dyn Store>) {
    let slug = unique("contested");
    let results = race(&store, |s, _| {
        let org = crate::Org {
            slug: slug.clone(),
            ..org_record("unused")
        };
        let key = key_record(&org.id, NOW);
        let e = event(&org.id, "org.created", &org.slug);
        async move { s.create_org(&org, &key, &e).await.map(|()| org) }
    })
    .await;
    let winners: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(winners.len(), 1, "exactly one org gets the slug");
    let winner = winners[0].clone();
    for result in results.into_iter().filter(Result::is_err) {
        expect_conflict(result, "slug");
    }
    assert_eq!(store.get_org_by_slug(&slug).await.unwrap(), Some(winner));
}

/// Several nodes starting at once with the same bootstrap token: no error, exactly one reports
/// a change, and the token authenticates.
pub async fn concurrent_ensure_admin_token_one_changes(store: Arc<dyn Store>) {
    let s = &*store;
    let org = new_org(s, "concurrent-bootstrap").await;
    let token = admin_token_record(&unique("bootstrap"), None);
    let org_id = org.id.clone();
    let template = token.clone();
    let results = race(&store, |s, _| {
        let mine = crate::AdminToken {
            id: unique("admin-token"),
            ..template.clone()
        };
        let e = event(&org_id, "admin_token.bootstrapped", &mine.name);
        async move { s.ensure_admin_token(&mine, &e).await }
    })
    .await;
    let changed: Vec<bool> = results
        .into_iter()
        .map(|r| match r {
            Ok(changed) => changed,
            Err(e) => panic!("a concurrent ensure_admin_token failed: {e:?}"),
        })
        .collect();
    assert_eq!(changed.iter().filter(|c| **c).count(), 1, "{changed:?}");
    let found = s
        .find_admin_token_by_hash(&token.token_hash)
        .await
        .unwrap()
        .expect("the bootstrap token exists");
    assert_eq!((found.name, found.org_id), (token.name, None));
    assert_eq!(
        events_of_kind(s, &org.id, "admin_token.bootstrapped")
            .await
            .len(),
        1
    );
}

/// Sixteen redemptions of one code at once: exactly one `Redeemed`; the others see the code
/// used (`Replayed`), and the replay revokes the winner's grant.
pub async fn concurrent_redeem_code_one_wins(store: Arc<dyn Store>) {
    let s = &*store;
    let org = new_org(s, "concurrent-code").await;
    let user = new_user(s, &org.id, "zoe").await;
    let code = code_for(&org.id, "grafana", &user.id);
    s.create_code(&code).await.unwrap();
    let (org_id, user_id, code_hash) = (org.id.clone(), user.id.clone(), code.code_hash.clone());
    let results = race(&store, |s, _| {
        let grant = grant_for(&org_id, "grafana", &user_id);
        let refresh = refresh_for(&grant.id);
        let e = event(&org_id, "code.replayed", "grafana");
        let code_hash = code_hash.clone();
        async move {
            let outcome = s
                .redeem_code(&code_hash, NOW + 1, &grant, Some(&refresh), &e)
                .await;
            (outcome, grant, refresh)
        }
    })
    .await;
    let mut winners = Vec::new();
    for (outcome, grant, refresh) in results {
        match outcome {
            Ok(CodeRedemption::Redeemed) => winners.push((grant, refresh)),
            Ok(CodeRedemption::Replayed) => {
                assert_eq!(s.get_grant(&org.id, &grant.id).await.unwrap(), None);
                assert_eq!(
                    s.get_refresh_token(&refresh.token_hash).await.unwrap(),
                    None
                );
            }
            other => panic!("unexpected redemption outcome {other:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one redemption wins");
    let (grant, refresh) = winners.remove(0);
    let used = s.get_code(&code.code_hash).await.unwrap().unwrap();
    assert_eq!(used.grant_id.as_deref(), Some(grant.id.as_str()));
    let stored = s.get_grant(&org.id, &grant.id).await.unwrap().unwrap();
    assert_eq!(stored.revoked_at, Some(NOW + 1), "the replays revoked it");
    assert_eq!(
        s.get_refresh_token(&refresh.token_hash).await.unwrap(),
        Some(refresh)
    );
    assert_eq!(
        events_of_kind(s, &org.id, "code.replayed").await.len(),
        TASKS - 1
    );
}

/// Sixteen rotations of one refresh token at once: exactly one `Rotated`, the others `Raced`
/// (they came within the race window); only the winner's successor exists and the grant stays
/// valid. Sixteen more after the window are each `Reused`, which revokes the grant.
pub async fn concurrent_rotate_refresh_token_one_wins(store: Arc<dyn Store>) {
    let s = &*store;
    let org = new_org(s, "concurrent-refresh").await;
    let user = new_user(s, &org.id, "amy").await;
    let grant = grant_for(&org.id, "grafana", &user.id);
    let first = refresh_for(&grant.id);
    let code = code_for(&org.id, "grafana", &user.id);
    s.create_code(&code).await.unwrap();
    assert_eq!(
        s.redeem_code(
            &code.code_hash,
            NOW,
            &grant,
            Some(&first),
            &event(&org.id, "code.replayed", "grafana")
        )
        .await
        .unwrap(),
        CodeRedemption::Redeemed
    );
    let (org_id, grant_id, old_hash) = (org.id.clone(), grant.id.clone(), first.token_hash.clone());
    let rotate_at = |now: i64, race_since: i64| {
        let (org_id, grant_id, old_hash) = (org_id.clone(), grant_id.clone(), old_hash.clone());
        move |s: Arc<dyn Store>, _| {
            let next = refresh_for(&grant_id);
            let e = event(&org_id, "refresh_token.reused", "grafana");
            let old_hash = old_hash.clone();
            async move {
                let outcome = s
                    .rotate_refresh_token(&old_hash, now, race_since, &next, &e)
                    .await;
                (outcome, next)
            }
        }
    };
    let results = race(&store, rotate_at(NOW + 5, NOW + 3)).await;
    let mut winners = Vec::new();
    for (outcome, next) in results {
        match outcome {
            Ok(RefreshRotation::Rotated) => winners.push(next),
            Ok(RefreshRotation::Raced) => {
                assert_eq!(s.get_refresh_token(&next.token_hash).await.unwrap(), None);
            }
            other => panic!("unexpected rotation outcome {other:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one rotation wins");
    assert_eq!(
        s.get_refresh_token(&winners[0].token_hash).await.unwrap(),
        Some(winners[0].clone())
    );
    assert_eq!(
        s.get_grant(&org.id, &grant.id)
            .await
            .unwrap()
            .unwrap()
            .revoked_at,
        None,
        "a race revokes nothing"
    );

    // The same token after the window: every attempt is a replay.
    for (outcome, next) in race(&store, rotate_at(NOW + 30, NOW + 28)).await {
        assert_eq!(
            outcome.unwrap(),
            RefreshRotation::Reused {
                grant_id: grant.id.clone()
            }
        );
        assert_eq!(s.get_refresh_token(&next.token_hash).await.unwrap(), None);
    }
    assert_eq!(
        s.get_grant(&org.id, &grant.id)
            .await
            .unwrap()
            .unwrap()
            .revoked_at,
        Some(NOW + 30)
    );
}
