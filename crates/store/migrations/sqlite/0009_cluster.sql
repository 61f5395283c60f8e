-- Fencing: per lease, the highest token the store has seen. A leader-only
-- write carrying a lower token (a holder that lost its lease without knowing
-- it) is refused.
CREATE TABLE fences (
    name TEXT PRIMARY KEY,
    token BIGINT NOT NULL
);
-- One row per scheduled job and period, written with the fence check: a
-- period runs once, whichever node leads.
CREATE TABLE job_runs (
    job TEXT NOT NULL,
    period BIGINT NOT NULL,
    token BIGINT NOT NULL,
    node TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    PRIMARY KEY (job, period)
);
CREATE INDEX job_runs_by_age ON job_runs (started_at);
-- The serving nodes and their heartbeats.
CREATE TABLE nodes (
    id TEXT PRIMARY KEY,
    address TEXT NOT NULL,
    version TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    last_seen BIGINT NOT NULL
);
