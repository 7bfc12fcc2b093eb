-- The agent's SQLite buffer. One row per reading; a row leaves only when retention deletes it.
-- AUTOINCREMENT: ids are never reused, so an id the sync thread holds can never come to mean
-- another reading after retention deleted the row with the highest id.
CREATE TABLE IF NOT EXISTS readings (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    reading_id        TEXT    NOT NULL UNIQUE,
    device_id         TEXT    NOT NULL,
    ts_utc            TEXT    NOT NULL,
    ts_local          TEXT    NOT NULL,
    payload           TEXT    NOT NULL,
    is_synced         INTEGER NOT NULL DEFAULT 0,
    quarantined       INTEGER NOT NULL DEFAULT 0,
    quarantine_reason TEXT
);
-- Only the backlog is in this index, so "oldest unsynced" reads a batch of index entries no
-- matter how many synced rows the table holds (the seed scanned them all).
CREATE INDEX IF NOT EXISTS readings_unsynced_idx ON readings (id)
    WHERE is_synced = 0 AND quarantined = 0;
-- Totals over the store's life (retention's deletions), for --status.
CREATE TABLE IF NOT EXISTS store_counters (
    name  TEXT    PRIMARY KEY,
    value INTEGER NOT NULL DEFAULT 0
);
INSERT OR IGNORE INTO store_counters (name, value) VALUES ('deleted_synced', 0);
INSERT OR IGNORE INTO store_counters (name, value) VALUES ('deleted_unsynced', 0);
