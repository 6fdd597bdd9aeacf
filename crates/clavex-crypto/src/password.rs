//! Password hashing: Argon2id, m = 19456 KiB, t = 2, p = 1 (OWASP's first recommended setting),
//! stored as a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`).
//!
//! Every function here is deliberately slow (~15 ms and 19 MiB of memory per call): async callers
//! must run them in `tokio::task::spawn_blocking`, behind a semaphore sized to the cores and a rate
//! limit, never on the runtime's worker threads. Must never log, echo or return a password, and
//! must never let "no such user" be faster than "wrong password" (see [`dummy_verify`]).

use std::sync::{Mutex, OnceLock};

use argon2::password_hash::phc::{Output, ParamsString, Salt};
use argon2::{Algorithm, Argon2, Block, Params, PasswordHash, Version};

use crate::CryptoError;

/// Memory cost in KiB (19 MiB).
pub const M_COST_KIB: u32 = 19_456;
/// Number of passes.
pub const T_COST: u32 = 2;
/// Degree of parallelism.
pub const P_COST: u32 = 1;

/// Largest memory cost a stored hash may ask for (256 MiB). Verification takes its parameters
/// from the stored string, so without a ceiling one corrupted or planted row could make each
/// sign-in attempt allocate gigabytes.
const MAX_M_COST_KIB: u32 = 256 * 1024;
/// Largest pass count a stored hash may ask for, for the same reason.
const MAX_T_COST: u32 = 16;
/// Largest parallelism a stored hash may ask for (lanes run sequentially here).
const MAX_P_COST: u32 = 8;

/// The hasher with Clavex's parameters.
fn hasher() -> Result<Argon2<'static>, CryptoError> {
    let params = Params::new(M_COST_KIB, T_COST, P_COST, None)
        .map_err(|e| CryptoError::PasswordHash(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Working memory of the current parameters (19 MiB), kept for the next hash instead of being
/// freed. Allocating it afresh on whichever blocking thread runs a hash made glibc keep the freed
/// blocks in per-thread arenas: RSS climbed to about 300 MB under sign-in load and stayed there.
/// Reused, it is one buffer per concurrent hash (callers bound those to the cores), for good.
static MEMORY: Mutex<Vec<Vec<Block>>> = Mutex::new(Vec::new());

/// Runs `f` with `blocks` blocks of memory: a pooled buffer for the current parameters, a
/// temporary one for others (old hashes being verified).
fn with_memory<R>(blocks: usize, f: impl FnOnce(&mut [Block]) -> R) -> R {
    let pooled = blocks == M_COST_KIB as usize;
    let reused = if pooled {
        // A poisoned lock still guards a valid list of buffers.
        MEMORY
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .pop()
    } else {
        None
    };
    let mut memory = reused.unwrap_or_else(|| vec![Block::new(); blocks]);
    let result = f(&mut memory);
    if pooled {
        let mut pool = MEMORY
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // More than one per core only if callers skip the semaphore; keep no more than that.
        let cap = std::thread::available_parallelism().map_or(2, |n| n.get());
        if pool.len() < cap {
            pool.push(memory);
        }
    }
    result
}

/// Argon2 of `password` and `salt` into `out`, in pooled memory.
fn hash_into(
    argon2: &Argon2<'_>,
    params: &Params,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> Result<(), argon2::Error> {
    with_memory(params.block_count(), |memory| {
        argon2.hash_password_into_with_memory(password, salt, out, memory)
    })
}

/// Hashes `password` with a fresh random salt into a PHC string. Blocking (~15 ms).
///
/// # Errors
/// [`CryptoError::PasswordHash`] if the OS random source fails or the password is absurdly long
/// (over 4 GiB); neither happens in practice.
pub fn hash_password(password: &str) -> Result<String, CryptoError> {
    let failed = |e: &dyn std::fmt::Display| CryptoError::PasswordHash(e.to_string());
    let argon2 = hasher()?;
    let salt = argon2::password_hash::try_generate_salt().map_err(|e| failed(&e))?;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    hash_into(
        &argon2,
        argon2.params(),
        password.as_bytes(),
        &salt,
        &mut out,
    )
    .map_err(|e| failed(&e))?;
    let hash = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(argon2.params()).map_err(|e| failed(&e))?,
        salt: Some(Salt::new(&salt).map_err(|e| failed(&e))?),
        hash: Some(Output::new(&out).map_err(|e| failed(&e))?),
    };
    Ok(hash.to_string())
}

/// Checks `password` against a stored PHC string. Blocking (~15 ms).
///
/// The parameters come from the stored string, so hashes made with older parameters keep
/// verifying (see [`needs_rehash`] to upgrade them after a successful sign-in).
///
/// # Errors
/// A wrong password is `Ok(false)`. A stored value that is not a parseable Argon2 PHC string, or
/// that asks for more than 256 MiB / 16 passes / 8 lanes, is
/// [`CryptoError::MalformedPasswordHash`]: that is a data problem to report, not a failed sign-in.
pub fn verify_password(password: &str, phc: &str) -> Result<bool, CryptoError> {
    let malformed = |e: &dyn std::fmt::Display| CryptoError::MalformedPasswordHash(e.to_string());
    let parsed = parse_bounded(phc)?;
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
        return Err(malformed(&"no salt or no hash"));
    };
    let algorithm = Algorithm::new(parsed.algorithm.as_str()).map_err(|e| malformed(&e))?;
    let version = parsed
        .version
        .map(Version::try_from)
        .transpose()
        .map_err(|e| malformed(&e))?
        .unwrap_or_default();
    // The parameters, output length included, come from the stored string.
    let params = Params::try_from(&parsed).map_err(|e| malformed(&e))?;
    let argon2 = Argon2::new(algorithm, version, params.clone());
    let mut out = vec![0u8; expected.len()];
    hash_into(&argon2, &params, password.as_bytes(), salt, &mut out).map_err(|e| malformed(&e))?;
    let computed = Output::new(&out).map_err(|e| malformed(&e))?;
    // `Output`'s equality is constant-time.
    Ok(computed == *expected)
}

/// Whether a stored hash (already verified) was made with other than the current algorithm and
/// parameters, so the caller should store a fresh [`hash_password`] of the password it just
/// checked. A malformed value also answers `true`.
#[must_use]
pub fn needs_rehash(phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return true;
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return true;
    };
    parsed.algorithm != Algorithm::Argon2id.ident()
        || parsed.version != Some(Version::V0x13.into())
        || params.m_cost() != M_COST_KIB
        || params.t_cost() != T_COST
        || params.p_cost() != P_COST
}

/// Spends the same time and memory as a [`verify_password`] call, against a fixed hash of the
/// current parameters, and discards the answer.
///
/// Call it when the username is unknown (or the account has no password) so that the response
/// time does not reveal which accounts exist. The reference hash is computed once per process,
/// on first use; if even that fails, the hasher is broken and real sign-ins fail too, so nothing
/// more is lost by returning early.
pub fn dummy_verify(password: &str) {
    static DUMMY_HASH: OnceLock<Option<String>> = OnceLock::new();
    let stored = DUMMY_HASH.get_or_init(|| hash_password("clavex-dummy-password").ok());
    if let Some(stored) = stored {
        // The result is meaningless by design; `black_box` keeps the optimiser from reasoning
        // about it.
        let _ = std::hint::black_box(verify_password(password, stored));
    }
}

/// Parses a PHC string and refuses parameters beyond the ceilings above.
fn parse_bounded(phc: &str) -> Result<PasswordHash, CryptoError> {
    let parsed = PasswordHash::new(phc)
        .map_err(|e| CryptoError::MalformedPasswordHash(format!("not a PHC string ({e})")))?;
    if Algorithm::new(parsed.algorithm.as_str()).is_err() {
        return Err(CryptoError::MalformedPasswordHash(format!(
            "algorithm {:?} is not Argon2",
            parsed.algorithm.as_str()
        )));
    }
    let params = Params::try_from(&parsed)
        .map_err(|e| CryptoError::MalformedPasswordHash(format!("bad Argon2 parameters ({e})")))?;
    if params.m_cost() > MAX_M_COST_KIB
        || params.t_cost() > MAX_T_COST
        || params.p_cost() > MAX_P_COST
    {
        return Err(CryptoError::MalformedPasswordHash(format!(
            "Argon2 parameters m={},t={},p={} exceed the allowed maximum m={MAX_M_COST_KIB},t={MAX_T_COST},p={MAX_P_COST}",
            params.m_cost(),
            params.t_cost(),
            params.p_cost()
        )));
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Argon2 is slow in debug builds: one hash is shared by the checks below.
    #[test]
    fn hash_then_verify_right_and_wrong_password() -> Result<(), CryptoError> {
        let phc = hash_password("correct horse battery staple")?;
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(!needs_rehash(&phc));
        assert!(verify_password("correct horse battery staple", &phc)?);
        assert!(!verify_password("correct horse battery stapler", &phc)?);
        assert_ne!(
            hash_password("correct horse battery staple")?,
            phc,
            "salted"
        );
        dummy_verify("anything"); // must neither panic nor return early on a working hasher
        Ok(())
    }

    /// Hashes made here verify with the argon2 crate's own verifier, and hashes it made (with
    /// other parameters, as an older version might have) verify here: the PHC strings are the
    /// standard ones, whatever memory the hashing ran in.
    #[test]
    fn interoperates_with_the_reference_implementation() -> Result<(), CryptoError> {
        use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
        let ours = hash_password("tr0ub4dor&3")?;
        let parsed =
            PasswordHash::new(&ours).map_err(|e| CryptoError::PasswordHash(e.to_string()))?;
        assert!(
            Argon2::default()
                .verify_password(b"tr0ub4dor&3", &parsed)
                .is_ok()
        );
        assert!(
            Argon2::default()
                .verify_password(b"tr0ub4dor&4", &parsed)
                .is_err()
        );

        let params =
            Params::new(4096, 3, 1, None).map_err(|e| CryptoError::PasswordHash(e.to_string()))?;
        let theirs = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password(b"older parameters")
            .map_err(|e| CryptoError::PasswordHash(e.to_string()))?
            .to_string();
        assert!(
            theirs.starts_with("$argon2id$v=19$m=4096,t=3,p=1$"),
            "{theirs}"
        );
        assert!(verify_password("older parameters", &theirs)?);
        assert!(!verify_password("older parameter", &theirs)?);
        assert!(needs_rehash(&theirs));
        // Twice in a row on the pooled buffer: a reused buffer gives the same answers.
        assert!(verify_password("tr0ub4dor&3", &ours)?);
        assert!(verify_password("tr0ub4dor&3", &ours)?);
        assert!(!verify_password("tr0ub4dor&33", &ours)?);
        Ok(())
    }

    #[test]
    fn malformed_stored_hash_is_an_error() {
        for bad in [
            "",
            "not a hash",
            "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",
            "$argon2id$v=19$m=19456,t=2,p=1$",
        ] {
            assert!(
                matches!(
                    verify_password("x", bad),
                    Err(CryptoError::MalformedPasswordHash(_))
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn oversized_parameters_are_refused_before_hashing() {
        let huge = "$argon2id$v=19$m=4194304,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$\
                    AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        let err = verify_password("x", huge).err();
        assert!(
            matches!(&err, Some(CryptoError::MalformedPasswordHash(m)) if m.contains("exceed")),
            "{err:?}"
        );
        assert!(needs_rehash(
            "$argon2id$v=19$m=4096,t=3,p=1$c29tZXNhbHQ$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
        ));
    }
}
