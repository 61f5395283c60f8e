-- Interaction events for recommendations: views, clicks, accepts, fulfilments, ratings.
CREATE TABLE interactions (
    id BIGSERIAL PRIMARY KEY,
    user_id TEXT NOT NULL,
    offer_id BIGINT NOT NULL REFERENCES offers (id),
    kind TEXT NOT NULL,
    value DOUBLE PRECISION NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX interactions_by_user ON interactions (user_id, id);
CREATE INDEX interactions_by_offer ON interactions (offer_id, created_at);
