-- Operators' synonym lists: one row a version, the newest current. `rules`
-- is the synonyms-file format (`crates/search/src/synonyms.rs`), checked by
-- the engine before it is stored.
CREATE TABLE synonym_lists (
    version BIGSERIAL PRIMARY KEY,
    rules TEXT NOT NULL,
    author TEXT,
    created_at BIGINT NOT NULL
);
