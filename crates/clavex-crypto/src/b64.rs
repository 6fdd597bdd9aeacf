//! base64url without padding (RFC 7515 §2 "Base64url Encoding"), the only encoding JOSE uses.
//!
//! Decoding is strict (no padding, no stray trailing bits) so that one value has exactly one
//! encoding: a lenient decoder would let an attacker alter a token's text without breaking its
//! signature. Must never decode with a lenient engine.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Encodes bytes as base64url without padding.
pub(crate) fn encode(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes canonical base64url without padding; `None` on anything else.
pub(crate) fn decode(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text).ok()
}
