-- Model registry, intake classification provenance, review queue, labelled examples.
CREATE TABLE models (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    version INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    data_hash TEXT NOT NULL,
    metrics TEXT NOT NULL,
    params TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 0,
    blob BLOB NOT NULL,
    UNIQUE (kind, version)
);

ALTER TABLE demands ADD COLUMN category_model TEXT;
ALTER TABLE demands ADD COLUMN needs_review INTEGER NOT NULL DEFAULT 0;
CREATE INDEX demands_by_review ON demands (needs_review, id);

CREATE TABLE labels (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    text TEXT NOT NULL,
    label TEXT NOT NULL,
    source TEXT NOT NULL,
    demand_id INTEGER REFERENCES demands (id),
    created_at INTEGER NOT NULL
);
