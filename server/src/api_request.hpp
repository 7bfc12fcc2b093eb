// Parsing and validation of one API request, independent of any socket: a pure function of
// (method, target, headers, body) so unit tests and fuzzers call it directly. Thread-safe.
#pragma once

#include "request_target.hpp"
#include "route.hpp"
#include "series_query.hpp"
#include "timestamp.hpp"

#include <Poco/Dynamic/Var.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sensorsys::server {

using Headers = std::vector<std::pair<std::string, std::string>>;

// Case-insensitive header lookup; nullptr when absent.
const std::string* findHeader(const Headers& headers, std::string_view name);

// An answer that ends the request: status, JSON error body parts and extra headers.
struct ApiError {
    int status = 400;
    std::string error;             // what was wrong, for people
    Poco::Dynamic::Var detail;     // names the field / index / header (json_answer.h); empty: null
    Headers headers;               // e.g. Allow, WWW-Authenticate, Retry-After
    bool closeConnection = false;  // the body was not read to its end

    std::string body() const;  // {"error": ..., "detail": ...}
};

ApiError apiError(int status, std::string error, Poco::Dynamic::Var detail = {});

struct ReadingInput {
    std::optional<std::string> readingId;  // canonical lower-case UUID; none = server makes one
    std::string deviceId;
    Timestamp tsUtc;
    Timestamp tsLocal;
    std::string payloadJson;               // the payload object as compact JSON text
    std::optional<std::string> tsQuality;  // "corrected" | "unsynced"; none: a confirmed clock
};

struct RejectedItem {
    std::size_t index = 0;
    std::string field;
    std::string error;
};

// Position after which the next page starts (keyset on ts_local, id).
struct Cursor {
    std::int64_t tsLocalMicros = 0;
    std::int64_t id = 0;
};

struct RangeQuery {
    Timestamp start;
    Timestamp end;
    std::optional<std::string> deviceId;
    std::optional<int> limit;  // none: the whole range, streamed
    std::optional<Cursor> after;
};

struct ExportQuery {
    RangeQuery range;                  // start_date, end_date, device_id (no paging)
    std::vector<std::string> metrics;  // none: the whole payload
    bool csv = true;                   // else NDJSON
};

struct RequestLimits {
    std::int64_t maxBodyBytes = 16 * 1024 * 1024;
    int maxBatch = 10000;
    int maxPageRows = 10000;
    // A ts_utc further ahead of the server's clock than this is refused (limits.max_future).
    std::int64_t maxFutureSeconds = 86400;
    int seriesPoints = 10000;
};

// GET /live and GET /readings/stream.
struct LiveQuery {
    bool webSocket = false;
    std::vector<std::string> devices;  // none: every device
    std::optional<std::string> since;  // a valid feed cursor (FeedCursor text)
    std::string acceptKey;             // WebSocket: Sec-WebSocket-Accept
};

// GET / and the dashboard's other files.
struct StaticQuery {
    std::string path;         // the request path ("/", "/js/app.js")
    std::string ifNoneMatch;  // empty: not conditional
    bool gzip = false;        // the client accepts a gzip-encoded answer
};

// POST /tokens and DELETE /tokens/{id}.
struct TokenQuery {
    std::string scope;     // "device" | "read" | "admin"
    std::string deviceId;  // scope "device" only
    std::int64_t id = 0;   // DELETE: the token's id
};

struct RouteEntry;

struct ApiRequest {
    Route route = Route::Unknown;
    const RouteEntry* entry = nullptr;  // the table entry that took it; nullptr with 404/405/400
    bool head = false;                  // HEAD: answered like GET without a body
    std::optional<std::string> bearer;  // the presented token
    bool authorizationMalformed = false;
    std::optional<ApiError> error;  // set: answer it (after the auth check unless 404/405)

    ReadingInput reading;                   // ReadingsCreate
    std::vector<ReadingInput> readings;     // ReadingsBulk: the valid items, in order
    std::vector<std::size_t> readingIndex;  // ReadingsBulk: the request index of each valid item
    std::vector<RejectedItem> rejected;     // ReadingsBulk: the invalid items
    std::size_t bulkCount = 0;              // ReadingsBulk: items in the request
    RangeQuery range;                       // ReadingsQuery
    std::optional<std::string> deviceId;    // ReadingsLatest, DeviceMetrics
    SeriesQuery series;                     // ReadingsSeries
    ExportQuery exportQuery;                // ReadingsExport
    LiveQuery live;                         // Live, ReadingsStream
    std::int64_t alertId = 0;               // AlertsAck
    StaticQuery staticFile;                 // the dashboard's files
    TokenQuery token;                       // TokensCreate, TokensRevoke
};

class RouteTable;

// target is the request-target (path and query). body is the body as received (after
// de-chunking, before content decoding); gzip is inflated here, bounded by maxBodyBytes.
// The route is looked up in routes; the entry's reader fills the route's fields.
ApiRequest parseRequest(const RouteTable& routes, std::string_view method, std::string_view target,
                        const Headers& headers, std::string_view body, const RequestLimits& limits);

// The same over the service's own routes (apiRoutes()).
ApiRequest parseRequest(std::string_view method, std::string_view target, const Headers& headers,
                        std::string_view body, const RequestLimits& limits);

// Readers of the built-in query routes (RouteEntry::reader): GET /readings, GET /readings/latest.
void readRangeQuery(const RequestTarget& target, const Headers& headers, std::string_view body,
                    const RequestLimits& limits, ApiRequest& request);
void readLatestQuery(const RequestTarget& target, const Headers& headers, std::string_view body,
                     const RequestLimits& limits, ApiRequest& request);
void readExportQuery(const RequestTarget& target, const Headers& headers, std::string_view body,
                     const RequestLimits& limits, ApiRequest& request);

// Readers of GET /alerts/history (start_date, end_date, device_id into range) and
// POST /alerts/{id}/ack (alertId).
void readAlertHistoryQuery(const RequestTarget& target, const Headers& headers,
                           std::string_view body, const RequestLimits& limits, ApiRequest& request);
void readAlertId(const RequestTarget& target, const Headers& headers, std::string_view body,
                 const RequestLimits& limits, ApiRequest& request);

// Readers of GET /readings/series and GET /devices/{device_id}/metrics (series_query.cpp).
void readSeriesQuery(const RequestTarget& target, const Headers& headers, std::string_view body,
                     const RequestLimits& limits, ApiRequest& request);
void readDeviceMetricsQuery(const RequestTarget& target, const Headers& headers,
                            std::string_view body, const RequestLimits& limits,
                            ApiRequest& request);

// Readers of the live routes: GET /live (the WebSocket handshake) and GET /readings/stream.
void readLiveSocket(const RequestTarget& target, const Headers& headers, std::string_view body,
                    const RequestLimits& limits, ApiRequest& request);
void readEventStream(const RequestTarget& target, const Headers& headers, std::string_view body,
                     const RequestLimits& limits, ApiRequest& request);

// Readers of the dashboard's routes (dashboard_api.cpp): its static files, POST /tokens,
// DELETE /tokens/{id}.
void readStaticQuery(const RequestTarget& target, const Headers& headers, std::string_view body,
                     const RequestLimits& limits, ApiRequest& request);
void readTokenCreateBody(const RequestTarget& target, const Headers& headers, std::string_view body,
                         const RequestLimits& limits, ApiRequest& request);
void readTokenId(const RequestTarget& target, const Headers& headers, std::string_view body,
                 const RequestLimits& limits, ApiRequest& request);

// Exposed for tests: the UUID in canonical lower-case form, or nothing.
std::optional<std::string> canonicalUuid(std::string_view text);

// Cursor text used in Link URLs ("<micros>.<id>") and its parser.
std::string formatCursor(const Cursor& cursor);
std::optional<Cursor> parseCursor(std::string_view text);

}  // namespace sensorsys::server
