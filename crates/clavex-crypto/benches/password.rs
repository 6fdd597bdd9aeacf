//! Argon2id at Clavex's parameters (m=19456 KiB, t=2, p=1): hashing a new password and verifying
//! a sign-in (`cargo bench -p clavex-crypto --bench password`). One call is ~15 ms, so each
//! sample is one call and criterion takes its minimum of 10 samples.

#![expect(
    clippy::expect_used,
    reason = "a benchmark whose fixture cannot be built has nothing to measure"
)]

use std::hint::black_box;

use clavex_crypto::password;
use criterion::{Criterion, criterion_group, criterion_main};

fn argon2id(c: &mut Criterion) {
    let mut group = c.benchmark_group("argon2id");
    group.sample_size(10);
    let secret = "correct horse battery staple";
    group.bench_function("hash", |b| {
        b.iter(|| password::hash_password(black_box(secret)).expect("hash"));
    });
    let phc = password::hash_password(secret).expect("hash");
    group.bench_function("verify", |b| {
        b.iter(|| {
            let ok = password::verify_password(black_box(secret), &phc).expect("verify");
            assert!(ok, "the right password must verify");
        });
    });
    group.finish();
}

criterion_group!(benches, argon2id);
criterion_main!(benches);
