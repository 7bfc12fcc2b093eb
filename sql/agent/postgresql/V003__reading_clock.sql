-- What dating a reading after the fact needs: CLOCK_BOOTTIME and the boot id when it was taken,
-- whether it waits for a time source before it may be sent (held), and how its time was
-- established (ts_quality: NULL when the clock was confirmed, 'corrected' or 'unsynced').
ALTER TABLE sensor_project.readings ADD COLUMN IF NOT EXISTS boottime_ns BIGINT;
ALTER TABLE sensor_project.readings ADD COLUMN IF NOT EXISTS boot_id TEXT;
ALTER TABLE sensor_project.readings ADD COLUMN IF NOT EXISTS held BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE sensor_project.readings ADD COLUMN IF NOT EXISTS ts_quality TEXT;
CREATE INDEX IF NOT EXISTS readings_held_idx ON sensor_project.readings (id) WHERE held;
