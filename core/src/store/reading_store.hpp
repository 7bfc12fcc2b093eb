// The agent's durable buffer: every reading is committed here before anything else happens to
// it, and leaves only when the server confirmed it (synced) or retention deleted it.
// Implementations: SQLite (default, embedded) and PostgreSQL (the seed's layout), both through
// Poco::Data. Thread-safety: every method may be called from any thread (the scheduler adds,
// the sync thread reads and marks, retention deletes); implementations serialise internally.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace sensorsys::agent {

// The store cannot be reached or written (database down, disk full, file unwritable).
// The reading was NOT committed; the caller keeps it and retries.
class StoreUnavailable : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// A reading as the store holds it, ready to send: `json` is exactly what POST /readings/bulk
// takes for one item ({"device_id","reading_id","ts_utc","ts_local","payload"}).
struct StoredReading {
    std::int64_t id = 0;    // the store's own row id, increasing in insertion order
    std::string readingId;  // UUIDv7 text
    std::string json;
};

// When and in which boot a reading was taken (CLOCK_BOOTTIME; -1: unknown, e.g. imported), and
// whether it waits for a time source before it may be sent (see HeldReadings).
struct ReadingClock {
    std::int64_t boottimeNs = -1;
    std::string bootId;
    bool held = false;
};

// A reading that waits for its time (held): what HeldReadings needs to date it.
struct HeldReading {
    std::int64_t id = 0;
    std::string readingId;
    std::string bootId;            // empty: unknown
    std::int64_t boottimeNs = -1;  // -1: unknown
    std::string tsUtc;             // the wall clock's time when it was taken
};

// How a held reading leaves the hold: new reading_id, ts_utc and ts_local (empty: kept as
// they are) and its ts_quality (empty: none).
struct Release {
    std::int64_t id = 0;
    std::string readingId;
    std::string tsUtc;
    std::string tsLocal;
    std::string tsQuality;
};

struct StoreStats {
    std::int64_t unsynced = 0;     // backlog (not synced, not quarantined)
    std::int64_t synced = 0;       // synced and still kept
    std::int64_t quarantined = 0;  // refused by the server, kept, never resent
    std::int64_t held = 0;         // part of the backlog: waiting for the time to be known
    std::optional<std::string> oldestUnsyncedTsUtc;
    std::int64_t deletedSynced = 0;    // by retention, over the store's life
    std::int64_t deletedUnsynced = 0;  // by retention (data loss, logged), over the store's life
    std::int64_t sizeBytes = 0;        // on-disk size of the store (SQLite file / PG relation)
};

struct RetentionResult {
    std::int64_t deletedSynced = 0;
    std::int64_t deletedUnsynced = 0;
    std::optional<std::string> keptFromTsUtc;  // time span kept, for the log line
    std::optional<std::string> keptToTsUtc;
};

class ReadingStore {
  public:
    virtual ~ReadingStore() = default;

    // Commits one reading durably (survives kill -9 and power loss once this returns).
    // Idempotent on reading_id. Throws StoreUnavailable; std::invalid_argument when `json` is
    // not a reading (or its reading_id differs from `reading_id`, when that is set) - retrying
    // that would never succeed.
    virtual void add(const StoredReading& reading) = 0;
    // The same, recording when it was taken; a store that never holds readings ignores `clock`.
    virtual void add(const StoredReading& reading, const ReadingClock& /*clock*/) { add(reading); }

    // Up to `limit` held readings with an id above `after_id`, oldest first. A store that
    // never holds readings has none.
    virtual std::vector<HeldReading> held(std::size_t /*limit*/, std::int64_t /*after_id*/) {
        return {};
    }
    // Releases held readings in one transaction: from then on they are sent like any other,
    // with the reading_id and times given here, which never change again.
    virtual void release(const std::vector<Release>& /*rows*/) {}

    // Up to `limit` unsynced, unquarantined, not held readings with an id above `after_id`, oldest
    // first
    // (= in commit order, by id). Costs the same with 10 or 10 million rows in the store (a
    // partial index holding only the backlog, never a scan of synced rows). `after_id` lets the
    // sync thread read the next batch while the previous one is still being marked synced.
    virtual std::vector<StoredReading> oldestUnsynced(std::size_t limit, std::int64_t after_id) = 0;
    std::vector<StoredReading> oldestUnsynced(std::size_t limit) {
        return oldestUnsynced(limit, 0);
    }

    // Marks the given rows synced, in one transaction.
    virtual void markSynced(const std::vector<std::int64_t>& ids) = 0;

    // Marks rows quarantined with the server's reason: kept, counted, never resent
    // (not even when the same reading_id is added again).
    virtual void quarantine(const std::vector<std::pair<std::int64_t, std::string>>& rows) = 0;

    virtual StoreStats stats() = 0;

    // Deletes `synced_count` synced readings spread evenly over time (stratified), then, only
    // if `unsynced_count` > 0, that many unsynced ones the same way; reclaims the space.
    // Quarantined readings count as synced here (they will never be sent either), so they go
    // before the backlog. Stratified: in ts_utc order the oldest and newest row of each group
    // stay (unless all are asked for) and the others go one every n/k rows. The kept span is
    // the whole table's. Not retried on a lost connection (a delete must not run twice).
    virtual RetentionResult deleteStratified(std::int64_t synced_count,
                                             std::int64_t unsynced_count) = 0;

    // Rewrites the store so the space of deleted rows goes back to the filesystem. A stratified
    // delete leaves most pages partly full, and only emptied pages are reclaimed by the
    // deletion itself. Needs room for a copy of the store and blocks writers while it runs
    // (SQLite: VACUUM; PostgreSQL: VACUUM FULL of the readings table). Throws StoreUnavailable.
    virtual void compact() = 0;

    // Path of a file on the filesystem that holds the store (SQLite: the db file; PostgreSQL on
    // this machine: its data directory, when the role may read it); empty when the store is
    // not local (PostgreSQL on another host) - retention then measures nothing.
    virtual std::string filesystemPath() const = 0;
};

}  // namespace sensorsys::agent
