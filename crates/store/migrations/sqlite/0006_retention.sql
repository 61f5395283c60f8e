-- Outbox consumers that need old events (a node's persistent search index):
-- retention never deletes events a consumer seen recently has not passed.
CREATE TABLE consumers (
    name TEXT PRIMARY KEY,
    position INTEGER NOT NULL,
    seen_at INTEGER NOT NULL
);

-- Small facts about the store itself, e.g. how far the outbox was pruned (a
-- consumer behind that point must rebuild instead of catching up).
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
