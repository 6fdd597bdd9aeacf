//! Admin API list pages at scale: the first page and a deep page (reached through the cursors)
//! of an org's users and clients, and of the orgs list.
//!
//! Each list is walked once to the end through `next_cursor` (which also warms the server), and
//! the deep page is the one holding the list's middle row. Then the first and the deep page are
//! each fetched `runs` times, one after another, reading the whole body.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ListTiming {
    /// `users`, `clients` or `orgs`.
    pub list: String,
    /// Rows in the whole list.
    pub rows: usize,
    pub limit: u32,
    /// 1 for the first page; the deep page's number otherwise.
    pub page: usize,
    pub median_ms: f64,
    pub p90_ms: f64,
}

pub struct Lister {
    pub http: reqwest::Client,
    pub url: String,
    pub admin_token: String,
    pub limit: u32,
    pub runs: usize,
}

impl Lister {
    /// First and deep page of the users and clients of `org` and of the orgs list.
    pub async fn measure(&self, org: &str) -> anyhow::Result<Vec<ListTiming>> {
        let mut out = Vec::new();
        for (list, path) in [
            ("users", format!("/api/v1/organizations/{org}/users")),
            ("clients", format!("/api/v1/organizations/{org}/clients")),
            ("orgs", "/api/v1/organizations".to_string()),
        ] {
            out.extend(self.measure_list(list, &path).await?);
        }
        Ok(out)
    }

    async fn measure_list(
        &self,
        list: &'static str,
        path: &str,
    ) -> anyhow::Result<[ListTiming; 2]> {
        // Walk the whole list: the cursor that starts each page, and how many rows there are.
        let mut cursors: Vec<Option<String>> = vec![None];
        let mut rows = 0;
        loop {
            let page = self
                .get(path, cursors.last().and_then(Option::as_deref))
                .await?;
            rows += page["items"].as_array().map_or(0, Vec::len);
            match page["next_cursor"].as_str() {
                Some(next) => cursors.push(Some(next.to_string())),
                None => break,
            }
        }
        // The page holding the middle row (0-based index rows / 2).
        let deep = (rows / 2) / self.limit as usize;
        let deep = deep.min(cursors.len() - 1);
        let first = self.time_page(list, path, None, rows, 1).await?;
        let deep = self
            .time_page(list, path, cursors[deep].as_deref(), rows, deep + 1)
            .await?;
        Ok([first, deep])
    }

    async fn time_page(
        &self,
        list: &'static str,
        path: &str,
        cursor: Option<&str>,
        rows: usize,
        page: usize,
    ) -> anyhow::Result<ListTiming> {
        let mut times = Vec::with_capacity(self.runs);
        for _ in 0..self.runs {
            let start = Instant::now();
            self.get(path, cursor).await?;
            times.push(start.elapsed());
        }
        times.sort_unstable();
        Ok(ListTiming {
            list: list.to_string(),
            rows,
            limit: self.limit,
            page,
            median_ms: ms(percentile(&times, 0.5)),
            p90_ms: ms(percentile(&times, 0.9)),
        })
    }

    async fn get(&self, path: &str, cursor: Option<&str>) -> anyhow::Result<Value> {
        let mut query = vec![("limit", self.limit.to_string())];
        if let Some(c) = cursor {
            query.push(("cursor", c.to_string()));
        }
        let response = self
            .http
            .get(format!("{}{path}", self.url))
            .bearer_auth(&self.admin_token)
            .query(&query)
            .send()
            .await
            .with_context(|| format!("GET {path}"))?;
        let status = response.status();
        let body = response
            .text()
            .await
            .with_context(|| format!("reading GET {path}"))?;
        if !status.is_success() {
            bail!("GET {path} answered {status}: {body}");
        }
        serde_json::from_str(&body).with_context(|| format!("GET {path} answered no JSON"))
    }
}

/// Nearest-rank percentile of sorted samples.
fn percentile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
