//! A metric family: its series keyed by label values, found without allocating once a series
//! exists. Recording takes a shared lock and touches atomics only; a new series (rare: label values
//! come from bounded vocabularies) takes the exclusive lock once. Rendering is in `render`.

use std::{
    collections::HashMap,
    hash::{BuildHasherDefault, Hasher},
    sync::{
        RwLock,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Duration,
};

/// Series one family may hold. Label values are bounded by design; this is the backstop if a bug
/// ever lets raw input through, so that memory and the scrape stay small.
const MAX_SERIES: usize = 10_000;

/// One labelled time series.
pub(super) struct Series<V> {
    pub labels: Box<[Box<str>]>,
    pub value: V,
}

/// Series by the hash of their label values; the few that share a hash sit in one list.
type SeriesMap<V> = HashMap<u64, Vec<Series<V>>, BuildHasherDefault<PassThrough>>;

pub(super) struct Family<V> {
    pub name: &'static str,
    pub help: &'static str,
    pub label_names: Vec<&'static str>,
    series: RwLock<SeriesMap<V>>,
    /// Set once the series limit was hit, so the warning is logged once.
    overflowed: AtomicBool,
}

impl<V> Family<V> {
    pub fn new(name: &'static str, help: &'static str, label_names: &[&'static str]) -> Self {
        Family {
            name,
            help,
            label_names: label_names.to_vec(),
            series: RwLock::new(SeriesMap::default()),
            overflowed: AtomicBool::new(false),
        }
    }

    /// Applies `f` to the series of `values` (one per label name, in order), creating it with
    /// `make` the first time. Allocates only then.
    pub fn with(&self, values: &[&str], make: impl FnOnce() -> V, f: impl FnOnce(&V)) {
        if values.len() != self.label_names.len() {
            debug_assert!(false, "{}: wrong number of label values", self.name);
            return;
        }
        let hash = hash_values(values);
        {
            let map = self.series.read().unwrap_or_else(|e| e.into_inner());
            if let Some(v) = find(&map, hash, values) {
                f(v);
                return;
            }
        }
        let mut map = self.series.write().unwrap_or_else(|e| e.into_inner());
        // Another thread may have added it between the two locks.
        if let Some(v) = find(&map, hash, values) {
            f(v);
            return;
        }
        if map.values().map(Vec::len).sum::<usize>() >= MAX_SERIES {
            if !self.overflowed.swap(true, Ordering::Relaxed) {
                tracing::warn!(
                    metric = self.name,
                    "metric has {MAX_SERIES} series; new label values are dropped"
                );
            }
            return;
        }
        let value = make();
        f(&value);
        map.entry(hash).or_default().push(Series {
            labels: values.iter().map(|v| Box::from(*v)).collect(),
            value,
        });
    }

    /// Calls `f` on every series, ordered by label values (so the output is stable).
    pub fn for_each_sorted(&self, mut f: impl FnMut(&Series<V>)) {
        let map = self.series.read().unwrap_or_else(|e| e.into_inner());
        let mut all: Vec<&Series<V>> = map.values().flatten().collect();
        all.sort_unstable_by(|a, b| a.labels.cmp(&b.labels));
        for s in all {
            f(s);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.series
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .is_empty()
    }
}

fn find<'m, V>(map: &'m SeriesMap<V>, hash: u64, values: &[&str]) -> Option<&'m V> {
    map.get(&hash)?
        .iter()
        .find(|s| s.labels.iter().map(|l| &**l).eq(values.iter().copied()))
        .map(|s| &s.value)
}

/// A multiply-rotate hash taking eight bytes at a time (a route template is hashed on every
/// request), with each value's length mixed in after it so that `("ab", "c")` and `("a", "bc")`
/// differ. Label values are not attacker-chosen (bounded vocabularies), so a keyed hash would buy
/// nothing here and cost more.
fn hash_values(values: &[&str]) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let mix = |h: u64, word: u64| (h ^ word).wrapping_mul(K).rotate_left(29);
    let mut h: u64 = 0;
    for v in values {
        let mut chunks = v.as_bytes().chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            h = mix(h, u64::from_le_bytes(word));
        }
        let mut tail = [0u8; 8];
        tail[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
        h = mix(h, u64::from_le_bytes(tail));
        h = mix(h, v.len() as u64);
    }
    // Spread the high bits into the low ones, which pick the bucket.
    (h ^ (h >> 32)).wrapping_mul(K)
}

/// The map's keys are hashes already.
#[derive(Default)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is used (the key is a u64); fold anything else in anyway.
        for b in bytes {
            self.0 = (self.0 << 8) | u64::from(*b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

pub(super) type Counter = AtomicU64;

/// Cumulative counts are computed at render time; recording touches one bucket and the sum.
pub(super) struct Histogram {
    /// One count per bound, then one for values above the last bound (`+Inf`).
    buckets: Box<[AtomicU64]>,
    sum_nanos: AtomicU64,
}

impl Histogram {
    pub fn new(bounds: usize) -> Self {
        Histogram {
            buckets: (0..=bounds).map(|_| AtomicU64::new(0)).collect(),
            sum_nanos: AtomicU64::new(0),
        }
    }

    /// `bounds_nanos` are the family's upper bounds, ascending.
    pub fn observe(&self, bounds_nanos: &[u64], value: Duration) {
        let nanos = u64::try_from(value.as_nanos()).unwrap_or(u64::MAX);
        // The first bound >= the value: Prometheus buckets are "less than or equal".
        let i = bounds_nanos.partition_point(|b| *b < nanos);
        if let Some(bucket) = self.buckets.get(i) {
            bucket.fetch_add(1, Ordering::Relaxed);
        }
        self.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
    }

    /// Per-bucket counts (not cumulative), the last being above every bound.
    pub fn counts(&self) -> Vec<u64> {
        self.buckets
            .iter()
            .map(|b| b.load(Ordering::Relaxed))
            .collect()
    }

    pub fn sum_seconds(&self) -> f64 {
        self.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9
    }
}

/// A histogram family with its bucket bounds, in seconds for the output and in nanoseconds for
/// recording.
pub(super) struct HistogramFamily {
    pub family: Family<Histogram>,
    pub bounds: &'static [f64],
    bounds_nanos: Box<[u64]>,
}

impl HistogramFamily {
    pub fn new(
        name: &'static str,
        help: &'static str,
        label_names: &[&'static str],
        bounds: &'static [f64],
    ) -> Self {
        HistogramFamily {
            family: Family::new(name, help, label_names),
            bounds,
            bounds_nanos: bounds.iter().map(|b| (b * 1e9).round() as u64).collect(),
        }
    }

    pub fn observe(&self, values: &[&str], value: Duration) {
        self.family.with(
            values,
            || Histogram::new(self.bounds.len()),
            |h| h.observe(&self.bounds_nanos, value),
        );
    }
}

pub(super) type CounterFamily = Family<Counter>;

impl CounterFamily {
    pub fn add(&self, values: &[&str], n: u64) {
        self.with(
            values,
            || AtomicU64::new(0),
            |c| {
                c.fetch_add(n, Ordering::Relaxed);
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_are_found_by_values_and_kept_apart() {
        let f = CounterFamily::new("x_total", "X.", &["a", "b"]);
        f.add(&["ab", "c"], 1);
        f.add(&["a", "bc"], 2);
        f.add(&["ab", "c"], 3);
        let mut seen = Vec::new();
        f.for_each_sorted(|s| {
            seen.push((s.labels.join("|"), s.value.load(Ordering::Relaxed)));
        });
        assert_eq!(seen, [("a|bc".to_string(), 2), ("ab|c".to_string(), 4)]);
    }

    #[test]
    fn histogram_buckets_are_less_than_or_equal() {
        let f = HistogramFamily::new("t_seconds", "T.", &[], &[0.001, 0.01]);
        f.observe(&[], Duration::from_millis(1));
        f.observe(&[], Duration::from_millis(5));
        f.observe(&[], Duration::from_secs(1));
        f.family.for_each_sorted(|s| {
            assert_eq!(s.value.counts(), [1, 1, 1]);
            assert!((s.value.sum_seconds() - 1.006).abs() < 1e-9);
        });
    }
}
