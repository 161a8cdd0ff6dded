-- Whether a model call used tool calling (tools offered, or tool calls and results in the
-- conversation): 1 or 0. Calls recorded before it are 0.
ALTER TABLE ai_calls ADD COLUMN used_tools INTEGER NOT NULL DEFAULT 0;
