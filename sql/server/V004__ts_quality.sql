-- How a reading's ts_utc was established on the device: NULL when its clock was confirmed (and
-- for every seed row), 'corrected' when the agent re-dated it from a time source, 'unsynced'
-- when it could not (an earlier boot that never learned the time).
ALTER TABLE sensor_project.readings ADD COLUMN IF NOT EXISTS ts_quality TEXT;
