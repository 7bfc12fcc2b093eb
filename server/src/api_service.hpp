// What each route does once its request is parsed: the auth check its table entry asks for,
// then its handler (the database work, the response). Independent of POCO's HTTP classes.
// Thread-safe.
#pragma once

#include "alert_store.hpp"
#include "api_request.hpp"
#include "auth.hpp"
#include "connection_pool.hpp"
#include "export_store.hpp"
#include "latest_cache.hpp"
#include "live_hub.hpp"
#include "metrics.hpp"
#include "read_routing.hpp"
#include "reading_store.hpp"
#include "route_table.hpp"
#include "series_store.hpp"
#include "server_config.hpp"

#include <filesystem>
#include <functional>
#include <optional>
#include <ostream>
#include <string>

namespace sensorsys::server {

struct ApiResponse {
    int status = 200;
    std::string body;
    std::string contentType = "application/json";
    Headers headers;
    bool close = false;
    // GET /readings without limit over more than one page: body holds "[" and the first page;
    // the rest is streamed from this cursor by ApiService::streamRest, which closes the array.
    std::optional<Cursor> streamAfter;
    // Other streamed answers (GET /readings/export): body holds the start, then this writes the
    // rest in chunks; false when it failed part-way (the response cannot be completed).
    std::function<bool(std::ostream&)> stream;
    // GET /live, GET /readings/stream accepted: nothing is sent here; the connection goes to
    // the live hub, which writes the handshake's answer.
    std::shared_ptr<LiveSubscription> live;
};

ApiResponse errorResponse(const ApiError& error);

class ApiService {
  public:
    // reads: the primary (writes, auth, alerts) and the optional replica (read routes).
    ApiService(const ServerConfig& config, ReadRouting& reads, Metrics& metrics,
               RouteTable routes = apiRoutes());

    ApiResponse handle(const ApiRequest& request);

    // The 401/403 answer when the request may not use its route (nothing when auth is off or the
    // route is open); principal receives who it is. Called by handle(), and before
    // a body is read, so an unauthenticated client cannot make the server hold its body.
    // Throws PoolTimeout / DatabaseUnavailable when the token cannot be checked.
    std::optional<ApiResponse> checkAccess(const ApiRequest& request, Principal& principal);

    // How a streamed answer ended: a database failure part-way is the server's fault and
    // logged as an error; a client that stopped taking the answer (the send timed out or the
    // connection broke) is not.
    enum class StreamEnd { Complete, ClientGone, Failed };
    // Writes the remaining rows of a streamed range (",row" ...) and the closing "]".
    StreamEnd streamRest(const RangeQuery& range, Cursor after, std::ostream& out);

    Metrics& metrics() { return _metrics; }
    LatestCache& latestCache() { return _cache; }
    ReadingStore& readings() { return _readings; }
    // Called after each commit of new readings by this instance, with every reading it stored,
    // on the request's thread before the answer (set before serving): the live feed hands them
    // on at once, and its handler puts them in the latest-reading cache, so a client reading
    // right after its write sees it.
    void onCommit(std::function<void(std::vector<StoredReading>)> committed) {
        _committed = std::move(committed);
    }
    // Fills the latest-reading cache from the database and turns it on. Throws on failure.
    void loadLatestCache();
    // The hub live connections go to (set before serving; none: the live routes answer 503).
    void setLiveHub(LiveHub* hub) { _live = hub; }
    LiveHub* liveHub() { return _live; }
    // A token sent in a WebSocket's first message: may it read? Throws when it cannot be
    // checked.
    bool mayReadLive(const std::string& token);
    const RouteTable& routes() const { return _routes; }

    // The handlers of the built-in routes (their entries are in api_routes.cpp).
    ApiResponse createReading(const ApiRequest& request, const Principal& principal);
    ApiResponse createBulk(const ApiRequest& request, const Principal& principal);
    ApiResponse queryReadings(const ApiRequest& request);
    ApiResponse latestReading(const ApiRequest& request);
    ApiResponse readingsSeries(const ApiRequest& request);
    ApiResponse exportReadings(const ApiRequest& request);
    ApiResponse devices();
    ApiResponse deviceMetrics(const ApiRequest& request);
    ApiResponse authCheck(const Principal& principal);
    ApiResponse health();
    ApiResponse metricsText();
    ApiResponse live(const ApiRequest& request);
    ApiResponse alerts();
    ApiResponse alertHistory(const ApiRequest& request);
    ApiResponse ackAlert(const ApiRequest& request);
    // The dashboard (dashboard_api.cpp).
    ApiResponse staticFile(const ApiRequest& request);
    ApiResponse chartJs(const ApiRequest& request);
    // What the page must know before it has a token: whether to ask for one.
    ApiResponse dashboardSettings();
    ApiResponse listTokens();
    ApiResponse createToken(const ApiRequest& request);
    ApiResponse revokeToken(const ApiRequest& request);

  private:
    ApiResponse authorizeAndRun(const ApiRequest& request);
    void committed(std::vector<StoredReading> inserted);
    ApiResponse fileResponse(const std::filesystem::path& file, const ApiRequest& request,
                             const char* cacheControl);

    const ServerConfig& _config;
    ConnectionPool& _pool;  // the primary
    ReadRouting& _reads;
    Metrics& _metrics;
    RouteTable _routes;
    ReadingStore _readings;
    SeriesStore _series;
    ExportStore _export;
    AlertStore _alerts;
    Authenticator _auth;
    LatestCache _cache;
    std::function<void(std::vector<StoredReading>)> _committed;
    LiveHub* _live = nullptr;
};

}  // namespace sensorsys::server
