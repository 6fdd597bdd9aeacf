//! Closed-loop load: N connections each send the next request as soon as the previous answers,
//! for a fixed time. Reports requests per second, latency percentiles and errors.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use anyhow::Context;

use crate::{
    Workload, flows, seed,
    seed::{Fixture, Target},
    stats::Summary,
};

/// One prepared request.
#[derive(Clone)]
enum Request {
    Get {
        url: String,
        bearer: Option<String>,
    },
    Form {
        url: String,
        basic: (String, String),
        form: Vec<(String, String)>,
    },
    /// A whole password sign-in (authorize → form → code → token → userinfo) in a fresh browser,
    /// sent to connection `conn`'s node.
    Signin {
        fixture: Arc<Fixture>,
        conn: usize,
    },
}

pub async fn run(
    target: Arc<Target>,
    workload: Workload,
    connections: usize,
    duration: Duration,
) -> anyhow::Result<String> {
    let prepared = prepare(&target, workload, connections).await?;
    let latencies = Arc::new(Mutex::new(Vec::<Duration>::new()));
    let errors = Arc::new(Mutex::new(0usize));
    let deadline = Instant::now() + duration;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (i, req) in prepared.into_iter().enumerate().take(connections) {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let latencies = latencies.clone();
        let errors = errors.clone();
        let refresh = matches!(workload, Workload::Refresh);
        let target = target.clone();
        tasks.push(tokio::spawn(async move {
            let mut req = req;
            let mut mine = Vec::new();
            let mut failed = 0usize;
            while Instant::now() < deadline {
                let t = Instant::now();
                let result = send(&target, &http, &req).await;
                mine.push(t.elapsed());
                match result {
                    Ok(body) => {
                        // Refresh rotation: the next request uses the token just issued.
                        if refresh
                            && let (Request::Form { form, .. }, Some(next)) = (
                                &mut req,
                                body.and_then(|b| b["refresh_token"].as_str().map(str::to_string)),
                            )
                        {
                            for (k, v) in form.iter_mut() {
                                if k == "refresh_token" {
                                    *v = next.clone();
                                }
                            }
                        }
                    }
                    Err(_) => failed += 1,
                }
            }
            let _ = i;
            if let Ok(mut all) = latencies.lock() {
                all.extend(mine);
            }
            if let Ok(mut e) = errors.lock() {
                *e += failed;
            }
        }));
    }
    for t in tasks {
        t.await.context("a load task panicked")?;
    }
    let elapsed = started.elapsed();
    let mut all = latencies.lock().map(|v| v.clone()).unwrap_or_default();
    let count = all.len();
    let errors = errors.lock().map(|e| *e).unwrap_or(0);
    let s = Summary::of(&mut all);
    Ok(format!(
        "{workload:?} on {} node(s) at {connections} connections for {:.1} s: {count} requests, {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms, errors {errors}",
        target.nodes.len(),
        elapsed.as_secs_f64(),
        count as f64 / elapsed.as_secs_f64(),
        s.p50.as_secs_f64() * 1000.0,
        s.p99.as_secs_f64() * 1000.0,
    ))
}

async fn send(
    target: &Target,
    http: &reqwest::Client,
    req: &Request,
) -> anyhow::Result<Option<serde_json::Value>> {
    let resp = match req {
        Request::Signin { fixture, conn } => {
            flows::code_flow(target, fixture, *conn).await?;
            return Ok(None);
        }
        Request::Get { url, bearer } => {
            let mut r = http.get(url);
            if let Some(b) = bearer {
                r = r.bearer_auth(b);
            }
            r.send().await?
        }
        Request::Form { url, basic, form } => {
            http.post(url)
                .basic_auth(&basic.0, Some(&basic.1))
                .form(form)
                .send()
                .await?
        }
    };
    let resp = resp.error_for_status()?;
    let body = resp.bytes().await?;
    Ok(serde_json::from_slice(&body).ok())
}

/// One request per connection (refresh needs one token family per connection).
async fn prepare(
    target: &Target,
    workload: Workload,
    connections: usize,
) -> anyhow::Result<Vec<Request>> {
    let node = |i: usize| target.node(i).to_string();
    Ok(match workload {
        Workload::Discovery | Workload::Jwks => {
            let (org, _, _) = seed::machine_client(target, "RS256").await?;
            let path = if matches!(workload, Workload::Discovery) {
                ".well-known/openid-configuration"
            } else {
                "jwks"
            };
            (0..connections)
                .map(|i| Request::Get {
                    url: format!("{}/{org}/{path}", node(i)),
                    bearer: None,
                })
                .collect()
        }
        Workload::ClientCredentialsRs256 | Workload::ClientCredentialsEs256 => {
            let alg = if matches!(workload, Workload::ClientCredentialsRs256) {
                "RS256"
            } else {
                "ES256"
            };
            let (org, id, secret) = seed::machine_client(target, alg).await?;
            (0..connections)
                .map(|i| Request::Form {
                    url: format!("{}/{org}/token", node(i)),
                    basic: (id.clone(), secret.clone()),
                    form: vec![("grant_type".into(), "client_credentials".into())],
                })
                .collect()
        }
        Workload::Userinfo => {
            let f = seed::signin_fixture(target, "RS256").await?;
            let tokens = flows::code_flow(target, &f, 0).await?;
            (0..connections)
                .map(|i| Request::Get {
                    url: format!("{}/{}/userinfo", node(i), f.org),
                    bearer: Some(tokens.access_token.clone()),
                })
                .collect()
        }
        Workload::Refresh => {
            let f = seed::signin_fixture(target, "RS256").await?;
            let mut out = Vec::new();
            for i in 0..connections {
                let tokens = flows::code_flow(target, &f, i).await?;
                out.push(Request::Form {
                    url: format!("{}/{}/token", node(i), f.org),
                    basic: (f.client_id.clone(), f.client_secret.clone()),
                    form: vec![
                        ("grant_type".into(), "refresh_token".into()),
                        ("refresh_token".into(), tokens.refresh_token),
                    ],
                });
            }
            out
        }
        Workload::Signin => {
            let f = Arc::new(seed::signin_fixture(target, "RS256").await?);
            (0..connections)
                .map(|conn| Request::Signin {
                    fixture: f.clone(),
                    conn,
                })
                .collect()
        }
    })
}
