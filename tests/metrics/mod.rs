//! `/metrics` (Prometheus text format) after real traffic: every family with its exact labels,
//! org labels bounded by `CLAVEX_METRICS_ORGS`, `CLAVEX_METRICS=off`, and a separate listener
//! (`CLAVEX_METRICS_LISTEN`) in a real `clavex serve` process. `scrape` checks the format of
//! every exposition these tests read.

mod listener;
mod traffic;

use std::collections::{BTreeMap, HashMap};

/// A parsed exposition: each sample line's series (`name{labels}`) with its value.
pub struct Scrape {
    pub text: String,
    samples: BTreeMap<String, f64>,
}

impl Scrape {
    /// Parses `text`, failing the test on any line that is not a `# HELP`/`# TYPE` comment or a
    /// `name{labels} value` sample with a float value, on a family typed twice, on a sample
    /// before its family's TYPE, and on a histogram whose buckets are not cumulative or whose
    /// `+Inf` bucket differs from its `_count`.
    pub fn parse(text: &str) -> Scrape {
        let mut types: HashMap<String, String> = HashMap::new();
        let mut helps: HashMap<String, usize> = HashMap::new();
        let mut samples = BTreeMap::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').expect("# TYPE name kind");
                assert!(
                    ["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind),
                    "{line}"
                );
                assert!(
                    types.insert(name.to_string(), kind.to_string()).is_none(),
                    "family {name} appears twice:\n{text}"
                );
                continue;
            }
            if let Some(rest) = line.strip_prefix("# HELP ") {
                let name = rest.split(' ').next().unwrap();
                *helps.entry(name.to_string()).or_default() += 1;
                continue;
            }
            assert!(
                !line.starts_with('#') && !line.is_empty(),
                "stray line {line:?}"
            );
            let (series, value) = line
                .rsplit_once(' ')
                .unwrap_or_else(|| panic!("no value in {line:?}"));
            let value: f64 = value
                .parse()
                .unwrap_or_else(|_| panic!("value of {line:?} is not a float"));
            let name = series.split('{').next().unwrap();
            assert!(
                !name.is_empty()
                    && name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
                "bad metric name in {line:?}"
            );
            if let Some(labels) = series.strip_prefix(name).filter(|l| !l.is_empty()) {
                assert!(
                    labels.starts_with('{') && labels.ends_with('}'),
                    "bad labels in {line:?}"
                );
                for pair in split_labels(&labels[1..labels.len() - 1]) {
                    let (k, v) = pair
                        .split_once('=')
                        .unwrap_or_else(|| panic!("bad label {pair:?} in {line:?}"));
                    assert!(
                        k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                        "bad label name in {line:?}"
                    );
                    assert!(
                        v.len() >= 2 && v.starts_with('"') && v.ends_with('"'),
                        "unquoted label value in {line:?}"
                    );
                }
            }
            let family = ["_bucket", "_sum", "_count"]
                .iter()
                .filter_map(|s| name.strip_suffix(s))
                .find(|f| types.get(*f).is_some_and(|k| k == "histogram"))
                .unwrap_or(name);
            assert!(
                types.contains_key(family),
                "{line:?} comes before its family's TYPE"
            );
            assert!(
                samples.insert(series.to_string(), value).is_none(),
                "series {series} appears twice"
            );
        }
        for (name, n) in &helps {
            assert_eq!(*n, 1, "HELP of {name} appears {n} times");
        }
        let scrape = Scrape {
            text: text.to_string(),
            samples,
        };
        scrape.check_histograms(&types);
        scrape
    }

    fn check_histograms(&self, types: &HashMap<String, String>) {
        for (family, _) in types.iter().filter(|(_, k)| *k == "histogram") {
            let prefix = format!("{family}_count");
            for (series, count) in self.samples.range(prefix.clone()..) {
                let Some(labels) = series.strip_prefix(&prefix) else {
                    break;
                };
                // The buckets of this series, in the order they were written.
                let inner = labels.trim_start_matches('{').trim_end_matches('}');
                let bucket_prefix = if inner.is_empty() {
                    format!("{family}_bucket{{le=")
                } else {
                    format!("{family}_bucket{{{inner},le=")
                };
                let order: Vec<f64> = self
                    .text
                    .lines()
                    .filter(|l| l.starts_with(&bucket_prefix))
                    .map(|l| l.rsplit_once(' ').unwrap().1.parse().unwrap())
                    .collect();
                assert!(order.len() > 1, "{series}: no buckets");
                assert!(
                    order.windows(2).all(|w| w[0] <= w[1]),
                    "{series}: buckets are not cumulative: {order:?}"
                );
                let inf = self
                    .text
                    .lines()
                    .rfind(|l| l.starts_with(&bucket_prefix))
                    .unwrap();
                assert!(inf.contains("le=\"+Inf\""), "{series}: last bucket {inf}");
                assert_eq!(order.last(), Some(count), "{series}: +Inf != _count");
            }
        }
    }

    /// The value of exactly this series (`name{labels}` as written).
    pub fn get(&self, series: &str) -> Option<f64> {
        self.samples.get(series).copied()
    }

    /// The value of `series`, failing the test when it is missing.
    pub fn value(&self, series: &str) -> f64 {
        self.get(series)
            .unwrap_or_else(|| panic!("no series {series} in:\n{}", self.text))
    }

    /// Series of family `name` (samples whose name is exactly `name`).
    pub fn series_of(&self, name: &str) -> Vec<&str> {
        self.samples
            .keys()
            .filter(|s| s.split('{').next() == Some(name))
            .map(String::as_str)
            .collect()
    }
}

/// Label pairs split at the commas outside quoted values.
fn split_labels(labels: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in labels.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => quoted = !quoted,
            ',' if !quoted => {
                parts.push(&labels[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if start < labels.len() {
        parts.push(&labels[start..]);
    }
    parts
}
