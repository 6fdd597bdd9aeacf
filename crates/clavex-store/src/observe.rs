//! What the store tells its owner about itself, for metrics: each operation's duration (through a
//! `QueryObserver` handed in at construction, so the store needs no metrics crate) and the state of
//! its connection pool. Nothing here may allocate per operation.

use std::{sync::Arc, time::Duration, time::Instant};

/// Receives the duration of every store operation. `op` is the store method's name, a fixed
/// vocabulary, so it can be a metric label.
pub trait QueryObserver: Send + Sync + 'static {
    fn observe(&self, op: &'static str, elapsed: Duration);
}

/// A connection pool at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStatus {
    /// Connections open now, idle or in use.
    pub size: u32,
    /// Of those, the idle ones.
    pub idle: u32,
    /// The most the pool opens.
    pub max: u32,
}

/// Times one operation and reports it when dropped, so every return path (errors included, and a
/// caller that gives up waiting) is counted without touching the operation's code.
pub(crate) struct OpTimer<'a> {
    observer: &'a dyn QueryObserver,
    op: &'static str,
    started: Instant,
}

impl<'a> OpTimer<'a> {
    /// `None` (and no clock read) when nobody observes.
    pub(crate) fn start(
        observer: Option<&'a Arc<dyn QueryObserver>>,
        op: &'static str,
    ) -> Option<Self> {
        observer.map(|o| OpTimer {
            observer: o.as_ref(),
            op,
            started: Instant::now(),
        })
    }
}

impl Drop for OpTimer<'_> {
    fn drop(&mut self) {
        self.observer.observe(self.op, self.started.elapsed());
    }
}

#[cfg(test)]
mod tests {
    /// Every method of a store trait implemented by `SqlStore` starts its timer with its own
    /// name, so the per-operation latency metric misses no operation.
    #[test]
    fn every_sql_store_method_is_timed() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/sql");
        let mut methods = 0;
        let mut missing = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{dir}: {e}")) {
            let path = entry.unwrap_or_else(|e| panic!("{dir}: {e}")).path();
            let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{e}"));
            let mut in_impl = false;
            let mut pending: Option<String> = None;
            let mut lines = text.lines().peekable();
            while let Some(line) = lines.next() {
                if line.starts_with("impl ") && line.ends_with(" for SqlStore {") {
                    in_impl = true;
                } else if line == "}" {
                    in_impl = false;
                } else if in_impl {
                    if let Some(rest) = line.strip_prefix("    async fn ") {
                        pending = rest.split('(').next().map(str::to_owned);
                    }
                    let ends_signature = line.starts_with("    ")
                        && !line.starts_with("        ")
                        && line.ends_with('{');
                    if let Some(name) = pending.take_if(|_| ends_signature) {
                        methods += 1;
                        let want = format!("let _timer = self.timed(\"{name}\");");
                        if lines.peek().map(|l| l.trim()) != Some(want.as_str()) {
                            missing.push(format!("{}: {name}", path.display()));
                        }
                    }
                }
            }
        }
        assert!(
            methods > 60,
            "found only {methods} store methods: is the scan broken?"
        );
        assert!(
            missing.is_empty(),
            "these store methods must begin with `let _timer = self.timed(\"<method name>\");` \
             (clavex_db_query_duration_seconds): {missing:#?}"
        );
    }
}
