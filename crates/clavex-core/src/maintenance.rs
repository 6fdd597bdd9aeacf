//! Background clean-up: expired codes, pending sign-ins, sessions, grants and tokens are deleted
//! every few minutes, so the tables hold what is live plus a few minutes of expired rows.
//!
//! Every node runs it. Each statement deletes only rows that no request can use any more, so two
//! nodes purging at once merely race to delete the same rows, and a node killed half-way leaves
//! nothing inconsistent behind.

use std::time::Duration;

use clavex_store::{PurgeCounts, PurgeCutoffs};

use crate::{Core, CoreResult, oidc::signin::WINDOW_SECONDS};

/// Rows per DELETE: small enough that no statement blocks sign-ins for long.
pub const PURGE_BATCH: u32 = 500;
/// How often each node purges, before jitter.
pub const PURGE_INTERVAL: Duration = Duration::from_secs(300);
/// Rows are purged this long after they expired, so that a node whose clock runs ahead never
/// deletes what a node whose clock lags still honours (a revoked access token, say).
pub const PURGE_MARGIN_SECONDS: i64 = 300;

const PURGED: &str = "clavex_purged_rows_total";
const PURGED_HELP: &str = "Expired rows deleted by the background clean-up, by kind.";

impl Core {
    /// What may go now: anything expired, grants once no access token issued under them can still
    /// be valid, used codes once the grant made from them is gone (a replay must still revoke it),
    /// throttle counters once their window is over. All with `PURGE_MARGIN_SECONDS` to spare.
    pub fn purge_cutoffs(&self) -> PurgeCutoffs {
        let now = self.now() - PURGE_MARGIN_SECONDS;
        let grants_before = now - self.settings.access_token_ttl_seconds;
        PurgeCutoffs {
            expired_before: now,
            grants_before,
            throttle_before: now - WINDOW_SECONDS,
            // A grant expires at most the refresh-token lifetime after the code was redeemed,
            // which was before the code expired.
            used_codes_before: grants_before - self.settings.refresh_token_ttl_seconds,
            // Retention is counted from the real time, without the margin: it is days long.
            events_before: self
                .settings
                .audit_retention_seconds
                .map(|keep| self.now() - keep),
        }
    }

    /// Deletes expired rows and counts them in the metrics.
    pub async fn purge_expired(&self) -> CoreResult<PurgeCounts> {
        let counts = self
            .store
            .purge_expired(&self.purge_cutoffs(), PURGE_BATCH)
            .await?;
        for (kind, n) in [
            ("auth_request", counts.auth_requests),
            ("session", counts.sessions),
            ("console_session", counts.console_sessions),
            ("code", counts.codes),
            ("grant", counts.grants),
            ("refresh_token", counts.refresh_tokens),
            ("revoked_access_token", counts.revoked_access_tokens),
            ("throttle", counts.throttles),
            ("client_secret", counts.client_secrets),
            ("event", counts.events),
        ] {
            if n > 0 {
                self.metrics.add(PURGED, PURGED_HELP, &[("kind", kind)], n);
            }
        }
        Ok(counts)
    }

    /// Purges every `PURGE_INTERVAL` (±20 %, so that nodes started together spread out) until the
    /// task is dropped. A failure is logged and retried at the next turn.
    pub async fn purge_forever(self) {
        loop {
            let jitter = rand::random_range(0.8..1.2);
            tokio::time::sleep(PURGE_INTERVAL.mul_f64(jitter)).await;
            match self.purge_expired().await {
                Ok(counts) if counts.total() > 0 => {
                    tracing::info!(rows = counts.total(), ?counts, "purged expired rows")
                }
                Ok(_) => {}
                Err(err) => tracing::warn!(error = %err, "purging expired rows failed"),
            }
        }
    }
}
