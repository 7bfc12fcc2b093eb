// The API's routes, declared once: each entry carries method, path, name (logs and metrics),
// the scope a token needs, what the route reads from the request and its handler. Routing,
// 404/405 with Allow, HEAD, the auth check and the metric labels are all derived from the
// entries. Filled before serving, read-only afterwards; const access is thread-safe.
#pragma once

#include "api_request.hpp"
#include "request_target.hpp"
#include "route.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sensorsys::server {

struct ApiResponse;
class ApiService;
struct Principal;

// Who may call a route when auth is on; an admin token may call every route.
enum class Access {
    Open,      // no token needed (health checks, scrapers)
    AnyToken,  // any valid token
    Write,     // device (and admin) tokens
    Read,      // read (and admin) tokens
    // Read, or no credentials at all: a browser's WebSocket cannot set headers and sends its
    // token in its first message instead (GET /live).
    ReadOrFirstMessage,
    Admin,  // admin tokens only (acknowledging alerts, token management)
};

// Fills the route's fields of request from the query or the body, or sets request.error.
using RequestReader = void (*)(const RequestTarget& target, const Headers& headers,
                               std::string_view body, const RequestLimits& limits,
                               ApiRequest& request);
// Answers a request that passed parsing and the auth check.
using RouteHandler = ApiResponse (*)(ApiService& service, const ApiRequest& request,
                                     const Principal& principal);

struct RouteEntry {
    std::string_view method;  // "GET" answers HEAD too (without the body)
    std::string_view path;    // a "{name}" segment matches any one non-empty segment
    Route route;              // its name labels logs and metrics
    Access access = Access::AnyToken;
    RouteHandler handler = nullptr;
    RequestReader reader = nullptr;  // nullptr: reads nothing
};

class RouteTable {
  public:
    RouteTable() = default;
    RouteTable(std::initializer_list<RouteEntry> entries) : _entries(entries) {}

    RouteTable& add(const RouteEntry& entry);

    // The entry for method and path; nullptr with error set to the 404 or 405 (with Allow).
    // params (if given) receives the segments the entry's "{name}" parts matched.
    const RouteEntry* match(
        std::string_view method, const std::string& path, std::optional<ApiError>& error,
        std::vector<std::pair<std::string, std::string>>* params = nullptr) const;
    // The methods answered on path, "GET, HEAD, POST" style; empty for an unknown path.
    std::string allow(std::string_view path) const;
    // Route::Unknown, then every route in table order, each once: the label set of the metrics.
    std::vector<Route> routes() const;
    const std::vector<RouteEntry>& entries() const { return _entries; }

  private:
    std::vector<RouteEntry> _entries;
};

// The service's routes (api_routes.cpp).
const RouteTable& apiRoutes();

}  // namespace sensorsys::server
