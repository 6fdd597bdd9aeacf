//! Users: round trips, case-insensitive uniqueness of username and email, sign-in look-up and
//! search.

use std::sync::Arc;

use super::support::*;
use crate::{PageRequest, Store, User, normalize_login};

/// Users with every optional field set, and with none, read back field for field.
pub async fn user_round_trip(store: Arc<dyn Store>) {
    let s = &*store;
    let org = new_org(s, "users").await;
    let full = user_record(&org.id, "Alice.Smith", "Alice.Smith@Example.ORG");
    let bare = User {
        email_verified: false,
        given_name: None,
        family_name: None,
        password_hash: None,
        disabled: true,
        ..user_record(&org.id, "bob", "bob@example.org")
    };
    let created_full = event(&org.id, "user.created", &full.id);
    let created_bare = event(&org.id, "user.created", &bare.id);
    s.create_user(&full, &created_full).await.unwrap();
    s.create_user(&bare, &created_bare).await.unwrap();

    assert_eq!(
        s.get_user(&org.id, &full.id).await.unwrap(),
        Some(full.clone())
    );
    assert_eq!(
        s.get_user(&org.id, &bare.id).await.unwrap(),
        Some(bare.clone())
    );
    assert_eq!(
        s.list_users(&org.id, None, ALL).await.unwrap().items,
        vec![full, bare]
    );
    assert_event_recorded(s, &created_full).await;
    assert_event_recorded(s, &created_bare).await;
}

pub async fn user_missing_lookups_are_none(store: Arc<dyn Store>) {
    let s = &*store;
    let org = new_org(s, "no-users").await;
    assert_eq!(s.get_user(&org.id, "nobody").await.unwrap(), None);
    assert_eq!(s.find_user_by_login(&org.id, "nobody").await.unwrap(), None);
    assert_eq!(
        s.list_users(&org.id, None, ALL).await.unwrap().items,
        vec![]
    );
    assert_eq!(
        s.user_group_names(&org.id, "nobody").await.unwrap(),
        Vec::<String>::new()
    );
    let deleted = event(&org.id, "user.deleted", "nobody");
    assert!(!s.delete_user(&org.id, "nobody", &deleted).await.unwrap());
    assert_event_absent(s, &org.id, &deleted.id).await;
}

/// Usernames are unique within an org regardless of case.
pub async fn username_conflict_is_case_insensitive(store: Arc<dyn Store>) {
    let s = &*store;
    let org = new_org(s, "usernames").await;
    let first = user_record(&org.id, "Alice", "alice@example.org");
    s.create_user(&first, &event(&org.id, "user.created", &first.id))
        .await
        .unwrap();
    for spelling in ["Alice", "alice", "ALICE", "aLiCe"] {
        let second = user_record(&org.id, spelling, &format!("{}@example.net", unique("m")));
        expect_conflict(
            s.create_user(&second, &event(&org.id, "user.created", &second.id))
                .await,
            "username",
        );
        assert_eq!(s.get_user(&org.id, &second.id).await.unwrap(), None);
    }
    assert_eq!(
        s.list_users(&org.id, None, ALL).await.unwrap().items,
        vec![first]
    );
}

/// Emails are unique within an org regardless of case.
pub async fn email_conflict_is_case_insensitive(store: Arc<dyn Store>) {
    let s = &*store;
    let org = new_org(s, "emails").await;
    let first = user_record(&org.id, "carol", "Carol@Example.org");
    s.create_user(&first, &event(&org.id, "user.created", &first.id))
        .await
        .unwrap();
    for spelling in [
        "Carol@Example.org",
        "carol@example.org",
        "CAROL@EXAMPLE.ORG",
    ] {
        let second = user_record(&org.id, &unique("other"), spelling);
        expect_conflict(
            s.create_user(&second, &event(&org.id, "user.created", &second.id))
                .await,
            "email",
        );
        assert_eq!(s.get_user(&org.id, &second.id).await.unwrap(), None);
    }
    assert_eq!(
        s.list_users(&org.id, None, ALL).await.unwrap().items,
        vec![first]
    );
}

/// `update_user` replaces every mutable field, including username and email (and their
/// look-up forms).
pub async fn user_update_round_trip(store: Arc<dyn Store>) {
    let s = &*store;
    let org = new_org(s, "user-update").await;
    let user = new_user(s, &org.id, "dave").await;
    let changed = User {
        username: "David".to_string(),
        email: "David@Example.com".to_string(),
        email_verified: false,
        name: "David D.".to_string(),
        given_name: None,
        family_name: Some("D.".to_string()),
        password_hash: None,
        disabled: true,
        updated_at: NOW + 700,
        ..user.clone()
    };
    let updated = event(&org.id, "user.updated", &user.id);
    s.update_user(&changed, &updated).await.unwrap();

    assert_eq!(
        s.get_user(&org.id, &user.id).await.unwrap(),
        Some(changed.clone())
    );
    assert_eq!(
        s.find_user_by_login(&org.id, "david").await.unwrap(),
        Some(changed.clone())
    );
    assert_eq!(
        s.find_user_by_login(&org.id, "david@example.com")
            .await
            .unwrap(),
        Some(changed.clone())
    );
    assert_eq!(s.find_user_by_login(&org.id, "dave").await.unwrap(), None);
    assert_eq!(
        s.find_user_by_login(&org.id, "dave@example.org")
            .await
            .unwrap(),
        None
    );
    assert_event_recorded(s, &updated).await;

    // The old names are free again.
    let newcomer = user_record(&org.id, "dave", "dave@example.org");
    s.create_user(&newcomer, &event(&org.id, "user.created", &newcomer.id))
        .await
        .unwrap();
}

/// Renaming a user onto another user's username or email (in any case) is a conflict and
/// changes nothing.
pub async fn user_update_into_a_taken_name_is_conflict(store: Arc<dyn Store>) {
    let s = &*store;
    let org = new_org(s, "user-update-conflict").await;
    let erin = new_user(s, &org.id, "erin").await;
    let frank = new_user(s, &org.id, "frank").await;

    let onto_username = User {
        username: "ERIN".to_string(),
        updated_at: NOW + 1,
        ..frank.clone()
    };
    let failed = event(&org.id, "user.updated", &frank.id);
    expect_conflict(s.update_user(&onto_username, &failed).await, "username");
    let onto_email = User {
        email: erin.email.to_uppercase(),
        updated_at: NOW + 1,
        ..frank.clone()
    };
    expect_conflict(
        s.update_user(&onto_email, &event(&org.id, "user.updated", &frank.id))
            .await,
        "email",
    );
    assert_eq!(s.get_user(&org.id, &frank.id).await.unwrap(), Some(frank));
    assert_eq!(s.get_user(&org.id, &erin.id).await.unwrap(), Some(erin));
    assert_event_absent(s, &org.id, &failed.id).await;
}

pub async fn user_update_missing_is_not_found(store: Arc<dyn Store>) {
    let s = &*store;
    let org = new_org(s, "user-update-missing").await;
    let ghost = user_record(&org.id, "ghost", "ghost@example.org");
    let updated = event(&org.id, "user.updated", &ghost.id);
    expect_not_found(s.update_user(&ghost, &updated).await);
    assert_eq!(s.get_user(&org.id, &ghost.id).await.unwrap(), None);
    assert_eq!(s.find_user_by_login(&org.id, "ghost").await.unwrap(), None);
    assert_event_absent(s, &org.id, &updated.id).await;
}

/// `delete_user` answers whether the user existed and removes its memberships; other members
/// stay.
pub async fn user_delete_removes_user_and_memberships(store: Arc<dyn Store>) {
    let s = &*store;
    let org = new_org(s, "user-delete").await;
    let gone = new_user(s, &org.id, "gone").await;
    let stays = new_user(s, &org.id, "stays").await;
    for group in ["admins", "editors"] {
        new_group(s, &org.id, group).await;
        add_member(s, &org.id, group, &gone.id).await;
        add_member(s, &org.id, group, &stays.id).await;
    }
    let deleted = event(&org.id, "user.deleted", &gone.id);
    assert!(s.delete_user(&org.id, &gone.id, &deleted).await.unwrap());
    assert_event_recorded(s, &deleted).await;

    assert_eq!(s.get_user(&org.id, &gone.id).await.unwrap(), None);
    assert_eq!(s.find_user_by_login(&org.id, "gone").await.unwrap(), None);
    assert_eq!(
        s.user_group_names(&org.id, &gone.id).await.unwrap(),
        Vec::<String>::new()
    );
    for group in ["admins", "editors"] {
        assert_eq!(
            s.list_group_members(&org.id, group, ALL)
                .await
                .unwrap()
                .items,
            vec![stays.clone()]
        );
        assert!(
            !s.remove_group_member(
                &org.id,
                group,
                &gone.id,
                &event(&org.id, "group.member_removed", group)
            )
            .await
            .unwrap(),
            "no membership is left to remove"
        );
    }
    assert_eq!(
        s.user_group_names(&org.id, &stays.id).await.unwrap(),
        vec!["admins".to_string(), "editors".to_string()]
    );
    assert!(
        !s.delete_user(&org.id, &gone.id, &event(&org.id, "user.deleted", &gone.id))
            .await
            .unwrap()
    );
}

/// `find_user_by_login` finds a user by the normalized form of its username or its email.
pub async fn find_user_by_login_username_or_email(store: Arc<dyn Store>) {
    let s = &*store;
    let org = new_org(s, "login").await;
    let user = user_record(&org.id, "Grace.Hopper", "Grace@Navy.MIL");
    s.create_user(&user, &event(&org.id, "user.created", &user.id))
        .await
        .unwrap();
    let other = new_user(s, &org.id, "someone-else").await;

    for login in [
        "Grace.Hopper",
        "grace.hopper",
        "GRACE.HOPPER",
        " Grace.Hopper ",
        "Grace@Navy.MIL",
        "grace@navy.mil",
        "GRACE@NAVY.MIL",
    ] {
        assert_eq!(
            s.find_user_by_login(&org.id, &normalize_login(login))
                .await
                .unwrap(),
            Some(user.clone()),
            "login {login:?}"
        );
    }
    assert_eq!(
        s.find_user_by_login(&org.id, &normalize_login("someone-else"))
            .await
            .unwrap(),
        Some(other)
    );
    for miss in ["grace", "hopper", "grace@navy", "navy.mil", "grace.hopper2"] {
        assert_eq!(
            s.find_user_by_login(&org.id, miss).await.unwrap(),
            None,
            "login {miss:?} is no user's username or email"
        );
    }
}

/// When one user's username is another user's email, the username wins.
pub async fn find_user_by_login_prefers_username(store: Arc<dyn Store>) {
    let s = &*store;
    let org = new_org(s, "login-order").await;
    // Created first so that an implementation that just takes the oldest match fails.
    let by_email = user_record(&org.id, "heidi", "Shared@Example.org");
    s.create_user(&by_email, &event(&org.id, "user.created", &by_email.id))
        .await
        .unwrap();
    let by_username = user_record(&org.id, "shared@example.ORG", "ivan@example.org");
    s.create_user(
        &by_username,
        &event(&org.id, "user.created", &by_username.id),
    )
    .await
    .unwrap();
    assert_eq!(
        s.find_user_by_login(&org.id, &normalize_login("SHARED@example.org"))
            .await
            .unwrap(),
        Some(by_username)
    );
}

fn usernames(users: &[User]) -> Vec<&str> {
    users.iter().map(|u| u.username.as_str()).collect()
}

async fn search(s: &dyn Store, org_id: &str, term: &str) -> Vec<User> {
    let page = s
        .list_users(org_id, Some(term), PageRequest::first(1000))
        .await
        .unwrap();
    assert_eq!(page.next_after, None);
    page.items
}

/// Search matches a case-insensitive substring of username, email or name, oldest first.
pub async fn list_users_search_is_case_insensitive_substring(store: Arc<dyn Store>) {
    let s = &*store;
    let org = new_org(s, "search").await;
    let other_org = new_org(s, "search-other").await;
    let mut a = user_record(&org.id, "JSmith", "john@corp.example");
    a.name = "John Q Public".to_string();
    let mut b = user_record(&org.id, "mary", "Mary.Major@Smithfield.example");
    b.name = "Mary Major".to_string();
    let mut c = user_record(&org.id, "kim", "kim@corp.example");
    c.name = "Kim BLACKSMITH".to_string();
    let mut d = user_record(&org.id, "zed", "zed@else.example");
    d.name = "Zed".to_string();
    // Beyond ASCII: SQLite's own LOWER() would not fold these.
    let mut e = user_record(&org.id, "elodie", "elodie@else.example");
    e.name = "ÉLODIE Ærø".to_string();
    for u in [&a, &b, &c, &d, &e] {
        s.create_user(u, &event(&org.id, "user.created", &u.id))
            .await
            .unwrap();
    }
    // A match in another org is never listed.
    let mut foreign = user_record(&other_org.id, "smith", "smith@corp.example");
    foreign.name = "Smith".to_string();
    s.create_user(&foreign, &event(&other_org.id, "user.created", &foreign.id))
        .await
        .unwrap();

    let cases: &[(&str, &[&str])] = &[
        // username, email and name, in any case
        ("smith", &["JSmith", "mary", "kim"]),
        ("SMITH", &["JSmith", "mary", "kim"]),
        ("jsm", &["JSmith"]),
        ("CORP.EXAMPLE", &["JSmith", "kim"]),
        ("q pub", &["JSmith"]),
        ("major", &["mary"]),
        ("blacksmith", &["kim"]),
        ("zed", &["zed"]),
        ("élodie", &["elodie"]),
        ("ÆRØ", &["elodie"]),
        ("", &["JSmith", "mary", "kim", "zed", "elodie"]),
        ("nobody-matches", &[]),
    ];
    for (term, expected) in cases {
        assert_eq!(
            usernames(&search(s, &org.id, term).await),
            *expected,
            "search {term:?}"
        );
    }
    assert_eq!(
        search(s, &org.id, "smith").await[0],
        a,
        "whole records are listed"
    );
}

/// `%`, `_` and `\` in a search are plain characters, not LIKE wildcards or escapes.
pub async fn list_users_search_treats_wildcards_literally(store: Arc<dyn Store>) {
    let s = &*store;
    let org = new_org(s, "wildcards").await;
    for name in [
        "bob",
        "b_b",
        "100%real",
        "100xreal",
        "back\\slash",
        "backslash",
    ] {
        let mut u = user_record(&org.id, name, &format!("{}@example.org", unique("m")));
        u.name = "Plain".to_string();
        s.create_user(&u, &event(&org.id, "user.created", &u.id))
            .await
            .unwrap();
    }
    let cases: &[(&str, &[&str])] = &[
        ("_", &["b_b"]),
        ("b_b", &["b_b"]),
        ("%", &["100%real"]),
        ("0%r", &["100%real"]),
        ("100%", &["100%real"]),
        ("\\", &["back\\slash"]),
        ("k\\s", &["back\\slash"]),
        ("%%", &[]),
        ("__", &[]),
    ];
    for (term, expected) in cases {
        assert_eq!(
            usernames(&search(s, &org.id, term).await),
            *expected,
            "search {term:?}"
        );
    }
}

/// A new password or disabling ends the user's SSO and console sessions; other edits, and other
/// users' sessions, are left alone.
pub async fn user_update_ends_sessions_on_password_change_or_disable(store: Arc<dyn Store>) {
    use crate::{ConsoleSessionRecord, SessionRecord};
    let s = &*store;
    let org = new_org(s, "end-sessions").await;
    let user = new_user(s, &org.id, "gina").await;
    let other = new_user(s, &org.id, "hank").await;
    let start = |user_id: String| {
        let sso = SessionRecord {
            id_hash: unique("session"),
            sid: unique("sid"),
            org_id: org.id.clone(),
            user_id: user_id.clone(),
            auth_time: NOW,
            created_at: NOW,
            expires_at: NOW + 3600,
        };
        let console = ConsoleSessionRecord {
            id_hash: unique("console-session"),
            user_id,
            sso_sid: sso.sid.clone(),
            created_at: NOW,
            expires_at: NOW + 3600,
        };
        (sso, console)
    };
    let live = |sso: SessionRecord, console: ConsoleSessionRecord| {
        let org_id = org.id.clone();
        async move {
            (
                s.get_session(&org_id, &sso.id_hash, NOW)
                    .await
                    .unwrap()
                    .is_some(),
                s.get_console_session(&console.id_hash, NOW)
                    .await
                    .unwrap()
                    .is_some(),
            )
        }
    };
    let begin = |sso: &SessionRecord, console: &ConsoleSessionRecord| {
        let (sso, console) = (sso.clone(), console.clone());
        let e = event(&org.id, "user.signed_in", &sso.user_id);
        async move {
            s.create_session(&sso, &e).await.unwrap();
            s.create_console_session(&console).await.unwrap();
        }
    };

    // Renaming keeps the sessions.
    let (sso, console) = start(user.id.clone());
    begin(&sso, &console).await;
    let (other_sso, other_console) = start(other.id.clone());
    begin(&other_sso, &other_console).await;
    let renamed = User {
        name: "Gina Renamed".into(),
        ..user.clone()
    };
    let e = event(&org.id, "user.updated", &user.id);
    s.update_user(&renamed, &e).await.unwrap();
    assert_eq!(live(sso.clone(), console.clone()).await, (true, true));

    // A new password ends them.
    let repassworded = User {
        password_hash: Some("$argon2id$new".into()),
        ..renamed.clone()
    };
    let e = event(&org.id, "user.updated", &user.id);
    s.update_user(&repassworded, &e).await.unwrap();
    assert_eq!(live(sso, console).await, (false, false));

    // Disabling ends them; re-enabling does not bring them back.
    let (sso, console) = start(user.id.clone());
    begin(&sso, &console).await;
    let disabled = User {
        disabled: true,
        ..repassworded.clone()
    };
    let e = event(&org.id, "user.updated", &user.id);
    s.update_user(&disabled, &e).await.unwrap();
    assert_eq!(live(sso.clone(), console.clone()).await, (false, false));
    let enabled = User {
        disabled: false,
        ..disabled
    };
    let e = event(&org.id, "user.updated", &user.id);
    s.update_user(&enabled, &e).await.unwrap();
    assert_eq!(live(sso, console).await, (false, false));

    // The other user was never touched.
    assert_eq!(live(other_sso, other_console).await, (true, true));
}
