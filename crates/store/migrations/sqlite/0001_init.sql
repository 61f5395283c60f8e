-- wantloop schema, SQLite dialect. Keep in step with ../postgres/0001_init.sql.
CREATE TABLE demands (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    requester TEXT NOT NULL,
    text TEXT NOT NULL,
    category TEXT NOT NULL,
    category_source TEXT NOT NULL,
    category_confidence REAL NOT NULL,
    priority TEXT NOT NULL,
    budget INTEGER,
    lat REAL,
    lon REAL,
    max_distance_km REAL,
    quantity INTEGER NOT NULL,
    matched_units INTEGER NOT NULL DEFAULT 0,
    fulfilled_units INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    expires_at INTEGER,
    CHECK (matched_units >= 0 AND fulfilled_units >= 0 AND matched_units + fulfilled_units <= quantity)
);
CREATE INDEX demands_by_status ON demands (status, id);
CREATE INDEX demands_by_category ON demands (category, id);
CREATE INDEX demands_by_requester ON demands (requester, id);

CREATE TABLE offers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    provider TEXT NOT NULL,
    text TEXT NOT NULL,
    category TEXT NOT NULL,
    price INTEGER NOT NULL,
    lat REAL,
    lon REAL,
    capacity INTEGER NOT NULL,
    reserved INTEGER NOT NULL DEFAULT 0,
    consumed INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL,
    condition TEXT,
    origin_offer_id INTEGER REFERENCES offers (id),
    origin_match_id INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    CHECK (reserved >= 0 AND consumed >= 0 AND reserved + consumed <= capacity)
);
CREATE INDEX offers_by_category ON offers (category, status, id);
CREATE INDEX offers_by_provider ON offers (provider, id);

CREATE TABLE matches (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    demand_id INTEGER NOT NULL REFERENCES demands (id),
    offer_id INTEGER NOT NULL REFERENCES offers (id),
    units INTEGER NOT NULL CHECK (units > 0),
    score REAL NOT NULL,
    features TEXT NOT NULL,
    status TEXT NOT NULL,
    relisted_offer_id INTEGER REFERENCES offers (id),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    expires_at INTEGER
);
CREATE INDEX matches_by_demand ON matches (demand_id, id);
CREATE INDEX matches_by_offer ON matches (offer_id, id);
CREATE INDEX matches_by_status ON matches (status, id);

CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id INTEGER NOT NULL,
    payload TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE idempotency (
    key TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    status INTEGER NOT NULL,
    body TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
