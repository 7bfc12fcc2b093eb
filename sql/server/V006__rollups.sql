-- History: numeric metric paths of a payload, rollups at 1 min, 1 h and 1 d kept exact under
-- late data, the dirty list ingest fills, and the state of the one-time build over old rows.
-- All buckets are UTC instants (date_bin: independent of the session's TimeZone).

-- The numeric leaves of a payload as dotted paths of object keys ("bme280.temperature.c").
-- Only keys a metric parameter can name ([a-z0-9_]+), at most 8 levels and 200 characters;
-- an instance that reported {"error": ...} contributes nothing; numbers outside float8's range
-- are left out rather than stop the rollup worker.
CREATE OR REPLACE FUNCTION sensor_project.numeric_paths(payload jsonb)
RETURNS TABLE (metric text, value double precision)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
WITH RECURSIVE walk(path, depth, v) AS (
    SELECT e.key, 1, e.value
      FROM jsonb_each(CASE WHEN jsonb_typeof(payload) = 'object' THEN payload
                           ELSE '{}'::jsonb END) e
     WHERE e.key ~ '^[a-z0-9_]+$'
       AND NOT (jsonb_typeof(e.value) = 'object' AND e.value ? 'error')
    UNION ALL
    SELECT w.path || '.' || c.key, w.depth + 1, c.value
      FROM walk w,
           jsonb_each(CASE WHEN jsonb_typeof(w.v) = 'object' THEN w.v ELSE '{}'::jsonb END) c
     WHERE w.depth < 8 AND c.key ~ '^[a-z0-9_]+$'
)
SELECT path, v::text::double precision
  FROM walk
 WHERE jsonb_typeof(v) = 'number' AND length(path) <= 200
   AND (v::text::numeric = 0 OR abs(v::text::numeric) BETWEEN 1e-300 AND 1e300)
$fn$;

CREATE TABLE IF NOT EXISTS sensor_project.rollup_1m (
    device_id VARCHAR          NOT NULL,
    metric    TEXT             NOT NULL,
    bucket    TIMESTAMPTZ      NOT NULL,
    count     BIGINT           NOT NULL,
    sum       DOUBLE PRECISION NOT NULL,
    min       DOUBLE PRECISION NOT NULL,
    max       DOUBLE PRECISION NOT NULL,
    first     DOUBLE PRECISION NOT NULL,
    first_ts  TIMESTAMPTZ      NOT NULL,
    last      DOUBLE PRECISION NOT NULL,
    last_ts   TIMESTAMPTZ      NOT NULL,
    PRIMARY KEY (device_id, metric, bucket)
);
CREATE TABLE IF NOT EXISTS sensor_project.rollup_1h (LIKE sensor_project.rollup_1m INCLUDING ALL);
CREATE TABLE IF NOT EXISTS sensor_project.rollup_1d (LIKE sensor_project.rollup_1m INCLUDING ALL);
-- Recomputation replaces a device's buckets whatever their metric.
CREATE INDEX IF NOT EXISTS rollup_1m_device_bucket_idx ON sensor_project.rollup_1m (device_id, bucket);
CREATE INDEX IF NOT EXISTS rollup_1h_device_bucket_idx ON sensor_project.rollup_1h (device_id, bucket);
CREATE INDEX IF NOT EXISTS rollup_1d_device_bucket_idx ON sensor_project.rollup_1d (device_id, bucket);

-- (device, minute) pairs whose raw rows changed since their rollups were computed. No unique
-- key on purpose: ingest appends without ever waiting for another transaction (the worker's
-- included), and a pair may appear more than once until the worker takes it.
CREATE TABLE IF NOT EXISTS sensor_project.rollup_dirty (
    device_id VARCHAR     NOT NULL,
    bucket    TIMESTAMPTZ NOT NULL
);
CREATE INDEX IF NOT EXISTS rollup_dirty_device_bucket_idx
    ON sensor_project.rollup_dirty (device_id, bucket);

-- Raw lookups by instant (rollup recomputation, series edges).
CREATE INDEX IF NOT EXISTS readings_device_ts_utc_idx
    ON sensor_project.readings (device_id, ts_utc);

-- One INSERT per statement, in the writing transaction: the pairs become visible together with
-- the rows, so the worker (which takes only the pairs it sees) never recomputes a minute without
-- the rows that dirtied it, and a series sees a pair exactly when it sees its rows.
CREATE OR REPLACE FUNCTION sensor_project.rollup_mark() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO sensor_project.rollup_dirty (device_id, bucket)
        SELECT DISTINCT device_id, date_bin('1 minute', ts_utc, TIMESTAMPTZ '2000-01-01Z')
          FROM new_rows;
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        INSERT INTO sensor_project.rollup_dirty (device_id, bucket)
        SELECT DISTINCT device_id, date_bin('1 minute', ts_utc, TIMESTAMPTZ '2000-01-01Z')
          FROM old_rows;
    END IF;
    RETURN NULL;
END
$fn$;

DROP TRIGGER IF EXISTS readings_rollup_insert ON sensor_project.readings;
CREATE TRIGGER readings_rollup_insert AFTER INSERT ON sensor_project.readings
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION sensor_project.rollup_mark();
DROP TRIGGER IF EXISTS readings_rollup_update ON sensor_project.readings;
CREATE TRIGGER readings_rollup_update AFTER UPDATE ON sensor_project.readings
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION sensor_project.rollup_mark();
DROP TRIGGER IF EXISTS readings_rollup_delete ON sensor_project.readings;
CREATE TRIGGER readings_rollup_delete AFTER DELETE ON sensor_project.readings
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION sensor_project.rollup_mark();

-- Recomputes the given minutes of the given devices from raw rows, then the hours and days
-- holding them from the level below. Callers hold the rollup advisory lock.
CREATE OR REPLACE FUNCTION sensor_project.rollup_recompute(devs text[], mins timestamptz[])
RETURNS void LANGUAGE plpgsql AS $fn$
DECLARE
    origin CONSTANT timestamptz := TIMESTAMPTZ '2000-01-01Z';
    hdevs text[];
    hours timestamptz[];
    ddevs text[];
    days timestamptz[];
BEGIN
    DELETE FROM sensor_project.rollup_1m r USING unnest(devs, mins) t(d, b)
     WHERE r.device_id = t.d AND r.bucket = t.b;
    INSERT INTO sensor_project.rollup_1m
    SELECT r.device_id, p.metric, t.b, count(*), sum(p.value), min(p.value), max(p.value),
           (array_agg(p.value ORDER BY r.ts_utc, r.id))[1], min(r.ts_utc),
           (array_agg(p.value ORDER BY r.ts_utc DESC, r.id DESC))[1], max(r.ts_utc)
      FROM unnest(devs, mins) t(d, b)
      JOIN sensor_project.readings r
        ON r.device_id = t.d AND r.ts_utc >= t.b AND r.ts_utc < t.b + interval '1 minute'
     CROSS JOIN LATERAL sensor_project.numeric_paths(r.payload) p
     -- A reading whose time could never be confirmed (ts_quality 'unsynced') is in no series.
     WHERE r.ts_quality IS DISTINCT FROM 'unsynced'
     GROUP BY r.device_id, p.metric, t.b;
    SELECT array_agg(d), array_agg(h) INTO hdevs, hours FROM (
        SELECT DISTINCT t.d, date_bin('1 hour', t.b, origin) AS h FROM unnest(devs, mins) t(d, b)) x;
    DELETE FROM sensor_project.rollup_1h r USING unnest(hdevs, hours) t(d, b)
     WHERE r.device_id = t.d AND r.bucket = t.b;
    INSERT INTO sensor_project.rollup_1h
    SELECT m.device_id, m.metric, t.b, sum(m.count), sum(m.sum), min(m.min), max(m.max),
           (array_agg(m.first ORDER BY m.first_ts))[1], min(m.first_ts),
           (array_agg(m.last ORDER BY m.last_ts DESC))[1], max(m.last_ts)
      FROM unnest(hdevs, hours) t(d, b)
      JOIN sensor_project.rollup_1m m
        ON m.device_id = t.d AND m.bucket >= t.b AND m.bucket < t.b + interval '1 hour'
     GROUP BY m.device_id, m.metric, t.b;
    SELECT array_agg(d), array_agg(h) INTO ddevs, days FROM (
        SELECT DISTINCT t.d, date_bin('1 day', t.b, origin) AS h FROM unnest(hdevs, hours) t(d, b)) x;
    DELETE FROM sensor_project.rollup_1d r USING unnest(ddevs, days) t(d, b)
     WHERE r.device_id = t.d AND r.bucket = t.b;
    INSERT INTO sensor_project.rollup_1d
    SELECT m.device_id, m.metric, t.b, sum(m.count), sum(m.sum), min(m.min), max(m.max),
           (array_agg(m.first ORDER BY m.first_ts))[1], min(m.first_ts),
           (array_agg(m.last ORDER BY m.last_ts DESC))[1], max(m.last_ts)
      FROM unnest(ddevs, days) t(d, b)
      JOIN sensor_project.rollup_1h m
        ON m.device_id = t.d AND m.bucket >= t.b AND m.bucket < t.b + interval '1 day'
     GROUP BY m.device_id, m.metric, t.b;
END
$fn$;

-- One round of the background worker: up to max_minutes dirty rows, taken and recomputed in
-- this transaction. Returns the rows taken; -1 when another worker holds the lock.
CREATE OR REPLACE FUNCTION sensor_project.rollup_refresh(lock_key bigint, max_minutes integer)
RETURNS integer LANGUAGE plpgsql AS $fn$
DECLARE
    devs text[];
    mins timestamptz[];
    taken_rows integer;
BEGIN
    IF NOT pg_try_advisory_xact_lock(lock_key) THEN
        RETURN -1;
    END IF;
    WITH taken AS (
        DELETE FROM sensor_project.rollup_dirty
         WHERE ctid = ANY (ARRAY(SELECT ctid FROM sensor_project.rollup_dirty
                                  LIMIT max_minutes FOR UPDATE SKIP LOCKED))
        RETURNING device_id, bucket)
    SELECT COALESCE(sum(n), 0)::integer, array_agg(device_id), array_agg(bucket)
      INTO taken_rows, devs, mins
      FROM (SELECT device_id, bucket, count(*) AS n FROM taken GROUP BY 1, 2) x;
    IF devs IS NOT NULL THEN
        PERFORM sensor_project.rollup_recompute(devs, mins);
    END IF;
    RETURN taken_rows;
END
$fn$;

-- The one-time build over rows stored before this migration, a UTC day per step, resumable:
-- [next_from, until_ts) is still to do. Rows written later are tracked by the triggers.
CREATE TABLE IF NOT EXISTS sensor_project.rollup_backfill (
    next_from TIMESTAMPTZ NOT NULL,
    until_ts  TIMESTAMPTZ NOT NULL
);
INSERT INTO sensor_project.rollup_backfill (next_from, until_ts)
SELECT COALESCE(date_bin('1 day', min(ts_utc), TIMESTAMPTZ '2000-01-01Z'), now()),
       COALESCE(date_bin('1 day', max(ts_utc), TIMESTAMPTZ '2000-01-01Z') + interval '1 day',
                now())
  FROM sensor_project.readings
 WHERE NOT EXISTS (SELECT 1 FROM sensor_project.rollup_backfill);

-- One backfill step (one UTC day, every device). Returns the days left after it.
CREATE OR REPLACE FUNCTION sensor_project.rollup_backfill_step(lock_key bigint)
RETURNS integer LANGUAGE plpgsql AS $fn$
DECLARE
    f timestamptz;
    u timestamptz;
    devs text[];
    mins timestamptz[];
BEGIN
    PERFORM pg_advisory_xact_lock(lock_key);
    SELECT next_from, until_ts INTO f, u FROM sensor_project.rollup_backfill FOR UPDATE;
    IF f IS NULL OR f >= u THEN
        RETURN 0;
    END IF;
    -- Each device's day by the (device_id, ts_utc) index; the devices by a skip scan of it.
    WITH RECURSIVE ds(d) AS (
        SELECT min(device_id) FROM sensor_project.readings
        UNION ALL
        SELECT (SELECT min(device_id) FROM sensor_project.readings WHERE device_id > ds.d)
          FROM ds WHERE ds.d IS NOT NULL)
    SELECT array_agg(device_id), array_agg(b) INTO devs, mins FROM (
        SELECT DISTINCT r.device_id, date_bin('1 minute', r.ts_utc, TIMESTAMPTZ '2000-01-01Z') AS b
          FROM ds JOIN sensor_project.readings r
            ON r.device_id = ds.d AND r.ts_utc >= f AND r.ts_utc < f + interval '1 day') x;
    IF devs IS NOT NULL THEN
        PERFORM sensor_project.rollup_recompute(devs, mins);
    END IF;
    UPDATE sensor_project.rollup_backfill SET next_from = f + interval '1 day';
    RETURN greatest(0, ceil(extract(epoch FROM u - (f + interval '1 day')) / 86400)::integer);
END
$fn$;

-- Views for Grafana and SQL users, without jsonb: one row per reading and numeric metric (raw
-- values), and the rollups (avg = sum / count). The read-only role sensorsys_ro gets SELECT on
-- these views only (created by --migrate when the connecting user may create roles).
CREATE OR REPLACE VIEW sensor_project.measurements AS
SELECT r.ts_utc AS ts, r.device_id, p.metric, p.value
  FROM sensor_project.readings r
 CROSS JOIN LATERAL sensor_project.numeric_paths(r.payload) p;
CREATE OR REPLACE VIEW sensor_project.measurements_1m AS
SELECT bucket AS ts, device_id, metric, count, sum, sum / count AS avg, min, max, first, last
  FROM sensor_project.rollup_1m;
CREATE OR REPLACE VIEW sensor_project.measurements_1h AS
SELECT bucket AS ts, device_id, metric, count, sum, sum / count AS avg, min, max, first, last
  FROM sensor_project.rollup_1h;
CREATE OR REPLACE VIEW sensor_project.measurements_1d AS
SELECT bucket AS ts, device_id, metric, count, sum, sum / count AS avg, min, max, first, last
  FROM sensor_project.rollup_1d;
