#include "read_routing.hpp"

#include <Poco/Data/Session.h>

namespace sensorsys::server {

using namespace Poco::Data::Keywords;

ReadRouting::ReadRouting(ConnectionPool& primary) : _primary(primary) {}

ReadRouting::ReadRouting(ConnectionPool& primary, std::unique_ptr<ConnectionPool> replica,
                         Poco::Logger& logger, std::chrono::milliseconds rest)
    : _primary(primary), _replica(std::move(replica)), _logger(&logger), _rest(rest) {}

ReadRouting::~ReadRouting() = default;

bool ReadRouting::useReplica() {
    if (!_down.load(std::memory_order_acquire)) return true;
    std::lock_guard lock(_mutex);
    if (!_down.load(std::memory_order_relaxed)) return true;
    if (_probing || std::chrono::steady_clock::now() < _restUntil) {
        _fallbacks.fetch_add(1, std::memory_order_relaxed);
        return false;
    }
    _probing = true;
    return true;
}

void ReadRouting::replicaAnswered() {
    _replicaReads.fetch_add(1, std::memory_order_relaxed);
    if (!_down.load(std::memory_order_acquire)) return;
    std::lock_guard lock(_mutex);
    if (!_down.load(std::memory_order_relaxed)) return;
    _down.store(false, std::memory_order_release);
    _probing = false;
    _logger->information(
        "read replica answers again: reads go to it (%Lu read(s) went to the "
        "primary meanwhile)",
        static_cast<Poco::UInt64>(_fallbacks.load() - _fallbacksLogged));
    _fallbacksLogged = _fallbacks.load();
}

void ReadRouting::replicaFailed(const std::string& why) {
    _fallbacks.fetch_add(1, std::memory_order_relaxed);
    std::lock_guard lock(_mutex);
    const bool wasUp = !_down.load(std::memory_order_relaxed);
    const bool wasProbe = _probing;
    _down.store(true, std::memory_order_release);
    _probing = false;
    _restUntil = std::chrono::steady_clock::now() + _rest;
    _replayLagSeconds.store(std::numeric_limits<double>::quiet_NaN());
    // Once when the replica goes away and once per failed probe (one per rest period), not
    // once per request: a read flood against a dead replica logs a line every few seconds.
    if (!wasUp && !wasProbe) return;
    _logger->warning(
        "read replica unavailable, reads go to the primary (retried in %Ld ms; %Lu "
        "fallback(s) so far): %s",
        static_cast<Poco::Int64>(_rest.count()), static_cast<Poco::UInt64>(_fallbacks.load()), why);
}

void ReadRouting::measureReplayLag() {
    if (!_replica || _down.load(std::memory_order_acquire)) return;
    try {
        _replayLagSeconds.store(_replica->run([](Connection& c) {
            // Nothing to replay (receive = replay position) is no lag, however long ago the
            // primary's last transaction was; not in recovery: the "replica" is a primary.
            double lag = 0;
            c.session() << "SELECT CASE WHEN NOT pg_is_in_recovery()"
                           " OR pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0"
                           " ELSE COALESCE(extract(epoch FROM now() -"
                           " pg_last_xact_replay_timestamp()), 0) END::float8",
                into(lag), now;
            return lag;
        }));
    } catch (const std::exception& e) {
        _replayLagSeconds.store(std::numeric_limits<double>::quiet_NaN());
        _logger->warning("read replica: replay lag not measured: %s", std::string(e.what()));
    }
}

ReadStats ReadRouting::stats() const {
    ReadStats s;
    s.replica = hasReplica();
    s.replicaReads = _replicaReads.load();
    s.fallbacks = _fallbacks.load();
    s.replayLagSeconds = _replayLagSeconds.load();
    if (_replica) s.replicaPool = _replica->stats();
    return s;
}

}  // namespace sensorsys::server
