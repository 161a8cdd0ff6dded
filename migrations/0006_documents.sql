-- Documents for retrieval (shared/documents.py): the text is in R2 (r2_key), the passages in
-- Vectorize (ids <id>#<n>, namespace key_id); this row says how far ingestion got. Only a
-- `ready` document is searched: one that failed half-way says so and can be resumed.
CREATE TABLE documents (
  id            TEXT PRIMARY KEY,
  key_id        TEXT NOT NULL,
  title         TEXT NOT NULL,
  metadata_json TEXT,
  bytes         INTEGER NOT NULL,
  passages      INTEGER NOT NULL,
  embedded      INTEGER NOT NULL DEFAULT 0,  -- passages upserted so far, in order
  status        TEXT NOT NULL,               -- ingesting | ready | failed | deleting
  error         TEXT,
  r2_key        TEXT NOT NULL,
  created_at    TEXT NOT NULL
);
CREATE INDEX documents_by_key ON documents (key_id, created_at);
