// Keeps the partitions of sensor_project.readings (V010): makes them ahead of time, drops those
// past retention.days (and trims the reading-id ledger and, when asked, the rollups with them),
// and moves the rows of a table from before V010 into partitions in batches. A thread with a
// PostgreSQL connection of its own does a round every interval; any number of servers may run
// one (partition changes and moves hold advisory locks). The static steps serve --migrate and
// tests. start()/stop() from one thread.
#pragma once

#include "periodic_thread.hpp"

#include <Poco/Data/Session.h>
#include <Poco/Logger.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace sensorsys::server {

// Any constant shared by every sensorsys-server instance ("readmove" in ASCII).
constexpr std::int64_t kMoveLockKey = 0x726561646d6f7665LL;

// database.partition_interval when another tool (pg_partman, a DBA) makes the partitions.
inline constexpr const char* kExternalPartitions = "external";

struct PartitionSettings {
    // database.partition_interval: a PostgreSQL interval, or kExternalPartitions.
    std::string interval = "1 month";
    int retentionDays = 0;          // 0: keep everything
    bool retentionRollups = false;  // also delete rollups older than the kept readings
    int moveBatchRows = 10000;      // legacy rows moved per transaction
};

// Whether text is a partition interval the server accepts ("1 month", "7 days", "2 weeks"):
// whole days, weeks or months, at least one day; or "external".
bool validPartitionInterval(const std::string& text);

// What one retention pass did.
struct RetentionResult {
    std::vector<std::string> droppedPartitions;
    std::int64_t ledgerRows = 0;  // reading ids forgotten
    std::int64_t rollupRows = 0;  // rollup rows deleted (retention.rollups)
};

class PartitionMaintenance {
  public:
    PartitionMaintenance(std::string connection, int connectTimeoutSeconds,
                         PartitionSettings settings, std::chrono::milliseconds interval,
                         Poco::Logger& logger);
    ~PartitionMaintenance();
    PartitionMaintenance(const PartitionMaintenance&) = delete;
    PartitionMaintenance& operator=(const PartitionMaintenance&) = delete;

    void start();
    void stop();  // waits for the round in progress

    // Makes the missing partitions for [fromMicros, untilMicros) (epoch microseconds, UTC);
    // returns how many were made (none when the interval is external).
    static int makePartitions(Poco::Data::Session& session, const std::string& interval,
                              std::int64_t fromMicros, std::int64_t untilMicros);
    // The partitions from a day ago to two intervals ahead.
    static int makeAhead(Poco::Data::Session& session, const PartitionSettings& settings);
    // Drops the partitions wholly older than retentionDays (nothing when 0, or while a legacy
    // table is still being moved).
    static RetentionResult applyRetention(Poco::Data::Session& session,
                                          const PartitionSettings& settings);
    // One batch of the move; returns the rows moved, 0 when nothing is left, -1 when another
    // server is moving.
    static std::int64_t moveStep(Poco::Data::Session& session, const PartitionSettings& settings);
    // The whole move, resumable (each batch commits), with progress lines.
    static void moveAll(Poco::Data::Session& session, const PartitionSettings& settings,
                        std::ostream& progress);

  private:
    void round();

    const std::string _connection;
    const int _connectTimeoutSeconds;
    const PartitionSettings _settings;
    const std::chrono::milliseconds _interval;
    Poco::Logger& _logger;
    std::optional<Poco::Data::Session> _session;  // the thread's own
    PeriodicThread _thread;                       // last: stopped first
};

}  // namespace sensorsys::server
