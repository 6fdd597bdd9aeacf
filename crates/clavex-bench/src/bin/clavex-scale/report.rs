//! `clavex-scale report`: small against large, as a Markdown table with the ratio of each
//! figure and whether it stayed flat: no more than 20 % worse (a latency at most 1.2× the small
//! one, a throughput at least 0.8× of it). Each size may have been measured in several rounds
//! (alternating small and large, so that other work on the machine hits both alike); each figure
//! is then the median of its rounds.

use std::fmt::Write as _;

use crate::measure::Measured;

/// Worse than this ratio is not flat.
const TOLERANCE: f64 = 0.2;

/// Whether a larger figure is better.
#[derive(Clone, Copy)]
enum Better {
    Lower,
    Higher,
}

/// One result per size from several rounds: each figure is the median of its rounds.
pub fn merge(rounds: &[Measured]) -> Option<Measured> {
    let mut merged = rounds.first()?.clone();
    let median = |values: Vec<f64>| -> f64 {
        let mut v: Vec<f64> = values.into_iter().filter(|x| x.is_finite()).collect();
        v.sort_by(f64::total_cmp);
        match v.len() {
            0 => f64::NAN,
            n if n % 2 == 1 => v[n / 2],
            n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
        }
    };
    merged.signin_median_ms = median(rounds.iter().map(|r| r.signin_median_ms).collect());
    merged.signin_p90_ms = median(rounds.iter().map(|r| r.signin_p90_ms).collect());
    for l in &mut merged.load {
        let same: Vec<_> = rounds
            .iter()
            .filter_map(|r| r.load.iter().find(|x| x.workload == l.workload))
            .collect();
        l.ops_per_s = median(same.iter().map(|x| x.ops_per_s).collect());
        l.p50_ms = median(same.iter().map(|x| x.p50_ms).collect());
        l.p99_ms = median(same.iter().map(|x| x.p99_ms).collect());
        l.errors = same.iter().map(|x| x.errors).sum();
    }
    for (i, l) in merged.lists.iter_mut().enumerate() {
        let same: Vec<_> = rounds.iter().filter_map(|r| r.lists.get(i)).collect();
        l.median_ms = median(same.iter().map(|x| x.median_ms).collect());
        l.p90_ms = median(same.iter().map(|x| x.p90_ms).collect());
    }
    merged.load_before = rounds
        .iter()
        .map(|r| r.load_before.as_str())
        .collect::<Vec<_>>()
        .join("; ");
    merged.rounds = rounds.len();
    Some(merged)
}

pub fn markdown(small: &Measured, large: &Measured) -> String {
    let mut rows: Vec<(String, f64, f64, Better)> = vec![(
        format!("sign-in, whole flow, median of {} (ms)", large.signin_runs),
        small.signin_median_ms,
        large.signin_median_ms,
        Better::Lower,
    )];
    for l in &large.load {
        if let Some(s) = small.load.iter().find(|s| s.workload == l.workload) {
            rows.push((
                format!("{}, {} connections (ops/s)", l.workload, l.connections),
                s.ops_per_s,
                l.ops_per_s,
                Better::Higher,
            ));
            rows.push((
                format!("{}, {} connections, p99 (ms)", l.workload, l.connections),
                s.p99_ms,
                l.p99_ms,
                Better::Lower,
            ));
        }
    }
    for (i, l) in large.lists.iter().enumerate() {
        // Lists come in the same order in both (first page, deep page per list).
        if let Some(s) = small.lists.get(i).filter(|s| s.list == l.list) {
            let which = |page: usize, rows: usize| {
                if page == 1 {
                    format!("first of {rows}")
                } else {
                    format!("page {page} of {rows}")
                }
            };
            rows.push((
                format!(
                    "{} list, limit {}, median (ms): small {}, large {}",
                    l.list,
                    l.limit,
                    which(s.page, s.rows),
                    which(l.page, l.rows)
                ),
                s.median_ms,
                l.median_ms,
                Better::Lower,
            ));
        }
    }
    let mut out = String::new();
    let size = |m: &Measured| {
        m.seed.as_ref().map_or_else(String::new, |s| {
            format!(
                " ({} orgs, {} users, {} clients)",
                s["orgs"], s["users"], s["clients"]
            )
        })
    };
    let _ = writeln!(
        out,
        "small{}; large{}; median of {} round(s) each, load average before each: small {}, large {}\n",
        size(small),
        size(large),
        large.rounds.min(small.rounds),
        small.load_before,
        large.load_before
    );
    let _ = writeln!(out, "| what | small | large | large/small | flat (±20 %) |");
    let _ = writeln!(out, "|---|---|---|---|---|");
    for (what, s, l, better) in rows {
        let ratio = if s > 0.0 { l / s } else { f64::NAN };
        let flat = match better {
            Better::Lower => ratio <= 1.0 + TOLERANCE,
            Better::Higher => ratio >= 1.0 - TOLERANCE,
        };
        let _ = writeln!(
            out,
            "| {what} | {} | {} | {ratio:.2} | {} |",
            figure(s),
            figure(l),
            if flat { "yes" } else { "**no**" }
        );
    }
    out
}

/// Three significant figures, enough for latencies and throughputs alike.
fn figure(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lists::ListTiming;
    use crate::measure::LoadFigure;

    fn measured(signin: f64, ops: f64, page_ms: f64) -> Measured {
        Measured {
            label: "x".into(),
            load_before: "1.00 1.00 1.00".into(),
            seed: None,
            rounds: 1,
            signin_runs: 20,
            signin_median_ms: signin,
            signin_p90_ms: signin,
            load: vec![LoadFigure {
                workload: "refresh".into(),
                connections: 16,
                ops_per_s: ops,
                p50_ms: 1.0,
                p99_ms: 2.0,
                errors: 0,
                server_cpu_ms_per_op: None,
            }],
            lists: vec![ListTiming {
                list: "users".into(),
                rows: 100,
                limit: 50,
                page: 1,
                median_ms: page_ms,
                p90_ms: page_ms,
            }],
        }
    }

    #[test]
    fn flat_means_at_most_twenty_percent_worse() {
        let table = markdown(&measured(30.0, 1000.0, 1.0), &measured(35.0, 700.0, 1.5));
        assert!(
            table.contains("| sign-in, whole flow, median of 20 (ms) | 30.0 | 35.0 | 1.17 | yes |"),
            "{table}"
        );
        assert!(
            table.contains("| refresh, 16 connections (ops/s) | 1000 | 700 | 0.70 | **no** |"),
            "{table}"
        );
        assert!(table.contains("| 1.00 | 1.50 | 1.50 | **no** |"), "{table}");
    }

    #[test]
    fn rounds_merge_to_their_medians() {
        let rounds = [
            measured(30.0, 1000.0, 1.0),
            measured(50.0, 900.0, 3.0),
            measured(40.0, 2000.0, 2.0),
        ];
        let merged = merge(&rounds).expect("three rounds");
        assert_eq!(merged.rounds, 3);
        assert_eq!(merged.signin_median_ms, 40.0);
        assert_eq!(merged.load[0].ops_per_s, 1000.0);
        assert_eq!(merged.lists[0].median_ms, 2.0);
        assert_eq!(merge(&rounds[..2]).map(|m| m.signin_median_ms), Some(40.0));
        assert!(merge(&[]).is_none());
    }
}
