-- Reads that stay as cheap on 24+ partitions as on one table (docs/scaling.md, "Reads").

-- Every device that has stored a reading, for the server's latest-reading cache, which is loaded
-- each time the change feed starts listening. Listing the devices from the readings took a
-- loose index scan through every partition's index: 2.5 s for 1,000 devices over 50 M rows,
-- against 58 ms on one table (bench/server/partitions.sh). A statement trigger adds the devices
-- of each insert that are not known yet; a known one costs an index probe and no write (ON
-- CONFLICT DO NOTHING), in device order, so two batches with the same new devices do not
-- deadlock. Devices whose readings were all dropped or deleted stay listed (and are found to
-- have none).
CREATE TABLE sensor_project.devices (
    device_id  VARCHAR PRIMARY KEY,
    first_seen TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE FUNCTION sensor_project.devices_insert() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    INSERT INTO sensor_project.devices (device_id)
    SELECT DISTINCT n.device_id FROM new_rows n ORDER BY n.device_id
    ON CONFLICT (device_id) DO NOTHING;
    RETURN NULL;
END
$fn$;

CREATE TRIGGER readings_devices_insert AFTER INSERT ON sensor_project.readings
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION sensor_project.devices_insert();

-- The devices stored so far (the rows of a legacy table not moved yet too), one index descent per
-- device.
INSERT INTO sensor_project.devices (device_id)
WITH RECURSIVE d AS (
    (SELECT device_id FROM sensor_project.stored_readings ORDER BY device_id LIMIT 1)
    UNION ALL
    SELECT (SELECT r.device_id FROM sensor_project.stored_readings r
             WHERE r.device_id > d.device_id ORDER BY r.device_id LIMIT 1)
      FROM d WHERE d.device_id IS NOT NULL)
SELECT device_id FROM d WHERE device_id IS NOT NULL;

-- A stored reading as the server reads it.
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

-- A device's newest reading by ts_local (then id), for GET /readings/latest on a cache miss and
-- the latest-reading cache the server loads at start-up. Ordered by ts_local, which is not the
-- partition key, PostgreSQL would descend into every partition's index. Instead: the device's
-- newest ts_utc, looked for in the partitions of the last 35 days first (pruned when the plan
-- starts: now() is stable) and only then in all; then the newest by ts_local among the rows of
-- the 28 hours before it (ts_local is within 14 hours of ts_utc, both for that row and for the
-- newest by ts_local), which are in one or two partitions. Generic plans, as readings_page.
--
-- A table of each device's newest row, kept by a trigger, answered in 0.09 ms, but cost every
-- reading a row update: ingest of the agents' payloads fell from 24,700 to 14,100 readings/s and
-- its WAL rose from 1,721 to 2,554 bytes a reading (bench/server/footprint.sh, 20 s each). So it
-- was not kept (docs/scaling.md).
CREATE FUNCTION sensor_project.readings_latest(device text)
RETURNS SETOF sensor_project.reading_row
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_generic_plan AS $fn$
DECLARE
    newest timestamptz;
BEGIN
    SELECT r.ts_utc INTO newest FROM sensor_project.stored_readings r
     WHERE r.device_id = device AND r.ts_utc >= now() - interval '35 days'
     ORDER BY r.ts_utc DESC LIMIT 1;
    IF newest IS NULL THEN
        SELECT r.ts_utc INTO newest FROM sensor_project.stored_readings r
         WHERE r.device_id = device ORDER BY r.ts_utc DESC LIMIT 1;
    END IF;
    IF newest IS NULL THEN
        RETURN;
    END IF;
    RETURN QUERY
    SELECT r.device_id, r.id, r.reading_id, r.ts_utc, r.ts_local, r.ts_local_offset, r.payload,
           r.ts_quality
      FROM sensor_project.stored_readings r
     WHERE r.device_id = device AND r.ts_utc >= newest - interval '28 hours'
       AND r.ts_utc <= newest
     ORDER BY r.device_id DESC, r.ts_local DESC, r.id DESC LIMIT 1;
END
$fn$;
