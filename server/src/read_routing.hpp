// Where the read-only queries run: on a streaming replica (database.read_connection) while it
// answers, else on the primary. Owns the optional replica pool; the stores' read paths call
// run(), everything else uses primary(). Without a replica, run() is the primary's
// ConnectionPool::run. See docs/replica-reads.md. Thread-safe.
#pragma once

#include "connection_pool.hpp"

#include <Poco/Logger.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <string>

namespace sensorsys::server {

// What /metrics reports about read routing.
struct ReadStats {
    bool replica = false;            // a replica is configured
    std::uint64_t replicaReads = 0;  // reads the replica answered
    std::uint64_t fallbacks = 0;     // reads meant for the replica that the primary answered
    double replayLagSeconds = std::numeric_limits<double>::quiet_NaN();  // NaN: not measured
    PoolStats replicaPool;
};

class ReadRouting {
  public:
    // A replica down is not asked again for this long: every read would otherwise pay a failed
    // connect first (up to database.connect_timeout when its host does not answer at all), and
    // a replica starting up would get a connect storm. Reads go straight to the primary in
    // the meantime; after it, one read probes the replica while the others still skip it.
    static constexpr std::chrono::milliseconds kReplicaRest{3000};

    // Every read on the primary.
    explicit ReadRouting(ConnectionPool& primary);
    // Reads on replica (null: none) while it answers.
    ReadRouting(ConnectionPool& primary, std::unique_ptr<ConnectionPool> replica,
                Poco::Logger& logger, std::chrono::milliseconds rest = kReplicaRest);
    ~ReadRouting();
    ReadRouting(const ReadRouting&) = delete;
    ReadRouting& operator=(const ReadRouting&) = delete;

    ConnectionPool& primary() { return _primary; }
    bool hasReplica() const { return static_cast<bool>(_replica); }

    // Runs f(Connection&) (a read: it may run twice, on the replica and then on the primary)
    // as ConnectionPool::run does. A replica that cannot be reached or whose connection breaks
    // (DatabaseUnavailable) is rested and f runs on the primary; any other failure of f on the
    // replica is f's own and thrown as it is.
    template <class F>
    auto run(F&& f) {
        if (_replica && useReplica()) {
            try {
                auto result = _replica->run(f);
                replicaAnswered();
                return result;
            } catch (const DatabaseUnavailable& e) {
                replicaFailed(e.what());
            } catch (...) {
                replicaAnswered();  // it answered, with an error of the query
                throw;
            }
        }
        return _primary.run(std::forward<F>(f));
    }

    // Reads the replica's replay lag (one query) unless the replica is resting; called
    // periodically, not per request.
    void measureReplayLag();
    ReadStats stats() const;

  private:
    bool useReplica();
    void replicaAnswered();
    void replicaFailed(const std::string& why);

    ConnectionPool& _primary;
    const std::unique_ptr<ConnectionPool> _replica;
    Poco::Logger* _logger = nullptr;
    const std::chrono::milliseconds _rest{kReplicaRest};

    std::atomic<bool> _down{false};  // read without the lock on every request's fast path
    std::atomic<std::uint64_t> _replicaReads{0};
    std::atomic<std::uint64_t> _fallbacks{0};
    std::atomic<double> _replayLagSeconds{std::numeric_limits<double>::quiet_NaN()};
    std::mutex _mutex;
    std::chrono::steady_clock::time_point _restUntil;  // under _mutex
    bool _probing = false;                             // under _mutex
    std::uint64_t _fallbacksLogged = 0;                // under _mutex
};

}  // namespace sensorsys::server
