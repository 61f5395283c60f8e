-- The matcher asks for the newest event of a few kinds (those that can add
-- a candidate): one index seek per kind instead of a scan of the outbox.
CREATE INDEX events_by_kind ON events (kind, id);
