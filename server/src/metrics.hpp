// Counters and histograms for /metrics (Prometheus text format 0.0.4), labelled with the route
// names of the route table. Recording is lock-free except the (route, status) counter map;
// thread-safe.
#pragma once

#include "connection_pool.hpp"
#include "read_routing.hpp"
#include "route.hpp"

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace sensorsys::server {

class Metrics {
  public:
    static constexpr std::array<double, 14> kBuckets = {
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0};

    // routes: the label set, in the order they are rendered (RouteTable::routes()). A request
    // of a route not in it is counted as routes.front() (Route::Unknown).
    explicit Metrics(std::vector<Route> routes);

    void recordRequest(Route route, int status, double seconds);
    void addReadings(std::uint64_t inserted, std::uint64_t duplicates, std::uint64_t rejected);

    // GET /readings/latest answered from memory (hit) or the database (miss).
    void recordCacheLookup(bool hit);
    void setCacheOn(bool on) { _cacheOn.store(on, std::memory_order_relaxed); }
    void setNotificationLag(std::int64_t micros) {
        _notificationLagMicros.store(micros, std::memory_order_relaxed);
    }
    // Live clients (GET /live, GET /readings/stream).
    void liveClientOpened() { _liveClients.fetch_add(1, std::memory_order_relaxed); }
    void liveClientClosed() { _liveClients.fetch_sub(1, std::memory_order_relaxed); }
    void addLiveMessages(std::uint64_t n) { _liveMessages.fetch_add(n, std::memory_order_relaxed); }
    void liveClientDroppedSlow() { _liveDroppedSlow.fetch_add(1, std::memory_order_relaxed); }

    // Current alerts per state ("pending", "firing", "nodata"), as the evaluator last counted.
    void setAlertCounts(const std::map<std::string, std::int64_t>& counts);
    // One delivery attempt of an alert notification: sent (2xx), failed, or given up.
    void addAlertNotification(bool sent, bool gaveUp);

    // The exposition text, pool gauges and read routing (replica) included.
    std::string render(const PoolStats& pool, const ReadStats& reads = {}) const;

  private:
    std::size_t indexOf(Route route) const;
    void renderRequests(std::string& out) const;
    void renderLatency(std::string& out) const;
    void renderLive(std::string& out) const;
    void renderAlerts(std::string& out) const;
    static void renderReads(std::string& out, const ReadStats& reads);

    struct Histogram {
        std::array<std::atomic<std::uint64_t>, kBuckets.size()> buckets{};
        std::atomic<std::uint64_t> count{0};
        std::atomic<std::uint64_t> sumMicros{0};
    };
    const std::vector<Route> _routes;
    mutable std::mutex _mutex;
    std::map<std::pair<std::size_t, int>, std::uint64_t> _requests;  // (route, status) -> count
    std::unique_ptr<Histogram[]> _latency;                           // one per route
    std::atomic<std::uint64_t> _inserted{0};
    std::atomic<std::uint64_t> _duplicates{0};
    std::atomic<std::uint64_t> _rejected{0};
    std::atomic<std::uint64_t> _cacheHits{0};
    std::atomic<std::uint64_t> _cacheMisses{0};
    std::atomic<bool> _cacheOn{false};
    std::atomic<std::int64_t> _notificationLagMicros{0};
    std::atomic<std::int64_t> _liveClients{0};
    std::atomic<std::uint64_t> _liveMessages{0};
    std::atomic<std::uint64_t> _liveDroppedSlow{0};
    std::map<std::string, std::int64_t> _alerts;  // under _mutex
    std::atomic<std::uint64_t> _alertsSent{0};
    std::atomic<std::uint64_t> _alertsFailed{0};
    std::atomic<std::uint64_t> _alertsGivenUp{0};
};

}  // namespace sensorsys::server
