-- Clavex schema v4: Admin Console accounts and rights. Console accounts are the users of the
-- internal org `admin` (the console's own issuer, P/admin); these tables say what each may manage.

-- Console accounts that manage every org.
CREATE TABLE console_superadmins (
    user_id TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL
);

-- Console accounts that manage one org each (an account may hold several grants).
CREATE TABLE org_admins (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    UNIQUE (user_id, org_id)
);
CREATE INDEX org_admins_org ON org_admins (org_id);

-- Signed-in console browsers: the cookie holds a random value, this table its hash.
CREATE TABLE console_sessions (
    id_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    sso_sid TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX console_sessions_expiry ON console_sessions (expires_at);
