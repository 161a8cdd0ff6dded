-- Cache hits per key and day, next to the request and token counters.
ALTER TABLE usage_daily ADD COLUMN cache_hits INTEGER NOT NULL DEFAULT 0;
