//! High-entropy secrets that Clavex generates itself: client secrets (`cs_…`), admin API tokens,
//! refresh tokens, authorization codes, session ids.
//!
//! Holds generation, storage hashing and constant-time checking. Must never be used for
//! secrets a *person* chose (passwords, and any operator-chosen token): those need the slow,
//! salted hash in [`crate::password`], because a fast hash of a guessable value can be brute-forced
//! from a stolen database.

use rand::RngCore as _;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

use crate::b64;

/// Random bytes in each generated token: 256 bits, far past any brute-force or birthday bound.
const TOKEN_BYTES: usize = 32;

/// Returns `prefix` followed by base64url (no padding) of 32 bytes from a CSPRNG, e.g.
/// `generate_token("cs_")` → `cs_` + 43 characters.
///
/// The prefix makes a leaked value recognisable (secret scanners, support tickets) and is not
/// secret. The random part uses the thread-local ChaCha-based CSPRNG of `rand`, seeded and
/// periodically reseeded from the operating system.
#[must_use]
pub fn generate_token(prefix: &str) -> String {
    let mut bytes = [0u8; TOKEN_BYTES];
    rand::rng().fill_bytes(&mut bytes);
    let mut token = String::with_capacity(prefix.len() + 43);
    token.push_str(prefix);
    token.push_str(&b64::encode(bytes));
    token
}

/// The storage form of a generated token: lowercase hex of its SHA-256 (64 characters).
///
/// Why not Argon2: a token from [`generate_token`] carries 256 random bits, so no dictionary or
/// brute force can invert a single SHA-256 of it, and a salt adds nothing when every input is
/// already unique. A fast, *deterministic* hash is also what lets the database look a token up by
/// its hash (a unique index) instead of trying every row. Only feed this values with at least
/// 128 bits of entropy; anything a human picked goes through [`crate::password`].
#[must_use]
pub fn hash_token(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// Whether `token` hashes to `stored_hash` (as produced by [`hash_token`]).
///
/// The comparison is constant-time in the content of the hashes, so response timing reveals
/// nothing about how much of a guess matched. Any malformed stored value is simply `false`.
#[must_use]
pub fn verify_token_hash(token: &str, stored_hash: &str) -> bool {
    let computed = hash_token(token);
    // `ct_eq` on slices of different lengths returns false without looking at the content; the
    // length of a hash is public anyway.
    computed.as_bytes().ct_eq(stored_hash.as_bytes()).into()
}

/// Lowercase hex; small enough not to warrant a dependency.
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_has_prefix_and_256_random_bits() {
        let token = generate_token("cs_");
        let body = token.strip_prefix("cs_").unwrap_or_default();
        assert_eq!(body.len(), 43, "32 bytes are 43 base64url characters");
        assert_eq!(b64::decode(body).map(|b| b.len()), Some(32));
        assert_ne!(generate_token("cs_"), token, "two tokens must differ");
    }

    #[test]
    fn hash_is_sha256_hex() {
        // SHA-256("abc"), FIPS 180-2 appendix B.1.
        assert_eq!(
            hash_token("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn verify_accepts_own_hash_and_refuses_others() {
        let token = generate_token("rt_");
        let stored = hash_token(&token);
        assert!(verify_token_hash(&token, &stored));
        assert!(!verify_token_hash(&generate_token("rt_"), &stored));
        assert!(!verify_token_hash(&token, &stored.to_uppercase()));
        assert!(!verify_token_hash(&token, ""));
        assert!(!verify_token_hash(&token, &stored[..63]));
    }
}

/// A keyed MAC (HMAC-SHA-256) of `message` under `key`, as base64url. Used for values the server
/// must recognise as its own without storing them, such as CSRF tokens bound to a cookie.
#[must_use]
pub fn mac(key: &[u8; 32], message: &[u8]) -> String {
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, key);
    b64::encode(aws_lc_rs::hmac::sign(&key, message).as_ref())
}

/// Checks a `mac` in constant time.
#[must_use]
pub fn verify_mac(key: &[u8; 32], message: &[u8], presented: &str) -> bool {
    mac(key, message)
        .as_bytes()
        .ct_eq(presented.as_bytes())
        .into()
}

#[cfg(test)]
mod mac_tests {
    use super::*;

    #[test]
    fn mac_verifies_only_its_own_message_and_key() {
        let key = [7u8; 32];
        let tag = mac(&key, b"cookie|request");
        assert!(verify_mac(&key, b"cookie|request", &tag));
        assert!(!verify_mac(&key, b"cookie|other", &tag));
        assert!(!verify_mac(&[8u8; 32], b"cookie|request", &tag));
    }
}
