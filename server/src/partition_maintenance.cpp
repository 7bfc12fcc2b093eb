#include "partition_maintenance.hpp"

#include "connection_pool.hpp"
#include "timestamp.hpp"

#include <Poco/Data/Statement.h>

#include <regex>
#include <thread>

namespace sensorsys::server {

using namespace Poco::Data::Keywords;

namespace {

// Ledger rows forgotten per statement: short transactions while ingest goes on.
constexpr int kTrimBatch = 50000;

bool legacyPresent(Poco::Data::Session& session) {
    int present = 0;
    session << "SELECT (to_regclass('sensor_project.readings_legacy') IS NOT NULL)::int4",
        into(present), now;
    return present != 0;
}

std::int64_t deleteInBatches(Poco::Data::Session& session, const std::string& sql,
                             const std::string& cutoff) {
    std::int64_t total = 0;
    Poco::Int64 n = 0;
    do {
        std::string at = cutoff;
        session << sql, use(at), into(n), now;
        total += n;
    } while (n > 0);
    return total;
}

// The rollups wholly older than cutoff (retention.rollups).
std::int64_t trimRollups(Poco::Data::Session& session, const std::string& cutoff) {
    std::int64_t total = 0;
    for (const char* table : {"rollup_1m", "rollup_1h", "rollup_1d"}) {
        const std::string width = table == std::string("rollup_1m")   ? "1 minute"
                                  : table == std::string("rollup_1h") ? "1 hour"
                                                                      : "1 day";
        Poco::Int64 n = 0;
        std::string at = cutoff;
        session << "WITH d AS (DELETE FROM sensor_project." + std::string(table) +
                       " WHERE bucket <= $1::timestamptz - interval '" + width +
                       "' RETURNING 1) SELECT count(*)::int8 FROM d",
            use(at), into(n), now;
        total += n;
    }
    return total;
}

}  // namespace

bool validPartitionInterval(const std::string& text) {
    static const std::regex pattern("[1-9][0-9]{0,3} (day|days|week|weeks|month|months)");
    return text == kExternalPartitions || std::regex_match(text, pattern);
}

PartitionMaintenance::PartitionMaintenance(std::string connection, int connectTimeoutSeconds,
                                           PartitionSettings settings,
                                           std::chrono::milliseconds interval, Poco::Logger& logger)
    : _connection(std::move(connection)),
      _connectTimeoutSeconds(connectTimeoutSeconds),
      _settings(std::move(settings)),
      _interval(interval),
      _logger(logger) {}

PartitionMaintenance::~PartitionMaintenance() {
    stop();
}

void PartitionMaintenance::start() {
    _thread.start([this] { round(); }, _interval);
}

void PartitionMaintenance::stop() {
    _thread.stop();
}

int PartitionMaintenance::makePartitions(Poco::Data::Session& session, const std::string& interval,
                                         std::int64_t fromMicros, std::int64_t untilMicros) {
    if (interval == kExternalPartitions) return 0;
    std::string from = formatUtcForSql(fromMicros);
    std::string until = formatUtcForSql(untilMicros);
    std::string step = interval;
    int made = 0;
    session << "SELECT sensor_project.readings_make_partitions($1::timestamptz, $2::timestamptz,"
               " $3::interval)",
        use(from), use(until), use(step), into(made), now;
    return made;
}

int PartitionMaintenance::makeAhead(Poco::Data::Session& session,
                                    const PartitionSettings& settings) {
    if (settings.interval == kExternalPartitions) return 0;
    std::string step = settings.interval;
    int made = 0;
    session << "SELECT sensor_project.readings_make_partitions(now() - interval '1 day',"
               " now() + 2 * $1::interval, $1::interval)",
        use(step), into(made), now;
    return made;
}

RetentionResult PartitionMaintenance::applyRetention(Poco::Data::Session& session,
                                                     const PartitionSettings& settings) {
    RetentionResult result;
    if (settings.retentionDays <= 0 || legacyPresent(session)) return result;
    int days = settings.retentionDays;
    session << "SELECT sensor_project.readings_drop_partitions(now() - make_interval(days => $1))",
        use(days), into(result.droppedPartitions), now;
    // Every reading older than the oldest partition is gone: its id may be forgotten.
    std::string cutoff;
    session << "SELECT COALESCE((SELECT min(lo) FROM sensor_project.readings_partitions),"
               " now() - make_interval(days => $1))::text",
        use(days), into(cutoff), now;
    result.ledgerRows = deleteInBatches(
        session,
        "WITH d AS (DELETE FROM sensor_project.reading_ledger WHERE ctid = ANY (ARRAY("
        "SELECT ctid FROM sensor_project.reading_ledger WHERE ts_utc < $1::timestamptz LIMIT " +
            std::to_string(kTrimBatch) + ")) RETURNING 1) SELECT count(*)::int8 FROM d",
        cutoff);
    // The rollups hold no reading ids; they go only when asked, and only when a partition did
    // (a scan of each rollup table).
    if (settings.retentionRollups && !result.droppedPartitions.empty()) {
        result.rollupRows = trimRollups(session, cutoff);
    }
    return result;
}

std::int64_t PartitionMaintenance::moveStep(Poco::Data::Session& session,
                                            const PartitionSettings& settings) {
    Poco::Int64 key = kMoveLockKey;
    int rows = settings.moveBatchRows;
    std::string step = settings.interval;
    Poco::Int64 moved = 0;
    // External partitions: the move expects them made (it makes none).
    session << "SELECT sensor_project.readings_move_step($1, $2, NULLIF($3, 'external')::interval)",
        use(key), use(rows), use(step), into(moved), now;
    return moved;
}

void PartitionMaintenance::moveAll(Poco::Data::Session& session, const PartitionSettings& settings,
                                   std::ostream& progress) {
    if (!legacyPresent(session)) return;
    Poco::Int64 total = 0, moved = 0;
    session << "SELECT total, moved FROM sensor_project.readings_migration", into(total),
        into(moved), now;
    progress << "readings: moving " << (total - moved) << " of " << total
             << " row(s) of the table from before partitioning into partitions" << std::endl;
    // A line after the first batch, then one a second.
    auto lastLine = std::chrono::steady_clock::now() - std::chrono::seconds(1);
    for (;;) {
        const std::int64_t n = moveStep(session, settings);
        if (n == 0) break;
        if (n < 0) {
            progress << "readings: another server is moving rows; waiting" << std::endl;
            std::this_thread::sleep_for(std::chrono::seconds(1));
            continue;
        }
        moved += n;
        if (std::chrono::steady_clock::now() - lastLine >= std::chrono::seconds(1)) {
            lastLine = std::chrono::steady_clock::now();
            progress << "readings: " << moved << "/" << total << " row(s) moved ("
                     << (total > 0 ? moved * 100 / total : 100) << " %)" << std::endl;
        }
    }
    progress << "readings: " << moved << "/" << total
             << " row(s) moved; every row is in a partition, the table from before is dropped"
             << std::endl;
}

void PartitionMaintenance::round() {
    const bool ok = guardedRound(_logger, "partition maintenance", [&] {
        if (!_session) {
            _session.emplace(ConnectionPool::connect(_connection, _connectTimeoutSeconds));
        }
        if (const int made = makeAhead(*_session, _settings); made > 0) {
            _logger.information("partitions: made %d ahead", made);
        }
        const auto kept = applyRetention(*_session, _settings);
        for (const auto& name : kept.droppedPartitions) {
            _logger.information("retention: dropped partition %s", name);
        }
        if (kept.ledgerRows > 0 || kept.rollupRows > 0) {
            _logger.information("retention: forgot %?d reading id(s), deleted %?d rollup row(s)",
                                kept.ledgerRows, kept.rollupRows);
        }
        // A table from before partitioning moves in the background, a batch at a time.
        std::int64_t n = 0;
        while ((n = moveStep(*_session, _settings)) > 0 &&
               _thread.waitFor(std::chrono::milliseconds(20))) {
        }
    });
    if (!ok) _session.reset();
}

}  // namespace sensorsys::server
