//! Built-in HTTPS with `clavex serve` as a process: a self-signed pair made here, HTTPS only on
//! the port, a replaced pair picked up without a restart (and a broken one ignored), bad files
//! refused by serve and `config check` alike, and `clavex healthcheck` over HTTPS.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::Arc,
    time::{Duration, Instant},
};

use rustls::pki_types::{CertificateDer, ServerName};

use super::config_check::{check, fails_like_serve};
use super::serve::{backend_env, serve};
use super::support::{Output, ServeProcess, clavex, run};

/// A self-signed certificate for `127.0.0.1` and `localhost`, and its key, as PEM.
struct Pair {
    cert_pem: String,
    key_pem: String,
    der: Vec<u8>,
}

impl Pair {
    /// `name` becomes the subject's common name, so that two pairs are told apart in messages.
    fn new(name: &str) -> Pair {
        let mut params =
            rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
                .unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        Pair {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            der: cert.der().to_vec(),
        }
    }
}

/// The two files `CLAVEX_TLS_CERT` and `CLAVEX_TLS_KEY` name.
struct Files {
    cert: PathBuf,
    key: PathBuf,
}

impl Files {
    fn new(dir: &Path) -> Files {
        Files {
            cert: dir.join("cert.pem"),
            key: dir.join("key.pem"),
        }
    }

    fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("CLAVEX_TLS_CERT", self.cert.display().to_string()),
            ("CLAVEX_TLS_KEY", self.key.display().to_string()),
        ]
    }

    /// Replaces both files, each by a rename as certbot and Kubernetes do, key first.
    fn install(&self, pair: &Pair) {
        replace(&self.key, &pair.key_pem);
        replace(&self.cert, &pair.cert_pem);
    }
}

/// Writes `path` whole at once: a reader sees the old or the new contents, never half.
fn replace(path: &Path, contents: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, contents).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

/// The certificate the server at `addr` presents to a new connection, verified against `roots`.
async fn served_certificate(addr: SocketAddr, roots: &[&Pair]) -> Result<Vec<u8>, String> {
    let mut store = rustls::RootCertStore::empty();
    for pair in roots {
        store.add(CertificateDer::from(pair.der.clone())).unwrap();
    }
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(store)
    .with_no_client_auth();
    // As browsers offer them.
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let tcp = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| e.to_string())?;
    let name = ServerName::IpAddress(addr.ip().into());
    let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .map_err(|e| e.to_string())?;
    let (_, connection) = tls.get_ref();
    assert_eq!(
        connection.alpn_protocol(),
        Some(&b"http/1.1"[..]),
        "the server speaks HTTP/1.1 only"
    );
    Ok(connection
        .peer_certificates()
        .and_then(|chain| chain.first())
        .map(|c| c.as_ref().to_vec())
        .unwrap_or_default())
}

/// Waits (bounded) until new connections get `pair`'s certificate.
async fn wait_for_certificate(server: &ServeProcess, pair: &Pair, roots: &[&Pair]) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let served = served_certificate(server.addr, roots).await;
        if served.as_ref().is_ok_and(|der| *der == pair.der) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the new certificate is not served after 20 s (last: {:?}):\n{}",
            served.map(|d| d.len()),
            server.stderr()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Waits (bounded) until the server's log contains `needle`.
async fn wait_for_log(server: &ServeProcess, needle: &str) {
    wait_for_count(server, needle, 1).await;
}

fn log_count(server: &ServeProcess, needle: &str) -> usize {
    server.stderr().matches(needle).count()
}

/// Waits (bounded) until the server's log contains `needle` at least `count` times.
async fn wait_for_count(server: &ServeProcess, needle: &str, count: usize) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while log_count(server, needle) < count {
        assert!(
            Instant::now() < deadline,
            "{needle:?} is not {count} times in the log after 20 s:\n{}",
            server.stderr()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// An HTTP client that trusts exactly `pair`'s certificate.
fn https_client(pair: &Pair) -> reqwest::Client {
    reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(pair.cert_pem.as_bytes()).unwrap())
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

const TOKEN: &str = "cxa_tls-test-bootstrap-token-1";

async fn start_https(
    dir: &Path,
    files: &Files,
) -> (Option<clavex_testkit::TestDatabase>, ServeProcess) {
    let (db, mut env) = backend_env().await;
    env.extend(files.env());
    env.push(("CLAVEX_BOOTSTRAP_ADMIN_TOKEN", TOKEN.to_owned()));
    env.push(("CLAVEX_LOG", "info,clavex_web::tls=debug".to_owned()));
    let server = ServeProcess::start(serve(dir, &env, &["--listen", "127.0.0.1:0"])).await;
    (db, server)
}

#[tokio::test]
async fn https_serves_discovery_and_refuses_plain_http() {
    let dir = tempfile::tempdir().unwrap();
    let files = Files::new(dir.path());
    let pair = Pair::new("clavex test A");
    files.install(&pair);
    let (_db, server) = start_https(dir.path(), &files).await;
    assert!(server.stderr().contains("listening on https://"));
    // rcgen's default validity.
    wait_for_log(&server, "valid until 4096-01-01T00:00:00Z").await;

    let https = https_client(&pair);
    let base = format!("https://{}", server.addr);
    let r = https
        .post(format!("{base}/api/v1/organizations"))
        .bearer_auth(TOKEN)
        .json(&serde_json::json!({"slug": "acme", "name": "Acme"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let r = https
        .get(format!("{base}/acme/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let discovery: serde_json::Value = r.json().await.unwrap();
    // The issuer comes from CLAVEX_PUBLIC_URL (its default here), not from how it was reached.
    assert_eq!(discovery["issuer"], "http://localhost:8080/acme");

    // Plain HTTP on the same port gets no answer, and the server carries on.
    let plain = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
        .get(format!("http://{}/readyz", server.addr))
        .send()
        .await;
    assert!(plain.is_err(), "plain HTTP was answered: {plain:?}");
    // A client that does not trust the certificate is refused.
    let untrusted = https_client(&Pair::new("someone else"))
        .get(format!("{base}/readyz"))
        .send()
        .await;
    assert!(untrusted.is_err(), "{untrusted:?}");
    let r = https.get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    // The failed handshakes were logged at debug, not as warnings or errors.
    wait_for_log(&server, "TLS handshake failed").await;
    let log = server.stderr();
    for line in log.lines().filter(|l| l.contains("handshake")) {
        assert!(line.contains("DEBUG"), "{line}");
    }

    // SIGTERM still drains and stops cleanly.
    let (status, stderr) = server.terminate().await;
    assert!(status.success(), "{status}\n{stderr}");
    assert!(stderr.contains("draining"), "{stderr}");
}

#[tokio::test]
async fn a_replaced_pair_is_served_without_restart_and_a_broken_one_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let files = Files::new(dir.path());
    let (a, b, c) = (
        Pair::new("clavex test A"),
        Pair::new("clavex test B"),
        Pair::new("clavex test C"),
    );
    let roots = [&a, &b, &c];
    files.install(&a);
    let (_db, server) = start_https(dir.path(), &files).await;
    assert_eq!(
        served_certificate(server.addr, &roots).await.unwrap(),
        a.der
    );

    // A renewal: new connections get the new certificate within seconds. (Between the two
    // renames the watcher may see the new key with the old certificate, and wait for the rest.)
    const RELOADED: &str = "TLS certificate reloaded";
    const MISMATCH: &str = "does not belong to the first certificate";
    files.install(&b);
    wait_for_certificate(&server, &b, &roots).await;
    wait_for_count(&server, RELOADED, 1).await;

    // A broken key: the previous pair keeps serving, and the log says why.
    replace(&files.key, "this is not a key\n");
    wait_for_log(&server, "no private key in it").await;
    assert_eq!(
        served_certificate(server.addr, &roots).await.unwrap(),
        b.der
    );
    replace(&files.key, &b.key_pem);
    wait_for_count(&server, RELOADED, 2).await;

    // A certificate written before its key: refused as a mismatch, then served once the key
    // follows.
    let mismatches = log_count(&server, MISMATCH);
    replace(&files.cert, &c.cert_pem);
    wait_for_count(&server, MISMATCH, mismatches + 1).await;
    assert_eq!(
        served_certificate(server.addr, &roots).await.unwrap(),
        b.der
    );
    replace(&files.key, &c.key_pem);
    wait_for_certificate(&server, &c, &roots).await;
    wait_for_count(&server, RELOADED, 3).await;

    // Each distinct problem was warned about once, and the reloads were counted.
    let log = server.stderr();
    assert_eq!(log.matches("no private key in it").count(), 1, "{log}");
    let metrics = https_client(&c)
        .get(format!("https://{}/metrics", server.addr))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let count = |outcome: &str| -> u64 {
        let prefix = format!("clavex_tls_reloads_total{{outcome=\"{outcome}\"}} ");
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .unwrap_or_else(|| panic!("no {prefix}: {metrics}"))
            .parse()
            .unwrap()
    };
    assert_eq!(count("success"), 3, "{metrics}");
    assert!(count("failure") >= 2, "{metrics}");

    let (status, stderr) = server.terminate().await;
    assert!(status.success(), "{status}\n{stderr}");
}

#[tokio::test]
async fn bad_files_stop_serve_and_config_check_alike() {
    let dir = tempfile::tempdir().unwrap();
    let files = Files::new(dir.path());
    let (a, b) = (Pair::new("clavex test A"), Pair::new("clavex test B"));
    let cert = files.cert.display().to_string();
    let key = files.key.display().to_string();
    let (cert, key) = (cert.as_str(), key.as_str());
    let encrypted = "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIBvTBXBgkqhkiG9w0BBQ0wSjApBgkq\n\
                     -----END ENCRYPTED PRIVATE KEY-----\n";
    let cases: [(&str, &str, &[&str]); 5] = [
        (
            "not PEM at all\n",
            &a.key_pem,
            &[cert, "no certificate in it"],
        ),
        (
            &a.cert_pem,
            "not PEM at all\n",
            &[key, "no private key in it"],
        ),
        (&a.cert_pem, &a.cert_pem, &[key, "no private key in it"]),
        (&a.cert_pem, encrypted, &[key, "encrypted"]),
        (&a.cert_pem, &b.key_pem, &[key, cert, "does not belong"]),
    ];
    for (cert_pem, key_pem, says) in cases {
        replace(&files.cert, cert_pem);
        replace(&files.key, key_pem);
        let out = fails_like_serve(&files.env(), &[]).await;
        out.assert_stderr_has(says);
    }
    // A missing file is named by the setting's own check.
    std::fs::remove_file(&files.key).unwrap();
    let out = fails_like_serve(&files.env(), &[]).await;
    out.assert_stderr_has(&["CLAVEX_TLS_KEY", "existing PEM file"]);

    // A good pair: `config check` loads it and says so.
    files.install(&a);
    let out = check(dir.path(), &files.env(), &[]).await;
    out.assert_ok();
    assert!(out.stdout.contains("https: "), "{out}");
    assert!(out.stdout.contains("valid until 4096-01-01"), "{out}");
    // The default public URL is http://: links would not match the listener.
    out.assert_stderr_has(&["warning", "CLAVEX_PUBLIC_URL", "make it https://"]);
    let mut env = files.env();
    env.push(("CLAVEX_PUBLIC_URL", "https://id.example.com".to_owned()));
    let out = check(dir.path(), &env, &[]).await;
    out.assert_ok();
    assert!(!out.stderr.contains("warning"), "{out}");
}

async fn healthcheck(env: &[(&'static str, String)], args: &[&str]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = clavex(dir.path());
    cmd.arg("healthcheck").args(args).envs(env.iter().cloned());
    run(cmd, None).await
}

#[tokio::test]
async fn healthcheck_trusts_exactly_the_configured_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let files = Files::new(dir.path());
    let pair = Pair::new("clavex test A");
    files.install(&pair);
    let (_db, server) = start_https(dir.path(), &files).await;
    let addr = server.addr;

    let mut env = files.env();
    env.push(("CLAVEX_LISTEN", format!("0.0.0.0:{}", addr.port())));
    let out = healthcheck(&env, &[]).await;
    out.assert_ok();
    assert!(
        out.stdout.contains(&format!(
            "https://127.0.0.1:{}/readyz answered 200",
            addr.port()
        )),
        "{out}"
    );
    let url = format!("https://{addr}/readyz");
    healthcheck(&files.env(), &["--url", &url])
        .await
        .assert_ok();

    // Another certificate in CLAVEX_TLS_CERT: the server is not trusted.
    let other_dir = tempfile::tempdir().unwrap();
    let other = Files::new(other_dir.path());
    other.install(&Pair::new("clavex test B"));
    let out = healthcheck(&other.env(), &["--url", &url]).await;
    out.assert_failed()
        .assert_stderr_has(&["not the first one in CLAVEX_TLS_CERT"]);
    // Plain HTTP to an HTTPS port is no answer.
    let out = healthcheck(&[], &["--url", &format!("http://{addr}/readyz")]).await;
    out.assert_failed();

    let (status, stderr) = server.terminate().await;
    assert!(status.success(), "{status}\n{stderr}");
}
