-- Events per caller, hour, type and component: what hourly and daily metrics read, so that their
-- cost does not grow with history, and what stays once raw events pass the retention window
-- (EVENTS_RETENTION_DAYS; the cron deletes older rows of `events`, their batches stay in R2).
-- Kept up by the indexing transaction (each batch rolled up once); filled here from the events
-- indexed before it. Component '' stands for none.
CREATE TABLE event_rollups (
  key_id    TEXT NOT NULL,
  hour      INTEGER NOT NULL,  -- unix milliseconds, the start of the hour
  type      TEXT NOT NULL,
  component TEXT NOT NULL,
  count     INTEGER NOT NULL,
  PRIMARY KEY (key_id, hour, type, component)
);
INSERT INTO event_rollups (key_id, hour, type, component, count)
SELECT key_id, ts - ts % 3600000, type, COALESCE(component, ''), COUNT(*) FROM events WHERE true
GROUP BY key_id, ts - ts % 3600000, type, COALESCE(component, '');
CREATE INDEX batches_by_received ON batches (received_at);
