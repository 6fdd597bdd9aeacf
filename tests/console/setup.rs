//! The first-run set-up page, in-process: the account it creates signs in to the console.

use clavex_testkit::TestServer;

use super::support::{ConsoleUser, PASSWORD};

#[tokio::test]
async fn the_first_superadmin_from_the_set_up_page_signs_in() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    let link = server
        .core
        .first_run_link()
        .await
        .unwrap()
        .expect("no account yet");
    let token = link.split("token=").nth(1).unwrap().to_string();

    // Field errors come back on the form.
    let short = server
        .http
        .post(server.url("/admin/setup"))
        .form(&[
            ("token", token.as_str()),
            ("username", "root"),
            ("password", "short"),
            ("password_confirm", "short"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(short.status(), 400);
    let html = short.text().await.unwrap();
    assert!(html.contains("id=\"password-error\""), "{html}");
    assert!(server.core.first_run_link().await.unwrap().is_some());

    let created = server
        .http
        .post(server.url("/admin/setup"))
        .form(&[
            ("token", token.as_str()),
            ("username", "root"),
            ("password", PASSWORD),
            ("password_confirm", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    assert_eq!(server.core.first_run_link().await.unwrap(), None);

    let root = ConsoleUser::sign_in(&server, "root").await;
    let page = root.get("/admin").await;
    assert!(page.text.contains("/admin/orgs/acme"), "{}", page.text);
    assert!(page.text.contains("superadmin"));
    server.stop().await;
}

#[tokio::test]
async fn any_console_account_closes_the_set_up_page() {
    let server = TestServer::start().await;
    let link = server.core.first_run_link().await.unwrap().unwrap();
    let path = link
        .trim_start_matches(&server.settings.public_url.to_string())
        .to_string();
    let open = server.http.get(server.url(&path)).send().await.unwrap();
    assert_eq!(open.status(), 200);
    super::support::create_account(&server, "ops", &[]).await;
    let r = server.http.get(server.url(&path)).send().await.unwrap();
    assert_eq!(r.status(), 404);
    server.stop().await;
}
