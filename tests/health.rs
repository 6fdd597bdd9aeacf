use clavex_testkit::TestServer;

#[tokio::test]
async fn healthz_and_readyz_answer() {
    let server = TestServer::start().await;
    let r = server.call("GET", "/healthz", None, None).await;
    assert_eq!(r.status, 200);
    let r = server.call("GET", "/readyz", None, None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["status"], "ready");
}

#[tokio::test]
async fn metrics_count_requests_by_route_template() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    server.call("GET", "/healthz", None, None).await;
    let r = server.call("GET", "/acme/jwks", None, None).await;
    assert_eq!(r.status, 200);
    let r = server.call("GET", "/metrics", None, None).await;
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").unwrap().starts_with("text/plain"));
    let text = r.text;
    assert!(text.contains("clavex_build_info{version="), "{text}");
    assert!(
        text.contains(
            r#"clavex_http_requests_total{route="/healthz",method="GET",status="200"} 1"#
        ),
        "{text}"
    );
    // The route template, never the raw path: no per-org label values.
    assert!(text.contains(r#"route="/{org}/jwks""#), "{text}");
    assert!(!text.contains("/acme/jwks"), "{text}");
    assert!(
        text.contains("clavex_http_request_duration_seconds_bucket"),
        "{text}"
    );
}
