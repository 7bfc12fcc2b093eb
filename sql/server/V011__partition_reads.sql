-- Reads that stay as cheap on 24+ partitions as on one table (docs/scaling.md, "Reads").

-- Each device's newest reading (by ts_local, then id), kept by triggers on
-- sensor_project.readings. GET /readings/latest on a cache miss and the server's cache load at
-- start-up read this table: one row per device, no probe into the partitions. Found in the
-- readings instead, PostgreSQL descends into every partition's index (ts_local is not the
-- partition key) and lists the devices with a skip scan through all of them
-- (bench/server/partitions.sh).
CREATE TABLE sensor_project.device_latest (
    device_id       VARCHAR PRIMARY KEY,
    id              BIGINT NOT NULL,
    reading_id      UUID NOT NULL,
    ts_utc          TIMESTAMPTZ NOT NULL,
    ts_local        TIMESTAMPTZ NOT NULL,
    ts_local_offset INTEGER NOT NULL,
    payload         JSONB NOT NULL,
    ts_quality      TEXT
);

-- Stored readings newer than a device's row replace it. One row per device and statement, in
-- device order: two batches lock the rows they share in the same order (no deadlock), and a
-- batch waiting for another's row compares with that row once it commits.
CREATE FUNCTION sensor_project.device_latest_insert() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    INSERT INTO sensor_project.device_latest AS l
           (device_id, id, reading_id, ts_utc, ts_local, ts_local_offset, payload, ts_quality)
    SELECT DISTINCT ON (n.device_id) n.device_id, n.id, n.reading_id, n.ts_utc, n.ts_local,
           n.ts_local_offset, n.payload, n.ts_quality
      FROM new_rows n ORDER BY n.device_id, n.ts_local DESC, n.id DESC
    ON CONFLICT (device_id) DO UPDATE
       SET id = excluded.id, reading_id = excluded.reading_id, ts_utc = excluded.ts_utc,
           ts_local = excluded.ts_local, ts_local_offset = excluded.ts_local_offset,
           payload = excluded.payload, ts_quality = excluded.ts_quality
     WHERE (excluded.ts_local, excluded.id) > (l.ts_local, l.id);
    RETURN NULL;
END
$fn$;

-- The rows of the given devices found again in the stored readings (after rows were deleted,
-- changed or dropped with their partition): the newest by ts_local, found within the 28 hours
-- before the device's newest ts_utc (ts_local is within 14 hours of ts_utc, V010).
CREATE FUNCTION sensor_project.device_latest_refresh(devices text[]) RETURNS void
LANGUAGE plpgsql AS $fn$
BEGIN
    DELETE FROM sensor_project.device_latest WHERE device_id = ANY (devices);
    INSERT INTO sensor_project.device_latest
           (device_id, id, reading_id, ts_utc, ts_local, ts_local_offset, payload, ts_quality)
    SELECT x.* FROM unnest(devices) d(device_id) CROSS JOIN LATERAL (
        SELECT r.device_id, r.id, r.reading_id, r.ts_utc, r.ts_local, r.ts_local_offset,
               r.payload, r.ts_quality
          FROM sensor_project.stored_readings r
         WHERE r.device_id = d.device_id
           AND r.ts_utc >= (SELECT y.ts_utc FROM sensor_project.stored_readings y
                             WHERE y.device_id = d.device_id ORDER BY y.ts_utc DESC LIMIT 1)
                           - interval '28 hours'
         ORDER BY r.device_id DESC, r.ts_local DESC, r.id DESC LIMIT 1) x
    ON CONFLICT (device_id) DO NOTHING;
END
$fn$;

-- The server never deletes or changes a reading; a DBA may. The devices whose newest row went
-- are found again.
CREATE FUNCTION sensor_project.device_latest_delete() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    PERFORM sensor_project.device_latest_refresh(ARRAY(
        SELECT DISTINCT o.device_id FROM old_rows o
          JOIN sensor_project.device_latest l ON l.device_id = o.device_id AND l.id = o.id));
    RETURN NULL;
END
$fn$;

CREATE FUNCTION sensor_project.device_latest_update() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    PERFORM sensor_project.device_latest_refresh(ARRAY(
        SELECT device_id FROM old_rows UNION SELECT device_id FROM new_rows));
    RETURN NULL;
END
$fn$;

CREATE TRIGGER readings_latest_insert AFTER INSERT ON sensor_project.readings
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION sensor_project.device_latest_insert();
CREATE TRIGGER readings_latest_update AFTER UPDATE ON sensor_project.readings
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION sensor_project.device_latest_update();
CREATE TRIGGER readings_latest_delete AFTER DELETE ON sensor_project.readings
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION sensor_project.device_latest_delete();

-- Every device stored so far (also the rows of a legacy table not moved yet), one index
-- descent per device.
SELECT sensor_project.device_latest_refresh(ARRAY(
    WITH RECURSIVE d AS (
        (SELECT device_id FROM sensor_project.stored_readings ORDER BY device_id LIMIT 1)
        UNION ALL
        SELECT (SELECT r.device_id FROM sensor_project.stored_readings r
                 WHERE r.device_id > d.device_id ORDER BY r.device_id LIMIT 1)
          FROM d WHERE d.device_id IS NOT NULL)
    SELECT device_id FROM d WHERE device_id IS NOT NULL));

-- Retention drops partitions without a DELETE: the devices whose newest row was in one are found
-- again afterwards.
CREATE OR REPLACE FUNCTION sensor_project.readings_drop_partitions(cutoff timestamptz)
RETURNS SETOF text LANGUAGE plpgsql AS $fn$
DECLARE
    p record;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('sensorsys-partitions', 0));
    FOR p IN SELECT name FROM sensor_project.readings_partitions WHERE hi <= cutoff ORDER BY lo LOOP
        EXECUTE format('DROP TABLE sensor_project.%I', p.name);
        RETURN NEXT p.name;
    END LOOP;
    PERFORM sensor_project.device_latest_refresh(ARRAY(
        SELECT l.device_id FROM sensor_project.device_latest l
         WHERE l.ts_utc < cutoff
           AND NOT EXISTS (SELECT 1 FROM sensor_project.stored_readings r
                            WHERE r.id = l.id AND r.ts_utc = l.ts_utc)));
END
$fn$;

-- A stored reading as the server reads it (the columns of device_latest).
CREATE TYPE sensor_project.reading_row AS (
    device_id       VARCHAR,
    id              BIGINT,
    reading_id      UUID,
    ts_utc          TIMESTAMPTZ,
    ts_local        TIMESTAMPTZ,
    ts_local_offset INTEGER,
    payload         JSONB,
    ts_quality      TEXT
);

-- A page of GET /readings (ReadingStore::page): the readings with ts_local in [lo, hi] after
-- the cursor (after_ts, after_id), in (ts_local, id) order, at most max_rows; of one device, or of
-- all when device is NULL. utc_lo and utc_hi are the ts_utc bounds of [after_ts, hi] (ts_local
-- +- 14 hours), so that only those partitions are read.
--
-- In a function for one reason: its own plan_cache_mode. A prepared statement's custom plan
-- prunes partitions while planning, but planning even the pruned partitions took 2.6x the
-- whole request of one device on an unpartitioned table; PostgreSQL's plan cache keeps choosing
-- custom plans because it costs a generic plan with every partition in it. The generic plan
-- prunes when it starts, at a fraction of that (bench/README.md, "Partitioned"). Every other
-- statement keeps the plan cache's choice: forced generic plans on every statement broke the
-- hostile-load test.
CREATE FUNCTION sensor_project.readings_page(lo timestamptz, hi timestamptz,
                                             after_ts timestamptz, after_id bigint,
                                             max_rows integer, utc_lo timestamptz,
                                             utc_hi timestamptz, device text)
RETURNS SETOF sensor_project.reading_row
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_generic_plan AS $fn$
BEGIN
    IF device IS NULL THEN
        RETURN QUERY
        SELECT r.device_id, r.id, r.reading_id, r.ts_utc, r.ts_local, r.ts_local_offset,
               r.payload, r.ts_quality
          FROM sensor_project.stored_readings r
         WHERE r.ts_local >= lo AND r.ts_local <= hi AND (r.ts_local, r.id) > (after_ts, after_id)
           AND r.ts_utc >= utc_lo AND r.ts_utc <= utc_hi
         ORDER BY r.ts_local, r.id LIMIT max_rows;
    ELSE
        RETURN QUERY
        SELECT r.device_id, r.id, r.reading_id, r.ts_utc, r.ts_local, r.ts_local_offset,
               r.payload, r.ts_quality
          FROM sensor_project.stored_readings r
         WHERE r.device_id = device AND r.ts_local >= lo AND r.ts_local <= hi
           AND (r.ts_local, r.id) > (after_ts, after_id)
           AND r.ts_utc >= utc_lo AND r.ts_utc <= utc_hi
         ORDER BY r.ts_local, r.id LIMIT max_rows;
    END IF;
END
$fn$;
