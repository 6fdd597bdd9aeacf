//! First run: `clavex serve` without any console account prints a one-time set-up link; the link
//! creates the first superadmin once, and later starts print nothing.

use std::time::Duration;

use super::{
    serve::{backend_env, serve},
    support::{ServeProcess, clavex, http, run},
};

/// Waits (bounded) for the set-up link on the server's stdout.
async fn setup_link(server: &ServeProcess) -> String {
    for _ in 0..100 {
        let stdout = server.stdout();
        if let Some(at) = stdout.find("/admin/setup?token=") {
            let end = stdout[at..]
                .find(char::is_whitespace)
                .map_or(stdout.len(), |e| at + e);
            return stdout[at..end].to_string();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "no set-up link printed:\n{}\n{}",
        server.stdout(),
        server.stderr()
    );
}

fn form_of(link: &str) -> (String, String) {
    let token = link.split("token=").nth(1).unwrap().to_string();
    (link.to_string(), token)
}

#[tokio::test]
async fn the_set_up_link_creates_the_first_superadmin_once() {
    let dir = tempfile::tempdir().unwrap();
    let (_db, env) = backend_env().await;
    let server = ServeProcess::start(serve(dir.path(), &env, &["--listen", "127.0.0.1:0"])).await;
    let (path, token) = form_of(&setup_link(&server).await);
    // The banner is on stdout; the log (stderr) never carries the token.
    assert!(!server.stderr().contains(&token), "{}", server.stderr());

    let page = http().get(server.url(&path)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("Create the first administrator")
    );

    // A wrong token and mismatched passwords are refused; nothing is created.
    let wrong = http()
        .get(server.url("/admin/setup?token=nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 404);
    let mismatch = http()
        .post(server.url("/admin/setup"))
        .form(&[
            ("token", token.as_str()),
            ("username", "root"),
            ("password", "first-password-1"),
            ("password_confirm", "first-password-2"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(mismatch.status(), 400);
    assert!(
        mismatch
            .text()
            .await
            .unwrap()
            .contains("the two passwords differ")
    );

    let created = http()
        .post(server.url("/admin/setup"))
        .form(&[
            ("token", token.as_str()),
            ("username", "root"),
            ("password", "first-password-1"),
            ("password_confirm", "first-password-1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);

    // Used: the link and a second post are refused, and no second account appears.
    let again = http().get(server.url(&path)).send().await.unwrap();
    assert_eq!(again.status(), 404);
    let second = http()
        .post(server.url("/admin/setup"))
        .form(&[
            ("token", token.as_str()),
            ("username", "intruder"),
            ("password", "second-password-1"),
            ("password_confirm", "second-password-1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(second.status(), 404);
    let (status, stderr) = server.terminate().await;
    assert!(status.success(), "{status}\n{stderr}");

    let mut list = clavex(dir.path());
    list.args(["admin", "list"]).envs(env.iter().cloned());
    let accounts = run(list, None).await;
    let accounts = accounts.assert_ok().json();
    let accounts = accounts.as_array().unwrap();
    assert_eq!(accounts.len(), 1, "{accounts:?}");
    assert_eq!(accounts[0]["username"], "root");
    assert_eq!(accounts[0]["superadmin"], true);

    // The next start has an administrator: no link.
    let server = ServeProcess::start(serve(dir.path(), &env, &["--listen", "127.0.0.1:0"])).await;
    let ready = http().get(server.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let stdout = server.stdout();
    let (status, stderr) = server.terminate().await;
    assert!(status.success(), "{status}\n{stderr}");
    assert!(!stdout.contains("/admin/setup"), "{stdout}");
}

#[tokio::test]
async fn no_link_when_the_bootstrap_admin_is_configured() {
    let dir = tempfile::tempdir().unwrap();
    let (_db, mut env) = backend_env().await;
    env.push(("CLAVEX_BOOTSTRAP_ADMIN_USERNAME", "root".to_owned()));
    env.push((
        "CLAVEX_BOOTSTRAP_ADMIN_PASSWORD",
        "bootstrap-password-1".to_owned(),
    ));
    let server = ServeProcess::start(serve(dir.path(), &env, &["--listen", "127.0.0.1:0"])).await;
    let ready = http().get(server.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let stdout = server.stdout();
    let (status, stderr) = server.terminate().await;
    assert!(status.success(), "{status}\n{stderr}");
    assert!(!stdout.contains("/admin/setup"), "{stdout}");
    assert!(!stderr.contains("bootstrap-password-1"), "{stderr}");
}
