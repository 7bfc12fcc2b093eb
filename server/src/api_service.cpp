#include "api_service.h"

#include "json_text.h"

#include <Poco/Logger.h>

#include <chrono>

namespace sensorsys::server {

ApiResponse errorResponse(const ApiError& error) {
    ApiResponse r;
    r.status = error.status;
    r.body = error.body();
    r.headers = error.headers;
    r.close = error.closeConnection;
    return r;
}

namespace {

ApiError simpleError(int status, std::string error, std::string detailJson = "null") {
    ApiError e;
    e.status = status;
    e.error = std::move(error);
    e.detailJson = std::move(detailJson);
    return e;
}

ApiResponse unauthorized(const char* problem, const char* description) {
    ApiError e = simpleError(401, description, "{\"header\": \"Authorization\"}");
    std::string challenge = "Bearer realm=\"sensorsys\"";
    if (problem) challenge += std::string(", error=\"") + problem + "\"";
    e.headers.emplace_back("WWW-Authenticate", challenge);
    return errorResponse(e);
}

std::string nowUtc() {
    const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    return formatTimestamp({micros, 0});
}

bool isWrite(Route r) {
    return r == Route::ReadingsCreate || r == Route::ReadingsBulk;
}
bool isRead(Route r) {
    return r == Route::ReadingsQuery || r == Route::ReadingsLatest || r == Route::Devices;
}

// Reads are retried once on a fresh connection: after PostgreSQL restarts, every pooled
// connection is dead and the first use of one is how the pool learns it.
template <class F>
auto retryOnce(F&& f) {
    try {
        return f();
    } catch (const DatabaseUnavailable&) {
        return f();
    }
}

}  // namespace

ApiService::ApiService(const ServerConfig& config, ConnectionPool& pool, Metrics& metrics)
    : _config(config),
      _pool(pool),
      _metrics(metrics),
      _readings(pool),
      _auth(pool, std::chrono::seconds(config.authCacheSeconds)) {}

std::optional<ApiResponse> ApiService::checkAccess(const ApiRequest& request,
                                                   Principal& principal) {
    const bool open = request.route == Route::Health || request.route == Route::Metrics;
    if (!_config.authEnabled || open) return std::nullopt;
    if (request.authorizationMalformed)
        return unauthorized("invalid_request", "Authorization must be 'Bearer <token>'");
    if (!request.bearer) return unauthorized(nullptr, "authentication required");
    auto p = retryOnce([&] { return _auth.authenticate(*request.bearer); });
    if (!p) return unauthorized("invalid_token", "unknown or revoked token");
    principal = *p;
    const bool allowed = principal.scope == Scope::Admin || request.route == Route::AuthCheck ||
                         (isWrite(request.route) && principal.scope == Scope::Device) ||
                         (isRead(request.route) && principal.scope == Scope::Read);
    if (!allowed) {
        return errorResponse(simpleError(403, "this token may not use this route",
                                         std::string("{\"scope\": \"") +
                                             scopeName(principal.scope) + "\", \"route\": \"" +
                                             routeName(request.route) + "\"}"));
    }
    return std::nullopt;
}

ApiResponse ApiService::handle(const ApiRequest& request) {
    try {
        if (request.error && (request.route == Route::Unknown))
            return errorResponse(*request.error);
        Principal principal{Scope::Admin, ""};
        if (auto refusal = checkAccess(request, principal)) return *refusal;
        if (request.error) return errorResponse(*request.error);
        return dispatch(request, principal);
    } catch (const PoolTimeout& e) {
        ApiError err = simpleError(503, "database busy", jsonString(e.what()));
        err.headers.emplace_back("Retry-After", "1");
        return errorResponse(err);
    } catch (const DatabaseUnavailable& e) {
        ApiError err = simpleError(503, "database unavailable", jsonString(e.what()));
        err.headers.emplace_back("Retry-After", "5");
        return errorResponse(err);
    } catch (const Poco::Exception& e) {
        Poco::Logger::get("sensorsys-server")
            .error("%s: %s", std::string(routeName(request.route)), e.displayText());
        return errorResponse(simpleError(500, "internal error", jsonString(e.displayText())));
    } catch (const std::exception& e) {
        Poco::Logger::get("sensorsys-server")
            .error("%s: %s", std::string(routeName(request.route)), std::string(e.what()));
        return errorResponse(simpleError(500, "internal error", jsonString(e.what())));
    }
}

ApiResponse ApiService::dispatch(const ApiRequest& request, const Principal& principal) {
    ApiResponse r;
    switch (request.route) {
        case Route::ReadingsCreate:
            return createReading(request, principal);
        case Route::ReadingsBulk:
            return createBulk(request, principal);
        case Route::ReadingsQuery:
            return queryReadings(request);
        case Route::ReadingsLatest: {
            auto latest = retryOnce([&] { return _readings.latest(request.deviceId); });
            if (!latest) {
                return errorResponse(simpleError(
                    404, "no readings found",
                    request.deviceId ? "{\"device_id\": " + jsonString(*request.deviceId) + "}"
                                     : "null"));
            }
            r.body = latest->json();
            return r;
        }
        case Route::Devices:
            r.body = retryOnce([&] { return _readings.devicesJson(); });
            return r;
        case Route::AuthCheck:
            r.body = std::string("{\"scope\": \"") + scopeName(principal.scope) +
                     "\", \"device_id\": " +
                     (principal.deviceId.empty() ? std::string("null")
                                                 : jsonString(principal.deviceId)) +
                     ", \"server_time\": \"" + nowUtc() +
                     "\", \"auth_enabled\": " + (_config.authEnabled ? "true" : "false") + "}";
            return r;
        case Route::Health:
            return health();
        case Route::Metrics:
            r.contentType = "text/plain; version=0.0.4; charset=utf-8";
            r.body = _metrics.render(_pool.stats());
            return r;
        case Route::Unknown:
            break;
    }
    return errorResponse(simpleError(404, "not found"));
}

ApiResponse ApiService::createReading(const ApiRequest& request, const Principal& principal) {
    const auto& reading = request.reading;
    if (principal.scope == Scope::Device && reading.deviceId != principal.deviceId) {
        return errorResponse(
            simpleError(403, "this token may not write readings of this device",
                        "{\"field\": \"device_id\", \"value\": " + jsonString(reading.deviceId) +
                            ", \"allowed\": " + jsonString(principal.deviceId) + "}"));
    }
    auto result = reading.readingId ? retryOnce([&] { return _readings.insert(reading); })
                                    : _readings.insert(reading);
    _metrics.addReadings(result.created ? 1 : 0, result.created ? 0 : 1, 0);
    ApiResponse r;
    r.status = result.created ? 201 : 200;
    r.body = result.reading.json();
    return r;
}

ApiResponse ApiService::createBulk(const ApiRequest& request, const Principal& principal) {
    if (principal.scope == Scope::Device) {
        for (std::size_t i = 0; i < request.readings.size(); ++i) {
            if (request.readings[i].deviceId != principal.deviceId) {
                return errorResponse(
                    simpleError(403, "this token may not write readings of this device",
                                "{\"index\": " + std::to_string(request.readingIndex[i]) +
                                    ", \"field\": \"device_id\", \"value\": " +
                                    jsonString(request.readings[i].deviceId) +
                                    ", \"allowed\": " + jsonString(principal.deviceId) + "}"));
            }
        }
    }
    bool idempotent = true;
    for (const auto& reading : request.readings)
        idempotent = idempotent && reading.readingId.has_value();
    const std::int64_t inserted =
        idempotent ? retryOnce([&] { return _readings.insertBulk(request.readings); })
                   : _readings.insertBulk(request.readings);
    const auto duplicates = static_cast<std::int64_t>(request.readings.size()) - inserted;
    _metrics.addReadings(static_cast<std::uint64_t>(inserted),
                         static_cast<std::uint64_t>(duplicates), request.rejected.size());
    ApiResponse r;
    r.body = "{\"inserted\": " + std::to_string(inserted) +
             ", \"duplicates\": " + std::to_string(duplicates) + ", \"rejected\": [";
    for (std::size_t i = 0; i < request.rejected.size(); ++i) {
        const auto& item = request.rejected[i];
        if (i) r.body += ", ";
        r.body += "{\"index\": " + std::to_string(item.index) +
                  ", \"field\": " + jsonString(item.field) +
                  ", \"error\": " + jsonString(item.error) + "}";
    }
    r.body += "]}";
    return r;
}

ApiResponse ApiService::queryReadings(const ApiRequest& request) {
    const auto& range = request.range;
    ApiResponse r;
    const int pageRows = range.limit.value_or(_config.streamPageRows);
    auto rows = retryOnce([&] { return _readings.page(range, range.after, pageRows); });
    r.body.reserve(rows.size() * 400 + 2);
    r.body += '[';
    for (std::size_t i = 0; i < rows.size(); ++i) {
        if (i) r.body += ", ";
        rows[i].appendJson(r.body);
    }
    const bool full = static_cast<int>(rows.size()) == pageRows;
    if (full) {
        const Cursor next{rows.back().tsLocalMicros, rows.back().id};
        if (range.limit) {
            std::string link =
                "</readings?start_date=" + encodeQueryValue(formatTimestamp(range.start)) +
                "&end_date=" + encodeQueryValue(formatTimestamp(range.end)) +
                "&limit=" + std::to_string(*range.limit);
            if (range.deviceId) link += "&device_id=" + encodeQueryValue(*range.deviceId);
            link += "&after=" + encodeQueryValue(formatCursor(next)) + ">; rel=\"next\"";
            r.headers.emplace_back("Link", link);
        } else {
            r.streamAfter = next;
            return r;
        }
    }
    r.body += ']';
    return r;
}

bool ApiService::streamRest(const RangeQuery& range, Cursor after, std::ostream& out) {
    try {
        while (true) {
            auto rows =
                retryOnce([&] { return _readings.page(range, after, _config.streamPageRows); });
            std::string chunk;
            chunk.reserve(rows.size() * 400);
            for (const auto& row : rows) {
                chunk += ", ";
                row.appendJson(chunk);
            }
            out.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
            if (!out) return false;
            if (static_cast<int>(rows.size()) < _config.streamPageRows) break;
            after = Cursor{rows.back().tsLocalMicros, rows.back().id};
        }
        out << ']';
        out.flush();
        return static_cast<bool>(out);
    } catch (const Poco::Exception& e) {
        Poco::Logger::get("sensorsys-server")
            .error("streaming GET /readings failed: %s", e.displayText());
        return false;
    } catch (const std::exception& e) {
        Poco::Logger::get("sensorsys-server")
            .error("streaming GET /readings failed: %s", std::string(e.what()));
        return false;
    }
}

ApiResponse ApiService::health() {
    ApiResponse r;
    try {
        retryOnce([&] {
            _readings.ping();
            return 0;
        });
        r.body = "{\"status\": \"ok\", \"database\": \"ok\"}";
    } catch (const std::exception& e) {
        r.status = 503;
        r.headers.emplace_back("Retry-After", "5");
        r.body =
            "{\"status\": \"error\", \"database\": \"unreachable\", \"error\": \"database "
            "unavailable\", "
            "\"detail\": " +
            jsonString(e.what()) + "}";
    }
    return r;
}

}  // namespace sensorsys::server
