//! Key pairs: generating a new signing key, and [`SigningKey`], a stored PKCS#8 key parsed once
//! and shared (Arc) by every request that signs with it.
//!
//! Must never expose private key bytes through `Debug`, `Display` or errors; the PKCS#8 DER only
//! leaves through [`GeneratedKey::private_der`], to be sealed under the master key at once.

use std::fmt;
use std::sync::Arc;

use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeySize, PublicKeyComponents};
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, RSA_PKCS1_SHA256,
    RsaKeyPair,
};
use serde::Serialize;
use serde_json::Value;

use super::Algorithm;
use super::jwk::{MIN_RSA_BITS, PublicParams, VerifyingKey};
use crate::{CryptoError, b64};

/// A freshly generated key: store `private_der` sealed, `public_jwk` in clear.
#[derive(Clone)]
pub struct GeneratedKey {
    /// RFC 7638 thumbprint of the public key; also the `kid` inside `public_jwk`.
    pub kid: String,
    /// The algorithm the key signs with.
    pub alg: Algorithm,
    /// The private key as unencrypted PKCS#8 DER (v1 for RSA and P-256, v2 for Ed25519), readable
    /// by [`SigningKey::from_pkcs8`] and by OpenSSL. Secret: seal it before it is stored.
    pub private_der: Vec<u8>,
    /// The public JWK with `kty`, key members, `kid`, `use: "sig"` and `alg`.
    pub public_jwk: Value,
}

impl fmt::Debug for GeneratedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GeneratedKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("private_der", &"<redacted>")
            .field("public_jwk", &self.public_jwk)
            .finish()
    }
}

/// Generates a new key pair: RSA 2048 for RS256, P-256 for ES256, Ed25519 for EdDSA.
///
/// RSA generation takes from tens to hundreds of milliseconds: async callers run it in
/// `spawn_blocking`. The randomness comes from aws-lc's DRBG, seeded by the operating system.
///
/// # Errors
/// [`CryptoError::KeyGeneration`] if the crypto library fails (it does not in practice).
pub fn generate(alg: Algorithm) -> Result<GeneratedKey, CryptoError> {
    let failed = |reason: &str| CryptoError::KeyGeneration {
        alg: alg.as_str(),
        reason: reason.to_owned(),
    };
    let private_der = match alg {
        Algorithm::RS256 => RsaKeyPair::generate(KeySize::Rsa2048)
            .and_then(|pair| pair.as_der())
            .map(|der| der.as_ref().to_vec())
            .map_err(|_| failed("RSA-2048 generation or PKCS#8 encoding failed"))?,
        Algorithm::ES256 => {
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
                .map(|doc| doc.as_ref().to_vec())
                .map_err(|_| failed("P-256 generation failed"))?
        }
        Algorithm::EdDSA => Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
            .map(|doc| doc.as_ref().to_vec())
            .map_err(|_| failed("Ed25519 generation failed"))?,
    };
    // Parsing the DER we just produced proves that it reads back, and gives the public half.
    let pair = Pair::from_pkcs8(alg, &private_der).map_err(|reason| failed(&reason))?;
    let params = pair.public_params().map_err(|reason| failed(&reason))?;
    let kid = params.thumbprint();
    let public_jwk = params.to_jwk(&kid, alg);
    Ok(GeneratedKey {
        kid,
        alg,
        private_der,
        public_jwk,
    })
}

/// A parsed private key of one algorithm.
enum Pair {
    Rsa(RsaKeyPair),
    P256(EcdsaKeyPair),
    Ed25519(Ed25519KeyPair),
}

impl Pair {
    /// Parses PKCS#8 DER as a key of `alg`; the error is a reason from the crypto library.
    fn from_pkcs8(alg: Algorithm, der: &[u8]) -> Result<Self, String> {
        match alg {
            Algorithm::RS256 => {
                let pair = RsaKeyPair::from_pkcs8(der).map_err(|e| e.to_string())?;
                // RFC 7518 §3.3: RS256 keys are at least 2048 bits.
                if pair.public_modulus_len() * 8 < MIN_RSA_BITS {
                    return Err(format!(
                        "RSA modulus is {} bits; at least {MIN_RSA_BITS} are required",
                        pair.public_modulus_len() * 8
                    ));
                }
                Ok(Pair::Rsa(pair))
            }
            Algorithm::ES256 => EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der)
                .map(Pair::P256)
                .map_err(|e| e.to_string()),
            Algorithm::EdDSA => Ed25519KeyPair::from_pkcs8(der)
                .map(Pair::Ed25519)
                .map_err(|e| e.to_string()),
        }
    }

    /// The public half; the error is a reason (only for an impossible EC point encoding).
    fn public_params(&self) -> Result<PublicParams, String> {
        match self {
            Pair::Rsa(pair) => {
                let components = PublicKeyComponents::<Vec<u8>>::from(pair.public_key());
                Ok(PublicParams::Rsa {
                    n: components.n,
                    e: components.e,
                })
            }
            // SEC 1 uncompressed point: 0x04 ‖ x (32 bytes) ‖ y (32 bytes).
            Pair::P256(pair) => match pair.public_key().as_ref() {
                [0x04, coordinates @ ..] if coordinates.len() == 64 => {
                    let (x, y) = coordinates.split_at(32);
                    Ok(PublicParams::P256 {
                        x: x.to_vec(),
                        y: y.to_vec(),
                    })
                }
                _ => Err("P-256 public key is not an uncompressed point".into()),
            },
            Pair::Ed25519(pair) => Ok(PublicParams::Ed25519 {
                x: pair.public_key().as_ref().to_vec(),
            }),
        }
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        match self {
            Pair::Rsa(pair) => {
                let mut signature = vec![0u8; pair.public_modulus_len()];
                pair.sign(
                    &RSA_PKCS1_SHA256,
                    &SystemRandom::new(),
                    message,
                    &mut signature,
                )
                .map_err(|_| CryptoError::Signing("RSA signing failed".into()))?;
                Ok(signature)
            }
            Pair::P256(pair) => pair
                .sign(&SystemRandom::new(), message)
                .map(|sig| sig.as_ref().to_vec())
                .map_err(|_| CryptoError::Signing("ECDSA signing failed".into())),
            Pair::Ed25519(pair) => Ok(pair.sign(message).as_ref().to_vec()),
        }
    }
}

/// A private signing key, parsed once from PKCS#8 and cheap to clone (an `Arc` inside), so a
/// key cache can hand the same parsed key to every request.
#[derive(Clone)]
pub struct SigningKey {
    inner: Arc<SigningInner>,
}

struct SigningInner {
    kid: String,
    alg: Algorithm,
    pair: Pair,
    verifying: VerifyingKey,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.inner.kid)
            .field("alg", &self.inner.alg)
            .finish_non_exhaustive()
    }
}

/// The protected header Clavex writes, in this member order.
#[derive(Serialize)]
struct Header<'a> {
    alg: &'a str,
    typ: &'a str,
    kid: &'a str,
}

impl SigningKey {
    /// Parses a PKCS#8 DER private key (as in [`GeneratedKey::private_der`]) for `alg`, under the
    /// key id `kid` it was stored with.
    ///
    /// # Errors
    /// [`CryptoError::InvalidPrivateKey`] if the DER is not a key of that algorithm (or an RSA
    /// key under 2048 bits).
    pub fn from_pkcs8(
        kid: impl Into<String>,
        alg: Algorithm,
        der: &[u8],
    ) -> Result<Self, CryptoError> {
        let kid = kid.into();
        let rejected = |reason: String| CryptoError::InvalidPrivateKey {
            kid: kid.clone(),
            alg: alg.as_str(),
            reason,
        };
        let pair = Pair::from_pkcs8(alg, der).map_err(rejected)?;
        let params = pair.public_params().map_err(rejected)?;
        let verifying = VerifyingKey::from_params(&kid, alg, &params)?;
        Ok(Self {
            inner: Arc::new(SigningInner {
                kid,
                alg,
                pair,
                verifying,
            }),
        })
    }

    /// The key id written into every token's header.
    #[must_use]
    pub fn kid(&self) -> &str {
        &self.inner.kid
    }

    /// The algorithm this key signs with.
    #[must_use]
    pub fn alg(&self) -> Algorithm {
        self.inner.alg
    }

    /// The public JWK (`kid`, `use: "sig"`, `alg`, key members), for a JWKS.
    #[must_use]
    pub fn public_jwk(&self) -> &Value {
        self.inner.verifying.to_jwk()
    }

    /// The public half, to verify tokens this key signed.
    #[must_use]
    pub fn verifying_key(&self) -> VerifyingKey {
        self.inner.verifying.clone()
    }

    /// Signs `claims` as a compact JWS with header `{"alg", "typ":"JWT", "kid"}`.
    ///
    /// # Errors
    /// [`CryptoError::Signing`] if `claims` is not a JSON object (RFC 7519 §7.2) or the crypto
    /// library fails.
    pub fn sign_jwt(&self, claims: &Value) -> Result<String, CryptoError> {
        self.sign_jwt_typed(claims, "JWT")
    }

    /// Like [`SigningKey::sign_jwt`] with another `typ`, e.g. `"at+jwt"` for RFC 9068 access
    /// tokens (which lets a resource server refuse an ID token presented as an access token).
    ///
    /// # Errors
    /// As [`SigningKey::sign_jwt`].
    pub fn sign_jwt_typed(&self, claims: &Value, typ: &str) -> Result<String, CryptoError> {
        if !claims.is_object() {
            return Err(CryptoError::Signing(
                "JWT claims must be a JSON object".into(),
            ));
        }
        let header = Header {
            alg: self.inner.alg.as_str(),
            typ,
            kid: &self.inner.kid,
        };
        let header = serde_json::to_vec(&header)
            .map_err(|e| CryptoError::Signing(format!("header serialization: {e}")))?;
        let payload = serde_json::to_vec(claims)
            .map_err(|e| CryptoError::Signing(format!("claims serialization: {e}")))?;
        let mut token = b64::encode(header);
        token.push('.');
        token.push_str(&b64::encode(payload));
        let signature = self.sign_raw(token.as_bytes())?;
        token.push('.');
        token.push_str(&b64::encode(signature));
        Ok(token)
    }

    /// The raw signature over `message` (for JWS: the ASCII `header.payload`).
    pub(crate) fn sign_raw(&self, message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        self.inner.pair.sign(message)
    }
}
