-- Event ids are idempotency keys chosen by clients, so they are unique per key, not globally:
-- one tenant's id can never swallow another's event. The table is rebuilt with its rows: every
-- event indexed before this migration is in the new table (tests/unit/test_migrations.py).
CREATE TABLE events_by_key (
  key_id          TEXT NOT NULL,
  id              TEXT NOT NULL,
  type            TEXT NOT NULL,
  name            TEXT,
  component       TEXT,
  session_id      TEXT,
  user_id         TEXT,
  ts              INTEGER NOT NULL,  -- unix milliseconds
  props_json      TEXT,
  enrichment_json TEXT,
  batch_id        TEXT NOT NULL,
  PRIMARY KEY (key_id, id)
);
INSERT INTO events_by_key (key_id, id, type, name, component, session_id, user_id, ts, props_json, enrichment_json, batch_id)
SELECT key_id, id, type, name, component, session_id, user_id, ts, props_json, enrichment_json, batch_id FROM events;
DROP TABLE events;
ALTER TABLE events_by_key RENAME TO events;
CREATE INDEX events_by_key_ts ON events (key_id, ts);
CREATE INDEX events_by_key_type_ts ON events (key_id, type, ts);
CREATE INDEX events_by_key_component_ts ON events (key_id, component, ts);
CREATE INDEX events_by_batch ON events (key_id, batch_id);

-- One row per model call, for latency percentiles and tokens by model (Analytics Engine gets
-- the same numbers; D1 is what the api can query).
CREATE TABLE ai_calls (
  key_id            TEXT NOT NULL,
  ts                INTEGER NOT NULL,  -- unix milliseconds
  model             TEXT NOT NULL,
  kind              TEXT NOT NULL,
  outcome           TEXT NOT NULL,
  latency_ms        REAL NOT NULL,
  ttft_ms           REAL NOT NULL,
  prompt_tokens     INTEGER NOT NULL,
  completion_tokens INTEGER NOT NULL
);
CREATE INDEX ai_calls_by_key_ts ON ai_calls (key_id, ts);

-- Bumped whenever a key's data changes: part of every cached analytics answer's KV key, so a
-- landed batch makes the old answers unreachable at once.
CREATE TABLE analytics_versions (
  key_id  TEXT PRIMARY KEY,
  version INTEGER NOT NULL DEFAULT 0
);
