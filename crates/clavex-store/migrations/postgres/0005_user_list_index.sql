-- Clavex schema v5: an index for listing an org's users in `seq` order (Admin API and console
-- user lists, issue #4). Without it the planner reads every user of the org through the
-- (org_id, email_norm) unique index and sorts them all to return one page: at 100,000 users
-- every page, even the first, cost a full scan and a sort. With it a page is an index range
-- read of `limit + 1` rows, and a search stops as soon as a page of matches is found.
CREATE INDEX users_org_seq ON users (org_id, seq);

-- Ending a user's sessions (new password, disabled, deleted) looks them up by user.
CREATE INDEX sso_sessions_user ON sso_sessions (user_id);
CREATE INDEX console_sessions_user ON console_sessions (user_id);
