//! In-process metrics: counters and latency histograms with bounded label sets, rendered in the
//! Prometheus text format (`render`). Owned by `Core` (no global registry), so two servers in one
//! process keep separate numbers. Label values come from fixed vocabularies (route templates,
//! outcomes, grant types, store operations, configured org slugs), never from raw input, so
//! cardinality stays bounded.
//!
//! Recording is on every request's path, so it must stay cheap: the families the server records
//! are fields (no lookup by name), a series is found by hashing borrowed label values (no
//! allocation once it exists), and counts are atomics under a shared lock. With metrics off every
//! recording call returns at its first line.

mod family;
mod render;

use std::{
    sync::{Arc, OnceLock, RwLock},
    time::Duration,
};

use family::{CounterFamily, HistogramFamily};

/// Upper bounds of the HTTP and Argon2id-queue latency buckets, in seconds.
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

/// Database operations are often well under a millisecond on SQLite: finer low buckets.
const DB_BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

/// What the binary was built from, for `clavex_build_info`. The binary knows its commit, target
/// and profile (its build script sets them); other crates cannot see them, so it hands them in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BuildInfo {
    pub version: &'static str,
    pub commit: &'static str,
    pub target: &'static str,
    pub profile: &'static str,
}

impl Default for BuildInfo {
    fn default() -> Self {
        BuildInfo {
            version: env!("CARGO_PKG_VERSION"),
            commit: "unknown",
            target: "unknown",
            profile: "unknown",
        }
    }
}

/// Which orgs get their own `org` label value; all others share `other`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum OrgLabels {
    /// Every org is `other`.
    #[default]
    None,
    /// Every org by its slug (cardinality grows with the number of orgs).
    All,
    /// These slugs by name.
    Listed(Vec<String>),
}

impl OrgLabels {
    /// The `org` label value for `slug`.
    pub fn label<'a>(&self, slug: &'a str) -> &'a str {
        match self {
            OrgLabels::All => slug,
            OrgLabels::Listed(slugs) if slugs.iter().any(|s| s == slug) => slug,
            _ => "other",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsOptions {
    /// Off: nothing is recorded and `/metrics` is not served.
    pub enabled: bool,
    pub org_labels: OrgLabels,
    /// False when `/metrics` is served on a listener of its own instead of the main one.
    pub on_main_listener: bool,
}

impl Default for MetricsOptions {
    fn default() -> Self {
        MetricsOptions {
            enabled: true,
            org_labels: OrgLabels::None,
            on_main_listener: true,
        }
    }
}

/// The database pool as seen at render time.
pub use clavex_store::PoolStatus;

/// A family of any kind, as the registry holds it.
enum Registered {
    Counter(Arc<CounterFamily>),
    Histogram(Arc<HistogramFamily>),
}

impl Registered {
    fn name(&self) -> &'static str {
        match self {
            Registered::Counter(f) => f.name,
            Registered::Histogram(f) => f.family.name,
        }
    }
}

pub struct Metrics {
    options: MetricsOptions,
    build: OnceLock<BuildInfo>,
    /// Unix seconds when this server's domain was created, for `process_start_time_seconds`.
    started_at: i64,
    http_requests: Arc<CounterFamily>,
    http_duration: Arc<HistogramFamily>,
    signins: Arc<CounterFamily>,
    tokens_issued: Arc<CounterFamily>,
    refresh_reuse: Arc<CounterFamily>,
    refresh_races: Arc<CounterFamily>,
    code_replays: Arc<CounterFamily>,
    password_wait: Arc<HistogramFamily>,
    db_queries: Arc<HistogramFamily>,
    purged: Arc<CounterFamily>,
    /// Every family, those above and any recorded by name (`inc`, `add`, `observe`), so that
    /// each name appears once in the output.
    registry: RwLock<Vec<Registered>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new(MetricsOptions::default(), 0)
    }
}

impl Metrics {
    pub fn new(options: MetricsOptions, started_at: i64) -> Self {
        let counter =
            |name, help, labels: &[&'static str]| Arc::new(CounterFamily::new(name, help, labels));
        let histogram = |name, help, labels: &[&'static str], bounds| {
            Arc::new(HistogramFamily::new(name, help, labels, bounds))
        };
        let m = Metrics {
            options,
            build: OnceLock::new(),
            started_at,
            http_requests: counter(
                "clavex_http_requests_total",
                "HTTP requests by route template, method and status.",
                &["route", "method", "status"],
            ),
            http_duration: histogram(
                "clavex_http_request_duration_seconds",
                "HTTP request latency by route template.",
                &["route"],
                LATENCY_BUCKETS,
            ),
            signins: counter(
                "clavex_signins_total",
                "Password sign-ins by outcome (success, bad_credentials, throttled) and org.",
                &["outcome", "org"],
            ),
            tokens_issued: counter(
                "clavex_tokens_issued_total",
                "Token responses by grant type and org.",
                &["grant_type", "org"],
            ),
            refresh_reuse: counter(
                "clavex_refresh_token_reuse_total",
                "Replayed refresh tokens (each revokes its grant).",
                &[],
            ),
            refresh_races: counter(
                "clavex_refresh_token_races_total",
                "Refresh tokens presented twice at once (the later request loses; nothing is revoked).",
                &[],
            ),
            code_replays: counter(
                "clavex_code_replay_total",
                "Replayed authorization codes (each revokes its grant).",
                &[],
            ),
            password_wait: histogram(
                "clavex_password_queue_wait_seconds",
                "Time a password check (verify) or hashing (hash) waited for an Argon2id slot.",
                &["op"],
                LATENCY_BUCKETS,
            ),
            db_queries: histogram(
                "clavex_db_query_duration_seconds",
                "Database operation latency by store operation (one transaction each).",
                &["op"],
                DB_BUCKETS,
            ),
            purged: counter(
                "clavex_purged_rows_total",
                "Expired rows deleted by the background clean-up, by kind.",
                &["kind"],
            ),
            registry: RwLock::new(Vec::new()),
        };
        // Counters without labels exist from the start at 0, so that rates over them are defined.
        for f in [&m.refresh_reuse, &m.refresh_races, &m.code_replays] {
            f.add(&[], 0);
        }
        let registered = vec![
            Registered::Counter(m.http_requests.clone()),
            Registered::Histogram(m.http_duration.clone()),
            Registered::Counter(m.signins.clone()),
            Registered::Counter(m.tokens_issued.clone()),
            Registered::Counter(m.refresh_reuse.clone()),
            Registered::Counter(m.refresh_races.clone()),
            Registered::Counter(m.code_replays.clone()),
            Registered::Histogram(m.password_wait.clone()),
            Registered::Histogram(m.db_queries.clone()),
            Registered::Counter(m.purged.clone()),
        ];
        *m.registry.write().unwrap_or_else(|e| e.into_inner()) = registered;
        m
    }

    pub fn enabled(&self) -> bool {
        self.options.enabled
    }

    pub fn options(&self) -> &MetricsOptions {
        &self.options
    }

    /// Sets what `clavex_build_info` reports (once; later calls change nothing).
    pub fn set_build_info(&self, info: BuildInfo) {
        let _ = self.build.set(info);
    }

    pub fn build_info(&self) -> BuildInfo {
        self.build.get().copied().unwrap_or_default()
    }

    /// One HTTP request. `route` is the route template (never the raw path), `method` one of a
    /// fixed set, `status` the numeric code.
    pub fn http_request(&self, route: &str, method: &str, status: &str, elapsed: Duration) {
        if !self.options.enabled {
            return;
        }
        self.http_requests.add(&[route, method, status], 1);
        self.http_duration.observe(&[route], elapsed);
    }

    /// A password sign-in: `outcome` is `success`, `bad_credentials` or `throttled`.
    pub fn signin(&self, outcome: &'static str, org_slug: &str) {
        if !self.options.enabled {
            return;
        }
        let org = self.options.org_labels.label(org_slug);
        self.signins.add(&[outcome, org], 1);
    }

    /// A successful token response; `grant_type` is one the server supports.
    pub fn token_issued(&self, grant_type: &str, org_slug: &str) {
        if !self.options.enabled {
            return;
        }
        let org = self.options.org_labels.label(org_slug);
        self.tokens_issued.add(&[grant_type, org], 1);
    }

    pub fn refresh_token_reused(&self) {
        if self.options.enabled {
            self.refresh_reuse.add(&[], 1);
        }
    }

    pub fn refresh_token_raced(&self) {
        if self.options.enabled {
            self.refresh_races.add(&[], 1);
        }
    }

    pub fn code_replayed(&self) {
        if self.options.enabled {
            self.code_replays.add(&[], 1);
        }
    }

    /// Time waited for an Argon2id slot; `op` is `verify` or `hash`.
    pub fn password_queue_wait(&self, op: &'static str, waited: Duration) {
        if self.options.enabled {
            self.password_wait.observe(&[op], waited);
        }
    }

    /// One store operation; `op` is the store method's name.
    pub fn db_query(&self, op: &'static str, elapsed: Duration) {
        if self.options.enabled {
            self.db_queries.observe(&[op], elapsed);
        }
    }

    pub fn purged_rows(&self, kind: &'static str, n: u64) {
        if self.options.enabled {
            self.purged.add(&[kind], n);
        }
    }

    /// Counts one event of a family recorded by name (for rare events that have no method here).
    pub fn inc(&self, name: &'static str, help: &'static str, labels: &[(&'static str, &str)]) {
        self.add(name, help, labels, 1);
    }

    /// Adds `n` to a counter family recorded by name.
    pub fn add(
        &self,
        name: &'static str,
        help: &'static str,
        labels: &[(&'static str, &str)],
        n: u64,
    ) {
        if !self.options.enabled {
            return;
        }
        let Some(values) = LabelValues::of(labels) else {
            return;
        };
        self.by_name(
            name,
            labels,
            |f| match f {
                Registered::Counter(f) => {
                    f.add(values.as_slice(), n);
                    true
                }
                Registered::Histogram(_) => false,
            },
            || Registered::Counter(Arc::new(CounterFamily::new(name, help, &names(labels)))),
        );
    }

    /// Records a duration in a histogram family recorded by name (default latency buckets).
    pub fn observe(
        &self,
        name: &'static str,
        help: &'static str,
        labels: &[(&'static str, &str)],
        value: Duration,
    ) {
        if !self.options.enabled {
            return;
        }
        let Some(values) = LabelValues::of(labels) else {
            return;
        };
        self.by_name(
            name,
            labels,
            |f| match f {
                Registered::Histogram(f) => {
                    f.observe(values.as_slice(), value);
                    true
                }
                Registered::Counter(_) => false,
            },
            || {
                Registered::Histogram(Arc::new(HistogramFamily::new(
                    name,
                    help,
                    &names(labels),
                    LATENCY_BUCKETS,
                )))
            },
        );
    }

    /// Finds family `name` (registering `make()` the first time) and hands it to `record`, which
    /// says whether the kind matched. A name used with another kind or other label names is a
    /// programming error: it records nothing rather than emit a malformed family.
    fn by_name(
        &self,
        name: &'static str,
        labels: &[(&'static str, &str)],
        record: impl Fn(&Registered) -> bool,
        make: impl FnOnce() -> Registered,
    ) {
        let same_labels = |f: &Registered| {
            let names = match f {
                Registered::Counter(f) => &f.label_names,
                Registered::Histogram(f) => &f.family.label_names,
            };
            names.iter().copied().eq(labels.iter().map(|(k, _)| *k))
        };
        {
            let registry = self.registry.read().unwrap_or_else(|e| e.into_inner());
            if let Some(f) = registry.iter().find(|f| f.name() == name) {
                let ok = same_labels(f) && record(f);
                debug_assert!(ok, "{name}: recorded with another kind or other labels");
                return;
            }
        }
        let mut registry = self.registry.write().unwrap_or_else(|e| e.into_inner());
        if !registry.iter().any(|f| f.name() == name) {
            registry.push(make());
        }
        if let Some(f) = registry.iter().find(|f| f.name() == name) {
            let ok = same_labels(f) && record(f);
            debug_assert!(ok, "{name}: recorded with another kind or other labels");
        }
    }

    /// The Prometheus text exposition of everything recorded, with the pool's state if known.
    pub fn render(&self, pool: Option<PoolStatus>) -> String {
        render::render(self, pool)
    }
}

impl crate::Core {
    /// `/metrics`: everything recorded, with the database pool read now.
    pub fn render_metrics(&self) -> String {
        self.metrics.render(self.store.pool_status())
    }
}

/// The store reports each operation's duration here.
impl clavex_store::QueryObserver for Metrics {
    fn observe(&self, op: &'static str, elapsed: Duration) {
        self.db_query(op, elapsed);
    }
}

fn names(labels: &[(&'static str, &str)]) -> Vec<&'static str> {
    labels.iter().map(|(k, _)| *k).collect()
}

/// Label values on the stack: recording by name allocates nothing either.
struct LabelValues<'a> {
    values: [&'a str; LabelValues::MAX],
    len: usize,
}

impl<'a> LabelValues<'a> {
    const MAX: usize = 8;

    fn of(labels: &[(&'static str, &'a str)]) -> Option<Self> {
        if labels.len() > Self::MAX {
            debug_assert!(false, "more than {} labels", Self::MAX);
            return None;
        }
        let mut values = [""; Self::MAX];
        for (slot, (_, v)) in values.iter_mut().zip(labels) {
            *slot = v;
        }
        Some(LabelValues {
            values,
            len: labels.len(),
        })
    }

    fn as_slice(&self) -> &[&'a str] {
        &self.values[..self.len]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn org_labels_name_only_configured_orgs() {
        assert_eq!(OrgLabels::None.label("acme"), "other");
        assert_eq!(OrgLabels::All.label("acme"), "acme");
        let listed = OrgLabels::Listed(vec!["acme".into()]);
        assert_eq!(listed.label("acme"), "acme");
        assert_eq!(listed.label("globex"), "other");
    }

    #[test]
    fn off_records_nothing() {
        let m = Metrics::new(
            MetricsOptions {
                enabled: false,
                ..MetricsOptions::default()
            },
            0,
        );
        m.http_request("/healthz", "GET", "200", Duration::from_millis(1));
        m.signin("success", "acme");
        m.inc("clavex_x_total", "X.", &[("outcome", "ok")]);
        let text = m.render(None);
        assert!(!text.contains("clavex_http_requests_total"), "{text}");
        assert!(!text.contains("clavex_signins_total"), "{text}");
        assert!(!text.contains("clavex_x_total"), "{text}");
    }

    #[test]
    fn a_family_recorded_by_name_and_by_method_is_one_family() {
        let m = Metrics::default();
        m.signin("success", "acme");
        m.inc(
            "clavex_signins_total",
            "ignored",
            &[("outcome", "success"), ("org", "other")],
        );
        let text = m.render(None);
        assert_eq!(text.matches("# TYPE clavex_signins_total").count(), 1);
        assert!(
            text.contains("clavex_signins_total{outcome=\"success\",org=\"other\"} 2"),
            "{text}"
        );
    }
}
