//! The one error type of this crate.
//!
//! Messages say what was wrong and where, so that an operator can act on them. They must never
//! carry secret material: no key bytes, no passwords, no token values, no plaintext.

use thiserror::Error;

/// Everything that can go wrong in `clavex-crypto`.
///
/// Token verification failures are deliberately split into kinds (bad format, refused algorithm,
/// unknown key, bad signature) so that callers can log *why* a token was refused; none of them
/// should be shown to the presenter of the token in more detail than "invalid token".
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CryptoError {
    /// `CLAVEX_MASTER_KEY` (or the key file) does not hold a usable key.
    #[error("invalid master key: {0}")]
    InvalidMasterKey(String),

    /// A sealed blob is not in the `v1.<base64url>` format (it was cut, or is not a sealed value).
    #[error("malformed sealed value: {0}")]
    MalformedSealed(String),

    /// Authenticated decryption failed: wrong master key, a blob bound to another row (aad), or a
    /// tampered blob. AES-GCM cannot tell these apart, and must not.
    #[error(
        "sealed value could not be opened: wrong master key, sealed for another record, or altered"
    )]
    OpenFailed,

    /// Encryption or random generation failed inside the crypto library (should not happen).
    #[error("sealing failed: {0}")]
    SealFailed(String),

    /// Hashing a password failed (should not happen with valid parameters).
    #[error("password hashing failed: {0}")]
    PasswordHash(String),

    /// A stored password hash is not a PHC string this crate can verify.
    #[error("stored password hash is malformed or unsupported: {0}")]
    MalformedPasswordHash(String),

    /// An algorithm name is not one of those Clavex signs with.
    #[error("unsupported signing algorithm {0:?}; accepted values are RS256, ES256, EdDSA")]
    UnknownAlgorithm(String),

    /// Key generation failed inside the crypto library (should not happen).
    #[error("{alg} key generation failed: {reason}")]
    KeyGeneration {
        /// Algorithm whose key was being generated.
        alg: &'static str,
        /// Why, as the crypto library put it.
        reason: String,
    },

    /// A stored private key could not be parsed as the PKCS#8 key of its algorithm.
    #[error("{alg} private key (kid {kid:?}) rejected: {reason}")]
    InvalidPrivateKey {
        /// Key id of the rejected key (public, safe to log).
        kid: String,
        /// Algorithm the key was declared with.
        alg: &'static str,
        /// Why, as the crypto library put it.
        reason: String,
    },

    /// A JWK is missing members, has members of the wrong shape, or is not a key Clavex verifies.
    #[error("invalid JWK: {0}")]
    InvalidJwk(String),

    /// Producing a signature failed (should not happen with a parsed key).
    #[error("signing failed: {0}")]
    Signing(String),

    /// A token is not a well-formed compact JWS carrying a JSON object.
    #[error("malformed token: {0}")]
    MalformedToken(String),

    /// The token's `alg` is `none`, unknown, or not the algorithm of the key it names.
    #[error("token algorithm refused: {0}")]
    AlgorithmRefused(String),

    /// The token names no key (`kid` absent) or one that is not among the trusted keys.
    #[error("no trusted key for token: {0}")]
    UnknownKey(String),

    /// The signature does not verify under the key the token names.
    #[error("token signature is invalid")]
    InvalidSignature,
}
