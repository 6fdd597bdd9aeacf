//! Admin Console accounts: their creation (with or without the superadmin right), superadmin and
//! org-admin rights, console sessions, what deleting a user or an org removes, and how org
//! listings treat `only` and the console org.
//!
//! The store does not require console accounts to live in the console org, so most cases create
//! their accounts in an org of their own; `console_org_is_never_listed` uses the real one.

use std::sync::Arc;

use super::support::*;
use crate::{
    CONSOLE_ORG_SLUG, ConsoleRights, ConsoleSessionRecord, Event, Org, PageRequest, Store,
    StoreError, User,
};

/// Creates a console account (a user of `org_id`) and returns it.
async fn new_account(store: &dyn Store, org_id: &str, username: &str, superadmin: bool) -> User {
    let user = user_record(org_id, username, &format!("{username}@console.example.org"));
    store
        .create_console_account(
            &user,
            superadmin,
            &[],
            &event(org_id, "console_account.created", &user.id),
        )
        .await
        .expect("create_console_account");
    user
}

fn rights(superadmin: bool, org_ids: &[&str]) -> ConsoleRights {
    ConsoleRights {
        superadmin,
        org_ids: org_ids.iter().map(|id| (*id).to_string()).collect(),
    }
}

async fn grant(store: &dyn Store, user_id: &str, org_id: &str) {
    let granted = store
        .grant_org_admin(
            user_id,
            org_id,
            NOW,
            &event(org_id, "org_admin.granted", user_id),
        )
        .await
        .expect("grant_org_admin");
    assert!(granted, "{user_id} did not yet administer {org_id}");
}

fn session_for(user_id: &str, expires_at: i64) -> ConsoleSessionRecord {
    ConsoleSessionRecord {
        id_hash: unique("console-session"),
        user_id: user_id.to_string(),
        sso_sid: unique("sso-sid"),
        created_at: NOW,
        expires_at,
    }
}

/// The console org of this store, created when missing. Cases may share a store and race here,
/// so a `Conflict` on the slug means another case created it first.
async fn console_org(store: &dyn Store) -> Org {
    if let Some(org) = store.get_org_by_slug(CONSOLE_ORG_SLUG).await.unwrap() {
        return org;
    }
    let org = Org {
        slug: CONSOLE_ORG_SLUG.to_string(),
        name: "Admin Console".to_string(),
        ..org_record("console")
    };
    match store
        .create_org(
            &org,
            &key_record(&org.id, NOW),
            &event(&org.id, "org.created", &org.slug),
        )
        .await
    {
        Ok(()) => org,
        Err(StoreError::Conflict { field: "slug" }) => store
            .get_org_by_slug(CONSOLE_ORG_SLUG)
            .await
            .unwrap()
            .expect("the console org that won the race"),
        Err(other) => panic!("create the console org: {other:?}"),
    }
}

/// Every org `list_orgs(only, ..)` lists, following every page of `limit`.
async fn list_all_orgs(store: &dyn Store, only: Option<&[String]>, limit: u32) -> Vec<Org> {
    let pages = collect_pages!(limit, |page| store.list_orgs(only, page));
    pages.into_iter().flat_map(|p| p.items).collect()
}

/// An account with and one without the superadmin right: both users read back field for field,
/// their rights say whether they are superadmins, and each creation's event is recorded.
pub async fn console_account_round_trip(store: Arc<dyn Store>) {
    let s = &*store;
    let org = new_org(s, "console-accounts").await;
    let root = user_record(&org.id, "Root", "Root@Console.Example.org");
    let plain = User {
        email_verified: false,
        given_name: None,
        family_name: None,
        password_hash: None,
        ..user_record(&org.id, "plain", "plain@console.example.org")
    };
    let created_root = event(&org.id, "console_account.created", &root.id);
    let created_plain = event(&org.id, "console_account.created", &plain.id);
    s.create_console_account(&root, true, &[], &created_root)
        .await
        .unwrap();
    s.create_console_account(&plain, false, &[], &created_plain)
        .await
        .unwrap();

    assert_eq!(
        s.get_user(&org.id, &root.id).await.unwrap(),
        Some(root.clone())
    );
    assert_eq!(
        s.get_user(&org.id, &plain.id).await.unwrap(),
        Some(plain.clone())
    );
    assert_eq!(
        s.find_user_by_login(&org.id, "root").await.unwrap(),
        Some(root.clone()),
        "a console account signs in like any user of its org"
    );
    assert_eq!(
        s.list_users(&org.id, None, ALL).await.unwrap().items,
        vec![root.clone(), plain.clone()]
    );
    assert_eq!(s.console_rights(&root.id).await.unwrap(), rights(true, &[]));
    assert_eq!(
        s.console_rights(&plain.id).await.unwrap(),
        rights(false, &[])
    );
    assert_event_recorded(s, &created_root).await;
    assert_event_recorded(s, &created_plain).await;

    // Rights of an id that is no account at all are empty, not an error.
    assert_eq!(
        s.console_rights(&unique("nobody")).await.unwrap(),
        ConsoleRights::default()
    );
}

/// A console account cannot take a username (in any case) or an email already used in its org,
/// whether by another account or by a plain user; the loser writes no user, no superadmin right
/// and no event.
pub async fn console_account_conflict_writes_nothing(store: Arc<dyn Store>) {
    let s = &*store;
    let org = new_org(s, "console-conflict").await;
    let first = new_account(s, &org.id, "operator", false).await;
    let plain = new_user(s, &org.id, "plainuser").await;

    let attempts = [
        (
            user_record(&org.id, "OPERATOR", "someone@example.net"),
            "username",
        ),
        (
            user_record(&org.id, "Operator", "else@example.net"),
            "username",
        ),
        (
            user_record(&org.id, "PlainUser", "third@example.net"),
            "username",
        ),
        (
            user_record(&org.id, &unique("fresh"), &first.email.to_uppercase()),
            "email",
        ),
        (
            user_record(&org.id, &unique("fresh"), &plain.email),
            "email",
        ),
    ];
    for (loser, field) in attempts {
        let failed = event(&org.id, "console_account.created", &loser.id);
        expect_conflict(
            s.create_console_account(&loser, true, &[], &failed).await,
            field,
        );
        assert_eq!(s.get_user(&org.id, &loser.id).await.unwrap(), None);
        assert_eq!(
            s.console_rights(&loser.id).await.unwrap(),
            ConsoleRights::default(),
            "no superadmin right without its account"
        );
        assert_event_absent(s, &org.id, &failed.id).await;
    }
    assert_eq!(
        s.list_users(&org.id, None, ALL).await.unwrap().items,
        vec![first.clone(), plain]
    );
    assert_eq!(
        s.console_rights(&first.id).await.unwrap(),
        rights(false, &[])
    );

    // The same username in another org is no conflict.
    let other = new_org(s, "console-conflict-other").await;
    let twin = new_account(s, &other.id, "operator", true).await;
    assert_eq!(s.console_rights(&twin.id).await.unwrap(), rights(true, &[]));
    assert_eq!(
        s.console_rights(&first.id).await.unwrap(),
        rights(false, &[])
    );
}

/// `set_superadmin` answers whether it changed anything and writes its event only then.
pub async fn console_set_superadmin_is_idempotent(store: Arc<dyn Store>) {
    let s = &*store;
    let org = new_org(s, "console-superadmin").await;
    let account = new_account(s, &org.id, "sam", false).await;
    let bystander = new_account(s, &org.id, "bystander", false).await;
    let id = account.id.as_str();

    let steps = [
        (true, true),
        (true, false),
        (false, true),
        (false, false),
        (true, true),
    ];
    for (i, (superadmin, changes)) in steps.into_iter().enumerate() {
        let e = event(&org.id, "console_account.superadmin_set", id);
        let changed = s
            .set_superadmin(id, superadmin, NOW + i as i64, &e)
            .await
            .unwrap();
        assert_eq!(
            changed, changes,
            "step {i}: set_superadmin({superadmin}) changes something"
        );
        if changes {
            assert_event_recorded(s, &e).await;
        } else {
            assert_event_absent(s, &org.id, &e.id).await;
        }
        assert_eq!(
            s.console_rights(id).await.unwrap(),
            rights(superadmin, &[]),
            "step {i}"
        );
    }
    assert_eq!(
        s.console_rights(&bystander.id).await.unwrap(),
        rights(false, &[]),
        "only the named account changed"
    );

    // Taking the right keeps the org-admin grants.
    let managed = new_org(s, "console-superadmin-managed").await;
    grant(s, id, &managed.id).await;
    assert!(
        s.set_superadmin(id, false, NOW, &event(&org.id, "x", id))
            .await
            .unwrap()
    );
    assert_eq!(
        s.console_rights(id).await.unwrap(),
        rights(false, &[&managed.id])
    );

    // An unknown user is NotFound either way, and nothing is written.
    let ghost = unique("ghost");
    for superadmin in [true, false] {
        let e = event(&org.id, "console_account.superadmin_set", &ghost);
        expect_not_found(s.set_superadmin(&ghost, superadmin, NOW, &e).await);
        assert_event_absent(s, &org.id, &e.id).await;
        assert_eq!(
            s.console_rights(&ghost).await.unwrap(),
            ConsoleRights::default()
        );
    }
}

/// Org-admin grants: granting twice changes nothing the second time, rights list orgs in grant
/// order (not org creation order), admins of an org are listed in grant order, and revoking
/// answers whether there was a grant.
pub async fn console_org_admin_grant_list_revoke(store: Arc<dyn Store>) {
    let s = &*store;
    let home = new_org(s, "console-admins-home").await;
    let x = new_org(s, "console-admins-x").await;
    let y = new_org(s, "console-admins-y").await;
    let z = new_org(s, "console-admins-z").await;
    let untouched = new_org(s, "console-admins-none").await;
    let alice = new_account(s, &home.id, "alice", false).await;
    let bob = new_account(s, &home.id, "bob", true).await;
    let carol = new_account(s, &home.id, "carol", false).await;

    // Grant z, x, y (not the order the orgs were created in).
    for org in [&z, &x, &y] {
        let e = event(&org.id, "org_admin.granted", &alice.id);
        assert!(
            s.grant_org_admin(&alice.id, &org.id, NOW, &e)
                .await
                .unwrap()
        );
        assert_event_recorded(s, &e).await;
    }
    assert_eq!(
        s.console_rights(&alice.id).await.unwrap(),
        rights(false, &[&z.id, &x.id, &y.id])
    );

    // Granting again changes nothing and writes no event.
    let again = event(&x.id, "org_admin.granted", &alice.id);
    assert!(
        !s.grant_org_admin(&alice.id, &x.id, NOW + 5, &again)
            .await
            .unwrap()
    );
    assert_event_absent(s, &x.id, &again.id).await;
    assert_eq!(
        s.console_rights(&alice.id).await.unwrap(),
        rights(false, &[&z.id, &x.id, &y.id]),
        "a repeated grant keeps its place"
    );

    // Admins of x are listed in grant order: alice first, then carol, then bob.
    grant(s, &carol.id, &x.id).await;
    grant(s, &bob.id, &x.id).await;
    assert_eq!(
        s.list_org_admins(&x.id).await.unwrap(),
        vec![alice.id.clone(), carol.id.clone(), bob.id.clone()]
    );
    assert_eq!(
        s.list_org_admins(&z.id).await.unwrap(),
        vec![alice.id.clone()]
    );
    assert_eq!(
        s.list_org_admins(&untouched.id).await.unwrap(),
        Vec::<String>::new()
    );
    assert_eq!(
        s.list_org_admins(&unique("no-org")).await.unwrap(),
        Vec::<String>::new()
    );
    assert_eq!(
        s.console_rights(&bob.id).await.unwrap(),
        rights(true, &[&x.id])
    );
    assert_eq!(
        s.console_rights(&carol.id).await.unwrap(),
        rights(false, &[&x.id])
    );

    // Revoke: true once (with its event), then false (without).
    let revoked = event(&x.id, "org_admin.revoked", &alice.id);
    assert!(
        s.revoke_org_admin(&alice.id, &x.id, &revoked)
            .await
            .unwrap()
    );
    assert_event_recorded(s, &revoked).await;
    let revoked_again = event(&x.id, "org_admin.revoked", &alice.id);
    assert!(
        !s.revoke_org_admin(&alice.id, &x.id, &revoked_again)
            .await
            .unwrap()
    );
    assert_event_absent(s, &x.id, &revoked_again.id).await;
    assert_eq!(
        s.console_rights(&alice.id).await.unwrap(),
        rights(false, &[&z.id, &y.id])
    );
    assert_eq!(
        s.list_org_admins(&x.id).await.unwrap(),
        vec![carol.id.clone(), bob.id.clone()],
        "revoking one grant leaves the others"
    );

    // Revoking what was never granted (or of unknown ids) is false, not an error.
    let never = event(&untouched.id, "org_admin.revoked", &alice.id);
    assert!(
        !s.revoke_org_admin(&alice.id, &untouched.id, &never)
            .await
            .unwrap()
    );
    assert_event_absent(s, &untouched.id, &never.id).await;
    assert!(
        !s.revoke_org_admin(
            &unique("ghost"),
            &unique("no-org"),
            &event(&home.id, "x", "y")
        )
        .await
        .unwrap()
    );

    // Granted again, the org moves to the end.
    grant(s, &alice.id, &x.id).await;
    assert_eq!(
        s.console_rights(&alice.id).await.unwrap(),
        rights(false, &[&z.id, &y.id, &x.id])
    );
    assert_eq!(
        s.list_org_admins(&x.id).await.unwrap(),
        vec![carol.id.clone(), bob.id.clone(), alice.id.clone()]
    );
}

/// Granting to an unknown user or on an unknown org is `NotFound` and writes nothing.
pub async fn console_org_admin_grant_missing_is_not_found(store: Arc<dyn Store>) {
    let s = &*store;
    let home = new_org(s, "console-grant-missing").await;
    let org = new_org(s, "console-grant-missing-target").await;
    let account = new_account(s, &home.id, "dana", false).await;

    let ghost = unique("ghost");
    let e = event(&org.id, "org_admin.granted", &ghost);
    expect_not_found(s.grant_org_admin(&ghost, &org.id, NOW, &e).await);
    assert_event_absent(s, &org.id, &e.id).await;
    assert_eq!(
        s.list_org_admins(&org.id).await.unwrap(),
        Vec::<String>::new()
    );

    let no_org = unique("no-org");
    let e = event(&home.id, "org_admin.granted", &account.id);
    expect_not_found(s.grant_org_admin(&account.id, &no_org, NOW, &e).await);
    assert_event_absent(s, &home.id, &e.id).await;
    assert_eq!(
        s.console_rights(&account.id).await.unwrap(),
        rights(false, &[])
    );

    let e = event(&home.id, "org_admin.granted", &ghost);
    expect_not_found(s.grant_org_admin(&ghost, &no_org, NOW, &e).await);
    assert_event_absent(s, &home.id, &e.id).await;

    // A deleted org is as unknown as one that never existed.
    let gone = new_org(s, "console-grant-gone").await;
    assert!(
        s.delete_org(&gone.id, &event(&gone.id, "org.deleted", &gone.slug))
            .await
            .unwrap()
    );
    expect_not_found(
        s.grant_org_admin(&account.id, &gone.id, NOW, &event(&home.id, "x", "y"))
            .await,
    );
    assert_eq!(
        s.console_rights(&account.id).await.unwrap(),
        rights(false, &[])
    );
}

/// Deleting a console account (`delete_user`) removes its superadmin right, its grants and its
/// console sessions, and nobody else's; the same id recreated starts with nothing.
pub async fn console_delete_user_removes_rights_and_sessions(store: Arc<dyn Store>) {
    let s = &*store;
    let home = new_org(s, "console-delete-user").await;
    let a = new_org(s, "console-delete-user-a").await;
    let b = new_org(s, "console-delete-user-b").await;
    let doomed = new_account(s, &home.id, "doomed", true).await;
    let kept = new_account(s, &home.id, "kept", true).await;
    for account in [&doomed, &kept] {
        grant(s, &account.id, &a.id).await;
        grant(s, &account.id, &b.id).await;
    }
    let doomed_sessions = [
        session_for(&doomed.id, NOW + 3600),
        session_for(&doomed.id, NOW + 7200),
    ];
    let kept_session = session_for(&kept.id, NOW + 3600);
    for session in doomed_sessions.iter().chain([&kept_session]) {
        s.create_console_session(session).await.unwrap();
    }

    let deleted = event(&home.id, "user.deleted", &doomed.id);
    assert!(s.delete_user(&home.id, &doomed.id, &deleted).await.unwrap());
    assert_event_recorded(s, &deleted).await;

    assert_eq!(s.get_user(&home.id, &doomed.id).await.unwrap(), None);
    assert_eq!(
        s.console_rights(&doomed.id).await.unwrap(),
        ConsoleRights::default()
    );
    for session in &doomed_sessions {
        assert_eq!(
            s.get_console_session(&session.id_hash, NOW).await.unwrap(),
            None
        );
        assert!(
            !s.delete_console_session(&session.id_hash).await.unwrap(),
            "the session row itself is gone"
        );
    }
    for org in [&a, &b] {
        assert_eq!(
            s.list_org_admins(&org.id).await.unwrap(),
            vec![kept.id.clone()]
        );
    }

    // The other account keeps everything.
    assert_eq!(
        s.console_rights(&kept.id).await.unwrap(),
        rights(true, &[&a.id, &b.id])
    );
    assert_eq!(
        s.get_console_session(&kept_session.id_hash, NOW)
            .await
            .unwrap(),
        Some(kept_session)
    );

    // Nothing lingers under the old id.
    let reborn = user_record(&home.id, "doomed", "doomed@console.example.org");
    let reborn = User {
        id: doomed.id.clone(),
        ..reborn
    };
    s.create_console_account(&reborn, false, &[], &event(&home.id, "x", &reborn.id))
        .await
        .unwrap();
    assert_eq!(
        s.console_rights(&reborn.id).await.unwrap(),
        rights(false, &[])
    );
    assert_eq!(
        s.get_console_session(&doomed_sessions[0].id_hash, NOW)
            .await
            .unwrap(),
        None
    );
    assert_eq!(s.list_org_admins(&a.id).await.unwrap(), vec![kept.id]);
}

/// Deleting an org removes the grants on it, but not the accounts that held them nor their other
/// rights; deleting the org an account lives in removes the account with its rights and sessions.
pub async fn console_delete_org_removes_grants_not_accounts(store: Arc<dyn Store>) {
    let s = &*store;
    let home = new_org(s, "console-delete-org-home").await;
    let doomed = new_org(s, "console-delete-org-doomed").await;
    let kept = new_org(s, "console-delete-org-kept").await;
    let first = new_account(s, &home.id, "first", true).await;
    let second = new_account(s, &home.id, "second", false).await;
    grant(s, &first.id, &doomed.id).await;
    grant(s, &first.id, &kept.id).await;
    grant(s, &second.id, &kept.id).await;
    grant(s, &second.id, &doomed.id).await;
    let session = session_for(&first.id, NOW + 3600);
    s.create_console_session(&session).await.unwrap();

    assert!(
        s.delete_org(&doomed.id, &event(&doomed.id, "org.deleted", &doomed.slug))
            .await
            .unwrap()
    );
    assert_eq!(
        s.list_org_admins(&doomed.id).await.unwrap(),
        Vec::<String>::new()
    );
    assert_eq!(
        s.console_rights(&first.id).await.unwrap(),
        rights(true, &[&kept.id])
    );
    assert_eq!(
        s.console_rights(&second.id).await.unwrap(),
        rights(false, &[&kept.id])
    );
    assert_eq!(
        s.get_user(&home.id, &first.id).await.unwrap(),
        Some(first.clone())
    );
    assert_eq!(
        s.get_user(&home.id, &second.id).await.unwrap(),
        Some(second.clone())
    );
    assert_eq!(
        s.get_console_session(&session.id_hash, NOW).await.unwrap(),
        Some(session.clone())
    );
    assert_eq!(
        s.list_org_admins(&kept.id).await.unwrap(),
        vec![first.id.clone(), second.id.clone()]
    );
    // A grant revoked by the cascade is not there to revoke any more.
    assert!(
        !s.revoke_org_admin(&first.id, &doomed.id, &event(&home.id, "x", "y"))
            .await
            .unwrap()
    );

    // The accounts' own org goes: the accounts go with it, and so do their rights and sessions.
    assert!(
        s.delete_org(&home.id, &event(&home.id, "org.deleted", &home.slug))
            .await
            .unwrap()
    );
    assert_eq!(s.get_user(&home.id, &first.id).await.unwrap(), None);
    assert_eq!(
        s.console_rights(&first.id).await.unwrap(),
        ConsoleRights::default()
    );
    assert_eq!(
        s.console_rights(&second.id).await.unwrap(),
        ConsoleRights::default()
    );
    assert_eq!(
        s.list_org_admins(&kept.id).await.unwrap(),
        Vec::<String>::new()
    );
    assert_eq!(
        s.get_console_session(&session.id_hash, NOW).await.unwrap(),
        None
    );
    assert_eq!(s.get_org(&kept.id).await.unwrap(), Some(kept));
}

/// A console session reads back field for field until it expires (`expires_at <= now` is
/// expired), and deleting answers whether there was one.
pub async fn console_session_round_trip_expiry_and_delete(store: Arc<dyn Store>) {
    let s = &*store;
    let org = new_org(s, "console-sessions").await;
    let account = new_account(s, &org.id, "erin", false).await;
    let session = session_for(&account.id, NOW + 3600);
    let other = session_for(&account.id, NOW + 60);
    s.create_console_session(&session).await.unwrap();
    s.create_console_session(&other).await.unwrap();

    for now in [NOW - 100, NOW, NOW + 3599] {
        assert_eq!(
            s.get_console_session(&session.id_hash, now).await.unwrap(),
            Some(session.clone()),
            "live at {now}"
        );
    }
    for now in [NOW + 3600, NOW + 3601, NOW + 1_000_000] {
        assert_eq!(
            s.get_console_session(&session.id_hash, now).await.unwrap(),
            None,
            "expired at {now}"
        );
    }
    assert_eq!(
        s.get_console_session(&other.id_hash, NOW).await.unwrap(),
        Some(other.clone())
    );
    assert_eq!(
        s.get_console_session(&other.id_hash, NOW + 60)
            .await
            .unwrap(),
        None
    );

    // Deleting one session keeps the other; a second delete finds nothing.
    assert!(s.delete_console_session(&session.id_hash).await.unwrap());
    assert_eq!(
        s.get_console_session(&session.id_hash, NOW).await.unwrap(),
        None
    );
    assert!(!s.delete_console_session(&session.id_hash).await.unwrap());
    assert_eq!(
        s.get_console_session(&other.id_hash, NOW).await.unwrap(),
        Some(other.clone())
    );

    // An expired session can still be deleted (it is there until someone removes it).
    assert!(s.delete_console_session(&other.id_hash).await.unwrap());

    let unknown = unique("console-session");
    assert_eq!(s.get_console_session(&unknown, NOW).await.unwrap(), None);
    assert!(!s.delete_console_session(&unknown).await.unwrap());

    // Console sessions do not touch the account's rights.
    assert_eq!(
        s.console_rights(&account.id).await.unwrap(),
        rights(false, &[])
    );
}

/// Each console mutation whose audit event cannot be written (its id is taken) is rolled back
/// whole: no account, no right, no grant changes.
pub async fn console_mutation_whose_event_fails_is_rolled_back(store: Arc<dyn Store>) {
    let s = &*store;
    let org = new_org(s, "console-atomic").await;
    let target = new_org(s, "console-atomic-target").await;
    let o = org.id.as_str();
    let taken = event(o, "taken", "taken");
    s.append_event(&taken).await.unwrap();
    let bad = |kind: &str| Event {
        kind: kind.to_string(),
        ..taken.clone()
    };

    let never = user_record(o, "never", "never@example.org");
    assert!(
        s.create_console_account(&never, true, &[], &bad("console_account.created"))
            .await
            .is_err()
    );
    assert_eq!(s.get_user(o, &never.id).await.unwrap(), None);
    assert_eq!(
        s.console_rights(&never.id).await.unwrap(),
        ConsoleRights::default()
    );
    assert_eq!(s.find_user_by_login(o, "never").await.unwrap(), None);

    let account = new_account(s, o, "atomic", false).await;
    let holder = new_account(s, o, "holder", true).await;
    grant(s, &holder.id, &target.id).await;

    assert!(
        s.set_superadmin(&account.id, true, NOW, &bad("superadmin"))
            .await
            .is_err()
    );
    assert!(
        s.set_superadmin(&holder.id, false, NOW, &bad("superadmin"))
            .await
            .is_err()
    );
    assert!(
        s.grant_org_admin(&account.id, &target.id, NOW, &bad("granted"))
            .await
            .is_err()
    );
    assert!(
        s.revoke_org_admin(&holder.id, &target.id, &bad("revoked"))
            .await
            .is_err()
    );

    assert_eq!(
        s.console_rights(&account.id).await.unwrap(),
        rights(false, &[])
    );
    assert_eq!(
        s.console_rights(&holder.id).await.unwrap(),
        rights(true, &[&target.id])
    );
    assert_eq!(
        s.list_org_admins(&target.id).await.unwrap(),
        vec![holder.id.clone()]
    );
    let trail = events_where(s, o, crate::EventFilter::default()).await;
    assert_eq!(
        trail
            .iter()
            .filter(|e| e.id == taken.id)
            .collect::<Vec<_>>(),
        vec![&taken],
        "the taken event is unchanged"
    );
}

/// `list_orgs(Some(ids))` lists exactly those orgs, in creation order whatever the order of the
/// ids; an empty list lists nothing; unknown and repeated ids add nothing.
pub async fn list_orgs_only_lists_those_ids(store: Arc<dyn Store>) {
    let s = &*store;
    let a = new_org(s, "only-many-a").await;
    let b = new_org(s, "only-many-b").await;
    let c = new_org(s, "only-many-c").await;

    let two = s
        .list_orgs(Some(&[c.id.clone(), a.id.clone()]), PageRequest::first(10))
        .await
        .unwrap();
    assert_eq!(two.items, vec![a.clone(), c.clone()]);
    assert_eq!(two.next_after, None);

    let nothing = s
        .list_orgs(Some(&[]), PageRequest::first(10))
        .await
        .unwrap();
    assert_eq!(nothing.items, vec![]);
    assert_eq!(nothing.next_after, None);

    let mixed = s
        .list_orgs(
            Some(&[
                unique("unknown"),
                b.id.clone(),
                b.id.clone(),
                unique("unknown"),
            ]),
            PageRequest::first(10),
        )
        .await
        .unwrap();
    assert_eq!(mixed.items, vec![b.clone()]);
    assert_eq!(mixed.next_after, None);

    let all_three = s
        .list_orgs(
            Some(&[b.id.clone(), c.id.clone(), a.id.clone()]),
            PageRequest::first(3),
        )
        .await
        .unwrap();
    assert_eq!(all_three.items, vec![a, b, c]);
    assert_eq!(all_three.next_after, None, "exactly a page holds no more");
}

/// `list_orgs` with `only` pages like the full list: 3 orgs over pages of 2 and of 1.
pub async fn list_orgs_only_paginates(store: Arc<dyn Store>) {
    let s = &*store;
    let mut ours = Vec::new();
    for _ in 0..3 {
        ours.push(new_org(s, "only-paged").await);
    }
    // An org created between ours that `only` leaves out.
    let _skipped = new_org(s, "only-paged-skipped").await;
    ours.push(new_org(s, "only-paged").await);
    let ids: Vec<String> = ours.iter().skip(1).map(|o| o.id.clone()).collect();
    let wanted = &ours[1..];

    let first = s
        .list_orgs(Some(&ids), PageRequest::first(2))
        .await
        .unwrap();
    assert_eq!(first.items, wanted[..2].to_vec());
    let after = first
        .next_after
        .expect("a first page of 2 out of 3 points on");
    let second = s
        .list_orgs(
            Some(&ids),
            PageRequest {
                after: Some(after),
                limit: 2,
            },
        )
        .await
        .unwrap();
    assert_eq!(second.items, wanted[2..].to_vec());
    assert_eq!(second.next_after, None);

    for limit in [1, 2, 3, 4] {
        let pages = collect_pages!(limit, |page| s.list_orgs(Some(&ids), page));
        assert_eq!(
            pages.len(),
            3usize.div_ceil(limit as usize),
            "3 orgs in pages of {limit}"
        );
        let listed: Vec<Org> = pages.into_iter().flat_map(|p| p.items).collect();
        assert_eq!(listed, wanted.to_vec(), "pages of {limit}");
    }
}

/// The console org (slug `CONSOLE_ORG_SLUG`) is found by id and slug but never listed, whether
/// `only` names it or not; it does not disturb listing or paging the other orgs.
pub async fn console_org_is_never_listed(store: Arc<dyn Store>) {
    let s = &*store;
    let before = new_org(s, "around-console-before").await;
    let console = console_org(s).await;
    let after = new_org(s, "around-console-after").await;
    assert_eq!(console.slug, CONSOLE_ORG_SLUG);
    assert_eq!(s.get_org(&console.id).await.unwrap(), Some(console.clone()));

    for limit in [1, 2, 1000] {
        let listed = list_all_orgs(s, None, limit).await;
        assert!(
            listed
                .iter()
                .all(|o| o.id != console.id && o.slug != CONSOLE_ORG_SLUG),
            "the console org is not listed (pages of {limit})"
        );
        let ours: Vec<&Org> = listed
            .iter()
            .filter(|o| o.id == before.id || o.id == after.id)
            .collect();
        assert_eq!(ours, vec![&before, &after], "pages of {limit}");
    }

    assert_eq!(
        list_all_orgs(s, Some(std::slice::from_ref(&console.id)), 10).await,
        vec![]
    );
    for limit in [1, 2, 10] {
        assert_eq!(
            list_all_orgs(
                s,
                Some(&[after.id.clone(), console.id.clone(), before.id.clone()]),
                limit
            )
            .await,
            vec![before.clone(), after.clone()],
            "pages of {limit}"
        );
    }

    // Console accounts live in it like users in any org, and may administer tenant orgs.
    let account = new_account(s, &console.id, &unique("console-admin"), false).await;
    assert_eq!(
        s.get_user(&console.id, &account.id).await.unwrap(),
        Some(account.clone())
    );
    grant(s, &account.id, &after.id).await;
    assert_eq!(
        s.console_rights(&account.id).await.unwrap(),
        rights(false, &[&after.id])
    );
    assert!(
        s.delete_user(
            &console.id,
            &account.id,
            &event(&console.id, "user.deleted", &account.id)
        )
        .await
        .unwrap()
    );
    assert_eq!(
        s.list_org_admins(&after.id).await.unwrap(),
        Vec::<String>::new()
    );
}

/// An account created with grants holds them at once, with their events; a grant on a missing
/// org writes nothing at all.
pub async fn console_account_created_with_grants_whole_or_not_at_all(store: Arc<dyn Store>) {
    let s = &*store;
    let home = new_org(s, "console-grants-home").await;
    let a = new_org(s, "console-grants-a").await;
    let b = new_org(s, "console-grants-b").await;

    let ann = user_record(&home.id, "ann", "ann@console.example.org");
    let grants = vec![
        (b.id.clone(), event(&b.id, "org_admin.granted", &ann.id)),
        (a.id.clone(), event(&a.id, "org_admin.granted", &ann.id)),
    ];
    let created = event(&home.id, "console_account.created", &ann.id);
    s.create_console_account(&ann, false, &grants, &created)
        .await
        .unwrap();
    assert_eq!(
        s.console_rights(&ann.id).await.unwrap(),
        rights(false, &[&b.id, &a.id])
    );
    assert_event_recorded(s, &created).await;
    for (_, e) in &grants {
        assert_event_recorded(s, e).await;
    }

    let bob = user_record(&home.id, "bob", "bob@console.example.org");
    let missing = unique("missing-org");
    let doomed = vec![
        (a.id.clone(), event(&a.id, "org_admin.granted", &bob.id)),
        (
            missing.clone(),
            event(&home.id, "org_admin.granted", &bob.id),
        ),
    ];
    let failed = event(&home.id, "console_account.created", &bob.id);
    expect_not_found(s.create_console_account(&bob, true, &doomed, &failed).await);
    assert_eq!(s.get_user(&home.id, &bob.id).await.unwrap(), None);
    assert_eq!(s.console_rights(&bob.id).await.unwrap(), rights(false, &[]));
    assert_eq!(
        s.list_org_admins(&a.id).await.unwrap(),
        vec![ann.id.clone()]
    );
    let bobs = crate::EventFilter {
        target: Some(bob.id.clone()),
        ..Default::default()
    };
    assert!(events_where(s, &home.id, bobs.clone()).await.is_empty());
    assert!(events_where(s, &a.id, bobs).await.is_empty());
}
