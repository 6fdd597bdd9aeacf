mod grafana_seed;
pub mod support;
