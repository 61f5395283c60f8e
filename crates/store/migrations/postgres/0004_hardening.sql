-- One active model per kind, enforced by the database (two concurrent
-- activations used to leave two); when and by whom a model was activated, so
-- retention keeps the previous one and retraining respects an operator's choice.
UPDATE models SET active = 0
 WHERE active = 1 AND id NOT IN (SELECT MAX(id) FROM models WHERE active = 1 GROUP BY kind);
CREATE UNIQUE INDEX models_one_active ON models (kind) WHERE active = 1;
ALTER TABLE models ADD COLUMN activated_at BIGINT;
ALTER TABLE models ADD COLUMN activated_by TEXT;

-- Training examples kept in the store (a model's base data, not only operator
-- labels), deduplicated by a fingerprint of source, text and label.
ALTER TABLE labels ADD COLUMN fingerprint TEXT;
CREATE UNIQUE INDEX labels_by_fingerprint ON labels (fingerprint);

-- Retention prunes by age.
CREATE INDEX events_by_age ON events (created_at);
CREATE INDEX idempotency_by_age ON idempotency (created_at);
CREATE INDEX interactions_by_age ON interactions (created_at);
