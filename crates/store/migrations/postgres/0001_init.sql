-- wantloop schema, PostgreSQL dialect. Keep in step with ../sqlite/0001_init.sql.
CREATE TABLE demands (
    id BIGSERIAL PRIMARY KEY,
    requester TEXT NOT NULL,
    text TEXT NOT NULL,
    category TEXT NOT NULL,
    category_source TEXT NOT NULL,
    category_confidence DOUBLE PRECISION NOT NULL,
    priority TEXT NOT NULL,
    budget BIGINT,
    lat DOUBLE PRECISION,
    lon DOUBLE PRECISION,
    max_distance_km DOUBLE PRECISION,
    quantity BIGINT NOT NULL,
    matched_units BIGINT NOT NULL DEFAULT 0,
    fulfilled_units BIGINT NOT NULL DEFAULT 0,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    expires_at BIGINT,
    CHECK (matched_units >= 0 AND fulfilled_units >= 0 AND matched_units + fulfilled_units <= quantity)
);
CREATE INDEX demands_by_status ON demands (status, id);
CREATE INDEX demands_by_category ON demands (category, id);
CREATE INDEX demands_by_requester ON demands (requester, id);

CREATE TABLE offers (
    id BIGSERIAL PRIMARY KEY,
    provider TEXT NOT NULL,
    text TEXT NOT NULL,
    category TEXT NOT NULL,
    price BIGINT NOT NULL,
    lat DOUBLE PRECISION,
    lon DOUBLE PRECISION,
    capacity BIGINT NOT NULL,
    reserved BIGINT NOT NULL DEFAULT 0,
    consumed BIGINT NOT NULL DEFAULT 0,
    status TEXT NOT NULL,
    condition TEXT,
    origin_offer_id BIGINT REFERENCES offers (id),
    origin_match_id BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CHECK (reserved >= 0 AND consumed >= 0 AND reserved + consumed <= capacity)
);
CREATE INDEX offers_by_category ON offers (category, status, id);
CREATE INDEX offers_by_provider ON offers (provider, id);

CREATE TABLE matches (
    id BIGSERIAL PRIMARY KEY,
    demand_id BIGINT NOT NULL REFERENCES demands (id),
    offer_id BIGINT NOT NULL REFERENCES offers (id),
    units BIGINT NOT NULL CHECK (units > 0),
    score DOUBLE PRECISION NOT NULL,
    features TEXT NOT NULL,
    status TEXT NOT NULL,
    relisted_offer_id BIGINT REFERENCES offers (id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    expires_at BIGINT
);
CREATE INDEX matches_by_demand ON matches (demand_id, id);
CREATE INDEX matches_by_offer ON matches (offer_id, id);
CREATE INDEX matches_by_status ON matches (status, id);

CREATE TABLE events (
    id BIGSERIAL PRIMARY KEY,
    kind TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id BIGINT NOT NULL,
    payload TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE idempotency (
    key TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    status BIGINT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
