// Counters and histograms for /metrics (Prometheus text format 0.0.4). Recording is lock-free
// except the (route, status) counter map; thread-safe.
#pragma once

#include "api_request.h"
#include "connection_pool.h"

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

namespace sensorsys::server {

class Metrics {
  public:
    static constexpr std::array<double, 14> kBuckets = {
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0};
    static constexpr std::size_t kRoutes = 9;  // Route values

    void recordRequest(Route route, int status, double seconds);
    void addReadings(std::uint64_t inserted, std::uint64_t duplicates, std::uint64_t rejected);

    // The exposition text, pool gauges included.
    std::string render(const PoolStats& pool) const;

  private:
    struct Histogram {
        std::array<std::atomic<std::uint64_t>, kBuckets.size()> buckets{};
        std::atomic<std::uint64_t> count{0};
        std::atomic<std::uint64_t> sumMicros{0};
    };
    mutable std::mutex _mutex;
    std::map<std::pair<int, int>, std::uint64_t> _requests;  // (route, status) -> count
    std::array<Histogram, kRoutes> _latency;
    std::atomic<std::uint64_t> _inserted{0};
    std::atomic<std::uint64_t> _duplicates{0};
    std::atomic<std::uint64_t> _rejected{0};
};

}  // namespace sensorsys::server
