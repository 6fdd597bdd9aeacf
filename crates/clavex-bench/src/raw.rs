//! A bare HTTP/1.1 client for the one-request workloads: one kept-alive connection per load
//! connection, no pool, no redirects, no cookies. reqwest spent 20-50 µs of the load generator's
//! CPU on each request, and on a machine where the generator shares the cores with the server
//! that is CPU the server does not get; this spends about a third of that (the report shows the
//! generator's CPU per operation). The flows that need cookies keep reqwest.

use anyhow::Context;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{
    Request, StatusCode,
    client::conn::http1::{self, SendRequest},
    header::{self, HeaderValue},
};
use hyper_util::rt::TokioIo;

/// What a request needs besides its body: built once per load connection.
pub struct Endpoint {
    /// `host:port` to connect to.
    authority: String,
    /// Path and query.
    path: String,
    host: HeaderValue,
}

impl Endpoint {
    pub fn parse(url: &str) -> anyhow::Result<Endpoint> {
        let url = url::Url::parse(url).with_context(|| format!("bad URL {url}"))?;
        anyhow::ensure!(
            url.scheme() == "http",
            "the bare client speaks plain HTTP only ({url})"
        );
        let host = url.host_str().context("the URL has no host")?;
        let port = url.port_or_known_default().unwrap_or(80);
        let authority = format!("{host}:{port}");
        let mut path = url.path().to_string();
        if let Some(q) = url.query() {
            path = format!("{path}?{q}");
        }
        Ok(Endpoint {
            host: HeaderValue::from_str(&authority)?,
            authority,
            path,
        })
    }
}

/// One keep-alive connection, opened again after an error.
#[derive(Default)]
pub struct Conn {
    sender: Option<SendRequest<Full<Bytes>>>,
}

impl Conn {
    async fn connect(authority: &str) -> anyhow::Result<SendRequest<Full<Bytes>>> {
        let stream = tokio::net::TcpStream::connect(authority)
            .await
            .with_context(|| format!("connecting to {authority}"))?;
        stream.set_nodelay(true)?;
        let (sender, connection) = http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            // Ends when the server closes the connection or the sender is dropped.
            let _ = connection.await;
        });
        Ok(sender)
    }

    /// Sends one request and reads the whole answer. `headers` are added as given.
    pub async fn send(
        &mut self,
        endpoint: &Endpoint,
        method: hyper::Method,
        headers: &[(header::HeaderName, HeaderValue)],
        body: Option<Bytes>,
    ) -> anyhow::Result<(StatusCode, Bytes)> {
        let mut sender = match self.sender.take() {
            Some(s) if !s.is_closed() => s,
            _ => Self::connect(&endpoint.authority).await?,
        };
        sender.ready().await?;
        let mut req = Request::builder()
            .method(method)
            .uri(endpoint.path.as_str())
            .header(header::HOST, endpoint.host.clone());
        for (name, value) in headers {
            req = req.header(name, value);
        }
        if body.is_some() {
            req = req.header(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/x-www-form-urlencoded"),
            );
        }
        let req = req.body(Full::new(body.unwrap_or_default()))?;
        let resp = sender.send_request(req).await?;
        let status = resp.status();
        let body = resp.into_body().collect().await?.to_bytes();
        self.sender = Some(sender);
        Ok((status, body))
    }
}
