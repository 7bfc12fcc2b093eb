-- The change feed (docs/contract.md, live feed): every statement that inserts readings, whoever
-- runs it, notifies channel sensorsys_readings with a small cursor, never the rows:
--   {"devices": ["pi-a", ...], "max_id": 1234, "t": <trigger time, epoch microseconds>}
-- and without "devices" when the list would make the payload too long (NOTIFY's limit is 8000
-- bytes). A listener fetches the rows by id.
--
-- Ids come from a sequence and are not commit-ordered. A listener proves that no smaller id can
-- still appear by waiting until every transaction that may hold one has ended; that needs every
-- inserting transaction to own a transaction id before it draws a reading id. The BEFORE
-- STATEMENT trigger runs before the statement's column defaults (nextval) are evaluated and
-- assigns the id (pg_current_xact_id) once per statement.
-- Lines inside the function bodies do not end in a semicolon: the migrator splits statements
-- at lines that do.
CREATE OR REPLACE FUNCTION sensor_project.readings_take_xid() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_current_xact_id(); RETURN NULL; END $$;

CREATE OR REPLACE FUNCTION sensor_project.readings_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE payload text; top bigint; stamp bigint; BEGIN
    SELECT max(id) INTO top FROM new_rows
    ; IF top IS NULL THEN RETURN NULL; END IF
    ; stamp := (extract(epoch FROM clock_timestamp()) * 1000000)::bigint
    ; SELECT json_build_object('devices', json_agg(DISTINCT device_id), 'max_id', top,
                               't', stamp)::text
        INTO payload FROM new_rows
    ; IF octet_length(payload) > 7000 THEN
        payload := json_build_object('max_id', top, 't', stamp)::text
    ; END IF
    ; PERFORM pg_notify('sensorsys_readings', payload)
    ; RETURN NULL
; END $$;

DROP TRIGGER IF EXISTS readings_take_xid ON sensor_project.readings;
CREATE TRIGGER readings_take_xid BEFORE INSERT ON sensor_project.readings
    FOR EACH STATEMENT EXECUTE FUNCTION sensor_project.readings_take_xid();
DROP TRIGGER IF EXISTS readings_notify ON sensor_project.readings;
CREATE TRIGGER readings_notify AFTER INSERT ON sensor_project.readings
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION sensor_project.readings_notify();
