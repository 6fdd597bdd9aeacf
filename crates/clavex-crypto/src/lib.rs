//! Key material, signing (JWS/JWK), sealing under the master key, password and secret hashing.
//!
//! Everything cryptographic in Clavex lives here, so that the rest of the code base never picks
//! algorithms, parameters or encodings itself. This crate must never log, print (`Debug`) or put
//! into an error any secret: keys, passwords, tokens or plaintexts. It has no clock and no I/O:
//! time checks and storage belong to the callers.
//!
//! - [`secret`]: generated high-entropy tokens (`cs_…` client secrets, API tokens, refresh
//!   tokens, codes) and their SHA-256 storage hashes.
//! - [`password`]: Argon2id for passwords (blocking; run in `spawn_blocking`).
//! - [`master_key`]: the installation key and AES-256-GCM sealing of secrets at rest.
//! - [`signing`]: per-org RS256/ES256/EdDSA keys, JWKs, JWT signing and verification, `at_hash`.

mod b64;
mod error;
pub mod master_key;
pub mod password;
pub mod secret;
pub mod signing;

pub use error::CryptoError;
pub use master_key::MasterKey;
pub use signing::{Algorithm, GeneratedKey, SigningKey, VerifyingKey};
