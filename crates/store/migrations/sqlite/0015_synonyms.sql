-- Operators' synonym lists: one row a version, the newest current. `rules`
-- is the synonyms-file format (`crates/search/src/synonyms.rs`), checked by
-- the engine before it is stored.
CREATE TABLE synonym_lists (
    version INTEGER PRIMARY KEY AUTOINCREMENT,
    rules TEXT NOT NULL,
    author TEXT,
    created_at INTEGER NOT NULL
);
