-- What each model call cost (its usage at its model's price, with the provider that ran it) and
-- which inference backend served it; and each key's spend per day, which a tier's daily budget
-- (TIER_<TIER>_DAILY_BUDGET_USD) is checked against at admission. Columns added: no row is lost.
ALTER TABLE ai_calls ADD COLUMN provider TEXT NOT NULL DEFAULT 'workers-ai';
ALTER TABLE ai_calls ADD COLUMN backend TEXT;
ALTER TABLE ai_calls ADD COLUMN cost_usd REAL NOT NULL DEFAULT 0;
ALTER TABLE usage_daily ADD COLUMN cost_usd REAL NOT NULL DEFAULT 0;
