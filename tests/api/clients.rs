//! `/api/v1/organizations/{org}/clients`: registration rules, secrets shown only once and stored
//! only as hashes, rotation with and without a grace period.

use clavex_core::Clock;
use clavex_testkit::TestServer;
use serde_json::{Value, json};

use super::common::{
    assert_error, assert_field_error, client_body, create_client, items, server_with_org, strings,
};

const CLIENTS: &str = "/api/v1/organizations/acme/clients";

async fn post_client(server: &TestServer, body: Value) -> clavex_testkit::TestResponse {
    server.admin("POST", CLIENTS, Some(body)).await
}

async fn org_id(server: &TestServer) -> String {
    let r = server
        .admin("GET", "/api/v1/organizations/acme", None)
        .await;
    r.json()["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn create_returns_the_client_and_a_cs_secret() {
    let server = server_with_org("acme").await;
    let r = post_client(&server, client_body("grafana")).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let c = r.json();
    assert_eq!(c["client_id"], "grafana");
    assert_eq!(c["client_name"], "App");
    assert_eq!(
        c["grant_types"],
        json!(["authorization_code", "refresh_token"])
    );
    assert_eq!(
        c["redirect_uris"],
        json!(["https://app.example.com/callback"])
    );
    assert_eq!(c["scopes"], json!(["openid", "profile", "email", "groups"]));
    assert_eq!(c["token_endpoint_auth_method"], "client_secret_basic");
    assert_eq!(c["client_secret_expires_at"], 0);
    assert_eq!(c["client_id_issued_at"], server.clock.now());
    let secret = c["client_secret"].as_str().unwrap();
    assert!(secret.starts_with("cs_"), "{secret}");
    assert!(secret.len() >= 3 + 43, "{secret}");
    assert!(
        secret[3..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "base64url: {secret}"
    );
}

#[tokio::test]
async fn defaults_apply_when_fields_are_absent() {
    let server = server_with_org("acme").await;
    let r = post_client(
        &server,
        json!({"client_id": "app", "redirect_uris": ["https://app.example.com/cb"]}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let c = r.json();
    assert_eq!(c["token_endpoint_auth_method"], "client_secret_basic");
    assert_eq!(c["grant_types"], json!(["authorization_code"]));
    assert!(c["client_secret"].is_string());
}

#[tokio::test]
async fn get_list_and_patch_never_return_the_secret() {
    let server = server_with_org("acme").await;
    let created = create_client(&server, "acme", "grafana").await;
    let secret = created["client_secret"].as_str().unwrap().to_string();
    let responses = [
        server
            .admin("GET", &format!("{CLIENTS}/grafana"), None)
            .await,
        server.admin("GET", CLIENTS, None).await,
        server
            .admin(
                "PATCH",
                &format!("{CLIENTS}/grafana"),
                Some(json!({"client_name": "Grafana"})),
            )
            .await,
    ];
    for r in responses {
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(!r.text.contains("client_secret\""), "{}", r.text);
        assert!(!r.text.contains(&secret), "{}", r.text);
        assert!(!r.text.contains("secret_hash"), "{}", r.text);
    }
    let r = server
        .admin("GET", &format!("{CLIENTS}/grafana"), None)
        .await;
    let c = r.json();
    assert!(c.get("client_secret").is_none());
    assert_eq!(c["client_secret_expires_at"], 0);
    assert_eq!(c["client_id_issued_at"], created["client_id_issued_at"]);
}

#[tokio::test]
async fn list_returns_clients_oldest_first() {
    let server = server_with_org("acme").await;
    for id in ["one", "two", "three"] {
        create_client(&server, "acme", id).await;
    }
    let r = server.admin("GET", CLIENTS, None).await;
    let list = items(&r);
    assert_eq!(strings(&list, "client_id"), ["one", "two", "three"]);
    assert!(r.json()["next_cursor"].is_null());
    for c in &list {
        assert!(c.get("client_secret").is_none());
    }
}

#[tokio::test]
async fn patch_changes_given_fields_and_keeps_the_rest() {
    let server = server_with_org("acme").await;
    create_client(&server, "acme", "grafana").await;
    let r = server
        .admin(
            "PATCH",
            &format!("{CLIENTS}/grafana"),
            Some(json!({
                "client_name": "Grafana",
                "redirect_uris": ["https://grafana.acme.eu/login/generic_oauth", "http://localhost:3000/cb"],
                "post_logout_redirect_uris": ["https://grafana.acme.eu/"],
            })),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let c = r.json();
    assert_eq!(c["client_name"], "Grafana");
    assert_eq!(
        c["redirect_uris"],
        json!([
            "https://grafana.acme.eu/login/generic_oauth",
            "http://localhost:3000/cb"
        ])
    );
    assert_eq!(
        c["post_logout_redirect_uris"],
        json!(["https://grafana.acme.eu/"])
    );
    assert_eq!(c["scopes"], json!(["openid", "profile", "email", "groups"]));
    let r = server
        .admin("GET", &format!("{CLIENTS}/grafana"), None)
        .await;
    assert_eq!(r.json(), c);
}

#[tokio::test]
async fn patch_applies_the_same_rules_as_create() {
    let server = server_with_org("acme").await;
    create_client(&server, "acme", "grafana").await;
    let cases = [
        (
            json!({"redirect_uris": ["http://grafana.acme.eu/cb"]}),
            "redirect_uris",
        ),
        (json!({"redirect_uris": []}), "redirect_uris"),
        (json!({"grant_types": ["implicit"]}), "grant_types"),
        (
            json!({"token_endpoint_auth_method": "private_key_jwt"}),
            "token_endpoint_auth_method",
        ),
        (json!({"client_id": "renamed"}), "client_id"),
        (json!({"foo": 1}), "foo"),
    ];
    for (body, field) in cases {
        let r = server
            .admin("PATCH", &format!("{CLIENTS}/grafana"), Some(body.clone()))
            .await;
        assert_eq!(r.status, 400, "{body}: {}", r.text);
        assert_field_error(&r, 400, field);
    }
    let r = server
        .admin("GET", &format!("{CLIENTS}/grafana"), None)
        .await;
    assert_eq!(
        r.json()["redirect_uris"],
        json!(["https://app.example.com/callback"])
    );
}

#[tokio::test]
async fn delete_is_204_then_404() {
    let server = server_with_org("acme").await;
    let created = create_client(&server, "acme", "grafana").await;
    let oid = org_id(&server).await;
    let r = server
        .admin("DELETE", &format!("{CLIENTS}/grafana"), None)
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let r = server
        .admin("GET", &format!("{CLIENTS}/grafana"), None)
        .await;
    assert_error(&r, 404);
    let r = server
        .admin("DELETE", &format!("{CLIENTS}/grafana"), None)
        .await;
    assert_error(&r, 404);
    let r = server.admin("GET", CLIENTS, None).await;
    assert!(items(&r).is_empty());
    let secret = created["client_secret"].as_str().unwrap();
    let auth = server
        .core
        .authenticate_client_secret(&oid, "grafana", secret)
        .await
        .unwrap();
    assert!(auth.is_none());
}

#[tokio::test]
async fn unknown_client_is_404() {
    let server = server_with_org("acme").await;
    let r = server
        .admin("GET", &format!("{CLIENTS}/nosuch"), None)
        .await;
    assert_error(&r, 404);
    let r = server
        .admin(
            "PATCH",
            &format!("{CLIENTS}/nosuch"),
            Some(json!({"client_name": "X"})),
        )
        .await;
    assert_error(&r, 404);
    let r = server
        .admin("POST", &format!("{CLIENTS}/nosuch/secret"), None)
        .await;
    assert_error(&r, 404);
}

#[tokio::test]
async fn duplicate_client_id_in_one_org_is_409() {
    let server = server_with_org("acme").await;
    create_client(&server, "acme", "grafana").await;
    let r = post_client(&server, client_body("grafana")).await;
    assert_field_error(&r, 409, "client_id");
    assert_eq!(r.json()["error"], "conflict");
}

#[tokio::test]
async fn same_client_id_in_another_org_is_fine() {
    let server = server_with_org("acme").await;
    server.create_org("beta").await;
    let a = create_client(&server, "acme", "grafana").await;
    let b = create_client(&server, "beta", "grafana").await;
    assert_ne!(a["client_secret"], b["client_secret"]);
    let r = server
        .admin("DELETE", "/api/v1/organizations/beta/clients/grafana", None)
        .await;
    assert_eq!(r.status, 204);
    let r = server
        .admin("GET", &format!("{CLIENTS}/grafana"), None)
        .await;
    assert_eq!(
        r.status, 200,
        "deleting beta's client left acme's: {}",
        r.text
    );
}

#[tokio::test]
async fn redirect_uri_must_be_https_unless_loopback() {
    let server = server_with_org("acme").await;
    for uri in [
        "http://grafana.acme.eu/login",
        "http://10.0.0.1/cb",
        "ftp://a.example/cb",
    ] {
        let mut body = client_body("app");
        body["redirect_uris"] = json!([uri]);
        let r = post_client(&server, body).await;
        assert_eq!(r.status, 400, "{uri}: {}", r.text);
        assert_field_error(&r, 400, "redirect_uris");
    }
    for (i, uri) in [
        "http://localhost:3000/cb",
        "http://127.0.0.1:8080/cb",
        "http://[::1]/cb",
    ]
    .iter()
    .enumerate()
    {
        let mut body = client_body(&format!("loop{i}"));
        body["redirect_uris"] = json!([uri]);
        let r = post_client(&server, body).await;
        assert_eq!(r.status, 201, "{uri}: {}", r.text);
    }
}

#[tokio::test]
async fn redirect_uri_with_fragment_is_400() {
    let server = server_with_org("acme").await;
    let mut body = client_body("app");
    body["redirect_uris"] = json!(["https://app.example.com/cb#frag"]);
    let r = post_client(&server, body).await;
    assert_field_error(&r, 400, "redirect_uris");
}

#[tokio::test]
async fn relative_redirect_uri_is_400() {
    let server = server_with_org("acme").await;
    for uri in ["/login/generic_oauth", "grafana.acme.eu/cb", ""] {
        let mut body = client_body("app");
        body["redirect_uris"] = json!([uri]);
        let r = post_client(&server, body).await;
        assert_eq!(r.status, 400, "{uri:?}: {}", r.text);
        assert_field_error(&r, 400, "redirect_uris");
    }
}

#[tokio::test]
async fn post_logout_redirect_uris_follow_the_same_rules() {
    let server = server_with_org("acme").await;
    let mut body = client_body("app");
    body["post_logout_redirect_uris"] = json!(["http://app.example.com/bye"]);
    let r = post_client(&server, body).await;
    assert_field_error(&r, 400, "post_logout_redirect_uris");
}

#[tokio::test]
async fn redirect_uris_are_required_only_for_authorization_code() {
    let server = server_with_org("acme").await;
    let mut body = client_body("app");
    body.as_object_mut().unwrap().remove("redirect_uris");
    let r = post_client(&server, body).await;
    assert_field_error(&r, 400, "redirect_uris");

    let r = post_client(
        &server,
        json!({"client_id": "machine", "grant_types": ["client_credentials"]}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json()["redirect_uris"], json!([]));
}

#[tokio::test]
async fn unknown_grant_type_is_400() {
    let server = server_with_org("acme").await;
    for grants in [json!(["implicit"]), json!(["password"]), json!([])] {
        let mut body = client_body("app");
        body["grant_types"] = grants.clone();
        let r = post_client(&server, body).await;
        assert_eq!(r.status, 400, "{grants}: {}", r.text);
        assert_field_error(&r, 400, "grant_types");
    }
}

#[tokio::test]
async fn unknown_auth_method_is_400() {
    let server = server_with_org("acme").await;
    for method in ["private_key_jwt", "client_secret_jwt", "basic", ""] {
        let mut body = client_body("app");
        body["token_endpoint_auth_method"] = json!(method);
        let r = post_client(&server, body).await;
        assert_eq!(r.status, 400, "{method:?}: {}", r.text);
        assert_field_error(&r, 400, "token_endpoint_auth_method");
    }
}

#[tokio::test]
async fn client_secret_post_is_accepted() {
    let server = server_with_org("acme").await;
    let mut body = client_body("app");
    body["token_endpoint_auth_method"] = json!("client_secret_post");
    let r = post_client(&server, body).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert!(
        r.json()["client_secret"]
            .as_str()
            .unwrap()
            .starts_with("cs_")
    );
}

#[tokio::test]
async fn unknown_field_is_400_naming_it() {
    let server = server_with_org("acme").await;
    let r = post_client(&server, json!({"foo": 1})).await;
    assert_field_error(&r, 400, "foo");
    let mut body = client_body("app");
    body["client_secret"] = json!("cs_chosen_by_caller");
    let r = post_client(&server, body).await;
    assert_field_error(&r, 400, "client_secret");
}

#[tokio::test]
async fn wrong_json_type_is_400_naming_the_field() {
    let server = server_with_org("acme").await;
    let mut body = client_body("app");
    body["redirect_uris"] = json!("https://app.example.com/cb");
    let r = post_client(&server, body).await;
    assert_field_error(&r, 400, "redirect_uris");
}

#[tokio::test]
async fn invalid_client_id_is_400() {
    let server = server_with_org("acme").await;
    for id in ["", "has space", "-lead", "a/b", &"x".repeat(129)] {
        let r = post_client(&server, client_body(id)).await;
        assert_eq!(r.status, 400, "{id:?}: {}", r.text);
        assert_field_error(&r, 400, "client_id");
    }
}

#[tokio::test]
async fn public_client_gets_no_secret() {
    let server = server_with_org("acme").await;
    let mut body = client_body("spa");
    body["token_endpoint_auth_method"] = json!("none");
    let r = post_client(&server, body).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let c = r.json();
    assert_eq!(c["token_endpoint_auth_method"], "none");
    assert!(
        c.get("client_secret").is_none() || c["client_secret"].is_null(),
        "{}",
        r.text
    );
    assert!(!r.text.contains("cs_"), "{}", r.text);
    // Nor can one be rotated into existence.
    let r = server
        .admin("POST", &format!("{CLIENTS}/spa/secret"), None)
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_error(&r, 400);
}

#[tokio::test]
async fn client_id_is_generated_when_absent() {
    let server = server_with_org("acme").await;
    let body = json!({"redirect_uris": ["https://app.example.com/cb"]});
    let a = post_client(&server, body.clone()).await;
    assert_eq!(a.status, 201, "{}", a.text);
    let b = post_client(&server, body).await;
    assert_eq!(b.status, 201, "{}", b.text);
    let a_id = a.json()["client_id"].as_str().unwrap().to_string();
    let b_id = b.json()["client_id"].as_str().unwrap().to_string();
    assert!(a_id.len() >= 16, "{a_id}");
    assert_ne!(a_id, b_id);
    let r = server
        .admin("GET", &format!("{CLIENTS}/{a_id}"), None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

#[tokio::test]
async fn generated_client_ids_are_always_valid() {
    // A random id must never trip the client_id rules (e.g. start with '-' or '_'): try enough
    // registrations that a 1-in-32 failure could not hide.
    let server = server_with_org("acme").await;
    let body = json!({"grant_types": ["client_credentials"]});
    let mut ids = std::collections::HashSet::new();
    for _ in 0..200 {
        let r = post_client(&server, body.clone()).await;
        assert_eq!(r.status, 201, "{}", r.text);
        let id = r.json()["client_id"].as_str().unwrap().to_string();
        assert!(
            id.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric()),
            "{id}"
        );
        assert!(ids.insert(id), "generated ids repeat");
    }
}

#[tokio::test]
async fn rotation_without_body_replaces_the_secret_at_once() {
    let server = server_with_org("acme").await;
    let oid = org_id(&server).await;
    let created = create_client(&server, "acme", "grafana").await;
    let old = created["client_secret"].as_str().unwrap().to_string();
    assert!(
        server
            .core
            .authenticate_client_secret(&oid, "grafana", &old)
            .await
            .unwrap()
            .is_some()
    );

    let r = server
        .admin("POST", &format!("{CLIENTS}/grafana/secret"), None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let body = r.json();
    assert_eq!(body["client_id"], "grafana");
    let new = body["client_secret"].as_str().unwrap().to_string();
    assert!(new.starts_with("cs_") && new.len() >= 46, "{new}");
    assert_ne!(new, old);

    let old_auth = server
        .core
        .authenticate_client_secret(&oid, "grafana", &old)
        .await
        .unwrap();
    assert!(old_auth.is_none(), "the old secret still authenticates");
    let new_auth = server
        .core
        .authenticate_client_secret(&oid, "grafana", &new)
        .await
        .unwrap();
    assert_eq!(new_auth.unwrap().client_id, "grafana");

    let r = server
        .admin("GET", &format!("{CLIENTS}/grafana"), None)
        .await;
    assert!(!r.text.contains(&new));
}

#[tokio::test]
async fn rotation_with_empty_json_object_is_like_no_body() {
    let server = server_with_org("acme").await;
    let oid = org_id(&server).await;
    let old = create_client(&server, "acme", "grafana").await["client_secret"]
        .as_str()
        .unwrap()
        .to_string();
    let r = server
        .admin(
            "POST",
            &format!("{CLIENTS}/grafana/secret"),
            Some(json!({})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let auth = server
        .core
        .authenticate_client_secret(&oid, "grafana", &old)
        .await
        .unwrap();
    assert!(auth.is_none());
}

#[tokio::test]
async fn rotation_with_grace_keeps_the_old_secret_that_long() {
    let server = server_with_org("acme").await;
    let oid = org_id(&server).await;
    let old = create_client(&server, "acme", "grafana").await["client_secret"]
        .as_str()
        .unwrap()
        .to_string();
    let now = server.clock.now();
    let r = server
        .admin(
            "POST",
            &format!("{CLIENTS}/grafana/secret"),
            Some(json!({"grace_period_seconds": 60})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let body = r.json();
    let new = body["client_secret"].as_str().unwrap().to_string();
    assert_eq!(body["previous_secret_expires_at"], now + 60);

    let check = |secret: String| {
        let core = server.core.clone();
        let oid = oid.clone();
        async move {
            core.authenticate_client_secret(&oid, "grafana", &secret)
                .await
                .unwrap()
                .is_some()
        }
    };
    assert!(check(old.clone()).await, "old secret within grace");
    assert!(check(new.clone()).await, "new secret");
    server.clock.advance(59);
    assert!(check(old.clone()).await, "old secret at 59 s");
    server.clock.advance(2);
    assert!(!check(old.clone()).await, "old secret after grace");
    assert!(check(new.clone()).await, "new secret after grace");
}

#[tokio::test]
async fn second_rotation_without_grace_ends_every_earlier_secret() {
    let server = server_with_org("acme").await;
    let oid = org_id(&server).await;
    let first = create_client(&server, "acme", "grafana").await["client_secret"]
        .as_str()
        .unwrap()
        .to_string();
    let r = server
        .admin(
            "POST",
            &format!("{CLIENTS}/grafana/secret"),
            Some(json!({"grace_period_seconds": 3600})),
        )
        .await;
    let second = r.json()["client_secret"].as_str().unwrap().to_string();
    let r = server
        .admin("POST", &format!("{CLIENTS}/grafana/secret"), None)
        .await;
    let third = r.json()["client_secret"].as_str().unwrap().to_string();
    for (name, secret, valid) in [
        ("first", first, false),
        ("second", second, false),
        ("third", third, true),
    ] {
        let ok = server
            .core
            .authenticate_client_secret(&oid, "grafana", &secret)
            .await
            .unwrap()
            .is_some();
        assert_eq!(ok, valid, "{name}");
    }
}

#[tokio::test]
async fn grace_period_out_of_range_is_400() {
    let server = server_with_org("acme").await;
    create_client(&server, "acme", "grafana").await;
    for grace in [json!(-1), json!(2_592_001), json!("60"), json!(1.5)] {
        let r = server
            .admin(
                "POST",
                &format!("{CLIENTS}/grafana/secret"),
                Some(json!({"grace_period_seconds": grace})),
            )
            .await;
        assert_eq!(r.status, 400, "{grace}: {}", r.text);
        assert_field_error(&r, 400, "grace_period_seconds");
    }
    let r = server
        .admin(
            "POST",
            &format!("{CLIENTS}/grafana/secret"),
            Some(json!({"grace_period_seconds": 2_592_000})),
        )
        .await;
    assert_eq!(r.status, 200, "the maximum itself is allowed: {}", r.text);
}
