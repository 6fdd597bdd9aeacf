//! Public keys as JWKs: building the JWK Clavex publishes, RFC 7638 thumbprints (Clavex's `kid`),
//! and [`VerifyingKey`], a JWK parsed once for repeated signature checks.
//!
//! Must never accept a JWK carrying private members (a private key pasted where a public one
//! belongs is refused, not silently used), a symmetric (`oct`) key, an RSA modulus under 2048
//! bits, or a curve other than P-256 / Ed25519.

use std::fmt;
use std::sync::Arc;

use aws_lc_rs::rsa::PublicKeyComponents;
use aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED, ED25519, ParsedPublicKey};
use serde_json::{Map, Value, json};
use sha2::{Digest as _, Sha256};

use super::{Algorithm, shorten};
use crate::{CryptoError, b64};

/// Smallest RSA modulus accepted, in bits (NIST SP 800-131A; RFC 7518 §3.3 requires ≥ 2048).
pub(crate) const MIN_RSA_BITS: usize = 2048;
/// Largest RSA modulus accepted, in bits (what aws-lc verifies; bounds verification cost).
const MAX_RSA_BITS: usize = 8192;
/// Private members of RSA, EC and OKP JWKs (RFC 7518 §6.2.2, §6.3.2; RFC 8037 §2).
const PRIVATE_MEMBERS: [&str; 7] = ["d", "p", "q", "dp", "dq", "qi", "oth"];

/// The public half of a key, as raw big-endian / curve-encoded bytes.
pub(crate) enum PublicParams {
    /// RSA modulus and exponent, without leading zero bytes.
    Rsa { n: Vec<u8>, e: Vec<u8> },
    /// P-256 affine coordinates, 32 bytes each.
    P256 { x: Vec<u8>, y: Vec<u8> },
    /// Ed25519 public key, 32 bytes.
    Ed25519 { x: Vec<u8> },
}

impl PublicParams {
    /// RFC 7638 thumbprint: base64url SHA-256 of the required members, in lexicographic order,
    /// with no whitespace.
    pub(crate) fn thumbprint(&self) -> String {
        let canonical = match self {
            PublicParams::Rsa { n, e } => format!(
                r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#,
                b64::encode(e),
                b64::encode(n)
            ),
            PublicParams::P256 { x, y } => format!(
                r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
                b64::encode(x),
                b64::encode(y)
            ),
            PublicParams::Ed25519 { x } => format!(
                r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#,
                b64::encode(x)
            ),
        };
        b64::encode(Sha256::digest(canonical.as_bytes()))
    }

    /// The public JWK Clavex publishes in its JWKS: key members plus `kid`, `use`, `alg`.
    pub(crate) fn to_jwk(&self, kid: &str, alg: Algorithm) -> Value {
        let mut jwk = match self {
            PublicParams::Rsa { n, e } => json!({
                "kty": "RSA", "n": b64::encode(n), "e": b64::encode(e),
            }),
            PublicParams::P256 { x, y } => json!({
                "kty": "EC", "crv": "P-256", "x": b64::encode(x), "y": b64::encode(y),
            }),
            PublicParams::Ed25519 { x } => json!({
                "kty": "OKP", "crv": "Ed25519", "x": b64::encode(x),
            }),
        };
        if let Some(members) = jwk.as_object_mut() {
            members.insert("kid".into(), Value::from(kid));
            members.insert("use".into(), Value::from("sig"));
            members.insert("alg".into(), Value::from(alg.as_str()));
        }
        jwk
    }

    /// The algorithm this key type signs with in Clavex.
    fn algorithm(&self) -> Algorithm {
        match self {
            PublicParams::Rsa { .. } => Algorithm::RS256,
            PublicParams::P256 { .. } => Algorithm::ES256,
            PublicParams::Ed25519 { .. } => Algorithm::EdDSA,
        }
    }

    /// Reads the key members of a JWK, checking their shape and sizes.
    fn from_jwk(members: &Map<String, Value>) -> Result<Self, CryptoError> {
        let kty = str_member(members, "kty")?;
        match kty {
            "RSA" => {
                let n = bytes_member(members, "n")?;
                let e = bytes_member(members, "e")?;
                check_rsa_modulus(&n)?;
                if e.is_empty() || e.first() == Some(&0) || e.len() > 4 {
                    return Err(CryptoError::InvalidJwk(
                        "RSA exponent \"e\" must be 1 to 4 bytes without leading zeros".into(),
                    ));
                }
                Ok(PublicParams::Rsa { n, e })
            }
            "EC" => {
                let crv = str_member(members, "crv")?;
                if crv != "P-256" {
                    return Err(CryptoError::InvalidJwk(format!(
                        "EC curve {:?} is not supported; only P-256 (ES256)",
                        shorten(crv)
                    )));
                }
                let x = fixed_member(members, "x", 32)?;
                let y = fixed_member(members, "y", 32)?;
                Ok(PublicParams::P256 { x, y })
            }
            "OKP" => {
                let crv = str_member(members, "crv")?;
                if crv != "Ed25519" {
                    return Err(CryptoError::InvalidJwk(format!(
                        "OKP curve {:?} is not supported; only Ed25519 (EdDSA)",
                        shorten(crv)
                    )));
                }
                let x = fixed_member(members, "x", 32)?;
                Ok(PublicParams::Ed25519 { x })
            }
            other => Err(CryptoError::InvalidJwk(format!(
                "key type {:?} is not supported; accepted are RSA, EC (P-256), OKP (Ed25519)",
                shorten(other)
            ))),
        }
    }

    /// Parses the key for aws-lc; this validates it (RSA structure, point on the curve).
    fn parse(&self) -> Result<ParsedPublicKey, CryptoError> {
        let parsed = match self {
            PublicParams::Rsa { n, e } => {
                PublicKeyComponents { n, e }.to_parsed_public_key(&RSA_PKCS1_2048_8192_SHA256)
            }
            PublicParams::P256 { x, y } => {
                let mut point = Vec::with_capacity(65);
                point.push(0x04); // SEC 1 uncompressed point
                point.extend_from_slice(x);
                point.extend_from_slice(y);
                ParsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point)
            }
            PublicParams::Ed25519 { x } => ParsedPublicKey::new(&ED25519, x),
        };
        parsed.map_err(|e| CryptoError::InvalidJwk(format!("key rejected: {e}")))
    }
}

/// Checks the RSA modulus size in bits (and that it is minimally encoded).
pub(crate) fn check_rsa_modulus(n: &[u8]) -> Result<(), CryptoError> {
    let Some(&first) = n.first() else {
        return Err(CryptoError::InvalidJwk("RSA modulus \"n\" is empty".into()));
    };
    if first == 0 {
        return Err(CryptoError::InvalidJwk(
            "RSA modulus \"n\" has leading zero bytes".into(),
        ));
    }
    let bits = n.len() * 8 - first.leading_zeros() as usize;
    if !(MIN_RSA_BITS..=MAX_RSA_BITS).contains(&bits) {
        return Err(CryptoError::InvalidJwk(format!(
            "RSA modulus is {bits} bits; accepted are {MIN_RSA_BITS} to {MAX_RSA_BITS}"
        )));
    }
    Ok(())
}

fn str_member<'a>(members: &'a Map<String, Value>, name: &str) -> Result<&'a str, CryptoError> {
    match members.get(name) {
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(CryptoError::InvalidJwk(format!(
            "member {name:?} must be a string"
        ))),
        None => Err(CryptoError::InvalidJwk(format!(
            "member {name:?} is missing"
        ))),
    }
}

fn bytes_member(members: &Map<String, Value>, name: &str) -> Result<Vec<u8>, CryptoError> {
    b64::decode(str_member(members, name)?).ok_or_else(|| {
        CryptoError::InvalidJwk(format!("member {name:?} is not base64url without padding"))
    })
}

fn fixed_member(
    members: &Map<String, Value>,
    name: &str,
    len: usize,
) -> Result<Vec<u8>, CryptoError> {
    let bytes = bytes_member(members, name)?;
    if bytes.len() != len {
        return Err(CryptoError::InvalidJwk(format!(
            "member {name:?} is {} bytes; it must be {len}",
            bytes.len()
        )));
    }
    Ok(bytes)
}

/// RFC 7638 JWK thumbprint (base64url SHA-256) of a public or private JWK; only the required
/// public members count, so `kid`, `alg`, `use` and private members do not change it.
///
/// # Errors
/// [`CryptoError::InvalidJwk`] if the JWK is not an RSA, EC P-256 or OKP Ed25519 key with
/// well-formed members.
pub fn jwk_thumbprint(jwk: &Value) -> Result<String, CryptoError> {
    let members = jwk
        .as_object()
        .ok_or_else(|| CryptoError::InvalidJwk("a JWK must be a JSON object".into()))?;
    Ok(PublicParams::from_jwk(members)?.thumbprint())
}

/// A public key ready to verify signatures: parsed once, cheap to clone (an `Arc` inside).
#[derive(Clone)]
pub struct VerifyingKey {
    inner: Arc<VerifyingInner>,
}

struct VerifyingInner {
    kid: String,
    alg: Algorithm,
    thumbprint: String,
    jwk: Value,
    key: ParsedPublicKey,
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("kid", &self.inner.kid)
            .field("alg", &self.inner.alg)
            .finish_non_exhaustive()
    }
}

impl VerifyingKey {
    /// Parses a public JWK (as found in a JWKS, or the `public_jwk` stored with a key).
    ///
    /// `kty` decides the algorithm (RSA → RS256, EC P-256 → ES256, OKP Ed25519 → EdDSA); an
    /// `alg` member, if present, must agree. `use`, if present, must be `"sig"`. Without a `kid`
    /// member the key's RFC 7638 thumbprint is its kid.
    ///
    /// # Errors
    /// [`CryptoError::InvalidJwk`] naming what is wrong: not an object, missing or malformed
    /// members, private members present, unsupported type or curve, RSA under 2048 bits, a point
    /// not on the curve, or an `alg`/`use` that does not fit.
    pub fn from_jwk(jwk: &Value) -> Result<Self, CryptoError> {
        let members = jwk
            .as_object()
            .ok_or_else(|| CryptoError::InvalidJwk("a JWK must be a JSON object".into()))?;
        if let Some(private) = PRIVATE_MEMBERS.iter().find(|m| members.contains_key(**m)) {
            return Err(CryptoError::InvalidJwk(format!(
                "it contains the private member {private:?}; only public keys are accepted here"
            )));
        }
        let params = PublicParams::from_jwk(members)?;
        let alg = params.algorithm();
        if let Some(declared) = members.get("alg")
            && declared.as_str() != Some(alg.as_str())
        {
            return Err(CryptoError::InvalidJwk(format!(
                "\"alg\" {} does not fit this key type, which signs {alg}",
                shorten(&declared.to_string())
            )));
        }
        if let Some(usage) = members.get("use")
            && usage.as_str() != Some("sig")
        {
            return Err(CryptoError::InvalidJwk(format!(
                "\"use\" is {}; only \"sig\" keys verify signatures",
                shorten(&usage.to_string())
            )));
        }
        let thumbprint = params.thumbprint();
        let kid = match members.get("kid") {
            None => thumbprint.clone(),
            Some(Value::String(kid)) => kid.clone(),
            Some(_) => {
                return Err(CryptoError::InvalidJwk(
                    "member \"kid\" must be a string".into(),
                ));
            }
        };
        let key = params.parse()?;
        let jwk = params.to_jwk(&kid, alg);
        Ok(Self {
            inner: Arc::new(VerifyingInner {
                kid,
                alg,
                thumbprint,
                jwk,
                key,
            }),
        })
    }

    /// Builds the verifying half of a key Clavex holds (no re-parse of a JWK needed).
    pub(crate) fn from_params(
        kid: &str,
        alg: Algorithm,
        params: &PublicParams,
    ) -> Result<Self, CryptoError> {
        Ok(Self {
            inner: Arc::new(VerifyingInner {
                kid: kid.to_owned(),
                alg,
                thumbprint: params.thumbprint(),
                jwk: params.to_jwk(kid, alg),
                key: params.parse()?,
            }),
        })
    }

    /// The key id tokens name in their `kid` header.
    #[must_use]
    pub fn kid(&self) -> &str {
        &self.inner.kid
    }

    /// The only algorithm this key verifies.
    #[must_use]
    pub fn alg(&self) -> Algorithm {
        self.inner.alg
    }

    /// The RFC 7638 thumbprint of the key (equal to `kid` for keys Clavex generated).
    #[must_use]
    pub fn thumbprint(&self) -> &str {
        &self.inner.thumbprint
    }

    /// The public JWK in normalized form (`kty`, key members, `kid`, `use: "sig"`, `alg`), as
    /// published in a JWKS.
    #[must_use]
    pub fn to_jwk(&self) -> &Value {
        &self.inner.jwk
    }

    /// Checks a raw signature over `message` (for JWS, the ASCII `header.payload`).
    pub(crate) fn verify_signature(
        &self,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), CryptoError> {
        self.inner
            .key
            .verify_sig(message, signature)
            .map_err(|_| CryptoError::InvalidSignature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7638 §3.1: the example RSA key and its thumbprint.
    fn rfc7638_key() -> Value {
        json!({
            "kty": "RSA",
            "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
            "e": "AQAB",
            "alg": "RS256",
            "kid": "2011-04-29"
        })
    }

    #[test]
    fn rfc7638_thumbprint() -> Result<(), CryptoError> {
        let expected = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";
        assert_eq!(jwk_thumbprint(&rfc7638_key())?, expected);
        let key = VerifyingKey::from_jwk(&rfc7638_key())?;
        assert_eq!(key.thumbprint(), expected);
        assert_eq!(key.kid(), "2011-04-29");
        assert_eq!(key.alg(), Algorithm::RS256);
        Ok(())
    }

    #[test]
    fn rfc8037_ed25519_thumbprint() -> Result<(), CryptoError> {
        // RFC 8037 Appendix A.3.
        let jwk = json!({"kty": "OKP", "crv": "Ed25519",
                         "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"});
        assert_eq!(
            jwk_thumbprint(&jwk)?,
            "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
        );
        let key = VerifyingKey::from_jwk(&jwk)?;
        assert_eq!(
            key.kid(),
            key.thumbprint(),
            "kid defaults to the thumbprint"
        );
        assert_eq!(key.to_jwk()["alg"], "EdDSA");
        assert_eq!(key.to_jwk()["use"], "sig");
        Ok(())
    }

    #[test]
    fn refuses_bad_jwks() {
        let mut private = rfc7638_key();
        private["d"] = json!("AQAB");
        let mut wrong_alg = rfc7638_key();
        wrong_alg["alg"] = json!("ES256");
        let mut enc = rfc7638_key();
        enc["use"] = json!("enc");
        let mut short_rsa = rfc7638_key();
        short_rsa["n"] = json!(b64::encode([0xffu8; 128]));
        let cases = [
            (json!("RSA"), "JSON object"),
            (json!({"kty": "oct", "k": "AAAA"}), "not supported"),
            (private, "private member"),
            (wrong_alg, "does not fit"),
            (enc, "\"use\""),
            (short_rsa, "1024 bits"),
            (
                json!({"kty": "EC", "crv": "P-384", "x": "AA", "y": "AA"}),
                "P-256",
            ),
            (
                json!({"kty": "EC", "crv": "P-256", "x": b64::encode([1u8; 32]), "y": b64::encode([1u8; 32])}),
                "rejected",
            ),
            (
                json!({"kty": "OKP", "crv": "Ed25519", "x": "AAAA"}),
                "must be 32",
            ),
            (json!({"kty": "RSA", "e": "AQAB"}), "\"n\" is missing"),
            (json!({"kty": "RSA", "n": "a+b/", "e": "AQAB"}), "base64url"),
        ];
        for (jwk, expected) in cases {
            let err = VerifyingKey::from_jwk(&jwk).err().map(|e| e.to_string());
            assert!(
                err.as_deref().is_some_and(|m| m.contains(expected)),
                "{jwk}: expected {expected:?}, got {err:?}"
            );
        }
    }
}
