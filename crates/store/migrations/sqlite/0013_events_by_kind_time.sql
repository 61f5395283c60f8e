-- The dashboard's chart counts match events per kind over a time window.
CREATE INDEX events_by_kind_time ON events (kind, created_at);
