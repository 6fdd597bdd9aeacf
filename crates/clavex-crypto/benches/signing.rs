//! ID-token signing and verification per algorithm (`cargo bench -p clavex-crypto --bench signing`).
//!
//! The claims are those `clavex-core` puts into an ID token after a sign-in with
//! `openid profile email groups` (see `oidc/tokens.rs` `mint_id_token` and `oidc/claims.rs`), so
//! each iteration pays what the token endpoint pays: serializing the header and claims, base64url
//! and the signature. Keys are parsed once, as the server's key ring does.

#![expect(
    clippy::expect_used,
    reason = "a benchmark whose fixture cannot be built has nothing to measure"
)]

use std::hint::black_box;

use clavex_crypto::signing::{self, Algorithm, SigningKey};
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::{Value, json};

/// An ID token's claims as Clavex mints them, with realistic values.
fn id_token_claims(alg: Algorithm) -> Value {
    let now = 1_800_000_000_i64;
    let access_token = "eyJhbGciOiJSUzI1NiIsInR5cCI6ImF0K2p3dCIsImtpZCI6ImsxIn0.e30.c2ln";
    json!({
        "sub": "5fa1de1b-5a0a-480f-8ffe-c3beecc9f752",
        "name": "Ada Martin",
        "preferred_username": "ada.martin",
        "updated_at": now - 86_400,
        "given_name": "Ada",
        "family_name": "Martin",
        "email": "ada.martin@example.com",
        "email_verified": true,
        "groups": ["grafana-admins", "staff"],
        "org_id": ["acme"],
        "iss": "https://id.example.com/acme",
        "aud": "grafana",
        "azp": "grafana",
        "iat": now,
        "exp": now + 3_600,
        "auth_time": now - 5,
        "nonce": "n-0S6_WzA2Mj",
        "sid": "Xh3G7cQ1l8u4VbA0pZ2sDw",
        "at_hash": signing::at_hash(access_token, alg),
    })
}

fn key(alg: Algorithm) -> SigningKey {
    let generated = signing::generate(alg).expect("generate a key");
    SigningKey::from_pkcs8(generated.kid, alg, &generated.private_der).expect("parse the key")
}

fn signing(c: &mut Criterion) {
    let mut group = c.benchmark_group("id_token");
    for alg in Algorithm::ALL {
        let key = key(alg);
        let claims = id_token_claims(alg);
        group.bench_function(format!("sign/{alg}"), |b| {
            b.iter(|| key.sign_jwt(black_box(&claims)).expect("sign"));
        });
        let token = key.sign_jwt(&claims).expect("sign");
        let verifying = [key.verifying_key()];
        group.bench_function(format!("verify/{alg}"), |b| {
            b.iter(|| signing::verify_jwt(black_box(&token), &verifying).expect("verify"));
        });
    }
    group.finish();
}

criterion_group!(benches, signing);
criterion_main!(benches);
