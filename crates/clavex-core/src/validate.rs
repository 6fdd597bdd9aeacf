//! Validation rules shared by every entry point. Each function names the field it checks, so that
//! errors say which input was wrong.

use url::Url;

use crate::{CoreError, CoreResult};

/// Slugs that collide with what the server serves at the top level.
pub const RESERVED_SLUGS: &[&str] = &[
    "api",
    "admin",
    "healthz",
    "readyz",
    "metrics",
    "static",
    "assets",
    ".well-known",
    "favicon.ico",
    "robots.txt",
    "login",
    "logout",
    "oauth2",
    "console",
];

/// `^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$`, and not reserved.
pub fn slug(value: &str) -> CoreResult<()> {
    let bytes = value.as_bytes();
    let allowed = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let shape_ok = !bytes.is_empty()
        && bytes.len() <= 63
        && bytes.first().is_some_and(allowed)
        && bytes.last().is_some_and(allowed)
        && bytes.iter().all(|b| allowed(b) || *b == b'-');
    if !shape_ok {
        return Err(CoreError::invalid(
            "slug",
            "must be 1 to 63 lowercase letters, digits or '-', starting and ending with a letter or digit",
        ));
    }
    if RESERVED_SLUGS.contains(&value) {
        return Err(CoreError::invalid(
            "slug",
            format!("'{value}' is reserved for the server's own paths"),
        ));
    }
    Ok(())
}

/// A human-readable name: 1 to `max` characters, no control characters, not only spaces.
pub fn display_name(field: &str, value: &str, max: usize) -> CoreResult<()> {
    if value.trim().is_empty() {
        return Err(CoreError::invalid(field, "must not be empty"));
    }
    if value.chars().count() > max {
        return Err(CoreError::invalid(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(CoreError::invalid(
            field,
            "must not contain control characters",
        ));
    }
    Ok(())
}

/// Identifiers that appear in URLs and claims: client ids, group names, token names.
pub fn identifier(field: &str, value: &str, max: usize) -> CoreResult<()> {
    let ok = !value.is_empty()
        && value.len() <= max
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
        && value
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(CoreError::invalid(
            field,
            format!(
                "must be 1 to {max} ASCII letters, digits, '-', '_', '.' or ':', starting with a letter or digit"
            ),
        ))
    }
}

/// Usernames: 1 to 128 characters of letters, digits and `. _ @ + -`.
pub fn username(value: &str) -> CoreResult<()> {
    let ok = !value.is_empty()
        && value.chars().count() <= 128
        && value
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '@' | '+' | '-'));
    if ok {
        Ok(())
    } else {
        Err(CoreError::invalid(
            "username",
            "must be 1 to 128 letters, digits or '.', '_', '@', '+', '-'",
        ))
    }
}

/// A plausible email address: one `@`, a non-empty local part, a dotted domain, no spaces.
pub fn email(value: &str) -> CoreResult<()> {
    let bad = || CoreError::invalid("email", "must be an email address like name@example.com");
    if value.len() > 254 || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad());
    }
    let (local, domain) = value.split_once('@').ok_or_else(bad)?;
    if local.is_empty()
        || domain.contains('@')
        || !domain.contains('.')
        || domain.starts_with('.')
        || domain.ends_with('.')
    {
        return Err(bad());
    }
    Ok(())
}

/// Passwords: at least 8 and at most 1024 characters (the cap bounds hashing cost).
pub fn password(value: &str) -> CoreResult<()> {
    let n = value.chars().count();
    if n < 8 {
        return Err(CoreError::invalid(
            "password",
            "must be at least 8 characters",
        ));
    }
    if n > 1024 {
        return Err(CoreError::invalid(
            "password",
            "must be at most 1024 characters",
        ));
    }
    Ok(())
}

/// A redirect URI as SPEC fixes it: absolute, no fragment, `https` unless the host is loopback.
pub fn redirect_uri(field: &str, value: &str) -> CoreResult<()> {
    let url = Url::parse(value)
        .map_err(|e| CoreError::invalid(field, format!("'{value}' is not an absolute URI: {e}")))?;
    if url.fragment().is_some() || value.contains('#') {
        return Err(CoreError::invalid(
            field,
            format!("'{value}' must not have a fragment"),
        ));
    }
    let loopback = match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match url.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        "http" => Err(CoreError::invalid(
            field,
            format!("'{value}' must use https (http is allowed only for loopback hosts)"),
        )),
        other => Err(CoreError::invalid(
            field,
            format!("'{value}' has scheme '{other}'; only https (or http on loopback) is allowed"),
        )),
    }
}

/// A scope token per RFC 6749 §3.3.
pub fn scope_token(value: &str) -> CoreResult<()> {
    let ok = !value.is_empty()
        && value.len() <= 128
        && value
            .bytes()
            .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b));
    if ok {
        Ok(())
    } else {
        Err(CoreError::invalid(
            "scopes",
            format!("'{value}' is not a valid scope token"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        for ok in ["acme", "a", "a-b", "0", "x1-2y"] {
            assert!(slug(ok).is_ok(), "{ok}");
        }
        let long = "a".repeat(64);
        for bad in [
            "",
            "-a",
            "a-",
            "Acme",
            "a_b",
            "a b",
            long.as_str(),
            "api",
            "admin",
            "healthz",
        ] {
            assert!(slug(bad).is_err(), "{bad}");
        }
        assert!(slug(&"a".repeat(63)).is_ok());
    }

    #[test]
    fn redirect_uris() {
        for ok in [
            "https://grafana.acme.eu/login/generic_oauth",
            "http://localhost:3000/cb",
            "http://127.0.0.1/cb",
            "http://[::1]:8080/cb",
        ] {
            assert!(redirect_uri("redirect_uris", ok).is_ok(), "{ok}");
        }
        for bad in [
            "/relative",
            "http://example.com/cb",
            "https://a.example/cb#frag",
            "ftp://a.example/",
            "javascript:alert(1)",
        ] {
            assert!(redirect_uri("redirect_uris", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn emails_and_usernames() {
        assert!(email("a@b.example").is_ok());
        for bad in ["a", "@b.c", "a@b", "a b@c.d", "a@b@c.d"] {
            assert!(email(bad).is_err(), "{bad}");
        }
        assert!(username("alice.smith@x").is_ok());
        assert!(username("a b").is_err());
        assert!(username("").is_err());
    }

    #[test]
    fn scope_tokens() {
        assert!(scope_token("openid").is_ok());
        assert!(scope_token("a\"b").is_err());
        assert!(scope_token("a b").is_err());
    }
}
