-- Interaction events for recommendations: views, clicks, accepts, fulfilments, ratings.
CREATE TABLE interactions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id TEXT NOT NULL,
    offer_id INTEGER NOT NULL REFERENCES offers (id),
    kind TEXT NOT NULL,
    value REAL NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX interactions_by_user ON interactions (user_id, id);
CREATE INDEX interactions_by_offer ON interactions (offer_id, created_at);
