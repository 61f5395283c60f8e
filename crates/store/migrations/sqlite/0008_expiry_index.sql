-- The expiry sweep asks for what is due: a range of one short index (only
-- live rows with an expiry time are in it) instead of a scan of the table,
-- which took seconds at a million demands on every sweep.
CREATE INDEX demands_due ON demands (expires_at) WHERE status IN ('open', 'matched') AND expires_at IS NOT NULL;
CREATE INDEX matches_due ON matches (expires_at) WHERE status = 'proposed' AND expires_at IS NOT NULL;
