//! `TestServer`: the real router served over TCP on an ephemeral port, like `clavex serve`.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use clavex_config::Settings;
use clavex_core::{Core, ManualClock};
use clavex_web::{AppState, boot};
use serde_json::Value;
use tokio::sync::oneshot;

use crate::TestDatabase;

/// A running server. Dropping it stops the server and then removes its database.
pub struct TestServer {
    pub addr: SocketAddr,
    pub base_url: String,
    /// A superadmin token (the bootstrap token).
    pub admin_token: String,
    pub core: Core,
    pub clock: Arc<ManualClock>,
    pub http: reqwest::Client,
    pub settings: Settings,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    // Declared last: dropped after the server stops.
    pub db: TestDatabase,
}

/// A response read whole: status, headers and body (JSON when it parses).
#[derive(Debug)]
pub struct TestResponse {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl TestResponse {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("response is not JSON ({e}): {}", self.text))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl TestServer {
    /// A server over a fresh database of the run's backend.
    pub async fn start() -> TestServer {
        Self::start_on(TestDatabase::new().await).await
    }

    pub async fn start_on(db: TestDatabase) -> TestServer {
        Self::start_with(db, |_| {}).await
    }

    /// Starts over `db` after `adjust` has changed the settings (e.g. the master key).
    pub async fn start_with(db: TestDatabase, adjust: impl FnOnce(&mut Settings)) -> TestServer {
        crate::log_capture::install_subscriber();
        let mut settings = Settings::for_tests(&db.url);
        adjust(&mut settings);
        let admin_token = format!("cxa_test_{}", uuid::Uuid::new_v4().simple());
        crate::log_capture::record_secret(&admin_token);
        settings.bootstrap_admin_token = Some(clavex_config::Secret::new(admin_token.clone()));
        let start = real_now();
        let clock = Arc::new(ManualClock::new(start));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let base_url = format!("http://{addr}");
        settings.public_url =
            clavex_config::PublicUrl::parse(&base_url).expect("the test URL is valid");
        let core = boot::open_core(&settings, clock.clone())
            .await
            .expect("open the test installation");
        boot::apply_bootstrap(&core, &settings)
            .await
            .expect("apply the bootstrap token");
        let state = AppState::new(core.clone(), settings.max_body_bytes)
            .with_trusted_proxies(settings.trusted_proxies.clone());
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let shutdown = async move {
                let _ = rx.await;
            };
            let _ = clavex_web::serve(listener, state, shutdown, Duration::ZERO).await;
        });
        TestServer {
            addr,
            base_url,
            admin_token,
            core,
            clock,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("build the HTTP client"),
            settings,
            shutdown: Some(tx),
            task: Some(task),
            db,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// Sends a request with the superadmin token; `body` is sent as JSON when given.
    pub async fn admin(&self, method: &str, path: &str, body: Option<Value>) -> TestResponse {
        self.call(method, path, Some(&self.admin_token.clone()), body)
            .await
    }

    /// Sends a request with an optional bearer token and optional JSON body.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> TestResponse {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("HTTP method");
        let mut req = self.http.request(method, self.url(path));
        if let Some(token) = token {
            crate::log_capture::record_secret(token);
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            crate::log_capture::record_json(&body);
            req = req.json(&body);
        }
        Self::read(req.send().await.expect("send the request")).await
    }

    pub async fn read(resp: reqwest::Response) -> TestResponse {
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.expect("read the response body");
        crate::log_capture::record_response(&headers, &text);
        TestResponse {
            status,
            headers,
            text,
        }
    }

    /// Creates an org through the API and returns its JSON.
    pub async fn create_org(&self, slug: &str) -> Value {
        let r = self
            .admin(
                "POST",
                "/api/v1/organizations",
                Some(serde_json::json!({ "slug": slug, "name": slug.to_uppercase() })),
            )
            .await;
        assert_eq!(r.status, 201, "create org {slug}: {}", r.text);
        r.json()
    }

    /// Stops the server now (dropping does the same).
    pub async fn stop(mut self) {
        self.stop_inner().await;
    }

    async fn stop_inner(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

#[expect(
    clippy::disallowed_methods,
    reason = "the test clock starts at the real time so that stored times look sane"
)]
fn real_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
