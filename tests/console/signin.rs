//! Signing in to the console and what each kind of account sees.

use clavex_testkit::TestServer;

use super::support::{ConsoleUser, create_account};

#[tokio::test]
async fn a_superadmin_signs_in_through_the_console_issuer_and_sees_every_org() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    server.create_org("globex").await;
    create_account(&server, "root", &[]).await;
    let root = ConsoleUser::sign_in(&server, "root").await;
    let page = root.get("/admin").await;
    assert_eq!(page.status, 200);
    assert!(page.text.contains("/admin/orgs/acme"), "{}", page.text);
    assert!(page.text.contains("/admin/orgs/globex"), "{}", page.text);
    assert!(
        !page.text.contains("/admin/orgs/admin\""),
        "the console org is not listed"
    );
    server.stop().await;
}

#[tokio::test]
async fn an_org_admin_sees_only_its_org_and_gets_403_for_another() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    server.create_org("globex").await;
    create_account(&server, "ann", &["acme"]).await;
    let ann = ConsoleUser::sign_in(&server, "ann").await;
    let page = ann.get("/admin").await;
    assert_eq!(page.status, 200);
    assert!(page.text.contains("/admin/orgs/acme"));
    assert!(!page.text.contains("globex"), "{}", page.text);
    assert_eq!(ann.get("/admin/orgs/acme").await.status, 200);
    assert_eq!(ann.get("/admin/orgs/globex").await.status, 403);
    assert_eq!(ann.get("/admin/orgs/no-such-org").await.status, 403);
    assert_eq!(ann.get("/admin/orgs/admin").await.status, 403);
    server.stop().await;
}
