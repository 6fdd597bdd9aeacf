//! A real `clavex serve` process: with `CLAVEX_METRICS_LISTEN`, `/metrics` answers there (with the
//! binary's build information) and 404 on the main listener; bad metrics settings stop start-up.

use std::{net::SocketAddr, time::Duration};

use clavex_testkit::{Backend, TestDatabase};
use tokio::process::Command;

use super::Scrape;
use crate::cli::support::{ServeProcess, TEST_MASTER_KEY, clavex, http, serve_to_exit};

/// `clavex serve` in `dir` on the run's backend (keep the database as long as the process runs).
async fn serve(dir: &std::path::Path, env: &[(&str, &str)]) -> (Command, Option<TestDatabase>) {
    let mut cmd = clavex(dir);
    cmd.args(["serve", "--listen", "127.0.0.1:0"]);
    let db = match Backend::from_env() {
        Backend::Sqlite => None,
        Backend::Postgres => {
            let db = TestDatabase::with_backend(Backend::Postgres).await;
            cmd.env("CLAVEX_DATABASE_URL", &db.url)
                .env("CLAVEX_MASTER_KEY", TEST_MASTER_KEY);
            Some(db)
        }
    };
    for (k, v) in env {
        cmd.env(k, v);
    }
    (cmd, db)
}

/// The address of the metrics listener, from its start-up log line.
async fn metrics_addr(server: &ServeProcess) -> SocketAddr {
    const MARK: &str = "serving /metrics at http://";
    for _ in 0..100 {
        let log = server.stderr();
        if let Some(rest) = log.split(MARK).nth(1) {
            let end = rest.find("/metrics").expect("the URL ends in /metrics");
            return rest[..end].parse().expect("an address");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no metrics listener in the log:\n{}", server.stderr());
}

async fn get(url: &str) -> (u16, String) {
    let r = http().get(url).send().await.expect(url);
    (r.status().as_u16(), r.text().await.unwrap_or_default())
}

#[tokio::test]
async fn a_separate_listener_serves_metrics_and_the_main_one_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let (cmd, _db) = serve(dir.path(), &[("CLAVEX_METRICS_LISTEN", "127.0.0.1:0")]).await;
    let server = ServeProcess::start(cmd).await;
    let metrics = metrics_addr(&server).await;
    assert_ne!(metrics, server.addr);

    let (status, _) = get(&server.url("/healthz")).await;
    assert_eq!(status, 200);
    let (status, body) = get(&server.url("/metrics")).await;
    assert_eq!(status, 404, "{body}");

    let (status, body) = get(&format!("http://{metrics}/metrics")).await;
    assert_eq!(status, 200, "{body}");
    let m = Scrape::parse(&body);
    // Requests to the main listener are counted; the 404 for /metrics there too.
    assert_eq!(
        m.value(r#"clavex_http_requests_total{route="/healthz",method="GET",status="200"}"#),
        1.0
    );
    assert_eq!(
        m.value(r#"clavex_http_requests_total{route="/metrics",method="GET",status="404"}"#),
        1.0
    );
    // The binary hands its build information in.
    let build = format!(
        "clavex_build_info{{version=\"{}\",commit=\"{}\",target=\"{}\",profile=\"{}\"}}",
        env!("CARGO_PKG_VERSION"),
        env!("CLAVEX_GIT_COMMIT"),
        env!("CLAVEX_TARGET"),
        env!("CLAVEX_PROFILE"),
    );
    assert_eq!(m.value(&build), 1.0);
    assert!(m.get("clavex_db_pool_max").is_some(), "{body}");
    // Only /metrics is served there.
    let (status, _) = get(&format!("http://{metrics}/healthz")).await;
    assert_eq!(status, 404);

    let (status, _) = server.terminate().await;
    assert!(status.success(), "{status:?}");
}

#[tokio::test]
async fn bad_metrics_settings_stop_start_up() {
    let dir = tempfile::tempdir().unwrap();
    for (env, needles) in [
        (
            vec![("CLAVEX_METRICS", "maybe")],
            vec!["CLAVEX_METRICS", "`maybe`", "`on` or `off`"],
        ),
        (
            vec![("CLAVEX_METRICS_LISTEN", "localhost:9464")],
            vec!["CLAVEX_METRICS_LISTEN", "localhost:9464"],
        ),
        (
            vec![("CLAVEX_METRICS_ORGS", "acme,Globex")],
            vec!["CLAVEX_METRICS_ORGS", "`Globex` is not an org slug"],
        ),
        (
            vec![
                ("CLAVEX_METRICS", "off"),
                ("CLAVEX_METRICS_LISTEN", "127.0.0.1:9464"),
            ],
            vec!["CLAVEX_METRICS_LISTEN", "metrics are off"],
        ),
    ] {
        let (cmd, _db) = serve(dir.path(), &env).await;
        let out = serve_to_exit(cmd).await;
        out.assert_failed();
        out.assert_stderr_has(&needles);
    }
    // A metrics address already taken stops start-up too, naming the setting.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let (cmd, _db) = serve(dir.path(), &[("CLAVEX_METRICS_LISTEN", &addr)]).await;
    let out = serve_to_exit(cmd).await;
    out.assert_failed();
    out.assert_stderr_has(&["CLAVEX_METRICS_LISTEN", &addr]);
}
