-- Model registry, intake classification provenance, review queue, labelled examples.
CREATE TABLE models (
    id BIGSERIAL PRIMARY KEY,
    kind TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    data_hash TEXT NOT NULL,
    metrics TEXT NOT NULL,
    params TEXT NOT NULL,
    active BIGINT NOT NULL DEFAULT 0,
    blob BYTEA NOT NULL,
    UNIQUE (kind, version)
);

ALTER TABLE demands ADD COLUMN category_model TEXT;
ALTER TABLE demands ADD COLUMN needs_review BIGINT NOT NULL DEFAULT 0;
CREATE INDEX demands_by_review ON demands (needs_review, id);

CREATE TABLE labels (
    id BIGSERIAL PRIMARY KEY,
    text TEXT NOT NULL,
    label TEXT NOT NULL,
    source TEXT NOT NULL,
    demand_id BIGINT REFERENCES demands (id),
    created_at BIGINT NOT NULL
);
