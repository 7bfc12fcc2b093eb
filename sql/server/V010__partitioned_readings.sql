-- Readings partitioned by ts_utc (docs/scaling.md). The table of V001-V009 becomes
-- sensor_project.readings_legacy; sensor_project.readings is now a partitioned table with one
-- range partition per database.partition_interval (readings_pYYYYMMDD, named after the first
-- day it holds), made ahead of time by the server's maintenance worker and by --migrate. Rows
-- of the legacy table are moved into it afterwards, in batches, while the server runs
-- (readings_move_step below); until then sensor_project.stored_readings shows both tables and
-- every read of the server goes through that view.

-- GET /readings filters on ts_local and prunes partitions by ts_utc bounds 14 hours wider
-- (the largest UTC offset in use): that is only sound when no stored row is further apart.
-- The server refuses such readings; a stored one stops the migration here with the count.
DO $$
DECLARE
    n bigint;
BEGIN
    SELECT count(*) INTO n FROM sensor_project.readings
     WHERE ts_local NOT BETWEEN ts_utc - interval '14 hours' AND ts_utc + interval '14 hours';
    IF n > 0 THEN
        RAISE EXCEPTION USING MESSAGE = format('%s stored readings have a ts_local more than '
            '14 hours from their ts_utc; partitioning needs every reading within 14 hours. '
            'Correct them (e.g. UPDATE sensor_project.readings SET ts_local = ts_utc WHERE '
            'ts_local NOT BETWEEN ts_utc - interval ''14 hours'' AND ts_utc + interval '
            '''14 hours'') and run --migrate again', n);
    END IF;
END
$$;

-- Ids outgrow int4 at fleet scale (10,000 devices store 5 billion readings a year).
DO $$
BEGIN
    EXECUTE format('ALTER SEQUENCE %s AS bigint',
                   pg_get_serial_sequence('sensor_project.readings', 'id'));
END
$$;

ALTER TABLE sensor_project.readings RENAME TO readings_legacy;
ALTER INDEX IF EXISTS sensor_project.readings_pkey RENAME TO readings_legacy_pkey;
ALTER INDEX IF EXISTS sensor_project.readings_reading_id_key RENAME TO readings_legacy_reading_id_key;
ALTER INDEX IF EXISTS sensor_project.readings_ts_local_id_idx RENAME TO readings_legacy_ts_local_id_idx;
ALTER INDEX IF EXISTS sensor_project.readings_device_ts_local_id_idx
    RENAME TO readings_legacy_device_ts_local_id_idx;
ALTER INDEX IF EXISTS sensor_project.readings_device_ts_utc_idx RENAME TO readings_legacy_device_ts_utc_idx;
DROP TRIGGER IF EXISTS readings_take_xid ON sensor_project.readings_legacy;
DROP TRIGGER IF EXISTS readings_notify ON sensor_project.readings_legacy;
DROP TRIGGER IF EXISTS readings_rollup_insert ON sensor_project.readings_legacy;
DROP TRIGGER IF EXISTS readings_rollup_update ON sensor_project.readings_legacy;
DROP TRIGGER IF EXISTS readings_rollup_delete ON sensor_project.readings_legacy;
DROP TRIGGER IF EXISTS readings_alert_insert ON sensor_project.readings_legacy;

CREATE TABLE sensor_project.readings (
    id              BIGINT      NOT NULL,
    device_id       VARCHAR     NOT NULL,
    ts_utc          TIMESTAMPTZ NOT NULL,
    ts_local        TIMESTAMPTZ NOT NULL,
    payload         JSONB       NOT NULL,
    reading_id      UUID        NOT NULL DEFAULT gen_random_uuid(),
    ts_local_offset INTEGER     NOT NULL DEFAULT 0,
    received_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    ts_quality      TEXT,
    CONSTRAINT readings_ts_local_offset_range CHECK (ts_local_offset BETWEEN -86399 AND 86399),
    CONSTRAINT readings_ts_local_near_utc
        CHECK (ts_local BETWEEN ts_utc - interval '14 hours' AND ts_utc + interval '14 hours'),
    PRIMARY KEY (id, ts_utc)
) PARTITION BY RANGE (ts_utc);
DO $$
DECLARE
    seq text := pg_get_serial_sequence('sensor_project.readings_legacy', 'id');
BEGIN
    EXECUTE format('ALTER TABLE sensor_project.readings ALTER COLUMN id SET DEFAULT nextval(%L)',
                   seq);
    EXECUTE format('ALTER SEQUENCE %s OWNED BY sensor_project.readings.id', seq);
END
$$;
CREATE INDEX readings_ts_local_id_idx ON sensor_project.readings (ts_local, id);
CREATE INDEX readings_device_ts_local_id_idx ON sensor_project.readings (device_id, ts_local, id);
CREATE INDEX readings_device_ts_utc_idx ON sensor_project.readings (device_id, ts_utc);

-- Idempotency. A unique key of a partitioned table must hold the partition column, so
-- reading_id cannot be unique in sensor_project.readings itself. The ledger is one
-- unpartitioned row per reading id (with where the reading is): the API inserts there first
-- (ON CONFLICT DO NOTHING) and stores only the readings that were new, so a reading id is
-- stored once whatever ts_utc a second copy carries, across every partition. The ledger costs
-- about what the unique index on readings.reading_id cost before (one uuid btree) plus a narrow
-- row; retention trims it by ts_utc (BRIN: rows arrive roughly in time order).
CREATE TABLE sensor_project.reading_ledger (
    reading_id UUID        PRIMARY KEY,
    ts_utc     TIMESTAMPTZ NOT NULL,
    id         BIGINT      NOT NULL
);
CREATE INDEX reading_ledger_ts_utc_idx ON sensor_project.reading_ledger USING brin (ts_utc);
INSERT INTO sensor_project.reading_ledger (reading_id, ts_utc, id)
SELECT reading_id, ts_utc, id FROM sensor_project.readings_legacy;
-- The API draws reading ids here (the ledger insert comes first).
DO $$
BEGIN
    EXECUTE format('ALTER TABLE sensor_project.reading_ledger ALTER COLUMN id SET DEFAULT '
                   'nextval(%L)', pg_get_serial_sequence('sensor_project.readings', 'id'));
END
$$;

-- The change feed, rollups and alerts, as V005-V007 had them on the old table. Reading ids are
-- drawn by the ledger insert, so the ledger takes the transaction id first too (V005).
CREATE TRIGGER readings_take_xid BEFORE INSERT ON sensor_project.readings
    FOR EACH STATEMENT EXECUTE FUNCTION sensor_project.readings_take_xid();
CREATE TRIGGER reading_ledger_take_xid BEFORE INSERT ON sensor_project.reading_ledger
    FOR EACH STATEMENT EXECUTE FUNCTION sensor_project.readings_take_xid();
CREATE TRIGGER readings_notify AFTER INSERT ON sensor_project.readings
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION sensor_project.readings_notify();
CREATE TRIGGER readings_rollup_insert AFTER INSERT ON sensor_project.readings
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION sensor_project.rollup_mark();
CREATE TRIGGER readings_rollup_update AFTER UPDATE ON sensor_project.readings
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION sensor_project.rollup_mark();
CREATE TRIGGER readings_rollup_delete AFTER DELETE ON sensor_project.readings
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION sensor_project.rollup_mark();
CREATE TRIGGER readings_alert_insert AFTER INSERT ON sensor_project.readings
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION sensor_project.alert_mark();

-- The partitions and their ranges, read from the catalog (so partitions made by pg_partman or
-- by hand count too).
CREATE VIEW sensor_project.readings_partitions AS
SELECT c.relname::text AS name, b[1]::timestamptz AS lo, b[2]::timestamptz AS hi
  FROM pg_inherits i
  JOIN pg_class c ON c.oid = i.inhrelid
 CROSS JOIN LATERAL regexp_match(pg_get_expr(c.relpartbound, c.oid),
                                 'FROM \(''([^'']*)''\) TO \(''([^'']*)''\)') b
 WHERE i.inhparent = 'sensor_project.readings'::regclass;

-- The aligned range [lo, hi) of the partition holding ts, for a step of whole months (counted
-- from 2000-01) or of days (counted from Monday 2000-01-03), in UTC.
CREATE FUNCTION sensor_project.partition_range(ts timestamptz, step interval,
                                               OUT lo timestamptz, OUT hi timestamptz)
LANGUAGE plpgsql IMMUTABLE AS $fn$
DECLARE
    months integer := extract(year FROM step)::integer * 12 + extract(month FROM step)::integer;
    since integer;
BEGIN
    IF months > 0 THEN
        IF step <> make_interval(months => months) THEN
            RAISE EXCEPTION 'partition interval % mixes months with days', step;
        END IF;
        since := (extract(year FROM ts AT TIME ZONE 'UTC')::integer - 2000) * 12
                 + extract(month FROM ts AT TIME ZONE 'UTC')::integer - 1;
        lo := (TIMESTAMP '2000-01-01' + make_interval(months => since - (since % months + months) % months))
              AT TIME ZONE 'UTC';
    ELSE
        IF step < interval '1 day' THEN
            RAISE EXCEPTION 'partition interval % is shorter than a day', step;
        END IF;
        lo := date_bin(step, ts, TIMESTAMPTZ '2000-01-03Z');
    END IF;
    hi := ((lo AT TIME ZONE 'UTC') + step) AT TIME ZONE 'UTC';
END
$fn$;

-- Makes the partition that holds ts unless one does; returns its name, or NULL when it existed.
-- Its range is the aligned one, narrowed where a partition made with another interval already
-- covers part of it. Made as a plain table and attached, which takes only a SHARE UPDATE
-- EXCLUSIVE lock on sensor_project.readings: reads and inserts go on meanwhile.
CREATE FUNCTION sensor_project.readings_make_partition(ts timestamptz, step interval)
RETURNS text LANGUAGE plpgsql AS $fn$
DECLARE
    lo timestamptz;
    hi timestamptz;
    name text;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('sensorsys-partitions', 0));
    IF EXISTS (SELECT 1 FROM sensor_project.readings_partitions p WHERE ts >= p.lo AND ts < p.hi) THEN
        RETURN NULL;
    END IF;
    SELECT r.lo, r.hi INTO lo, hi FROM sensor_project.partition_range(ts, step) r;
    lo := greatest(lo, (SELECT max(p.hi) FROM sensor_project.readings_partitions p WHERE p.hi <= ts));
    hi := least(hi, (SELECT min(p.lo) FROM sensor_project.readings_partitions p WHERE p.lo > ts));
    name := 'readings_p' || to_char(lo AT TIME ZONE 'UTC', 'YYYYMMDD');
    EXECUTE format('CREATE TABLE sensor_project.%I (LIKE sensor_project.readings '
                   'INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', name);
    EXECUTE format('ALTER TABLE sensor_project.%I ADD CONSTRAINT %I CHECK (ts_utc >= %L AND '
                   'ts_utc < %L)', name, name || '_range', lo, hi);
    EXECUTE format('ALTER TABLE sensor_project.readings ATTACH PARTITION sensor_project.%I '
                   'FOR VALUES FROM (%L) TO (%L)', name, lo, hi);
    EXECUTE format('ALTER TABLE sensor_project.%I DROP CONSTRAINT %I', name, name || '_range');
    RETURN name;
END
$fn$;

-- Makes every missing partition for [from_ts, until_ts); returns how many were made.
CREATE FUNCTION sensor_project.readings_make_partitions(from_ts timestamptz,
                                                        until_ts timestamptz, step interval)
RETURNS integer LANGUAGE plpgsql AS $fn$
DECLARE
    t timestamptz := from_ts;
    made integer := 0;
BEGIN
    WHILE t < until_ts LOOP
        IF sensor_project.readings_make_partition(t, step) IS NOT NULL THEN
            made := made + 1;
        END IF;
        SELECT p.hi INTO t FROM sensor_project.readings_partitions p WHERE t >= p.lo AND t < p.hi;
    END LOOP;
    RETURN made;
END
$fn$;

-- Retention: drops every partition that holds nothing at or after cutoff; returns the names.
-- Never deletes readings row by row. The ledger and the rollups are trimmed by the caller.
CREATE FUNCTION sensor_project.readings_drop_partitions(cutoff timestamptz)
RETURNS SETOF text LANGUAGE plpgsql AS $fn$
DECLARE
    p record;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('sensorsys-partitions', 0));
    FOR p IN SELECT name FROM sensor_project.readings_partitions WHERE hi <= cutoff ORDER BY lo LOOP
        EXECUTE format('DROP TABLE sensor_project.%I', p.name);
        RETURN NEXT p.name;
    END LOOP;
END
$fn$;

-- What every read sees: the partitioned table and, while a migration is under way, the rows
-- of the legacy table not moved yet (each row is in exactly one of the two at any moment).
CREATE VIEW sensor_project.stored_readings AS
SELECT id, device_id, ts_utc, ts_local, payload, reading_id, ts_local_offset, received_at,
       ts_quality
  FROM sensor_project.readings
 UNION ALL
SELECT id::bigint, device_id, ts_utc, ts_local, payload, reading_id, ts_local_offset,
       received_at, ts_quality
  FROM sensor_project.readings_legacy;

-- Progress of the move: every legacy row with an id up to moved_upto has been moved.
CREATE TABLE sensor_project.readings_migration (
    moved_upto BIGINT NOT NULL,
    moved      BIGINT NOT NULL,
    total      BIGINT NOT NULL
);
INSERT INTO sensor_project.readings_migration (moved_upto, moved, total)
SELECT -1, 0, count(*) FROM sensor_project.readings_legacy;

-- One batch of the move (the max_rows legacy rows with the smallest ids, into their
-- partitions, made here when missing unless step is NULL), in one transaction: a reader sees each row once, in one
-- table or the other. The moved rows mark their minutes for the rollup worker, which then
-- recomputes them from the partitions. The last step replaces the view and drops the legacy
-- table. Returns the rows moved; 0 when nothing is left; -1 when another server holds the lock.
CREATE FUNCTION sensor_project.readings_move_step(lock_key bigint, max_rows integer,
                                                  step interval)
RETURNS bigint LANGUAGE plpgsql AS $fn$
DECLARE
    after_id bigint;
    n bigint;
    top bigint;
    t timestamptz;
BEGIN
    IF to_regclass('sensor_project.readings_legacy') IS NULL THEN
        RETURN 0;
    END IF;
    IF NOT pg_try_advisory_xact_lock(lock_key) THEN
        RETURN -1;
    END IF;
    SELECT moved_upto INTO after_id FROM sensor_project.readings_migration;
    IF step IS NOT NULL THEN
        FOR t IN SELECT DISTINCT (sensor_project.partition_range(b.ts_utc, step)).lo
                   FROM (SELECT ts_utc FROM sensor_project.readings_legacy
                          WHERE id > after_id ORDER BY id LIMIT max_rows) b LOOP
            PERFORM sensor_project.readings_make_partition(t, step);
        END LOOP;
    END IF;
    WITH moved AS (
        DELETE FROM sensor_project.readings_legacy
         WHERE id IN (SELECT id FROM sensor_project.readings_legacy
                       WHERE id > after_id ORDER BY id LIMIT max_rows)
        RETURNING *),
    ins AS (
        INSERT INTO sensor_project.readings (id, device_id, ts_utc, ts_local, payload, reading_id,
                                             ts_local_offset, received_at, ts_quality)
        SELECT id, device_id, ts_utc, ts_local, payload, reading_id, ts_local_offset,
               received_at, ts_quality FROM moved
        RETURNING id)
    SELECT count(*), max(id) INTO n, top FROM ins;
    IF n > 0 THEN
        UPDATE sensor_project.readings_migration SET moved_upto = top, moved = moved + n;
        RETURN n;
    END IF;
    -- Nothing left: the readers' view loses its second half, then the table goes. Both wait for
    -- the reads in progress; a bounded wait keeps new reads from queueing behind a long one.
    PERFORM set_config('lock_timeout', '5s', true);
    CREATE OR REPLACE VIEW sensor_project.stored_readings AS
    SELECT id, device_id, ts_utc, ts_local, payload, reading_id, ts_local_offset, received_at,
           ts_quality
      FROM sensor_project.readings;
    DROP TABLE sensor_project.readings_legacy;
    RETURN 0;
END
$fn$;

-- Grafana's raw view reads whatever table holds a row (it followed the renamed table).
CREATE OR REPLACE VIEW sensor_project.measurements AS
SELECT r.ts_utc AS ts, r.device_id, p.metric, p.value
  FROM sensor_project.stored_readings r
 CROSS JOIN LATERAL sensor_project.numeric_paths(r.payload) p;

-- A fresh database (or one whose table was empty) has nothing to move.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM sensor_project.readings_legacy) THEN
        CREATE OR REPLACE VIEW sensor_project.stored_readings AS
        SELECT id, device_id, ts_utc, ts_local, payload, reading_id, ts_local_offset,
               received_at, ts_quality
          FROM sensor_project.readings;
        DROP TABLE sensor_project.readings_legacy;
    END IF;
END
$$;

