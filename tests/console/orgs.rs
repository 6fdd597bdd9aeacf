//! The organization pages: create, rename, delete (with the slug typed to confirm), and who may.

use clavex_testkit::TestServer;

use super::support::{ConsoleUser, api_get, create_account};

async fn org_exists(server: &TestServer, slug: &str) -> bool {
    let r = server
        .admin("GET", &format!("/api/v1/organizations/{slug}"), None)
        .await;
    r.status == 200
}

#[tokio::test]
async fn a_superadmin_creates_renames_and_deletes_an_org() {
    let server = TestServer::start().await;
    create_account(&server, "root", &[]).await;
    let root = ConsoleUser::sign_in(&server, "root").await;

    let form = root.get("/admin/orgs/_new").await;
    assert_eq!(form.status, 200);
    let r = root
        .post(
            "/admin/orgs",
            &[("slug", "acme"), ("name", "Acme"), ("signing_alg", "ES256")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(
        r.header("location"),
        Some("/admin/orgs/acme?done=org-created")
    );
    let org = api_get(&server, "/api/v1/organizations/acme").await;
    assert_eq!(org["name"], "Acme");
    assert_eq!(org["signing_alg"], "ES256");

    // The overview lists the endpoints to copy.
    let page = root.get("/admin/orgs/acme?done=org-created").await;
    assert!(page.text.contains("The organization was created."));
    let issuer = server.url("/acme");
    for path in [
        "/.well-known/openid-configuration",
        "/authorize",
        "/token",
        "/userinfo",
    ] {
        assert!(page.text.contains(&format!("{issuer}{path}")), "{path}");
    }

    // Errors come back next to the field, with what was typed.
    let r = root
        .post("/admin/orgs", &[("slug", "acme"), ("name", "Acme again")])
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.text.contains("id=\"slug-error\""), "{}", r.text);
    assert!(r.text.contains("value=\"Acme again\""));
    let r = root
        .post("/admin/orgs", &[("slug", "admin"), ("name", "Sneaky")])
        .await;
    assert_eq!(r.status, 400, "the console's slug is reserved: {}", r.text);

    let r = root
        .post("/admin/orgs/acme/rename", &[("name", "Acme Corp")])
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(
        api_get(&server, "/api/v1/organizations/acme").await["name"],
        "Acme Corp"
    );

    // The confirmation page names what goes; a wrong slug deletes nothing.
    let confirm = root.get("/admin/orgs/acme/delete").await;
    assert_eq!(confirm.status, 200);
    assert!(confirm.text.contains("0 users"), "{}", confirm.text);
    let r = root
        .post("/admin/orgs/acme/delete", &[("confirm", "acm")])
        .await;
    assert_eq!(r.status, 400);
    assert!(org_exists(&server, "acme").await);
    let r = root
        .post("/admin/orgs/acme/delete", &[("confirm", "acme")])
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(r.header("location"), Some("/admin?done=org-deleted"));
    assert!(!org_exists(&server, "acme").await);
    server.stop().await;
}

#[tokio::test]
async fn an_org_admin_renames_its_org_but_cannot_create_or_delete() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    server.create_org("globex").await;
    create_account(&server, "ann", &["acme"]).await;
    let ann = ConsoleUser::sign_in(&server, "ann").await;

    let r = ann
        .post("/admin/orgs", &[("slug", "initech"), ("name", "Initech")])
        .await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert!(!org_exists(&server, "initech").await);

    let r = ann
        .post("/admin/orgs/acme/rename", &[("name", "Acme by Ann")])
        .await;
    assert_eq!(r.status, 303);
    let r = ann
        .post("/admin/orgs/globex/rename", &[("name", "Taken over")])
        .await;
    assert_eq!(r.status, 403);
    assert_ne!(
        api_get(&server, "/api/v1/organizations/globex").await["name"],
        "Taken over"
    );

    assert_eq!(ann.get("/admin/orgs/acme/delete").await.status, 403);
    let r = ann
        .post("/admin/orgs/acme/delete", &[("confirm", "acme")])
        .await;
    assert_eq!(r.status, 403);
    assert!(org_exists(&server, "acme").await);
    server.stop().await;
}

#[tokio::test]
async fn org_forms_without_the_sessions_csrf_token_change_nothing() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    create_account(&server, "root", &[]).await;
    let root = ConsoleUser::sign_in(&server, "root").await;
    for (path, form) in [
        (
            "/admin/orgs",
            vec![("slug", "initech"), ("name", "Initech")],
        ),
        ("/admin/orgs/acme/rename", vec![("name", "Renamed")]),
        ("/admin/orgs/acme/delete", vec![("confirm", "acme")]),
    ] {
        let r = root.post_raw(path, &form).await;
        assert_eq!(r.status, 403, "{path}: {}", r.text);
        let mut forged = form.clone();
        forged.push(("csrf", "forged-token"));
        let r = root.post_raw(path, &forged).await;
        assert_eq!(r.status, 403, "{path}: {}", r.text);
    }
    assert!(!org_exists(&server, "initech").await);
    assert_eq!(
        api_get(&server, "/api/v1/organizations/acme").await["name"],
        "ACME"
    );
    server.stop().await;
}

#[tokio::test]
async fn redirects_and_refusals_carry_the_page_headers() {
    let server = TestServer::start().await;
    let r = server
        .http
        .get(server.url("/admin/orgs/acme"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let csp = r.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(r.headers()["cache-control"], "no-store");
    let r = server
        .http
        .get(server.url("/admin/signin?next=/admin/../acme/authorize"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert!(r.headers().contains_key("content-security-policy"));
    server.stop().await;
}
