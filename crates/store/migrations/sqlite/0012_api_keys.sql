-- API keys: the secret is kept only as its SHA-256 (see keys.rs). Keys are
-- revoked, never deleted, so the audit trail's key ids stay resolvable.
CREATE TABLE api_keys (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    role TEXT NOT NULL,
    party TEXT,
    name TEXT NOT NULL DEFAULT '',
    secret_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);
-- The key whose request made each change (none: a job, the CLI, an open server).
ALTER TABLE events ADD COLUMN actor_key INTEGER;
ALTER TABLE jobs ADD COLUMN actor_key INTEGER;
