//! Password sign-in with throttling. One answer for every wrong credential; an unknown user costs
//! the same Argon2id work as a known one; repeated failures for one login name, one account (under
//! any of its names) or one address are refused for a while that grows but is capped, so nobody
//! can lock a user out for good.

use clavex_crypto::password;
use clavex_store::{Event, Org, User, normalize_login};

use crate::{Core, CoreError, CoreResult};

/// Failures counted within this window.
pub const WINDOW_SECONDS: i64 = 15 * 60;
/// Failures for one login name before it is refused for a while.
pub const LOGIN_FAILURES_BEFORE_LOCK: i64 = 5;
/// Failures from one address before it is refused for a while.
pub const ADDRESS_FAILURES_BEFORE_LOCK: i64 = 20;
/// The longest a login name is refused.
pub const MAX_LOCK_SECONDS: i64 = 15 * 60;
/// How long an address is refused.
pub const ADDRESS_LOCK_SECONDS: i64 = 5 * 60;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignInOutcome {
    Success(Box<User>),
    /// Wrong username, wrong password, disabled user or no password: indistinguishable.
    BadCredentials,
    /// Too many recent failures; retry after this many seconds.
    Throttled {
        retry_after: i64,
    },
}

fn login_key(org: &Org, login: &str) -> String {
    format!("login:{}:{}", org.id, normalize_login(login))
}

/// The account a login name resolves to, so that its username and email (in any case) share
/// one counter. An unknown name gets a counter of its own under the same number of lookups, so
/// the work done does not tell whether the account exists.
fn account_key(org: &Org, user: Option<&User>, login: &str) -> String {
    match user {
        Some(u) => format!("account:{}:{}", org.id, u.id),
        None => format!("account:{}:?{}", org.id, normalize_login(login)),
    }
}

/// The audit target for a login name that names no account: a short hash that groups repeated
/// attempts, never the typed text (people type passwords into the username box).
fn login_target(login: &str) -> String {
    format!(
        "login:{}",
        &clavex_crypto::secret::hash_token(&normalize_login(login))[..16]
    )
}

/// A lock placed on a throttle counter.
#[derive(Debug, Clone, Copy)]
struct Lock {
    until: i64,
    failures: i64,
}

#[derive(Default)]
struct ThrottleCheck {
    retry_after: Option<i64>,
    /// The keys that have a counter.
    counted: Vec<String>,
}

fn address_key(org: &Org, ip: &str) -> String {
    format!("ip:{}:{ip}", org.id)
}

impl Core {
    pub async fn sign_in(
        &self,
        org: &Org,
        login: &str,
        password_attempt: &str,
        source_ip: Option<&str>,
    ) -> CoreResult<SignInOutcome> {
        let now = self.now();
        let user = if login.is_empty() || login.len() > 256 {
            None
        } else {
            self.store
                .find_user_by_login(&org.id, &normalize_login(login))
                .await?
        };
        // Per login name and per account (the user's), then per address.
        let account_keys = [
            login_key(org, login),
            account_key(org, user.as_ref(), login),
        ];
        let address = source_ip.map(|ip| address_key(org, ip));
        let keys: Vec<&String> = account_keys.iter().chain(address.iter()).collect();
        if let Some(retry_after) = self.locked_for(&keys, now).await?.retry_after {
            return self.throttled(org, login, source_ip, retry_after).await;
        }
        // Verification, the lock check before it and the failure count after it all happen
        // while holding an Argon2id slot: parallel guesses queue here and each one sees the
        // failures counted before it, so at most one slot's worth pass the limit per node.
        let permit = self.password_slot("verify").await?;
        let check = self.locked_for(&keys, self.now()).await?;
        if let Some(retry_after) = check.retry_after {
            return self.throttled(org, login, source_ip, retry_after).await;
        }
        // The slot comes back with the answer and is held while the failure is counted.
        let (verified, _permit) = self
            .check_password(user.as_ref(), password_attempt, permit)
            .await?;
        match (verified, user) {
            (true, Some(user)) => {
                // Only counters that exist: a delete is a write, and most sign-ins have none.
                for key in account_keys.iter().filter(|k| check.counted.contains(k)) {
                    self.store.clear_throttle(key).await?;
                }
                self.metrics.signin("success", &org.slug);
                Ok(SignInOutcome::Success(Box::new(user)))
            }
            (_, user) => {
                let mut locks = Vec::new();
                for key in &account_keys {
                    let lock = self
                        .count_failure(org, key, LOGIN_FAILURES_BEFORE_LOCK, now, |n| {
                            // 1, 2, 4, 8 ... minutes, capped.
                            let exp = (n - LOGIN_FAILURES_BEFORE_LOCK).clamp(0, 10) as u32;
                            (60_i64 << exp).min(MAX_LOCK_SECONDS)
                        })
                        .await?;
                    locks.extend(lock.map(|l| ("account", l)));
                }
                if let Some(key) = &address {
                    let lock = self
                        .count_failure(org, key, ADDRESS_FAILURES_BEFORE_LOCK, now, |_| {
                            ADDRESS_LOCK_SECONDS
                        })
                        .await?;
                    locks.extend(lock.map(|l| ("address", l)));
                }
                self.record_signin_failure(org, login, user.as_ref(), source_ip, "bad_credentials")
                    .await?;
                // The two account counters lock together; one event says so. The longest
                // lock is the one that matters to whoever reads the trail.
                let account = locks
                    .iter()
                    .filter(|(scope, _)| *scope == "account")
                    .max_by_key(|(_, l)| l.until)
                    .copied();
                let address = locks.iter().find(|(scope, _)| *scope == "address").copied();
                for (scope, lock) in account.into_iter().chain(address) {
                    self.record_lockout(org, login, user.as_ref(), source_ip, scope, lock)
                        .await?;
                }
                self.metrics.signin("bad_credentials", &org.slug);
                Ok(SignInOutcome::BadCredentials)
            }
        }
    }

    /// Which of `keys` have failures counted, and the seconds until the longest lock among them
    /// ends, if any is locked.
    async fn locked_for(&self, keys: &[&String], now: i64) -> CoreResult<ThrottleCheck> {
        let mut check = ThrottleCheck::default();
        for key in keys {
            if let Some(state) = self.store.get_throttle(key).await? {
                if state.locked_until > now {
                    check.retry_after = check.retry_after.max(Some(state.locked_until - now));
                }
                check.counted.push((*key).clone());
            }
        }
        Ok(check)
    }

    async fn throttled(
        &self,
        org: &Org,
        login: &str,
        source_ip: Option<&str>,
        retry_after: i64,
    ) -> CoreResult<SignInOutcome> {
        self.record_signin_failure(org, login, None, source_ip, "throttled")
            .await?;
        self.metrics.signin("throttled", &org.slug);
        Ok(SignInOutcome::Throttled { retry_after })
    }

    /// Verifies on the blocking pool, holding the Argon2id slot `permit` there (so that it stays
    /// taken while the hash runs, even if the request is dropped) and handing it back. Without a
    /// usable hash, verifies against a dummy so that the answer takes as long.
    async fn check_password(
        &self,
        user: Option<&User>,
        attempt: &str,
        permit: tokio::sync::OwnedSemaphorePermit,
    ) -> CoreResult<(bool, tokio::sync::OwnedSemaphorePermit)> {
        let hash = user
            .filter(|u| !u.disabled)
            .and_then(|u| u.password_hash.clone());
        let attempt = attempt.to_string();
        tokio::task::spawn_blocking(move || {
            let verified = match hash {
                Some(hash) => password::verify_password(&attempt, &hash).unwrap_or(false),
                None => {
                    password::dummy_verify(&attempt);
                    false
                }
            };
            (verified, permit)
        })
        .await
        .map_err(|e| CoreError::Internal(format!("password task failed: {e}")))
    }

    /// Counts a failure under `key`; returns the lock it placed, if the count reached
    /// `threshold`.
    async fn count_failure(
        &self,
        org: &Org,
        key: &str,
        threshold: i64,
        now: i64,
        lock_for: impl Fn(i64) -> i64,
    ) -> CoreResult<Option<Lock>> {
        let state = self
            .store
            .bump_throttle(key, &org.id, now, WINDOW_SECONDS)
            .await?;
        if state.failures < threshold {
            return Ok(None);
        }
        let until = now + lock_for(state.failures);
        self.store.lock_throttle(key, until).await?;
        Ok(Some(Lock {
            until,
            failures: state.failures,
        }))
    }

    /// `signin.locked`: further attempts for this account (or from this address) are refused
    /// until `lock.until`, whatever the password.
    async fn record_lockout(
        &self,
        org: &Org,
        login: &str,
        user: Option<&User>,
        source_ip: Option<&str>,
        scope: &str,
        lock: Lock,
    ) -> CoreResult<()> {
        let target = match (scope, user, source_ip) {
            ("address", _, Some(ip)) => format!("address:{ip}"),
            (_, Some(u), _) => u.id.clone(),
            _ => login_target(login),
        };
        let event = Event {
            id: crate::new_id(),
            org_id: Some(org.id.clone()),
            time: self.now(),
            kind: "signin.locked".into(),
            actor: "anonymous".into(),
            target,
            outcome: "failure".into(),
            source_ip: source_ip.map(str::to_string),
            details: serde_json::json!({
                "scope": scope,
                "failures": lock.failures,
                "locked_until": crate::views::rfc3339(lock.until),
            }),
        };
        self.store.append_event(&event).await?;
        Ok(())
    }

    async fn record_signin_failure(
        &self,
        org: &Org,
        login: &str,
        user: Option<&User>,
        source_ip: Option<&str>,
        reason: &str,
    ) -> CoreResult<()> {
        // Never the typed text itself: people type passwords into the username box. The user's
        // id when it names one, else a short hash that still groups repeated attempts.
        let target = match user {
            Some(u) => u.id.clone(),
            None => login_target(login),
        };
        let event = Event {
            id: crate::new_id(),
            org_id: Some(org.id.clone()),
            time: self.now(),
            kind: "signin.failed".into(),
            actor: "anonymous".into(),
            target,
            outcome: "failure".into(),
            source_ip: source_ip.map(str::to_string),
            details: serde_json::json!({ "reason": reason }),
        };
        self.store.append_event(&event).await?;
        Ok(())
    }
}
