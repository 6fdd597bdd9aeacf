//! In-process metrics: counters and latency histograms with bounded label sets, rendered in the
//! Prometheus text format by the web layer. Owned by `Core` (no global registry), so two servers in
//! one process keep separate numbers. Label values come from fixed vocabularies (route templates,
//! outcomes, grant types), never from raw input, so cardinality stays bounded.

use std::{collections::BTreeMap, fmt::Write as _, sync::Mutex, time::Duration};

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

#[derive(Default)]
struct Histogram {
    counts: Vec<u64>,
    sum: f64,
    total: u64,
}

impl Histogram {
    fn observe(&mut self, seconds: f64) {
        if self.counts.is_empty() {
            self.counts = vec![0; BUCKETS.len()];
        }
        for (i, bound) in BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                self.counts[i] += 1;
            }
        }
        self.sum += seconds;
        self.total += 1;
    }
}

type Labels = Vec<(&'static str, String)>;

#[derive(Default)]
struct Families {
    counters: BTreeMap<&'static str, (&'static str, BTreeMap<Labels, u64>)>,
    histograms: BTreeMap<&'static str, (&'static str, BTreeMap<Labels, Histogram>)>,
}

#[derive(Default)]
pub struct Metrics {
    inner: Mutex<Families>,
}

impl Metrics {
    pub fn inc(&self, name: &'static str, help: &'static str, labels: &[(&'static str, &str)]) {
        self.add(name, help, labels, 1);
    }

    pub fn add(
        &self,
        name: &'static str,
        help: &'static str,
        labels: &[(&'static str, &str)],
        n: u64,
    ) {
        let key: Labels = labels.iter().map(|(k, v)| (*k, v.to_string())).collect();
        if let Ok(mut f) = self.inner.lock() {
            *f.counters
                .entry(name)
                .or_insert_with(|| (help, BTreeMap::new()))
                .1
                .entry(key)
                .or_insert(0) += n;
        }
    }

    pub fn observe(
        &self,
        name: &'static str,
        help: &'static str,
        labels: &[(&'static str, &str)],
        value: Duration,
    ) {
        let key: Labels = labels.iter().map(|(k, v)| (*k, v.to_string())).collect();
        if let Ok(mut f) = self.inner.lock() {
            f.histograms
                .entry(name)
                .or_insert_with(|| (help, BTreeMap::new()))
                .1
                .entry(key)
                .or_default()
                .observe(value.as_secs_f64());
        }
    }

    /// The Prometheus text exposition of everything recorded.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# HELP clavex_build_info Build information.");
        let _ = writeln!(out, "# TYPE clavex_build_info gauge");
        let _ = writeln!(
            out,
            "clavex_build_info{{version=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION")
        );
        let Ok(f) = self.inner.lock() else {
            return out;
        };
        for (name, (help, series)) in &f.counters {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} counter");
            for (labels, value) in series {
                let _ = writeln!(out, "{name}{} {value}", render_labels(labels, None));
            }
        }
        for (name, (help, series)) in &f.histograms {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} histogram");
            for (labels, h) in series {
                for (i, bound) in BUCKETS.iter().enumerate() {
                    let count = h.counts.get(i).copied().unwrap_or(0);
                    let _ = writeln!(
                        out,
                        "{name}_bucket{} {count}",
                        render_labels(labels, Some(&bound.to_string()))
                    );
                }
                let _ = writeln!(
                    out,
                    "{name}_bucket{} {}",
                    render_labels(labels, Some("+Inf")),
                    h.total
                );
                let _ = writeln!(out, "{name}_sum{} {}", render_labels(labels, None), h.sum);
                let _ = writeln!(
                    out,
                    "{name}_count{} {}",
                    render_labels(labels, None),
                    h.total
                );
            }
        }
        out
    }
}

fn render_labels(labels: &Labels, le: Option<&str>) -> String {
    let mut parts: Vec<String> = labels
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
        .collect();
    if let Some(le) = le {
        parts.push(format!("le=\"{le}\""));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("{{{}}}", parts.join(","))
    }
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_histograms() {
        let m = Metrics::default();
        m.inc("clavex_x_total", "X.", &[("outcome", "ok")]);
        m.inc("clavex_x_total", "X.", &[("outcome", "ok")]);
        m.observe(
            "clavex_t_seconds",
            "T.",
            &[("route", "/a")],
            Duration::from_millis(3),
        );
        let text = m.render();
        assert!(text.contains("clavex_x_total{outcome=\"ok\"} 2"), "{text}");
        assert!(
            text.contains("clavex_t_seconds_bucket{route=\"/a\",le=\"0.005\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("clavex_t_seconds_bucket{route=\"/a\",le=\"0.001\"} 0"),
            "{text}"
        );
        assert!(
            text.contains("clavex_t_seconds_count{route=\"/a\"} 1"),
            "{text}"
        );
    }
}
