//! Closed-loop load: N connections each start the next operation as soon as the previous one
//! finished, for a fixed time. An operation is one request, or one whole flow for the flow
//! workloads (code with a session, sign-in). Reports operations per second, latency percentiles
//! of the successful operations, errors, and, given the server's pid, its CPU time per operation
//! and its peak RSS during the run.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::Context;
use serde::{Deserialize, Serialize};

use bytes::Bytes;
use hyper::{
    Method,
    header::{self, HeaderValue},
};

use crate::{
    Workload, flows,
    flows::Browser,
    procfs::{Process, RssSampler},
    raw::{Conn, Endpoint},
    seed::{Fixture, Target},
    stats::Summary,
};

/// One operation as a connection repeats it. The one-request operations go through the bare
/// client (`raw`), the flows through reqwest with its cookie jar.
enum Op {
    Get {
        endpoint: Endpoint,
        headers: Vec<(header::HeaderName, HeaderValue)>,
    },
    ClientCredentials {
        endpoint: Endpoint,
        basic: HeaderValue,
        form: Bytes,
    },
    /// Refresh rotation: each answer's refresh token is the next request's.
    Refresh {
        endpoint: Endpoint,
        basic: HeaderValue,
        refresh_token: String,
    },
    /// authorize (the SSO session in `browser` answers at once) → code → token.
    Code {
        fixture: Arc<Fixture>,
        browser: Browser,
    },
    /// A whole password sign-in in a fresh browser: authorize → form → code → token.
    Signin { fixture: Arc<Fixture> },
}

/// The outcome of one workload at one connection count.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunResult {
    pub workload: String,
    pub connections: usize,
    pub seconds: f64,
    /// Successful operations.
    pub ops: u64,
    pub errors: u64,
    /// The first error met, to say why a run failed.
    pub first_error: Option<String>,
    pub ops_per_s: f64,
    /// HTTP requests per successful operation.
    pub http_per_op: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub server_cpu_ms_per_op: Option<f64>,
    /// The load generator's own CPU per operation (it shares the machine's cores).
    pub client_cpu_ms_per_op: f64,
    /// The largest server RSS sampled during the run.
    pub peak_rss_kib: Option<u64>,
}

impl std::fmt::Display for RunResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} at {} connections for {:.1} s: {} ops, {:.0} ops/s, {:.1} HTTP/op, p50 {:.2} ms, p99 {:.2} ms, errors {}",
            self.workload,
            self.connections,
            self.seconds,
            self.ops,
            self.ops_per_s,
            self.http_per_op,
            self.p50_ms,
            self.p99_ms,
            self.errors
        )?;
        if let Some(cpu) = self.server_cpu_ms_per_op {
            write!(f, ", server CPU {cpu:.3} ms/op")?;
        }
        if let Some(rss) = self.peak_rss_kib {
            write!(f, ", peak RSS {:.1} MB", rss as f64 / 1024.0)?;
        }
        if let Some(e) = &self.first_error {
            write!(f, " (first error: {e})")?;
        }
        Ok(())
    }
}

/// What one connection task brings back.
#[derive(Default)]
struct Tally {
    latencies: Vec<Duration>,
    http: u64,
    errors: u64,
    first_error: Option<String>,
}

pub async fn run(
    target: Arc<Target>,
    workload: Workload,
    connections: usize,
    duration: Duration,
    server: Option<&Process>,
) -> anyhow::Result<RunResult> {
    anyhow::ensure!(connections > 0, "--connections must be at least 1");
    let ops = prepare(&target, workload, connections)
        .await
        .with_context(|| format!("preparing {}", workload.name()))?;
    let me = Process::current();
    let client_before = me.cpu_ms()?;
    let server_before = server.map(Process::cpu_ms).transpose()?;
    let sampler = server.cloned().map(RssSampler::start);
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = Vec::new();
    for (conn, op) in ops.into_iter().enumerate() {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()?;
        let target = target.clone();
        tasks.push(tokio::spawn(async move {
            let mut op = op;
            let mut raw = Conn::default();
            let mut tally = Tally::default();
            while Instant::now() < deadline {
                let t = Instant::now();
                match once(&target, &http, &mut raw, conn, &mut op).await {
                    Ok(requests) => {
                        tally.latencies.push(t.elapsed());
                        tally.http += u64::from(requests);
                    }
                    Err(e) => {
                        tally.errors += 1;
                        if tally.first_error.is_none() {
                            tally.first_error = Some(format!("{e:#}"));
                        }
                        // A connection whose state broke (a revoked refresh family) would spin.
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                }
            }
            tally
        }));
    }
    let mut all = Tally::default();
    for t in tasks {
        let t = t.await.context("a load task panicked")?;
        all.latencies.extend(t.latencies);
        all.http += t.http;
        all.errors += t.errors;
        if all.first_error.is_none() {
            all.first_error = t.first_error;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let peak_rss_kib = match sampler {
        Some(s) => Some(s.stop().await),
        None => None,
    };
    let server_cpu = match (server, server_before) {
        (Some(p), Some(before)) => Some(p.cpu_ms()? - before),
        _ => None,
    };
    let client_cpu = me.cpu_ms()? - client_before;
    let count = all.latencies.len() as u64;
    let per_op = |total: f64| {
        if count == 0 {
            0.0
        } else {
            total / count as f64
        }
    };
    let s = Summary::of(&mut all.latencies);
    Ok(RunResult {
        workload: workload.name(),
        connections,
        seconds: elapsed,
        ops: count,
        errors: all.errors,
        first_error: all.first_error,
        ops_per_s: count as f64 / elapsed,
        http_per_op: per_op(all.http as f64),
        p50_ms: s.p50.as_secs_f64() * 1000.0,
        p99_ms: s.p99.as_secs_f64() * 1000.0,
        server_cpu_ms_per_op: server_cpu.map(per_op),
        client_cpu_ms_per_op: per_op(client_cpu),
        peak_rss_kib,
    })
}

/// `Authorization: Basic` for a client, as reqwest's `basic_auth` builds it.
fn basic(client_id: &str, secret: &str) -> anyhow::Result<HeaderValue> {
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{client_id}:{secret}"));
    Ok(HeaderValue::from_str(&format!("Basic {encoded}"))?)
}

fn form(pairs: &[(&str, &str)]) -> Bytes {
    let mut out = url::form_urlencoded::Serializer::new(String::new());
    out.extend_pairs(pairs);
    Bytes::from(out.finish())
}

/// One operation; returns the HTTP requests it made.
async fn once(
    target: &Target,
    http: &reqwest::Client,
    raw: &mut Conn,
    conn: usize,
    op: &mut Op,
) -> anyhow::Result<u32> {
    match op {
        Op::Get { endpoint, headers } => {
            let (status, body) = raw.send(endpoint, Method::GET, headers, None).await?;
            anyhow::ensure!(
                status.is_success(),
                "{status}: {}",
                flows::snippet(&String::from_utf8_lossy(&body))
            );
            Ok(1)
        }
        Op::ClientCredentials {
            endpoint,
            basic,
            form,
        } => {
            let headers = [(header::AUTHORIZATION, basic.clone())];
            let (status, body) = raw
                .send(endpoint, Method::POST, &headers, Some(form.clone()))
                .await?;
            flows::token_answer(status, &body)?;
            Ok(1)
        }
        Op::Refresh {
            endpoint,
            basic,
            refresh_token,
        } => {
            let headers = [(header::AUTHORIZATION, basic.clone())];
            let body = form(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token.as_str()),
            ]);
            let (status, body) = raw
                .send(endpoint, Method::POST, &headers, Some(body))
                .await?;
            let tokens = flows::token_answer(status, &body)?;
            anyhow::ensure!(
                !tokens.refresh_token.is_empty(),
                "the refresh answer has no new refresh token (no rotation)"
            );
            *refresh_token = tokens.refresh_token;
            Ok(1)
        }
        Op::Code { fixture, browser } => {
            let auth = flows::authorize(target, http, conn, fixture, browser, false).await?;
            flows::redeem(target, http, conn, fixture, &auth).await?;
            Ok(auth.requests + 1)
        }
        Op::Signin { fixture } => {
            let (_, _, requests) = flows::sign_in(target, http, conn, fixture).await?;
            Ok(requests)
        }
    }
}

/// One operation per connection, seeded and ready (refresh needs a token family per connection,
/// code a signed-in browser per connection).
async fn prepare(
    target: &Target,
    workload: Workload,
    connections: usize,
) -> anyhow::Result<Vec<Op>> {
    let conns = 0..connections;
    Ok(match workload {
        Workload::Discovery | Workload::Jwks => {
            let m = target.machine_client("RS256").await?;
            let url = if matches!(workload, Workload::Discovery) {
                m.endpoints.discovery
            } else {
                m.endpoints.jwks
            };
            conns
                .map(|i| {
                    Ok(Op::Get {
                        endpoint: Endpoint::parse(&target.via(i, &url))?,
                        headers: Vec::new(),
                    })
                })
                .collect::<anyhow::Result<_>>()?
        }
        Workload::ClientCredentialsRs256 | Workload::ClientCredentialsEs256 => {
            let alg = if matches!(workload, Workload::ClientCredentialsRs256) {
                "RS256"
            } else {
                "ES256"
            };
            let m = target.machine_client(alg).await?;
            conns
                .map(|i| {
                    Ok(Op::ClientCredentials {
                        endpoint: Endpoint::parse(&target.via(i, &m.endpoints.token))?,
                        basic: basic(&m.client_id, &m.client_secret)?,
                        form: form(&[
                            ("grant_type", "client_credentials"),
                            ("scope", m.scope.as_str()),
                        ]),
                    })
                })
                .collect::<anyhow::Result<_>>()?
        }
        Workload::Userinfo => {
            let f = target.userinfo_fixture().await?;
            let (tokens, _, _) = flows::sign_in(target, &target.http, 0, &f).await?;
            let bearer = HeaderValue::from_str(&format!("Bearer {}", tokens.access_token))?;
            conns
                .map(|i| {
                    Ok(Op::Get {
                        endpoint: Endpoint::parse(&target.via(i, &f.endpoints.userinfo))?,
                        headers: vec![(header::AUTHORIZATION, bearer.clone())],
                    })
                })
                .collect::<anyhow::Result<_>>()?
        }
        Workload::Refresh => {
            let f = target.signin_fixture().await?;
            let mut out = Vec::new();
            for i in conns {
                let (tokens, _, _) = flows::sign_in(target, &target.http, i, &f).await?;
                anyhow::ensure!(
                    !tokens.refresh_token.is_empty(),
                    "the code exchange gave no refresh token"
                );
                out.push(Op::Refresh {
                    endpoint: Endpoint::parse(&target.via(i, &f.endpoints.token))?,
                    basic: basic(&f.client_id, &f.client_secret)?,
                    refresh_token: tokens.refresh_token,
                });
            }
            out
        }
        Workload::CodeWithSession => {
            let f = Arc::new(target.signin_fixture().await?);
            let mut out = Vec::new();
            for i in conns {
                let (_, browser, _) = flows::sign_in(target, &target.http, i, &f).await?;
                out.push(Op::Code {
                    fixture: f.clone(),
                    browser,
                });
            }
            out
        }
        Workload::Signin => {
            let f = Arc::new(target.signin_fixture().await?);
            conns.map(|_| Op::Signin { fixture: f.clone() }).collect()
        }
    })
}
