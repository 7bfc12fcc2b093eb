-- Copied unchanged from the seed reference (seed-reference/sql/api_schema.sql): the schema of
-- a seed database that sensorsys-server --migrate must upgrade in place.
-- Server-side (API) database schema, mirrors api/models.py::ReadingORM.
CREATE SCHEMA IF NOT EXISTS sensor_project;

CREATE TABLE IF NOT EXISTS sensor_project.readings (
    id        SERIAL PRIMARY KEY,
    device_id VARCHAR     NOT NULL,
    ts_utc    TIMESTAMPTZ NOT NULL,
    ts_local  TIMESTAMPTZ NOT NULL,
    payload   JSONB       NOT NULL
);

CREATE INDEX IF NOT EXISTS idx_readings_device_ts_local
    ON sensor_project.readings (device_id, ts_local);
CREATE INDEX IF NOT EXISTS idx_readings_ts_local
    ON sensor_project.readings (ts_local);
