-- The leader-only jobs each node runs (comma-separated): a job's owner on the
-- ring is chosen among the nodes that run it.
ALTER TABLE nodes ADD COLUMN jobs TEXT NOT NULL DEFAULT '';
