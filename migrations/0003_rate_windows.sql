-- Per-key request counters for the per-minute rate limit (fixed windows, strongly consistent
-- in D1), and events per day next to the other daily usage counters.
CREATE TABLE rate_windows (
  key_id       TEXT NOT NULL,
  window_start INTEGER NOT NULL,  -- unix seconds, a multiple of the window length
  count        INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (key_id, window_start)
);
ALTER TABLE usage_daily ADD COLUMN events INTEGER NOT NULL DEFAULT 0;
