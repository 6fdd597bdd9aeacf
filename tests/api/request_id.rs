//! Every response carries an `X-Request-Id`; error bodies and error pages repeat it, so a report
//! from a user or a client's log leads to the server's log line.

use clavex_testkit::{TestResponse, TestServer};

async fn get(server: &TestServer, path: &str, request_id: Option<&str>) -> TestResponse {
    let mut req = server.http.get(server.url(path));
    if let Some(id) = request_id {
        req = req.header("X-Request-Id", id);
    }
    TestServer::read(req.send().await.unwrap()).await
}

fn header_id(r: &TestResponse) -> String {
    r.header("x-request-id")
        .unwrap_or_else(|| panic!("no X-Request-Id ({}): {}", r.status, r.text))
        .to_owned()
}

#[tokio::test]
async fn api_errors_name_the_request_id_of_the_response() {
    let server = TestServer::start().await;
    let r = get(&server, "/api/v1/organizations/nope", None).await;
    assert_eq!(r.status, 401, "{}", r.text);
    let id = header_id(&r);
    assert_eq!(r.json()["request_id"], id.as_str());
    // Each request gets its own.
    let again = get(&server, "/api/v1/organizations/nope", None).await;
    assert_ne!(header_id(&again), id);
    // Successes carry the header, not a body field.
    let ok = get(&server, "/healthz", None).await;
    assert_eq!(ok.status, 200);
    header_id(&ok);
    assert!(ok.json().get("request_id").is_none());
}

#[tokio::test]
async fn a_plain_incoming_id_is_kept_and_anything_else_replaced() {
    let server = TestServer::start().await;
    let from_proxy = "lb-7f3a9c21d4e5";
    let r = get(&server, "/no/such/path", Some(from_proxy)).await;
    assert_eq!(r.status, 404);
    assert_eq!(header_id(&r), from_proxy);
    assert_eq!(r.json()["request_id"], from_proxy);
    for bad in ["x", "has spaces inside it", &"a".repeat(65)] {
        let r = get(&server, "/no/such/path", Some(bad)).await;
        let id = header_id(&r);
        assert_ne!(id, bad);
        assert_eq!(id.len(), 36, "a generated UUID: {id}");
    }
}

#[tokio::test]
async fn oauth_errors_and_error_pages_show_it() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    // An OAuth error body (token endpoint, no client authentication).
    let r = TestServer::read(
        server
            .http
            .post(server.url("/acme/token"))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 401, "{}", r.text);
    assert_eq!(r.json()["request_id"], header_id(&r).as_str());
    // An error page (authorize with an unknown client is never redirected).
    let r = get(
        &server,
        "/acme/authorize?client_id=nobody&response_type=code&scope=openid",
        None,
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.text);
    let id = header_id(&r);
    assert!(
        r.text.contains(&format!("Request id: <code>{id}</code>")),
        "{}",
        r.text
    );
}
