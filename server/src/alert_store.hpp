// What the alert routes read and write: the current alerts, the history of transitions and
// acknowledgements (tables of V007), answered as JSON built by PostgreSQL. Thread-safe (each
// call leases its own connection).
#pragma once

#include "api_request.hpp"
#include "connection_pool.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace sensorsys::server {

class AlertStore {
  public:
    explicit AlertStore(ConnectionPool& pool) : _pool(pool) {}

    // [{"id", "rule", "device_id", "metric", "state", "value", "since", "acked"}] of every
    // (rule, device) not OK, newest first.
    std::string currentJson();
    // [{"id", "rule", "device_id", "state", "value", "at"}] with at in [start, end], by at.
    std::string historyJson(const RangeQuery& range);
    // The alert as GET /alerts shows it after acknowledging it; nothing for an unknown id.
    std::optional<std::string> ack(std::int64_t id);

  private:
    ConnectionPool& _pool;
};

}  // namespace sensorsys::server
