-- What dating a reading after the fact needs: CLOCK_BOOTTIME and the boot id when it was taken,
-- whether it waits for a time source before it may be sent (held), and how its time was
-- established (ts_quality: NULL when the clock was confirmed, 'corrected' or 'unsynced').
ALTER TABLE readings ADD COLUMN boottime_ns INTEGER;
ALTER TABLE readings ADD COLUMN boot_id TEXT;
ALTER TABLE readings ADD COLUMN held INTEGER NOT NULL DEFAULT 0;
ALTER TABLE readings ADD COLUMN ts_quality TEXT;
CREATE INDEX IF NOT EXISTS readings_held_idx ON readings (id) WHERE held = 1;
