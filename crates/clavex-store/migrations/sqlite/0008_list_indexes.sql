-- Clavex schema v8: indexes for the remaining lists paged in `seq` order (issue #7, scale), as
-- 0005 did for users. Without them the planner finds a page's rows through the unique index of
-- (org_id, client_id), (org_id, name) or (group_id, user_id), reads every row of the org or
-- group and sorts them all to return `limit + 1`. Measured on SQLite at 1,000,000 users: a page
-- of an org's 10,000 clients cost 2-3 ms instead of 0.2 ms, and a page of a group of 100,000
-- members 270-320 ms instead of 1 ms. With them each page is an index range read.
CREATE INDEX clients_org_seq ON clients (org_id, seq);
CREATE INDEX user_groups_org_seq ON user_groups (org_id, seq);
CREATE INDEX group_members_group_seq ON group_members (group_id, seq);
