-- Images of offers and demands. The original and its thumbnail live in the
-- object store when one is configured (the row keeps their keys), else in
-- the row. `vector` is the visual vector (little-endian f32) made by
-- `features`; positions number an owner's images from 1 and are not reused
-- while an image holds them.
CREATE TABLE images (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    owner TEXT NOT NULL CHECK (owner IN ('offer', 'demand')),
    owner_id INTEGER NOT NULL,
    position INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    features TEXT NOT NULL,
    vector BLOB NOT NULL,
    data BLOB,
    thumb BLOB,
    data_key TEXT,
    thumb_key TEXT,
    created_at INTEGER NOT NULL,
    UNIQUE (owner, owner_id, position)
);
