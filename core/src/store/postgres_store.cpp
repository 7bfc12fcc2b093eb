#include "store/postgres_store.hpp"

#include <Poco/Data/PostgreSQL/Connector.h>
#include <Poco/Data/Session.h>
#include <Poco/Exception.h>
#include <Poco/Logger.h>
#include <Poco/Nullable.h>

#include <filesystem>
#include <map>
#include <sstream>

#include "store/migrations.hpp"
#include "store/store_support.hpp"

namespace sensorsys::agent {

using namespace Poco::Data::Keywords;

namespace {

Poco::Logger& logger() {
    return Poco::Logger::get("sensorsys.store");
}

// libpq key=value pairs (Poco splits the string on spaces, so quoting cannot be used anyway).
std::map<std::string, std::string> connectionParams(const std::string& connection) {
    std::map<std::string, std::string> params;
    std::istringstream in(connection);
    std::string token;
    while (in >> token) {
        const auto eq = token.find('=');
        if (eq != std::string::npos) params[token.substr(0, eq)] = token.substr(eq + 1);
    }
    return params;
}

// libpq defaults that would hold the store's lock for minutes, each added only when the
// connection string does not set it: without connect_timeout a connect to an unreachable host
// waits for the kernel's TCP timeout; without keepalives a server that vanished without a
// reset (power cut, cable) leaves a query waiting forever instead of failing in about a minute.
std::string withClientDefaults(const std::string& connection) {
    const auto params = connectionParams(connection);
    std::string out = connection;
    for (const auto& [key, value] :
         {std::pair{"connect_timeout", "5"}, std::pair{"keepalives_idle", "30"},
          std::pair{"keepalives_interval", "10"}, std::pair{"keepalives_count", "3"}}) {
        if (!params.contains(key)) out += std::string(" ") + key + "=" + value;
    }
    return out;
}

std::string describe(const std::string& connection) {
    const auto p = connectionParams(connection);
    auto get = [&](const char* key, const char* fallback) {
        const auto it = p.find(key);
        return it == p.end() ? std::string(fallback) : it->second;
    };
    return "PostgreSQL store (host=" + get("host", "<socket>") + " port=" + get("port", "5432") +
           " dbname=" + get("dbname", "<default>") + ")";
}

bool isLocal(const std::string& connection) {
    const auto p = connectionParams(connection);
    const auto it = p.find("hostaddr") != p.end() ? p.find("hostaddr") : p.find("host");
    if (it == p.end() || it->second.empty()) return true;  // libpq's default: a Unix socket
    const std::string& h = it->second;
    return h.starts_with('/') || h == "localhost" || h.starts_with("127.") || h == "::1";
}

constexpr const char* kHandledPool = "(is_synced OR quarantined)";
constexpr const char* kBacklogPool = "(NOT is_synced AND NOT quarantined)";

constexpr const char* kUtcText =
    "to_char(ts_utc AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')";

// The same stratification as the SQLite store: first and last rows of the pool (in ts_utc
// order) stay, interior row rn goes when floor((rn-1)*k/(n-2)) steps up - exactly k rows.
std::string stratifiedDeleteSql(const char* pool) {
    return std::string(
               "WITH pool AS (SELECT id, row_number() OVER (ORDER BY ts_utc, id) AS rn,"
               " count(*) OVER () AS n, $1::bigint AS k FROM sensor_project.readings WHERE ") +
           pool +
           "), doomed AS (SELECT id FROM pool WHERE CASE WHEN k <= n - 2"
           "  THEN rn > 1 AND rn < n AND ((rn - 1) * k) / (n - 2) <> ((rn - 2) * k) / (n - 2)"
           "  ELSE (rn * k) / n <> ((rn - 1) * k) / n END),"
           " gone AS (DELETE FROM sensor_project.readings r USING doomed d WHERE r.id = d.id"
           " RETURNING 1)"
           " SELECT count(*) FROM gone";
}

}  // namespace

// ORDER BY must name the table's id, not the bigint output column (an output name wins in
// ORDER BY, and sorting on the cast expression forgoes the index: a sort of the whole backlog).
const char* const PostgresStore::kOldestUnsyncedQuery =
    "SELECT id::bigint AS row_id, reading_id::text,"
    " CASE WHEN ts_quality IS NULL THEN json_build_object('device_id', device_id,"
    "  'reading_id', reading_id,"
    "  'ts_utc', to_char(ts_utc AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),"
    "  'ts_local', sensor_project.agent_rfc3339(ts_local, ts_local_offset),"
    "  'payload', payload)::text"
    " ELSE json_build_object('device_id', device_id, 'reading_id', reading_id,"
    "  'ts_utc', to_char(ts_utc AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),"
    "  'ts_local', sensor_project.agent_rfc3339(ts_local, ts_local_offset),"
    "  'ts_quality', ts_quality, 'payload', payload)::text END"
    " FROM sensor_project.readings WHERE NOT is_synced AND NOT quarantined AND NOT held"
    " AND id > $1 ORDER BY readings.id LIMIT $2";

namespace {

const std::string kHeldQuery = std::string(
                                   "SELECT id::bigint, reading_id::text,"
                                   " COALESCE(boot_id, ''), COALESCE(boottime_ns, -1), ") +
                               kUtcText +
                               " FROM sensor_project.readings WHERE held AND id > $1"
                               " ORDER BY readings.id LIMIT $2";

// The offset of ts_local is taken from its text as add() does.
constexpr const char* kReleaseUpdate =
    "UPDATE sensor_project.readings SET held = FALSE,"
    " reading_id = COALESCE(NULLIF($1, '')::uuid, reading_id),"
    " ts_utc = COALESCE(NULLIF($2, '')::timestamptz, ts_utc),"
    " ts_local = COALESCE(NULLIF($3, '')::timestamptz, ts_local),"
    " ts_local_offset = COALESCE(EXTRACT(EPOCH FROM NULLIF($3, '')::timestamp"
    "  - (NULLIF($3, '')::timestamptz AT TIME ZONE 'UTC'))::integer, ts_local_offset),"
    " ts_quality = NULLIF($4, '') WHERE id = $5 AND held";

}  // namespace

PostgresStore::PostgresStore(std::string connection)
    : _connection(withClientDefaults(connection)),
      _describe(describe(connection)),
      _local(isLocal(connection)) {
    Poco::Data::PostgreSQL::Connector::registerConnector();
    std::lock_guard lock(_mutex);
    try {
        connectLocked();
    } catch (const StoreUnavailable& e) {
        // Not fatal: readings wait in the caller's queue; every method tries to reconnect.
        logger().error(e.what());
    }
}

PostgresStore::~PostgresStore() = default;

Poco::Data::Session& PostgresStore::connectLocked() {
    if (_session) return *_session;
    try {
        auto session = std::make_unique<Poco::Data::Session>("PostgreSQL", _connection);
        // UTC sessions: timestamps are written and formatted the same whatever the server's
        // TimeZone (Poco's connection string cannot carry options=-c, docs/stack-notes.md).
        *session << "SET TIME ZONE 'UTC'", now;
        *session << "SET client_min_messages = warning", now;
        // A reading is committed once add() returns, even on a server configured otherwise.
        *session << "SET synchronous_commit = on", now;
        const auto applied = migratePostgresql(*session);
        if (!applied.empty()) {
            logger().information(_describe + " migrated to version " +
                                 std::to_string(applied.back()));
        }
        if (_local && !_dataDirectory) {
            try {
                std::string dir;
                *session << "SELECT current_setting('data_directory')", into(dir), now;
                std::error_code ec;
                if (std::filesystem::exists(dir, ec)) _dataDirectory = dir;
            } catch (const Poco::Exception&) {
                // Not readable for this role (needs pg_read_all_settings): nothing to measure.
                _dataDirectory = std::string();
            }
        }
        _session = std::move(session);
        return *_session;
    } catch (const Poco::Exception& e) {
        throw StoreUnavailable(_describe + ": connect failed: " + e.displayText());
    }
}

template <class F>
auto PostgresStore::withSession(const char* what, bool retry, F&& f) {
    std::lock_guard lock(_mutex);
    for (int attempt = 0;; ++attempt) {
        const bool fresh = !_session;
        Poco::Data::Session& session = connectLocked();
        try {
            return f(session);
        } catch (const Poco::Exception& e) {
            // A connection that worked before may have died with a server restart: drop it
            // and, for idempotent calls, try once on a new one before reporting.
            _session.reset();
            if (retry && !fresh && attempt == 0) continue;
            throw StoreUnavailable(_describe + ": " + what + " failed: " + e.displayText());
        }
    }
}

void PostgresStore::add(const StoredReading& reading) {
    add(reading, ReadingClock{});
}

void PostgresStore::add(const StoredReading& reading, const ReadingClock& clock) {
    store_support::validateReading(reading);
    withSession("add", true, [&](Poco::Data::Session& s) {
        std::string json = reading.json;
        // ts_local: timestamptz keeps the instant; the same text read as a plain timestamp
        // ignores the offset, so their difference is the device's UTC offset in seconds.
        Poco::Int64 boottime = clock.boottimeNs;
        std::string bootId = clock.bootId;
        bool held = clock.held;
        s << "INSERT INTO sensor_project.readings"
             " (reading_id, device_id, ts_utc, ts_local, ts_local_offset, payload, ts_quality,"
             "  boottime_ns, boot_id, held)"
             " SELECT (j->>'reading_id')::uuid, j->>'device_id', (j->>'ts_utc')::timestamptz,"
             "  (j->>'ts_local')::timestamptz,"
             "  EXTRACT(EPOCH FROM (j->>'ts_local')::timestamp"
             "   - ((j->>'ts_local')::timestamptz AT TIME ZONE 'UTC'))::integer,"
             "  j->'payload', j->>'ts_quality', NULLIF($2::bigint, -1), NULLIF($3, ''), $4"
             " FROM (SELECT $1::jsonb AS j) AS input"
             " ON CONFLICT (reading_id) DO NOTHING",
            use(json), use(boottime), use(bootId), use(held), now;
    });
}

std::vector<StoredReading> PostgresStore::oldestUnsynced(std::size_t limit, std::int64_t after_id) {
    return withSession("oldestUnsynced", true, [&](Poco::Data::Session& s) {
        return store_support::fetchReadings(s, kOldestUnsyncedQuery, after_id, limit);
    });
}

std::vector<HeldReading> PostgresStore::held(std::size_t limit, std::int64_t after_id) {
    return withSession("held", true, [&](Poco::Data::Session& s) {
        return store_support::fetchHeld(s, kHeldQuery, after_id, limit);
    });
}

void PostgresStore::release(const std::vector<Release>& rows) {
    if (rows.empty()) return;
    // Retried on a new connection: the update only touches rows still held, so running it
    // twice changes nothing.
    withSession("release", true, [&](Poco::Data::Session& s) {
        store_support::applyRelease(s, kReleaseUpdate, rows);
    });
}

void PostgresStore::markSynced(const std::vector<std::int64_t>& ids) {
    if (ids.empty()) return;
    withSession("markSynced", true, [&](Poco::Data::Session& s) {
        // One statement (atomic) and one round trip for the batch.
        std::string list = store_support::idsAsPgArray(ids);
        s << "UPDATE sensor_project.readings SET is_synced = TRUE WHERE id = ANY($1::bigint[])",
            use(list), now;
    });
}

void PostgresStore::quarantine(const std::vector<std::pair<std::int64_t, std::string>>& rows) {
    if (rows.empty()) return;
    withSession("quarantine", true, [&](Poco::Data::Session& s) {
        sensorsys::inTransaction(s, [&] {
            for (const auto& [id, reason] : rows) {
                Poco::Int64 rowId = id;
                std::string why = reason;
                s << "UPDATE sensor_project.readings SET quarantined = TRUE,"
                     " quarantine_reason = $1 WHERE id = $2",
                    use(why), use(rowId), now;
            }
        });
    });
}

StoreStats PostgresStore::stats() {
    return withSession("stats", true, [&](Poco::Data::Session& s) {
        StoreStats r;
        Poco::Nullable<std::string> oldest;
        s << std::string(
                 "SELECT count(*) FILTER (WHERE NOT is_synced AND NOT quarantined),"
                 " count(*) FILTER (WHERE is_synced AND NOT quarantined),"
                 " count(*) FILTER (WHERE quarantined),"
                 " count(*) FILTER (WHERE held AND NOT is_synced AND NOT quarantined),"
                 " (SELECT ") +
                 kUtcText +
                 " FROM sensor_project.readings WHERE NOT is_synced AND NOT quarantined"
                 "  ORDER BY id LIMIT 1),"
                 " (SELECT value FROM sensor_project.agent_store_counters"
                 "  WHERE name = 'deleted_synced'),"
                 " (SELECT value FROM sensor_project.agent_store_counters"
                 "  WHERE name = 'deleted_unsynced'),"
                 " pg_total_relation_size('sensor_project.readings')"
                 " FROM sensor_project.readings",
            into(r.unsynced), into(r.synced), into(r.quarantined), into(r.held), into(oldest),
            into(r.deletedSynced), into(r.deletedUnsynced), into(r.sizeBytes), now;
        if (!oldest.isNull()) r.oldestUnsyncedTsUtc = oldest.value();
        return r;
    });
}

RetentionResult PostgresStore::deleteStratified(std::int64_t synced_count,
                                                std::int64_t unsynced_count) {
    // Not retried: a lost acknowledgement of a committed delete would delete twice as much.
    return withSession("deleteStratified", false, [&](Poco::Data::Session& s) {
        RetentionResult result;
        s.begin();
        try {
            auto deleteFrom = [&](const char* pool, std::int64_t count, const char* counter) {
                if (count <= 0) return std::int64_t{0};
                Poco::Int64 k = count;
                Poco::Int64 deleted = 0;
                s << stratifiedDeleteSql(pool), use(k), into(deleted), now;
                std::string name = counter;
                s << "UPDATE sensor_project.agent_store_counters SET value = value + $1"
                     " WHERE name = $2",
                    use(deleted), use(name), now;
                return static_cast<std::int64_t>(deleted);
            };
            result.deletedSynced = deleteFrom(kHandledPool, synced_count, "deleted_synced");
            result.deletedUnsynced = deleteFrom(kBacklogPool, unsynced_count, "deleted_unsynced");
            Poco::Nullable<std::string> from;
            Poco::Nullable<std::string> to;
            s << std::string(
                "SELECT to_char(min(ts_utc) AT TIME ZONE 'UTC',"
                " 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),"
                " to_char(max(ts_utc) AT TIME ZONE 'UTC',"
                " 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
                " FROM sensor_project.readings"),
                into(from), into(to), now;
            s.commit();
            if (!from.isNull()) result.keptFromTsUtc = from.value();
            if (!to.isNull()) result.keptToTsUtc = to.value();
        } catch (...) {
            try {
                s.rollback();
            } catch (...) {
                // broken connection: the server rolls back
            }
            throw;
        }
        if (result.deletedSynced + result.deletedUnsynced > 0) {
            // Makes the dead rows' space reusable (and gives trailing pages back); the deletion
            // itself is committed, so a failure here is only logged.
            try {
                s << "VACUUM sensor_project.readings", now;
            } catch (const Poco::Exception& e) {
                logger().warning(_describe + ": VACUUM after retention failed: " + e.displayText());
            }
        }
        return result;
    });
}

void PostgresStore::compact() {
    withSession("compact", false,
                [&](Poco::Data::Session& s) { s << "VACUUM FULL sensor_project.readings", now; });
}

std::string PostgresStore::filesystemPath() const {
    std::lock_guard lock(_mutex);
    return _dataDirectory.value_or(std::string());
}

}  // namespace sensorsys::agent
