-- A key's own policy (shared/policy.py: allowed models, budget and its period, soft limit,
-- requests and tokens a minute, concurrency, expiry, metadata) as one JSON object, NULL for a key
-- with its tier's limits only; a rotated key's previous secret, valid until `previous_valid_until`
-- (unix seconds). Every existing key keeps its row, with no policy.
ALTER TABLE api_keys ADD COLUMN policy_json TEXT;
ALTER TABLE api_keys ADD COLUMN previous_hash TEXT;
ALTER TABLE api_keys ADD COLUMN previous_valid_until REAL;
ALTER TABLE api_keys ADD COLUMN rotated_at TEXT;

-- One alert per key, kind and period (a soft budget crossed, 80% or 100% of a quota reached):
-- the primary key makes a second crossing in the same period write nothing.
CREATE TABLE alerts (
  key_id       TEXT NOT NULL,
  kind         TEXT NOT NULL,   -- budget_soft, budget_reached, daily_budget_80, tokens_per_day_100, ...
  period       TEXT NOT NULL,   -- the first day of the period it belongs to (YYYY-MM-DD)
  limit_value  REAL NOT NULL,   -- the limit crossed (dollars, tokens, events)
  value        REAL NOT NULL,   -- the usage that crossed it
  created_at   TEXT NOT NULL,
  delivered_at TEXT,            -- when the webhook took it (ALERT_WEBHOOK_URL), if it did
  PRIMARY KEY (key_id, kind, period)
);
CREATE INDEX alerts_by_created ON alerts (created_at);
