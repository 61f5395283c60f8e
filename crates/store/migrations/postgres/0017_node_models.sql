-- The pretrained models each node serves with (comma-separated), so the
-- cluster listing shows a node that answers differently from the others.
ALTER TABLE nodes ADD COLUMN models TEXT NOT NULL DEFAULT '';
