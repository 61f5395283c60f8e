-- A model's bytes may live in an object store (see `blobs.rs`): the row then
-- keeps the object's key and size, and an empty blob.
ALTER TABLE models ADD COLUMN blob_key TEXT;
ALTER TABLE models ADD COLUMN blob_size BIGINT;
