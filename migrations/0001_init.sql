-- Initial schema. Applied with `wrangler d1 migrations apply DB` (--local or --remote).

CREATE TABLE api_keys (
  id          TEXT PRIMARY KEY,
  prefix      TEXT NOT NULL UNIQUE,
  hash        TEXT NOT NULL,
  name        TEXT NOT NULL,
  tier        TEXT NOT NULL DEFAULT 'free',
  created_at  TEXT NOT NULL,
  revoked_at  TEXT
);

CREATE TABLE events (
  id              TEXT PRIMARY KEY,
  key_id          TEXT NOT NULL,
  type            TEXT NOT NULL,
  name            TEXT,
  component       TEXT,
  session_id      TEXT,
  user_id         TEXT,
  ts              INTEGER NOT NULL,
  props_json      TEXT,
  enrichment_json TEXT,
  batch_id        TEXT NOT NULL
);
CREATE INDEX events_by_ts ON events (ts);
CREATE INDEX events_by_type_ts ON events (type, ts);
CREATE INDEX events_by_component_ts ON events (component, ts);

CREATE TABLE batches (
  id          TEXT PRIMARY KEY,
  key_id      TEXT NOT NULL,
  r2_key      TEXT NOT NULL,
  received_at TEXT NOT NULL,
  indexed_at  TEXT
);
CREATE INDEX batches_unindexed ON batches (indexed_at) WHERE indexed_at IS NULL;

CREATE TABLE usage_daily (
  key_id            TEXT NOT NULL,
  day               TEXT NOT NULL,
  requests          INTEGER NOT NULL DEFAULT 0,
  prompt_tokens     INTEGER NOT NULL DEFAULT 0,
  completion_tokens INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (key_id, day)
);
