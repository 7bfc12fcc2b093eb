#include "metrics.hpp"

#include <cmath>
#include <cstdio>

namespace sensorsys::server {

Metrics::Metrics(std::vector<Route> routes)
    : _routes(std::move(routes)), _latency(std::make_unique<Histogram[]>(_routes.size())) {}

std::size_t Metrics::indexOf(Route route) const {
    for (std::size_t i = 0; i < _routes.size(); ++i) {
        if (_routes[i] == route) return i;
    }
    return 0;
}

void Metrics::recordRequest(Route route, int status, double seconds) {
    const std::size_t r = indexOf(route);
    {
        std::lock_guard lock(_mutex);
        ++_requests[{r, status}];
    }
    auto& h = _latency[r];
    for (std::size_t i = 0; i < kBuckets.size(); ++i) {
        if (seconds <= kBuckets[i]) {
            h.buckets[i].fetch_add(1, std::memory_order_relaxed);
            break;
        }
    }
    h.count.fetch_add(1, std::memory_order_relaxed);
    h.sumMicros.fetch_add(static_cast<std::uint64_t>(seconds * 1e6), std::memory_order_relaxed);
}

void Metrics::addReadings(std::uint64_t inserted, std::uint64_t duplicates,
                          std::uint64_t rejected) {
    _inserted.fetch_add(inserted, std::memory_order_relaxed);
    _duplicates.fetch_add(duplicates, std::memory_order_relaxed);
    _rejected.fetch_add(rejected, std::memory_order_relaxed);
}

void Metrics::recordCacheLookup(bool hit) {
    (hit ? _cacheHits : _cacheMisses).fetch_add(1, std::memory_order_relaxed);
}

namespace {
std::string number(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
}
}  // namespace

namespace {
void metric(std::string& out, const char* name, const char* type, const char* help,
            const std::string& value) {
    out += std::string("# HELP ") + name + " " + help + "\n";
    out += std::string("# TYPE ") + name + " " + type + "\n";
    out += std::string(name) + " " + value + "\n";
}
}  // namespace

void Metrics::renderLive(std::string& out) const {
    const auto load = [](const auto& a) { return std::to_string(a.load()); };
    out +=
        "# HELP sensorsys_latest_cache_lookups_total GET /readings/latest answers, from memory "
        "(hit) or the database (miss).\n";
    out += "# TYPE sensorsys_latest_cache_lookups_total counter\n";
    out += "sensorsys_latest_cache_lookups_total{result=\"hit\"} " + load(_cacheHits) + "\n";
    out += "sensorsys_latest_cache_lookups_total{result=\"miss\"} " + load(_cacheMisses) + "\n";
    metric(out, "sensorsys_latest_cache_on", "gauge",
           "1 while GET /readings/latest is answered from memory.", _cacheOn.load() ? "1" : "0");
    metric(out, "sensorsys_feed_notification_lag_seconds", "gauge",
           "From the notifying insert to its receipt, of the last notification.",
           number(static_cast<double>(_notificationLagMicros.load()) / 1e6));
    metric(out, "sensorsys_live_clients", "gauge", "Open live connections (WebSocket and SSE).",
           load(_liveClients));
    metric(out, "sensorsys_live_messages_total", "counter", "Messages sent to live clients.",
           load(_liveMessages));
    metric(out, "sensorsys_live_dropped_slow_total", "counter",
           "Live clients closed because their queue overflowed.", load(_liveDroppedSlow));
}

void Metrics::setAlertCounts(const std::map<std::string, std::int64_t>& counts) {
    std::lock_guard lock(_mutex);
    _alerts = counts;
}

void Metrics::addAlertNotification(bool sent, bool gaveUp) {
    (sent ? _alertsSent : (gaveUp ? _alertsGivenUp : _alertsFailed))
        .fetch_add(1, std::memory_order_relaxed);
}

void Metrics::renderAlerts(std::string& out) const {
    out += "# HELP sensorsys_alerts Current alerts (rule and device), by state.\n";
    out += "# TYPE sensorsys_alerts gauge\n";
    {
        std::lock_guard lock(_mutex);
        for (const char* state : {"pending", "firing", "nodata"}) {
            const auto it = _alerts.find(state);
            out += std::string("sensorsys_alerts{state=\"") + state + "\"} " +
                   std::to_string(it == _alerts.end() ? 0 : it->second) + "\n";
        }
    }
    out +=
        "# HELP sensorsys_alert_notifications_total Alert notification deliveries, by "
        "outcome (failed: an attempt to be retried; gave_up: dropped).\n";
    out += "# TYPE sensorsys_alert_notifications_total counter\n";
    out += "sensorsys_alert_notifications_total{result=\"sent\"} " +
           std::to_string(_alertsSent.load()) + "\n";
    out += "sensorsys_alert_notifications_total{result=\"failed\"} " +
           std::to_string(_alertsFailed.load()) + "\n";
    out += "sensorsys_alert_notifications_total{result=\"gave_up\"} " +
           std::to_string(_alertsGivenUp.load()) + "\n";
}

void Metrics::renderRequests(std::string& out) const {
    out += "# HELP sensorsys_http_requests_total HTTP requests answered, by route and status.\n";
    out += "# TYPE sensorsys_http_requests_total counter\n";
    {
        std::lock_guard lock(_mutex);
        for (const auto& [key, count] : _requests) {
            out += "sensorsys_http_requests_total{route=\"";
            out += _routes[key.first].name();
            out +=
                "\",status=\"" + std::to_string(key.second) + "\"} " + std::to_string(count) + "\n";
        }
    }
}

void Metrics::renderLatency(std::string& out) const {
    out +=
        "# HELP sensorsys_http_request_duration_seconds Time from request to response, by route.\n";
    out += "# TYPE sensorsys_http_request_duration_seconds histogram\n";
    for (std::size_t r = 0; r < _routes.size(); ++r) {
        const auto& h = _latency[r];
        const std::uint64_t count = h.count.load(std::memory_order_relaxed);
        if (count == 0) continue;
        const std::string label = "route=\"" + routeName(_routes[r]) + "\"";
        std::uint64_t cumulative = 0;
        for (std::size_t i = 0; i < kBuckets.size(); ++i) {
            cumulative += h.buckets[i].load(std::memory_order_relaxed);
            out += "sensorsys_http_request_duration_seconds_bucket{" + label + ",le=\"" +
                   number(kBuckets[i]) + "\"} " + std::to_string(cumulative) + "\n";
        }
        out += "sensorsys_http_request_duration_seconds_bucket{" + label + ",le=\"+Inf\"} " +
               std::to_string(count) + "\n";
        out += "sensorsys_http_request_duration_seconds_sum{" + label + "} " +
               number(static_cast<double>(h.sumMicros.load(std::memory_order_relaxed)) / 1e6) +
               "\n";
        out += "sensorsys_http_request_duration_seconds_count{" + label + "} " +
               std::to_string(count) + "\n";
    }
}

void Metrics::renderReads(std::string& out, const ReadStats& reads) {
    metric(out, "sensorsys_db_replica_reads_total", "counter",
           "Reads (read routes) answered by the replica (database.read_connection).",
           std::to_string(reads.replicaReads));
    metric(out, "sensorsys_db_read_fallbacks_total", "counter",
           "Reads meant for the replica that the primary answered (replica unreachable).",
           std::to_string(reads.fallbacks));
    if (!reads.replica) return;
    metric(out, "sensorsys_db_replica_pool_connections", "gauge",
           "Open connections to the replica.", std::to_string(reads.replicaPool.size));
    metric(out, "sensorsys_db_replica_pool_in_use", "gauge",
           "Replica connections leased by requests.", std::to_string(reads.replicaPool.inUse));
    metric(out, "sensorsys_db_replica_replay_lag_seconds", "gauge",
           "now() - pg_last_xact_replay_timestamp() on the replica, 0 when it has replayed all "
           "it received (NaN: not measured, replica unreachable).",
           std::isnan(reads.replayLagSeconds) ? "NaN" : number(reads.replayLagSeconds));
}

std::string Metrics::render(const PoolStats& pool, const ReadStats& reads) const {
    std::string out;
    renderRequests(out);
    renderLatency(out);
    out += "# HELP sensorsys_readings_total Readings received, by outcome.\n";
    out += "# TYPE sensorsys_readings_total counter\n";
    out +=
        "sensorsys_readings_total{result=\"inserted\"} " + std::to_string(_inserted.load()) + "\n";
    out += "sensorsys_readings_total{result=\"duplicate\"} " + std::to_string(_duplicates.load()) +
           "\n";
    out +=
        "sensorsys_readings_total{result=\"rejected\"} " + std::to_string(_rejected.load()) + "\n";
    out += "# HELP sensorsys_db_pool_connections Open PostgreSQL connections.\n";
    out += "# TYPE sensorsys_db_pool_connections gauge\n";
    out += "sensorsys_db_pool_connections " + std::to_string(pool.size) + "\n";
    out += "# HELP sensorsys_db_pool_in_use PostgreSQL connections leased by requests.\n";
    out += "# TYPE sensorsys_db_pool_in_use gauge\n";
    out += "sensorsys_db_pool_in_use " + std::to_string(pool.inUse) + "\n";
    out += "# HELP sensorsys_db_pool_waiting Requests waiting for a PostgreSQL connection.\n";
    out += "# TYPE sensorsys_db_pool_waiting gauge\n";
    out += "sensorsys_db_pool_waiting " + std::to_string(pool.waiting) + "\n";
    out += "# HELP sensorsys_db_pool_max Largest number of PostgreSQL connections.\n";
    out += "# TYPE sensorsys_db_pool_max gauge\n";
    out += "sensorsys_db_pool_max " + std::to_string(pool.max) + "\n";
    renderReads(out, reads);
    renderLive(out);
    renderAlerts(out);
    return out;
}

}  // namespace sensorsys::server
