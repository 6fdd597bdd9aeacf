//! The Prometheus text exposition format (version 0.0.4): each family once with its HELP and TYPE,
//! histograms as cumulative `_bucket` series ending in `le="+Inf"`, then `_sum` and `_count`.

use std::fmt::Write as _;

use super::{
    Metrics, PoolStatus, Registered,
    family::{CounterFamily, HistogramFamily},
};

pub(super) fn render(m: &Metrics, pool: Option<PoolStatus>) -> String {
    let mut out = String::with_capacity(16 * 1024);
    let build = m.build_info();
    header(
        &mut out,
        "clavex_build_info",
        "Build information (always 1).",
        "gauge",
    );
    sample(
        &mut out,
        "clavex_build_info",
        "",
        &[
            ("version", build.version),
            ("commit", build.commit),
            ("target", build.target),
            ("profile", build.profile),
        ],
        None,
        1,
    );
    header(
        &mut out,
        "process_start_time_seconds",
        "Start time of this server since the Unix epoch, in seconds.",
        "gauge",
    );
    sample(
        &mut out,
        "process_start_time_seconds",
        "",
        &[],
        None,
        m.started_at,
    );
    if let Some(pool) = pool {
        header(
            &mut out,
            "clavex_db_pool_connections",
            "Open database connections of this node, idle or in use.",
            "gauge",
        );
        let in_use = pool.size.saturating_sub(pool.idle);
        for (state, n) in [("idle", pool.idle), ("in_use", in_use)] {
            sample(
                &mut out,
                "clavex_db_pool_connections",
                "",
                &[("state", state)],
                None,
                n,
            );
        }
        header(
            &mut out,
            "clavex_db_pool_max",
            "Most database connections this node opens (CLAVEX_DATABASE_MAX_CONNECTIONS).",
            "gauge",
        );
        sample(&mut out, "clavex_db_pool_max", "", &[], None, pool.max);
    }
    let registry = m.registry.read().unwrap_or_else(|e| e.into_inner());
    let mut families: Vec<&Registered> = registry.iter().collect();
    families.sort_unstable_by_key(|f| f.name());
    for f in families {
        match f {
            Registered::Counter(f) => counter(&mut out, f),
            Registered::Histogram(f) => histogram(&mut out, f),
        }
    }
    out
}

fn counter(out: &mut String, f: &CounterFamily) {
    if f.is_empty() {
        return;
    }
    header(out, f.name, f.help, "counter");
    f.for_each_sorted(|s| {
        let labels = pairs(&f.label_names, &s.labels);
        let value = s.value.load(std::sync::atomic::Ordering::Relaxed);
        sample(out, f.name, "", &labels, None, value);
    });
}

fn histogram(out: &mut String, h: &HistogramFamily) {
    let f = &h.family;
    if f.is_empty() {
        return;
    }
    header(out, f.name, f.help, "histogram");
    f.for_each_sorted(|s| {
        let labels = pairs(&f.label_names, &s.labels);
        let counts = s.value.counts();
        let mut cumulative = 0;
        for (bound, count) in h.bounds.iter().zip(&counts) {
            cumulative += count;
            sample(out, f.name, "_bucket", &labels, Some(*bound), cumulative);
        }
        let total: u64 = counts.iter().sum();
        sample_inf(out, f.name, &labels, total);
        // The sum is a float; the rest are integers.
        out.push_str(f.name);
        out.push_str("_sum");
        label_set(out, &labels, None);
        let _ = writeln!(out, " {}", s.value.sum_seconds());
        sample(out, f.name, "_count", &labels, None, total);
    });
}

fn pairs<'a>(names: &[&'static str], values: &'a [Box<str>]) -> Vec<(&'static str, &'a str)> {
    names
        .iter()
        .copied()
        .zip(values.iter().map(|v| &**v))
        .collect()
}

fn header(out: &mut String, name: &str, help: &str, kind: &str) {
    let help = help.replace('\\', "\\\\").replace('\n', "\\n");
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

fn sample(
    out: &mut String,
    name: &str,
    suffix: &str,
    labels: &[(&str, &str)],
    le: Option<f64>,
    value: impl std::fmt::Display,
) {
    out.push_str(name);
    out.push_str(suffix);
    label_set(out, labels, le.map(Le::Bound));
    let _ = writeln!(out, " {value}");
}

fn sample_inf(out: &mut String, name: &str, labels: &[(&str, &str)], value: u64) {
    out.push_str(name);
    out.push_str("_bucket");
    label_set(out, labels, Some(Le::Inf));
    let _ = writeln!(out, " {value}");
}

enum Le {
    Bound(f64),
    Inf,
}

fn label_set(out: &mut String, labels: &[(&str, &str)], le: Option<Le>) {
    if labels.is_empty() && le.is_none() {
        return;
    }
    out.push('{');
    for (i, (k, v)) in labels.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(k);
        out.push_str("=\"");
        escape_into(out, v);
        out.push('"');
    }
    if let Some(le) = le {
        if !labels.is_empty() {
            out.push(',');
        }
        match le {
            Le::Bound(b) => {
                let _ = write!(out, "le=\"{b}\"");
            }
            Le::Inf => out.push_str("le=\"+Inf\""),
        }
    }
    out.push('}');
}

/// Label values escape backslash, double quote and newline.
fn escape_into(out: &mut String, v: &str) {
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::{collections::HashSet, time::Duration};

    use super::super::{BuildInfo, Metrics, MetricsOptions, OrgLabels};
    use super::*;

    /// A sample line: `name{labels} value` or `name value`, the value a float.
    fn parse_sample(line: &str) -> Option<(&str, &str, f64)> {
        let (series, value) = line.rsplit_once(' ')?;
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            v => v.parse().ok()?,
        };
        let (name, labels) = match series.split_once('{') {
            Some((name, rest)) => (name, rest.strip_suffix('}')?),
            None => (series, ""),
        };
        let valid_name = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
            && !name.starts_with(|c: char| c.is_ascii_digit());
        valid_name.then_some((name, labels, value))
    }

    fn sample_metrics() -> Metrics {
        let m = Metrics::new(
            MetricsOptions {
                org_labels: OrgLabels::Listed(vec!["acme".into()]),
                ..MetricsOptions::default()
            },
            1_700_000_000,
        );
        m.set_build_info(BuildInfo {
            version: "1.2.3",
            commit: "abc123",
            target: "x86_64-unknown-linux-gnu",
            profile: "release",
        });
        m.http_request("/{org}/token", "POST", "200", Duration::from_millis(3));
        m.http_request("/{org}/token", "POST", "200", Duration::from_millis(30));
        m.http_request("/{org}/token", "POST", "400", Duration::from_secs(9));
        m.signin("success", "acme");
        m.signin("bad_credentials", "globex");
        m.token_issued("client_credentials", "acme");
        m.db_query("get_org_by_slug", Duration::from_micros(120));
        m.password_queue_wait("verify", Duration::ZERO);
        m.inc(
            "clavex_tls_reloads_total",
            "TLS reloads.",
            &[("outcome", "bad \"file\"\\\n")],
        );
        m
    }

    #[test]
    fn the_exposition_is_well_formed() {
        let text = sample_metrics().render(Some(PoolStatus {
            size: 3,
            idle: 2,
            max: 16,
        }));
        let mut typed = HashSet::new();
        let mut helped = HashSet::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').expect("TYPE name kind");
                assert!(["counter", "gauge", "histogram"].contains(&kind), "{line}");
                assert!(typed.insert(name.to_string()), "{name} typed twice");
            } else if let Some(rest) = line.strip_prefix("# HELP ") {
                let (name, _) = rest.split_once(' ').expect("HELP name text");
                assert!(helped.insert(name.to_string()), "{name} helped twice");
            } else {
                let (name, _, _) =
                    parse_sample(line).unwrap_or_else(|| panic!("bad sample line {line:?}"));
                let family = ["_bucket", "_sum", "_count"]
                    .iter()
                    .find_map(|s| name.strip_suffix(s).filter(|f| typed.contains(*f)))
                    .unwrap_or(name);
                assert!(typed.contains(family), "{line}: no TYPE before it");
            }
        }
        assert_eq!(typed, helped);
    }

    #[test]
    fn histograms_are_cumulative_and_end_with_inf() {
        let text = sample_metrics().render(None);
        let route = "route=\"/{org}/token\"";
        for (le, n) in [
            ("0.0025", 0),
            ("0.005", 1),
            ("0.05", 2),
            ("5", 2),
            ("+Inf", 3),
        ] {
            let line =
                format!("clavex_http_request_duration_seconds_bucket{{{route},le=\"{le}\"}} {n}\n");
            assert!(text.contains(&line), "{line} in {text}");
        }
        assert!(
            text.contains(&format!(
                "clavex_http_request_duration_seconds_count{{{route}}} 3\n"
            )),
            "{text}"
        );
        assert!(
            text.contains(&format!(
                "clavex_http_request_duration_seconds_sum{{{route}}} 9.033\n"
            )),
            "{text}"
        );
        assert!(
            text.contains(
                "clavex_db_query_duration_seconds_bucket{op=\"get_org_by_slug\",le=\"0.0001\"} 0\n"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "clavex_db_query_duration_seconds_bucket{op=\"get_org_by_slug\",le=\"0.00025\"} 1\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn counters_gauges_and_labels() {
        let text = sample_metrics().render(Some(PoolStatus {
            size: 3,
            idle: 2,
            max: 16,
        }));
        for line in [
            "clavex_build_info{version=\"1.2.3\",commit=\"abc123\",target=\"x86_64-unknown-linux-gnu\",profile=\"release\"} 1",
            "process_start_time_seconds 1700000000",
            "clavex_db_pool_connections{state=\"idle\"} 2",
            "clavex_db_pool_connections{state=\"in_use\"} 1",
            "clavex_db_pool_max 16",
            "clavex_http_requests_total{route=\"/{org}/token\",method=\"POST\",status=\"200\"} 2",
            "clavex_signins_total{outcome=\"success\",org=\"acme\"} 1",
            "clavex_signins_total{outcome=\"bad_credentials\",org=\"other\"} 1",
            "clavex_tokens_issued_total{grant_type=\"client_credentials\",org=\"acme\"} 1",
            "clavex_refresh_token_reuse_total 0",
            "clavex_code_replay_total 0",
            "clavex_tls_reloads_total{outcome=\"bad \\\"file\\\"\\\\\\n\"} 1",
        ] {
            assert!(text.contains(&format!("{line}\n")), "{line} in {text}");
        }
        assert!(!text.contains("globex"), "{text}");
    }
}
