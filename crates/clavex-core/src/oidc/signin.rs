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

const SIGNINS: &str = "clavex_signins_total";
const SIGNINS_HELP: &str = "Password sign-ins by outcome.";

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
        if let Some(retry_after) = self.locked_for(&keys, now).await? {
            return self.throttled(org, login, source_ip, retry_after).await;
        }
        // Verification, the lock check before it and the failure count after it all happen
        // while holding an Argon2id slot: parallel guesses queue here and each one sees the
        // failures counted before it, so at most one slot's worth pass the limit per node.
        let queued = std::time::Instant::now();
        let _permit = self
            .password_gate
            .acquire()
            .await
            .map_err(|e| CoreError::Internal(format!("password gate closed: {e}")))?;
        self.metrics.observe(
            "clavex_password_queue_wait_seconds",
            "Time a sign-in waited for an Argon2id slot.",
            &[],
            queued.elapsed(),
        );
        if let Some(retry_after) = self.locked_for(&keys, self.now()).await? {
            return self.throttled(org, login, source_ip, retry_after).await;
        }
        let verified = self.check_password(user.as_ref(), password_attempt).await?;
        match (verified, user) {
            (true, Some(user)) => {
                for key in &account_keys {
                    self.store.clear_throttle(key).await?;
                }
                self.metrics
                    .inc(SIGNINS, SIGNINS_HELP, &[("outcome", "success")]);
                Ok(SignInOutcome::Success(Box::new(user)))
            }
            (_, user) => {
                for key in &account_keys {
                    self.count_failure(org, key, LOGIN_FAILURES_BEFORE_LOCK, now, |n| {
                        // 1, 2, 4, 8 ... minutes, capped.
                        let exp = (n - LOGIN_FAILURES_BEFORE_LOCK).clamp(0, 10) as u32;
                        (60_i64 << exp).min(MAX_LOCK_SECONDS)
                    })
                    .await?;
                }
                if let Some(key) = &address {
                    self.count_failure(org, key, ADDRESS_FAILURES_BEFORE_LOCK, now, |_| {
                        ADDRESS_LOCK_SECONDS
                    })
                    .await?;
                }
                self.record_signin_failure(org, login, user.as_ref(), source_ip, "bad_credentials")
                    .await?;
                self.metrics
                    .inc(SIGNINS, SIGNINS_HELP, &[("outcome", "bad_credentials")]);
                Ok(SignInOutcome::BadCredentials)
            }
        }
    }

    /// Seconds until the longest lock among `keys` ends, if any is locked.
    async fn locked_for(&self, keys: &[&String], now: i64) -> CoreResult<Option<i64>> {
        let mut longest = None;
        for key in keys {
            if let Some(state) = self.store.get_throttle(key).await?
                && state.locked_until > now
            {
                longest = longest.max(Some(state.locked_until - now));
            }
        }
        Ok(longest)
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
        self.metrics
            .inc(SIGNINS, SIGNINS_HELP, &[("outcome", "throttled")]);
        Ok(SignInOutcome::Throttled { retry_after })
    }

    /// Verifies on the blocking pool (the caller holds an Argon2id slot). Without a usable hash,
    /// verifies against a dummy so that the answer takes as long.
    async fn check_password(&self, user: Option<&User>, attempt: &str) -> CoreResult<bool> {
        let hash = user
            .filter(|u| !u.disabled)
            .and_then(|u| u.password_hash.clone());
        let attempt = attempt.to_string();
        tokio::task::spawn_blocking(move || match hash {
            Some(hash) => password::verify_password(&attempt, &hash).unwrap_or(false),
            None => {
                password::dummy_verify(&attempt);
                false
            }
        })
        .await
        .map_err(|e| CoreError::Internal(format!("password task failed: {e}")))
    }

    async fn count_failure(
        &self,
        org: &Org,
        key: &str,
        threshold: i64,
        now: i64,
        lock_for: impl Fn(i64) -> i64,
    ) -> CoreResult<()> {
        let state = self
            .store
            .bump_throttle(key, &org.id, now, WINDOW_SECONDS)
            .await?;
        if state.failures >= threshold {
            self.store
                .lock_throttle(key, now + lock_for(state.failures))
                .await?;
        }
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
            None => format!(
                "login:{}",
                &clavex_crypto::secret::hash_token(&normalize_login(login))[..16]
            ),
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
