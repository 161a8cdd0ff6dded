-- The RPC hop's latency per caller and method: calls counted per minute into fixed buckets
-- (shared/rpc_latency.py, upper bounds in ms), summed when an isolate flushes its tally.
CREATE TABLE IF NOT EXISTS rpc_latency (
  minute_ms INTEGER NOT NULL,
  key_id TEXT NOT NULL,
  method TEXT NOT NULL,
  le_ms INTEGER NOT NULL,
  count INTEGER NOT NULL,
  PRIMARY KEY (key_id, minute_ms, method, le_ms)
);
