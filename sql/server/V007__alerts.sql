-- Alerts: which devices have readings not yet evaluated (filled by ingest, like rollup_dirty),
-- how far each device has been evaluated, the state of each (rule, device), the history of its
-- transitions and the outbox of notifications owed (committed with the transition that owes
-- them; the sender marks a row sent only after the receiver's 2xx).

-- Devices with new rows; no key on purpose: ingest appends without waiting for anyone.
CREATE TABLE IF NOT EXISTS sensor_project.alert_dirty (
    device_id VARCHAR NOT NULL
);
CREATE INDEX IF NOT EXISTS alert_dirty_device_idx ON sensor_project.alert_dirty (device_id);

CREATE OR REPLACE FUNCTION sensor_project.alert_mark() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    INSERT INTO sensor_project.alert_dirty (device_id) SELECT DISTINCT device_id FROM new_rows;
    RETURN NULL;
END
$fn$;
DROP TRIGGER IF EXISTS readings_alert_insert ON sensor_project.readings;
CREATE TRIGGER readings_alert_insert AFTER INSERT ON sensor_project.readings
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION sensor_project.alert_mark();

-- Per device: the newest reading evaluated (readings are evaluated in (ts_utc, id) order after
-- it) and when the server last received one of its readings (no-data rules).
CREATE TABLE IF NOT EXISTS sensor_project.alert_device (
    device_id     VARCHAR     PRIMARY KEY,
    evaluated_ts  TIMESTAMPTZ NOT NULL,
    evaluated_id  BIGINT      NOT NULL,
    last_received TIMESTAMPTZ NOT NULL
);
-- Rows stored before alerts existed are history, not news: evaluation starts after them.
INSERT INTO sensor_project.alert_device (device_id, evaluated_ts, evaluated_id, last_received)
SELECT device_id, max(ts_utc), max(id), max(received_at)
  FROM sensor_project.readings GROUP BY device_id
ON CONFLICT (device_id) DO NOTHING;

CREATE TABLE IF NOT EXISTS sensor_project.alert_state (
    id              BIGSERIAL   PRIMARY KEY,
    rule            TEXT        NOT NULL,
    device_id       VARCHAR     NOT NULL,
    metric          TEXT        NOT NULL DEFAULT '',
    state           TEXT        NOT NULL CHECK (state IN ('ok', 'pending', 'firing', 'nodata')),
    value           DOUBLE PRECISION,
    since           TIMESTAMPTZ NOT NULL,
    episode_start   TIMESTAMPTZ NOT NULL,
    notified        BOOLEAN     NOT NULL DEFAULT false,
    acked           BOOLEAN     NOT NULL DEFAULT false,
    catchup_count   INTEGER     NOT NULL DEFAULT 0,
    catchup_start   TIMESTAMPTZ,
    catchup_end     TIMESTAMPTZ,
    UNIQUE (rule, device_id)
);
CREATE INDEX IF NOT EXISTS alert_state_device_idx ON sensor_project.alert_state (device_id);

CREATE TABLE IF NOT EXISTS sensor_project.alert_history (
    id        BIGSERIAL   PRIMARY KEY,
    rule      TEXT        NOT NULL,
    device_id VARCHAR     NOT NULL,
    state     TEXT        NOT NULL,
    value     DOUBLE PRECISION,
    at        TIMESTAMPTZ NOT NULL
);
CREATE INDEX IF NOT EXISTS alert_history_at_idx ON sensor_project.alert_history (at);
CREATE INDEX IF NOT EXISTS alert_history_device_at_idx
    ON sensor_project.alert_history (device_id, at);

-- One row per notification and receiver; its id is the notification id receivers see.
CREATE TABLE IF NOT EXISTS sensor_project.alert_outbox (
    id              BIGSERIAL   PRIMARY KEY,
    receiver        TEXT        NOT NULL,
    rule            TEXT        NOT NULL,
    device_id       VARCHAR     NOT NULL,
    metric          TEXT        NOT NULL,
    severity        TEXT        NOT NULL,
    status          TEXT        NOT NULL CHECK (status IN ('firing', 'resolved')),
    summary         TEXT        NOT NULL,
    value           DOUBLE PRECISION,
    starts_at       TIMESTAMPTZ NOT NULL,
    ends_at         TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    attempts        INTEGER     NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    sent_at         TIMESTAMPTZ,
    gave_up_at      TIMESTAMPTZ,
    last_error      TEXT
);
CREATE INDEX IF NOT EXISTS alert_outbox_due_idx ON sensor_project.alert_outbox (next_attempt_at)
    WHERE sent_at IS NULL AND gave_up_at IS NULL;
