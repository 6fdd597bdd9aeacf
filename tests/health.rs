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

#[tokio::test]
async fn shutdown_turns_readyz_to_503_before_the_listener_closes() {
    use std::{sync::Arc, time::Duration};

    let db = clavex_testkit::TestDatabase::new().await;
    let settings = clavex_config::Settings::for_tests(&db.url);
    let core = clavex_web::boot::open_core(&settings, Arc::new(clavex_core::SystemClock))
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/readyz", listener.local_addr().unwrap());
    let state = clavex_web::AppState::new(core, settings.max_body_bytes);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(clavex_web::serve(
        listener,
        state,
        async move {
            let _ = stopped.await;
        },
        Duration::from_secs(2),
    ));
    let http = reqwest::Client::new();
    assert_eq!(http.get(&url).send().await.unwrap().status(), 200);
    stop.send(()).unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let draining = http.get(&url).send().await.unwrap();
    assert_eq!(draining.status(), 503, "readyz reports draining first");
    // Then the server stops by itself once the drain delay is over.
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("the server stops after draining")
        .unwrap()
        .unwrap();
}
