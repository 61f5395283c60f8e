-- Long work (batch allocation, retraining) started through the API, so any
-- node can answer for a job and an Idempotency-Key can name it.
CREATE TABLE jobs (
    id BIGSERIAL PRIMARY KEY,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    finished_at BIGINT,
    result TEXT,
    error TEXT
);
CREATE INDEX jobs_by_age ON jobs (created_at);
