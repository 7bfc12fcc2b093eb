-- Idempotency key, the device's UTC offset and the time the server received a reading.
-- Seed rows are kept: each gets a generated reading_id; their offset is unknown (the seed
-- returned them as +00:00), so it is 0, which keeps what seed clients saw.
ALTER TABLE sensor_project.readings ADD COLUMN IF NOT EXISTS reading_id UUID;
ALTER TABLE sensor_project.readings ADD COLUMN IF NOT EXISTS ts_local_offset INTEGER;
ALTER TABLE sensor_project.readings ADD COLUMN IF NOT EXISTS received_at TIMESTAMPTZ;
UPDATE sensor_project.readings
   SET reading_id = COALESCE(reading_id, gen_random_uuid()),
       ts_local_offset = COALESCE(ts_local_offset, 0),
       received_at = COALESCE(received_at, now())
 WHERE reading_id IS NULL OR ts_local_offset IS NULL OR received_at IS NULL;
ALTER TABLE sensor_project.readings ALTER COLUMN reading_id SET DEFAULT gen_random_uuid();
ALTER TABLE sensor_project.readings ALTER COLUMN reading_id SET NOT NULL;
ALTER TABLE sensor_project.readings ALTER COLUMN ts_local_offset SET DEFAULT 0;
ALTER TABLE sensor_project.readings ALTER COLUMN ts_local_offset SET NOT NULL;
ALTER TABLE sensor_project.readings ALTER COLUMN received_at SET DEFAULT now();
ALTER TABLE sensor_project.readings ALTER COLUMN received_at SET NOT NULL;
ALTER TABLE sensor_project.readings ADD CONSTRAINT readings_ts_local_offset_range
    CHECK (ts_local_offset BETWEEN -86399 AND 86399);
CREATE UNIQUE INDEX IF NOT EXISTS readings_reading_id_key ON sensor_project.readings (reading_id);
-- (ts_local, id) and (device_id, ts_local, id) serve the seed's queries, keyset pagination and
-- "latest" (a backward index scan); they replace the seed's two narrower indexes, which would
-- only cost ingest time.
CREATE INDEX IF NOT EXISTS readings_ts_local_id_idx ON sensor_project.readings (ts_local, id);
CREATE INDEX IF NOT EXISTS readings_device_ts_local_id_idx
    ON sensor_project.readings (device_id, ts_local, id);
DROP INDEX IF EXISTS sensor_project.idx_readings_ts_local;
DROP INDEX IF EXISTS sensor_project.idx_readings_device_ts_local;
