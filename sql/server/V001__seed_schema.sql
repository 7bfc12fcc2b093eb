-- The seed's server schema (seed api_schema.sql), created only where it is missing, so a seed
-- database and an empty one reach the same starting point.
CREATE SCHEMA IF NOT EXISTS sensor_project;

CREATE TABLE IF NOT EXISTS sensor_project.readings (
    id        SERIAL PRIMARY KEY,
    device_id VARCHAR     NOT NULL,
    ts_utc    TIMESTAMPTZ NOT NULL,
    ts_local  TIMESTAMPTZ NOT NULL,
    payload   JSONB       NOT NULL
);
