// Time-bucketed series from the rollups (V006): each range is covered by the coarsest exact
// level that fits (day, hour, minute rollups), raw rows for partial minutes at the edges, and raw
// rows for minutes the rollup worker has not recomputed yet, so a series equals aggregating the
// raw rows and is never behind them. Thread-safe (each call leases its own connection).
#pragma once

#include "read_routing.hpp"
#include "series_query.hpp"

#include <mutex>
#include <set>
#include <stdexcept>
#include <string>

namespace sensorsys::server {

// The tz parameter names no zone PostgreSQL knows: the caller answers 422 naming tz.
class UnknownTimeZone : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

class SeriesStore {
  public:
    // Every query is a read: on the replica when there is one.
    explicit SeriesStore(ReadRouting& reads) : _reads(reads) {}

    // {"step", "tz", "series": [{"device_id", "metric", "points": [...]}]}, one series per
    // requested device x metric in request order. Throws UnknownTimeZone.
    std::string seriesJson(const SeriesQuery& query);
    // [{"metric", "first_seen", "last_seen"}] of the device's numeric paths, from the day
    // rollups; [] for a device without any.
    std::string metricsJson(const std::string& deviceId);

  private:
    bool zoneKnown(Connection& connection, const std::string& tz);

    ReadRouting& _reads;
    std::mutex _zonesMutex;
    std::set<std::string> _knownZones;  // names pg_timezone_names confirmed (a slow view)
};

}  // namespace sensorsys::server
