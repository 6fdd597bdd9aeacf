//! Console page for signing keys: the list with the current key and the JWKS URL, rotating to a new
//! key (published at once, current after the publish lead time); who may rotate, CSRF refusals.

use clavex_core::keys::PUBLISH_LEAD_SECONDS;
use clavex_testkit::TestServer;
use serde_json::Value;

use super::support::{ConsoleUser, api_get, create_account};
use crate::oidc::{rp::jwks_kids, support::location};

const KEYS: &str = "/admin/orgs/acme/keys";
const KEYS_API: &str = "/api/v1/organizations/acme/keys";

async fn api_keys(server: &TestServer) -> Vec<Value> {
    api_get(server, KEYS_API).await["items"]
        .as_array()
        .unwrap()
        .clone()
}

fn kid_with_status(keys: &[Value], status: &str) -> Vec<String> {
    keys.iter()
        .filter(|k| k["status"] == status)
        .map(|k| k["kid"].as_str().unwrap().to_string())
        .collect()
}

/// Rotates through the console as `user` and checks the new key: published in the JWKS at once,
/// the current key once the publish lead time has passed, shown as such on the page.
async fn rotate_and_check(server: &TestServer, user: &ConsoleUser<'_>) {
    let before = api_keys(server).await;
    let old = kid_with_status(&before, "active");
    assert_eq!(old.len(), 1, "{before:?}");

    let r = user.post(&format!("{KEYS}/rotate"), &[]).await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(location(&r), format!("{KEYS}?done=key-rotated"));
    let page = user.get(&location(&r)).await;
    assert_eq!(page.status, 200);
    assert!(
        page.text.contains("the previous one stays published"),
        "{}",
        page.text
    );

    let after = api_keys(server).await;
    assert_eq!(after.len(), before.len() + 1, "{after:?}");
    let new = kid_with_status(&after, "next");
    assert_eq!(new.len(), 1, "{after:?}");
    let new = &new[0];
    assert!(!old.contains(new));
    let published = jwks_kids(server, "acme").await;
    assert!(published.contains(new), "{published:?}");
    assert!(published.contains(&old[0]), "{published:?}");
    assert!(page.text.contains(new.as_str()));

    server.clock.advance(PUBLISH_LEAD_SECONDS);
    let now = api_keys(server).await;
    assert_eq!(
        kid_with_status(&now, "active"),
        vec![new.clone()],
        "{now:?}"
    );
    assert!(
        kid_with_status(&now, "retired").contains(&old[0]),
        "{now:?}"
    );
    assert!(jwks_kids(server, "acme").await.contains(&old[0]));
    let page = user.get(KEYS).await;
    let row = &page.text[page.text.find(new.as_str()).unwrap()..];
    let row = &row[..row.find("</tr>").unwrap()];
    assert!(row.contains("Current"), "{row}");
}

#[tokio::test]
async fn a_superadmin_sees_the_keys_and_rotates() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    create_account(&server, "root", &[]).await;
    let root = ConsoleUser::sign_in(&server, "root").await;

    let page = root.get(KEYS).await;
    assert_eq!(page.status, 200, "{}", page.text);
    let keys = api_keys(&server).await;
    assert_eq!(keys.len(), 1);
    let kid = keys[0]["kid"].as_str().unwrap();
    assert!(page.text.contains(kid));
    assert!(page.text.contains("RS256"));
    assert!(page.text.contains("Current"));
    assert!(
        page.text.contains(&format!(
            "<code id=\"jwks-url\">{}</code>",
            server.url("/acme/jwks")
        )),
        "{}",
        page.text
    );
    assert!(page.text.contains("data-confirm="));
    assert!(page.text.contains("Rotate key"));

    rotate_and_check(&server, &root).await;
    server.stop().await;
}

#[tokio::test]
async fn an_org_admin_rotates_its_orgs_key() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    create_account(&server, "ann", &["acme"]).await;
    let ann = ConsoleUser::sign_in(&server, "ann").await;
    assert_eq!(ann.get(KEYS).await.status, 200);
    rotate_and_check(&server, &ann).await;
    server.stop().await;
}

#[tokio::test]
async fn an_admin_of_another_org_gets_403_and_no_rotation() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    server.create_org("globex").await;
    create_account(&server, "gus", &["globex"]).await;
    let gus = ConsoleUser::sign_in(&server, "gus").await;
    let before = api_keys(&server).await;
    let jwks_before = jwks_kids(&server, "acme").await;

    assert_eq!(gus.get(KEYS).await.status, 403);
    let r = gus.post(&format!("{KEYS}/rotate"), &[]).await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert_eq!(gus.get("/admin/orgs/globex/keys").await.status, 200);

    let after = api_keys(&server).await;
    assert_eq!(
        after.iter().map(|k| &k["kid"]).collect::<Vec<_>>(),
        before.iter().map(|k| &k["kid"]).collect::<Vec<_>>()
    );
    assert_eq!(jwks_kids(&server, "acme").await, jwks_before);
    server.stop().await;
}

#[tokio::test]
async fn a_rotation_without_the_csrf_token_is_refused() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    create_account(&server, "root", &[]).await;
    let root = ConsoleUser::sign_in(&server, "root").await;
    let before = api_keys(&server).await;
    let path = format!("{KEYS}/rotate");

    let r = root.post_raw(&path, &[]).await;
    assert_eq!(r.status, 403, "{}", r.text);
    let r = root.post_raw(&path, &[("csrf", "forged")]).await;
    assert_eq!(r.status, 403, "{}", r.text);
    // Another session's token does not do either.
    create_account(&server, "other", &[]).await;
    let other = ConsoleUser::sign_in(&server, "other").await;
    let token = other.csrf().await;
    let r = root.post_raw(&path, &[("csrf", &token)]).await;
    assert_eq!(r.status, 403, "{}", r.text);

    assert_eq!(api_keys(&server).await.len(), before.len());
    assert_eq!(jwks_kids(&server, "acme").await.len(), 1);
    server.stop().await;
}
