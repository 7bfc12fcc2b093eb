// Keeps the rollups of V006 current: a thread with a PostgreSQL connection of its own that,
// every interval, recomputes the (device, minute) pairs ingest marked dirty (and the hours and
// days holding them) and, when there are none, one day of the one-time build over rows older
// than the rollups. Any number of servers may run one: each round holds a PostgreSQL advisory
// lock, so no bucket is ever computed by two workers at once. start()/stop() from one thread;
// the static rounds are for --migrate and tests.
#pragma once

#include "periodic_thread.hpp"

#include <Poco/Data/Session.h>
#include <Poco/Logger.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <string>

namespace sensorsys::server {

// Any constant shared by every sensorsys-server instance ("rollups!" in ASCII).
constexpr std::int64_t kRollupLockKey = 0x726f6c6c75707321LL;

class RollupWorker {
  public:
    // Dirty rows per transaction: small enough that a round stays short under load.
    static constexpr int kBatchMinutes = 1000;

    RollupWorker(std::string connection, int connectTimeoutSeconds,
                 std::chrono::milliseconds interval, Poco::Logger& logger);
    ~RollupWorker();
    RollupWorker(const RollupWorker&) = delete;
    RollupWorker& operator=(const RollupWorker&) = delete;

    void start();
    void stop();  // waits for the round in progress

    // One round: up to maxMinutes dirty rows taken and their minutes recomputed in one
    // transaction. Returns the rows taken; -1 when another worker holds the lock.
    static int refreshOnce(Poco::Data::Session& session, int maxMinutes = kBatchMinutes);
    // One UTC day of the one-time build; returns the days still to do.
    static int backfillStep(Poco::Data::Session& session);
    // The one-time build to its end (resumable: each day commits), one progress line a day.
    static void backfill(Poco::Data::Session& session, std::ostream& progress);

  private:
    struct WorkerStatements;
    void round();

    const std::string _connection;
    const int _connectTimeoutSeconds;
    const std::chrono::milliseconds _interval;
    Poco::Logger& _logger;
    std::optional<Poco::Data::Session> _session;  // the thread's own
    std::unique_ptr<WorkerStatements> _statements;
    PeriodicThread _thread;  // last: stopped first
};

}  // namespace sensorsys::server
