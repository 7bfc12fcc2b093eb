-- Bearer tokens: only the SHA-256 of each token is stored.
CREATE TABLE IF NOT EXISTS sensor_project.api_tokens (
    id           BIGSERIAL PRIMARY KEY,
    token_sha256 TEXT        NOT NULL,
    scope        TEXT        NOT NULL CHECK (scope IN ('device', 'read', 'admin')),
    device_id    VARCHAR,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    revoked_at   TIMESTAMPTZ,
    CHECK ((scope = 'device') = (device_id IS NOT NULL))
);
