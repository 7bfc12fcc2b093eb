#include "rollup_worker.hpp"

#include "connection_pool.hpp"

#include <Poco/Data/Statement.h>

#include <memory>
#include <optional>

namespace sensorsys::server {

using namespace Poco::Data::Keywords;

RollupWorker::RollupWorker(std::string connection, int connectTimeoutSeconds,
                           std::chrono::milliseconds interval, Poco::Logger& logger)
    : _connection(std::move(connection)),
      _connectTimeoutSeconds(connectTimeoutSeconds),
      _interval(interval),
      _logger(logger) {}

RollupWorker::~RollupWorker() {
    stop();
}

void RollupWorker::start() {
    _thread.start([this] { round(); }, _interval);
}

void RollupWorker::stop() {
    _thread.stop();
}

int RollupWorker::refreshOnce(Poco::Data::Session& session, int maxMinutes) {
    Poco::Int64 key = kRollupLockKey;
    int done = 0;
    session << "SELECT sensor_project.rollup_refresh($1, $2)", use(key), use(maxMinutes),
        into(done), now;
    return done;
}

int RollupWorker::backfillStep(Poco::Data::Session& session) {
    Poco::Int64 key = kRollupLockKey;
    int left = 0;
    session << "SELECT sensor_project.rollup_backfill_step($1)", use(key), into(left), now;
    return left;
}

void RollupWorker::backfill(Poco::Data::Session& session, std::ostream& progress) {
    int total = 0;
    session << "SELECT COALESCE(max(ceil(extract(epoch FROM until_ts - next_from) / 86400)), "
               "0)::int4 FROM sensor_project.rollup_backfill WHERE next_from < until_ts",
        into(total), now;
    if (total == 0) return;
    progress << "rollups: building for " << total << " day(s) of existing readings" << std::endl;
    int left = total;
    while (left > 0) {
        left = backfillStep(session);
        progress << "rollups: " << (total - left) << "/" << total << " day(s) done" << std::endl;
    }
}

// The worker's two statements, prepared once per connection and re-executed every round
// (through executePrepared: a statement whose execution failed must never be released).
struct RollupWorker::WorkerStatements {
    explicit WorkerStatements(Poco::Data::Session& session) : refresh(session), backfill(session) {
        refresh << "SELECT sensor_project.rollup_refresh($1, $2)", use(key), use(batch),
            into(taken);
        backfill << "SELECT sensor_project.rollup_backfill_step($1)", use(key), into(daysLeft);
    }

    Poco::Int64 key = kRollupLockKey;
    int batch = RollupWorker::kBatchMinutes;
    int taken = 0;
    int daysLeft = 0;
    Poco::Data::Statement refresh;
    Poco::Data::Statement backfill;
};

void RollupWorker::round() {
    const bool ok = guardedRound(_logger, "rollup worker", [&] {
        if (!_session) {
            _session.emplace(ConnectionPool::connect(_connection, _connectTimeoutSeconds));
            _statements = std::make_unique<WorkerStatements>(*_session);
        }
        do {
            executePrepared(_statements->refresh);
        } while (_statements->taken == kBatchMinutes &&
                 _thread.waitFor(std::chrono::milliseconds(0)));
        if (_statements->taken == 0) executePrepared(_statements->backfill);
    });
    if (!ok) {
        _statements.reset();
        _session.reset();
    }
}

}  // namespace sensorsys::server
