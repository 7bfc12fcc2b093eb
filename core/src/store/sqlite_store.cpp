#include "store/sqlite_store.hpp"

#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/Session.h>
#include <Poco/Exception.h>
#include <Poco/Logger.h>
#include <Poco/Nullable.h>
#include <Poco/String.h>

#include <filesystem>
#include <system_error>

#include "store/migrations.hpp"
#include "store/store_support.hpp"

namespace sensorsys::agent {

using namespace Poco::Data::Keywords;
namespace fs = std::filesystem;

namespace {

Poco::Logger& logger() {
    return Poco::Logger::get("sensorsys.store");
}

// Pool of rows a stratified delete picks from: already handled (synced or refused by the
// server and quarantined: neither will ever be sent) or the backlog.
constexpr const char* kHandledPool = "(is_synced = 1 OR quarantined = 1)";
constexpr const char* kBacklogPool = "(is_synced = 0 AND quarantined = 0)";

// Deletes k rows of the pool evenly over time. Numbering the pool 1..n in ts_utc order, the
// first and last rows stay (so the kept span stays the whole range) and interior row rn goes
// when floor((rn-1)*k/(n-2)) steps up - exactly k times, once every (n-2)/k rows. Only when k
// is more than the interior holds does the whole pool take part. k is bound once, as a column.
std::string stratifiedDeleteSql(const char* pool) {
    return std::string(
               "DELETE FROM readings WHERE id IN ("
               " SELECT id FROM ("
               "  SELECT id, row_number() OVER (ORDER BY ts_utc, id) AS rn,"
               "         count(*) OVER () AS n, ? AS k FROM readings WHERE ") +
           pool +
           ")"
           " WHERE CASE WHEN k <= n - 2"
           "  THEN rn > 1 AND rn < n AND ((rn - 1) * k) / (n - 2) <> ((rn - 2) * k) / (n - 2)"
           "  ELSE (rn * k) / n <> ((rn - 1) * k) / n END)";
}

}  // namespace

// The reading's JSON is put together from its columns (json_quote escapes the strings); the
// payload is spliced in as stored: add() stored the text json_extract() rendered, compact
// and valid. Not json(payload): re-parsing every payload was most of this query's cost, and
// a payload it could not parse failed the whole batch for good, where the server refuses
// just that item and the sync quarantines it.
const char* const SqliteStore::kOldestUnsyncedQuery =
    "SELECT id, reading_id,"
    " '{\"device_id\":' || json_quote(device_id) || ',\"reading_id\":' || json_quote(reading_id)"
    " || ',\"ts_utc\":' || json_quote(ts_utc) || ',\"ts_local\":' || json_quote(ts_local)"
    " || CASE WHEN ts_quality IS NULL THEN '' ELSE ',\"ts_quality\":' || json_quote(ts_quality) END"
    " || ',\"payload\":' || payload || '}'"
    " FROM readings WHERE is_synced = 0 AND quarantined = 0 AND held = 0 AND id > ?"
    " ORDER BY id LIMIT ?";

namespace {

constexpr const char* kHeldQuery =
    "SELECT id, reading_id, COALESCE(boot_id, ''), COALESCE(boottime_ns, -1), ts_utc"
    " FROM readings WHERE held = 1 AND id > ? ORDER BY id LIMIT ?";

constexpr const char* kReleaseUpdate =
    "UPDATE readings SET held = 0, reading_id = COALESCE(NULLIF(?, ''), reading_id),"
    " ts_utc = COALESCE(NULLIF(?, ''), ts_utc), ts_local = COALESCE(NULLIF(?, ''), ts_local),"
    " ts_quality = NULLIF(?, '') WHERE id = ? AND held = 1";

}  // namespace

SqliteStore::SqliteStore(std::string path) : _path(std::move(path)) {
    Poco::Data::SQLite::Connector::registerConnector();
    std::lock_guard lock(_mutex);
    try {
        openLocked();
    } catch (const StoreUnavailable& e) {
        // Not fatal: the caller queues readings and retries; every method tries to open again.
        logger().error(e.what());
    }
}

SqliteStore::~SqliteStore() = default;

Poco::Data::Session& SqliteStore::openLocked() {
    if (_session) return *_session;
    try {
        const fs::path parent = fs::path(_path).parent_path();
        if (!parent.empty()) fs::create_directories(parent);
        auto session = std::make_unique<Poco::Data::Session>("SQLite", _path);
        // Wait for another process's write (--status, --import-seed) instead of failing.
        *session << "PRAGMA busy_timeout = 5000", now;
        // Must precede the first table: incremental vacuum is what lets retention hand freed
        // pages back to the filesystem (a plain DELETE only grows the free list).
        *session << "PRAGMA auto_vacuum = INCREMENTAL", now;
        // Durability (docs/contract.md §7). WAL: a commit appends to the log and readers (the sync
        // thread, --status) never block the writer. synchronous=FULL: the log is fsync'ed at
        // every commit, so a reading is on stable storage before add() returns. NORMAL would
        // survive kill -9 (the log is in the page cache) but not power loss: the last commits
        // before a power cut could roll back, and a Pi on an SD card loses power routinely.
        // The price is one fsync per reading per interval - nothing at this rate.
        std::string mode;
        *session << "PRAGMA journal_mode = WAL", into(mode), now;
        if (Poco::toLower(mode) != "wal") {
            throw Poco::DataException("journal_mode WAL refused (got '" + mode + "')");
        }
        *session << "PRAGMA synchronous = FULL", now;
        // A 512 KiB page cache instead of SQLite's 2 MiB: the hot pages (the backlog's partial
        // index, the table's tail) fit many times over, older pages come from the OS page
        // cache, and the agent stays small on a Pi however large the buffer grows.
        *session << "PRAGMA cache_size = -512", now;
        const auto applied = migrateSqlite(*session);
        int autoVacuum = 0;
        *session << "PRAGMA auto_vacuum", into(autoVacuum), now;
        if (autoVacuum != 2) {
            // A file created without incremental auto_vacuum only switches on a full VACUUM.
            logger().information("Converting " + _path + " to incremental auto_vacuum");
            *session << "PRAGMA auto_vacuum = INCREMENTAL", now;
            *session << "VACUUM", now;
        }
        if (!applied.empty()) {
            logger().information("Store " + _path + " migrated to version " +
                                 std::to_string(applied.back()));
        }
        _session = std::move(session);
        return *_session;
    } catch (const Poco::Exception& e) {
        throw StoreUnavailable("SQLite store " + _path + ": open failed: " + e.displayText());
    } catch (const std::exception& e) {
        throw StoreUnavailable("SQLite store " + _path + ": open failed: " + e.what());
    }
}

template <class F>
auto SqliteStore::withSession(const char* what, F&& f) {
    std::lock_guard lock(_mutex);
    Poco::Data::Session& session = openLocked();
    try {
        return f(session);
    } catch (const Poco::Exception& e) {
        // Closing the connection rolls back whatever was open; the next call reopens.
        _session.reset();
        throw StoreUnavailable("SQLite store " + _path + ": " + what +
                               " failed: " + e.displayText());
    } catch (const std::system_error& e) {
        _session.reset();
        throw StoreUnavailable("SQLite store " + _path + ": " + what + " failed: " + e.what());
    }
}

void SqliteStore::add(const StoredReading& reading) {
    add(reading, ReadingClock{});
}

void SqliteStore::add(const StoredReading& reading, const ReadingClock& clock) {
    store_support::validateReading(reading);
    withSession("add", [&](Poco::Data::Session& s) {
        std::string json = reading.json;
        Poco::Int64 boottime = clock.boottimeNs;
        std::string bootId = clock.bootId;
        int held = clock.held ? 1 : 0;
        // One statement: SQLite's JSON functions split the reading into columns and keep the
        // payload's text as sent (numbers keep their digits).
        s << "INSERT INTO readings (reading_id, device_id, ts_utc, ts_local, payload,"
             "  ts_quality, boottime_ns, boot_id, held)"
             " SELECT json_extract(j, '$.reading_id'), json_extract(j, '$.device_id'),"
             "        json_extract(j, '$.ts_utc'), json_extract(j, '$.ts_local'),"
             "        json_extract(j, '$.payload'), json_extract(j, '$.ts_quality'),"
             "        NULLIF(?, -1), NULLIF(?, ''), ?"
             " FROM (SELECT ? AS j) WHERE true"
             " ON CONFLICT (reading_id) DO NOTHING",
            use(boottime), use(bootId), use(held), use(json), now;
    });
}

std::vector<StoredReading> SqliteStore::oldestUnsynced(std::size_t limit, std::int64_t after_id) {
    return withSession("oldestUnsynced", [&](Poco::Data::Session& s) {
        return store_support::fetchReadings(s, kOldestUnsyncedQuery, after_id, limit);
    });
}

std::vector<HeldReading> SqliteStore::held(std::size_t limit, std::int64_t after_id) {
    return withSession("held", [&](Poco::Data::Session& s) {
        return store_support::fetchHeld(s, kHeldQuery, after_id, limit);
    });
}

void SqliteStore::release(const std::vector<Release>& rows) {
    if (rows.empty()) return;
    withSession("release", [&](Poco::Data::Session& s) {
        store_support::applyRelease(s, kReleaseUpdate, rows);
    });
}

void SqliteStore::markSynced(const std::vector<std::int64_t>& ids) {
    if (ids.empty()) return;
    withSession("markSynced", [&](Poco::Data::Session& s) {
        // One statement: atomic. Committed without its own fsync (synchronous=NORMAL for this
        // one transaction): the WAL is fsync'ed by the next reading's commit or the next
        // checkpoint, whichever comes first. Losing a mark to a power cut only means the batch
        // is sent again and the server counts it as duplicates - nothing lost, nothing stored
        // twice - while an fsync per batch is the slowest part of a drain on an SD card. A
        // failure here closes the session; it reopens with synchronous=FULL.
        std::string list = store_support::idsAsJsonArray(ids);
        s << "PRAGMA synchronous = NORMAL", now;
        s << "UPDATE readings SET is_synced = 1"
             " WHERE id IN (SELECT value FROM json_each(?))",
            use(list), now;
        s << "PRAGMA synchronous = FULL", now;
    });
}

void SqliteStore::quarantine(const std::vector<std::pair<std::int64_t, std::string>>& rows) {
    if (rows.empty()) return;
    withSession("quarantine", [&](Poco::Data::Session& s) {
        s.begin();
        for (const auto& [id, reason] : rows) {
            Poco::Int64 rowId = id;
            std::string why = reason;
            s << "UPDATE readings SET quarantined = 1, quarantine_reason = ? WHERE id = ?",
                use(why), use(rowId), now;
        }
        s.commit();
    });
}

std::int64_t SqliteStore::fileBytes() const {
    std::int64_t total = 0;
    for (const auto& file : {_path, _path + "-wal"}) {
        std::error_code ec;
        const auto size = fs::file_size(file, ec);
        if (!ec) total += static_cast<std::int64_t>(size);
    }
    return total;
}

StoreStats SqliteStore::stats() {
    StoreStats st = withSession("stats", [&](Poco::Data::Session& s) {
        StoreStats r;
        Poco::Nullable<std::string> oldest;
        s << "SELECT (SELECT count(*) FROM readings WHERE is_synced = 0 AND quarantined = 0),"
             " (SELECT count(*) FROM readings WHERE is_synced = 1 AND quarantined = 0),"
             " (SELECT count(*) FROM readings WHERE quarantined = 1),"
             " (SELECT count(*) FROM readings WHERE held = 1 AND is_synced = 0"
             "  AND quarantined = 0),"
             " (SELECT ts_utc FROM readings WHERE is_synced = 0 AND quarantined = 0"
             "  ORDER BY id LIMIT 1),"
             " (SELECT value FROM store_counters WHERE name = 'deleted_synced'),"
             " (SELECT value FROM store_counters WHERE name = 'deleted_unsynced')",
            into(r.unsynced), into(r.synced), into(r.quarantined), into(r.held), into(oldest),
            into(r.deletedSynced), into(r.deletedUnsynced), now;
        if (!oldest.isNull()) r.oldestUnsyncedTsUtc = oldest.value();
        return r;
    });
    st.sizeBytes = fileBytes();
    return st;
}

RetentionResult SqliteStore::deleteStratified(std::int64_t synced_count,
                                              std::int64_t unsynced_count) {
    return withSession("deleteStratified", [&](Poco::Data::Session& s) {
        RetentionResult result;
        s.begin();
        auto deleteFrom = [&](const char* pool, std::int64_t count, const char* counter) {
            if (count <= 0) return std::int64_t{0};
            Poco::Int64 k = count;
            s << stratifiedDeleteSql(pool), use(k), now;
            Poco::Int64 deleted = 0;
            s << "SELECT changes()", into(deleted), now;
            std::string name = counter;
            s << "UPDATE store_counters SET value = value + ? WHERE name = ?", use(deleted),
                use(name), now;
            return static_cast<std::int64_t>(deleted);
        };
        result.deletedSynced = deleteFrom(kHandledPool, synced_count, "deleted_synced");
        result.deletedUnsynced = deleteFrom(kBacklogPool, unsynced_count, "deleted_unsynced");
        Poco::Nullable<std::string> from;
        Poco::Nullable<std::string> to;
        s << "SELECT min(ts_utc), max(ts_utc) FROM readings", into(from), into(to), now;
        s.commit();
        if (!from.isNull()) result.keptFromTsUtc = from.value();
        if (!to.isNull()) result.keptToTsUtc = to.value();
        if (result.deletedSynced + result.deletedUnsynced > 0) {
            // Hand the freed pages back to the filesystem, then checkpoint so the shrunken
            // file (not the WAL) is what the next disk check measures.
            s << "PRAGMA incremental_vacuum", now;
            int busy = 0;
            int logPages = 0;
            int checkpointed = 0;
            s << "PRAGMA wal_checkpoint(TRUNCATE)", into(busy), into(logPages), into(checkpointed),
                now;
        }
        return result;
    });
}

void SqliteStore::compact() {
    withSession("compact", [&](Poco::Data::Session& s) {
        s << "VACUUM", now;
        // VACUUM wrote the new pages to the WAL: copy them back and truncate it.
        int busy = 0;
        int logPages = 0;
        int checkpointed = 0;
        s << "PRAGMA wal_checkpoint(TRUNCATE)", into(busy), into(logPages), into(checkpointed), now;
    });
}

}  // namespace sensorsys::agent
