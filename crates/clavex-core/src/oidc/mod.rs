//! The OpenID Provider: authorization requests, sign-in, sessions, the token grants, claims,
//! userinfo, revocation, introspection, logout, discovery and keys. Protocol rules live here; the
//! web layer only parses HTTP and renders what these functions decide.

pub mod authorize;
pub mod claims;
pub mod client_auth;
pub mod discovery;
mod error;
pub mod introspect;
pub mod keyring;
pub mod logout;
pub mod session;
pub mod signin;
pub mod token;
pub mod tokens;

pub use error::OAuthError;

/// How long an authorization code lives.
pub const CODE_TTL_SECONDS: i64 = 60;
/// How long a pending authorization request waits for the user to sign in.
pub const AUTH_REQUEST_TTL_SECONDS: i64 = 30 * 60;

/// Splits a space-separated scope string into its tokens (empty tokens dropped).
pub fn split_scope(scope: &str) -> Vec<String> {
    scope
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}
