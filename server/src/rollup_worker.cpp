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
    if (_thread.joinable()) return;
    _stopping = false;
    _thread = std::thread([this] { run(); });
}

void RollupWorker::stop() {
    {
        std::lock_guard lock(_mutex);
        _stopping = true;
    }
    _wake.notify_all();
    if (_thread.joinable()) _thread.join();
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

namespace {

// The worker's two statements, prepared once per connection and re-executed every round
// (through executePrepared: a statement whose execution failed must never be released).
struct WorkerStatements {
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

}  // namespace

bool RollupWorker::waitFor(std::chrono::milliseconds pause) {
    std::unique_lock lock(_mutex);
    _wake.wait_for(lock, pause, [this] { return _stopping; });
    return !_stopping;
}

void RollupWorker::run() {
    std::optional<Poco::Data::Session> session;
    std::unique_ptr<WorkerStatements> statements;
    do {
        try {
            if (!session) {
                session.emplace(ConnectionPool::connect(_connection, _connectTimeoutSeconds));
                statements = std::make_unique<WorkerStatements>(*session);
            }
            do {
                executePrepared(statements->refresh);
            } while (statements->taken == kBatchMinutes && waitFor(std::chrono::milliseconds(0)));
            if (statements->taken == 0) executePrepared(statements->backfill);
        } catch (const Poco::Exception& e) {
            _logger.warning("rollup worker: %s (retrying)", e.displayText());
            statements.reset();
            session.reset();
        } catch (const std::exception& e) {
            _logger.warning("rollup worker: %s (retrying)", std::string(e.what()));
            statements.reset();
            session.reset();
        }
    } while (waitFor(_interval));
}

}  // namespace sensorsys::server
