-- Clavex schema v7: audit retention (CLAVEX_AUDIT_RETENTION_DAYS). The background clean-up
-- deletes events older than the retention by time; without this index each pass would scan the
-- whole audit trail, the largest table of a busy installation. Also indexes the expiry of
-- retired client secrets, which the clean-up deletes too.
CREATE INDEX events_time ON events (time);
CREATE INDEX client_secrets_expiry ON client_secrets (expires_at);
