-- Long work (batch allocation, retraining) started through the API, so any
-- node can answer for a job and an Idempotency-Key can name it.
CREATE TABLE jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    finished_at INTEGER,
    result TEXT,
    error TEXT
);
CREATE INDEX jobs_by_age ON jobs (created_at);
