-- The seed agent's local table, exactly as the seed's agent_schema.sql (same table as tests/data/seed_agent_schema.sql) made
-- it: a fresh database gets the same starting point as a Pi moving over from the seed.
CREATE SCHEMA IF NOT EXISTS sensor_project;
CREATE TABLE IF NOT EXISTS sensor_project.readings (
    id        SERIAL PRIMARY KEY,
    device_id VARCHAR     NOT NULL,
    ts_utc    TIMESTAMPTZ NOT NULL,
    ts_local  TIMESTAMPTZ NOT NULL,
    payload   JSONB       NOT NULL,
    is_synced BOOLEAN     DEFAULT FALSE
);
