//! The installation's master key (`CLAVEX_MASTER_KEY`) and AES-256-GCM sealing under it.
//!
//! Holds parsing, generation and seal/open of small secrets at rest (private signing keys, cookie
//! keys). Must never reveal the key: no `Debug`/`Display` of its bytes, no key material in error
//! messages, and the base64 form only through the explicit [`MasterKey::to_base64`].

use std::fmt;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use rand::RngCore as _;

use crate::{CryptoError, b64};

/// Length of the key in bytes (AES-256).
pub const MASTER_KEY_LEN: usize = 32;

/// Format marker of sealed values. A future format (another cipher, a key id for master-key
/// rotation) gets a new prefix, and `open` keeps reading the old ones.
const SEALED_PREFIX_V1: &str = "v1.";

/// The 32-byte master key shared by every node of one installation.
///
/// `Clone` is cheap (32 bytes). `Debug` prints `MasterKey(<redacted>)`.
#[derive(Clone)]
pub struct MasterKey {
    bytes: [u8; MASTER_KEY_LEN],
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(<redacted>)")
    }
}

impl MasterKey {
    /// Parses base64 text of exactly 32 bytes, as printed by `openssl rand -base64 32` or by
    /// [`MasterKey::to_base64`].
    ///
    /// Surrounding whitespace (a key file's final newline) is ignored; standard and URL-safe
    /// alphabets, padded or not, are accepted, because operators paste keys from many tools.
    ///
    /// # Errors
    /// [`CryptoError::InvalidMasterKey`] saying whether the text was not base64 or decoded to the
    /// wrong number of bytes. The message never repeats the value.
    pub fn from_base64(text: &str) -> Result<Self, CryptoError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(CryptoError::InvalidMasterKey(
                "it is empty; expected base64 of 32 random bytes (e.g. `openssl rand -base64 32`)"
                    .into(),
            ));
        }
        let decoded = [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD]
            .iter()
            .find_map(|engine| engine.decode(text).ok())
            .ok_or_else(|| {
                CryptoError::InvalidMasterKey(
                    "it is not valid base64; expected base64 of 32 random bytes \
                     (e.g. `openssl rand -base64 32`)"
                        .into(),
                )
            })?;
        let bytes: [u8; MASTER_KEY_LEN] = decoded.as_slice().try_into().map_err(|_| {
            CryptoError::InvalidMasterKey(format!(
                "it decodes to {} bytes; it must be exactly {MASTER_KEY_LEN} \
                 (e.g. `openssl rand -base64 32`)",
                decoded.len()
            ))
        })?;
        Ok(Self { bytes })
    }

    /// A new random key from the operating system's CSPRNG (via `rand`'s reseeding thread RNG).
    #[must_use]
    pub fn generate() -> Self {
        let mut bytes = [0u8; MASTER_KEY_LEN];
        rand::rng().fill_bytes(&mut bytes);
        Self { bytes }
    }

    /// The key as standard padded base64 (44 characters), the form [`MasterKey::from_base64`]
    /// reads. This is the secret itself: write it only to a key file with owner-only permissions.
    #[must_use]
    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.bytes)
    }

    /// A key for one purpose (e.g. `"csrf"`), derived with HMAC-SHA-256 so that a key used for
    /// cookies can never open sealed private keys, and every node derives the same one.
    #[must_use]
    pub fn derive(&self, purpose: &str) -> [u8; 32] {
        let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &self.bytes);
        let tag = aws_lc_rs::hmac::sign(&key, format!("clavex-derive:{purpose}").as_bytes());
        let mut out = [0u8; 32];
        out.copy_from_slice(tag.as_ref());
        out
    }

    /// Encrypts and authenticates `plaintext`, binding it to `aad`, and returns
    /// `v1.` + base64url(nonce ‖ ciphertext ‖ tag).
    ///
    /// `aad` should name the record the value belongs to (e.g. `b"signing_key:<kid>"`): it is not
    /// stored in the blob, and [`MasterKey::open`] succeeds only with the same `aad`, so a sealed
    /// value copied into another row fails to open. Each call draws a fresh random 96-bit nonce;
    /// that is safe for far more than the few thousand values an installation ever seals under one
    /// key (the bound is about 2^32 messages).
    ///
    /// # Errors
    /// [`CryptoError::SealFailed`] if the crypto library fails (it does not in practice).
    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Result<String, CryptoError> {
        let key = self.aead_key()?;
        let mut nonce_bytes = [0u8; NONCE_LEN];
        aws_lc_rs::rand::fill(&mut nonce_bytes)
            .map_err(|_| CryptoError::SealFailed("random nonce generation failed".into()))?;
        let mut in_out = plaintext.to_vec();
        key.seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce_bytes),
            Aad::from(aad),
            &mut in_out,
        )
        .map_err(|_| CryptoError::SealFailed("AES-256-GCM encryption failed".into()))?;
        let mut blob = Vec::with_capacity(NONCE_LEN + in_out.len());
        blob.extend_from_slice(&nonce_bytes);
        blob.extend_from_slice(&in_out);
        Ok(format!("{SEALED_PREFIX_V1}{}", b64::encode(blob)))
    }

    /// Decrypts a value made by [`MasterKey::seal`] with the same key and `aad`.
    ///
    /// # Errors
    /// [`CryptoError::MalformedSealed`] if the text is not a sealed value of a known version;
    /// [`CryptoError::OpenFailed`] if authentication fails (wrong key, wrong `aad`, or altered).
    pub fn open(&self, sealed: &str, aad: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let body = sealed.strip_prefix(SEALED_PREFIX_V1).ok_or_else(|| {
            let version = sealed.split_once('.').map_or("none", |(v, _)| v);
            // A version tag is short and not secret; cap it anyway in case this is not a blob.
            let version: String = version.chars().take(8).collect();
            CryptoError::MalformedSealed(format!(
                "unknown format version {version:?}; this build reads \"v1\""
            ))
        })?;
        let blob = b64::decode(body)
            .ok_or_else(|| CryptoError::MalformedSealed("body is not base64url".into()))?;
        let tag_len = AES_256_GCM.tag_len();
        if blob.len() < NONCE_LEN + tag_len {
            return Err(CryptoError::MalformedSealed(format!(
                "{} bytes is shorter than nonce and tag",
                blob.len()
            )));
        }
        let (nonce, ciphertext) = blob.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce)
            .map_err(|_| CryptoError::MalformedSealed("bad nonce length".into()))?;
        let key = self.aead_key()?;
        let mut in_out = ciphertext.to_vec();
        let plaintext = key
            .open_in_place(nonce, Aad::from(aad), &mut in_out)
            .map_err(|_| CryptoError::OpenFailed)?;
        Ok(plaintext.to_vec())
    }

    /// Builds the AES key; cheap (a key schedule), and keeping only the raw bytes in the struct
    /// keeps `MasterKey` trivially `Clone`.
    fn aead_key(&self) -> Result<LessSafeKey, CryptoError> {
        UnboundKey::new(&AES_256_GCM, &self.bytes)
            .map(LessSafeKey::new)
            .map_err(|_| CryptoError::SealFailed("AES-256-GCM key setup failed".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trip_and_redacted_debug() -> Result<(), CryptoError> {
        let key = MasterKey::generate();
        let text = key.to_base64();
        assert_eq!(text.len(), 44);
        let again = MasterKey::from_base64(&format!("  {text}\n"))?;
        assert_eq!(again.to_base64(), text);
        assert_eq!(format!("{key:?}"), "MasterKey(<redacted>)");
        // URL-safe and unpadded forms of the same bytes are accepted too.
        let url = URL_SAFE_NO_PAD.encode(key.bytes);
        assert_eq!(MasterKey::from_base64(&url)?.to_base64(), text);
        Ok(())
    }

    #[test]
    fn master_key_must_be_32_bytes() {
        let short = STANDARD.encode([7u8; 16]);
        let err = MasterKey::from_base64(&short).err();
        assert!(
            matches!(&err, Some(CryptoError::InvalidMasterKey(m)) if m.contains("16 bytes")),
            "{err:?}"
        );
        let long = STANDARD.encode([7u8; 33]);
        assert!(MasterKey::from_base64(&long).is_err());
        let err = MasterKey::from_base64("not*base64!").err();
        assert!(
            matches!(&err, Some(CryptoError::InvalidMasterKey(m)) if m.contains("not valid base64")),
            "{err:?}"
        );
        assert!(MasterKey::from_base64("   ").is_err());
    }

    #[test]
    fn seal_open_round_trip_with_fresh_nonces() -> Result<(), CryptoError> {
        let key = MasterKey::generate();
        let a = key.seal(b"private key bytes", b"signing_key:abc")?;
        let b = key.seal(b"private key bytes", b"signing_key:abc")?;
        assert!(a.starts_with("v1."));
        assert_ne!(a, b, "each seal uses a fresh nonce");
        assert_eq!(key.open(&a, b"signing_key:abc")?, b"private key bytes");
        assert_eq!(key.open(&b, b"signing_key:abc")?, b"private key bytes");
        assert_eq!(key.open(&key.seal(b"", b"")?, b"")?, b"");
        Ok(())
    }

    #[test]
    fn open_fails_on_wrong_aad_wrong_key_or_tampering() -> Result<(), CryptoError> {
        let key = MasterKey::generate();
        let sealed = key.seal(b"secret", b"row-1")?;
        assert_eq!(key.open(&sealed, b"row-2"), Err(CryptoError::OpenFailed));
        assert_eq!(
            MasterKey::generate().open(&sealed, b"row-1"),
            Err(CryptoError::OpenFailed)
        );

        let mut blob = b64::decode(&sealed[3..]).unwrap_or_default();
        for i in [0, NONCE_LEN, blob.len() - 1] {
            blob[i] ^= 1;
            let tampered = format!("v1.{}", b64::encode(&blob));
            assert_eq!(key.open(&tampered, b"row-1"), Err(CryptoError::OpenFailed));
            blob[i] ^= 1;
        }
        let truncated = &sealed[..sealed.len() - 4];
        assert!(key.open(truncated, b"row-1").is_err());

        assert!(matches!(
            key.open(&sealed.replacen("v1.", "v2.", 1), b"row-1"),
            Err(CryptoError::MalformedSealed(_))
        ));
        assert!(matches!(
            key.open("v1.AAAA", b"row-1"),
            Err(CryptoError::MalformedSealed(_))
        ));
        assert!(matches!(
            key.open("v1.***", b"row-1"),
            Err(CryptoError::MalformedSealed(_))
        ));
        Ok(())
    }
}
