//! The metrics settings: `CLAVEX_METRICS` (on or off), `CLAVEX_METRICS_LISTEN` (a separate address
//! for `/metrics`) and `CLAVEX_METRICS_ORGS` (which orgs get their own `org` label value).

use std::net::SocketAddr;

use crate::catalog::{self, SettingId};
use crate::error::{ConfigError, Origin};
use crate::sources::Layers;
use crate::values::{InvalidValue, parse_listen};

/// How metrics are recorded and served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsSettings {
    /// Off: no `/metrics` anywhere and nothing recorded.
    pub enabled: bool,
    /// Serve `/metrics` only here (and answer 404 for it on `listen`).
    pub listen: Option<SocketAddr>,
    pub orgs: MetricsOrgs,
}

/// Orgs whose slug is an `org` label value; the others are counted as `other`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum MetricsOrgs {
    #[default]
    None,
    /// `*`: every org.
    All,
    Listed(Vec<String>),
}

impl std::fmt::Display for MetricsOrgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MetricsOrgs::None => Ok(()),
            MetricsOrgs::All => f.write_str("*"),
            MetricsOrgs::Listed(slugs) => f.write_str(&slugs.join(",")),
        }
    }
}

/// `on` or `off`.
pub fn parse_switch(text: &str) -> Result<bool, InvalidValue> {
    match text {
        "on" => Ok(true),
        "off" => Ok(false),
        _ => Err(InvalidValue("expected `on` or `off`".to_owned())),
    }
}

/// `*`, or org slugs separated by commas (spaces around them are ignored).
pub fn parse_orgs(text: &str) -> Result<MetricsOrgs, InvalidValue> {
    const EXPECTED: &str = "expected `*` (every org) or org slugs separated by commas, e.g. \
                            `acme,globex`";
    if text.trim() == "*" {
        return Ok(MetricsOrgs::All);
    }
    let mut slugs: Vec<String> = Vec::new();
    for item in text.split(',').map(str::trim) {
        if item == "*" {
            return Err(InvalidValue(format!(
                "{EXPECTED}: `*` cannot be mixed with slugs"
            )));
        }
        if !is_slug(item) {
            return Err(InvalidValue(format!(
                "{EXPECTED}; `{item}` is not an org slug (lower-case letters, digits and inner \
                 hyphens, at most 63 characters)"
            )));
        }
        if !slugs.iter().any(|s| s == item) {
            slugs.push(item.to_owned());
        }
    }
    Ok(MetricsOrgs::Listed(slugs))
}

/// The org slug rule of SPEC.md: `^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$`.
fn is_slug(s: &str) -> bool {
    let ok = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let bytes = s.as_bytes();
    match (bytes.first(), bytes.last()) {
        (Some(&first), Some(&last)) => {
            bytes.len() <= 63 && ok(first) && ok(last) && bytes.iter().all(|&b| ok(b) || b == b'-')
        }
        _ => false,
    }
}

/// Reads the three settings and checks them against each other and against `main_listen`.
pub(crate) fn load(
    layers: &Layers<'_>,
    main_listen: SocketAddr,
) -> Result<MetricsSettings, ConfigError> {
    let (enabled, enabled_origin) = layers.required(SettingId::Metrics, parse_switch)?;
    let listen = layers.parsed(SettingId::MetricsListen, parse_listen)?;
    let orgs = layers
        .parsed(SettingId::MetricsOrgs, parse_orgs)?
        .map(|(orgs, _)| orgs)
        .unwrap_or_default();
    if let Some((addr, origin)) = &listen {
        if !enabled {
            return Err(refused(
                SettingId::MetricsListen,
                origin,
                addr,
                &format!(
                    "no address while metrics are off (CLAVEX_METRICS=off, from {enabled_origin}): \
                     unset one of the two"
                ),
            ));
        }
        if addr.port() != 0 && *addr == main_listen {
            return Err(refused(
                SettingId::MetricsListen,
                origin,
                addr,
                "an address other than CLAVEX_LISTEN's (unset it to serve /metrics there)",
            ));
        }
    }
    Ok(MetricsSettings {
        enabled,
        listen: listen.map(|(addr, _)| addr),
        orgs,
    })
}

fn refused(key: SettingId, origin: &Origin, value: &SocketAddr, expected: &str) -> ConfigError {
    let spec = catalog::spec(key);
    ConfigError::Invalid {
        key: spec.name,
        env: spec.env,
        origin: origin.clone(),
        value: Some(value.to_string()),
        expected: expected.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn switches_and_org_lists() {
        assert_eq!(parse_switch("on"), Ok(true));
        assert_eq!(parse_switch("off"), Ok(false));
        assert!(parse_switch("yes").is_err());
        assert!(parse_switch("ON").is_err());
        assert_eq!(parse_orgs(" * "), Ok(MetricsOrgs::All));
        assert_eq!(
            parse_orgs("acme, globex,acme"),
            Ok(MetricsOrgs::Listed(vec!["acme".into(), "globex".into()]))
        );
        for bad in [
            "acme,,globex",
            "Acme",
            "acme,*",
            "-acme",
            "acme-",
            "a b",
            "",
        ] {
            let e = parse_orgs(bad).expect_err(bad);
            assert!(e.0.starts_with("expected `*`"), "{bad}: {e}");
        }
        assert!(parse_orgs(&"a".repeat(64)).is_err());
        assert!(parse_orgs(&"a".repeat(63)).is_ok());
    }

    fn load(env: &[(&str, &str)]) -> Result<crate::Settings, ConfigError> {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        crate::Settings::load_from(&crate::FlagOverrides::default(), &env)
    }

    #[test]
    fn a_separate_address_needs_metrics_on_and_another_address() {
        let s = load(&[]).unwrap();
        assert_eq!(
            s.metrics,
            MetricsSettings {
                enabled: true,
                listen: None,
                orgs: MetricsOrgs::None
            }
        );
        let e = load(&[
            ("CLAVEX_METRICS", "off"),
            ("CLAVEX_METRICS_LISTEN", "127.0.0.1:9464"),
        ])
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("CLAVEX_METRICS_LISTEN") && e.contains("metrics are off"),
            "{e}"
        );
        let e = load(&[
            ("CLAVEX_LISTEN", "127.0.0.1:9000"),
            ("CLAVEX_METRICS_LISTEN", "127.0.0.1:9000"),
        ])
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("CLAVEX_METRICS_LISTEN") && e.contains("other than CLAVEX_LISTEN"),
            "{e}"
        );
        let s = load(&[("CLAVEX_METRICS", "off"), ("CLAVEX_METRICS_ORGS", "*")]).unwrap();
        assert!(!s.metrics.enabled);
        assert_eq!(s.metrics.orgs, MetricsOrgs::All);
    }
}
