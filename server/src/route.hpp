// A route's identity: its stable name, the label logs and metrics use ("readings_bulk", ...;
// "unknown" for a request no route took). Routes are declared in one table
// (route_table.h); the constants below only name the built-in ones for code and tests that
// ask which route a request took. A value type; thread-safe.
#pragma once

#include <ostream>
#include <string>
#include <string_view>

namespace sensorsys::server {

class Route {
  public:
    constexpr Route() = default;
    constexpr explicit Route(std::string_view name) : _name(name) {}

    constexpr std::string_view name() const { return _name; }
    friend constexpr bool operator==(Route, Route) = default;
    friend std::ostream& operator<<(std::ostream& out, Route route) { return out << route._name; }

    static const Route Unknown;
    static const Route ReadingsCreate;  // POST /readings
    static const Route ReadingsBulk;    // POST /readings/bulk
    static const Route ReadingsQuery;   // GET /readings
    static const Route ReadingsLatest;  // GET /readings/latest
    static const Route ReadingsSeries;  // GET /readings/series
    static const Route ReadingsExport;  // GET /readings/export
    static const Route Devices;         // GET /devices
    static const Route DeviceMetrics;   // GET /devices/{device_id}/metrics
    static const Route AuthCheck;       // GET /auth/check
    static const Route Health;          // GET /health
    static const Route Metrics;         // GET /metrics
    static const Route Live;            // GET /live (WebSocket)
    static const Route ReadingsStream;  // GET /readings/stream (Server-Sent Events)
    static const Route Alerts;          // GET /alerts
    static const Route AlertsHistory;   // GET /alerts/history
    static const Route AlertsAck;       // POST /alerts/{id}/ack
    static const Route Dashboard;       // GET / and the dashboard's files
    static const Route TokensList;      // GET /tokens
    static const Route TokensCreate;    // POST /tokens
    static const Route TokensRevoke;    // DELETE /tokens/{id}

  private:
    std::string_view _name = "unknown";
};

constexpr Route Route::Unknown{};
constexpr Route Route::ReadingsCreate{"readings_create"};
constexpr Route Route::ReadingsBulk{"readings_bulk"};
constexpr Route Route::ReadingsQuery{"readings_query"};
constexpr Route Route::ReadingsLatest{"readings_latest"};
constexpr Route Route::ReadingsSeries{"readings_series"};
constexpr Route Route::ReadingsExport{"readings_export"};
constexpr Route Route::Devices{"devices"};
constexpr Route Route::DeviceMetrics{"device_metrics"};
constexpr Route Route::AuthCheck{"auth_check"};
constexpr Route Route::Health{"health"};
constexpr Route Route::Metrics{"metrics"};
constexpr Route Route::Live{"live"};
constexpr Route Route::ReadingsStream{"readings_stream"};
constexpr Route Route::Alerts{"alerts"};
constexpr Route Route::AlertsHistory{"alerts_history"};
constexpr Route Route::AlertsAck{"alerts_ack"};
constexpr Route Route::Dashboard{"dashboard"};
constexpr Route Route::TokensList{"tokens_list"};
constexpr Route Route::TokensCreate{"tokens_create"};
constexpr Route Route::TokensRevoke{"tokens_revoke"};

// The route's label, for logs and metrics.
inline std::string routeName(Route route) {
    return std::string(route.name());
}

}  // namespace sensorsys::server
