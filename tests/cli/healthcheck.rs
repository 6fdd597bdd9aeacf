//! `clavex healthcheck`, the container health check: 0 while the server of the same settings
//! answers `/readyz` with 200, non-zero (and a reason) otherwise.

use super::serve::{backend_env, serve};
use super::support::{Output, ServeProcess, clavex, run};

async fn healthcheck(env: &[(&str, String)], args: &[&str]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = clavex(dir.path());
    cmd.arg("healthcheck").args(args);
    for (name, value) in env {
        cmd.env(name, value);
    }
    run(cmd, None).await
}

#[tokio::test]
async fn healthcheck_follows_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let (_db, env) = backend_env().await;
    let server = ServeProcess::start(serve(dir.path(), &env, &["--listen", "127.0.0.1:0"])).await;
    let addr = server.addr;

    // The address from CLAVEX_LISTEN, as in the container image; 0.0.0.0 means loopback.
    for listen in [addr.to_string(), format!("0.0.0.0:{}", addr.port())] {
        let out = healthcheck(&[("CLAVEX_LISTEN", listen)], &[]).await;
        out.assert_ok();
        assert!(out.stdout.contains("answered 200"), "{out}");
    }
    let url = format!("http://{addr}/readyz");
    healthcheck(&[], &["--url", &url]).await.assert_ok();

    // Anything but 200 is unhealthy.
    let out = healthcheck(&[], &["--url", &format!("http://{addr}/no-such-page")]).await;
    out.assert_failed().assert_stderr_has(&["answered 404"]);

    let (status, stderr) = server.terminate().await;
    assert!(status.success(), "{status}\n{stderr}");
    let out = healthcheck(&[], &["--url", &url]).await;
    out.assert_failed().assert_stderr_has(&["error", &url]);
    let out = healthcheck(&[("CLAVEX_LISTEN", addr.to_string())], &[]).await;
    out.assert_failed().assert_stderr_has(&[&url]);
}

#[tokio::test]
async fn healthcheck_refuses_what_it_cannot_ask() {
    let out = healthcheck(&[], &["--url", "https://127.0.0.1:1/readyz"]).await;
    out.assert_failed().assert_stderr_has(&["http://"]);
    let out = healthcheck(&[("CLAVEX_LISTEN", "127.0.0.1:0".to_owned())], &[]).await;
    out.assert_failed().assert_stderr_has(&["port 0", "--url"]);
    // Invalid settings fail before anything is asked.
    let out = healthcheck(&[("CLAVEX_LISTEN", "nonsense".to_owned())], &[]).await;
    out.assert_failed().assert_stderr_has(&["CLAVEX_LISTEN"]);
}
