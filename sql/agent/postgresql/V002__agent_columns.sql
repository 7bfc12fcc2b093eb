-- What the agent adds to the seed's table, upgrading an existing seed table in place: the
-- idempotency key (existing rows get a generated one), the device's UTC offset of ts_local
-- (timestamptz keeps UTC only; seed rows had none, so 0), and quarantine.
ALTER TABLE sensor_project.readings ADD COLUMN IF NOT EXISTS reading_id UUID;
ALTER TABLE sensor_project.readings ADD COLUMN IF NOT EXISTS ts_local_offset INTEGER;
ALTER TABLE sensor_project.readings ADD COLUMN IF NOT EXISTS quarantined BOOLEAN;
ALTER TABLE sensor_project.readings ADD COLUMN IF NOT EXISTS quarantine_reason TEXT;
UPDATE sensor_project.readings
   SET reading_id = COALESCE(reading_id, gen_random_uuid()),
       ts_local_offset = COALESCE(ts_local_offset, 0),
       quarantined = COALESCE(quarantined, FALSE),
       is_synced = COALESCE(is_synced, FALSE)
 WHERE reading_id IS NULL OR ts_local_offset IS NULL OR quarantined IS NULL OR is_synced IS NULL;
ALTER TABLE sensor_project.readings ALTER COLUMN reading_id SET DEFAULT gen_random_uuid();
ALTER TABLE sensor_project.readings ALTER COLUMN reading_id SET NOT NULL;
ALTER TABLE sensor_project.readings ALTER COLUMN ts_local_offset SET DEFAULT 0;
ALTER TABLE sensor_project.readings ALTER COLUMN ts_local_offset SET NOT NULL;
ALTER TABLE sensor_project.readings ALTER COLUMN quarantined SET DEFAULT FALSE;
ALTER TABLE sensor_project.readings ALTER COLUMN quarantined SET NOT NULL;
ALTER TABLE sensor_project.readings ALTER COLUMN is_synced SET NOT NULL;
CREATE UNIQUE INDEX IF NOT EXISTS readings_reading_id_key ON sensor_project.readings (reading_id);
-- Only the backlog is in this index: "oldest unsynced" reads one batch of entries whatever
-- the number of synced rows (the seed's query scanned them all).
CREATE INDEX IF NOT EXISTS readings_unsynced_idx ON sensor_project.readings (id)
    WHERE NOT is_synced AND NOT quarantined;
-- Totals over the store's life (retention's deletions), for --status.
CREATE TABLE IF NOT EXISTS sensor_project.agent_store_counters (
    name  TEXT   PRIMARY KEY,
    value BIGINT NOT NULL DEFAULT 0
);
INSERT INTO sensor_project.agent_store_counters (name, value)
    VALUES ('deleted_synced', 0), ('deleted_unsynced', 0) ON CONFLICT (name) DO NOTHING;
-- RFC 3339 text of an instant at a UTC offset (seconds), microseconds, "+01:00" style: how a
-- reading's ts_local is sent again with the offset the device gave it.
CREATE OR REPLACE FUNCTION sensor_project.agent_rfc3339(ts TIMESTAMPTZ, offset_s INTEGER)
RETURNS TEXT LANGUAGE sql IMMUTABLE AS
'SELECT to_char((ts AT TIME ZONE ''UTC'') + make_interval(secs => offset_s), ''YYYY-MM-DD"T"HH24:MI:SS.US'')
        || CASE WHEN offset_s < 0 THEN ''-'' ELSE ''+'' END
        || lpad((abs(offset_s) / 3600)::text, 2, ''0'') || '':''
        || lpad((abs(offset_s) % 3600 / 60)::text, 2, ''0'')';
