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
