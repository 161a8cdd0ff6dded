-- The AI Gateway log of a model call that went through one (AI_GATEWAY_ID): the id its dashboard
-- and logs API show. Null for calls made directly, and for every call recorded before it.
ALTER TABLE ai_calls ADD COLUMN gateway_log_id TEXT;
