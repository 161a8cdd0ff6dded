-- The traffic split a model call was routed by and its arm (shared/splits.py): what the per-arm
-- metrics group by. Calls recorded before, or on no split, have neither (NULL).
ALTER TABLE ai_calls ADD COLUMN split TEXT;
ALTER TABLE ai_calls ADD COLUMN arm TEXT;
CREATE INDEX ai_calls_by_key_split ON ai_calls (key_id, split, ts) WHERE split IS NOT NULL;
