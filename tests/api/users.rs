//! `/api/v1/organizations/{org}/users`: uniqueness (case-insensitive), validation, groups in the
//! single-user view, search, and no password material in any response.

use serde_json::json;

use super::common::{
    assert_error, assert_field_error, create_group, create_user, items, server_with_org, strings,
};

const USERS: &str = "/api/v1/organizations/acme/users";
const PASSWORD: &str = "correct horse battery staple";

fn alice() -> serde_json::Value {
    json!({
        "username": "alice",
        "email": "alice@example.com",
        "name": "Alice Liddell",
        "password": PASSWORD,
        "email_verified": true,
    })
}

#[tokio::test]
async fn create_returns_201_with_id() {
    let server = server_with_org("acme").await;
    let r = server.admin("POST", USERS, Some(alice())).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let u = r.json();
    assert!(!u["id"].as_str().unwrap().is_empty());
    assert_eq!(u["username"], "alice");
    assert_eq!(u["email"], "alice@example.com");
    assert_eq!(u["name"], "Alice Liddell");
    assert_eq!(u["email_verified"], true);
    assert_eq!(u["disabled"], false);
    assert_eq!(u["has_password"], true);
    assert_eq!(u["groups"], json!([]));
}

#[tokio::test]
async fn password_and_email_verified_are_optional() {
    let server = server_with_org("acme").await;
    let r = server
        .admin(
            "POST",
            USERS,
            Some(json!({"username": "bob", "email": "bob@example.com", "name": "Bob"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let u = r.json();
    assert_eq!(u["has_password"], false);
    assert_eq!(u["email_verified"], false);
}

#[tokio::test]
async fn ids_are_distinct() {
    let server = server_with_org("acme").await;
    let a = create_user(&server, "acme", "a1").await;
    let b = create_user(&server, "acme", "b1").await;
    assert_ne!(a["id"], b["id"]);
}

#[tokio::test]
async fn no_response_carries_password_material() {
    let server = server_with_org("acme").await;
    let r = server.admin("POST", USERS, Some(alice())).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.json()["id"].as_str().unwrap().to_string();
    let mut texts = vec![r.text];
    texts.push(
        server
            .admin("GET", &format!("{USERS}/{id}"), None)
            .await
            .text,
    );
    texts.push(server.admin("GET", USERS, None).await.text);
    texts.push(
        server
            .admin(
                "PATCH",
                &format!("{USERS}/{id}"),
                Some(json!({"password": "another long password"})),
            )
            .await
            .text,
    );
    create_group(&server, "acme", "staff").await;
    server
        .admin(
            "PUT",
            &format!("/api/v1/organizations/acme/groups/staff/members/{id}"),
            None,
        )
        .await;
    texts.push(
        server
            .admin(
                "GET",
                "/api/v1/organizations/acme/groups/staff/members",
                None,
            )
            .await
            .text,
    );
    texts.push(
        server
            .admin("GET", "/api/v1/organizations/acme/events", None)
            .await
            .text,
    );
    for text in texts {
        assert!(!text.contains("password_hash"), "{text}");
        assert!(!text.contains("\"password\":"), "{text}");
        assert!(!text.contains(PASSWORD), "{text}");
        assert!(!text.contains("another long password"), "{text}");
        assert!(!text.contains("$argon2"), "{text}");
    }
}

#[tokio::test]
async fn duplicate_username_is_409_case_insensitively() {
    let server = server_with_org("acme").await;
    create_user(&server, "acme", "alice").await;
    for username in ["alice", "Alice", "ALICE"] {
        let r = server
            .admin(
                "POST",
                USERS,
                Some(json!({"username": username, "email": "other@example.com", "name": "Other"})),
            )
            .await;
        assert_eq!(r.status, 409, "{username}: {}", r.text);
        assert_field_error(&r, 409, "username");
    }
}

#[tokio::test]
async fn duplicate_email_is_409_case_insensitively() {
    let server = server_with_org("acme").await;
    create_user(&server, "acme", "alice").await;
    for email in ["alice@example.com", "Alice@Example.COM"] {
        let r = server
            .admin(
                "POST",
                USERS,
                Some(json!({"username": "other", "email": email, "name": "Other"})),
            )
            .await;
        assert_eq!(r.status, 409, "{email}: {}", r.text);
        assert_field_error(&r, 409, "email");
    }
}

#[tokio::test]
async fn same_username_and_email_in_another_org_are_fine() {
    let server = server_with_org("acme").await;
    server.create_org("beta").await;
    let a = create_user(&server, "acme", "alice").await;
    let b = create_user(&server, "beta", "alice").await;
    assert_ne!(a["id"], b["id"]);
}

#[tokio::test]
async fn bad_email_is_400() {
    let server = server_with_org("acme").await;
    for email in [
        "alice",
        "alice@",
        "@example.com",
        "alice@example",
        "a b@example.com",
        "",
    ] {
        let r = server
            .admin(
                "POST",
                USERS,
                Some(json!({"username": "alice", "email": email, "name": "Alice"})),
            )
            .await;
        assert_eq!(r.status, 400, "{email:?}: {}", r.text);
        assert_field_error(&r, 400, "email");
    }
}

#[tokio::test]
async fn short_password_is_400() {
    let server = server_with_org("acme").await;
    let mut body = alice();
    body["password"] = json!("short");
    let r = server.admin("POST", USERS, Some(body)).await;
    assert_field_error(&r, 400, "password");
    assert!(
        !r.text.contains("short\""),
        "the password is not echoed: {}",
        r.text
    );
}

#[tokio::test]
async fn bad_username_is_400() {
    let server = server_with_org("acme").await;
    for username in ["", "has space", "a/b"] {
        let mut body = alice();
        body["username"] = json!(username);
        let r = server.admin("POST", USERS, Some(body)).await;
        assert_eq!(r.status, 400, "{username:?}: {}", r.text);
        assert_field_error(&r, 400, "username");
    }
}

#[tokio::test]
async fn missing_required_field_is_400_naming_it() {
    let server = server_with_org("acme").await;
    for missing in ["username", "email", "name"] {
        let mut body = alice();
        body.as_object_mut().unwrap().remove(missing);
        let r = server.admin("POST", USERS, Some(body)).await;
        assert_eq!(r.status, 400, "{missing}: {}", r.text);
        assert_field_error(&r, 400, missing);
    }
}

#[tokio::test]
async fn unknown_field_is_400_naming_it() {
    let server = server_with_org("acme").await;
    let mut body = alice();
    body["password_hash"] = json!("$argon2id$v=19$...");
    let r = server.admin("POST", USERS, Some(body)).await;
    assert_field_error(&r, 400, "password_hash");
    let mut body = alice();
    body["role"] = json!("admin");
    let r = server.admin("POST", USERS, Some(body)).await;
    assert_field_error(&r, 400, "role");
}

#[tokio::test]
async fn get_includes_the_users_groups() {
    let server = server_with_org("acme").await;
    let u = create_user(&server, "acme", "alice").await;
    let id = u["id"].as_str().unwrap();
    for g in ["grafana-editors", "grafana-admins"] {
        create_group(&server, "acme", g).await;
        let r = server
            .admin(
                "PUT",
                &format!("/api/v1/organizations/acme/groups/{g}/members/{id}"),
                None,
            )
            .await;
        assert_eq!(r.status, 204, "{}", r.text);
    }
    let r = server.admin("GET", &format!("{USERS}/{id}"), None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let got = r.json();
    let mut groups: Vec<String> = got["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g.as_str().unwrap().to_string())
        .collect();
    groups.sort();
    assert_eq!(groups, ["grafana-admins", "grafana-editors"]);
    assert_eq!(got["id"], u["id"]);
    assert_eq!(got["username"], "alice");
}

#[tokio::test]
async fn patch_changes_given_fields_and_keeps_the_rest() {
    let server = server_with_org("acme").await;
    let r = server.admin("POST", USERS, Some(alice())).await;
    let created = r.json();
    let id = created["id"].as_str().unwrap();
    let r = server
        .admin(
            "PATCH",
            &format!("{USERS}/{id}"),
            Some(json!({"name": "Alice L.", "email": "alice@acme.eu", "given_name": "Alice", "disabled": true})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let u = r.json();
    assert_eq!(u["id"], created["id"]);
    assert_eq!(u["username"], "alice");
    assert_eq!(u["name"], "Alice L.");
    assert_eq!(u["email"], "alice@acme.eu");
    assert_eq!(u["given_name"], "Alice");
    assert_eq!(u["disabled"], true);
    assert_eq!(u["has_password"], true);
    assert_eq!(u["email_verified"], true);
    let r = server.admin("GET", &format!("{USERS}/{id}"), None).await;
    assert_eq!(r.json(), u);
}

#[tokio::test]
async fn patch_to_a_taken_username_or_email_is_409() {
    let server = server_with_org("acme").await;
    create_user(&server, "acme", "alice").await;
    let bob = create_user(&server, "acme", "bob").await;
    let path = format!("{USERS}/{}", bob["id"].as_str().unwrap());
    let r = server
        .admin("PATCH", &path, Some(json!({"username": "ALICE"})))
        .await;
    assert_field_error(&r, 409, "username");
    let r = server
        .admin("PATCH", &path, Some(json!({"email": "alice@EXAMPLE.com"})))
        .await;
    assert_field_error(&r, 409, "email");
    // A user may change the case of its own username.
    let r = server
        .admin("PATCH", &path, Some(json!({"username": "Bob"})))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

#[tokio::test]
async fn patch_validates_like_create() {
    let server = server_with_org("acme").await;
    let u = create_user(&server, "acme", "alice").await;
    let path = format!("{USERS}/{}", u["id"].as_str().unwrap());
    for (body, field) in [
        (json!({"email": "nope"}), "email"),
        (json!({"password": "1234567"}), "password"),
        (json!({"name": ""}), "name"),
        (json!({"id": "chosen"}), "id"),
    ] {
        let r = server.admin("PATCH", &path, Some(body.clone())).await;
        assert_eq!(r.status, 400, "{body}: {}", r.text);
        assert_field_error(&r, 400, field);
    }
}

#[tokio::test]
async fn delete_removes_the_user_and_its_memberships() {
    let server = server_with_org("acme").await;
    let alice = create_user(&server, "acme", "alice").await;
    let bob = create_user(&server, "acme", "bob").await;
    create_group(&server, "acme", "staff").await;
    for u in [&alice, &bob] {
        let r = server
            .admin(
                "PUT",
                &format!(
                    "/api/v1/organizations/acme/groups/staff/members/{}",
                    u["id"].as_str().unwrap()
                ),
                None,
            )
            .await;
        assert_eq!(r.status, 204);
    }
    let path = format!("{USERS}/{}", alice["id"].as_str().unwrap());
    let r = server.admin("DELETE", &path, None).await;
    assert_eq!(r.status, 204, "{}", r.text);
    let r = server.admin("GET", &path, None).await;
    assert_error(&r, 404);
    let r = server.admin("DELETE", &path, None).await;
    assert_error(&r, 404);
    let r = server
        .admin(
            "GET",
            "/api/v1/organizations/acme/groups/staff/members",
            None,
        )
        .await;
    assert_eq!(strings(&items(&r), "username"), ["bob"]);
    let r = server.admin("GET", USERS, None).await;
    assert_eq!(strings(&items(&r), "username"), ["bob"]);
}

#[tokio::test]
async fn deleted_user_name_can_be_reused_with_a_new_id() {
    let server = server_with_org("acme").await;
    let old = create_user(&server, "acme", "alice").await;
    let r = server
        .admin(
            "DELETE",
            &format!("{USERS}/{}", old["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(r.status, 204);
    let new = create_user(&server, "acme", "alice").await;
    assert_ne!(new["id"], old["id"], "ids are never reused");
}

#[tokio::test]
async fn list_search_matches_username_email_and_name() {
    let server = server_with_org("acme").await;
    for (username, email, name) in [
        ("alice", "alice@example.com", "Alice Liddell"),
        ("bob", "bob@builders.org", "Bob Builder"),
        ("carol", "carol@example.com", "Carol Alison"),
    ] {
        let r = server
            .admin(
                "POST",
                USERS,
                Some(json!({"username": username, "email": email, "name": name})),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
    }
    for (q, expected) in [
        ("ali", vec!["alice", "carol"]),
        ("ALI", vec!["alice", "carol"]),
        ("builders", vec!["bob"]),
        ("liddell", vec!["alice"]),
        ("example.com", vec!["alice", "carol"]),
        ("nobody", vec![]),
        ("%", vec![]),
        ("_", vec![]),
        ("", vec!["alice", "bob", "carol"]),
    ] {
        let r = server
            .admin("GET", &format!("{USERS}?q={}", urlencode(q)), None)
            .await;
        assert_eq!(strings(&items(&r), "username"), expected, "q={q:?}");
    }
    // Search and paging combine.
    let r = server
        .admin("GET", &format!("{USERS}?q=ali&limit=1"), None)
        .await;
    let first = r.json();
    assert_eq!(
        strings(first["items"].as_array().unwrap(), "username"),
        ["alice"]
    );
    let cursor = first["next_cursor"].as_str().unwrap();
    let r = server
        .admin(
            "GET",
            &format!("{USERS}?q=ali&limit=1&cursor={cursor}"),
            None,
        )
        .await;
    assert_eq!(strings(&items(&r), "username"), ["carol"]);
    assert!(r.json()["next_cursor"].is_null());
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'.' || b == b'-' {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[tokio::test]
async fn list_does_not_leak_other_orgs_users() {
    let server = server_with_org("acme").await;
    server.create_org("beta").await;
    create_user(&server, "acme", "alice").await;
    create_user(&server, "beta", "bob").await;
    let r = server.admin("GET", USERS, None).await;
    assert_eq!(strings(&items(&r), "username"), ["alice"]);
}

#[tokio::test]
async fn unknown_user_is_404() {
    let server = server_with_org("acme").await;
    let path = format!("{USERS}/00000000-0000-0000-0000-000000000000");
    let r = server.admin("GET", &path, None).await;
    assert_eq!(assert_error(&r, 404)["error"], "not_found");
    let r = server
        .admin("PATCH", &path, Some(json!({"name": "X"})))
        .await;
    assert_error(&r, 404);
    let r = server.admin("DELETE", &path, None).await;
    assert_error(&r, 404);
}

#[tokio::test]
async fn user_of_another_org_is_404_here() {
    let server = server_with_org("acme").await;
    server.create_org("beta").await;
    let bob = create_user(&server, "beta", "bob").await;
    let path = format!("{USERS}/{}", bob["id"].as_str().unwrap());
    let r = server.admin("GET", &path, None).await;
    assert_error(&r, 404);
    let r = server
        .admin("PATCH", &path, Some(json!({"name": "X"})))
        .await;
    assert_error(&r, 404);
    let r = server.admin("DELETE", &path, None).await;
    assert_error(&r, 404);
    let r = server
        .admin(
            "GET",
            &format!(
                "/api/v1/organizations/beta/users/{}",
                bob["id"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(r.json()["name"], "User bob", "untouched: {}", r.text);
}
