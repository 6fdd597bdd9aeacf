//! Per-organization signing keys and the JOSE pieces Clavex needs: JWK (RFC 7517/7518/8037),
//! JWK thumbprints (RFC 7638), compact JWS/JWT (RFC 7515/7519) and OIDC `at_hash`/`c_hash`.
//!
//! Only RS256, ES256 and EdDSA (Ed25519) exist here. Must never accept `alg: none`, an algorithm
//! other than the verifying key's own, a symmetric algorithm, or a token whose key cannot be
//! identified; must never print private key material. Time checks (`exp`, `iat`, `nbf`) are the
//! caller's: this module has no clock.

mod jwk;
mod jws;
mod keys;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256, Sha512};

use crate::{CryptoError, b64};

pub use jwk::{VerifyingKey, jwk_thumbprint};
pub use jws::{decode_unverified_header, verify_jwt};
pub use keys::{GeneratedKey, SigningKey, generate};

/// A JWS signing algorithm Clavex signs and verifies with.
///
/// Serialized, parsed and displayed as its JOSE name: `"RS256"`, `"ES256"`, `"EdDSA"`.
/// The default is RS256, the one every OpenID Connect relying party must support.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Algorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256, 2048-bit keys.
    #[default]
    RS256,
    /// ECDSA on P-256 with SHA-256, signature as fixed-length `r ‖ s` (64 bytes).
    ES256,
    /// Ed25519 (RFC 8037).
    EdDSA,
}

impl Algorithm {
    /// Every supported algorithm, in order of preference for discovery documents.
    pub const ALL: [Algorithm; 3] = [Algorithm::RS256, Algorithm::ES256, Algorithm::EdDSA];

    /// The JOSE name (`"RS256"`, `"ES256"`, `"EdDSA"`).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Algorithm::RS256 => "RS256",
            Algorithm::ES256 => "ES256",
            Algorithm::EdDSA => "EdDSA",
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Algorithm {
    type Err = CryptoError;

    /// Exact, case-sensitive JOSE names only: JOSE algorithm names are case-sensitive, and
    /// leniency here would let `"none"`-like variants slip through a lookup.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Algorithm::ALL
            .into_iter()
            .find(|alg| alg.as_str() == s)
            .ok_or_else(|| CryptoError::UnknownAlgorithm(shorten(s)))
    }
}

/// OIDC `at_hash` of an access token (OIDC Core §3.1.3.6): base64url of the left half of the hash
/// of its ASCII text. Use the same function for `c_hash` (of a code) and `s_hash`.
///
/// The hash is the one of the ID token's `alg`: SHA-256 for RS256 and ES256. For EdDSA with
/// Ed25519 it is **SHA-512** (left 32 bytes), because Ed25519 hashes with SHA-512 internally;
/// this is what OIDC Core errata set 2 specifies and what other providers and relying-party
/// libraries implement.
#[must_use]
pub fn at_hash(access_token: &str, alg: Algorithm) -> String {
    match alg {
        Algorithm::RS256 | Algorithm::ES256 => {
            let digest = Sha256::digest(access_token.as_bytes());
            b64::encode(&digest[..digest.len() / 2])
        }
        Algorithm::EdDSA => {
            let digest = Sha512::digest(access_token.as_bytes());
            b64::encode(&digest[..digest.len() / 2])
        }
    }
}

/// Cuts untrusted text quoted in an error message to a bounded length.
pub(crate) fn shorten(text: &str) -> String {
    const MAX: usize = 40;
    if text.chars().count() <= MAX {
        text.to_owned()
    } else {
        let mut cut: String = text.chars().take(MAX).collect();
        cut.push('…');
        cut
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn algorithm_names_round_trip() -> Result<(), CryptoError> {
        for alg in Algorithm::ALL {
            assert_eq!(alg.as_str().parse::<Algorithm>()?, alg);
            assert_eq!(alg.to_string(), alg.as_str());
            let json =
                serde_json::to_string(&alg).map_err(|e| CryptoError::Signing(e.to_string()))?;
            assert_eq!(json, format!("\"{}\"", alg.as_str()));
            let back: Algorithm =
                serde_json::from_str(&json).map_err(|e| CryptoError::Signing(e.to_string()))?;
            assert_eq!(back, alg);
        }
        assert_eq!(Algorithm::default(), Algorithm::RS256);
        Ok(())
    }

    #[test]
    fn unknown_algorithm_names_the_accepted_ones() {
        for bad in ["none", "HS256", "rs256", "eddsa", ""] {
            let err = bad.parse::<Algorithm>().err().map(|e| e.to_string());
            assert!(
                err.as_deref()
                    .is_some_and(|m| m.contains("RS256, ES256, EdDSA")),
                "{bad}: {err:?}"
            );
        }
        assert!(serde_json::from_str::<Algorithm>("\"none\"").is_err());
    }

    #[test]
    fn at_hash_matches_oidc_example() {
        // OpenID Connect Core 1.0, Appendix A.3/A.4: RS256 ID token for this access token.
        assert_eq!(
            at_hash(
                "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y",
                Algorithm::RS256
            ),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
        assert_eq!(
            at_hash("x", Algorithm::ES256),
            at_hash("x", Algorithm::RS256)
        );
        let ed = at_hash(
            "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y",
            Algorithm::EdDSA,
        );
        assert_eq!(ed.len(), 43, "32 bytes of SHA-512");
    }
}
