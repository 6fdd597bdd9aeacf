-- Clavex schema v6: indexes for the background clean-up (issue #5), which deletes expired rows
-- every few minutes on every node. Without them each pass scans these tables whole; with them a
-- pass that finds nothing to delete reads one index page per table.
CREATE INDEX grants_expiry ON grants (expires_at);
CREATE INDEX refresh_tokens_expiry ON refresh_tokens (expires_at);
CREATE INDEX revoked_access_tokens_expiry ON revoked_access_tokens (expires_at);
CREATE INDEX login_throttle_window ON login_throttle (window_start);
