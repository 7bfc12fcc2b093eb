#include "api_service.hpp"

#include "json_answer.hpp"
#include "reading_validation.hpp"

#include <sensorsys/common/json_text.hpp>

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

ApiResponse unauthorized(const char* problem, const char* description) {
    ApiError e = apiError(401, description, jsonObject({{"header", "Authorization"}}));
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

bool scopeAllows(Access access, Scope scope) {
    switch (access) {
        case Access::Open:
        case Access::AnyToken:
            return true;
        case Access::Write:
            return scope == Scope::Admin || scope == Scope::Device;
        case Access::Read:
        case Access::ReadOrFirstMessage:
            return scope == Scope::Admin || scope == Scope::Read;
        case Access::Admin:
            return scope == Scope::Admin;
    }
    return false;
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

ApiService::ApiService(const ServerConfig& config, ReadRouting& reads, Metrics& metrics,
                       RouteTable routes)
    : _config(config),
      _pool(reads.primary()),
      _reads(reads),
      _metrics(metrics),
      _routes(std::move(routes)),
      _readings(reads, config.partitions.interval),
      _series(reads),
      _export(reads, config.streamPageRows, config.exportRows),
      _alerts(_pool),
      _auth(_pool, std::chrono::seconds(config.authCacheSeconds)) {}

ApiResponse ApiService::handle(const ApiRequest& request) {
    try {
        return authorizeAndRun(request);
    } catch (const PoolTimeout& e) {
        ApiError err = apiError(503, "database busy", std::string(e.what()));
        err.headers.emplace_back("Retry-After", "1");
        return errorResponse(err);
    } catch (const DatabaseUnavailable& e) {
        ApiError err = apiError(503, "database unavailable", std::string(e.what()));
        err.headers.emplace_back("Retry-After", "5");
        return errorResponse(err);
    } catch (const Poco::Exception& e) {
        Poco::Logger::get("sensorsys-server")
            .error("%s: %s", routeName(request.route), e.displayText());
        return errorResponse(apiError(500, "internal error", e.displayText()));
    } catch (const std::exception& e) {
        Poco::Logger::get("sensorsys-server")
            .error("%s: %s", routeName(request.route), std::string(e.what()));
        return errorResponse(apiError(500, "internal error", std::string(e.what())));
    }
}

ApiResponse ApiService::authorizeAndRun(const ApiRequest& request) {
    // No entry: 400/404/405, answered before the auth check.
    if (!request.entry)
        return errorResponse(request.error ? *request.error : apiError(404, "not found"));
    Principal principal{Scope::Admin, ""};
    if (auto refusal = checkAccess(request, principal)) return *refusal;
    if (request.error) return errorResponse(*request.error);
    return request.entry->handler(*this, request, principal);
}

std::optional<ApiResponse> ApiService::checkAccess(const ApiRequest& request,
                                                   Principal& principal) {
    if (!_config.authEnabled || !request.entry || request.entry->access == Access::Open) {
        return std::nullopt;
    }
    if (request.authorizationMalformed)
        return unauthorized("invalid_request", "Authorization must be 'Bearer <token>'");
    if (!request.bearer) {
        // The live hub waits for the token in the first message.
        if (request.entry->access == Access::ReadOrFirstMessage) return std::nullopt;
        return unauthorized(nullptr, "authentication required");
    }
    auto p = retryOnce([&] { return _auth.authenticate(*request.bearer); });
    if (!p) return unauthorized("invalid_token", "unknown or revoked token");
    principal = *p;
    if (scopeAllows(request.entry->access, principal.scope)) return std::nullopt;
    return errorResponse(apiError(
        403, "this token may not use this route",
        jsonObject({{"scope", scopeName(principal.scope)}, {"route", routeName(request.route)}})));
}

void ApiService::loadLatestCache() {
    _cache.load(_readings.latestPerDevice());
    _metrics.setCacheOn(true);
}

void ApiService::committed(std::vector<StoredReading> inserted) {
    // Without a feed (nothing set) the cache stays off and there is nothing to tell.
    if (_committed) _committed(std::move(inserted));
}

ApiResponse ApiService::latestReading(const ApiRequest& request) {
    LatestCache::Answer cached;
    const bool hit = _cache.lookup(request.deviceId, cached);
    _metrics.recordCacheLookup(hit);
    if (hit && cached) {
        ApiResponse r;
        r.body = *cached;
        return r;
    }
    std::optional<StoredReading> latest;
    if (!hit) latest = retryOnce([&] { return _readings.latest(request.deviceId); });
    if (!latest) {
        return errorResponse(apiError(
            404, "no readings found",
            request.deviceId ? Poco::Dynamic::Var(jsonObject({{"device_id", *request.deviceId}}))
                             : Poco::Dynamic::Var()));
    }
    ApiResponse r;
    r.body = latest->json();
    return r;
}

ApiResponse ApiService::readingsSeries(const ApiRequest& request) {
    ApiResponse r;
    try {
        r.body = retryOnce([&] { return _series.seriesJson(request.series); });
    } catch (const UnknownTimeZone& e) {
        return errorResponse(
            apiError(422, "invalid query", jsonArray({fieldDetail("tz", e.what())})));
    }
    return r;
}

ApiResponse ApiService::deviceMetrics(const ApiRequest& request) {
    ApiResponse r;
    r.body = retryOnce([&] { return _series.metricsJson(request.deviceId.value_or("")); });
    return r;
}

ApiResponse ApiService::exportReadings(const ApiRequest& request) {
    ApiResponse r;
    const ExportQuery& q = request.exportQuery;
    r.contentType = q.csv ? "text/csv; charset=utf-8" : "application/x-ndjson; charset=utf-8";
    r.headers.emplace_back("Content-Disposition",
                           "attachment; filename=\"" + exportFileName(q) + "\"");
    r.body = q.csv ? csvHeader(q.metrics) : "";
    r.stream = [this, q](std::ostream& out) { return _export.write(q, out); };
    return r;
}

bool ApiService::mayReadLive(const std::string& token) {
    auto p = retryOnce([&] { return _auth.authenticate(token); });
    return p && scopeAllows(Access::Read, p->scope);
}

ApiResponse ApiService::live(const ApiRequest& request) {
    if (!_live || !_live->ready()) {
        ApiError e = apiError(503, "the live feed is starting");
        e.headers.emplace_back("Retry-After", "1");
        return errorResponse(e);
    }
    if (_live->full()) {
        ApiError e =
            apiError(503, "too many live clients", jsonObject({{"limit", "limits.live_clients"}}));
        e.headers.emplace_back("Retry-After", "5");
        return errorResponse(e);
    }
    ApiResponse r;
    r.status = request.live.webSocket ? 101 : 200;
    auto s = std::make_shared<LiveSubscription>();
    s->webSocket = request.live.webSocket;
    s->acceptKey = request.live.acceptKey;
    s->devices = request.live.devices;
    if (request.live.since) s->since = FeedCursor::parse(*request.live.since);
    s->authPending = _config.authEnabled && !request.bearer;
    r.live = std::move(s);
    return r;
}

ApiResponse ApiService::devices() {
    ApiResponse r;
    r.body = retryOnce([&] { return _readings.devicesJson(); });
    return r;
}

ApiResponse ApiService::authCheck(const Principal& principal) {
    ApiResponse r;
    const auto deviceId =
        principal.deviceId.empty() ? Poco::Dynamic::Var() : Poco::Dynamic::Var(principal.deviceId);
    r.body = jsonText(jsonObject({{"scope", scopeName(principal.scope)},
                                  {"device_id", deviceId},
                                  {"server_time", nowUtc()},
                                  {"auth_enabled", _config.authEnabled}}));
    return r;
}

ApiResponse ApiService::metricsText() {
    ApiResponse r;
    r.contentType = "text/plain; version=0.0.4; charset=utf-8";
    r.body = _metrics.render(_pool.stats(), _reads.stats());
    return r;
}

ApiResponse ApiService::createReading(const ApiRequest& request, const Principal& principal) {
    const auto& reading = request.reading;
    if (principal.scope == Scope::Device && reading.deviceId != principal.deviceId) {
        return errorResponse(apiError(403, "this token may not write readings of this device",
                                      jsonObject({{"field", "device_id"},
                                                  {"value", reading.deviceId},
                                                  {"allowed", principal.deviceId}})));
    }
    auto result = reading.readingId ? retryOnce([&] { return _readings.insert(reading); })
                                    : _readings.insert(reading);
    _metrics.addReadings(result.created ? 1 : 0, result.created ? 0 : 1, 0);
    if (result.created) committed({result.reading});
    ApiResponse r;
    r.status = result.created ? 201 : 200;
    r.body = result.reading.json();
    return r;
}

ApiResponse ApiService::createBulk(const ApiRequest& request, const Principal& principal) {
    if (principal.scope == Scope::Device) {
        for (std::size_t i = 0; i < request.readings.size(); ++i) {
            if (request.readings[i].deviceId != principal.deviceId) {
                return errorResponse(apiError(403,
                                              "this token may not write readings of this device",
                                              jsonObject({{"index", request.readingIndex[i]},
                                                          {"field", "device_id"},
                                                          {"value", request.readings[i].deviceId},
                                                          {"allowed", principal.deviceId}})));
            }
        }
    }
    bool idempotent = true;
    for (const auto& reading : request.readings)
        idempotent = idempotent && reading.readingId.has_value();
    std::vector<StoredReading> rows;
    const std::int64_t inserted =
        idempotent ? retryOnce([&] { return _readings.insertBulk(request.readings, &rows); })
                   : _readings.insertBulk(request.readings, &rows);
    if (inserted > 0) committed(std::move(rows));
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

ApiService::StreamEnd ApiService::streamRest(const RangeQuery& range, Cursor after,
                                             std::ostream& out) {
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
            if (!out) return StreamEnd::ClientGone;
            if (static_cast<int>(rows.size()) < _config.streamPageRows) break;
            after = Cursor{rows.back().tsLocalMicros, rows.back().id};
        }
        out << ']';
        out.flush();
        return out ? StreamEnd::Complete : StreamEnd::ClientGone;
    } catch (const Poco::Exception& e) {
        Poco::Logger::get("sensorsys-server")
            .error("streaming GET /readings failed: %s", e.displayText());
    } catch (const std::exception& e) {
        Poco::Logger::get("sensorsys-server")
            .error("streaming GET /readings failed: %s", std::string(e.what()));
    }
    return StreamEnd::Failed;
}

ApiResponse ApiService::alerts() {
    ApiResponse r;
    r.body = retryOnce([&] { return _alerts.currentJson(); });
    return r;
}

ApiResponse ApiService::alertHistory(const ApiRequest& request) {
    ApiResponse r;
    r.body = retryOnce([&] { return _alerts.historyJson(request.range); });
    return r;
}

ApiResponse ApiService::ackAlert(const ApiRequest& request) {
    auto acked = _alerts.ack(request.alertId);
    if (!acked) {
        return errorResponse(
            apiError(404, "no such alert", jsonObject({{"id", std::to_string(request.alertId)}})));
    }
    ApiResponse r;
    r.body = *acked;
    return r;
}

ApiResponse ApiService::health() {
    ApiResponse r;
    try {
        retryOnce([&] {
            _readings.ping();
            return 0;
        });
        r.body = jsonText(jsonObject({{"status", "ok"}, {"database", "ok"}}));
    } catch (const std::exception& e) {
        r.status = 503;
        r.headers.emplace_back("Retry-After", "5");
        r.body = jsonText(jsonObject({{"status", "error"},
                                      {"database", "unreachable"},
                                      {"error", "database unavailable"},
                                      {"detail", std::string(e.what())}}));
    }
    return r;
}

}  // namespace sensorsys::server
