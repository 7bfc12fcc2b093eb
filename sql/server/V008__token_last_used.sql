-- When each token was last used (GET /tokens). Written at most once a minute per token by the
-- server that saw it, so authentication stays read-only on the hot path.
ALTER TABLE sensor_project.api_tokens ADD COLUMN IF NOT EXISTS last_used_at TIMESTAMPTZ;
